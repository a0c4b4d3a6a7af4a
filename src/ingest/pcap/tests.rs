//! Whole-reader tests on captures built in memory with etherparse's
//! `PacketBuilder`.

use std::net::IpAddr;

use etherparse::PacketBuilder;
use proptest::prelude::*;

use super::*;
use crate::flow::{Handshake, Initiator};

const C: [u8; 4] = [10, 0, 1, 25];
const S: [u8; 4] = [52, 219, 60, 1];
const R: [u8; 4] = [10, 0, 0, 2];

/// A classic little-endian microsecond Ethernet pcap.
pub fn pcap(frames: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut v = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    v.extend(262_144u32.to_le_bytes());
    v.extend(1u32.to_le_bytes());
    for (i, (ts, f)) in frames.iter().enumerate() {
        v.extend(ts.to_le_bytes());
        v.extend((i as u32 * 10).to_le_bytes());
        v.extend((f.len() as u32).to_le_bytes());
        v.extend((f.len() as u32).to_le_bytes());
        v.extend(f);
    }
    v
}

#[derive(Clone, Copy)]
enum Fl {
    Syn,
    SynAck,
    Ack,
    Rst,
    Fin,
}

fn tcp(src: [u8; 4], dst: [u8; 4], sp: u16, dp: u16, seq: u32, fl: Fl, payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4(src, dst, 64)
        .tcp(sp, dp, seq, 64000);
    let b = match fl {
        Fl::Syn => b.syn(),
        Fl::SynAck => b.syn().ack(1),
        Fl::Ack => b.ack(1),
        Fl::Rst => b.rst(),
        Fl::Fin => b.fin().ack(1),
    };
    let mut v = Vec::new();
    b.write(&mut v, payload).unwrap();
    v
}

fn udp(src: [u8; 4], dst: [u8; 4], sp: u16, dp: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4(src, dst, 64)
        .udp(sp, dp)
        .write(&mut v, payload)
        .unwrap();
    v
}

fn icmp_echo(src: [u8; 4], dst: [u8; 4], reply: bool, seq: u16) -> Vec<u8> {
    let mut v = Vec::new();
    let b = PacketBuilder::ethernet2([1; 6], [2; 6]).ipv4(src, dst, 64);
    let b = if reply {
        b.icmpv4_echo_reply(7, seq)
    } else {
        b.icmpv4_echo_request(7, seq)
    };
    b.write(&mut v, &[0; 8]).unwrap();
    v
}

fn read(bytes: &[u8], opts: &IngestOptions) -> CaptureOutput {
    let mut r = bytes;
    read_capture(&mut r, "mem.pcap", SourceId(3), opts)
}

fn ip(a: [u8; 4]) -> IpAddr {
    IpAddr::from(a)
}

fn find(out: &CaptureOutput, src: [u8; 4], dst: [u8; 4], proto: u8) -> &Flow {
    out.flows
        .iter()
        .find(|f| {
            f.src_addr == Some(ip(src)) && f.dst_addr == Some(ip(dst)) && f.protocol == Some(proto)
        })
        .unwrap_or_else(|| panic!("no flow {src:?} -> {dst:?} / {proto}"))
}

fn client_hello(sni: &str) -> Vec<u8> {
    super::tls::tests::client_hello_record(sni.as_bytes())
}

/// A capture with: a completed TLS handshake whose ClientHello is split over
/// three segments, a SYN answered by RST, an unanswered SYN, a DNS answer,
/// an HTTP request, and pings (one answered).
fn lab() -> Vec<(u32, Vec<u8>)> {
    let hello = client_hello("bucket.s3.eu-west-1.amazonaws.com");
    let (a, rest) = hello.split_at(7);
    let (b, c) = rest.split_at(30);
    let mut dns_resp = Vec::new();
    dns_resp.extend([0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
    for l in ["bucket", "s3", "amazonaws", "com"] {
        dns_resp.push(l.len() as u8);
        dns_resp.extend(l.as_bytes());
    }
    dns_resp.extend([
        0, 0, 1, 0, 1, 0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 52, 219, 60, 1,
    ]);
    vec![
        (100, udp(R, C, 53, 33000, &dns_resp)),
        (101, tcp(C, S, 40000, 443, 1000, Fl::Syn, &[])),
        (101, tcp(S, C, 443, 40000, 5000, Fl::SynAck, &[])),
        (101, tcp(C, S, 40000, 443, 1001, Fl::Ack, &[])),
        // Out of order: the third part first, then the first two.
        (
            102,
            tcp(
                C,
                S,
                40000,
                443,
                1001 + (a.len() + b.len()) as u32,
                Fl::Ack,
                c,
            ),
        ),
        (102, tcp(C, S, 40000, 443, 1001, Fl::Ack, a)),
        (
            102,
            tcp(C, S, 40000, 443, 1001 + a.len() as u32, Fl::Ack, b),
        ),
        (103, tcp(S, C, 443, 40000, 5001, Fl::Fin, &[])),
        (110, tcp(C, S, 40001, 443, 9, Fl::Syn, &[])),
        (110, tcp(S, C, 443, 40001, 0, Fl::Rst, &[])),
        (120, tcp(C, S, 40002, 443, 7, Fl::Syn, &[])),
        (121, tcp(C, S, 40002, 443, 7, Fl::Syn, &[])),
        (
            130,
            tcp(
                C,
                S,
                40003,
                80,
                1,
                Fl::Ack,
                b"GET /k HTTP/1.1\r\nHost: bucket.s3.amazonaws.com\r\n\r\n",
            ),
        ),
        (140, icmp_echo(C, R, false, 1)),
        (140, icmp_echo(R, C, true, 1)),
        (141, icmp_echo(C, R, false, 2)),
    ]
}

#[test]
fn handshake_states_sni_http_host_echo_and_dns() {
    let out = read(&pcap(&lab()), &IngestOptions::default());
    assert!(out.tally.error.is_none(), "{:?}", out.tally.error);
    assert_eq!(out.kind, SourceKind::Pcap);
    assert_eq!(out.tally.packets, 16);

    let f = out
        .flows
        .iter()
        .find(|f| f.src_port == Some(40000) && f.src_addr == Some(ip(C)))
        .unwrap();
    let ev = f.capture.as_ref().unwrap();
    assert_eq!(ev.handshake, Some(Handshake::Completed));
    assert_eq!(ev.initiator, Some(Initiator::Source));
    assert_eq!(ev.sni.as_deref(), Some("bucket.s3.eu-west-1.amazonaws.com"));
    assert_eq!(ev.capture_host, Some(ip(C)));
    assert_eq!(f.flow_direction, Some(crate::flow::Direction::Egress));
    assert_eq!(f.packets, Some(5));
    assert_eq!(f.tcp_flags, Some(2));
    assert_eq!(f.provenance.index, 2);
    assert_eq!(f.start, Some(101));
    assert_eq!(f.end, Some(102));
    let back = out
        .flows
        .iter()
        .find(|f| f.dst_port == Some(40000))
        .unwrap();
    assert_eq!(back.tcp_flags, Some(18 | 1));
    assert_eq!(
        back.capture.as_ref().unwrap().initiator,
        Some(Initiator::Destination)
    );
    assert_eq!(back.flow_direction, Some(crate::flow::Direction::Ingress));

    let reset = out
        .flows
        .iter()
        .find(|f| f.src_port == Some(40001))
        .unwrap();
    assert_eq!(
        reset.capture.as_ref().unwrap().handshake,
        Some(Handshake::Reset)
    );
    let blocked = out
        .flows
        .iter()
        .find(|f| f.src_port == Some(40002))
        .unwrap();
    assert_eq!(
        blocked.capture.as_ref().unwrap().handshake,
        Some(Handshake::SynOnly)
    );
    assert_eq!(blocked.packets, Some(2));
    let http = out.flows.iter().find(|f| f.dst_port == Some(80)).unwrap();
    let ev = http.capture.as_ref().unwrap();
    assert_eq!(ev.http_host.as_deref(), Some("bucket.s3.amazonaws.com"));
    assert_eq!(ev.handshake, Some(Handshake::NotSeen));

    let ping = find(&out, C, R, 1);
    let ev = ping.capture.as_ref().unwrap();
    assert_eq!((ev.echo_requests, ev.echo_replies), (2, 1));

    assert_eq!(out.dns.len(), 1);
    let d = &out.dns[0];
    assert_eq!(d.query, "bucket.s3.amazonaws.com");
    assert_eq!(d.answers, vec![ip(S)]);
    assert_eq!((d.client, d.resolver), (ip(C), ip(R)));
    assert_eq!(
        (d.time, d.provenance.index, d.provenance.source),
        (100, 1, SourceId(3))
    );

    // Bytes are IP-layer bytes; wire bytes include the Ethernet header.
    let syn = &lab()[1].1;
    assert_eq!(blocked.bytes, Some(2 * (syn.len() as u64 - 14)));
    assert_eq!(
        blocked.capture.as_ref().unwrap().wire_bytes,
        2 * syn.len() as u64
    );
    // Sorted by first packet.
    let idx: Vec<u64> = out.flows.iter().map(|f| f.provenance.index).collect();
    let mut sorted = idx.clone();
    sorted.sort();
    assert_eq!(idx, sorted);
}

#[test]
fn windows_split_flows_and_host_option_overrides() {
    let opts = IngestOptions {
        window: Some(10),
        host: Some(ip(S)),
        ..IngestOptions::default()
    };
    let out = read(&pcap(&lab()), &opts);
    let blocked: Vec<_> = out
        .flows
        .iter()
        .filter(|f| f.src_port == Some(40002))
        .collect();
    // Packets at 120 and 121 share the window [120, 130).
    assert_eq!(blocked.len(), 1);
    let pings: Vec<_> = out
        .flows
        .iter()
        .filter(|f| f.protocol == Some(1) && f.src_addr == Some(ip(C)))
        .collect();
    assert_eq!(pings.len(), 1);
    let tls: Vec<_> = out
        .flows
        .iter()
        .filter(|f| f.src_port == Some(40000))
        .collect();
    // 101 and 102 are in window 10; no split.
    assert_eq!(tls.len(), 1);
    assert_eq!(tls[0].capture.as_ref().unwrap().capture_host, Some(ip(S)));
    assert_eq!(tls[0].flow_direction, Some(crate::flow::Direction::Ingress));
    let mut frames = lab();
    frames.push((135, tcp(C, S, 40002, 443, 7, Fl::Syn, &[])));
    let out = read(&pcap(&frames), &opts);
    assert_eq!(
        out.flows
            .iter()
            .filter(|f| f.src_port == Some(40002))
            .count(),
        2
    );
}

fn big_capture() -> Vec<u8> {
    let mut frames = Vec::new();
    for i in 0..20_000u32 {
        let port = 30000 + (i % 700) as u16;
        let payload: &[u8] = if i % 3 == 0 {
            b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"
        } else {
            b""
        };
        frames.push((i / 100, tcp(C, S, port, 80, i, Fl::Ack, payload)));
        frames.push((i / 100, tcp(S, C, 80, port, i, Fl::Ack, &[])));
    }
    pcap(&frames)
}

#[test]
fn same_output_for_any_thread_count() {
    let bytes = big_capture();
    let run = |n: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap();
        pool.install(|| read(&bytes, &IngestOptions::default()))
    };
    let one = run(1);
    assert_eq!(one.tally.packets, 40_000);
    assert!(one.flows.len() >= 1400);
    for n in [2, 3, 8] {
        let other = run(n);
        assert_eq!(one.flows, other.flows, "{n} threads");
        assert_eq!(one.dns, other.dns);
        assert_eq!(one.tally, other.tally);
    }
}

/// A sink that keeps what it was handed, and how it was asked to reserve.
#[derive(Default)]
struct Recording {
    flows: Vec<Flow>,
    reserved: Vec<usize>,
}

impl crate::ingest::FlowSink for Recording {
    fn push(&mut self, flow: Flow) {
        self.flows.push(flow);
    }
    fn merge(&mut self, mut later: Self) {
        self.flows.append(&mut later.flows);
    }
    fn reserve(&mut self, additional: usize) {
        self.reserved.push(additional);
    }
}

#[test]
fn flows_stream_into_the_sink_in_output_order_across_slices() {
    // 48,000 directional flows: three slices of the output.
    let mut frames = Vec::new();
    let dst = [203, 0, 113, 1];
    for i in 0..24_000u32 {
        let port = 1024 + i as u16;
        frames.push((i / 1000, tcp(C, dst, port, 443, i, Fl::Syn, &[])));
        frames.push((i / 1000, tcp(dst, C, 443, port, i, Fl::SynAck, &[])));
    }
    let bytes = pcap(&frames);
    let whole = read(&bytes, &IngestOptions::default());
    let mut sink = Recording::default();
    let mut r = &bytes[..];
    let rest = read_capture_into(
        &mut r,
        "mem.pcap",
        SourceId(3),
        &IngestOptions::default(),
        &mut sink,
    );
    assert!(rest.flows.is_empty());
    assert_eq!(whole.flows.len(), 48_000);
    assert_eq!(sink.reserved, vec![48_000]);
    assert_eq!(sink.flows, whole.flows);
    assert_eq!(rest.tally, whole.tally);
    let order = |f: &Flow| (f.start, f.start_nanos, f.provenance.index);
    assert!(sink.flows.windows(2).all(|w| order(&w[0]) < order(&w[1])));
}

#[test]
fn not_a_capture_empty_input_and_a_cut_header_are_counted_as_unknown() {
    let unknown = |bytes: &[u8]| {
        let out = read(bytes, &IngestOptions::default());
        assert!(out.tally.error.is_none(), "{:?}", out.tally.error);
        assert_eq!(out.tally.skipped.get("not a kind privpath reads"), Some(&1));
        assert_eq!(out.kind, SourceKind::Unknown);
        out.tally.examples.join("\n")
    };
    let msg = unknown(b"hello, this is not a capture at all");
    assert!(msg.contains("not a pcap"), "{msg}");
    assert!(unknown(b"").contains("empty input"));
    let msg = unknown(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0]);
    assert!(
        msg.contains("capture header cut short (10 of 24 bytes)"),
        "{msg}"
    );
}

#[test]
fn absurd_caplen_stops_with_packet_index_and_offset() {
    let mut bytes = pcap(&lab());
    // Corrupt the caplen of the third record.
    let mut at = 24;
    for _ in 0..2 {
        let cap = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        at += 16 + cap;
    }
    bytes[at + 8..at + 12].copy_from_slice(&u32::MAX.to_le_bytes());
    let out = read(&bytes, &IngestOptions::default());
    let err = out.tally.error.unwrap();
    assert!(
        err.contains("packet 3") && err.contains(&format!("offset {at}")),
        "{err}"
    );
    assert_eq!(out.tally.packets, 2);
}

#[test]
fn cut_short_keeps_the_packets_before() {
    let bytes = pcap(&lab());
    let out = read(&bytes[..bytes.len() - 5], &IngestOptions::default());
    assert_eq!(out.tally.packets, 15);
    assert_eq!(out.tally.skipped.get("cut short"), Some(&1));
    assert!(out.tally.error.is_none());
}

#[test]
fn gzip_file_is_read_like_the_plain_file() {
    use std::io::Write;
    let bytes = pcap(&lab());
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("a.pcap");
    std::fs::write(&plain, &bytes).unwrap();
    let gz = dir.path().join("a.pcap.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&bytes).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let a = read_capture_file(&plain, SourceId(0), &IngestOptions::default());
    let b = read_capture_file(&gz, SourceId(0), &IngestOptions::default());
    assert_eq!(a.flows, b.flows);
    assert_eq!(a.dns, b.dns);
    assert!(!a.flows.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Every truncation of a valid frame (as a snaplen would cut it) gives a
    /// partial result, never a panic; the frame is still counted.
    #[test]
    fn every_truncation_of_a_frame_gives_a_partial_result(i in 0usize..16, cut in 0usize..2000) {
        let frames = lab();
        let f = &frames[i].1;
        let n = cut % (f.len() + 1);
        let mut bytes = pcap(&[(1, f[..n].to_vec())]);
        // Keep the original length in the record.
        bytes[24 + 12..24 + 16].copy_from_slice(&(f.len() as u32).to_le_bytes());
        let out = read(&bytes, &IngestOptions::default());
        prop_assert!(out.tally.error.is_none());
        prop_assert_eq!(out.tally.packets, 1);
        let flows: u64 = out.flows.iter().map(|f| f.packets.unwrap()).sum();
        let noted: u64 = out.tally.notes.iter().filter(|(k, _)| !k.starts_with("truncated") && !k.starts_with("dns")).map(|(_, v)| v).sum();
        prop_assert_eq!(flows + noted, 1, "notes {:?}", out.tally.notes);
        if n >= 14 + 20 {
            prop_assert_eq!(flows, 1);
            let fl = &out.flows[0];
            prop_assert_eq!(fl.capture.as_ref().unwrap().wire_bytes, f.len() as u64);
            prop_assert_eq!(fl.bytes, Some(f.len() as u64 - 14));
        }
    }

    /// Random bytes after a valid header never panic or hang.
    #[test]
    fn random_records_never_panic(body in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut bytes = pcap(&[]);
        bytes.extend(&body);
        let _ = read(&bytes, &IngestOptions::default());
        let mut ng = vec![0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0];
        ng.extend([0xff; 8]);
        ng.extend(28u32.to_le_bytes());
        ng.extend(&body);
        let _ = read(&ng, &IngestOptions::default());
    }
}

#[test]
fn capture_host_prefers_the_private_address_over_a_busier_public_one() {
    // One private client, one public server that also talks to two other
    // public peers: the server is in more flows, but an instance is
    // captured with its private address.
    let p1 = [52, 95, 194, 10];
    let p2 = [52, 95, 194, 11];
    let frames = vec![
        (1, tcp(C, S, 40000, 443, 1, Fl::Syn, &[])),
        (2, tcp(S, p1, 443, 50000, 1, Fl::Syn, &[])),
        (3, tcp(S, p2, 443, 50001, 1, Fl::Syn, &[])),
    ];
    let out = read(&pcap(&frames), &IngestOptions::default());
    let host = out.flows[0].capture.as_ref().unwrap().capture_host;
    assert_eq!(host, Some(ip(C)));
}

#[test]
fn suspicious_server_names_are_tallied_in_output_order_with_the_packet() {
    let mut frames = Vec::new();
    // Two connections whose ClientHello names carry bytes no server name
    // has; the second one starts first.
    for (port, t, name) in [
        (40010u16, 20u32, "b\u{1b}[31m.example"),
        (40011, 10, "a\u{7}.example"),
    ] {
        frames.push((t, tcp(C, S, port, 443, 100, Fl::Syn, &[])));
        frames.push((t, tcp(S, C, 443, port, 500, Fl::SynAck, &[])));
        frames.push((t, tcp(C, S, port, 443, 101, Fl::Ack, &client_hello(name))));
    }
    let out = read(&pcap(&frames), &IngestOptions::default());
    assert_eq!(out.tally.skipped.get("suspicious name"), Some(&2));
    let ex: Vec<&String> = out
        .tally
        .examples
        .iter()
        .filter(|e| e.contains("server name"))
        .collect();
    assert_eq!(ex.len(), 2, "{:?}", out.tally.examples);
    assert!(
        ex[0].contains("packet 6") && ex[0].contains("a\\u{7}.example"),
        "{}",
        ex[0]
    );
    assert!(
        ex[1].contains("packet 3") && ex[1].contains("b\\u{1b}[31m.example"),
        "{}",
        ex[1]
    );
    let f = out
        .flows
        .iter()
        .find(|f| f.src_port == Some(40011))
        .unwrap();
    assert_eq!(
        f.capture.as_ref().unwrap().sni.as_deref(),
        Some("a\u{7}.example")
    );
}

/// A source that returns a few bytes per call and is interrupted now and
/// then (as pipes, sockets and decoders do).
struct Trickle<'a> {
    data: &'a [u8],
    calls: usize,
}

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.calls += 1;
        if self.calls.is_multiple_of(5) {
            return Err(std::io::ErrorKind::Interrupted.into());
        }
        let n = buf.len().min(self.data.len()).min(1 + self.calls % 7);
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

#[test]
fn short_and_interrupted_reads_give_the_same_output() {
    let bytes = big_capture();
    let whole = read(&bytes, &IngestOptions::default());
    let mut src = Trickle {
        data: &bytes,
        calls: 0,
    };
    let trickled = read_capture(&mut src, "mem.pcap", SourceId(3), &IngestOptions::default());
    assert_eq!(whole.flows, trickled.flows);
    assert_eq!(whole.dns, trickled.dns);
    assert_eq!(whole.tally, trickled.tally);
    assert_eq!(whole.tally.packets, 40_000);
}
