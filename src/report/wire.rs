//! The JSON schema `privpath.audit/v1`: serialize-only types, separate from
//! the report model so the wire format changes only on purpose. Times are
//! RFC 3339 UTC strings; every list is sorted as in [`super::Report`].

use serde::Serialize;

use super::{
    DnsRow, EndpointRow, ExpectationResult, Finding, Host, HostResult, InputRow, PathRow, Report,
    Resolution, Verdict, VerdictRow, Violation, format_time,
};

pub const SCHEMA: &str = "privpath.audit/v1";

#[derive(Debug, Serialize)]
pub struct AuditV1<'a> {
    pub schema: &'static str,
    pub summary: SummaryW,
    pub window: WindowW,
    pub verdicts: Vec<VerdictW<'a>>,
    pub endpoints: Vec<EndpointW<'a>>,
    pub timeline: TimelineW<'a>,
    pub dns: Vec<DnsW<'a>>,
    pub private_dns: Vec<PrivateDnsW<'a>>,
    pub api_calls: Vec<ApiCallW<'a>>,
    pub expectations: Vec<ExpectationW<'a>>,
    pub findings: Vec<FindingW<'a>>,
    pub inputs: Vec<InputW<'a>>,
    /// The cost estimate per service × path (absent without prices).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub costs: Option<CostsW>,
}

/// What a path's bytes cost, estimated from list prices.
#[derive(Debug, Serialize)]
pub struct CostW {
    pub usd: f64,
    pub per_gb: f64,
    pub basis: String,
}

impl CostW {
    fn from(c: super::cost::Cost) -> CostW {
        CostW {
            usd: c.usd,
            per_gb: c.per_gb,
            basis: c.basis,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct CostsW {
    /// Always true: list prices times bytes, not a bill.
    pub estimate: bool,
    pub note: String,
    pub region: String,
    pub prices: String,
    pub rows: Vec<CostRowW>,
}

#[derive(Debug, Serialize)]
pub struct CostRowW {
    pub service: String,
    pub path: &'static str,
    pub flows: u64,
    pub bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<CostW>,
    /// The endpoint that would carry these bytes privately, and its charge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_instead: Option<InsteadW>,
}

#[derive(Debug, Serialize)]
pub struct InsteadW {
    pub path: &'static str,
    pub cost: CostW,
}

#[derive(Debug, Serialize)]
pub struct SummaryW {
    /// Number of service × host rows per verdict (every verdict present).
    pub verdicts: std::collections::BTreeMap<&'static str, u64>,
    pub expectations: u64,
    pub expectations_failed: u64,
    pub findings: u64,
}

#[derive(Debug, Serialize)]
pub struct WindowW {
    pub since: Option<String>,
    pub until: Option<String>,
    pub first: Option<String>,
    pub last: Option<String>,
}

/// A host: an instance (or an ENI without one) with all its ENIs and
/// addresses. `eni`, `address` and `subnet_id` are the primary ones (as
/// before `enis` and `addresses` were added: same meaning, still v1).
#[derive(Debug, Serialize)]
pub struct HostW<'a> {
    pub instance_id: Option<&'a str>,
    pub eni: Option<&'a str>,
    pub address: Option<String>,
    pub subnet_id: Option<&'a str>,
    /// Every ENI, the primary first.
    pub enis: Vec<&'a str>,
    /// Every address (IPv4 and IPv6), the primary first.
    pub addresses: Vec<String>,
}

impl<'a> HostW<'a> {
    pub fn from(h: &'a Host) -> HostW<'a> {
        HostW {
            instance_id: h.instance_id.as_deref(),
            eni: h.eni().map(|e| e.as_str()),
            address: h.address().map(|a| a.to_string()),
            subnet_id: h.subnet_id().map(|s| s.as_str()),
            enis: h.enis.iter().map(|e| e.as_str()).collect(),
            addresses: h.addresses.iter().map(ToString::to_string).collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct VerdictW<'a> {
    pub service: &'a str,
    pub host: HostW<'a>,
    pub verdict: &'static str,
    /// For `mixed`: the last flow over a public path, the first answered private one.
    pub last_public: Option<String>,
    pub first_private: Option<String>,
    pub paths: Vec<PathW<'a>>,
}

#[derive(Debug, Serialize)]
pub struct PathW<'a> {
    pub path: &'static str,
    pub flows: u64,
    pub packets: u64,
    pub bytes: u64,
    pub first: String,
    pub last: String,
    /// `answered`, `unanswered`, `rejected`, `unknown` or `mixed`.
    pub outcome: &'static str,
    pub outcomes: OutcomesW,
    /// API calls CloudTrail recorded on this path.
    pub calls: u64,
    pub evidence: Vec<&'a str>,
    /// The same lines with the flows each covers and example records.
    pub evidence_detail: &'a [super::EvidenceLine],
    /// The estimated charge of these bytes (absent where no price applies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<CostW>,
    /// The first `--examples` flows (default 20) by time, with their input
    /// file and line.
    pub examples: Vec<ExampleW<'a>>,
    /// Flows of this path not listed in `examples`.
    pub examples_more: u64,
}

/// One flow of a path, enough to find it again.
#[derive(Debug, Serialize)]
pub struct ExampleW<'a> {
    pub time: String,
    pub destination: &'a str,
    pub outcome: Option<&'static str>,
    /// `file:line` (the input and the record index).
    pub source: &'a str,
}

/// Calls of one service × host × principal × event × path (CloudTrail).
#[derive(Debug, Serialize)]
pub struct ApiCallW<'a> {
    pub service: &'a str,
    /// `null` when the calling host is not known (a NAT shared by hosts).
    pub host: Option<HostW<'a>>,
    pub principal: &'a str,
    pub event_name: &'a str,
    /// `interface-endpoint`, `gateway-endpoint`, `nat-gateway`,
    /// `internet-gateway`, `aws-internal`, `external` or `unknown`.
    pub path: &'static str,
    /// The VPC endpoint or NAT gateway the calls went through.
    pub endpoint: Option<&'a str>,
    pub calls: u64,
    pub denied: u64,
    /// Network activity events of the endpoint (the same calls may also be
    /// in a row of management events).
    pub network_activity: bool,
    pub first: String,
    pub last: String,
    pub source_ip: &'a str,
    pub evidence: &'a str,
    /// Where the first call was read (`file:line`, `file:Records[i]`).
    pub example: &'a str,
}

#[derive(Debug, Serialize)]
pub struct OutcomesW {
    pub answered: u64,
    pub unanswered: u64,
    pub rejected: u64,
    pub unknown: u64,
}

#[derive(Debug, Serialize)]
pub struct EndpointW<'a> {
    pub endpoint_id: &'a str,
    pub path: &'static str,
    pub service: &'a str,
    pub hosts: u64,
    pub flows: u64,
    pub bytes: u64,
    pub first: String,
    pub last: String,
}

#[derive(Debug, Serialize)]
pub struct TimelineW<'a> {
    pub bucket_seconds: u64,
    pub series: Vec<SeriesW<'a>>,
    pub marks: Vec<MarkW<'a>>,
}

#[derive(Debug, Serialize)]
pub struct SeriesW<'a> {
    pub service: &'a str,
    pub path: &'static str,
    /// `[bucket start, bytes]` pairs; empty buckets are left out.
    pub points: Vec<(String, u64)>,
}

#[derive(Debug, Serialize)]
pub struct MarkW<'a> {
    pub time: String,
    pub label: &'a str,
    pub service: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct DnsW<'a> {
    pub host: HostW<'a>,
    pub name: &'a str,
    pub service: Option<&'a str>,
    /// `capture` or `resolver-query-log`.
    pub source: &'static str,
    /// `vpce-….<service>.<region>.vpce.amazonaws.com`: not checked by `--expect-dns`.
    pub endpoint_specific: bool,
    /// `private`, `public`, `mixed` or `none`.
    pub resolution: &'static str,
    pub answers: Vec<AnswerW<'a>>,
    pub first: String,
    pub last: String,
    pub responses: u64,
}

#[derive(Debug, Serialize)]
pub struct AnswerW<'a> {
    pub address: String,
    /// `endpoint`, `private` or `public`.
    pub resolution: &'static str,
    pub endpoint_id: Option<&'a str>,
    pub eni: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct PrivateDnsW<'a> {
    pub endpoint_id: &'a str,
    pub service_name: &'a str,
    pub private_dns_enabled: Option<bool>,
    pub verdict: &'a str,
    pub detail: &'a str,
}

#[derive(Debug, Serialize)]
pub struct ExpectationW<'a> {
    pub expect: &'a str,
    pub origin: &'a str,
    pub met: bool,
    pub violations_total: u64,
    /// The offending flows (or DNS answers) of every host, sorted by time;
    /// at most `--examples` (default 20) per host.
    pub violations: Vec<ViolationW<'a>>,
    pub hosts: Vec<HostResultW<'a>>,
}

#[derive(Debug, Serialize)]
pub struct HostResultW<'a> {
    pub host: Option<HostW<'a>>,
    pub met: bool,
    pub flows: u64,
    pub violations_total: u64,
    pub note: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct ViolationW<'a> {
    pub time: String,
    pub host: HostW<'a>,
    pub destination: &'a str,
    pub path: Option<&'static str>,
    pub outcome: Option<&'static str>,
    pub evidence: &'a str,
    pub source: &'a str,
}

#[derive(Debug, Serialize)]
pub struct FindingW<'a> {
    pub kind: &'static str,
    pub source: Option<&'a str>,
    pub message: &'a str,
    pub count: u64,
}

#[derive(Debug, Serialize)]
pub struct InputW<'a> {
    pub path: &'a str,
    pub kind: &'a str,
    pub records: u64,
    pub packets: u64,
    pub flows: u64,
    pub skipped: u64,
    pub nodata: u64,
    pub skipdata: u64,
    /// Records delivered again, counted once (absent when none).
    #[serde(skip_serializing_if = "is_zero")]
    pub duplicates: u64,
    pub error: Option<&'a str>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn path_w<'a>(p: &'a PathRow, pricing: Option<&super::cost::Pricing>) -> PathW<'a> {
    PathW {
        cost: pricing
            .and_then(|c| c.cost(p.path, p.bytes))
            .map(CostW::from),
        path: p.path.as_str(),
        flows: p.flows,
        packets: p.packets,
        bytes: p.bytes,
        first: format_time(p.first),
        last: format_time(p.last),
        outcome: p.outcomes.summary(),
        outcomes: OutcomesW {
            answered: p.outcomes.answered,
            unanswered: p.outcomes.unanswered,
            rejected: p.outcomes.rejected,
            unknown: p.outcomes.unknown,
        },
        calls: p.calls,
        evidence: p.evidence.iter().map(|e| e.text.as_str()).collect(),
        evidence_detail: &p.evidence,
        examples: p
            .examples
            .iter()
            .map(|v| ExampleW {
                time: format_time(v.time),
                destination: &v.destination,
                outcome: v.outcome.map(|o| o.as_str()),
                source: &v.source,
            })
            .collect(),
        examples_more: p.examples_more(),
    }
}

fn verdict_w<'a>(v: &'a VerdictRow, pricing: Option<&super::cost::Pricing>) -> VerdictW<'a> {
    VerdictW {
        service: &v.service,
        host: HostW::from(&v.host),
        verdict: v.verdict.as_str(),
        last_public: v.last_public.map(format_time),
        first_private: v.first_private.map(format_time),
        paths: v.paths.iter().map(|p| path_w(p, pricing)).collect(),
    }
}

fn endpoint_w(e: &EndpointRow) -> EndpointW<'_> {
    EndpointW {
        endpoint_id: &e.endpoint_id,
        path: e.path.as_str(),
        service: &e.service,
        hosts: e.hosts,
        flows: e.flows,
        bytes: e.bytes,
        first: format_time(e.first),
        last: format_time(e.last),
    }
}

fn dns_w(d: &DnsRow) -> DnsW<'_> {
    DnsW {
        host: HostW::from(&d.host),
        name: &d.name,
        service: d.service.as_deref(),
        source: d.source,
        endpoint_specific: d.endpoint_specific,
        resolution: d.summary(),
        answers: d
            .answers
            .iter()
            .map(|a| {
                let (resolution, endpoint_id, eni) = match &a.resolution {
                    Resolution::Endpoint { endpoint_id, eni } => {
                        ("endpoint", Some(endpoint_id.as_str()), Some(eni.as_str()))
                    }
                    Resolution::Private => ("private", None, None),
                    Resolution::Public => ("public", None, None),
                };
                AnswerW {
                    address: a.address.to_string(),
                    resolution,
                    endpoint_id,
                    eni,
                }
            })
            .collect(),
        first: format_time(d.first),
        last: format_time(d.last),
        responses: d.responses,
    }
}

fn violation_w(v: &Violation) -> ViolationW<'_> {
    ViolationW {
        time: format_time(v.time),
        host: HostW::from(&v.host),
        destination: &v.destination,
        path: v.path.map(|p| p.as_str()),
        outcome: v.outcome.map(|o| o.as_str()),
        evidence: &v.evidence,
        source: &v.source,
    }
}

fn host_result_w(h: &HostResult) -> HostResultW<'_> {
    HostResultW {
        host: h.host.as_ref().map(HostW::from),
        met: h.met,
        flows: h.flows,
        violations_total: h.violations_total,
        note: h.note.as_deref(),
    }
}

fn expectation_w(e: &ExpectationResult) -> ExpectationW<'_> {
    let mut violations: Vec<&Violation> =
        e.hosts.iter().flat_map(|h| h.violations.iter()).collect();
    violations.sort();
    ExpectationW {
        expect: &e.expect,
        origin: &e.origin,
        met: e.met,
        violations_total: e.violations_total(),
        violations: violations.into_iter().map(violation_w).collect(),
        hosts: e.hosts.iter().map(host_result_w).collect(),
    }
}

fn finding_w(f: &Finding) -> FindingW<'_> {
    FindingW {
        kind: f.kind.as_str(),
        source: f.source.as_deref(),
        message: &f.message,
        count: f.count,
    }
}

fn input_w(i: &InputRow) -> InputW<'_> {
    InputW {
        path: &i.path,
        kind: &i.kind,
        records: i.records,
        packets: i.packets,
        flows: i.flows,
        skipped: i.skipped,
        nodata: i.nodata,
        skipdata: i.skipdata,
        duplicates: i.duplicates,
        error: i.error.as_deref(),
    }
}

/// The whole report in wire form.
pub fn to_wire(r: &Report) -> AuditV1<'_> {
    let mut counts = std::collections::BTreeMap::new();
    for v in [
        Verdict::Private,
        Verdict::Public,
        Verdict::Blocked,
        Verdict::Mixed,
        Verdict::NoTraffic,
        Verdict::Unknown,
    ] {
        counts.insert(v.as_str(), 0u64);
    }
    for v in &r.verdicts {
        *counts.entry(v.verdict.as_str()).or_insert(0) += 1;
    }
    AuditV1 {
        schema: SCHEMA,
        summary: SummaryW {
            verdicts: counts,
            expectations: u64::try_from(r.expectations.len()).unwrap_or(u64::MAX),
            expectations_failed: u64::try_from(r.failed_expectations()).unwrap_or(u64::MAX),
            findings: u64::try_from(r.findings.len()).unwrap_or(u64::MAX),
        },
        window: WindowW {
            since: r.window.since.map(format_time),
            until: r.window.until.map(format_time),
            first: r.window.first.map(format_time),
            last: r.window.last.map(format_time),
        },
        verdicts: r
            .verdicts
            .iter()
            .map(|v| verdict_w(v, r.pricing.as_ref()))
            .collect(),
        endpoints: r.endpoints.iter().map(endpoint_w).collect(),
        timeline: TimelineW {
            bucket_seconds: r.timeline.bucket_secs,
            series: r
                .timeline
                .series
                .iter()
                .map(|s| SeriesW {
                    service: &s.service,
                    path: s.path.as_str(),
                    points: s
                        .points
                        .iter()
                        .map(|(t, b)| (format_time(*t), *b))
                        .collect(),
                })
                .collect(),
            marks: r
                .timeline
                .marks
                .iter()
                .map(|m| MarkW {
                    time: format_time(m.time),
                    label: &m.label,
                    service: m.service.as_deref(),
                })
                .collect(),
        },
        dns: r.dns.iter().map(dns_w).collect(),
        private_dns: r
            .private_dns
            .iter()
            .map(|p| PrivateDnsW {
                endpoint_id: &p.endpoint_id,
                service_name: &p.service_name,
                private_dns_enabled: p.enabled,
                verdict: &p.verdict,
                detail: &p.detail,
            })
            .collect(),
        api_calls: r
            .api_calls
            .iter()
            .map(|c| ApiCallW {
                service: &c.service,
                host: c.host.as_ref().map(HostW::from),
                principal: &c.principal,
                event_name: &c.event_name,
                path: c.path.as_str(),
                endpoint: c.endpoint.as_deref(),
                calls: c.calls,
                denied: c.denied,
                network_activity: c.network_activity,
                first: format_time(c.first),
                last: format_time(c.last),
                source_ip: &c.source_ip,
                evidence: &c.evidence,
                example: &c.example,
            })
            .collect(),
        expectations: r.expectations.iter().map(expectation_w).collect(),
        findings: r.findings.iter().map(finding_w).collect(),
        inputs: r.inputs.iter().map(input_w).collect(),
        costs: r.pricing.as_ref().map(|p| CostsW {
            estimate: true,
            note: super::cost::estimate_note(p),
            region: p.region.clone(),
            prices: format!("{} ({})", p.file, p.date),
            rows: super::cost::cost_rows(r)
                .into_iter()
                .map(|c| CostRowW {
                    path: c.path.as_str(),
                    flows: c.flows,
                    bytes: c.bytes,
                    cost: c.cost.map(CostW::from),
                    endpoint_instead: c.instead.map(|(path, cost)| InsteadW {
                        path: path.as_str(),
                        cost: CostW::from(cost),
                    }),
                    service: c.service,
                })
                .collect(),
        }),
    }
}
