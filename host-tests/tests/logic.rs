// SPDX-License-Identifier: GPL-2.0

//! Tests of the pure logic: feature rules, header translation, buffer sizing.

use proptest::prelude::*;
use virtio_net_rust_logic::{
    coalesce, ctrl_cmd,
    features::{self, FeatureError, Features},
    hdr::{self, HdrError, NetHdr, RxCsum},
    mac, rss_config,
    rx_buf::{self, RxLenError},
};

fn feats(bits: &[u32]) -> Features {
    Features(bits.iter().fold(0u64, |a, &b| a | (1u64 << b)))
}

#[test]
fn cpu_groups_as_in_tree() {
    // One pair on two CPUs: both; two pairs: one each; five CPUs, two pairs: 3 + 2.
    assert_eq!(features::cpu_group(2, 1, 0), (0, 2));
    assert_eq!(features::cpu_group(2, 2, 1), (1, 1));
    assert_eq!(features::cpu_group(5, 2, 0), (0, 3));
    assert_eq!(features::cpu_group(5, 2, 1), (3, 2));
    // More pairs than CPUs: one each, wrapping (the caller takes it modulo).
    assert_eq!(features::cpu_group(2, 4, 3), (3, 1));
}

proptest! {
    /// With no more pairs than CPUs, the groups cover every CPU exactly once.
    #[test]
    fn cpu_groups_partition(cpus in 1u32..64, pairs in 1u32..64) {
        prop_assume!(pairs <= cpus);
        let mut next = 0;
        for i in 0..pairs {
            let (first, count) = features::cpu_group(cpus, pairs, i);
            prop_assert_eq!(first, next);
            prop_assert!(count >= 1);
            next = first + count;
        }
        prop_assert_eq!(next, cpus);
    }
}

#[test]
fn legacy_device_is_refused() {
    assert_eq!(
        features::validate(feats(&[features::MAC])),
        Err(FeatureError::NoVersion1)
    );
}

#[test]
fn ctrl_features_need_ctrl_vq() {
    for &bit in features::NEEDS_CTRL_VQ.iter() {
        let f = feats(&[features::VERSION_1, bit]);
        assert_eq!(
            features::validate(f),
            Err(FeatureError::CtrlWithoutCtrlVq(bit))
        );
        let f = feats(&[features::VERSION_1, bit, features::CTRL_VQ]);
        assert_eq!(features::validate(f), Ok(()));
    }
    assert_eq!(
        features::validate(feats(&[features::VERSION_1, features::MAC])),
        Ok(())
    );
}

#[test]
fn driver_table_only_has_supported_features() {
    for bit in [
        features::RSS,
        features::HASH_REPORT,
        features::MAC,
        features::STATUS,
        features::MTU,
        features::CSUM,
        features::GUEST_CSUM,
        features::MRG_RXBUF,
        features::GUEST_TSO4,
        features::GUEST_TSO6,
        features::CTRL_VQ,
        features::CTRL_RX,
        features::CTRL_MAC_ADDR,
        features::MQ,
        features::CTRL_VLAN,
        features::CTRL_GUEST_OFFLOADS,
        features::GUEST_ANNOUNCE,
        features::HOST_UFO,
    ] {
        assert!(features::DRIVER_FEATURES.contains(&bit));
    }
}

fn all_driver_features() -> Features {
    Features(
        features::DRIVER_FEATURES
            .iter()
            .fold(1u64 << features::VERSION_1, |a, &b| a | (1u64 << b)),
    )
}

#[test]
fn standby_needs_mac() {
    let all = all_driver_features();
    assert!(features::negotiate(all).has(features::STANDBY));
    let mut f = all;
    f.clear(features::MAC);
    let n = features::negotiate(f);
    assert!(!n.has(features::STANDBY));
    assert_eq!(n.0 | (1u64 << features::STANDBY), f.0);
}

#[test]
fn guest_gso_needs_guest_csum() {
    let all = all_driver_features();
    assert_eq!(features::negotiate(all), all);
    assert!(features::guest_gso(all));
    let mut f = all;
    f.clear(features::GUEST_CSUM);
    let n = features::negotiate(f);
    for bit in features::GUEST_GSO {
        assert!(!n.has(bit), "bit {bit} kept without GUEST_CSUM");
    }
    assert!(!features::guest_gso(n));
    assert!(n.has(features::CSUM) && n.has(features::HOST_TSO4));
    // Without mergeable buffers guest GSO stays: "big packets" mode.
    let mut f = all;
    f.clear(features::MRG_RXBUF);
    assert_eq!(features::negotiate(f), f);
    assert!(features::guest_gso(f));
    // ECN alone means nothing.
    let mut f = all;
    f.clear(features::GUEST_TSO4);
    f.clear(features::GUEST_TSO6);
    assert!(!features::negotiate(f).has(features::GUEST_ECN));
}

proptest! {
    #[test]
    fn negotiate_only_clears(bits in any::<u64>()) {
        let n = features::negotiate(Features(bits));
        prop_assert_eq!(n.0 & !bits, 0);
        prop_assert_eq!(features::negotiate(n), n);
    }
}

#[test]
fn mergeable_buffer_sizing() {
    use rx_buf::*;
    // A 256-entry ring must hold a 64 KiB packet; never less than a standard frame.
    assert_eq!(mergeable_min_buf_len(12, 256, 1500, true), GOOD_PACKET_LEN);
    assert_eq!(
        mergeable_min_buf_len(12, 16, 1500, true),
        (12 + 18 + 0xffff_usize).div_ceil(16) - 12
    );
    assert_eq!(
        mergeable_min_buf_len(12, 0, 1500, false),
        12 + 18 + 1500 - 12
    );
    // Average below the minimum: the minimum, plus header, cache aligned.
    assert_eq!(mergeable_buf_len(60, 1518, 12, 4096, 64), 1536);
    // Large average: capped at a page.
    assert_eq!(mergeable_buf_len(60000, 1518, 12, 4096, 64), 4096);
    // A minimum above the page is capped too.
    assert_eq!(mergeable_buf_len(0, 9000, 12, 4096, 64), 4096);
}

proptest! {
    #[test]
    fn mergeable_buf_len_in_bounds(avg in 0usize..1_000_000, min in 0usize..100_000, ring in 1usize..4096) {
        let min_len = rx_buf::mergeable_min_buf_len(12, ring, min, true);
        let len = rx_buf::mergeable_buf_len(avg, min_len, 12, 4096, 64);
        prop_assert!(len % 64 == 0 && len >= 64 && len <= 4096);
        prop_assert!(len >= rx_buf::GOOD_PACKET_LEN + 12);
        // The whole ring holds the largest packet.
        prop_assert!(len * ring >= (12 + 18 + 0xffff).min(4096 * ring));
    }

    #[test]
    fn ewma_stays_within_samples(samples in proptest::collection::vec(1usize..70_000, 1..200)) {
        let mut e = rx_buf::Ewma::default();
        for &s in &samples {
            e.add(s);
        }
        let lo = *samples.iter().min().unwrap();
        let hi = *samples.iter().max().unwrap();
        prop_assert!(e.read() >= lo.saturating_sub(64) && e.read() <= hi);
    }

    #[test]
    fn ewma_is_the_kernels(samples in proptest::collection::vec(any::<u32>(), 1..100)) {
        // DECLARE_EWMA(pkt_len, 0, 64) in wide arithmetic: the first sample as is,
        // then ((avg << 6) - avg + val) >> 6.
        let mut e = rx_buf::Ewma::default();
        let mut reference = 0u128;
        for &s in &samples {
            e.add(s as usize);
            let v = u128::from(s);
            reference = if reference == 0 { v } else { ((reference << 6) - reference + v) >> 6 };
            prop_assert_eq!(e.read() as u128, reference);
        }
    }
}

#[test]
fn num_buffers_checked() {
    assert_eq!(
        rx_buf::check_num_buffers(0, 256),
        Err(rx_buf::NumBuffersError::Zero)
    );
    assert_eq!(rx_buf::check_num_buffers(1, 256), Ok(1));
    assert_eq!(rx_buf::check_num_buffers(256, 256), Ok(256));
    assert_eq!(
        rx_buf::check_num_buffers(257, 256),
        Err(rx_buf::NumBuffersError::TooMany)
    );
    assert_eq!(
        rx_buf::check_num_buffers(u16::MAX, 256),
        Err(rx_buf::NumBuffersError::TooMany)
    );
}

#[test]
fn rx_ecn_only_with_tcp() {
    let f = all_driver_features();
    let h = NetHdr {
        gso_type: hdr::GSO_UDP | hdr::GSO_ECN,
        gso_size: 1000,
        hdr_len: 42,
        ..Default::default()
    };
    assert_eq!(hdr::rx_offload(&h, f, 5000), Err(hdr::HdrError::BadGsoType));
    let h = NetHdr {
        gso_type: hdr::GSO_TCPV4 | hdr::GSO_ECN,
        ..h
    };
    assert!(hdr::rx_offload(&h, f, 5000).is_ok());
}

#[test]
fn host_gso_needs_csum() {
    let o = features::offloads(feats(&[
        features::HOST_TSO4,
        features::HOST_TSO6,
        features::HOST_ECN,
    ]));
    assert_eq!(o, features::Offloads::default());
    let o = features::offloads(feats(&[
        features::CSUM,
        features::HOST_TSO4,
        features::HOST_ECN,
    ]));
    assert!(o.tx_csum && o.tso4 && !o.tso6 && o.tso_ecn && !o.rx_csum);
    assert!(features::offloads(feats(&[features::GUEST_CSUM])).rx_csum);
}

#[test]
fn tx_header_from_request() {
    let all = feats(&[
        features::CSUM,
        features::HOST_TSO4,
        features::HOST_TSO6,
        features::HOST_ECN,
    ]);
    let plain = hdr::TxRequest {
        headlen: 60,
        ..Default::default()
    };
    assert_eq!(hdr::tx_hdr(&plain, feats(&[])), Ok(NetHdr::default()));
    let csum = hdr::TxRequest {
        partial_csum: true,
        csum_start: 34,
        csum_offset: 16,
        ..plain
    };
    let h = hdr::tx_hdr(&csum, all).unwrap();
    assert_eq!(
        (h.flags, h.csum_start, h.csum_offset, h.gso_type),
        (hdr::F_NEEDS_CSUM, 34, 16, 0)
    );
    assert_eq!(
        hdr::tx_hdr(&csum, feats(&[])),
        Err(hdr::TxHdrError::CsumNotNegotiated)
    );
    let tso = hdr::TxRequest {
        gso_size: 1448,
        gso_type: hdr::SKB_GSO_TCPV4,
        headlen: 66,
        ..csum
    };
    let h = hdr::tx_hdr(&tso, all).unwrap();
    assert_eq!(
        (h.gso_type, h.gso_size, h.hdr_len),
        (hdr::GSO_TCPV4, 1448, 66)
    );
    let ecn = hdr::TxRequest {
        gso_type: hdr::SKB_GSO_TCPV6 | hdr::SKB_GSO_TCP_ECN,
        ..tso
    };
    assert_eq!(
        hdr::tx_hdr(&ecn, all).unwrap().gso_type,
        hdr::GSO_TCPV6 | hdr::GSO_ECN
    );
    let no_ecn = feats(&[features::CSUM, features::HOST_TSO6]);
    assert_eq!(
        hdr::tx_hdr(&ecn, no_ecn),
        Err(hdr::TxHdrError::GsoNotNegotiated)
    );
    let udp = hdr::TxRequest {
        gso_type: 1 << 18,
        ..tso
    };
    assert_eq!(
        hdr::tx_hdr(&udp, all),
        Err(hdr::TxHdrError::GsoNotNegotiated)
    );
    let gso_no_csum = hdr::TxRequest {
        partial_csum: false,
        ..tso
    };
    assert!(hdr::tx_hdr(&gso_no_csum, all).is_err());
    let big = hdr::TxRequest {
        csum_start: 70000,
        ..csum
    };
    assert_eq!(hdr::tx_hdr(&big, all), Err(hdr::TxHdrError::OutOfRange));
}

#[test]
fn header_length_follows_features() {
    assert_eq!(features::hdr_len(feats(&[])), 10);
    assert_eq!(features::hdr_len(feats(&[features::MRG_RXBUF])), 12);
    assert_eq!(features::hdr_len(feats(&[features::VERSION_1])), 12);
    assert_eq!(
        features::hdr_len(feats(&[features::VERSION_1, features::HASH_REPORT])),
        20
    );
}

#[test]
fn device_mtu_is_validated() {
    let f = feats(&[features::MTU]);
    assert_eq!(features::device_mtu(f, 9000), Some(9000));
    assert_eq!(features::device_mtu(f, 68), Some(68));
    assert_eq!(features::device_mtu(f, 67), None);
    assert_eq!(features::device_mtu(f, 0), None);
    assert_eq!(features::device_mtu(feats(&[]), 9000), None);
}

#[test]
fn mac_validity() {
    assert!(mac::is_valid_unicast(&[0x52, 0x54, 0, 0x12, 0x34, 1]));
    assert!(!mac::is_valid_unicast(&[0; 6]));
    assert!(!mac::is_valid_unicast(&[0xff; 6]));
    assert!(!mac::is_valid_unicast(&[0x01, 0, 0x5e, 0, 0, 1]));
}

#[test]
fn small_buffers_hold_a_vlan_frame() {
    assert_eq!(rx_buf::small_buf_len(12, 1500), 12 + 14 + 4 + 1500);
    assert_eq!(rx_buf::small_buf_len(12, 576), 12 + 14 + 4 + 1500);
    assert_eq!(rx_buf::small_buf_len(12, 9000), 12 + 14 + 4 + 9000);
}

#[test]
fn used_length_checks() {
    assert_eq!(rx_buf::check_used_len(12 + 60, 12, 1530), Ok(60));
    assert_eq!(
        rx_buf::check_used_len(1531, 12, 1530),
        Err(RxLenError::TooLong)
    );
    assert_eq!(
        rx_buf::check_used_len(u32::MAX, 12, 1530),
        Err(RxLenError::TooLong)
    );
    assert_eq!(
        rx_buf::check_used_len(12 + 13, 12, 1530),
        Err(RxLenError::TooShort)
    );
    assert_eq!(
        rx_buf::check_used_len(0, 12, 1530),
        Err(RxLenError::TooShort)
    );
}

#[test]
fn header_wire_layout() {
    let h = NetHdr {
        flags: hdr::F_NEEDS_CSUM,
        gso_type: hdr::GSO_TCPV4 | hdr::GSO_ECN,
        hdr_len: 0x0102,
        gso_size: 0x0304,
        csum_start: 0x0506,
        csum_offset: 0x0708,
        num_buffers: 0x090a,
        ..Default::default()
    };
    let mut b = [0xeeu8; 12];
    h.write(&mut b);
    assert_eq!(b, [1, 0x81, 2, 1, 4, 3, 6, 5, 8, 7, 0x0a, 9]);
    assert_eq!(NetHdr::parse(&b), Some(h));
    assert_eq!(NetHdr::parse(&b[..9]), None);
    let mut b10 = [0u8; 10];
    h.write(&mut b10);
    assert_eq!(NetHdr::parse(&b10).unwrap().num_buffers, 0);
    // The hash fields (HASH_REPORT's 20-byte header) are read only from 20 bytes.
    let mut b20 = [0u8; 20];
    b20[..12].copy_from_slice(&b);
    b20[12..16].copy_from_slice(&0xdead_beefu32.to_le_bytes());
    b20[16..18].copy_from_slice(&rss_config::REPORT_TCPV4.to_le_bytes());
    let p = NetHdr::parse(&b20).unwrap();
    assert_eq!(
        (p.hash_value, p.hash_report),
        (0xdead_beef, rss_config::REPORT_TCPV4)
    );
    assert_eq!(
        NetHdr {
            hash_value: 0,
            hash_report: 0,
            ..p
        },
        h
    );
    let p = NetHdr::parse(&b20[..19]).unwrap();
    assert_eq!((p.hash_value, p.hash_report), (0, 0));
}

#[test]
fn hash_report_levels() {
    use rss_config::HashLevel::{L3, L4};
    let expect = [
        (rss_config::REPORT_NONE, None),
        (rss_config::REPORT_IPV4, Some(L3)),
        (rss_config::REPORT_TCPV4, Some(L4)),
        (rss_config::REPORT_UDPV4, Some(L4)),
        (rss_config::REPORT_IPV6, Some(L3)),
        (rss_config::REPORT_TCPV6, Some(L4)),
        (rss_config::REPORT_UDPV6, Some(L4)),
        (rss_config::REPORT_IPV6_EX, Some(L3)),
        (rss_config::REPORT_TCPV6_EX, Some(L4)),
        (rss_config::REPORT_UDPV6_EX, Some(L4)),
    ];
    for (report, level) in expect {
        assert_eq!(rss_config::report_level(report), level, "report {report}");
    }
    // Kinds that do not exist are not trusted.
    for report in [10u16, 0x100, u16::MAX] {
        assert_eq!(rss_config::report_level(report), None);
    }
}

#[test]
fn hash_config_payload() {
    assert_eq!(rss_config::default_hash_types(0x1ff), 0x3f);
    assert_eq!(
        rss_config::default_hash_types(rss_config::HASH_TYPE_TCP_EX),
        0
    );
    assert_eq!(rss_config::key_len(40), Ok(40));
    assert_eq!(rss_config::key_len(1), Ok(1));
    assert_eq!(
        rss_config::key_len(0),
        Err(rss_config::HashConfigError::KeySize(0))
    );
    assert_eq!(
        rss_config::key_len(41),
        Err(rss_config::HashConfigError::KeySize(41))
    );
    let key: Vec<u8> = (1..=40).collect();
    let mut out = [0xeeu8; rss_config::HASH_CONFIG_MAX_LEN];
    assert_eq!(
        rss_config::write_hash_config(&mut out, 0x3f, &key),
        Some(53)
    );
    assert_eq!(out[..4], [0x3f, 0, 0, 0]);
    assert_eq!(out[4..12], [0; 8]);
    assert_eq!(out[12], 40);
    assert_eq!(out[13..53], key[..]);
    // Off: no hash types, the same key.
    assert_eq!(
        rss_config::write_hash_config(&mut out, 0, &key[..10]),
        Some(23)
    );
    assert_eq!(out[..4], [0; 4]);
    assert_eq!(out[12], 10);
    assert_eq!(rss_config::write_hash_config(&mut out, 0, &[0; 41]), None);
}

#[test]
fn rx_header_without_offloads_negotiated() {
    let f = feats(&[features::VERSION_1]);
    let plain = NetHdr::default();
    assert_eq!(hdr::rx_offload(&plain, f, 60).unwrap().csum, RxCsum::None);
    let csum = NetHdr {
        flags: hdr::F_NEEDS_CSUM,
        ..plain
    };
    assert_eq!(
        hdr::rx_offload(&csum, f, 60),
        Err(HdrError::CsumNotNegotiated)
    );
    let valid = NetHdr {
        flags: hdr::F_DATA_VALID,
        ..plain
    };
    assert_eq!(
        hdr::rx_offload(&valid, f, 60),
        Err(HdrError::CsumNotNegotiated)
    );
    let gso = NetHdr {
        gso_type: hdr::GSO_TCPV4,
        gso_size: 1448,
        hdr_len: 54,
        ..plain
    };
    assert_eq!(hdr::rx_offload(&gso, f, 3000), Err(HdrError::BadGsoType));
}

#[test]
fn rx_header_with_offloads() {
    let f = feats(&[
        features::VERSION_1,
        features::GUEST_CSUM,
        features::GUEST_TSO4,
    ]);
    let csum = NetHdr {
        flags: hdr::F_NEEDS_CSUM,
        csum_start: 34,
        csum_offset: 16,
        ..Default::default()
    };
    assert_eq!(
        hdr::rx_offload(&csum, f, 60).unwrap().csum,
        RxCsum::Partial {
            start: 34,
            offset: 16
        }
    );
    assert_eq!(
        hdr::rx_offload(&csum, f, 51),
        Err(HdrError::CsumOutOfBounds)
    );
    let valid = NetHdr {
        flags: hdr::F_DATA_VALID,
        ..Default::default()
    };
    assert_eq!(
        hdr::rx_offload(&valid, f, 60).unwrap().csum,
        RxCsum::Unnecessary
    );
    let gso = NetHdr {
        gso_type: hdr::GSO_TCPV4,
        gso_size: 1448,
        hdr_len: 54,
        ..Default::default()
    };
    assert_eq!(
        hdr::rx_offload(&gso, f, 3000).unwrap().gso,
        Some((hdr::GSO_TCPV4, 1448))
    );
    assert_eq!(
        hdr::rx_offload(&NetHdr { gso_size: 0, ..gso }, f, 3000),
        Err(HdrError::BadGso)
    );
    assert!(hdr::rx_offload(&gso, f, 54).is_ok());
    assert_eq!(hdr::rx_offload(&gso, f, 53), Err(HdrError::BadGso));
    // A tap writes the whole linear length into hdr_len: only a hint, accepted.
    let tap = NetHdr {
        flags: hdr::F_NEEDS_CSUM,
        hdr_len: 2962,
        csum_start: 34,
        csum_offset: 16,
        ..gso
    };
    assert!(hdr::rx_offload(&tap, f, 2962).is_ok());
    // Checksum field not where TCP has it, transport header inside the IP header,
    // or a packet cut inside the TCP header: refused.
    for bad in [
        NetHdr {
            csum_offset: 6,
            ..tap
        },
        NetHdr {
            csum_start: 10,
            ..tap
        },
        NetHdr {
            csum_start: 14 + 19,
            ..tap
        },
    ] {
        assert_eq!(hdr::rx_offload(&bad, f, 2962), Err(HdrError::BadGso));
    }
    assert_eq!(hdr::rx_offload(&tap, f, 34 + 19), Err(HdrError::BadGso));
    // Found by the rx_hdr fuzz target: UDP GSO with the transport header at byte 20,
    // inside the IPv4 header, in a 39-byte frame (the kernel's own check lets it by).
    let udp = NetHdr {
        flags: hdr::F_NEEDS_CSUM,
        gso_type: hdr::GSO_UDP,
        gso_size: 1000,
        csum_start: 20,
        csum_offset: 0,
        ..Default::default()
    };
    let fu = feats(&[
        features::VERSION_1,
        features::GUEST_CSUM,
        features::GUEST_UFO,
    ]);
    assert_eq!(hdr::rx_offload(&udp, fu, 39), Err(HdrError::BadGso));
    assert!(hdr::rx_offload(
        &NetHdr {
            csum_start: 34,
            ..udp
        },
        fu,
        42
    )
    .is_ok());
    let v6 = NetHdr {
        gso_type: hdr::GSO_TCPV6,
        ..gso
    };
    assert_eq!(hdr::rx_offload(&v6, f, 3000), Err(HdrError::BadGsoType));
    let ecn = NetHdr {
        gso_type: hdr::GSO_TCPV4 | hdr::GSO_ECN,
        ..gso
    };
    assert_eq!(hdr::rx_offload(&ecn, f, 3000), Err(HdrError::BadGsoType));
    let unknown = NetHdr {
        gso_type: 0x42,
        ..gso
    };
    assert_eq!(
        hdr::rx_offload(&unknown, f, 3000),
        Err(HdrError::BadGsoType)
    );
}

proptest! {
    #[test]
    fn header_roundtrip(flags: u8, gso_type: u8, hdr_len: u16, gso_size: u16,
                        csum_start: u16, csum_offset: u16, num_buffers: u16) {
        let h = NetHdr { flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, num_buffers, ..Default::default() };
        let mut b = [0u8; 12];
        h.write(&mut b);
        prop_assert_eq!(NetHdr::parse(&b), Some(h));
    }

    /// Whatever the device writes, an accepted checksum request stays inside the frame
    /// and an accepted GSO request was negotiated and is non-degenerate.
    #[test]
    fn device_header_never_trusted(bytes in proptest::collection::vec(any::<u8>(), 0..24),
                                   fbits: u64, frame_len in 0usize..70000) {
        let f = Features(fbits);
        if let Some(h) = NetHdr::parse(&bytes) {
            if let Ok(off) = hdr::rx_offload(&h, f, frame_len) {
                if let RxCsum::Partial { start, offset } = off.csum {
                    prop_assert!(start as usize + offset as usize + 2 <= frame_len);
                    prop_assert!(f.has(features::GUEST_CSUM));
                }
                if let Some((t, size)) = off.gso {
                    prop_assert!(size > 0);
                    // Room for at least an Ethernet, IPv4 and UDP header.
                    prop_assert!(frame_len >= 14 + 20 + 8);
                    let ok = match t & !hdr::GSO_ECN {
                        hdr::GSO_TCPV4 => f.has(features::GUEST_TSO4),
                        hdr::GSO_TCPV6 => f.has(features::GUEST_TSO6),
                        hdr::GSO_UDP => f.has(features::GUEST_UFO),
                        _ => false,
                    };
                    prop_assert!(ok);
                }
            }
        } else {
            prop_assert!(bytes.len() < 10);
        }
    }

    #[test]
    fn used_length_within_buffer(used: u32, hdr_len in 10usize..21, cap in 0usize..70000) {
        if let Ok(n) = rx_buf::check_used_len(used, hdr_len, cap) {
            prop_assert!(n + hdr_len <= cap);
            prop_assert!(n >= rx_buf::ETH_HLEN);
            prop_assert_eq!(n + hdr_len, used as usize);
        }
    }
}

#[test]
fn ctrl_ack_and_mac_table() {
    use virtio_net_rust_logic::ctrl_cmd;
    assert!(ctrl_cmd::acked(0));
    assert!(!ctrl_cmd::acked(1));
    // The driver's initial value: the device wrote nothing.
    assert!(!ctrl_cmd::acked(0xff));
    let uc = [1u8, 2, 3, 4, 5, 6];
    let mc = [0x33u8, 0x33, 0, 0, 0, 1, 0x01, 0x00, 0x5e, 0, 0, 1];
    let mut t = vec![0u8; ctrl_cmd::mac_table_len(1, 2)];
    assert_eq!(t.len(), 4 + 6 + 4 + 12);
    assert!(ctrl_cmd::write_mac_table(&mut t, &uc, &mc));
    assert_eq!(&t[..4], &1u32.to_le_bytes());
    assert_eq!(&t[4..10], &uc);
    assert_eq!(&t[10..14], &2u32.to_le_bytes());
    assert_eq!(&t[14..], &mc);
    // Sizes that do not match are refused.
    assert!(!ctrl_cmd::write_mac_table(&mut t, &uc[..5], &mc));
    assert!(!ctrl_cmd::write_mac_table(&mut t[..10], &uc, &mc));
    let mut empty = vec![0u8; ctrl_cmd::mac_table_len(0, 0)];
    assert!(ctrl_cmd::write_mac_table(&mut empty, &[], &[]));
    assert_eq!(empty, vec![0u8; 8]);
}

#[test]
fn rx_mode_falls_back_on_long_lists() {
    use virtio_net_rust_logic::ctrl_cmd::{self, RxMode};
    assert_eq!(
        ctrl_cmd::rx_mode(false, false, 3, 3, 256),
        RxMode {
            promisc: false,
            allmulti: false
        }
    );
    assert_eq!(
        ctrl_cmd::rx_mode(false, false, 257, 3, 256),
        RxMode {
            promisc: true,
            allmulti: false
        }
    );
    assert_eq!(
        ctrl_cmd::rx_mode(false, false, 0, 300, 256),
        RxMode {
            promisc: false,
            allmulti: true
        }
    );
    assert_eq!(
        ctrl_cmd::rx_mode(true, true, 0, 0, 256),
        RxMode {
            promisc: true,
            allmulti: true
        }
    );
}

#[test]
fn stat_names_follow_in_tree_pattern() {
    use virtio_net_rust_logic::stats_names::{write_name, Dir, NAME_LEN};
    let mut slot = [0xffu8; NAME_LEN];
    write_name(&mut slot, Dir::Rx, 0, "packets");
    assert_eq!(&slot[..11], b"rx0_packets");
    assert!(slot[11..].iter().all(|&b| b == 0));
    write_name(&mut slot, Dir::Tx, 12, "kicks");
    assert_eq!(&slot[..10], b"tx12_kicks");
    // Too long: truncated, still NUL-terminated.
    write_name(
        &mut slot,
        Dir::Rx,
        3,
        "a_name_much_longer_than_thirty_two_bytes",
    );
    assert_eq!(slot[NAME_LEN - 1], 0);
    assert_eq!(&slot[..4], b"rx3_");
    assert_eq!(
        &slot[4..NAME_LEN - 1],
        &b"a_name_much_longer_than_thirty_two_bytes"[..27]
    );
    // Slots of one byte (the NUL) or none.
    let mut one = [0xffu8; 1];
    write_name(&mut one, Dir::Rx, 0, "packets");
    assert_eq!(one, [0]);
    write_name(&mut [], Dir::Rx, 0, "packets");
}

proptest! {
    /// Any queue and name: what `format!` would write, cut to the slot, NUL-padded.
    #[test]
    fn stats_names_as_format(queue in any::<usize>(), name in "[a-z_]{0,40}", tx in any::<bool>()) {
        use virtio_net_rust_logic::stats_names::{write_name, Dir, NAME_LEN};
        let (dir, prefix) = if tx { (Dir::Tx, "tx") } else { (Dir::Rx, "rx") };
        let mut slot = [0xffu8; NAME_LEN];
        write_name(&mut slot, dir, queue, &name);
        let mut want = format!("{prefix}{queue}_{name}").into_bytes();
        want.resize(NAME_LEN - 1, 0);
        want.push(0);
        prop_assert_eq!(&slot[..], &want[..]);
    }
}

#[test]
fn writer_fills_front_to_back_and_refuses_overflow() {
    use virtio_net_rust_logic::wire::Writer;
    let mut buf = [0xeeu8; 6];
    let mut w = Writer::new(&mut buf);
    assert_eq!(w.put(&[1, 2]), Some(()));
    assert_eq!(w.zeros(2), Some(()));
    assert_eq!(w.remaining(), 2);
    assert_eq!(w.put(&[3, 4, 5]), None);
    assert_eq!(w.remaining(), 0);
    assert_eq!(buf, [1, 2, 0, 0, 0xee, 0xee]);
}

#[test]
fn payload_lengths_saturate() {
    assert_eq!(
        rss_config::rss_config_len(usize::MAX / 2 + 1, 40),
        usize::MAX
    );
    assert_eq!(rss_config::rss_config_len(4, usize::MAX), usize::MAX);
    assert_eq!(
        rss_config::rss_config_len(128, 40),
        4 + 2 + 2 + 256 + 2 + 1 + 40
    );
    assert_eq!(ctrl_cmd::mac_table_len(usize::MAX / 6, 1), usize::MAX);
    assert_eq!(ctrl_cmd::mac_table_len(3, 2), 4 + 18 + 4 + 12);
}

#[test]
fn queue_pairs_from_device() {
    let mq = feats(&[features::VERSION_1, features::MQ, features::CTRL_VQ]);
    assert_eq!(features::queue_pairs(mq, 4), 4);
    // Out of the specification's range, or MQ without its control queue: one pair.
    assert_eq!(features::queue_pairs(mq, 0), 1);
    assert_eq!(features::queue_pairs(mq, 0x8001), 1);
    assert_eq!(features::queue_pairs(feats(&[features::MQ]), 4), 1);
    assert_eq!(features::queue_pairs(feats(&[features::CTRL_VQ]), 4), 1);
    // Every pair the device has, up to the specification's maximum (a cap at 16 put
    // the control queue on the device's receive queue 16: the guest hung at bind).
    assert_eq!(features::queue_pairs(mq, 17), 17);
    assert_eq!(features::queue_pairs(mq, 64), 64);
    assert_eq!(features::queue_pairs(mq, 0x8000), 0x8000);
    for reported in [1u16, 16, 17, 32, 64, 0x8000] {
        let pairs = features::queue_pairs(mq, reported);
        assert_eq!(features::ctrl_vq_index(pairs), 2 * usize::from(reported));
    }
    // Without MQ the control queue follows the single pair.
    let no_mq = feats(&[features::VERSION_1, features::CTRL_VQ]);
    assert_eq!(features::ctrl_vq_index(features::queue_pairs(no_mq, 64)), 2);
    assert_eq!(features::default_queue_pairs(4, 2), 2);
    assert_eq!(features::default_queue_pairs(4, 0), 1);
    assert_eq!(features::default_queue_pairs(1, 64), 1);
}

#[test]
fn channels_requests() {
    use features::ChannelsError::*;
    assert_eq!(features::check_channels(2, 0, 0, 0, 4), Ok(2));
    assert_eq!(features::check_channels(4, 0, 0, 0, 4), Ok(4));
    assert_eq!(features::check_channels(5, 0, 0, 0, 4), Err(OutOfRange));
    assert_eq!(features::check_channels(0, 0, 0, 0, 4), Err(OutOfRange));
    assert_eq!(
        features::check_channels(u32::MAX, 0, 0, 0, 4),
        Err(OutOfRange)
    );
    assert_eq!(features::check_channels(1, 1, 0, 0, 4), Err(NotCombined));
    assert_eq!(features::check_channels(1, 0, 1, 0, 4), Err(NotCombined));
    assert_eq!(features::check_channels(1, 0, 0, 1, 4), Err(NotCombined));
}

#[test]
fn speed_and_duplex_validated() {
    assert_eq!(features::valid_speed(10000), Some(10000));
    assert_eq!(features::valid_speed(u32::MAX), Some(u32::MAX));
    assert_eq!(features::valid_speed(0x8000_0000), None);
    assert_eq!(features::valid_duplex(1), Some(1));
    assert_eq!(features::valid_duplex(0xff), Some(0xff));
    assert_eq!(features::valid_duplex(2), None);
}

#[test]
fn mtu_limits() {
    let mrg = feats(&[features::VERSION_1, features::MRG_RXBUF]);
    let small = feats(&[features::VERSION_1]);
    assert_eq!(features::max_mtu(mrg, Some(9000), 1500), 9000);
    assert_eq!(features::max_mtu(small, Some(9000), 1500), 9000);
    assert_eq!(features::max_mtu(mrg, None, 1500), features::MAX_MTU);
    assert_eq!(features::max_mtu(small, None, 1500), 1500);
    // "Big packets": guest GSO without mergeable buffers, 64 KiB page chains.
    let big = feats(&[
        features::VERSION_1,
        features::GUEST_CSUM,
        features::GUEST_TSO4,
    ]);
    assert_eq!(features::max_mtu(big, None, 1500), features::MAX_MTU);
    assert_eq!(features::max_mtu(big, Some(9000), 1500), 9000);
}

#[test]
fn big_packets_rings_fit_a_buffer() {
    let big = feats(&[
        features::VERSION_1,
        features::GUEST_CSUM,
        features::GUEST_TSO4,
    ]);
    let mode = |f| features::rx_mode(f, None);
    assert_eq!(features::min_rx_ring(big, mode(big), 17), 17);
    let mut indirect = big;
    indirect.0 |= 1 << features::RING_INDIRECT_DESC;
    assert_eq!(features::min_rx_ring(indirect, mode(indirect), 17), 1);
    let mut mrg = big;
    mrg.0 |= 1 << features::MRG_RXBUF;
    assert_eq!(features::min_rx_ring(mrg, mode(mrg), 17), 1);
    let plain = feats(&[features::VERSION_1]);
    assert_eq!(features::min_rx_ring(plain, mode(plain), 17), 1);
    // Big packets for a jumbo MTU without guest GSO: the same rule.
    assert_eq!(
        features::min_rx_ring(plain, features::rx_mode(plain, Some(9000)), 3),
        3
    );
}

#[test]
fn rx_mode_follows_the_in_tree_rule() {
    use features::RxMode;
    let plain = feats(&[features::VERSION_1, features::MTU]);
    let gso = feats(&[
        features::VERSION_1,
        features::GUEST_CSUM,
        features::GUEST_TSO4,
    ]);
    let mut mrg = gso;
    mrg.0 |= 1 << features::MRG_RXBUF;
    assert_eq!(features::rx_mode(mrg, Some(9000)), RxMode::Mergeable);
    assert_eq!(features::rx_mode(mrg, None), RxMode::Mergeable);
    assert_eq!(features::rx_mode(gso, None), RxMode::Big);
    assert_eq!(features::rx_mode(gso, Some(1500)), RxMode::Big);
    // virtnet_set_big_packets: an MTU above ETH_DATA_LEN selects big packets.
    assert_eq!(features::rx_mode(plain, Some(1501)), RxMode::Big);
    assert_eq!(features::rx_mode(plain, Some(9000)), RxMode::Big);
    assert_eq!(features::rx_mode(plain, Some(1500)), RxMode::Small);
    assert_eq!(features::rx_mode(plain, Some(576)), RxMode::Small);
    assert_eq!(features::rx_mode(plain, None), RxMode::Small);
}

#[test]
fn jumbo_big_buffers_hold_one_frame() {
    // A 9000-byte MTU: header, VLAN-tagged Ethernet header and frame in 3 pages.
    assert_eq!(rx_buf::big_buf_pages_for(12, 4096, 9000), 3);
    assert_eq!(rx_buf::big_buf_pages_for(12, 4096, 1501), 1);
    for mtu in [1501usize, 4000, 9000, 16000, 65535] {
        let n = rx_buf::big_buf_pages_for(12, 4096, mtu);
        let frame = 12 + rx_buf::ETH_HLEN + rx_buf::VLAN_HLEN + mtu;
        assert!(n * 4096 >= frame && (n - 1) * 4096 < frame);
    }
}

#[test]
fn big_buffers_hold_the_largest_packet_in_one_skb() {
    // 17 pages of 4 KiB (MAX_SKB_FRAGS by default), as the in-tree driver posts.
    assert_eq!(rx_buf::big_buf_pages(12, 4096), 17);
    assert_eq!(rx_buf::big_buf_pages(10, 4096), 17);
    assert_eq!(rx_buf::big_buf_pages(12, 65536), 2);
    for hdr_len in [10usize, 12, 20] {
        for page in [4096usize, 16384, 65536] {
            let n = rx_buf::big_buf_pages(hdr_len, page);
            let largest = hdr_len + rx_buf::ETH_HLEN + rx_buf::VLAN_HLEN + rx_buf::IP_MAX_MTU;
            assert!(n * page >= largest && (n - 1) * page < largest);
        }
    }
}

#[test]
fn guest_offloads_follow_gro_hw() {
    use virtio_net_rust_logic::ctrl_cmd;
    let f = all_driver_features();
    let all = ctrl_cmd::guest_offloads(f, true);
    let no_gro = ctrl_cmd::guest_offloads(f, false);
    assert_eq!(no_gro, 1 << features::GUEST_CSUM);
    for b in features::GUEST_GSO {
        assert!(all & (1 << b) != 0);
    }
    // Never more than was negotiated.
    let mut some = f;
    some.clear(features::GUEST_UFO);
    assert_eq!(
        ctrl_cmd::guest_offloads(some, true) & (1 << features::GUEST_UFO),
        0
    );
}

#[test]
fn ring_sizes_checked() {
    use features::RingSizeError::*;
    assert_eq!(features::check_ring_size(128, 256, false), Ok(128));
    assert_eq!(features::check_ring_size(256, 256, false), Ok(256));
    assert_eq!(features::check_ring_size(512, 256, false), Err(OutOfRange));
    assert_eq!(features::check_ring_size(0, 256, false), Err(OutOfRange));
    assert_eq!(
        features::check_ring_size(100, 256, false),
        Err(NotPowerOfTwo)
    );
    // Packed rings take any size.
    assert_eq!(features::check_ring_size(100, 256, true), Ok(100));
}

#[test]
fn coalesce_without_notf_coal() {
    use coalesce::{check, Coalesce, CoalesceError, FIXED};
    assert_eq!(check(&FIXED), Ok(()));
    let usecs = Coalesce {
        rx_usecs: 8,
        ..FIXED
    };
    assert_eq!(check(&usecs), Err(CoalesceError::Unsupported));
    let tx_usecs = Coalesce {
        tx_usecs: 1,
        ..FIXED
    };
    assert_eq!(check(&tx_usecs), Err(CoalesceError::Unsupported));
    for (rx, tx) in [(0, 1), (2, 1), (1, 0), (1, 64), (u32::MAX, 1)] {
        let req = Coalesce {
            rx_max_frames: rx,
            tx_max_frames: tx,
            ..FIXED
        };
        assert_eq!(check(&req), Err(CoalesceError::OutOfRange), "{rx}/{tx}");
    }
}

#[test]
fn rss_table_length() {
    assert_eq!(rss_config::table_len(0), None);
    assert_eq!(rss_config::table_len(1), Some(1));
    assert_eq!(rss_config::table_len(128), Some(128));
    // Not a power of two: the largest one within it (a mask must cover it exactly).
    assert_eq!(rss_config::table_len(100), Some(64));
    assert_eq!(
        rss_config::table_len(u16::MAX),
        Some(rss_config::MAX_TABLE_LEN)
    );
    let mut t = [9u16; 8];
    rss_config::fill_default_table(&mut t, 3);
    assert_eq!(t, [0, 1, 2, 0, 1, 2, 0, 1]);
    rss_config::fill_default_table(&mut t, 0);
    assert_eq!(t, [0; 8]);
}

#[test]
fn rss_table_from_ethtool() {
    let mut t = [0u16; 4];
    assert_eq!(rss_config::set_table(&mut t, &[1, 0, 1, 1], 2), Ok(()));
    assert_eq!(t, [1, 0, 1, 1]);
    // A queue not in use, or a table of another length, changes nothing.
    assert_eq!(
        rss_config::set_table(&mut t, &[0, 0, 2, 0], 2),
        Err(rss_config::TableError::Queue(2, 2))
    );
    assert_eq!(
        rss_config::set_table(&mut t, &[0, 0, 0], 2),
        Err(rss_config::TableError::Length(3))
    );
    assert_eq!(
        rss_config::set_table(&mut t, &[0, 0, 0, 0x1_0000], 2),
        Err(rss_config::TableError::Queue(3, 0x1_0000))
    );
    assert_eq!(t, [1, 0, 1, 1]);
}

#[test]
fn rss_config_payload() {
    let key: Vec<u8> = (1..=40).collect();
    let table = [0u16, 1, 2, 3];
    let mut out = vec![0xeeu8; rss_config::rss_config_len(4, 40)];
    assert_eq!(out.len(), 4 + 2 + 2 + 8 + 2 + 1 + 40);
    assert!(rss_config::write_rss_config(
        &mut out, 0x3f, &table, 4, &key
    ));
    assert_eq!(out[..4], [0x3f, 0, 0, 0]);
    assert_eq!(out[4..6], [3, 0]); // mask
    assert_eq!(out[6..8], [0, 0]); // unclassified queue
    assert_eq!(out[8..16], [0, 0, 1, 0, 2, 0, 3, 0]);
    assert_eq!(out[16..18], [4, 0]); // max_tx_vq
    assert_eq!(out[18], 40);
    assert_eq!(out[19..], key[..]);
    // Refused: wrong buffer, table not a power of two, empty or long key.
    let mut before = out.clone();
    assert!(!rss_config::write_rss_config(
        &mut out[1..],
        0x3f,
        &table,
        4,
        &key
    ));
    let mut three = vec![0u8; rss_config::rss_config_len(3, 40)];
    assert!(!rss_config::write_rss_config(
        &mut three,
        0,
        &table[..3],
        1,
        &key
    ));
    let mut nokey = vec![0u8; rss_config::rss_config_len(4, 0)];
    assert!(!rss_config::write_rss_config(&mut nokey, 0, &table, 1, &[]));
    let long = [0u8; 41];
    let mut l = vec![0u8; rss_config::rss_config_len(4, 41)];
    assert!(!rss_config::write_rss_config(&mut l, 0, &table, 1, &long));
    before.truncate(out.len());
    assert_eq!(out, before);
}

#[test]
fn rss_negotiation_drops_unusable_parameters() {
    let both = feats(&[features::VERSION_1, features::RSS, features::HASH_REPORT]);
    assert_eq!(rss_config::restrict(both, 40, 128), (both, None));
    let (f, why) = rss_config::restrict(both, 41, 128);
    assert!(!f.has(features::RSS) && !f.has(features::HASH_REPORT));
    assert_eq!(why, Some(rss_config::Unusable::KeySize(41)));
    let (f, why) = rss_config::restrict(both, 40, 0);
    assert!(!f.has(features::RSS) && f.has(features::HASH_REPORT));
    assert_eq!(why, Some(rss_config::Unusable::TableLength));
    // Without either feature the parameters do not matter.
    let none = feats(&[features::VERSION_1]);
    assert_eq!(rss_config::restrict(none, 0, 0), (none, None));
    // Hash reports alone need no table.
    let hash = feats(&[features::VERSION_1, features::HASH_REPORT]);
    assert_eq!(rss_config::restrict(hash, 40, 0), (hash, None));
}

#[test]
fn rx_flow_hash_fields() {
    use rss_config::*;
    let all = 0x3f;
    assert_eq!(flow_hash_fields(all, TCP_V4_FLOW), FIELDS_L4);
    assert_eq!(flow_hash_fields(all, IPV6_FLOW), FIELDS_L3);
    assert_eq!(flow_hash_fields(HASH_TYPE_IPV4, UDP_V4_FLOW), FIELDS_L3);
    assert_eq!(flow_hash_fields(HASH_TYPE_TCPV6, UDP_V6_FLOW), 0);
    assert_eq!(flow_hash_fields(all, 0x03 /* SCTP_V4_FLOW */), 0);

    // sd on TCPv4 drops the TCP type only.
    assert_eq!(
        set_flow_hash(all, all, TCP_V4_FLOW, FIELDS_L3),
        Ok(all & !HASH_TYPE_TCPV4)
    );
    // r on UDPv6 drops both of its types.
    assert_eq!(
        set_flow_hash(all, all, UDP_V6_FLOW, RXH_DISCARD),
        Ok(all & !(HASH_TYPE_IPV6 | HASH_TYPE_UDPV6))
    );
    // sd on IPv4 adds the L3 type and keeps the others (in-tree replaces them all).
    assert_eq!(
        set_flow_hash(HASH_TYPE_TCPV6, all, IPV4_FLOW, FIELDS_L3),
        Ok(HASH_TYPE_TCPV6 | HASH_TYPE_IPV4)
    );
    assert_eq!(
        set_flow_hash(all, all, IPV4_FLOW, FIELDS_L4),
        Err(FlowHashError::Fields(FIELDS_L4))
    );
    assert_eq!(
        set_flow_hash(all, all, TCP_V4_FLOW, RXH_IP_SRC),
        Err(FlowHashError::Fields(RXH_IP_SRC))
    );
    assert_eq!(
        set_flow_hash(all, all, 0x03, FIELDS_L3),
        Err(FlowHashError::FlowType(3))
    );
    assert_eq!(
        set_flow_hash(0, HASH_TYPE_IPV4, TCP_V4_FLOW, FIELDS_L4),
        Err(FlowHashError::Unsupported(HASH_TYPE_TCPV4))
    );
}

proptest! {
    /// Whatever is asked, the result is within what the device supports and
    /// `ethtool -n` then reports what was set.
    #[test]
    fn rx_flow_hash_roundtrip(types in 0u32..0x200, supported in 0u32..0x200,
                              flow in prop::sample::select(vec![1u32, 2, 5, 6, 0x10, 0x11, 3, 0]),
                              fields in prop::sample::select(vec![0u64, rss_config::FIELDS_L3, rss_config::FIELDS_L4,
                                                                  rss_config::RXH_DISCARD, rss_config::RXH_IP_SRC])) {
        if let Ok(new) = rss_config::set_flow_hash(types & supported, supported, flow, fields) {
            prop_assert_eq!(new & !supported, 0);
            let want = if fields == rss_config::RXH_DISCARD { 0 } else { fields };
            prop_assert_eq!(rss_config::flow_hash_fields(new, flow), want);
        }
    }
}

#[test]
fn vq_names_as_in_tree() {
    use virtio_net_rust_logic::vq_names::{write, NAME_LEN};
    for (pair, rx, want) in [
        (0u16, true, &b"input.0"[..]),
        (7, false, b"output.7"),
        (16, true, b"input.16"),
        (63, false, b"output.63"),
        (65535, false, b"output.65535"),
    ] {
        let mut out = [0xffu8; NAME_LEN];
        let len = write(&mut out, pair, rx);
        assert_eq!(len, Some(want.len() + 1));
        assert_eq!(&out[..want.len()], want);
        assert!(out[want.len()..].iter().all(|&b| b == 0));
    }
    assert_eq!(write(&mut [0u8; NAME_LEN - 1], 0, true), None);
}
