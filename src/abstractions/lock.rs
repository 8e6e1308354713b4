// SPDX-License-Identifier: GPL-2.0

//! A spinlock that also disables bottom halves (`spin_lock_bh`).
//!
//! The kernel crate of 6.12 only has a plain spinlock backend. Data shared between
//! NAPI (softirq) and process context (open, stop, ethtool) needs the `_bh` variant,
//! or lockdep rightly reports an inconsistent lock state.

use crate::bindings;
use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};
use kernel::{prelude::*, str::CStr, sync::LockClassKey, types::Opaque};

/// A spinlock whose holder runs with bottom halves disabled.
///
/// # Invariants
///
/// `raw` was initialised by `vnr_spin_lock_init`; `data` is only accessed through a
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
        // CAST: `LockClassKey` is a transparent wrapper of the C `lock_class_key`, the same
        // C type in the kernel's bindings and in ours.
        let key = core::ptr::from_ref(key)
            .cast_mut()
            .cast::<bindings::lock_class_key>();
        pin_init!(Self {
            data: UnsafeCell::new(t),
            // SAFETY: `slot` is valid for writes and pinned; `name` and `key` live forever.
            raw <- Opaque::ffi_init(move |slot: *mut bindings::spinlock_t| unsafe {
                bindings::vnr_spin_lock_init(slot, name.as_char_ptr(), key)
            }),
        })
    }

    /// Takes the lock, spinning until it is free.
    pub fn lock(&self) -> SpinLockBhGuard<'_, T> {
        // SAFETY: `raw` is initialised (type invariant).
        unsafe { bindings::vnr_spin_lock_bh(self.raw.get()) };
        // INVARIANT: The lock is held.
        SpinLockBhGuard {
            lock: self,
            _not_send: PhantomData,
        }
    }
}

/// Access to the data of a held [`SpinLockBh`]; releases it when dropped.
///
/// # Invariants
///
/// `lock` is held by this guard, on the CPU that took it (the guard is not `Send`).
pub struct SpinLockBhGuard<'a, T> {
    lock: &'a SpinLockBh<T>,
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
        // SAFETY: The lock is held by this guard on this CPU (type invariant), taken with
        // `vnr_spin_lock_bh`.
        unsafe { bindings::vnr_spin_unlock_bh(self.lock.raw.get()) };
    }
}
