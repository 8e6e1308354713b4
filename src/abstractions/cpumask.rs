// SPDX-License-Identifier: GPL-2.0

//! CPU masks (`struct cpumask`) the driver builds for interrupt affinity hints and
//! transmit packet steering (XPS).
//!
//! C header: [`include/linux/cpumask.h`](srctree/include/linux/cpumask.h)

use crate::bindings;
use core::mem::MaybeUninit;
use kernel::prelude::*;

/// Bits per word of a `struct cpumask`.
const WORD_BITS: u32 = core::ffi::c_ulong::BITS;

/// A CPU mask of the driver's own, on the heap: with `NR_CPUS` up to 8192 it is
/// too large for the stack, which is what `cpumask_var_t` handles in C.
///
/// # Invariants
///
/// Only bits below `nr_cpu_ids` are set.
pub struct CpuMask(KBox<bindings::cpumask>);

impl CpuMask {
    /// `count` online CPUs from the `first`-th on, in the order of the online mask
    /// and wrapping round it; `None` if that picks no CPU (none online, `count` 0).
    pub fn online(first: u32, count: u32) -> Result<Option<Self>> {
        let mut mask = KBox::<bindings::cpumask>::new_uninit(GFP_KERNEL)?;
        // SAFETY: `mask` is valid for writes of one `cpumask`.
        unsafe { core::ptr::write_bytes(mask.as_mut_ptr(), 0, 1) };
        // SAFETY: All-zero bytes are a valid, empty `struct cpumask` (an array of
        // words), written just above.
        let mut mask = unsafe { KBox::<MaybeUninit<_>>::assume_init(mask) };
        // SAFETY: No preconditions.
        let (online, nr_cpu_ids) =
            unsafe { (bindings::vnr_num_online_cpus(), bindings::vnr_nr_cpu_ids()) };
        let mut any = false;
        for i in 0..count.min(online) {
            // SAFETY: No preconditions; an index past the online CPUs gives
            // `nr_cpu_ids` or more, which is skipped.
            let cpu = unsafe { bindings::vnr_cpumask_nth_online((first % online + i) % online) };
            if cpu >= nr_cpu_ids {
                continue;
            }
            if let Some(w) = mask.bits.get_mut((cpu / WORD_BITS) as usize) {
                *w |= 1 << (cpu % WORD_BITS);
                any = true;
            }
        }
        // INVARIANT: only CPUs below `nr_cpu_ids` were set.
        Ok(any.then(|| Self(mask)))
    }

    pub(crate) fn as_raw(&self) -> *const bindings::cpumask {
        &*self.0
    }
}
