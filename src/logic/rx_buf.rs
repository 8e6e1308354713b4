// SPDX-License-Identifier: GPL-2.0

//! Sizing of receive buffers and validation of the lengths the device reports.

use super::log_format::Describe;
use core::ffi::CStr;

/// Ethernet header length.
pub const ETH_HLEN: usize = 14;
/// One VLAN tag.
pub const VLAN_HLEN: usize = 4;
/// The standard Ethernet payload size.
pub const ETH_DATA_LEN: usize = 1500;

/// Size of one receive buffer in "small buffers" mode: the virtio-net header, then one
/// whole frame of the largest MTU the device may send (with a VLAN tag).
pub fn small_buf_len(hdr_len: usize, max_mtu: usize) -> usize {
    frame_room(hdr_len, max_mtu.max(ETH_DATA_LEN))
}

/// The header and one VLAN-tagged frame of `mtu` bytes. The sizes in this file
/// saturate rather than overflow: no real header or MTU comes near `usize::MAX`,
/// and a saturated size is refused by whatever allocates it, where an overflow
/// check would keep a panic path in the module.
fn frame_room(hdr_len: usize, mtu: usize) -> usize {
    hdr_len
        .saturating_add(ETH_HLEN + VLAN_HLEN)
        .saturating_add(mtu)
}

/// Why a used buffer is rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RxLenError {
    /// Shorter than the header plus an Ethernet header: nothing to deliver.
    TooShort,
    /// Longer than the buffer the driver posted: the device is lying.
    TooLong,
}

/// Validates the length the device wrote for a used receive buffer of `capacity`
/// bytes, and returns the length of the frame after the `hdr_len`-byte header.
pub fn check_used_len(used: u32, hdr_len: usize, capacity: usize) -> Result<usize, RxLenError> {
    let used = used as usize;
    if used > capacity {
        return Err(RxLenError::TooLong);
    }
    if used < hdr_len.saturating_add(ETH_HLEN) {
        return Err(RxLenError::TooShort);
    }
    Ok(used - hdr_len)
}

/// `GOOD_PACKET_LEN`: a full standard frame with one VLAN tag.
pub const GOOD_PACKET_LEN: usize = ETH_HLEN + VLAN_HLEN + ETH_DATA_LEN;
/// `IP_MAX_MTU`: the largest packet a coalescing (guest GSO) device may deliver.
pub const IP_MAX_MTU: usize = 0xffff;

/// Pages in one "big packets" buffer (guest GSO without mergeable buffers): the
/// header and one largest coalesced packet with a VLAN-tagged Ethernet header, as the
/// in-tree driver sizes them (17 pages of 4 KiB: one skb's worth of fragments).
pub fn big_buf_pages(hdr_len: usize, page_size: usize) -> usize {
    big_buf_pages_for(hdr_len, page_size, IP_MAX_MTU)
}

/// Pages in one "big packets" buffer for packets of up to `mtu` bytes: without guest
/// GSO, big packets serve a device MTU above 1500 and need only room for one frame
/// of that MTU (in-tree: `DIV_ROUND_UP(mtu, PAGE_SIZE)` fragments).
pub fn big_buf_pages_for(hdr_len: usize, page_size: usize, mtu: usize) -> usize {
    frame_room(hdr_len, mtu).div_ceil(page_size.max(1))
}

/// Smallest mergeable buffer for a ring of `ring_size` buffers: large enough that the
/// whole ring holds one largest packet (`IP_MAX_MTU` with guest GSO, else `max_mtu`),
/// and never below a standard frame. Same rule as the in-tree `mergeable_min_buf_len()`.
pub fn mergeable_min_buf_len(hdr_len: usize, ring_size: usize, max_mtu: usize, gso: bool) -> usize {
    let packet_len = if gso { IP_MAX_MTU } else { max_mtu };
    let min = frame_room(hdr_len, packet_len).div_ceil(ring_size.max(1));
    min.saturating_sub(hdr_len).max(GOOD_PACKET_LEN)
}

/// Size of the next mergeable buffer: the header plus the average packet length,
/// clamped to `min_buf_len..=page_size - hdr_len`, rounded up to `align` (a cache
/// line). Large packets get fewer, larger buffers; small ones waste less memory.
pub fn mergeable_buf_len(
    avg_pkt_len: usize,
    min_buf_len: usize,
    hdr_len: usize,
    page_size: usize,
    align: usize,
) -> usize {
    let max = page_size.saturating_sub(hdr_len);
    let len = hdr_len.saturating_add(avg_pkt_len.clamp(min_buf_len.min(max), max));
    // Checked: no panic path (an `align` of 0, or a sum near `usize::MAX`, gives
    // `page_size`).
    len.checked_next_multiple_of(align)
        .unwrap_or(page_size)
        .min(page_size)
}

/// Exponentially weighted moving average of received packet lengths, weight 1/64,
/// as the kernel's `DECLARE_EWMA(pkt_len, 0, 64)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ewma(u32);

impl Ewma {
    const WEIGHT_SHIFT: u32 = 6;

    /// Adds a sample.
    #[inline]
    pub fn add(&mut self, val: usize) {
        // Packet lengths fit in u32; saturate rather than trust that. In u64 the
        // sum below cannot overflow, so it needs no check, and its result (a
        // weighted mean of u32 values) fits in u32 again.
        let val = val.min(u32::MAX as usize) as u32;
        self.0 = if self.0 == 0 {
            val
        } else {
            let avg = u64::from(self.0);
            ((avg * ((1 << Self::WEIGHT_SHIFT) - 1) + u64::from(val)) >> Self::WEIGHT_SHIFT) as u32
        };
    }

    /// The current average.
    pub fn read(self) -> usize {
        self.0 as usize
    }
}

/// Why a mergeable packet's `num_buffers` is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumBuffersError {
    /// Zero: a packet spans at least its first buffer.
    Zero,
    /// More buffers than the ring holds.
    TooMany,
}

impl Describe for NumBuffersError {
    fn describe(&self) -> (&'static CStr, u64) {
        let what = match self {
            Self::Zero => c"num_buffers is 0",
            Self::TooMany => c"num_buffers beyond the ring",
        };
        (what, 0)
    }
}

/// Validates the `num_buffers` the device wrote into a packet's header, against the
/// size of the ring the buffers come from.
pub fn check_num_buffers(num_buffers: u16, ring_size: usize) -> Result<usize, NumBuffersError> {
    match num_buffers as usize {
        0 => Err(NumBuffersError::Zero),
        n if n > ring_size => Err(NumBuffersError::TooMany),
        n => Ok(n),
    }
}
