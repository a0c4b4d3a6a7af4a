//! The lab's topology as AWS CLI v2 JSON output, one file per call, in the
//! member order of the API model (follows `shared/corpus/aws`).

use std::net::Ipv4Addr;

use super::SamplesError;
use super::json::{J, a, name_tag, o, s, strs};
use super::lab::*;

fn ip(v: [u8; 4]) -> String {
    Ipv4Addr::from(v).to_string()
}

fn dashed(v: [u8; 4]) -> String {
    ip(v).replace('.', "-")
}

fn mac(v: [u8; 6]) -> String {
    v.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// `2026-11-02T08:41:12+00:00`, AWS CLI v2's rendering of a `DateTime`.
fn cli_time(seconds: i64) -> Result<String, SamplesError> {
    let t = jiff::Timestamp::from_second(seconds).map_err(|e| SamplesError::Time(e.to_string()))?;
    Ok(t.strftime("%Y-%m-%dT%H:%M:%S+00:00").to_string())
}

/// `2026-11-02T09:10:27.318000+00:00`, a `MillisecondDateTime`.
fn cli_time_ms(ms: i64) -> Result<String, SamplesError> {
    let t = jiff::Timestamp::from_millisecond(ms).map_err(|e| SamplesError::Time(e.to_string()))?;
    Ok(t.strftime("%Y-%m-%dT%H:%M:%S.%6f+00:00").to_string())
}

fn private_dns(v: [u8; 4]) -> String {
    format!("ip-{}.{REGION}.compute.internal", dashed(v))
}

fn public_dns(v: [u8; 4]) -> String {
    format!("ec2-{}.{REGION}.compute.amazonaws.com", dashed(v))
}

fn group(id: &str, name: &str) -> J {
    o(vec![("GroupId", s(id)), ("GroupName", s(name))])
}

/// One file of a case's `topology/` folder.
pub struct TopologyFile {
    pub name: String,
    pub text: String,
}

/// Every topology file of the lab in `phase`.
pub fn files(phase: Phase) -> Result<Vec<TopologyFile>, SamplesError> {
    let f = |name: &str, v: J| TopologyFile {
        name: name.to_owned(),
        text: v.to_pretty(4),
    };
    Ok(vec![
        f("describe-vpcs.json", vpcs()),
        f(
            "describe-vpc-attribute-enableDnsSupport.json",
            o(vec![
                ("EnableDnsSupport", o(vec![("Value", J::Bool(true))])),
                ("VpcId", s(VPC)),
            ]),
        ),
        f(
            "describe-vpc-attribute-enableDnsHostnames.json",
            o(vec![
                ("EnableDnsHostnames", o(vec![("Value", J::Bool(true))])),
                ("VpcId", s(VPC)),
            ]),
        ),
        f("describe-subnets.json", subnets(phase)),
        f("describe-route-tables.json", route_tables(phase)),
        f("describe-internet-gateways.json", internet_gateways()),
        f("describe-vpc-endpoints.json", vpc_endpoints(phase)?),
        f(
            "describe-network-interfaces.json",
            network_interfaces(phase)?,
        ),
        f("describe-instances.json", instances()?),
        f("describe-managed-prefix-lists.json", managed_prefix_lists()),
        f(
            &format!("get-managed-prefix-list-entries-{S3_PREFIX_LIST}.json"),
            o(vec![(
                "Entries",
                a(S3_PREFIXES
                    .iter()
                    .map(|c| o(vec![("Cidr", s(*c))]))
                    .collect()),
            )]),
        ),
        TopologyFile {
            name: "ip-ranges.json".into(),
            text: ip_ranges().to_pretty(2),
        },
    ])
}

fn vpcs() -> J {
    o(vec![(
        "Vpcs",
        a(vec![o(vec![
            ("OwnerId", s(ACCOUNT)),
            ("InstanceTenancy", s("default")),
            (
                "CidrBlockAssociationSet",
                a(vec![o(vec![
                    ("AssociationId", s("vpc-cidr-assoc-0b8d1f3a5c7e92406")),
                    ("CidrBlock", s(VPC_CIDR)),
                    ("CidrBlockState", o(vec![("State", s("associated"))])),
                ])]),
            ),
            ("IsDefault", J::Bool(false)),
            ("Tags", name_tag("privpath-lab-vpc")),
            (
                "BlockPublicAccessStates",
                o(vec![("InternetGatewayBlockMode", s("off"))]),
            ),
            ("VpcId", s(VPC)),
            ("State", s("available")),
            ("CidrBlock", s(VPC_CIDR)),
            ("DhcpOptionsId", s(DHCP_OPTIONS)),
        ])]),
    )])
}

fn subnets(phase: Phase) -> J {
    let subnet = |sn: &Subnet| {
        let enis = 1 + i64::from(phase.has_cfn_endpoint());
        o(vec![
            ("AvailabilityZoneId", s(sn.az_id)),
            ("MapCustomerOwnedIpOnLaunch", J::Bool(false)),
            ("OwnerId", s(ACCOUNT)),
            ("AssignIpv6AddressOnCreation", J::Bool(false)),
            ("Ipv6CidrBlockAssociationSet", a(vec![])),
            ("Tags", name_tag(sn.name)),
            (
                "SubnetArn",
                s(format!("arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/{}", sn.id)),
            ),
            ("EnableDns64", J::Bool(false)),
            ("Ipv6Native", J::Bool(false)),
            (
                "PrivateDnsNameOptionsOnLaunch",
                o(vec![
                    ("HostnameType", s("ip-name")),
                    ("EnableResourceNameDnsARecord", J::Bool(false)),
                    ("EnableResourceNameDnsAAAARecord", J::Bool(false)),
                ]),
            ),
            (
                "BlockPublicAccessStates",
                o(vec![("InternetGatewayBlockMode", s("off"))]),
            ),
            ("SubnetId", s(sn.id)),
            ("State", s("available")),
            ("VpcId", s(VPC)),
            ("CidrBlock", s(sn.cidr)),
            ("AvailableIpAddressCount", J::Int(251 - enis)),
            ("AvailabilityZone", s(sn.az)),
            ("DefaultForAz", J::Bool(false)),
            ("MapPublicIpOnLaunch", J::Bool(sn.public)),
        ])
    };
    o(vec![(
        "Subnets",
        a(vec![subnet(&SUBNET_PUBLIC), subnet(&SUBNET_PRIVATE)]),
    )])
}

fn route(dest_key: &str, dest: &str, target: &str, origin: &str) -> J {
    o(vec![
        (dest_key, s(dest)),
        ("GatewayId", s(target)),
        ("Origin", s(origin)),
        ("State", s("active")),
    ])
}

fn route_tables(phase: Phase) -> J {
    let local = || {
        route(
            "DestinationCidrBlock",
            VPC_CIDR,
            "local",
            "CreateRouteTable",
        )
    };
    let endpoint = || {
        route(
            "DestinationPrefixListId",
            S3_PREFIX_LIST,
            S3_ENDPOINT,
            "CreateRoute",
        )
    };
    let mut main_routes = vec![local()];
    let mut public_routes = vec![
        local(),
        route("DestinationCidrBlock", "0.0.0.0/0", IGW, "CreateRoute"),
    ];
    if phase.has_s3_endpoint() {
        main_routes.push(endpoint());
        public_routes.push(endpoint());
    }
    let association = |main: bool, id: &str, table: &str, subnet: Option<&str>| {
        let mut m = vec![
            ("Main", J::Bool(main)),
            ("RouteTableAssociationId", s(id)),
            ("RouteTableId", s(table)),
        ];
        if let Some(sn) = subnet {
            m.push(("SubnetId", s(sn)));
        }
        m.push(("AssociationState", o(vec![("State", s("associated"))])));
        o(m)
    };
    let table = |id: &str, assoc: J, routes: Vec<J>, name: &str| {
        o(vec![
            ("Associations", a(vec![assoc])),
            ("PropagatingVgws", a(vec![])),
            ("RouteTableId", s(id)),
            ("Routes", a(routes)),
            ("Tags", name_tag(name)),
            ("VpcId", s(VPC)),
            ("OwnerId", s(ACCOUNT)),
        ])
    };
    o(vec![(
        "RouteTables",
        a(vec![
            table(
                RTB_MAIN,
                association(true, "rtbassoc-0a6c8e1f3b5d79240", RTB_MAIN, None),
                main_routes,
                "privpath-lab-private-rt",
            ),
            table(
                RTB_PUBLIC,
                association(
                    false,
                    "rtbassoc-0b7d9f2a4c6e81357",
                    RTB_PUBLIC,
                    Some(SUBNET_PUBLIC.id),
                ),
                public_routes,
                "privpath-lab-public-rt",
            ),
        ]),
    )])
}

fn internet_gateways() -> J {
    o(vec![(
        "InternetGateways",
        a(vec![o(vec![
            (
                "Attachments",
                a(vec![o(vec![("State", s("available")), ("VpcId", s(VPC))])]),
            ),
            ("InternetGatewayId", s(IGW)),
            ("OwnerId", s(ACCOUNT)),
            ("Tags", name_tag("privpath-lab-igw")),
        ])]),
    )])
}

fn vpc_endpoints(phase: Phase) -> Result<J, SamplesError> {
    let mut endpoints = Vec::new();
    if phase.has_s3_endpoint() {
        endpoints.push(o(vec![
            ("VpcEndpointId", s(S3_ENDPOINT)),
            ("VpcEndpointType", s("Gateway")),
            ("VpcId", s(VPC)),
            ("ServiceName", s(S3_SERVICE)),
            ("State", s("available")),
            (
                "PolicyDocument",
                s("{\"Version\":\"2008-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\"}]}"),
            ),
            ("RouteTableIds", strs(&[RTB_PUBLIC, RTB_MAIN])),
            ("SubnetIds", a(vec![])),
            ("Groups", a(vec![])),
            ("IpAddressType", s("ipv4")),
            ("PrivateDnsEnabled", J::Bool(false)),
            ("RequesterManaged", J::Bool(false)),
            ("NetworkInterfaceIds", a(vec![])),
            ("DnsEntries", a(vec![])),
            ("CreationTimestamp", s(cli_time_ms(S3_ENDPOINT_CREATED_MS)?)),
            ("Tags", name_tag("privpath-lab-s3-gw")),
            ("OwnerId", s(ACCOUNT)),
            ("ServiceRegion", s(REGION)),
        ]));
    }
    if phase.has_cfn_endpoint() {
        let zone = "Z27UANNT0PRK1T";
        let regional = cfn_vpce_name();
        let mut dns = vec![o(vec![
            ("DnsName", s(&regional)),
            ("HostedZoneId", s(zone)),
        ])];
        for sn in [&SUBNET_PUBLIC, &SUBNET_PRIVATE] {
            let zonal = format!(
                "{CFN_ENDPOINT}-{CFN_DNS_SUFFIX}-{}.cloudformation.{REGION}.vpce.amazonaws.com",
                sn.az
            );
            dns.push(o(vec![("DnsName", s(zonal)), ("HostedZoneId", s(zone))]));
        }
        if phase.cfn_private_dns() {
            dns.push(o(vec![
                ("DnsName", s(CFN_NAME)),
                ("HostedZoneId", s("ZONEIDPENDING")),
            ]));
        }
        endpoints.push(o(vec![
            ("VpcEndpointId", s(CFN_ENDPOINT)),
            ("VpcEndpointType", s("Interface")),
            ("VpcId", s(VPC)),
            ("ServiceName", s(CFN_SERVICE)),
            ("State", s("available")),
            (
                "PolicyDocument",
                s("{\n  \"Statement\": [\n    {\n      \"Action\": \"*\", \n      \"Effect\": \"Allow\", \n      \"Principal\": \"*\", \n      \"Resource\": \"*\"\n    }\n  ]\n}"),
            ),
            ("RouteTableIds", a(vec![])),
            ("SubnetIds", strs(&[SUBNET_PUBLIC.id, SUBNET_PRIVATE.id])),
            ("Groups", a(vec![group(ENDPOINT_SG, "privpath-lab-vpce-sg")])),
            ("IpAddressType", s("ipv4")),
            ("DnsOptions", o(vec![("DnsRecordIpType", s("ipv4"))])),
            ("PrivateDnsEnabled", J::Bool(phase.cfn_private_dns())),
            ("RequesterManaged", J::Bool(false)),
            ("NetworkInterfaceIds", a(CFN_ENIS.iter().map(|e| s(e.eni)).collect())),
            ("DnsEntries", a(dns)),
            ("CreationTimestamp", s(cli_time_ms(CFN_ENDPOINT_CREATED_MS)?)),
            ("Tags", name_tag("privpath-lab-cfn-if")),
            ("OwnerId", s(ACCOUNT)),
            ("ServiceRegion", s(REGION)),
        ]));
    }
    Ok(o(vec![("VpcEndpoints", a(endpoints))]))
}

fn association(public: [u8; 4]) -> J {
    o(vec![
        ("IpOwnerId", s("amazon")),
        ("PublicDnsName", s(public_dns(public))),
        ("PublicIp", s(ip(public))),
    ])
}

/// The instance's primary ENI; `with_instance` adds what only
/// `describe-network-interfaces` prints (instance id, requester fields).
fn host_eni(h: &Host, full: bool) -> Result<J, SamplesError> {
    let mut m: Vec<(&str, J)> = Vec::new();
    if let Some(p) = h.public_ip {
        m.push(("Association", association(p)));
    }
    let mut att = vec![
        ("AttachTime", s(cli_time(LAUNCH_SECONDS)?)),
        ("AttachmentId", s(h.attachment)),
        ("DeleteOnTermination", J::Bool(true)),
        ("DeviceIndex", J::Int(0)),
        ("NetworkCardIndex", J::Int(0)),
    ];
    if full {
        att.push(("InstanceId", s(h.instance)));
        att.push(("InstanceOwnerId", s(ACCOUNT)));
    }
    att.push(("Status", s("attached")));
    m.push(("Attachment", o(att)));
    if full {
        m.push(("AvailabilityZone", s(h.subnet.az)));
        m.push(("AvailabilityZoneId", s(h.subnet.az_id)));
    }
    m.push(("Description", s("")));
    m.push(("Groups", a(vec![group(DEFAULT_SG, "default")])));
    if full {
        m.push(("InterfaceType", s("interface")));
    }
    m.push(("Ipv6Addresses", a(vec![])));
    m.push(("MacAddress", s(mac(h.mac))));
    m.push(("NetworkInterfaceId", s(h.eni)));
    m.push(("OwnerId", s(ACCOUNT)));
    m.push(("PrivateDnsName", s(private_dns(h.ip))));
    m.push(("PrivateIpAddress", s(ip(h.ip))));
    let mut addr = Vec::new();
    if let Some(p) = h.public_ip {
        addr.push(("Association", association(p)));
    }
    addr.push(("Primary", J::Bool(true)));
    addr.push(("PrivateDnsName", s(private_dns(h.ip))));
    addr.push(("PrivateIpAddress", s(ip(h.ip))));
    m.push(("PrivateIpAddresses", a(vec![o(addr)])));
    if full {
        m.push(("RequesterManaged", J::Bool(false)));
    }
    m.push(("SourceDestCheck", J::Bool(true)));
    m.push(("Status", s("in-use")));
    m.push(("SubnetId", s(h.subnet.id)));
    if full {
        m.push(("TagSet", a(vec![])));
    }
    m.push(("VpcId", s(VPC)));
    if !full {
        m.push(("InterfaceType", s("interface")));
    }
    Ok(o(m))
}

fn endpoint_eni(e: &EndpointEni) -> Result<J, SamplesError> {
    Ok(o(vec![
        (
            "Attachment",
            o(vec![
                ("AttachTime", s(cli_time(CFN_ENDPOINT_CREATED_MS / 1000)?)),
                ("AttachmentId", s(e.attachment)),
                ("DeleteOnTermination", J::Bool(false)),
                ("DeviceIndex", J::Int(1)),
                ("NetworkCardIndex", J::Int(0)),
                ("InstanceOwnerId", s("amazon-aws")),
                ("Status", s("attached")),
            ]),
        ),
        ("AvailabilityZone", s(e.subnet.az)),
        ("AvailabilityZoneId", s(e.subnet.az_id)),
        (
            "Description",
            s(format!("VPC Endpoint Interface {CFN_ENDPOINT}")),
        ),
        (
            "Groups",
            a(vec![group(ENDPOINT_SG, "privpath-lab-vpce-sg")]),
        ),
        ("InterfaceType", s("vpc_endpoint")),
        ("Ipv6Addresses", a(vec![])),
        ("MacAddress", s(mac(e.mac))),
        ("NetworkInterfaceId", s(e.eni)),
        ("OwnerId", s(ACCOUNT)),
        ("PrivateDnsName", s(private_dns(e.ip))),
        ("PrivateIpAddress", s(ip(e.ip))),
        (
            "PrivateIpAddresses",
            a(vec![o(vec![
                ("Primary", J::Bool(true)),
                ("PrivateDnsName", s(private_dns(e.ip))),
                ("PrivateIpAddress", s(ip(e.ip))),
            ])]),
        ),
        ("RequesterId", s("727180483921")),
        ("RequesterManaged", J::Bool(true)),
        ("SourceDestCheck", J::Bool(true)),
        ("Status", s("in-use")),
        ("SubnetId", s(e.subnet.id)),
        ("TagSet", a(vec![])),
        ("VpcId", s(VPC)),
    ]))
}

fn network_interfaces(phase: Phase) -> Result<J, SamplesError> {
    let mut enis = vec![
        host_eni(&PUBLIC_HOST, true)?,
        host_eni(&PRIVATE_HOST, true)?,
    ];
    if phase.has_cfn_endpoint() {
        for e in &CFN_ENIS {
            enis.push(endpoint_eni(e)?);
        }
    }
    Ok(o(vec![("NetworkInterfaces", a(enis))]))
}

fn instance(h: &Host, name: &str, token: &str, volume: &str) -> Result<J, SamplesError> {
    let launch = cli_time(LAUNCH_SECONDS)?;
    Ok(o(vec![
        ("AmiLaunchIndex", J::Int(0)),
        ("ImageId", s("ami-0e18fe4f2d7a1c6b3")),
        ("InstanceId", s(h.instance)),
        ("InstanceType", s("t3.micro")),
        ("KeyName", s("privpath-lab")),
        ("LaunchTime", s(&launch)),
        ("Monitoring", o(vec![("State", s("disabled"))])),
        (
            "Placement",
            o(vec![
                ("AvailabilityZoneId", s(h.subnet.az_id)),
                ("GroupName", s("")),
                ("Tenancy", s("default")),
                ("AvailabilityZone", s(h.subnet.az)),
            ]),
        ),
        ("PrivateDnsName", s(private_dns(h.ip))),
        ("PrivateIpAddress", s(ip(h.ip))),
        ("ProductCodes", a(vec![])),
        (
            "PublicDnsName",
            s(h.public_ip.map(public_dns).unwrap_or_default()),
        ),
    ]
    .into_iter()
    .chain(h.public_ip.map(|p| ("PublicIpAddress", s(ip(p)))))
    .chain(vec![
        (
            "State",
            o(vec![("Code", J::Int(16)), ("Name", s("running"))]),
        ),
        ("StateTransitionReason", s("")),
        ("SubnetId", s(h.subnet.id)),
        ("VpcId", s(VPC)),
        ("Architecture", s("x86_64")),
        (
            "BlockDeviceMappings",
            a(vec![o(vec![
                ("DeviceName", s("/dev/xvda")),
                (
                    "Ebs",
                    o(vec![
                        ("AttachTime", s(&launch)),
                        ("DeleteOnTermination", J::Bool(true)),
                        ("Status", s("attached")),
                        ("VolumeId", s(volume)),
                    ]),
                ),
            ])]),
        ),
        ("ClientToken", s(token)),
        ("EbsOptimized", J::Bool(false)),
        ("EnaSupport", J::Bool(true)),
        ("Hypervisor", s("xen")),
        ("NetworkInterfaces", a(vec![host_eni(h, false)?])),
        ("RootDeviceName", s("/dev/xvda")),
        ("RootDeviceType", s("ebs")),
        ("SecurityGroups", a(vec![group(DEFAULT_SG, "default")])),
        ("SourceDestCheck", J::Bool(true)),
        ("Tags", name_tag(name)),
        ("VirtualizationType", s("hvm")),
        (
            "CpuOptions",
            o(vec![
                ("CoreCount", J::Int(1)),
                ("ThreadsPerCore", J::Int(2)),
            ]),
        ),
        (
            "MetadataOptions",
            o(vec![
                ("State", s("applied")),
                ("HttpTokens", s("required")),
                ("HttpPutResponseHopLimit", J::Int(2)),
                ("HttpEndpoint", s("enabled")),
                ("HttpProtocolIpv6", s("disabled")),
                ("InstanceMetadataTags", s("disabled")),
            ]),
        ),
        ("PlatformDetails", s("Linux/UNIX")),
        ("UsageOperation", s("RunInstances")),
        ("UsageOperationUpdateTime", s(&launch)),
        (
            "PrivateDnsNameOptions",
            o(vec![
                ("HostnameType", s("ip-name")),
                ("EnableResourceNameDnsARecord", J::Bool(false)),
                ("EnableResourceNameDnsAAAARecord", J::Bool(false)),
            ]),
        ),
        ("CurrentInstanceBootMode", s("legacy-bios")),
        ("BootMode", s("uefi-preferred")),
    ])
    .collect()))
}

fn instances() -> Result<J, SamplesError> {
    let reservation = |id: &str, inst: J| {
        o(vec![
            ("ReservationId", s(id)),
            ("OwnerId", s(ACCOUNT)),
            ("Groups", a(vec![])),
            ("Instances", a(vec![inst])),
        ])
    };
    Ok(o(vec![(
        "Reservations",
        a(vec![
            reservation(
                "r-0c1e3a5b7d9f24680",
                instance(
                    &PUBLIC_HOST,
                    "privpath-lab-public-ec2",
                    "terraform-20261102084110512300000003",
                    "vol-0e1a3c5d7f9b24681",
                )?,
            ),
            reservation(
                "r-0d2f4b6c8e1a35791",
                instance(
                    &PRIVATE_HOST,
                    "privpath-lab-private-ec2",
                    "terraform-20261102084110587600000004",
                    "vol-0f2b4d6e8a1c35792",
                )?,
            ),
        ]),
    )]))
}

fn managed_prefix_lists() -> J {
    let list = |id: &str, service: &str| {
        o(vec![
            ("PrefixListId", s(id)),
            ("AddressFamily", s("IPv4")),
            ("State", s("create-complete")),
            (
                "PrefixListArn",
                s(format!("arn:aws:ec2:{REGION}:aws:prefix-list/{id}")),
            ),
            (
                "PrefixListName",
                s(format!("com.amazonaws.{REGION}.{service}")),
            ),
            ("Tags", a(vec![])),
            ("OwnerId", s("AWS")),
        ])
    };
    o(vec![(
        "PrefixLists",
        a(vec![
            list(S3_PREFIX_LIST, "s3"),
            list(DDB_PREFIX_LIST, "dynamodb"),
        ]),
    )])
}

/// A subset of the public ip-ranges.json (2026-08-22 copy): the region's S3
/// prefixes (as S3 and AMAZON, as the real file lists them), the AMAZON range
/// of CloudFormation's public endpoint and the EC2 range of the public host.
fn ip_ranges() -> J {
    let entry = |prefix: &str, service: &str| {
        o(vec![
            ("ip_prefix", s(prefix)),
            ("region", s(REGION)),
            ("service", s(service)),
            ("network_border_group", s(REGION)),
        ])
    };
    let mut prefixes = Vec::new();
    let s3_all: Vec<&str> = S3_PREFIXES
        .iter()
        .chain(S3_PREFIXES_IP_RANGES_ONLY.iter())
        .copied()
        .collect();
    for p in &s3_all {
        // The two /28s are listed as S3 only in the real file.
        if !p.ends_with("/28") {
            prefixes.push(entry(p, "AMAZON"));
        }
    }
    prefixes.push(entry(CFN_PUBLIC_PREFIX, "AMAZON"));
    prefixes.push(entry(EC2_PREFIX, "AMAZON"));
    for p in &s3_all {
        prefixes.push(entry(p, "S3"));
    }
    prefixes.push(entry(EC2_PREFIX, "EC2"));
    let v6 = |prefix: &str, service: &str| {
        o(vec![
            ("ipv6_prefix", s(prefix)),
            ("region", s(REGION)),
            ("service", s(service)),
            ("network_border_group", s(REGION)),
        ])
    };
    o(vec![
        ("syncToken", s("1787411825")),
        ("createDate", s("2026-08-22-15-17-05")),
        ("prefixes", a(prefixes)),
        (
            "ipv6_prefixes",
            a(vec![
                v6("2406:daf0:2000::/40", "S3"),
                v6("2406:daf0:2000::/40", "AMAZON"),
            ]),
        ),
    ])
}
