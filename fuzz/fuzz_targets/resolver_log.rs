//! Fuzz target `resolver_log`: the property is [`privpath::fuzzing::resolver_log`] (replayed
//! on stable by `tests/cli/fuzz_replay.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| privpath::fuzzing::resolver_log(data));
