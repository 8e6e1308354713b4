// SPDX-License-Identifier: GPL-2.0

//! Commands of the control virtqueue (`VIRTIO_NET_F_CTRL_VQ`): classes, commands,
//! payload layouts and what the device's ack means (virtio 1.2, 5.1.6.5).

use super::wire::Writer;

/// `VIRTIO_NET_CTRL_RX`: receive filtering modes.
pub const CLASS_RX: u8 = 0;
/// `VIRTIO_NET_CTRL_RX_PROMISC` (payload: one byte, 0 or 1).
pub const RX_PROMISC: u8 = 0;
/// `VIRTIO_NET_CTRL_RX_ALLMULTI` (payload: one byte, 0 or 1).
pub const RX_ALLMULTI: u8 = 1;

/// `VIRTIO_NET_CTRL_MAC`: MAC filtering and the primary address.
pub const CLASS_MAC: u8 = 1;
/// `VIRTIO_NET_CTRL_MAC_TABLE_SET` (payload: unicast table, then multicast table).
pub const MAC_TABLE_SET: u8 = 0;
/// `VIRTIO_NET_CTRL_MAC_ADDR_SET` (payload: 6 bytes).
pub const MAC_ADDR_SET: u8 = 1;

/// `VIRTIO_NET_OK`: the device carried the command out.
pub const ACK_OK: u8 = 0;

/// Whether the ack byte acknowledges the command. The driver sets it to an error
/// value before sending, so a device that wrote nothing did not acknowledge; the
/// length the device reports is not needed (the in-tree driver ignores it too, and
/// some devices report 0).
pub fn acked(status: u8) -> bool {
    status == ACK_OK
}

/// Bytes of a `MAC_TABLE_SET` payload for `n_uc` unicast and `n_mc` multicast
/// addresses: each table is a le32 count followed by the addresses.
///
/// Saturates instead of overflowing, as [`rss_config_len`](super::rss_config::rss_config_len).
pub fn mac_table_len(n_uc: usize, n_mc: usize) -> usize {
    n_uc.saturating_add(n_mc)
        .saturating_mul(6)
        .saturating_add(4 + 4)
}

/// Writes a `MAC_TABLE_SET` payload into `out` (exactly [`mac_table_len`] bytes)
/// from `uc` and `mc`, flat arrays of 6-byte addresses. Returns false, writing
/// nothing, if the sizes do not match.
pub fn write_mac_table(out: &mut [u8], uc: &[u8], mc: &[u8]) -> bool {
    if uc.len() % 6 != 0
        || mc.len() % 6 != 0
        || out.len() != mac_table_len(uc.len() / 6, mc.len() / 6)
    {
        return false;
    }
    let mut w = Writer::new(out);
    // Cannot fail: `out` has exactly the length of both tables (checked above).
    [uc, mc].into_iter().all(|table| {
        w.put(&((table.len() / 6) as u32).to_le_bytes()).is_some() && w.put(table).is_some()
    })
}

/// The receive mode to ask of the device, from the interface's flags and address
/// lists, as the in-tree `virtnet_set_rx_mode()` decides it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RxMode {
    /// Receive every frame.
    pub promisc: bool,
    /// Receive every multicast frame.
    pub allmulti: bool,
}

/// What to ask for given `promisc`/`allmulti` flags and the list sizes. Lists longer
/// than the device can be expected to filter (`max_entries`, the in-tree driver's
/// limit being what fits a page) fall back to promiscuous/all-multicast.
pub fn rx_mode(
    promisc: bool,
    allmulti: bool,
    n_uc: usize,
    n_mc: usize,
    max_entries: usize,
) -> RxMode {
    RxMode {
        promisc: promisc || n_uc > max_entries,
        allmulti: allmulti || n_mc > max_entries,
    }
}

/// `VIRTIO_NET_CTRL_MQ`: multiqueue.
pub const CLASS_MQ: u8 = 4;
/// `VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET` (payload: le16 number of pairs).
pub const MQ_VQ_PAIRS_SET: u8 = 0;

/// `VIRTIO_NET_CTRL_VLAN`: VLAN filtering.
pub const CLASS_VLAN: u8 = 2;
/// `VIRTIO_NET_CTRL_VLAN_ADD` (payload: le16 VLAN id).
pub const VLAN_ADD: u8 = 0;
/// `VIRTIO_NET_CTRL_VLAN_DEL` (payload: le16 VLAN id).
pub const VLAN_DEL: u8 = 1;
/// Largest VLAN id (`VLAN_N_VID - 1`).
pub const VLAN_MAX_VID: u16 = 4095;

/// `VIRTIO_NET_CTRL_GUEST_OFFLOADS`: which receive offloads the device applies.
pub const CLASS_GUEST_OFFLOADS: u8 = 5;
/// `VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET` (payload: le64 of GUEST_* feature bits).
pub const GUEST_OFFLOADS_SET: u8 = 0;

/// The guest offloads to ask for: every negotiated receive offload, without the
/// coalescing ones (guest TSO/ECN/UFO) when `gro_hw` is off, as the in-tree
/// `virtnet_set_features()` does.
pub fn guest_offloads(features: super::features::Features, gro_hw: bool) -> u64 {
    use super::features as f;
    const CSUM: u64 = 1 << f::GUEST_CSUM;
    const COALESCING: u64 =
        1 << f::GUEST_TSO4 | 1 << f::GUEST_TSO6 | 1 << f::GUEST_ECN | 1 << f::GUEST_UFO;
    features.0 & if gro_hw { CSUM | COALESCING } else { CSUM }
}

/// `VIRTIO_NET_CTRL_ANNOUNCE`: gratuitous announcements.
pub const CLASS_ANNOUNCE: u8 = 3;
/// `VIRTIO_NET_CTRL_ANNOUNCE_ACK`: the guest announced itself (no payload).
pub const ANNOUNCE_ACK: u8 = 0;
