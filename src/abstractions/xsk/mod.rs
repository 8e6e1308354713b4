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

use super::skb::TX_HDR_MAX;
use super::virtqueue::{Buffer, SgList, Virtqueue};
use super::xdp::RxqInfo;
use crate::bindings;
use core::cell::UnsafeCell;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use kernel::error::to_result;
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::sync::Arc;

mod rx;
mod tx;

pub use rx::{XskFrame, XskRxQueue};
pub use tx::{TxBuf, XskTxPool};

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
    /// Whether a receive queue ([`XskRxQueue`]) and a transmit side ([`XskTxPool`])
    /// took the pool's rings: one user each, so their `&mut self` serialises them.
    rx_taken: AtomicBool,
    tx_taken: AtomicBool,
    umem: Umem,
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

// SAFETY: A pool may be used from any CPU. Its rings are used only through the one
// `XskRxQueue` and the one `XskTxPool` of its binding, each by `&mut self`; the
// transmit frames, which complete on drop, are dropped by the transmit ring's owner.
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
        // SAFETY: The pool is valid (the caller's guarantee).
        let umem = unsafe { Umem::of(raw) }.ok_or(EINVAL)?;
        let shared = Arc::new(
            XskShared {
                live: AtomicUsize::new(0),
                pool: raw,
                zero_hdr: [0; TX_HDR_MAX],
                rx_taken: AtomicBool::new(false),
                tx_taken: AtomicBool::new(false),
                umem,
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

    /// The pool's transmit side, to one taker per binding (`None` after the first).
    pub fn take_tx(&self) -> Option<XskTxPool> {
        if self.held.0.tx_taken.swap(true, Ordering::Relaxed) {
            return None;
        }
        // INVARIANT: The first taker of the binding.
        Some(XskTxPool::new(self.clone()))
    }

    /// Maps the pool for the device behind `vq` (the AF_XDP core requires it;
    /// see the module's documentation). May sleep.
    fn dma_map<B: Buffer>(&self, vq: &Virtqueue<B>) -> Result {
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
    fn dma_unmap(&self) {
        // SAFETY: The pool is valid and was mapped (the caller's bind did it).
        unsafe { bindings::vnr_xsk_pool_dma_unmap(self.raw()) }
    }

    /// Registers `rxq` as the receive queue of the pool's buffers (programs read it
    /// from them; redirects learn from it that the buffer is the pool's).
    pub(super) fn set_rxq_info(&self, rxq: &RxqInfo) {
        // SAFETY: The pool is valid; `rxq` is registered with the pool's memory model
        // and outlives the pool's buffers on a queue ([`XskRxQueue`] holds both).
        unsafe { bindings::vnr_xsk_pool_set_rxq_info(self.raw(), rxq.raw()) }
    }
}

/// Where a bound pool's UMEM is mapped (`pool->addrs`, a page-aligned `vmap`) and
/// the pinned pages behind it, read once at bind: a page is looked up in the array
/// where `vmalloc_to_page` walked the page tables (57 instructions in the driver
/// and 94 in the kernel per frame, bench kernel).
///
/// # Invariants
///
/// While a handle to the pool exists, `base` is the UMEM's mapping and `pages`
/// its array of `npgs` pinned pages, page `i` mapped at `base + i * PAGE_SIZE`.
#[derive(Clone, Copy)]
pub(super) struct Umem {
    base: usize,
    pages: NonNull<*mut bindings::page>,
    npgs: usize,
}

impl Umem {
    /// The UMEM of `pool`.
    ///
    /// # Safety
    ///
    /// `pool` is valid.
    unsafe fn of(pool: NonNull<bindings::xsk_buff_pool>) -> Option<Self> {
        let raw = pool.as_ptr();
        // SAFETY: The pool is valid (the caller's guarantee): it has its UMEM, whose
        // pages stay pinned and mapped as long as the pool holds it.
        let (base, pages, npgs) = unsafe {
            (
                bindings::vnr_xsk_pool_addrs(raw) as usize,
                bindings::vnr_xsk_pool_umem_pages(raw),
                bindings::vnr_xsk_pool_umem_npgs(raw) as usize,
            )
        };
        // INVARIANT: Read from the pool, as the core set them up.
        Some(Self {
            base,
            pages: NonNull::new(pages)?,
            npgs,
        })
    }
}

/// Describes `len` bytes of `umem` from `start` in `sg`, one entry per page. A
/// range outside the UMEM is refused (`EFAULT`).
///
/// # Safety
///
/// A handle to `umem`'s pool exists.
unsafe fn push_umem(sg: &mut SgList<'_>, umem: &Umem, start: *mut u8, len: usize) -> Result {
    let page_size = bindings::VNR_PAGE_SIZE;
    let (mut off, mut left) = ((start as usize).wrapping_sub(umem.base), len);
    while left > 0 {
        let (idx, in_page) = (off / page_size, off % page_size);
        if idx >= umem.npgs {
            return Err(EFAULT);
        }
        let n = left.min(page_size - in_page);
        // SAFETY: `idx < npgs`: an entry of the UMEM's page array, valid while a handle
        // exists (type invariant; the caller's guarantee).
        let page = unsafe { *umem.pages.as_ptr().add(idx) };
        let entry = sg.raw_tail(1).ok_or_else(super::emsgsize)?;
        // SAFETY: `entry` is a cleared entry of the table; the page holds
        // `in_page..in_page + n`.
        unsafe {
            bindings::vnr_sg_set_page(entry, page, n as u32, in_page as u32);
            sg.advance(1)?;
        }
        off += n;
        left -= n;
    }
    Ok(())
}
