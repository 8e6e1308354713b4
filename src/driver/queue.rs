// SPDX-License-Identifier: GPL-2.0

//! A queue pair: one receive and one transmit virtqueue served by one NAPI context.

use super::stats::QueueStats;
use super::VirtNet;
use crate::abstractions::{
    lock::SpinLockBh,
    napi::Napi,
    netdev::Uninit,
    skb::{RxSkb, TxSkb},
    virtqueue::Virtqueue,
};
use crate::new_spinlock_bh;
use kernel::prelude::*;

/// The receive side, owned by whoever holds the lock: NAPI, open, the refill work.
pub struct RxRing {
    pub vq: Virtqueue<RxSkb>,
}

/// The transmit side, shared by `start_xmit` and NAPI's completion cleanup.
pub struct TxRing {
    pub vq: Virtqueue<TxSkb>,
}

/// One queue pair. Fields drop in order: the NAPI context is disabled and removed
/// before the rings reclaim their buffers.
#[pin_data]
pub struct QueuePair {
    #[pin]
    pub napi: Napi,
    #[pin]
    pub rx: SpinLockBh<RxRing>,
    #[pin]
    pub tx: SpinLockBh<TxRing>,
    /// Index of the pair (receive queue `2 * index`, transmit `2 * index + 1`).
    pub index: u16,
    pub stats: QueueStats,
}

impl QueuePair {
    /// Builds queue pair `index` on `dev` over the two virtqueues.
    pub fn new(
        dev: &Uninit<VirtNet>,
        index: u16,
        weight: i32,
        rxvq: Virtqueue<RxSkb>,
        txvq: Virtqueue<TxSkb>,
    ) -> impl PinInit<Self, Error> {
        let napi = Napi::new::<VirtNet>(dev, usize::from(index), weight);
        try_pin_init!(Self {
            napi <- napi,
            rx <- new_spinlock_bh!(RxRing { vq: rxvq }, "virtio_net_rust::rx"),
            tx <- new_spinlock_bh!(TxRing { vq: txvq }, "virtio_net_rust::tx"),
            index,
            stats: QueueStats::default(),
        }? Error)
    }
}
