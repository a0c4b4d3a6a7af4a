//! One packet: link type → etherparse's lax slicing → the outermost IP
//! header → our own look at the transport header (etherparse gives none for
//! fragments, and we want ports of first fragments and of cut-off headers).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{EtherType, LaxNetSlice, LaxSlicedPacket, ip_number};
use etherparse::{Ipv6ExtensionSlice, LenSource};

/// Link types this reader decodes.
pub mod linktype {
    pub const NULL: u32 = 0;
    pub const ETHERNET: u32 = 1;
    pub const RAW_OPENBSD: u32 = 12;
    pub const RAW_BSD: u32 = 14;
    pub const RAW: u32 = 101;
    pub const LOOP: u32 = 108;
    pub const LINUX_SLL: u32 = 113;
    pub const IPV4: u32 = 228;
    pub const IPV6: u32 = 229;
    pub const LINUX_SLL2: u32 = 276;
}

/// Where a fragment sits in its datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fragment {
    /// Not fragmented.
    No,
    /// Offset 0: the transport header is there.
    First,
    /// Offset > 0: no transport header.
    Later,
}

/// What a packet contributes to a flow.
#[derive(Debug, Clone)]
pub struct Decoded<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub protocol: u8,
    pub v6: bool,
    /// IP-layer bytes from the IP header's length (original packet), as
    /// flow logs count them.
    pub ip_len: u64,
    pub src_port: u16,
    pub dst_port: u16,
    /// TCP flags byte, when the header was captured that far.
    pub tcp_flags: Option<u8>,
    pub tcp_seq: u32,
    /// ICMP/ICMPv6 type.
    pub icmp_type: Option<u8>,
    /// Transport payload as captured (possibly cut by the snaplen).
    pub payload: &'a [u8],
    pub fragment: Fragment,
    /// Why decoding stopped before the end (snaplen-truncated layers).
    pub stop: Option<String>,
}

/// Why a packet gave no flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    UnsupportedLink(u32),
    /// Not IP (ARP, MPLS, PPPoE, LLC …).
    NotIp,
    /// The link or IP header is cut or invalid.
    BadHeader(String),
}

impl Skip {
    /// The tally key.
    pub fn reason(&self) -> String {
        match self {
            Skip::UnsupportedLink(l) => format!("unsupported link type {l}"),
            Skip::NotIp => "non-ip frame".into(),
            Skip::BadHeader(what) => format!("unreadable {what}"),
        }
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Slice the link layer and everything below it.
fn slice(linktype: u32, data: &[u8]) -> Result<LaxSlicedPacket<'_>, Skip> {
    use linktype::*;
    match linktype {
        ETHERNET => LaxSlicedPacket::from_ethernet(data)
            .map_err(|_| Skip::BadHeader("ethernet header".into())),
        LINUX_SLL => {
            let proto = be16(data, 14).ok_or_else(|| Skip::BadHeader("sll header".into()))?;
            let rest = data.get(16..).unwrap_or(&[]);
            Ok(LaxSlicedPacket::from_ether_type(EtherType(proto), rest))
        }
        LINUX_SLL2 => {
            let proto = be16(data, 0).ok_or_else(|| Skip::BadHeader("sll2 header".into()))?;
            let rest = data
                .get(20..)
                .ok_or_else(|| Skip::BadHeader("sll2 header".into()))?;
            Ok(LaxSlicedPacket::from_ether_type(EtherType(proto), rest))
        }
        NULL | LOOP => {
            let fam: [u8; 4] = data
                .get(..4)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| Skip::BadHeader("loopback header".into()))?;
            let is_ip = |f: u32| matches!(f, 2 | 24 | 28 | 30);
            if !(is_ip(u32::from_le_bytes(fam)) || is_ip(u32::from_be_bytes(fam))) {
                return Err(Skip::NotIp);
            }
            from_ip(data.get(4..).unwrap_or(&[]))
        }
        RAW | IPV4 | IPV6 | RAW_OPENBSD | RAW_BSD => from_ip(data),
        other => Err(Skip::UnsupportedLink(other)),
    }
}

fn from_ip(data: &[u8]) -> Result<LaxSlicedPacket<'_>, Skip> {
    LaxSlicedPacket::from_ip(data).map_err(|_| Skip::BadHeader("ip header".into()))
}

/// Ether types etherparse stops at that carry IP one shim header further.
const MPLS_UNICAST: u16 = 0x8847;
const MPLS_MULTICAST: u16 = 0x8848;
const PPPOE_SESSION: u16 = 0x8864;
const VN_TAG: u16 = 0x8926;

/// Step over an MPLS label stack, a PPPoE session header or a VN-Tag that
/// etherparse leaves as payload; None when nothing more is to be had.
fn shim(ether_type: u16, p: &[u8]) -> Option<LaxSlicedPacket<'_>> {
    match ether_type {
        MPLS_UNICAST | MPLS_MULTICAST => {
            let mut at = 0;
            loop {
                let entry = p.get(at..at + 4)?;
                at += 4;
                if entry.get(2).is_some_and(|b| b & 0x01 != 0) {
                    break;
                }
            }
            let rest = p.get(at..)?;
            match rest.first().map(|b| b >> 4) {
                Some(4 | 6) => LaxSlicedPacket::from_ip(rest).ok(),
                _ => None,
            }
        }
        PPPOE_SESSION => {
            let proto = be16(p, 6)?;
            let rest = p.get(8..)?;
            match proto {
                0x0021 | 0x0057 => LaxSlicedPacket::from_ip(rest).ok(),
                _ => None,
            }
        }
        VN_TAG => {
            let inner = be16(p, 4)?;
            Some(LaxSlicedPacket::from_ether_type(
                EtherType(inner),
                p.get(6..)?,
            ))
        }
        _ => None,
    }
}

/// Decode one captured frame. `orig_len` is the frame's original length.
pub fn decode(linktype: u32, data: &[u8], orig_len: u32) -> Result<Decoded<'_>, Skip> {
    let mut sliced = slice(linktype, data)?;
    // Raw IPv4/IPv6 link types promise one version.
    if let Some(net) = &sliced.net {
        let v6 = matches!(net, LaxNetSlice::Ipv6(_));
        if (linktype == linktype::IPV4 && v6) || (linktype == linktype::IPV6 && !v6) {
            return Err(Skip::BadHeader(
                "ip header (version does not match the link type)".into(),
            ));
        }
    }
    for _ in 0..4 {
        if sliced.net.is_some() {
            break;
        }
        let Some(p) = sliced.ether_payload() else {
            break;
        };
        match shim(p.ether_type.0, p.payload) {
            Some(inner) => sliced = inner,
            None => break,
        }
    }
    let stop = sliced
        .stop_err
        .as_ref()
        .map(|(_, layer)| format!("truncated at {layer}"));
    let Some(net) = sliced.net.as_ref() else {
        // An IP ether type whose header did not parse is a bad header; any
        // other payload (ARP, MPLS, PPPoE …) is simply not IP.
        if let Some(p) = sliced.ether_payload() {
            if p.ether_type == etherparse::ether_type::IPV4
                || p.ether_type == etherparse::ether_type::IPV6
            {
                return Err(Skip::BadHeader("ip header".into()));
            }
        }
        return Err(Skip::NotIp);
    };
    let (src, dst, header_start, header_len_field, v6, fragment, payload) = match net {
        LaxNetSlice::Ipv4(ip) => {
            let h = ip.header();
            let frag = if h.more_fragments() || h.fragments_offset().value() != 0 {
                if h.fragments_offset().value() == 0 {
                    Fragment::First
                } else {
                    Fragment::Later
                }
            } else {
                Fragment::No
            };
            (
                IpAddr::V4(Ipv4Addr::from(h.source())),
                IpAddr::V4(Ipv4Addr::from(h.destination())),
                h.slice().as_ptr(),
                u64::from(h.total_len()),
                false,
                frag,
                ip.payload(),
            )
        }
        LaxNetSlice::Ipv6(ip) => {
            let h = ip.header();
            let mut frag = Fragment::No;
            for ext in ip.extensions().clone() {
                if let Ipv6ExtensionSlice::Fragment(f) = ext {
                    if f.is_fragmenting_payload() {
                        frag = if f.fragment_offset().value() == 0 {
                            Fragment::First
                        } else {
                            Fragment::Later
                        };
                    }
                }
            }
            let plen = u64::from(h.payload_length());
            (
                IpAddr::V6(Ipv6Addr::from(h.source())),
                IpAddr::V6(Ipv6Addr::from(h.destination())),
                h.slice().as_ptr(),
                if plen == 0 { 0 } else { plen + 40 },
                true,
                frag,
                ip.payload(),
            )
        }
        LaxNetSlice::Arp(_) => return Err(Skip::NotIp),
    };
    // Bytes before the IP header (link header, VLAN tags): used only when the
    // IP length field is zero (TSO/BIG TCP, jumbograms).
    let link_len = (header_start as usize).wrapping_sub(data.as_ptr() as usize);
    let ip_len = if header_len_field > 0 {
        header_len_field
    } else {
        u64::from(orig_len).saturating_sub(link_len as u64)
    };
    let protocol = payload.ip_number.0;
    let mut d = Decoded {
        src,
        dst,
        protocol,
        v6,
        ip_len,
        src_port: 0,
        dst_port: 0,
        tcp_flags: None,
        tcp_seq: 0,
        icmp_type: None,
        payload: &[],
        fragment,
        stop,
    };
    if fragment != Fragment::Later {
        transport(
            &mut d,
            payload.payload,
            payload.len_source == LenSource::Slice,
        );
    }
    Ok(d)
}

/// Read the transport header ourselves (works for first fragments and cut
/// headers, where etherparse gives no transport slice).
fn transport<'a>(d: &mut Decoded<'a>, p: &'a [u8], _cut: bool) {
    match d.protocol {
        n if n == ip_number::TCP.0 => {
            if let (Some(s), Some(t)) = (be16(p, 0), be16(p, 2)) {
                d.src_port = s;
                d.dst_port = t;
            }
            if let (Some(seq), Some(&flags), Some(&off)) = (be32(p, 4), p.get(13), p.get(12)) {
                d.tcp_flags = Some(flags);
                d.tcp_seq = seq;
                let hl = usize::from(off >> 4) * 4;
                if hl >= 20 {
                    d.payload = p.get(hl..).unwrap_or(&[]);
                }
            }
            if p.len() < 20 && d.stop.is_none() {
                d.stop = Some("truncated at tcp header".into());
            }
        }
        n if n == ip_number::UDP.0 => {
            if let (Some(s), Some(t)) = (be16(p, 0), be16(p, 2)) {
                d.src_port = s;
                d.dst_port = t;
            }
            d.payload = p.get(8..).unwrap_or(&[]);
            if p.len() < 8 && d.stop.is_none() {
                d.stop = Some("truncated at udp header".into());
            }
        }
        n if n == ip_number::ICMP.0 || n == ip_number::IPV6_ICMP.0 => {
            d.icmp_type = p.first().copied();
        }
        _ => {}
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;
    use etherparse::PacketBuilder;

    fn tcp_frame(payload: &[u8]) -> Vec<u8> {
        let b = PacketBuilder::ethernet2([1; 6], [2; 6])
            .ipv4([10, 0, 1, 25], [52, 219, 60, 1], 64)
            .tcp(40000, 443, 1000, 64000)
            .syn();
        let mut v = Vec::new();
        b.write(&mut v, payload).unwrap();
        v
    }

    #[test]
    fn decodes_ethernet_ipv4_tcp_with_flags_and_ip_length() {
        let f = tcp_frame(b"hello");
        let d = decode(linktype::ETHERNET, &f, f.len() as u32).unwrap();
        assert_eq!(d.src, "10.0.1.25".parse::<IpAddr>().unwrap());
        assert_eq!((d.src_port, d.dst_port, d.protocol), (40000, 443, 6));
        assert_eq!(d.tcp_flags, Some(0x02));
        assert_eq!(d.ip_len, (f.len() - 14) as u64);
        assert_eq!(d.payload, b"hello");
        assert_eq!(d.fragment, Fragment::No);
    }

    #[test]
    fn sll2_and_raw_and_null_link_types() {
        let f = tcp_frame(b"");
        let ip = &f[14..];
        let mut sll2 = vec![
            0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        sll2.extend_from_slice(ip);
        let d = decode(linktype::LINUX_SLL2, &sll2, sll2.len() as u32).unwrap();
        assert_eq!(d.dst_port, 443);
        assert_eq!(d.ip_len, ip.len() as u64);
        let d = decode(linktype::RAW, ip, ip.len() as u32).unwrap();
        assert_eq!(d.dst_port, 443);
        let mut null = 2u32.to_le_bytes().to_vec();
        null.extend_from_slice(ip);
        assert_eq!(decode(linktype::NULL, &null, 0).unwrap().dst_port, 443);
        let mut lo = 2u32.to_be_bytes().to_vec();
        lo.extend_from_slice(ip);
        assert_eq!(decode(linktype::LOOP, &lo, 0).unwrap().dst_port, 443);
        assert_eq!(decode(284, ip, 0).unwrap_err(), Skip::UnsupportedLink(284));
    }

    #[test]
    fn snaplen_cut_tcp_header_keeps_ports_and_counts_stop() {
        let f = tcp_frame(b"");
        let cut = &f[..14 + 20 + 6];
        let d = decode(linktype::ETHERNET, cut, f.len() as u32).unwrap();
        assert_eq!((d.src_port, d.dst_port), (40000, 443));
        assert_eq!(d.tcp_flags, None);
        assert!(d.stop.is_some());
        assert_eq!(d.ip_len, (f.len() - 14) as u64);
    }

    #[test]
    fn arp_is_not_ip() {
        let mut f = vec![0xff; 12];
        f.extend_from_slice(&[0x08, 0x06]);
        f.extend_from_slice(&[0; 28]);
        assert_eq!(decode(linktype::ETHERNET, &f, 42).unwrap_err(), Skip::NotIp);
    }
}
