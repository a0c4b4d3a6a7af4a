//! Consistency checks of a loaded topology (`privpath topology check`).

use std::collections::BTreeSet;

use serde::Serialize;

use super::{EndpointKind, RouteDestination, RouteState, RouteTarget, Topology};

/// How bad an issue is: errors make `topology check` exit 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Error,
    Warning,
}

/// One finding of [`check`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Issue {
    pub severity: Severity,
    /// The snapshot's folder.
    pub snapshot: String,
    pub message: String,
}

/// Inconsistencies: a route to a missing endpoint / NAT gateway / internet
/// gateway, a prefix-list route whose list has no entries, an endpoint ENI
/// missing from the ENI list, a gateway endpoint and its route tables that
/// disagree, a subnet without a route table (errors); duplicate ids, lists
/// without entries that no route uses, loader notes (warnings). Sorted.
pub fn check(topo: &Topology) -> Vec<Issue> {
    let mut out = BTreeSet::new();
    for s in &topo.snapshots {
        let mut push = |severity, message: String| {
            out.insert(Issue {
                severity,
                snapshot: s.dir.clone(),
                message,
            });
        };
        let mut used_lists = BTreeSet::new();
        for rt in s.route_tables.values() {
            for r in &rt.routes {
                let dest = r.destination.to_string();
                if let RouteDestination::PrefixList(pl) = &r.destination {
                    used_lists.insert(pl.clone());
                    match s.prefix_lists.get(pl) {
                        Some(l) if l.entries_known && !l.cidrs.is_empty() => {}
                        _ => push(
                            Severity::Error,
                            format!(
                                "{}: route {dest}: prefix list {pl} has no entries (add get-managed-prefix-list-entries output)",
                                rt.id
                            ),
                        ),
                    }
                }
                if r.state == RouteState::Blackhole {
                    continue;
                }
                match &r.target {
                    RouteTarget::GatewayEndpoint(v) => match s.endpoints.get(v) {
                        None => push(
                            Severity::Error,
                            format!(
                                "{}: route {dest} -> {v}: endpoint missing from describe-vpc-endpoints",
                                rt.id
                            ),
                        ),
                        Some(ep) if !ep.route_table_ids.contains(&rt.id) => push(
                            Severity::Error,
                            format!(
                                "{}: route {dest} -> {v}: the endpoint does not list this route table",
                                rt.id
                            ),
                        ),
                        Some(_) => {}
                    },
                    RouteTarget::NatGateway(n) if !s.nat_gateways.contains_key(n) => push(
                        Severity::Error,
                        format!(
                            "{}: route {dest} -> {n}: nat gateway missing from describe-nat-gateways",
                            rt.id
                        ),
                    ),
                    RouteTarget::InternetGateway(g)
                        if !s.internet_gateways.is_empty()
                            && !s.internet_gateways.contains_key(g) =>
                    {
                        push(
                            Severity::Error,
                            format!(
                                "{}: route {dest} -> {g}: internet gateway missing from describe-internet-gateways",
                                rt.id
                            ),
                        )
                    }
                    _ => {}
                }
            }
        }
        for ep in s.endpoints.values() {
            for e in &ep.eni_ids {
                if !s.enis.contains_key(e) {
                    push(
                        Severity::Error,
                        format!(
                            "{}: endpoint network interface {e} missing from describe-network-interfaces",
                            ep.id
                        ),
                    );
                }
            }
            if ep.kind == EndpointKind::Gateway {
                for rt_id in &ep.route_table_ids {
                    let has_route = s.route_tables.get(rt_id).map(|rt| {
                        rt.routes.iter().any(
                            |r| matches!(&r.target, RouteTarget::GatewayEndpoint(v) if v == &ep.id),
                        )
                    });
                    match has_route {
                        None => push(
                            Severity::Error,
                            format!(
                                "{}: route table {rt_id} missing from describe-route-tables",
                                ep.id
                            ),
                        ),
                        Some(false) => push(
                            Severity::Error,
                            format!(
                                "{}: route table {rt_id} has no route to the endpoint",
                                ep.id
                            ),
                        ),
                        Some(true) => {}
                    }
                }
            }
            if ep.created.is_none() {
                push(
                    Severity::Warning,
                    format!(
                        "{}: no CreationTimestamp: its routes and addresses count at all times",
                        ep.id
                    ),
                );
            }
        }
        for sub in s.subnets.values() {
            if s.route_table_of_subnet(&sub.id).is_none() {
                push(
                    Severity::Error,
                    format!(
                        "{}: no route table (no explicit association and no main table for {})",
                        sub.id, sub.vpc_id
                    ),
                );
            }
        }
        for pl in s.prefix_lists.values() {
            if !used_lists.contains(&pl.id) && (!pl.entries_known || pl.cidrs.is_empty()) {
                push(
                    Severity::Warning,
                    format!(
                        "{}: prefix list has no entries (only needed when a route uses it)",
                        pl.id
                    ),
                );
            }
        }
        for n in &s.notes {
            push(Severity::Warning, n.clone());
        }
    }
    for n in &topo.notes {
        out.insert(Issue {
            severity: Severity::Warning,
            snapshot: String::new(),
            message: n.clone(),
        });
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::{Route, RouteTable, Snapshot};

    #[test]
    fn check_reports_route_to_missing_endpoint_and_empty_prefix_list() {
        let mut s = Snapshot::new("d".into());
        s.route_tables.insert(
            "rtb-1".into(),
            RouteTable {
                id: "rtb-1".into(),
                vpc_id: "vpc-1".into(),
                main: true,
                subnet_ids: vec![],
                routes: vec![Route {
                    destination: RouteDestination::PrefixList("pl-1".into()),
                    target: RouteTarget::GatewayEndpoint("vpce-1".into()),
                    state: RouteState::Active,
                    origin: None,
                }],
                name: None,
            },
        );
        let topo = Topology {
            snapshots: vec![s],
            ..Topology::default()
        };
        let issues = check(&topo);
        let errors: Vec<&str> = issues
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .map(|i| i.message.as_str())
            .collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors.iter().any(|m| m.contains("pl-1 has no entries")));
        assert!(
            errors
                .iter()
                .any(|m| m.contains("vpce-1: endpoint missing"))
        );
    }
}
