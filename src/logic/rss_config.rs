// SPDX-License-Identifier: GPL-2.0

//! Receive-side scaling (`VIRTIO_NET_F_RSS`) and packet hash reports
//! (`VIRTIO_NET_F_HASH_REPORT`): which hashes to ask of the device, the
//! `VIRTIO_NET_CTRL_MQ_HASH_CONFIG` and `RSS_CONFIG` payloads, the indirection
//! table, ethtool's flow-hash fields, and what a reported hash means for the stack
//! (virtio 1.2, 5.1.6.4.3, 5.1.6.5.6.4 and 5.1.6.5.7).
//!
//! The device computes a Toeplitz hash of each received packet with the driver's key
//! over the fields the driver selected. With RSS it picks the receive queue from the
//! indirection table by that hash; with hash reports it writes the hash, with the
//! kind of packet it hashed, into the 20-byte header, and the stack uses it as
//! `skb->hash` (RPS, RFS, socket steering) instead of computing its own.

use super::features::{self, Features};
use super::log_format::Describe;
use super::wire::Writer;
use core::ffi::CStr;

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

/// Why RSS or hash reports are left out of the negotiation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unusable {
    /// The key size is invalid: neither RSS nor hash reports can be configured.
    KeySize(u8),
    /// `rss_max_indirection_table_length` is 0: RSS cannot steer.
    TableLength,
}

impl Describe for Unusable {
    fn describe(&self) -> (&'static CStr, u64) {
        match *self {
            Self::KeySize(n) => (c"invalid key size", u64::from(n)),
            Self::TableLength => (c"no indirection table", 0),
        }
    }
}

/// The features to negotiate given the device's hash parameters, read before
/// FEATURES_OK: RSS and HASH_REPORT are dropped (the device then works without
/// them) when their parameters are unusable, where the in-tree driver refuses to
/// bind (key size) or sends a table the device cannot use (length 0).
pub fn restrict(f: Features, key_size: u8, table_max: u16) -> (Features, Option<Unusable>) {
    let mut f = f;
    if !f.has(features::RSS) && !f.has(features::HASH_REPORT) {
        return (f, None);
    }
    if key_len(key_size).is_err() {
        f.clear(features::RSS);
        f.clear(features::HASH_REPORT);
        return (f, Some(Unusable::KeySize(key_size)));
    }
    if f.has(features::RSS) && table_len(table_max).is_none() {
        f.clear(features::RSS);
        return (f, Some(Unusable::TableLength));
    }
    (f, None)
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
    let mut w = Writer::new(out);
    w.put(&hash_types.to_le_bytes())?;
    w.zeros(8)?;
    w.put(&[key.len() as u8])?;
    w.put(key)?;
    Some(HASH_CONFIG_MAX_LEN - w.remaining())
}

/// `VIRTIO_NET_CTRL_MQ_RSS_CONFIG` (class `VIRTIO_NET_CTRL_MQ`): RSS proper.
pub const MQ_RSS_CONFIG: u8 = 1;

/// Most indirection-table entries this driver uses. The spec asks devices for at
/// least 128; a larger table spreads no better over at most 16 queue pairs.
pub const MAX_TABLE_LEN: usize = 1024;

/// The indirection table to use for a device whose `rss_max_indirection_table_length`
/// is `max`: the largest power of two within it (the spec's `indirection_table_mask`
/// is the length minus one, so the length must be a power of two; the in-tree driver
/// takes the device's number as it is), at most [`MAX_TABLE_LEN`]. `None` for 0: the
/// device cannot steer and RSS is not used.
pub fn table_len(max: u16) -> Option<usize> {
    let max = usize::from(max).min(MAX_TABLE_LEN);
    if max == 0 {
        None
    } else {
        Some(1 << (usize::BITS - 1 - max.leading_zeros()))
    }
}

/// The default table for `queues` receive queues: entry `i` is queue `i % queues`,
/// as `ethtool_rxfh_indir_default()` (what `ethtool -X default` also asks for).
pub fn fill_default_table(table: &mut [u16], queues: u16) {
    let q = usize::from(queues.max(1));
    for (i, e) in table.iter_mut().enumerate() {
        *e = (i % q) as u16;
    }
}

/// Why a new indirection table is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableError {
    /// Not as long as the device's table.
    Length(usize),
    /// An entry names a queue not in use (entry index, queue).
    Queue(usize, u32),
}

impl Describe for TableError {
    fn describe(&self) -> (&'static CStr, u64) {
        match *self {
            Self::Length(n) => (c"wrong length", n as u64),
            Self::Queue(i, _) => (c"queue not in use at entry", i as u64),
        }
    }
}

/// Copies a table asked for through ethtool (`u32` entries) into `table`, if it has
/// the same length and every entry names one of the `queues` queues in use. The
/// ethtool core checks the entries against the queue count already; a table the
/// device would be told to use is checked here too, so a wrong one never reaches it.
pub fn set_table(table: &mut [u16], new: &[u32], queues: u16) -> Result<(), TableError> {
    if new.len() != table.len() {
        return Err(TableError::Length(new.len()));
    }
    if let Some((i, &q)) = new
        .iter()
        .enumerate()
        .find(|&(_, &q)| q >= u32::from(queues))
    {
        return Err(TableError::Queue(i, q));
    }
    for (d, &s) in table.iter_mut().zip(new) {
        *d = s as u16;
    }
    Ok(())
}

/// Bytes of an `RSS_CONFIG` payload with a `table_len`-entry table and a
/// `key_len`-byte key.
///
/// Saturates instead of overflowing: no buffer is that large, so such a length is
/// refused wherever it is used.
pub fn rss_config_len(table_len: usize, key_len: usize) -> usize {
    table_len
        .saturating_mul(2)
        .saturating_add(key_len)
        .saturating_add(4 + 2 + 2 + 2 + 1)
}

/// Writes the `RSS_CONFIG` payload (`virtio_net_rss_config`, virtio 1.2 5.1.6.5.7.1)
/// into `out`, which must be exactly [`rss_config_len`] bytes: le32 `hash_types`,
/// le16 `indirection_table_mask`, le16 `unclassified_queue` 0, the le16 table, le16
/// `max_tx_vq`, u8 key length, the key. Returns false, writing nothing, if `out` has
/// the wrong length, the table is not a power of two long, or the key is empty or
/// longer than [`MAX_KEY_LEN`].
pub fn write_rss_config(
    out: &mut [u8],
    hash_types: u32,
    table: &[u16],
    max_tx_vq: u16,
    key: &[u8],
) -> bool {
    if out.len() != rss_config_len(table.len(), key.len())
        || !table.len().is_power_of_two()
        || table.len() > usize::from(u16::MAX)
        || !(1..=MAX_KEY_LEN).contains(&key.len())
    {
        return false;
    }
    let write = |w: &mut Writer<'_>| -> Option<()> {
        w.put(&hash_types.to_le_bytes())?;
        // The mask: the length is a power of two, so at least 1.
        w.put(&((table.len() - 1) as u16).to_le_bytes())?;
        w.zeros(2)?;
        for e in table {
            w.put(&e.to_le_bytes())?;
        }
        w.put(&max_tx_vq.to_le_bytes())?;
        w.put(&[key.len() as u8])?;
        w.put(key)
    };
    // Cannot fail: `out` has exactly the length of these fields (checked above).
    write(&mut Writer::new(out)).is_some()
}

/// ethtool flow types (`ethtool -n/-N <if> rx-flow-hash <type>`).
pub const TCP_V4_FLOW: u32 = 0x01;
pub const UDP_V4_FLOW: u32 = 0x02;
pub const TCP_V6_FLOW: u32 = 0x05;
pub const UDP_V6_FLOW: u32 = 0x06;
pub const IPV4_FLOW: u32 = 0x10;
pub const IPV6_FLOW: u32 = 0x11;

/// ethtool `RXH_*` fields a flow is hashed over.
pub const RXH_IP_SRC: u64 = 1 << 4;
pub const RXH_IP_DST: u64 = 1 << 5;
pub const RXH_L4_B_0_1: u64 = 1 << 6;
pub const RXH_L4_B_2_3: u64 = 1 << 7;
pub const RXH_DISCARD: u64 = 1 << 31;
/// Addresses only (`sd`).
pub const FIELDS_L3: u64 = RXH_IP_SRC | RXH_IP_DST;
/// Addresses and ports (`sdfn`).
pub const FIELDS_L4: u64 = FIELDS_L3 | RXH_L4_B_0_1 | RXH_L4_B_2_3;

/// The hash types that make up one ethtool flow type: the L3 type and, for TCP and
/// UDP, the L4 one; `None` for flow types virtio cannot hash.
fn flow_types(flow_type: u32) -> Option<(u32, u32)> {
    match flow_type {
        TCP_V4_FLOW => Some((HASH_TYPE_IPV4, HASH_TYPE_TCPV4)),
        UDP_V4_FLOW => Some((HASH_TYPE_IPV4, HASH_TYPE_UDPV4)),
        TCP_V6_FLOW => Some((HASH_TYPE_IPV6, HASH_TYPE_TCPV6)),
        UDP_V6_FLOW => Some((HASH_TYPE_IPV6, HASH_TYPE_UDPV6)),
        IPV4_FLOW => Some((HASH_TYPE_IPV4, 0)),
        IPV6_FLOW => Some((HASH_TYPE_IPV6, 0)),
        _ => None,
    }
}

/// The fields `flow_type` is hashed over with `hash_types` (`ethtool -n`), as the
/// in-tree `virtnet_get_hashflow()`: ports when its L4 type is on, else addresses
/// when its L3 type is, else nothing.
pub fn flow_hash_fields(hash_types: u32, flow_type: u32) -> u64 {
    match flow_types(flow_type) {
        Some((_, l4)) if l4 != 0 && hash_types & l4 != 0 => FIELDS_L4,
        Some((l3, _)) if hash_types & l3 != 0 => FIELDS_L3,
        _ => 0,
    }
}

/// Why an `ethtool -N rx-flow-hash` request is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowHashError {
    /// A flow type virtio cannot hash.
    FlowType(u32),
    /// Fields other than `sd`, `sdfn` (TCP and UDP only) or `r`.
    Fields(u64),
    /// The device does not support the resulting hash types.
    Unsupported(u32),
}

impl Describe for FlowHashError {
    fn describe(&self) -> (&'static CStr, u64) {
        match *self {
            Self::FlowType(t) => (c"flow type not hashed", u64::from(t)),
            Self::Fields(f) => (c"fields not hashed", f),
            Self::Unsupported(t) => (c"hash types not supported", u64::from(t)),
        }
    }
}

/// The hash types after `ethtool -N <if> rx-flow-hash <flow_type> <fields>`, from
/// `hash_types`, on a device supporting `supported`.
///
/// As the in-tree `virtnet_set_hashflow()`, except that IPv4/IPv6 `sd` adds the L3
/// type instead of replacing every other type with it, and that `sdfn` is refused
/// for the IP-only flow types, which have no ports.
pub fn set_flow_hash(
    hash_types: u32,
    supported: u32,
    flow_type: u32,
    fields: u64,
) -> Result<u32, FlowHashError> {
    let (l3, l4) = flow_types(flow_type).ok_or(FlowHashError::FlowType(flow_type))?;
    let off = hash_types & !(l3 | l4);
    let new = match fields {
        RXH_DISCARD => off,
        FIELDS_L3 => off | l3,
        FIELDS_L4 if l4 != 0 => off | l3 | l4,
        _ => return Err(FlowHashError::Fields(fields)),
    };
    if new & !supported != 0 {
        return Err(FlowHashError::Unsupported(new & !supported));
    }
    Ok(new)
}
