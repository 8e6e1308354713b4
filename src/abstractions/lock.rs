// SPDX-License-Identifier: GPL-2.0

//! A spinlock that also disables bottom halves (`spin_lock_bh`).
//!
//! The kernel crate of 6.12 only has a plain spinlock backend. Data shared between
//! NAPI (softirq) and process context (open, stop, ethtool) needs the `_bh` variant,
//! or lockdep rightly reports an inconsistent lock state. A NAPI poll, where bottom
//! halves are off already, takes the plain lock instead ([`SpinLockBh::lock_napi`]),
//! saving the bottom-half bookkeeping (a `__local_bh_enable_ip` call) per hold.

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
        // INVARIANT: The lock is held, taken with `vnr_spin_lock_bh`.
        SpinLockBhGuard {
            lock: self,
            bh: true,
            _not_send: PhantomData,
        }
    }

    /// Takes the lock from a NAPI poll, where bottom halves are already off.
    pub fn lock_napi(&self, _poll: &Poll<'_>) -> SpinLockBhGuard<'_, T> {
        // SAFETY: `raw` is initialised (type invariant). NAPI polls run with bottom halves
        // disabled (the poll token), so no bottom half on this CPU can interrupt the
        // holder and spin on the lock: the plain lock is enough.
        unsafe { bindings::vnr_spin_lock(self.raw.get()) };
        // INVARIANT: The lock is held, taken with `vnr_spin_lock`.
        SpinLockBhGuard {
            lock: self,
            bh: false,
            _not_send: PhantomData,
        }
    }
}

/// Access to the data of a held [`SpinLockBh`]; releases it when dropped.
///
/// # Invariants
///
/// `lock` is held by this guard, on the CPU that took it (the guard is not `Send`),
/// taken with `vnr_spin_lock_bh` if `bh`, with `vnr_spin_lock` otherwise.
pub struct SpinLockBhGuard<'a, T> {
    lock: &'a SpinLockBh<T>,
    bh: bool,
    _not_send: PhantomData<*mut ()>,
}

impl<T> Deref for SpinLockBhGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: The lock is held (type invariant), so nobody else accesses the data.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for SpinLockBhGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: As in `deref`, and `&mut self` makes this the only access through the
        // guard.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for SpinLockBhGuard<'_, T> {
    fn drop(&mut self) {
        let raw = self.lock.raw.get();
        if self.bh {
            // SAFETY: The lock is held by this guard on this CPU, taken with
            // `vnr_spin_lock_bh` (type invariant).
            unsafe { bindings::vnr_spin_unlock_bh(raw) };
        } else {
            // SAFETY: The lock is held by this guard on this CPU, taken with
            // `vnr_spin_lock` (type invariant).
            unsafe { bindings::vnr_spin_unlock(raw) };
        }
    }
}
