// SPDX-License-Identifier: GPL-2.0

//! Sizing of receive buffers and validation of the lengths the device reports.

/// Ethernet header length.
pub const ETH_HLEN: usize = 14;
/// One VLAN tag.
pub const VLAN_HLEN: usize = 4;
/// The standard Ethernet payload size.
pub const ETH_DATA_LEN: usize = 1500;

/// Size of one receive buffer in "small buffers" mode: the virtio-net header, then one
/// whole frame of the largest MTU the device may send (with a VLAN tag).
pub fn small_buf_len(hdr_len: usize, max_mtu: usize) -> usize {
    hdr_len + ETH_HLEN + VLAN_HLEN + max_mtu.max(ETH_DATA_LEN)
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
    if used < hdr_len + ETH_HLEN {
        return Err(RxLenError::TooShort);
    }
    Ok(used - hdr_len)
}
