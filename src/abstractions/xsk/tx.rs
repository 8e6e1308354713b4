// SPDX-License-Identifier: GPL-2.0

//! AF_XDP zero-copy transmit: the one taker of a socket's transmit ring, and its
//! frames on a transmit virtqueue beside the stack's packets.

use super::{push_umem, Held, XskPool, XskShared};
use crate::abstractions::skb::{SkBuff, TxSkb, TX_HDR_MAX};
use crate::abstractions::virtqueue::{Buffer, Direction, SgList};
use crate::bindings;
use core::ptr::NonNull;
use kernel::prelude::*;
use kernel::sync::Arc;

/// The transmit side of a bound pool: the one taker of the frames its socket
/// queues.
///
/// # Invariants
///
/// At most one exists per binding ([`XskPool::take_tx`]), so `&mut self` serialises
/// the socket's transmit ring.
pub struct XskTxPool(XskPool);

impl XskTxPool {
    /// The transmit side of `pool`.
    ///
    /// The caller makes sure it is the binding's only one ([`XskPool::take_tx`]).
    pub(super) fn new(pool: XskPool) -> Self {
        // INVARIANT: The caller's guarantee.
        Self(pool)
    }

    /// Up to `max` frames the socket queued for transmission, taken off its ring,
    /// each to go behind the pool's all-zero header of `hdr_len` bytes. Nothing is
    /// taken if that header does not fit [`TX_HDR_MAX`].
    pub fn take(&mut self, max: u32, hdr_len: usize) -> XskTxBatch<'_> {
        let n = if hdr_len > TX_HDR_MAX {
            0
        } else {
            // SAFETY: The pool is valid; we are its only transmit consumer (type
            // invariant and `&mut self`).
            unsafe { bindings::vnr_xsk_tx_peek_release_desc_batch(self.0.raw(), max) }
        };
        XskTxBatch {
            pool: &self.0,
            hdr_len,
            next: 0,
            n,
        }
    }
}

/// Frames taken off a socket's transmit ring, handed out in order. Those not
/// handed out are completed (unsent) when the batch is dropped.
///
/// # Invariants
///
/// Descriptors `next..n` of the pool's batch were taken and not handed out yet;
/// `hdr_len <= TX_HDR_MAX`.
pub struct XskTxBatch<'a> {
    pool: &'a XskPool,
    hdr_len: usize,
    next: u32,
    n: u32,
}

impl XskTxBatch<'_> {
    /// How many frames were taken.
    pub fn taken(&self) -> u32 {
        self.n
    }
}

impl Iterator for XskTxBatch<'_> {
    type Item = XskTx;

    fn next(&mut self) -> Option<XskTx> {
        if self.next >= self.n {
            return None;
        }
        let i = self.next;
        self.next += 1;
        // SAFETY: The pool is valid and `i` is below the count taken, whose
        // descriptors the core validated (address and length within the UMEM).
        let (data, len) = unsafe {
            let raw = self.pool.raw();
            let addr = bindings::vnr_xsk_tx_desc_addr(raw, i);
            (
                bindings::vnr_xsk_buff_raw_get_data(raw, addr).cast::<u8>(),
                bindings::vnr_xsk_tx_desc_len(raw, i) as usize,
            )
        };
        // INVARIANT: Taken, handed out once, in the UMEM; `hdr_len` as checked.
        Some(XskTx {
            held: self.pool.held.clone(),
            hdr_len: self.hdr_len,
            data,
            len,
        })
    }
}

impl Drop for XskTxBatch<'_> {
    fn drop(&mut self) {
        if self.next < self.n {
            // SAFETY: The pool is valid; these frames were taken and never handed out.
            unsafe { bindings::xsk_tx_completed(self.pool.raw(), self.n - self.next) }
        }
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
    /// The skb, if this was one; `None` for a socket's frame (completed as it is
    /// dropped).
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
        // SAFETY: The zero header lives as long as `held`, which keeps the pool, whose
        // UMEM holds the frame (type invariant), valid.
        unsafe {
            sg.push(self.held.0.zero_hdr.as_ptr(), self.hdr_len)?;
            push_umem(sg, &self.held.0.umem, self.data, self.len)
        }
    }
}
