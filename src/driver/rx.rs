// SPDX-License-Identifier: GPL-2.0

//! Receive path: posting buffers and turning used ones into packets.
//!
//! Mode: small buffers (one skb per descriptor, header + one whole frame). The
//! mergeable and big-packet modes come with the feature-parity work.

use super::queue::{QueuePair, RxRing};
use super::VirtNet;
use crate::abstractions::{napi::Poll, netdev::NetDev, skb::RxSkb, Gfp};
use crate::logic::{
    hdr::{self, NetHdr, RxCsum},
    rx_buf,
};

/// Fills the free slots of the ring with buffers from `alloc`, then rings the
/// doorbell if the device wants it. Returns false if an allocation failed.
pub fn refill(q: &QueuePair, rx: &mut RxRing, mut alloc: impl FnMut() -> Option<RxSkb>) -> bool {
    let mut ok = true;
    let mut added = false;
    while rx.vq.num_free() > 0 {
        let Some(buf) = alloc() else {
            ok = false;
            break;
        };
        match rx.vq.add(buf, Gfp::Atomic) {
            Ok(()) => added = true,
            Err((_, buf)) => {
                drop(buf);
                break;
            }
        }
    }
    if added && rx.vq.kick_prepare() {
        q.stats.rx_kicks.inc();
        rx.vq.notify();
    }
    ok
}

/// Receives up to the poll's budget of packets from `q`; returns how many used
/// buffers were processed.
pub fn receive(dev: &NetDev<VirtNet>, q: &QueuePair, poll: &Poll<'_>) -> i32 {
    let vn = dev.data();
    let budget = poll.budget();
    let mut done = 0;
    let mut rx = q.rx.lock();
    while done < budget {
        let Some((buf, len)) = rx.vq.get_buf() else {
            break;
        };
        done += 1;
        let frame_len = match rx_buf::check_used_len(len, vn.hdr_len, vn.rx_buf_len) {
            Ok(n) => n,
            Err(_) => {
                q.stats.rx_length_errors.inc();
                continue;
            }
        };
        let mut skb = match buf.into_filled(len as usize) {
            Ok(skb) => skb,
            Err(_) => {
                q.stats.rx_length_errors.inc();
                continue;
            }
        };
        let offload = NetHdr::parse(&skb.linear()[..vn.hdr_len])
            .ok_or(hdr::HdrError::BadGso)
            .and_then(|h| hdr::rx_offload(&h, vn.features, frame_len));
        let Ok(offload) = offload else {
            q.stats.rx_frame_errors.inc();
            continue;
        };
        if skb.pull(vn.hdr_len).is_err() {
            q.stats.rx_length_errors.inc();
            continue;
        }
        // Offsets in the header count from the Ethernet header: apply them before
        // eth_type_trans pulls it.
        match offload.csum {
            RxCsum::None => {}
            RxCsum::Unnecessary => skb.set_csum_unnecessary(),
            RxCsum::Partial { start, offset } => {
                if !skb.set_partial_csum(start, offset) {
                    q.stats.rx_frame_errors.inc();
                    continue;
                }
            }
        }
        if dev.eth_type_trans(&mut skb).is_err() {
            q.stats.rx_length_errors.inc();
            continue;
        }
        skb.record_rx_queue(q.index);
        q.stats.rx_packets.inc();
        q.stats.rx_bytes.add(frame_len as u64);
        poll.gro_receive(skb);
    }

    // Refill once half the ring is free, as the in-tree driver does: fewer, larger
    // batches mean fewer doorbells.
    if rx.vq.num_free() > rx.vq.size() / 2 {
        if !refill(q, &mut rx, || poll.alloc_rx_skb(vn.rx_buf_len)) {
            q.stats.rx_dropped.inc();
            if rx.vq.num_free() == rx.vq.size() {
                // Nothing left for the device to fill: retry from process context.
                dev.schedule_deferred();
            }
        }
    }
    done
}

/// Posts buffers outside of NAPI (open, deferred work).
pub fn refill_process(dev: &NetDev<VirtNet>, q: &QueuePair) -> bool {
    let vn = dev.data();
    let mut rx = q.rx.lock();
    refill(q, &mut rx, || dev.alloc_rx_skb(vn.rx_buf_len, Gfp::Atomic))
}
