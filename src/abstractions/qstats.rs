// SPDX-License-Identifier: GPL-2.0

//! Per-queue statistics through netdev-genl (`struct netdev_stat_ops`), what
//! `ynl --family netdev --dump qstats-get` and the kernel's `stats.py` read.
//!
//! The core asks for the base (history not attributed to a live queue, e.g. queues
//! switched off with `ethtool -L`) and then for each live queue, under the RTNL lock,
//! and adds them up; the sum must match `ndo_get_stats64`.
//!
//! C header: [`include/net/netdev_queues.h`](srctree/include/net/netdev_queues.h)

use crate::abstractions::netdev::{self, NetDev};
use crate::bindings;
use core::marker::PhantomData;
use kernel::{build_error, error::VTABLE_DEFAULT_ERROR, prelude::*};

/// What a network driver reports per queue through netdev-genl. Each callback is
/// installed only if implemented (`#[vtable]`): the core skips a direction it has
/// no callback for, and reports no per-device totals without `base_stats`.
#[vtable]
pub trait Operations: netdev::Operations {
    /// Counters of live receive queue `idx` (below the real number of queues).
    fn rx_queue_stats(_dev: &NetDev<Self>, _idx: usize) -> RxQueueStats {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// Counters of live transmit queue `idx`.
    fn tx_queue_stats(_dev: &NetDev<Self>, _idx: usize) -> TxQueueStats {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// What the live queues' counters do not hold (queues no longer in use), so
    /// that base + live queues = `ndo_get_stats64`. Called under the RTNL lock.
    fn base_stats(_dev: &NetDev<Self>) -> (RxQueueStats, TxQueueStats) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// The `netdev_stat_ops` table of driver `T`, for [`netdev::Config::qstats`].
pub struct Table<T>(&'static bindings::netdev_stat_ops, PhantomData<T>);

impl<T: Operations> Table<T> {
    /// The table holding what `T` implements.
    pub fn new() -> Self {
        Self(&Adapter::<T>::OPS, PhantomData)
    }
}

impl<T> Table<T> {
    pub(crate) fn as_raw(&self) -> *const bindings::netdev_stat_ops {
        self.0
    }
}

impl<T: Operations> Default for Table<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Counters of one receive queue (or the base), as netdev-genl names them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RxQueueStats {
    /// Packets delivered to the stack.
    pub packets: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Buffer allocations that failed.
    pub alloc_fail: u64,
    /// Packets whose checksum the device validated.
    pub csum_unnecessary: u64,
    /// Packets the device coalesced (guest GSO).
    pub hw_gro_packets: u64,
}

/// Counters of one transmit queue (or the base), as netdev-genl names them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TxQueueStats {
    /// Packets the device completed.
    pub packets: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Packets with a checksum left to the device.
    pub needs_csum: u64,
    /// Packets left to the device to segment.
    pub hw_gso_packets: u64,
    /// Times the queue was stopped.
    pub stop: u64,
    /// Times it was woken.
    pub wake: u64,
}

impl RxQueueStats {
    fn write_to(&self, s: &mut bindings::netdev_queue_stats_rx) {
        // Fields not written stay "not reported" (all ones, set by the core).
        s.packets = self.packets;
        s.bytes = self.bytes;
        s.alloc_fail = self.alloc_fail;
        s.csum_unnecessary = self.csum_unnecessary;
        s.hw_gro_packets = self.hw_gro_packets;
    }
}

impl TxQueueStats {
    fn write_to(&self, s: &mut bindings::netdev_queue_stats_tx) {
        s.packets = self.packets;
        s.bytes = self.bytes;
        s.needs_csum = self.needs_csum;
        s.hw_gso_packets = self.hw_gso_packets;
        s.stop = self.stop;
        s.wake = self.wake;
    }
}

struct Adapter<T>(PhantomData<T>);

impl<T: Operations> Adapter<T> {
    const OPS: bindings::netdev_stat_ops = bindings::netdev_stat_ops {
        get_queue_stats_rx: if T::HAS_RX_QUEUE_STATS {
            Some(Self::get_queue_stats_rx)
        } else {
            None
        },
        get_queue_stats_tx: if T::HAS_TX_QUEUE_STATS {
            Some(Self::get_queue_stats_tx)
        } else {
            None
        },
        get_base_stats: if T::HAS_BASE_STATS {
            Some(Self::get_base_stats)
        } else {
            None
        },
    };

    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>` (the only
    /// device this table is installed on, and only if `T::HAS_QUEUE_STATS`), `stats` must
    /// point to a valid, writable `netdev_queue_stats_rx`, and the caller must hold the
    /// RTNL lock, as netdev-genl calls `netdev_stat_ops::get_queue_stats_rx`.
    unsafe extern "C" fn get_queue_stats_rx(
        dev: *mut bindings::net_device,
        idx: i32,
        stats: *mut bindings::netdev_queue_stats_rx,
    ) {
        // SAFETY: The core calls this for a registered device of ours, under the RTNL
        // lock; `stats` is valid and writable.
        let (dev, stats) = unsafe { (NetDev::<T>::from_raw(dev), &mut *stats) };
        T::rx_queue_stats(dev, idx as usize).write_to(stats);
    }

    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>` (the only
    /// device this table is installed on, and only if `T::HAS_QUEUE_STATS`), `stats` must
    /// point to a valid, writable `netdev_queue_stats_tx`, and the caller must hold the
    /// RTNL lock, as netdev-genl calls `netdev_stat_ops::get_queue_stats_tx`.
    unsafe extern "C" fn get_queue_stats_tx(
        dev: *mut bindings::net_device,
        idx: i32,
        stats: *mut bindings::netdev_queue_stats_tx,
    ) {
        // SAFETY: As in `get_queue_stats_rx`.
        let (dev, stats) = unsafe { (NetDev::<T>::from_raw(dev), &mut *stats) };
        T::tx_queue_stats(dev, idx as usize).write_to(stats);
    }

    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>` (the only
    /// device this table is installed on, and only if `T::HAS_QUEUE_STATS`), `rx` and
    /// `tx` must point to a valid, writable `netdev_queue_stats_rx` and
    /// `netdev_queue_stats_tx`, and the caller must hold the RTNL lock, as netdev-genl
    /// calls `netdev_stat_ops::get_base_stats`.
    unsafe extern "C" fn get_base_stats(
        dev: *mut bindings::net_device,
        rx: *mut bindings::netdev_queue_stats_rx,
        tx: *mut bindings::netdev_queue_stats_tx,
    ) {
        // SAFETY: As in `get_queue_stats_rx`; `rx` and `tx` are valid and writable.
        let (dev, rx, tx) = unsafe { (NetDev::<T>::from_raw(dev), &mut *rx, &mut *tx) };
        let (r, t) = T::base_stats(dev);
        r.write_to(rx);
        t.write_to(tx);
    }
}
