//! `-o csv`: every classified flow, one row each: the Athena column names
//! (see [`crate::flow::COLUMNS`]) then the classification columns. Empty
//! cells are absent values. RFC 4180 quoting.

use crate::flow::COLUMNS;

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

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The classification cells of a record, in [`CLASS_COLUMNS`] order.
pub fn class_cells(r: &FlowRecord) -> [String; 11] {
    [
        r.service.to_string(),
        opt(r.host.instance_id.as_deref()),
        opt(r.host.eni.as_deref()),
        opt(r.host.address),
        opt(r.host.subnet_id.as_deref()),
        r.path.as_str().to_owned(),
        r.outcome.as_str().to_owned(),
        opt(r.endpoint_id.as_deref()),
        r.evidence.clone(),
        r.source_file.clone(),
        r.flow.provenance.index.to_string(),
    ]
}

pub fn render_csv(r: &Report) -> Vec<u8> {
    use super::records::{push_csv_cell, push_csv_field, standard_cell, write_rows};
    use std::io::Write as _;
    let mut out = Vec::new();
    for (i, c) in COLUMNS.iter().chain(CLASS_COLUMNS.iter()).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_csv_field(&mut out, c);
    }
    out.push(b'\n');
    let text = |out: &mut Vec<u8>, v: Option<&str>| {
        out.push(b',');
        push_csv_field(out, v.unwrap_or(""));
    };
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
            text(out, Some(&rec.service));
            text(out, rec.host.instance_id.as_deref());
            text(out, rec.host.eni.as_deref());
            out.push(b',');
            if let Some(a) = rec.host.address {
                let _ = write!(out, "{a}");
            }
            text(out, rec.host.subnet_id.as_deref());
            text(out, Some(rec.path.as_str()));
            text(out, Some(rec.outcome.as_str()));
            text(out, rec.endpoint_id.as_deref());
            text(out, Some(&rec.evidence));
            text(out, Some(&rec.source_file));
            let _ = write!(out, ",{}", rec.flow.provenance.index);
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
