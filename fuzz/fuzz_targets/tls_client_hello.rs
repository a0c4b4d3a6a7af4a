//! Fuzz target `tls_client_hello`: the property is [`privpath::fuzzing::tls_client_hello`] (replayed
//! on stable by `tests/cli/fuzz_replay.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| privpath::fuzzing::tls_client_hello(data));
