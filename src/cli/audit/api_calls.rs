//! The audit's hook for CloudTrail: classify each recorded API call
//! ([`privpath::classify::api_calls`]), find its host, and hand the calls to
//! the report ([`privpath::report::api_calls`]): grouped rows, joined into
//! the verdicts, checked by the expectations.

use std::collections::BTreeSet;

use privpath::classify::api_calls::{CallTopology, NatUse, classify_call};
use privpath::flow::ApiCall;
use privpath::report::api_calls::{CallFacts, apply_expectations, group_calls, join_verdicts};
use privpath::report::expect::ExpectSet;
use privpath::report::{HostTable, Report};
use privpath::topology::{Topology, TopologyIndex};

/// The calls, each once: a call delivered twice (an S3 file and
/// `lookup-events`) has one `eventID`; the first read is kept.
fn distinct(calls: &[ApiCall]) -> Vec<&ApiCall> {
    let mut seen = BTreeSet::new();
    calls
        .iter()
        .filter(|c| c.event_id.as_ref().is_none_or(|id| seen.insert(id.clone())))
        .collect()
}

/// `file:line` for a JSON-lines record, `file:#n` for an element.
fn place(source_names: &[String], c: &ApiCall) -> String {
    let name = usize::try_from(c.provenance.source.0)
        .ok()
        .and_then(|i| source_names.get(i))
        .map_or("?", String::as_str);
    format!("{name}:{}", c.provenance.index)
}

/// Add the calls to `report`.
pub fn add_to_report(
    report: &mut Report,
    calls: &[ApiCall],
    (topo, index, hosts): (&Topology, &TopologyIndex, &HostTable),
    nat_uses: &[NatUse],
    (expect, examples): (&ExpectSet, usize),
    source_names: &[String],
) {
    if calls.is_empty() {
        return;
    }
    let call_topo = CallTopology::build(topo);
    let facts: Vec<CallFacts<'_>> = distinct(calls)
        .into_iter()
        .map(|c| {
            let path = classify_call(c, &call_topo, nat_uses);
            let t = i64::try_from(c.time).ok().and_then(|s| s.checked_mul(1000));
            let host = path
                .host
                .map(|a| super::pipeline::host_of_addr(index, hosts, a, t));
            CallFacts {
                call: c,
                path,
                host,
                source: place(source_names, c),
            }
        })
        .collect();
    report.api_calls = group_calls(&facts);
    join_verdicts(&mut report.verdicts, &report.api_calls);
    apply_expectations(&mut report.expectations, expect, &facts, examples);
}
