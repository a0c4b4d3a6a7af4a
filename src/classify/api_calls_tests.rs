//! One row per path rule of evidence-sources.md §2.3 / §2.7.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use super::*;
use crate::flow::{Provenance, SourceId};

const TOPO: &[(&str, &str)] = &[
    (
        "vpcs.json",
        r#"{"Vpcs":[{"VpcId":"vpc-1","CidrBlock":"10.0.0.0/16"}]}"#,
    ),
    (
        "endpoints.json",
        r#"{"VpcEndpoints":[
          {"VpcEndpointId":"vpce-cfn","VpcEndpointType":"Interface","VpcId":"vpc-1","ServiceName":"com.amazonaws.ap-northeast-2.cloudformation","CreationTimestamp":"2026-11-25T12:00:00Z"},
          {"VpcEndpointId":"vpce-s3gw","VpcEndpointType":"Gateway","VpcId":"vpc-1","ServiceName":"com.amazonaws.ap-northeast-2.s3"},
          {"VpcEndpointId":"vpce-ddb","VpcEndpointType":"Gateway","VpcId":"vpc-1","ServiceName":"com.amazonaws.ap-northeast-2.dynamodb"}]}"#,
    ),
    (
        "nat.json",
        r#"{"NatGateways":[{"NatGatewayId":"nat-1","SubnetId":"subnet-pub","VpcId":"vpc-1","NatGatewayAddresses":[{"PublicIp":"43.200.5.18","PrivateIp":"10.0.0.5","NetworkInterfaceId":"eni-nat"}]}]}"#,
    ),
    (
        "enis.json",
        r#"{"NetworkInterfaces":[
          {"NetworkInterfaceId":"eni-priv","SubnetId":"subnet-priv","VpcId":"vpc-1","PrivateIpAddress":"10.0.1.148","Attachment":{"InstanceId":"i-priv"}},
          {"NetworkInterfaceId":"eni-pub","SubnetId":"subnet-pub","VpcId":"vpc-1","PrivateIpAddress":"10.0.0.10","Association":{"PublicIp":"43.201.112.57"},"Attachment":{"InstanceId":"i-pub"}}]}"#,
    ),
    (
        "addresses.json",
        r#"{"Addresses":[
          {"PublicIp":"3.35.0.1","AllocationId":"eipalloc-free","Domain":"vpc"},
          {"PublicIp":"3.35.0.2","AllocationId":"eipalloc-priv","AssociationId":"eipassoc-1","InstanceId":"i-priv","NetworkInterfaceId":"eni-priv","PrivateIpAddress":"10.0.1.148","Domain":"vpc"},
          {"PublicIp":"43.200.5.18","AllocationId":"eipalloc-nat","NetworkInterfaceId":"eni-nat","PrivateIpAddress":"10.0.0.5","Domain":"vpc"}]}"#,
    ),
];

fn topology() -> CallTopology {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in TOPO {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let topo = crate::topology::load(&[dir.path().to_path_buf()]).unwrap();
    CallTopology::build(&topo)
}

/// 2026-11-25T13:40:03Z
const T: u64 = 1_795_614_003;

fn call(service: &str, source: &str, vpce: Option<&str>) -> ApiCall {
    ApiCall {
        time: T,
        service: service.into(),
        event_name: "DescribeStacks".into(),
        source_ip: source.into(),
        source_addr: source.parse().ok(),
        principal: "arn:aws:sts::240917365018:assumed-role/lab/i-priv".into(),
        identity_type: Some("AssumedRole".into()),
        invoked_by: None,
        vpc_endpoint_id: vpce.map(Text::from),
        vpc_endpoint_account_id: None,
        event_category: Some("Management".into()),
        event_type: Some("AwsApiCall".into()),
        error_code: None,
        region: Some("ap-northeast-2".into()),
        event_id: None,
        provenance: Provenance {
            source: SourceId(0),
            index: 1,
        },
    }
}

fn nat_use(host: &str, service: &str, start: u64) -> NatUse {
    NatUse {
        nat_id: "nat-1".into(),
        service: service.into(),
        host: host.parse().unwrap(),
        start,
        end: start + 60,
    }
}

#[test]
fn classify_call_follows_every_path_rule() {
    let topo = topology();
    let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
    let one_nat = [nat_use("10.0.1.148", "aws", T - 30)];
    let other_svc = [nat_use("10.0.1.148", "s3", T)];
    let long_before = [nat_use("10.0.1.148", "aws", T - 3600)];
    let two_nat = [
        nat_use("10.0.1.148", "aws", T - 30),
        nat_use("10.0.1.149", "cloudformation", T),
    ];
    let mut svc = call("ec2", "cloudformation.amazonaws.com", None);
    svc.identity_type = Some("AWSService".into());
    svc.invoked_by = Some("cloudformation.amazonaws.com".into());
    let mut internal = call("kms", "AWS Internal/3", None);
    internal.identity_type = None;
    let mut netact = call("s3", "10.0.1.148", None);
    netact.event_category = Some("NetworkActivity".into());
    let rows: Vec<(
        &str,
        ApiCall,
        &[NatUse],
        ApiPath,
        Option<&str>,
        Option<IpAddr>,
    )> = vec![
        (
            "interface endpoint by vpcEndpointId",
            call("cloudformation", "10.0.1.148", Some("vpce-cfn")),
            &[],
            ApiPath::InterfaceEndpoint,
            Some("vpce-cfn"),
            ip("10.0.1.148"),
        ),
        (
            "gateway endpoint by vpcEndpointId (S3 data event)",
            call("s3", "10.0.1.148", Some("vpce-s3gw")),
            &[],
            ApiPath::GatewayEndpoint,
            Some("vpce-s3gw"),
            ip("10.0.1.148"),
        ),
        (
            "dynamodb data event via its gateway endpoint",
            call("dynamodb", "10.0.1.148", Some("vpce-ddb")),
            &[],
            ApiPath::GatewayEndpoint,
            Some("vpce-ddb"),
            ip("10.0.1.148"),
        ),
        (
            "another VPC's endpoint",
            call("s3", "172.16.0.9", Some("vpce-other")),
            &[],
            ApiPath::External,
            Some("vpce-other"),
            None,
        ),
        (
            "unknown endpoint from one of our hosts",
            call("s3", "10.0.1.148", Some("vpce-other")),
            &[],
            ApiPath::Unknown,
            Some("vpce-other"),
            ip("10.0.1.148"),
        ),
        (
            "private source, service that does not log the id",
            call("cloudformation", "10.0.1.148", None),
            &[],
            ApiPath::InterfaceEndpoint,
            Some("vpce-cfn"),
            ip("10.0.1.148"),
        ),
        (
            "private source, no endpoint of the service",
            call("sts", "10.0.1.148", None),
            &[],
            ApiPath::InterfaceEndpoint,
            None,
            ip("10.0.1.148"),
        ),
        (
            "private source, kms logs the id: ambiguous",
            call("kms", "10.0.1.148", None),
            &[],
            ApiPath::Unknown,
            None,
            ip("10.0.1.148"),
        ),
        (
            "private source, s3 logs the id: ambiguous",
            call("s3", "10.0.1.148", None),
            &[],
            ApiPath::Unknown,
            None,
            ip("10.0.1.148"),
        ),
        (
            "s3 network activity event from a private source",
            netact,
            &[],
            ApiPath::GatewayEndpoint,
            Some("vpce-s3gw"),
            ip("10.0.1.148"),
        ),
        (
            "NAT address, host by its flow through the NAT",
            call("cloudformation", "43.200.5.18", None),
            &one_nat,
            ApiPath::NatGateway,
            Some("nat-1"),
            ip("10.0.1.148"),
        ),
        (
            "NAT address, no flow: host unknown, NAT named",
            call("cloudformation", "43.200.5.18", None),
            &[],
            ApiPath::NatGateway,
            Some("nat-1"),
            None,
        ),
        (
            "NAT address, two candidate hosts: unknown",
            call("cloudformation", "43.200.5.18", None),
            &two_nat,
            ApiPath::NatGateway,
            Some("nat-1"),
            None,
        ),
        (
            "NAT flow to another service does not count",
            call("cloudformation", "43.200.5.18", None),
            &other_svc,
            ApiPath::NatGateway,
            Some("nat-1"),
            None,
        ),
        (
            "NAT flow long before the call does not count",
            call("cloudformation", "43.200.5.18", None),
            &long_before,
            ApiPath::NatGateway,
            Some("nat-1"),
            None,
        ),
        (
            "instance public IP: internet gateway",
            call("cloudformation", "43.201.112.57", None),
            &[],
            ApiPath::InternetGateway,
            None,
            ip("10.0.0.10"),
        ),
        (
            "Elastic IP of an instance: internet gateway",
            call("cloudformation", "3.35.0.2", None),
            &[],
            ApiPath::InternetGateway,
            None,
            ip("10.0.1.148"),
        ),
        (
            "Elastic IP associated with nothing",
            call("cloudformation", "3.35.0.1", None),
            &[],
            ApiPath::External,
            None,
            None,
        ),
        (
            "AWS service principal",
            svc,
            &[],
            ApiPath::AwsInternal,
            None,
            None,
        ),
        (
            "AWS Internal source",
            internal,
            &[],
            ApiPath::AwsInternal,
            None,
            None,
        ),
        (
            "a laptop",
            call("cloudformation", "198.51.100.7", None),
            &[],
            ApiPath::External,
            None,
            None,
        ),
        (
            "private address outside the VPC (on-premises)",
            call("cloudformation", "192.168.40.17", None),
            &[],
            ApiPath::External,
            None,
            None,
        ),
        (
            "source that is not an address",
            call("cloudformation", "", None),
            &[],
            ApiPath::Unknown,
            None,
            None,
        ),
    ];
    for (name, c, uses, path, endpoint, host) in rows {
        let got = classify_call(&c, &topo, uses);
        assert_eq!(
            (got.path, got.endpoint.as_deref(), got.host),
            (path, endpoint, host),
            "row '{name}': {}",
            got.evidence
        );
        assert!(!got.evidence.is_empty(), "row '{name}'");
    }
}

#[test]
fn classify_call_interface_endpoint_counts_only_after_its_creation() {
    let topo = topology();
    let mut c = call("cloudformation", "10.0.1.148", None);
    c.time = T - 7200; // before 2026-11-25T12:00:00Z
    let got = classify_call(&c, &topo, &[]);
    assert_eq!((got.path, got.endpoint), (ApiPath::InterfaceEndpoint, None));
}

#[test]
fn api_path_names_and_verdict_paths() {
    for (p, name, joins) in [
        (ApiPath::InterfaceEndpoint, "interface-endpoint", true),
        (ApiPath::GatewayEndpoint, "gateway-endpoint", true),
        (ApiPath::NatGateway, "nat-gateway", true),
        (ApiPath::InternetGateway, "internet-gateway", true),
        (ApiPath::Unknown, "unknown", true),
        (ApiPath::AwsInternal, "aws-internal", false),
        (ApiPath::External, "external", false),
    ] {
        assert_eq!(p.as_str(), name);
        assert_eq!(p.as_path_class().is_some(), joins, "{name}");
        if let Some(pc) = p.as_path_class() {
            assert_eq!(pc.as_str(), name);
        }
    }
}
