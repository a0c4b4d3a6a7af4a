//! Capture containers: classic pcap (Ethernet, microseconds), as
//! `tcpdump -i ens5 -w` writes it, and pcapng with one LINUX_SLL2 interface,
//! as `tcpdump -i any` writes it.

use super::lab::Host;
use super::packets::Pkt;

/// Snapshot length tcpdump uses by default.
const SNAPLEN: u32 = 262_144;
const LINKTYPE_ETHERNET: u16 = 1;
const LINKTYPE_LINUX_SLL2: u16 = 276;
const ETHERTYPE_IPV4: u16 = 0x0800;

fn u32_len(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The Ethernet frame of a packet on the host's ENI (peer = the VPC router).
fn ethernet_frame(host: &Host, p: &Pkt) -> Vec<u8> {
    let (dst, src) = if p.outgoing {
        (host.subnet.router_mac, host.mac)
    } else {
        (host.mac, host.subnet.router_mac)
    };
    let mut f = Vec::with_capacity(p.ip.len() + 14);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
    f.extend_from_slice(&p.ip);
    f
}

/// The LINUX_SLL2 frame: protocol, reserved, ifindex, ARPHRD_ETHER, packet
/// type (0 to us, 4 outgoing), address length and the sender's address.
fn sll2_frame(host: &Host, p: &Pkt) -> Vec<u8> {
    let sender = if p.outgoing {
        host.mac
    } else {
        host.subnet.router_mac
    };
    let mut f = Vec::with_capacity(p.ip.len() + 20);
    f.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(&host.ifindex.to_be_bytes());
    f.extend_from_slice(&1u16.to_be_bytes());
    f.push(if p.outgoing { 4 } else { 0 });
    f.push(6);
    f.extend_from_slice(&sender);
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(&p.ip);
    f
}

fn split_us(t_us: i64) -> (u32, u32) {
    let secs = u32::try_from(t_us.div_euclid(1_000_000)).unwrap_or(0);
    let us = u32::try_from(t_us.rem_euclid(1_000_000)).unwrap_or(0);
    (secs, us)
}

/// A classic little-endian pcap file of Ethernet frames.
pub fn write_pcap(host: &Host, packets: &[Pkt]) -> Vec<u8> {
    let mut out = Vec::with_capacity(24 + packets.iter().map(|p| p.ip.len() + 30).sum::<usize>());
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&SNAPLEN.to_le_bytes());
    out.extend_from_slice(&u32::from(LINKTYPE_ETHERNET).to_le_bytes());
    for p in packets {
        let frame = ethernet_frame(host, p);
        let (secs, us) = split_us(p.t_us);
        out.extend_from_slice(&secs.to_le_bytes());
        out.extend_from_slice(&us.to_le_bytes());
        out.extend_from_slice(&u32_len(frame.len()).to_le_bytes());
        out.extend_from_slice(&u32_len(frame.len()).to_le_bytes());
        out.extend_from_slice(&frame);
    }
    out
}

/// Appends one pcapng option (code, length, value padded to 32 bits).
fn option(body: &mut Vec<u8>, code: u16, value: &[u8]) {
    body.extend_from_slice(&code.to_le_bytes());
    body.extend_from_slice(&u16::try_from(value.len()).unwrap_or(0).to_le_bytes());
    body.extend_from_slice(value);
    body.extend(std::iter::repeat_n(0u8, (4 - value.len() % 4) % 4));
}

fn end_of_options(body: &mut Vec<u8>) {
    body.extend_from_slice(&[0, 0, 0, 0]);
}

/// Wraps a block body: type, total length, body, total length.
fn block(out: &mut Vec<u8>, kind: u32, body: &[u8]) {
    let total = u32_len(body.len() + 12);
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&total.to_le_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(&total.to_le_bytes());
}

/// A little-endian pcapng file: SHB, one IDB (`any`, LINUX_SLL2,
/// microseconds), one EPB per packet.
pub fn write_pcapng(host: &Host, packets: &[Pkt]) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + packets.iter().map(|p| p.ip.len() + 56).sum::<usize>());
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    option(&mut shb, 3, b"Linux 6.1.158-180.294.amzn2023.x86_64");
    option(
        &mut shb,
        4,
        b"privpath samples (synthetic lab capture, tcpdump -i any layout)",
    );
    end_of_options(&mut shb);
    block(&mut out, 0x0a0d_0d0a, &shb);

    let mut idb = Vec::new();
    idb.extend_from_slice(&LINKTYPE_LINUX_SLL2.to_le_bytes());
    idb.extend_from_slice(&0u16.to_le_bytes());
    idb.extend_from_slice(&SNAPLEN.to_le_bytes());
    option(&mut idb, 2, b"any");
    option(&mut idb, 9, &[6]);
    end_of_options(&mut idb);
    block(&mut out, 1, &idb);

    for p in packets {
        let frame = sll2_frame(host, p);
        let t = u64::try_from(p.t_us).unwrap_or(0);
        let mut epb = Vec::with_capacity(frame.len() + 24);
        epb.extend_from_slice(&0u32.to_le_bytes());
        epb.extend_from_slice(&u32::try_from(t >> 32).unwrap_or(0).to_le_bytes());
        epb.extend_from_slice(&u32::try_from(t & 0xffff_ffff).unwrap_or(0).to_le_bytes());
        epb.extend_from_slice(&u32_len(frame.len()).to_le_bytes());
        epb.extend_from_slice(&u32_len(frame.len()).to_le_bytes());
        epb.extend_from_slice(&frame);
        epb.extend(std::iter::repeat_n(0u8, (4 - frame.len() % 4) % 4));
        block(&mut out, 6, &epb);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::samples::lab::{self, PRIVATE_HOST, PUBLIC_HOST, Phase};
    use crate::samples::packets;
    use pcap_parser::pcapng::Block;

    /// The Internet checksum over `data`: 0 when the data holds a valid checksum.
    fn fold(data: &[u8]) -> u16 {
        let mut sum: u32 = data
            .chunks(2)
            .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
            .sum();
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    /// Checks the IPv4 header and transport checksums of one packet.
    fn assert_checksums(ip: &[u8], what: &str) {
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        assert_eq!(fold(&ip[..ihl]), 0, "{what}: ip header checksum");
        let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
        assert_eq!(total, ip.len(), "{what}: ip total length");
        let seg = &ip[ihl..];
        match ip[9] {
            1 => assert_eq!(fold(seg), 0, "{what}: icmp checksum"),
            proto @ (6 | 17) => {
                let mut pseudo = Vec::from(&ip[12..20]);
                pseudo.extend_from_slice(&[0, proto]);
                pseudo.extend_from_slice(&(seg.len() as u16).to_be_bytes());
                pseudo.extend_from_slice(seg);
                assert_eq!(fold(&pseudo), 0, "{what}: transport checksum");
            }
            p => panic!("{what}: unexpected protocol {p}"),
        }
    }

    fn lab_packets(host: &lab::Host) -> Vec<packets::Pkt> {
        let mut out = Vec::new();
        for phase in [
            Phase::Baseline,
            Phase::S3Gateway,
            Phase::CfnInterface,
            Phase::PrivateDnsOff,
        ] {
            for ex in lab::exchanges(phase)
                .iter()
                .filter(|e| e.host.instance == host.instance)
            {
                out.extend(packets::build(ex).unwrap());
            }
        }
        out
    }

    #[test]
    fn pcap_reads_back_with_pcap_parser_and_valid_checksums() {
        let pkts = lab_packets(&PUBLIC_HOST);
        let bytes = write_pcap(&PUBLIC_HOST, &pkts);
        let (rest, cap) = pcap_parser::parse_pcap(&bytes).unwrap();
        assert!(rest.is_empty());
        assert_eq!(cap.header.network, pcap_parser::Linktype::ETHERNET);
        assert_eq!(cap.blocks.len(), pkts.len());
        for (i, (b, p)) in cap.blocks.iter().zip(&pkts).enumerate() {
            assert_eq!(
                i64::from(b.ts_sec) * 1_000_000 + i64::from(b.ts_usec),
                p.t_us,
                "packet {i}"
            );
            assert_eq!(&b.data[12..14], &[0x08, 0x00]);
            assert_checksums(&b.data[14..], &format!("pcap packet {i}"));
        }
    }

    #[test]
    fn pcapng_reads_back_as_sll2_with_valid_checksums() {
        let pkts = lab_packets(&PRIVATE_HOST);
        let bytes = write_pcapng(&PRIVATE_HOST, &pkts);
        let (rest, cap) = pcap_parser::parse_pcapng(&bytes).unwrap();
        assert!(rest.is_empty());
        let blocks = &cap.sections[0].blocks;
        let Block::InterfaceDescription(idb) = &blocks[1] else {
            panic!("second block is not an IDB")
        };
        assert_eq!(idb.linktype, pcap_parser::Linktype::LINUX_SLL2);
        assert_eq!(idb.if_tsresol, 6);
        let epbs: Vec<_> = blocks
            .iter()
            .filter_map(|b| match b {
                Block::EnhancedPacket(e) => Some(e),
                _ => None,
            })
            .collect();
        assert_eq!(epbs.len(), pkts.len());
        for (i, (e, p)) in epbs.iter().zip(&pkts).enumerate() {
            let t = (u64::from(e.ts_high) << 32) | u64::from(e.ts_low);
            assert_eq!(t as i64, p.t_us, "packet {i}");
            let frame = &e.data[..e.caplen as usize];
            assert_eq!(&frame[..2], &[0x08, 0x00], "SLL2 protocol");
            assert_eq!(
                frame[10],
                if p.outgoing { 4 } else { 0 },
                "SLL2 packet type"
            );
            assert_checksums(&frame[20..], &format!("pcapng packet {i}"));
        }
    }
}
