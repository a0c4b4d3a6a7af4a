//! Fuzz target `dns_response`: the property is [`privpath::fuzzing::dns_response`] (replayed
//! on stable by `tests/cli/fuzz_replay.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| privpath::fuzzing::dns_response(data));
