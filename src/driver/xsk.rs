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
use super::{rx, tx, VirtNet};
use crate::abstractions::{
    napi::Poll,
    netdev::{NetDev, Operations},
    virtqueue::Virtqueue,
    xdp::{self, Action, RxqInfo},
    xsk::{wakeup, TxBuf, XskPool, XskRxBuf},
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
    } else if q.rx.lock().xsk.is_none() {
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
    let rxq = RxqInfo::new_xsk(dev, q.index, &q.napi, &pool)?;
    let old = q.rx.lock().detach();
    let res = match old {
        RxVq::Small(vq) => swap(vq, &pool, RxVq::Small),
        RxVq::Mergeable(vq) => swap(vq, &pool, RxVq::Mergeable),
        other => Err((EINVAL, other)),
    };
    let mut ring = q.rx.lock();
    match res {
        Ok(vq) => {
            q.stats.rx_buf_bytes().set(0);
            ring.vq = vq;
            ring.xsk = Some((pool.clone(), rxq));
            drop(ring);
            q.tx.lock().xsk = Some(pool);
            Ok(())
        }
        Err((e, vq)) => {
            ring.vq = vq;
            Err(e)
        }
    }
}

/// Resets a receive queue into one for the pool's chunks, mapped for its device;
/// on failure, the queue as it was (`back` wraps it), empty.
fn swap<B: crate::abstractions::virtqueue::Buffer>(
    vq: Virtqueue<B>,
    pool: &XskPool,
    back: fn(Virtqueue<B>) -> RxVq,
) -> Result<RxVq, (Error, RxVq)> {
    if let Err(e) = pool.dma_map(&vq) {
        return Err((e, back(vq)));
    }
    match vq.reset_into::<XskRxBuf>() {
        Ok(vq) => Ok(RxVq::Xsk(vq)),
        Err((e, vq)) => {
            pool.dma_unmap();
            Err((e, back(vq)))
        }
    }
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
    let xsk = {
        let mut ring = q.rx.lock();
        ring.vq = vq;
        ring.xsk.take()
    };
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
    if let Some((pool, rxq)) = xsk {
        pool.dma_unmap();
        drop(rxq);
    }
    res.and(tx_res)
}

/// Resets an AF_XDP receive queue back into one of the ring's own buffers.
fn back<B: crate::abstractions::virtqueue::Buffer>(
    vq: Virtqueue<XskRxBuf>,
    wrap: fn(Virtqueue<B>) -> RxVq,
) -> (RxVq, Result) {
    match vq.reset_into::<B>() {
        Ok(vq) => (wrap(vq), Ok(())),
        Err((e, vq)) => (RxVq::Xsk(vq), Err(e)),
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
    pool: &XskPool,
    budget: i32,
) -> bool {
    let vn = dev.data();
    // Up to three descriptors each (header, and a frame across two pages), leaving
    // the stack's packets the room `start_xmit` counts on while its queue is awake.
    let free = vq.num_free().saturating_sub(tx::STOP_THRESHOLD);
    let room = (free / 3).min(budget.max(0) as usize) as u32;
    let n = pool.tx_take(room);
    let mut sent = 0u32;
    for i in 0..n {
        let Some(frame) = pool.tx_frame(i, n, vn.hdr_len) else {
            q.stats.tx_dropped().inc();
            continue;
        };
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
        vq: RxVq::Xsk(vq),
        xsk: Some((pool, _)),
        xdp_prog,
        ..
    } = rx
    else {
        return 0;
    };
    let mut redirected = false;
    let mut sent = false;
    let done = rx::up_to(budget, || {
        let (buf, len) = vq.get_buf()?;
        let vn = dev.data();
        q.stats.rx_bufs().inc();
        q.stats
            .rx_buf_bytes()
            .sub((vn.hdr_len + pool.rx_frame_size()) as u64);
        let len = len as usize;
        let Some(h) = (len >= vn.hdr_len)
            .then(|| buf.header(pool, vn.hdr_len))
            .flatten()
            .and_then(|h| NetHdr::parse(h.get(..vn.hdr_len)?))
        else {
            q.stats.rx_length_errors().inc();
            return Some(());
        };
        // A frame longer than one chunk spans several buffers: dropped, as upstream
        // after 6.12 aborts it with a program attached (6.12 copied it to the stack
        // without one; the guest offloads make such frames only without one).
        if vn.rx_mode == RxMode::Mergeable {
            let Ok(n) = rx_buf::check_num_buffers(h.num_buffers, vq.size()) else {
                q.stats.rx_frame_errors().inc();
                return Some(());
            };
            if n > 1 {
                for _ in 1..n {
                    if vq.get_buf().is_none() {
                        break;
                    }
                    q.stats.rx_bufs().inc();
                    q.stats
                        .rx_buf_bytes()
                        .sub((vn.hdr_len + pool.rx_frame_size()) as u64);
                }
                q.stats.rx_xdp_drops().inc();
                return Some(());
            }
        }
        let Some(mut frame) = buf.into_frame(pool, len - vn.hdr_len) else {
            q.stats.rx_length_errors().inc();
            return Some(());
        };
        let act = match xdp_prog.as_ref() {
            Some(prog) if rules::runs_on(&h) => {
                q.stats.rx_xdp_packets().inc();
                (frame.run(prog, poll), Some(prog))
            }
            Some(_) => {
                q.stats.rx_dropped().inc();
                return Some(());
            }
            None => (Action::PASS, None),
        };
        match act {
            (Action::REDIRECT, Some(prog)) => match frame.redirect(dev, prog) {
                Ok(()) => {
                    q.stats.rx_xdp_redirects().inc();
                    redirected = true;
                }
                Err(_) => {
                    q.stats.rx_xdp_drops().inc();
                    prog.trace_exception(dev, Action::REDIRECT);
                }
            },
            (Action::PASS, _) => {
                let n = frame.len();
                match frame.into_skb(poll) {
                    Some(skb) => rx::deliver(dev, q, poll, skb, &h, n),
                    None => q.stats.rx_dropped().inc(),
                }
            }
            (Action::TX, Some(prog)) => {
                q.stats.rx_xdp_tx().inc();
                let mut skb = frame.into_skb(poll);
                if tx::xmit_xdp(dev, q, || skb.take(), false) == 1 {
                    sent = true;
                } else {
                    q.stats.rx_xdp_drops().inc();
                    prog.trace_exception(dev, Action::TX);
                }
            }
            (act, prog) => {
                if let Some(prog) = prog {
                    if act != Action::DROP {
                        prog.trace_exception(dev, act);
                    }
                }
                q.stats.rx_xdp_drops().inc();
            }
        }
        Some(())
    });
    if redirected {
        xdp::flush_redirects(poll);
    }
    if sent {
        tx::flush_xdp(q);
    }
    done
}

/// Posts the pool's chunks on the ring's free slots; if the ring is left empty, the
/// socket is told to kick when it has filled its fill ring (`need_wakeup`). An
/// empty fill ring is no allocation failure: the socket's kick
/// (`ndo_xsk_wakeup`) refills, or NAPI itself, not the deferred work's retries,
/// which raced with the binds of xskxceiver's TEARDOWN test (3 failures in 3 runs
/// with them, none since).
#[inline(never)]
pub(super) fn refill(dev: &NetDev<VirtNet>, q: &QueuePair, rx: &mut RxRing) -> rx::Refilled {
    let vn = dev.data();
    let RxRing {
        vq: RxVq::Xsk(vq),
        xsk: Some((pool, _)),
        ..
    } = rx
    else {
        return rx::Refilled::default();
    };
    let len = vn.hdr_len + pool.rx_frame_size();
    let r = rx::fill_ring(q, vq, len, || pool.alloc_rx(vn.hdr_len));
    // With buffers posted, the next frame brings NAPI back to refill: a kick is
    // needed only when the ring is left without any. A socket that does not kick
    // (no need_wakeup) has NAPI poll again until it has filled its ring, as `ice`
    // does (a schedule during the poll makes it poll once more).
    if pool.rx_dry(vq.num_free() == vq.size()) {
        q.napi.schedule_process();
    }
    rx::Refilled {
        alloc_failed: false,
        ..r
    }
}
