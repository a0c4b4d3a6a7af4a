//! The row model the people-facing renderers share (HTML, Markdown, the
//! terminal table, JUnit): evidence grouped by what it shows, offending flows
//! as cells, totals per path, input names shortened. Each renderer only adds
//! its own syntax and escaping (hyperfine's exporters share a table builder
//! the same way).

use std::collections::BTreeMap;

use super::{PathKind, PathRow, Report, Verdict, VerdictRow, Violation, format_time};

/// What a piece of evidence shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EvidenceKind {
    /// Route table, route, target; the endpoint ENI; no route.
    Route,
    /// How the destination was tied to a service.
    Service,
    /// The flow log's own `traffic-path` against the replay.
    TrafficPath,
    /// Which topology snapshot and endpoint creation times applied.
    TimeGate,
    /// API calls CloudTrail recorded on this path (no flows of their own).
    ApiCalls,
}

impl EvidenceKind {
    pub const ALL: [EvidenceKind; 5] = [
        EvidenceKind::Route,
        EvidenceKind::Service,
        EvidenceKind::TrafficPath,
        EvidenceKind::TimeGate,
        EvidenceKind::ApiCalls,
    ];

    pub fn title(self) -> &'static str {
        match self {
            EvidenceKind::Route => "route decision",
            EvidenceKind::Service => "service attribution",
            EvidenceKind::TrafficPath => "traffic-path cross-check",
            EvidenceKind::TimeGate => "time gate",
            EvidenceKind::ApiCalls => "CloudTrail API calls",
        }
    }

    /// Which kind one `; `-separated part of an evidence line is.
    pub fn of(part: &str) -> EvidenceKind {
        if part.starts_with("CloudTrail: ") {
            EvidenceKind::ApiCalls
        } else if part.starts_with("service ") {
            EvidenceKind::Service
        } else if part.starts_with("traffic-path ") {
            EvidenceKind::TrafficPath
        } else if part.starts_with("before ")
            || part.starts_with("window straddles")
            || part.starts_with("no flow time")
            || part.starts_with("snapshot ")
        {
            EvidenceKind::TimeGate
        } else {
            EvidenceKind::Route
        }
    }
}

/// One distinct piece of evidence, the flows it covers and where to see some.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceItem {
    pub text: String,
    pub flows: u64,
    /// `file:line`, sorted, at most a few.
    pub examples: Vec<String>,
}

/// A path row's evidence grouped by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvidenceGroups {
    /// In [`EvidenceKind::ALL`] order, kinds with no evidence left out; items
    /// by flows (most first), then text.
    pub groups: Vec<(EvidenceKind, Vec<EvidenceItem>)>,
    /// Flows whose evidence line was not kept (beyond the distinct lines the
    /// report holds per row).
    pub untold: u64,
}

/// How many examples an item shows.
pub const EXAMPLES: usize = 3;

/// Split every evidence line of `p` into its parts and count each distinct
/// part once per flow it appeared on.
pub fn evidence_groups(p: &PathRow) -> EvidenceGroups {
    let mut by: BTreeMap<(EvidenceKind, &str), (u64, Vec<&str>)> = BTreeMap::new();
    let mut told = 0u64;
    for line in &p.evidence {
        told = told.saturating_add(line.flows);
        for part in line
            .text
            .split("; ")
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let e = by.entry((EvidenceKind::of(part), part)).or_default();
            e.0 = e.0.saturating_add(line.flows);
            e.1.extend(line.examples.iter().map(String::as_str));
        }
    }
    let mut groups: Vec<(EvidenceKind, Vec<EvidenceItem>)> = Vec::new();
    for ((kind, text), (flows, mut examples)) in by {
        examples.sort_unstable();
        examples.dedup();
        examples.truncate(EXAMPLES);
        let item = EvidenceItem {
            text: text.to_owned(),
            flows,
            examples: examples.into_iter().map(str::to_owned).collect(),
        };
        match groups.last_mut() {
            Some((k, items)) if *k == kind => items.push(item),
            _ => groups.push((kind, vec![item])),
        }
    }
    for (_, items) in &mut groups {
        items.sort_by(|a, b| b.flows.cmp(&a.flows).then_with(|| a.text.cmp(&b.text)));
    }
    EvidenceGroups {
        groups,
        untold: p.flows.saturating_sub(told),
    }
}

/// An offending flow as the cells every listing shows, unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViolationCells {
    pub time: String,
    pub host: String,
    pub destination: String,
    pub path: &'static str,
    pub outcome: &'static str,
    pub evidence: String,
    pub source: String,
}

pub const VIOLATION_HEADER: [&str; 7] = [
    "Time",
    "Host",
    "Destination",
    "Path",
    "Outcome",
    "Evidence",
    "Source",
];

impl ViolationCells {
    pub fn of(v: &Violation) -> ViolationCells {
        ViolationCells {
            time: format_time(v.time),
            host: v.host.label(),
            destination: v.destination.clone(),
            path: v.path.map_or("-", |p| p.as_str()),
            outcome: v.outcome.map_or("-", |x| x.as_str()),
            evidence: v.evidence.clone(),
            source: v.source.clone(),
        }
    }

    /// In [`VIOLATION_HEADER`] order.
    pub fn cells(&self) -> [&str; 7] {
        [
            &self.time,
            &self.host,
            &self.destination,
            self.path,
            self.outcome,
            &self.evidence,
            &self.source,
        ]
    }

    /// One plain line (JUnit bodies, terminals).
    pub fn line(&self) -> String {
        format!(
            "{}  {}  {}  {} {}  {}  [{}]",
            self.time,
            self.host,
            self.destination,
            self.path,
            self.outcome,
            self.evidence,
            self.source
        )
    }
}

/// "… and N more" when a listing shows fewer than the total.
pub fn more(total: u64, shown: usize) -> Option<u64> {
    let shown = u64::try_from(shown).unwrap_or(u64::MAX);
    (total > shown).then(|| total - shown)
}

/// Flows and bytes per path over the whole report, in path order.
pub fn path_totals(r: &Report) -> Vec<(PathKind, u64, u64)> {
    let mut by: BTreeMap<PathKind, (u64, u64)> = BTreeMap::new();
    for v in &r.verdicts {
        for p in &v.paths {
            let e = by.entry(p.path).or_default();
            e.0 = e.0.saturating_add(p.flows);
            e.1 = e.1.saturating_add(p.bytes);
        }
    }
    by.into_iter().map(|(p, (f, b))| (p, f, b)).collect()
}

/// Total flows and bytes of the report.
pub fn totals(r: &Report) -> (u64, u64) {
    path_totals(r)
        .iter()
        .fold((0, 0), |(f, b), (_, pf, pb)| (f + pf, b + pb))
}

/// `privpath audit: 12 flows from 3 inputs, <first> .. <last>`'s figures.
pub fn window_text(r: &Report) -> Option<String> {
    match (r.window.first, r.window.last) {
        (Some(a), Some(b)) => Some(format!("{} .. {}", format_time(a), format_time(b))),
        _ => None,
    }
}

/// The verdict matrix: services (rows) × hosts (columns), each cell the
/// index of its verdict row in `r.verdicts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matrix {
    pub services: Vec<String>,
    /// Host labels, sorted.
    pub hosts: Vec<String>,
    /// `cells[service][host]`.
    pub cells: Vec<Vec<Option<usize>>>,
}

pub fn matrix(r: &Report) -> Matrix {
    let mut services: Vec<String> = r.verdicts.iter().map(|v| v.service.to_string()).collect();
    services.sort();
    services.dedup();
    let mut hosts: Vec<String> = r.verdicts.iter().map(|v| v.host.label()).collect();
    hosts.sort();
    hosts.dedup();
    let mut cells = vec![vec![None; hosts.len()]; services.len()];
    for (i, v) in r.verdicts.iter().enumerate() {
        let s = services.binary_search_by(|x| x.as_str().cmp(&v.service));
        let h = hosts.binary_search(&v.host.label());
        if let (Ok(s), Ok(h)) = (s, h) {
            if let Some(c) = cells.get_mut(s).and_then(|row| row.get_mut(h)) {
                // Two rows of one label (a host known by two addresses):
                // the worse verdict shows.
                let worse = c
                    .and_then(|j| r.verdicts.get(j))
                    .is_none_or(|old: &VerdictRow| severity(v.verdict) > severity(old.verdict));
                if worse {
                    *c = Some(i);
                }
            }
        }
    }
    Matrix {
        services,
        hosts,
        cells,
    }
}

/// How loudly a verdict should show (public worst).
pub fn severity(v: Verdict) -> u8 {
    match v {
        Verdict::NoTraffic => 0,
        Verdict::Private => 1,
        Verdict::Unknown => 2,
        Verdict::Blocked => 3,
        Verdict::Mixed => 4,
        Verdict::Public => 5,
    }
}

/// A stable anchor for a verdict row: `v-s3-i-0abc`.
pub fn anchor(v: &VerdictRow) -> String {
    let raw = format!("v-{}-{}", v.service, v.host.label());
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Input paths shortened to what tells them apart: the shortest tail of
/// folders that no other input shares (at least the file name, two parts for
/// a lone input), behind `…/`; a long file name keeps its start and its
/// distinctive end (`111122223333_vpcf…20261102T0930Z_692d16f4.log.gz`) when
/// that stays unique.
pub fn short_names(paths: &[String]) -> Vec<String> {
    let split: Vec<Vec<&str>> = paths.iter().map(|p| p.split('/').collect()).collect();
    let tail =
        |s: &Vec<&str>, n: usize| s.get(s.len().saturating_sub(n)..).unwrap_or(&[]).join("/");
    let mut out: Vec<String> = Vec::with_capacity(paths.len());
    for (i, s) in split.iter().enumerate() {
        let min = if paths.len() == 1 { 2 } else { 1 };
        let mut n = min.min(s.len());
        while n < s.len() {
            let mine = tail(s, n);
            let clash = split
                .iter()
                .enumerate()
                .any(|(j, o)| j != i && paths.get(j) != paths.get(i) && tail(o, n) == mine);
            if !clash {
                break;
            }
            n += 1;
        }
        let t = tail(s, n);
        out.push(if n < s.len() { format!("…/{t}") } else { t });
    }
    // Long names: keep the first 16 and last 30 characters where that stays unique.
    let squeezed: Vec<String> = out.iter().map(|n| squeeze(n, 16, 30)).collect();
    let mut sorted = squeezed.clone();
    sorted.sort();
    sorted.dedup();
    let distinct_before = {
        let mut o = out.clone();
        o.sort();
        o.dedup();
        o.len()
    };
    if sorted.len() == distinct_before {
        squeezed
    } else {
        out
    }
}

fn squeeze(s: &str, head: usize, tail: usize) -> String {
    let n = s.chars().count();
    if n <= head + tail + 1 {
        return s.to_owned();
    }
    let start: String = s.chars().take(head).collect();
    let end: String = s.chars().skip(n - tail).collect();
    format!("{start}…{end}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::report::{EvidenceLine, OutcomeCounts};

    #[test]
    fn evidence_groups_count_each_distinct_part_once_per_flow() {
        let line = |text: &str, flows, ex: &[&str]| EvidenceLine {
            text: text.to_owned(),
            flows,
            examples: ex.iter().map(|s| s.to_string()).collect(),
        };
        let p = PathRow {
            path: PathKind::InternetGateway,
            flows: 10,
            packets: 0,
            bytes: 0,
            first: 0,
            last: 0,
            outcomes: OutcomeCounts::default(),
            calls: 0,
            evidence: vec![
                line(
                    "rtb-1 0.0.0.0/0 -> igw-1; service s3 by DNS answer a.s3.amazonaws.com",
                    5,
                    &["f:3", "f:1"],
                ),
                line(
                    "rtb-1 0.0.0.0/0 -> igw-1; service s3 by DNS answer b.s3.amazonaws.com; traffic-path 8 (internet-gateway) agrees",
                    3,
                    &["f:2", "g:9"],
                ),
            ],
            examples: vec![],
        };
        let g = evidence_groups(&p);
        assert_eq!(g.untold, 2);
        let kinds: Vec<EvidenceKind> = g.groups.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            kinds,
            vec![
                EvidenceKind::Route,
                EvidenceKind::Service,
                EvidenceKind::TrafficPath
            ]
        );
        let route = &g.groups[0].1;
        assert_eq!(route.len(), 1, "one distinct route line");
        assert_eq!(route[0].flows, 8);
        assert_eq!(route[0].examples, vec!["f:1", "f:2", "f:3"]);
        let svc = &g.groups[1].1;
        assert_eq!(svc[0].flows, 5);
        assert_eq!(svc[1].flows, 3);
    }

    #[test]
    fn short_names_keep_what_tells_inputs_apart() {
        let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            short_names(&p(&[
                "/work/corpus/lab/timeline/flowlogs/a.log",
                "/work/corpus/lab/timeline/captures/b.pcap"
            ])),
            p(&["…/a.log", "…/b.pcap"])
        );
        assert_eq!(
            short_names(&p(&["/very/long/dir/flowlogs/a.log"])),
            p(&["…/flowlogs/a.log"])
        );
        assert_eq!(short_names(&p(&["a.log", "b.log"])), p(&["a.log", "b.log"]));
        assert_eq!(
            short_names(&p(&["x/a.log", "x/a.log"])),
            p(&["…/a.log", "…/a.log"])
        );
        assert_eq!(
            short_names(&p(&["d1/flowlogs/a.log", "d2/flowlogs/a.log", "d2/b.log"])),
            p(&["d1/flowlogs/a.log", "d2/flowlogs/a.log", "…/b.log"])
        );
        let aws = p(&[
            "s/flowlogs/AWSLogs/1111/vpcflowlogs/ap-northeast-2/2026/11/02/1111_vpcflowlogs_ap-northeast-2_fl-0b4e6a8c1d3f5a729_20261102T0930Z_692d16f4.log.gz",
            "s/flowlogs/AWSLogs/1111/vpcflowlogs/ap-northeast-2/2026/11/02/1111_vpcflowlogs_ap-northeast-2_fl-0b4e6a8c1d3f5a729_20261102T0900Z_fd243124.log.gz",
        ]);
        let short = short_names(&aws);
        assert_eq!(short[0], "…/1111_vpcflowlo…20261102T0930Z_692d16f4.log.gz");
        assert_ne!(short[0], short[1]);
    }
}
