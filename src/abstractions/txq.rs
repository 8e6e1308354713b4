// SPDX-License-Identifier: GPL-2.0

//! Data guarded by a transmit queue's own lock (`netdev_queue::_xmit_lock`).
//!
//! The stack takes that lock around every `ndo_start_xmit` of a driver without
//! `NETIF_F_LLTX` (`HARD_TX_LOCK`). Guarding the driver's transmit ring with it, as
//! the in-tree virtio_net does, saves a second lock per packet: `start_xmit` gets
//! an [`XmitLock`] proving the lock of the packet's queue is held, and reaches the
//! data through it; everyone else (completions, resizes) takes the same lock.
//!
//! C header: [`include/linux/netdevice.h`](srctree/include/linux/netdevice.h)

use crate::abstractions::lock::{Guard, RawLock};
use crate::abstractions::napi::{Poll, PollContext};
use crate::abstractions::netdev::{NetDev, Operations};
use crate::abstractions::skb::SkBuff;
use crate::bindings;
use core::{cell::UnsafeCell, ptr::NonNull};
use kernel::prelude::*;

/// Proof, handed to `start_xmit`, that the stack holds the `_xmit_lock` of the
/// transmit queue `txq` on this CPU for the duration of the call.
///
/// # Invariants
///
/// `txq` is the queue of the packet being transmitted (`skb->queue_mapping`); its
/// `_xmit_lock` is held while the object lives. Only the netdev glue creates one,
/// for one call of `start_xmit`; it is not `Send`.
pub struct XmitLock {
    txq: *mut bindings::netdev_queue,
}

impl XmitLock {
    /// # Safety
    ///
    /// The caller holds the `_xmit_lock` of `txq` until the object is dropped, on this
    /// CPU (`ndo_start_xmit` of a device without `NETIF_F_LLTX`, for the queue the
    /// packet is mapped to).
    pub(crate) unsafe fn new(txq: *mut bindings::netdev_queue) -> Self {
        // INVARIANT: Per the safety requirements.
        Self { txq }
    }
}

/// `T`, owned by transmit queue `index` of a net_device and accessed only under
/// that queue's `_xmit_lock`.
///
/// # Invariants
///
/// `txq` is a transmit queue of a net_device that outlives the object (the object
/// lives in the device's private data); `data` is only accessed while `txq`'s
/// `_xmit_lock` is held by the accessor (a [`TxqGuard`], or the [`XmitLock`] of a
/// `start_xmit` on that queue), or through `&mut self`.
pub struct TxqLocked<T> {
    txq: TxQueue,
    data: UnsafeCell<T>,
}

/// A transmit queue, as the lock of a [`TxqLocked`].
///
/// # Invariants
///
/// The queue belongs to a net_device that outlives the object.
pub struct TxQueue(NonNull<bindings::netdev_queue>);

// SAFETY: Releases the queue's `_xmit_lock`, the way it was taken.
unsafe impl RawLock for TxQueue {
    unsafe fn unlock(&self, bh: bool) {
        // SAFETY: The queue is valid (type invariant); per the caller, its lock is held
        // on this CPU, taken with bottom halves disabled exactly when `bh`.
        unsafe {
            if bh {
                bindings::vnr_netif_tx_unlock_bh(self.0.as_ptr())
            } else {
                bindings::vnr_netif_tx_unlock(self.0.as_ptr())
            }
        }
    }
}

/// The guard of a [`TxqLocked`].
pub type TxqGuard<'a, T> = Guard<'a, T, TxQueue>;

// SAFETY: The queue pointer is only used to lock; the data moves with the object.
unsafe impl<T: Send> Send for TxqLocked<T> {}
// SAFETY: Shared references reach the data only under the queue's lock, one holder at a
// time.
unsafe impl<T: Send> Sync for TxqLocked<T> {}

impl<T> TxqLocked<T> {
    /// Puts `data` under the lock of transmit queue `index` of `dev`, a device whose
    /// private data will own the object. `EINVAL` if the device has no such queue.
    pub fn new<D>(dev: &super::netdev::Uninit<D>, index: u16, data: T) -> Result<Self> {
        // SAFETY: The device is valid (allocated, not yet freed); the helper checks the
        // index against the queues it was allocated with.
        let txq = unsafe { bindings::vnr_netdev_get_tx_queue(dev.as_raw(), index.into()) };
        let txq = NonNull::new(txq).ok_or(EINVAL)?;
        // INVARIANT: `txq` belongs to `dev`, which outlives its private data.
        Ok(Self {
            txq: TxQueue(txq),
            data: UnsafeCell::new(data),
        })
    }

    /// Takes the queue's lock with bottom halves disabled (process context, or any).
    pub fn lock(&self) -> TxqGuard<'_, T> {
        // SAFETY: `txq` is valid (type invariant).
        unsafe { bindings::vnr_netif_tx_lock_bh(self.txq.0.as_ptr()) };
        // SAFETY: Just taken, with bottom halves disabled; `data` is only accessed under
        // it (type invariant).
        unsafe { Guard::new(&self.txq, &self.data, true) }
    }

    /// Takes the queue's lock from a NAPI poll, where bottom halves are already off.
    pub fn lock_napi(&self, _poll: &Poll<'_>) -> TxqGuard<'_, T> {
        // SAFETY: `txq` is valid; NAPI polls run in softirq context (the poll token), so
        // the plain lock cannot be interrupted by a bottom half taking it.
        unsafe { bindings::vnr_netif_tx_lock(self.txq.0.as_ptr()) };
        // SAFETY: Just taken, without disabling bottom halves; `data` is only accessed
        // under it (type invariant).
        unsafe { Guard::new(&self.txq, &self.data, false) }
    }

    /// Takes the queue's lock from a poll, by NAPI or by netpoll, if nobody holds it
    /// (the in-tree driver's `__netif_tx_trylock` in `virtnet_poll_cleantx`).
    pub fn try_lock_napi(&self, _poll: &impl PollContext) -> Option<TxqGuard<'_, T>> {
        // SAFETY: `txq` is valid; bottom halves cannot run on this CPU during a poll (the
        // token), so the plain lock cannot be interrupted by one taking it; a trylock
        // cannot deadlock on a holder netpoll interrupted.
        if !unsafe { bindings::vnr_netif_tx_trylock(self.txq.0.as_ptr()) } {
            return None;
        }
        // SAFETY: Just taken, without disabling bottom halves; `data` is only accessed
        // under it (type invariant).
        Some(unsafe { Guard::new(&self.txq, &self.data, false) })
    }

    /// Hands `skb` to the device's own `ndo_start_xmit` on this queue as the stack
    /// does (`xmit_more` = `more`), under the queue's lock, then runs `then` under it
    /// with whether the driver took the packet (a stopped queue frees it): for
    /// packets the driver makes itself (XDP), so that they take the one transmit
    /// path.
    pub fn start_xmit(
        &self,
        dev: &NetDev<impl Operations>,
        skb: SkBuff,
        more: bool,
        then: impl FnOnce(bool),
    ) {
        let txq = self.txq.0.as_ptr();
        // SAFETY: `txq` is valid (type invariant).
        unsafe { bindings::vnr_netif_tx_lock_bh(txq) };
        // SAFETY: `txq` is valid, the skb ours.
        unsafe { bindings::vnr_skb_set_txq(skb.as_raw(), txq) };
        // SAFETY: `txq` is valid.
        let taken = if unsafe { bindings::vnr_netif_xmit_frozen_or_drv_stopped(txq) } {
            false
        } else {
            let raw = skb.into_raw();
            // SAFETY: The queue's lock is held, as `ndo_start_xmit` requires, and no
            // reference to `data` is live (the driver's `start_xmit` reaches it through its
            // `XmitLock`); `txq` belongs to `dev` (the caller's queue of its own device);
            // the skb's ownership moves to the driver unless it refuses it.
            let rc = unsafe { bindings::vnr_netdev_start_xmit(raw, dev.as_raw(), more) };
            // SAFETY: No preconditions.
            let complete = unsafe { bindings::vnr_dev_xmit_complete(rc) };
            if !complete {
                // SAFETY: Refused: the skb is ours again, to free.
                drop(unsafe { SkBuff::from_raw(raw) });
            }
            complete
        };
        then(taken);
        // SAFETY: Taken above, with bottom halves disabled.
        unsafe { bindings::vnr_netif_tx_unlock_bh(txq) };
    }

    /// The data, from `start_xmit` on this queue: `None` if `held` is the lock of
    /// another queue.
    pub fn get<'a>(&'a self, held: &'a mut XmitLock) -> Option<&'a mut T> {
        if held.txq != self.txq.0.as_ptr() {
            return None;
        }
        // SAFETY: `held` proves this queue's lock is held for as long as it lives, and
        // borrowing it mutably makes this the only access through it.
        Some(unsafe { &mut *self.data.get() })
    }
}
