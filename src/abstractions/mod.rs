// SPDX-License-Identifier: GPL-2.0

//! Safe abstractions over the kernel's virtio, networking and locking APIs.
//!
//! This is the only part of the module with `unsafe` code. Each type documents its
//! invariants, each `unsafe` block says why it is sound, in the style of the
//! kernel's own `rust/kernel/`. The driver above it needs no `unsafe` at all.

// A build without AF_XDP zero-copy (Kbuild: VNR_XSK_ZC=n) leaves some unused.
#![cfg_attr(not(vnr_xsk_zc), allow(dead_code, unused_imports))]

pub mod cpumask;
pub mod ctrl_msg;
pub mod ethtool;
pub mod frag;
pub mod lock;
pub mod log;
pub mod napi;
pub mod netdev;
pub mod page_chain;
pub mod qstats;
pub mod skb;
pub mod txq;
pub mod virtio;
pub mod virtqueue;
pub mod xdp;
pub mod xsk;

/// `EMSGSIZE`: a buffer has more pieces than a descriptor table can take.
pub(crate) fn emsgsize() -> kernel::error::Error {
    kernel::error::Error::from_errno(-(crate::bindings::EMSGSIZE as i32))
}

/// `EOPNOTSUPP`: the operation is not supported (the kernel crate of 6.12 lacks it).
pub fn eopnotsupp() -> kernel::error::Error {
    kernel::error::Error::from_errno(-crate::bindings::VNR_EOPNOTSUPP)
}

/// `ENETDOWN`: the interface is down (the kernel crate of 6.12 lacks it).
pub fn enetdown() -> kernel::error::Error {
    kernel::error::Error::from_errno(-(crate::bindings::ENETDOWN as i32))
}

/// `ETIMEDOUT`: the device did not answer in time (the kernel crate of 6.12 lacks it).
pub fn etimedout() -> kernel::error::Error {
    kernel::error::Error::from_errno(-crate::bindings::VNR_ETIMEDOUT)
}

/// Appends `x` to `v` if `v` has room for it, else gives it back: for vectors made
/// with the capacity they need. `KVec::push` may grow the vector, and its growth path
/// is one more copy of the allocator's code (about 200 bytes) per element type.
pub fn push_within_capacity<T>(v: &mut kernel::alloc::KVec<T>, x: T) -> Result<(), T> {
    let len = v.len();
    let Some(slot) = v.spare_capacity_mut().first_mut() else {
        return Err(x);
    };
    slot.write(x);
    // SAFETY: The element at `len`, within the capacity, was just initialised.
    unsafe { v.set_len(len + 1) };
    Ok(())
}

/// A vector of `n` zeroes (zeroed by the allocator): `KVec::from_elem` writes them one
/// by one, through one more copy of its loop per element type.
pub fn zeroed_vec<T: kernel::init::Zeroable>(
    n: usize,
) -> Result<kernel::alloc::KVec<T>, kernel::alloc::AllocError> {
    use kernel::alloc::flags::{__GFP_ZERO, GFP_KERNEL};
    let mut v = kernel::alloc::KVec::with_capacity(n, GFP_KERNEL | __GFP_ZERO)?;
    // SAFETY: The capacity is at least `n` and the allocator zeroed it (`__GFP_ZERO`; no
    // allocation at all for `n == 0`), and all zeroes is a valid `T` (`Zeroable`).
    unsafe { v.set_len(n) };
    Ok(v)
}

/// An initializer that builds its value with `f` when it runs and moves it into
/// place, or fails with `f`'s error: for data built by fallible steps that is not
/// pinned itself but goes where an `impl PinInit` is asked for (a [`virtio::Driver`]'s
/// probe). The kernel crate of 6.12 has no safe way to turn a `Result` into one.
pub fn try_value<T>(
    f: impl FnOnce() -> kernel::error::Result<T>,
) -> impl kernel::init::PinInit<T, kernel::error::Error> {
    // SAFETY: The closure writes the slot before returning `Ok` and leaves it alone when
    // it returns an error; it never moves the slot's contents afterwards.
    unsafe {
        kernel::init::pin_init_from_closure(move |slot: *mut T| {
            let value = f()?;
            slot.write(value);
            Ok(())
        })
    }
}

/// How an allocation may wait: the two GFP modes a network driver uses.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Gfp {
    /// Cannot sleep (softirq, under a spinlock): `GFP_ATOMIC`.
    Atomic,
    /// May sleep (process context): `GFP_KERNEL`.
    Kernel,
}

impl Gfp {
    /// The raw `gfp_t`.
    pub(crate) fn raw(self) -> crate::bindings::gfp_t {
        match self {
            Gfp::Atomic => crate::bindings::VNR_GFP_ATOMIC,
            Gfp::Kernel => crate::bindings::VNR_GFP_KERNEL,
        }
    }
}

/// Fills `key` with the system's RSS hash key (`netdev_rss_key_fill`): random, drawn
/// once per boot and shared by every device, so flows hash alike on each.
pub fn rss_key_fill(key: &mut [u8]) {
    // SAFETY: `key` is valid for writes of `key.len()` bytes.
    unsafe { crate::bindings::vnr_netdev_rss_key_fill(key.as_mut_ptr().cast(), key.len()) }
}

/// The CPU this runs on (`raw_smp_processor_id`).
pub fn this_cpu() -> usize {
    // SAFETY: No preconditions; a CPU number read without preemption off may be stale
    // by the time it is used, which callers pick queues by, not per-CPU data.
    unsafe { crate::bindings::vnr_raw_smp_processor_id() as usize }
}

/// The number of possible CPU ids (`nr_cpu_ids`): CPU numbers are below it.
pub fn nr_cpu_ids() -> u32 {
    // SAFETY: No preconditions; fixed at boot.
    unsafe { crate::bindings::vnr_nr_cpu_ids() }
}

/// CPUs online now.
pub fn num_online_cpus() -> u32 {
    // SAFETY: No preconditions.
    unsafe { crate::bindings::vnr_num_online_cpus() }
}
