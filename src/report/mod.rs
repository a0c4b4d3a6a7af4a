//! The audit report: what every renderer draws from, and nothing else.
//!
//! Data flow: classified flows are folded into a [`collect::Collector`] on the
//! parallel hot path (plain counters, no polars); [`aggregate::build_report`]
//! turns the collector's fine-grained groups into the rollups with polars and
//! returns a [`Report`]. Every renderer is a pure function `&Report -> bytes`
//! ([`render`]); the JSON schema lives in [`wire`], separate from these types.
//!
//! The types here are the report's own view of a classification (path,
//! outcome, service, host) so that renderers and their snapshots do not move
//! when the classifier's internals do; `cli/audit.rs` maps one onto the other.

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use crate::flow::{Flow, Text};

pub mod aggregate;
pub mod api_calls;
pub mod chart;
pub mod collect;
pub mod cost;
pub mod csv;
pub mod escape;
pub mod expect;
pub mod github;
pub mod host;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod parquet;
pub mod records;
pub mod table;
pub mod view;
pub mod wire;

#[cfg(test)]
pub(crate) mod fixture;

pub use host::{Host, HostTable};

/// The path a flow took out of the VPC (or not): the classifier's own type.
pub use crate::classify::PathClass as PathKind;

/// What came back: the classifier's own type.
pub use crate::classify::Outcome;

/// The verdict for one service and one source host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every answered flow stayed on endpoints or other private paths.
    Private,
    /// Some traffic left through the internet gateway or a NAT gateway.
    Public,
    /// Attempted, but never answered, rejected, or no route.
    Blocked,
    /// Private and public both seen (the timeline says when it changed).
    Mixed,
    /// No flow for this service from this host.
    NoTraffic,
    /// Flows seen, but the host is not in the topology: no path could be decided.
    Unknown,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Private => "private",
            Verdict::Public => "public",
            Verdict::Blocked => "blocked",
            Verdict::Mixed => "mixed",
            Verdict::NoTraffic => "no-traffic",
            Verdict::Unknown => "unknown",
        }
    }

    /// Decide from the path rows of one service × host.
    pub fn decide(paths: &[PathRow]) -> Verdict {
        let mut any = false;
        let mut public = false;
        let mut private = false;
        let mut known = false;
        for p in paths {
            if p.flows == 0 && p.calls == 0 {
                continue;
            }
            any = true;
            if p.path != PathKind::Unknown {
                known = true;
            }
            // An API call CloudTrail recorded was made: on a public path it
            // left the VPC, on a private one it stayed (a call the endpoint
            // policy denied still went through the endpoint).
            if p.calls > 0 {
                public |= p.path.is_public();
                private |= p.path.is_private();
            }
            // A flow rejected at the interface never left it.
            let left = p.outcomes.answered + p.outcomes.unanswered + p.outcomes.unknown > 0;
            if p.path.is_public() && left {
                public = true;
            }
            // Sent on a private path and not shown to be unanswered.
            if p.path.is_private() && p.outcomes.answered + p.outcomes.unknown > 0 {
                private = true;
            }
        }
        match (any, known, public, private) {
            (false, ..) => Verdict::NoTraffic,
            (true, false, ..) => Verdict::Unknown,
            (_, _, true, true) => Verdict::Mixed,
            (_, _, true, false) => Verdict::Public,
            (_, _, false, true) => Verdict::Private,
            (_, _, false, false) => Verdict::Blocked,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Flows by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OutcomeCounts {
    pub answered: u64,
    pub unanswered: u64,
    pub rejected: u64,
    pub unknown: u64,
}

impl OutcomeCounts {
    /// One word: the only outcome seen, or `mixed`.
    pub fn summary(&self) -> &'static str {
        match (
            self.answered > 0,
            self.unanswered > 0,
            self.rejected > 0,
            self.unknown > 0,
        ) {
            (true, false, false, false) => "answered",
            (false, true, false, false) => "unanswered",
            (false, false, true, false) => "rejected",
            (false, false, false, true) => "unknown",
            (false, false, false, false) => "none",
            _ => "mixed",
        }
    }

    pub fn add(&mut self, outcome: Outcome, n: u64) {
        match outcome {
            Outcome::Answered => self.answered += n,
            Outcome::Unanswered => self.unanswered += n,
            Outcome::Rejected => self.rejected += n,
            Outcome::Unknown => self.unknown += n,
        }
    }
}

/// Traffic of one service from one host over one path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathRow {
    pub path: PathKind,
    pub flows: u64,
    pub packets: u64,
    pub bytes: u64,
    /// Unix seconds of the first and last flow.
    pub first: u64,
    pub last: u64,
    pub outcomes: OutcomeCounts,
    /// API calls CloudTrail recorded on this path (see [`api_calls`]).
    pub calls: u64,
    /// Distinct evidence lines (route table, route, target, endpoint, how the
    /// service was attributed), sorted, at most [`MAX_EVIDENCE`], each with
    /// the flows it covers; then the CloudTrail calls' (at most as many again).
    pub evidence: Vec<EvidenceLine>,
    /// The first `--examples` flows of this path (by time), with their input
    /// file and line; `flows - examples.len()` more are counted, not listed.
    pub examples: Vec<Violation>,
}

impl PathRow {
    /// Flows of this path not listed in [`PathRow::examples`].
    pub fn examples_more(&self) -> u64 {
        self.flows
            .saturating_sub(u64::try_from(self.examples.len()).unwrap_or(u64::MAX))
    }
}

/// How many distinct evidence lines are kept per path row.
pub const MAX_EVIDENCE: usize = 12;

/// One distinct evidence line of a path row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceLine {
    /// `rtb-… 0.0.0.0/0 -> igw-…; service s3 by DNS answer …`: parts joined by `; `.
    pub text: String,
    /// The flows that carried exactly this evidence.
    pub flows: u64,
    /// A few of them: `file:line`, sorted.
    pub examples: Vec<String>,
}

/// The verdict for one service × host, with the paths behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerdictRow {
    pub service: Text,
    pub host: Host,
    pub verdict: Verdict,
    /// Sorted by path.
    pub paths: Vec<PathRow>,
    /// For `mixed`: the last public flow and the first private one.
    pub last_public: Option<u64>,
    pub first_private: Option<u64>,
}

/// Use of one VPC endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndpointRow {
    pub endpoint_id: Text,
    pub path: PathKind,
    pub service: Text,
    pub hosts: u64,
    pub flows: u64,
    pub bytes: u64,
    pub first: u64,
    pub last: u64,
}

/// Bytes per service and path in fixed time buckets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Timeline {
    /// Bucket width in seconds (0 when there is no traffic).
    pub bucket_secs: u64,
    /// Sorted by service, then path.
    pub series: Vec<Series>,
    /// Moments to mark on the charts (endpoint creation), sorted by time.
    pub marks: Vec<Mark>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Series {
    pub service: Text,
    pub path: PathKind,
    /// (bucket start in unix seconds, bytes), sorted, empty buckets left out.
    pub points: Vec<(u64, u64)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mark {
    pub time: u64,
    pub label: String,
    /// The service it concerns (its chart); `None` marks every chart.
    pub service: Option<Text>,
}

/// Where a resolved address leads.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Resolution {
    /// The private IP of an interface endpoint's ENI.
    Endpoint { endpoint_id: Text, eni: Text },
    /// Another address inside the VPC.
    Private,
    /// A public address.
    Public,
}

impl fmt::Display for Resolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Resolution::Endpoint { endpoint_id, eni } => {
                write!(f, "endpoint {endpoint_id} ({eni})")
            }
            Resolution::Private => f.write_str("private"),
            Resolution::Public => f.write_str("public"),
        }
    }
}

/// One address a name resolved to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Answer {
    pub address: IpAddr,
    pub resolution: Resolution,
}

/// A name as one host resolved it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnsRow {
    pub host: Host,
    /// Lower-case, no trailing dot, as seen in the capture.
    pub name: String,
    /// The AWS service the name belongs to, when it is an AWS name.
    pub service: Option<Text>,
    /// Where the answers were seen: [`DNS_SOURCE_CAPTURE`] or
    /// [`DNS_SOURCE_RESOLVER`].
    pub source: &'static str,
    /// An endpoint-specific name (`vpce-….<service>.<region>.vpce.amazonaws.com`):
    /// private by construction, so `--expect-dns` leaves it out.
    pub endpoint_specific: bool,
    /// Sorted, distinct.
    pub answers: Vec<Answer>,
    pub first: u64,
    pub last: u64,
    pub responses: u64,
}

impl DnsRow {
    /// `private` when every answer is an endpoint or in-VPC address,
    /// `public` when every answer is public, else `mixed` (or `none`).
    pub fn summary(&self) -> &'static str {
        let private = self
            .answers
            .iter()
            .filter(|a| !matches!(a.resolution, Resolution::Public))
            .count();
        match (private, self.answers.len()) {
            (_, 0) => "none",
            (p, n) if p == n => "private",
            (0, _) => "public",
            _ => "mixed",
        }
    }
}

/// DNS answers seen in a capture.
pub const DNS_SOURCE_CAPTURE: &str = "capture";
/// DNS answers of a Route 53 Resolver query log.
pub const DNS_SOURCE_RESOLVER: &str = "resolver-query-log";

/// Whether an interface endpoint's private DNS worked, from DNS evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrivateDnsRow {
    pub endpoint_id: Text,
    pub service_name: String,
    /// The endpoint's `PrivateDnsEnabled` flag.
    pub enabled: Option<bool>,
    /// `effective`, `not-effective`, `inconsistent` or `not-observed`.
    pub verdict: String,
    pub detail: String,
}

/// What kind of thing a finding reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// The input could not be read (or only partly).
    InputError,
    /// Records that could not be parsed.
    BadRecords,
    /// SKIPDATA: AWS lost records for an interface.
    Skipdata,
    /// Flow-log `traffic-path` disagrees with the topology replay.
    TrafficPathDisagreement,
    /// Flows from a host the topology does not know.
    UnknownHost,
    /// A capture that could not be tied to a host.
    UntiedCapture,
    /// A name resolved privately on one host and publicly on another.
    DnsInconsistency,
    /// Anything else the classifier or topology reported.
    Note,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::InputError => "input-error",
            FindingKind::BadRecords => "bad-records",
            FindingKind::Skipdata => "skipdata",
            FindingKind::TrafficPathDisagreement => "traffic-path-disagreement",
            FindingKind::UnknownHost => "unknown-host",
            FindingKind::UntiedCapture => "untied-capture",
            FindingKind::DnsInconsistency => "dns-inconsistency",
            FindingKind::Note => "note",
        }
    }
}

/// Something the reader should know that is not a verdict.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    /// The input it concerns, if any.
    pub source: Option<String>,
    /// Lower-case, no trailing period; may contain input-derived text
    /// (renderers escape it).
    pub message: String,
    /// How many records or flows it covers.
    pub count: u64,
}

/// One input as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputRow {
    pub path: String,
    pub kind: String,
    pub records: u64,
    pub packets: u64,
    pub flows: u64,
    pub skipped: u64,
    pub nodata: u64,
    pub skipdata: u64,
    /// Flow-log records delivered again (an earlier record of the run had
    /// the same interface, 5-tuple, start, end, packets and bytes): counted
    /// once, in `flows` of the input that delivered them first.
    pub duplicates: u64,
    pub error: Option<String>,
}

/// A flow that breaks an expectation (or an example flow of a path): enough
/// to find it again.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Violation {
    pub time: u64,
    pub host: Host,
    /// `tcp 52.219.60.1:443`
    pub destination: String,
    /// The flow's path and outcome (`None` for DNS expectations).
    pub path: Option<PathKind>,
    pub outcome: Option<Outcome>,
    pub evidence: String,
    /// `file:line` (the input and the record index), or `dns`.
    pub source: String,
}

/// The result of one expectation for one matching host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostResult {
    /// `None` when no host matched (the expectation saw no traffic).
    pub host: Option<Host>,
    pub met: bool,
    pub flows: u64,
    pub violations_total: u64,
    /// The first `--examples` offending flows (default [`DEFAULT_EXAMPLES`]),
    /// sorted by time; `violations_total` counts them all.
    pub violations: Vec<Violation>,
    /// Why it failed or a caveat (`no traffic observed`).
    pub note: Option<String>,
}

/// How many flows are kept, with their input file and line, per path of a
/// verdict and per expectation and host, unless `--examples` says otherwise
/// (the rest are counted). Memory grows with this bound, never with the flows.
pub const DEFAULT_EXAMPLES: usize = 20;

/// One `--expect` / `--expect-dns` and how it fared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpectationResult {
    /// As written, normalised: `s3@i-0abc=gateway-endpoint`, `dns:cloudformation=private`.
    pub expect: String,
    /// Where it came from: `--expect`, `--expect-dns` or an `expect.toml` path.
    pub origin: String,
    pub met: bool,
    /// One per matching host, sorted by host.
    pub hosts: Vec<HostResult>,
}

impl ExpectationResult {
    pub fn violations_total(&self) -> u64 {
        self.hosts.iter().map(|h| h.violations_total).sum()
    }
}

/// The audited time window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Window {
    /// `--since` / `--until` as given.
    pub since: Option<u64>,
    pub until: Option<u64>,
    /// The first and last flow seen inside the window.
    pub first: Option<u64>,
    pub last: Option<u64>,
}

/// One classified flow with everything the CSV and Parquet outputs carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowRecord {
    pub flow: Flow,
    pub service: Text,
    pub host: Host,
    pub path: PathKind,
    pub outcome: Outcome,
    pub endpoint_id: Option<Text>,
    pub evidence: String,
    /// The input's path.
    pub source_file: String,
}

/// Everything a renderer may show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub window: Window,
    /// Sorted by service, then host.
    pub verdicts: Vec<VerdictRow>,
    /// Sorted by endpoint id, path, service.
    pub endpoints: Vec<EndpointRow>,
    pub timeline: Timeline,
    /// Sorted by name, then host.
    pub dns: Vec<DnsRow>,
    /// Sorted by endpoint id.
    pub private_dns: Vec<PrivateDnsRow>,
    /// In the order given.
    pub expectations: Vec<ExpectationResult>,
    /// Sorted.
    pub findings: Vec<Finding>,
    /// In input id order.
    pub inputs: Vec<InputRow>,
    /// Every classified flow, only when a per-flow format was asked for
    /// (CSV, Parquet); sorted by start time, then source and line.
    pub flows: Vec<FlowRecord>,
    /// The prices the cost estimates use (`None`: no estimate).
    pub pricing: Option<cost::Pricing>,
    /// API calls CloudTrail recorded, grouped; sorted (see [`api_calls`]).
    pub api_calls: Vec<api_calls::ApiCallRow>,
}

impl Report {
    /// The paths that left through the internet gateway or a NAT gateway,
    /// with their example flows: what the "Public flows" sections list.
    pub fn public_paths(&self) -> impl Iterator<Item = (&VerdictRow, &PathRow)> {
        self.verdicts.iter().flat_map(|v| {
            v.paths
                .iter()
                .filter(|p| p.path.is_public() && !p.examples.is_empty())
                .map(move |p| (v, p))
        })
    }

    /// True when every expectation held (or none was given).
    pub fn all_met(&self) -> bool {
        self.expectations.iter().all(|e| e.met)
    }

    pub fn failed_expectations(&self) -> usize {
        self.expectations.iter().filter(|e| !e.met).count()
    }
}

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    Table,
    Json,
    Markdown,
    Html,
    Csv,
    Parquet,
    Junit,
}

impl Format {
    pub const ALL: [Format; 7] = [
        Format::Table,
        Format::Json,
        Format::Markdown,
        Format::Html,
        Format::Csv,
        Format::Parquet,
        Format::Junit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Markdown => "markdown",
            Format::Html => "html",
            Format::Csv => "csv",
            Format::Parquet => "parquet",
            Format::Junit => "junit",
        }
    }

    /// The file name used under `--out DIR`.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Table => "audit.txt",
            Format::Json => "audit.json",
            Format::Markdown => "audit.md",
            Format::Html => "audit.html",
            Format::Csv => "flows.csv",
            Format::Parquet => "flows.parquet",
            Format::Junit => "junit.xml",
        }
    }

    /// Needs every classified flow kept in the report.
    pub fn needs_flows(self) -> bool {
        matches!(self, Format::Csv | Format::Parquet)
    }
}

/// Presentation choices that are not part of the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// ANSI colour in the table output.
    pub color: bool,
    /// The terminal's width in columns: the table output's tables wrap (and
    /// long lines are cut with `…`) to fit. `None`: not a terminal, no limit.
    pub width: Option<u16>,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot serialize the report: {0}")]
    Json(#[from] serde_json::Error),
    #[error("cannot draw the chart for {service}: {message}")]
    Chart { service: String, message: String },
    #[error("cannot write {format}: {message}")]
    Write {
        format: &'static str,
        message: String,
    },
}

/// Render `report` as `format`: a pure function, bytes out.
pub fn render(
    format: Format,
    report: &Report,
    opts: RenderOptions,
) -> Result<Vec<u8>, RenderError> {
    match format {
        Format::Table => Ok(table::render_table(report, opts)),
        Format::Json => json::render_json(report),
        Format::Markdown => Ok(markdown::render_markdown(report)),
        Format::Html => html::render_html(report),
        Format::Csv => Ok(csv::render_csv(report)),
        Format::Parquet => {
            parquet::render_parquet_classified(&report.flows).map_err(|e| RenderError::Write {
                format: "parquet",
                message: e.to_string(),
            })
        }
        Format::Junit => Ok(junit::render_junit(report)),
    }
}

/// `2026-11-25T10:00:00Z` for unix seconds (the raw number if out of range).
pub fn format_time(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .map_or_else(
            || secs.to_string(),
            |t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        )
}

/// `1.2 MiB`-style sizes for people.
pub fn format_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n;
    let mut rem = 0;
    let mut unit = 0;
    while value >= 1024 && unit + 1 < UNITS.len() {
        rem = value % 1024;
        value /= 1024;
        unit += 1;
    }
    let name = UNITS.get(unit).copied().unwrap_or("B");
    if unit == 0 {
        format!("{value} {name}")
    } else {
        format!("{value}.{} {name}", rem * 10 / 1024)
    }
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

    fn row(path: PathKind, answered: u64, unanswered: u64, rejected: u64) -> PathRow {
        PathRow {
            path,
            flows: answered + unanswered + rejected,
            packets: 0,
            bytes: 0,
            first: 0,
            last: 0,
            outcomes: OutcomeCounts {
                answered,
                unanswered,
                rejected,
                unknown: 0,
            },
            calls: 0,
            evidence: vec![],
            examples: vec![],
        }
    }

    #[test]
    fn verdict_decide_covers_every_case() {
        use PathKind::*;
        let cases: &[(&str, Vec<PathRow>, Verdict)] = &[
            ("nothing", vec![], Verdict::NoTraffic),
            (
                "igw answered",
                vec![row(InternetGateway, 3, 0, 0)],
                Verdict::Public,
            ),
            (
                "igw unanswered still left",
                vec![row(InternetGateway, 0, 2, 0)],
                Verdict::Public,
            ),
            (
                "igw rejected never left",
                vec![row(InternetGateway, 0, 0, 2)],
                Verdict::Blocked,
            ),
            (
                "gateway endpoint",
                vec![row(GatewayEndpoint, 3, 0, 0)],
                Verdict::Private,
            ),
            ("no route", vec![row(NoRoute, 0, 4, 0)], Verdict::Blocked),
            (
                "endpoint never answered",
                vec![row(InterfaceEndpoint, 0, 1, 0)],
                Verdict::Blocked,
            ),
            (
                "igw then endpoint",
                vec![row(GatewayEndpoint, 3, 0, 0), row(InternetGateway, 2, 0, 0)],
                Verdict::Mixed,
            ),
            ("nat", vec![row(NatGateway, 1, 0, 0)], Verdict::Public),
            (
                "endpoint, outcome unknown (egress records only)",
                vec![PathRow {
                    outcomes: OutcomeCounts {
                        unknown: 2,
                        ..OutcomeCounts::default()
                    },
                    flows: 2,
                    ..row(GatewayEndpoint, 0, 0, 0)
                }],
                Verdict::Private,
            ),
            (
                "host not in topology",
                vec![row(Unknown, 1, 0, 0)],
                Verdict::Unknown,
            ),
        ];
        for (name, paths, want) in cases {
            assert_eq!(Verdict::decide(paths), *want, "case {name}");
        }
    }

    #[test]
    fn path_names_round_trip() {
        for p in PathKind::ALL {
            assert_eq!(PathKind::parse(p.as_str()), Some(p));
        }
        assert_eq!(PathKind::parse("igw"), None);
    }

    #[test]
    fn format_time_and_bytes_are_readable() {
        assert_eq!(format_time(1_764_064_800), "2025-11-25T10:00:00Z");
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(u64::MAX), "16777215.9 TiB");
    }
}
