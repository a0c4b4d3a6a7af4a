//! API calls CloudTrail recorded, in the report: grouped per service × host
//! × principal × event × path, joined into the verdicts (a call is evidence
//! of its path as a flow is: a host whose flows look private but whose calls
//! came from the NAT's address is `mixed`) and checked by the expectations
//! (`--expect cloudformation=interface-endpoint` fails on a call that did not
//! come through the endpoint). `aws-internal` and `external` calls are not a
//! path of the VPC: they are listed, never joined or checked.

use std::collections::BTreeMap;

use serde::Serialize;

use super::expect::ExpectSet;
use super::{
    EvidenceLine, ExpectationResult, Host, HostResult, MAX_EVIDENCE, Outcome, OutcomeCounts,
    PathRow, Verdict, VerdictRow, Violation,
};
use crate::classify::api_calls::{ApiPath, CallPath};
use crate::flow::{ApiCall, Text};

/// One classified call, as the pipeline hands it over.
#[derive(Debug, Clone)]
pub struct CallFacts<'a> {
    pub call: &'a ApiCall,
    pub path: CallPath,
    /// The calling host, when the path names one the topology knows.
    pub host: Option<Host>,
    /// `file:line` or `file:Records[i]` of the record.
    pub source: String,
}

/// Calls of one service from one host by one principal, one event name,
/// over one path and endpoint from one source address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiCallRow {
    pub service: Text,
    pub host: Option<Host>,
    /// The principal's ARN (else its id, else the invoking service).
    pub principal: String,
    pub event_name: Text,
    pub path: ApiPath,
    /// The VPC endpoint, or the NAT gateway, the calls went through.
    pub endpoint: Option<Text>,
    /// `sourceIPAddress` as logged.
    pub source_ip: String,
    pub calls: u64,
    /// Calls refused (`errorCode` …AccessDenied, e.g. `VpceAccessDenied`).
    pub denied: u64,
    /// The calls are network activity events of the endpoint (the same calls
    /// may also be in a management-event row).
    pub network_activity: bool,
    /// Unix seconds of the first and last call.
    pub first: u64,
    pub last: u64,
    /// Why the path (the first call's reason).
    pub evidence: String,
    /// Where the first call was read.
    pub example: String,
}

type Key = (
    Text,
    Option<Host>,
    String,
    Text,
    ApiPath,
    Option<Text>,
    String,
    bool,
);

/// Group the calls (any order in, sorted out).
pub fn group_calls(facts: &[CallFacts<'_>]) -> Vec<ApiCallRow> {
    let mut rows: BTreeMap<Key, ApiCallRow> = BTreeMap::new();
    for f in facts {
        let c = f.call;
        let key = (
            c.service.clone(),
            f.host.clone(),
            c.principal.clone(),
            c.event_name.clone(),
            f.path.path,
            f.path.endpoint.clone(),
            c.source_ip.clone(),
            // A network activity event records a call a management event
            // may record too: its own row, not added to the other's.
            c.is_network_activity(),
        );
        let row = rows.entry(key).or_insert_with(|| ApiCallRow {
            service: c.service.clone(),
            host: f.host.clone(),
            principal: c.principal.clone(),
            event_name: c.event_name.clone(),
            path: f.path.path,
            endpoint: f.path.endpoint.clone(),
            source_ip: c.source_ip.clone(),
            calls: 0,
            denied: 0,
            network_activity: c.is_network_activity(),
            first: c.time,
            last: c.time,
            evidence: f.path.evidence.clone(),
            example: f.source.clone(),
        });
        row.calls += 1;
        row.denied += u64::from(c.denied());
        // The earliest call's reason and place (ties: the smaller place).
        if (c.time, &f.source) < (row.first, &row.example) {
            row.evidence = f.path.evidence.clone();
            row.example = f.source.clone();
        }
        row.first = row.first.min(c.time);
        row.last = row.last.max(c.time);
    }
    rows.into_values().collect()
}

/// The same host: by instance, else ENI, else address.
pub fn same_host(a: &Host, b: &Host) -> bool {
    match (&a.instance_id, &b.instance_id) {
        (Some(x), Some(y)) => return x == y,
        (Some(_), None) | (None, Some(_)) => return false,
        (None, None) => {}
    }
    match (a.eni(), b.eni()) {
        (Some(x), Some(y)) => x == y,
        _ => a.address().is_some() && a.address() == b.address(),
    }
}

fn plural(n: u64, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// One evidence line for a path row.
pub fn evidence_line(r: &ApiCallRow) -> String {
    let mut s = format!(
        "CloudTrail: {} {} by {} from {}",
        plural(
            r.calls,
            if r.network_activity {
                "network activity event"
            } else {
                "call"
            }
        ),
        r.event_name,
        r.principal,
        r.source_ip
    );
    if let Some(e) = &r.endpoint {
        s.push_str(&format!(" via {e}"));
    }
    if r.denied > 0 {
        s.push_str(&format!(" ({} denied)", r.denied));
    }
    s.push_str(&format!(
        ", {}..{}: {}",
        super::format_time(r.first),
        super::format_time(r.last),
        r.evidence
    ));
    s
}

/// Join the calls with a known host and a VPC path into the verdicts:
/// counted as `calls` on the path row (created when no flow took it), their
/// evidence added, the verdict decided again. Keeps the verdicts sorted.
pub fn join_verdicts(verdicts: &mut Vec<VerdictRow>, rows: &[ApiCallRow]) {
    let mut touched = Vec::new();
    for r in rows {
        let (Some(host), Some(path)) = (&r.host, r.path.as_path_class()) else {
            continue;
        };
        let at = match verdicts
            .iter()
            .position(|v| v.service == r.service && same_host(&v.host, host))
        {
            Some(i) => i,
            None => {
                verdicts.push(VerdictRow {
                    service: r.service.clone(),
                    host: host.clone(),
                    verdict: Verdict::NoTraffic,
                    paths: Vec::new(),
                    last_public: None,
                    first_private: None,
                });
                verdicts.len() - 1
            }
        };
        let Some(v) = verdicts.get_mut(at) else {
            continue;
        };
        let p = match v.paths.iter().position(|p| p.path == path) {
            Some(i) => i,
            None => {
                v.paths.push(PathRow {
                    path,
                    flows: 0,
                    packets: 0,
                    bytes: 0,
                    first: r.first,
                    last: r.last,
                    outcomes: OutcomeCounts::default(),
                    calls: 0,
                    evidence: Vec::new(),
                    examples: Vec::new(),
                });
                v.paths.len() - 1
            }
        };
        if let Some(p) = v.paths.get_mut(p) {
            p.calls += r.calls;
            p.first = p.first.min(r.first);
            p.last = p.last.max(r.last);
            let ours = p
                .evidence
                .iter()
                .filter(|e| e.text.starts_with("CloudTrail: "))
                .count();
            if ours < MAX_EVIDENCE {
                p.evidence.push(EvidenceLine {
                    text: evidence_line(r),
                    flows: 0,
                    examples: Vec::new(),
                });
            }
        }
        touched.push(at);
    }
    touched.sort_unstable();
    touched.dedup();
    for i in touched {
        if let Some(v) = verdicts.get_mut(i) {
            v.paths.sort_by_key(|p| p.path);
            v.verdict = Verdict::decide(&v.paths);
            (v.last_public, v.first_private) = if v.verdict == Verdict::Mixed {
                (
                    v.paths
                        .iter()
                        .filter(|p| p.path.is_public())
                        .map(|p| p.last)
                        .max(),
                    v.paths
                        .iter()
                        .filter(|p| p.path.is_private() && (p.outcomes.answered > 0 || p.calls > 0))
                        .map(|p| p.first)
                        .min(),
                )
            } else {
                (None, None)
            };
        }
    }
    verdicts.sort_by(|a, b| (&a.service, &a.host).cmp(&(&b.service, &b.host)));
}

/// Check the `--expect` expectations (the first `expect.flows.len()`
/// results, in order) against the calls too; at most `limit` offending
/// flows and calls are listed per host (the first by time).
pub fn apply_expectations(
    results: &mut [ExpectationResult],
    expect: &ExpectSet,
    facts: &[CallFacts<'_>],
    limit: usize,
) {
    for (e, res) in expect.flows.iter().zip(results.iter_mut()) {
        let mut changed = false;
        for f in facts {
            let Some(path) = f.path.path.as_path_class() else {
                continue;
            };
            let c = f.call;
            let host = f.host.clone().unwrap_or_default();
            if !e.matches(&c.service, &host)
                || expect.since.is_some_and(|s| c.time < s)
                || expect.until.is_some_and(|u| c.time > u)
            {
                continue;
            }
            if !changed {
                // A placeholder "no traffic observed" gives way to evidence.
                res.hosts.retain(|h| h.host.is_some() || h.flows > 0);
                changed = true;
            }
            let i = match res.hosts.iter().position(|h| match (&h.host, &f.host) {
                (Some(a), Some(b)) => same_host(a, b),
                (None, None) => true,
                _ => false,
            }) {
                Some(i) => i,
                None => {
                    res.hosts.push(HostResult {
                        host: f.host.clone(),
                        met: true,
                        flows: 0,
                        violations_total: 0,
                        violations: Vec::new(),
                        note: None,
                    });
                    res.hosts.len() - 1
                }
            };
            let Some(h) = res.hosts.get_mut(i) else {
                continue;
            };
            h.flows += 1;
            if e.violated_by(path, Outcome::Answered) {
                h.met = false;
                h.violations_total += 1;
                h.violations.push(Violation {
                    time: c.time,
                    host: host.clone(),
                    destination: format!("{} {} (CloudTrail)", c.service, c.event_name),
                    path: Some(path),
                    outcome: Some(Outcome::Answered),
                    evidence: format!("{} from {}: {}", c.principal, c.source_ip, f.path.evidence),
                    source: f.source.clone(),
                });
            }
        }
        if changed {
            for h in &mut res.hosts {
                h.violations.sort();
                h.violations.truncate(limit.max(1));
            }
            res.hosts.sort_by(|a, b| a.host.cmp(&b.host));
            res.met = res.hosts.iter().all(|h| h.met);
        }
    }
}

#[cfg(test)]
#[path = "api_calls_tests.rs"]
mod tests;
