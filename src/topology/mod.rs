//! The VPC topology as privpath understands it, loaded from AWS CLI JSON.
//!
//! [`load`] reads files and folders of `aws ec2 describe-*` output (and the
//! public `ip-ranges.json`), recognising each file by its content. The result
//! is a [`Topology`]: one or more [`Snapshot`]s plus the ip-ranges. Build a
//! [`TopologyIndex`] from it once and share it by `&` across threads.
//!
//! # Snapshots
//!
//! All recognised files of one directory form one snapshot (files given
//! directly on the command line join the snapshot of their directory). A
//! snapshot's time is, in order: `SnapshotTime` in a `snapshot.json` of that
//! directory (written by `scripts/collect-topology.sh`); else the newest
//! timestamp found inside (endpoint creation, NAT creation, instance launch,
//! ENI attach); else none (sorts first). Each flow uses the latest snapshot
//! taken at or before its start, else the earliest snapshot.
//!
//! `ip-ranges.json` is not part of a snapshot: it is shared by all of them
//! (when several are given, the one with the newest `createDate` wins).
//!
//! When one resource id appears in several files of the same snapshot (for
//! example `describe-route-tables-before-s3-endpoint.json` next to
//! `describe-route-tables.json`), the file whose name sorts last wins and a
//! note is recorded (`topology check` prints it).

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use jiff::Timestamp;
use serde::Serialize;

pub mod aws_json;
mod check;
pub mod export;
pub mod index;
mod keys;
mod load;
mod lpm;
mod routes;

pub use check::{Issue, Severity, check};
pub use index::{
    EndpointInfo, EniInfo, EniMemo, EniRole, HostInfo, IpRangeEntry, Millis, NatInfo,
    PrefixListEntry, SnapshotIndex, TimeGate, TopologyIndex,
};
pub use load::{ENTRIES_FILE_HINT, TOPOLOGY_MEMBERS, load, load_bytes, load_files_as_snapshot};
pub use lpm::LpmTable;
pub use routes::{RouteEntry, RouteHit, RouteKind, RtIndex};

/// Short AWS identifiers (`rtb-…`, `vpce-…`) fit inline.
pub type Text = compact_str::CompactString;

/// The privpath service of an ip-ranges / `pkt-dst-aws-service` label:
/// `S3` → `s3`, `DYNAMODB` → `dynamodb`; `AMAZON` and `EC2` say only "some
/// AWS address" → `aws`; other labels lower-cased (`CLOUDFRONT` → `cloudfront`).
pub fn service_of_label(label: &str) -> Text {
    if label.eq_ignore_ascii_case("AMAZON") || label.eq_ignore_ascii_case("EC2") {
        Text::const_new("aws")
    } else {
        // Inline (no allocation) for labels up to 24 bytes.
        let mut t = Text::from(label);
        t.make_ascii_lowercase();
        t
    }
}

/// Errors that stop a topology from loading. Each names the file and, for
/// content errors, the JSON path.
#[derive(Debug, thiserror::Error)]
pub enum TopologyError {
    #[error("{path}: no such file or folder")]
    NotFound { path: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: invalid JSON: {message}")]
    Json { path: String, message: String },
    #[error("{path}: {json_path}: {message}")]
    Content {
        path: String,
        json_path: String,
        message: String,
    },
    #[error("{path}: not AWS CLI output privpath knows (top-level members: {members})")]
    Unrecognised { path: String, members: String },
    #[error("no topology files found in {paths}")]
    Empty { paths: String },
}

/// A loaded topology: snapshots sorted by time (untimed first), plus ip-ranges.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Topology {
    pub snapshots: Vec<Snapshot>,
    pub ip_ranges: Option<IpRanges>,
    /// Things worth knowing that did not stop the load (skipped files).
    pub notes: Vec<String>,
}

/// Where a snapshot's time came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SnapshotTimeSource {
    SnapshotFile,
    NewestInside,
    None,
}

/// The state of one VPC (or several) at one time. Maps are keyed by id.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Snapshot {
    /// The directory the files came from.
    pub dir: String,
    #[serde(serialize_with = "ser_time")]
    pub time: Option<Timestamp>,
    pub time_source: SnapshotTimeSource,
    /// The files that contributed, in load order.
    pub files: Vec<String>,
    pub vpcs: BTreeMap<Text, Vpc>,
    pub subnets: BTreeMap<Text, Subnet>,
    pub route_tables: BTreeMap<Text, RouteTable>,
    pub internet_gateways: BTreeMap<Text, InternetGateway>,
    pub nat_gateways: BTreeMap<Text, NatGateway>,
    pub endpoints: BTreeMap<Text, VpcEndpoint>,
    pub enis: BTreeMap<Text, Eni>,
    pub instances: BTreeMap<Text, Instance>,
    pub prefix_lists: BTreeMap<Text, PrefixList>,
    /// Elastic IPs (`describe-addresses`) by public address.
    pub elastic_ips: BTreeMap<IpAddr, ElasticIp>,
    /// Duplicate ids, entries files that could not be tied to a list, …
    pub notes: Vec<String>,
}

impl Snapshot {
    pub fn new(dir: String) -> Snapshot {
        Snapshot {
            dir,
            time: None,
            time_source: SnapshotTimeSource::None,
            files: Vec::new(),
            vpcs: BTreeMap::new(),
            subnets: BTreeMap::new(),
            route_tables: BTreeMap::new(),
            internet_gateways: BTreeMap::new(),
            nat_gateways: BTreeMap::new(),
            endpoints: BTreeMap::new(),
            enis: BTreeMap::new(),
            instances: BTreeMap::new(),
            prefix_lists: BTreeMap::new(),
            elastic_ips: BTreeMap::new(),
            notes: Vec::new(),
        }
    }

    /// The route table a subnet uses: its explicit association, else the
    /// main table of its VPC.
    pub fn route_table_of_subnet(&self, subnet_id: &str) -> Option<&RouteTable> {
        if let Some(rt) = self
            .route_tables
            .values()
            .find(|rt| rt.subnet_ids.iter().any(|s| s == subnet_id))
        {
            return Some(rt);
        }
        let vpc = &self.subnets.get(subnet_id)?.vpc_id;
        self.route_tables
            .values()
            .find(|rt| rt.main && rt.vpc_id == *vpc)
    }

    /// Whether the subnet's table is the VPC's main table by default.
    pub fn subnet_uses_main(&self, subnet_id: &str) -> bool {
        !self
            .route_tables
            .values()
            .any(|rt| rt.subnet_ids.iter().any(|s| s == subnet_id))
    }
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Vpc {
    pub id: Text,
    pub cidrs: Vec<IpNet>,
    pub dns_support: Option<bool>,
    pub dns_hostnames: Option<bool>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Subnet {
    pub id: Text,
    pub vpc_id: Text,
    pub cidrs: Vec<IpNet>,
    pub availability_zone: Option<Text>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RouteTable {
    pub id: Text,
    pub vpc_id: Text,
    /// The VPC's main table (used by subnets without an explicit association).
    pub main: bool,
    /// Explicitly associated subnets.
    pub subnet_ids: Vec<Text>,
    pub routes: Vec<Route>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Route {
    pub destination: RouteDestination,
    pub target: RouteTarget,
    pub state: RouteState,
    /// `CreateRouteTable`, `CreateRoute`, `EnableVgwRoutePropagation`, …
    pub origin: Option<Text>,
}

impl Route {
    /// Propagated routes lose against static ones for identical destinations.
    pub fn is_propagated(&self) -> bool {
        self.origin
            .as_deref()
            .is_some_and(|o| o.eq_ignore_ascii_case("EnableVgwRoutePropagation"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RouteDestination {
    Cidr(IpNet),
    PrefixList(Text),
}

impl std::fmt::Display for RouteDestination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RouteDestination::Cidr(n) => write!(f, "{n}"),
            RouteDestination::PrefixList(p) => f.write_str(p),
        }
    }
}

/// A route's target, by kind. The id is kept as AWS printed it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RouteTarget {
    Local,
    InternetGateway(Text),
    EgressOnlyInternetGateway(Text),
    GatewayEndpoint(Text),
    NatGateway(Text),
    VpcPeering(Text),
    TransitGateway(Text),
    VirtualPrivateGateway(Text),
    NetworkInterface(Text),
    Instance(Text),
    Other(Text),
}

/// The kind of a [`RouteTarget`], without its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetKind {
    Local,
    InternetGateway,
    EgressOnlyInternetGateway,
    GatewayEndpoint,
    NatGateway,
    VpcPeering,
    TransitGateway,
    VirtualPrivateGateway,
    NetworkInterface,
    Instance,
    Other,
}

impl RouteTarget {
    pub fn kind(&self) -> TargetKind {
        match self {
            RouteTarget::Local => TargetKind::Local,
            RouteTarget::InternetGateway(_) => TargetKind::InternetGateway,
            RouteTarget::EgressOnlyInternetGateway(_) => TargetKind::EgressOnlyInternetGateway,
            RouteTarget::GatewayEndpoint(_) => TargetKind::GatewayEndpoint,
            RouteTarget::NatGateway(_) => TargetKind::NatGateway,
            RouteTarget::VpcPeering(_) => TargetKind::VpcPeering,
            RouteTarget::TransitGateway(_) => TargetKind::TransitGateway,
            RouteTarget::VirtualPrivateGateway(_) => TargetKind::VirtualPrivateGateway,
            RouteTarget::NetworkInterface(_) => TargetKind::NetworkInterface,
            RouteTarget::Instance(_) => TargetKind::Instance,
            RouteTarget::Other(_) => TargetKind::Other,
        }
    }

    /// The target id as AWS prints it (`local`, `igw-…`, `vpce-…`).
    pub fn id(&self) -> &str {
        match self {
            RouteTarget::Local => "local",
            RouteTarget::InternetGateway(s)
            | RouteTarget::EgressOnlyInternetGateway(s)
            | RouteTarget::GatewayEndpoint(s)
            | RouteTarget::NatGateway(s)
            | RouteTarget::VpcPeering(s)
            | RouteTarget::TransitGateway(s)
            | RouteTarget::VirtualPrivateGateway(s)
            | RouteTarget::NetworkInterface(s)
            | RouteTarget::Instance(s)
            | RouteTarget::Other(s) => s,
        }
    }

    /// [`RouteTarget::id`] as an owned [`Text`] (a clone, no re-encoding).
    pub fn id_text(&self) -> Text {
        match self {
            RouteTarget::Local => Text::const_new("local"),
            RouteTarget::InternetGateway(s)
            | RouteTarget::EgressOnlyInternetGateway(s)
            | RouteTarget::GatewayEndpoint(s)
            | RouteTarget::NatGateway(s)
            | RouteTarget::VpcPeering(s)
            | RouteTarget::TransitGateway(s)
            | RouteTarget::VirtualPrivateGateway(s)
            | RouteTarget::NetworkInterface(s)
            | RouteTarget::Instance(s)
            | RouteTarget::Other(s) => s.clone(),
        }
    }

    /// Classify a `GatewayId`-style id by its prefix.
    pub fn from_gateway_id(id: &str) -> RouteTarget {
        let t = Text::from(id);
        if id == "local" {
            RouteTarget::Local
        } else if id.starts_with("igw-") {
            RouteTarget::InternetGateway(t)
        } else if id.starts_with("eigw-") {
            RouteTarget::EgressOnlyInternetGateway(t)
        } else if id.starts_with("vpce-") {
            RouteTarget::GatewayEndpoint(t)
        } else if id.starts_with("vgw-") {
            RouteTarget::VirtualPrivateGateway(t)
        } else if id.starts_with("nat-") {
            RouteTarget::NatGateway(t)
        } else if id.starts_with("tgw-") {
            RouteTarget::TransitGateway(t)
        } else if id.starts_with("pcx-") {
            RouteTarget::VpcPeering(t)
        } else if id.starts_with("eni-") {
            RouteTarget::NetworkInterface(t)
        } else if id.starts_with("i-") {
            RouteTarget::Instance(t)
        } else {
            RouteTarget::Other(t)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RouteState {
    Active,
    Blackhole,
    /// Another state AWS may add (`filtered`); treated as usable.
    Other(Text),
}

impl RouteState {
    pub fn parse(s: Option<&str>) -> RouteState {
        match s {
            None => RouteState::Active,
            Some(s) if s.eq_ignore_ascii_case("active") => RouteState::Active,
            Some(s) if s.eq_ignore_ascii_case("blackhole") => RouteState::Blackhole,
            Some(s) => RouteState::Other(s.into()),
        }
    }
    pub fn as_str(&self) -> &str {
        match self {
            RouteState::Active => "active",
            RouteState::Blackhole => "blackhole",
            RouteState::Other(s) => s,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct InternetGateway {
    pub id: Text,
    pub vpc_ids: Vec<Text>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct NatGateway {
    pub id: Text,
    pub vpc_id: Text,
    pub subnet_id: Text,
    pub state: Option<Text>,
    #[serde(serialize_with = "ser_time")]
    pub created: Option<Timestamp>,
    pub eni_ids: Vec<Text>,
    pub private_ips: Vec<IpAddr>,
    pub public_ips: Vec<IpAddr>,
}

/// One Elastic IP and what it is associated with (if anything).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ElasticIp {
    pub public_ip: Option<IpAddr>,
    pub allocation_id: Option<Text>,
    pub association_id: Option<Text>,
    pub instance_id: Option<Text>,
    pub eni_id: Option<Text>,
    pub private_ip: Option<IpAddr>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EndpointKind {
    Gateway,
    Interface,
    GatewayLoadBalancer,
    Other(Text),
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct VpcEndpoint {
    pub id: Text,
    pub kind: EndpointKind,
    pub vpc_id: Text,
    /// `com.amazonaws.ap-northeast-2.s3`
    pub service_name: Text,
    /// The short service (`s3`, `cloudformation`), lower case.
    pub service: Text,
    pub region: Option<Text>,
    pub state: Option<Text>,
    pub route_table_ids: Vec<Text>,
    pub subnet_ids: Vec<Text>,
    pub eni_ids: Vec<Text>,
    pub private_dns_enabled: Option<bool>,
    pub dns_names: Vec<Text>,
    #[serde(serialize_with = "ser_time")]
    pub created: Option<Timestamp>,
}

impl VpcEndpoint {
    /// The service's default (public) DNS name: `cloudformation.<region>.amazonaws.com`.
    pub fn default_dns_name(&self) -> Option<String> {
        // Prefer the name AWS lists when private DNS is on.
        if let Some(n) = self.dns_names.iter().find(|n| {
            !n.starts_with("vpce-") && !n.starts_with("*.vpce-") && n.ends_with(".amazonaws.com")
        }) {
            return Some(n.trim_start_matches("*.").to_string());
        }
        let region = self.region.as_deref()?;
        Some(format!("{}.{}.amazonaws.com", self.service, region))
    }
}

/// What an ENI belongs to, decided from the endpoint/NAT lists first, then
/// the attachment, then `InterfaceType`/`Description`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EniKind {
    Instance(Text),
    InterfaceEndpoint(Text),
    NatGateway(Text),
    Other(Text),
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Eni {
    pub id: Text,
    pub kind: EniKind,
    pub subnet_id: Text,
    pub vpc_id: Text,
    /// Primary first.
    pub private_ips: Vec<IpAddr>,
    pub public_ips: Vec<IpAddr>,
    pub description: Option<String>,
    pub interface_type: Option<Text>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Instance {
    pub id: Text,
    pub subnet_id: Text,
    pub vpc_id: Text,
    pub private_ip: Option<IpAddr>,
    pub public_ip: Option<IpAddr>,
    pub eni_ids: Vec<Text>,
    #[serde(serialize_with = "ser_time")]
    pub launch_time: Option<Timestamp>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct PrefixList {
    pub id: Text,
    /// `com.amazonaws.ap-northeast-2.s3`
    pub name: Option<Text>,
    pub cidrs: Vec<IpNet>,
    /// False when no entries file / `Cidrs` was seen for this list.
    pub entries_known: bool,
    pub owner: Option<Text>,
}

impl PrefixList {
    /// The short service of an AWS-managed list (`s3`, `dynamodb`).
    pub fn service(&self) -> Option<&str> {
        let name = self.name.as_deref()?;
        let rest = name.strip_prefix("com.amazonaws.")?;
        let (_region, svc) = rest.split_once('.')?;
        Some(svc)
    }
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct IpRanges {
    pub file: String,
    pub sync_token: Option<String>,
    pub create_date: Option<String>,
    pub prefixes: Vec<IpRangePrefix>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct IpRangePrefix {
    pub prefix: IpNet,
    /// As AWS spells it: `S3`, `AMAZON`, `EC2`, `DYNAMODB`.
    pub service: Text,
    pub region: Text,
}

fn ser_time<S: serde::Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.collect_str(t),
        None => s.serialize_none(),
    }
}

/// Parse an AWS timestamp: RFC 3339 with `Z` or an offset and any number of
/// fractional digits (CLI v1 and v2 spellings).
pub fn parse_timestamp(s: &str) -> Option<Timestamp> {
    s.trim().parse::<Timestamp>().ok()
}

/// The short service of `com.amazonaws.<region>.<service>` (also
/// `aws.api.<region>.<service>`, `com.amazonaws.s3-global.accesspoint`), and the region.
pub fn split_service_name(name: &str) -> (Text, Option<Text>) {
    let rest = name
        .strip_prefix("com.amazonaws.")
        .or_else(|| name.strip_prefix("aws.api."))
        .or_else(|| name.strip_prefix("aws.sagemaker."));
    match rest.and_then(|r| r.split_once('.')) {
        Some((region, svc)) if looks_like_region(region) => {
            (svc.to_ascii_lowercase().into(), Some(region.into()))
        }
        Some((_, svc)) => (svc.to_ascii_lowercase().into(), None),
        None => (name.to_ascii_lowercase().into(), None),
    }
}

/// `ap-northeast-2`, `us-gov-west-1`, `eu-central-1`.
pub fn looks_like_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts
            .first()
            .is_some_and(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts
            .last()
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

#[cfg(test)]
mod tests;

#[cfg(test)]
pub(crate) mod tests_support {
    use std::path::PathBuf;

    /// `$PRIVPATH_CORPUS/aws`: None (skip, with a reason) when the variable is
    /// unset; a failure when it is set and the folder is missing.
    pub(crate) fn corpus_aws() -> Option<PathBuf> {
        let Some(base) = std::env::var_os("PRIVPATH_CORPUS") else {
            eprintln!("skipped: PRIVPATH_CORPUS is not set");
            return None;
        };
        let mut base = PathBuf::from(base);
        if base.is_relative() {
            base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(base);
        }
        let p = base.join("aws");
        assert!(
            p.is_dir(),
            "PRIVPATH_CORPUS is set but {} is missing",
            p.display()
        );
        Some(p)
    }
}
