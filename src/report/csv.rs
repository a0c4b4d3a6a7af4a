//! `-o csv`: every classified flow, one row each: the Athena column names
//! (see [`crate::flow::COLUMNS`]) then the classification columns. Empty
//! cells are absent values. RFC 4180 quoting.

use std::fmt::Write as _;

use crate::flow::{COLUMNS, Flow};

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

fn push_cell(line: &mut String, first: bool, value: &str) {
    if !first {
        line.push(',');
    }
    if value.contains([',', '"', '\n', '\r']) {
        line.push('"');
        line.push_str(&value.replace('"', "\"\""));
        line.push('"');
    } else {
        line.push_str(value);
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The 29 Athena cells of a flow, in [`COLUMNS`] order.
pub fn athena_cells(f: &Flow) -> [String; 29] {
    [
        opt(f.version),
        opt(f.account_id.as_deref()),
        opt(f.interface_id.as_deref()),
        opt(f.src_addr),
        opt(f.dst_addr),
        opt(f.src_port),
        opt(f.dst_port),
        opt(f.protocol),
        opt(f.packets),
        opt(f.bytes),
        opt(f.start),
        opt(f.end),
        opt(f.action.map(|a| a.as_str())),
        opt(f.log_status.map(|s| s.as_str())),
        opt(f.vpc_id.as_deref()),
        opt(f.subnet_id.as_deref()),
        opt(f.instance_id.as_deref()),
        opt(f.tcp_flags),
        opt(f.flow_type.as_deref()),
        opt(f.pkt_src_addr),
        opt(f.pkt_dst_addr),
        opt(f.region.as_deref()),
        opt(f.az_id.as_deref()),
        opt(f.sublocation_type.as_deref()),
        opt(f.sublocation_id.as_deref()),
        opt(f.pkt_src_aws_service.as_deref()),
        opt(f.pkt_dst_aws_service.as_deref()),
        opt(f.flow_direction.map(|d| d.as_str())),
        opt(f.traffic_path),
    ]
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
    let mut out = String::new();
    let mut line = String::new();
    for (i, c) in COLUMNS.iter().chain(CLASS_COLUMNS.iter()).enumerate() {
        push_cell(&mut line, i == 0, c);
    }
    let _ = writeln!(out, "{line}");
    for rec in &r.flows {
        line.clear();
        for (i, c) in athena_cells(&rec.flow)
            .iter()
            .chain(class_cells(rec).iter())
            .enumerate()
        {
            push_cell(&mut line, i == 0, c);
        }
        let _ = writeln!(out, "{line}");
    }
    out.into_bytes()
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
