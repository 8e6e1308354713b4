// SPDX-License-Identifier: GPL-2.0

//! Page-fragment receive buffers, for mergeable receive buffers
//! (`VIRTIO_NET_F_MRG_RXBUF`), and the packets built from them.
//!
//! A buffer is a piece of a page cut by the ring's own [`PageFrag`], aligned to
//! [`FRAG_ALIGN`] and a multiple of it in size, so the size rides in the low bits of
//! the token the virtio core keeps (the in-tree driver keeps it in the virtqueue's
//! per-buffer context instead). The device
//! writes a header and the start of a packet into the first buffer, and says in the
//! header how many buffers the packet spans. The packet becomes one skb: a packet of
//! up to [`COPY_LEN`] bytes is copied into a new skb; a longer one with room left in
//! its first buffer becomes an skb around that buffer; otherwise only the Ethernet
//! header is copied and the buffers are page fragments, chained through the frag list
//! when there are more than `MAX_SKB_FRAGS` (C: `drivers/net/virtio_net.c`,
//! `page_to_skb()` and `receive_mergeable()`).
//!
//! C headers: [`include/linux/skbuff.h`](srctree/include/linux/skbuff.h),
//! [`include/linux/gfp.h`](srctree/include/linux/gfp.h)

use crate::abstractions::{
    napi::Poll,
    skb::SkBuff,
    virtqueue::{Buffer, Direction, SgList},
};
use crate::bindings;
use core::ptr::NonNull;
use kernel::prelude::*;

/// Alignment and size granule of a fragment.
pub const FRAG_ALIGN: usize = bindings::VNR_RX_FRAG_ALIGN as usize;
/// Largest fragment: one page (the size must fit the token's low bits).
pub const FRAG_MAX: usize = bindings::VNR_PAGE_SIZE;
/// Longest packet copied whole into a new skb (the in-tree `GOOD_COPY_LEN`).
pub const COPY_LEN: usize = bindings::VNR_RX_COPY_LEN as usize;

const _: () = assert!(FRAG_MAX / FRAG_ALIGN <= FRAG_ALIGN);

/// The page a receive ring cuts its buffers from, front to back (`struct page_frag`,
/// as the in-tree driver's per-queue `alloc_frag`; 32 KiB when the allocator has
/// them). The buffers of one packet are cut one after another, so they are adjacent
/// and become one skb fragment per page (`skb_can_coalesce`): a 58 KiB TCP packet is
/// two or three fragments, and the stack can still merge two such packets into one
/// skb. The kernel's shared caches (`napi_alloc_frag`) cut pages from the end
/// backwards, which made every 4 KiB buffer a fragment of its own (about 15 per such
/// packet), too many for TCP to merge them (`TCPRcvCoalesce` a third of the in-tree
/// driver's in `tcp1_rx`).
///
/// # Invariants
///
/// `raw.page` is null or a page of which this object owns one reference, with
/// `raw.offset <= raw.size` and `raw.size` at most the page's size.
pub struct PageFrag {
    raw: bindings::page_frag,
}

// SAFETY: A page reference may be used and dropped on any CPU.
unsafe impl Send for PageFrag {}

impl PageFrag {
    /// No page yet: the first allocation gets one.
    pub fn new() -> Self {
        // INVARIANT: A null page.
        Self {
            raw: bindings::page_frag::default(),
        }
    }
}

impl Drop for PageFrag {
    fn drop(&mut self) {
        // SAFETY: The page reference, if any, is ours (type invariant).
        unsafe { bindings::vnr_page_frag_release(&mut self.raw) }
    }
}

/// A receive buffer: one page fragment of `len` bytes.
///
/// # Invariants
///
/// `addr` is the start of a piece of a page cut by a [`PageFrag`], of which this
/// object owns one page reference, `FRAG_ALIGN`-aligned and `len` bytes long, with
/// `len` a multiple of `FRAG_ALIGN` in `FRAG_ALIGN..=FRAG_MAX`.
pub struct RxFrag {
    addr: NonNull<u8>,
    len: usize,
}

// SAFETY: A page fragment may be used and freed on any CPU.
unsafe impl Send for RxFrag {}

impl RxFrag {
    /// The size a buffer asked for `len` bytes gets: rounded up to [`FRAG_ALIGN`],
    /// at most [`FRAG_MAX`].
    pub fn granted_len(len: usize) -> usize {
        len.clamp(1, FRAG_MAX).next_multiple_of(FRAG_ALIGN)
    }

    /// Cuts a buffer of at least `len` bytes (rounded up to [`FRAG_ALIGN`], at most
    /// [`FRAG_MAX`]) from `pf`, right behind the previous one when it fits. Never
    /// sleeps.
    pub fn alloc(pf: &mut PageFrag, len: usize) -> Option<Self> {
        let len = Self::granted_len(len);
        // SAFETY: `pf.raw` is a valid `page_frag` (type invariant) that nobody else uses
        // meanwhile (borrowed mutably); `len` is a multiple of `FRAG_ALIGN`, as the
        // helper requires.
        let p = unsafe { bindings::vnr_page_frag_alloc(&mut pf.raw, len as u32) };
        let addr = NonNull::new(p.cast::<u8>())?;
        // INVARIANT: A non-null result is `len` bytes of a page with a reference of its
        // own, at an offset that is a sum of multiples of `FRAG_ALIGN` from the start of
        // a page, hence aligned.
        Some(Self { addr, len })
    }

    /// A new skb holding a copy of bytes `skip..used` of the buffer, a whole packet of
    /// at most [`COPY_LEN`] bytes; the buffer stays the caller's, to be posted again.
    /// `None` if the packet is longer, `used` beyond the buffer, or no skb could be
    /// allocated.
    pub fn copy_to_skb(&self, poll: &Poll<'_>, used: usize, skip: usize) -> Option<SkBuff> {
        let bytes = self.filled(used)?.get(skip..)?;
        if bytes.len() > COPY_LEN {
            return None;
        }
        // SAFETY: We are in NAPI context (the poll token); `bytes` is valid for reads of
        // its length, at most `COPY_LEN` (checked above).
        let skb = unsafe {
            bindings::vnr_rx_copy_skb(poll.napi().raw(), bytes.as_ptr().cast(), bytes.len() as u32)
        };
        // SAFETY: A non-null result is a new skb that we own.
        unsafe { SkBuff::from_raw(skb) }
    }

    /// Bytes offered to the device.
    pub fn capacity(&self) -> usize {
        self.len
    }

    /// The first `used` bytes, as the device wrote them; `None` if `used` is beyond
    /// the buffer (a lying device).
    pub fn filled(&self, used: usize) -> Option<&[u8]> {
        if used > self.len {
            return None;
        }
        // SAFETY: The fragment is owned and `used <= len` bytes long; the device is done
        // with it (it was returned by `get_buf`, or never posted).
        Some(unsafe { core::slice::from_raw_parts(self.addr.as_ptr(), used) })
    }

    fn into_parts(self) -> (NonNull<u8>, usize) {
        let parts = (self.addr, self.len);
        core::mem::forget(self);
        parts
    }
}

impl Drop for RxFrag {
    fn drop(&mut self) {
        // SAFETY: We own one reference to the fragment's page.
        unsafe { bindings::vnr_skb_free_frag(self.addr.as_ptr().cast()) }
    }
}

// SAFETY: `fill` describes only the fragment, which this object owns and which does
// not move; the token is the fragment's address with `len / FRAG_ALIGN - 1` in the low
// bits (the address is `FRAG_ALIGN`-aligned and `len / FRAG_ALIGN <= FRAG_ALIGN`), which
// `from_raw` decodes back into the same buffer.
unsafe impl Buffer for RxFrag {
    const DIRECTION: Direction = Direction::In;

    fn fill(&mut self, sg: &mut SgList<'_>) -> Result {
        // SAFETY: The fragment is owned and `len` bytes long.
        unsafe { sg.push(self.addr.as_ptr(), self.len) }
    }

    fn into_raw(self) -> NonNull<core::ffi::c_void> {
        let (addr, len) = self.into_parts();
        let tag = len / FRAG_ALIGN - 1;
        // SAFETY: `addr` is non-null and `FRAG_ALIGN`-aligned and `tag < FRAG_ALIGN`, so
        // adding the tag sets its low bits (`addr | tag`) and stays inside the
        // fragment's first `FRAG_ALIGN` bytes: the result is non-null like `addr`.
        unsafe { NonNull::new_unchecked(addr.as_ptr().wrapping_add(tag)) }.cast()
    }

    unsafe fn from_raw(raw: NonNull<core::ffi::c_void>) -> Self {
        let tag = raw.as_ptr() as usize & (FRAG_ALIGN - 1);
        // INVARIANT: Per the caller, `raw` came from `into_raw`: clearing the tag gives the
        // fragment's address back and the tag its length.
        Self {
            // SAFETY: The fragment's address is non-null, aligned to `FRAG_ALIGN`;
            // subtracting the tag clears the low bits (`raw & !(FRAG_ALIGN - 1)`).
            addr: unsafe { NonNull::new_unchecked(raw.as_ptr().cast::<u8>().wrapping_sub(tag)) },
            len: (tag + 1) * FRAG_ALIGN,
        }
    }
}

/// A packet being assembled from one or more receive buffers.
///
/// # Invariants
///
/// `curr` is `head` or the last skb of `head`'s frag list, owned through `head`.
pub struct MergedSkb {
    head: SkBuff,
    curr: NonNull<bindings::sk_buff>,
}

impl MergedSkb {
    /// Starts a packet with `frag`'s bytes `skip..used` (the header, `skip` bytes, is
    /// left out). Returns the buffer back if `used` is beyond it, `skip` beyond `used`,
    /// or no skb could be allocated.
    pub fn new(poll: &Poll<'_>, frag: RxFrag, used: usize, skip: usize) -> Result<Self, RxFrag> {
        if used > frag.len || skip > used {
            return Err(frag);
        }
        let truesize = frag.len;
        let (addr, len) = frag.into_parts();
        // SAFETY: We are in NAPI context (the poll token). The fragment at `addr` is owned,
        // `truesize` bytes long, with `used` bytes written by the device and
        // `skip <= used <= truesize` (checked above); on success the helper takes over the
        // fragment's page reference (as the skb's head or its fragment 0).
        let skb = unsafe {
            bindings::vnr_rx_head_skb(
                poll.napi().raw(),
                addr.as_ptr().cast(),
                skip as u32,
                (used - skip) as u32,
                truesize as u32,
            )
        };
        match NonNull::new(skb) {
            Some(p) => Ok(Self {
                // SAFETY: The helper returned a new skb that we own.
                head: unsafe { SkBuff::from_non_null(p) },
                curr: p,
            }),
            // INVARIANT: The helper left the fragment alone: give it back.
            None => Err(RxFrag { addr, len }),
        }
    }

    /// Appends `frag`'s first `used` bytes. Returns the buffer back if `used` is beyond
    /// it or a chained skb could not be allocated.
    pub fn append(&mut self, frag: RxFrag, used: usize) -> Result<(), RxFrag> {
        if used > frag.len {
            return Err(frag);
        }
        let truesize = frag.len;
        let (addr, len) = frag.into_parts();
        // SAFETY: `head` is owned and `curr` is its last skb (type invariant); the fragment
        // is owned with `used` bytes written; on success its page reference passes to the
        // packet.
        let curr = unsafe {
            bindings::vnr_skb_append_frag(
                self.head.as_raw(),
                self.curr.as_ptr(),
                addr.as_ptr().cast(),
                used as u32,
                truesize as u32,
            )
        };
        match NonNull::new(curr) {
            Some(c) => {
                // INVARIANT: The helper returns the packet's new last skb.
                self.curr = c;
                Ok(())
            }
            None => Err(RxFrag { addr, len }),
        }
    }

    /// The assembled packet.
    pub fn finish(self) -> SkBuff {
        self.head
    }
}
