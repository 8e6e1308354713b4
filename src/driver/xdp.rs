// SPDX-License-Identifier: GPL-2.0

//! XDP: attaching a program, running it on received frames, and sending the frames
//! it sends back (`XDP_TX`) or that other devices redirect here (`ndo_xdp_xmit`).
//!
//! Each frame a program sees is copied into a buffer of its own with the headroom
//! and tailroom XDP needs (`abstractions::xdp`), from whichever receive mode it came
//! in: the rings keep the buffers they post without a program, no reposting on
//! attach. Frames to transmit become skbs around their buffers (no copy) and share
//! the transmit rings, and their lock, with the stack.

use super::queue::{QueuePair, RxRing, RxVq, Spare};
use super::{netdev_ops, rx, tx, VirtNet};
use crate::abstractions::{
    frag::{PageFrag, RxFrag},
    napi::Poll,
    netdev::{offload, NetDev},
    skb::{RxSkb, SkBuff},
    virtqueue::Virtqueue,
    xdp::{
        self, Action, BpfProg, ExtAck, PushError, RxqInfo, XdpBuff, XdpFrameBuilder, XdpScratch,
        XmitFrames,
    },
};
use crate::logic::ctrl_cmd;
use crate::logic::features::RxMode;
use crate::logic::hdr::NetHdr;
use crate::logic::{rx_buf, xdp as rules};
use core::sync::atomic::Ordering;
use kernel::prelude::*;

/// Tells the device which receive offloads to apply: none while a program is
/// attached (it would see coalesced or unchecksummed frames), else those the user
/// left on. A device without any has nothing to change.
pub(super) fn set_guest_offloads(dev: &NetDev<VirtNet>, xdp: bool) -> Result {
    let vn = dev.data();
    let all = ctrl_cmd::guest_offloads(vn.features, true);
    if all == 0 {
        return Ok(());
    }
    let bits = if xdp {
        0
    } else {
        ctrl_cmd::guest_offloads(vn.features, dev.features() & offload::GRO_HW != 0)
    };
    netdev_ops::send_guest_offloads(dev, bits)
}

/// `ndo_bpf` (`XDP_SETUP_PROG`): attaches `prog` to every receive ring, or detaches.
pub fn setup(dev: &NetDev<VirtNet>, prog: Option<BpfProg>, extack: &mut ExtAck) -> Result {
    let vn = dev.data();
    if prog.is_some() {
        if let Some(r) = rules::refusal(
            vn.features,
            vn.rx_mode == RxMode::Big,
            dev.mtu(),
            prog.as_ref().is_some_and(BpfProg::has_frags),
            xdp::MAX_FRAME,
        ) {
            extack.set_msg(r.message());
            return Err(if r.not_supported() {
                crate::abstractions::eopnotsupp()
            } else {
                EINVAL
            });
        }
    }
    let was_on = vn.xdp_on.load(Ordering::Relaxed);
    if prog.is_some() {
        // What can fail first, so that a failure leaves the old program in place.
        for q in vn.queues.iter() {
            if q.rx.lock().xdp_rxq.is_none() {
                let rxq = RxqInfo::new(dev, q.index, &q.napi)?;
                q.rx.lock().xdp_rxq = Some(rxq);
            }
        }
        if !was_on {
            if let Err(e) = set_guest_offloads(dev, true) {
                extack.set_msg(c"the device refused to turn its receive offloads off");
                return Err(e);
            }
            set_send_pairs(dev, true);
        }
    }
    for q in vn.queues.iter() {
        // The poll holds the ring's lock while it runs a program: once swapped here,
        // the old program runs no more, and its reference goes (outside the lock).
        let old = core::mem::replace(&mut q.rx.lock().xdp_prog, prog.clone());
        drop(old);
    }
    let on = prog.is_some();
    vn.xdp_on.store(on, Ordering::Relaxed);
    if was_on && !on {
        // The program is gone either way; the device keeps its offloads off if it
        // refuses (logged).
        let _ = set_guest_offloads(dev, false);
        set_send_pairs(dev, false);
    }
    Ok(())
}

/// Gives XDP pairs of its own (`on`), one per CPU after those in use if the device
/// has them (`rules::send_pairs`), or takes them back: the device is told to use
/// them (and receives on them too, as in-tree). Without them (too few, or the
/// device refuses: logged), XDP shares the stack's queues under their lock.
fn set_send_pairs(dev: &NetDev<VirtNet>, on: bool) {
    let vn = dev.data();
    let curr = vn.curr_pairs.load(Ordering::Relaxed);
    let max = u16::try_from(vn.queues.len()).unwrap_or(u16::MAX);
    let n = if on {
        rules::send_pairs(curr, max, crate::abstractions::nr_cpu_ids())
    } else {
        0
    };
    // Taking them back: no new frame goes to them from here on; those queued are
    // reaped when the device sends them, or at reset.
    if n == 0 && vn.xdp_pairs.swap(0, Ordering::Relaxed) == 0 {
        return;
    }
    let pairs = curr.saturating_add(n);
    // A device refusing to go back to `curr` pairs may still receive on XDP's
    // (logged); the stack counts them as its own no more either way, so that their
    // counters are reported once (`base_stats`).
    if super::use_pairs(dev, curr, pairs).is_ok() || !on {
        // Only fails for more queues than allocated, which `send_pairs` rules out.
        let _ = dev.set_real_num_rx_queues(u32::from(pairs));
        vn.xdp_pairs.store(n, Ordering::Relaxed);
    }
}

/// The pair whose transmit queue sends XDP frames from this CPU (`rules::send_queue`).
#[inline(never)]
fn send_pair(vn: &VirtNet) -> Option<&QueuePair> {
    let q = rules::send_queue(
        vn.curr_pairs.load(Ordering::Relaxed),
        vn.xdp_pairs.load(Ordering::Relaxed),
        crate::abstractions::this_cpu(),
    );
    vn.queues.get(q).map(|q| &**q)
}

/// The program a ring runs and the ring as XDP knows it.
struct Xdp<'a> {
    prog: &'a BpfProg,
    rxq: &'a RxqInfo,
    /// The program takes multi-buffer frames.
    frags: bool,
}

/// What the frames of one poll asked for once the poll is over.
#[derive(Default)]
pub(super) struct Pending {
    /// Frames were redirected: flush them to their targets.
    redirected: bool,
    /// The pair (index) on whose transmit queue frames were queued without a
    /// doorbell.
    sent: Option<u16>,
}

impl Pending {
    /// Flushes the poll's redirected frames and rings the doorbell of the queue
    /// its `XDP_TX` frames went to.
    pub(super) fn flush(self, dev: &NetDev<VirtNet>, poll: &Poll<'_>) {
        if self.redirected {
            xdp::flush_redirects(poll);
        }
        if let Some(tx) = self
            .sent
            .and_then(|i| dev.data().queues.get(usize::from(i)))
        {
            tx::flush_xdp(tx);
        }
    }
}

/// Receives up to `budget` packets with a program attached (the ring holds one).
/// Returns the packets processed.
pub(super) fn receive_all(
    dev: &NetDev<VirtNet>,
    q: &QueuePair,
    poll: &Poll<'_>,
    rx: &mut RxRing,
    budget: i32,
) -> i32 {
    let RxRing {
        vq,
        frag,
        spare,
        xdp_prog: Some(prog),
        xdp_rxq: Some(xdp_rxq),
        ..
    } = rx
    else {
        return 0;
    };
    let state = Xdp {
        prog,
        rxq: xdp_rxq,
        frags: prog.has_frags(),
    };
    let state = &state;
    let mut pending = Pending::default();
    let mut scratch = XdpScratch::new();
    let done = rx::up_to(budget, || match vq {
        RxVq::Small(vq) => receive_small(dev, q, poll, vq, frag, state, &mut scratch, &mut pending),
        RxVq::Mergeable(vq) => receive_mergeable(
            dev,
            q,
            poll,
            vq,
            frag,
            spare,
            state,
            &mut scratch,
            &mut pending,
        ),
        // Refused on attach; nothing is taken.
        RxVq::Big(_) | RxVq::Detached => None,
        #[cfg(vnr_xsk_zc)]
        RxVq::Xsk(_) => None,
    });
    pending.flush(dev, poll);
    done
}

/// Takes one used small buffer and runs the program on its frame. `None` when the
/// ring has nothing used.
#[allow(clippy::too_many_arguments)]
fn receive_small(
    dev: &NetDev<VirtNet>,
    q: &QueuePair,
    poll: &Poll<'_>,
    vq: &mut Virtqueue<RxSkb>,
    pf: &mut PageFrag,
    state: &Xdp<'_>,
    scratch: &mut XdpScratch,
    pending: &mut Pending,
) -> Option<()> {
    let vn = dev.data();
    let (buf, len) = vq.get_buf()?;
    q.stats.rx_bufs().inc();
    q.stats.rx_buf_bytes().sub(vn.rx_buf_len as u64);
    if rx_buf::check_used_len(len, vn.hdr_len, vn.rx_buf_len).is_err() {
        q.stats.rx_length_errors().inc();
        return Some(());
    }
    let Ok(skb) = buf.into_filled(len as usize) else {
        q.stats.rx_length_errors().inc();
        return Some(());
    };
    let bytes = skb.linear();
    let Some(h) = bytes.get(..vn.hdr_len).and_then(NetHdr::parse) else {
        q.stats.rx_frame_errors().inc();
        return Some(());
    };
    let mut frame = start_frame(q, poll, pf, state, scratch, &h);
    append(q, pf, state, &mut frame, bytes.get(vn.hdr_len..));
    if let Some(b) = frame {
        run(dev, q, poll, state, b, &h, pending);
    }
    Some(())
}

/// Takes the buffers of one used mergeable packet and runs the program on the
/// frame they hold. `None` when the ring has nothing used.
#[allow(clippy::too_many_arguments)]
fn receive_mergeable(
    dev: &NetDev<VirtNet>,
    q: &QueuePair,
    poll: &Poll<'_>,
    vq: &mut Virtqueue<RxFrag>,
    pf: &mut PageFrag,
    spare: &mut Spare,
    state: &Xdp<'_>,
    scratch: &mut XdpScratch,
    pending: &mut Pending,
) -> Option<()> {
    let vn = dev.data();
    let (first, len) = vq.get_buf()?;
    q.stats.rx_bufs().inc();
    q.stats.rx_buf_bytes().sub(first.capacity() as u64);
    if rx_buf::check_used_len(len, vn.hdr_len, first.capacity()).is_err() {
        q.stats.rx_length_errors().inc();
        return Some(());
    }
    let Some(h) = first
        .filled(len as usize)
        .and_then(|b| b.get(..vn.hdr_len))
        .and_then(NetHdr::parse)
    else {
        q.stats.rx_length_errors().inc();
        return Some(());
    };
    let Ok(nbufs) = rx_buf::check_num_buffers(h.num_buffers, vq.size()) else {
        q.stats.rx_frame_errors().inc();
        return Some(());
    };
    let mut frame = start_frame(q, poll, pf, state, scratch, &h);
    // The header is left out of the first buffer's bytes.
    let (mut buf, mut used, mut skip) = (first, len as usize, vn.hdr_len);
    let mut i = 1;
    loop {
        append(
            q,
            pf,
            state,
            &mut frame,
            buf.filled(used).and_then(|b| b.get(skip..)),
        );
        keep(q, spare, buf);
        if i >= nbufs {
            break;
        }
        let Some((next, next_used)) = vq.get_buf() else {
            q.stats.rx_length_errors().inc();
            q.stats.rx_missing_bufs().add((nbufs - i) as u64);
            return Some(());
        };
        q.stats.rx_bufs().inc();
        q.stats.rx_buf_bytes().sub(next.capacity() as u64);
        (buf, used, skip) = (next, next_used as usize, 0);
        i += 1;
    }
    if let Some(b) = frame {
        run(dev, q, poll, state, b, &h, pending);
    }
    Some(())
}

/// Keeps a buffer whose bytes were copied out to be posted again, or frees it.
fn keep(q: &QueuePair, spare: &mut Spare, buf: RxFrag) {
    let capacity = buf.capacity() as u64;
    if spare.push(buf).is_ok() {
        q.stats.rx_buf_bytes().add(capacity);
    }
}

/// An empty XDP buffer for a frame with header `h` if a program may see it;
/// counts the reason if not.
fn start_frame<'a>(
    q: &QueuePair,
    poll: &'a Poll<'_>,
    pf: &mut PageFrag,
    state: &Xdp<'a>,
    scratch: &'a mut XdpScratch,
    h: &NetHdr,
) -> Option<XdpFrameBuilder<'a>> {
    let b = if rules::runs_on(h) {
        XdpFrameBuilder::new(poll, pf, state.rxq, scratch)
    } else {
        None
    };
    if b.is_none() {
        q.stats.rx_dropped().inc();
    }
    b
}

/// Appends a buffer's bytes (`None`: beyond the buffer) to the frame being built,
/// or drops the frame, counted, if they cannot be had or do not fit: too long for a
/// program without frags (the MTU grew after attaching) is the program's drop, as
/// in-tree; no memory for a fragment is the stack's.
fn append(
    q: &QueuePair,
    pf: &mut PageFrag,
    state: &Xdp<'_>,
    frame: &mut Option<XdpFrameBuilder<'_>>,
    bytes: Option<&[u8]>,
) {
    let Some(b) = frame.as_mut() else {
        return;
    };
    let counter = match bytes.map(|bytes| b.push(pf, bytes, state.frags)) {
        Some(Ok(())) => return,
        None => q.stats.rx_length_errors(),
        Some(Err(PushError::TooLong)) => q.stats.rx_xdp_drops(),
        Some(Err(PushError::NoMemory)) => q.stats.rx_dropped(),
    };
    counter.inc();
    *frame = None;
}

/// Runs the ring's program on a frame and carries out its verdict.
fn run(
    dev: &NetDev<VirtNet>,
    q: &QueuePair,
    poll: &Poll<'_>,
    state: &Xdp<'_>,
    b: XdpFrameBuilder<'_>,
    h: &NetHdr,
    pending: &mut Pending,
) {
    q.stats.rx_xdp_packets().inc();
    let (act, buff) = b.run(state.prog);
    carry_out(dev, q, poll, state.prog, act, buff, h, pending);
}

/// A frame a program ran on, as its verdict needs it: a buffer of the driver's
/// own, or a chunk of an AF_XDP socket's (`xsk`).
pub(super) trait Verdict: Sized {
    /// The frame's length.
    fn len(&self) -> usize;
    /// The frame as an skb (for the stack or `XDP_TX`).
    fn into_skb(self, dev: &NetDev<VirtNet>, poll: &Poll<'_>) -> Option<SkBuff>;
    /// Hands the frame to the target the program chose.
    fn redirect(self, dev: &NetDev<VirtNet>, prog: &BpfProg) -> Result;
}

impl Verdict for XdpBuff<'_> {
    #[inline(always)]
    fn len(&self) -> usize {
        XdpBuff::len(self)
    }

    #[inline(always)]
    fn into_skb(self, dev: &NetDev<VirtNet>, _poll: &Poll<'_>) -> Option<SkBuff> {
        XdpBuff::into_skb(self, dev)
    }

    #[inline(always)]
    fn redirect(self, dev: &NetDev<VirtNet>, prog: &BpfProg) -> Result {
        XdpBuff::redirect(self, dev, prog)
    }
}

/// Carries out program `prog`'s verdict `act` on `frame` (its virtio-net header
/// `h`), as the in-tree driver does: counted (as received, too), traced on
/// failure, an unknown action warned about; what is left to do once the poll is
/// over goes in `pending`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn carry_out<F: Verdict>(
    dev: &NetDev<VirtNet>,
    q: &QueuePair,
    poll: &Poll<'_>,
    prog: &BpfProg,
    act: Action,
    frame: F,
    h: &NetHdr,
    pending: &mut Pending,
) {
    let len = frame.len();
    if act != Action::PASS {
        // Received all the same: the in-tree driver counts every frame the device
        // gave, whatever the program did with it (`deliver` counts those passed).
        q.stats.rx_packets().inc();
        q.stats.rx_bytes().add(len as u64);
    }
    match act {
        Action::PASS => match frame.into_skb(dev, poll) {
            Some(skb) => rx::deliver(dev, q, poll, skb, h, len),
            None => q.stats.rx_dropped().inc(),
        },
        Action::TX => {
            q.stats.rx_xdp_tx().inc();
            let mut skb = frame.into_skb(dev, poll);
            // The pair XDP sends on from this CPU, the same for the whole poll: chosen
            // once, by the poll's first frame sent.
            let vn = dev.data();
            let txq = match pending.sent.and_then(|i| vn.queues.get(usize::from(i))) {
                Some(t) => &**t,
                None => send_pair(vn).unwrap_or(q),
            };
            if tx::xmit_xdp(dev, txq, || skb.take(), false) == 1 {
                pending.sent = Some(txq.index);
            } else {
                q.stats.rx_xdp_drops().inc();
                prog.trace_exception(dev, act);
            }
        }
        Action::REDIRECT => match frame.redirect(dev, prog) {
            Ok(()) => {
                q.stats.rx_xdp_redirects().inc();
                pending.redirected = true;
            }
            Err(_) => {
                q.stats.rx_xdp_drops().inc();
                prog.trace_exception(dev, act);
            }
        },
        Action::DROP => q.stats.rx_xdp_drops().inc(),
        _ => {
            if act != Action::ABORTED {
                prog.warn_invalid_action(dev, act.0);
            }
            prog.trace_exception(dev, act);
            q.stats.rx_xdp_drops().inc();
        }
    }
}

/// `ndo_xdp_xmit`: sends frames other devices redirected here on the transmit queue
/// XDP uses on this CPU.
pub fn xmit(dev: &NetDev<VirtNet>, frames: &mut XmitFrames<'_>, flush: bool) {
    let Some(q) = send_pair(dev.data()) else {
        return;
    };
    tx::xmit_xdp(dev, q, || frames.next_skb(dev), flush);
}
