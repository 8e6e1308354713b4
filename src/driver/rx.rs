// SPDX-License-Identifier: GPL-2.0

//! Receive path: posting buffers and turning used ones into packets.
//!
//! Three modes, chosen at probe as the in-tree driver chooses them:
//! - small buffers (no MRG_RXBUF, no guest GSO): one skb per descriptor, header + one
//!   whole frame;
//! - mergeable buffers (MRG_RXBUF): page fragments sized by the average packet
//!   length; a packet spans `num_buffers` of them (up to 64 KiB with guest GSO);
//! - big packets (guest GSO without MRG_RXBUF): a chain of pages per descriptor chain,
//!   large enough for a 64 KiB packet, whatever the packet's size.

use super::queue::{QueuePair, RxRing, RxVq, Spare};
use super::VirtNet;
use crate::abstractions::{
    frag::{self, MergedSkb, RxFrag},
    napi::Poll,
    netdev::NetDev,
    page_chain::RxPages,
    skb::{RxOffloads, RxSkb, SkBuff},
    virtqueue::{Buffer, Virtqueue},
    Gfp,
};
use crate::logic::log_format::Describe;
use crate::logic::{
    hdr::{self, NetHdr, RxCsum},
    rss_config, rx_buf,
};
use core::sync::atomic::Ordering;

/// Where refills allocate from.
#[derive(Clone, Copy)]
pub enum AllocCtx<'a, 'p> {
    /// NAPI poll: the per-CPU NAPI caches.
    Napi(&'a Poll<'p>),
    /// Process context (open, deferred work), under the ring's `spin_lock_bh`.
    Process,
}

/// What a refill did.
#[derive(Clone, Copy, Default)]
pub struct Refilled {
    /// An allocation failed before the ring was full.
    pub alloc_failed: bool,
    /// The doorbell was rung: the device asked to be told (it met a ring without
    /// room for a packet).
    pub kicked: bool,
}

#[cfg(vnr_xsk_zc)]
use super::xsk::receive_all as xsk_receive_all;

/// Never called without zero-copy: no ring holds a socket's chunks.
#[cfg(not(vnr_xsk_zc))]
fn xsk_receive_all(
    _dev: &NetDev<VirtNet>,
    _q: &QueuePair,
    _poll: &Poll<'_>,
    _rx: &mut RxRing,
    _budget: i32,
) -> i32 {
    0
}

/// Posts up to the free slots of `vq` with buffers of `len` bytes from `alloc`,
/// then rings the doorbell if the device wants it.
pub(super) fn fill_ring<B: Buffer>(
    q: &QueuePair,
    vq: &mut Virtqueue<B>,
    len: usize,
    mut alloc: impl FnMut() -> Option<B>,
) -> Refilled {
    let mut r = Refilled::default();
    let mut added = false;
    while vq.num_free() > 0 {
        let Some(buf) = alloc() else {
            r.alloc_failed = true;
            break;
        };
        match vq.add(buf, Gfp::Atomic) {
            Ok(()) => {
                added = true;
                q.stats.rx_buf_bytes().add(len as u64);
            }
            Err((_, buf)) => {
                drop(buf);
                break;
            }
        }
    }
    if added {
        r.kicked = doorbell(q, vq.kick_prepare(), || {
            vq.notify();
        });
    }
    r
}

/// After buffers were posted: rings the doorbell (`notify`) if the device asked
/// for it (`wanted`, from `kick_prepare`), counting either way. Returns whether it
/// rang.
#[inline(always)]
pub(super) fn doorbell(q: &QueuePair, wanted: bool, notify: impl FnOnce()) -> bool {
    if wanted {
        q.stats.rx_kicks().inc();
        notify();
    } else {
        q.stats.rx_kicks_suppressed().inc();
    }
    wanted
}

/// Fills the free slots of the ring.
pub fn refill(
    dev: &NetDev<VirtNet>,
    q: &QueuePair,
    rx: &mut RxRing,
    ctx: AllocCtx<'_, '_>,
) -> Refilled {
    let vn = dev.data();
    match &mut rx.vq {
        RxVq::Small(vq) => fill_ring(q, vq, vn.rx_buf_len, || match ctx {
            AllocCtx::Napi(poll) => poll.alloc_rx_skb(vn.rx_buf_len),
            AllocCtx::Process => dev.alloc_rx_skb(vn.rx_buf_len, Gfp::Atomic),
        }),
        RxVq::Mergeable(vq) => {
            let len = rx_buf::mergeable_buf_len(
                rx.avg_pkt_len.read(),
                rx.min_buf_len,
                vn.hdr_len,
                frag::FRAG_MAX,
                frag::FRAG_ALIGN,
            );
            // Count what the allocator hands out, not what was asked for.
            let len = RxFrag::granted_len(len);
            let pf = &mut rx.frag;
            let spare = &mut rx.spare;
            fill_ring(q, vq, len, || {
                // A kept buffer first (the last kept is the one most likely in cache);
                // one of another size (the average moved) is let go.
                while let Some(buf) = spare.pop() {
                    q.stats.rx_buf_bytes().sub(buf.capacity() as u64);
                    if buf.capacity() == len {
                        q.stats.rx_bufs_reused().inc();
                        return Some(buf);
                    }
                }
                RxFrag::alloc(pf, len)
            })
        }
        RxVq::Big(vq) => fill_ring(q, vq, vn.rx_big_len(), || {
            RxPages::alloc(vn.rx_big_pages, Gfp::Atomic)
        }),
        #[cfg(vnr_xsk_zc)]
        RxVq::Xsk(_) => super::xsk::refill(q, rx),
        RxVq::Detached => Refilled::default(),
    }
}

/// Receives up to the poll's budget of packets from `q` and refills the ring; with
/// budget left, completes NAPI and re-enables the ring's interrupt (the in-tree
/// driver's `virtnet_receive` and `virtqueue_napi_complete`). Returns the packets
/// processed (delivered or dropped).
///
/// The ring's lock is held once for all of it, completion included (as the transmit
/// poll does): the plain lock, bottom halves being off in a poll.
pub fn poll(dev: &NetDev<VirtNet>, q: &QueuePair, poll: Poll<'_>) -> i32 {
    let budget = poll.budget();
    let napi = poll.napi();
    let mut guard = q.rx.lock_napi(&poll);
    let rx = &mut *guard;
    let done = if rx.vq.is_xsk() {
        xsk_receive_all(dev, q, &poll, rx, budget)
    } else if rx.xdp_prog.is_some() {
        super::xdp::receive_all(dev, q, &poll, rx, budget)
    } else {
        receive_all(dev, q, &poll, rx, budget)
    };

    // Every posted buffer was used: the device may have met an empty ring.
    let ran_dry = rx.is_empty() && done > 0;
    if ran_dry {
        q.stats.rx_ran_dry().inc();
    }
    // Refill once more than half a budget of slots is free, as the in-tree driver
    // does: a packet of guest GSO spans up to 17 buffers, so waiting for half the
    // ring would leave the device short of room for the next ones.
    let threshold = core::cmp::min(budget as usize, rx.size()) / 2;
    let r = if rx.num_free() > threshold {
        refill(dev, q, rx, AllocCtx::Napi(&poll))
    } else {
        Refilled::default()
    };
    if r.alloc_failed {
        q.stats.rx_alloc_failures().inc();
        if rx.is_empty() {
            // Nothing left for the device to fill: retry from process context.
            dev.schedule_deferred();
        }
    }
    // Out of packets: ask for an interrupt for the next one. With the budget used
    // up, NAPI polls again without it.
    if done < budget {
        let opaque = rx.enable_cb_prepare();
        if !poll.complete_done(done) {
            rx.disable_cb();
        } else if rx.poll(opaque) {
            // A buffer used between the last check and re-enabling the interrupt
            // would not interrupt: poll again.
            napi.schedule_with(|| rx.disable_cb());
        }
    }
    drop(guard);
    if r.kicked {
        retry_steered(dev, q);
    }
    done
}

/// Receives up to `budget` packets without a program attached. Returns the packets
/// processed (delivered or dropped).
#[inline(always)]
fn receive_all(
    dev: &NetDev<VirtNet>,
    q: &QueuePair,
    poll: &Poll<'_>,
    rx: &mut RxRing,
    budget: i32,
) -> i32 {
    up_to(budget, || match &mut rx.vq {
        RxVq::Small(vq) => receive_small(dev, q, poll, vq),
        RxVq::Mergeable(vq) => {
            let r = receive_mergeable(dev, q, poll, vq, &mut rx.spare);
            if let Some(Some(len)) = r {
                rx.avg_pkt_len.add(len);
            }
            r.map(|_| ())
        }
        RxVq::Big(vq) => receive_big(dev, q, poll, vq),
        // `xsk::receive_all`'s.
        #[cfg(vnr_xsk_zc)]
        RxVq::Xsk(_) => None,
        RxVq::Detached => None,
    })
}

/// Calls `one` until it finds nothing more (`None`) or `budget` times; returns how
/// many times it found something.
#[inline(always)]
pub(super) fn up_to(budget: i32, mut one: impl FnMut() -> Option<()>) -> i32 {
    let mut done = 0;
    while done < budget && one().is_some() {
        done += 1;
    }
    done
}

/// After a refill the device asked to be told of (it met a ring without room for a
/// packet), with RSS: rings every other receive queue in use too. QEMU's software
/// RSS (7.2) leaves a packet whose target ring had no room queued on the queue it
/// came in on, and retries it only when *that* queue is notified, while the refill
/// notified this one. Without this, bulk TCP through RSS stalled for good once a
/// ring filled (guest idle, either driver; the in-tree driver still does).
fn retry_steered(dev: &NetDev<VirtNet>, q: &QueuePair) {
    let vn = dev.data();
    if !vn.rss.as_ref().is_some_and(|r| r.steering()) {
        return;
    }
    let curr = usize::from(vn.rx_pairs());
    for other in vn.queues.iter().take(curr) {
        if !core::ptr::eq(&**other, q) {
            other.rx.lock().notify();
        }
    }
}

/// Takes one used small buffer. `None` when the ring has nothing used.
fn receive_small(
    dev: &NetDev<VirtNet>,
    q: &QueuePair,
    poll: &Poll<'_>,
    vq: &mut Virtqueue<RxSkb>,
) -> Option<()> {
    let vn = dev.data();
    let (buf, len) = vq.get_buf()?;
    q.stats.rx_bufs().inc();
    q.stats.rx_buf_bytes().sub(vn.rx_buf_len as u64);
    let Ok(frame_len) = rx_buf::check_used_len(len, vn.hdr_len, vn.rx_buf_len) else {
        q.stats.rx_length_errors().inc();
        return Some(());
    };
    let Ok(mut skb) = buf.into_filled(len as usize) else {
        q.stats.rx_length_errors().inc();
        return Some(());
    };
    let Some(h) = skb.linear().get(..vn.hdr_len).and_then(NetHdr::parse) else {
        q.stats.rx_frame_errors().inc();
        return Some(());
    };
    if skb.pull(vn.hdr_len).is_err() {
        q.stats.rx_length_errors().inc();
        return Some(());
    }
    deliver(dev, q, poll, skb, &h, frame_len);
    Some(())
}

/// Takes one used "big packets" buffer. `None` when the ring has nothing used.
fn receive_big(
    dev: &NetDev<VirtNet>,
    q: &QueuePair,
    poll: &Poll<'_>,
    vq: &mut Virtqueue<RxPages>,
) -> Option<()> {
    let vn = dev.data();
    let (buf, len) = vq.get_buf()?;
    q.stats.rx_bufs().inc();
    q.stats.rx_buf_bytes().sub(vn.rx_big_len() as u64);
    let Ok(frame_len) = rx_buf::check_used_len(len, vn.hdr_len, vn.rx_big_len()) else {
        q.stats.rx_length_errors().inc();
        return Some(());
    };
    let Some(h) = buf.head(vn.hdr_len).and_then(NetHdr::parse) else {
        q.stats.rx_frame_errors().inc();
        return Some(());
    };
    let Some(skb) = buf.into_skb(poll, len as usize, vn.hdr_len) else {
        q.stats.rx_dropped().inc();
        return Some(());
    };
    deliver(dev, q, poll, skb, &h, frame_len);
    Some(())
}

/// Takes one used packet of mergeable buffers. `None` when the ring has nothing
/// used; `Some(Some(len))` for a delivered packet of `len` bytes (for the average),
/// `Some(None)` for a dropped one.
fn receive_mergeable(
    dev: &NetDev<VirtNet>,
    q: &QueuePair,
    poll: &Poll<'_>,
    vq: &mut Virtqueue<RxFrag>,
    spare: &mut Spare,
) -> Option<Option<usize>> {
    let vn = dev.data();
    let (first, len) = vq.get_buf()?;
    q.stats.rx_bufs().inc();
    q.stats.rx_buf_bytes().sub(first.capacity() as u64);
    let Ok(mut frame_len) = rx_buf::check_used_len(len, vn.hdr_len, first.capacity()) else {
        q.stats.rx_length_errors().inc();
        return Some(None);
    };
    let len = len as usize;
    let Some(h) = first
        .filled(len)
        .and_then(|b| b.get(..vn.hdr_len))
        .and_then(NetHdr::parse)
    else {
        q.stats.rx_length_errors().inc();
        return Some(None);
    };
    let nbufs = match rx_buf::check_num_buffers(h.num_buffers, vq.size()) {
        Ok(n) => n,
        Err(e) => {
            // The rest of the packet, if any, cannot be told apart from the next ones:
            // they fail the same checks as heads and are counted there.
            frame_error(dev, q, e.describe().0, &h, frame_len);
            return Some(None);
        }
    };
    // A small packet in one buffer is copied out, and the buffer kept for the refill
    // to post again (no page reference dropped and taken, fewer pages cut).
    if nbufs == 1 && spare.has_room() {
        if let Some(skb) = first.copy_to_skb(poll, len, vn.hdr_len) {
            let capacity = first.capacity() as u64;
            // Room was checked; were there none, the buffer would be freed.
            if spare.push(first).is_ok() {
                q.stats.rx_buf_bytes().add(capacity);
            }
            deliver(dev, q, poll, skb, &h, frame_len);
            return Some(Some(frame_len));
        }
    }
    let mut pkt = MergedSkb::new(poll, first, len, vn.hdr_len).ok();
    for i in 1..nbufs {
        let Some((buf, used)) = vq.get_buf() else {
            // The device announced more buffers than it returned.
            q.stats.rx_length_errors().inc();
            q.stats.rx_missing_bufs().add((nbufs - i) as u64);
            return Some(None);
        };
        q.stats.rx_bufs().inc();
        q.stats.rx_buf_bytes().sub(buf.capacity() as u64);
        let used = used as usize;
        if used > buf.capacity() {
            q.stats.rx_length_errors().inc();
            pkt = None;
            continue;
        }
        // Each buffer's length was checked against its capacity: a packet's buffers
        // (at most a ring's worth) add up to far less than `usize::MAX`.
        frame_len = frame_len.wrapping_add(used);
        if let Some(p) = pkt.as_mut() {
            if p.append(buf, used).is_err() {
                pkt = None;
            }
        }
    }
    let Some(pkt) = pkt else {
        q.stats.rx_dropped().inc();
        return Some(None);
    };
    deliver(dev, q, poll, pkt.finish(), &h, frame_len);
    Some(Some(frame_len))
}

/// The offload fields of a received header, as the skb applies them.
fn rx_offloads(h: &NetHdr) -> RxOffloads {
    RxOffloads {
        flags: h.flags,
        gso_type: h.gso_type,
        hdr_len: h.hdr_len,
        gso_size: h.gso_size,
        csum_start: h.csum_start,
        csum_offset: h.csum_offset,
    }
}

/// Applies the header's offload state to `skb` (a frame of `frame_len` bytes) and
/// hands it to GRO, or counts and drops it.
pub(super) fn deliver(
    dev: &NetDev<VirtNet>,
    q: &QueuePair,
    poll: &Poll<'_>,
    mut skb: SkBuff,
    h: &NetHdr,
    frame_len: usize,
) {
    let vn = dev.data();
    let offload = match hdr::rx_offload(h, vn.features, frame_len) {
        Ok(o) => o,
        Err(e) => {
            frame_error(dev, q, e.describe().0, h, frame_len);
            return;
        }
    };
    // As the in-tree driver: DATA_VALID first, then the header's checksum and GSO
    // state through the kernel's own `virtio_net_hdr_to_skb()`, before eth_type_trans
    // (the header's offsets count from the Ethernet header).
    match offload.csum {
        RxCsum::None => {}
        RxCsum::Unnecessary => {
            skb.set_csum_unnecessary();
            q.stats.rx_csum_valid().inc();
        }
        RxCsum::Partial { .. } => q.stats.rx_csum_partial().inc(),
    }
    if (offload.csum != RxCsum::None || offload.gso.is_some())
        && !skb.apply_net_hdr(&rx_offloads(h))
    {
        frame_error(dev, q, c"header contradicts the packet", h, frame_len);
        return;
    }
    if skb.is_gso() {
        q.stats.rx_gso_packets().inc();
    }
    if vn.rx_hash.load(Ordering::Relaxed) {
        if let Some(level) = rss_config::report_level(h.hash_report) {
            skb.set_hash(h.hash_value, level == rss_config::HashLevel::L4);
            q.stats.rx_hash_reports().inc();
        }
    }
    if dev.eth_type_trans(&mut skb).is_err() {
        q.stats.rx_length_errors().inc();
        return;
    }
    skb.record_rx_queue(q.index);
    q.stats.rx_packets().inc();
    q.stats.rx_bytes().add(frame_len as u64);
    poll.gro_receive(skb);
}

/// Counts a packet whose header was refused; the first few are logged, as the
/// in-tree driver's rate-limited "bad gso" warning, with the header.
fn frame_error(
    dev: &NetDev<VirtNet>,
    q: &QueuePair,
    what: &'static core::ffi::CStr,
    h: &NetHdr,
    frame_len: usize,
) {
    q.stats.rx_frame_errors().inc();
    if q.stats.rx_frame_errors().get() <= FRAME_ERRORS_LOGGED {
        crate::log_warn!(
            "%s: rx%llu: dropped: %s: flags %#llx gso_type %llu hdr_len %llu gso_size %llu csum_start %llu csum_offset %llu num_buffers %llu, frame %llu bytes\n",
            dev.name(),
            q.index,
            what,
            h.flags,
            h.gso_type,
            h.hdr_len,
            h.gso_size,
            h.csum_start,
            h.csum_offset,
            h.num_buffers,
            frame_len
        );
    }
}

/// Refused headers logged per queue before going quiet (the counter keeps counting).
const FRAME_ERRORS_LOGGED: u64 = 5;

/// Posts buffers outside of NAPI (open, deferred work). Returns false if an
/// allocation failed.
pub fn refill_process(dev: &NetDev<VirtNet>, q: &QueuePair) -> bool {
    let mut rx = q.rx.lock();
    !refill(dev, q, &mut rx, AllocCtx::Process).alloc_failed
}
