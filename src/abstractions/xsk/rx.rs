// SPDX-License-Identifier: GPL-2.0

//! AF_XDP zero-copy receive: a receive queue that owns the pool its chunks come
//! from, the chunks it posts, and the frames the device writes into them.

use super::{push_umem, Umem, XskPool};
use crate::abstractions::napi::{Napi, Poll};
use crate::abstractions::netdev::{NetDev, Operations};
use crate::abstractions::skb::{SkBuff, TX_HDR_MAX};
use crate::abstractions::virtqueue::{Buffer, Direction, SgList, Virtqueue};
use crate::abstractions::xdp::{Action, BpfProg, RxqInfo};
use crate::bindings;
use core::marker::PhantomData;
use core::ops::Deref;
use core::ptr::NonNull;
use core::sync::atomic::Ordering;
use kernel::error::to_result;
use kernel::prelude::*;

/// What a receive queue's chunks look like: the device writes a header of
/// `hdr_len` bytes at the end of the headroom and a frame of up to `frame` bytes.
#[derive(Clone, Copy)]
struct Layout {
    hdr_len: usize,
    frame: usize,
}

/// A receive virtqueue whose buffers are chunks of one bound pool, with that pool
/// and the ring as registered for its buffers.
///
/// Only this type posts and takes back the pool's chunks, so none can be on a ring
/// without the pool's handle beside it, nor outlive it: the queue drops its chunks
/// before the handle (field order), and a chunk taken off it borrows it
/// ([`XskRx`]). Its virtqueue is lent out read-only ([`Deref`]): swapped with
/// another pool's, it would break that pairing.
///
/// # Invariants
///
/// Every buffer on `vq` is a chunk of `pool`, whose buffers point to `rxq`; `pool`'s
/// receive side has no other user; `layout` is within the pool's chunks
/// (`hdr_len <= headroom`, `hdr_len <= TX_HDR_MAX`, `frame` its frame size).
pub struct XskRxQueue {
    vq: Virtqueue<XskChunk>,
    rxq: RxqInfo,
    pool: XskPool,
    layout: Layout,
}

impl Deref for XskRxQueue {
    type Target = Virtqueue<XskChunk>;

    fn deref(&self) -> &Virtqueue<XskChunk> {
        &self.vq
    }
}

impl XskRxQueue {
    /// Turns receive queue `vq` (queue `index` of `dev`, polled by `napi`) into one
    /// for `pool`'s chunks, behind headers of `hdr_len` bytes: maps the pool for the
    /// device and resets the ring (needs VIRTIO_F_RING_RESET; may sleep). On failure,
    /// the queue as it was (its buffers may be gone).
    pub fn bind<B: Buffer>(
        dev: &NetDev<impl Operations>,
        index: u16,
        napi: &Napi,
        vq: Virtqueue<B>,
        pool: XskPool,
        hdr_len: usize,
    ) -> Result<Self, (Error, Virtqueue<B>)> {
        if hdr_len > pool.headroom() || hdr_len > TX_HDR_MAX {
            return Err((EINVAL, vq));
        }
        if pool.held.0.rx_taken.swap(true, Ordering::Relaxed) {
            return Err((EBUSY, vq));
        }
        let rxq = match RxqInfo::new_xsk(dev, index, napi, &pool) {
            Ok(rxq) => rxq,
            Err(e) => return Err((e, vq)),
        };
        if let Err(e) = pool.dma_map(&vq) {
            return Err((e, vq));
        }
        match vq.reset_into::<XskChunk>() {
            // INVARIANT: Empty, for `pool` alone (claimed above); the layout checked.
            Ok(vq) => Ok(Self {
                vq,
                rxq,
                layout: Layout {
                    hdr_len,
                    frame: pool.rx_frame_size(),
                },
                pool,
            }),
            Err((e, vq)) => {
                pool.dma_unmap();
                Err((e, vq))
            }
        }
    }

    /// Turns the queue back into one for buffers of type `B`: resets the ring (may
    /// sleep), dropping the chunks, and lets the pool go. If the reset fails after
    /// it emptied the ring, the queue comes back with the error; if the ring still
    /// holds chunks, the whole binding comes back (`Err`) and its pool stays.
    pub fn unbind<B: Buffer>(self) -> Result<(Virtqueue<B>, Result), (Error, Self)> {
        let Self {
            vq,
            rxq,
            pool,
            layout,
        } = self;
        let (vq, res) = match vq.reset_into::<B>() {
            Ok(vq) => (vq, Ok(())),
            Err((e, vq)) => match vq.into_empty::<B>() {
                Ok(vq) => (vq, Err(e)),
                Err(vq) => {
                    // INVARIANT: Put back together as it was.
                    return Err((
                        e,
                        Self {
                            vq,
                            rxq,
                            pool,
                            layout,
                        },
                    ));
                }
            },
        };
        // No chunk is left on the ring: the registration and the pool can go.
        drop(rxq);
        pool.dma_unmap();
        Ok((vq, res))
    }

    /// Bytes each posted chunk offers the device: header and frame.
    pub fn buf_len(&self) -> usize {
        self.layout.hdr_len + self.layout.frame
    }

    /// Posts the pool's chunks on the ring's free slots, until either runs out (the
    /// socket's fill ring is empty). Returns how many were posted.
    pub fn fill(&mut self) -> usize {
        let mut posted = 0;
        while self.vq.num_free() > 0 {
            // SAFETY: The pool is valid; this queue is its only receive user (type
            // invariant), serialised by `&mut self`.
            let Some(xdp) = NonNull::new(unsafe { bindings::vnr_xsk_buff_alloc(self.pool.raw()) })
            else {
                break;
            };
            // INVARIANT: A chunk of the pool; the layout fits it (type invariant).
            let chunk = XskChunk {
                xdp,
                head: self.layout.hdr_len,
                room: self.layout.frame,
                umem: Some(self.pool.held.0.umem),
            };
            if self
                .vq
                .add(chunk, crate::abstractions::Gfp::Atomic)
                .is_err()
            {
                break;
            }
            posted += 1;
        }
        posted
    }

    /// Tells the socket whether its receive queue was left without buffers
    /// (`dry`): with `need_wakeup`, it then kicks the driver once it has filled its
    /// fill ring (`ndo_xsk_wakeup`). Returns whether the driver must retry on its
    /// own: dry, and the socket does not kick.
    pub fn rx_dry(&mut self, dry: bool) -> bool {
        let raw = self.pool.raw();
        // SAFETY: The pool is valid; this queue is the flag's only writer (type
        // invariant), serialised by `&mut self`.
        unsafe {
            if !bindings::vnr_xsk_uses_need_wakeup(raw) {
                return dry;
            }
            if dry {
                bindings::vnr_xsk_set_rx_need_wakeup(raw);
            } else {
                bindings::vnr_xsk_clear_rx_need_wakeup(raw);
            }
        }
        false
    }

    /// The used chunks, each borrowing the queue's pool.
    pub fn rx(&mut self) -> XskRx<'_> {
        XskRx {
            vq: &mut self.vq,
            layout: self.layout,
        }
    }

    /// See [`Virtqueue::kick_prepare`].
    pub fn kick_prepare(&mut self) -> bool {
        self.vq.kick_prepare()
    }

    /// See [`Virtqueue::enable_cb_prepare`].
    pub fn enable_cb_prepare(&mut self) -> u32 {
        self.vq.enable_cb_prepare()
    }

    /// See [`Virtqueue::poll`].
    pub fn poll(&mut self, opaque: u32) -> bool {
        self.vq.poll(opaque)
    }

    /// See [`Virtqueue::disable_cb`].
    pub fn disable_cb(&mut self) {
        self.vq.disable_cb()
    }

    /// See [`Virtqueue::resize`]: the chunks posted go back to the pool.
    pub fn resize(&mut self, num: u32) -> Result {
        self.vq.resize(num)
    }
}

/// The used side of an [`XskRxQueue`]: its chunks, as the device gives them back,
/// each borrowing the pool for `'a`.
pub struct XskRx<'a> {
    /// Borrowed from the queue, as a whole, for `'a`: the pool too.
    vq: &'a mut Virtqueue<XskChunk>,
    layout: Layout,
}

impl<'a> XskRx<'a> {
    /// The next chunk the device used, with the length it reports it wrote
    /// (untrusted).
    #[inline]
    pub fn get_buf(&mut self) -> Option<(XskRxBuf<'a>, u32)> {
        let (chunk, len) = self.vq.get_buf()?;
        let xdp = chunk.xdp;
        core::mem::forget(chunk);
        // INVARIANT: An owned chunk of `pool` (the queue's invariant).
        Some((
            XskRxBuf {
                xdp,
                layout: self.layout,
                _pool: PhantomData,
            },
            len,
        ))
    }
}

/// A chunk of the pool on a receive ring, for the device to write a header and a
/// frame into. Only an [`XskRxQueue`] makes and takes back these.
///
/// # Invariants
///
/// `xdp` is an `xdp_buff` of a valid pool's, owned by this object, whose chunk has
/// `head` bytes of headroom before `data` and `room` bytes from it, in `umem`, the
/// pool's UMEM (0, 0 and `None` once taken back from a queue, when only the
/// pointer is kept).
pub struct XskChunk {
    xdp: NonNull<bindings::xdp_buff>,
    head: usize,
    room: usize,
    umem: Option<Umem>,
}

// SAFETY: The buffer may be freed on any CPU.
unsafe impl Send for XskChunk {}

// SAFETY: `fill` describes the chunk's headroom tail and frame room, which the pool
// lends to the buffer until it is freed; the token is the `xdp_buff` pointer.
unsafe impl Buffer for XskChunk {
    const DIRECTION: Direction = Direction::In;

    fn fill(&mut self, sg: &mut SgList<'_>) -> Result {
        let umem = self.umem.as_ref().ok_or(EINVAL)?;
        // SAFETY: The buffer is valid (type invariant).
        let data = unsafe { (*self.xdp.as_ptr()).data }.cast::<u8>();
        // SAFETY: The chunk's pool is valid (type invariant), and it is `umem`'s; the
        // `head` bytes before `data` and `room` from it are the chunk's.
        unsafe {
            push_umem(
                sg,
                umem,
                data.wrapping_sub(self.head),
                self.head + self.room,
            )
        }
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
            umem: None,
        }
    }
}

impl Drop for XskChunk {
    fn drop(&mut self) {
        // SAFETY: We own the buffer (type invariant).
        unsafe { bindings::vnr_xsk_buff_free(self.xdp.as_ptr()) }
    }
}

/// A chunk the device used, taken off an [`XskRxQueue`] whose pool it borrows for
/// `'a`. Dropping it gives the chunk back to the pool.
///
/// # Invariants
///
/// `xdp` is an owned `xdp_buff` of a pool valid for `'a`, laid out as `layout`.
pub struct XskRxBuf<'a> {
    xdp: NonNull<bindings::xdp_buff>,
    layout: Layout,
    _pool: PhantomData<&'a XskPool>,
}

impl Drop for XskRxBuf<'_> {
    fn drop(&mut self) {
        // SAFETY: We own the buffer (type invariant).
        unsafe { bindings::vnr_xsk_buff_free(self.xdp.as_ptr()) }
    }
}

impl<'a> XskRxBuf<'a> {
    /// A copy of the header the device wrote in front of the frame (the first
    /// `hdr_len` bytes of the array, as the queue was bound). A copy: the socket's
    /// memory is shared with user space.
    pub fn header(&self) -> [u8; TX_HDR_MAX] {
        let mut h = [0u8; TX_HDR_MAX];
        // SAFETY: The buffer is valid; the `hdr_len` bytes before `data` are in its
        // chunk's headroom (type invariant), written by the device; `h` has room.
        unsafe {
            let data = (*self.xdp.as_ptr()).data.cast::<u8>();
            let n = self.layout.hdr_len;
            core::ptr::copy_nonoverlapping(data.wrapping_sub(n), h.as_mut_ptr(), n);
        }
        h
    }

    /// The used buffer as a frame of `len` bytes, if its chunk holds that many.
    pub fn into_frame(self, len: usize) -> Option<XskFrame<'a>> {
        if len > self.layout.frame {
            return None;
        }
        // SAFETY: We own the buffer; `len` fits its chunk (checked above).
        unsafe { bindings::vnr_xsk_buff_set_size(self.xdp.as_ptr(), len as u32) };
        let xdp = self.xdp;
        core::mem::forget(self);
        // INVARIANT: Sized above, owned.
        Some(XskFrame(xdp, PhantomData))
    }
}

/// A received frame in a chunk of a pool valid for `'a`, as a program sees it.
/// Dropping it gives the chunk back.
///
/// # Invariants
///
/// `0` is an owned `xdp_buff` of a pool valid for `'a`, describing a frame within
/// its chunk.
pub struct XskFrame<'a>(NonNull<bindings::xdp_buff>, PhantomData<&'a XskPool>);

impl XskFrame<'_> {
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

impl Drop for XskFrame<'_> {
    fn drop(&mut self) {
        // SAFETY: We own the buffer (type invariant).
        unsafe { bindings::vnr_xsk_buff_free(self.0.as_ptr()) }
    }
}
