// SPDX-License-Identifier: GPL-2.0

//! AF_XDP zero-copy: binding a socket's pool to a queue pair, receiving into its
//! chunks, and sending its frames.
//!
//! Binding swaps the receive ring's buffers for the pool's chunks (a ring reset:
//! VIRTIO_F_RING_RESET) and unbinding swaps them back; the transmit ring carries
//! the socket's frames beside the stack's packets. The device reads and writes
//! the chunks through mappings the virtio core makes per buffer
//! (`abstractions::xsk`), so it needs no IOMMU and no premapped queue.

use super::queue::{QueuePair, RxRing, RxVq};
use super::{rx, tx, xdp, VirtNet};
use crate::abstractions::{
    napi::Poll,
    netdev::{NetDev, Operations},
    skb::SkBuff,
    virtqueue::{Buffer, Virtqueue},
    xdp::BpfProg,
    xsk::{wakeup, TxBuf, XskFrame, XskPool, XskRxQueue, XskTxPool},
    Gfp,
};
use crate::logic::features::RxMode;
use crate::logic::hdr::NetHdr;
use crate::logic::{rx_buf, xdp as rules};
use core::sync::atomic::Ordering;
use kernel::prelude::*;

/// `XDP_SETUP_XSK_POOL`: binds `pool` to pair `queue`, or unbinds (`None`).
pub fn setup(dev: &NetDev<VirtNet>, queue: u16, pool: Option<XskPool>) -> Result {
    let vn = dev.data();
    let q = vn.queues.get(usize::from(queue)).ok_or(EINVAL)?;
    if let Some(pool) = pool.as_ref() {
        // As in-tree: big packets mode runs no program; a pair not in use gets no
        // traffic; the header goes in the chunk's headroom.
        if vn.rx_mode == RxMode::Big {
            return Err(ENOENT);
        }
        if queue >= vn.curr_pairs.load(Ordering::Relaxed) || vn.hdr_len > pool.headroom() {
            return Err(EINVAL);
        }
    } else if !q.rx.lock().vq.is_xsk() {
        // Nothing bound here.
        return Ok(());
    }
    // The rings change hands with the interface quiesced, as for a resize.
    let running = dev.is_running();
    if running {
        <VirtNet as Operations>::stop(dev)?;
    }
    let r = match pool {
        Some(pool) => bind(dev, q, pool),
        None => unbind(dev, q),
    };
    // What the bind or unbind did stands (the core records it by `r`): an interface
    // that cannot come up again stays down, with a message.
    if running {
        if let Err(e) = <VirtNet as Operations>::open(dev) {
            crate::log_err!(
                "%s: cannot reopen after an AF_XDP pool change: %pe\n",
                dev.name(),
                e
            );
        }
    }
    r
}

/// Swaps the receive ring's buffers for the pool's and lets the transmit ring send
/// the socket's frames.
fn bind(dev: &NetDev<VirtNet>, q: &QueuePair, pool: XskPool) -> Result {
    let tx_pool = pool.take_tx().ok_or(EBUSY)?;
    let old = q.rx.lock().detach();
    let res = match old {
        RxVq::Small(vq) => swap(dev, q, vq, pool, RxVq::Small),
        RxVq::Mergeable(vq) => swap(dev, q, vq, pool, RxVq::Mergeable),
        other => Err((EINVAL, other)),
    };
    let mut ring = q.rx.lock();
    match res {
        Ok(vq) => {
            q.stats.rx_buf_bytes().set(0);
            ring.vq = vq;
            drop(ring);
            q.tx.lock().xsk = Some(tx_pool);
            Ok(())
        }
        Err((e, vq)) => {
            ring.vq = vq;
            Err(e)
        }
    }
}

/// Resets a receive queue into one for the pool's chunks; on failure, the queue as
/// it was (`back` wraps it), maybe empty.
fn swap<B: Buffer>(
    dev: &NetDev<VirtNet>,
    q: &QueuePair,
    vq: Virtqueue<B>,
    pool: XskPool,
    back: fn(Virtqueue<B>) -> RxVq,
) -> Result<RxVq, (Error, RxVq)> {
    let hdr_len = dev.data().hdr_len;
    XskRxQueue::bind(dev, q.index, &q.napi, vq, pool, hdr_len)
        .map(RxVq::Xsk)
        .map_err(|(e, vq)| (e, back(vq)))
}

/// Gives the receive ring its own buffers again and takes the socket's frames off
/// the transmit ring; every copy of the pool is dropped here.
fn unbind(dev: &NetDev<VirtNet>, q: &QueuePair) -> Result {
    let vn = dev.data();
    let old = q.rx.lock().detach();
    let (vq, res) = match old {
        RxVq::Xsk(vq) => match vn.rx_mode {
            RxMode::Small => back(vq, RxVq::Small),
            _ => back(vq, RxVq::Mergeable),
        },
        other => (other, Err(EINVAL)),
    };
    q.stats.rx_buf_bytes().set(0);
    q.rx.lock().vq = vq;
    // Frames in flight point into the socket's memory: take them back before the
    // pool goes (their skbs with them: the byte queue limits forget them).
    let tx_vq = q.tx.lock().vq.take();
    let tx_res = match tx_vq {
        Some(vq) => match vq.reset_into::<TxBuf>() {
            Ok(vq) => {
                dev.tx_reset(q.index);
                q.tx.lock().vq = Some(vq);
                Ok(())
            }
            Err((e, vq)) => {
                q.tx.lock().vq = Some(vq);
                Err(e)
            }
        },
        None => Ok(()),
    };
    q.tx.lock().xsk = None;
    res.and(tx_res)
}

/// Resets an AF_XDP receive queue back into one of the ring's own buffers. A ring
/// that could not be emptied stays bound, pool and all: the glue's wait for the
/// pool's handles then holds the unbind, with a message, rather than free the
/// socket's memory under the device (the virtio core cannot fail that way once a
/// reset succeeded: only its re-enabling can fail, after the ring was emptied).
fn back<B: Buffer>(xq: XskRxQueue, wrap: fn(Virtqueue<B>) -> RxVq) -> (RxVq, Result) {
    match xq.unbind::<B>() {
        Ok((vq, res)) => (wrap(vq), res),
        Err((e, xq)) => (RxVq::Xsk(xq), Err(e)),
    }
}

/// `ndo_xsk_wakeup`: polls the pair's receive side (the socket filled its fill
/// ring) or its transmit side (it queued frames), as `flags` ask.
pub fn wakeup(dev: &NetDev<VirtNet>, queue: u32, flags: u32) -> Result {
    let vn = dev.data();
    if !dev.is_running() {
        return Err(crate::abstractions::enetdown());
    }
    // As in-tree: only a pair in use carries a socket's traffic.
    if queue >= u32::from(vn.curr_pairs.load(Ordering::Relaxed)) {
        return Err(EINVAL);
    }
    let q = vn.queues.get(queue as usize).ok_or(EINVAL)?;
    if flags & wakeup::RX != 0 {
        q.napi.schedule_process();
    }
    if flags & wakeup::TX != 0 {
        q.tx_napi.schedule_process();
    }
    Ok(())
}

/// Sends up to `budget` of the socket's frames on the pair's transmit ring (its
/// lock held by the transmit poll). Returns whether more may be waiting.
#[inline(never)]
pub(super) fn xmit(
    dev: &NetDev<VirtNet>,
    q: &QueuePair,
    vq: &mut Virtqueue<TxBuf>,
    pool: &mut XskTxPool,
    budget: i32,
) -> bool {
    let vn = dev.data();
    // Up to three descriptors each (header, and a frame across two pages), leaving
    // the stack's packets the room `start_xmit` counts on while its queue is awake.
    let free = vq.num_free().saturating_sub(tx::STOP_THRESHOLD);
    let room = (free / 3).min(budget.max(0) as usize) as u32;
    let frames = pool.take(room, vn.hdr_len);
    let n = frames.taken();
    let mut sent = 0u32;
    for frame in frames {
        let len = frame.len();
        match vq.add(TxBuf::Xsk(frame), Gfp::Atomic) {
            Ok(()) => {
                sent += 1;
                q.stats.tx_bytes().add(len as u64);
            }
            Err((_, buf)) => {
                q.stats.tx_dropped().inc();
                drop(buf);
            }
        }
    }
    // A frame that could not be posted was completed as it was dropped. None is
    // expected (the room was checked and nothing is allocated): the socket's
    // completion ring is in order, so it would hand back the oldest frame taken,
    // which could be one the device is still reading.
    if sent > 0 && vq.kick_prepare() {
        q.stats.tx_kicks().inc();
        vq.notify();
    }
    n == room && room > 0
}

/// Receives up to `budget` packets into the pool's chunks: the ring's program (if
/// any) runs on each; a redirect to the socket is the zero copy, anything for the
/// stack or `XDP_TX` is copied out. Returns the packets processed.
#[inline(never)]
pub(super) fn receive_all(
    dev: &NetDev<VirtNet>,
    q: &QueuePair,
    poll: &Poll<'_>,
    rx: &mut RxRing,
    budget: i32,
) -> i32 {
    let RxRing {
        vq: RxVq::Xsk(xq),
        xdp_prog,
        ..
    } = rx
    else {
        return 0;
    };
    let size = xq.size();
    let buf_len = xq.buf_len() as u64;
    let mut chunks = xq.rx();
    let mut pending = xdp::Pending::default();
    let done = rx::up_to(budget, || {
        let (buf, len) = chunks.get_buf()?;
        let vn = dev.data();
        q.stats.rx_bufs().inc();
        q.stats.rx_buf_bytes().sub(buf_len);
        let len = len as usize;
        let Some(h) = (len >= vn.hdr_len)
            .then(|| buf.header())
            .and_then(|h| NetHdr::parse(h.get(..vn.hdr_len)?))
        else {
            q.stats.rx_length_errors().inc();
            return Some(());
        };
        // A frame longer than one chunk spans several buffers: dropped, as upstream
        // after 6.12 aborts it with a program attached (6.12 copied it to the stack
        // without one; the guest offloads make such frames only without one).
        if vn.rx_mode == RxMode::Mergeable {
            let Ok(n) = rx_buf::check_num_buffers(h.num_buffers, size) else {
                q.stats.rx_frame_errors().inc();
                return Some(());
            };
            if n > 1 {
                for _ in 1..n {
                    if chunks.get_buf().is_none() {
                        break;
                    }
                    q.stats.rx_bufs().inc();
                    q.stats.rx_buf_bytes().sub(buf_len);
                }
                q.stats.rx_xdp_drops().inc();
                return Some(());
            }
        }
        let Some(mut frame) = buf.into_frame(len - vn.hdr_len) else {
            q.stats.rx_length_errors().inc();
            return Some(());
        };
        match xdp_prog.as_ref() {
            Some(prog) if rules::runs_on(&h) => {
                q.stats.rx_xdp_packets().inc();
                let act = frame.run(prog, poll);
                xdp::carry_out(dev, q, poll, prog, act, frame, &h, &mut pending);
            }
            // As on the other paths: no program sees a frame with a GSO type or
            // NEEDS_CSUM.
            Some(_) => q.stats.rx_dropped().inc(),
            None => {
                let n = frame.len();
                match frame.into_skb(poll) {
                    Some(skb) => rx::deliver(dev, q, poll, skb, &h, n),
                    None => q.stats.rx_dropped().inc(),
                }
            }
        }
        Some(())
    });
    pending.flush(dev, poll);
    done
}

impl xdp::Verdict for XskFrame<'_> {
    #[inline(always)]
    fn len(&self) -> usize {
        XskFrame::len(self)
    }

    /// A copy: the chunk goes back to the pool.
    #[inline(always)]
    fn into_skb(self, _dev: &NetDev<VirtNet>, poll: &Poll<'_>) -> Option<SkBuff> {
        XskFrame::into_skb(self, poll)
    }

    #[inline(always)]
    fn redirect(self, dev: &NetDev<VirtNet>, prog: &BpfProg) -> Result {
        XskFrame::redirect(self, dev, prog)
    }
}

/// Posts the pool's chunks on the ring's free slots; if the ring is left empty, the
/// socket is told to kick when it has filled its fill ring (`need_wakeup`). An
/// empty fill ring is no allocation failure: the socket's kick
/// (`ndo_xsk_wakeup`) refills, or NAPI itself, not the deferred work's retries,
/// which raced with the binds of xskxceiver's TEARDOWN test (3 failures in 3 runs
/// with them, none since).
#[inline(never)]
pub(super) fn refill(q: &QueuePair, rx: &mut RxRing) -> rx::Refilled {
    let RxRing {
        vq: RxVq::Xsk(xq), ..
    } = rx
    else {
        return rx::Refilled::default();
    };
    let posted = xq.fill();
    q.stats.rx_buf_bytes().add((posted * xq.buf_len()) as u64);
    let kicked = posted > 0
        && rx::doorbell(q, xq.kick_prepare(), || {
            xq.notify();
        });
    // With buffers posted, the next frame brings NAPI back to refill: a kick is
    // needed only when the ring is left without any. A socket that does not kick
    // (no need_wakeup) has NAPI poll again until it has filled its ring, as `ice`
    // does (a schedule during the poll makes it poll once more).
    let dry = xq.num_free() == xq.size();
    if xq.rx_dry(dry) {
        q.napi.schedule_process();
    }
    rx::Refilled {
        alloc_failed: false,
        kicked,
    }
}
