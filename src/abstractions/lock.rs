// SPDX-License-Identifier: GPL-2.0

//! A spinlock that also disables bottom halves (`spin_lock_bh`).
//!
//! The kernel crate of 6.12 only has a plain spinlock backend. Data shared between
//! NAPI (softirq) and process context (open, stop, ethtool) needs the `_bh` variant,
//! or lockdep rightly reports an inconsistent lock state.

use crate::bindings;
use kernel::sync::lock::{Backend, Lock};

/// A spinlock whose holder runs with bottom halves disabled.
pub type SpinLockBh<T> = Lock<T, SpinLockBhBackend>;

/// Creates a [`SpinLockBh`] initialiser with a lock class of its own.
#[macro_export]
macro_rules! new_spinlock_bh {
    ($inner:expr, $name:literal $(,)?) => {
        ::kernel::sync::lock::Lock::<_, $crate::abstractions::lock::SpinLockBhBackend>::new(
            $inner,
            ::kernel::c_str!($name),
            ::kernel::static_lock_class!(),
        )
    };
}

/// The backend of [`SpinLockBh`]: `spin_lock_bh()` / `spin_unlock_bh()`.
pub struct SpinLockBhBackend;

// SAFETY: `spin_lock_bh` gives exclusive ownership of the lock until `spin_unlock_bh`, and
// `relock` uses the default implementation, which calls `lock` again.
unsafe impl Backend for SpinLockBhBackend {
    type State = kernel::bindings::spinlock_t;
    type GuardState = ();

    unsafe fn init(
        ptr: *mut Self::State,
        name: *const kernel::ffi::c_char,
        key: *mut kernel::bindings::lock_class_key,
    ) {
        // SAFETY: The caller guarantees `ptr` is valid for writes and that `name` and `key`
        // live forever. CAST: `spinlock_t` and `lock_class_key` are the same C types in the
        // kernel's bindings and in ours.
        unsafe { bindings::vnr_spin_lock_init(ptr.cast(), name, key.cast()) }
    }

    unsafe fn lock(ptr: *mut Self::State) -> Self::GuardState {
        // SAFETY: The caller guarantees `init` was called on `ptr`. CAST: same C type.
        unsafe { bindings::vnr_spin_lock_bh(ptr.cast()) }
    }

    unsafe fn unlock(ptr: *mut Self::State, _guard_state: &Self::GuardState) {
        // SAFETY: The caller owns the lock, taken with `vnr_spin_lock_bh`. CAST: same C type.
        unsafe { bindings::vnr_spin_unlock_bh(ptr.cast()) }
    }
}
