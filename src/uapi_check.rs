// SPDX-License-Identifier: GPL-2.0

//! The one place where the constants `logic/` copies from C headers are checked
//! against the values bindgen reads from those headers, at compile time.
//!
//! `logic/` has no `kernel::` or bindings dependency so that it builds on the host
//! too; it therefore spells out the virtio-net specification's numbers (feature
//! bits, config-space offsets, control classes, hash types, header flags) and a
//! few kernel ones (`SKB_GSO_*`, ethtool flow types and `RXH_*` fields). A value
//! that drifts from the header fails the module build here.
//!
//! C headers: [`include/uapi/linux/virtio_net.h`](srctree/include/uapi/linux/virtio_net.h),
//! [`include/uapi/linux/virtio_config.h`](srctree/include/uapi/linux/virtio_config.h),
//! [`include/uapi/linux/ethtool.h`](srctree/include/uapi/linux/ethtool.h),
//! [`include/linux/skbuff.h`](srctree/include/linux/skbuff.h)

use crate::bindings as b;
use crate::logic::{ctrl_cmd as c, features as f, hdr as h, rss_config as r};
use core::mem::offset_of;

/// `assert!` that two constants of any integer types are equal.
macro_rules! same {
    ($($ours:expr => $theirs:expr),* $(,)?) => {
        $(assert!($ours as u64 == $theirs as u64);)*
    };
}

// Feature bits.
const _: () = {
    same!(
        f::CSUM => b::VIRTIO_NET_F_CSUM,
        f::GUEST_CSUM => b::VIRTIO_NET_F_GUEST_CSUM,
        f::CTRL_GUEST_OFFLOADS => b::VIRTIO_NET_F_CTRL_GUEST_OFFLOADS,
        f::MTU => b::VIRTIO_NET_F_MTU,
        f::MAC => b::VIRTIO_NET_F_MAC,
        f::STANDBY => b::VIRTIO_NET_F_STANDBY,
        f::GUEST_TSO4 => b::VIRTIO_NET_F_GUEST_TSO4,
        f::GUEST_TSO6 => b::VIRTIO_NET_F_GUEST_TSO6,
        f::GUEST_ECN => b::VIRTIO_NET_F_GUEST_ECN,
        f::GUEST_UFO => b::VIRTIO_NET_F_GUEST_UFO,
        f::HOST_TSO4 => b::VIRTIO_NET_F_HOST_TSO4,
        f::HOST_TSO6 => b::VIRTIO_NET_F_HOST_TSO6,
        f::HOST_ECN => b::VIRTIO_NET_F_HOST_ECN,
        f::HOST_UFO => b::VIRTIO_NET_F_HOST_UFO,
        f::MRG_RXBUF => b::VIRTIO_NET_F_MRG_RXBUF,
        f::STATUS => b::VIRTIO_NET_F_STATUS,
        f::CTRL_VQ => b::VIRTIO_NET_F_CTRL_VQ,
        f::CTRL_RX => b::VIRTIO_NET_F_CTRL_RX,
        f::CTRL_VLAN => b::VIRTIO_NET_F_CTRL_VLAN,
        f::CTRL_RX_EXTRA => b::VIRTIO_NET_F_CTRL_RX_EXTRA,
        f::GUEST_ANNOUNCE => b::VIRTIO_NET_F_GUEST_ANNOUNCE,
        f::MQ => b::VIRTIO_NET_F_MQ,
        f::CTRL_MAC_ADDR => b::VIRTIO_NET_F_CTRL_MAC_ADDR,
        f::SPEED_DUPLEX => b::VIRTIO_NET_F_SPEED_DUPLEX,
        f::RSS => b::VIRTIO_NET_F_RSS,
        f::HASH_REPORT => b::VIRTIO_NET_F_HASH_REPORT,
        f::VERSION_1 => b::VIRTIO_F_VERSION_1,
        f::ANY_LAYOUT => b::VIRTIO_F_ANY_LAYOUT,
        f::RING_INDIRECT_DESC => b::VIRTIO_RING_F_INDIRECT_DESC,
        f::RING_PACKED => b::VIRTIO_F_RING_PACKED,
        f::RING_RESET => b::VIRTIO_F_RING_RESET,
        f::STATUS_LINK_UP => b::VIRTIO_NET_S_LINK_UP,
        f::STATUS_ANNOUNCE => b::VIRTIO_NET_S_ANNOUNCE,
        f::VQ_PAIRS_MIN => b::VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN,
        f::VQ_PAIRS_MAX => b::VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX,
    );
};

// Config-space layout (`struct virtio_net_config`).
const _: () = {
    use f::config_offset as o;
    type C = b::virtio_net_config;
    same!(
        o::MAC => offset_of!(C, mac),
        o::STATUS => offset_of!(C, status),
        o::MAX_VIRTQUEUE_PAIRS => offset_of!(C, max_virtqueue_pairs),
        o::MTU => offset_of!(C, mtu),
        o::SPEED => offset_of!(C, speed),
        o::DUPLEX => offset_of!(C, duplex),
        o::RSS_MAX_KEY_SIZE => offset_of!(C, rss_max_key_size),
        o::RSS_MAX_INDIRECTION_TABLE_LENGTH => offset_of!(C, rss_max_indirection_table_length),
        o::SUPPORTED_HASH_TYPES => offset_of!(C, supported_hash_types),
    );
};

// Control-queue classes and commands.
const _: () = {
    same!(
        c::CLASS_RX => b::VIRTIO_NET_CTRL_RX,
        c::RX_PROMISC => b::VIRTIO_NET_CTRL_RX_PROMISC,
        c::RX_ALLMULTI => b::VIRTIO_NET_CTRL_RX_ALLMULTI,
        c::CLASS_MAC => b::VIRTIO_NET_CTRL_MAC,
        c::MAC_TABLE_SET => b::VIRTIO_NET_CTRL_MAC_TABLE_SET,
        c::MAC_ADDR_SET => b::VIRTIO_NET_CTRL_MAC_ADDR_SET,
        c::ACK_OK => b::VIRTIO_NET_OK,
        c::CLASS_MQ => b::VIRTIO_NET_CTRL_MQ,
        c::MQ_VQ_PAIRS_SET => b::VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
        c::CLASS_VLAN => b::VIRTIO_NET_CTRL_VLAN,
        c::VLAN_ADD => b::VIRTIO_NET_CTRL_VLAN_ADD,
        c::VLAN_DEL => b::VIRTIO_NET_CTRL_VLAN_DEL,
        c::CLASS_GUEST_OFFLOADS => b::VIRTIO_NET_CTRL_GUEST_OFFLOADS,
        c::GUEST_OFFLOADS_SET => b::VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET,
        c::CLASS_ANNOUNCE => b::VIRTIO_NET_CTRL_ANNOUNCE,
        c::ANNOUNCE_ACK => b::VIRTIO_NET_CTRL_ANNOUNCE_ACK,
        r::MQ_RSS_CONFIG => b::VIRTIO_NET_CTRL_MQ_RSS_CONFIG,
        r::MQ_HASH_CONFIG => b::VIRTIO_NET_CTRL_MQ_HASH_CONFIG,
    );
};

// Hash types, hash reports, and the ethtool flow types and fields they map to.
const _: () = {
    same!(
        r::HASH_TYPE_IPV4 => b::VIRTIO_NET_RSS_HASH_TYPE_IPv4,
        r::HASH_TYPE_TCPV4 => b::VIRTIO_NET_RSS_HASH_TYPE_TCPv4,
        r::HASH_TYPE_UDPV4 => b::VIRTIO_NET_RSS_HASH_TYPE_UDPv4,
        r::HASH_TYPE_IPV6 => b::VIRTIO_NET_RSS_HASH_TYPE_IPv6,
        r::HASH_TYPE_TCPV6 => b::VIRTIO_NET_RSS_HASH_TYPE_TCPv6,
        r::HASH_TYPE_UDPV6 => b::VIRTIO_NET_RSS_HASH_TYPE_UDPv6,
        r::HASH_TYPE_IP_EX => b::VIRTIO_NET_RSS_HASH_TYPE_IP_EX,
        r::HASH_TYPE_TCP_EX => b::VIRTIO_NET_RSS_HASH_TYPE_TCP_EX,
        r::HASH_TYPE_UDP_EX => b::VIRTIO_NET_RSS_HASH_TYPE_UDP_EX,
        r::REPORT_NONE => b::VIRTIO_NET_HASH_REPORT_NONE,
        r::REPORT_IPV4 => b::VIRTIO_NET_HASH_REPORT_IPv4,
        r::REPORT_TCPV4 => b::VIRTIO_NET_HASH_REPORT_TCPv4,
        r::REPORT_UDPV4 => b::VIRTIO_NET_HASH_REPORT_UDPv4,
        r::REPORT_IPV6 => b::VIRTIO_NET_HASH_REPORT_IPv6,
        r::REPORT_TCPV6 => b::VIRTIO_NET_HASH_REPORT_TCPv6,
        r::REPORT_UDPV6 => b::VIRTIO_NET_HASH_REPORT_UDPv6,
        r::REPORT_IPV6_EX => b::VIRTIO_NET_HASH_REPORT_IPv6_EX,
        r::REPORT_TCPV6_EX => b::VIRTIO_NET_HASH_REPORT_TCPv6_EX,
        r::REPORT_UDPV6_EX => b::VIRTIO_NET_HASH_REPORT_UDPv6_EX,
        r::TCP_V4_FLOW => b::TCP_V4_FLOW,
        r::UDP_V4_FLOW => b::UDP_V4_FLOW,
        r::TCP_V6_FLOW => b::TCP_V6_FLOW,
        r::UDP_V6_FLOW => b::UDP_V6_FLOW,
        r::IPV4_FLOW => b::IPV4_FLOW,
        r::IPV6_FLOW => b::IPV6_FLOW,
        r::RXH_IP_SRC => b::RXH_IP_SRC,
        r::RXH_IP_DST => b::RXH_IP_DST,
        r::RXH_L4_B_0_1 => b::RXH_L4_B_0_1,
        r::RXH_L4_B_2_3 => b::RXH_L4_B_2_3,
        r::RXH_DISCARD => b::RXH_DISCARD,
    );
};

// The virtio-net header's flags and GSO types, and the kernel's GSO types.
const _: () = {
    same!(
        h::F_NEEDS_CSUM => b::VIRTIO_NET_HDR_F_NEEDS_CSUM,
        h::F_DATA_VALID => b::VIRTIO_NET_HDR_F_DATA_VALID,
        h::F_RSC_INFO => b::VIRTIO_NET_HDR_F_RSC_INFO,
        h::GSO_NONE => b::VIRTIO_NET_HDR_GSO_NONE,
        h::GSO_TCPV4 => b::VIRTIO_NET_HDR_GSO_TCPV4,
        h::GSO_UDP => b::VIRTIO_NET_HDR_GSO_UDP,
        h::GSO_TCPV6 => b::VIRTIO_NET_HDR_GSO_TCPV6,
        h::GSO_UDP_L4 => b::VIRTIO_NET_HDR_GSO_UDP_L4,
        h::GSO_ECN => b::VIRTIO_NET_HDR_GSO_ECN,
        h::SKB_GSO_TCPV4 => b::VNR_SKB_GSO_TCPV4,
        h::SKB_GSO_TCP_ECN => b::VNR_SKB_GSO_TCP_ECN,
        h::SKB_GSO_TCPV6 => b::VNR_SKB_GSO_TCPV6,
    );
};

// Frame sizes, and the length of an `ethtool -S` name.
const _: () = {
    use crate::logic::rx_buf as x;
    same!(
        x::ETH_HLEN => b::ETH_HLEN,
        x::ETH_DATA_LEN => b::ETH_DATA_LEN,
        x::VLAN_HLEN => b::VNR_VLAN_HLEN,
        crate::logic::stats_names::NAME_LEN => b::VNR_ETH_GSTRING_LEN,
    );
};
