//! Classification throughput: flows/s on one core against a topology with
//! 1,000 routes and a 100-entry prefix list (gateway endpoint), plus ip-ranges.
//! Inputs come from a seeded generator; nothing is committed.
//!
//! Flows go through a [`Classifier`], as `classify_conversations` runs them:
//! `one_eni` is one interface's records (a CloudWatch log stream);
//! `alternating_enis` switches interface on every record, so the
//! classifier's one-entry interface memo never hits (its worst case).

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ipnet::{IpNet, Ipv4Net};
use privpath::classify::{Classifier, NameIndex, classify};
use privpath::flow::{Action, Direction, Flow};
use privpath::topology::{
    EndpointKind, Eni, EniKind, IpRangePrefix, IpRanges, PrefixList, Route, RouteDestination,
    RouteState, RouteTable, RouteTarget, Snapshot, Subnet, Topology, TopologyIndex, Vpc,
    VpcEndpoint, parse_timestamp,
};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn v4(&mut self) -> Ipv4Addr {
        Ipv4Addr::from((self.next() >> 32) as u32)
    }
}

fn net(a: Ipv4Addr, len: u8) -> IpNet {
    IpNet::V4(Ipv4Net::new(a, len).unwrap().trunc())
}

fn topology(rng: &mut Rng) -> (Topology, Vec<IpNet>) {
    let mut s = Snapshot::new("bench".into());
    s.vpcs.insert(
        "vpc-b".into(),
        Vpc {
            id: "vpc-b".into(),
            cidrs: vec![net(Ipv4Addr::new(10, 0, 0, 0), 16)],
            ..Vpc::default()
        },
    );
    s.subnets.insert(
        "subnet-b".into(),
        Subnet {
            id: "subnet-b".into(),
            vpc_id: "vpc-b".into(),
            cidrs: vec![net(Ipv4Addr::new(10, 0, 0, 0), 24)],
            ..Subnet::default()
        },
    );
    let pl: Vec<IpNet> = (0..100)
        .map(|_| net(rng.v4(), 16 + (rng.next() % 9) as u8))
        .collect();
    s.prefix_lists.insert(
        "pl-b".into(),
        PrefixList {
            id: "pl-b".into(),
            name: Some("com.amazonaws.ap-northeast-2.s3".into()),
            cidrs: pl.clone(),
            entries_known: true,
            owner: None,
        },
    );
    let mut routes = vec![
        Route {
            destination: RouteDestination::Cidr(net(Ipv4Addr::new(10, 0, 0, 0), 16)),
            target: RouteTarget::Local,
            state: RouteState::Active,
            origin: None,
        },
        Route {
            destination: RouteDestination::Cidr(net(Ipv4Addr::UNSPECIFIED, 0)),
            target: RouteTarget::InternetGateway("igw-b".into()),
            state: RouteState::Active,
            origin: None,
        },
        Route {
            destination: RouteDestination::PrefixList("pl-b".into()),
            target: RouteTarget::GatewayEndpoint("vpce-b".into()),
            state: RouteState::Active,
            origin: None,
        },
    ];
    let targets = ["pcx-1", "tgw-1", "vgw-1", "nat-1", "igw-b"];
    while routes.len() < 1000 {
        let t = targets[(rng.next() % 5) as usize];
        routes.push(Route {
            destination: RouteDestination::Cidr(net(rng.v4(), 8 + (rng.next() % 21) as u8)),
            target: RouteTarget::from_gateway_id(t),
            state: if rng.next() % 50 == 0 {
                RouteState::Blackhole
            } else {
                RouteState::Active
            },
            origin: None,
        });
    }
    s.route_tables.insert(
        "rtb-b".into(),
        RouteTable {
            id: "rtb-b".into(),
            vpc_id: "vpc-b".into(),
            main: true,
            subnet_ids: vec!["subnet-b".into()],
            routes,
            name: None,
        },
    );
    s.endpoints.insert(
        "vpce-b".into(),
        VpcEndpoint {
            id: "vpce-b".into(),
            kind: EndpointKind::Gateway,
            vpc_id: "vpc-b".into(),
            service_name: "com.amazonaws.ap-northeast-2.s3".into(),
            service: "s3".into(),
            region: None,
            state: None,
            route_table_ids: vec!["rtb-b".into()],
            subnet_ids: vec![],
            eni_ids: vec![],
            private_dns_enabled: None,
            dns_names: vec![],
            created: parse_timestamp("2026-11-18T02:14:09Z"),
        },
    );
    for (id, instance, last) in [("eni-b", "i-b", 37), ("eni-c", "i-c", 38)] {
        s.enis.insert(
            id.into(),
            Eni {
                id: id.into(),
                kind: EniKind::Instance(instance.into()),
                subnet_id: "subnet-b".into(),
                vpc_id: "vpc-b".into(),
                private_ips: vec![IpAddr::V4(Ipv4Addr::new(10, 0, 0, last))],
                public_ips: vec![],
                description: None,
                interface_type: None,
            },
        );
    }
    let ranges = IpRanges {
        prefixes: (0..2000)
            .map(|i| IpRangePrefix {
                prefix: net(rng.v4(), 12 + (rng.next() % 13) as u8),
                service: ["AMAZON", "EC2", "S3"][i % 3].into(),
                region: "ap-northeast-2".into(),
            })
            .collect(),
        ..IpRanges::default()
    };
    (
        Topology {
            snapshots: vec![s],
            ip_ranges: Some(ranges),
            notes: vec![],
        },
        pl,
    )
}

fn bench(c: &mut Criterion) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (topo, pl) = topology(&mut rng);
    let index = TopologyIndex::build(&topo);
    let names = NameIndex::new();
    let flows: Vec<Flow> = (0..10_000)
        .map(|i| {
            // Half the flows go to prefix-list addresses (S3 via the endpoint).
            let dst = if i % 2 == 0 {
                let n = pl[(rng.next() % pl.len() as u64) as usize];
                n.hosts()
                    .nth((rng.next() % 200) as usize)
                    .unwrap_or(n.network())
            } else {
                IpAddr::V4(rng.v4())
            };
            Flow {
                version: Some(5),
                interface_id: Some("eni-b".into()),
                src_addr: Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 37))),
                dst_addr: Some(dst),
                src_port: Some(40_000),
                dst_port: Some(443),
                protocol: Some(6),
                start: Some(1_794_968_049 + (i % 7200) - 3600),
                end: Some(1_794_968_049 + (i % 7200) - 3590),
                action: Some(Action::Accept),
                flow_direction: Some(Direction::Egress),
                traffic_path: Some(if i % 2 == 0 { 7 } else { 8 }),
                ..Flow::default()
            }
        })
        .collect();
    // The same flows, every other one from a second instance.
    let alternating: Vec<Flow> = flows
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut f = f.clone();
            if i % 2 == 1 {
                f.interface_id = Some("eni-c".into());
                f.src_addr = Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 38)));
            }
            f
        })
        .collect();
    let mut g = c.benchmark_group("classify");
    g.throughput(Throughput::Elements(flows.len() as u64));
    for (name, input) in [
        ("1000_routes_100_pl_entries", &flows),
        ("1000_routes_100_pl_entries_alternating_enis", &alternating),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut classifier = Classifier::new(&index, &names);
                let mut n = 0usize;
                for f in input {
                    let c = classifier.classify(black_box(f));
                    n += c.path as usize;
                }
                black_box(n)
            })
        });
    }
    // The stateless function, one flow at a time (no memo at all).
    g.bench_function("1000_routes_100_pl_entries_stateless", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for f in &flows {
                let c = classify(black_box(f), &index, &names);
                n += c.path as usize;
            }
            black_box(n)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
