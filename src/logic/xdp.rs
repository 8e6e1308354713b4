// SPDX-License-Identifier: GPL-2.0

//! XDP rules: when a program may be attached, and which received frames a program
//! may see.

use super::features::{self, Features};
use super::hdr::{NetHdr, F_NEEDS_CSUM, GSO_NONE};
use core::ffi::CStr;

/// Ethernet header, which the MTU does not count.
const ETH_HLEN: u32 = 14;

/// Why a program cannot be attached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// "Big packets" mode (guest GSO without mergeable buffers): the in-tree driver
    /// accepts the program and never runs it; this one says so instead.
    BigPackets,
    /// The device applies receive offloads (checksums, coalescing) that only the
    /// control queue's `GUEST_OFFLOADS` command could turn off, and it lacks it: a
    /// program would see packets without checksums, or bigger than one buffer.
    GuestOffloads,
    /// The MTU lets frames be longer than one XDP buffer holds, and the program
    /// does not take multi-buffer frames (it was not loaded from `xdp.frags`).
    Mtu,
}

impl Refusal {
    /// The message for the user (netlink extack, printed by iproute2).
    pub fn message(self) -> &'static CStr {
        match self {
            Self::BigPackets => {
                c"XDP is not supported in big packets mode (guest GSO without mergeable buffers)"
            }
            Self::GuestOffloads => {
                c"Can't set XDP while host is implementing GRO_HW/CSUM, disable GRO_HW first"
            }
            Self::Mtu => c"MTU too large to enable XDP without frags",
        }
    }

    /// Whether the errno is `EOPNOTSUPP` (else `EINVAL`), as the in-tree driver's.
    pub fn not_supported(self) -> bool {
        !matches!(self, Self::Mtu)
    }
}

/// Whether a program may be attached to a device in `big_packets` mode with the
/// negotiated `features` and `mtu`, whose XDP buffers hold frames of up to
/// `max_frame` bytes in one buffer. A program that takes multi-buffer frames
/// (`frags`) has no MTU limit: a frame longer than one buffer continues in page
/// fragments.
pub fn refusal(
    features: Features,
    big_packets: bool,
    mtu: u32,
    frags: bool,
    max_frame: usize,
) -> Option<Refusal> {
    if big_packets {
        return Some(Refusal::BigPackets);
    }
    if super::ctrl_cmd::guest_offloads(features, true) != 0
        && !features.has(features::CTRL_GUEST_OFFLOADS)
    {
        return Some(Refusal::GuestOffloads);
    }
    if !frags && mtu > max_mtu(max_frame) {
        return Some(Refusal::Mtu);
    }
    None
}

/// Largest MTU with a program attached: a frame, Ethernet header included, fits a
/// buffer of `max_frame` bytes.
pub fn max_mtu(max_frame: usize) -> u32 {
    u32::try_from(max_frame)
        .unwrap_or(u32::MAX)
        .saturating_sub(ETH_HLEN)
}

/// Whether a program may see a received frame with header `h`: not one the device
/// left to be segmented or checksummed (a program could not make sense of it), as
/// the in-tree driver decides. The device was told to stop such offloads on attach.
pub fn runs_on(h: &NetHdr) -> bool {
    h.gso_type == GSO_NONE && h.flags & F_NEEDS_CSUM == 0
}

/// Queue pairs a program gets for its own sends (`XDP_TX`, `ndo_xdp_xmit`): one per
/// possible CPU after the `curr` pairs the stack uses, if the device has `max`
/// pairs for that, as in-tree; else none, and the frames share the stack's queues
/// under their lock (in-tree's "slower locked tx mode").
pub fn send_pairs(curr: u16, max: u16, cpus: u32) -> u16 {
    // A device always has a pair in use.
    let curr = curr.max(1);
    match u16::try_from(cpus) {
        Ok(n) if n > 0 && u32::from(curr) + u32::from(n) <= u32::from(max) => n,
        _ => 0,
    }
}

/// The pair whose transmit queue sends a program's frames on CPU `cpu`: the CPU's
/// own among the `xdp_pairs` after the `curr` the stack uses, else one of those
/// (shared, locked).
pub fn send_queue(curr: u16, xdp_pairs: u16, cpu: usize) -> usize {
    let curr = usize::from(curr.max(1));
    if cpu < usize::from(xdp_pairs) {
        curr + cpu
    } else {
        cpu % curr
    }
}
