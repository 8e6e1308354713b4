// SPDX-License-Identifier: GPL-2.0

//! AF_XDP zero-copy: the buffer pool of a socket bound to one queue, the receive
//! buffers taken from it and the transmit descriptors it hands out.
//!
//! The device reads and writes the socket's memory (its UMEM) directly, but not
//! through the pool's DMA addresses: the buffers go to the virtio core as pages,
//! which it maps for each buffer and unmaps when the device is done, as it does
//! every other buffer. In 6.12 a virtqueue switched to premapped DMA cannot be
//! switched back, and a receive queue must take ordinary buffers again when the
//! socket goes. The pool is DMA-mapped all the same (the AF_XDP core refuses
//! zero-copy otherwise), and its CPU syncs are never used.
//!
//! C header: [`include/net/xdp_sock_drv.h`](srctree/include/net/xdp_sock_drv.h)

use super::napi::Poll;
use super::netdev::{NetDev, Operations};
use super::skb::{SkBuff, TxSkb, TX_HDR_MAX};
use super::virtqueue::{Buffer, Direction, SgList, Virtqueue};
use super::xdp::{Action, BpfProg, RxqInfo};
use crate::bindings;
use core::cell::UnsafeCell;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering};
use kernel::error::to_result;
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::sync::Arc;

/// `ndo_xsk_wakeup`'s flags: what the socket asks the driver to do.
pub mod wakeup {
    use crate::bindings;
    /// It filled its fill ring: post receive buffers again.
    pub const RX: u32 = bindings::VNR_XDP_WAKEUP_RX;
    /// It queued frames: send them.
    pub const TX: u32 = bindings::VNR_XDP_WAKEUP_TX;
}

/// Whether the driver mapped `pool` for DMA (`xsk_pool_dma_map`), which the AF_XDP
/// core requires of a zero-copy bind: without it, the core would not ask for the
/// unbind, and the glue's wait for the pool's handles would not run.
pub(crate) fn dma_mapped(pool: &XskPool) -> bool {
    // SAFETY: The pool is valid (type invariant).
    unsafe { bindings::vnr_xsk_pool_dma_mapped(pool.raw()) }
}

/// What the handles to one bound pool share: their count, which the glue waits on
/// after the unbind, and the all-zero virtio-net header every transmitted frame
/// goes behind (allocated with it, so the device can read it).
pub(crate) struct XskShared {
    live: AtomicUsize,
    pool: NonNull<bindings::xsk_buff_pool>,
    zero_hdr: [u8; TX_HDR_MAX],
}

// SAFETY: The pool pointer is used only by handles (see `XskPool`), from any CPU.
unsafe impl Send for XskShared {}
// SAFETY: As above.
unsafe impl Sync for XskShared {}

/// One counted reference to a bound pool's [`XskShared`]: the glue's wait after
/// the unbind lasts as long as one exists.
struct Held(Arc<XskShared>);

impl Held {
    fn new(shared: &Arc<XskShared>) -> Self {
        shared.live.fetch_add(1, Ordering::Relaxed);
        Self(shared.clone())
    }
}

impl Clone for Held {
    fn clone(&self) -> Self {
        Self::new(&self.0)
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        // Release: pairs with the acquire of the glue's wait, so what the holder did
        // with the pool happened before the pool goes.
        self.0.live.fetch_sub(1, Ordering::Release);
    }
}

/// The buffer pool of an AF_XDP socket bound to a queue in zero-copy mode: one
/// counted handle to it.
///
/// The pool is freed once its unbind call returns, so no handle may outlive that
/// call: the glue counts the handles of each bound pool ([`XskBindings`]) and, after
/// the driver's unbind, waits until the driver has dropped them all, with the
/// socket's frames still on a transmit ring ([`XskTx`] holds a handle too). A
/// handle kept by mistake then hangs the unbind, with a message, instead of
/// dangling.
///
/// # Invariants
///
/// `raw` is a valid pool for as long as `held` is counted: the glue does not let
/// the unbind call for its queue return before the count is zero.
#[derive(Clone)]
pub struct XskPool {
    raw: NonNull<bindings::xsk_buff_pool>,
    held: Held,
}

// SAFETY: A pool may be used from any CPU; its rings serialise their users (one
// receive and one transmit context per queue, which the driver's locks provide).
unsafe impl Send for XskPool {}
// SAFETY: As above.
unsafe impl Sync for XskPool {}

/// The pools bound to a device's queues, each with what its handles share (an
/// entry per queue that was ever bound; `None` while unbound).
///
/// # Invariants
///
/// Used only under the RTNL lock (`ndo_bpf`), or with the device gone.
pub(crate) struct XskBindings(UnsafeCell<KVec<(u16, Option<Arc<XskShared>>)>>);

impl XskBindings {
    /// No pool bound.
    pub(crate) const fn new() -> Self {
        Self(UnsafeCell::new(KVec::new()))
    }

    /// Counts pool `raw` as bound to `queue`, and gives its first handle.
    ///
    /// # Safety
    ///
    /// The RTNL lock is held; `raw` is the pool of an `XDP_SETUP_XSK_POOL` call for
    /// `queue`, valid until the unbind call for that queue returns, which must go
    /// through [`XskBindings::unbind`].
    pub(crate) unsafe fn bind(
        &self,
        queue: u16,
        raw: NonNull<bindings::xsk_buff_pool>,
    ) -> Result<XskPool> {
        let shared = Arc::new(
            XskShared {
                live: AtomicUsize::new(0),
                pool: raw,
                zero_hdr: [0; TX_HDR_MAX],
            },
            GFP_KERNEL,
        )?;
        let held = Held::new(&shared);
        // SAFETY: Under RTNL (the caller's guarantee), the only user of the list.
        let list = unsafe { &mut *self.0.get() };
        match list.iter_mut().find(|(q, _)| *q == queue) {
            // The core unbinds a queue before it binds it again.
            Some((_, slot)) if slot.is_none() => *slot = Some(shared),
            Some(_) => return Err(EBUSY),
            None => list.push((queue, Some(shared)), GFP_KERNEL)?,
        }
        // INVARIANT: Counted until `unbind` for `queue` sees no handle left.
        Ok(XskPool { raw, held })
    }

    /// Forgets the pool of `queue` once the driver has dropped every handle to it,
    /// waiting (it may sleep) for those it still holds. Call it after the driver's
    /// unbind, or after its bind failed.
    ///
    /// # Safety
    ///
    /// The RTNL lock is held.
    pub(crate) unsafe fn unbind(&self, queue: u16, name: &CStr) {
        // SAFETY: Under RTNL (the caller's guarantee), the only user of the list.
        let list = unsafe { &mut *self.0.get() };
        let Some(shared) = list
            .iter_mut()
            .find(|(q, _)| *q == queue)
            .and_then(|(_, c)| c.take())
        else {
            return;
        };
        let mut waited = 0u32;
        // Acquire: pairs with the release of `Held::drop`.
        while shared.live.load(Ordering::Acquire) != 0 {
            if waited == 0 {
                crate::log_err!(
                    "%s: driver still holds the AF_XDP pool of queue %llu after unbinding it; waiting\n",
                    name,
                    u64::from(queue)
                );
            }
            waited = waited.wrapping_add(1);
            // SAFETY: Process context (`ndo_bpf`): `msleep` may sleep.
            unsafe { bindings::msleep(10) };
        }
    }
}

impl XskPool {
    fn raw(&self) -> *mut bindings::xsk_buff_pool {
        self.raw.as_ptr()
    }

    /// Bytes in front of a frame's data in each chunk (at least
    /// `XDP_PACKET_HEADROOM`).
    pub fn headroom(&self) -> usize {
        // SAFETY: The pool is valid (type invariant).
        unsafe { bindings::vnr_xsk_pool_get_headroom(self.raw()) as usize }
    }

    /// Largest frame one receive buffer takes.
    pub fn rx_frame_size(&self) -> usize {
        // SAFETY: The pool is valid (type invariant).
        unsafe { bindings::vnr_xsk_pool_get_rx_frame_size(self.raw()) as usize }
    }

    /// Maps the pool for the device behind `vq` (the AF_XDP core requires it;
    /// see the module's documentation). May sleep.
    pub fn dma_map<B: Buffer>(&self, vq: &Virtqueue<B>) -> Result {
        // SAFETY: The queue is valid; without the DMA API the virtio core has no DMA
        // device, and the transport's (the PCI function) does the mapping.
        let dev = unsafe {
            let d = bindings::virtqueue_dma_dev(vq.as_raw());
            if d.is_null() {
                bindings::vnr_virtio_dma_parent(vq.as_raw())
            } else {
                d
            }
        };
        // SAFETY: The pool is valid, the device too; process context.
        to_result(unsafe { bindings::vnr_xsk_pool_dma_map(self.raw(), dev) })
    }

    /// Undoes [`XskPool::dma_map`].
    pub fn dma_unmap(&self) {
        // SAFETY: The pool is valid and was mapped (the driver's bind did it).
        unsafe { bindings::vnr_xsk_pool_dma_unmap(self.raw()) }
    }

    /// A receive buffer for a frame behind a virtio-net header of `hdr_len` bytes,
    /// which the device writes in the chunk's headroom. `None` when the socket's
    /// fill ring is empty.
    pub fn alloc_rx(&self, hdr_len: usize) -> Option<XskRxBuf> {
        // SAFETY: The pool is valid; the receive context is the only allocator.
        let xdp = NonNull::new(unsafe { bindings::vnr_xsk_buff_alloc(self.raw()) })?;
        Some(XskRxBuf {
            xdp,
            head: hdr_len.min(self.headroom()),
            room: self.rx_frame_size(),
        })
    }

    /// Tells the socket whether its receive queue was left without buffers
    /// (`dry`): with `need_wakeup`, it then kicks the driver once it has filled its
    /// fill ring (`ndo_xsk_wakeup`). Returns whether the driver must retry on its
    /// own: dry, and the socket does not kick.
    pub fn rx_dry(&self, dry: bool) -> bool {
        // SAFETY: The pool is valid; the receive context is the flag's only writer.
        unsafe {
            if !bindings::vnr_xsk_uses_need_wakeup(self.raw()) {
                return dry;
            }
            if dry {
                bindings::vnr_xsk_set_rx_need_wakeup(self.raw());
            } else {
                bindings::vnr_xsk_clear_rx_need_wakeup(self.raw());
            }
        }
        false
    }

    /// Up to `max` frames the socket queued for transmission, taken off its ring.
    pub fn tx_take(&self, max: u32) -> u32 {
        // SAFETY: The pool is valid; the transmit context is the only consumer.
        unsafe { bindings::vnr_xsk_tx_peek_release_desc_batch(self.raw(), max) }
    }

    /// Frame `i` of the `n` [`XskPool::tx_take`] returned, behind the pool's
    /// all-zero header of `hdr_len` bytes (no allocation: the frames must be sent,
    /// or completed, in the order taken). `None` for `i >= n`.
    pub fn tx_frame(&self, i: u32, n: u32, hdr_len: usize) -> Option<XskTx> {
        if i >= n || hdr_len > TX_HDR_MAX {
            return None;
        }
        // SAFETY: The pool is valid and `i` is below the count `tx_take` returned, whose
        // descriptors the core validated (address and length within the UMEM).
        let (data, len) = unsafe {
            let addr = bindings::vnr_xsk_tx_desc_addr(self.raw(), i);
            (
                bindings::vnr_xsk_buff_raw_get_data(self.raw(), addr).cast::<u8>(),
                bindings::vnr_xsk_tx_desc_len(self.raw(), i) as usize,
            )
        };
        Some(XskTx {
            held: self.held.clone(),
            hdr_len,
            data,
            len,
        })
    }

    /// Registers `rxq` as the receive queue of the pool's buffers (programs read it
    /// from them; redirects learn from it that the buffer is the pool's).
    pub fn set_rxq_info(&self, rxq: &RxqInfo) {
        // SAFETY: The pool is valid; `rxq` is registered with the pool's memory model
        // and outlives the binding (the driver drops it at unbind).
        unsafe { bindings::vnr_xsk_pool_set_rxq_info(self.raw(), rxq.raw()) }
    }
}

/// Describes `len` bytes of UMEM from `start` in `sg`, one entry per page: the
/// UMEM is a `vmap` of the socket's pages, so each is looked up.
///
/// # Safety
///
/// `start..start + len` must lie within the UMEM of a valid pool.
unsafe fn push_umem(sg: &mut SgList<'_>, start: *mut u8, len: usize) -> Result {
    let page_size = bindings::VNR_PAGE_SIZE;
    let (mut p, mut left) = (start, len);
    while left > 0 {
        let off = (p as usize) & (page_size - 1);
        let n = left.min(page_size - off);
        // SAFETY: `p` is in the UMEM's vmap (the caller's guarantee).
        let page = unsafe { bindings::vmalloc_to_page(p.cast()) };
        if page.is_null() {
            return Err(EFAULT);
        }
        let entry = sg.raw_tail(1).ok_or_else(super::emsgsize)?;
        // SAFETY: `entry` is a cleared entry of the table; the page holds `off..off+n`.
        unsafe {
            bindings::vnr_sg_set_page(entry, page, n as u32, off as u32);
            sg.advance(1)?;
        }
        p = p.wrapping_add(n);
        left -= n;
    }
    Ok(())
}

/// A chunk of the pool posted for the device to write a header and a frame into.
/// Dropping it gives the chunk back to the pool.
///
/// # Invariants
///
/// `xdp` is an `xdp_buff` of a valid pool's, owned by this object, whose chunk has
/// `head` bytes of headroom before `data` and `room` bytes from it (both 0 once
/// taken back from a queue, when only the pointer is kept).
pub struct XskRxBuf {
    xdp: NonNull<bindings::xdp_buff>,
    head: usize,
    room: usize,
}

// SAFETY: The buffer may be freed on any CPU.
unsafe impl Send for XskRxBuf {}

// SAFETY: `fill` describes the chunk's headroom tail and frame room, which the pool
// lends to the buffer until it is freed; the token is the `xdp_buff` pointer.
unsafe impl Buffer for XskRxBuf {
    const DIRECTION: Direction = Direction::In;

    fn fill(&mut self, sg: &mut SgList<'_>) -> Result {
        // SAFETY: The buffer is valid (type invariant).
        let data = unsafe { (*self.xdp.as_ptr()).data }.cast::<u8>();
        // SAFETY: `head` bytes before `data` and `room` from it are the chunk's (type
        // invariant), in the pool's UMEM.
        unsafe { push_umem(sg, data.wrapping_sub(self.head), self.head + self.room) }
    }

    fn into_raw(self) -> NonNull<core::ffi::c_void> {
        let p = self.xdp.cast();
        core::mem::forget(self);
        p
    }

    unsafe fn from_raw(raw: NonNull<core::ffi::c_void>) -> Self {
        // INVARIANT: `raw` came from `into_raw` (the caller's guarantee); the lengths are
        // not needed any more.
        Self {
            xdp: raw.cast(),
            head: 0,
            room: 0,
        }
    }
}

impl Drop for XskRxBuf {
    fn drop(&mut self) {
        // SAFETY: We own the buffer (type invariant).
        unsafe { bindings::vnr_xsk_buff_free(self.xdp.as_ptr()) }
    }
}

impl XskRxBuf {
    /// A copy of the `hdr_len` bytes the device wrote in front of the frame (the
    /// first `hdr_len` of the array), if the pool's headroom (`pool`) has room for
    /// them. A copy: the socket's memory is shared with user space.
    pub fn header(&self, pool: &XskPool, hdr_len: usize) -> Option<[u8; TX_HDR_MAX]> {
        if hdr_len > pool.headroom() || hdr_len > TX_HDR_MAX {
            return None;
        }
        let mut h = [0u8; TX_HDR_MAX];
        // SAFETY: The buffer is valid; the `hdr_len` bytes before `data` are in its
        // chunk's headroom (checked above), written by the device; `h` has room.
        unsafe {
            let data = (*self.xdp.as_ptr()).data.cast::<u8>();
            core::ptr::copy_nonoverlapping(data.wrapping_sub(hdr_len), h.as_mut_ptr(), hdr_len);
        }
        Some(h)
    }

    /// The used buffer as a frame of `len` bytes, if the pool's chunks hold that
    /// many.
    pub fn into_frame(self, pool: &XskPool, len: usize) -> Option<XskFrame> {
        if len > pool.rx_frame_size() {
            return None;
        }
        // SAFETY: We own the buffer; `len` fits its chunk (checked above).
        unsafe { bindings::vnr_xsk_buff_set_size(self.xdp.as_ptr(), len as u32) };
        let xdp = self.xdp;
        core::mem::forget(self);
        // INVARIANT: Sized above, owned.
        Some(XskFrame(xdp))
    }
}

/// A received frame in a chunk of the pool, as a program sees it. Dropping it
/// gives the chunk back.
///
/// # Invariants
///
/// `0` is an owned `xdp_buff` of a valid pool, describing a frame within its chunk.
pub struct XskFrame(NonNull<bindings::xdp_buff>);

impl XskFrame {
    /// Where the frame starts, and its length. No slice of it is made: the socket's
    /// memory is shared with user space, which may write it at any time.
    fn span(&self) -> (*const u8, usize) {
        // SAFETY: The buffer is valid (type invariant).
        let x = unsafe { &*self.0.as_ptr() };
        let (start, end) = (x.data as *const u8, x.data_end as *const u8);
        (start, (end as usize).saturating_sub(start as usize))
    }

    /// The frame's length.
    pub fn len(&self) -> usize {
        self.span().1
    }

    /// Runs `prog` on the frame (in a NAPI poll: the caller's context).
    pub fn run(&mut self, prog: &BpfProg, _poll: &Poll<'_>) -> Action {
        // SAFETY: The program and the buffer are valid; a NAPI poll runs with bottom
        // halves off and under RCU, as programs need.
        Action(unsafe { bindings::vnr_xdp_run(prog.as_raw(), self.0.as_ptr()) })
    }

    /// Hands the frame to what `prog` chose: an AF_XDP socket on this queue takes
    /// it without a copy. `Err` (the chunk given back) if the target refused.
    pub fn redirect(self, dev: &NetDev<impl Operations>, prog: &BpfProg) -> Result {
        // SAFETY: The device and program are valid; the buffer's queue is registered
        // with the pool's memory model; on success the target owns the buffer; NAPI
        // poll context.
        to_result(unsafe {
            bindings::xdp_do_redirect(dev.as_raw(), self.0.as_ptr(), prog.as_raw())
        })?;
        core::mem::forget(self);
        Ok(())
    }

    /// A copy of the frame in a new skb (for the stack or for `XDP_TX`); the chunk
    /// is given back.
    pub fn into_skb(self, poll: &Poll<'_>) -> Option<SkBuff> {
        let (data, len) = self.span();
        // SAFETY: In the poll of this NAPI context (softirq), as `napi_alloc_skb` needs.
        let skb = unsafe { bindings::napi_alloc_skb(poll.napi().raw(), len as u32) };
        // SAFETY: A non-null result is a new skb we own.
        let skb = unsafe { SkBuff::from_raw(skb) }?;
        // SAFETY: The skb is new, with room for `len` bytes; `data..data + len` is the
        // frame, in its chunk (type invariant), copied by the C side.
        unsafe { bindings::vnr_skb_put_data(skb.as_raw(), data.cast(), len as u32) };
        Some(skb)
    }
}

impl Drop for XskFrame {
    fn drop(&mut self) {
        // SAFETY: We own the buffer (type invariant).
        unsafe { bindings::vnr_xsk_buff_free(self.0.as_ptr()) }
    }
}

/// A transmit buffer: a packet of the stack's (or an XDP frame made into an skb), or
/// a frame of an AF_XDP socket's.
pub enum TxBuf {
    /// An skb.
    Skb(TxSkb),
    /// A frame in a socket's UMEM.
    Xsk(XskTx),
}

impl TxBuf {
    /// The skb, if this was one; `None` for a socket's frame (count it for
    /// [`XskPool::tx_completed`]).
    #[inline(always)]
    pub fn into_skb(self) -> Option<SkBuff> {
        match self {
            Self::Skb(s) => Some(s.into_skb()),
            Self::Xsk(_) => None,
        }
    }
}

/// Marks a socket frame's token: skb pointers, and the `Arc<XskShared>` a frame's
/// token is, are at least 8-byte aligned.
const XSK_TAG: usize = 1;
const _: () = assert!(core::mem::align_of::<XskShared>() > XSK_TAG);

// Each variant describes only memory it owns or borrows until completion (`TxSkb`'s
// contract; a socket frame's shared zero header, kept by its counted reference, and
// its chunk, which the socket does not reuse before `tx_completed` nor free before
// the glue's wait ends).
// SAFETY: As just said; the token is the skb pointer, or the reference's pointer
// with bit 0 set, turned back exactly once.
unsafe impl Buffer for TxBuf {
    const DIRECTION: Direction = Direction::Out;

    // Always inlined, as every per-packet function: out of line, the build gives it
    // LLVM's `minsize` (scripts/lto-link.sh), and it cost 40 instructions a packet.
    #[inline(always)]
    fn fill(&mut self, sg: &mut SgList<'_>) -> Result {
        match self {
            Self::Skb(s) => s.fill(sg),
            Self::Xsk(x) => x.fill(sg),
        }
    }

    #[inline(always)]
    fn into_raw(self) -> NonNull<core::ffi::c_void> {
        match self {
            Self::Skb(s) => s.into_raw(),
            Self::Xsk(x) => {
                // Neither completed nor uncounted: the reference stays counted in `live`
                // while the device has the frame.
                let x = core::mem::ManuallyDrop::new(x);
                // SAFETY: `x` is not dropped: its reference's `Arc` is moved out once.
                let shared = unsafe { core::ptr::read(&x.held.0) };
                let p = Arc::into_raw(shared) as usize | XSK_TAG;
                // SAFETY: A heap pointer with a bit set is not null.
                unsafe { NonNull::new_unchecked(p as *mut core::ffi::c_void) }
            }
        }
    }

    #[inline(always)]
    unsafe fn from_raw(raw: NonNull<core::ffi::c_void>) -> Self {
        let p = raw.as_ptr() as usize;
        if p & XSK_TAG == 0 {
            // SAFETY: An untagged token came from `TxSkb::into_raw` (the caller's
            // guarantee).
            return Self::Skb(unsafe { TxSkb::from_raw(raw) });
        }
        Self::Xsk(XskTx {
            // SAFETY: A tagged token is the reference `into_raw` gave up (the caller's
            // guarantee), still counted in `live`.
            held: Held(unsafe { Arc::from_raw((p & !XSK_TAG) as *const XskShared) }),
            hdr_len: 0,
            data: core::ptr::null_mut(),
            len: 0,
        })
    }
}

/// A frame an AF_XDP socket sends, in its UMEM, behind the pool's all-zero
/// virtio-net header (no offloads). Dropping it tells the socket the frame is done
/// (`xsk_tx_completed`): sent, once the device gives it back, or not sent at all,
/// when a ring is reset or resized. Until then the frame holds a counted reference
/// to the pool, so the pool outlives it. Frames complete in the order taken: the
/// socket's completion ring is in order, as the device's used ring is for sends.
///
/// # Invariants
///
/// `data..data + len` lies in the UMEM of a valid pool, taken off its transmit ring
/// and not completed; `hdr_len <= TX_HDR_MAX`. Both are 0 once the frame comes back
/// from a queue, when only the reference is kept.
pub struct XskTx {
    held: Held,
    hdr_len: usize,
    data: *mut u8,
    len: usize,
}

// SAFETY: The frame may be posted and completed on any CPU.
unsafe impl Send for XskTx {}

impl Drop for XskTx {
    fn drop(&mut self) {
        // SAFETY: The pool is valid while `held` is counted; the frame was taken by
        // `tx_take` and not completed; the transmit ring's owner (its lock, or the ring
        // taken out for a reset or resize) serialises completions.
        unsafe { bindings::xsk_tx_completed(self.held.0.pool.as_ptr(), 1) }
    }
}

impl XskTx {
    /// Length of the frame.
    pub fn len(&self) -> usize {
        self.len
    }

    fn fill(&self, sg: &mut SgList<'_>) -> Result {
        // SAFETY: The zero header lives as long as `held`; the frame is in the UMEM
        // (type invariant).
        unsafe {
            sg.push(self.held.0.zero_hdr.as_ptr(), self.hdr_len)?;
            push_umem(sg, self.data, self.len)
        }
    }
}
