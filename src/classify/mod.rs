//! The path classifier: which way did a flow leave the VPC, to which service,
//! and what happened to it. Pure: no I/O, no clock, no environment.
//!
//! - [`classify`] looks at one flow. It decides the flow's [`Role`] (an
//!   egress flow of a host, a reply, an inbound connection, or a record of a
//!   NAT / endpoint ENI in transit) and, for egress flows, the [`PathClass`]
//!   with its [`Evidence`], the service with its [`Attributions`], and the
//!   traffic-path cross-check. Its [`Outcome`] is what the record alone
//!   shows: captures know their handshake, flow-log records give `unknown`.
//! - [`classify_conversations`] classifies all flows and attaches replies and
//!   inbound records to their egress flow (same interface or capture host,
//!   reversed 5-tuple, nearby time), so a reply is never classified as a
//!   flow of its own; flow-log outcomes become `answered` (a reply exists) or
//!   `unanswered` (the interface's ingress is logged, but no reply).
//! - [`private_dns`] states, per interface endpoint, what DNS said about its
//!   service's default name.
//!
//! # Which side is the host
//!
//! 1. `flow-direction` when logged: egress = the source is the host.
//! 2. Else the interface's own addresses (the ENI in `interface-id`), else
//!    any known ENI address on either side.
//! 3. Else tcp-flags: 2/3 (SYN without ACK) marks the initiator.
//! 4. Captures: the initiator (`capture.initiator`), else the capture host.
//!
//! Within that, SYN-ACK (18/19) on an egress record marks a reply of the host
//! to an inbound connection, and SYN (2/3) on an ingress record an inbound
//! connection.
//!
//! # Service attribution (first that applies decides, all are recorded)
//!
//! interface-endpoint ENI → its service; the flow's own SNI / HTTP Host; a
//! DNS answer for the address (same host strong, another host weaker); the
//! managed prefix list of a service; ip-ranges (most specific service;
//! `AMAZON`/`EC2` give `aws`: an AWS address, service unknown); the flow-log
//! `pkt-dst-aws-service`; else `external`.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;

use crate::flow::{Direction, Flow, FlowKey, Initiator, NameSource};
use crate::topology::{
    EniInfo, EniRole, Millis, RouteDestination, RouteTarget, SnapshotIndex, Text, TimeGate,
    TopologyIndex,
};

pub mod names;
pub mod rules;

pub use names::{
    NameHit, NameIndex, NameStrength, NamedService, service_from_name, sightings_from_flows,
};

/// The path an egress flow took.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PathClass {
    InterfaceEndpoint,
    GatewayEndpoint,
    InternetGateway,
    NatGateway,
    Local,
    Peering,
    TransitGateway,
    VirtualPrivateGateway,
    NoRoute,
    Unknown,
}

impl PathClass {
    pub fn as_str(self) -> &'static str {
        match self {
            PathClass::InterfaceEndpoint => "interface-endpoint",
            PathClass::GatewayEndpoint => "gateway-endpoint",
            PathClass::InternetGateway => "internet-gateway",
            PathClass::NatGateway => "nat-gateway",
            PathClass::Local => "local",
            PathClass::Peering => "peering",
            PathClass::TransitGateway => "transit-gateway",
            PathClass::VirtualPrivateGateway => "virtual-private-gateway",
            PathClass::NoRoute => "no-route",
            PathClass::Unknown => "unknown",
        }
    }

    /// Stayed on AWS's private network (endpoints, local, peering, TGW, VGW).
    pub fn is_private(self) -> bool {
        matches!(
            self,
            PathClass::InterfaceEndpoint
                | PathClass::GatewayEndpoint
                | PathClass::Local
                | PathClass::Peering
                | PathClass::TransitGateway
                | PathClass::VirtualPrivateGateway
        )
    }
}

impl PathClass {
    pub const ALL: [PathClass; 10] = [
        PathClass::InterfaceEndpoint,
        PathClass::GatewayEndpoint,
        PathClass::InternetGateway,
        PathClass::NatGateway,
        PathClass::Local,
        PathClass::Peering,
        PathClass::TransitGateway,
        PathClass::VirtualPrivateGateway,
        PathClass::NoRoute,
        PathClass::Unknown,
    ];

    /// Parse a path name as written in `--expect` and in the JSON schema.
    pub fn parse(s: &str) -> Option<PathClass> {
        PathClass::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// Leaves the VPC through the internet gateway or a NAT gateway.
    pub fn is_public(self) -> bool {
        matches!(self, PathClass::InternetGateway | PathClass::NatGateway)
    }

    /// A VPC endpoint of either kind.
    pub fn is_endpoint(self) -> bool {
        matches!(
            self,
            PathClass::InterfaceEndpoint | PathClass::GatewayEndpoint
        )
    }
}

impl std::fmt::Display for PathClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened to the flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Answered,
    Unanswered,
    Rejected,
    /// Not decidable from this record alone (flow logs before pairing, or
    /// no ingress records of the interface to pair with).
    Unknown,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Answered => "answered",
            Outcome::Unanswered => "unanswered",
            Outcome::Rejected => "rejected",
            Outcome::Unknown => "unknown",
        }
    }
}

/// What a record is, relative to the host it was logged or captured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// The host opened it: this flow is classified.
    Egress,
    /// The other direction of a conversation (answers to either side).
    Reply,
    /// A remote peer opened a connection to the host.
    Inbound,
    /// A record of a NAT gateway or interface-endpoint ENI (forwarded traffic).
    Transit,
}

/// Which evidence decided the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttributionSource {
    EndpointEni,
    Sni,
    HttpHost,
    Dns,
    /// A DNS answer seen by another host (weaker).
    DnsOtherHost,
    PrefixList,
    IpRanges,
    FlowLog,
    /// Nothing named it.
    None,
}

/// A name that named the destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct NameEvidence {
    pub name: Text,
    pub source: AttributionSource,
    /// The service the name means (`external` for a non-AWS name).
    pub service: Text,
}

/// Every service signal found for the destination (all recorded, the first
/// in this order decided).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Attributions {
    /// The interface endpoint whose ENI the destination is.
    pub endpoint: Option<Text>,
    pub name: Option<NameEvidence>,
    /// (prefix list id, its service).
    pub prefix_list: Option<(Text, Text)>,
    /// (ip-ranges service label, region, prefix).
    pub ip_ranges: Option<(Text, Text, IpNet)>,
    /// The flow-log `pkt-dst-aws-service` (or src for inbound).
    pub flow_log: Option<Text>,
}

/// How the time rule applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeRule {
    /// The topology as loaded (every endpoint already existed).
    Current,
    /// The flow predates an endpoint: replayed without its routes / ENIs.
    BeforeEndpoint,
    /// The record's window straddles the creation of the endpoint that
    /// decided (classified by its start: ambiguous).
    StraddlesEndpointCreation,
    /// The flow has no time: the latest topology was used.
    NoFlowTime,
}

/// Why the path is what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Evidence {
    /// The snapshot used (its folder), when several were loaded.
    pub snapshot: Option<String>,
    pub eni_id: Option<Text>,
    pub instance_id: Option<Text>,
    pub subnet_id: Option<Text>,
    pub route_table_id: Option<Text>,
    /// The winning route's destination (CIDR or prefix-list id).
    pub route_destination: Option<RouteDestination>,
    /// The CIDR that matched (the prefix-list entry for prefix-list routes).
    pub matched_cidr: Option<IpNet>,
    pub route_target: Option<Text>,
    /// The winning route is a blackhole (drops: `no-route`).
    pub blackhole: bool,
    pub endpoint_id: Option<Text>,
    pub prefix_list_id: Option<Text>,
    /// NAT gateway: its own table and onward route (`rtb-…: 0.0.0.0/0 -> igw-…`).
    pub nat_onward: Option<String>,
    pub time_rule: TimeRule,
    /// The endpoint left out by the replay (its route or ENI would decide today).
    pub replayed_without: Option<Text>,
}

impl Default for Evidence {
    fn default() -> Evidence {
        Evidence {
            snapshot: None,
            eni_id: None,
            instance_id: None,
            subnet_id: None,
            route_table_id: None,
            route_destination: None,
            matched_cidr: None,
            route_target: None,
            blackhole: false,
            endpoint_id: None,
            prefix_list_id: None,
            nat_onward: None,
            time_rule: TimeRule::Current,
            replayed_without: None,
        }
    }
}

/// The verdict of the traffic-path cross-check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrafficPathVerdict {
    Agrees,
    /// Logged path and replayed path differ: report both.
    Disagrees,
    /// Code 2 (IGW or gateway endpoint), decided by the replay.
    AmbiguousResolved,
    /// No replay to compare with (unknown path, unknown code).
    Unverifiable,
}

/// A flow-log `traffic-path` compared with the replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct TrafficPathCheck {
    pub code: u8,
    pub logged: &'static str,
    pub replayed: PathClass,
    pub verdict: TrafficPathVerdict,
}

/// The classifier's answer for one flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Classification {
    pub role: Role,
    /// The host's address (the source of an egress flow).
    pub host: Option<IpAddr>,
    /// The other side.
    pub peer: Option<IpAddr>,
    /// Meaningful for `Role::Egress`; `unknown` otherwise.
    pub path: PathClass,
    pub outcome: Outcome,
    pub reject_reason: Option<Text>,
    /// `s3`, `cloudformation`, `dynamodb`, other AWS services by name, `aws`
    /// (an AWS address, service unknown), `external`.
    pub service: Text,
    pub attributed_by: AttributionSource,
    pub attributions: Attributions,
    pub evidence: Evidence,
    pub traffic_path: Option<TrafficPathCheck>,
}

// ---- the classifier ------------------------------------------------------------

fn is_syn_only(flags: Option<u16>) -> bool {
    flags.is_some_and(|f| f & 0x02 != 0 && f & 0x10 == 0)
}

fn is_syn_ack(flags: Option<u16>) -> bool {
    flags.is_some_and(|f| f & 0x12 == 0x12)
}

/// (role, host is the source) for a flow.
fn decide_role<'a>(
    flow: &Flow,
    snap: Option<&'a SnapshotIndex>,
    t: Option<Millis>,
) -> (Role, bool, Option<&'a EniInfo>) {
    let src = flow.src_addr;
    let dst = flow.dst_addr;
    let iface = flow
        .interface_id
        .as_deref()
        .and_then(|id| snap.and_then(|s| s.eni(id)));
    if let Some(e) = iface {
        if matches!(
            e.role,
            EniRole::NatGateway(_) | EniRole::InterfaceEndpoint(_)
        ) {
            return (Role::Transit, true, Some(e));
        }
    }
    let from_direction = |host_is_src: bool| -> Role {
        if host_is_src {
            if is_syn_ack(flow.tcp_flags) {
                Role::Reply
            } else {
                Role::Egress
            }
        } else if is_syn_only(flow.tcp_flags) {
            Role::Inbound
        } else {
            Role::Reply
        }
    };
    let eni_of = |a: Option<IpAddr>| a.and_then(|a| snap.and_then(|s| s.eni_at(a, t)));
    // Captures.
    if let Some(cap) = flow.capture.as_deref() {
        let host_is_src = match (cap.capture_host, src, dst) {
            (Some(h), Some(s), _) if h == s => Some(true),
            (Some(h), _, Some(d)) if h == d => Some(false),
            _ => None,
        };
        let role = match (cap.initiator, host_is_src) {
            (Some(Initiator::Source), Some(false)) => Role::Inbound,
            (Some(Initiator::Source), _) => Role::Egress,
            (Some(Initiator::Destination), _) => Role::Reply,
            (None, Some(true)) => Role::Egress,
            (None, Some(false)) => Role::Reply,
            (None, None) => Role::Egress,
        };
        let host_is_src = host_is_src.unwrap_or(role == Role::Egress);
        let host = if host_is_src {
            eni_of(src)
        } else {
            eni_of(dst)
        };
        return (role, host_is_src, host);
    }
    // Flow logs.
    if let Some(d) = flow.flow_direction {
        let host_is_src = d == Direction::Egress;
        let host = iface.or_else(|| {
            if host_is_src {
                eni_of(src)
            } else {
                eni_of(dst)
            }
        });
        return (from_direction(host_is_src), host_is_src, host);
    }
    if let Some(e) = iface {
        if src.is_some_and(|s| e.addrs.contains(&s)) {
            return (from_direction(true), true, Some(e));
        }
        if dst.is_some_and(|d| e.addrs.contains(&d)) {
            return (from_direction(false), false, Some(e));
        }
    }
    let src_eni = eni_of(src).filter(|e| matches!(e.role, EniRole::Instance(_) | EniRole::Other));
    let dst_eni = eni_of(dst).filter(|e| matches!(e.role, EniRole::Instance(_) | EniRole::Other));
    match (src_eni, dst_eni) {
        (Some(s), None) => (from_direction(true), true, Some(s)),
        (None, Some(d)) => (from_direction(false), false, Some(d)),
        (s, d) => {
            if is_syn_ack(flow.tcp_flags) {
                (Role::Reply, false, d.or(s))
            } else {
                (Role::Egress, true, s.or(d))
            }
        }
    }
}

/// Classify one flow against the topology and the name index. Pure.
pub fn classify(flow: &Flow, index: &TopologyIndex, names: &NameIndex) -> Classification {
    let t = rules::flow_time(flow);
    let snap = index.snapshot_at(t);
    let (role, host_is_src, host_eni) = decide_role(flow, snap, t);
    let (host, peer) = if host_is_src {
        (flow.src_addr, flow.effective_dst())
    } else {
        (flow.dst_addr, flow.effective_src())
    };
    let outcome = rules::outcome_of(flow);
    // Built once and filled in place: the struct is large, moving it costs.
    let mut c = Classification {
        role,
        host,
        peer,
        path: PathClass::Unknown,
        outcome,
        reject_reason: None,
        service: Text::const_new("external"),
        attributed_by: AttributionSource::None,
        attributions: Attributions::default(),
        evidence: Evidence {
            time_rule: if t.is_none() {
                TimeRule::NoFlowTime
            } else {
                TimeRule::Current
            },
            ..Evidence::default()
        },
        traffic_path: None,
    };
    let evidence = &mut c.evidence;
    if index.snapshots().len() > 1 {
        evidence.snapshot = snap.map(|s| s.dir.clone());
    }
    if let Some(e) = host_eni {
        evidence.eni_id = Some(e.id.clone());
        evidence.subnet_id = Some(e.subnet_id.clone()).filter(|s| !s.is_empty());
        if let EniRole::Instance(i) = &e.role {
            evidence.instance_id = Some(i.clone());
        }
    }
    let mut path = PathClass::Unknown;
    let mut dst_endpoint: Option<Text> = None;
    if role == Role::Egress {
        if let (Some(snap), Some(eni), Some(dst)) = (snap, host_eni, peer) {
            path = route(flow, snap, eni, dst, t, evidence, &mut dst_endpoint);
        }
    }
    c.path = path;
    if let Some(p) = peer {
        if let Some((service, by)) = attribute(
            flow,
            index,
            snap,
            names,
            p,
            host,
            dst_endpoint.as_ref(),
            role,
            &mut c.attributions,
        ) {
            c.service = service;
            c.attributed_by = by;
        }
    }
    if let (Role::Egress, Some(code)) = (role, flow.traffic_path) {
        c.traffic_path = Some(rules::check_traffic_path(code, path));
    }
    if outcome == Outcome::Rejected {
        c.reject_reason = rules::reject_reason(flow);
    }
    c
}

/// The route decision for an egress flow of `eni` to `dst`.
fn route(
    flow: &Flow,
    snap: &SnapshotIndex,
    eni: &EniInfo,
    dst: IpAddr,
    t: Option<Millis>,
    ev: &mut Evidence,
    dst_endpoint: &mut Option<Text>,
) -> PathClass {
    let table = eni.route_table.and_then(|i| snap.route_table(i));
    if let Some(rt) = table {
        ev.route_table_id = Some(rt.id.clone());
    }
    let end = rules::flow_end_time(flow);
    // Destination is an interface-endpoint ENI?
    if let Some(d) = snap.eni_at(dst, None) {
        if let EniRole::InterfaceEndpoint(vpce) = &d.role {
            if d.gate.open_at(t) {
                ev.endpoint_id = Some(vpce.clone());
                *dst_endpoint = Some(vpce.clone());
                if let Some(entry) = table.and_then(|rt| rt.lookup(dst, t).entry) {
                    ev.route_destination = Some(entry.destination.clone());
                    ev.matched_cidr = Some(entry.cidr);
                    ev.route_target = Some(entry.target.id_text());
                }
                return PathClass::InterfaceEndpoint;
            }
            // Before the endpoint existed: that address was not the endpoint.
            ev.time_rule = TimeRule::BeforeEndpoint;
            ev.replayed_without = Some(vpce.clone());
            if let (TimeGate::From(c), Some(e)) = (d.gate, end) {
                if c <= e {
                    ev.time_rule = TimeRule::StraddlesEndpointCreation;
                }
            }
        }
    }
    let Some(rt) = table else {
        return PathClass::Unknown;
    };
    let hit = rt.lookup(dst, t);
    if let Some(now) = hit.replayed_instead_of {
        ev.time_rule = TimeRule::BeforeEndpoint;
        ev.replayed_without = now
            .gate_endpoint
            .clone()
            .or_else(|| Some(now.target.id_text()));
        if let (TimeGate::From(c), Some(s), Some(e)) = (now.gate, t, end) {
            if s < c && c <= e {
                ev.time_rule = TimeRule::StraddlesEndpointCreation;
            }
        }
    }
    let Some(entry) = hit.entry else {
        return PathClass::NoRoute;
    };
    ev.route_destination = Some(entry.destination.clone());
    ev.matched_cidr = Some(entry.cidr);
    ev.route_target = Some(entry.target.id_text());
    if let RouteDestination::PrefixList(pl) = &entry.destination {
        ev.prefix_list_id = Some(pl.clone());
    }
    if entry.blackhole {
        ev.blackhole = true;
        return PathClass::NoRoute;
    }
    match &entry.target {
        RouteTarget::GatewayEndpoint(v) => {
            ev.endpoint_id = Some(v.clone());
        }
        RouteTarget::NatGateway(n) => {
            if let Some(nat) = snap.nat_gateways.get(n) {
                let nat_rt = nat.route_table.and_then(|i| snap.route_table(i));
                ev.nat_onward = Some(match nat_rt {
                    Some(nrt) => match nrt.lookup(dst, t).entry {
                        Some(e) if e.blackhole => {
                            format!(
                                "{}: {} -> {} (blackhole)",
                                nrt.id,
                                e.destination,
                                e.target.id()
                            )
                        }
                        Some(e) => format!("{}: {} -> {}", nrt.id, e.destination, e.target.id()),
                        None => format!("{}: no route onward", nrt.id),
                    },
                    None => "no route table for the nat gateway's subnet".to_string(),
                });
            }
        }
        _ => {}
    }
    rules::path_of_target(&entry.target)
}

#[allow(clippy::too_many_arguments)]
fn attribute(
    flow: &Flow,
    index: &TopologyIndex,
    snap: Option<&SnapshotIndex>,
    names: &NameIndex,
    peer: IpAddr,
    host: Option<IpAddr>,
    dst_endpoint: Option<&Text>,
    role: Role,
    a: &mut Attributions,
) -> Option<(Text, AttributionSource)> {
    let mut decided: Option<(Text, AttributionSource)> = None;

    // 1. Interface-endpoint ENI.
    let endpoint =
        dst_endpoint.and_then(|v| snap.and_then(|s| s.endpoints.iter().find(|e| e.id == *v)));
    if let Some(ep) = endpoint {
        a.endpoint = Some(ep.id.clone());
        decided = Some((ep.service.clone(), AttributionSource::EndpointEni));
    }
    // 2. A name: the flow's own SNI / Host, else DNS.
    let own = flow.capture.as_deref().and_then(|c| {
        c.sni
            .as_ref()
            .map(|n| (n, AttributionSource::Sni))
            .or_else(|| {
                c.http_host
                    .as_ref()
                    .map(|n| (n, AttributionSource::HttpHost))
            })
    });
    let name = match own {
        Some((n, src)) if role == Role::Egress => Some((Text::from(n.to_ascii_lowercase()), src)),
        _ if names.is_empty() => None,
        _ => names.lookup(peer, host, flow.start, flow.end).map(|h| {
            let src = match (h.source, h.strength) {
                (NameSource::Sni, NameStrength::SameHost) => AttributionSource::Sni,
                (NameSource::HttpHost, NameStrength::SameHost) => AttributionSource::HttpHost,
                (NameSource::Dns, NameStrength::SameHost) => AttributionSource::Dns,
                (_, NameStrength::OtherHost) => AttributionSource::DnsOtherHost,
            };
            (h.name, src)
        }),
    };
    if let Some((n, src)) = name {
        let service: Text = match service_from_name(&n) {
            Some(s) => s.service,
            None => Text::const_new("external"),
        };
        if decided.is_none() {
            decided = Some((service.clone(), src));
        }
        a.name = Some(NameEvidence {
            name: n,
            source: src,
            service,
        });
    }
    // 3. Managed prefix list.
    if let Some((id, service)) = snap.and_then(|s| s.prefix_list_ids(peer)) {
        a.prefix_list = Some((id.clone(), service.clone()));
        if decided.is_none() {
            decided = Some((service.clone(), AttributionSource::PrefixList));
        }
    }
    // 4. ip-ranges.
    if let Some(r) = index.ip_range(peer) {
        a.ip_ranges = Some((r.service.clone(), r.region.clone(), r.prefix));
        if decided.is_none() {
            decided = Some((
                rules::service_of_label(r.service),
                AttributionSource::IpRanges,
            ));
        }
    }
    // 5. pkt-dst-aws-service / pkt-src-aws-service.
    let label = if role == Role::Egress {
        flow.pkt_dst_aws_service.as_ref()
    } else {
        flow.pkt_src_aws_service
            .as_ref()
            .or(flow.pkt_dst_aws_service.as_ref())
    };
    if let Some(l) = label.filter(|l| l.as_str() != "-") {
        a.flow_log = Some(l.clone());
        if decided.is_none() {
            decided = Some((rules::service_of_label(l), AttributionSource::FlowLog));
        }
    }
    decided
}

// ---- conversations ---------------------------------------------------------------

/// An egress flow with the records that answered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Conversation {
    /// Index of the egress flow in the input slice.
    pub flow: usize,
    /// Indices of the reply records attached to it.
    pub replies: Vec<usize>,
    pub classification: Classification,
}

/// All flows, classified and paired.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Conversations {
    /// One per egress flow, in input order.
    pub conversations: Vec<Conversation>,
    /// Replies and inbound records with no egress flow to attach to, with
    /// their classification (role `reply` or `inbound`).
    pub unpaired: Vec<(usize, Classification)>,
    /// Records of NAT / endpoint ENIs.
    pub transit: Vec<usize>,
}

/// Seconds before an egress record's start that a reply may start (windows
/// of different ENIs/records do not line up exactly).
pub const PAIR_BEFORE_SECS: u64 = 60;
/// Seconds after an egress record's end that a reply may start.
pub const PAIR_AFTER_SECS: u64 = 600;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum HostKey {
    Eni(Text),
    Addr(IpAddr),
    None,
}

fn host_key(flow: &Flow) -> HostKey {
    if let Some(i) = &flow.interface_id {
        return HostKey::Eni(i.clone());
    }
    match flow.capture.as_deref().and_then(|c| c.capture_host) {
        Some(h) => HostKey::Addr(h),
        None => HostKey::None,
    }
}

/// Classify every flow (in parallel), attach replies to their egress flow
/// and settle flow-log outcomes. Deterministic for any thread count.
pub fn classify_conversations(
    flows: &[Flow],
    index: &TopologyIndex,
    names: &NameIndex,
) -> Conversations {
    use rayon::prelude::*;
    use std::collections::HashMap;

    let classes: Vec<Classification> = flows
        .par_iter()
        .map(|f| classify(f, index, names))
        .collect();

    // Egress flows by (host, key).
    let mut egress: HashMap<(HostKey, FlowKey), Vec<usize>> = HashMap::new();
    let mut has_ingress: std::collections::HashSet<HostKey> = std::collections::HashSet::new();
    for (i, (f, c)) in flows.iter().zip(&classes).enumerate() {
        if c.role == Role::Egress {
            if let Some(k) = f.key() {
                egress.entry((host_key(f), k)).or_default().push(i);
            }
        }
        if matches!(c.role, Role::Reply | Role::Inbound) {
            has_ingress.insert(host_key(f));
        }
    }
    let mut replies: Vec<Vec<usize>> = vec![Vec::new(); flows.len()];
    let mut answered_groups: std::collections::HashSet<(HostKey, FlowKey)> =
        std::collections::HashSet::new();
    let mut unpaired = Vec::new();
    let mut transit = Vec::new();
    for (i, (f, c)) in flows.iter().zip(&classes).enumerate() {
        match c.role {
            Role::Egress => continue,
            Role::Transit => {
                transit.push(i);
                continue;
            }
            Role::Reply | Role::Inbound => {}
        }
        let group = f.key().map(|k| (host_key(f), k.reversed()));
        let start = f.start;
        let best = group
            .as_ref()
            .and_then(|g| egress.get(g))
            .and_then(|cands| {
                cands
                    .iter()
                    .filter(|&&e| {
                        let Some(ef) = flows.get(e) else { return false };
                        match (start, ef.start.or(ef.end), ef.end.or(ef.start)) {
                            (Some(s), Some(es), Some(ee)) => {
                                s.saturating_add(PAIR_BEFORE_SECS) >= es
                                    && s <= ee.saturating_add(PAIR_AFTER_SECS)
                            }
                            _ => true,
                        }
                    })
                    .min_by_key(|&&e| {
                        let es = flows.get(e).and_then(|ef| ef.start).unwrap_or(0);
                        (start.unwrap_or(0).abs_diff(es), e)
                    })
                    .copied()
            });
        match (best, group) {
            (Some(e), Some(g)) => {
                if let Some(r) = replies.get_mut(e) {
                    r.push(i);
                }
                if f.action != Some(crate::flow::Action::Reject) {
                    answered_groups.insert(g);
                }
            }
            _ => {
                if let Some(c) = classes.get(i) {
                    unpaired.push((i, c.clone()));
                }
            }
        }
    }
    let mut conversations = Vec::new();
    for (i, (f, mut c)) in flows.iter().zip(classes).enumerate() {
        if c.role != Role::Egress {
            continue;
        }
        let r = replies.get_mut(i).map(std::mem::take).unwrap_or_default();
        if c.outcome == Outcome::Unknown {
            let hk = host_key(f);
            let answered = f
                .key()
                .is_some_and(|k| answered_groups.contains(&(hk.clone(), k)));
            if answered {
                c.outcome = Outcome::Answered;
            } else if !r.is_empty() {
                // Only rejected replies came back.
                c.outcome = Outcome::Rejected;
            } else if has_ingress.contains(&hk) {
                c.outcome = Outcome::Unanswered;
            }
        }
        conversations.push(Conversation {
            flow: i,
            replies: r,
            classification: c,
        });
    }
    Conversations {
        conversations,
        unpaired,
        transit,
    }
}

// ---- private DNS -------------------------------------------------------------------

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
pub fn private_dns(
    index: &TopologyIndex,
    dns: &[crate::flow::DnsRecord],
) -> Vec<PrivateDnsVerdict> {
    let Some(snap) = index.snapshots().last() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for ep in &snap.endpoints {
        if ep.kind != crate::topology::EndpointKind::Interface {
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

#[cfg(test)]
mod tests;
