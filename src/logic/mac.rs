// SPDX-License-Identifier: GPL-2.0

//! Checks on the MAC address the device reports.

/// Whether `addr` can be used as a unicast station address
/// (not all-zero, not multicast or broadcast), as `is_valid_ether_addr()`.
pub fn is_valid_unicast(addr: &[u8; 6]) -> bool {
    addr[0] & 1 == 0 && addr.iter().any(|&b| b != 0)
}
