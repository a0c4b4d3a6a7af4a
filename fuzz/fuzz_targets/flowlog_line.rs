//! Fuzz target `flowlog_line`: the property is [`privpath::fuzzing::flowlog_line`] (replayed
//! on stable by `tests/cli/fuzz_replay.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| privpath::fuzzing::flowlog_line(data));
