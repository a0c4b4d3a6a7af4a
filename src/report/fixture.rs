//! The one fixture report every renderer is snapshot-tested with: the lab's
//! story in miniature (S3 over the internet gateway, then the gateway
//! endpoint; CloudFormation over the interface endpoint), plus hostile
//! input-derived text (a `<script>` SNI, control characters, a `|` in a
//! file name) that every format must escape.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use crate::flow::{Flow, Provenance, RecordContext, SourceId};

use super::aggregate::{ReportInput, build_report};
use super::collect::{Collector, Facts};
use super::expect::ExpectSet;
use super::{
    Answer, DnsRow, Finding, FindingKind, Host, InputRow, Mark, Outcome, PathKind, PrivateDnsRow,
    Report, Resolution,
};

/// 2026-11-25T10:00:00Z
pub const T0: u64 = 1_795_600_800;

pub const HOSTILE_SNI: &str = "<script>alert(1)</script>.s3.ap-northeast-2.amazonaws.com";

pub fn public_host() -> Host {
    Host {
        instance_id: Some("i-0public".into()),
        enis: std::sync::Arc::from(vec![crate::flow::Text::from("eni-0pub")]),
        addresses: std::sync::Arc::from(vec!["10.0.0.10".parse().unwrap()]),
        subnet_ids: std::sync::Arc::from(vec![crate::flow::Text::from("subnet-0pub")]),
    }
}

pub fn private_host() -> Host {
    Host {
        instance_id: Some("i-0private".into()),
        enis: std::sync::Arc::from(vec![crate::flow::Text::from("eni-0priv")]),
        addresses: std::sync::Arc::from(vec!["10.0.1.20".parse().unwrap()]),
        subnet_ids: std::sync::Arc::from(vec![crate::flow::Text::from("subnet-0priv")]),
    }
}

fn unknown_host() -> Host {
    Host::from_address(Some("10.0.9.9".parse().unwrap()))
}

struct Row {
    host: Host,
    service: &'static str,
    dst: &'static str,
    port: u16,
    proto: u8,
    at: u64,
    bytes: u64,
    path: PathKind,
    outcome: Outcome,
    endpoint: Option<&'static str>,
    evidence: &'static str,
    source: u32,
}

fn rows() -> Vec<Row> {
    let igw = "rtb-0pub 0.0.0.0/0 -> igw-0lab; service s3 by prefix list pl-78a54011";
    let gwe = "rtb-0pub pl-78a54011 -> vpce-0s3gw (gateway, created 2026-11-25T10:20:00Z); service s3 by prefix list";
    let gwe_priv = "rtb-0priv pl-78a54011 -> vpce-0s3gw (gateway); service s3 by prefix list";
    let noroute =
        "rtb-0priv: no route to 52.219.60.1 (before vpce-0s3gw existed); service s3 by prefix list";
    let ife = "destination 10.0.1.100 is eni-0cfn of vpce-0cfn (interface); service cloudformation by endpoint";
    let mut v = Vec::new();
    let base =
        |host: Host, service, dst, at, bytes, path, outcome, endpoint, evidence, source| Row {
            host,
            service,
            dst,
            port: 443,
            proto: 6,
            at,
            bytes,
            path,
            outcome,
            endpoint,
            evidence,
            source,
        };
    for i in 0..3 {
        v.push(base(
            public_host(),
            "s3",
            "52.219.60.1",
            T0 + 60 * i,
            1_500,
            PathKind::InternetGateway,
            Outcome::Answered,
            None,
            igw,
            0,
        ));
        v.push(base(
            private_host(),
            "s3",
            "52.219.60.1",
            T0 + 60 * i + 5,
            60,
            PathKind::NoRoute,
            Outcome::Unanswered,
            None,
            noroute,
            1,
        ));
    }
    for i in 0..4 {
        v.push(base(
            public_host(),
            "s3",
            "52.219.60.2",
            T0 + 1_500 + 60 * i,
            2_500,
            PathKind::GatewayEndpoint,
            Outcome::Answered,
            Some("vpce-0s3gw"),
            gwe,
            0,
        ));
        v.push(base(
            private_host(),
            "s3",
            "52.219.60.2",
            T0 + 1_505 + 60 * i,
            2_000,
            PathKind::GatewayEndpoint,
            Outcome::Answered,
            Some("vpce-0s3gw"),
            gwe_priv,
            1,
        ));
    }
    for (i, h) in [public_host(), private_host()].into_iter().enumerate() {
        let at = T0 + 2_400 + 30 * u64::try_from(i).unwrap();
        v.push(base(
            h,
            "cloudformation",
            "10.0.1.100",
            at,
            4_000,
            PathKind::InterfaceEndpoint,
            Outcome::Answered,
            Some("vpce-0cfn"),
            ife,
            1,
        ));
    }
    v.push(Row {
        proto: 17,
        port: 123,
        ..base(
            public_host(),
            "external",
            "203.0.113.7",
            T0 + 100,
            76,
            PathKind::InternetGateway,
            Outcome::Answered,
            None,
            "rtb-0pub 0.0.0.0/0 -> igw-0lab; not an aws address",
            0,
        )
    });
    v.push(base(
        unknown_host(),
        "aws",
        "52.95.1.1",
        T0 + 200,
        300,
        PathKind::Unknown,
        Outcome::Answered,
        None,
        "no topology for 10.0.9.9",
        0,
    ));
    v
}

fn flow_of(r: &Row, index: u64) -> Flow {
    Flow {
        version: Some(5),
        interface_id: r.host.eni().cloned(),
        src_addr: r.host.address(),
        dst_addr: Some(r.dst.parse().unwrap()),
        src_port: Some(40_000),
        dst_port: Some(r.port),
        protocol: Some(r.proto),
        packets: Some(r.bytes / 100 + 1),
        bytes: Some(r.bytes),
        start: Some(r.at),
        end: Some(r.at + 10),
        action: Some(if r.outcome == Outcome::Rejected {
            crate::flow::Action::Reject
        } else {
            crate::flow::Action::Accept
        }),
        log_status: Some(crate::flow::LogStatus::Ok),
        context: RecordContext {
            instance_id: r.host.instance_id.clone(),
            ..RecordContext::default()
        }
        .shared(),
        provenance: Provenance {
            source: SourceId(r.source),
            index,
        },
        ..Flow::default()
    }
}

pub fn expectations() -> ExpectSet {
    ExpectSet::parse_cli(
        &[
            "s3=gateway-endpoint".to_owned(),
            "s3@i-0private=private".to_owned(),
            "cloudformation=interface-endpoint".to_owned(),
            "dynamodb=endpoint".to_owned(),
        ],
        &["cloudformation=private".to_owned(), "s3=private".to_owned()],
        None,
        None,
    )
    .unwrap()
}

pub fn source_names() -> Vec<String> {
    vec![
        "lab/flowlogs/public|eni.log".to_owned(),
        "lab/captures/private.pcapng".to_owned(),
    ]
}

/// The fixture report, built through the collector and the polars rollups.
pub fn report() -> Report {
    report_with(true)
}

pub fn report_with(keep_flows: bool) -> Report {
    let expect = expectations();
    let names = source_names();
    let mut c = Collector::new(&expect, &names, keep_flows);
    let rows = rows();
    let flows: Vec<Flow> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| flow_of(r, u64::try_from(i).unwrap() + 1))
        .collect();
    for (i, (r, f)) in rows.iter().zip(&flows).enumerate() {
        c.add(Facts {
            flow: f,
            index: i,
            service: r.service,
            host: &r.host,
            path: r.path,
            outcome: r.outcome,
            endpoint_id: r.endpoint,
            evidence: r.evidence,
        });
    }
    let cfn = "cloudformation.ap-northeast-2.amazonaws.com".to_owned();
    let endpoint = |eni: &str| Resolution::Endpoint {
        endpoint_id: "vpce-0cfn".into(),
        eni: eni.into(),
    };
    let dns = vec![
        DnsRow {
            host: private_host(),
            name: cfn.clone(),
            service: Some("cloudformation".into()),
            source: super::DNS_SOURCE_CAPTURE,
            endpoint_specific: false,
            answers: vec![
                Answer {
                    address: "10.0.1.100".parse().unwrap(),
                    resolution: endpoint("eni-0cfn"),
                },
                Answer {
                    address: "10.0.0.100".parse().unwrap(),
                    resolution: endpoint("eni-0cfn2"),
                },
            ],
            first: T0 + 2_390,
            last: T0 + 2_420,
            responses: 2,
        },
        DnsRow {
            host: public_host(),
            name: cfn,
            service: Some("cloudformation".into()),
            source: super::DNS_SOURCE_CAPTURE,
            endpoint_specific: false,
            answers: vec![Answer {
                address: "10.0.0.100".parse().unwrap(),
                resolution: endpoint("eni-0cfn2"),
            }],
            first: T0 + 2_395,
            last: T0 + 2_395,
            responses: 1,
        },
        DnsRow {
            host: public_host(),
            name: HOSTILE_SNI.to_owned(),
            service: Some("s3".into()),
            source: super::DNS_SOURCE_CAPTURE,
            endpoint_specific: false,
            answers: vec![Answer {
                address: "52.219.60.1".parse().unwrap(),
                resolution: Resolution::Public,
            }],
            first: T0 + 10,
            last: T0 + 10,
            responses: 1,
        },
    ];
    let private_dns = vec![PrivateDnsRow {
        endpoint_id: "vpce-0cfn".into(),
        service_name: "com.amazonaws.ap-northeast-2.cloudformation".to_owned(),
        enabled: Some(true),
        verdict: "effective".to_owned(),
        detail: "cloudformation.ap-northeast-2.amazonaws.com resolved to eni-0cfn, eni-0cfn2 from 2 hosts".to_owned(),
    }];
    let findings = vec![
        Finding {
            kind: FindingKind::UnknownHost,
            source: None,
            message: "10.0.9.9: flows from a host missing in the topology".to_owned(),
            count: 1,
        },
        Finding {
            kind: FindingKind::BadRecords,
            source: Some("lab/flowlogs/public|eni.log".to_owned()),
            message: "lab/flowlogs/public|eni.log:7: field 'dstport': invalid number \"ht\u{1b}[31mtp\"".to_owned(),
            count: 1,
        },
        Finding {
            kind: FindingKind::TrafficPathDisagreement,
            source: None,
            message: "i-0public: traffic-path 8 (internet-gateway) but the topology says gateway-endpoint".to_owned(),
            count: 2,
        },
    ];
    let inputs = vec![
        InputRow {
            path: "lab/flowlogs/public|eni.log".to_owned(),
            kind: "flow-log text".to_owned(),
            records: 9,
            packets: 0,
            flows: 0,
            skipped: 1,
            nodata: 0,
            skipdata: 0,
            duplicates: 0,
            error: None,
        },
        InputRow {
            path: "lab/captures/private.pcapng".to_owned(),
            kind: "pcapng".to_owned(),
            records: 0,
            packets: 120,
            flows: 0,
            skipped: 0,
            nodata: 0,
            skipdata: 0,
            duplicates: 0,
            error: None,
        },
    ];
    let marks = vec![
        Mark {
            time: T0 + 1_200,
            label: "vpce-0s3gw created (gateway, s3)".to_owned(),
            service: Some("s3".into()),
        },
        Mark {
            time: T0 + 2_100,
            label: "vpce-0cfn created (interface, cloudformation)".to_owned(),
            service: Some("cloudformation".into()),
        },
    ];
    let mut report = build_report(ReportInput {
        finished: c.finish(flows),
        dns,
        private_dns,
        findings,
        inputs,
        marks,
    })
    .unwrap();
    report.pricing = Some(
        crate::report::cost::PriceTable::builtin()
            .unwrap()
            .for_region(Some("ap-northeast-2")),
    );
    report
}
