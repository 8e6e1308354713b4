// SPDX-License-Identifier: GPL-2.0

//! Feature bits and config space as a device presents them: whatever it offers and
//! writes, the driver ends up with a feature set it can drive, a queue-pair count
//! within its limits, an MTU the stack accepts and a speed/duplex ethtool can show.

#![no_main]

use libfuzzer_sys::fuzz_target;
use virtio_net_rust_logic::{
    features::{self, Features},
    rss_config,
};

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 + 24 {
        return;
    }
    let offered = u64::from_le_bytes(data[..8].try_into().unwrap());
    let cfg = &data[8..];
    let le16 = |at: usize| u16::from_le_bytes([cfg[at], cfg[at + 1]]);
    use features::config_offset as off;

    // What the driver asks for, then its own consistency rules.
    let mask = features::DRIVER_FEATURES
        .iter()
        .fold(0u64, |m, &b| m | 1 << b);
    let f = features::negotiate(Features(offered & mask));
    assert_eq!(features::negotiate(f), f, "negotiation is a fixed point");
    assert!(f.0 & !mask == 0, "never more than the driver knows");
    // Guest GSO needs GUEST_CSUM; without MRG_RXBUF it means "big packets" mode.
    if features::guest_gso(f) {
        assert!(f.has(features::GUEST_CSUM));
    }
    let hl = features::hdr_len(f);
    assert!(hl == 10 || hl == 12 || hl == 20);

    let reported = le16(off::MAX_VIRTQUEUE_PAIRS);
    let pairs = features::queue_pairs(f, reported);
    assert!((features::VQ_PAIRS_MIN..=features::VQ_PAIRS_MAX).contains(&pairs));
    // Every pair the device has, or one: the control queue then sits where the
    // device has it (after the pairs it reported, or after the single pair).
    assert!(pairs == reported || pairs == 1);
    assert!(features::ctrl_vq_index(pairs) == 2 * usize::from(pairs));
    if let Some(mtu) = features::device_mtu(f, le16(off::MTU)) {
        assert!(mtu >= features::MIN_MTU);
    }
    let small = 1500;
    let max = features::max_mtu(f, features::device_mtu(f, le16(off::MTU)), small);
    assert!(max >= features::MIN_MTU);
    let speed = u32::from_le_bytes(cfg[off::SPEED..off::SPEED + 4].try_into().unwrap());
    if let Some(s) = features::valid_speed(speed) {
        assert!(s <= i32::MAX as u32 || s == features::SPEED_UNKNOWN);
    }
    if let Some(d) = features::valid_duplex(cfg[off::DUPLEX]) {
        assert!(matches!(d, 0 | 1 | 0xff));
    }
    // Hash reports: a key the driver can hold, never asked for more than offered.
    if let Ok(n) = rss_config::key_len(cfg[off::RSS_MAX_KEY_SIZE]) {
        assert!((1..=rss_config::MAX_KEY_LEN).contains(&n));
        let mut out = [0u8; rss_config::HASH_CONFIG_MAX_LEN];
        let supported = u32::from_le_bytes(
            cfg[off::SUPPORTED_HASH_TYPES..off::SUPPORTED_HASH_TYPES + 4]
                .try_into()
                .unwrap(),
        );
        let types = rss_config::default_hash_types(supported);
        assert_eq!(types & !supported, 0);
        let key = [0xa5u8; rss_config::MAX_KEY_LEN];
        assert_eq!(
            rss_config::write_hash_config(&mut out, types, &key[..n]),
            Some(13 + n)
        );
    }
    // RSS: kept only with parameters it can use; the table is a power of two within
    // what the device offers and the RSS_CONFIG payload for it is well formed.
    let (f, _) = rss_config::restrict(
        f,
        cfg[off::RSS_MAX_KEY_SIZE],
        le16(off::RSS_MAX_INDIRECTION_TABLE_LENGTH),
    );
    if f.has(features::RSS) || f.has(features::HASH_REPORT) {
        assert!(rss_config::key_len(cfg[off::RSS_MAX_KEY_SIZE]).is_ok());
    }
    if f.has(features::RSS) {
        let max = le16(off::RSS_MAX_INDIRECTION_TABLE_LENGTH);
        let len = rss_config::table_len(max).expect("RSS kept without a table");
        assert!(
            len.is_power_of_two() && len <= usize::from(max) && len <= rss_config::MAX_TABLE_LEN
        );
        let mut table = vec![0u16; len];
        rss_config::fill_default_table(&mut table, pairs);
        assert!(table.iter().all(|&q| q < pairs));
        let n = rss_config::key_len(cfg[off::RSS_MAX_KEY_SIZE]).unwrap();
        let key = [0x5au8; rss_config::MAX_KEY_LEN];
        let mut out = vec![0u8; rss_config::rss_config_len(len, n)];
        assert!(rss_config::write_rss_config(
            &mut out,
            0x3f,
            &table,
            pairs,
            &key[..n]
        ));
        assert_eq!(usize::from(u16::from_le_bytes([out[4], out[5]])) + 1, len);
    }
    if let Ok(n) = features::check_channels(u32::from(cfg[0]), 0, 0, 0, pairs) {
        assert!(n >= 1 && n <= pairs);
    }
});
