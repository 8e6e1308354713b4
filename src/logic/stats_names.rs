// SPDX-License-Identifier: GPL-2.0

//! Names of the per-queue counters `ethtool -S` shows.
//!
//! Per-queue names follow the in-tree driver's pattern, `rx<N>_<name>` and
//! `tx<N>_<name>` (`drivers/net/virtio_net.c`, `virtnet_get_stats_string()`), so
//! scripts written for it read ours; counters of our own use the same pattern.

/// `ETH_GSTRING_LEN`: room for one name, NUL included.
pub const NAME_LEN: usize = 32;

/// Which half of a queue pair a counter belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Receive queue: `rx<N>_...`.
    Rx,
    /// Transmit queue: `tx<N>_...`.
    Tx,
}

/// Writes the name of counter `name` of queue `queue` into `out` as a NUL-terminated
/// string, truncated to fit (`out` is one `ETH_GSTRING_LEN` slot).
///
/// Byte by byte rather than through `core::fmt`, whose formatting code the module
/// would carry for this one use.
pub fn write_name(out: &mut [u8], dir: Dir, queue: usize, name: &str) {
    out.fill(0);
    let Some((_nul, rest)) = out.split_last_mut() else {
        return;
    };
    let prefix: &[u8] = match dir {
        Dir::Rx => b"rx",
        Dir::Tx => b"tx",
    };
    // The queue's decimal digits, last first.
    let mut digits = [0u8; 20];
    let mut n_digits = 0;
    let mut q = queue;
    for d in digits.iter_mut() {
        *d = b'0' + (q % 10) as u8;
        n_digits += 1;
        q /= 10;
        if q == 0 {
            break;
        }
    }
    let number = digits.iter().take(n_digits).rev();
    let bytes = prefix
        .iter()
        .chain(number)
        .chain(b"_")
        .chain(name.as_bytes());
    for (slot, b) in rest.iter_mut().zip(bytes) {
        *slot = *b;
    }
}
