//! An engine's result read back (`privpath report`): the verdict table
//! (and optionally the findings query) as CSV — the way Athena writes
//! query results to S3 — or Parquet, turned into the same [`Report`] the
//! native audit builds, so every renderer, `--expect` and the exit codes
//! work unchanged.
//!
//! Each verdict row becomes the collector's groups (one per outcome with
//! flows), its evidence and its expectation tallies; the rollups, verdicts,
//! endpoint table and timeline are then built by
//! [`crate::report::aggregate::build_report`], as for `audit`. An
//! expectation's offending flows are named per row (`N flows`), not one by
//! one: the rows are what the engine returned.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use crate::flow::{SourceId, Text};
use crate::report::aggregate::{AggregateError, ReportInput, build_report};
use crate::report::collect::{Counters, EvidenceTally, Finished, GroupKey, HostTally, PathKept};
use crate::report::expect::ExpectSet;
use crate::report::{Finding, FindingKind, Host, InputRow, Outcome, PathKind, Report, Violation};

/// A table read from a result file: column names and rows of optional text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResultTable {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

/// Why a result file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ResultError {
    #[error("{path}: {message}")]
    Unreadable { path: String, message: String },
}

/// Parse CSV (RFC 4180; an empty unquoted cell is null, `""` an empty string).
pub fn parse_csv(text: &str, path: &str) -> Result<ResultTable, ResultError> {
    let mut records: Vec<Vec<Option<String>>> = Vec::new();
    let mut row: Vec<Option<String>> = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut in_quotes = false;
    let mut chars = text.chars().peekable();
    let mut any = false;
    let end_cell = |row: &mut Vec<Option<String>>, cell: &mut String, quoted: &mut bool| {
        let v = std::mem::take(cell);
        row.push(if v.is_empty() && !*quoted {
            None
        } else {
            Some(v)
        });
        *quoted = false;
    };
    while let Some(c) = chars.next() {
        any = true;
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    cell.push('"');
                } else {
                    in_quotes = false;
                }
            } else {
                cell.push(c);
            }
            continue;
        }
        match c {
            '"' => {
                in_quotes = true;
                quoted = true;
            }
            ',' => end_cell(&mut row, &mut cell, &mut quoted),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                end_cell(&mut row, &mut cell, &mut quoted);
                records.push(std::mem::take(&mut row));
                any = false;
            }
            c => cell.push(c),
        }
    }
    if in_quotes {
        return Err(ResultError::Unreadable {
            path: path.to_owned(),
            message: format!("unterminated quoted cell in record {}", records.len() + 1),
        });
    }
    if any {
        end_cell(&mut row, &mut cell, &mut quoted);
        records.push(row);
    }
    let mut it = records.into_iter();
    let columns = it
        .next()
        .ok_or_else(|| ResultError::Unreadable {
            path: path.to_owned(),
            message: "empty file (no header line)".to_owned(),
        })?
        .into_iter()
        .map(|c| c.unwrap_or_default().trim().to_ascii_lowercase())
        .collect();
    Ok(ResultTable {
        columns,
        rows: it.collect(),
    })
}

/// Read a Parquet result: every column as text.
pub fn parse_parquet(bytes: Vec<u8>, path: &str) -> Result<ResultTable, ResultError> {
    use polars::prelude::{DataType, ParquetReader, SerReader};
    let bad = |m: String| ResultError::Unreadable {
        path: path.to_owned(),
        message: crate::error::sanitize(&m, 300),
    };
    let df = ParquetReader::new(std::io::Cursor::new(bytes))
        .finish()
        .map_err(|e| bad(format!("unreadable parquet: {e}")))?;
    let mut columns = Vec::new();
    let mut cols: Vec<Vec<Option<String>>> = Vec::new();
    for c in df.columns() {
        columns.push(c.name().as_str().to_ascii_lowercase());
        let s = c
            .cast(&DataType::String)
            .map_err(|e| bad(format!("column {}: {e}", c.name())))?;
        let s = s
            .str()
            .map_err(|e| bad(format!("column {}: {e}", c.name())))?
            .iter()
            .map(|v| v.map(str::to_owned))
            .collect();
        cols.push(s);
    }
    let rows = (0..df.height())
        .map(|i| cols.iter().map(|c| c.get(i).cloned().flatten()).collect())
        .collect();
    Ok(ResultTable { columns, rows })
}

/// Read one result file by its content (Parquet's `PAR1`, else CSV text).
pub fn read_file(path: &Path) -> Result<ResultTable, ResultError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ResultError::Unreadable {
        path: name.clone(),
        message: e.to_string().to_lowercase(),
    })?;
    if bytes.starts_with(b"PAR1") {
        return parse_parquet(bytes, &name);
    }
    let text = String::from_utf8(bytes).map_err(|e| ResultError::Unreadable {
        path: name.clone(),
        message: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
    })?;
    parse_csv(&text, &name)
}

/// Offending rows named per expectation and host (as `--examples` does for flows).
const EXAMPLES: usize = 20;

/// One verdict row, typed.
#[derive(Debug, Clone)]
struct Row {
    service: Text,
    host: Host,
    verdict: Option<String>,
    path: PathKind,
    flows: u64,
    packets: u64,
    bytes: u64,
    first: u64,
    last: u64,
    counts: [(Outcome, u64); 4],
    endpoint_id: Option<Text>,
    evidence: Option<String>,
}

fn col(t: &ResultTable, name: &str) -> Option<usize> {
    t.columns.iter().position(|c| c == name)
}

/// A row's fields by name; a parse problem names the column.
fn typed_row(t: &ResultTable, r: &[Option<String>]) -> Result<Row, String> {
    let get = |name: &str| -> Option<&str> {
        col(t, name)
            .and_then(|i| r.get(i))
            .and_then(|v| v.as_deref())
            .filter(|v| !v.is_empty())
    };
    let num = |name: &str| -> Result<u64, String> {
        match get(name) {
            None => Ok(0),
            Some(v) => v
                .parse::<u64>()
                .or_else(|_| v.parse::<f64>().map(|f| f as u64))
                .map_err(|_| {
                    format!(
                        "column {name}: '{}' is not a count",
                        crate::error::sanitize(v, 40)
                    )
                }),
        }
    };
    let service = get("service").ok_or("column service is empty")?;
    let path_s = get("path").ok_or("column path is empty")?;
    let path = PathKind::parse(path_s).ok_or_else(|| {
        format!(
            "column path: unknown path '{}'",
            crate::error::sanitize(path_s, 40)
        )
    })?;
    // The host's lists (the primary first), else its primary values.
    let list = |many: &str, one: &str| -> Vec<String> {
        get(many)
            .or_else(|| get(one))
            .map(|v| v.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default()
    };
    let mut addresses = Vec::new();
    for a in list("addresses", "address") {
        addresses.push(a.parse::<IpAddr>().map_err(|_| {
            format!(
                "column addresses: '{}' is not an address",
                crate::error::sanitize(&a, 60)
            )
        })?);
    }
    let flows = num("flows")?;
    let has_counts = ["answered", "unanswered", "rejected", "unknown"]
        .iter()
        .any(|c| col(t, c).is_some());
    let counts = if has_counts {
        [
            (Outcome::Answered, num("answered")?),
            (Outcome::Unanswered, num("unanswered")?),
            (Outcome::Rejected, num("rejected")?),
            (Outcome::Unknown, num("unknown")?),
        ]
    } else {
        // Only the summary word: all flows had that outcome (`mixed`: unknown).
        let o = match get("outcome") {
            Some("answered") => Outcome::Answered,
            Some("unanswered") => Outcome::Unanswered,
            Some("rejected") => Outcome::Rejected,
            _ => Outcome::Unknown,
        };
        let mut c = [
            (Outcome::Answered, 0),
            (Outcome::Unanswered, 0),
            (Outcome::Rejected, 0),
            (Outcome::Unknown, 0),
        ];
        for x in &mut c {
            if x.0 == o {
                x.1 = flows;
            }
        }
        c
    };
    Ok(Row {
        service: Text::from(service.to_ascii_lowercase()),
        host: Host {
            instance_id: get("instance_id").map(Text::from),
            enis: list("enis", "eni").into_iter().map(Text::from).collect(),
            addresses: addresses.into(),
            subnet_ids: list("subnet_ids", "subnet_id")
                .into_iter()
                .map(Text::from)
                .collect(),
        },
        verdict: get("verdict").map(str::to_owned),
        path,
        flows,
        packets: num("packets")?,
        bytes: num("bytes")?,
        first: num("first")?,
        last: num("last")?,
        counts,
        endpoint_id: get("endpoint_id").map(Text::from),
        evidence: get("evidence").map(str::to_owned),
    })
}

/// Build the report from the result files (`(name, table)` each) and the
/// expectations, exactly as `audit` builds its own.
pub fn report(
    tables: &[(String, Result<ResultTable, ResultError>)],
    expect: &ExpectSet,
) -> Result<Report, AggregateError> {
    let mut groups: BTreeMap<GroupKey, Counters> = BTreeMap::new();
    let mut evidence: BTreeMap<(Text, Host, PathKind), PathKept> = BTreeMap::new();
    let mut tallies: Vec<BTreeMap<Host, HostTally>> = vec![BTreeMap::new(); expect.flows.len()];
    let mut flows_per_source = BTreeMap::new();
    let mut findings: Vec<Finding> = Vec::new();
    let mut inputs = Vec::new();
    let mut claimed: BTreeMap<(Text, Host), String> = BTreeMap::new();
    let mut outside = 0u64;
    for (si, (name, table)) in tables.iter().enumerate() {
        let source = SourceId(u32::try_from(si).unwrap_or(u32::MAX));
        let mut input = InputRow {
            path: name.clone(),
            kind: "sql-result".to_owned(),
            records: 0,
            packets: 0,
            flows: 0,
            skipped: 0,
            nodata: 0,
            skipdata: 0,
            duplicates: 0,
            error: None,
        };
        let t = match table {
            Ok(t) => t,
            Err(e) => {
                input.error = Some(e.to_string());
                findings.push(Finding {
                    kind: FindingKind::InputError,
                    source: Some(name.clone()),
                    message: e.to_string(),
                    count: 1,
                });
                inputs.push(input);
                continue;
            }
        };
        input.records = u64::try_from(t.rows.len()).unwrap_or(u64::MAX);
        // The findings query: kind, message, count.
        if col(t, "message").is_some() && col(t, "service").is_none() {
            input.kind = "sql-findings".to_owned();
            for r in &t.rows {
                let cell = |n: &str| col(t, n).and_then(|i| r.get(i)).cloned().flatten();
                let kind = match cell("kind").as_deref() {
                    Some("traffic-path-disagreement") => FindingKind::TrafficPathDisagreement,
                    _ => FindingKind::Note,
                };
                findings.push(Finding {
                    kind,
                    source: None,
                    message: cell("message").unwrap_or_default(),
                    count: cell("count").and_then(|c| c.parse().ok()).unwrap_or(0),
                });
            }
            inputs.push(input);
            continue;
        }
        input.kind = "sql-verdicts".to_owned();
        let mut bad_first: Option<String> = None;
        for (ri, r) in t.rows.iter().enumerate() {
            let row = match typed_row(t, r) {
                Ok(row) => row,
                Err(e) => {
                    input.skipped += 1;
                    bad_first.get_or_insert_with(|| format!("{name}: row {}: {e}", ri + 2));
                    continue;
                }
            };
            *flows_per_source.entry(source).or_insert(0) += row.flows;
            if let Some(v) = &row.verdict {
                claimed.insert((row.service.clone(), row.host.clone()), v.clone());
            }
            add_row(
                &row,
                expect,
                &mut groups,
                &mut tallies,
                &mut outside,
                name,
                ri,
            );
            if let Some(ev) = &row.evidence {
                evidence
                    .entry((row.service.clone(), row.host.clone(), row.path))
                    .or_default()
                    .lines
                    .entry(ev.clone())
                    .or_insert_with(EvidenceTally::default)
                    .flows += row.flows;
            }
        }
        if let Some(msg) = bad_first {
            findings.push(Finding {
                kind: FindingKind::BadRecords,
                source: Some(name.clone()),
                message: format!("{} rows could not be read; first: {msg}", input.skipped),
                count: input.skipped,
            });
        }
        inputs.push(input);
    }
    if outside > 0 {
        findings.push(Finding {
            kind: FindingKind::Note,
            source: None,
            message: "result rows entirely outside --since/--until (not checked against the expectations)"
                .to_owned(),
            count: outside,
        });
    }
    for t in tallies.iter_mut().flat_map(|m| m.values_mut()) {
        t.violations.cut(EXAMPLES);
    }
    let finished = Finished {
        examples: EXAMPLES,
        expect: expect.clone(),
        groups: groups.into_iter().collect(),
        evidence,
        source_names: Vec::new(),
        expectations: tallies,
        flows_per_source,
        outside_window: outside,
        status_rows: 0,
        kept: Vec::new(),
    };
    let mut report = build_report(ReportInput {
        finished,
        dns: Vec::new(),
        private_dns: Vec::new(),
        findings,
        inputs,
        marks: Vec::new(),
    })?;
    // The engine's verdict column against the one rebuilt from its counts.
    let mut differ = Vec::new();
    for v in &report.verdicts {
        if let Some(c) = claimed.get(&(v.service.clone(), v.host.clone())) {
            if c != v.verdict.as_str() {
                differ.push(format!(
                    "{} {}: the engine said {c}, its counts say {}",
                    v.service,
                    v.host.label(),
                    v.verdict
                ));
            }
        }
    }
    if let Some(first) = differ.first() {
        report.findings.push(Finding {
            kind: FindingKind::Note,
            source: None,
            message: format!("verdict column disagrees with the row counts; first: {first}"),
            count: u64::try_from(differ.len()).unwrap_or(u64::MAX),
        });
        report.findings.sort();
    }
    Ok(report)
}

fn add_row(
    row: &Row,
    expect: &ExpectSet,
    groups: &mut BTreeMap<GroupKey, Counters>,
    tallies: &mut [BTreeMap<Host, HostTally>],
    outside: &mut u64,
    name: &str,
    ri: usize,
) {
    // Packets and bytes go with the first outcome that has flows (the
    // rollups per path only ever sum them).
    let mut carried = false;
    for &(o, n) in &row.counts {
        if n == 0 {
            continue;
        }
        let key = GroupKey {
            service: row.service.clone(),
            host: row.host.clone(),
            path: row.path,
            outcome: o,
            endpoint_id: row.endpoint_id.clone().filter(|_| row.path.is_endpoint()),
            minute: row.first - row.first % crate::report::collect::MINUTE,
        };
        let c = Counters {
            flows: n,
            packets: if carried { 0 } else { row.packets },
            bytes: if carried { 0 } else { row.bytes },
            first: row.first,
            last: row.last.max(row.first),
        };
        carried = true;
        let g = groups.entry(key).or_insert(Counters {
            flows: 0,
            packets: 0,
            bytes: 0,
            first: c.first,
            last: c.last,
        });
        g.flows += c.flows;
        g.packets += c.packets;
        g.bytes += c.bytes;
        g.first = g.first.min(c.first);
        g.last = g.last.max(c.last);
    }
    let in_window =
        expect.since.is_none_or(|s| row.last >= s) && expect.until.is_none_or(|u| row.first <= u);
    if !in_window {
        *outside += 1;
        return;
    }
    for (i, e) in expect.flows.iter().enumerate() {
        if !e.matches(&row.service, &row.host) {
            continue;
        }
        let Some(per_host) = tallies.get_mut(i) else {
            continue;
        };
        let t = per_host.entry(row.host.clone()).or_default();
        t.flows += row.counts.iter().map(|c| c.1).sum::<u64>();
        for &(o, n) in &row.counts {
            if n == 0 || !e.violated_by(row.path, o) {
                continue;
            }
            t.violations_total += n;
            t.violations.push(
                Violation {
                    time: row.first,
                    host: row.host.clone(),
                    destination: format!("{n} {} flows", o.as_str()),
                    path: Some(row.path),
                    outcome: Some(o),
                    evidence: row.evidence.clone().unwrap_or_default(),
                    source: format!("{name}:{}", ri + 2),
                },
                EXAMPLES,
            );
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn csv_reads_athena_quoting() {
        let t = parse_csv(
            "\"service\",\"address\",\"flows\"\n\"s3\",,\"3\"\r\n\"a \"\"b\"\", c\",\"\",\"1\"\n",
            "x",
        )
        .unwrap();
        assert_eq!(t.columns, vec!["service", "address", "flows"]);
        assert_eq!(t.rows[0], vec![Some("s3".into()), None, Some("3".into())]);
        assert_eq!(t.rows[1][0].as_deref(), Some("a \"b\", c"));
        assert_eq!(t.rows[1][1].as_deref(), Some(""));
        assert!(parse_csv("\"a", "x").is_err());
        assert!(parse_csv("", "x").is_err());
    }

    fn table(rows: &[&str]) -> ResultTable {
        let mut s = crate::sql::VERDICT_COLUMNS.join(",");
        s.push('\n');
        for r in rows {
            s.push_str(r);
            s.push('\n');
        }
        parse_csv(&s, "t.csv").unwrap()
    }

    #[test]
    fn rows_become_the_audit_report_and_expectations() {
        let t = table(&[
            "s3,i-1,eni-1,10.0.0.10,mixed,gateway-endpoint,3,30,3000,100,160,answered,subnet-1,3,0,0,0,vpce-1,eni-1,10.0.0.10 2406:da1c::10,subnet-1,ev a",
            "s3,i-1,eni-1,10.0.0.10,mixed,internet-gateway,2,20,2000,50,70,mixed,subnet-1,1,1,0,0,,eni-1,10.0.0.10 2406:da1c::10,subnet-1,ev b",
            "s3,i-2,eni-2,10.0.1.20,private,gateway-endpoint,1,1,1,100,100,answered,subnet-2,1,0,0,0,vpce-1,eni-2,10.0.1.20,subnet-2,ev c",
            "s3,i-3,eni-3,bad-address,private,gateway-endpoint,1,1,1,100,100,answered,subnet-2,1,0,0,0,vpce-1,eni-3,bad-address,subnet-2,ev c",
        ]);
        let expect = ExpectSet::parse_cli(
            &[
                "s3=gateway-endpoint".into(),
                "s3@2406:da1c::10=private".into(),
            ],
            &[],
            None,
            None,
        )
        .unwrap();
        let r = report(&[("t.csv".into(), Ok(t))], &expect).unwrap();
        assert_eq!(r.verdicts.len(), 2);
        assert_eq!(r.verdicts[0].verdict.as_str(), "mixed");
        assert_eq!(r.verdicts[0].paths.len(), 2);
        assert_eq!(r.verdicts[0].paths[1].outcomes.unanswered, 1);
        assert_eq!(
            r.verdicts[0].host.addresses.len(),
            2,
            "every address of the host"
        );
        assert_eq!(r.verdicts[1].verdict.as_str(), "private");
        assert!(!r.all_met());
        assert_eq!(r.expectations[0].violations_total(), 2);
        // Scoped by the host's IPv6 address: its internet-gateway flows.
        assert_eq!(r.expectations[1].violations_total(), 2);
        assert_eq!(r.inputs[0].skipped, 1);
        assert_eq!(r.inputs[0].flows, 6);
        assert_eq!(r.endpoints.len(), 1);
        assert!(r.findings.iter().any(|f| f.kind == FindingKind::BadRecords));
    }
}
