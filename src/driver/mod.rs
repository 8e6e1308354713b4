// SPDX-License-Identifier: GPL-2.0

//! The virtio-net driver: binding to the device, probe and remove.
//!
//! No `unsafe` here or below: everything the driver does with the kernel goes
//! through `crate::abstractions`.

#![forbid(unsafe_code)]

mod ctrl;
mod ethtool_ops;
mod netdev_ops;
mod queue;
mod rss;
mod rx;
mod stats;
mod tx;
mod xdp;
#[cfg(vnr_xsk_zc)]
mod xsk;

use crate::abstractions::{
    cpumask::CpuMask, etimedout, frag::PageFrag, netdev::NetDev, num_online_cpus, page_chain,
    push_within_capacity, try_value,
};
use crate::abstractions::{
    ctrl_msg::CtrlMsg,
    ethtool,
    netdev::{self, offload, priv_flag, Registration},
    qstats,
    virtio::{self, VqCallback},
    virtqueue::{Affinity, Virtqueue},
    xdp::features as xdp_act,
};
use crate::logic::ctrl_cmd;
use crate::logic::log_format::Describe;
use crate::logic::rx_buf::Ewma;
use crate::logic::{
    features::{self, config_offset, FeatureError, Features, RxMode},
    mac, rss_config, rx_buf, vq_names,
};
use core::sync::atomic::{AtomicBool, AtomicU16, AtomicU32, AtomicU8, Ordering};
use ctrl::Ctrl;
use kernel::{c_str, prelude::*, types::ARef};
use queue::{QueuePair, RxRing, RxVq, Spare, TxBuf};

/// Name of the module and of the driver (`ethtool -i`, sysfs).
pub const DRIVER_NAME: &[u8] = b"virtio_net_rust";
/// Version reported by `ethtool -i`.
pub const DRIVER_VERSION: &[u8] = b"0.1.0";
/// Transmit watchdog, as the in-tree driver's `TX_TIMEOUT` (5 s).
const TX_TIMEOUT_MS: u32 = 5000;
/// Packets per NAPI poll (`NAPI_POLL_WEIGHT`).
const NAPI_WEIGHT: i32 = 64;

/// Asks the device to use `n` queue pairs (MQ over the control queue): with RSS,
/// through the RSS configuration (`VQ_PAIRS_SET` would switch RSS off). A device
/// without MQ has one pair and nothing to ask.
fn set_queue_pairs(dev: &NetDev<VirtNet>, n: u16) -> Result {
    let vn = dev.data();
    if let Some(r) = vn.rss.as_ref() {
        if let Some(res) = r.follow_pairs(dev, n) {
            return res;
        }
    }
    match vn.ctrl.as_ref() {
        Some(c) if vn.features.has(features::MQ) => c.send(
            ctrl_cmd::CLASS_MQ,
            ctrl_cmd::MQ_VQ_PAIRS_SET,
            &n.to_le_bytes(),
        ),
        _ if n == 1 => Ok(()),
        _ => Err(crate::abstractions::eopnotsupp()),
    }
}

/// Has the device use `to` pairs, of which `from..to` come into use: they get
/// receive buffers first, if the interface is up. Logs a refusal.
fn use_pairs(dev: &NetDev<VirtNet>, from: u16, to: u16) -> Result {
    if dev.is_running() {
        let queues = dev.data().queues.iter();
        for q in queues.take(usize::from(to)).skip(usize::from(from)) {
            netdev_ops::fill_rx(dev, q);
        }
    }
    set_queue_pairs(dev, to).inspect_err(|e| {
        crate::log_warn!(
            "%s: device refused %llu queue pairs: %pe\n",
            dev.name(),
            to,
            *e
        )
    })
}

/// Spreads the pairs in use over the CPUs as the in-tree `virtnet_set_affinity()`:
/// pair i gets a group of CPUs (`features::cpu_group`) for both its interrupts and
/// as the CPUs whose packets it sends (XPS); pairs not in use lose their hint.
/// Process context: before registration (`ready`) or under the RTNL lock
/// (`ethtool -L`), which serialises the calls as the transport needs.
fn set_affinity(dev: &NetDev<VirtNet>) {
    let vn = dev.data();
    let curr = u32::from(vn.curr_pairs.load(Ordering::Relaxed));
    let cpus = num_online_cpus();
    for (i, q) in vn.queues.iter().enumerate() {
        let i = i as u32;
        let affinity = q.affinity.lock();
        let Some(affinity) = affinity.as_ref() else {
            continue;
        };
        if i >= curr {
            for a in affinity {
                a.set(None);
            }
            continue;
        }
        let (first, count) = features::cpu_group(cpus, curr, i);
        // As in-tree, no memory for a mask leaves the hints as they were.
        let Ok(Some(mask)) = CpuMask::online(first, count) else {
            continue;
        };
        for a in affinity {
            a.set(Some(&mask));
        }
        // A hint as well: as in-tree, the pair works without it.
        let _ = dev.set_xps_queue(&mask, q.index);
    }
}

/// The module: keeps the virtio driver registered.
pub struct VirtioNetModule {
    _driver: virtio::Registration<VirtioNetDriver>,
}

impl kernel::Module for VirtioNetModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        Ok(Self {
            _driver: virtio::Registration::new(
                c_str!("virtio_net_rust"),
                &crate::__mod_virtio__virtio_net_rust_device_table,
                module,
            )?,
        })
    }
}

/// The data of one network interface, in its net_device's private area.
pub struct VirtNet {
    /// The virtio device, for config-space reads from the deferred work.
    vdev: ARef<virtio::Device>,
    /// What was negotiated with the device.
    features: features::Features,
    /// The MAC address was made up at probe (no MAC feature, or an unusable one).
    random_mac: bool,
    /// Length of the virtio-net header on every buffer.
    hdr_len: usize,
    /// Largest MTU the interface takes (sizes mergeable buffers' minimum).
    max_mtu: u16,
    /// Size of each receive buffer in small-buffer mode.
    rx_buf_len: usize,
    /// Pages in each receive buffer in "big packets" mode.
    rx_big_pages: usize,
    /// How receive buffers are posted, chosen at probe.
    rx_mode: RxMode,
    /// RSS and hash reports, if the device has either.
    rss: Option<Pin<KBox<rss::Rss>>>,
    /// `rxhash` is on: received packets carry the device's hash to the stack.
    rx_hash: AtomicBool,
    /// An XDP program is attached (to every receive ring). Changed under RTNL.
    xdp_on: AtomicBool,
    /// Queue pairs, each with its NAPI context.
    queues: KVec<Pin<KBox<QueuePair>>>,
    /// The control queue, if the device has one (CTRL_VQ).
    ctrl: Option<Pin<KBox<Ctrl>>>,
    /// Queue pairs in use (`ethtool -L`); `queues` holds every pair the device has.
    curr_pairs: AtomicU16,
    /// Pairs after `curr_pairs` that XDP sends on, one per CPU, while a program is
    /// attached and the device has them (`logic::xdp::send_pairs`); the device
    /// receives on them too. Changed under RTNL.
    xdp_pairs: AtomicU16,
    /// Link speed (Mbit/s) and duplex from config space (SPEED_DUPLEX), for ethtool.
    speed: AtomicU32,
    duplex: AtomicU8,
}

impl VirtNet {
    /// Whether an AF_XDP socket is bound in zero-copy mode to one of the pairs:
    /// its rings then hold the socket's memory, and the pairs in use are not
    /// re-counted nor the rings rebuilt for system sleep meanwhile (a resize keeps
    /// the ring's kind).
    #[cfg(vnr_xsk_zc)]
    fn xsk_bound(&self) -> bool {
        self.queues.iter().any(|q| q.rx.lock().vq.is_xsk())
    }

    /// Never, without zero-copy built in.
    #[cfg(not(vnr_xsk_zc))]
    fn xsk_bound(&self) -> bool {
        false
    }

    /// Pairs the device uses: those of the stack and XDP's own.
    #[inline(never)]
    fn rx_pairs(&self) -> u16 {
        let xdp = self.xdp_pairs.load(Ordering::Relaxed);
        self.curr_pairs.load(Ordering::Relaxed).saturating_add(xdp)
    }

    /// Bytes in each receive buffer in "big packets" mode (every one has
    /// `rx_big_pages` pages).
    fn rx_big_len(&self) -> usize {
        self.rx_big_pages * page_chain::PAGE_SIZE
    }

    /// Re-reads speed and duplex from config space, keeping the old values if the
    /// device wrote invalid ones (as `virtnet_update_settings()`). Process context.
    fn update_settings(&self) {
        if !self.features.has(features::SPEED_DUPLEX) {
            return;
        }
        if let Some(s) = features::valid_speed(self.vdev.read_config_u32(config_offset::SPEED)) {
            self.speed.store(s, Ordering::Relaxed);
        }
        if let Some(d) = features::valid_duplex(self.vdev.read_config_u8(config_offset::DUPLEX)) {
            self.duplex.store(d, Ordering::Relaxed);
        }
    }
}

/// Leaves RSS and HASH_REPORT out of `f` if the device's hash parameters are
/// unusable (`rss::restrict`), with a log line: the device then works without.
fn restrict_hash(dev: &virtio::Device, f: Features) -> Features {
    if !f.has(features::RSS) && !f.has(features::HASH_REPORT) {
        return f;
    }
    let key_size = dev.read_config_u8(config_offset::RSS_MAX_KEY_SIZE);
    let table_max = dev.read_config_u16(config_offset::RSS_MAX_INDIRECTION_TABLE_LENGTH);
    let (kept, unusable) = rss_config::restrict(f, key_size, table_max);
    if let Some(why) = unusable {
        let (what, value) = why.describe();
        crate::log_warn!(
            "%s: hash parameters unusable (%s %llu: key size %llu, table length %llu); going on without RSS%s\n",
            dev.name(),
            what,
            value,
            key_size,
            table_max,
            if kept.has(features::HASH_REPORT) { c"" } else { c" and hash reports" },
        );
    }
    kept
}

/// The offloads the interface offers (`hw_features`) and those on at first, from
/// the negotiated features.
fn netdev_features(features: Features) -> (u64, u64) {
    let o = features::offloads(features);
    let mut hw = 0;
    if o.tx_csum {
        hw |= offload::HW_CSUM | offload::SG;
    }
    if o.tso4 {
        hw |= offload::TSO;
    }
    if o.tso6 {
        hw |= offload::TSO6;
    }
    if o.tso_ecn {
        hw |= offload::TSO_ECN;
    }
    // As in-tree: RX checksumming is on and fixed (the device decides per packet);
    // GRO_HW is on when the device coalesces, and can be turned off only through
    // CTRL_GUEST_OFFLOADS.
    let mut on = 0;
    if o.rx_csum {
        on |= offload::RXCSUM;
    }
    if o.gro_hw {
        on |= offload::GRO_HW;
        if features.has(features::CTRL_GUEST_OFFLOADS) {
            hw |= offload::GRO_HW;
        }
    }
    if features.has(features::CTRL_VLAN) {
        on |= offload::VLAN_FILTER;
    }
    // As in-tree: `rxhash` can be switched on, and is off at first.
    let switchable_off = if features.has(features::HASH_REPORT) {
        offload::RXHASH
    } else {
        0
    };
    (hw | switchable_off, hw | on | offload::HIGHDMA)
}

/// What probe takes from the device's config space and features, judged: values
/// the device got wrong are logged and replaced (a random MAC, no device MTU).
struct DeviceConfig {
    /// The device's MAC, if it has a valid unicast one.
    mac: Option<[u8; 6]>,
    /// The interface's MTU at first: the device's (`MTU`), else 1500.
    mtu: usize,
    /// The largest MTU the interface takes.
    max_mtu: u16,
    /// Bytes of the virtio-net header.
    hdr_len: usize,
    /// Queue pairs the device has (every one is created).
    max_pairs: u16,
    /// Whether the device has a control queue.
    has_ctrl: bool,
    /// How receive buffers are laid out.
    rx_mode: RxMode,
}

/// Reads and judges the config space (MAC, MTU, queue pairs).
fn read_config(vdev: &virtio::Device, features: Features) -> DeviceConfig {
    let mac = features.has(features::MAC).then(|| {
        let mut addr = [0u8; 6];
        vdev.read_config_bytes(config_offset::MAC, &mut addr);
        addr
    });
    let mac = mac.filter(|addr| {
        let valid = mac::is_valid_unicast(addr);
        if !valid {
            crate::log_warn!(
                "%s: device MAC %pM is not a unicast address; using a random one\n",
                vdev.name(),
                addr
            );
        }
        valid
    });
    let device_mtu = if features.has(features::MTU) {
        let reported = vdev.read_config_u16(config_offset::MTU);
        let mtu = features::device_mtu(features, reported);
        if mtu.is_none() {
            crate::log_warn!(
                "%s: device MTU %llu is below %llu; ignoring it\n",
                vdev.name(),
                reported,
                features::MIN_MTU
            );
        }
        mtu
    } else {
        None
    };
    let max_pairs = if features.has(features::MQ) {
        features::queue_pairs(
            features,
            vdev.read_config_u16(config_offset::MAX_VIRTQUEUE_PAIRS),
        )
    } else {
        1
    };
    DeviceConfig {
        mac,
        mtu: device_mtu.map_or(rx_buf::ETH_DATA_LEN, usize::from),
        max_mtu: features::max_mtu(features, device_mtu, rx_buf::ETH_DATA_LEN as u16),
        hdr_len: features::hdr_len(features),
        max_pairs,
        has_ctrl: features.has(features::CTRL_VQ),
        rx_mode: features::rx_mode(features, device_mtu),
    }
}

/// The virtqueues [`find_queues`] finds: each pair's receive and transmit queues,
/// and the control queue.
struct FoundQueues {
    pairs: KVec<(RxVq, Virtqueue<TxBuf>)>,
    ctrl: Option<Virtqueue<CtrlMsg>>,
}

/// Probe's work: reads the config space, finds the queues, builds the rings and the
/// netdev (not registered yet: that is `ready`'s).
fn build(
    vdev: &virtio::Device,
    finder: virtio::QueueFinder<'_, VirtioNetDriver>,
) -> Result<Registration<VirtNet>> {
    let features = Features(vdev.features());
    let cfg = read_config(vdev, features);
    let found = find_queues(finder, cfg.max_pairs, cfg.has_ctrl, cfg.rx_mode)?;
    let ctrl = match found.ctrl {
        Some(vq) => Some(KBox::pin_init(Ctrl::new(vq, vdev.name())?, GFP_KERNEL)?),
        None => None,
    };
    let curr_pairs = features::default_queue_pairs(cfg.max_pairs, num_online_cpus());
    let rss = rss::Rss::new(vdev, curr_pairs)?;
    let config = netdev_config(features, &cfg);
    let vdev_ref = vdev.to_ref();
    let reg = Registration::new(vdev, u32::from(cfg.max_pairs), &config, move |dev| {
        let mut queues = KVec::with_capacity(found.pairs.len(), GFP_KERNEL)?;
        for (i, (rxvq, txvq)) in found.pairs.into_iter().enumerate() {
            let (rx, txvq, affinity) = make_rings(rxvq, txvq, features, cfg.hdr_len, cfg.max_mtu)?;
            let q = KBox::pin_init(
                QueuePair::new(dev, i as u16, NAPI_WEIGHT, rx, txvq, affinity),
                GFP_KERNEL,
            )?;
            push_within_capacity(&mut queues, q).map_err(|_| EINVAL)?;
        }
        Ok(VirtNet {
            vdev: vdev_ref,
            features,
            random_mac: cfg.mac.is_none(),
            hdr_len: cfg.hdr_len,
            max_mtu: cfg.max_mtu,
            rx_buf_len: rx_buf::small_buf_len(cfg.hdr_len, cfg.mtu),
            rx_big_pages: if features::guest_gso(features) {
                rx_buf::big_buf_pages(cfg.hdr_len, page_chain::PAGE_SIZE)
            } else {
                rx_buf::big_buf_pages_for(cfg.hdr_len, page_chain::PAGE_SIZE, cfg.mtu)
            }
            .min(page_chain::MAX_PAGES),
            rx_mode: cfg.rx_mode,
            rss,
            rx_hash: AtomicBool::new(false),
            xdp_on: AtomicBool::new(false),
            queues,
            ctrl,
            curr_pairs: AtomicU16::new(curr_pairs),
            xdp_pairs: AtomicU16::new(0),
            speed: AtomicU32::new(features::SPEED_UNKNOWN),
            duplex: AtomicU8::new(features::DUPLEX_UNKNOWN),
        })
    })?;
    reg.dev().set_real_num_queues(u32::from(curr_pairs))?;
    reg.dev().carrier_off();
    Ok(reg)
}

/// The queues' names fit the room the virtio glue gives them.
const _: () = assert!(vq_names::NAME_LEN <= virtio::VQ_NAME_LEN);

/// Finds every virtqueue the device has: queues 2i/2i+1 are pair i, and the control
/// queue comes last, at index 2 * max_virtqueue_pairs, where the device has it,
/// because every pair the device has is created (as in-tree; `ethtool -L` picks
/// how many are used). At probe and again after system sleep.
fn find_queues(
    finder: virtio::QueueFinder<'_, VirtioNetDriver>,
    max_pairs: u16,
    has_ctrl: bool,
    rx_mode: RxMode,
) -> Result<FoundQueues> {
    let pairs = usize::from(max_pairs);
    let n = 2 * pairs + usize::from(has_ctrl);
    let name = finder.device().name();
    let mut vqs = finder
        .find_vqs(n, |i, name| {
            if i < 2 * pairs {
                // Always fits (asserted above `find_queues`).
                let _ = vq_names::write(name, (i / 2) as u16, i % 2 == 0);
                true
            } else {
                name[..8].copy_from_slice(b"control\0");
                false
            }
        })
        .inspect_err(|e| {
            // A device that reports more pairs than its transport has queues for
            // (virtio-pci: ENOENT) cannot be driven: its control queue is not where
            // the specification puts it.
            crate::log_err!(
                "%s: cannot create %llu virtqueues for %llu queue pairs (%pe)\n",
                name,
                n,
                max_pairs,
                *e
            );
        })?;
    let mut found = KVec::with_capacity(pairs, GFP_KERNEL)?;
    for i in 0..pairs {
        let rx = match rx_mode {
            RxMode::Mergeable => RxVq::Mergeable(vqs.take(2 * i)?),
            RxMode::Big => RxVq::Big(vqs.take(2 * i)?),
            RxMode::Small => RxVq::Small(vqs.take(2 * i)?),
        };
        push_within_capacity(&mut found, (rx, vqs.take(2 * i + 1)?)).map_err(|_| EINVAL)?;
    }
    let ctrl = if has_ctrl {
        Some(vqs.take(features::ctrl_vq_index(max_pairs))?)
    } else {
        None
    };
    Ok(FoundQueues { pairs: found, ctrl })
}

/// Smallest mergeable buffer for a receive ring of `ring_size` entries.
fn min_buf_len(features: Features, hdr_len: usize, max_mtu: u16, ring_size: usize) -> usize {
    rx_buf::mergeable_min_buf_len(
        hdr_len,
        ring_size,
        usize::from(max_mtu),
        features::guest_gso(features),
    )
}

/// Wraps a pair's queues found at probe into its rings and affinity handles.
fn make_rings(
    rxvq: RxVq,
    txvq: Virtqueue<TxBuf>,
    features: Features,
    hdr_len: usize,
    max_mtu: u16,
) -> Result<(RxRing, Virtqueue<TxBuf>, [Affinity; 2])> {
    let affinity = [rxvq.affinity().ok_or(EINVAL)?, txvq.affinity()];
    let mut rx = RxRing {
        vq: rxvq,
        avg_pkt_len: Ewma::default(),
        min_buf_len: 0,
        frag: PageFrag::new(),
        spare: Spare::new()?,
        xdp_prog: None,
        xdp_rxq: None,
    };
    rx.min_buf_len = min_buf_len(features, hdr_len, max_mtu, rx.size());
    Ok((rx, txvq, affinity))
}

/// The interface's settings before registration.
fn netdev_config(features: Features, cfg: &DeviceConfig) -> netdev::Config<'_, VirtNet> {
    let (hw_features, on_features) = netdev_features(features);
    netdev::Config {
        mac: cfg.mac.as_ref(),
        mtu: cfg.mtu as u32,
        min_mtu: u32::from(features::MIN_MTU),
        max_mtu: u32::from(cfg.max_mtu),
        // As in-tree: with room for the virtio-net header in front of the Ethernet
        // header the transmit path puts it there and a linear packet is one
        // descriptor. Without it, UDP and pktgen packets (16 bytes of headroom, 2
        // left after the Ethernet header) took two, i.e. an indirect table
        // allocated, mapped by QEMU and freed per packet.
        needed_headroom: if features::any_header_sg(features) {
            cfg.hdr_len as u16
        } else {
            0
        },
        hw_features,
        features: on_features,
        // As in-tree: the device filters unicast addresses (with CTRL_RX) and
        // takes a new MAC while up (CTRL_MAC_ADDR, or simply by address on
        // VERSION_1); `skb_to_sgvec` maps a packet without a linear part too.
        priv_flags: priv_flag::UNICAST_FLT
            | priv_flag::LIVE_ADDR_CHANGE
            | priv_flag::TX_SKB_NO_LINEAR,
        tx_timeout_ms: TX_TIMEOUT_MS,
        // Programs run in small and mergeable modes (not in big packets mode, where
        // attaching is refused); multi-buffer frames reach them in mergeable mode
        // only (a small buffer holds one page at most: MTU 1500 without a device MTU,
        // big packets with one); frames redirected here, multi-buffer or not, are
        // sent in every mode.
        xdp_features: match cfg.rx_mode {
            RxMode::Big => xdp_act::NDO_XMIT | xdp_act::NDO_XMIT_SG,
            // AF_XDP zero-copy swaps a receive ring's buffers, which needs ring reset.
            #[cfg(vnr_xsk_zc)]
            _ if features.has(features::RING_RESET) => {
                xdp_act::BASIC
                    | xdp_act::REDIRECT
                    | xdp_act::NDO_XMIT
                    | xdp_act::NDO_XMIT_SG
                    | xdp_act::XSK_ZEROCOPY
                    | if cfg.rx_mode == RxMode::Mergeable {
                        xdp_act::RX_SG
                    } else {
                        0
                    }
            }
            RxMode::Small => {
                xdp_act::BASIC | xdp_act::REDIRECT | xdp_act::NDO_XMIT | xdp_act::NDO_XMIT_SG
            }
            RxMode::Mergeable => {
                xdp_act::BASIC
                    | xdp_act::REDIRECT
                    | xdp_act::RX_SG
                    | xdp_act::NDO_XMIT
                    | xdp_act::NDO_XMIT_SG
            }
        },
        ethtool: Some(ethtool::Table::new()),
        qstats: Some(qstats::Table::new()),
        failover: features.has(features::STANDBY),
    }
}

/// The virtio driver.
pub struct VirtioNetDriver;

#[vtable]
impl virtio::Driver for VirtioNetDriver {
    type Data = Registration<VirtNet>;
    const FEATURES: &'static [u32] = &features::DRIVER_FEATURES;

    fn validate(dev: &virtio::Device) -> Result<u64> {
        // Judge what the device offers, not only what this driver asked for: a device
        // offering a CTRL_* feature without the control queue is broken even if this
        // driver would not use that feature (the in-tree driver refuses it too).
        match features::validate(Features(dev.device_features())) {
            Ok(()) => {
                let offered = Features(dev.features());
                if offered.has(features::STANDBY) && !offered.has(features::MAC) {
                    crate::log_warn!(
                        "%s: device offers STANDBY without MAC; no failover\n",
                        dev.name()
                    );
                }
                Ok(restrict_hash(dev, features::negotiate(offered)).0)
            }
            Err(FeatureError::NoVersion1) => {
                crate::log_err!(
                    "%s: device does not offer VIRTIO_F_VERSION_1; legacy devices are not supported\n",
                    dev.name(),
                );
                Err(ENODEV)
            }
            Err(FeatureError::CtrlWithoutCtrlVq(bit)) => {
                crate::log_err!(
                    "%s: device offers feature %llu without VIRTIO_NET_F_CTRL_VQ; refusing to bind\n",
                    dev.name(),
                    bit,
                );
                Err(EINVAL)
            }
        }
    }

    fn probe(
        vdev: &virtio::Device,
        finder: virtio::QueueFinder<'_, Self>,
    ) -> impl PinInit<Self::Data, Error> {
        // The data is the netdev registration, whose private area (`VirtNet`) is
        // initialised in place by `Registration::new`; the registration itself moves.
        try_value(move || build(vdev, finder))
    }

    fn ready(vdev: &virtio::Device, reg: &Self::Data) -> Result {
        let dev = reg.dev();
        dev.data().update_settings();
        // Before registration (no RTNL needed, nothing else runs yet) but with the
        // device running: tell it how many pairs to use, then spread them over CPUs.
        let curr = dev.data().curr_pairs.load(Ordering::Relaxed);
        // With RSS, its configuration sets the pairs too (unless the device refuses
        // it: RSS is then off, and the pairs are set on their own).
        let by_rss = dev.data().rss.as_ref().is_some_and(|r| r.start(dev, curr));
        if !by_rss {
            if let Err(e) = set_queue_pairs(dev, curr) {
                if e == etimedout() {
                    // The control queue does not answer: nothing it is asked later
                    // (receive mode, MAC, pairs) would work either.
                    crate::log_err!(
                        "%s: control queue does not answer; not binding\n",
                        vdev.name()
                    );
                    return Err(e);
                }
                crate::log_warn!(
                    "%s: device refused %llu queue pairs (%pe); using one\n",
                    vdev.name(),
                    curr,
                    e
                );
                dev.data().curr_pairs.store(1, Ordering::Relaxed);
                dev.set_real_num_queues(1)?;
            }
        }
        set_affinity(dev);
        // As in-tree: a made-up address is useless unless the device learns it (it
        // drops unicast frames to other addresses), so it is sent when the device can
        // take it (CTRL_MAC_ADDR); a device that refuses it fails the probe.
        let vn = dev.data();
        let tell_mac = vn.random_mac && vn.features.has(features::CTRL_MAC_ADDR);
        if let Some(c) = vn.ctrl.as_ref().filter(|_| tell_mac) {
            let addr = dev.addr();
            c.send(ctrl_cmd::CLASS_MAC, ctrl_cmd::MAC_ADDR_SET, &addr)
                .inspect_err(|e| {
                    crate::log_err!(
                        "%s: device refused the random MAC %pM (%pe)\n",
                        vdev.name(),
                        &addr,
                        *e
                    )
                })?;
        }
        reg.register()?;
        if dev.data().features.has(features::STATUS) {
            dev.schedule_deferred();
        } else {
            dev.carrier_on();
        }
        crate::log_info!(
            "%s: %s bound, features %#llx, mtu %llu\n",
            vdev.name(),
            dev.name(),
            dev.data().features.0,
            dev.mtu()
        );
        Ok(())
    }

    fn remove(_vdev: &virtio::Device, reg: &Self::Data) {
        reg.unregister();
    }

    fn freeze(_vdev: &virtio::Device, reg: &Self::Data) -> Result {
        // Restoring would give the rings their own buffers back under a bound socket.
        if reg.dev().data().xsk_bound() {
            crate::log_warn!(
                "%s: system sleep refused while an AF_XDP socket is bound in zero-copy mode\n",
                reg.dev().name()
            );
            return Err(EBUSY);
        }
        reg.suspend()
    }

    fn release_queues(_vdev: &virtio::Device, reg: &Self::Data) {
        let dev = reg.dev();
        let vn = dev.data();
        for q in vn.queues.iter() {
            // Posted buffers go back to their owners as each queue is dropped.
            let rx = q.rx.lock().detach();
            drop(rx);
            q.stats.rx_buf_bytes().set(0);
            let tx = q.tx.lock().vq.take();
            drop(tx);
            // The packets in flight never complete: forget them in the byte queue
            // limits (as a ring resize does).
            dev.tx_reset(q.index);
            drop(q.affinity.lock().take());
        }
        if let Some(c) = vn.ctrl.as_ref() {
            drop(c.take_vq());
        }
    }

    fn restore(
        _vdev: &virtio::Device,
        reg: &Self::Data,
        finder: virtio::QueueFinder<'_, Self>,
    ) -> Result {
        let vn = reg.dev().data();
        let found = find_queues(
            finder,
            vn.queues.len() as u16,
            vn.ctrl.is_some(),
            vn.rx_mode,
        )?;
        // The rings come back at the transport's default size, as in-tree (a size set
        // with `ethtool -G` is not kept).
        for (q, (rxvq, txvq)) in vn.queues.iter().zip(found.pairs) {
            let affinity = [rxvq.affinity().ok_or(EINVAL)?, txvq.affinity()];
            {
                let mut rx = q.rx.lock();
                rx.vq = rxvq;
                rx.min_buf_len = min_buf_len(vn.features, vn.hdr_len, vn.max_mtu, rx.size());
            }
            q.tx.lock().vq = Some(txvq);
            *q.affinity.lock() = Some(affinity);
        }
        if let (Some(c), Some(vq)) = (vn.ctrl.as_ref(), found.ctrl) {
            c.put_vq(vq);
        }
        Ok(())
    }

    fn resume(vdev: &virtio::Device, reg: &Self::Data) -> Result {
        let dev = reg.dev();
        let vn = dev.data();
        // The device forgot everything but the features. Tell it again, as at
        // probe, what in-tree's restore does (the pairs) and what it leaves out:
        // RSS with the table in use, the hash types, the MAC address, the guest
        // offloads, and the receive filter (by the deferred work).
        let curr = vn.rx_pairs();
        let mut refused = false;
        let by_rss = match vn.rss.as_ref().map(|r| r.restore(dev)) {
            Some(Ok(by_rss)) => by_rss,
            Some(Err(_)) => {
                refused = true;
                false
            }
            None => false,
        };
        if !by_rss {
            refused |= set_queue_pairs(dev, curr).is_err();
        }
        set_affinity(dev);
        if let Some(c) = vn.ctrl.as_ref() {
            refused |= vn.features.has(features::CTRL_MAC_ADDR)
                && c.send(ctrl_cmd::CLASS_MAC, ctrl_cmd::MAC_ADDR_SET, &dev.addr())
                    .is_err();
            netdev_ops::restore_gro_hw(dev);
            c.mark_rx_mode();
        }
        if refused {
            // The interface goes on with what the device took (RSS off if refused).
            crate::log_warn!(
                "%s: device refused RSS, queue pairs or MAC address after resume\n",
                vdev.name()
            );
        }
        reg.resume()
    }

    fn config_changed(reg: &Self::Data) {
        // Config-space reads may sleep: read the new status from the work item.
        reg.dev().schedule_deferred();
    }

    fn vq_callback(reg: &Self::Data, vq: &VqCallback) {
        let vn = reg.dev().data();
        if let Some(q) = vn.queues.get(vq.index() / 2) {
            let napi = if vq.index() % 2 == 0 {
                q.stats.rx_interrupts().inc();
                &q.napi
            } else {
                q.stats.tx_interrupts().inc();
                &q.tx_napi
            };
            napi.schedule_with(|| vq.disable_cb());
        }
    }
}
