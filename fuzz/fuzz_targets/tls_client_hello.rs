//! Any bytes as the first bytes of a client stream: never a panic, and a
//! recognised name is a sub-slice of the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use privpath::ingest::pcap::tls::{AppName, app_name};

fuzz_target!(|data: &[u8]| {
    match app_name(data) {
        AppName::Sni(n) | AppName::HttpHost(n) => {
            assert!(n.len() <= data.len());
            assert!(data.windows(n.len().max(1)).any(|w| n.is_empty() || w == n.as_slice()));
        }
        _ => {}
    }
});
