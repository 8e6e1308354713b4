// SPDX-License-Identifier: GPL-2.0

//! The `virtio_net_hdr` that precedes every packet, and its translation to and from
//! the offload state of a packet.
//!
//! Everything here treats the bytes the device wrote as untrusted input: a header
//! that asks for something that was not negotiated, or that points outside the
//! packet, is rejected with a reason the driver counts.

use super::features::{self, Features};
use super::log_format::Describe;
use core::ffi::CStr;

/// `flags`: the packet has a partial checksum to complete (csum_start/csum_offset).
pub const F_NEEDS_CSUM: u8 = 1;
/// `flags`: the checksum was validated by the device.
pub const F_DATA_VALID: u8 = 2;
/// `flags`: the driver must not trust fields beyond the first (RSC info).
pub const F_RSC_INFO: u8 = 4;

/// `gso_type`: not a GSO packet.
pub const GSO_NONE: u8 = 0;
/// `gso_type`: TCPv4 segmentation.
pub const GSO_TCPV4: u8 = 1;
/// `gso_type`: UDP fragmentation offload.
pub const GSO_UDP: u8 = 3;
/// `gso_type`: TCPv6 segmentation.
pub const GSO_TCPV6: u8 = 4;
/// `gso_type`: UDP segmentation offload.
pub const GSO_UDP_L4: u8 = 5;
/// `gso_type` bit: ECN (CWR) set on the TCP stream.
pub const GSO_ECN: u8 = 0x80;

const ETH_HLEN: usize = 14;
const IPV4_HLEN: usize = 20;
const IPV6_HLEN: usize = 40;
const TCP_HLEN: usize = 20;
const UDP_HLEN: usize = 8;
/// `offsetof(struct tcphdr, check)`.
const TCP_CSUM_OFFSET: u16 = 16;
/// `offsetof(struct udphdr, check)`.
const UDP_CSUM_OFFSET: u16 = 6;

/// A parsed `virtio_net_hdr_v1` (the 10 common bytes plus `num_buffers`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetHdr {
    /// `VIRTIO_NET_HDR_F_*`.
    pub flags: u8,
    /// `VIRTIO_NET_HDR_GSO_*`.
    pub gso_type: u8,
    /// Length of the headers to copy into each segment.
    pub hdr_len: u16,
    /// Segment size (MSS).
    pub gso_size: u16,
    /// Where checksumming starts.
    pub csum_start: u16,
    /// Where, from `csum_start`, the checksum is stored.
    pub csum_offset: u16,
    /// How many buffers the packet spans (mergeable buffers only).
    pub num_buffers: u16,
    /// The packet's hash (HASH_REPORT only, see `rss`).
    pub hash_value: u32,
    /// What the device hashed, `VIRTIO_NET_HASH_REPORT_*` (HASH_REPORT only).
    pub hash_report: u16,
}

/// Offsets of fields in the little-endian wire layout.
const FLAGS: usize = 0;
const GSO_TYPE: usize = 1;
const HDR_LEN: usize = 2;
const GSO_SIZE: usize = 4;
const CSUM_START: usize = 6;
const CSUM_OFFSET: usize = 8;
const NUM_BUFFERS: usize = 10;
const HASH_VALUE: usize = 12;
const HASH_REPORT: usize = 16;
/// Length of the header with the hash fields (`virtio_net_hdr_v1_hash`).
const HASH_HDR_LEN: usize = 20;
// `NetHdr::to_bytes` lays the fields out in this order.
const _: () = assert!(FLAGS == 0 && GSO_TYPE == 1 && HDR_LEN == 2 && GSO_SIZE == 4);
const _: () = assert!(CSUM_START == 6 && CSUM_OFFSET == 8 && NUM_BUFFERS == 10);

// Always inlined: under `opt-level=s` it stayed a call per field of every
// received header.
#[inline(always)]
fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

impl NetHdr {
    /// Parses the header from the first bytes of a buffer. `bytes` must be at least
    /// 10 bytes long; `num_buffers` is read only when 12 or more are given, the hash
    /// fields only when 20 are.
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        if bytes.len() < 10 {
            return None;
        }
        Some(Self {
            flags: bytes[FLAGS],
            gso_type: bytes[GSO_TYPE],
            hdr_len: le16(bytes, HDR_LEN),
            gso_size: le16(bytes, GSO_SIZE),
            csum_start: le16(bytes, CSUM_START),
            csum_offset: le16(bytes, CSUM_OFFSET),
            num_buffers: if bytes.len() >= 12 {
                le16(bytes, NUM_BUFFERS)
            } else {
                0
            },
            hash_value: if bytes.len() >= HASH_HDR_LEN {
                u32::from_le_bytes([
                    bytes[HASH_VALUE],
                    bytes[HASH_VALUE + 1],
                    bytes[HASH_VALUE + 2],
                    bytes[HASH_VALUE + 3],
                ])
            } else {
                0
            },
            hash_report: if bytes.len() >= HASH_HDR_LEN {
                le16(bytes, HASH_REPORT)
            } else {
                0
            },
        })
    }

    /// The header as the device reads it, in the longest layout (20 bytes, hash
    /// fields zero): a device with a 10- or 12-byte header takes the first bytes.
    /// Built as one array, so the transmit path stores it without slice copies.
    pub fn to_bytes(self) -> [u8; 20] {
        let [h0, h1] = self.hdr_len.to_le_bytes();
        let [g0, g1] = self.gso_size.to_le_bytes();
        let [s0, s1] = self.csum_start.to_le_bytes();
        let [o0, o1] = self.csum_offset.to_le_bytes();
        let [n0, n1] = self.num_buffers.to_le_bytes();
        [
            self.flags,
            self.gso_type,
            h0,
            h1,
            g0,
            g1,
            s0,
            s1,
            o0,
            o1,
            n0,
            n1,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        ]
    }

    /// Writes the header into `out` (10, 12 or 20 bytes); bytes past 12 are zeroed.
    /// The driver never writes a received header: the host tests' round trips do.
    #[allow(dead_code)]
    pub fn write(&self, out: &mut [u8]) {
        let b = self.to_bytes();
        let n = out.len().min(b.len());
        out[..n].copy_from_slice(&b[..n]);
    }
}

/// The checksum state of a received packet, as the stack should see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RxCsum {
    /// Nothing known: the stack validates the checksum in software.
    None,
    /// The device validated it (`CHECKSUM_UNNECESSARY`).
    Unnecessary,
    /// The checksum is partial and starts at `start`, stored at `start + offset`
    /// (`CHECKSUM_PARTIAL`).
    Partial {
        /// Offset of the first byte to checksum, from the start of the frame.
        start: u16,
        /// Offset of the checksum field from `start`.
        offset: u16,
    },
}

/// Why a received header is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HdrError {
    /// A checksum flag without GUEST_CSUM negotiated.
    CsumNotNegotiated,
    /// `csum_start + csum_offset + 2` lies beyond the frame.
    CsumOutOfBounds,
    /// A GSO type the driver did not negotiate, or an unknown one.
    BadGsoType,
    /// A GSO packet too short for its headers, or with a zero segment size.
    BadGso,
}

impl Describe for HdrError {
    fn describe(&self) -> (&'static CStr, u64) {
        let what = match self {
            Self::CsumNotNegotiated => c"checksum flag without GUEST_CSUM",
            Self::CsumOutOfBounds => c"checksum beyond the frame",
            Self::BadGsoType => c"GSO type not negotiated",
            Self::BadGso => c"GSO packet too short or without segment size",
        };
        (what, 0)
    }
}

/// What the driver does with a received packet, once the header is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RxOffload {
    /// Checksum state.
    pub csum: RxCsum,
    /// GSO type and size for a coalesced packet, `None` for a plain one.
    pub gso: Option<(u8, u16)>,
}

/// Checks a received header against the negotiated `features` and the `frame_len` of
/// the frame that follows it, and says what it means for the packet.
pub fn rx_offload(
    hdr: &NetHdr,
    features: Features,
    frame_len: usize,
) -> Result<RxOffload, HdrError> {
    let guest_csum = features.has(features::GUEST_CSUM);
    let csum = if hdr.flags & F_NEEDS_CSUM != 0 {
        if !guest_csum {
            return Err(HdrError::CsumNotNegotiated);
        }
        let end = hdr.csum_start as usize + hdr.csum_offset as usize + 2;
        if end > frame_len {
            return Err(HdrError::CsumOutOfBounds);
        }
        RxCsum::Partial {
            start: hdr.csum_start,
            offset: hdr.csum_offset,
        }
    } else if hdr.flags & F_DATA_VALID != 0 {
        if !guest_csum {
            return Err(HdrError::CsumNotNegotiated);
        }
        RxCsum::Unnecessary
    } else {
        RxCsum::None
    };

    let base = hdr.gso_type & !GSO_ECN;
    let gso = if hdr.gso_type == GSO_NONE {
        None
    } else {
        let allowed = match base {
            GSO_TCPV4 => features.has(features::GUEST_TSO4),
            GSO_TCPV6 => features.has(features::GUEST_TSO6),
            GSO_UDP => features.has(features::GUEST_UFO),
            _ => false,
        };
        let ecn_ok = hdr.gso_type & GSO_ECN == 0
            || (features.has(features::GUEST_ECN) && matches!(base, GSO_TCPV4 | GSO_TCPV6));
        if !allowed || !ecn_ok {
            return Err(HdrError::BadGsoType);
        }
        if hdr.gso_size == 0 {
            return Err(HdrError::BadGso);
        }
        // `hdr_len` is only a hint (a Linux tap writes the whole linear length there),
        // so, like `virtio_net_hdr_to_skb()`, check the packet against the headers the
        // GSO type implies instead: network header, then transport header.
        let tcp = matches!(base, GSO_TCPV4 | GSO_TCPV6);
        let thlen = if tcp { TCP_HLEN } else { UDP_HLEN };
        let nh_min = if base == GSO_TCPV6 {
            IPV6_HLEN
        } else {
            IPV4_HLEN
        };
        let p_off = if hdr.flags & F_NEEDS_CSUM != 0 {
            let want_offset = if tcp {
                TCP_CSUM_OFFSET
            } else {
                UDP_CSUM_OFFSET
            };
            // Offsets count from the Ethernet header. `virtio_net_hdr_to_skb()` compares the
            // transport offset with the network header's length alone, which lets it start
            // inside the IP header (a 39-byte "UDP GSO" frame with csum_start 20 passed);
            // refuse that here.
            if (hdr.csum_start as usize) < ETH_HLEN + nh_min
                || (base != GSO_UDP && hdr.csum_offset != want_offset)
            {
                return Err(HdrError::BadGso);
            }
            hdr.csum_start as usize + thlen
        } else {
            ETH_HLEN + nh_min + thlen
        };
        if frame_len < p_off {
            return Err(HdrError::BadGso);
        }
        Some((hdr.gso_type, hdr.gso_size))
    };
    Ok(RxOffload { csum, gso })
}

/// What the stack asks of the device for one outgoing packet, read from the skb.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TxRequest {
    /// `ip_summed == CHECKSUM_PARTIAL`.
    pub partial_csum: bool,
    /// `skb_checksum_start_offset()`.
    pub csum_start: u32,
    /// `skb->csum_offset`.
    pub csum_offset: u32,
    /// `skb_shinfo()->gso_size` (0: not GSO).
    pub gso_size: u32,
    /// `skb_shinfo()->gso_type` (`SKB_GSO_*` bits).
    pub gso_type: u32,
    /// `skb_headlen()`.
    pub headlen: u32,
}

/// `SKB_GSO_TCPV4`.
pub const SKB_GSO_TCPV4: u32 = 1 << 0;
/// `SKB_GSO_TCP_ECN`.
pub const SKB_GSO_TCP_ECN: u32 = 1 << 2;
/// `SKB_GSO_TCPV6`.
pub const SKB_GSO_TCPV6: u32 = 1 << 4;

/// Why an outgoing packet cannot be described to the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxHdrError {
    /// A checksum offload the device did not offer (no CSUM).
    CsumNotNegotiated,
    /// A GSO type the device did not offer, or one this driver does not handle.
    GsoNotNegotiated,
    /// A value does not fit the header's 16-bit fields.
    OutOfRange,
}

/// Builds the header for an outgoing packet, as `virtio_net_hdr_from_skb()` does,
/// refusing what was not negotiated (the stack should never ask for it, since the
/// netdev features follow the negotiated ones).
pub fn tx_hdr(req: &TxRequest, features: Features) -> Result<NetHdr, TxHdrError> {
    let mut hdr = NetHdr::default();
    let u16_of = |v: u32| u16::try_from(v).map_err(|_| TxHdrError::OutOfRange);
    if req.gso_size != 0 {
        let ecn = req.gso_type & SKB_GSO_TCP_ECN != 0;
        let base = req.gso_type & !SKB_GSO_TCP_ECN;
        let (t, ok) = match base {
            SKB_GSO_TCPV4 => (GSO_TCPV4, features.has(features::HOST_TSO4)),
            SKB_GSO_TCPV6 => (GSO_TCPV6, features.has(features::HOST_TSO6)),
            _ => (GSO_NONE, false),
        };
        if !ok || (ecn && !features.has(features::HOST_ECN)) {
            return Err(TxHdrError::GsoNotNegotiated);
        }
        hdr.gso_type = t | if ecn { GSO_ECN } else { 0 };
        hdr.gso_size = u16_of(req.gso_size)?;
        hdr.hdr_len = u16_of(req.headlen)?;
    }
    if req.partial_csum {
        if !features.has(features::CSUM) {
            return Err(TxHdrError::CsumNotNegotiated);
        }
        hdr.flags = F_NEEDS_CSUM;
        hdr.csum_start = u16_of(req.csum_start)?;
        hdr.csum_offset = u16_of(req.csum_offset)?;
    } else if req.gso_size != 0 {
        // GSO always comes with a partial checksum; anything else is a stack bug.
        return Err(TxHdrError::CsumNotNegotiated);
    }
    Ok(hdr)
}
