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
//! `pkt-dst-aws-service`; else `vpc` when the other side is an address of
//! the VPC (east-west traffic: [`VPC_SERVICE`]), else `external`. A name
//! that is not an AWS name leaves an in-VPC peer `vpc` too.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;

use crate::flow::{Direction, Flow, Initiator, NameSource};
use crate::topology::{
    EniInfo, EniMemo, EniRole, IpRangeEntry, Millis, PrefixListEntry, RouteDestination, RouteEntry,
    RouteTarget, RtIndex, SnapshotIndex, TargetKind, Text, TimeGate, TopologyIndex,
};

pub mod api_calls;
mod conversations;
pub mod names;
mod private_dns;
pub mod rules;

pub use conversations::{
    Conversation, Conversations, PAIR_AFTER_SECS, PAIR_BEFORE_SECS, classify_conversations,
    nearest_egress,
};
pub use private_dns::{PrivateDnsState, PrivateDnsVerdict, private_dns};

pub use names::{
    NameHit, NameIndex, NameStrength, NamedService, service_from_name, sightings_from_flows,
};

/// The service of traffic to another address of the VPC (east-west): not
/// `external`, which is for addresses outside the VPC and AWS.
pub const VPC_SERVICE: &str = "vpc";

/// The service of traffic no signal named, outside the VPC.
pub const EXTERNAL_SERVICE: &str = "external";

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
///
/// Ids are borrowed from the [`TopologyIndex`] and the [`Flow`]: filling
/// them is a pointer copy, not a string copy (the classifier's hot path).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Attributions<'a> {
    /// The interface endpoint whose ENI the destination is.
    pub endpoint: Option<&'a Text>,
    /// Boxed: most flows have no name, and the classification stays small.
    pub name: Option<Box<NameEvidence>>,
    /// The managed prefix list entry containing the destination.
    pub prefix_list: Option<&'a PrefixListEntry>,
    /// The most specific ip-ranges prefix containing the destination.
    pub ip_ranges: Option<&'a IpRangeEntry>,
    /// The flow-log `pkt-dst-aws-service` (or src for inbound).
    pub flow_log: Option<&'a Text>,
    /// The other side is an address of the VPC (service `vpc`): what the
    /// topology knows of it.
    pub vpc_peer: Option<VpcPeer<'a>>,
}

/// The other side of east-west traffic, as the topology knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct VpcPeer<'a> {
    /// The ENI owning the address, when the topology has it.
    pub eni: Option<&'a Text>,
    /// The instance (or interface endpoint, NAT gateway) that ENI belongs to.
    pub owner: Option<&'a Text>,
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

/// Why the path is what it is. It points into the [`TopologyIndex`] (the
/// host's ENI, its route table, the winning route); the ids are read
/// through the accessors. Two evidences are equal when they say the same
/// (same ids, same rule).
#[derive(Debug, Clone)]
pub struct Evidence<'a> {
    /// The snapshot used (its folder), when several were loaded.
    pub snapshot: Option<&'a String>,
    /// The host's ENI.
    pub eni: Option<&'a EniInfo>,
    /// The route table of the host's subnet.
    pub route_table: Option<&'a RtIndex>,
    /// The winning route (its prefix-list entry for prefix-list routes).
    pub route: Option<&'a RouteEntry>,
    /// The winning route is a blackhole (drops: `no-route`).
    pub blackhole: bool,
    /// The interface endpoint whose ENI the destination is (see
    /// [`Evidence::endpoint_id`] for either kind).
    pub endpoint: Option<&'a Text>,
    /// NAT gateway: its own table and onward route (`rtb-…: 0.0.0.0/0 -> igw-…`).
    pub nat_onward: Option<Box<str>>,
    pub time_rule: TimeRule,
    /// The interface endpoint left out by the replay (its ENI would decide
    /// today); see [`Evidence::replayed_without`] for either kind.
    pub replayed_endpoint: Option<&'a Text>,
    /// The route the current table would pick instead (the replay changed
    /// the answer).
    pub replayed_route: Option<&'a RouteEntry>,
}

impl Default for Evidence<'_> {
    fn default() -> Self {
        Evidence {
            snapshot: None,
            eni: None,
            route_table: None,
            route: None,
            blackhole: false,
            endpoint: None,
            nat_onward: None,
            time_rule: TimeRule::Current,
            replayed_endpoint: None,
            replayed_route: None,
        }
    }
}

impl<'a> Evidence<'a> {
    pub fn eni_id(&self) -> Option<&'a str> {
        self.eni.map(|e| e.id.as_str())
    }

    pub fn instance_id(&self) -> Option<&'a str> {
        match self.eni.map(|e| &e.role) {
            Some(EniRole::Instance(i)) => Some(i.as_str()),
            _ => None,
        }
    }

    pub fn subnet_id(&self) -> Option<&'a str> {
        self.eni
            .map(|e| e.subnet_id.as_str())
            .filter(|s| !s.is_empty())
    }

    pub fn route_table_id(&self) -> Option<&'a str> {
        self.route_table.map(|r| r.id.as_str())
    }

    /// The winning route's destination (CIDR or prefix-list id).
    pub fn route_destination(&self) -> Option<&'a RouteDestination> {
        self.route.map(|r| &r.destination)
    }

    /// The CIDR that matched (the prefix-list entry for prefix-list routes).
    pub fn matched_cidr(&self) -> Option<IpNet> {
        self.route.map(|r| r.cidr)
    }

    pub fn route_target(&self) -> Option<&'a str> {
        self.route.map(|r| r.target.id())
    }

    /// The endpoint that carried the flow: the interface endpoint whose ENI
    /// the destination is, else the gateway endpoint of the winning route
    /// (not a blackhole).
    pub fn endpoint_id(&self) -> Option<&'a str> {
        self.endpoint
            .map(Text::as_str)
            .or_else(|| match self.route {
                Some(r) if !self.blackhole => match &r.target {
                    RouteTarget::GatewayEndpoint(v) => Some(v.as_str()),
                    _ => None,
                },
                _ => None,
            })
    }

    /// The endpoint left out by the replay: an interface endpoint whose ENI
    /// the destination is, else the endpoint (or target) of the route the
    /// current table would pick.
    pub fn replayed_without(&self) -> Option<&'a str> {
        self.replayed_endpoint.map(Text::as_str).or_else(|| {
            self.replayed_route
                .map(|r| r.gate_endpoint.as_deref().unwrap_or_else(|| r.target.id()))
        })
    }

    /// The prefix list of the winning route.
    pub fn prefix_list_id(&self) -> Option<&'a str> {
        match self.route.map(|r| &r.destination) {
            Some(RouteDestination::PrefixList(pl)) => Some(pl.as_str()),
            _ => None,
        }
    }
}

/// The flat, id-only form [`Evidence`] serializes (and compares) as.
#[derive(Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
struct EvidenceWire<'a> {
    snapshot: Option<&'a str>,
    eni_id: Option<&'a str>,
    instance_id: Option<&'a str>,
    subnet_id: Option<&'a str>,
    route_table_id: Option<&'a str>,
    route_destination: Option<&'a RouteDestination>,
    matched_cidr: Option<IpNet>,
    route_target: Option<&'a str>,
    blackhole: bool,
    endpoint_id: Option<&'a str>,
    prefix_list_id: Option<&'a str>,
    nat_onward: Option<&'a str>,
    time_rule: TimeRule,
    replayed_without: Option<&'a str>,
}

impl<'a> Evidence<'a> {
    fn wire(&self) -> EvidenceWire<'_> {
        EvidenceWire {
            snapshot: self.snapshot.map(String::as_str),
            eni_id: self.eni_id(),
            instance_id: self.instance_id(),
            subnet_id: self.subnet_id(),
            route_table_id: self.route_table_id(),
            route_destination: self.route_destination(),
            matched_cidr: self.matched_cidr(),
            route_target: self.route_target(),
            blackhole: self.blackhole,
            endpoint_id: self.endpoint_id(),
            prefix_list_id: self.prefix_list_id(),
            nat_onward: self.nat_onward.as_deref(),
            time_rule: self.time_rule,
            replayed_without: self.replayed_without(),
        }
    }
}

impl PartialEq for Evidence<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.wire() == other.wire()
    }
}

impl Eq for Evidence<'_> {}

impl Serialize for Evidence<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.wire().serialize(s)
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

/// The classifier's answer for one flow. It borrows its ids from the
/// [`TopologyIndex`] and the [`Flow`] it was made from (`'a`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Classification<'a> {
    pub role: Role,
    /// The host's address (the source of an egress flow).
    pub host: Option<IpAddr>,
    /// The other side.
    pub peer: Option<IpAddr>,
    /// Meaningful for `Role::Egress`; `unknown` otherwise.
    pub path: PathClass,
    pub outcome: Outcome,
    pub reject_reason: Option<&'a Text>,
    /// `s3`, `cloudformation`, `dynamodb`, other AWS services by name, `aws`
    /// (an AWS address, service unknown), `vpc` (another address of the
    /// VPC), `external`.
    pub service: Text,
    pub attributed_by: AttributionSource,
    pub attributions: Attributions<'a>,
    pub evidence: Evidence<'a>,
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
    memo: &mut EniMemo<'a>,
) -> (Role, bool, Option<&'a EniInfo>) {
    let src = flow.src_addr;
    let dst = flow.dst_addr;
    let iface = flow
        .interface_id
        .as_deref()
        .and_then(|id| snap.and_then(|s| s.eni_memo(id, memo)));
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
///
/// The answer borrows its ids from `index` and `flow` (no string copies on
/// this path: it runs once per flow of every input).
pub fn classify<'a>(
    flow: &'a Flow,
    index: &'a TopologyIndex,
    names: &NameIndex,
) -> Classification<'a> {
    classify_with(flow, index, names, &mut EniMemo::default())
}

/// [`classify`] for a run of flows: the same answers, with the last
/// interface's ENI remembered from one flow to the next (consecutive
/// flow-log records mostly share their interface).
#[derive(Debug, Clone)]
pub struct Classifier<'a, 'n> {
    index: &'a TopologyIndex,
    names: &'n NameIndex,
    memo: EniMemo<'a>,
}

impl<'a, 'n> Classifier<'a, 'n> {
    pub fn new(index: &'a TopologyIndex, names: &'n NameIndex) -> Classifier<'a, 'n> {
        Classifier {
            index,
            names,
            memo: EniMemo::default(),
        }
    }

    /// Classify one flow. Pure: the memo changes how fast, never what.
    #[inline]
    pub fn classify(&mut self, flow: &'a Flow) -> Classification<'a> {
        classify_with(flow, self.index, self.names, &mut self.memo)
    }
}

fn classify_with<'a>(
    flow: &'a Flow,
    index: &'a TopologyIndex,
    names: &NameIndex,
    memo: &mut EniMemo<'a>,
) -> Classification<'a> {
    let t = rules::flow_time(flow);
    let snap = index.snapshot_at(t);
    let (role, host_is_src, host_eni) = decide_role(flow, snap, t, memo);
    let (host, peer) = if host_is_src {
        (flow.src_addr, flow.effective_dst())
    } else {
        (flow.dst_addr, flow.effective_src())
    };
    let outcome = rules::outcome_of(flow);
    let mut evidence = Evidence {
        snapshot: if index.snapshots().len() > 1 {
            snap.map(|s| &s.dir)
        } else {
            None
        },
        eni: host_eni,
        time_rule: if t.is_none() {
            TimeRule::NoFlowTime
        } else {
            TimeRule::Current
        },
        ..Evidence::default()
    };
    let mut path = PathClass::Unknown;
    let mut dst_endpoint: Option<&'a Text> = None;
    if role == Role::Egress {
        if let (Some(snap), Some(eni), Some(dst)) = (snap, host_eni, peer) {
            path = route(flow, snap, eni, dst, t, &mut evidence, &mut dst_endpoint);
        }
    }
    let mut attributions = Attributions::default();
    let (service, attributed_by) = peer
        .and_then(|p| {
            let target = AttributionTarget {
                peer: p,
                host,
                dst_endpoint,
                role,
            };
            attribute(flow, index, snap, names, target, &mut attributions)
        })
        .unwrap_or((Text::const_new(EXTERNAL_SERVICE), AttributionSource::None));
    // East-west: an address of the VPC that no AWS service claims.
    let service = match (peer, snap) {
        (Some(p), Some(s)) if service == EXTERNAL_SERVICE && s.in_vpc(p) => {
            let eni = s.eni_at(p, t);
            attributions.vpc_peer = Some(VpcPeer {
                eni: eni.map(|e| &e.id),
                owner: eni.and_then(|e| match &e.role {
                    EniRole::Instance(x)
                    | EniRole::InterfaceEndpoint(x)
                    | EniRole::NatGateway(x) => Some(x),
                    EniRole::Other => None,
                }),
            });
            Text::const_new(VPC_SERVICE)
        }
        _ => service,
    };
    Classification {
        role,
        host,
        peer,
        path,
        outcome,
        reject_reason: if outcome == Outcome::Rejected {
            rules::reject_reason(flow)
        } else {
            None
        },
        service,
        attributed_by,
        attributions,
        evidence,
        traffic_path: match (role, flow.traffic_path) {
            (Role::Egress, Some(code)) => Some(rules::check_traffic_path(code, path)),
            _ => None,
        },
    }
}

/// The route decision for an egress flow of `eni` to `dst`.
fn route<'a>(
    flow: &Flow,
    snap: &'a SnapshotIndex,
    eni: &'a EniInfo,
    dst: IpAddr,
    t: Option<Millis>,
    ev: &mut Evidence<'a>,
    dst_endpoint: &mut Option<&'a Text>,
) -> PathClass {
    let table = eni.route_table.and_then(|i| snap.route_table(i));
    ev.route_table = table;
    // The flow's end is read only when its window may straddle a creation.
    let end = || rules::flow_end_time(flow);
    // Destination is an interface-endpoint ENI?
    if let Some(d) = snap.endpoint_eni_at(dst) {
        if let EniRole::InterfaceEndpoint(vpce) = &d.role {
            if d.gate.open_at(t) {
                ev.endpoint = Some(vpce);
                *dst_endpoint = Some(vpce);
                ev.route = table.and_then(|rt| rt.lookup(dst, t).entry);
                return PathClass::InterfaceEndpoint;
            }
            // Before the endpoint existed: that address was not the endpoint.
            ev.time_rule = TimeRule::BeforeEndpoint;
            ev.replayed_endpoint = Some(vpce);
            if let (TimeGate::From(c), Some(e)) = (d.gate, end()) {
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
        ev.replayed_route = Some(now);
        // `now`'s endpoint was created at or after the next epoch began: only
        // a window that reaches that far can straddle it (so the entry, cold
        // in cache, is read only then).
        if let Some((next, e)) = hit.epoch_end.zip(end()) {
            if next <= e {
                if let (TimeGate::From(c), Some(s)) = (now.gate, t) {
                    if s < c && c <= e {
                        ev.time_rule = TimeRule::StraddlesEndpointCreation;
                    }
                }
            }
        }
    }
    let (Some(entry), Some(kind)) = (hit.entry, hit.kind) else {
        return PathClass::NoRoute;
    };
    // The decision reads the compact `kind`; the entry itself is only
    // pointed at (it is read when the evidence is rendered).
    ev.route = Some(entry);
    if kind.blackhole {
        ev.blackhole = true;
        return PathClass::NoRoute;
    }
    if kind.target == TargetKind::NatGateway {
        if let RouteTarget::NatGateway(n) = &entry.target {
            if let Some(nat) = snap.nat_gateways.get(n) {
                let nat_rt = nat.route_table.and_then(|i| snap.route_table(i));
                ev.nat_onward = Some(
                    match nat_rt {
                        Some(nrt) => match nrt.lookup(dst, t).entry {
                            Some(e) => format!(
                                "{}: {} -> {}{}",
                                nrt.id,
                                e.destination,
                                e.target.id(),
                                if e.blackhole { " (blackhole)" } else { "" }
                            ),
                            None => format!("{}: no route onward", nrt.id),
                        },
                        None => "no route table for the nat gateway's subnet".to_string(),
                    }
                    .into_boxed_str(),
                );
            }
        }
    }
    rules::path_of_kind(kind.target)
}

/// Whose service [`attribute`] looks for.
#[derive(Clone, Copy)]
struct AttributionTarget<'a> {
    /// The other side of the flow (the destination of an egress flow).
    peer: IpAddr,
    host: Option<IpAddr>,
    /// The interface endpoint whose ENI `peer` is (decided by [`route`]).
    dst_endpoint: Option<&'a Text>,
    role: Role,
}

fn attribute<'a>(
    flow: &'a Flow,
    index: &'a TopologyIndex,
    snap: Option<&'a SnapshotIndex>,
    names: &NameIndex,
    target: AttributionTarget<'a>,
    a: &mut Attributions<'a>,
) -> Option<(Text, AttributionSource)> {
    let AttributionTarget {
        peer,
        host,
        dst_endpoint,
        role,
    } = target;
    let mut decided: Option<(Text, AttributionSource)> = None;

    // 1. Interface-endpoint ENI.
    let endpoint =
        dst_endpoint.and_then(|v| snap.and_then(|s| s.endpoints.iter().find(|e| e.id == *v)));
    if let Some(ep) = endpoint {
        a.endpoint = Some(&ep.id);
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
            None => Text::const_new(EXTERNAL_SERVICE),
        };
        if decided.is_none() {
            decided = Some((service.clone(), src));
        }
        a.name = Some(Box::new(NameEvidence {
            name: n,
            source: src,
            service,
        }));
    }
    // 3. Managed prefix list (one lookup answers 3. and 4.).
    let (pl, ipr) = index.aws_ranges(snap, peer);
    if let Some(pl) = pl {
        a.prefix_list = Some(pl);
        if decided.is_none() {
            decided = Some((pl.service.clone(), AttributionSource::PrefixList));
        }
    }
    // 4. ip-ranges.
    if let Some(r) = ipr {
        a.ip_ranges = Some(r);
        if decided.is_none() {
            decided = Some((r.label.clone(), AttributionSource::IpRanges));
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
        a.flow_log = Some(l);
        if decided.is_none() {
            decided = Some((rules::service_of_label(l), AttributionSource::FlowLog));
        }
    }
    decided
}

#[cfg(test)]
mod tests;
