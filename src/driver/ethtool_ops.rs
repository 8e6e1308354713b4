// SPDX-License-Identifier: GPL-2.0

//! What the interface offers to ethtool: driver information, link settings, ring
//! sizes, channels, coalescing, RSS, and the per-queue counters of `ethtool -S`.

use super::stats::STATS;
use super::{VirtNet, DRIVER_NAME, DRIVER_VERSION};
use crate::abstractions::{
    eopnotsupp,
    ethtool::{self, Channels, Coalesce, DrvInfo, LinkSettings, RingSizes, StatNames},
    netdev::{self, NetDev},
};
use crate::logic::coalesce::{self, CoalesceError};
use crate::logic::features;
use crate::logic::rx_buf;
use crate::logic::stats_names::{self, Dir};
use core::sync::atomic::Ordering;
use kernel::prelude::*;

#[vtable]
impl ethtool::Operations for VirtNet {
    fn link_settings(dev: &NetDev<Self>) -> LinkSettings {
        let vn = dev.data();
        LinkSettings {
            speed: vn.speed.load(Ordering::Relaxed),
            duplex: vn.duplex.load(Ordering::Relaxed),
        }
    }

    fn ring_sizes(dev: &NetDev<Self>) -> RingSizes {
        let Some(q) = dev.data().queues.first() else {
            return RingSizes::default();
        };
        let (rx, rx_max) = {
            let r = q.rx.lock();
            (r.size() as u32, r.vq.size_max() as u32)
        };
        let (tx, tx_max) =
            q.tx.lock()
                .vq
                .as_ref()
                .map_or((0, 0), |v| (v.size() as u32, v.size_max() as u32));
        RingSizes {
            rx_max,
            rx,
            tx_max,
            tx,
        }
    }

    fn set_ring_sizes(dev: &NetDev<Self>, rx: u32, tx: u32, rx_mini: u32, rx_jumbo: u32) -> Result {
        let vn = dev.data();
        let cur = Self::ring_sizes(dev);
        let packed = vn.features.has(features::RING_PACKED);
        features::check_ring_size(rx, cur.rx_max, packed).map_err(|_| EINVAL)?;
        features::check_ring_size(tx, cur.tx_max, packed).map_err(|_| EINVAL)?;
        if rx < features::min_rx_ring(vn.features, vn.rx_mode, vn.rx_big_pages) {
            return Err(EINVAL);
        }
        if rx_mini != 0 || rx_jumbo != 0 {
            return Err(EINVAL);
        }
        if rx == cur.rx && tx == cur.tx {
            return Ok(());
        }
        if !vn.features.has(features::RING_RESET) {
            return Err(eopnotsupp());
        }
        // Resizing sleeps and drops what is posted: quiesce the interface, take each
        // queue out of its lock, resize it, put it back, and start again.
        let running = dev.is_running();
        if running {
            <Self as netdev::Operations>::stop(dev)?;
        }
        let mut res = Ok(());
        for q in vn.queues.iter() {
            if rx != cur.rx {
                let mut vq = q.rx.lock().detach();
                res = res.and(vq.resize(rx));
                // Resizing drops every posted buffer, whether it succeeds or not.
                q.stats.rx_buf_bytes().set(0);
                let mut ring = q.rx.lock();
                ring.vq = vq;
                ring.min_buf_len = rx_buf::mergeable_min_buf_len(
                    vn.hdr_len,
                    ring.size(),
                    usize::from(vn.max_mtu),
                    features::guest_gso(vn.features),
                );
            }
            if tx != cur.tx {
                let vq = q.tx.lock().vq.take();
                if let Some(mut vq) = vq {
                    let in_flight = vq.size().saturating_sub(vq.num_free());
                    res = res.and(vq.resize(tx));
                    let mut ring = q.tx.lock();
                    // Packets dropped with the old ring never complete: forget them in
                    // the byte queue limits, but only if the resize did take them back
                    // (it may fail before that, or find nothing to do).
                    if in_flight > 0 && vq.num_free() == vq.size() {
                        dev.tx_reset(q.index);
                    }
                    ring.vq = Some(vq);
                }
            }
        }
        if running {
            res = res.and(<Self as netdev::Operations>::open(dev));
        }
        res.inspect_err(|e| {
            crate::log_warn!(
                "%s: ring resize to rx %llu tx %llu failed: %pe\n",
                dev.name(),
                rx,
                tx,
                *e
            )
        })
    }

    fn channels(dev: &NetDev<Self>) -> Channels {
        let vn = dev.data();
        Channels {
            max_combined: vn.queues.len() as u32,
            combined: u32::from(vn.curr_pairs.load(Ordering::Relaxed)),
        }
    }

    fn coalesce(_dev: &NetDev<Self>) -> Coalesce {
        let c = coalesce::FIXED;
        Coalesce {
            rx_usecs: c.rx_usecs,
            tx_usecs: c.tx_usecs,
            rx_max_frames: c.rx_max_frames,
            tx_max_frames: c.tx_max_frames,
        }
    }

    fn set_coalesce(_dev: &NetDev<Self>, req: &Coalesce) -> Result {
        let req = coalesce::Coalesce {
            rx_usecs: req.rx_usecs,
            tx_usecs: req.tx_usecs,
            rx_max_frames: req.rx_max_frames,
            tx_max_frames: req.tx_max_frames,
        };
        // NOTF_COAL is never negotiated (QEMU has no such device to test it with), so
        // the one setting there is is all a request may ask for.
        coalesce::check(&req).map_err(|e| match e {
            CoalesceError::Unsupported => eopnotsupp(),
            CoalesceError::OutOfRange => EINVAL,
        })
    }

    fn rxfh_key_size(dev: &NetDev<Self>) -> u32 {
        dev.data().rss.as_ref().map_or(0, |r| r.key_size())
    }

    fn rxfh_indir_size(dev: &NetDev<Self>) -> u32 {
        dev.data().rss.as_ref().map_or(0, |r| r.table_size())
    }

    fn get_rxfh(
        dev: &NetDev<Self>,
        indir: Option<&mut [u32]>,
        key: Option<&mut [u8]>,
    ) -> Result<u8> {
        Ok(dev
            .data()
            .rss
            .as_ref()
            .ok_or_else(eopnotsupp)?
            .get_rxfh(indir, key))
    }

    fn set_rxfh(
        dev: &NetDev<Self>,
        hfunc: u8,
        indir: Option<&[u32]>,
        key: Option<&[u8]>,
    ) -> Result {
        dev.data()
            .rss
            .as_ref()
            .ok_or_else(eopnotsupp)?
            .set_rxfh(dev, hfunc, indir, key)
    }

    fn rx_rings(dev: &NetDev<Self>) -> u32 {
        u32::from(dev.data().curr_pairs.load(Ordering::Relaxed))
    }

    fn rx_flow_hash(dev: &NetDev<Self>, flow: u32) -> Result<u64> {
        Ok(dev
            .data()
            .rss
            .as_ref()
            .ok_or_else(eopnotsupp)?
            .flow_hash(flow))
    }

    fn set_rx_flow_hash(dev: &NetDev<Self>, flow: u32, fields: u64) -> Result {
        dev.data()
            .rss
            .as_ref()
            .ok_or_else(eopnotsupp)?
            .set_flow_hash(dev, flow, fields)
    }

    fn set_channels(dev: &NetDev<Self>, combined: u32, rx: u32, tx: u32, other: u32) -> Result {
        let vn = dev.data();
        let n = features::check_channels(combined, rx, tx, other, vn.queues.len() as u16)
            .map_err(|_| EINVAL)?;
        let old = vn.curr_pairs.load(Ordering::Relaxed);
        if n == old {
            return Ok(());
        }
        // XDP's own pairs come after those in use: detach the program first (in-tree
        // refuses `-L` whenever one is attached).
        if vn.xdp_pairs.load(Ordering::Relaxed) != 0 || vn.xsk_bound() {
            return Err(EBUSY);
        }
        super::use_pairs(dev, old, n)?;
        dev.set_real_num_queues(u32::from(n))?;
        vn.curr_pairs.store(n, Ordering::Relaxed);
        super::set_affinity(dev);
        Ok(())
    }

    fn stats_count(dev: &NetDev<Self>) -> usize {
        // At most 2^16 pairs of a few dozen counters: no overflow (and no check).
        dev.data().queues.len().wrapping_mul(STATS.len())
    }

    fn stats_names(dev: &NetDev<Self>, names: &mut StatNames<'_>) {
        for dir in [Dir::Rx, Dir::Tx] {
            for q in dev.data().queues.iter() {
                for d in STATS.iter().filter(|d| d.dir == dir) {
                    if let Some(slot) = names.next_slot() {
                        stats_names::write_name(slot, dir, usize::from(q.index), d.name);
                    }
                }
            }
        }
    }

    fn stats_values(dev: &NetDev<Self>, values: &mut [u64]) {
        let mut out = values.iter_mut();
        for dir in [Dir::Rx, Dir::Tx] {
            for q in dev.data().queues.iter() {
                let counters = q.stats.in_order();
                for (d, c) in STATS.iter().zip(counters) {
                    if d.dir != dir {
                        continue;
                    }
                    if let Some(v) = out.next() {
                        *v = c.get();
                    }
                }
            }
        }
    }

    fn get_drvinfo(dev: &NetDev<Self>, info: &mut DrvInfo) {
        info.set_driver(DRIVER_NAME);
        info.set_version(DRIVER_VERSION);
        // As in-tree: the transport's address (PCI), not the virtio bus name.
        info.set_bus_info(dev.data().vdev.bus_name().as_bytes());
    }
}
