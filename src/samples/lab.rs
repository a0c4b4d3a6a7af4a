//! The seed lab: its identifiers, its phases and what each host does in each
//! phase. Everything else (topology JSON, packets, flow logs) derives from this.

/// The lab's AWS account (the documentation account id).
pub const ACCOUNT: &str = "111122223333";
pub const REGION: &str = "ap-northeast-2";
pub const VPC: &str = "vpc-0a1d3c5e7f9b24601";
pub const VPC_CIDR: &str = "10.0.0.0/16";
pub const IGW: &str = "igw-0b2e4f6a8c1d35702";
pub const DHCP_OPTIONS: &str = "dopt-0c7e9a1b3d5f28463";
pub const DEFAULT_SG: &str = "sg-09c2e4a6b8d1f3057";
pub const ENDPOINT_SG: &str = "sg-0a3d5f7b9c2e4a618";
/// The public subnet's route table (explicitly associated).
pub const RTB_PUBLIC: &str = "rtb-0e5b7c9d2f4a68135";
/// The private subnet's route table: the VPC's main table (implicit association).
pub const RTB_MAIN: &str = "rtb-0f6c8d1e3a5b79246";
pub const S3_PREFIX_LIST: &str = "pl-78a54011";
pub const DDB_PREFIX_LIST: &str = "pl-48a54021";
pub const S3_SERVICE: &str = "com.amazonaws.ap-northeast-2.s3";
pub const CFN_SERVICE: &str = "com.amazonaws.ap-northeast-2.cloudformation";
pub const S3_ENDPOINT: &str = "vpce-05e7a9c1d3f2b4680";
pub const CFN_ENDPOINT: &str = "vpce-06f8b1d2e4a3c5971";
/// The random part AWS appends to the endpoint's DNS names.
pub const CFN_DNS_SUFFIX: &str = "q7w2k9zd";
/// The flow log delivering the default format to CloudWatch Logs.
pub const FLOW_LOG_CLOUDWATCH: &str = "fl-0c5f7b9d2e4a6b831";
/// The flow log delivering the custom v5 format to S3.
pub const FLOW_LOG_S3: &str = "fl-0b4e6a8c1d3f5a729";
pub const LOG_GROUP: &str = "/privpath-lab/vpc-flow-logs";
pub const BUCKET: &str = "privpath-lab-111122223333";
/// The Amazon-provided DNS server (VPC base + 2).
pub const RESOLVER: [u8; 4] = [10, 0, 0, 2];
pub const PUBLIC_DNS: [u8; 4] = [8, 8, 8, 8];

pub const S3_NAME: &str = "s3.ap-northeast-2.amazonaws.com";
pub const S3_CNAME: &str = "s3-r-w.ap-northeast-2.amazonaws.com";
pub const CFN_NAME: &str = "cloudformation.ap-northeast-2.amazonaws.com";

/// The entries of `pl-78a54011` (aws-topology.md §3).
pub const S3_PREFIXES: [&str; 9] = [
    "3.5.140.0/22",
    "3.5.144.0/23",
    "3.5.184.0/21",
    "52.219.144.0/22",
    "52.219.148.0/23",
    "52.219.202.0/23",
    "52.219.204.0/22",
    "52.219.56.0/22",
    "52.219.60.0/23",
];
/// S3 prefixes of ip-ranges.json that are not in the managed prefix list.
pub const S3_PREFIXES_IP_RANGES_ONLY: [&str; 4] = [
    "1.178.91.0/24",
    "3.2.75.0/24",
    "3.36.167.64/28",
    "3.36.167.80/28",
];
/// The AMAZON-only range CloudFormation's public addresses come from.
pub const CFN_PUBLIC_PREFIX: &str = "52.95.192.0/20";
pub const CFN_PUBLIC_IPS: [[u8; 4]; 2] = [[52, 95, 194, 65], [52, 95, 195, 12]];
/// The EC2 range the public host's public address comes from.
pub const EC2_PREFIX: &str = "3.34.0.0/15";

/// `2026-11-02T09:00:00Z`, the start of the lab.
pub const BASE_SECONDS: i64 = 1_793_610_000;
/// The instances were launched at 08:41:12.
pub const LAUNCH_SECONDS: i64 = BASE_SECONDS - 1128;
/// The two flow logs were created at 08:50:03.
pub const FLOW_LOGS_CREATED_SECONDS: i64 = BASE_SECONDS - 597;
/// The S3 gateway endpoint was created at 09:10:27.318.
pub const S3_ENDPOINT_CREATED_MS: i64 = (BASE_SECONDS + 627) * 1000 + 318;
/// The CloudFormation interface endpoint was created at 09:25:41.902.
pub const CFN_ENDPOINT_CREATED_MS: i64 = (BASE_SECONDS + 1541) * 1000 + 902;

/// One subnet of the lab.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Subnet {
    pub id: &'static str,
    pub cidr: &'static str,
    pub az: &'static str,
    pub az_id: &'static str,
    pub public: bool,
    /// The MAC address the VPC router answers with in this subnet.
    pub router_mac: [u8; 6],
    pub name: &'static str,
}

pub const SUBNET_PUBLIC: Subnet = Subnet {
    id: "subnet-0c3f5a7b9d2e46813",
    cidr: "10.0.0.0/24",
    az: "ap-northeast-2a",
    az_id: "apne2-az1",
    public: true,
    router_mac: [0x02, 0xa5, 0x33, 0x0e, 0x7f, 0xc1],
    name: "privpath-lab-public-a",
};

pub const SUBNET_PRIVATE: Subnet = Subnet {
    id: "subnet-0d4a6b8c1e3f57924",
    cidr: "10.0.1.0/24",
    az: "ap-northeast-2c",
    az_id: "apne2-az3",
    public: false,
    router_mac: [0x0a, 0xd9, 0x11, 0x6b, 0x42, 0xe8],
    name: "privpath-lab-private-c",
};

/// How a host's capture was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureKind {
    /// `tcpdump -i ens5 -w public-host.pcap`: classic pcap, Ethernet, microseconds.
    PcapEthernet,
    /// `tcpdump -i any --pcapng`: pcapng with LINUX_SLL2 (276).
    PcapngSll2,
}

/// One EC2 instance of the lab and its primary ENI.
#[derive(Debug)]
pub struct Host {
    pub name: &'static str,
    pub instance: &'static str,
    pub eni: &'static str,
    pub attachment: &'static str,
    pub ip: [u8; 4],
    pub public_ip: Option<[u8; 4]>,
    pub mac: [u8; 6],
    pub subnet: &'static Subnet,
    pub capture: CaptureKind,
    pub capture_file: &'static str,
    /// The interface index of ens5 (SLL2 header).
    pub ifindex: u32,
    /// Offset of the host's TCP timestamp clock.
    pub ts_offset: u32,
}

pub const PUBLIC_HOST: Host = Host {
    name: "public-host",
    instance: "i-01a3c5e7092b4d6f8",
    eni: "eni-02b4d6f8103c5e7a9",
    attachment: "eni-attach-0d5f7a9b1c3e24680",
    ip: [10, 0, 0, 10],
    public_ip: Some([3, 35, 142, 77]),
    mac: [0x02, 0x1f, 0x8a, 0x3c, 0x5d, 0x71],
    subnet: &SUBNET_PUBLIC,
    capture: CaptureKind::PcapEthernet,
    capture_file: "public-host.pcap",
    ifindex: 2,
    ts_offset: 3_418_227_090,
};

pub const PRIVATE_HOST: Host = Host {
    name: "private-host",
    instance: "i-03c5e7091b2d4f6a8",
    eni: "eni-04d6f8a12c3e5b7d9",
    attachment: "eni-attach-0e6a8b1c2d4f35791",
    ip: [10, 0, 1, 20],
    public_ip: None,
    mac: [0x0a, 0x4e, 0x9b, 0x27, 0xc3, 0x15],
    subnet: &SUBNET_PRIVATE,
    capture: CaptureKind::PcapngSll2,
    capture_file: "private-host.pcapng",
    ifindex: 2,
    ts_offset: 1_207_554_316,
};

pub const HOSTS: [&Host; 2] = [&PUBLIC_HOST, &PRIVATE_HOST];

/// One ENI of the CloudFormation interface endpoint.
#[derive(Debug)]
pub struct EndpointEni {
    pub eni: &'static str,
    pub attachment: &'static str,
    pub ip: [u8; 4],
    pub mac: [u8; 6],
    pub subnet: &'static Subnet,
}

pub const CFN_ENIS: [EndpointEni; 2] = [
    EndpointEni {
        eni: "eni-07a9c2e4f6b1d3805",
        attachment: "ela-attach-0f1b3d5e7a9c24681",
        ip: [10, 0, 0, 150],
        mac: [0x02, 0x6c, 0xe1, 0x94, 0x0b, 0x3d],
        subnet: &SUBNET_PUBLIC,
    },
    EndpointEni {
        eni: "eni-08b1d3f5a7c2e4916",
        attachment: "ela-attach-0a2c4e6f8b1d35792",
        ip: [10, 0, 1, 150],
        mac: [0x0a, 0x37, 0x5f, 0xd2, 0x81, 0x6e],
        subnet: &SUBNET_PRIVATE,
    },
];

/// The lab's phases, in the order they were carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Baseline,
    S3Gateway,
    CfnInterface,
    PrivateDnsOff,
}

impl Phase {
    /// Seconds after [`BASE_SECONDS`] when the phase's traffic starts.
    pub fn start_offset(self) -> i64 {
        match self {
            Phase::Baseline => 0,
            Phase::S3Gateway => 900,
            Phase::CfnInterface => 1800,
            Phase::PrivateDnsOff => 2700,
        }
    }

    pub fn has_s3_endpoint(self) -> bool {
        self >= Phase::S3Gateway
    }

    pub fn has_cfn_endpoint(self) -> bool {
        self >= Phase::CfnInterface
    }

    pub fn cfn_private_dns(self) -> bool {
        self == Phase::CfnInterface
    }
}

/// A case folder under `samples/lab/`.
#[derive(Debug)]
pub struct Case {
    pub dir: &'static str,
    /// The topology snapshot the case ships (its final state).
    pub topology: Phase,
    /// The phases whose traffic the evidence holds.
    pub phases: &'static [Phase],
}

pub const CASES: [Case; 5] = [
    Case {
        dir: "1-baseline",
        topology: Phase::Baseline,
        phases: &[Phase::Baseline],
    },
    Case {
        dir: "2-s3-gateway-endpoint",
        topology: Phase::S3Gateway,
        phases: &[Phase::S3Gateway],
    },
    Case {
        dir: "3-cfn-interface-endpoint",
        topology: Phase::CfnInterface,
        phases: &[Phase::CfnInterface],
    },
    Case {
        dir: "4-private-dns-off",
        topology: Phase::PrivateDnsOff,
        phases: &[Phase::PrivateDnsOff],
    },
    Case {
        dir: "timeline",
        topology: Phase::CfnInterface,
        phases: &[Phase::Baseline, Phase::S3Gateway, Phase::CfnInterface],
    },
];

/// The way a packet leaves the VPC, as the VPC router decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Local,
    GatewayEndpoint,
    InternetGateway,
    NoRoute,
}

impl Route {
    /// The flow-log `traffic-path` of an egress record on this route.
    pub fn traffic_path(self) -> Option<u8> {
        match self {
            Route::Local => Some(1),
            Route::GatewayEndpoint => Some(7),
            Route::InternetGateway => Some(8),
            Route::NoRoute => None,
        }
    }
}

/// The route a packet from `host` to `dst` takes in `phase` (the lab's tables:
/// local, `pl-78a54011 → vpce` from phase 2 on, `0.0.0.0/0 → igw` only on the
/// public subnet's table).
pub fn route(phase: Phase, host: &Host, dst: [u8; 4]) -> Route {
    let dst = std::net::Ipv4Addr::from(dst);
    if in_cidr(dst, VPC_CIDR) {
        Route::Local
    } else if phase.has_s3_endpoint() && S3_PREFIXES.iter().any(|c| in_cidr(dst, c)) {
        Route::GatewayEndpoint
    } else if host.subnet.public {
        Route::InternetGateway
    } else {
        Route::NoRoute
    }
}

/// Whether `ip` is in `cidr` (a constant of this module).
pub fn in_cidr(ip: std::net::Ipv4Addr, cidr: &str) -> bool {
    cidr.parse::<ipnet::Ipv4Net>()
        .is_ok_and(|net| net.contains(&ip))
}

/// The ip-ranges.json service of a public address, as flow logs name it in
/// `pkt-src-aws-service` / `pkt-dst-aws-service` (`None` for `-`).
pub fn aws_service(ip: [u8; 4]) -> Option<&'static str> {
    let ip = std::net::Ipv4Addr::from(ip);
    if S3_PREFIXES
        .iter()
        .chain(S3_PREFIXES_IP_RANGES_ONLY.iter())
        .any(|c| in_cidr(ip, c))
    {
        Some("S3")
    } else if in_cidr(ip, EC2_PREFIX) {
        Some("EC2")
    } else if in_cidr(ip, CFN_PUBLIC_PREFIX) {
        Some("AMAZON")
    } else {
        None
    }
}

/// What a host does at one moment.
#[derive(Debug, Clone)]
pub enum Kind {
    /// An A query to the VPC resolver and its answer.
    Dns {
        qname: String,
        cname: Option<(String, u32)>,
        addrs: Vec<[u8; 4]>,
        ttl: u32,
    },
    /// A TLS 1.3 connection: ClientHello with SNI, a request and a response.
    Https {
        server: [u8; 4],
        sni: String,
        request: usize,
        response: usize,
    },
    /// A plain-HTTP GET of an S3 object.
    Http {
        server: [u8; 4],
        host: String,
        path: String,
        body: String,
    },
    /// `ping -c N`.
    Ping { dst: [u8; 4], count: u16 },
}

/// One exchange of one host, at a fixed time.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Stable name; seeds the exchange's PRNG so that a phase's packets are the
    /// same in its own case and in the timeline.
    pub id: String,
    pub phase: Phase,
    pub host: &'static Host,
    /// Microseconds since the Unix epoch.
    pub at_us: i64,
    pub kind: Kind,
}

impl Exchange {
    /// The route of the exchange's packets.
    pub fn route(&self) -> Route {
        let dst = match &self.kind {
            Kind::Dns { .. } => RESOLVER,
            Kind::Https { server, .. } | Kind::Http { server, .. } => *server,
            Kind::Ping { dst, .. } => *dst,
        };
        route(self.phase, self.host, dst)
    }
}

/// The bucket's virtual-hosted name.
pub fn bucket_host() -> String {
    format!("{BUCKET}.{S3_NAME}")
}

/// The CloudFormation endpoint's regional DNS name.
pub fn cfn_vpce_name() -> String {
    format!("{CFN_ENDPOINT}-{CFN_DNS_SUFFIX}.cloudformation.{REGION}.vpce.amazonaws.com")
}

/// The endpoint ENI addresses, the one in the host's own AZ first.
fn cfn_eni_ips(host: &Host) -> Vec<[u8; 4]> {
    let mut ips: Vec<[u8; 4]> = CFN_ENIS.iter().map(|e| e.ip).collect();
    ips.sort_by_key(|ip| {
        !CFN_ENIS
            .iter()
            .any(|e| e.ip == *ip && e.subnet.id == host.subnet.id)
    });
    ips
}

/// Everything the hosts do in `phase`, in time order.
pub fn exchanges(phase: Phase) -> Vec<Exchange> {
    let base_us = (BASE_SECONDS + phase.start_offset()) * 1_000_000;
    let mut out = Vec::new();
    let mut push = |name: &str, host: &'static Host, at_ms: i64, kind: Kind| {
        out.push(Exchange {
            id: format!("{phase:?}/{}/{name}", host.name),
            phase,
            host,
            at_us: base_us + at_ms * 1000,
            kind,
        });
    };
    let s3_dns = |ip: [u8; 4]| Kind::Dns {
        qname: S3_NAME.into(),
        cname: None,
        addrs: vec![ip],
        ttl: 5,
    };
    let bucket_dns = |ip: [u8; 4]| Kind::Dns {
        qname: bucket_host(),
        cname: Some((S3_CNAME.into(), 300)),
        addrs: vec![ip],
        ttl: 5,
    };
    let s3_https = |ip: [u8; 4]| Kind::Https {
        server: ip,
        sni: S3_NAME.into(),
        request: 412,
        response: 1187,
    };
    let s3_http = |ip: [u8; 4]| Kind::Http {
        server: ip,
        host: bucket_host(),
        path: "/lab/hello.txt".into(),
        body: "hello from the privpath lab\n".into(),
    };
    let cfn_https = |ip: [u8; 4], sni: &str| Kind::Https {
        server: ip,
        sni: sni.into(),
        request: 471,
        response: 738,
    };
    let cfn_dns = |qname: String, addrs: Vec<[u8; 4]>| Kind::Dns {
        qname,
        cname: None,
        addrs,
        ttl: 60,
    };
    let (p, q) = (&PUBLIC_HOST, &PRIVATE_HOST);
    match phase {
        Phase::Baseline => {
            push("dns-s3", p, 4_213, s3_dns([52, 219, 60, 25]));
            push("https-s3", p, 4_219, s3_https([52, 219, 60, 25]));
            push("dns-bucket", p, 21_504, bucket_dns([52, 219, 60, 114]));
            push("http-bucket", p, 21_511, s3_http([52, 219, 60, 114]));
            push(
                "ping",
                p,
                40_032,
                Kind::Ping {
                    dst: PUBLIC_DNS,
                    count: 4,
                },
            );
            push("dns-s3", q, 62_708, s3_dns([52, 219, 61, 7]));
            push("https-s3", q, 62_714, s3_https([52, 219, 61, 7]));
            push(
                "ping",
                q,
                80_316,
                Kind::Ping {
                    dst: PUBLIC_DNS,
                    count: 4,
                },
            );
        }
        Phase::S3Gateway => {
            push("dns-s3", p, 3_106, s3_dns([52, 219, 60, 41]));
            push("https-s3", p, 3_111, s3_https([52, 219, 60, 41]));
            push("dns-bucket", p, 18_420, bucket_dns([52, 219, 61, 90]));
            push("http-bucket", p, 18_426, s3_http([52, 219, 61, 90]));
            push("dns-s3", q, 33_817, s3_dns([52, 219, 60, 25]));
            push("https-s3", q, 33_822, s3_https([52, 219, 60, 25]));
            push("dns-bucket", q, 49_233, bucket_dns([52, 219, 60, 114]));
            push("http-bucket", q, 49_240, s3_http([52, 219, 60, 114]));
        }
        Phase::CfnInterface => {
            let (pa, qa) = (cfn_eni_ips(p), cfn_eni_ips(q));
            let (pi, qi) = (
                pa.first().copied().unwrap_or(RESOLVER),
                qa.first().copied().unwrap_or(RESOLVER),
            );
            push("dns-cfn", p, 5_614, cfn_dns(CFN_NAME.into(), pa));
            push("https-cfn", p, 5_621, cfn_https(pi, CFN_NAME));
            push("dns-cfn", q, 21_907, cfn_dns(CFN_NAME.into(), qa));
            push("https-cfn", q, 21_913, cfn_https(qi, CFN_NAME));
            push("dns-s3", p, 40_215, s3_dns([52, 219, 61, 7]));
            push("https-s3", p, 40_221, s3_https([52, 219, 61, 7]));
            push("dns-s3", q, 52_532, s3_dns([52, 219, 60, 41]));
            push("https-s3", q, 52_538, s3_https([52, 219, 60, 41]));
        }
        Phase::PrivateDnsOff => {
            let [c1, c2] = CFN_PUBLIC_IPS;
            let (pa, qa) = (cfn_eni_ips(p), cfn_eni_ips(q));
            let (pi, qi) = (
                pa.first().copied().unwrap_or(RESOLVER),
                qa.first().copied().unwrap_or(RESOLVER),
            );
            let vpce = cfn_vpce_name();
            push("dns-cfn", p, 4_402, cfn_dns(CFN_NAME.into(), vec![c1, c2]));
            push("https-cfn", p, 4_409, cfn_https(c1, CFN_NAME));
            push("dns-cfn", q, 19_015, cfn_dns(CFN_NAME.into(), vec![c2, c1]));
            push("https-cfn", q, 19_021, cfn_https(c2, CFN_NAME));
            push("dns-vpce", p, 37_731, cfn_dns(vpce.clone(), pa));
            push("https-vpce", p, 37_738, cfn_https(pi, &vpce));
            push("dns-vpce", q, 50_318, cfn_dns(vpce.clone(), qa));
            push("https-vpce", q, 50_324, cfn_https(qi, &vpce));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn lab_ids_have_seventeen_hex_digits() {
        let ids = [
            VPC,
            IGW,
            DHCP_OPTIONS,
            DEFAULT_SG,
            ENDPOINT_SG,
            RTB_PUBLIC,
            RTB_MAIN,
            S3_ENDPOINT,
            CFN_ENDPOINT,
            FLOW_LOG_CLOUDWATCH,
            FLOW_LOG_S3,
            SUBNET_PUBLIC.id,
            SUBNET_PRIVATE.id,
            PUBLIC_HOST.instance,
            PUBLIC_HOST.eni,
            PRIVATE_HOST.instance,
            PRIVATE_HOST.eni,
            PUBLIC_HOST.attachment,
            PRIVATE_HOST.attachment,
        ];
        let enis = CFN_ENIS.iter().flat_map(|e| [e.eni, e.attachment]);
        for id in ids.into_iter().chain(enis) {
            let hex = id.rsplit('-').next().unwrap();
            assert_eq!(hex.len(), 17, "{id}");
            assert!(
                hex.bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
                "{id}"
            );
        }
    }

    #[test]
    fn lab_base_time_is_2026_11_02_0900z() {
        let t: jiff::Timestamp = "2026-11-02T09:00:00Z".parse().unwrap();
        assert_eq!(t.as_second(), BASE_SECONDS);
    }

    #[test]
    fn route_follows_the_lab_tables() {
        let s3 = [52, 219, 60, 25];
        assert_eq!(
            route(Phase::Baseline, &PUBLIC_HOST, s3),
            Route::InternetGateway
        );
        assert_eq!(route(Phase::Baseline, &PRIVATE_HOST, s3), Route::NoRoute);
        assert_eq!(
            route(Phase::S3Gateway, &PRIVATE_HOST, s3),
            Route::GatewayEndpoint
        );
        assert_eq!(
            route(Phase::PrivateDnsOff, &PRIVATE_HOST, CFN_PUBLIC_IPS[0]),
            Route::NoRoute
        );
        assert_eq!(
            route(Phase::PrivateDnsOff, &PUBLIC_HOST, CFN_PUBLIC_IPS[0]),
            Route::InternetGateway
        );
        assert_eq!(
            route(Phase::CfnInterface, &PRIVATE_HOST, [10, 0, 1, 150]),
            Route::Local
        );
    }

    #[test]
    fn exchanges_are_in_time_order_and_inside_their_phase() {
        for phase in [
            Phase::Baseline,
            Phase::S3Gateway,
            Phase::CfnInterface,
            Phase::PrivateDnsOff,
        ] {
            let ex = exchanges(phase);
            assert!(ex.windows(2).all(|w| w[0].at_us < w[1].at_us), "{phase:?}");
            let start = (BASE_SECONDS + phase.start_offset()) * 1_000_000;
            assert!(
                ex.iter()
                    .all(|e| e.at_us >= start && e.at_us < start + 120_000_000)
            );
        }
    }
}
