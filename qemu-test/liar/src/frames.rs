//! The device's one host on the wire: 192.0.2.99 answering ARP and ICMP echo, so
//! that `ping` from the guest makes the traffic that faults are injected into.

/// The address the device answers for.
pub const LIAR_IP: [u8; 4] = [192, 0, 2, 99];
/// The MAC it answers with.
pub const LIAR_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x99];

const ETH_HLEN: usize = 14;

/// The frame to send back for `frame` (an Ethernet frame the driver sent), if any.
pub fn answer(frame: &[u8]) -> Option<Vec<u8>> {
    if frame.len() < ETH_HLEN {
        return None;
    }
    match u16::from_be_bytes([frame[12], frame[13]]) {
        0x0806 => arp_reply(frame),
        0x0800 => echo_reply(frame),
        _ => None,
    }
}

fn arp_reply(f: &[u8]) -> Option<Vec<u8>> {
    let a = f.get(ETH_HLEN..ETH_HLEN + 28)?;
    // Ethernet/IPv4 request for our address.
    if a[0..8] != [0, 1, 8, 0, 6, 4, 0, 1] || a[24..28] != LIAR_IP {
        return None;
    }
    let mut r = Vec::with_capacity(60);
    r.extend_from_slice(&f[6..12]); // to the asker
    r.extend_from_slice(&LIAR_MAC);
    r.extend_from_slice(&[0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 2]);
    r.extend_from_slice(&LIAR_MAC);
    r.extend_from_slice(&LIAR_IP);
    r.extend_from_slice(&a[8..18]); // sender MAC + IP of the request
    r.resize(60, 0);
    Some(r)
}

fn echo_reply(f: &[u8]) -> Option<Vec<u8>> {
    let ip = &f[ETH_HLEN..];
    if ip.len() < 20 || ip[0] >> 4 != 4 || ip[9] != 1 || ip[16..20] != LIAR_IP {
        return None;
    }
    let ihl = usize::from(ip[0] & 0xf) * 4;
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    if ihl < 20 || total < ihl + 8 || total > ip.len() || ip[ihl] != 8 {
        return None;
    }
    let mut r = f[..ETH_HLEN + total].to_vec();
    r.copy_within(6..12, 0);
    r[6..12].copy_from_slice(&LIAR_MAC);
    let h = ETH_HLEN;
    // Swapping the addresses leaves the IP header checksum as it was.
    let (src, dst) = (ip[12..16].to_vec(), ip[16..20].to_vec());
    r[h + 12..h + 16].copy_from_slice(&dst);
    r[h + 16..h + 20].copy_from_slice(&src);
    let icmp = h + ihl;
    r[icmp] = 0; // echo reply
    r[icmp + 2] = 0;
    r[icmp + 3] = 0;
    let sum = checksum(&r[icmp..h + total]);
    r[icmp + 2..icmp + 4].copy_from_slice(&sum.to_be_bytes());
    Some(r)
}

/// The Internet checksum of `data`.
fn checksum(data: &[u8]) -> u16 {
    let mut s: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_arp_for_its_address_only() {
        let mut req = vec![0xff; 6];
        req.extend_from_slice(&[0x52, 0x54, 0, 0x12, 0x34, 1, 8, 6, 0, 1, 8, 0, 6, 4, 0, 1]);
        req.extend_from_slice(&[0x52, 0x54, 0, 0x12, 0x34, 1, 192, 0, 2, 1]);
        req.extend_from_slice(&[0; 6]);
        req.extend_from_slice(&LIAR_IP);
        let r = answer(&req).unwrap();
        assert_eq!(&r[0..6], &req[6..12]);
        assert_eq!(&r[28..32], &LIAR_IP);
        assert_eq!(&r[38..42], &[192, 0, 2, 1]);
        req[41] = 98;
        assert!(answer(&req).is_none());
    }

    #[test]
    fn echo_reply_checksums() {
        let mut f = vec![
            0x52, 0x54, 0, 0x12, 0x34, 0x99, 0x52, 0x54, 0, 0x12, 0x34, 1, 8, 0,
        ];
        let mut ip = vec![0x45, 0, 0, 36, 0, 0, 0x40, 0, 64, 1, 0, 0, 192, 0, 2, 1];
        ip.extend_from_slice(&LIAR_IP);
        let s = checksum(&ip);
        ip[10..12].copy_from_slice(&s.to_be_bytes());
        let mut icmp = vec![8, 0, 0, 0, 0, 1, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8];
        let s = checksum(&icmp);
        icmp[2..4].copy_from_slice(&s.to_be_bytes());
        f.extend_from_slice(&ip);
        f.extend_from_slice(&icmp);
        let r = answer(&f).unwrap();
        assert_eq!(checksum(&r[14..34]), 0);
        assert_eq!(checksum(&r[34..]), 0);
        assert_eq!(r[34], 0);
        assert_eq!(&r[26..30], &LIAR_IP);
    }
}
