//! Capture ingest micro benchmarks: the whole reader on an in-memory capture
//! (EC2-like mix: DNS, TLS handshakes with SNI, bulk TCP, unanswered SYNs),
//! one-packet decode, and the DNS parser. The end-to-end comparison with
//! tshark and a bare pcap-parser read is `benches/pcap.sh`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use etherparse::PacketBuilder;

use privpath::flow::SourceId;
use privpath::ingest::IngestOptions;
use privpath::ingest::pcap::{decode, dns, read_capture};

const C: [u8; 4] = [10, 0, 1, 25];
const R: [u8; 4] = [10, 0, 0, 2];

fn eth() -> etherparse::PacketBuilderStep<etherparse::Ethernet2Header> {
    PacketBuilder::ethernet2([1; 6], [2; 6])
}

fn dns_response(q: &str, addr: [u8; 4]) -> Vec<u8> {
    let mut m = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
    for l in q.split('.') {
        m.push(l.len() as u8);
        m.extend(l.as_bytes());
    }
    m.extend([0, 0, 1, 0, 1, 0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
    m.extend(addr);
    m
}

fn client_hello(sni: &str) -> Vec<u8> {
    let mut list = vec![0u8];
    list.extend((sni.len() as u16).to_be_bytes());
    list.extend(sni.as_bytes());
    let mut ext = vec![0, 0];
    ext.extend(((list.len() + 2) as u16).to_be_bytes());
    ext.extend((list.len() as u16).to_be_bytes());
    ext.extend(list);
    let mut body = vec![3, 3];
    body.extend([7u8; 32]);
    body.extend([0, 0, 2, 0x13, 0x01, 1, 0]);
    body.extend((ext.len() as u16).to_be_bytes());
    body.extend(ext);
    let mut hs = vec![1, 0];
    hs.extend((body.len() as u16).to_be_bytes());
    hs.extend(body);
    let mut rec = vec![0x16, 3, 1];
    rec.extend((hs.len() as u16).to_be_bytes());
    rec.extend(hs);
    rec
}

/// An Ethernet pcap of about `rounds * 16` packets.
fn capture(rounds: u32) -> (Vec<u8>, u64) {
    let mut frames: Vec<Vec<u8>> = Vec::new();
    let hello = client_hello("bucket.s3.ap-northeast-2.amazonaws.com");
    let bulk = vec![0x5a; 1448];
    for r in 0..rounds {
        let port = 32768 + (r % 28000) as u16;
        let srv = [52, 219, (r % 200) as u8, 10];
        let mut v = Vec::new();
        eth()
            .ipv4(C, R, 64)
            .udp(port, 53)
            .write(&mut v, &[0; 40])
            .unwrap();
        frames.push(v);
        let mut v = Vec::new();
        eth()
            .ipv4(R, C, 64)
            .udp(53, port)
            .write(
                &mut v,
                &dns_response("bucket.s3.ap-northeast-2.amazonaws.com", srv),
            )
            .unwrap();
        frames.push(v);
        let seg = |src: [u8; 4], dst: [u8; 4], sp: u16, dp: u16, f: u8, p: &[u8]| {
            let b = eth().ipv4(src, dst, 64).tcp(sp, dp, 1000, 64000);
            let b = match f {
                0 => b.syn(),
                1 => b.syn().ack(1),
                2 => b.fin().ack(1),
                _ => b.ack(1),
            };
            let mut v = Vec::new();
            b.write(&mut v, p).unwrap();
            v
        };
        frames.push(seg(C, srv, port, 443, 0, &[]));
        frames.push(seg(srv, C, 443, port, 1, &[]));
        frames.push(seg(C, srv, port, 443, 3, &[]));
        frames.push(seg(C, srv, port, 443, 3, &hello));
        for _ in 0..6 {
            frames.push(seg(srv, C, 443, port, 3, &bulk));
            frames.push(seg(C, srv, port, 443, 3, &[]));
        }
        frames.push(seg(C, srv, port, 443, 2, &[]));
        frames.push(seg(srv, C, 443, port, 2, &[]));
        if r % 5 == 0 {
            frames.push(seg(C, [3, 5, 184, 20], port, 443, 0, &[]));
        }
    }
    let mut out = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    out.extend(262_144u32.to_le_bytes());
    out.extend(1u32.to_le_bytes());
    for (i, f) in frames.iter().enumerate() {
        out.extend((1_700_000_000 + i as u32 / 1000).to_le_bytes());
        out.extend(((i % 1000) as u32 * 1000).to_le_bytes());
        out.extend((f.len() as u32).to_le_bytes());
        out.extend((f.len() as u32).to_le_bytes());
        out.extend(f);
    }
    (out, frames.len() as u64)
}

fn bench(c: &mut Criterion) {
    let (cap, packets) = capture(10_000);
    let mut g = c.benchmark_group("pcap");
    g.sample_size(10);
    g.throughput(Throughput::Elements(packets));
    g.bench_function("read_capture", |b| {
        b.iter(|| {
            let mut r = cap.as_slice();
            let out = read_capture(&mut r, "bench.pcap", SourceId(0), &IngestOptions::default());
            black_box(out.flows.len() + out.dns.len())
        })
    });
    g.finish();

    let mut frame = Vec::new();
    eth()
        .ipv4(C, [52, 219, 60, 1], 64)
        .tcp(40000, 443, 1, 64000)
        .ack(1)
        .write(&mut frame, &[0; 100])
        .unwrap();
    c.bench_function("pcap/decode_one_tcp_frame", |b| {
        b.iter(|| black_box(decode::decode(1, black_box(&frame), 154).map(|d| d.dst_port)))
    });
    let msg = dns_response(
        "cloudformation.ap-northeast-2.amazonaws.com",
        [10, 0, 2, 45],
    );
    c.bench_function("pcap/dns_parse_response", |b| {
        b.iter(|| {
            black_box(dns::parse_response(black_box(&msg)).map(|a| a.map(|a| a.answers.len())))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
