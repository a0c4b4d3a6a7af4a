//! One packet: link type → etherparse's lax slicing → the outermost IP
//! header → our own look at the transport header (etherparse gives none for
//! fragments, and we want ports of first fragments and of cut-off headers).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{
    EtherType, Ethernet2HeaderSlice, Icmpv4Slice, Icmpv6Slice, IpNumber, Ipv4HeaderSlice,
    Ipv6ExtensionSlice, Ipv6HeaderSlice, LaxNetSlice, LaxSlicedPacket, LenSource, TcpSlice,
    UdpSlice, ether_type, ip_number,
};

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
    /// Solaris `ipnet` (snoop/tcpdump on an IP-layer interface).
    pub const IPNET: u32 = 226;
    /// Linux NFLOG (`tcpdump -i nflog:N`: iptables/nftables log groups).
    pub const NFLOG: u32 = 239;
    /// IP over InfiniBand (RFC 4391).
    pub const IPOIB: u32 = 242;
    /// Apple PKTAP (`tcpdump -i pktap`, `-k` on macOS).
    pub const PKTAP: u32 = 258;
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
#[derive(Debug, Clone, PartialEq, Eq)]
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

impl<'a> Decoded<'a> {
    /// The IP layer decoded, transport fields not yet (filled by `transport`).
    fn ip_only(
        src: IpAddr,
        dst: IpAddr,
        protocol: u8,
        v6: bool,
        ip_len: u64,
        fragment: Fragment,
        stop: Option<String>,
    ) -> Decoded<'a> {
        Decoded {
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
        }
    }
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
        IPNET => from_ip(ipnet(data)?),
        NFLOG => from_ip(nflog(data)?),
        IPOIB => {
            // 20-byte destination and source link addresses, then the
            // ether type and two reserved bytes.
            let proto = be16(data, 40).ok_or_else(|| Skip::BadHeader("ipoib header".into()))?;
            let rest = data
                .get(44..)
                .ok_or_else(|| Skip::BadHeader("ipoib header".into()))?;
            Ok(LaxSlicedPacket::from_ether_type(EtherType(proto), rest))
        }
        PKTAP => {
            let (dlt, rest) = pktap(data)?;
            // The inner link type is a DLT; no PKTAP inside PKTAP.
            match dlt_to_linktype(dlt) {
                PKTAP => Err(Skip::BadHeader("pktap header (nested pktap)".into())),
                inner => slice(inner, rest),
            }
        }
        other => Err(Skip::UnsupportedLink(other)),
    }
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The IP packet behind a Solaris ipnet header (version, family, hardware
/// type, packet length, interface indexes, zones: 24 bytes).
fn ipnet(data: &[u8]) -> Result<&[u8], Skip> {
    const AF_INET: u8 = 2;
    const AF_INET6: u8 = 26;
    let bad = || Skip::BadHeader("ipnet header".into());
    match data.get(1) {
        Some(&AF_INET) | Some(&AF_INET6) => data.get(24..).ok_or_else(bad),
        Some(_) => Err(Skip::NotIp),
        None => Err(bad()),
    }
}

/// The IP packet inside an NFLOG record: a 4-byte header (family, version,
/// resource id) then TLVs whose length and type are in the byte order of
/// the host that captured (either here); the packet is the `NFULA_PAYLOAD`
/// TLV. Lengths include the TLV header; values are padded to 4 bytes.
fn nflog(data: &[u8]) -> Result<&[u8], Skip> {
    const AF_INET: u8 = 2;
    const AF_INET6: u8 = 10;
    const NFULA_PAYLOAD: u16 = 9;
    let bad = || Skip::BadHeader("nflog header".into());
    match data.first() {
        Some(&AF_INET) | Some(&AF_INET6) => {}
        Some(_) => return Err(Skip::NotIp),
        None => return Err(bad()),
    }
    // The first TLV decides the byte order: its length is plausible in one.
    let plausible =
        |len: u16| usize::from(len) >= 4 && usize::from(len) <= data.len().saturating_sub(4);
    let le: [u8; 2] = data
        .get(4..6)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(bad)?;
    let le = u16::from_le_bytes(le);
    let little = plausible(le);
    let u16_at = |at: usize| -> Option<u16> {
        let b: [u8; 2] = data.get(at..at + 2)?.try_into().ok()?;
        Some(if little {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    };
    let mut at = 4;
    while at < data.len() {
        let (Some(len), Some(kind)) = (u16_at(at), u16_at(at + 2)) else {
            return Err(bad());
        };
        let len = usize::from(len);
        if len < 4 {
            return Err(bad());
        }
        // The type's top bit is NLA_F_NESTED / byte-order flags.
        if kind & 0x3fff == NFULA_PAYLOAD {
            return data.get(at + 4..at + len).ok_or_else(bad);
        }
        at += (len + 3) & !3;
    }
    Err(Skip::NotIp)
}

/// The inner DLT and packet of an Apple PKTAP record (header length,
/// record type, DLT, interface name …; at least 108 bytes). Only packet
/// records (type 1) carry a packet.
fn pktap(data: &[u8]) -> Result<(u32, &[u8]), Skip> {
    const MIN_HEADER: usize = 108;
    let bad = || Skip::BadHeader("pktap header".into());
    let len = le32(data, 0).ok_or_else(bad)?;
    let len = usize::try_from(len).map_err(|_| bad())?;
    if len < MIN_HEADER {
        return Err(bad());
    }
    if le32(data, 4).ok_or_else(bad)? != 1 {
        return Err(Skip::NotIp);
    }
    let dlt = le32(data, 8).ok_or_else(bad)?;
    Ok((dlt, data.get(len..).ok_or_else(bad)?))
}

/// A DLT value (as PKTAP records carry) as a link type: equal except for
/// the few DLTs whose numbers differ between platforms.
fn dlt_to_linktype(dlt: u32) -> u32 {
    match dlt {
        // DLT_PKTAP on Darwin.
        149 => linktype::PKTAP,
        other => other,
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
///
/// The common case (Ethernet, SLL, SLL2 or raw IP; then IPv4 or IPv6 without
/// extension headers, complete, not fragmented; then a complete TCP, UDP or
/// ICMP header) takes a fast path through etherparse's header slices; every
/// other frame goes through etherparse's lax slicing ([`decode_lax`]). Both
/// give the same result for any frame the fast path takes (tested on the
/// corpus and on generated frames).
pub fn decode(linktype: u32, data: &[u8], orig_len: u32) -> Result<Decoded<'_>, Skip> {
    match fast(linktype, data) {
        Some(d) => Ok(d),
        None => decode_lax(linktype, data, orig_len),
    }
}

/// The IP packet of a frame whose link header says IPv4 or IPv6 (None:
/// anything else, left to the lax path).
fn fast_ip(linktype: u32, data: &[u8]) -> Option<&[u8]> {
    use linktype::*;
    let (ether, rest) = match linktype {
        ETHERNET => {
            let eth = Ethernet2HeaderSlice::from_slice(data).ok()?;
            (eth.ether_type(), data.get(eth.slice().len()..)?)
        }
        LINUX_SLL => (EtherType(be16(data, 14)?), data.get(16..)?),
        LINUX_SLL2 => (EtherType(be16(data, 0)?), data.get(20..)?),
        RAW | RAW_OPENBSD | RAW_BSD => return Some(data),
        IPV4 => return (data.first()? >> 4 == 4).then_some(data),
        IPV6 => return (data.first()? >> 4 == 6).then_some(data),
        _ => return None,
    };
    (ether == ether_type::IPV4 || ether == ether_type::IPV6).then_some(rest)
}

/// The fast path of [`decode`]: None whenever the frame is not the common
/// case (then the lax path decides, including every error and note).
fn fast(linktype: u32, data: &[u8]) -> Option<Decoded<'_>> {
    let ip = fast_ip(linktype, data)?;
    // etherparse picks the IP version from the header, not the ether type.
    let (src, dst, protocol, v6, ip_len, payload) = match ip.first()? >> 4 {
        4 => {
            let h = Ipv4HeaderSlice::from_slice(ip).ok()?;
            let total = usize::from(h.total_len());
            let hl = h.slice().len();
            if h.is_fragmenting_payload() || total < hl || total > ip.len() {
                return None;
            }
            (
                IpAddr::V4(h.source_addr()),
                IpAddr::V4(h.destination_addr()),
                h.protocol(),
                false,
                total as u64,
                ip.get(hl..total)?,
            )
        }
        6 => {
            let h = Ipv6HeaderSlice::from_slice(ip).ok()?;
            let plen = usize::from(h.payload_length());
            if plen == 0 || 40 + plen > ip.len() {
                return None;
            }
            (
                IpAddr::V6(h.source_addr()),
                IpAddr::V6(h.destination_addr()),
                h.next_header(),
                true,
                (plen + 40) as u64,
                ip.get(40..40 + plen)?,
            )
        }
        _ => return None,
    };
    // The transport header must slice as etherparse's lax path slices it
    // (else that path records why it stopped).
    let ok = match protocol {
        ip_number::TCP => TcpSlice::from_slice(payload).is_ok(),
        ip_number::UDP => UdpSlice::from_slice_lax(payload).is_ok(),
        ip_number::ICMP => Icmpv4Slice::from_slice(payload).is_ok(),
        ip_number::IPV6_ICMP => Icmpv6Slice::from_slice(payload).is_ok(),
        _ => false,
    };
    if !ok {
        return None;
    }
    let IpNumber(protocol) = protocol;
    let mut d = Decoded::ip_only(src, dst, protocol, v6, ip_len, Fragment::No, None);
    transport(&mut d, payload, false);
    Some(d)
}

/// True when [`decode`] takes the fast path for this frame (tests, benches).
pub fn takes_fast_path(linktype: u32, data: &[u8]) -> bool {
    fast(linktype, data).is_some()
}

/// Decode one captured frame through etherparse's lax slicing (any frame).
pub fn decode_lax(linktype: u32, data: &[u8], orig_len: u32) -> Result<Decoded<'_>, Skip> {
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
    let mut d = Decoded::ip_only(src, dst, protocol, v6, ip_len, fragment, stop);
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

    /// A frame of the given link type around an IP packet built by
    /// etherparse (`kind`: 0 TCP, 1 UDP, 2 ICMP echo, 3 other protocol).
    fn frame(linktype: u32, v6: bool, kind: u8, ports: (u16, u16), payload: &[u8]) -> Vec<u8> {
        let b = PacketBuilder::ethernet2([1; 6], [2; 6]);
        let b = if v6 {
            b.ipv6([0x20; 16], [0xfd; 16], 64)
        } else {
            b.ipv4([10, 0, 1, 25], [52, 219, 60, 1], 64)
        };
        let mut v = Vec::new();
        match kind {
            0 => b
                .tcp(ports.0, ports.1, 77, 1000)
                .ack(9)
                .write(&mut v, payload),
            1 => b.udp(ports.0, ports.1).write(&mut v, payload),
            2 if v6 => b.icmpv6_echo_request(1, 2).write(&mut v, payload),
            2 => b.icmpv4_echo_request(1, 2).write(&mut v, payload),
            _ => b.write(&mut v, etherparse::IpNumber(47), payload),
        }
        .unwrap();
        let ip = v[14..].to_vec();
        match linktype {
            linktype::LINUX_SLL => {
                let mut f = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0];
                f.extend(if v6 { [0x86, 0xdd] } else { [0x08, 0x00] });
                f.extend(ip);
                f
            }
            linktype::LINUX_SLL2 => {
                let mut f = if v6 {
                    vec![0x86, 0xdd]
                } else {
                    vec![0x08, 0x00]
                };
                f.extend([0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0]);
                f.extend(ip);
                f
            }
            linktype::RAW | linktype::IPV4 | linktype::IPV6 => ip,
            _ => v,
        }
    }

    #[test]
    fn fast_path_is_taken_for_the_common_case() {
        for lt in [
            linktype::ETHERNET,
            linktype::LINUX_SLL,
            linktype::LINUX_SLL2,
            linktype::RAW,
        ] {
            for v6 in [false, true] {
                for kind in 0..3 {
                    let f = frame(lt, v6, kind, (40000, 443), b"abc");
                    let d = fast(lt, &f).unwrap_or_else(|| panic!("{lt} {v6} {kind}"));
                    assert_eq!(Ok(d), decode_lax(lt, &f, f.len() as u32));
                }
            }
        }
        // Not the common case: the lax path decides.
        let f = frame(linktype::ETHERNET, false, 3, (0, 0), b"abc");
        assert!(fast(linktype::ETHERNET, &f).is_none());
        let f = frame(linktype::ETHERNET, false, 0, (1, 2), b"abc");
        assert!(fast(linktype::ETHERNET, &f[..f.len() - 1]).is_none());
        assert!(
            fast(
                linktype::IPV6,
                &frame(linktype::IPV4, false, 0, (1, 2), b"")
            )
            .is_none()
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Whatever the frame (built, then cut and with bytes overwritten),
        /// `decode` (fast path or not) equals the lax path.
        #[test]
        fn fast_and_lax_paths_agree(
            lt in proptest::sample::select(vec![
                linktype::ETHERNET, linktype::LINUX_SLL, linktype::LINUX_SLL2,
                linktype::RAW, linktype::IPV4, linktype::IPV6,
            ]),
            v6: bool,
            kind in 0u8..4,
            ports: (u16, u16),
            payload in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80),
            cut in 0usize..200,
            pokes in proptest::collection::vec((0usize..120, proptest::prelude::any::<u8>()), 0..3),
        ) {
            let mut f = frame(lt, v6, kind, ports, &payload);
            for (at, b) in pokes {
                let n = f.len();
                f[at % n] = b;
            }
            let orig = f.len() as u32;
            let n = f.len() - cut.min(f.len()) * usize::from(cut % 2 == 0) / 2;
            let f = &f[..n];
            proptest::prop_assert_eq!(decode(lt, f, orig), decode_lax(lt, f, orig));
        }
    }

    #[test]
    fn arp_is_not_ip() {
        let mut f = vec![0xff; 12];
        f.extend_from_slice(&[0x08, 0x06]);
        f.extend_from_slice(&[0; 28]);
        assert_eq!(decode(linktype::ETHERNET, &f, 42).unwrap_err(), Skip::NotIp);
    }
}
