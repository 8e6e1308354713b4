// SPDX-License-Identifier: GPL-2.0

//! Per-queue statistics through netdev-genl (`struct netdev_stat_ops`), what
//! `ynl --family netdev --dump qstats-get` and the kernel's `stats.py` read.
//!
//! The core asks for the base (history not attributed to a live queue, e.g. queues
//! switched off with `ethtool -L`) and then for each live queue, under the RTNL lock,
//! and adds them up; the sum must match `ndo_get_stats64`.
//!
//! C header: [`include/net/netdev_queues.h`](srctree/include/net/netdev_queues.h)

use crate::abstractions::netdev::{NetDev, Operations};
use crate::bindings;
use core::marker::PhantomData;

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
        get_queue_stats_rx: Some(Self::get_queue_stats_rx),
        get_queue_stats_tx: Some(Self::get_queue_stats_tx),
        get_base_stats: Some(Self::get_base_stats),
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

/// The stat-ops table for driver `T`, or null if it reports no queue statistics.
pub(crate) fn ops<T: Operations>() -> *const bindings::netdev_stat_ops {
    if T::HAS_QUEUE_STATS {
        &Adapter::<T>::OPS
    } else {
        core::ptr::null()
    }
}
