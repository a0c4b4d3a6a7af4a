//! Table tests of the classifier: one named row per lab phase and per path
//! class, against a lab-shaped topology built here (the corpus rows at the
//! end use `$PRIVPATH_CORPUS/aws`).

use std::collections::BTreeMap;
use std::net::IpAddr;

use proptest::prelude::*;

use super::*;
use crate::flow::{Action, CaptureEvidence, DnsRecord, Handshake};
use crate::ingest::Parts;
use crate::topology::{
    EndpointKind, Eni, EniKind, Instance, InternetGateway, IpRangePrefix, IpRanges, NatGateway,
    PrefixList, Route, RouteState, RouteTable, Snapshot, Subnet, Topology, Vpc, VpcEndpoint,
    parse_timestamp,
};

// ---- the lab ----------------------------------------------------------------------

const RTB_PUBLIC: &str = "rtb-09a1c5e7d3b2f4860";
const RTB_PRIVATE: &str = "rtb-0d6f2a9c4e81b7053";
const VPCE_GW: &str = "vpce-0e5a3c7d9b1f24680";
const VPCE_IF: &str = "vpce-04b9d1f7a3c5e2860";
const PL_S3: &str = "pl-78a54011";
const PUB: &str = "10.0.0.37";
const PRIV: &str = "10.0.1.148";
const NATC: &str = "10.0.2.10";
const BH: &str = "10.0.3.10";
const ENI_IF_A: &str = "10.0.0.214";
const ENI_IF_B: &str = "10.0.1.87";
const S3_IP: &str = "52.219.60.25";
const CFN_IP: &str = "52.95.194.65";
const CFN_NAME: &str = "cloudformation.ap-northeast-2.amazonaws.com";
const VPCE_NAME: &str =
    "vpce-04b9d1f7a3c5e2860-k3m9x2qa.cloudformation.ap-northeast-2.vpce.amazonaws.com";

/// 2026-11-18T02:14:09.512Z and 2026-11-18T03:02:47.208Z in seconds.
const T_GW: u64 = 1_794_968_049;
const T_IF: u64 = 1_794_970_967;
const BASELINE: u64 = T_GW - 3600;
const AFTER_GW: u64 = T_GW + 600;
const AFTER_IF: u64 = T_IF + 600;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}
fn net(s: &str) -> ipnet::IpNet {
    s.parse().unwrap()
}
fn t(s: &str) -> Text {
    Text::from(s)
}

fn route(dst: &str, target: &str, state: RouteState) -> Route {
    Route {
        destination: if dst.starts_with("pl-") {
            RouteDestination::PrefixList(t(dst))
        } else {
            RouteDestination::Cidr(net(dst))
        },
        target: RouteTarget::from_gateway_id(target),
        state,
        origin: Some(t(if target == "local" {
            "CreateRouteTable"
        } else {
            "CreateRoute"
        })),
    }
}

fn rtb(id: &str, main: bool, subnets: &[&str], routes: Vec<Route>) -> RouteTable {
    RouteTable {
        id: t(id),
        vpc_id: t("vpc-lab"),
        main,
        subnet_ids: subnets.iter().map(|s| t(s)).collect(),
        routes,
        name: None,
    }
}

fn eni(id: &str, kind: EniKind, subnet: &str, ips: &[&str]) -> Eni {
    Eni {
        id: t(id),
        kind,
        subnet_id: t(subnet),
        vpc_id: t("vpc-lab"),
        private_ips: ips.iter().map(|s| ip(s)).collect(),
        public_ips: vec![],
        description: None,
        interface_type: None,
    }
}

/// The lab after both endpoints (private DNS as given), plus a NAT subnet,
/// a blackhole subnet, peering/TGW routes and IPv6 on the public subnet.
fn lab_snapshot(private_dns: bool) -> Snapshot {
    let mut s = Snapshot::new("lab".into());
    s.vpcs.insert(
        t("vpc-lab"),
        Vpc {
            id: t("vpc-lab"),
            cidrs: vec![net("10.0.0.0/16"), net("2406:da1c:abc:1200::/56")],
            dns_support: Some(true),
            dns_hostnames: Some(true),
            name: None,
        },
    );
    for (id, cidr) in [
        ("subnet-public", "10.0.0.0/24"),
        ("subnet-private", "10.0.1.0/24"),
        ("subnet-natc", "10.0.2.0/24"),
        ("subnet-bh", "10.0.3.0/24"),
        ("subnet-main", "10.0.4.0/24"),
    ] {
        s.subnets.insert(
            t(id),
            Subnet {
                id: t(id),
                vpc_id: t("vpc-lab"),
                cidrs: vec![net(cidr)],
                availability_zone: None,
                name: None,
            },
        );
    }
    use RouteState::{Active, Blackhole};
    let local = || route("10.0.0.0/16", "local", Active);
    let rts = [
        rtb("rtb-main", true, &[], vec![local()]),
        rtb(
            RTB_PUBLIC,
            false,
            &["subnet-public"],
            vec![
                local(),
                route("2406:da1c:abc:1200::/56", "local", Active),
                route("0.0.0.0/0", "igw-lab", Active),
                route("::/0", "igw-lab", Active),
                route(PL_S3, VPCE_GW, Active),
                route("172.16.0.0/12", "pcx-lab", Active),
                route("192.168.0.0/16", "tgw-lab", Active),
                route("198.51.100.0/24", "vgw-lab", Active),
            ],
        ),
        rtb(
            RTB_PRIVATE,
            false,
            &["subnet-private"],
            vec![local(), route(PL_S3, VPCE_GW, Active)],
        ),
        rtb(
            "rtb-natc",
            false,
            &["subnet-natc"],
            vec![local(), route("0.0.0.0/0", "nat-lab", Active)],
        ),
        rtb(
            "rtb-bh",
            false,
            &["subnet-bh"],
            vec![
                local(),
                route("0.0.0.0/0", "igw-lab", Active),
                route("203.0.113.0/24", "nat-gone", Blackhole),
            ],
        ),
    ];
    for r in rts {
        s.route_tables.insert(r.id.clone(), r);
    }
    s.internet_gateways.insert(
        t("igw-lab"),
        InternetGateway {
            id: t("igw-lab"),
            vpc_ids: vec![t("vpc-lab")],
        },
    );
    s.nat_gateways.insert(
        t("nat-lab"),
        NatGateway {
            id: t("nat-lab"),
            vpc_id: t("vpc-lab"),
            subnet_id: t("subnet-public"),
            state: Some(t("available")),
            created: None,
            eni_ids: vec![t("eni-nat")],
            private_ips: vec![ip("10.0.0.50")],
            public_ips: vec![ip("3.38.1.1")],
        },
    );
    s.prefix_lists.insert(
        t(PL_S3),
        PrefixList {
            id: t(PL_S3),
            name: Some(t("com.amazonaws.ap-northeast-2.s3")),
            cidrs: [
                "3.5.140.0/22",
                "3.5.144.0/23",
                "3.5.184.0/21",
                "52.219.144.0/22",
                "52.219.148.0/23",
                "52.219.202.0/23",
                "52.219.204.0/22",
                "52.219.56.0/22",
                "52.219.60.0/23",
            ]
            .iter()
            .map(|c| net(c))
            .collect(),
            entries_known: true,
            owner: Some(t("AWS")),
        },
    );
    let mut dns_names = vec![t(VPCE_NAME)];
    if private_dns {
        dns_names.push(t(CFN_NAME));
    }
    s.endpoints.insert(
        t(VPCE_GW),
        VpcEndpoint {
            id: t(VPCE_GW),
            kind: EndpointKind::Gateway,
            vpc_id: t("vpc-lab"),
            service_name: t("com.amazonaws.ap-northeast-2.s3"),
            service: t("s3"),
            region: Some(t("ap-northeast-2")),
            state: Some(t("available")),
            route_table_ids: vec![t(RTB_PUBLIC), t(RTB_PRIVATE)],
            subnet_ids: vec![],
            eni_ids: vec![],
            private_dns_enabled: Some(false),
            dns_names: vec![],
            created: parse_timestamp("2026-11-18T02:14:09.512000+00:00"),
        },
    );
    s.endpoints.insert(
        t(VPCE_IF),
        VpcEndpoint {
            id: t(VPCE_IF),
            kind: EndpointKind::Interface,
            vpc_id: t("vpc-lab"),
            service_name: t("com.amazonaws.ap-northeast-2.cloudformation"),
            service: t("cloudformation"),
            region: Some(t("ap-northeast-2")),
            state: Some(t("available")),
            route_table_ids: vec![],
            subnet_ids: vec![t("subnet-public"), t("subnet-private")],
            eni_ids: vec![t("eni-if-a"), t("eni-if-b")],
            private_dns_enabled: Some(private_dns),
            dns_names,
            created: parse_timestamp("2026-11-18T03:02:47.208Z"),
        },
    );
    let enis = [
        eni(
            "eni-pub",
            EniKind::Instance(t("i-pub")),
            "subnet-public",
            &[PUB, "2406:da1c:abc:1200::37"],
        ),
        eni(
            "eni-priv",
            EniKind::Instance(t("i-priv")),
            "subnet-private",
            &[PRIV],
        ),
        eni(
            "eni-natc",
            EniKind::Instance(t("i-natc")),
            "subnet-natc",
            &[NATC],
        ),
        eni("eni-bh", EniKind::Instance(t("i-bh")), "subnet-bh", &[BH]),
        eni(
            "eni-main",
            EniKind::Instance(t("i-main")),
            "subnet-main",
            &["10.0.4.10"],
        ),
        eni(
            "eni-if-a",
            EniKind::InterfaceEndpoint(t(VPCE_IF)),
            "subnet-public",
            &[ENI_IF_A],
        ),
        eni(
            "eni-if-b",
            EniKind::InterfaceEndpoint(t(VPCE_IF)),
            "subnet-private",
            &[ENI_IF_B],
        ),
        eni(
            "eni-nat",
            EniKind::NatGateway(t("nat-lab")),
            "subnet-public",
            &["10.0.0.50"],
        ),
    ];
    for e in enis {
        if let EniKind::Instance(i) = &e.kind {
            s.instances.insert(
                i.clone(),
                Instance {
                    id: i.clone(),
                    subnet_id: e.subnet_id.clone(),
                    vpc_id: t("vpc-lab"),
                    private_ip: e.private_ips.first().copied(),
                    public_ip: None,
                    eni_ids: vec![e.id.clone()],
                    launch_time: None,
                    name: None,
                },
            );
        }
        s.enis.insert(e.id.clone(), e);
    }
    s
}

fn ranges() -> IpRanges {
    let p = |c: &str, svc: &str| IpRangePrefix {
        prefix: net(c),
        service: t(svc),
        region: t("ap-northeast-2"),
    };
    IpRanges {
        file: "ip-ranges.json".into(),
        sync_token: None,
        create_date: None,
        prefixes: vec![
            p("52.219.60.0/23", "AMAZON"),
            p("52.219.60.0/23", "S3"),
            p("3.5.140.0/22", "AMAZON"),
            p("3.5.140.0/22", "EC2"),
            p("3.5.140.0/22", "S3"),
            p("52.95.192.0/20", "AMAZON"),
            p("43.200.0.0/14", "EC2"),
            p("43.200.0.0/14", "AMAZON"),
            p("2406:da60:2000::/40", "S3"),
            p("2406:da00::/24", "AMAZON"),
        ],
    }
}

fn lab(private_dns: bool) -> TopologyIndex {
    TopologyIndex::build(&Topology {
        snapshots: vec![lab_snapshot(private_dns)],
        ip_ranges: Some(ranges()),
        notes: vec![],
    })
}

// ---- flows ------------------------------------------------------------------------

/// A flow-log egress record of `iface` (v5 with flow-direction).
fn egress(at: u64, iface: &str, src: &str, dst: &str, dport: u16) -> Flow {
    Flow {
        version: Some(5),
        interface_id: Some(t(iface)),
        src_addr: Some(ip(src)),
        dst_addr: Some(ip(dst)),
        src_port: Some(40_000),
        dst_port: Some(dport),
        protocol: Some(6),
        packets: Some(10),
        bytes: Some(1000),
        start: Some(at),
        end: Some(at + 50),
        action: Some(Action::Accept),
        flow_direction: Some(Direction::Egress),
        ..Flow::default()
    }
}

fn with_path(mut f: Flow, code: u8) -> Flow {
    f.traffic_path = Some(code);
    f
}

/// A capture flow opened by `host`.
fn captured(at: u64, host: &str, dst: &str, hs: Handshake) -> Flow {
    Flow {
        src_addr: Some(ip(host)),
        dst_addr: Some(ip(dst)),
        src_port: Some(41_000),
        dst_port: Some(443),
        protocol: Some(6),
        start: Some(at),
        end: Some(at + 3),
        capture: Some(Box::new(CaptureEvidence {
            capture_host: Some(ip(host)),
            initiator: Some(Initiator::Source),
            handshake: Some(hs),
            ..CaptureEvidence::default()
        })),
        ..Flow::default()
    }
}

fn answer(at: u64, client: &str, name: &str, addr: &str) -> DnsRecord {
    DnsRecord {
        time: at,
        time_nanos: 0,
        client: ip(client),
        resolver: ip("10.0.0.2"),
        query: name.into(),
        qtype: 1,
        rcode: 0,
        answers: vec![ip(addr)],
        cnames: vec![],
        ttl: Some(60),
        provenance: Default::default(),
    }
}

// ---- the table --------------------------------------------------------------------

struct Row {
    name: &'static str,
    private_dns: bool,
    dns: Vec<DnsRecord>,
    flow: Flow,
    role: Role,
    path: PathClass,
    outcome: Outcome,
    service: &'static str,
    by: AttributionSource,
    check: fn(&Classification) -> Result<(), String>,
}

fn ok(_: &Classification) -> Result<(), String> {
    Ok(())
}

fn rows() -> Vec<Row> {
    vec![
        Row {
            name: "baseline_public_s3_via_internet_gateway",
            private_dns: true,
            dns: vec![],
            flow: with_path(egress(BASELINE, "eni-pub", PUB, S3_IP, 443), 8),
            role: Role::Egress,
            path: PathClass::InternetGateway,
            outcome: Outcome::Unknown,
            service: "s3",
            by: AttributionSource::PrefixList,
            check: |c| {
                let e = &c.evidence;
                (e.route_table_id() == Some(RTB_PUBLIC)
                    && e.route_target() == Some("igw-lab")
                    && e.route_destination() == Some(&RouteDestination::Cidr(net("0.0.0.0/0")))
                    && e.time_rule == TimeRule::BeforeEndpoint
                    && e.replayed_without() == Some(VPCE_GW)
                    && c.traffic_path.map(|t| t.verdict) == Some(TrafficPathVerdict::Agrees))
                .then_some(())
                .ok_or_else(|| format!("{e:?} {:?}", c.traffic_path))
            },
        },
        Row {
            name: "baseline_private_s3_no_route_unanswered",
            private_dns: true,
            dns: vec![],
            flow: captured(BASELINE, PRIV, S3_IP, Handshake::SynOnly),
            role: Role::Egress,
            path: PathClass::NoRoute,
            outcome: Outcome::Unanswered,
            service: "s3",
            by: AttributionSource::PrefixList,
            check: |c| {
                (c.evidence.route_table_id() == Some(RTB_PRIVATE)
                    && c.evidence.time_rule == TimeRule::BeforeEndpoint
                    && !c.evidence.blackhole)
                    .then_some(())
                    .ok_or_else(|| format!("{:?}", c.evidence))
            },
        },
        Row {
            name: "after_gateway_endpoint_public_s3_via_endpoint",
            private_dns: true,
            dns: vec![],
            flow: with_path(egress(AFTER_GW, "eni-pub", PUB, S3_IP, 443), 7),
            role: Role::Egress,
            path: PathClass::GatewayEndpoint,
            outcome: Outcome::Unknown,
            service: "s3",
            by: AttributionSource::PrefixList,
            check: |c| {
                let e = &c.evidence;
                (e.endpoint_id() == Some(VPCE_GW)
                    && e.prefix_list_id() == Some(PL_S3)
                    && e.matched_cidr() == Some(net("52.219.60.0/23"))
                    && e.time_rule == TimeRule::Current
                    && c.traffic_path.map(|t| t.verdict) == Some(TrafficPathVerdict::Agrees))
                .then_some(())
                .ok_or_else(|| format!("{e:?}"))
            },
        },
        Row {
            name: "after_gateway_endpoint_private_s3_via_endpoint",
            private_dns: true,
            dns: vec![],
            flow: captured(AFTER_GW, PRIV, S3_IP, Handshake::Completed),
            role: Role::Egress,
            path: PathClass::GatewayEndpoint,
            outcome: Outcome::Answered,
            service: "s3",
            by: AttributionSource::PrefixList,
            check: |c| {
                (c.evidence.route_table_id() == Some(RTB_PRIVATE)
                    && c.evidence.endpoint_id() == Some(VPCE_GW))
                .then_some(())
                .ok_or_else(|| format!("{:?}", c.evidence))
            },
        },
        Row {
            name: "private_dns_on_public_cloudformation_to_endpoint_eni",
            private_dns: true,
            dns: vec![answer(AFTER_IF - 1, PUB, CFN_NAME, ENI_IF_A)],
            flow: with_path(egress(AFTER_IF, "eni-pub", PUB, ENI_IF_A, 443), 1),
            role: Role::Egress,
            path: PathClass::InterfaceEndpoint,
            outcome: Outcome::Unknown,
            service: "cloudformation",
            by: AttributionSource::EndpointEni,
            check: |c| {
                (c.evidence.endpoint_id() == Some(VPCE_IF)
                    && c.evidence.route_target() == Some("local")
                    && c.attributions.name.as_ref().map(|n| n.name.as_str()) == Some(CFN_NAME)
                    && c.traffic_path.map(|t| t.verdict) == Some(TrafficPathVerdict::Agrees))
                .then_some(())
                .ok_or_else(|| format!("{:?} {:?}", c.evidence, c.attributions))
            },
        },
        Row {
            name: "private_dns_on_private_cloudformation_to_endpoint_eni",
            private_dns: true,
            dns: vec![answer(AFTER_IF - 1, PRIV, CFN_NAME, ENI_IF_B)],
            flow: captured(AFTER_IF, PRIV, ENI_IF_B, Handshake::Completed),
            role: Role::Egress,
            path: PathClass::InterfaceEndpoint,
            outcome: Outcome::Answered,
            service: "cloudformation",
            by: AttributionSource::EndpointEni,
            check: |c| {
                (c.evidence.endpoint_id() == Some(VPCE_IF))
                    .then_some(())
                    .ok_or_else(|| format!("{:?}", c.evidence))
            },
        },
        Row {
            name: "private_dns_off_public_default_name_via_internet_gateway",
            private_dns: false,
            dns: vec![answer(AFTER_IF - 1, PUB, CFN_NAME, CFN_IP)],
            flow: captured(AFTER_IF, PUB, CFN_IP, Handshake::Completed),
            role: Role::Egress,
            path: PathClass::InternetGateway,
            outcome: Outcome::Answered,
            service: "cloudformation",
            by: AttributionSource::Dns,
            check: |c| {
                (c.attributions.ip_ranges.map(|r| r.service.as_str()) == Some("AMAZON"))
                    .then_some(())
                    .ok_or_else(|| format!("{:?}", c.attributions))
            },
        },
        Row {
            name: "private_dns_off_private_default_name_unanswered",
            private_dns: false,
            dns: vec![answer(AFTER_IF - 1, PRIV, CFN_NAME, CFN_IP)],
            flow: captured(AFTER_IF, PRIV, CFN_IP, Handshake::SynOnly),
            role: Role::Egress,
            path: PathClass::NoRoute,
            outcome: Outcome::Unanswered,
            service: "cloudformation",
            by: AttributionSource::Dns,
            check: ok,
        },
        Row {
            name: "private_dns_off_vpce_name_via_endpoint_eni",
            private_dns: false,
            dns: vec![answer(AFTER_IF - 1, PRIV, VPCE_NAME, ENI_IF_B)],
            flow: captured(AFTER_IF, PRIV, ENI_IF_B, Handshake::Completed),
            role: Role::Egress,
            path: PathClass::InterfaceEndpoint,
            outcome: Outcome::Answered,
            service: "cloudformation",
            by: AttributionSource::EndpointEni,
            check: |c| {
                (c.attributions.name.as_ref().map(|n| n.name.as_str()) == Some(VPCE_NAME))
                    .then_some(())
                    .ok_or_else(|| format!("{:?}", c.attributions))
            },
        },
        Row {
            name: "cloudformation_over_igw_without_names_is_aws_service_unknown",
            private_dns: false,
            dns: vec![],
            flow: with_path(egress(AFTER_IF, "eni-pub", PUB, CFN_IP, 443), 8),
            role: Role::Egress,
            path: PathClass::InternetGateway,
            outcome: Outcome::Unknown,
            service: "aws",
            by: AttributionSource::IpRanges,
            check: ok,
        },
        Row {
            name: "dns_answer_of_another_host_is_weaker_evidence",
            private_dns: false,
            dns: vec![answer(AFTER_IF - 1, PUB, CFN_NAME, CFN_IP)],
            flow: with_path(egress(AFTER_IF, "eni-natc", NATC, CFN_IP, 443), 1),
            role: Role::Egress,
            path: PathClass::NatGateway,
            outcome: Outcome::Unknown,
            service: "cloudformation",
            by: AttributionSource::DnsOtherHost,
            check: |c| {
                (c.evidence.nat_onward.as_deref()
                    == Some("rtb-09a1c5e7d3b2f4860: 0.0.0.0/0 -> igw-lab")
                    && c.evidence.route_target() == Some("nat-lab")
                    && c.traffic_path.map(|t| t.verdict) == Some(TrafficPathVerdict::Agrees))
                .then_some(())
                .ok_or_else(|| format!("{:?}", c.evidence))
            },
        },
        Row {
            name: "traffic_path_disagreement_is_reported_with_both_sides",
            private_dns: true,
            dns: vec![],
            flow: with_path(egress(AFTER_GW, "eni-pub", PUB, S3_IP, 443), 8),
            role: Role::Egress,
            path: PathClass::GatewayEndpoint,
            outcome: Outcome::Unknown,
            service: "s3",
            by: AttributionSource::PrefixList,
            check: |c| {
                let tp = c.traffic_path.ok_or("no check")?;
                (tp.verdict == TrafficPathVerdict::Disagrees
                    && tp.code == 8
                    && tp.logged == "internet gateway"
                    && tp.replayed == PathClass::GatewayEndpoint)
                    .then_some(())
                    .ok_or_else(|| format!("{tp:?}"))
            },
        },
        Row {
            name: "traffic_path_2_is_resolved_by_the_replay",
            private_dns: true,
            dns: vec![],
            flow: with_path(egress(AFTER_GW, "eni-priv", PRIV, "3.5.140.9", 443), 2),
            role: Role::Egress,
            path: PathClass::GatewayEndpoint,
            outcome: Outcome::Unknown,
            service: "s3",
            by: AttributionSource::PrefixList,
            check: |c| {
                (c.traffic_path.map(|t| t.verdict) == Some(TrafficPathVerdict::AmbiguousResolved)
                    && c.attributions.ip_ranges.map(|r| r.service.as_str()) == Some("S3"))
                .then_some(())
                .ok_or_else(|| format!("{:?} {:?}", c.traffic_path, c.attributions))
            },
        },
        Row {
            name: "ipv6_flow_uses_the_ipv6_default_route",
            private_dns: true,
            dns: vec![],
            flow: egress(
                AFTER_IF,
                "eni-pub",
                "2406:da1c:abc:1200::37",
                "2406:da60:2000::5",
                443,
            ),
            role: Role::Egress,
            path: PathClass::InternetGateway,
            outcome: Outcome::Unknown,
            service: "s3",
            by: AttributionSource::IpRanges,
            check: |c| {
                (c.evidence.route_destination() == Some(&RouteDestination::Cidr(net("::/0"))))
                    .then_some(())
                    .ok_or_else(|| format!("{:?}", c.evidence))
            },
        },
        Row {
            name: "blackhole_route_wins_and_drops",
            private_dns: true,
            dns: vec![],
            flow: egress(AFTER_IF, "eni-bh", BH, "203.0.113.5", 443),
            role: Role::Egress,
            path: PathClass::NoRoute,
            outcome: Outcome::Unknown,
            service: "external",
            by: AttributionSource::None,
            check: |c| {
                (c.evidence.blackhole && c.evidence.route_target() == Some("nat-gone"))
                    .then_some(())
                    .ok_or_else(|| format!("{:?}", c.evidence))
            },
        },
        Row {
            name: "flow_before_interface_endpoint_existed_is_replayed_without_it",
            private_dns: true,
            dns: vec![],
            flow: egress(BASELINE, "eni-priv", PRIV, ENI_IF_B, 443),
            role: Role::Egress,
            path: PathClass::Local,
            outcome: Outcome::Unknown,
            // An address of the VPC (not yet the endpoint's): east-west.
            service: "vpc",
            by: AttributionSource::None,
            check: |c| {
                (c.evidence.time_rule == TimeRule::BeforeEndpoint
                    && c.attributions.vpc_peer.is_some()
                    && c.evidence.replayed_without() == Some(VPCE_IF)
                    && c.evidence.endpoint_id().is_none())
                .then_some(())
                .ok_or_else(|| format!("{:?}", c.evidence))
            },
        },
        Row {
            name: "record_straddling_gateway_endpoint_creation_is_marked",
            private_dns: true,
            dns: vec![],
            flow: egress(T_GW - 10, "eni-pub", PUB, S3_IP, 443),
            role: Role::Egress,
            path: PathClass::InternetGateway,
            outcome: Outcome::Unknown,
            service: "s3",
            by: AttributionSource::PrefixList,
            check: |c| {
                (c.evidence.time_rule == TimeRule::StraddlesEndpointCreation)
                    .then_some(())
                    .ok_or_else(|| format!("{:?}", c.evidence))
            },
        },
        Row {
            name: "host_with_no_topology_is_unknown",
            private_dns: true,
            dns: vec![],
            flow: egress(AFTER_IF, "eni-elsewhere", "10.9.9.9", S3_IP, 443),
            role: Role::Egress,
            path: PathClass::Unknown,
            outcome: Outcome::Unknown,
            service: "s3",
            by: AttributionSource::PrefixList,
            check: |c| {
                (c.evidence.route_table_id().is_none() && c.evidence.eni_id().is_none())
                    .then_some(())
                    .ok_or_else(|| format!("{:?}", c.evidence))
            },
        },
        Row {
            name: "subnet_without_association_uses_the_main_table",
            private_dns: true,
            dns: vec![],
            flow: egress(AFTER_IF, "eni-main", "10.0.4.10", S3_IP, 443),
            role: Role::Egress,
            path: PathClass::NoRoute,
            outcome: Outcome::Unknown,
            service: "s3",
            by: AttributionSource::PrefixList,
            check: |c| {
                (c.evidence.route_table_id() == Some("rtb-main"))
                    .then_some(())
                    .ok_or_else(|| format!("{:?}", c.evidence))
            },
        },
        Row {
            name: "east_west_to_another_instance_is_service_vpc",
            private_dns: true,
            dns: vec![],
            flow: egress(AFTER_IF, "eni-pub", PUB, PRIV, 5432),
            role: Role::Egress,
            path: PathClass::Local,
            outcome: Outcome::Unknown,
            service: "vpc",
            by: AttributionSource::None,
            check: |c| {
                let v = c.attributions.vpc_peer.ok_or("no vpc peer")?;
                (v.eni.map(|e| e.as_str()) == Some("eni-priv")
                    && v.owner
                        .map(|o| o.as_str())
                        .is_some_and(|o| o.starts_with("i-")))
                .then_some(())
                .ok_or_else(|| format!("{v:?}"))
            },
        },
        Row {
            name: "peering_route",
            private_dns: true,
            dns: vec![],
            flow: with_path(egress(AFTER_IF, "eni-pub", PUB, "172.20.1.1", 5432), 4),
            role: Role::Egress,
            path: PathClass::Peering,
            outcome: Outcome::Unknown,
            service: "external",
            by: AttributionSource::None,
            check: |c| {
                (c.traffic_path.map(|t| t.verdict) == Some(TrafficPathVerdict::Agrees))
                    .then_some(())
                    .ok_or_else(|| format!("{:?}", c.traffic_path))
            },
        },
        Row {
            name: "transit_gateway_route",
            private_dns: true,
            dns: vec![],
            flow: egress(AFTER_IF, "eni-pub", PUB, "192.168.7.7", 22),
            role: Role::Egress,
            path: PathClass::TransitGateway,
            outcome: Outcome::Unknown,
            service: "external",
            by: AttributionSource::None,
            check: ok,
        },
        Row {
            name: "virtual_private_gateway_route",
            private_dns: true,
            dns: vec![],
            flow: egress(AFTER_IF, "eni-pub", PUB, "198.51.100.9", 22),
            role: Role::Egress,
            path: PathClass::VirtualPrivateGateway,
            outcome: Outcome::Unknown,
            service: "external",
            by: AttributionSource::None,
            check: ok,
        },
        Row {
            name: "rejected_record_keeps_its_reject_reason",
            private_dns: true,
            dns: vec![],
            flow: {
                let mut f = egress(AFTER_IF, "eni-pub", PUB, S3_IP, 443);
                f.action = Some(Action::Reject);
                f.extra = vec![(t("reject_reason"), t("BPA"))];
                f
            },
            role: Role::Egress,
            path: PathClass::GatewayEndpoint,
            outcome: Outcome::Rejected,
            service: "s3",
            by: AttributionSource::PrefixList,
            check: |c| {
                (c.reject_reason.map(Text::as_str) == Some("BPA"))
                    .then_some(())
                    .ok_or_else(|| format!("{:?}", c.reject_reason))
            },
        },
        Row {
            name: "ingress_reply_record_is_a_reply",
            private_dns: true,
            dns: vec![],
            flow: {
                let mut f = egress(AFTER_GW, "eni-pub", S3_IP, PUB, 40_000);
                f.src_port = Some(443);
                f.flow_direction = Some(Direction::Ingress);
                f.tcp_flags = Some(18);
                f
            },
            role: Role::Reply,
            path: PathClass::Unknown,
            outcome: Outcome::Unknown,
            service: "s3",
            by: AttributionSource::PrefixList,
            check: |c| {
                (c.host == Some(ip(PUB)) && c.peer == Some(ip(S3_IP)))
                    .then_some(())
                    .ok_or_else(|| format!("{:?} {:?}", c.host, c.peer))
            },
        },
        Row {
            name: "ingress_syn_is_an_inbound_connection",
            private_dns: true,
            dns: vec![],
            flow: {
                let mut f = egress(AFTER_GW, "eni-pub", "43.201.1.1", PUB, 22);
                f.flow_direction = Some(Direction::Ingress);
                f.tcp_flags = Some(2);
                f
            },
            role: Role::Inbound,
            path: PathClass::Unknown,
            outcome: Outcome::Unknown,
            service: "aws",
            by: AttributionSource::IpRanges,
            check: ok,
        },
        Row {
            name: "nat_gateway_eni_record_is_transit",
            private_dns: true,
            dns: vec![],
            flow: egress(AFTER_IF, "eni-nat", "10.0.0.50", CFN_IP, 443),
            role: Role::Transit,
            path: PathClass::Unknown,
            outcome: Outcome::Unknown,
            service: "aws",
            by: AttributionSource::IpRanges,
            check: ok,
        },
        Row {
            name: "v2_record_without_direction_uses_the_interface_address",
            private_dns: true,
            dns: vec![],
            flow: {
                let mut f = egress(AFTER_GW, "eni-priv", PRIV, S3_IP, 443);
                f.version = Some(2);
                f.flow_direction = None;
                f
            },
            role: Role::Egress,
            path: PathClass::GatewayEndpoint,
            outcome: Outcome::Unknown,
            service: "s3",
            by: AttributionSource::PrefixList,
            check: ok,
        },
        Row {
            name: "v2_record_without_direction_towards_the_host_is_a_reply",
            private_dns: true,
            dns: vec![],
            flow: {
                let mut f = egress(AFTER_GW, "eni-priv", S3_IP, PRIV, 40_000);
                f.version = Some(2);
                f.flow_direction = None;
                f
            },
            role: Role::Reply,
            path: PathClass::Unknown,
            outcome: Outcome::Unknown,
            service: "s3",
            by: AttributionSource::PrefixList,
            check: ok,
        },
        Row {
            name: "sni_on_the_flow_names_the_service",
            private_dns: true,
            dns: vec![],
            flow: {
                let mut f = captured(AFTER_IF, PUB, CFN_IP, Handshake::Completed);
                if let Some(c) = f.capture.as_deref_mut() {
                    c.sni = Some(t("CloudFormation.ap-northeast-2.amazonaws.com"));
                }
                f
            },
            role: Role::Egress,
            path: PathClass::InternetGateway,
            outcome: Outcome::Answered,
            service: "cloudformation",
            by: AttributionSource::Sni,
            check: ok,
        },
        Row {
            name: "flow_log_aws_service_is_the_last_resort",
            private_dns: true,
            dns: vec![],
            flow: {
                let mut f = egress(AFTER_IF, "eni-pub", PUB, "54.1.2.3", 443);
                f.pkt_dst_aws_service = Some(t("AMAZON"));
                f
            },
            role: Role::Egress,
            path: PathClass::InternetGateway,
            outcome: Outcome::Unknown,
            service: "aws",
            by: AttributionSource::FlowLog,
            check: ok,
        },
    ]
}

#[test]
fn classify_table() {
    let on = lab(true);
    let off = lab(false);
    let mut failures = Vec::new();
    for row in rows() {
        let index = if row.private_dns { &on } else { &off };
        let names = NameIndex::build(&row.dns, &[]);
        let c = classify(&row.flow, index, &names);
        let mut why = Vec::new();
        if c.role != row.role {
            why.push(format!("role {:?} != {:?}", c.role, row.role));
        }
        if c.path != row.path {
            why.push(format!("path {:?} != {:?}", c.path, row.path));
        }
        if c.outcome != row.outcome {
            why.push(format!("outcome {:?} != {:?}", c.outcome, row.outcome));
        }
        if c.service != row.service {
            why.push(format!("service {:?} != {:?}", c.service, row.service));
        }
        if c.attributed_by != row.by {
            why.push(format!(
                "attributed by {:?} != {:?}",
                c.attributed_by, row.by
            ));
        }
        if let Err(e) = (row.check)(&c) {
            why.push(format!("check: {e}"));
        }
        if !why.is_empty() {
            failures.push(format!("row {}: {}", row.name, why.join("; ")));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn classification_serializes_with_kebab_case_names() {
    let tmp1 = egress(AFTER_GW, "eni-pub", PUB, S3_IP, 443);
    let tmp2 = lab(true);
    let tmp3 = NameIndex::new();
    let c = classify(&tmp1, &tmp2, &tmp3);
    let j = serde_json::to_string(&c).unwrap();
    assert!(j.contains("\"path\":\"gateway-endpoint\""), "{j}");
    assert!(
        j.contains("\"route-table-id\":\"rtb-09a1c5e7d3b2f4860\""),
        "{j}"
    );
    assert!(j.contains("\"attributed-by\":\"prefix-list\""), "{j}");
}

// ---- conversations ---------------------------------------------------------------

#[test]
fn conversations_attach_replies_and_settle_flow_log_outcomes() {
    let index = lab(true);
    let out = egress(AFTER_GW, "eni-pub", PUB, S3_IP, 443);
    let mut back = egress(AFTER_GW + 1, "eni-pub", S3_IP, PUB, 40_000);
    back.src_port = Some(443);
    back.flow_direction = Some(Direction::Ingress);
    // A private-host SYN without reply, and an unrelated ingress on that ENI.
    let lost = egress(BASELINE, "eni-priv", PRIV, S3_IP, 443);
    let mut ssh = egress(BASELINE, "eni-priv", "43.201.1.1", PRIV, 22);
    ssh.flow_direction = Some(Direction::Ingress);
    ssh.tcp_flags = Some(2);
    // An egress of an ENI whose ingress is not logged at all.
    let blind = egress(AFTER_GW, "eni-natc", NATC, S3_IP, 443);
    let flows = Parts::from(vec![out, back, lost, ssh, blind]);
    let tmp4 = NameIndex::new();
    let conv = classify_conversations(&flows, &index, &tmp4);
    assert_eq!(conv.len(), 3);
    let by_flow: BTreeMap<usize, Conversation> = conv.iter().map(|c| (c.flow, c)).collect();
    assert_eq!(by_flow[&0].replies, [1]);
    assert_eq!(by_flow[&0].classification.outcome, Outcome::Answered);
    assert_eq!(by_flow[&2].classification.path, PathClass::NoRoute);
    assert_eq!(by_flow[&2].classification.outcome, Outcome::Unanswered);
    assert_eq!(by_flow[&4].classification.outcome, Outcome::Unknown);
    assert_eq!(conv.unpaired.len(), 1);
    assert_eq!(conv.unpaired, [(3, Role::Inbound)]);
}

#[test]
fn conversations_hand_out_each_egress_flows_classification_with_its_settled_outcome() {
    // Egress flows of both hosts over the endpoint's creation, a third of
    // them answered, kept in several parts: `iter` and `par_iter` give the
    // same conversations, each the stateless classification of its flow
    // with the pairing's outcome.
    let index = lab(true);
    let mut all = Vec::new();
    for k in 0..90u16 {
        let at = if k % 2 == 0 { BASELINE } else { AFTER_GW } + u64::from(k);
        let (eni, host) = if k % 3 == 0 {
            ("eni-priv", PRIV)
        } else {
            ("eni-pub", PUB)
        };
        let mut out = egress(at, eni, host, S3_IP, 443);
        out.src_port = Some(40_000 + k);
        all.push(out);
        if k % 3 == 1 {
            let mut back = egress(at + 1, eni, S3_IP, host, 40_000 + k);
            back.src_port = Some(443);
            back.flow_direction = Some(Direction::Ingress);
            all.push(back);
        }
    }
    let n = all.len();
    let mut parts = Vec::new();
    let mut rest = all;
    for cut in [7, 0, 40, 1] {
        let tail = rest.split_off(cut.min(rest.len()));
        parts.push(rest);
        rest = tail;
    }
    parts.push(rest);
    let flows = Parts::new(parts);
    assert_eq!(flows.len(), n);
    let names = NameIndex::new();
    let conv = classify_conversations(&flows, &index, &names);
    let seq: Vec<Conversation> = conv.iter().collect();
    let par: Vec<Conversation> = rayon::iter::ParallelIterator::collect(conv.par_iter());
    assert_eq!(seq.len(), 90);
    assert_eq!(conv.len(), 90);
    assert_eq!(seq, par);
    let mut outcomes = BTreeMap::new();
    for c in &seq {
        let f = flows.get(c.flow).unwrap();
        let mut alone = classify(f, &index, &names);
        assert_eq!(alone.outcome, Outcome::Unknown);
        alone.outcome = c.classification.outcome;
        assert_eq!(c.classification, alone, "flow {}", c.flow);
        *outcomes
            .entry(c.classification.outcome.as_str())
            .or_insert(0) += 1;
        assert_eq!(
            c.replies.len(),
            usize::from(c.classification.outcome == Outcome::Answered)
        );
    }
    assert_eq!(outcomes.get("answered"), Some(&30), "{outcomes:?}");
    // The public host's other flows: its ingress is logged, no reply.
    assert_eq!(outcomes.get("unanswered"), Some(&30), "{outcomes:?}");
    // The private host logs no ingress at all: nothing to settle from.
    assert_eq!(outcomes.get("unknown"), Some(&30), "{outcomes:?}");
}

#[test]
fn conversations_attach_each_reply_to_the_nearest_egress_record_of_its_group() {
    let index = lab(true);
    let reply = |at: u64, eni: &str, host: &str, action: Action| {
        let mut r = egress(at, eni, S3_IP, host, 40_000);
        r.src_port = Some(443);
        r.end = Some(at + 10);
        r.flow_direction = Some(Direction::Ingress);
        r.action = Some(action);
        r
    };
    let flows = Parts::new(vec![
        vec![
            egress(AFTER_GW, "eni-pub", PUB, S3_IP, 443),
            egress(AFTER_GW + 300, "eni-pub", PUB, S3_IP, 443),
            egress(AFTER_GW + 2000, "eni-pub", PUB, S3_IP, 443),
        ],
        vec![
            // Nearest the second record, then the first.
            reply(AFTER_GW + 310, "eni-pub", PUB, Action::Accept),
            reply(AFTER_GW + 5, "eni-pub", PUB, Action::Accept),
            // Starts 700 s after the last record's end: no egress to attach to.
            reply(AFTER_GW + 2750, "eni-pub", PUB, Action::Accept),
        ],
        vec![
            egress(AFTER_GW, "eni-priv", PRIV, S3_IP, 443),
            reply(AFTER_GW + 1, "eni-priv", PRIV, Action::Reject),
        ],
    ]);
    let names = NameIndex::new();
    let conv = classify_conversations(&flows, &index, &names);
    let got: Vec<(usize, Vec<usize>, Outcome)> = conv
        .iter()
        .map(|c| (c.flow, c.replies.to_vec(), c.classification.outcome))
        .collect();
    assert_eq!(
        got,
        [
            (0, vec![4], Outcome::Answered),
            (1, vec![3], Outcome::Answered),
            // Its group was answered (by the other records' replies).
            (2, vec![], Outcome::Answered),
            // Only a rejected record came back.
            (6, vec![7], Outcome::Rejected),
        ]
    );
    assert_eq!(conv.unpaired, [(5, Role::Reply)]);
}

#[test]
fn conversations_pair_capture_directions() {
    let index = lab(true);
    let out = captured(AFTER_GW, PRIV, S3_IP, Handshake::Completed);
    let mut back = captured(AFTER_GW, PRIV, S3_IP, Handshake::Completed);
    back.src_addr = Some(ip(S3_IP));
    back.dst_addr = Some(ip(PRIV));
    back.src_port = Some(443);
    back.dst_port = Some(41_000);
    if let Some(c) = back.capture.as_deref_mut() {
        c.initiator = Some(Initiator::Destination);
    }
    let tmp5 = Parts::from(vec![out, back]);
    let tmp6 = NameIndex::new();
    let conv = classify_conversations(&tmp5, &index, &tmp6);
    assert_eq!(conv.len(), 1);
    assert_eq!(
        conv.iter().map(|c| c.replies.to_vec()).collect::<Vec<_>>(),
        [vec![1]]
    );
    assert!(conv.unpaired.is_empty());
}

// ---- private DNS -------------------------------------------------------------------

#[test]
fn private_dns_verdicts_per_phase() {
    let on = lab(true);
    let v = private_dns(
        &on,
        &[
            answer(AFTER_IF, PUB, CFN_NAME, ENI_IF_A),
            answer(AFTER_IF, PRIV, CFN_NAME, ENI_IF_B),
        ],
    );
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].endpoint_id, VPCE_IF);
    assert_eq!(v[0].name, CFN_NAME);
    assert_eq!(v[0].state, PrivateDnsState::Effective);
    assert_eq!(v[0].private_on, vec![ip(PUB), ip(PRIV)]);

    let off = lab(false);
    let v = private_dns(&off, &[answer(AFTER_IF, PUB, CFN_NAME, CFN_IP)]);
    assert_eq!(v[0].state, PrivateDnsState::NotEffective);
    assert_eq!(v[0].configured, Some(false));
    assert_eq!(
        v[0].name, CFN_NAME,
        "default name derived from the service name"
    );

    // Private on one host, public on the other: flagged.
    let v = private_dns(
        &on,
        &[
            answer(AFTER_IF, PUB, CFN_NAME, ENI_IF_A),
            answer(AFTER_IF, PRIV, CFN_NAME, CFN_IP),
        ],
    );
    assert_eq!(v[0].state, PrivateDnsState::Mixed);
    assert_eq!(v[0].public_on, vec![ip(PRIV)]);

    // Answers from before the endpoint existed do not count.
    let v = private_dns(&on, &[answer(BASELINE, PUB, CFN_NAME, CFN_IP)]);
    assert_eq!(v[0].state, PrivateDnsState::NotObserved);
}

// ---- snapshots ---------------------------------------------------------------------

#[test]
fn flows_use_the_latest_snapshot_at_or_before_them() {
    let mut before = lab_snapshot(true);
    before.dir = "before".into();
    before.time = parse_timestamp("2026-11-18T01:00:00Z");
    // The before snapshot has no endpoint at all and no S3 route.
    before.endpoints.clear();
    for rt in before.route_tables.values_mut() {
        rt.routes
            .retain(|r| !matches!(r.target, RouteTarget::GatewayEndpoint(_)));
    }
    let mut after = lab_snapshot(true);
    after.dir = "after".into();
    after.time = parse_timestamp("2026-11-18T04:00:00Z");
    // In "after", pretend the endpoints always existed.
    for ep in after.endpoints.values_mut() {
        ep.created = None;
    }
    let index = TopologyIndex::build(&Topology {
        snapshots: vec![after, before],
        ip_ranges: Some(ranges()),
        notes: vec![],
    });
    let names = NameIndex::new();
    // 03:30: before "after" was taken -> the "before" snapshot (IGW).
    let tmp7 = egress(AFTER_IF, "eni-pub", PUB, S3_IP, 443);
    let c = classify(&tmp7, &index, &names);
    assert_eq!(c.path, PathClass::InternetGateway);
    assert_eq!(c.evidence.snapshot.map(String::as_str), Some("before"));
    // 05:00: the "after" snapshot.
    let tmp8 = egress(T_IF + 7200, "eni-pub", PUB, S3_IP, 443);
    let c = classify(&tmp8, &index, &names);
    assert_eq!(c.path, PathClass::GatewayEndpoint);
    assert_eq!(c.evidence.snapshot.map(String::as_str), Some("after"));
    // Before every snapshot: the earliest.
    let tmp9 = egress(BASELINE - 86_400, "eni-pub", PUB, S3_IP, 443);
    let c = classify(&tmp9, &index, &names);
    assert_eq!(c.evidence.snapshot.map(String::as_str), Some("before"));
}

#[test]
fn classifier_memo_changes_no_answer() {
    // Every row's flow, plus ids the memo must not confuse (unknown, long,
    // absent), through one Classifier per index, in order and reversed:
    // each answer equals the memo-free `classify`.
    let mut flows: Vec<Flow> = rows().into_iter().map(|r| r.flow).collect();
    for id in [
        Some("eni-unknown"),
        Some("eni-0123456789abcdef0123456789"),
        None,
    ] {
        let mut f = egress(AFTER_IF, "eni-pub", PUB, S3_IP, 443);
        f.interface_id = id.map(Text::from);
        flows.push(f);
    }
    let mut two = lab_snapshot(true);
    two.dir = "later".into();
    two.time = parse_timestamp("2026-11-18T04:00:00Z");
    let mut one = lab_snapshot(false);
    one.dir = "earlier".into();
    one.time = parse_timestamp("2026-11-18T01:00:00Z");
    // The same ENI id in another subnet there: an answer remembered from
    // the other snapshot would route by the wrong table.
    if let Some(e) = one.enis.get_mut("eni-pub") {
        e.subnet_id = t("subnet-private");
    }
    let snapshots = TopologyIndex::build(&Topology {
        snapshots: vec![one, two],
        ip_ranges: Some(ranges()),
        notes: vec![],
    });
    // Alternate flows of one ENI across the two snapshots' times.
    for i in 0..6u64 {
        flows.push(egress(
            T_IF + 7200 * (i % 2),
            "eni-pub",
            PUB,
            "8.8.8.8",
            443,
        ));
    }
    let names = NameIndex::new();
    for index in [&lab(true), &lab(false), &snapshots] {
        for order in [false, true] {
            let mut c = Classifier::new(index, &names);
            let seq: Vec<&Flow> = if order {
                flows.iter().rev().collect()
            } else {
                flows.iter().collect()
            };
            for f in seq {
                assert_eq!(c.classify(f), classify(f, index, &names), "{f:?}");
            }
        }
    }
}

#[test]
fn empty_index_classifies_everything_unknown() {
    let tmp10 = egress(AFTER_IF, "eni-pub", PUB, S3_IP, 443);
    let tmp11 = TopologyIndex::empty();
    let tmp12 = NameIndex::new();
    let c = classify(&tmp10, &tmp11, &tmp12);
    assert_eq!(c.path, PathClass::Unknown);
    assert_eq!(c.role, Role::Egress);
    assert_eq!(c.service, "external");
}

// ---- property: route order does not matter ------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn classify_does_not_depend_on_route_order(
        seed in any::<u64>(),
        dsts in proptest::collection::vec(any::<u32>(), 1..40),
        at in prop_oneof![Just(BASELINE), Just(AFTER_GW), Just(AFTER_IF)],
    ) {
        let base = lab_snapshot(true);
        let mut shuffled = base.clone();
        // Deterministic shuffle of every table's routes from the seed.
        let mut state = seed | 1;
        for rt in shuffled.route_tables.values_mut() {
            let n = rt.routes.len();
            for i in (1..n).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let j = (state % (i as u64 + 1)) as usize;
                rt.routes.swap(i, j);
            }
        }
        let mk = |s: Snapshot| TopologyIndex::build(&Topology { snapshots: vec![s], ip_ranges: Some(ranges()), notes: vec![] });
        let (a, b) = (mk(base), mk(shuffled));
        let names = NameIndex::new();
        for d in dsts {
            for (iface, src) in [("eni-pub", PUB), ("eni-priv", PRIV), ("eni-bh", BH), ("eni-natc", NATC)] {
                let f = egress(at, iface, src, &std::net::Ipv4Addr::from(d).to_string(), 443);
                prop_assert_eq!(classify(&f, &a, &names), classify(&f, &b, &names));
            }
        }
    }
}

// ---- the corpus ----------------------------------------------------------------------

#[test]
fn corpus_lab_s3_before_and_after_the_gateway_endpoint() {
    let Some(dir) = crate::topology::tests_support::corpus_aws() else {
        return;
    };
    let topo = crate::topology::load(&[dir]).unwrap();
    let index = TopologyIndex::build(&topo);
    let names = NameIndex::new();
    let pub_eni = "eni-0d2b7f4a9c1e36580";
    let priv_eni = "eni-06e9a3c7b1f5d2048";
    let tmp13 = egress(BASELINE, pub_eni, PUB, S3_IP, 443);
    let before = classify(&tmp13, &index, &names);
    assert_eq!(before.path, PathClass::InternetGateway);
    assert_eq!(before.service, "s3");
    let tmp14 = egress(BASELINE, priv_eni, PRIV, S3_IP, 443);
    let before = classify(&tmp14, &index, &names);
    assert_eq!(before.path, PathClass::NoRoute);
    for (eni, src) in [(pub_eni, PUB), (priv_eni, PRIV)] {
        let tmp15 = egress(AFTER_GW, eni, src, S3_IP, 443);
        let after = classify(&tmp15, &index, &names);
        assert_eq!(after.path, PathClass::GatewayEndpoint, "{eni}");
        assert_eq!(after.evidence.endpoint_id(), Some("vpce-0e5a3c7d9b1f24680"));
        assert_eq!(after.evidence.prefix_list_id(), Some("pl-78a54011"));
    }
    let tmp16 = egress(AFTER_IF, priv_eni, PRIV, "10.0.1.87", 443);
    let cfn = classify(&tmp16, &index, &names);
    assert_eq!(cfn.path, PathClass::InterfaceEndpoint);
    assert_eq!(cfn.service, "cloudformation");
    // The public instance's own public address is in the EC2 range: "aws".
    let ec2 = index.ip_range(ip("43.201.112.57")).unwrap();
    assert_eq!(ec2.service, "EC2");
}
