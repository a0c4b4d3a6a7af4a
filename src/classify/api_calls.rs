//! The path of one API call CloudTrail recorded (evidence-sources.md §2.3,
//! §2.7). Pure: the call, the topology's addresses and endpoints, and the
//! flows that went through a NAT gateway decide it.
//!
//! | observation | path |
//! |---|---|
//! | an AWS service principal (`AWSService`, `invokedBy`, `AWS Internal/…`, a service name as source) | `aws-internal` — not a path of the VPC, shown apart |
//! | `vpcEndpointId` is an interface endpoint of the topology | `interface-endpoint` (named) |
//! | `vpcEndpointId` is a gateway endpoint of the topology (S3/DynamoDB data events) | `gateway-endpoint` (named) |
//! | `vpcEndpointId` not in the topology | `external` (another VPC's endpoint), or `unknown` when the source is one of our hosts |
//! | no `vpcEndpointId`, source = a NAT gateway's public address | `nat-gateway` (NAT named; the host is the one whose flow went through that NAT to the service at that time, else unknown) |
//! | no `vpcEndpointId`, source = an instance's public IP or Elastic IP | `internet-gateway` (that instance) |
//! | no `vpcEndpointId`, source = a private address of a host, the service does not log `vpcEndpointId` | `interface-endpoint` (the service's interface endpoint named when the topology has one) |
//! | the same for a service that logs it (KMS, S3) | `unknown`: ambiguous, a missing id there is not proof |
//! | anything else (a laptop, another network, a private address outside the VPC) | `external` |

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;

use crate::flow::{ApiCall, Text};
use crate::topology::{EndpointKind, EniKind, Topology};

use super::PathClass;

/// Services documented to log `vpcEndpointId` on calls through an endpoint:
/// for them a private source without it is ambiguous, not a proof.
pub const LOGS_VPC_ENDPOINT_ID: [&str; 2] = ["kms", "s3"];

/// Seconds around a NAT flow's window within which a call through that NAT
/// is tied to its host (CloudTrail times the call's completion; flow logs
/// aggregate up to a minute or ten).
pub const NAT_SLACK_SECS: u64 = 120;

/// The path of an API call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApiPath {
    InterfaceEndpoint,
    GatewayEndpoint,
    NatGateway,
    InternetGateway,
    AwsInternal,
    External,
    Unknown,
}

impl ApiPath {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiPath::InterfaceEndpoint => "interface-endpoint",
            ApiPath::GatewayEndpoint => "gateway-endpoint",
            ApiPath::NatGateway => "nat-gateway",
            ApiPath::InternetGateway => "internet-gateway",
            ApiPath::AwsInternal => "aws-internal",
            ApiPath::External => "external",
            ApiPath::Unknown => "unknown",
        }
    }

    /// The flow path this call joins in the verdicts (`None`: shown apart).
    pub fn as_path_class(self) -> Option<PathClass> {
        match self {
            ApiPath::InterfaceEndpoint => Some(PathClass::InterfaceEndpoint),
            ApiPath::GatewayEndpoint => Some(PathClass::GatewayEndpoint),
            ApiPath::NatGateway => Some(PathClass::NatGateway),
            ApiPath::InternetGateway => Some(PathClass::InternetGateway),
            ApiPath::Unknown => Some(PathClass::Unknown),
            ApiPath::AwsInternal | ApiPath::External => None,
        }
    }
}

impl std::fmt::Display for ApiPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who a public address of the topology is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicOwner {
    /// A NAT gateway's public address.
    Nat(Text),
    /// An instance's public IP or Elastic IP; its private address.
    Instance {
        instance_id: Option<Text>,
        private: Option<IpAddr>,
        eip: Option<Text>,
    },
    /// An Elastic IP associated with nothing we know.
    Unassociated(Text),
}

#[derive(Debug, Clone)]
struct EndpointRef {
    kind: EndpointKind,
    service: Text,
    /// Creation, unix seconds.
    created: Option<u64>,
}

/// What the call classifier needs of the topology, built once.
#[derive(Debug, Clone, Default)]
pub struct CallTopology {
    endpoints: BTreeMap<Text, EndpointRef>,
    public: BTreeMap<IpAddr, PublicOwner>,
    /// Private addresses of instance ENIs.
    hosts: BTreeSet<IpAddr>,
    vpc_cidrs: Vec<IpNet>,
}

fn secs(t: Option<jiff::Timestamp>) -> Option<u64> {
    t.and_then(|t| u64::try_from(t.as_second()).ok())
}

impl CallTopology {
    /// Every snapshot, later ones overriding earlier ones.
    pub fn build(topo: &Topology) -> CallTopology {
        let mut c = CallTopology::default();
        for s in &topo.snapshots {
            for ep in s.endpoints.values() {
                c.endpoints.insert(
                    ep.id.clone(),
                    EndpointRef {
                        kind: ep.kind.clone(),
                        service: ep.service.clone(),
                        created: secs(ep.created),
                    },
                );
            }
            for vpc in s.vpcs.values() {
                for n in &vpc.cidrs {
                    if !c.vpc_cidrs.contains(n) {
                        c.vpc_cidrs.push(*n);
                    }
                }
            }
            for nat in s.nat_gateways.values() {
                for a in &nat.public_ips {
                    c.public.insert(*a, PublicOwner::Nat(nat.id.clone()));
                }
            }
            for eni in s.enis.values() {
                match &eni.kind {
                    EniKind::Instance(i) => {
                        c.hosts.extend(eni.private_ips.iter().copied());
                        for a in &eni.public_ips {
                            c.public.insert(
                                *a,
                                PublicOwner::Instance {
                                    instance_id: Some(i.clone()),
                                    private: eni.private_ips.first().copied(),
                                    eip: None,
                                },
                            );
                        }
                    }
                    EniKind::NatGateway(n) => {
                        for a in &eni.public_ips {
                            c.public.insert(*a, PublicOwner::Nat(n.clone()));
                        }
                    }
                    _ => {}
                }
            }
            for inst in s.instances.values() {
                if let Some(p) = inst.private_ip {
                    c.hosts.insert(p);
                }
                if let Some(a) = inst.public_ip {
                    c.public.insert(
                        a,
                        PublicOwner::Instance {
                            instance_id: Some(inst.id.clone()),
                            private: inst.private_ip,
                            eip: None,
                        },
                    );
                }
            }
            for (a, e) in &s.elastic_ips {
                let alloc = e
                    .allocation_id
                    .clone()
                    .unwrap_or_else(|| a.to_string().into());
                let nat = e.eni_id.as_ref().and_then(|id| {
                    s.enis.get(id).and_then(|eni| match &eni.kind {
                        EniKind::NatGateway(n) => Some(n.clone()),
                        _ => None,
                    })
                });
                let owner = if let Some(n) = nat {
                    PublicOwner::Nat(n)
                } else if e.instance_id.is_some() || e.private_ip.is_some() {
                    PublicOwner::Instance {
                        instance_id: e.instance_id.clone(),
                        private: e.private_ip,
                        eip: Some(alloc),
                    }
                } else {
                    PublicOwner::Unassociated(alloc)
                };
                // A NAT's own record names the NAT better than its EIP's.
                if !matches!(c.public.get(a), Some(PublicOwner::Nat(_))) {
                    c.public.insert(*a, owner);
                }
            }
        }
        c
    }

    fn in_vpc(&self, a: IpAddr) -> bool {
        self.vpc_cidrs.iter().any(|n| n.contains(&a))
    }

    /// The interface (or, for S3/DynamoDB, gateway) endpoint of `service`
    /// that existed at `t`, by id order.
    fn endpoint_for(&self, service: &str, kind: &EndpointKind, t: u64) -> Option<&Text> {
        self.endpoints
            .iter()
            .find(|(_, e)| {
                e.service == service && &e.kind == kind && e.created.is_none_or(|c| c <= t)
            })
            .map(|(id, _)| id)
    }
}

/// A flow that left through a NAT gateway: ties a call from the NAT's
/// address to its host.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NatUse {
    pub nat_id: Text,
    /// The flow's service (`aws` when only the AWS range was known).
    pub service: Text,
    /// The host's private address.
    pub host: IpAddr,
    pub start: u64,
    pub end: u64,
}

/// Flows through NAT gateways, coalesced: per (NAT, service, host) the
/// time intervals, those within [`NAT_SLACK_SECS`] of each other merged, so
/// it grows with the hosts and the time they used a NAT, not with the flows.
#[derive(Debug, Clone, Default)]
pub struct NatUses {
    map: BTreeMap<(Text, Text, IpAddr), Vec<(u64, u64)>>,
}

fn coalesce_into(v: &mut Vec<(u64, u64)>, start: u64, end: u64) {
    let (start, end) = (start.min(end), start.max(end));
    let near = |&(s, e): &(u64, u64)| {
        s.saturating_sub(NAT_SLACK_SECS) <= end && start <= e.saturating_add(NAT_SLACK_SECS)
    };
    if let Some(i) = v.iter().rposition(near) {
        if let Some(iv) = v.get_mut(i) {
            iv.0 = iv.0.min(start);
            iv.1 = iv.1.max(end);
        }
    } else {
        v.push((start, end));
    }
}

impl NatUses {
    /// A flow of `host` to `service` through `nat` over `[start, end]`.
    pub fn add(&mut self, nat: &str, service: &str, host: IpAddr, start: u64, end: u64) {
        let v = self
            .map
            .entry((Text::from(nat), Text::from(service), host))
            .or_default();
        coalesce_into(v, start, end);
    }

    pub fn merge(&mut self, other: NatUses) {
        for (k, ivs) in other.map {
            let v = self.map.entry(k).or_default();
            for (s, e) in ivs {
                coalesce_into(v, s, e);
            }
        }
    }

    /// Every interval, sorted.
    pub fn to_vec(&self) -> Vec<NatUse> {
        let mut out = Vec::new();
        for ((nat, service, host), ivs) in &self.map {
            for &(start, end) in ivs {
                out.push(NatUse {
                    nat_id: nat.clone(),
                    service: service.clone(),
                    host: *host,
                    start,
                    end,
                });
            }
        }
        out.sort();
        out
    }
}

/// The classification of one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallPath {
    pub path: ApiPath,
    /// The VPC endpoint, or the NAT gateway, it went through.
    pub endpoint: Option<Text>,
    /// The private address of the calling host, when known.
    pub host: Option<IpAddr>,
    /// Why, in one line.
    pub evidence: String,
}

fn is_private(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(v) => {
            v.is_private() || v.is_loopback() || v.is_link_local() || {
                let o = v.octets();
                o[0] == 100 && (64..128).contains(&o[1])
            }
        }
        IpAddr::V6(v) => (v.segments()[0] & 0xfe00) == 0xfc00 || v.is_loopback(),
    }
}

fn aws_internal(c: &ApiCall) -> Option<String> {
    if c.identity_type.as_deref() == Some("AWSService") {
        return Some(format!(
            "an AWS service principal ({})",
            c.invoked_by.as_deref().unwrap_or(&c.principal)
        ));
    }
    if let Some(by) = &c.invoked_by {
        return Some(format!("invoked by {by} on the caller's behalf"));
    }
    if c.source_addr.is_none()
        && (c.source_ip.starts_with("AWS Internal") || c.source_ip.ends_with(".amazonaws.com"))
    {
        return Some(format!("source {} is AWS itself", c.source_ip));
    }
    None
}

/// The path of one call. `nat_uses` are the flows through NAT gateways
/// (any order).
pub fn classify_call(c: &ApiCall, topo: &CallTopology, nat_uses: &[NatUse]) -> CallPath {
    let out = |path, endpoint: Option<Text>, host, evidence: String| CallPath {
        path,
        endpoint,
        host,
        evidence,
    };
    if let Some(why) = aws_internal(c) {
        return out(ApiPath::AwsInternal, None, None, why);
    }
    let src = c.source_addr;
    let our_host = src.filter(|a| topo.hosts.contains(a));
    if let Some(id) = &c.vpc_endpoint_id {
        return match topo.endpoints.get(id).map(|e| &e.kind) {
            Some(EndpointKind::Interface) => out(
                ApiPath::InterfaceEndpoint,
                Some(id.clone()),
                our_host,
                format!("vpcEndpointId {id} is an interface endpoint of the VPC"),
            ),
            Some(EndpointKind::Gateway) => out(
                ApiPath::GatewayEndpoint,
                Some(id.clone()),
                our_host,
                format!("vpcEndpointId {id} is a gateway endpoint of the VPC"),
            ),
            _ if our_host.is_some() => out(
                ApiPath::Unknown,
                Some(id.clone()),
                our_host,
                format!(
                    "vpcEndpointId {id} is not an endpoint of the topology, though the source is a host of the VPC"
                ),
            ),
            _ => out(
                ApiPath::External,
                Some(id.clone()),
                None,
                format!(
                    "vpcEndpointId {id} is not an endpoint of the topology (another VPC or account)"
                ),
            ),
        };
    }
    let Some(a) = src else {
        return out(
            ApiPath::Unknown,
            None,
            None,
            format!("source {:?} is not an address", c.source_ip),
        );
    };
    match topo.public.get(&a) {
        Some(PublicOwner::Nat(nat)) => {
            let hosts: BTreeSet<IpAddr> = nat_uses
                .iter()
                .filter(|u| {
                    &u.nat_id == nat
                        && (u.service == c.service || u.service == "aws")
                        && u.start.saturating_sub(NAT_SLACK_SECS) <= c.time
                        && c.time <= u.end.saturating_add(NAT_SLACK_SECS)
                })
                .map(|u| u.host)
                .collect();
            let (host, how) = match hosts.len() {
                1 => (
                    hosts.first().copied(),
                    format!(
                        "the host's flow through {nat} to {} at that time",
                        c.service
                    ),
                ),
                0 => (
                    None,
                    format!("no flow through {nat} at that time: host unknown"),
                ),
                n => (
                    None,
                    format!("{n} hosts had flows through {nat} at that time: host unknown"),
                ),
            };
            out(
                ApiPath::NatGateway,
                Some(nat.clone()),
                host,
                format!("source {a} is a public address of {nat}, no vpcEndpointId; {how}"),
            )
        }
        Some(PublicOwner::Instance {
            instance_id,
            private,
            eip,
        }) => {
            let who = instance_id
                .as_deref()
                .map_or_else(|| "an instance".to_owned(), |i| i.to_owned());
            let kind = eip
                .as_deref()
                .map_or_else(|| "the public IP".to_owned(), |e| format!("Elastic IP {e}"));
            out(
                ApiPath::InternetGateway,
                None,
                *private,
                format!("source {a} is {kind} of {who}, no vpcEndpointId"),
            )
        }
        Some(PublicOwner::Unassociated(alloc)) => out(
            ApiPath::External,
            None,
            None,
            format!("source {a} is Elastic IP {alloc}, associated with nothing in the topology"),
        ),
        None if our_host.is_some() => {
            if LOGS_VPC_ENDPOINT_ID.contains(&c.service.as_str()) && !c.is_network_activity() {
                return out(
                    ApiPath::Unknown,
                    None,
                    our_host,
                    format!(
                        "private source {a} without vpcEndpointId, though {} logs it: ambiguous",
                        c.service
                    ),
                );
            }
            let iface = topo.endpoint_for(&c.service, &EndpointKind::Interface, c.time);
            let gw = topo.endpoint_for(&c.service, &EndpointKind::Gateway, c.time);
            match (iface, gw) {
                (Some(ep), _) => out(
                    ApiPath::InterfaceEndpoint,
                    Some(ep.clone()),
                    our_host,
                    format!(
                        "private source {a}: only a VPC endpoint carries it ({} does not log vpcEndpointId; {ep} is its interface endpoint)",
                        c.service
                    ),
                ),
                (None, Some(ep)) => out(
                    ApiPath::GatewayEndpoint,
                    Some(ep.clone()),
                    our_host,
                    format!("private source {a}: {ep} is the service's gateway endpoint"),
                ),
                (None, None) => out(
                    ApiPath::InterfaceEndpoint,
                    None,
                    our_host,
                    format!(
                        "private source {a}: only a VPC endpoint carries it ({} does not log vpcEndpointId; no endpoint of it in the topology)",
                        c.service
                    ),
                ),
            }
        }
        None if is_private(a) || topo.in_vpc(a) => out(
            ApiPath::External,
            None,
            None,
            format!(
                "private source {a} is no host of the VPC (on-premises, a peered VPC or a private NAT)"
            ),
        ),
        None => out(
            ApiPath::External,
            None,
            None,
            format!("source {a} is no address of the VPC"),
        ),
    }
}

#[cfg(test)]
#[path = "api_calls_tests.rs"]
mod tests;
