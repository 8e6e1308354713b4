// SPDX-License-Identifier: GPL-2.0

//! The lengths and buffer counts a device reports for used receive buffers, and the
//! buffer sizing driven by them: an accepted length always fits the posted buffer,
//! an accepted `num_buffers` always fits the ring, and the next buffer's size stays
//! within a page whatever the average packet length became.

#![no_main]

use libfuzzer_sys::fuzz_target;
use virtio_net_rust_logic::rx_buf::{self, Ewma};

fuzz_target!(|data: &[u8]| {
    if data.len() < 12 {
        return;
    }
    let used = u32::from_le_bytes(data[0..4].try_into().unwrap());
    let hdr_len = [10, 12, 20][usize::from(data[4]) % 3];
    let capacity = usize::from(u16::from_le_bytes([data[5], data[6]]));
    let num_buffers = u16::from_le_bytes([data[7], data[8]]);
    let ring_size = 1usize << (data[9] % 16);
    let max_mtu = usize::from(u16::from_le_bytes([data[10], data[11]]));
    let gso = data.len() % 2 == 0;

    if let Ok(frame) = rx_buf::check_used_len(used, hdr_len, capacity) {
        assert!(frame + hdr_len <= capacity);
        assert!(frame >= rx_buf::ETH_HLEN);
        assert_eq!(frame + hdr_len, used as usize);
    }
    if let Ok(n) = rx_buf::check_num_buffers(num_buffers, ring_size) {
        assert!(n >= 1 && n <= ring_size);
    }

    // The average follows whatever lengths the device claims (the rest of the input).
    let page = 4096;
    let min = rx_buf::mergeable_min_buf_len(hdr_len, ring_size, max_mtu, gso);
    assert!(min >= rx_buf::GOOD_PACKET_LEN);
    let mut avg = Ewma::default();
    for c in data[12..].chunks(2) {
        let sample = usize::from(c[0]) << 8 | usize::from(*c.get(1).unwrap_or(&0));
        avg.add(sample);
        let len = rx_buf::mergeable_buf_len(avg.read(), min, hdr_len, page, 64);
        assert!(len <= page);
        assert!(len > hdr_len);
    }
});
