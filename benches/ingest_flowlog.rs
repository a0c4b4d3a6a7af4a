//! Flow-log ingest benches: the line parser (v2 and a v5 custom layout),
//! and whole-file ingest (plain vs gzip, 1 vs 2 threads). Inputs come from
//! a seeded generator at start-up; nothing is committed.
//!
//! `cargo bench --bench ingest_flowlog`

use std::hint::black_box;
use std::io::Write;
use std::path::PathBuf;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use privpath::flow::{Flow, Provenance, SourceTally};
use privpath::ingest::flowlog::{FieldPlan, ingest_line, parse_line};
use privpath::ingest::{FlowSink, IngestOptions, read_inputs};

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn v2_line(r: &mut Rng) -> String {
    let start = 1_700_000_000 + r.below(86_400);
    format!(
        "2 123456789012 eni-{:017x} 10.{}.{}.{} {}.{}.{}.{} {} {} 6 {} {} {} {} {} OK",
        r.below(64),
        r.below(4),
        r.below(256),
        r.below(256),
        [52, 3, 54, 10][r.below(4) as usize],
        r.below(256),
        r.below(256),
        r.below(256),
        1024 + r.below(60_000),
        [443, 80, 22, 5432][r.below(4) as usize],
        1 + r.below(100),
        40 + r.below(100_000),
        start,
        start + r.below(60),
        if r.below(10) == 0 { "REJECT" } else { "ACCEPT" },
    )
}

const V5: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path";

fn v5_line(r: &mut Rng) -> String {
    let v2 = v2_line(r);
    let v2 = v2.replacen("2 ", "5 ", 1);
    format!(
        "{v2} vpc-0123456789abcdef0 subnet-0123456789abcdef0 i-0123456789abcdef0 {} IPv4 10.0.0.{} 52.219.60.{} us-east-1 use1-az4 - - - S3 egress {}",
        [2, 18, 3, 19][r.below(4) as usize],
        r.below(256),
        r.below(256),
        [1, 7, 8][r.below(3) as usize]
    )
}

struct Count(u64);

impl FlowSink for Count {
    fn push(&mut self, flow: Flow) {
        self.0 += flow.bytes.unwrap_or(0) & 1;
    }
    fn merge(&mut self, later: Self) {
        self.0 += later.0;
    }
}

fn bench_line(c: &mut Criterion) {
    let mut r = Rng(0x5eed);
    let v2: Vec<String> = (0..10_000).map(|_| v2_line(&mut r)).collect();
    let v5: Vec<String> = (0..10_000).map(|_| v5_line(&mut r)).collect();
    let plan2 = FieldPlan::default_v2();
    let plan5 = FieldPlan::from_format(V5).unwrap();
    let mut g = c.benchmark_group("line");
    for (name, lines, plan) in [("v2", &v2, &plan2), ("v5", &v5, &plan5)] {
        let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
        g.throughput(Throughput::Bytes(bytes as u64));
        g.bench_function(BenchmarkId::new("parse_line", name), |b| {
            b.iter(|| {
                for l in lines {
                    let _ = black_box(parse_line(black_box(l), plan));
                }
            })
        });
        g.bench_function(BenchmarkId::new("ingest_line", name), |b| {
            b.iter(|| {
                let mut t = SourceTally::default();
                let mut sink = Count(0);
                for l in lines {
                    ingest_line(l, plan, Provenance::default(), "bench", &mut t, &mut sink);
                }
                black_box(sink.0)
            })
        });
    }
    g.finish();
}

fn bench_file(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut r = Rng(42);
    let mut text = String::new();
    for _ in 0..200_000 {
        text.push_str(&v2_line(&mut r));
        text.push('\n');
    }
    let plain: PathBuf = dir.path().join("v2.log");
    std::fs::write(&plain, &text).unwrap();
    let gz: PathBuf = dir.path().join("v2.log.gz");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(text.as_bytes()).unwrap();
    std::fs::write(&gz, e.finish().unwrap()).unwrap();

    let mut g = c.benchmark_group("file");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(text.len() as u64));
    for (name, path) in [("plain", &plain), ("gzip", &gz)] {
        for threads in [1usize, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            g.bench_function(BenchmarkId::new(name, format!("{threads}-threads")), |b| {
                b.iter(|| {
                    pool.install(|| {
                        let got = read_inputs(
                            std::slice::from_ref(path),
                            &IngestOptions::default(),
                            || Count(0),
                        )
                        .unwrap();
                        black_box(got.sink.0)
                    })
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench_line, bench_file);
criterion_main!(benches);
