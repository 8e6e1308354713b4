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
//!
//! C headers: [`include/linux/mm.h`](srctree/include/linux/mm.h),
//! [`include/linux/skbuff.h`](srctree/include/linux/skbuff.h)

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
/// Bytes copied into the linear part of a packet's skb (the headers, as in-tree).
const RX_COPY_LEN: usize = bindings::VNR_RX_COPY_LEN as usize;

const _: () = assert!(MAX_PAGES <= MAX_SG);

/// A receive buffer of whole pages. How many is the driver's to know (it asks for
/// the same number every time): the buffer does not carry it, so taking a used one
/// back costs no walk of the chain.
///
/// # Invariants
///
/// `first` is the first page of a chain of 1 to `MAX_PAGES` pages, linked through
/// `page->private` (0 after the last), built by [`RxPages::alloc`]; this object
/// owns one reference to each page and nothing else refers to the chain.
pub struct RxPages {
    first: NonNull<bindings::page>,
}

// SAFETY: Pages may be used and freed on any CPU.
unsafe impl Send for RxPages {}

/// The page after `p` in its chain (null after the last).
///
/// # Safety
///
/// `p` must be a page of a chain owned by the caller.
unsafe fn next(p: *mut bindings::page) -> *mut bindings::page {
    // SAFETY: Per the caller, `p` is a valid page whose `private` links the chain.
    unsafe { bindings::vnr_page_private(p) as *mut bindings::page }
}

/// Unlinks `p` from its chain and drops the caller's reference to it; returns the
/// next page.
///
/// # Safety
///
/// `p` must be a page of a chain owned by the caller, which gives up that page.
unsafe fn release(p: *mut bindings::page) -> *mut bindings::page {
    // SAFETY: Per the caller.
    let n = unsafe { next(p) };
    // SAFETY: The page is the caller's to give up; `private` is cleared first, as the
    // page allocator expects of a page it gets back.
    unsafe {
        bindings::vnr_set_page_private(p, 0);
        bindings::vnr_put_page(p);
    }
    n
}

/// Frees every page of the chain starting at `p` (which may be null).
///
/// # Safety
///
/// `p` must be null or the first page of a chain owned by the caller, which gives
/// it up.
unsafe fn free_chain(mut p: *mut bindings::page) {
    while !p.is_null() {
        // SAFETY: Per the caller; each page is given up once.
        p = unsafe { release(p) };
    }
}

impl RxPages {
    /// Allocates a chain of `nr` pages (at least 1, at most [`MAX_PAGES`]).
    pub fn alloc(nr: usize, gfp: Gfp) -> Option<Self> {
        let mut first: *mut bindings::page = core::ptr::null_mut();
        for _ in 0..nr.clamp(1, MAX_PAGES) {
            // SAFETY: Allocating a page has no preconditions; with `Gfp::Atomic` it never
            // sleeps, and callers pass `Gfp::Kernel` only where sleeping is allowed.
            let p = unsafe { bindings::vnr_alloc_page(gfp.raw()) };
            if p.is_null() {
                // SAFETY: `first` is null or the chain built so far, owned here.
                unsafe { free_chain(first) };
                return None;
            }
            // SAFETY: `p` is a fresh page of ours; its `private` is free for the owner's
            // use. Pushing at the front links it to the chain built so far.
            unsafe { bindings::vnr_set_page_private(p, first as usize) };
            first = p;
        }
        // INVARIANT: A chain of 1 to `MAX_PAGES` fresh pages, linked through `private`.
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
    /// `skip` of which (the virtio header) are left out. As in-tree `page_to_skb()`,
    /// up to [`RX_COPY_LEN`] bytes are copied into the linear part and the rest of
    /// each page becomes a fragment; pages the packet did not reach are freed.
    /// `None`, with the pages freed, if `used` is beyond the chain, `skip` beyond
    /// `used`, or no skb could be allocated.
    pub fn into_skb(self, poll: &Poll<'_>, used: usize, skip: usize) -> Option<SkBuff> {
        if skip > used || skip + RX_COPY_LEN > PAGE_SIZE {
            return None;
        }
        // SAFETY: NAPI context (the poll token); a non-null result is a new skb, ours.
        let skb = unsafe {
            SkBuff::from_raw(bindings::napi_alloc_skb(
                poll.napi().raw(),
                RX_COPY_LEN as u32,
            ))
        }?;
        let first = self.first.as_ptr();
        core::mem::forget(self);
        let mut left = used - skip;
        let copy = left.min(RX_COPY_LEN);
        // SAFETY: The first page is owned and mapped, and the device is done with it;
        // `skip + copy <= PAGE_SIZE` (checked above); the new skb has `RX_COPY_LEN`
        // bytes of tailroom.
        unsafe {
            let src = bindings::vnr_page_address(first).cast::<u8>().add(skip);
            bindings::vnr_skb_put_data(skb.as_raw(), src.cast(), copy as u32);
        }
        left -= copy;
        let mut offset = skip + copy;
        let mut frags = 0;
        let mut p = first;
        while !p.is_null() {
            if left > 0 && offset < PAGE_SIZE && frags < MAX_PAGES {
                let len = left.min(PAGE_SIZE - offset);
                // SAFETY: `p` is a page of the owned chain; reading the link before the
                // skb takes the page over.
                let n = unsafe { next(p) };
                // SAFETY: The skb takes over our reference to `p` (unlinked first) as
                // fragment `frags`, below `MAX_SKB_FRAGS`, of `len` bytes from `offset`,
                // within the page; the skb is new, so its fragments are ours to add.
                unsafe {
                    bindings::vnr_set_page_private(p, 0);
                    bindings::vnr_skb_add_rx_frag(
                        skb.as_raw(),
                        frags as i32,
                        p,
                        offset as i32,
                        len as i32,
                        PAGE_SIZE as u32,
                    );
                }
                frags += 1;
                left -= len;
                p = n;
            } else {
                // SAFETY: `p` is a page of the owned chain the packet did not reach.
                p = unsafe { release(p) };
            }
            offset = 0;
        }
        // A `used` beyond the chain: the skb (and the pages it took) is dropped.
        (left == 0).then_some(skb)
    }
}

impl Drop for RxPages {
    fn drop(&mut self) {
        // SAFETY: We own the chain (type invariant).
        unsafe { free_chain(self.first.as_ptr()) }
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
            p = unsafe { next(p) };
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
