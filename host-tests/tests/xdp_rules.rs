// SPDX-License-Identifier: GPL-2.0

//! When an XDP program may be attached, and which frames it may see
//! (`src/logic/xdp.rs`).

use proptest::prelude::*;
use virtio_net_rust_logic::{
    features::{self as f, Features},
    hdr::{NetHdr, F_DATA_VALID, F_NEEDS_CSUM, GSO_NONE, GSO_TCPV4},
    xdp::{self, Refusal},
};

fn feats(bits: &[u32]) -> Features {
    Features(bits.iter().fold(0u64, |a, &b| a | (1u64 << b)))
}

/// x86-64: a 4 KiB page less 256 bytes of headroom and 320 of shared info.
const MAX_FRAME: usize = 4096 - 256 - 320;

#[test]
fn big_packets_mode_is_refused() {
    assert_eq!(
        xdp::refusal(feats(&[f::MRG_RXBUF]), true, 1500, false, MAX_FRAME),
        Some(Refusal::BigPackets)
    );
}

#[test]
fn offloads_without_the_command_are_refused() {
    for off in [
        f::GUEST_CSUM,
        f::GUEST_TSO4,
        f::GUEST_TSO6,
        f::GUEST_ECN,
        f::GUEST_UFO,
    ] {
        let without = feats(&[f::MRG_RXBUF, f::CTRL_VQ, off]);
        assert_eq!(
            xdp::refusal(without, false, 1500, false, MAX_FRAME),
            Some(Refusal::GuestOffloads),
            "feature {off}"
        );
        let with = feats(&[f::MRG_RXBUF, f::CTRL_VQ, f::CTRL_GUEST_OFFLOADS, off]);
        assert_eq!(
            xdp::refusal(with, false, 1500, false, MAX_FRAME),
            None,
            "feature {off}"
        );
    }
    // Nothing to turn off: no command needed.
    assert_eq!(
        xdp::refusal(feats(&[f::MRG_RXBUF]), false, 1500, false, MAX_FRAME),
        None
    );
}

#[test]
fn mtu_limit_is_one_buffer_less_the_ethernet_header() {
    let ft = feats(&[f::MRG_RXBUF]);
    let max = xdp::max_mtu(MAX_FRAME);
    assert_eq!(max, 3506, "the in-tree driver's limit on x86-64");
    assert_eq!(xdp::refusal(ft, false, max, false, MAX_FRAME), None);
    assert_eq!(
        xdp::refusal(ft, false, max + 1, false, MAX_FRAME),
        Some(Refusal::Mtu)
    );
    // A program that takes multi-buffer frames has no MTU limit.
    assert_eq!(xdp::refusal(ft, false, max + 1, true, MAX_FRAME), None);
    assert_eq!(xdp::refusal(ft, false, 65535, true, MAX_FRAME), None);
    assert!(!Refusal::Mtu.not_supported());
    assert!(Refusal::GuestOffloads.not_supported());
}

#[test]
fn messages_are_distinct_and_short_enough_for_netlink() {
    let all = [Refusal::BigPackets, Refusal::GuestOffloads, Refusal::Mtu];
    for (i, a) in all.iter().enumerate() {
        assert!(a.message().to_bytes().len() < 128);
        for b in &all[i + 1..] {
            assert_ne!(a.message(), b.message());
        }
    }
}

proptest! {
    /// A program sees a frame exactly when the device left it neither to be
    /// segmented nor to be checksummed.
    #[test]
    fn runs_on_plain_frames_only(flags in any::<u8>(), gso in any::<u8>()) {
        let h = NetHdr { flags, gso_type: gso, ..NetHdr::default() };
        prop_assert_eq!(xdp::runs_on(&h), gso == GSO_NONE && flags & F_NEEDS_CSUM == 0);
    }

    /// With the offloads switchable, the mode decides first, then the MTU.
    #[test]
    fn refusal_follows_mode_then_mtu(mtu in 0u32..70000, big in any::<bool>(), frags in any::<bool>()) {
        let ft = feats(&[f::MRG_RXBUF, f::CTRL_VQ, f::CTRL_GUEST_OFFLOADS, f::GUEST_TSO4]);
        let r = xdp::refusal(ft, big, mtu, frags, MAX_FRAME);
        let expect = if big {
            Some(Refusal::BigPackets)
        } else if mtu > 3506 && !frags {
            Some(Refusal::Mtu)
        } else {
            None
        };
        prop_assert_eq!(r, expect);
    }
}

#[test]
fn data_valid_and_tso_frames() {
    let valid = NetHdr {
        flags: F_DATA_VALID,
        ..NetHdr::default()
    };
    assert!(xdp::runs_on(&valid));
    let tso = NetHdr {
        gso_type: GSO_TCPV4,
        ..NetHdr::default()
    };
    assert!(!xdp::runs_on(&tso));
}

#[test]
fn send_pairs_only_when_every_cpu_gets_one() {
    // QEMU's default: one pair per vCPU, all in use: locked mode.
    assert_eq!(xdp::send_pairs(2, 2, 2), 0);
    // Two in use of four, two CPUs: one each.
    assert_eq!(xdp::send_pairs(2, 4, 2), 2);
    // One short of a pair per CPU: none at all, as in-tree.
    assert_eq!(xdp::send_pairs(3, 4, 2), 0);
    assert_eq!(xdp::send_pairs(1, 64, 64), 0);
    assert_eq!(xdp::send_pairs(1, 65, 64), 64);
    assert_eq!(xdp::send_pairs(1, 4, 0), 0);
    assert_eq!(xdp::send_pairs(1, u16::MAX, 70_000), 0);
}

proptest! {
    /// A program's frames go to a queue the device has: the CPU's own after the
    /// stack's, or one of the stack's.
    #[test]
    fn send_queue_is_in_range(curr in 0u16..80, max in 1u16..200, cpus in 0u32..100, cpu in 0usize..100) {
        let curr = curr.min(max);
        let xdp = xdp::send_pairs(curr, max, cpus);
        prop_assume!(cpu < cpus as usize);
        let q = xdp::send_queue(curr, xdp, cpu);
        prop_assert!(q < usize::from(max));
        if xdp > 0 {
            prop_assert_eq!(q, usize::from(curr.max(1)) + cpu);
        } else {
            prop_assert!(q < usize::from(curr.max(1)));
        }
    }
}
