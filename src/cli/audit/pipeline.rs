//! Ingest, classify, collect, aggregate.

use std::collections::BTreeMap;
use std::net::IpAddr;

use rayon::prelude::*;

use super::Plan;
use privpath::audit::Class;
use privpath::classify::api_calls::NatUses;
use privpath::classify::{
    self, AttributionSource, Classification, NameIndex, PathClass, PrivateDnsState, TimeRule,
    TrafficPathVerdict,
};
use privpath::flow::{DnsRecord, Flow, SourceId, SourceKind};
use privpath::ingest::{FlowSink, Parts, SourceSummary};
use privpath::report::aggregate::{ReportInput, build_report};
use privpath::report::collect::{Collector, Facts};
use privpath::report::{
    Answer, DNS_SOURCE_CAPTURE, DNS_SOURCE_RESOLVER, DnsRow, Finding, FindingKind, Host, HostTable,
    InputRow, Mark, PathKind, PrivateDnsRow, Report, Resolution,
};
use privpath::topology::{self, EndpointKind, EniRole, Text, TimeGate, TopologyIndex};

/// Findings gathered next to the collector (mergeable).
#[derive(Debug, Default)]
pub(super) struct Notes {
    /// (host, code, logged, replayed) -> flows.
    disagreements: BTreeMap<(String, u8, String, String), u64>,
    /// Source addresses missing in the topology.
    unknown_hosts: BTreeMap<String, u64>,
    /// Capture flows with no capturing host, per input.
    untied: BTreeMap<SourceId, u64>,
    /// When hosts' flows went through NAT gateways: ties CloudTrail calls
    /// from a NAT's address to their host.
    pub(super) nat_uses: NatUses,
}

impl Notes {
    pub(super) fn merge(&mut self, other: Notes) {
        for (k, v) in other.disagreements {
            *self.disagreements.entry(k).or_insert(0) += v;
        }
        for (k, v) in other.unknown_hosts {
            *self.unknown_hosts.entry(k).or_insert(0) += v;
        }
        for (k, v) in other.untied {
            *self.untied.entry(k).or_insert(0) += v;
        }
        self.nat_uses.merge(other.nat_uses);
    }

    /// The notes as findings, in a fixed order.
    pub(super) fn into_findings(self, source_names: &[String], findings: &mut Vec<Finding>) {
        for ((host, code, logged, replayed), n) in self.disagreements {
            findings.push(Finding {
                kind: FindingKind::TrafficPathDisagreement,
                source: None,
                message: format!(
                    "{host}: traffic-path {code} ({logged}) but the topology replay says {replayed}"
                ),
                count: n,
            });
        }
        for (addr, n) in self.unknown_hosts {
            findings.push(Finding {
                kind: FindingKind::UnknownHost,
                source: None,
                message: format!("{addr}: flows from a host missing in the topology"),
                count: n,
            });
        }
        for (src, n) in self.untied {
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
    }
}

/// The instance (or ENI) that sent the flow, with all its addresses.
fn host_of(c: &Classification, hosts: &HostTable) -> Host {
    hosts.of(c.evidence.eni, c.host)
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

/// How the service was attributed: `service s3 by prefix list pl-…`,
/// `service vpc: 10.0.1.20 is in the VPC (eni-…, i-…)`.
fn service_part(c: &Classification) -> String {
    let mut svc = if c.attributed_by == AttributionSource::None && c.attributions.vpc_peer.is_some()
    {
        format!("service {}:", c.service)
    } else {
        format!("service {} by {}", c.service, attributed(c.attributed_by))
    };
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
    if let (Some(v), Some(peer)) = (&c.attributions.vpc_peer, c.peer) {
        let known: Vec<&str> = [v.eni, v.owner]
            .into_iter()
            .flatten()
            .map(|t| t.as_str())
            .collect();
        if c.attributed_by != AttributionSource::None {
            svc.push(';');
        }
        svc.push_str(&format!(" {peer} is in the VPC"));
        if !known.is_empty() {
            svc.push_str(&format!(" ({})", known.join(", ")));
        }
    }
    svc
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
    parts.push(service_part(c));
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

/// The topology's region, for prices: its endpoints' region, else a subnet's
/// availability zone without the zone letter (the latest snapshot first).
pub(super) fn region_of(topo: &topology::Topology) -> Option<String> {
    for s in topo.snapshots.iter().rev() {
        if let Some(r) = s.endpoints.values().find_map(|e| e.region.as_deref()) {
            return Some(r.to_owned());
        }
        if let Some(az) = s
            .subnets
            .values()
            .find_map(|n| n.availability_zone.as_deref())
        {
            let r = az.trim_end_matches(|c: char| c.is_ascii_lowercase());
            if r.len() < az.len() && r.ends_with(|c: char| c.is_ascii_digit()) {
                return Some(r.to_owned());
            }
        }
    }
    None
}

/// The service name for queries to the VPC's own resolver (not `external`).
pub const RESOLVER_SERVICE: &str = "dns";

/// What the report files one classified egress flow under, and the
/// findings it adds to `notes` (disagreements, unknown hosts, untied
/// capture flows): everything but its outcome, which the pairing settles.
pub(super) fn describe(
    notes: &mut Notes,
    flow: &Flow,
    cl: &Classification,
    (index, hosts): (&TopologyIndex, &HostTable),
) -> Class {
    let host = host_of(cl, hosts);
    let path = cl.path;
    let resolver = is_vpc_resolver(flow, index);
    let mut evidence = evidence_line(cl);
    if resolver {
        evidence = evidence.replace(
            &service_part(cl),
            "service dns: the VPC's Amazon-provided resolver",
        );
    }
    let service: &str = if resolver {
        RESOLVER_SERVICE
    } else {
        &cl.service
    };
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
    if path == PathKind::NatGateway {
        if let (Some(nat), Some(addr)) = (cl.evidence.route_target(), cl.host) {
            let start = flow.start.unwrap_or(0);
            notes
                .nat_uses
                .add(nat, service, addr, start, flow.end.unwrap_or(start));
        }
    }
    if path == PathKind::Unknown && host.enis.is_empty() {
        let addr = cl
            .host
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
    Class {
        service: Text::from(service),
        endpoint_id: if path.is_endpoint() {
            cl.evidence.endpoint_id().map(Text::from)
        } else {
            None
        },
        host,
        path,
        evidence,
    }
}

fn add(
    c: &mut Collector<'_>,
    notes: &mut Notes,
    (at, flow): (usize, &Flow),
    cl: &Classification,
    ctx: (&TopologyIndex, &HostTable),
) {
    let d = describe(notes, flow, cl, ctx);
    c.add(Facts {
        flow,
        index: at,
        service: &d.service,
        host: &d.host,
        path: d.path,
        outcome: cl.outcome,
        endpoint_id: d.endpoint_id.as_deref(),
        evidence: &d.evidence,
    });
}

pub(super) fn millis(secs: u64) -> Option<i64> {
    i64::try_from(secs).ok().and_then(|s| s.checked_mul(1000))
}

pub(super) fn host_of_addr(
    index: &TopologyIndex,
    hosts: &HostTable,
    addr: IpAddr,
    t: Option<i64>,
) -> Host {
    let eni = index.snapshot_at(t).and_then(|s| s.eni_at(addr, t));
    hosts.of(eni, Some(addr))
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

/// Each name as each host resolved it (a dual-stack host's queries over
/// IPv4 and IPv6 are one row), per source: captures or Resolver query logs
/// (`kinds[i]` is the kind of `SourceId(i)`).
pub(super) fn dns_rows(
    index: &TopologyIndex,
    hosts: &HostTable,
    dns: &[DnsRecord],
    kinds: &[SourceKind],
) -> Vec<DnsRow> {
    let mut rows: BTreeMap<(Host, String, &'static str), DnsRow> = BTreeMap::new();
    for r in dns.iter().filter(|r| !r.answers.is_empty()) {
        let t = millis(r.time);
        let name = r.query.trim_end_matches('.').to_ascii_lowercase();
        let named = classify::service_from_name(&name);
        let host = host_of_addr(index, hosts, r.client, t);
        let kind = usize::try_from(r.provenance.source.0)
            .ok()
            .and_then(|i| kinds.get(i));
        let source = if kind == Some(&SourceKind::ResolverQueryLog) {
            DNS_SOURCE_RESOLVER
        } else {
            DNS_SOURCE_CAPTURE
        };
        let row = rows
            .entry((host.clone(), name.clone(), source))
            .or_insert_with(|| DnsRow {
                host,
                service: named.as_ref().map(|n| n.service.clone()),
                source,
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

pub(super) fn private_dns_rows(
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

pub(super) fn input_rows(sources: &[SourceSummary], findings: &mut Vec<Finding>) -> Vec<InputRow> {
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
            let reasons: Vec<String> = t.skipped.iter().map(|(r, n)| format!("{n} {r}")).collect();
            let mut message = format!("{}: {skipped} bad records ({})", s.path, reasons.join(", "));
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
            duplicates: 0,
            error: t.error.clone(),
        });
    }
    rows
}

pub(super) fn endpoint_marks(index: &TopologyIndex) -> Vec<Mark> {
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
/// moves parts, and [`Sink::into_flows`] hands them on as they are (a
/// joined copy would double the peak memory of a large log).
struct Sink {
    flows: Parts<Flow>,
    bar: Option<indicatif::ProgressBar>,
    pending: u64,
}

impl Sink {
    fn into_flows(self) -> Parts<Flow> {
        self.flows
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
        self.flows.append(later.flows);
        if let Some(b) = &self.bar {
            b.inc(later.pending);
        }
    }

    fn reserve(&mut self, additional: usize) {
        self.flows.reserve(additional);
    }
}

pub(super) fn progress_bar(plan: &Plan) -> Option<indicatif::ProgressBar> {
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

/// The audit's report: streamed (memory bounded by what the report holds,
/// see [`privpath::audit`]), or with every record held when a record output
/// (`-o csv|parquet`) needs the flows, or when `--held` asks for it.
/// The audit: streamed (per-flow outputs written to temporary runs), or
/// with every record held (`--held`, which tests compare against).
pub fn build(plan: &Plan) -> anyhow::Result<(Report, Option<super::stream::StreamedFlows>)> {
    if plan.held {
        Ok((build_held(plan)?, None))
    } else {
        super::stream::build(plan, plan.keep_flows())
    }
}

/// The audit with every record held (the record outputs read them).
fn build_held(plan: &Plan) -> anyhow::Result<Report> {
    let topo = topology::load(&plan.topology)?;
    let index = TopologyIndex::build(&topo);
    let hosts = HostTable::new(&index);
    let opts = plan.ingest_options();
    let bar = progress_bar(plan);
    let ingested = super::super::cloudwatch_args::read_inputs_and_cloudwatch(
        &plan.inputs,
        &plan.cloudwatch,
        &opts,
        plan.quiet,
        || Sink {
            flows: Parts::default(),
            bar: bar.clone(),
            pending: 0,
        },
    )?;
    let flows: Parts<Flow> = ingested.sink.into_flows();
    if let Some(b) = &bar {
        b.set_position(u64::try_from(flows.len()).unwrap_or(u64::MAX));
        b.set_message("classifying");
    }
    let names = NameIndex::build(&ingested.dns, &classify::sightings_from_flows(flows.iter()));
    let convs = classify::classify_conversations(&flows, &index, &names);
    let source_names: Vec<String> = ingested.sources.iter().map(|s| s.path.clone()).collect();
    let keep = plan.keep_flows();
    let new = || {
        (
            Collector::new(&plan.expect, &source_names, keep).with_examples(plan.examples),
            Notes::default(),
        )
    };
    let (collector, mut notes) = convs
        .par_iter()
        .fold(new, |(mut c, mut n), conv| {
            if let Some(flow) = flows.get(conv.flow) {
                if flow.is_status_only() {
                    c.add_status_row();
                } else {
                    add(
                        &mut c,
                        &mut n,
                        (conv.flow, flow),
                        &conv.classification,
                        (&index, &hosts),
                    );
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
    let notes_nat = std::mem::take(&mut notes.nat_uses);
    notes.into_findings(&source_names, &mut findings);
    let unpaired = convs.unpaired.len();
    // The flows move into the kept records (for `-o csv|parquet`); the
    // conversations borrow them until here.
    drop(convs);
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
    let kinds: Vec<SourceKind> = ingested.sources.iter().map(|s| s.kind).collect();
    let nat_uses = notes_nat;
    let mut report = build_report(ReportInput {
        finished: collector.finish(flows),
        dns: dns_rows(&index, &hosts, &ingested.dns, &kinds),
        private_dns,
        findings,
        inputs,
        marks: endpoint_marks(&index),
    })?;
    report.pricing = Some(plan.prices.for_region(region_of(&topo).as_deref()));
    super::api_calls::add_to_report(
        &mut report,
        &ingested.api_calls,
        (&topo, &index, &hosts),
        &nat_uses.to_vec(),
        (&plan.expect, plan.examples),
        &source_names,
    );
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
            flows: Parts::default(),
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
    fn sink_parts_merge_in_input_order() {
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
        let flows = run.into_flows();
        assert_eq!(flows.part_count(), 4);
        let got: Vec<u64> = flows.iter().map(|f| f.provenance.index).collect();
        assert_eq!(got, (0..21).collect::<Vec<_>>());
        for i in 0..21 {
            assert_eq!(flows.get(i).map(|f| f.provenance.index), Some(i as u64));
        }
    }
}
