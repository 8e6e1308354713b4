// SPDX-License-Identifier: GPL-2.0

//! Names of the data virtqueues, as `/proc/interrupts` shows them: `input.<N>` and
//! `output.<N>` for pair N, as in-tree (`virtnet_find_vqs()`).

/// Room for one name, NUL included (`output.65535` and its NUL take 13 bytes).
pub const NAME_LEN: usize = 16;

/// Writes the name of pair `pair`'s receive (`rx`) or transmit queue into `out`
/// (`NAME_LEN` bytes or more), NUL-terminated and zero-padded, and returns its
/// length with the NUL; `None` if `out` is too short.
pub fn write(out: &mut [u8], pair: u16, rx: bool) -> Option<usize> {
    let prefix: &[u8] = if rx { b"input." } else { b"output." };
    if out.len() < NAME_LEN {
        return None;
    }
    out.fill(0);
    out[..prefix.len()].copy_from_slice(prefix);
    let mut digits = [0u8; 5];
    let mut n = pair;
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for (slot, d) in out[prefix.len()..]
        .iter_mut()
        .zip(digits[..len].iter().rev())
    {
        *slot = *d;
    }
    Some(prefix.len() + len + 1)
}
