// SPDX-License-Identifier: GPL-2.0

//! Names of the per-queue counters `ethtool -S` shows.
//!
//! Per-queue names follow the in-tree driver's pattern, `rx<N>_<name>` and
//! `tx<N>_<name>` (`drivers/net/virtio_net.c`, `virtnet_get_stats_string()`), so
//! scripts written for it read ours; counters of our own use the same pattern.

use core::fmt::{self, Write};

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
pub fn write_name(out: &mut [u8], dir: Dir, queue: usize, name: &str) {
    /// The bytes of the slot not written yet, its last byte (the NUL) excluded.
    struct Slot<'a> {
        rest: &'a mut [u8],
    }
    impl Write for Slot<'_> {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            let n = s.len().min(self.rest.len());
            let (head, tail) = core::mem::take(&mut self.rest).split_at_mut(n);
            head.copy_from_slice(&s.as_bytes()[..n]);
            self.rest = tail;
            Ok(())
        }
    }
    out.fill(0);
    let Some((_nul, rest)) = out.split_last_mut() else {
        return;
    };
    let prefix = match dir {
        Dir::Rx => "rx",
        Dir::Tx => "tx",
    };
    let mut slot = Slot { rest };
    let _ = write!(slot, "{prefix}{queue}_{name}");
}
