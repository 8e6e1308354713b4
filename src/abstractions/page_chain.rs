// SPDX-License-Identifier: GPL-2.0

//! Chains of whole pages as receive buffers, for the "big packets" mode: a device
//! that may deliver coalesced (guest GSO) packets but no mergeable buffers needs a
//! buffer that holds a whole 64 KiB packet.
//!
//! As in the in-tree driver (`add_recvbuf_big()`, `page_to_skb()`), the pages are
//! chained through `page->private` and offered to the device as one scatter list,
//! header first; the packet becomes one skb whose first bytes are copied into its
//! linear part and whose pages become its fragments, so a buffer never has more
//! pages than an skb has fragments ([`MAX_PAGES`]).

use crate::abstractions::{
    napi::Poll,
    skb::SkBuff,
    virtqueue::{Buffer, Direction, SgList, MAX_SG},
    Gfp,
};
use crate::bindings;
use core::ptr::NonNull;
use kernel::prelude::*;

/// Bytes in a page.
pub const PAGE_SIZE: usize = bindings::VNR_PAGE_SIZE;
/// Most pages in one buffer: each becomes one fragment of the skb.
pub const MAX_PAGES: usize = bindings::VNR_MAX_SKB_FRAGS;

const _: () = assert!(MAX_PAGES <= MAX_SG);

/// A receive buffer of whole pages. How many is the driver's to know (it asks for
/// the same number every time): the buffer does not carry it, so taking a used one
/// back costs no walk of the chain.
///
/// # Invariants
///
/// `first` is the first page of a chain of 1 to `MAX_PAGES` pages, linked through
/// `page->private` (0 after the last), built by `vnr_page_chain_alloc`; this object
/// owns one reference to each page and nothing else refers to the chain.
pub struct RxPages {
    first: NonNull<bindings::page>,
}

// SAFETY: Pages may be used and freed on any CPU.
unsafe impl Send for RxPages {}

impl RxPages {
    /// Allocates a chain of `nr` pages (at least 1, at most [`MAX_PAGES`]).
    pub fn alloc(nr: usize, gfp: Gfp) -> Option<Self> {
        let nr = nr.clamp(1, MAX_PAGES);
        // SAFETY: Allocating pages has no preconditions; with `Gfp::Atomic` it never
        // sleeps, and callers pass `Gfp::Kernel` only where sleeping is allowed.
        let first = unsafe { bindings::vnr_page_chain_alloc(nr as u32, gfp.raw()) };
        // INVARIANT: A non-null result is a fresh chain of `nr` pages.
        Some(Self {
            first: NonNull::new(first)?,
        })
    }

    /// The first `len` bytes of the buffer, as the device wrote them; `None` if `len`
    /// is beyond the first page.
    pub fn head(&self, len: usize) -> Option<&[u8]> {
        if len > PAGE_SIZE {
            return None;
        }
        // SAFETY: The first page is owned and mapped (pages from `alloc_page` without
        // `__GFP_HIGHMEM` are in the direct map); the device is done with it (it was
        // returned by `get_buf`, or never posted).
        let p = unsafe { bindings::vnr_page_address(self.first.as_ptr()) };
        // SAFETY: `p` is the start of the page, `len <= PAGE_SIZE` bytes long.
        Some(unsafe { core::slice::from_raw_parts(p.cast::<u8>(), len) })
    }

    /// Turns the buffer into the packet the device wrote: `used` bytes, the first
    /// `skip` of which (the virtio header) are left out. `None`, with the pages freed,
    /// if `used` is beyond the chain, `skip` beyond `used`, or no skb could be
    /// allocated.
    pub fn into_skb(self, poll: &Poll<'_>, used: usize, skip: usize) -> Option<SkBuff> {
        let (Ok(used32), Ok(skip32)) = (u32::try_from(used), u32::try_from(skip)) else {
            return None;
        };
        let first = self.first;
        core::mem::forget(self);
        // SAFETY: We are in NAPI context (the poll token). The chain is owned and has at
        // most `MAX_SKB_FRAGS` pages (type invariant); the helper reads no further than
        // the chain (it drops a `used` beyond it, or a `skip` beyond `used`) and takes
        // the chain over in every case.
        let skb = unsafe {
            bindings::vnr_page_chain_to_skb(poll.napi().raw(), first.as_ptr(), used32, skip32)
        };
        // SAFETY: A non-null result is a new skb that we own.
        unsafe { SkBuff::from_raw(skb) }
    }
}

impl Drop for RxPages {
    fn drop(&mut self) {
        // SAFETY: We own the chain (type invariant).
        unsafe { bindings::vnr_page_chain_free(self.first.as_ptr()) }
    }
}

// SAFETY: `fill` describes only the chain's pages, which this object owns and which do
// not move; the token is the first page, from which `from_raw` finds the same chain.
unsafe impl Buffer for RxPages {
    const DIRECTION: Direction = Direction::In;

    fn fill(&mut self, sg: &mut SgList<'_>) -> Result {
        let mut p = self.first.as_ptr();
        while !p.is_null() {
            // SAFETY: `p` is a page of the owned chain; its address is in the direct map.
            let addr = unsafe { bindings::vnr_page_address(p) };
            // SAFETY: The whole page is owned by this buffer and does not move.
            unsafe { sg.push(addr.cast::<u8>(), PAGE_SIZE)? };
            // SAFETY: `p` is a page of the owned chain.
            p = unsafe { bindings::vnr_page_chain_next(p) };
        }
        Ok(())
    }

    fn into_raw(self) -> NonNull<core::ffi::c_void> {
        let first = self.first;
        core::mem::forget(self);
        first.cast()
    }

    unsafe fn from_raw(raw: NonNull<core::ffi::c_void>) -> Self {
        // INVARIANT: Per the caller, `raw` is the first page of a chain that `into_raw`
        // gave up.
        Self {
            first: raw.cast::<bindings::page>(),
        }
    }
}
