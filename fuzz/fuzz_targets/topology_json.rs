//! Any bytes as one AWS CLI JSON file of the topology: never a panic, and
//! what loads builds an index.
#![no_main]

use libfuzzer_sys::fuzz_target;
use privpath::topology::{TopologyIndex, load_bytes};

fuzz_target!(|data: &[u8]| {
    if let Ok(topo) = load_bytes("fuzz.json", data) {
        let _ = TopologyIndex::build(&topo);
    }
});
