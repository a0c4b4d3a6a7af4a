//! Fuzz target `topology_json`: the property is [`privpath::fuzzing::topology_json`] (replayed
//! on stable by `tests/cli/fuzz_replay.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| privpath::fuzzing::topology_json(data));
