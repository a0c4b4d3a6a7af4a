//! Any bytes as flow-log text: the first line as a header (when it is one)
//! or a `--log-format`, every other line as a record. Never a panic; a
//! parsed record renders and parses back to the same fields.
#![no_main]

use libfuzzer_sys::fuzz_target;
use privpath::ingest::flowlog::header::is_header_line;
use privpath::ingest::flowlog::line::render_line;
use privpath::ingest::flowlog::{FieldPlan, parse_line};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    let plan = if is_header_line(first) {
        FieldPlan::from_header_line(first).unwrap_or_else(FieldPlan::default_v2)
    } else {
        // The first line doubles as a --log-format when it is one.
        FieldPlan::from_format(first).unwrap_or_else(|_| FieldPlan::default_v2())
    };
    for line in std::iter::once(first).chain(lines) {
        if let Ok(flow) = parse_line(line, &plan) {
            let again = render_line(&flow, &plan);
            let back = parse_line(&again, &plan);
            assert!(back.is_ok(), "{line:?} rendered as {again:?} does not parse");
        }
    }
});
