// SPDX-License-Identifier: GPL-2.0

//! The network interface's operations: open, stop, transmit, NAPI poll, statistics,
//! offloads, VLAN and receive filters, the MAC address, the transmit watchdog, and
//! the deferred work (link state, refill retries).

use super::queue::QueuePair;
use super::stats::acc;
use super::{ctrl, rx, tx, xdp, VirtNet};
use crate::abstractions::eopnotsupp;
use crate::abstractions::{
    napi::{NetpollPoll, Poll},
    netdev::{offload, NetDev, Operations, Stats64},
    skb::SkBuff,
    txq::XmitLock,
    xdp::{BpfProg, ExtAck, XmitFrames},
};
use crate::logic::ctrl_cmd;
use crate::logic::features::{self, config_offset};
use core::sync::atomic::Ordering;
use kernel::{c_str, prelude::*, str::CStr};

/// Delay before retrying to fill an empty receive ring (the in-tree driver: HZ/2).
const REFILL_RETRY_MS: u32 = 500;

/// Tells the device which receive offloads to apply (`GUEST_*` bits), which only
/// CTRL_GUEST_OFFLOADS allows.
pub(super) fn send_guest_offloads(dev: &NetDev<VirtNet>, bits: u64) -> Result {
    let vn = dev.data();
    let c = match vn.ctrl.as_ref() {
        Some(c) if vn.features.has(features::CTRL_GUEST_OFFLOADS) => c,
        _ => return Err(EINVAL),
    };
    c.send(
        ctrl_cmd::CLASS_GUEST_OFFLOADS,
        ctrl_cmd::GUEST_OFFLOADS_SET,
        &bits.to_le_bytes(),
    )
    .inspect_err(|_| {
        crate::log_warn!(
            "%s: device refused guest offloads %#llx\n",
            dev.name(),
            bits
        )
    })
}

/// Turns the device's receive coalescing on or off (`ethtool -K rx-gro-hw`; GRO_HW
/// is a hw_feature only with CTRL_GUEST_OFFLOADS).
fn set_gro_hw(dev: &NetDev<VirtNet>, on: bool) -> Result {
    send_guest_offloads(dev, ctrl_cmd::guest_offloads(dev.data().features, on))
}

/// After system sleep: the reset device applies every offload it negotiated again;
/// turn off what the user had (`ethtool -K rx-gro-hw off`), or all of them under XDP.
pub(super) fn restore_gro_hw(dev: &NetDev<VirtNet>) {
    let vn = dev.data();
    if vn.xdp_on.load(Ordering::Relaxed) {
        let _ = xdp::set_guest_offloads(dev, true);
    } else if features::offloads(vn.features).gro_hw
        && vn.features.has(features::CTRL_GUEST_OFFLOADS)
        && dev.features() & offload::GRO_HW == 0
    {
        let _ = set_gro_hw(dev, false);
    }
}

/// Adds or removes VLAN `vid` in the device's filter (CTRL_VLAN). Without the
/// feature the device filters no VLAN and there is nothing to tell it.
fn vlan_cmd(dev: &NetDev<VirtNet>, cmd: u8, vid: u16) -> Result {
    let vn = dev.data();
    match vn.ctrl.as_ref() {
        Some(c) if vn.features.has(features::CTRL_VLAN) && vid <= ctrl_cmd::VLAN_MAX_VID => c
            .send(ctrl_cmd::CLASS_VLAN, cmd, &vid.to_le_bytes())
            .inspect_err(|_| {
                crate::log_warn!(
                    "%s: device refused VLAN %llu command %llu\n",
                    dev.name(),
                    vid,
                    cmd
                )
            }),
        _ => Ok(()),
    }
}

#[vtable]
impl Operations for VirtNet {
    fn open(dev: &NetDev<Self>) -> Result {
        // As in-tree, only the pairs in use get receive buffers (the device may have
        // many more than there are CPUs); `set_channels` fills the others when they
        // come into use.
        let in_use = usize::from(dev.data().rx_pairs());
        for q in dev.data().queues.iter() {
            if usize::from(q.index) < in_use {
                fill_rx(dev, q);
            }
            q.napi.enable();
            q.tx_napi.enable();
            // Catch buffers used while NAPI was off. Under the lock, bottom halves are
            // off, so the polls run as soon as the lock is released.
            let _rx = q.rx.lock();
            q.napi.schedule();
            q.tx_napi.schedule();
        }
        // With RSS, a packet that arrived before its target ring had buffers waits
        // on the queue it came in on, and QEMU's software RSS retries it only when
        // *that* queue is notified: the rings were filled one after the other
        // above, so ring every one once more now that all have buffers. (Both this
        // driver and in-tree lost ARP replies and pings for good after boot
        // without it, in about 1 boot in 3 with rss=on and 4 pairs.)
        if dev.data().rss.as_ref().is_some_and(|r| r.steering()) {
            for q in dev.data().queues.iter() {
                q.rx.lock().notify();
            }
        }
        dev.tx_start_all();
        Ok(())
    }

    fn stop(dev: &NetDev<Self>) -> Result {
        dev.tx_disable();
        for q in dev.data().queues.iter() {
            q.napi.disable();
            q.tx_napi.disable();
        }
        Ok(())
    }

    fn start_xmit(dev: &NetDev<Self>, skb: SkBuff, held: &mut XmitLock) {
        tx::start_xmit(dev, skb, held)
    }

    fn poll(dev: &NetDev<Self>, poll: Poll<'_>) -> i32 {
        // NAPI ids are virtqueue indices: even for receive, odd for transmit.
        let id = poll.napi().index();
        let Some(q) = dev.data().queues.get(id / 2) else {
            return 0;
        };
        if id % 2 == 1 {
            return tx::poll(dev, q, poll);
        }
        q.stats.polls().inc();
        tx::try_clean(dev, q, &poll);
        rx::poll(dev, q, poll)
    }

    fn netpoll_poll(dev: &NetDev<Self>, poll: NetpollPoll<'_>) {
        // netpoll polls every context: each pair's transmit ring is cleaned from
        // both of its contexts, the second finding little. Nothing is received.
        if let Some(q) = dev.data().queues.get(poll.napi().index() / 2) {
            tx::try_clean(dev, q, &poll);
        }
    }

    fn get_stats64(dev: &NetDev<Self>, s: &mut Stats64) {
        for q in dev.data().queues.iter() {
            let st = &q.stats;
            acc(&mut s.rx_packets, st.rx_packets().get());
            acc(&mut s.rx_bytes, st.rx_bytes().get());
            acc(&mut s.rx_length_errors, st.rx_length_errors().get());
            acc(&mut s.rx_frame_errors, st.rx_frame_errors().get());
            acc(
                &mut s.rx_errors,
                st.rx_length_errors()
                    .get()
                    .wrapping_add(st.rx_frame_errors().get()),
            );
            acc(&mut s.rx_dropped, st.rx_dropped().get());
            acc(&mut s.tx_packets, st.tx_packets().get());
            acc(&mut s.tx_bytes, st.tx_bytes().get());
            acc(&mut s.tx_dropped, st.tx_dropped().get());
            // As in-tree: a transmit timeout is the interface's transmit error.
            acc(&mut s.tx_errors, st.tx_timeouts().get());
        }
    }

    fn set_features(dev: &NetDev<Self>, changed: u64, wanted: u64) -> Result {
        if changed & offload::GRO_HW != 0 {
            // The device's offloads stay off while a program is attached.
            if dev.data().xdp_on.load(Ordering::Relaxed) {
                return Err(EBUSY);
            }
            set_gro_hw(dev, wanted & offload::GRO_HW != 0)?;
        }
        if changed & offload::RXHASH != 0 {
            let r = dev.data().rss.as_ref().ok_or(EINVAL)?;
            r.set_rx_hash(dev, wanted & offload::RXHASH != 0)?;
        }
        Ok(())
    }

    fn vlan_add(dev: &NetDev<Self>, vid: u16) -> Result {
        vlan_cmd(dev, ctrl_cmd::VLAN_ADD, vid)
    }

    fn vlan_del(dev: &NetDev<Self>, vid: u16) -> Result {
        vlan_cmd(dev, ctrl_cmd::VLAN_DEL, vid)
    }

    fn tx_timeout(dev: &NetDev<Self>, queue: u32) {
        let Some(q) = dev.data().queues.get(queue as usize) else {
            return;
        };
        q.stats.tx_timeouts().inc();
        let (free, size) = {
            let tx = q.tx.lock();
            tx.vq.as_ref().map_or((0, 0), |v| (v.num_free(), v.size()))
        };
        crate::log_err!(
            "%s: TX timeout on queue %llu: %llu of %llu descriptors in flight; polling and kicking\n",
            dev.name(),
            queue,
            size.saturating_sub(free),
            size,
        );
        // Recover from a lost interrupt or doorbell: reap what the device finished (NAPI
        // wakes the queue when there is room) and tell the device about what it has.
        q.tx_napi.schedule();
        tx::kick(q);
    }

    fn set_rx_mode(dev: &NetDev<Self>) {
        if let Some(c) = dev.data().ctrl.as_ref() {
            c.mark_rx_mode();
            dev.schedule_deferred();
        }
    }

    fn set_mac_address(dev: &NetDev<Self>, addr: &[u8; 6]) -> Result {
        let vn = dev.data();
        // As in-tree: the failover pair is made by the address; the standby keeps it.
        if vn.features.has(features::STANDBY) {
            return Err(eopnotsupp());
        }
        match vn.ctrl.as_ref() {
            Some(c) if vn.features.has(features::CTRL_MAC_ADDR) => c
                .send(ctrl_cmd::CLASS_MAC, ctrl_cmd::MAC_ADDR_SET, addr)
                .inspect_err(|_| {
                    crate::log_warn!("%s: device refused MAC address %pM\n", dev.name(), addr)
                }),
            // A VERSION_1 device without CTRL_MAC_ADDR has no way to learn it; the in-tree
            // driver takes the address all the same (legacy config writes are not needed:
            // legacy devices are refused).
            _ => Ok(()),
        }
    }

    fn phys_port_name(dev: &NetDev<Self>) -> Result<&'static CStr> {
        // As in-tree: the standby half of a failover pair says so.
        if dev.data().features.has(features::STANDBY) {
            Ok(c_str!("sby"))
        } else {
            Err(eopnotsupp())
        }
    }

    fn xdp_setup(dev: &NetDev<Self>, prog: Option<BpfProg>, extack: &mut ExtAck) -> Result {
        xdp::setup(dev, prog, extack)
    }

    fn xdp_xmit(dev: &NetDev<Self>, frames: &mut XmitFrames<'_>, flush: bool) {
        xdp::xmit(dev, frames, flush)
    }

    // AF_XDP zero-copy is left out of a build without it (Kbuild: VNR_XSK_ZC=n).
    const HAS_XSK_SETUP: bool = cfg!(vnr_xsk_zc);
    const HAS_XSK_WAKEUP: bool = cfg!(vnr_xsk_zc);

    #[cfg(vnr_xsk_zc)]
    fn xsk_setup(
        dev: &NetDev<Self>,
        queue: u16,
        pool: Option<crate::abstractions::xsk::XskPool>,
    ) -> Result {
        super::xsk::setup(dev, queue, pool)
    }

    #[cfg(vnr_xsk_zc)]
    fn xsk_wakeup(dev: &NetDev<Self>, queue: u32, flags: u32) -> Result {
        super::xsk::wakeup(dev, queue, flags)
    }

    fn deferred(dev: &NetDev<Self>) {
        let vn = dev.data();
        vn.update_settings();
        if let Some(c) = vn.ctrl.as_ref() {
            if c.take_rx_mode() {
                ctrl::apply_rx_mode(dev, c);
            }
        }
        if vn.features.has(features::STATUS) {
            let status = vn.vdev.read_config_u16(config_offset::STATUS);
            if status & features::STATUS_ANNOUNCE != 0 && vn.features.has(features::GUEST_ANNOUNCE)
            {
                // The device asks us to announce ourselves (e.g. after migration), then
                // to say so, which clears the request.
                dev.notify_peers();
                if let Some(c) = vn.ctrl.as_ref() {
                    if c.send(ctrl_cmd::CLASS_ANNOUNCE, ctrl_cmd::ANNOUNCE_ACK, &[])
                        .is_err()
                    {
                        crate::log_warn!("%s: device refused the announcement ack\n", dev.name());
                    }
                }
            }
            if status & features::STATUS_LINK_UP != 0 {
                dev.carrier_on();
            } else {
                dev.carrier_off();
            }
        }
        // A receive ring left empty by an allocation failure gets another chance, and
        // another one later for as long as memory stays short: an empty ring gets no
        // interrupt, so nothing else would ever refill it.
        let in_use = usize::from(vn.rx_pairs());
        for q in vn.queues.iter().take(in_use) {
            let empty = q.rx.lock().is_empty();
            if empty && !rx::refill_process(dev, q) {
                let rx = q.rx.lock();
                if rx.is_empty() {
                    // Counted under the ring's lock: NAPI is the counter's other writer.
                    q.stats.rx_alloc_failures().inc();
                    drop(rx);
                    dev.schedule_deferred_after(REFILL_RETRY_MS);
                }
            }
        }
    }
}

/// Posts receive buffers on `q`'s ring (process context). As in-tree, the interface
/// goes on without them if memory is short: the deferred work retries until it
/// returns.
pub(super) fn fill_rx(dev: &NetDev<VirtNet>, q: &QueuePair) {
    if !rx::refill_process(dev, q) && q.rx.lock().is_empty() {
        crate::log_warn!(
            "%s: no memory for receive buffers yet; retrying\n",
            dev.name()
        );
        dev.schedule_deferred_after(REFILL_RETRY_MS);
    }
}
