// SPDX-License-Identifier: GPL-2.0

//! virtio-net feature bits and the rules this driver negotiates them by.
//!
//! Bit numbers are the virtio 1.2 specification's (`include/uapi/linux/virtio_net.h`);
//! they are repeated here rather than taken from bindgen so the host tests can use them.

/// Device handles a packet with a partial checksum (TX checksum offload).
pub const CSUM: u32 = 0;
/// Driver handles a packet with a partial checksum (RX checksum offload).
pub const GUEST_CSUM: u32 = 1;
/// Control channel offloads reconfiguration.
pub const CTRL_GUEST_OFFLOADS: u32 = 2;
/// Device reports its maximum MTU in config space.
pub const MTU: u32 = 3;
/// Device has a MAC address in config space.
pub const MAC: u32 = 5;
/// Driver can receive TSOv4.
pub const GUEST_TSO4: u32 = 7;
/// Driver can receive TSOv6.
pub const GUEST_TSO6: u32 = 8;
/// Driver can receive TSO with ECN.
pub const GUEST_ECN: u32 = 9;
/// Driver can receive UFO.
pub const GUEST_UFO: u32 = 10;
/// Device can receive TSOv4.
pub const HOST_TSO4: u32 = 11;
/// Device can receive TSOv6.
pub const HOST_TSO6: u32 = 12;
/// Device can receive TSO with ECN.
pub const HOST_ECN: u32 = 13;
/// Device can receive UFO.
pub const HOST_UFO: u32 = 14;
/// Driver can merge receive buffers.
pub const MRG_RXBUF: u32 = 15;
/// Config space has a link status field.
pub const STATUS: u32 = 16;
/// Control virtqueue is available.
pub const CTRL_VQ: u32 = 17;
/// Control channel RX mode support.
pub const CTRL_RX: u32 = 18;
/// Control channel VLAN filtering.
pub const CTRL_VLAN: u32 = 19;
/// Extra RX mode control.
pub const CTRL_RX_EXTRA: u32 = 20;
/// Driver can send gratuitous packets.
pub const GUEST_ANNOUNCE: u32 = 21;
/// Device supports multiqueue with automatic receive steering.
pub const MQ: u32 = 22;
/// Set MAC address through the control channel.
pub const CTRL_MAC_ADDR: u32 = 23;
/// Device reports speed and duplex.
pub const SPEED_DUPLEX: u32 = 63;
/// The device is the standby of a primary NIC with the same MAC address: the driver
/// puts a `net_failover` master over both.
pub const STANDBY: u32 = 62;
/// Device supports receive side scaling.
pub const RSS: u32 = 60;
/// Device reports the packet hash.
pub const HASH_REPORT: u32 = 57;
/// virtio 1.0 compliance (a transport feature, negotiated by the virtio core).
pub const VERSION_1: u32 = 32;
/// Legacy devices that accept any descriptor layout (transport feature).
pub const ANY_LAYOUT: u32 = 27;
/// Descriptors may point to tables of descriptors (transport feature).
pub const RING_INDIRECT_DESC: u32 = 28;
/// Packed virtqueue layout (transport feature).
pub const RING_PACKED: u32 = 34;
/// Individual virtqueues can be reset, and so resized (transport feature).
pub const RING_RESET: u32 = 40;

/// The device features this driver asks for, in the order the virtio core wants them.
///
/// The virtio core intersects this table with what the device offers; transport
/// features (VERSION_1, EVENT_IDX, INDIRECT_DESC, RING_PACKED, ...) are added by the
/// core itself. Features not in this table are never negotiated: the parity issue
/// adds them one by one, each with the code that uses it.
pub const DRIVER_FEATURES: [u32; 25] = [
    CSUM,
    GUEST_CSUM,
    MTU,
    MAC,
    GUEST_TSO4,
    GUEST_TSO6,
    GUEST_ECN,
    GUEST_UFO,
    HOST_TSO4,
    HOST_TSO6,
    HOST_ECN,
    // Accepted as in-tree, though the stack has not sent UFO since 4.14 (no
    // NETIF_F_UFO): a device or a migration target may expect it acked.
    HOST_UFO,
    MRG_RXBUF,
    STATUS,
    CTRL_VQ,
    CTRL_RX,
    CTRL_MAC_ADDR,
    SPEED_DUPLEX,
    MQ,
    CTRL_VLAN,
    CTRL_GUEST_OFFLOADS,
    GUEST_ANNOUNCE,
    HASH_REPORT,
    RSS,
    STANDBY,
];

/// Guest (receive) GSO features: the device may deliver packets up to 64 KiB.
pub const GUEST_GSO: [u32; 4] = [GUEST_TSO4, GUEST_TSO6, GUEST_ECN, GUEST_UFO];

/// Narrows what the device offered (already intersected with [`DRIVER_FEATURES`]) to
/// what this driver can drive together, before FEATURES_OK.
///
/// Guest GSO needs GUEST_CSUM (a coalesced packet's checksum is partial, virtio 1.2
/// 5.1.3.1). Without MRG_RXBUF it selects the "big packets" receive mode (a chain of
/// pages per buffer, large enough for a 64 KiB packet), as in the in-tree driver.
/// STANDBY needs MAC: the primary is found by the MAC address (in-tree drops it too).
pub fn negotiate(offered: Features) -> Features {
    let mut f = offered;
    if !f.has(MAC) {
        f.clear(STANDBY);
    }
    if !f.has(GUEST_CSUM) {
        for bit in GUEST_GSO {
            f.clear(bit);
        }
    }
    if !f.has(GUEST_TSO4) && !f.has(GUEST_TSO6) {
        f.clear(GUEST_ECN);
    }
    f
}

/// Whether the device may deliver coalesced (guest GSO) packets.
pub fn guest_gso(features: Features) -> bool {
    GUEST_GSO.iter().any(|&b| features.has(b))
}

/// Negotiated feature bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Features(pub u64);

impl Features {
    /// Whether feature `bit` was negotiated.
    pub fn has(self, bit: u32) -> bool {
        bit < 64 && self.0 & (1u64 << bit) != 0
    }

    /// Removes feature `bit`.
    pub fn clear(&mut self, bit: u32) {
        if bit < 64 {
            self.0 &= !(1u64 << bit);
        }
    }
}

/// Why a device cannot be driven with the features it negotiated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeatureError {
    /// The device is legacy-only: this driver speaks virtio 1.0 and later.
    NoVersion1,
    /// A control-channel feature was offered without the control virtqueue.
    CtrlWithoutCtrlVq(u32),
}

/// Features that need the control virtqueue, as the in-tree driver checks them.
pub const NEEDS_CTRL_VQ: [u32; 7] = [
    CTRL_RX,
    CTRL_VLAN,
    GUEST_ANNOUNCE,
    MQ,
    CTRL_MAC_ADDR,
    RSS,
    HASH_REPORT,
];

/// Checks that negotiated `features` can be driven.
pub fn validate(features: Features) -> Result<(), FeatureError> {
    if !features.has(VERSION_1) {
        return Err(FeatureError::NoVersion1);
    }
    if !features.has(CTRL_VQ) {
        if let Some(&bit) = NEEDS_CTRL_VQ.iter().find(|&&b| features.has(b)) {
            return Err(FeatureError::CtrlWithoutCtrlVq(bit));
        }
    }
    Ok(())
}

/// Length of the `virtio_net_hdr` that precedes every packet, for these features.
///
/// VERSION_1 and MRG_RXBUF use the 12-byte header with `num_buffers`; HASH_REPORT
/// uses the 20-byte one; a legacy device without either uses 10 bytes.
pub fn hdr_len(features: Features) -> usize {
    if features.has(HASH_REPORT) {
        20
    } else if features.has(VERSION_1) || features.has(MRG_RXBUF) {
        12
    } else {
        10
    }
}

/// Whether the header may share a descriptor with the packet (virtio 1.0, or a
/// legacy device with ANY_LAYOUT): then the transmit header can go in the skb's
/// headroom and a linear packet takes one descriptor, as in-tree.
pub fn any_header_sg(features: Features) -> bool {
    features.has(VERSION_1) || features.has(ANY_LAYOUT)
}

/// virtio-net config space: status field bit for "link is up".
pub const STATUS_LINK_UP: u16 = 1;
/// virtio-net config space: status field bit for "send a gratuitous announcement".
pub const STATUS_ANNOUNCE: u16 = 2;

/// Smallest MTU the driver accepts from the device (IPv4's minimum, as `ETH_MIN_MTU`).
pub const MIN_MTU: u16 = 68;

/// The MTU to use given the value the device wrote into config space.
///
/// A device that reports less than `MIN_MTU` is not trusted: the standard
/// Ethernet MTU is used instead, as the in-tree driver does by clearing the feature.
pub fn device_mtu(features: Features, reported: u16) -> Option<u16> {
    if features.has(MTU) && reported >= MIN_MTU {
        Some(reported)
    } else {
        None
    }
}

/// Offsets of the fields of `struct virtio_net_config` (config space), in bytes.
pub mod config_offset {
    /// `mac[6]`.
    pub const MAC: usize = 0;
    /// `status` (le16).
    pub const STATUS: usize = 6;
    /// `max_virtqueue_pairs` (le16).
    pub const MAX_VIRTQUEUE_PAIRS: usize = 8;
    /// `mtu` (le16).
    pub const MTU: usize = 10;
    /// `speed` (le32, Mbit/s).
    pub const SPEED: usize = 12;
    /// `duplex` (u8).
    pub const DUPLEX: usize = 16;
    /// `rss_max_key_size` (u8).
    pub const RSS_MAX_KEY_SIZE: usize = 17;
    /// `rss_max_indirection_table_length` (le16).
    pub const RSS_MAX_INDIRECTION_TABLE_LENGTH: usize = 18;
    /// `supported_hash_types` (le32).
    pub const SUPPORTED_HASH_TYPES: usize = 20;
}

/// `SPEED_UNKNOWN`.
pub const SPEED_UNKNOWN: u32 = u32::MAX;
/// `DUPLEX_UNKNOWN`.
pub const DUPLEX_UNKNOWN: u8 = 0xff;

/// The speed the device reported, if the kernel can represent it
/// (`ethtool_validate_speed()`: at most `INT_MAX`, or unknown).
pub fn valid_speed(speed: u32) -> Option<u32> {
    (speed <= i32::MAX as u32 || speed == SPEED_UNKNOWN).then_some(speed)
}

/// The duplex the device reported, if valid (`ethtool_validate_duplex()`: half,
/// full or unknown).
pub fn valid_duplex(duplex: u8) -> Option<u8> {
    matches!(duplex, 0 | 1 | DUPLEX_UNKNOWN).then_some(duplex)
}

/// Offloads the net_device offers, derived from the negotiated features the way the
/// in-tree driver derives them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Offloads {
    /// TX checksum offload and scatter-gather (CSUM).
    pub tx_csum: bool,
    /// TCPv4 segmentation offload (HOST_TSO4, needs CSUM).
    pub tso4: bool,
    /// TCPv6 segmentation offload (HOST_TSO6, needs CSUM).
    pub tso6: bool,
    /// TSO with ECN (HOST_ECN, needs TSO).
    pub tso_ecn: bool,
    /// RX checksum offload (GUEST_CSUM).
    pub rx_csum: bool,
    /// The device coalesces received segments (guest TSO4/TSO6): `NETIF_F_GRO_HW`.
    pub gro_hw: bool,
}

/// The offloads to offer for `features`: every HOST_* GSO bit depends on CSUM.
pub fn offloads(features: Features) -> Offloads {
    let tx_csum = features.has(CSUM);
    let tso4 = tx_csum && features.has(HOST_TSO4);
    let tso6 = tx_csum && features.has(HOST_TSO6);
    Offloads {
        tx_csum,
        tso4,
        tso6,
        tso_ecn: (tso4 || tso6) && features.has(HOST_ECN),
        rx_csum: features.has(GUEST_CSUM),
        gro_hw: features.has(GUEST_TSO4) || features.has(GUEST_TSO6),
    }
}

/// `VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN`.
pub const VQ_PAIRS_MIN: u16 = 1;
/// `VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX`.
pub const VQ_PAIRS_MAX: u16 = 0x8000;

/// Queue pairs to create, from the `max_virtqueue_pairs` the device reported: one
/// unless MQ (and the control queue that drives it) was negotiated and the value is
/// within the specification's range, as in-tree. Every pair the device has is
/// created, however many are used, so that the control queue is found at index
/// `2 * reported`, where the specification puts it (virtio 1.2, 5.1.2).
pub fn queue_pairs(features: Features, reported: u16) -> u16 {
    if !features.has(MQ)
        || !features.has(CTRL_VQ)
        || !(VQ_PAIRS_MIN..=VQ_PAIRS_MAX).contains(&reported)
    {
        1
    } else {
        reported
    }
}

/// Index of the control queue among the queues created for `pairs` queue pairs
/// ([`queue_pairs`]): after every data queue, `2 * max_virtqueue_pairs` with MQ.
pub fn ctrl_vq_index(pairs: u16) -> usize {
    2 * usize::from(pairs)
}

/// Queue pairs in use by default: one per CPU, as in-tree.
pub fn default_queue_pairs(max: u16, cpus: u32) -> u16 {
    max.min(u16::try_from(cpus.max(1)).unwrap_or(u16::MAX))
}

/// The CPUs of queue pair `i` out of `pairs` on `cpus` online CPUs, as the in-tree
/// `virtnet_set_affinity()` groups them: `(first, count)` in the order of the online
/// CPUs (wrapping when there are more pairs than CPUs). Each pair gets
/// `cpus / pairs` CPUs (at least one), the first `cpus % pairs` pairs one more, so
/// that with fewer pairs than CPUs every CPU has a transmit queue and an interrupt.
pub fn cpu_group(cpus: u32, pairs: u32, i: u32) -> (u32, u32) {
    let pairs = pairs.max(1);
    let stride = (cpus / pairs).max(1);
    let stragglers = if cpus >= pairs { cpus % pairs } else { 0 };
    // Saturating: with CPU and pair counts in u32 range no real group overflows.
    let first = i.saturating_mul(stride).saturating_add(i.min(stragglers));
    (first, stride.saturating_add(u32::from(i < stragglers)))
}

/// Why an `ethtool -L` request is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelsError {
    /// Separate rx/tx/other channels: virtio-net has only queue pairs.
    NotCombined,
    /// Zero, or more pairs than the device has.
    OutOfRange,
}

/// Validates an `ethtool -L` request against `max` queue pairs.
pub fn check_channels(
    combined: u32,
    rx: u32,
    tx: u32,
    other: u32,
    max: u16,
) -> Result<u16, ChannelsError> {
    if rx != 0 || tx != 0 || other != 0 {
        return Err(ChannelsError::NotCombined);
    }
    match u16::try_from(combined) {
        Ok(n) if n >= 1 && n <= max => Ok(n),
        _ => Err(ChannelsError::OutOfRange),
    }
}

/// `MAX_MTU` of the in-tree driver: what an IPv4 packet can be.
pub const MAX_MTU: u16 = 65535;

/// Largest MTU the interface accepts. A device that reports its MTU sets the limit;
/// otherwise mergeable buffers and the page chains of "big packets" mode (guest GSO)
/// carry frames of any size (up to [`MAX_MTU`]), while small buffers are sized for
/// `small_buf_mtu` at probe and cannot take more.
pub fn max_mtu(features: Features, device_mtu: Option<u16>, small_buf_mtu: u16) -> u16 {
    match device_mtu {
        Some(m) => m,
        None if features.has(MRG_RXBUF) || guest_gso(features) => MAX_MTU,
        None => small_buf_mtu,
    }
}

/// Why a ring size is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RingSizeError {
    /// Zero or above what the device supports.
    OutOfRange,
    /// A split ring's size must be a power of two.
    NotPowerOfTwo,
}

/// How receive buffers are posted (`src/driver/rx.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RxMode {
    /// Page fragments, a packet spanning `num_buffers` of them (MRG_RXBUF).
    Mergeable,
    /// A chain of pages per descriptor chain, for one largest packet.
    Big,
    /// One skb per descriptor, for one standard frame.
    Small,
}

/// The receive mode, as the in-tree driver chooses it at probe
/// (`virtnet_set_big_packets`): mergeable buffers if negotiated; else big packets
/// when the device may coalesce (guest GSO) or its MTU is above 1500, so that a
/// jumbo frame lands in order-0 pages rather than a multi-page allocation per
/// buffer; else small buffers.
pub fn rx_mode(features: Features, device_mtu: Option<u16>) -> RxMode {
    if features.has(MRG_RXBUF) {
        RxMode::Mergeable
    } else if guest_gso(features)
        || device_mtu.is_some_and(|m| usize::from(m) > super::rx_buf::ETH_DATA_LEN)
    {
        RxMode::Big
    } else {
        RxMode::Small
    }
}

/// Smallest receive ring that holds one buffer: a "big packets" buffer takes one
/// descriptor per page, `big_pages`, unless indirect descriptors fold them into one.
pub fn min_rx_ring(features: Features, mode: RxMode, big_pages: usize) -> u32 {
    if mode == RxMode::Big && !features.has(RING_INDIRECT_DESC) {
        big_pages as u32
    } else {
        1
    }
}

/// Validates a ring size asked for with `ethtool -G` against the device's maximum.
pub fn check_ring_size(num: u32, max: u32, packed: bool) -> Result<u32, RingSizeError> {
    if num == 0 || num > max {
        Err(RingSizeError::OutOfRange)
    } else if !packed && !num.is_power_of_two() {
        Err(RingSizeError::NotPowerOfTwo)
    } else {
        Ok(num)
    }
}
