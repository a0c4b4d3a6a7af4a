//! Any bytes as a flow-log JSON input (CloudWatch events, subscription
//! payloads, `{"message": …}` lines): never a panic, and every record read
//! is counted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use privpath::flow::{Flow, SourceId, SourceTally};
use privpath::ingest::flowlog::{FieldPlan, json::read_json, json::unwrap_message};

fuzz_target!(|data: &[u8]| {
    let plan = FieldPlan::default_v2();
    let mut flows: Vec<Flow> = Vec::new();
    let mut tally = SourceTally::default();
    let _ = read_json(data, "fuzz", SourceId(0), &plan, &mut flows, &mut tally);
    assert_eq!(flows.len() as u64, tally.records);
    if let Ok(line) = std::str::from_utf8(data) {
        let _ = unwrap_message(line);
    }
});
