//! Private DNS of interface endpoints, from the DNS answers seen: did the
//! service's default name resolve to the endpoint's ENIs?

use std::net::IpAddr;

use serde::Serialize;

use crate::flow::DnsRecord;
use crate::topology::{EndpointKind, Text, TopologyIndex};

/// What DNS showed for an interface endpoint's default name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PrivateDnsState {
    /// The default name resolved to the endpoint's ENIs.
    Effective,
    /// The default name resolved to other (public) addresses.
    NotEffective,
    /// Resolved privately on some hosts and publicly on others.
    Mixed,
    /// No answer for the default name after the endpoint was created.
    NotObserved,
}

/// The private-DNS verdict of one interface endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct PrivateDnsVerdict {
    pub endpoint_id: Text,
    pub service: Text,
    /// `cloudformation.ap-northeast-2.amazonaws.com`
    pub name: String,
    /// `PrivateDnsEnabled` as configured.
    pub configured: Option<bool>,
    pub state: PrivateDnsState,
    /// Hosts that got the ENI addresses (sorted).
    pub private_on: Vec<IpAddr>,
    /// Hosts that got other addresses (sorted).
    pub public_on: Vec<IpAddr>,
    /// Answers counted.
    pub answers: usize,
}

/// For every interface endpoint of the latest snapshot: did its service's
/// default name resolve to the endpoint's ENIs? Answers before the
/// endpoint's creation are not counted. Sorted by endpoint id.
pub fn private_dns(index: &TopologyIndex, dns: &[DnsRecord]) -> Vec<PrivateDnsVerdict> {
    let Some(snap) = index.snapshots().last() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for ep in &snap.endpoints {
        if ep.kind != EndpointKind::Interface {
            continue;
        }
        let Some(name) = ep.default_name.clone() else {
            continue;
        };
        let mut private_on = Vec::new();
        let mut public_on = Vec::new();
        let mut answers = 0usize;
        for r in dns {
            if r.answers.is_empty() || !r.query.trim_end_matches('.').eq_ignore_ascii_case(&name) {
                continue;
            }
            let t = i64::try_from(r.time).ok().and_then(|s| s.checked_mul(1000));
            if !ep.gate.open_at(t) {
                continue;
            }
            answers += 1;
            if r.answers.iter().all(|a| ep.eni_addrs.contains(a)) {
                private_on.push(r.client);
            } else {
                public_on.push(r.client);
            }
        }
        private_on.sort();
        private_on.dedup();
        public_on.sort();
        public_on.dedup();
        let state = match (private_on.is_empty(), public_on.is_empty()) {
            (true, true) => PrivateDnsState::NotObserved,
            (false, true) => PrivateDnsState::Effective,
            (true, false) => PrivateDnsState::NotEffective,
            (false, false) => PrivateDnsState::Mixed,
        };
        out.push(PrivateDnsVerdict {
            endpoint_id: ep.id.clone(),
            service: ep.service.clone(),
            name,
            configured: ep.private_dns_enabled,
            state,
            private_on,
            public_on,
            answers,
        });
    }
    out.sort_by(|a, b| a.endpoint_id.cmp(&b.endpoint_id));
    out
}
