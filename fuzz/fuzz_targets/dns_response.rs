//! Any bytes as a DNS message: never a panic; names stay within 255 bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use privpath::ingest::pcap::dns::parse_response;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(a)) = parse_response(data) {
        assert!(a.query.len() <= 255 * 4);
        for c in &a.cnames {
            assert!(c.len() <= 255 * 4);
        }
    }
});
