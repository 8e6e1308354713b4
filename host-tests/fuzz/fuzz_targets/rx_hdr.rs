// SPDX-License-Identifier: GPL-2.0

//! A received `virtio_net_hdr`, as the device wrote it, with any negotiated features
//! and any frame length: the verdict of `rx_offload` never lets a checksum or GSO
//! description point outside the frame, nor accepts an offload that was not negotiated.

#![no_main]

use libfuzzer_sys::fuzz_target;
use virtio_net_rust_logic::features::{self, Features};
use virtio_net_rust_logic::hdr::{self, NetHdr, RxCsum};

fuzz_target!(|data: &[u8]| {
    // 8 bytes of features, 2 of frame length, then the header bytes.
    if data.len() < 10 {
        return;
    }
    let f = Features(u64::from_le_bytes(data[..8].try_into().unwrap()));
    let frame_len = usize::from(u16::from_le_bytes([data[8], data[9]]));
    let bytes = &data[10..];
    let Some(h) = NetHdr::parse(bytes) else {
        assert!(bytes.len() < 10);
        return;
    };
    // What the driver sends back out is what it parsed (a transmit header carries
    // no hash).
    let round = NetHdr::parse(&h.to_bytes()[..bytes.len().min(20)]).unwrap();
    if bytes.len() >= 12 {
        assert_eq!(
            round,
            NetHdr {
                hash_value: 0,
                hash_report: 0,
                ..h
            }
        );
    }
    // Any hash report is either understood or ignored.
    let _ = virtio_net_rust_logic::rss_config::report_level(h.hash_report);
    let Ok(off) = hdr::rx_offload(&h, f, frame_len) else {
        return;
    };
    match off.csum {
        RxCsum::None => {}
        RxCsum::Unnecessary => assert!(f.has(features::GUEST_CSUM)),
        RxCsum::Partial { start, offset } => {
            assert!(f.has(features::GUEST_CSUM));
            assert!(usize::from(start) + usize::from(offset) + 2 <= frame_len);
        }
    }
    if let Some((gso_type, gso_size)) = off.gso {
        assert!(gso_size != 0);
        let base = gso_type & !hdr::GSO_ECN;
        let bit = match base {
            hdr::GSO_TCPV4 => features::GUEST_TSO4,
            hdr::GSO_TCPV6 => features::GUEST_TSO6,
            hdr::GSO_UDP => features::GUEST_UFO,
            other => panic!("accepted gso type {other}"),
        };
        assert!(f.has(bit));
        if gso_type & hdr::GSO_ECN != 0 {
            assert!(f.has(features::GUEST_ECN));
        }
        // At least an Ethernet, an IPv4 and a UDP header.
        assert!(frame_len >= 14 + 20 + 8);
    }
});
