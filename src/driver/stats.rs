// SPDX-License-Identifier: GPL-2.0

//! Per-queue counters, and their report through netdev-genl (qstats).

use super::VirtNet;
use crate::abstractions::netdev::NetDev;
use crate::abstractions::qstats::{self, RxQueueStats, TxQueueStats};
use crate::logic::stats_names::Dir;
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::prelude::*;

/// A counter with one writer at a time (the holder of the queue's lock, or the
/// queue's interrupt) and lock-free readers (`ndo_get_stats64`, ethtool).
///
/// Updates are a relaxed load and store, not an atomic read-modify-write: the single
/// writer makes that exact, and readers see a value that was current at some point.
#[derive(Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.store(
            self.0.load(Ordering::Relaxed).wrapping_add(n),
            Ordering::Relaxed,
        );
    }

    /// Subtracts `n` (for gauges).
    pub fn sub(&self, n: u64) {
        self.add(n.wrapping_neg());
    }

    /// Sets the value (for gauges).
    pub fn set(&self, v: u64) {
        self.0.store(v, Ordering::Relaxed);
    }

    /// Adds one.
    pub fn inc(&self) {
        self.add(1);
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// One counter as `ethtool -S` shows it.
pub struct StatDesc {
    /// Receive or transmit half (the name's prefix).
    pub dir: Dir,
    /// Name after the `rx<N>_`/`tx<N>_` prefix.
    pub name: &'static str,
}

/// [`QueueStats`], its accessors and [`STATS`], from one list: the counters live in
/// an array in `ethtool -S` order, so that reading them all for ethtool is a walk
/// over it (a table of accessor closures cost 22 bytes per counter; an array of
/// references built per queue, 600 bytes of code).
macro_rules! stats {
    ($($(#[doc = $doc:literal])* ($dir:ident, $name:literal, $field:ident),)*) => {
        /// Where each counter is in [`QueueStats`]'s array.
        #[allow(non_camel_case_types, clippy::enum_variant_names)]
        enum Slot {
            $($field,)*
        }

        /// Counters in [`QueueStats`].
        const COUNT: usize = [$(Slot::$field),*].len();

        /// Counters of one queue pair.
        pub struct QueueStats {
            counters: [Counter; COUNT],
        }

        impl QueueStats {
            $(
                $(#[doc = $doc])*
                #[inline(always)]
                pub fn $field(&self) -> &Counter {
                    &self.counters[Slot::$field as usize]
                }
            )*
        }

        /// The per-queue counters, in `ethtool -S` order (that of
        /// [`QueueStats::in_order`]). Names shared with the in-tree driver (`drops`,
        /// `kicks`) mean the same thing; the rest show the virtio path at work:
        /// buffers per packet, doorbells rung and suppressed, interrupts, polls.
        pub const STATS: &[StatDesc] = &[$(StatDesc { dir: Dir::$dir, name: $name }),*];
    };
}

impl Default for QueueStats {
    fn default() -> Self {
        // Only the initialiser of the array below, each element a fresh copy.
        #[allow(clippy::declare_interior_mutable_const)]
        const ZERO: Counter = Counter(AtomicU64::new(0));
        Self {
            counters: [ZERO; COUNT],
        }
    }
}

impl QueueStats {
    /// The counters of [`STATS`], in its order.
    pub fn in_order(&self) -> &[Counter; COUNT] {
        &self.counters
    }
}

stats! {
    /// Packets delivered to the stack.
    (Rx, "packets", rx_packets),
    /// Bytes delivered (frames without the virtio-net header).
    (Rx, "bytes", rx_bytes),
    /// Received packets dropped for lack of memory or by the stack's checks.
    (Rx, "drops", rx_dropped),
    /// Doorbells rung on the receive queue.
    (Rx, "kicks", rx_kicks),
    /// Refills after which the device wanted no doorbell.
    (Rx, "kicks_suppressed", rx_kicks_suppressed),
    /// Polls that found every posted buffer used (the device may have met an
    /// empty ring and dropped or held packets).
    (Rx, "ran_dry", rx_ran_dry),
    /// Receive buffers the device returned (more than packets in mergeable mode).
    (Rx, "bufs", rx_bufs),
    /// Gauge: bytes of receive buffers the ring holds now, posted to the device or
    /// kept to be posted again (the memory a receive queue holds at rest).
    (Rx, "buf_bytes", rx_buf_bytes),
    /// Buffers posted again after their packet was copied out, instead of new ones.
    (Rx, "bufs_reused", rx_bufs_reused),
    /// Receive buffers the device returned with an impossible length.
    (Rx, "length_errors", rx_length_errors),
    /// Receive buffers whose virtio-net header was refused.
    (Rx, "frame_errors", rx_frame_errors),
    /// Buffers a mergeable packet announced but the device never returned.
    (Rx, "missing_bufs", rx_missing_bufs),
    /// Refills that stopped short for lack of memory.
    (Rx, "alloc_failures", rx_alloc_failures),
    /// Packets whose checksum the device validated (DATA_VALID).
    (Rx, "csum_valid", rx_csum_valid),
    /// Packets with a partial checksum (NEEDS_CSUM), not validated in software.
    (Rx, "csum_partial", rx_csum_partial),
    /// Coalesced packets (guest GSO) the device delivered.
    (Rx, "gso_packets", rx_gso_packets),
    /// Packets delivered with the device's flow hash (HASH_REPORT, `rxhash` on).
    (Rx, "hash_reports", rx_hash_reports),
    /// Interrupts of the receive virtqueue.
    (Rx, "interrupts", rx_interrupts),
    /// Receive NAPI polls.
    (Rx, "napi_polls", polls),
    /// Frames an XDP program ran on.
    (Rx, "xdp_packets", rx_xdp_packets),
    /// Frames an XDP program sent back out (`XDP_TX`).
    (Rx, "xdp_tx", rx_xdp_tx),
    /// Frames an XDP program redirected (`XDP_REDIRECT`).
    (Rx, "xdp_redirects", rx_xdp_redirects),
    /// Frames dropped by an XDP program, or after its verdict failed.
    (Rx, "xdp_drops", rx_xdp_drops),
    /// Packets the device finished transmitting.
    (Tx, "packets", tx_packets),
    /// Bytes the device finished transmitting.
    (Tx, "bytes", tx_bytes),
    /// Packets dropped on transmit (ring refused them).
    (Tx, "drops", tx_dropped),
    /// Doorbells rung on the transmit queue.
    (Tx, "kicks", tx_kicks),
    /// Doorbells not rung because the device said it needs none (EVENT_IDX).
    (Tx, "kicks_suppressed", tx_kicks_suppressed),
    /// Packets queued without a doorbell because more were coming (`xmit_more`).
    (Tx, "xmit_more", tx_xmit_more),
    /// Packets sent with a checksum for the device to fill (CSUM offload).
    (Tx, "csum_partial", tx_csum_partial),
    /// Packets handed to the device for segmentation (host TSO).
    (Tx, "gso_packets", tx_gso_packets),
    /// Times the transmit queue was stopped for lack of ring space.
    (Tx, "stops", tx_stops),
    /// Times it was woken again.
    (Tx, "wakes", tx_wakes),
    /// Transmit timeouts (`ndo_tx_timeout`).
    (Tx, "tx_timeouts", tx_timeouts),
    /// Interrupts of the transmit virtqueue.
    (Tx, "interrupts", tx_interrupts),
    /// Transmit-completion NAPI polls.
    (Tx, "napi_polls", tx_polls),
    /// Packets whose virtio-net header took a descriptor of its own (no room in
    /// front of the data, or the device cannot take both in one).
    (Tx, "hdr_separate", tx_hdr_separate),
    /// XDP frames queued for the device: `XDP_TX` and frames redirected here.
    (Tx, "xdp_tx", tx_xdp_tx),
    /// XDP frames that could not be queued.
    (Tx, "xdp_tx_drops", tx_xdp_tx_drops),
}

/// A queue pair's receive counters as netdev-genl reports them.
pub fn rx_qstats(s: &QueueStats) -> RxQueueStats {
    RxQueueStats {
        packets: s.rx_packets().get(),
        bytes: s.rx_bytes().get(),
        alloc_fail: s.rx_alloc_failures().get(),
        csum_unnecessary: s.rx_csum_valid().get(),
        hw_gro_packets: s.rx_gso_packets().get(),
    }
}

/// A queue pair's transmit counters as netdev-genl reports them.
pub fn tx_qstats(s: &QueueStats) -> TxQueueStats {
    TxQueueStats {
        packets: s.tx_packets().get(),
        bytes: s.tx_bytes().get(),
        needs_csum: s.tx_csum_partial().get(),
        hw_gso_packets: s.tx_gso_packets().get(),
        stop: s.tx_stops().get(),
        wake: s.tx_wakes().get(),
    }
}

/// Adds a counter into a total. Counters wrap (they are modular, as the kernel's
/// u64 statistics are, and gauges hold negative moments as large values), so their
/// sums wrap too: never an overflow panic in a statistics read.
pub fn acc(total: &mut u64, v: u64) {
    *total = total.wrapping_add(v);
}

/// The sum of the transmit counters of the queue pairs in `stats`, and of the
/// receive counters of those after the first `rx_skip` (the netdev-genl base:
/// queues switched off by `ethtool -L` keep their history there; XDP's own pairs
/// receive for the stack but do not send for it).
pub fn sum_qstats<'a>(
    stats: impl Iterator<Item = &'a QueueStats>,
    rx_skip: usize,
) -> (RxQueueStats, TxQueueStats) {
    let (mut r, mut t) = (RxQueueStats::default(), TxQueueStats::default());
    // A count, not `enumerate`, which brings an overflow panic along.
    let mut i = 0usize;
    for s in stats {
        if i >= rx_skip {
            let a = rx_qstats(s);
            acc(&mut r.packets, a.packets);
            acc(&mut r.bytes, a.bytes);
            acc(&mut r.alloc_fail, a.alloc_fail);
            acc(&mut r.csum_unnecessary, a.csum_unnecessary);
            acc(&mut r.hw_gro_packets, a.hw_gro_packets);
        }
        i = i.wrapping_add(1);
        let b = tx_qstats(s);
        acc(&mut t.packets, b.packets);
        acc(&mut t.bytes, b.bytes);
        acc(&mut t.needs_csum, b.needs_csum);
        acc(&mut t.hw_gso_packets, b.hw_gso_packets);
        acc(&mut t.stop, b.stop);
        acc(&mut t.wake, b.wake);
    }
    (r, t)
}

#[vtable]
impl qstats::Operations for VirtNet {
    fn rx_queue_stats(dev: &NetDev<Self>, idx: usize) -> RxQueueStats {
        dev.data()
            .queues
            .get(idx)
            .map_or_else(Default::default, |q| rx_qstats(&q.stats))
    }

    fn tx_queue_stats(dev: &NetDev<Self>, idx: usize) -> TxQueueStats {
        dev.data()
            .queues
            .get(idx)
            .map_or_else(Default::default, |q| tx_qstats(&q.stats))
    }

    fn base_stats(dev: &NetDev<Self>) -> (RxQueueStats, TxQueueStats) {
        // The core asks for the live queues (below the real numbers of queues, which
        // follow `curr_pairs` and `xdp_pairs` under the RTNL lock); the rest is
        // history. XDP's own pairs receive for the stack, but send only for XDP.
        let vn = dev.data();
        let live_rx = usize::from(vn.rx_pairs());
        let live_tx = usize::from(vn.curr_pairs.load(Ordering::Relaxed));
        let stats = vn.queues.iter().skip(live_tx).map(|q| &q.stats);
        sum_qstats(stats, live_rx.saturating_sub(live_tx))
    }
}
