// SPDX-License-Identifier: GPL-2.0

//! Transmit path: header, descriptors, doorbell batching, stop/wake, completions.

#[cfg(not(vnr_xsk_zc))]
use super::queue::XskTxPool;
use super::queue::{QueuePair, TxBuf, TxRing};
use super::VirtNet;
use crate::abstractions::{
    napi::{Poll, PollContext},
    netdev::{self, NetDev},
    skb::{SkBuff, TxSkb},
    txq::XmitLock,
    virtqueue::{Virtqueue, MAX_SG},
    Gfp,
};
use crate::logic::{features, hdr};

/// Ring slots a packet may need: a header, the linear part and every fragment. The
/// queue stops below this, so a packet the stack hands over always fits.
pub(super) const STOP_THRESHOLD: usize = MAX_SG;

/// A packet as the transmit ring's buffer.
#[cfg(vnr_xsk_zc)]
#[inline(always)]
fn ring_buf(buf: TxSkb) -> TxBuf {
    TxBuf::Skb(buf)
}

/// A packet as the transmit ring's buffer.
#[cfg(not(vnr_xsk_zc))]
#[inline(always)]
fn ring_buf(buf: TxSkb) -> TxBuf {
    buf
}

/// The packet of a completed buffer; `None` for an AF_XDP socket's frame.
#[cfg(vnr_xsk_zc)]
#[inline(always)]
fn ring_skb(buf: TxBuf) -> Option<SkBuff> {
    buf.into_skb()
}

/// The packet of a completed buffer.
#[cfg(not(vnr_xsk_zc))]
#[inline(always)]
fn ring_skb(buf: TxBuf) -> Option<SkBuff> {
    Some(buf.into_skb())
}

#[cfg(vnr_xsk_zc)]
use super::xsk::xmit as xsk_xmit;

/// Never called without zero-copy: there is no pool.
#[cfg(not(vnr_xsk_zc))]
fn xsk_xmit(
    _dev: &NetDev<VirtNet>,
    _q: &QueuePair,
    _vq: &mut Virtqueue<TxBuf>,
    pool: &mut XskTxPool,
    _budget: i32,
) -> bool {
    match *pool {}
}

/// Reaps the packets the device finished sending; `free` consumes each one. The
/// byte queue limits learn what completed (serialised by the ring's lock); an
/// AF_XDP socket's frames go back to it as they are dropped.
fn reap(
    dev: &NetDev<VirtNet>,
    q: &QueuePair,
    vq: &mut Virtqueue<TxBuf>,
    mut free: impl FnMut(SkBuff),
) {
    let (mut packets, mut bytes, mut frames) = (0u32, 0u32, 0u32);
    while let Some((buf, _len)) = vq.get_buf() {
        let Some(skb) = ring_skb(buf) else {
            frames = frames.wrapping_add(1);
            continue;
        };
        let len = skb.len() as u32;
        packets += 1;
        bytes = bytes.wrapping_add(len);
        free(skb);
    }
    if packets > 0 {
        q.stats.tx_packets().add(u64::from(packets));
        q.stats.tx_bytes().add(u64::from(bytes));
        dev.tx_completed(q.index, packets, bytes);
    }
    if frames > 0 {
        q.stats.tx_packets().add(u64::from(frames));
    }
}

/// Reaps with the completion interrupt off, then asks for it again once most
/// packets in flight are sent (EVENT_IDX, `enable_cb_delayed`), as the in-tree
/// driver does: one interrupt per few packets instead of one per completion batch.
/// If that point has passed already, reaps and asks again.
fn reap_rearmed(
    dev: &NetDev<VirtNet>,
    q: &QueuePair,
    vq: &mut Virtqueue<TxBuf>,
    mut free: impl FnMut(SkBuff),
) {
    loop {
        vq.disable_cb();
        reap(dev, q, vq, &mut free);
        if vq.enable_cb_delayed() {
            break;
        }
    }
}

/// Wakes the queue if it was stopped and there is room again.
fn maybe_wake(dev: &NetDev<VirtNet>, q: &QueuePair, vq: &Virtqueue<TxBuf>) {
    if dev.subqueue_stopped(q.index) && vq.num_free() >= STOP_THRESHOLD {
        q.stats.tx_wakes().inc();
        dev.wake_subqueue(q.index);
    }
}

/// `ndo_start_xmit`, under the lock of the packet's transmit queue (`held`).
pub fn start_xmit(dev: &NetDev<VirtNet>, skb: SkBuff, held: &mut XmitLock) {
    let vn = dev.data();
    let qi = skb.queue_mapping();
    let Some(q) = vn.queues.get(usize::from(qi)) else {
        // The stack only picks queues the device has; drop anything else.
        return;
    };

    // One read of what the packet asks for and where its header goes; also its
    // software timestamp, before the device may see it.
    let draft = match TxSkb::begin(skb, vn.hdr_len, features::any_header_sg(vn.features)) {
        Ok(draft) => draft,
        Err(skb) => {
            q.stats.tx_dropped().inc();
            drop(skb);
            return;
        }
    };
    let r = draft.request();
    let req = hdr::TxRequest {
        partial_csum: r.partial_csum,
        csum_start: r.csum_start,
        csum_offset: r.csum_offset,
        gso_size: r.gso_size,
        gso_type: r.gso_type,
        headlen: r.headlen,
    };
    let Ok(h) = hdr::tx_hdr(&req, vn.features) else {
        // The netdev features follow the negotiated ones, so the stack never asks for
        // an offload the device lacks; count it if it does.
        q.stats.tx_dropped().inc();
        drop(draft.into_skb());
        return;
    };
    if req.gso_size != 0 {
        q.stats.tx_gso_packets().inc();
    }
    if req.partial_csum {
        q.stats.tx_csum_partial().inc();
    }
    let hdr = h.to_bytes();
    let len = draft.len() as u32;
    let buf = match draft.finish(hdr.get(..vn.hdr_len).unwrap_or(&hdr)) {
        Ok(buf) => {
            if !buf.header_in_headroom() {
                q.stats.tx_hdr_separate().inc();
            }
            buf
        }
        Err(skb) => {
            q.stats.tx_dropped().inc();
            drop(skb);
            return;
        }
    };

    // The stack holds the queue's lock for the packet's queue, which is this pair's.
    let Some(TxRing { vq: Some(vq), .. }) = q.tx.get(held) else {
        // The ring is being resized; the stack was told to stop before that.
        q.stats.tx_dropped().inc();
        drop(buf.into_skb());
        return;
    };
    // Free what the device already sent, so the ring has room (as the in-tree
    // driver's free_old_xmit does), with the completion interrupt off meanwhile. It
    // is asked for again at the end of a burst, or by the completion NAPI.
    let more = netdev::xmit_more();
    if more {
        vq.disable_cb();
        reap(dev, q, vq, SkBuff::consume_any);
    } else {
        reap_rearmed(dev, q, vq, SkBuff::consume_any);
    }
    let mut kick = match vq.add(ring_buf(buf), Gfp::Atomic) {
        Ok(()) => dev.tx_sent(qi, len, more),
        Err((_, buf)) => {
            q.stats.tx_dropped().inc();
            drop(buf);
            !more
        }
    };

    if vq.num_free() < STOP_THRESHOLD {
        dev.stop_subqueue(qi);
        q.stats.tx_stops().inc();
        // Ask for an interrupt once most pending packets are sent; if some already
        // are, reap them now and maybe carry on.
        if !vq.enable_cb_delayed() {
            reap(dev, q, vq, SkBuff::consume_any);
            maybe_wake(dev, q, vq);
        }
    }

    // Batch doorbells: ring only for the last packet of a burst, or when stopped (by
    // us or by the byte queue limits).
    kick |= dev.subqueue_stopped(qi);
    if !kick {
        q.stats.tx_xmit_more().inc();
    } else if vq.kick_prepare() {
        q.stats.tx_kicks().inc();
        vq.notify();
    } else {
        q.stats.tx_kicks_suppressed().inc();
    }
}

/// Sends XDP frames, as skbs around their buffers, through the device's own
/// `start_xmit` on the transmit queue of `q`, under its lock as the stack does:
/// `next` gives the frames; the doorbell is rung after the last if `flush`, else
/// later by [`flush_xdp`]. Counts and returns the frames the ring took.
pub fn xmit_xdp(
    dev: &NetDev<VirtNet>,
    q: &QueuePair,
    mut next: impl FnMut() -> Option<SkBuff>,
    flush: bool,
) -> u32 {
    let mut sent = 0u32;
    let mut skb = next();
    while let Some(this) = skb {
        skb = next();
        let more = skb.is_some() || !flush;
        q.tx.start_xmit(dev, this, more, |taken| {
            if taken {
                sent = sent.wrapping_add(1);
                q.stats.tx_xdp_tx().inc();
            } else {
                q.stats.tx_xdp_tx_drops().inc();
            }
        });
    }
    sent
}

/// Rings the doorbell for XDP frames queued without one, and asks for the
/// completion interrupt again (queueing them turned it off); if completions came
/// meanwhile, the transmit NAPI reaps them.
pub fn flush_xdp(q: &QueuePair) {
    let mut tx = q.tx.lock();
    let Some(vq) = tx.vq.as_mut() else {
        return;
    };
    if vq.kick_prepare() {
        q.stats.tx_kicks().inc();
        vq.notify();
    }
    if !vq.enable_cb_delayed() {
        q.tx_napi.schedule();
    }
}

/// Transmit completions, from the receive poll or from netpoll: reaped only if
/// nobody holds the ring (as the in-tree driver's `virtnet_poll_cleantx` with
/// `__netif_tx_trylock`). A transmitter holding it reaps for itself, and the
/// transmit NAPI runs on the completion interrupt; spinning here would hold
/// received packets back behind a doorbell write in progress on another CPU, and
/// under netpoll could spin on a holder it interrupted.
pub fn try_clean(dev: &NetDev<VirtNet>, q: &QueuePair, poll: &impl PollContext) {
    let Some(mut tx) = q.tx.try_lock_napi(poll) else {
        return;
    };
    let TxRing { vq: Some(vq), .. } = &mut *tx else {
        return;
    };
    reap_rearmed(dev, q, vq, |skb| poll.consume_skb(skb));
    maybe_wake(dev, q, vq);
}

/// The transmit NAPI's poll (the in-tree driver's `virtnet_poll_tx`): reaps
/// completions, wakes the queue, and re-enables the completion interrupt. Returns
/// 0: completions are not received packets and never use the budget.
pub fn poll(dev: &NetDev<VirtNet>, q: &QueuePair, poll: Poll<'_>) -> i32 {
    q.stats.tx_polls().inc();
    let napi = poll.napi();
    let mut tx = q.tx.lock_napi(&poll);
    let TxRing { vq: Some(vq), xsk } = &mut *tx else {
        // Taken out for a resize, with NAPI about to be disabled.
        poll.complete_done(0);
        return 0;
    };
    vq.disable_cb();
    reap(dev, q, vq, |skb| poll.consume_skb(skb));
    maybe_wake(dev, q, vq);
    // An AF_XDP socket's frames, as many as the ring and the budget take: with more
    // waiting, poll again.
    let more = xsk
        .as_mut()
        .is_some_and(|pool| xsk_xmit(dev, q, vq, pool, poll.budget()));
    let opaque = vq.enable_cb_prepare();
    // Completed under the ring's lock, so `start_xmit` never sees the interrupt state
    // half changed.
    if !poll.complete_done(0) {
        vq.disable_cb();
    } else if more || vq.poll(opaque) {
        // A completion between the last reap and re-enabling the interrupt would not
        // interrupt: poll again (still under the lock, which completions need anyway).
        napi.schedule_with(|| vq.disable_cb());
    }
    0
}

/// Rings the transmit doorbell unconditionally (timeout recovery).
pub fn kick(q: &QueuePair) {
    let mut tx = q.tx.lock();
    if let Some(vq) = tx.vq.as_mut() {
        vq.kick_prepare();
        q.stats.tx_kicks().inc();
        vq.notify();
    }
}
