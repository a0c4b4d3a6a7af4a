//! `privpath audit`: verdicts per service and host, expectations (the CI
//! contract), reports.
//!
//! Stages: the clap struct ([`AuditArgs`]) is resolved into a [`Plan`]
//! (case folders expanded, expectations parsed, output targets opened up
//! front); [`pipeline`] ingests, classifies and collects; the report is
//! built once and rendered by every requested format.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};

use super::{ColorChoice, GlobalArgs};
use privpath::exit::ExitStatus;
use privpath::report::expect::ExpectSet;
use privpath::report::{Format, RenderOptions, Report};

/// Output formats of `-o`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Verdict table, expectations, DNS, findings (default)
    Table,
    /// The `privpath.audit/v1` document
    Json,
    /// Audit report for people and CI job summaries
    Markdown,
    /// One self-contained HTML file with SVG charts
    Html,
    /// Every classified flow: Athena columns + classification
    Csv,
    /// The same as CSV, as a Parquet file (typed as AWS delivers flow logs)
    Parquet,
    /// One test case per expectation and host
    Junit,
}

impl From<OutputFormat> for Format {
    fn from(f: OutputFormat) -> Format {
        match f {
            OutputFormat::Table => Format::Table,
            OutputFormat::Json => Format::Json,
            OutputFormat::Markdown => Format::Markdown,
            OutputFormat::Html => Format::Html,
            OutputFormat::Csv => Format::Csv,
            OutputFormat::Parquet => Format::Parquet,
            OutputFormat::Junit => Format::Junit,
        }
    }
}

/// Audit flow logs and captures against the topology.
///
/// Exit codes: 0 every expectation held (or none was given), 1 an
/// expectation failed, 2 error (unreadable input, bad topology, bad
/// expectation, bad records under --strict).
#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes: 0 every expectation held (or none was given), 1 an expectation \
failed, 2 error (unreadable input, bad topology, bad expectation, bad records under --strict).\n\
Example: privpath audit samples/lab/1-baseline --expect s3=gateway-endpoint"
)]
pub struct AuditArgs {
    /// Flow logs, captures, folders of them, or case folders (a folder with
    /// `topology/` and optionally `expect.toml` beside the evidence)
    #[arg(required_unless_present = "cloudwatch", value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,

    /// AWS CLI JSON of the VPC (files or folders); repeatable
    #[arg(long, value_name = "PATH")]
    pub topology: Vec<PathBuf>,

    /// SERVICE[@SCOPE]=PATH: every matching flow must take PATH
    ///
    /// SCOPE: an instance id (i-…), ENI (eni-…), subnet id (subnet-…) or
    /// address. PATH: interface-endpoint, gateway-endpoint, internet-gateway,
    /// nat-gateway, local, peering, transit-gateway, virtual-private-gateway,
    /// no-route, unknown; or `endpoint` (either endpoint kind), `private`
    /// (nothing via the internet gateway or a NAT gateway), `blocked`
    /// (nothing answered). Repeatable.
    #[arg(long, value_name = "EXPECTATION")]
    pub expect: Vec<String>,

    /// SERVICE=private|public: how the service's names must resolve; repeatable
    #[arg(long, value_name = "EXPECTATION")]
    pub expect_dns: Vec<String>,

    /// Check the expectations only on flows starting at or after this time
    /// (RFC 3339 or unix seconds); the verdicts keep all the evidence
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Check the expectations only on flows starting at or before this time
    /// (RFC 3339 or unix seconds)
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// Output format; repeat with --out DIR for several
    #[arg(short = 'o', long = "output", value_enum, value_name = "FORMAT")]
    pub output: Vec<OutputFormat>,

    /// Write to this file (one format) or into this folder (audit.json,
    /// audit.md, audit.html, flows.csv, flows.parquet, junit.xml, audit.txt)
    #[arg(long, value_name = "FILE|DIR")]
    pub out: Option<PathBuf>,

    /// Exit 0 even when an expectation fails (errors still exit 2)
    #[arg(long)]
    pub exit_zero: bool,

    /// `--log-format` for header-less flow-log text (`${version} ${account-id} …`)
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<String>,

    /// Read flow logs live from CloudWatch Logs (beside or instead of files)
    #[command(flatten)]
    pub cloudwatch: super::cloudwatch_args::CloudWatchArgs,

    #[command(flatten)]
    pub capture: super::capture_args::CaptureArgs,
}

/// Where one rendered format goes.
#[derive(Debug)]
enum Target {
    Stdout,
    File(PathBuf),
}

/// The resolved run: no clap types below this point.
#[derive(Debug)]
pub struct Plan {
    /// Evidence inputs (case folders replaced by their evidence).
    pub inputs: Vec<PathBuf>,
    pub topology: Vec<PathBuf>,
    pub expect: ExpectSet,
    outputs: Vec<(Format, Target)>,
    pub color: bool,
    pub progress: bool,
    pub strict: bool,
    pub exit_zero: bool,
    pub quiet: bool,
    pub log_format: Option<String>,
    /// `--cloudwatch LOG_GROUP` and its options.
    pub cloudwatch: super::cloudwatch_args::CloudWatchArgs,
    /// `--window` / `--host` for captures.
    pub capture: super::capture_args::CaptureArgs,
}

impl Plan {
    /// Keep every classified flow in the report (a per-flow format was asked for).
    pub fn keep_flows(&self) -> bool {
        self.outputs.iter().any(|(f, _)| f.needs_flows())
    }
}

/// Names inside a case folder that are not evidence.
const CASE_SKIP: [&str; 3] = ["topology", "expect.toml", "README.md"];

/// A folder holding `topology/` is a case folder.
pub fn is_case_folder(p: &Path) -> bool {
    p.is_dir() && p.join("topology").is_dir()
}

/// Split a case folder into (evidence paths, topology folder, expect.toml).
fn expand_case(dir: &Path) -> anyhow::Result<(Vec<PathBuf>, PathBuf, Option<PathBuf>)> {
    let mut evidence = Vec::new();
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot list the case folder", dir.display()))?;
    for entry in entries {
        let entry =
            entry.with_context(|| format!("{}: cannot list the case folder", dir.display()))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || CASE_SKIP.contains(&name.as_ref()) {
            continue;
        }
        evidence.push(entry.path());
    }
    evidence.sort();
    let expect = dir.join("expect.toml");
    Ok((
        evidence,
        dir.join("topology"),
        expect.is_file().then_some(expect),
    ))
}

/// Resolve the arguments: case folders, expectations, output targets.
pub fn resolve(args: &AuditArgs, global: &GlobalArgs) -> anyhow::Result<Plan> {
    let mut expect = ExpectSet::parse_cli(
        &args.expect,
        &args.expect_dns,
        args.since.as_deref(),
        args.until.as_deref(),
    )?;
    let mut inputs = Vec::new();
    let mut topology = args.topology.clone();
    for p in &args.inputs {
        if is_case_folder(p) {
            let (evidence, topo, file) = expand_case(p)?;
            inputs.extend(evidence);
            topology.push(topo);
            if let Some(f) = file {
                expect.extend(ExpectSet::load_toml(&f)?)?;
            }
        } else {
            inputs.push(p.clone());
        }
    }
    if topology.is_empty() {
        bail!("no topology: give --topology PATH or a case folder holding topology/");
    }

    let stdout_tty = std::io::stdout().is_terminal();
    let color = match global.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            stdout_tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let mut formats: Vec<Format> = args.output.iter().map(|&f| f.into()).collect();
    formats.dedup();
    let mut seen = std::collections::BTreeSet::new();
    formats.retain(|f| seen.insert(*f));
    if formats.is_empty() {
        formats.push(Format::Table);
    }
    let outputs = plan_outputs(&formats, args.out.as_deref())?;
    if stdout_tty
        && outputs
            .iter()
            .any(|(f, t)| *f == Format::Parquet && matches!(t, Target::Stdout))
    {
        bail!("refusing to write parquet to a terminal: use --out FILE or a redirection");
    }
    Ok(Plan {
        inputs,
        topology,
        expect,
        color: color
            && outputs
                .iter()
                .any(|(f, t)| *f == Format::Table && matches!(t, Target::Stdout)),
        outputs,
        progress: !global.quiet && std::io::stderr().is_terminal(),
        strict: global.strict,
        exit_zero: args.exit_zero,
        quiet: global.quiet,
        log_format: args.log_format.clone(),
        cloudwatch: args.cloudwatch.clone(),
        capture: args.capture.clone(),
    })
}

/// Decide where each format goes and create the files now, so that a bad
/// path fails before the long work starts.
fn plan_outputs(formats: &[Format], out: Option<&Path>) -> anyhow::Result<Vec<(Format, Target)>> {
    let Some(out) = out else {
        if formats.len() > 1 {
            bail!("several -o formats need --out DIR");
        }
        return Ok(formats.iter().map(|&f| (f, Target::Stdout)).collect());
    };
    let as_dir =
        formats.len() > 1 || out.is_dir() || out.as_os_str().to_string_lossy().ends_with('/');
    let mut targets = Vec::new();
    if as_dir {
        std::fs::create_dir_all(out)
            .with_context(|| format!("{}: cannot create the output folder", out.display()))?;
        for &f in formats {
            targets.push((f, Target::File(out.join(f.file_name()))));
        }
    } else {
        for &f in formats {
            targets.push((f, Target::File(out.to_path_buf())));
        }
    }
    for (_, t) in &targets {
        if let Target::File(p) = t {
            std::fs::File::create(p)
                .with_context(|| format!("{}: cannot create the output file", p.display()))?;
        }
    }
    Ok(targets)
}

/// Write every requested format. Returns the files written.
fn write_outputs(plan: &Plan, report: &Report) -> anyhow::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (format, target) in &plan.outputs {
        let opts = RenderOptions {
            color: plan.color && matches!(target, Target::Stdout),
        };
        let bytes = privpath::report::render(*format, report, opts)?;
        match target {
            Target::Stdout => {
                #[allow(clippy::print_stdout)]
                let mut out = std::io::stdout().lock();
                out.write_all(&bytes)?;
                out.flush()?;
            }
            Target::File(p) => {
                std::fs::write(p, &bytes)
                    .with_context(|| format!("{}: cannot write", p.display()))?;
                written.push(p.clone());
            }
        }
    }
    Ok(written)
}

/// Decide the exit status from the report and the errors seen.
pub fn exit_status(report: &Report, plan: &Plan) -> ExitStatus {
    let errored = report.inputs.iter().any(|i| i.error.is_some());
    let bad = report.inputs.iter().any(|i| i.skipped > 0);
    if errored || (plan.strict && bad) {
        return ExitStatus::Error;
    }
    if report.all_met() || plan.exit_zero {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    }
}

pub fn run(args: &AuditArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let plan = resolve(args, global)?;
    let report = pipeline::build(&plan)?;
    let written = write_outputs(&plan, &report)?;
    let status = exit_status(&report, &plan);
    if !plan.quiet {
        let mut err = std::io::stderr().lock();
        for p in &written {
            writeln!(
                err,
                "privpath: wrote {}",
                privpath::error::sanitize(&p.display().to_string(), 500)
            )?;
        }
        for i in report.inputs.iter().filter(|i| i.error.is_some()) {
            writeln!(
                err,
                "privpath: {}",
                privpath::error::sanitize(i.error.as_deref().unwrap_or(""), 500)
            )?;
        }
        if plan.strict && status == ExitStatus::Error {
            let bad: u64 = report.inputs.iter().map(|i| i.skipped).sum();
            if bad > 0 {
                writeln!(err, "privpath: {bad} bad records (--strict)")?;
            }
        }
        if !report.expectations.is_empty() {
            let failed = report.failed_expectations();
            writeln!(
                err,
                "privpath: {failed} of {} expectations failed{}",
                report.expectations.len(),
                if failed > 0 && plan.exit_zero {
                    " (--exit-zero)"
                } else {
                    ""
                }
            )?;
        }
    }
    Ok(status)
}

/// Ingest, classify, collect, aggregate.
pub mod pipeline {
    use std::collections::BTreeMap;
    use std::net::IpAddr;

    use rayon::prelude::*;

    use super::Plan;
    use privpath::classify::{
        self, AttributionSource, Classification, NameIndex, PathClass, PrivateDnsState, TimeRule,
        TrafficPathVerdict,
    };
    use privpath::flow::{DnsRecord, Flow, SourceId};
    use privpath::ingest::{FlowSink, IngestOptions, SourceSummary};
    use privpath::report::aggregate::{ReportInput, build_report};
    use privpath::report::collect::{Collector, Facts};
    use privpath::report::{
        Answer, DnsRow, Finding, FindingKind, Host, InputRow, Mark, PathKind, PrivateDnsRow,
        Report, Resolution,
    };
    use privpath::topology::{self, EndpointKind, EniRole, Text, TimeGate, TopologyIndex};

    /// Findings gathered next to the collector (mergeable).
    #[derive(Debug, Default)]
    struct Notes {
        /// (host, code, logged, replayed) -> flows.
        disagreements: BTreeMap<(String, u8, String, String), u64>,
        /// Source addresses missing in the topology.
        unknown_hosts: BTreeMap<String, u64>,
        /// Capture flows with no capturing host, per input.
        untied: BTreeMap<SourceId, u64>,
    }

    impl Notes {
        fn merge(&mut self, other: Notes) {
            for (k, v) in other.disagreements {
                *self.disagreements.entry(k).or_insert(0) += v;
            }
            for (k, v) in other.unknown_hosts {
                *self.unknown_hosts.entry(k).or_insert(0) += v;
            }
            for (k, v) in other.untied {
                *self.untied.entry(k).or_insert(0) += v;
            }
        }
    }

    fn host_of(c: &Classification) -> Host {
        Host {
            instance_id: c.evidence.instance_id().map(Text::from),
            eni: c.evidence.eni_id().map(Text::from),
            address: c.host,
            subnet_id: c.evidence.subnet_id().map(Text::from),
        }
    }

    fn attributed(a: AttributionSource) -> &'static str {
        match a {
            AttributionSource::EndpointEni => "endpoint ENI",
            AttributionSource::Sni => "TLS SNI",
            AttributionSource::HttpHost => "HTTP Host",
            AttributionSource::Dns => "DNS answer",
            AttributionSource::DnsOtherHost => "DNS answer on another host",
            AttributionSource::PrefixList => "prefix list",
            AttributionSource::IpRanges => "ip-ranges",
            AttributionSource::FlowLog => "flow-log pkt-dst-aws-service",
            AttributionSource::None => "nothing",
        }
    }

    /// One line of evidence: route table, route, target, endpoint, time
    /// rule, how the service was attributed, the traffic-path check.
    pub fn evidence_line(c: &Classification) -> String {
        let e = &c.evidence;
        let mut parts: Vec<String> = Vec::new();
        if let Some(s) = &e.snapshot {
            parts.push(format!("snapshot {s}"));
        }
        if c.path == PathClass::InterfaceEndpoint {
            let peer = c
                .peer
                .map_or_else(|| "destination".to_owned(), |p| p.to_string());
            parts.push(format!(
                "{peer} is an ENI of {}",
                e.endpoint_id().unwrap_or("an interface endpoint")
            ));
        } else if let (Some(rt), Some(dest), Some(target)) =
            (e.route_table_id(), e.route_destination(), e.route_target())
        {
            let mut s = format!("{rt} {dest} -> {target}");
            if e.blackhole {
                s.push_str(" (blackhole)");
            }
            parts.push(s);
        } else if let Some(rt) = e.route_table_id() {
            let peer = c
                .peer
                .map_or_else(|| "the destination".to_owned(), |p| p.to_string());
            parts.push(format!("{rt}: no route to {peer}"));
        } else if c.path == PathClass::Unknown {
            parts.push("the host is not in the topology".to_owned());
        }
        if let Some(n) = &e.nat_onward {
            parts.push(format!("nat {n}"));
        }
        match e.time_rule {
            TimeRule::Current => {}
            TimeRule::BeforeEndpoint => parts.push(format!(
                "before {} existed",
                e.replayed_without().unwrap_or("the endpoint")
            )),
            TimeRule::StraddlesEndpointCreation => {
                parts.push("window straddles the endpoint's creation".to_owned())
            }
            TimeRule::NoFlowTime => parts.push("no flow time: latest topology".to_owned()),
        }
        let mut svc = format!("service {} by {}", c.service, attributed(c.attributed_by));
        if let Some(n) = &c.attributions.name {
            if matches!(
                c.attributed_by,
                AttributionSource::Sni
                    | AttributionSource::HttpHost
                    | AttributionSource::Dns
                    | AttributionSource::DnsOtherHost
            ) {
                svc.push_str(&format!(" {}", n.name));
            }
        }
        if c.attributed_by == AttributionSource::PrefixList {
            if let Some(pl) = c.attributions.prefix_list {
                svc.push_str(&format!(" {}", pl.id));
            }
        }
        if c.service == "aws" {
            svc.push_str(" (AWS range, service unknown)");
        }
        parts.push(svc);
        if let Some(tp) = &c.traffic_path {
            let v = match tp.verdict {
                TrafficPathVerdict::Agrees => "agrees",
                TrafficPathVerdict::Disagrees => "DISAGREES",
                TrafficPathVerdict::AmbiguousResolved => "ambiguous, resolved by the replay",
                TrafficPathVerdict::Unverifiable => "unverifiable",
            };
            parts.push(format!("traffic-path {} ({}) {v}", tp.code, tp.logged));
        }
        parts.join("; ")
    }

    /// The Amazon-provided DNS resolver: the VPC range's base + 2, or
    /// 169.254.169.253 / fd00:ec2::253, on port 53.
    fn is_vpc_resolver(flow: &Flow, index: &TopologyIndex) -> bool {
        if flow.dst_port != Some(53) {
            return false;
        }
        let Some(dst) = flow.effective_dst() else {
            return false;
        };
        if dst == IpAddr::from([169, 254, 169, 253])
            || dst == IpAddr::from([0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x253])
        {
            return true;
        }
        let t = flow.start.and_then(millis);
        index.snapshot_at(t).is_some_and(|s| {
            s.vpc_cidrs.iter().any(|net| match (net.network(), dst) {
                (IpAddr::V4(n), IpAddr::V4(d)) => u32::from(n).checked_add(2) == Some(u32::from(d)),
                _ => false,
            })
        })
    }

    /// The service name for queries to the VPC's own resolver (not `external`).
    pub const RESOLVER_SERVICE: &str = "dns";

    fn add(
        c: &mut Collector<'_>,
        notes: &mut Notes,
        flow: &Flow,
        cl: &Classification,
        index: &TopologyIndex,
    ) {
        let host = host_of(cl);
        let path = cl.path;
        let resolver = is_vpc_resolver(flow, index);
        let mut evidence = evidence_line(cl);
        if resolver {
            let by = format!("service {} by {}", cl.service, attributed(cl.attributed_by));
            evidence = evidence.replace(&by, "service dns: the VPC's Amazon-provided resolver");
        }
        let service: &str = if resolver {
            RESOLVER_SERVICE
        } else {
            &cl.service
        };
        c.add(Facts {
            flow,
            service,
            host: &host,
            path,
            outcome: cl.outcome,
            endpoint_id: if path.is_endpoint() {
                cl.evidence.endpoint_id()
            } else {
                None
            },
            evidence: &evidence,
        });
        if let Some(tp) = &cl.traffic_path {
            if tp.verdict == TrafficPathVerdict::Disagrees {
                let key = (
                    host.label(),
                    tp.code,
                    tp.logged.to_owned(),
                    tp.replayed.as_str().to_owned(),
                );
                *notes.disagreements.entry(key).or_insert(0) += 1;
            }
        }
        if path == PathKind::Unknown && host.eni.is_none() {
            let addr = host
                .address
                .map_or_else(|| "an unknown address".to_owned(), |a| a.to_string());
            *notes.unknown_hosts.entry(addr).or_insert(0) += 1;
        }
        if flow
            .capture
            .as_ref()
            .is_some_and(|cap| cap.capture_host.is_none())
        {
            *notes.untied.entry(flow.provenance.source).or_insert(0) += 1;
        }
    }

    fn millis(secs: u64) -> Option<i64> {
        i64::try_from(secs).ok().and_then(|s| s.checked_mul(1000))
    }

    fn host_of_addr(index: &TopologyIndex, addr: IpAddr, t: Option<i64>) -> Host {
        let eni = index.snapshot_at(t).and_then(|s| s.eni_at(addr, t));
        Host {
            instance_id: eni.and_then(|e| match &e.role {
                EniRole::Instance(i) => Some(i.clone()),
                _ => None,
            }),
            eni: eni.map(|e| e.id.clone()),
            address: Some(addr),
            subnet_id: eni.map(|e| e.subnet_id.clone()),
        }
    }

    fn resolution(index: &TopologyIndex, addr: IpAddr, t: Option<i64>) -> Resolution {
        let Some(snap) = index.snapshot_at(t) else {
            return Resolution::Public;
        };
        if let Some(e) = snap.eni_at(addr, t) {
            if let EniRole::InterfaceEndpoint(vpce) = &e.role {
                return Resolution::Endpoint {
                    endpoint_id: vpce.clone(),
                    eni: e.id.clone(),
                };
            }
        }
        if snap.in_vpc(addr) {
            Resolution::Private
        } else {
            Resolution::Public
        }
    }

    /// Each name as each host resolved it.
    fn dns_rows(index: &TopologyIndex, dns: &[DnsRecord]) -> Vec<DnsRow> {
        let mut rows: BTreeMap<(IpAddr, String), DnsRow> = BTreeMap::new();
        for r in dns.iter().filter(|r| !r.answers.is_empty()) {
            let t = millis(r.time);
            let name = r.query.trim_end_matches('.').to_ascii_lowercase();
            let named = classify::service_from_name(&name);
            let row = rows
                .entry((r.client, name.clone()))
                .or_insert_with(|| DnsRow {
                    host: host_of_addr(index, r.client, t),
                    service: named.as_ref().map(|n| n.service.clone()),
                    endpoint_specific: named.as_ref().is_some_and(|n| n.endpoint_specific),
                    name,
                    answers: Vec::new(),
                    first: r.time,
                    last: r.time,
                    responses: 0,
                });
            row.first = row.first.min(r.time);
            row.last = row.last.max(r.time);
            row.responses += 1;
            for &a in &r.answers {
                let ans = Answer {
                    address: a,
                    resolution: resolution(index, a, t),
                };
                if !row.answers.contains(&ans) {
                    row.answers.push(ans);
                }
            }
        }
        rows.into_values()
            .map(|mut r| {
                r.answers.sort();
                r
            })
            .collect()
    }

    fn list(addrs: &[IpAddr]) -> String {
        addrs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn private_dns_rows(
        index: &TopologyIndex,
        dns: &[DnsRecord],
        findings: &mut Vec<Finding>,
    ) -> Vec<PrivateDnsRow> {
        classify::private_dns(index, dns)
            .into_iter()
            .map(|v| {
                let verdict = match v.state {
                    PrivateDnsState::Effective => "effective",
                    PrivateDnsState::NotEffective => "not-effective",
                    PrivateDnsState::Mixed => "inconsistent",
                    PrivateDnsState::NotObserved => "not-observed",
                };
                let mut detail = format!("{}: {} answers", v.name, v.answers);
                if !v.private_on.is_empty() {
                    detail.push_str(&format!("; endpoint ENIs on {}", list(&v.private_on)));
                }
                if !v.public_on.is_empty() {
                    detail.push_str(&format!("; other addresses on {}", list(&v.public_on)));
                }
                if v.state == PrivateDnsState::Mixed {
                    findings.push(Finding {
                        kind: FindingKind::DnsInconsistency,
                        source: None,
                        message: format!(
                            "{} resolved to {}'s ENIs on {} but elsewhere on {}",
                            v.name,
                            v.endpoint_id,
                            list(&v.private_on),
                            list(&v.public_on)
                        ),
                        count: u64::try_from(v.answers).unwrap_or(u64::MAX),
                    });
                }
                PrivateDnsRow {
                    endpoint_id: v.endpoint_id,
                    service_name: v.service.to_string(),
                    enabled: v.configured,
                    verdict: verdict.to_owned(),
                    detail,
                }
            })
            .collect()
    }

    fn input_rows(sources: &[SourceSummary], findings: &mut Vec<Finding>) -> Vec<InputRow> {
        let mut rows = Vec::with_capacity(sources.len());
        for s in sources {
            let t = &s.tally;
            if let Some(e) = &t.error {
                findings.push(Finding {
                    kind: FindingKind::InputError,
                    source: Some(s.path.clone()),
                    message: e.clone(),
                    count: 1,
                });
            }
            let skipped = t.skipped_total();
            if skipped > 0 {
                let reasons: Vec<String> =
                    t.skipped.iter().map(|(r, n)| format!("{n} {r}")).collect();
                let mut message =
                    format!("{}: {skipped} bad records ({})", s.path, reasons.join(", "));
                if let Some(first) = t.examples.first() {
                    message.push_str(&format!("; first: {first}"));
                }
                findings.push(Finding {
                    kind: FindingKind::BadRecords,
                    source: Some(s.path.clone()),
                    message,
                    count: skipped,
                });
            }
            for (eni, n) in &t.skipdata {
                findings.push(Finding {
                    kind: FindingKind::Skipdata,
                    source: Some(s.path.clone()),
                    message: format!(
                        "{}: {eni}: {n} SKIPDATA records (AWS lost flow records)",
                        s.path
                    ),
                    count: *n,
                });
            }
            for w in &t.warnings {
                findings.push(Finding {
                    kind: FindingKind::Note,
                    source: Some(s.path.clone()),
                    message: w.clone(),
                    count: 1,
                });
            }
            rows.push(InputRow {
                path: s.path.clone(),
                kind: s.kind.as_str().to_owned(),
                records: t.records,
                packets: t.packets,
                flows: 0,
                skipped,
                nodata: t.nodata_total(),
                skipdata: t.skipdata_total(),
                error: t.error.clone(),
            });
        }
        rows
    }

    fn endpoint_marks(index: &TopologyIndex) -> Vec<Mark> {
        let mut marks = Vec::new();
        if let Some(snap) = index.snapshots().last() {
            for ep in &snap.endpoints {
                if let TimeGate::From(ms) = ep.gate {
                    let kind = match ep.kind {
                        EndpointKind::Gateway => "gateway",
                        EndpointKind::Interface => "interface",
                        _ => "endpoint",
                    };
                    marks.push(Mark {
                        time: u64::try_from(ms / 1000).unwrap_or(0),
                        label: format!("{} created ({kind})", ep.id),
                        service: Some(ep.service.clone()),
                    });
                }
            }
        }
        marks
    }

    /// Flows per progress-bar tick.
    const TICK: u64 = 4096;

    /// Keeps the flows (the classifier pairs replies with their egress flow,
    /// and DNS answers from captures name flow-log destinations, so
    /// classification needs the whole set) and ticks the progress bar.
    ///
    /// Each worker's flows stay in their own part, in input order; merging
    /// moves parts, and [`Sink::into_flows`] copies each flow once into a
    /// vector of the exact size (appending part after part would regrow,
    /// copy and fault in the whole set several times).
    struct Sink {
        /// The part being filled.
        flows: Vec<Flow>,
        /// Earlier parts, in order (`flows` follows the last one).
        done: Vec<Vec<Flow>>,
        bar: Option<indicatif::ProgressBar>,
        pending: u64,
    }

    impl Sink {
        fn into_flows(self) -> Vec<Flow> {
            let mut parts = self.done;
            parts.push(self.flows);
            privpath::ingest::join_all(parts)
        }
    }

    impl FlowSink for Sink {
        fn push(&mut self, flow: Flow) {
            self.flows.push(flow);
            self.pending += 1;
            if self.pending >= TICK {
                if let Some(b) = &self.bar {
                    b.inc(self.pending);
                }
                self.pending = 0;
            }
        }

        fn merge(&mut self, later: Sink) {
            for part in later.done.into_iter().chain([later.flows]) {
                if part.is_empty() {
                    continue;
                }
                if self.flows.is_empty() {
                    self.flows = part;
                } else {
                    self.done.push(std::mem::replace(&mut self.flows, part));
                }
            }
            if let Some(b) = &self.bar {
                b.inc(later.pending);
            }
        }

        fn reserve(&mut self, additional: usize) {
            self.flows.reserve_exact(additional);
        }
    }

    fn progress_bar(plan: &Plan) -> Option<indicatif::ProgressBar> {
        if !plan.progress {
            return None;
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} {msg}: {pos} flows ({per_sec}) {elapsed}",
        ) {
            bar.set_style(style);
        }
        bar.set_message("reading");
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Some(bar)
    }

    pub fn build(plan: &Plan) -> anyhow::Result<Report> {
        let topo = topology::load(&plan.topology)?;
        let index = TopologyIndex::build(&topo);
        let opts = plan.capture.apply(IngestOptions {
            log_format: plan.log_format.clone(),
            progress: plan.progress,
            ..IngestOptions::default()
        });
        let bar = progress_bar(plan);
        let ingested = super::super::cloudwatch_args::read_inputs_and_cloudwatch(
            &plan.inputs,
            &plan.cloudwatch,
            &opts,
            plan.quiet,
            || Sink {
                flows: Vec::new(),
                done: Vec::new(),
                bar: bar.clone(),
                pending: 0,
            },
        )?;
        let flows: Vec<Flow> = ingested.sink.into_flows();
        if let Some(b) = &bar {
            b.set_position(u64::try_from(flows.len()).unwrap_or(u64::MAX));
            b.set_message("classifying");
        }
        let names = NameIndex::build(&ingested.dns, &classify::sightings_from_flows(&flows));
        let convs = classify::classify_conversations(&flows, &index, &names);
        let source_names: Vec<String> = ingested.sources.iter().map(|s| s.path.clone()).collect();
        let keep = plan.keep_flows();
        let new = || {
            (
                Collector::new(&plan.expect, &source_names, keep),
                Notes::default(),
            )
        };
        let (collector, notes) = convs
            .conversations
            .par_iter()
            .fold(new, |(mut c, mut n), conv| {
                if let Some(flow) = flows.get(conv.flow) {
                    if flow.is_status_only() {
                        c.add_status_row();
                    } else {
                        add(&mut c, &mut n, flow, &conv.classification, &index);
                    }
                }
                (c, n)
            })
            .reduce(new, |(mut a, mut na), (b, nb)| {
                a.merge(b);
                na.merge(nb);
                (a, na)
            });

        let mut findings = Vec::new();
        let inputs = input_rows(&ingested.sources, &mut findings);
        for ((host, code, logged, replayed), n) in notes.disagreements {
            findings.push(Finding {
                kind: FindingKind::TrafficPathDisagreement,
                source: None,
                message: format!(
                    "{host}: traffic-path {code} ({logged}) but the topology replay says {replayed}"
                ),
                count: n,
            });
        }
        for (addr, n) in notes.unknown_hosts {
            findings.push(Finding {
                kind: FindingKind::UnknownHost,
                source: None,
                message: format!("{addr}: flows from a host missing in the topology"),
                count: n,
            });
        }
        for (src, n) in notes.untied {
            let name = source_names
                .get(usize::try_from(src.0).unwrap_or(usize::MAX))
                .cloned()
                .unwrap_or_default();
            findings.push(Finding {
                kind: FindingKind::UntiedCapture,
                source: Some(name.clone()),
                message: format!("{name}: capture flows not tied to a host (give --host)"),
                count: n,
            });
        }
        let unpaired = convs.unpaired.len();
        if unpaired > 0 {
            findings.push(Finding {
                kind: FindingKind::Note,
                source: None,
                message: "reply or inbound records without an egress flow (not in the verdicts)"
                    .to_owned(),
                count: u64::try_from(unpaired).unwrap_or(u64::MAX),
            });
        }
        if let Some(b) = &bar {
            b.set_message("aggregating");
        }
        let private_dns = private_dns_rows(&index, &ingested.dns, &mut findings);
        let report = build_report(ReportInput {
            finished: collector.finish(),
            dns: dns_rows(&index, &ingested.dns),
            private_dns,
            findings,
            inputs,
            marks: endpoint_marks(&index),
        })?;
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        Ok(report)
    }

    #[cfg(test)]
    #[allow(clippy::unwrap_used, clippy::indexing_slicing)]
    mod tests {
        use super::*;
        use privpath::flow::Provenance;

        fn sink(range: std::ops::Range<u64>) -> Sink {
            let mut s = Sink {
                flows: Vec::new(),
                done: Vec::new(),
                bar: None,
                pending: 0,
            };
            s.reserve(range.clone().count());
            for i in range {
                s.push(Flow {
                    provenance: Provenance {
                        source: SourceId(0),
                        index: i,
                    },
                    ..Flow::default()
                });
            }
            s
        }

        #[test]
        fn sink_parts_merge_and_join_in_input_order() {
            // Per-chunk sinks merged into per-input sinks, those into the
            // run's (empty parts, a part pushed to after a merge, nesting).
            let mut a = sink(0..0);
            a.merge(sink(0..3));
            a.merge(sink(3..3));
            a.merge(sink(3..10));
            let mut b = sink(10..11);
            b.merge(sink(11..20));
            let mut run = sink(0..0);
            run.merge(a);
            run.merge(sink(20..20));
            run.merge(b);
            run.push(Flow {
                provenance: Provenance {
                    source: SourceId(0),
                    index: 20,
                },
                ..Flow::default()
            });
            assert_eq!(run.done.len(), 3);
            let flows = run.into_flows();
            let got: Vec<u64> = flows.iter().map(|f| f.provenance.index).collect();
            assert_eq!(got, (0..21).collect::<Vec<_>>());
            assert_eq!(flows.capacity(), 21);
            // One part only: moved out, not copied.
            let one = sink(0..5);
            let ptr = one.flows.as_ptr();
            let moved = one.into_flows();
            assert_eq!(moved.as_ptr(), ptr);
        }
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

    #[test]
    fn plan_outputs_needs_a_folder_for_several_formats() {
        let err = plan_outputs(&[Format::Json, Format::Html], None).unwrap_err();
        assert_eq!(err.to_string(), "several -o formats need --out DIR");
        let dir = tempfile::tempdir().unwrap();
        let t = plan_outputs(&[Format::Json, Format::Junit], Some(dir.path())).unwrap();
        assert_eq!(t.len(), 2);
        assert!(dir.path().join("audit.json").is_file());
        assert!(dir.path().join("junit.xml").is_file());
        let file = dir.path().join("one.md");
        plan_outputs(&[Format::Markdown], Some(&file)).unwrap();
        assert!(file.is_file());
    }

    #[test]
    fn expand_case_separates_topology_and_expectations() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("topology")).unwrap();
        std::fs::create_dir(dir.path().join("flowlogs")).unwrap();
        std::fs::write(dir.path().join("expect.toml"), "expect = []").unwrap();
        std::fs::write(dir.path().join("a.pcap"), "").unwrap();
        std::fs::write(dir.path().join(".hidden"), "").unwrap();
        assert!(is_case_folder(dir.path()));
        let (evidence, topo, expect) = expand_case(dir.path()).unwrap();
        assert_eq!(
            evidence,
            vec![dir.path().join("a.pcap"), dir.path().join("flowlogs")]
        );
        assert_eq!(topo, dir.path().join("topology"));
        assert_eq!(expect, Some(dir.path().join("expect.toml")));
    }
}
