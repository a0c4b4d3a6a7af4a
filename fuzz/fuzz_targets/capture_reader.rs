//! Fuzz target `capture_reader`: the property is [`privpath::fuzzing::capture_reader`] (replayed
//! on stable by `tests/cli/fuzz_replay.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| privpath::fuzzing::capture_reader(data));
