//! `-o csv`: every classified flow, one row each: the Athena column names
//! (see [`crate::flow::COLUMNS`]) then the classification columns. Empty
//! cells are absent values. RFC 4180 quoting.

use std::borrow::Cow;

use crate::flow::COLUMNS;

use super::records::{Cell, ip, text};
use super::{FlowRecord, Report};

/// The classification columns that follow the Athena ones.
pub const CLASS_COLUMNS: [&str; 11] = [
    "service",
    "host_instance_id",
    "host_eni",
    "host_address",
    "host_subnet_id",
    "path",
    "outcome",
    "endpoint_id",
    "evidence",
    "source_file",
    "source_line",
];

/// The classification cell `j` of a record, in [`CLASS_COLUMNS`] order.
pub fn class_cell(r: &FlowRecord, j: usize) -> Cell<'_> {
    fn s(v: &str) -> Cell<'_> {
        Cell::Str(Cow::Borrowed(v))
    }
    match j {
        0 => s(&r.service),
        1 => text(&r.host.instance_id),
        // A host's ENIs and addresses, space-separated (a dual-stack
        // instance lists both addresses).
        2 => words(&r.host.enis),
        3 => match r.host.addresses.as_ref() {
            [] => Cell::Null,
            [one] => ip(Some(*one)),
            _ => Cell::Str(Cow::Owned(r.host.addresses_text())),
        },
        4 => r
            .host
            .subnet_id()
            .map_or(Cell::Null, |s| Cell::Str(Cow::Borrowed(s.as_str()))),
        5 => s(r.path.as_str()),
        6 => s(r.outcome.as_str()),
        7 => text(&r.endpoint_id),
        8 => s(&r.evidence),
        9 => s(&r.source_file),
        10 => Cell::Int(r.flow.provenance.index),
        _ => Cell::Null,
    }
}

fn words(v: &[crate::flow::Text]) -> Cell<'_> {
    match v {
        [] => Cell::Null,
        [one] => Cell::Str(Cow::Borrowed(one.as_str())),
        _ => Cell::Str(Cow::Owned(
            v.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(" "),
        )),
    }
}

pub fn render_csv(r: &Report) -> Vec<u8> {
    use super::records::{push_csv_cell, push_csv_record, standard_cell, write_rows};
    let mut out = Vec::new();
    push_csv_record(
        &mut out,
        COLUMNS.iter().chain(CLASS_COLUMNS.iter()).copied(),
    );
    // Rows rendered in parallel pieces, in order; writing to a vector does
    // not fail.
    let _ = write_rows(
        &r.flows,
        &mut out,
        &|out: &mut Vec<u8>, rec: &FlowRecord| {
            for i in 0..COLUMNS.len() {
                if i > 0 {
                    out.push(b',');
                }
                push_csv_cell(out, standard_cell(&rec.flow, i));
            }
            for j in 0..CLASS_COLUMNS.len() {
                out.push(b',');
                push_csv_cell(out, class_cell(rec, j));
            }
            out.push(b'\n');
        },
    );
    out
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;
    use crate::report::fixture;

    #[test]
    fn render_csv_fixture_snapshot() {
        let out = String::from_utf8(render_csv(&fixture::report())).unwrap();
        insta::assert_snapshot!(out);
    }

    #[test]
    fn render_csv_rows_have_every_column() {
        let report = fixture::report();
        let out = String::from_utf8(render_csv(&report)).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), report.flows.len() + 1);
        assert!(lines[0].starts_with("version,account_id,interface_id,srcaddr,dstaddr"));
        assert!(lines[0].ends_with("evidence,source_file,source_line"));
        // The fixture's file name has no comma but its evidence has a ';' and
        // the classification has commas in "(gateway, created …)": quoted.
        assert!(out.contains("\"rtb-0pub pl-78a54011 -> vpce-0s3gw (gateway, created"));
    }
}
