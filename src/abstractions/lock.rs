// SPDX-License-Identifier: GPL-2.0

//! A spinlock that also disables bottom halves (`spin_lock_bh`).
//!
//! The kernel crate of 6.12 only has a plain spinlock backend. Data shared between
//! NAPI (softirq) and process context (open, stop, ethtool) needs the `_bh` variant,
//! or lockdep rightly reports an inconsistent lock state. A NAPI poll, where bottom
//! halves are off already, takes the plain lock instead ([`SpinLockBh::lock_napi`]),
//! saving the bottom-half bookkeeping (a `__local_bh_enable_ip` call) per hold.
//!
//! C header: [`include/linux/spinlock.h`](srctree/include/linux/spinlock.h)

use crate::abstractions::napi::Poll;
use crate::bindings;
use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};
use kernel::{prelude::*, str::CStr, sync::LockClassKey, types::Opaque};

/// A spinlock whose holder runs with bottom halves disabled.
///
/// # Invariants
///
/// `raw` was initialised by `__spin_lock_init`; `data` is only accessed through a
/// [`SpinLockBhGuard`], which exists only while `raw` is held.
///
/// # Examples
///
/// ```ignore
/// # use crate::abstractions::lock::SpinLockBh;
/// # use crate::new_spinlock_bh;
/// # use kernel::prelude::*;
/// #[pin_data]
/// struct Counters {
///     #[pin]
///     packets: SpinLockBh<u64>,
/// }
///
/// fn counters() -> impl PinInit<Counters> {
///     pin_init!(Counters {
///         packets <- new_spinlock_bh!(0, "counters"),
///     })
/// }
///
/// fn count(c: &Counters) {
///     *c.packets.lock() += 1;
/// }
/// ```
#[pin_data]
pub struct SpinLockBh<T> {
    #[pin]
    raw: Opaque<bindings::spinlock_t>,
    data: UnsafeCell<T>,
}

// SAFETY: The lock owns its data; moving it to another thread moves the data.
unsafe impl<T: Send> Send for SpinLockBh<T> {}
// SAFETY: Shared references only give access to the data under the lock, one holder at a
// time, so `T: Send` is enough (as for the kernel's own locks).
unsafe impl<T: Send> Sync for SpinLockBh<T> {}

/// Creates a [`SpinLockBh`] initialiser with a lock class of its own.
#[macro_export]
macro_rules! new_spinlock_bh {
    ($inner:expr, $name:literal $(,)?) => {
        $crate::abstractions::lock::SpinLockBh::new(
            $inner,
            ::kernel::c_str!($name),
            ::kernel::static_lock_class!(),
        )
    };
}

impl<T> SpinLockBh<T> {
    /// Creates the lock around `t`, named `name` for lockdep, in class `key`.
    pub fn new(t: T, name: &'static CStr, key: &'static LockClassKey) -> impl PinInit<Self> {
        // CAST: `LockClassKey` is a transparent wrapper of the C `lock_class_key`.
        let key = core::ptr::from_ref(key)
            .cast_mut()
            .cast::<kernel::bindings::lock_class_key>();
        pin_init!(Self {
            data: UnsafeCell::new(t),
            // SAFETY: `slot` is valid for writes and pinned; `name` and `key` live forever.
            // The kernel's own exported helper (`rust_helper___spin_lock_init`, with
            // its lockdep and PREEMPT_RT branches), as `kernel::sync::SpinLock` uses.
            // CAST: the same C `spinlock_t` in the kernel's bindings and in ours.
            raw <- Opaque::ffi_init(move |slot: *mut bindings::spinlock_t| unsafe {
                kernel::bindings::__spin_lock_init(slot.cast(), name.as_char_ptr(), key)
            }),
        })
    }

    /// Takes the lock, spinning until it is free.
    pub fn lock(&self) -> SpinLockBhGuard<'_, T> {
        // SAFETY: `raw` is initialised (type invariant).
        unsafe { bindings::vnr_spin_lock_bh(self.raw.get()) };
        // SAFETY: Just taken, with bottom halves disabled; `data` is only accessed
        // under it (type invariant).
        unsafe { Guard::new(&self.raw, &self.data, true) }
    }

    /// Takes the lock from a NAPI poll, where bottom halves are already off.
    pub fn lock_napi(&self, _poll: &Poll<'_>) -> SpinLockBhGuard<'_, T> {
        // SAFETY: `raw` is initialised (type invariant). NAPI polls run with bottom halves
        // disabled (the poll token), so no bottom half on this CPU can interrupt the
        // holder and spin on the lock: the plain lock is enough.
        unsafe { bindings::vnr_spin_lock(self.raw.get()) };
        // SAFETY: Just taken, without disabling bottom halves; `data` is only accessed
        // under it (type invariant).
        unsafe { Guard::new(&self.raw, &self.data, false) }
    }
}

/// A lock of this module's types: what a [`Guard`] calls to release it.
///
/// # Safety
///
/// `unlock` must release exactly the lock a guard was created holding.
pub unsafe trait RawLock {
    /// Releases the lock.
    ///
    /// # Safety
    ///
    /// The caller holds the lock on this CPU, taken with bottom halves disabled
    /// exactly when `bh`.
    unsafe fn unlock(&self, bh: bool);
}

// SAFETY: Releases the spinlock itself (of a [`SpinLockBh`]), the way it was taken.
unsafe impl RawLock for Opaque<bindings::spinlock_t> {
    unsafe fn unlock(&self, bh: bool) {
        // SAFETY: Per the caller, the lock is held on this CPU, taken with
        // `vnr_spin_lock_bh` if `bh`, with `vnr_spin_lock` otherwise.
        unsafe {
            if bh {
                bindings::vnr_spin_unlock_bh(self.get())
            } else {
                bindings::vnr_spin_unlock(self.get())
            }
        }
    }
}

/// Access to the data of a held lock (a [`SpinLockBh`], or a transmit queue's
/// [`TxqLocked`](super::txq::TxqLocked)); releases it when dropped.
///
/// # Invariants
///
/// `lock` is held by this guard, on the CPU that took it (the guard is not `Send`),
/// taken with bottom halves disabled exactly when `bh`; `data` is the data it
/// guards.
pub struct Guard<'a, T, L: RawLock> {
    lock: &'a L,
    data: &'a UnsafeCell<T>,
    bh: bool,
    _not_send: PhantomData<*mut ()>,
}

impl<'a, T, L: RawLock> Guard<'a, T, L> {
    /// # Safety
    ///
    /// The caller has just taken `lock` on this CPU, with bottom halves disabled
    /// exactly when `bh`, and `data` is only accessed under it.
    pub(crate) unsafe fn new(lock: &'a L, data: &'a UnsafeCell<T>, bh: bool) -> Self {
        // INVARIANT: Per the safety requirements.
        Self {
            lock,
            data,
            bh,
            _not_send: PhantomData,
        }
    }
}

impl<T, L: RawLock> Deref for Guard<'_, T, L> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: The lock is held (type invariant), so nobody else accesses the data.
        unsafe { &*self.data.get() }
    }
}

impl<T, L: RawLock> DerefMut for Guard<'_, T, L> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: As in `deref`, and `&mut self` makes this the only access through the
        // guard.
        unsafe { &mut *self.data.get() }
    }
}

impl<T, L: RawLock> Drop for Guard<'_, T, L> {
    fn drop(&mut self) {
        // SAFETY: The guard holds the lock on this CPU, taken the way `bh` says (type
        // invariant).
        unsafe { self.lock.unlock(self.bh) }
    }
}

/// The guard of a [`SpinLockBh`].
pub type SpinLockBhGuard<'a, T> = Guard<'a, T, Opaque<bindings::spinlock_t>>;
