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
    Gfp,
};
use crate::bindings;
use core::ptr::NonNull;
use kernel::prelude::*;

/// Alignment and size granule of a fragment.
pub const FRAG_ALIGN: usize = bindings::VNR_RX_FRAG_ALIGN as usize;
/// Largest fragment: one page (the size must fit the token's low bits).
pub const FRAG_MAX: usize = bindings::VNR_PAGE_SIZE;
// `RxFrag::granted_len` rounds up with a mask.
const _: () = assert!(FRAG_ALIGN.is_power_of_two() && FRAG_MAX % FRAG_ALIGN == 0);
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
        if !self.raw.page.is_null() {
            // SAFETY: We own one reference to the page (type invariant), given up here;
            // buffers cut from it hold their own.
            unsafe { bindings::vnr_put_page(self.raw.page) }
        }
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
    // A mask, not `next_multiple_of`: its overflow check was not optimised away, and
    // left a panic path (and its 105-byte source path) in the module for a sum that
    // cannot overflow once clamped.
    pub fn granted_len(len: usize) -> usize {
        (len.clamp(1, FRAG_MAX) + (FRAG_ALIGN - 1)) & !(FRAG_ALIGN - 1)
    }

    /// Cuts a buffer of at least `len` bytes (rounded up to [`FRAG_ALIGN`], at most
    /// [`FRAG_MAX`]) from `pf`, right behind the previous one when it fits. Never
    /// sleeps. Inlined: the refill calls it once per buffer it posts.
    #[inline(always)]
    pub fn alloc(pf: &mut PageFrag, len: usize) -> Option<Self> {
        let len = Self::granted_len(len);
        // SAFETY: `pf.raw` is a valid `page_frag` (type invariant) that nobody else uses
        // meanwhile (borrowed mutably). On success the kernel leaves a page of which
        // `pf` owns a reference with at least `len` bytes behind `offset`.
        if !unsafe { bindings::skb_page_frag_refill(len as u32, &mut pf.raw, Gfp::Atomic.raw()) } {
            return None;
        }
        let page = pf.raw.page;
        // SAFETY: `page` is a valid page (refilled above), mapped: pages of a
        // `page_frag` come from the kernel's direct map.
        let base = unsafe { bindings::vnr_page_address(page) }.cast::<u8>();
        // SAFETY: `offset + len <= size`, at most the page's size (refill and type
        // invariant): the result is inside the page.
        let addr = NonNull::new(unsafe { base.add(pf.raw.offset as usize) })?;
        // SAFETY: `page` is valid; the new reference belongs to the buffer.
        unsafe { bindings::vnr_get_page(page) };
        // INVARIANT: `offset` stays within `size`; the buffer is `len` bytes of the page
        // with a reference of its own, at an offset that is a sum of multiples of
        // `FRAG_ALIGN` from the start of a page, hence aligned.
        pf.raw.offset += len as u32;
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
        let skb = alloc_rx_skb(poll)?;
        // SAFETY: The skb is new and ours, with `COPY_LEN` bytes of tailroom, at least
        // `bytes.len()` (checked above); `bytes` is valid for reads of its length.
        unsafe {
            bindings::vnr_skb_put_data(skb.as_raw(), bytes.as_ptr().cast(), bytes.len() as u32)
        };
        Some(skb)
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

    /// Start of the buffer.
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.addr.as_ptr()
    }

    /// Gives up the page reference without dropping it: whoever took the buffer over
    /// (an skb, another device) frees it.
    pub(crate) fn forget(self) {
        core::mem::forget(self);
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
    /// left out), as the in-tree `page_to_skb()`: a packet longer than [`COPY_LEN`]
    /// that leaves room for the shared info behind it becomes the skb's head where it
    /// lies (no copy, no second allocation). Otherwise a packet that fits a
    /// [`COPY_LEN`] skb is copied whole, and of a longer one only the Ethernet header:
    /// the rest stays in the page as fragment 0, and `virtio_net_hdr_to_skb()` and GRO
    /// pull the headers they need, so no payload lands in the linear part (GRO and TCP
    /// then merge packets by their page fragments instead of stealing heads). Returns
    /// the buffer back if `used` is beyond it, `skip` beyond `used`, or no skb could be
    /// allocated.
    pub fn new(poll: &Poll<'_>, frag: RxFrag, used: usize, skip: usize) -> Result<Self, RxFrag> {
        if used > frag.len || skip > used {
            return Err(frag);
        }
        let len = used - skip;
        if len > COPY_LEN && frag.len - used >= SHINFO_SIZE {
            let (head, truesize) = (frag.addr.as_ptr().cast(), frag.len as u32);
            // SAFETY: We are in NAPI context (the poll token); the fragment is owned,
            // `frag.len` bytes long, with room for the shared info behind the `used`
            // bytes the device wrote (checked above). On success the skb owns the
            // fragment's page reference as its head.
            let skb = unsafe { bindings::napi_build_skb(head, truesize) };
            let Some(p) = NonNull::new(skb) else {
                return Err(frag);
            };
            frag.into_parts();
            // SAFETY: The skb is new and ours; its head is the whole fragment, so the
            // `skip + len = used` bytes reserved and put are inside it.
            let head = unsafe {
                bindings::vnr_skb_reserve(skb, skip as i32);
                bindings::skb_put(skb, len as u32);
                SkBuff::from_non_null(p)
            };
            // INVARIANT: `curr` is `head`.
            return Ok(Self { head, curr: p });
        }
        let Some(head) = alloc_rx_skb(poll) else {
            return Err(frag);
        };
        let skb = head.as_raw();
        // SAFETY: The skb is new and ours.
        let room = unsafe { bindings::vnr_skb_tailroom(skb) } as usize;
        let copy = if len <= room {
            len
        } else {
            bindings::ETH_HLEN as usize
        };
        // SAFETY: `skip + len = used` bytes of the fragment were written by the device
        // (checked above); `copy <= len`.
        let data = unsafe { frag.addr.as_ptr().add(skip) };
        // SAFETY: `copy` bytes fit the new skb's tailroom (`len` when `len <= room`, else
        // `ETH_HLEN`, below the `COPY_LEN` it was allocated with); `data` holds them.
        unsafe { bindings::vnr_skb_put_data(skb, data.cast(), copy as u32) };
        if len > copy {
            // SAFETY: The skb has no fragment yet; `data + copy` lies in the fragment's
            // page, `len - copy` bytes written behind it. Its page reference passes to the
            // skb as fragment 0, accounted with the whole buffer's `truesize`.
            unsafe { add_frag(skb, 0, data.add(copy), len - copy, frag.len) };
            frag.into_parts();
        }
        // INVARIANT: `curr` is `head`. A packet copied whole drops `frag` here, which
        // frees the buffer.
        let curr = head.as_non_null();
        Ok(Self { head, curr })
    }

    /// Appends `frag`'s first `used` bytes as in the in-tree `receive_mergeable()`: a
    /// fragment adjacent to the previous one is coalesced with it, a full skb gets a new
    /// one chained behind it. Returns the buffer back if `used` is beyond it or a chained
    /// skb could not be allocated.
    pub fn append(&mut self, frag: RxFrag, used: usize) -> Result<(), RxFrag> {
        if used > frag.len {
            return Err(frag);
        }
        let head = self.head.as_raw();
        let mut curr = self.curr.as_ptr();
        // SAFETY: `curr` is owned through `head` (type invariant).
        let mut nr = unsafe { (*bindings::vnr_skb_shinfo(curr)).nr_frags } as usize;
        if nr >= bindings::VNR_MAX_SKB_FRAGS {
            // SAFETY: Allocating an skb has no precondition; GFP_ATOMIC never sleeps.
            let next = NonNull::new(unsafe { bindings::vnr_alloc_skb(0, Gfp::Atomic.raw()) });
            let Some(next) = next else {
                return Err(frag);
            };
            // SAFETY: `head` and `curr` are owned (type invariant) and `curr` is the last
            // skb of the packet, with no frag list of its own when it is not `head`; the
            // new skb becomes the packet's, chained behind `curr`, and its size counts
            // towards the head's.
            unsafe {
                if curr == head {
                    (*bindings::vnr_skb_shinfo(curr)).frag_list = next.as_ptr();
                } else {
                    (*curr).__bindgen_anon_1.__bindgen_anon_1.next = next.as_ptr();
                }
                (*head).truesize += (*next.as_ptr()).truesize;
            }
            // INVARIANT: The new skb is the last of `head`'s frag list.
            self.curr = next;
            curr = next.as_ptr();
            nr = 0;
        }
        if curr != head {
            // SAFETY: `head` is owned; its length counts the chained skbs' bytes.
            unsafe {
                (*head).data_len += used as u32;
                (*head).len += used as u32;
                (*head).truesize += frag.len as u32;
            }
        }
        // SAFETY: `curr` is owned, with `nr` fragments, below `MAX_SKB_FRAGS`; the
        // fragment is owned with `used` bytes written, and its page reference passes to
        // `curr` (or is dropped when coalesced with the previous fragment).
        unsafe { add_frag(curr, nr, frag.addr.as_ptr(), used, frag.len) };
        frag.into_parts();
        Ok(())
    }

    /// The assembled packet.
    pub fn finish(self) -> SkBuff {
        self.head
    }
}

/// The skb's shared info's size as `napi_build_skb()` needs it behind the data.
const SHINFO_SIZE: usize = bindings::VNR_SKB_SHINFO_SIZE;

/// A new skb for a copied packet or packet head: [`COPY_LEN`] bytes of tailroom.
fn alloc_rx_skb(poll: &Poll<'_>) -> Option<SkBuff> {
    // SAFETY: We are in NAPI context (the poll token).
    let skb = unsafe { bindings::napi_alloc_skb(poll.napi().raw(), COPY_LEN as u32) };
    // SAFETY: A non-null result is a new skb that we own.
    unsafe { SkBuff::from_raw(skb) }
}

/// Adds `len` bytes at `addr` to `skb` as fragment `nr`, or grows fragment `nr - 1`
/// when they follow it in the same page (`skb_can_coalesce`), accounting `truesize`.
///
/// # Safety
///
/// `skb` must be owned, with `nr` fragments, `nr < MAX_SKB_FRAGS`; `addr` must be in
/// a page fragment (a direct-mapped page) with `len` valid bytes, whose page reference
/// the caller gives to the skb.
unsafe fn add_frag(
    skb: *mut bindings::sk_buff,
    nr: usize,
    addr: *mut u8,
    len: usize,
    truesize: usize,
) {
    // SAFETY: `addr` is in a direct-mapped page (function safety requirements).
    let page = unsafe { bindings::vnr_virt_to_head_page(addr.cast()) };
    // SAFETY: `page` is valid (the head page of `addr`'s).
    let base = unsafe { bindings::vnr_page_address(page) };
    let off = addr as usize - base as usize;
    // SAFETY: `skb` is owned with `nr` fragments; `page` and `off` describe `len` valid
    // bytes whose page reference is ours to give (function safety requirements). When
    // coalescing, the previous fragment already holds a reference to the page, so ours
    // is dropped.
    unsafe {
        if bindings::vnr_skb_can_coalesce(skb, nr as i32, page, off as i32) {
            bindings::vnr_put_page(page);
            bindings::skb_coalesce_rx_frag(skb, nr as i32 - 1, len as i32, truesize as u32);
        } else {
            bindings::vnr_skb_add_rx_frag(
                skb,
                nr as i32,
                page,
                off as i32,
                len as i32,
                truesize as u32,
            );
        }
    }
}
