// SPDX-License-Identifier: GPL-2.0

//! Packet hash reports (`VIRTIO_NET_F_HASH_REPORT`): which hashes to ask of the
//! device, the `VIRTIO_NET_CTRL_MQ_HASH_CONFIG` payload, and what a reported hash
//! means for the stack (virtio 1.2, 5.1.6.4.3 and 5.1.6.5.6.4).
//!
//! The device computes a Toeplitz hash of each received packet with the driver's key
//! over the fields the driver selected, and writes it, with the kind of packet it
//! hashed, into the 20-byte header. The stack uses it as `skb->hash` (RPS, RFS,
//! socket steering) instead of computing its own.

/// `VIRTIO_NET_RSS_HASH_TYPE_*`: what the device may hash (config space
/// `supported_hash_types`) and what the driver asks for.
pub const HASH_TYPE_IPV4: u32 = 1 << 0;
pub const HASH_TYPE_TCPV4: u32 = 1 << 1;
pub const HASH_TYPE_UDPV4: u32 = 1 << 2;
pub const HASH_TYPE_IPV6: u32 = 1 << 3;
pub const HASH_TYPE_TCPV6: u32 = 1 << 4;
pub const HASH_TYPE_UDPV6: u32 = 1 << 5;
pub const HASH_TYPE_IP_EX: u32 = 1 << 6;
pub const HASH_TYPE_TCP_EX: u32 = 1 << 7;
pub const HASH_TYPE_UDP_EX: u32 = 1 << 8;

/// `VIRTIO_NET_HASH_REPORT_*`: what the device hashed, in the header's `hash_report`.
pub const REPORT_NONE: u16 = 0;
pub const REPORT_IPV4: u16 = 1;
pub const REPORT_TCPV4: u16 = 2;
pub const REPORT_UDPV4: u16 = 3;
pub const REPORT_IPV6: u16 = 4;
pub const REPORT_TCPV6: u16 = 5;
pub const REPORT_UDPV6: u16 = 6;
pub const REPORT_IPV6_EX: u16 = 7;
pub const REPORT_TCPV6_EX: u16 = 8;
pub const REPORT_UDPV6_EX: u16 = 9;

/// `VIRTIO_NET_RSS_MAX_KEY_SIZE`: the longest hash key the in-tree driver takes.
pub const MAX_KEY_LEN: usize = 40;

/// `VIRTIO_NET_CTRL_MQ_HASH_CONFIG` (class `VIRTIO_NET_CTRL_MQ`).
pub const MQ_HASH_CONFIG: u8 = 2;

/// What a reported hash covers, for `skb_set_hash()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashLevel {
    /// Addresses only (`PKT_HASH_TYPE_L3`).
    L3,
    /// Addresses and ports (`PKT_HASH_TYPE_L4`): the stack may use it as the flow hash.
    L4,
}

/// The level of a hash the device reported as `report`; `None` when it hashed
/// nothing or wrote a kind that does not exist (the hash is then not used: the
/// in-tree driver sets it with `PKT_HASH_TYPE_NONE`, which the stack recomputes too).
pub fn report_level(report: u16) -> Option<HashLevel> {
    match report {
        REPORT_TCPV4 | REPORT_UDPV4 | REPORT_TCPV6 | REPORT_UDPV6 | REPORT_TCPV6_EX
        | REPORT_UDPV6_EX => Some(HashLevel::L4),
        REPORT_IPV4 | REPORT_IPV6 | REPORT_IPV6_EX => Some(HashLevel::L3),
        _ => None,
    }
}

/// The hash types to ask for: what the device supports, without the IPv6 extension
/// header variants, as the in-tree `virtnet_probe()` trims them.
pub fn default_hash_types(supported: u32) -> u32 {
    supported & !(HASH_TYPE_IP_EX | HASH_TYPE_TCP_EX | HASH_TYPE_UDP_EX)
}

/// Why the device's hash parameters are refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashConfigError {
    /// `rss_max_key_size` is 0 or above [`MAX_KEY_LEN`] (the in-tree driver refuses
    /// to bind above it; a key of 0 bytes hashes nothing).
    KeySize(u8),
}

/// Validates the device's `rss_max_key_size`; the key is that long.
pub fn key_len(rss_max_key_size: u8) -> Result<usize, HashConfigError> {
    match usize::from(rss_max_key_size) {
        1..=MAX_KEY_LEN => Ok(usize::from(rss_max_key_size)),
        _ => Err(HashConfigError::KeySize(rss_max_key_size)),
    }
}

/// Longest `HASH_CONFIG` payload.
pub const HASH_CONFIG_MAX_LEN: usize = 13 + MAX_KEY_LEN;

/// Writes the `HASH_CONFIG` payload for `hash_types` and `key` into `out` and
/// returns its length; `None` if the key is longer than [`MAX_KEY_LEN`].
///
/// The layout is the in-tree driver's (`virtnet_commit_rss_command()` without RSS):
/// `virtio_net_rss_config_hdr` with a one-entry indirection table, then the trailer
/// — le32 `hash_types`, le16 mask 0, le16 unclassified queue 0, le16 table[0] 0, le16
/// `max_tx_vq` 0, u8 key length, the key — which is the spec's `virtio_net_hash_config`
/// (le32 `hash_types`, 8 reserved bytes, key length, key) byte for byte.
pub fn write_hash_config(
    out: &mut [u8; HASH_CONFIG_MAX_LEN],
    hash_types: u32,
    key: &[u8],
) -> Option<usize> {
    if key.len() > MAX_KEY_LEN {
        return None;
    }
    out[..4].copy_from_slice(&hash_types.to_le_bytes());
    out[4..12].fill(0);
    out[12] = key.len() as u8;
    out[13..13 + key.len()].copy_from_slice(key);
    Some(13 + key.len())
}
