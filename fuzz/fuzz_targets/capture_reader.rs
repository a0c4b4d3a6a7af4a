//! Any bytes as a capture: never a panic or a hang, and the counts add up
//! (packets in flows never exceed packets read).
#![no_main]

use libfuzzer_sys::fuzz_target;
use privpath::flow::SourceId;
use privpath::ingest::IngestOptions;
use privpath::ingest::pcap::read_capture;

fuzz_target!(|data: &[u8]| {
    let mut r = data;
    let out = read_capture(&mut r, "fuzz", SourceId(0), &IngestOptions::default());
    let in_flows: u64 = out.flows.iter().filter_map(|f| f.packets).sum();
    assert!(in_flows <= out.tally.packets);
    assert!(out.tally.records <= out.tally.packets);
});
