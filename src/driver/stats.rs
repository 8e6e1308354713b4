// SPDX-License-Identifier: GPL-2.0

//! Per-queue counters.

use core::sync::atomic::{AtomicU64, Ordering};

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

    /// Adds one.
    pub fn inc(&self) {
        self.add(1);
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Counters of one queue pair.
#[derive(Default)]
pub struct QueueStats {
    /// Packets delivered to the stack.
    pub rx_packets: Counter,
    /// Bytes delivered (frames without the virtio-net header).
    pub rx_bytes: Counter,
    /// Receive buffers the device returned with an impossible length.
    pub rx_length_errors: Counter,
    /// Receive buffers whose virtio-net header was refused.
    pub rx_frame_errors: Counter,
    /// Received packets dropped for lack of memory or by the stack's checks.
    pub rx_dropped: Counter,
    /// Doorbells rung on the receive queue.
    pub rx_kicks: Counter,
    /// Packets the device finished transmitting.
    pub tx_packets: Counter,
    /// Bytes the device finished transmitting.
    pub tx_bytes: Counter,
    /// Packets dropped on transmit (ring refused them).
    pub tx_dropped: Counter,
    /// Doorbells rung on the transmit queue.
    pub tx_kicks: Counter,
    /// Times the transmit queue was stopped for lack of ring space.
    pub tx_stops: Counter,
    /// Times it was woken again.
    pub tx_wakes: Counter,
    /// Interrupts of the receive virtqueue.
    pub rx_interrupts: Counter,
    /// Interrupts of the transmit virtqueue.
    pub tx_interrupts: Counter,
    /// NAPI polls.
    pub polls: Counter,
}
