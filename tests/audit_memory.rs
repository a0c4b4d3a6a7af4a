//! The audit's memory is a bound, tested: N and 4N synthetic records fed
//! through the streamed engine (rows → partitioned store → pairing →
//! collector) must peak at the same heap size (≤ 1.3×), with and without
//! the per-flow outputs (`-o csv|parquet`: every egress record's cells
//! spilled with its partition, sorted runs, merged to the writer). A
//! counting global allocator measures the heap; this binary holds this
//! one test only.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::alloc::System;
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};

use peakmem_alloc::{INSTRUMENTED_SYSTEM, PeakMemAlloc, PeakMemAllocTrait};
use privpath::audit::{
    self, Class, ConvRow, FlowTable, RecordBatch, RecordStore, RowStore, partitions_for,
};
use privpath::classify::{Outcome, PathClass, Role};
use privpath::flow::{Flow, FlowKey, Provenance, SourceId};
use privpath::report::Host;
use privpath::report::collect::Collector;
use privpath::report::expect::ExpectSet;

#[global_allocator]
static HEAP: &PeakMemAlloc<System> = &INSTRUMENTED_SYSTEM;

const HOSTS: u32 = 200;

/// Record `i` of a stream: an egress flow of one of 200 hosts, then its
/// reply (the next record), over one hour of times that repeat (the time
/// buckets a report holds do not grow with the records).
fn row(i: u64) -> ConvRow {
    let conv = i / 2;
    let host = u32::try_from(conv % u64::from(HOSTS)).unwrap();
    let local = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + host));
    let remote = IpAddr::V4(Ipv4Addr::from(
        0x34d9_0000 + u32::try_from(conv % 977).unwrap(),
    ));
    let key = FlowKey {
        src: local,
        dst: remote,
        src_port: u16::try_from(1024 + conv % 60_000).unwrap(),
        dst_port: 443,
        protocol: 6,
    };
    let reply = i % 2 == 1;
    let start = 1_800_000_000 + (conv * 7) % 3600;
    ConvRow {
        source: u32::try_from(conv % 50).unwrap(),
        index: i,
        host,
        class: if reply { audit::NO_CLASS } else { host % 4 },
        role: if reply { Role::Reply } else { Role::Egress },
        outcome: Outcome::Unknown,
        rejected: false,
        logged: true,
        key: Some(if reply { key.reversed() } else { key }),
        start: Some(start),
        end: Some(start + 30),
        packets: Some(10),
        bytes: Some(1000 + i % 100),
        dst: Some(if reply { local } else { remote }),
        dst_port: Some(if reply { key.src_port } else { 443 }),
        protocol: Some(6),
    }
}

fn classes() -> Vec<Class> {
    ["s3", "dynamodb", "external", "cloudformation"]
        .iter()
        .map(|s| Class {
            service: (*s).into(),
            host: Host::default(),
            path: PathClass::InternetGateway,
            endpoint_id: None,
            evidence: format!("route to {s}"),
        })
        .collect()
}

/// The flow record `r` was reduced from (what the per-flow outputs list).
fn flow_of(r: &ConvRow) -> Flow {
    let key = r.key.unwrap();
    Flow {
        provenance: Provenance {
            source: SourceId(r.source),
            index: r.index,
        },
        interface_id: Some(format!("eni-{:017x}", r.host).into()),
        src_addr: Some(key.src),
        dst_addr: Some(key.dst),
        src_port: Some(key.src_port),
        dst_port: Some(key.dst_port),
        protocol: Some(key.protocol),
        start: r.start,
        end: r.end,
        packets: r.packets,
        bytes: r.bytes,
        ..Flow::default()
    }
}

/// Peak heap bytes while `n` records go through the engine, above what was
/// allocated before; and the flows the collector counted. With `records`,
/// the egress records also go to the per-flow output (a CSV into a sink
/// that counts its rows).
fn peak_for(n: u64, records: bool) -> (usize, u64) {
    let expect = ExpectSet::default();
    let names: Vec<String> = (0..50).map(|i| format!("input-{i}.log")).collect();
    let classes = classes();
    HEAP.reset_peak_memory();
    let store = RowStore::new(partitions_for(n), 4 << 20);
    let record_store = records.then(|| RecordStore::new(partitions_for(n), 4 << 20));
    let mut batch = Vec::with_capacity(8192);
    let mut recs = RecordBatch::default();
    let mut has_ingress: HashSet<u32> = HashSet::new();
    for i in 0..n {
        let r = row(i);
        if r.role == Role::Reply {
            has_ingress.insert(r.host);
        } else if let Some(rs) = &record_store {
            recs.add(store.partition_of(&r), &flow_of(&r));
            if recs.len() == 8192 {
                rs.push(&mut recs);
            }
        }
        batch.push(r);
        if batch.len() == 8192 {
            store.push(&mut batch);
        }
    }
    store.push(&mut batch);
    drop(batch);
    let runs = record_store.map(|rs| {
        rs.push(&mut recs);
        rs.into_runs()
    });
    drop(recs);
    let drained = audit::drain(store, &classes, &has_ingress, runs.as_ref(), || {
        Collector::new(&expect, &names, false)
    });
    if let Some(runs) = &runs {
        assert!(runs.errors().is_empty(), "{:?}", runs.errors());
        let mut out = CountLines(0);
        let rows = FlowTable::new(&classes, &names)
            .write_csv(runs, &mut out)
            .unwrap();
        assert_eq!(rows, n / 2);
        assert_eq!(out.0, n / 2 + 1, "a header and a line per egress flow");
    }
    assert_eq!(drained.unpaired, 0);
    assert!(drained.errors.is_empty(), "{:?}", drained.errors);
    assert!(drained.stats.spilled_rows > 0, "the budget made it spill");
    let fin = drained.collector.finish(Vec::new());
    let flows: u64 = fin.groups.iter().map(|(_, c)| c.flows).sum();
    let answered: u64 = fin
        .groups
        .iter()
        .filter(|(k, _)| k.outcome == Outcome::Answered)
        .map(|(_, c)| c.flows)
        .sum();
    assert_eq!(answered, flows, "every egress flow found its reply");
    (HEAP.get_peak_memory(), flows)
}

/// A writer that counts the lines written to it and keeps nothing.
struct CountLines(u64);

impl std::io::Write for CountLines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.iter().filter(|&&b| b == b'\n').count() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One test (the heap counter is global: tests running at once would
/// count each other): the audit alone, then with its per-flow outputs.
#[test]
fn audit_peak_memory_is_flat_from_n_to_4n_records() {
    assert_flat(false);
    assert_flat(true);
}

fn assert_flat(records: bool) {
    let n = 1 << 18;
    let (small, flows_small) = peak_for(n, records);
    let (large, flows_large) = peak_for(4 * n, records);
    assert_eq!(flows_small, n / 2);
    assert_eq!(flows_large, 2 * n);
    eprintln!(
        "peak heap (per-flow outputs: {records}): {n} records {small} bytes, {} records {large} bytes",
        4 * n
    );
    assert!(
        large as f64 <= 1.3 * small as f64,
        "peak heap grew from {small} to {large} bytes with 4x the records"
    );
}
