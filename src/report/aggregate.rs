//! Rollups with polars: the collector's fine-grained groups (service × host
//! × path × outcome × endpoint × minute) become the verdict table, the
//! endpoint table and the timeline. This file and the `parquet.rs` files are
//! the only places that know polars.

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::flow::{SourceId, Text};

use super::collect::{Counters, Finished, GroupKey};
use super::expect::DnsWant;
use super::{
    DnsRow, EndpointRow, ExpectationResult, Finding, Host, HostResult, InputRow, Mark,
    OutcomeCounts, PathKind, PathRow, PrivateDnsRow, Report, Resolution, Series as TimeSeries,
    Timeline, Verdict, VerdictRow, Violation, Window,
};

#[derive(Debug, thiserror::Error)]
pub enum AggregateError {
    #[error("aggregation failed: {0}")]
    Polars(#[from] PolarsError),
    #[error("aggregation produced an unexpected value in column '{0}'")]
    Column(&'static str),
}

/// Everything besides the flows that goes into a report.
#[derive(Debug, Clone, Default)]
pub struct ReportInput {
    pub finished: Finished,
    /// DNS rows, any order (sorted here).
    pub dns: Vec<DnsRow>,
    pub private_dns: Vec<PrivateDnsRow>,
    pub findings: Vec<Finding>,
    /// Inputs in id order: `inputs[i]` is `SourceId(i)`; `flows` is filled here.
    pub inputs: Vec<InputRow>,
    /// Endpoint creation times and other moments to mark on the charts.
    pub marks: Vec<Mark>,
}

/// At most this many buckets per timeline series.
pub const MAX_BUCKETS: u64 = 120;

/// Bucket widths the timeline may use, in seconds.
const BUCKET_WIDTHS: [u64; 12] = [
    60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400,
];

/// The smallest standard width that fits `span` seconds in [`MAX_BUCKETS`].
pub fn bucket_width(span: u64) -> u64 {
    BUCKET_WIDTHS
        .into_iter()
        .find(|w| span / w < MAX_BUCKETS)
        .unwrap_or_else(|| (span / MAX_BUCKETS).max(1).div_ceil(86_400) * 86_400)
}

/// Build the report: polars rollups, verdicts, expectation results, sorting.
pub fn build_report(input: ReportInput) -> Result<Report, AggregateError> {
    let ReportInput {
        finished,
        mut dns,
        mut private_dns,
        mut findings,
        mut inputs,
        mut marks,
    } = input;

    let hosts = distinct_hosts(&finished.groups);
    let window_first = finished.groups.iter().map(|(_, c)| c.first).min();
    let window_last = finished.groups.iter().map(|(_, c)| c.last).max();
    let width = bucket_width(
        window_last
            .unwrap_or(0)
            .saturating_sub(window_first.unwrap_or(0)),
    );
    let frame = groups_frame(&finished.groups, &hosts, width)?;

    let verdicts = verdict_rows(&frame, &hosts, &finished)?;
    let endpoints = endpoint_rows(&frame)?;
    marks.sort_by(|a, b| (a.time, &a.label, &a.service).cmp(&(b.time, &b.label, &b.service)));
    marks.dedup();
    let timeline = match (window_first, window_last) {
        (Some(_), Some(_)) => Timeline {
            bucket_secs: width,
            series: timeline_series(&frame)?,
            marks,
        },
        _ => Timeline {
            marks,
            ..Timeline::default()
        },
    };

    dns.sort_by(|a, b| {
        (&a.name, &a.host, a.source, a.first).cmp(&(&b.name, &b.host, b.source, b.first))
    });
    private_dns.sort_by(|a, b| a.endpoint_id.cmp(&b.endpoint_id));
    findings.sort();
    findings.dedup();

    for (i, row) in inputs.iter_mut().enumerate() {
        let id = u32::try_from(i).map(SourceId).ok();
        row.flows = id
            .and_then(|id| finished.flows_per_source.get(&id))
            .copied()
            .unwrap_or(0);
    }

    let mut expectations = flow_expectations(&finished);
    expectations.extend(dns_expectations(&finished, &dns));

    Ok(Report {
        window: Window {
            since: finished.expect.since,
            until: finished.expect.until,
            first: window_first,
            last: window_last,
        },
        verdicts,
        endpoints,
        timeline,
        dns,
        private_dns,
        expectations,
        findings,
        inputs,
        flows: finished.kept,
        pricing: None,
        api_calls: Vec::new(),
    })
}

fn distinct_hosts(groups: &[(GroupKey, Counters)]) -> Vec<Host> {
    let mut hosts: Vec<Host> = groups.iter().map(|(k, _)| k.host.clone()).collect();
    hosts.sort();
    hosts.dedup();
    hosts
}

fn groups_frame(
    groups: &[(GroupKey, Counters)],
    hosts: &[Host],
    width: u64,
) -> Result<DataFrame, AggregateError> {
    let n = groups.len();
    let mut service = Vec::with_capacity(n);
    let mut host = Vec::with_capacity(n);
    let mut path = Vec::with_capacity(n);
    let mut outcome = Vec::with_capacity(n);
    let mut endpoint: Vec<Option<&str>> = Vec::with_capacity(n);
    let mut bucket = Vec::with_capacity(n);
    let mut flows = Vec::with_capacity(n);
    let mut packets = Vec::with_capacity(n);
    let mut bytes = Vec::with_capacity(n);
    let mut first = Vec::with_capacity(n);
    let mut last = Vec::with_capacity(n);
    for (k, c) in groups {
        service.push(k.service.as_str());
        let idx = hosts.binary_search(&k.host).unwrap_or(0);
        host.push(u64::try_from(idx).unwrap_or(u64::MAX));
        path.push(k.path.as_str());
        outcome.push(k.outcome.as_str());
        endpoint.push(k.endpoint_id.as_deref());
        // The timeline's bucket (polars' integer floor division needs a
        // feature this build does not carry; the arithmetic is trivial here).
        bucket.push(k.minute - k.minute % width.max(1));
        flows.push(c.flows);
        packets.push(c.packets);
        bytes.push(c.bytes);
        first.push(c.first);
        last.push(c.last);
    }
    let df = DataFrame::new(
        n,
        vec![
            Column::new("service".into(), service),
            Column::new("host".into(), host),
            Column::new("path".into(), path),
            Column::new("outcome".into(), outcome),
            Column::new("endpoint".into(), endpoint),
            Column::new("bucket".into(), bucket),
            Column::new("flows".into(), flows),
            Column::new("packets".into(), packets),
            Column::new("bytes".into(), bytes),
            Column::new("first".into(), first),
            Column::new("last".into(), last),
        ],
    )?;
    Ok(df)
}

fn sum_u64(name: &str) -> Expr {
    col(name).sum().cast(DataType::UInt64).alias(name)
}

fn flows_with_outcome(outcome: &str) -> Expr {
    col("flows")
        .filter(col("outcome").eq(lit(outcome)))
        .sum()
        .cast(DataType::UInt64)
        .alias(outcome)
}

/// Column `name` as u64 values (nulls are an error).
fn u64s(df: &DataFrame, name: &'static str) -> Result<Vec<u64>, AggregateError> {
    let c = df.column(name)?.cast(&DataType::UInt64)?;
    c.u64()?
        .iter()
        .map(|v| v.ok_or(AggregateError::Column(name)))
        .collect()
}

fn strs(df: &DataFrame, name: &'static str) -> Result<Vec<Option<String>>, AggregateError> {
    Ok(df
        .column(name)?
        .str()?
        .iter()
        .map(|v| v.map(str::to_owned))
        .collect())
}

fn req(v: Option<&Option<String>>, name: &'static str) -> Result<String, AggregateError> {
    v.cloned().flatten().ok_or(AggregateError::Column(name))
}

fn path_of(s: &str) -> Result<PathKind, AggregateError> {
    PathKind::parse(s).ok_or(AggregateError::Column("path"))
}

fn verdict_rows(
    frame: &DataFrame,
    hosts: &[Host],
    finished: &Finished,
) -> Result<Vec<VerdictRow>, AggregateError> {
    let df = frame
        .clone()
        .lazy()
        .group_by([col("service"), col("host"), col("path")])
        .agg([
            sum_u64("flows"),
            sum_u64("packets"),
            sum_u64("bytes"),
            col("first").min().alias("first"),
            col("last").max().alias("last"),
            flows_with_outcome("answered"),
            flows_with_outcome("unanswered"),
            flows_with_outcome("rejected"),
            flows_with_outcome("unknown"),
        ])
        .sort(["service", "host", "path"], SortMultipleOptions::default())
        .collect()?;

    let service = strs(&df, "service")?;
    let host = u64s(&df, "host")?;
    let path = strs(&df, "path")?;
    let flows = u64s(&df, "flows")?;
    let packets = u64s(&df, "packets")?;
    let bytes = u64s(&df, "bytes")?;
    let first = u64s(&df, "first")?;
    let last = u64s(&df, "last")?;
    let answered = u64s(&df, "answered")?;
    let unanswered = u64s(&df, "unanswered")?;
    let rejected = u64s(&df, "rejected")?;
    let unknown = u64s(&df, "unknown")?;

    let mut by_key: BTreeMap<(String, u64), Vec<PathRow>> = BTreeMap::new();
    for i in 0..df.height() {
        let svc = req(service.get(i), "service")?;
        let h = host.get(i).copied().ok_or(AggregateError::Column("host"))?;
        let p = path_of(&req(path.get(i), "path")?)?;
        let at = |v: &Vec<u64>, name: &'static str| {
            v.get(i).copied().ok_or(AggregateError::Column(name))
        };
        let host_value = usize::try_from(h)
            .ok()
            .and_then(|h| hosts.get(h))
            .ok_or(AggregateError::Column("host"))?;
        let kept = finished
            .evidence
            .get(&(Text::from(svc.as_str()), host_value.clone(), p));
        let evidence = kept
            .map(|pe| {
                pe.lines
                    .iter()
                    .map(|(text, t)| super::EvidenceLine {
                        text: text.clone(),
                        flows: t.flows,
                        examples: t
                            .examples
                            .iter()
                            .map(|&e| super::collect::example_name(&finished.source_names, e))
                            .collect(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let examples = kept.map(|pe| pe.examples.clone()).unwrap_or_default();
        by_key.entry((svc, h)).or_default().push(PathRow {
            path: p,
            flows: at(&flows, "flows")?,
            packets: at(&packets, "packets")?,
            bytes: at(&bytes, "bytes")?,
            first: at(&first, "first")?,
            last: at(&last, "last")?,
            outcomes: OutcomeCounts {
                answered: at(&answered, "answered")?,
                unanswered: at(&unanswered, "unanswered")?,
                rejected: at(&rejected, "rejected")?,
                unknown: at(&unknown, "unknown")?,
            },
            calls: 0,
            evidence,
            examples,
        });
    }

    let mut rows = Vec::with_capacity(by_key.len());
    for ((svc, h), mut paths) in by_key {
        paths.sort_by_key(|p| p.path);
        let host = usize::try_from(h)
            .ok()
            .and_then(|h| hosts.get(h))
            .cloned()
            .ok_or(AggregateError::Column("host"))?;
        let verdict = Verdict::decide(&paths);
        let (last_public, first_private) = if verdict == Verdict::Mixed {
            (
                paths
                    .iter()
                    .filter(|p| p.path.is_public())
                    .map(|p| p.last)
                    .max(),
                paths
                    .iter()
                    .filter(|p| p.path.is_private() && p.outcomes.answered > 0)
                    .map(|p| p.first)
                    .min(),
            )
        } else {
            (None, None)
        };
        rows.push(VerdictRow {
            service: Text::from(svc),
            host,
            verdict,
            paths,
            last_public,
            first_private,
        });
    }
    rows.sort_by(|a, b| (&a.service, &a.host).cmp(&(&b.service, &b.host)));
    Ok(rows)
}

fn endpoint_rows(frame: &DataFrame) -> Result<Vec<EndpointRow>, AggregateError> {
    let df = frame
        .clone()
        .lazy()
        .filter(col("endpoint").is_not_null())
        .group_by([col("endpoint"), col("path"), col("service")])
        .agg([
            col("host").n_unique().cast(DataType::UInt64).alias("hosts"),
            sum_u64("flows"),
            sum_u64("bytes"),
            col("first").min().alias("first"),
            col("last").max().alias("last"),
        ])
        .sort(
            ["endpoint", "path", "service"],
            SortMultipleOptions::default(),
        )
        .collect()?;
    let endpoint = strs(&df, "endpoint")?;
    let path = strs(&df, "path")?;
    let service = strs(&df, "service")?;
    let hosts = u64s(&df, "hosts")?;
    let flows = u64s(&df, "flows")?;
    let bytes = u64s(&df, "bytes")?;
    let first = u64s(&df, "first")?;
    let last = u64s(&df, "last")?;
    let mut rows = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let at = |v: &Vec<u64>, name: &'static str| {
            v.get(i).copied().ok_or(AggregateError::Column(name))
        };
        rows.push(EndpointRow {
            endpoint_id: Text::from(req(endpoint.get(i), "endpoint")?),
            path: path_of(&req(path.get(i), "path")?)?,
            service: Text::from(req(service.get(i), "service")?),
            hosts: at(&hosts, "hosts")?,
            flows: at(&flows, "flows")?,
            bytes: at(&bytes, "bytes")?,
            first: at(&first, "first")?,
            last: at(&last, "last")?,
        });
    }
    rows.sort_by(|a, b| {
        (&a.endpoint_id, a.path, &a.service).cmp(&(&b.endpoint_id, b.path, &b.service))
    });
    Ok(rows)
}

fn timeline_series(frame: &DataFrame) -> Result<Vec<TimeSeries>, AggregateError> {
    let df = frame
        .clone()
        .lazy()
        .group_by([col("service"), col("path"), col("bucket")])
        .agg([sum_u64("bytes")])
        .sort(
            ["service", "path", "bucket"],
            SortMultipleOptions::default(),
        )
        .collect()?;
    let service = strs(&df, "service")?;
    let path = strs(&df, "path")?;
    let bucket = u64s(&df, "bucket")?;
    let bytes = u64s(&df, "bytes")?;
    let mut series: BTreeMap<(String, PathKind), Vec<(u64, u64)>> = BTreeMap::new();
    for i in 0..df.height() {
        let key = (
            req(service.get(i), "service")?,
            path_of(&req(path.get(i), "path")?)?,
        );
        let b = bucket
            .get(i)
            .copied()
            .ok_or(AggregateError::Column("bucket"))?;
        let v = bytes
            .get(i)
            .copied()
            .ok_or(AggregateError::Column("bytes"))?;
        series.entry(key).or_default().push((b, v));
    }
    Ok(series
        .into_iter()
        .map(|((service, path), mut points)| {
            points.sort_unstable();
            TimeSeries {
                service: Text::from(service),
                path,
                points,
            }
        })
        .collect())
}

fn flow_expectations(finished: &Finished) -> Vec<ExpectationResult> {
    let mut out = Vec::new();
    for (i, e) in finished.expect.flows.iter().enumerate() {
        let per_host = finished.expectations.get(i);
        let mut hosts = Vec::new();
        for (host, t) in per_host.into_iter().flatten() {
            hosts.push(HostResult {
                host: Some(host.clone()),
                met: t.violations_total == 0,
                flows: t.flows,
                violations_total: t.violations_total,
                violations: t.violations.items.clone(),
                note: None,
            });
        }
        if hosts.is_empty() {
            // "Every matching flow …" holds when nothing matched; the note
            // makes the missing evidence visible in every output.
            let what = if e.want.names_a_path() {
                "nothing shows the path"
            } else {
                "nothing to contradict it"
            };
            hosts.push(HostResult {
                host: None,
                met: true,
                flows: 0,
                violations_total: 0,
                violations: vec![],
                note: Some(format!("no {} traffic observed: {what}", e.service)),
            });
        }
        out.push(ExpectationResult {
            expect: e.to_string(),
            origin: e.origin.clone(),
            met: hosts.iter().all(|h| h.met),
            hosts,
        });
    }
    out
}

fn dns_expectations(finished: &Finished, dns: &[DnsRow]) -> Vec<ExpectationResult> {
    let mut out = Vec::new();
    for e in &finished.expect.dns {
        let mut per_host: BTreeMap<&Host, HostResult> = BTreeMap::new();
        // Endpoint-specific names resolve privately by construction: the
        // expectation is about the service's own names.
        for row in dns.iter().filter(|r| {
            !r.endpoint_specific
                && r.service
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case(&e.service))
        }) {
            let entry = per_host.entry(&row.host).or_insert_with(|| HostResult {
                host: Some(row.host.clone()),
                met: true,
                flows: 0,
                violations_total: 0,
                violations: vec![],
                note: None,
            });
            entry.flows += row.responses;
            let bad: Vec<String> = row
                .answers
                .iter()
                .filter(|a| match e.want {
                    DnsWant::Private => matches!(a.resolution, Resolution::Public),
                    DnsWant::Public => !matches!(a.resolution, Resolution::Public),
                })
                .map(|a| a.address.to_string())
                .collect();
            if !bad.is_empty() {
                entry.met = false;
                entry.violations_total += 1;
                if entry.violations.len() < finished.examples {
                    let what = match e.want {
                        DnsWant::Private => "public",
                        DnsWant::Public => "private",
                    };
                    entry.violations.push(Violation {
                        time: row.first,
                        host: row.host.clone(),
                        destination: format!("{} -> {}", row.name, bad.join(", ")),
                        path: None,
                        outcome: None,
                        evidence: format!(
                            "resolved to {what} addresses ({} responses)",
                            row.responses
                        ),
                        source: if row.source == super::DNS_SOURCE_CAPTURE {
                            "dns".to_owned()
                        } else {
                            format!("dns ({})", row.source)
                        },
                    });
                }
            }
        }
        let mut hosts: Vec<HostResult> = per_host.into_values().collect();
        if hosts.is_empty() {
            hosts.push(HostResult {
                host: None,
                met: true,
                flows: 0,
                violations_total: 0,
                violations: vec![],
                note: Some(format!(
                    "no DNS answer observed for {} names: nothing to contradict it",
                    e.service
                )),
            });
        }
        out.push(ExpectationResult {
            expect: e.to_string(),
            origin: e.origin.clone(),
            met: hosts.iter().all(|h| h.met),
            hosts,
        });
    }
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

    #[test]
    fn bucket_width_keeps_the_series_short() {
        assert_eq!(bucket_width(0), 60);
        assert_eq!(bucket_width(3_600), 60);
        assert_eq!(bucket_width(7_200 - 60), 60);
        assert_eq!(bucket_width(7_200), 120);
        assert_eq!(bucket_width(86_400), 900);
        for span in [1, 999, 50_000, 1_000_000, 100_000_000] {
            assert!(span / bucket_width(span) <= MAX_BUCKETS, "span {span}");
        }
    }

    #[test]
    fn build_report_rolls_up_the_fixture_groups() {
        let report = super::super::fixture::report();
        // The fixture is built through build_report: check the rollups.
        let s3_public = report
            .verdicts
            .iter()
            .find(|v| v.service == "s3" && v.host.instance_id.as_deref() == Some("i-0public"))
            .unwrap();
        assert_eq!(s3_public.verdict, Verdict::Mixed);
        let igw = s3_public
            .paths
            .iter()
            .find(|p| p.path == PathKind::InternetGateway)
            .unwrap();
        assert_eq!(igw.flows, 3);
        assert_eq!(igw.bytes, 3 * 1_500);
        assert!(s3_public.last_public.unwrap() < s3_public.first_private.unwrap());
        let s3_private = report
            .verdicts
            .iter()
            .find(|v| v.service == "s3" && v.host.instance_id.as_deref() == Some("i-0private"))
            .unwrap();
        assert_eq!(s3_private.verdict, Verdict::Private);
        assert!(report.timeline.bucket_secs >= 60);
        let total: u64 = report
            .timeline
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .sum();
        let flows_total: u64 = report
            .verdicts
            .iter()
            .flat_map(|v| v.paths.iter().map(|p| p.bytes))
            .sum();
        assert_eq!(total, flows_total, "the timeline carries every byte");
        assert!(!report.endpoints.is_empty());
        assert!(report.expectations.iter().any(|e| !e.met));
    }
}
