//! Reading AWS CLI JSON files into a [`Topology`].
//!
//! Files are recognised by their top-level members, not by their names:
//!
//! | members | command |
//! |---|---|
//! | `Vpcs` | `aws ec2 describe-vpcs` |
//! | `EnableDnsSupport` / `EnableDnsHostnames` + `VpcId` | `aws ec2 describe-vpc-attribute` |
//! | `Subnets` | `aws ec2 describe-subnets` |
//! | `RouteTables` | `aws ec2 describe-route-tables` |
//! | `InternetGateways` | `aws ec2 describe-internet-gateways` |
//! | `NatGateways` | `aws ec2 describe-nat-gateways` |
//! | `Addresses` | `aws ec2 describe-addresses` (Elastic IPs) |
//! | `VpcEndpoints` | `aws ec2 describe-vpc-endpoints` |
//! | `NetworkInterfaces` | `aws ec2 describe-network-interfaces` |
//! | `Reservations` | `aws ec2 describe-instances` |
//! | `PrefixLists` (items without `Cidrs`) | `aws ec2 describe-managed-prefix-lists` |
//! | `PrefixLists` (items with `Cidrs`) | `aws ec2 describe-prefix-lists` |
//! | `Entries` | `aws ec2 get-managed-prefix-list-entries` (see [`ENTRIES_FILE_HINT`]) |
//! | `prefixes` / `syncToken` | the public `ip-ranges.json` |
//! | `SnapshotTime` | `snapshot.json` written by `scripts/collect-topology.sh` |
//!
//! Inside folders only `*.json` files are read; an unrecognised JSON file in a
//! folder is noted and skipped, an unrecognised file named on the command
//! line is an error.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::aws_json as j;
use super::{
    ElasticIp, EndpointKind, Eni, EniKind, Instance, InternetGateway, IpRangePrefix, IpRanges,
    NatGateway, PrefixList, Route, RouteDestination, RouteState, RouteTable, RouteTarget, Snapshot,
    SnapshotTimeSource, Subnet, Text, Topology, TopologyError, Vpc, VpcEndpoint, parse_timestamp,
    split_service_name,
};

/// How `get-managed-prefix-list-entries` output is tied to its list, since
/// AWS prints no id: a `{"PrefixListId": "pl-…", "Entries": […]}` wrapper;
/// else a `pl-…` token in the file name
/// (`get-managed-prefix-list-entries-pl-78a54011.json`, what the collect
/// script writes); else a file-name token equal to the service of exactly one
/// AWS-managed list of the same folder (`…-entries-s3.json` →
/// `com.amazonaws.<region>.s3`).
pub const ENTRIES_FILE_HINT: &str = "name the file after the list (get-managed-prefix-list-entries-pl-xxxxxxxx.json) or wrap it as {\"PrefixListId\": \"pl-…\", \"Entries\": […]}";

/// Load files and folders of AWS CLI JSON into a topology (see the module
/// documentation of [`crate::topology`] for snapshots and duplicates).
pub fn load(paths: &[PathBuf]) -> Result<Topology, TopologyError> {
    // dir -> files (explicit flag), sorted by name for a deterministic "last wins".
    let mut groups: BTreeMap<PathBuf, BTreeMap<PathBuf, bool>> = BTreeMap::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                TopologyError::NotFound {
                    path: p.display().to_string(),
                }
            } else {
                TopologyError::Io {
                    path: p.display().to_string(),
                    source: e,
                }
            }
        })?;
        if meta.is_dir() {
            for entry in walkdir::WalkDir::new(p).sort_by_file_name() {
                let entry = entry.map_err(|e| TopologyError::Io {
                    path: p.display().to_string(),
                    source: e.into(),
                })?;
                let path = entry.path();
                let is_json = path
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| e.eq_ignore_ascii_case("json"));
                if entry.file_type().is_file() && is_json {
                    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
                    groups
                        .entry(dir)
                        .or_default()
                        .entry(path.to_path_buf())
                        .or_insert(false);
                }
            }
        } else {
            let dir = p.parent().map(Path::to_path_buf).unwrap_or_default();
            groups.entry(dir).or_default().insert(p.clone(), true);
        }
    }

    let mut topo = Topology::default();
    let mut ranges: Vec<IpRanges> = Vec::new();
    for (dir, files) in &groups {
        let mut acc = Acc::new(dir.display().to_string());
        for (file, explicit) in files {
            acc.read_file(file, *explicit, &mut ranges, &mut topo.notes)?;
        }
        if let Some(snap) = acc.finish()? {
            topo.snapshots.push(snap);
        }
    }
    // Newest createDate wins (the format sorts lexically).
    ranges.sort_by(|a, b| a.create_date.cmp(&b.create_date));
    topo.ip_ranges = ranges.pop();
    if topo.snapshots.is_empty() && topo.ip_ranges.is_none() {
        return Err(TopologyError::Empty {
            paths: paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    topo.snapshots
        .sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.dir.cmp(&b.dir)));
    Ok(topo)
}

/// Load the given files as one snapshot, whatever folders they are in
/// (tests and callers that pick files by hand).
pub fn load_files_as_snapshot(files: &[PathBuf]) -> Result<Topology, TopologyError> {
    let mut topo = Topology::default();
    let mut ranges = Vec::new();
    let mut acc = Acc::new(
        files
            .first()
            .and_then(|f| f.parent())
            .map(|d| d.display().to_string())
            .unwrap_or_default(),
    );
    for f in files {
        acc.read_file(f, true, &mut ranges, &mut topo.notes)?;
    }
    if let Some(s) = acc.finish()? {
        topo.snapshots.push(s);
    }
    ranges.sort_by(|a, b| a.create_date.cmp(&b.create_date));
    topo.ip_ranges = ranges.pop();
    Ok(topo)
}

/// One AWS CLI JSON document as a topology of one snapshot (`name` is used
/// in messages and as the file name): what the fuzz target and tests load
/// without touching the file system.
pub fn load_bytes(name: &str, bytes: &[u8]) -> Result<Topology, TopologyError> {
    let mut topo = Topology::default();
    let mut ranges = Vec::new();
    let mut acc = Acc::new(String::new());
    acc.read_bytes(Path::new(name), bytes, true, &mut ranges, &mut topo.notes)?;
    if let Some(s) = acc.finish()? {
        topo.snapshots.push(s);
    }
    topo.ip_ranges = ranges.pop();
    Ok(topo)
}

/// Top-level members that make a JSON object AWS CLI output this loader
/// reads (see the table above); the input classifier uses them too.
pub const TOPOLOGY_MEMBERS: &[&str] = &[
    "Vpcs",
    "EnableDnsSupport",
    "EnableDnsHostnames",
    "Subnets",
    "RouteTables",
    "InternetGateways",
    "NatGateways",
    "Addresses",
    "VpcEndpoints",
    "NetworkInterfaces",
    "Reservations",
    "PrefixLists",
    "Entries",
    "prefixes",
    "syncToken",
    "SnapshotTime",
];

struct PendingEntries {
    file: String,
    id: Option<Text>,
    tokens: Vec<String>,
    cidrs: Vec<IpNet>,
}

/// One folder's worth of files on their way to a snapshot.
struct Acc {
    snap: Snapshot,
    any: bool,
    snapshot_time: Option<Timestamp>,
    entries: Vec<PendingEntries>,
    /// ENIs seen inside describe-instances (used when the ENI list lacks them).
    instance_enis: Vec<Eni>,
    /// (id, file) of every resource, to note duplicates.
    seen: BTreeMap<Text, String>,
}

fn content(path: &str, json_path: String, message: impl Into<String>) -> TopologyError {
    TopologyError::Content {
        path: path.to_string(),
        json_path,
        message: message.into(),
    }
}

fn items<T: DeserializeOwned>(
    path: &str,
    obj: &Map<String, Value>,
    key: &str,
) -> Result<Vec<T>, TopologyError> {
    let Some(v) = obj.get(key) else {
        return Ok(Vec::new());
    };
    let Value::Array(arr) = v else {
        return Err(content(path, key.to_string(), "expected an array"));
    };
    arr.iter()
        .enumerate()
        .map(|(i, item)| {
            T::deserialize(item).map_err(|e| content(path, format!("{key}[{i}]"), e.to_string()))
        })
        .collect()
}

fn req(path: &str, jp: &str, v: &Option<String>, member: &str) -> Result<Text, TopologyError> {
    match v.as_deref() {
        Some(s) if !s.is_empty() => Ok(Text::from(s)),
        _ => Err(content(path, format!("{jp}.{member}"), "missing")),
    }
}

fn net(path: &str, jp: String, s: &str) -> Result<IpNet, TopologyError> {
    s.trim().parse::<IpNet>().map(|n| n.trunc()).map_err(|_| {
        content(
            path,
            jp,
            format!("invalid CIDR {:?}", crate::error::sanitize(s, 60)),
        )
    })
}

fn addr(path: &str, jp: String, s: &str) -> Result<IpAddr, TopologyError> {
    s.trim().parse::<IpAddr>().map_err(|_| {
        content(
            path,
            jp,
            format!("invalid address {:?}", crate::error::sanitize(s, 60)),
        )
    })
}

fn time(path: &str, jp: String, s: &Option<String>) -> Result<Option<Timestamp>, TopologyError> {
    match s.as_deref() {
        None | Some("") => Ok(None),
        Some(t) => parse_timestamp(t).map(Some).ok_or_else(|| {
            content(
                path,
                jp,
                format!("invalid timestamp {:?}", crate::error::sanitize(t, 60)),
            )
        }),
    }
}

fn name_tag(tags: &[j::Tag]) -> Option<String> {
    tags.iter()
        .find(|t| t.key.as_deref() == Some("Name"))
        .and_then(|t| t.value.clone())
}

fn file_tokens(path: &Path) -> Vec<String> {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    stem.split(['-', '_', '.']).map(str::to_string).collect()
}

/// A `pl-<hex>` token in a file name.
fn pl_token(path: &Path) -> Option<Text> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    let start = name.find("pl-")?;
    let rest = name.get(start + 3..)?;
    let hex: String = rest.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    (hex.len() >= 8).then(|| Text::from(format!("pl-{hex}")))
}

impl Acc {
    fn new(dir: String) -> Acc {
        Acc {
            snap: Snapshot::new(dir),
            any: false,
            snapshot_time: None,
            entries: Vec::new(),
            instance_enis: Vec::new(),
            seen: BTreeMap::new(),
        }
    }

    fn note_dup(&mut self, id: &Text, file: &str) {
        if let Some(prev) = self.seen.insert(id.clone(), file.to_string()) {
            if prev != file {
                self.snap
                    .notes
                    .push(format!("{id}: defined in {prev} and {file}; using {file}"));
            }
        }
    }

    fn read_file(
        &mut self,
        file: &Path,
        explicit: bool,
        ranges: &mut Vec<IpRanges>,
        notes: &mut Vec<String>,
    ) -> Result<(), TopologyError> {
        let path = file.display().to_string();
        let bytes = std::fs::read(file).map_err(|e| TopologyError::Io {
            path: path.clone(),
            source: e,
        })?;
        self.read_bytes(file, &bytes, explicit, ranges, notes)
    }

    /// [`Self::read_file`] on bytes already read (`file` names them).
    fn read_bytes(
        &mut self,
        file: &Path,
        bytes: &[u8],
        explicit: bool,
        ranges: &mut Vec<IpRanges>,
        notes: &mut Vec<String>,
    ) -> Result<(), TopologyError> {
        let path = file.display().to_string();
        let value: Value = serde_json::from_slice(bytes).map_err(|e| TopologyError::Json {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let Value::Object(obj) = value else {
            if explicit {
                return Err(TopologyError::Unrecognised {
                    path,
                    members: "not an object".into(),
                });
            }
            notes.push(format!("{path}: skipped: not AWS CLI JSON"));
            return Ok(());
        };
        let p = path.as_str();
        let mut recognised = true;
        if obj.contains_key("Vpcs") {
            for (i, v) in items::<j::Vpc>(p, &obj, "Vpcs")?.into_iter().enumerate() {
                self.add_vpc(p, i, v)?;
            }
        } else if obj.contains_key("EnableDnsSupport") || obj.contains_key("EnableDnsHostnames") {
            let a = j::VpcAttribute::deserialize_from(p, &obj)?;
            let id = req(p, "", &a.vpc_id, "VpcId")?;
            let vpc = self.snap.vpcs.entry(id.clone()).or_insert_with(|| Vpc {
                id,
                ..Vpc::default()
            });
            if let Some(v) = a.enable_dns_support.and_then(|b| b.value) {
                vpc.dns_support = Some(v);
            }
            if let Some(v) = a.enable_dns_hostnames.and_then(|b| b.value) {
                vpc.dns_hostnames = Some(v);
            }
        } else if obj.contains_key("Subnets") {
            for (i, s) in items::<j::Subnet>(p, &obj, "Subnets")?
                .into_iter()
                .enumerate()
            {
                self.add_subnet(p, i, s)?;
            }
        } else if obj.contains_key("RouteTables") {
            for (i, r) in items::<j::RouteTable>(p, &obj, "RouteTables")?
                .into_iter()
                .enumerate()
            {
                self.add_route_table(p, i, r)?;
            }
        } else if obj.contains_key("InternetGateways") {
            for (i, g) in items::<j::InternetGateway>(p, &obj, "InternetGateways")?
                .into_iter()
                .enumerate()
            {
                let id = req(
                    p,
                    &format!("InternetGateways[{i}]"),
                    &g.internet_gateway_id,
                    "InternetGatewayId",
                )?;
                self.note_dup(&id, p);
                let vpc_ids = g
                    .attachments
                    .iter()
                    .filter_map(|a| a.vpc_id.as_deref().map(Text::from))
                    .collect();
                self.snap
                    .internet_gateways
                    .insert(id.clone(), InternetGateway { id, vpc_ids });
            }
        } else if obj.contains_key("NatGateways") {
            for (i, n) in items::<j::NatGateway>(p, &obj, "NatGateways")?
                .into_iter()
                .enumerate()
            {
                self.add_nat(p, i, n)?;
            }
        } else if obj.contains_key("Addresses") {
            for (i, a) in items::<j::Address>(p, &obj, "Addresses")?
                .into_iter()
                .enumerate()
            {
                self.add_address(p, i, a)?;
            }
        } else if obj.contains_key("VpcEndpoints") {
            for (i, e) in items::<j::VpcEndpoint>(p, &obj, "VpcEndpoints")?
                .into_iter()
                .enumerate()
            {
                self.add_endpoint(p, i, e)?;
            }
        } else if obj.contains_key("NetworkInterfaces") {
            for (i, n) in items::<j::NetworkInterface>(p, &obj, "NetworkInterfaces")?
                .into_iter()
                .enumerate()
            {
                let eni = convert_eni(p, &format!("NetworkInterfaces[{i}]"), &n, None)?;
                self.note_dup(&eni.id, p);
                self.snap.enis.insert(eni.id.clone(), eni);
            }
        } else if obj.contains_key("Reservations") {
            for (i, r) in items::<j::Reservation>(p, &obj, "Reservations")?
                .into_iter()
                .enumerate()
            {
                for (k, inst) in r.instances.into_iter().enumerate() {
                    self.add_instance(p, &format!("Reservations[{i}].Instances[{k}]"), inst)?;
                }
            }
        } else if obj.contains_key("PrefixLists") {
            for (i, pl) in items::<j::PrefixList>(p, &obj, "PrefixLists")?
                .into_iter()
                .enumerate()
            {
                self.add_prefix_list(p, i, pl)?;
            }
        } else if obj.contains_key("Entries") {
            let wrapped = match obj.get("PrefixListId") {
                Some(Value::String(s)) => Some(Text::from(s.as_str())),
                Some(_) => return Err(content(p, "PrefixListId".into(), "expected a string")),
                None => None,
            };
            let mut cidrs = Vec::new();
            for (i, e) in items::<j::PrefixListEntry>(p, &obj, "Entries")?
                .into_iter()
                .enumerate()
            {
                let c = req(p, &format!("Entries[{i}]"), &e.cidr, "Cidr")?;
                cidrs.push(net(p, format!("Entries[{i}].Cidr"), &c)?);
            }
            self.entries.push(PendingEntries {
                file: path.clone(),
                id: wrapped.or_else(|| pl_token(file)),
                tokens: file_tokens(file),
                cidrs,
            });
        } else if obj.contains_key("prefixes") || obj.contains_key("syncToken") {
            ranges.push(read_ip_ranges(p, &obj)?);
            return Ok(());
        } else if obj.contains_key("SnapshotTime") {
            let s = j::SnapshotInfo::deserialize_from(p, &obj)?;
            self.snapshot_time = time(p, "SnapshotTime".into(), &s.snapshot_time)?;
        } else {
            recognised = false;
        }
        if !recognised {
            let members = obj.keys().take(6).cloned().collect::<Vec<_>>().join(", ");
            if explicit {
                return Err(TopologyError::Unrecognised { path, members });
            }
            notes.push(format!(
                "{path}: skipped: not AWS CLI output privpath knows ({members})"
            ));
            return Ok(());
        }
        self.any = true;
        self.snap.files.push(path);
        Ok(())
    }

    fn add_vpc(&mut self, p: &str, i: usize, v: j::Vpc) -> Result<(), TopologyError> {
        let jp = format!("Vpcs[{i}]");
        let id = req(p, &jp, &v.vpc_id, "VpcId")?;
        self.note_dup(&id, p);
        let mut cidrs = Vec::new();
        if let Some(c) = &v.cidr_block {
            cidrs.push(net(p, format!("{jp}.CidrBlock"), c)?);
        }
        for (k, a) in v.cidr_block_association_set.iter().enumerate() {
            let disassociated = a
                .cidr_block_state
                .as_ref()
                .and_then(|s| s.state.as_deref())
                .is_some_and(|s| s.starts_with("disassociat"));
            if let (Some(c), false) = (&a.cidr_block, disassociated) {
                let n = net(p, format!("{jp}.CidrBlockAssociationSet[{k}].CidrBlock"), c)?;
                if !cidrs.contains(&n) {
                    cidrs.push(n);
                }
            }
        }
        for (k, a) in v.ipv6_cidr_block_association_set.iter().enumerate() {
            if let Some(c) = &a.ipv6_cidr_block {
                let n = net(
                    p,
                    format!("{jp}.Ipv6CidrBlockAssociationSet[{k}].Ipv6CidrBlock"),
                    c,
                )?;
                if !cidrs.contains(&n) {
                    cidrs.push(n);
                }
            }
        }
        let vpc = self.snap.vpcs.entry(id.clone()).or_insert_with(|| Vpc {
            id,
            ..Vpc::default()
        });
        vpc.cidrs = cidrs;
        vpc.name = name_tag(&v.tags);
        Ok(())
    }

    fn add_subnet(&mut self, p: &str, i: usize, s: j::Subnet) -> Result<(), TopologyError> {
        let jp = format!("Subnets[{i}]");
        let id = req(p, &jp, &s.subnet_id, "SubnetId")?;
        let vpc_id = req(p, &jp, &s.vpc_id, "VpcId")?;
        self.note_dup(&id, p);
        let mut cidrs = Vec::new();
        if let Some(c) = &s.cidr_block {
            cidrs.push(net(p, format!("{jp}.CidrBlock"), c)?);
        }
        for (k, a) in s.ipv6_cidr_block_association_set.iter().enumerate() {
            if let Some(c) = &a.ipv6_cidr_block {
                cidrs.push(net(
                    p,
                    format!("{jp}.Ipv6CidrBlockAssociationSet[{k}].Ipv6CidrBlock"),
                    c,
                )?);
            }
        }
        self.snap.subnets.insert(
            id.clone(),
            Subnet {
                id,
                vpc_id,
                cidrs,
                availability_zone: s.availability_zone.as_deref().map(Text::from),
                name: name_tag(&s.tags),
            },
        );
        Ok(())
    }

    fn add_route_table(
        &mut self,
        p: &str,
        i: usize,
        r: j::RouteTable,
    ) -> Result<(), TopologyError> {
        let jp = format!("RouteTables[{i}]");
        let id = req(p, &jp, &r.route_table_id, "RouteTableId")?;
        let vpc_id = req(p, &jp, &r.vpc_id, "VpcId")?;
        self.note_dup(&id, p);
        let mut main = false;
        let mut subnet_ids = Vec::new();
        for a in &r.associations {
            let gone = a
                .association_state
                .as_ref()
                .and_then(|s| s.state.as_deref())
                .is_some_and(|s| s.starts_with("disassociat") || s == "failed");
            if gone {
                continue;
            }
            if a.main == Some(true) {
                main = true;
            }
            if let Some(s) = &a.subnet_id {
                subnet_ids.push(Text::from(s.as_str()));
            }
        }
        let mut routes = Vec::new();
        for (k, rt) in r.routes.iter().enumerate() {
            routes.push(convert_route(p, &format!("{jp}.Routes[{k}]"), rt)?);
        }
        self.snap.route_tables.insert(
            id.clone(),
            RouteTable {
                id,
                vpc_id,
                main,
                subnet_ids,
                routes,
                name: name_tag(&r.tags),
            },
        );
        Ok(())
    }

    fn add_nat(&mut self, p: &str, i: usize, n: j::NatGateway) -> Result<(), TopologyError> {
        let jp = format!("NatGateways[{i}]");
        let id = req(p, &jp, &n.nat_gateway_id, "NatGatewayId")?;
        self.note_dup(&id, p);
        let mut nat = NatGateway {
            id: id.clone(),
            vpc_id: n.vpc_id.as_deref().map(Text::from).unwrap_or_default(),
            subnet_id: req(p, &jp, &n.subnet_id, "SubnetId")?,
            state: n.state.as_deref().map(Text::from),
            created: time(p, format!("{jp}.CreateTime"), &n.create_time)?,
            ..NatGateway::default()
        };
        for (k, a) in n.nat_gateway_addresses.iter().enumerate() {
            let ajp = format!("{jp}.NatGatewayAddresses[{k}]");
            if let Some(e) = &a.network_interface_id {
                nat.eni_ids.push(e.as_str().into());
            }
            if let Some(ip) = &a.private_ip {
                nat.private_ips
                    .push(addr(p, format!("{ajp}.PrivateIp"), ip)?);
            }
            if let Some(ip) = &a.public_ip {
                nat.public_ips.push(addr(p, format!("{ajp}.PublicIp"), ip)?);
            }
        }
        self.snap.nat_gateways.insert(id, nat);
        Ok(())
    }

    fn add_address(&mut self, p: &str, i: usize, a: j::Address) -> Result<(), TopologyError> {
        let jp = format!("Addresses[{i}]");
        let public = req(p, &jp, &a.public_ip, "PublicIp")?;
        let public_ip = addr(p, format!("{jp}.PublicIp"), &public)?;
        let private_ip = match a.private_ip_address.as_deref() {
            Some(s) if !s.is_empty() => Some(addr(p, format!("{jp}.PrivateIpAddress"), s)?),
            _ => None,
        };
        let text = |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(Text::from);
        self.snap.elastic_ips.insert(
            public_ip,
            ElasticIp {
                public_ip: Some(public_ip),
                allocation_id: text(&a.allocation_id),
                association_id: text(&a.association_id),
                instance_id: text(&a.instance_id),
                eni_id: text(&a.network_interface_id),
                private_ip,
            },
        );
        Ok(())
    }

    fn add_endpoint(&mut self, p: &str, i: usize, e: j::VpcEndpoint) -> Result<(), TopologyError> {
        let jp = format!("VpcEndpoints[{i}]");
        let id = req(p, &jp, &e.vpc_endpoint_id, "VpcEndpointId")?;
        let service_name = req(p, &jp, &e.service_name, "ServiceName")?;
        self.note_dup(&id, p);
        let (service, region) = split_service_name(&service_name);
        let kind = match e.vpc_endpoint_type.as_deref() {
            Some(t) if t.eq_ignore_ascii_case("gateway") => EndpointKind::Gateway,
            Some(t) if t.eq_ignore_ascii_case("interface") => EndpointKind::Interface,
            Some(t) if t.eq_ignore_ascii_case("gatewayloadbalancer") => {
                EndpointKind::GatewayLoadBalancer
            }
            Some(t) => EndpointKind::Other(t.into()),
            None => return Err(content(p, format!("{jp}.VpcEndpointType"), "missing")),
        };
        let ep = VpcEndpoint {
            id: id.clone(),
            kind,
            vpc_id: e.vpc_id.as_deref().map(Text::from).unwrap_or_default(),
            service_name,
            service,
            region: e.service_region.as_deref().map(Text::from).or(region),
            state: e.state.as_deref().map(Text::from),
            route_table_ids: e
                .route_table_ids
                .iter()
                .map(|s| Text::from(s.as_str()))
                .collect(),
            subnet_ids: e
                .subnet_ids
                .iter()
                .map(|s| Text::from(s.as_str()))
                .collect(),
            eni_ids: e
                .network_interface_ids
                .iter()
                .map(|s| Text::from(s.as_str()))
                .collect(),
            private_dns_enabled: e.private_dns_enabled,
            dns_names: e
                .dns_entries
                .iter()
                .filter_map(|d| {
                    d.dns_name
                        .as_deref()
                        .map(|n| Text::from(n.to_ascii_lowercase()))
                })
                .collect(),
            created: time(p, format!("{jp}.CreationTimestamp"), &e.creation_timestamp)?,
        };
        self.snap.endpoints.insert(id, ep);
        Ok(())
    }

    fn add_instance(&mut self, p: &str, jp: &str, inst: j::Instance) -> Result<(), TopologyError> {
        let id = req(p, jp, &inst.instance_id, "InstanceId")?;
        self.note_dup(&id, p);
        let terminated = inst
            .state
            .as_ref()
            .and_then(|s| s.name.as_deref())
            .is_some_and(|s| s == "terminated");
        let mut out = Instance {
            id: id.clone(),
            subnet_id: inst
                .subnet_id
                .as_deref()
                .map(Text::from)
                .unwrap_or_default(),
            vpc_id: inst.vpc_id.as_deref().map(Text::from).unwrap_or_default(),
            private_ip: match &inst.private_ip_address {
                Some(s) => Some(addr(p, format!("{jp}.PrivateIpAddress"), s)?),
                None => None,
            },
            public_ip: match &inst.public_ip_address {
                Some(s) if !s.is_empty() => Some(addr(p, format!("{jp}.PublicIpAddress"), s)?),
                _ => None,
            },
            launch_time: time(p, format!("{jp}.LaunchTime"), &inst.launch_time)?,
            name: name_tag(&inst.tags),
            ..Instance::default()
        };
        for (k, n) in inst.network_interfaces.iter().enumerate() {
            let mut eni = convert_eni(p, &format!("{jp}.NetworkInterfaces[{k}]"), n, Some(&id))?;
            if eni.subnet_id.is_empty() {
                eni.subnet_id = out.subnet_id.clone();
            }
            if eni.vpc_id.is_empty() {
                eni.vpc_id = out.vpc_id.clone();
            }
            out.eni_ids.push(eni.id.clone());
            if !terminated {
                self.instance_enis.push(eni);
            }
        }
        if !terminated {
            self.snap.instances.insert(id, out);
        }
        Ok(())
    }

    fn add_prefix_list(
        &mut self,
        p: &str,
        i: usize,
        pl: j::PrefixList,
    ) -> Result<(), TopologyError> {
        let jp = format!("PrefixLists[{i}]");
        let id = req(p, &jp, &pl.prefix_list_id, "PrefixListId")?;
        let entry = self
            .snap
            .prefix_lists
            .entry(id.clone())
            .or_insert_with(|| PrefixList {
                id,
                ..PrefixList::default()
            });
        if let Some(n) = &pl.prefix_list_name {
            entry.name = Some(n.as_str().into());
        }
        if let Some(o) = &pl.owner_id {
            entry.owner = Some(o.as_str().into());
        }
        if let Some(cidrs) = &pl.cidrs {
            let mut out = Vec::new();
            for (k, c) in cidrs.iter().enumerate() {
                out.push(net(p, format!("{jp}.Cidrs[{k}]"), c)?);
            }
            entry.cidrs = out;
            entry.entries_known = true;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Option<Snapshot>, TopologyError> {
        if !self.any {
            return Ok(None);
        }
        // Entries files: tie each to its list.
        for pe in std::mem::take(&mut self.entries) {
            let id = match pe.id {
                Some(id) => Some(id),
                None => {
                    let matches: Vec<&Text> = self
                        .snap
                        .prefix_lists
                        .values()
                        .filter(|pl| {
                            pl.service()
                                .is_some_and(|s| pe.tokens.iter().any(|t| t == s))
                        })
                        .map(|pl| &pl.id)
                        .collect();
                    match matches.as_slice() {
                        [one] => Some((*one).clone()),
                        _ => None,
                    }
                }
            };
            let Some(id) = id else {
                return Err(content(
                    &pe.file,
                    "Entries".into(),
                    format!(
                        "cannot tell which prefix list these entries belong to: {ENTRIES_FILE_HINT}"
                    ),
                ));
            };
            let pl = self
                .snap
                .prefix_lists
                .entry(id.clone())
                .or_insert_with(|| PrefixList {
                    id,
                    ..PrefixList::default()
                });
            pl.cidrs = pe.cidrs;
            pl.entries_known = true;
        }
        // ENIs known only from describe-instances.
        for eni in std::mem::take(&mut self.instance_enis) {
            self.snap.enis.entry(eni.id.clone()).or_insert(eni);
        }
        // ENI kinds: endpoint and NAT lists are authoritative.
        let mut owners: BTreeMap<Text, EniKind> = BTreeMap::new();
        for ep in self.snap.endpoints.values() {
            for e in &ep.eni_ids {
                owners.insert(e.clone(), EniKind::InterfaceEndpoint(ep.id.clone()));
            }
        }
        for nat in self.snap.nat_gateways.values() {
            for e in &nat.eni_ids {
                owners.insert(e.clone(), EniKind::NatGateway(nat.id.clone()));
            }
        }
        for inst in self.snap.instances.values() {
            for e in &inst.eni_ids {
                owners
                    .entry(e.clone())
                    .or_insert(EniKind::Instance(inst.id.clone()));
            }
        }
        for eni in self.snap.enis.values_mut() {
            if let Some(k) = owners.get(&eni.id) {
                eni.kind = k.clone();
            }
        }
        // NAT gateways without ENI ids in their own output: match by address.
        let nat_ips: Vec<(IpAddr, Text)> = self
            .snap
            .nat_gateways
            .values()
            .flat_map(|n| n.private_ips.iter().map(|ip| (*ip, n.id.clone())))
            .collect();
        for eni in self.snap.enis.values_mut() {
            if matches!(eni.kind, EniKind::Other(_)) {
                if let Some((_, nat)) = nat_ips.iter().find(|(ip, _)| eni.private_ips.contains(ip))
                {
                    eni.kind = EniKind::NatGateway(nat.clone());
                }
            }
        }
        // Snapshot time.
        if let Some(t) = self.snapshot_time {
            self.snap.time = Some(t);
            self.snap.time_source = SnapshotTimeSource::SnapshotFile;
        } else {
            let newest = self
                .snap
                .endpoints
                .values()
                .filter_map(|e| e.created)
                .chain(self.snap.nat_gateways.values().filter_map(|n| n.created))
                .chain(self.snap.instances.values().filter_map(|i| i.launch_time))
                .max();
            if let Some(t) = newest {
                self.snap.time = Some(t);
                self.snap.time_source = SnapshotTimeSource::NewestInside;
            }
        }
        Ok(Some(self.snap))
    }
}

trait FromObject: Sized {
    fn deserialize_from(path: &str, obj: &Map<String, Value>) -> Result<Self, TopologyError>;
}

impl<T: DeserializeOwned> FromObject for T {
    fn deserialize_from(path: &str, obj: &Map<String, Value>) -> Result<Self, TopologyError> {
        T::deserialize(Value::Object(obj.clone()))
            .map_err(|e| content(path, "$".into(), e.to_string()))
    }
}

fn convert_route(p: &str, jp: &str, r: &j::Route) -> Result<Route, TopologyError> {
    let destination = if let Some(c) = &r.destination_cidr_block {
        RouteDestination::Cidr(net(p, format!("{jp}.DestinationCidrBlock"), c)?)
    } else if let Some(c) = &r.destination_ipv6_cidr_block {
        RouteDestination::Cidr(net(p, format!("{jp}.DestinationIpv6CidrBlock"), c)?)
    } else if let Some(pl) = &r.destination_prefix_list_id {
        RouteDestination::PrefixList(pl.as_str().into())
    } else {
        return Err(content(
            p,
            jp.to_string(),
            "no destination (DestinationCidrBlock, DestinationIpv6CidrBlock or DestinationPrefixListId)",
        ));
    };
    let target = if let Some(g) = &r.gateway_id {
        RouteTarget::from_gateway_id(g)
    } else if let Some(n) = &r.nat_gateway_id {
        RouteTarget::NatGateway(n.as_str().into())
    } else if let Some(t) = &r.transit_gateway_id {
        RouteTarget::TransitGateway(t.as_str().into())
    } else if let Some(x) = &r.vpc_peering_connection_id {
        RouteTarget::VpcPeering(x.as_str().into())
    } else if let Some(x) = &r.egress_only_internet_gateway_id {
        RouteTarget::EgressOnlyInternetGateway(x.as_str().into())
    } else if let Some(x) = &r.network_interface_id {
        RouteTarget::NetworkInterface(x.as_str().into())
    } else if let Some(x) = &r.instance_id {
        RouteTarget::Instance(x.as_str().into())
    } else if let Some(x) = r
        .local_gateway_id
        .as_ref()
        .or(r.carrier_gateway_id.as_ref())
        .or(r.core_network_arn.as_ref())
    {
        RouteTarget::Other(x.as_str().into())
    } else {
        return Err(content(
            p,
            jp.to_string(),
            "no target (GatewayId, NatGatewayId, …)",
        ));
    };
    Ok(Route {
        destination,
        target,
        state: RouteState::parse(r.state.as_deref()),
        origin: r.origin.as_deref().map(Text::from),
    })
}

fn convert_eni(
    p: &str,
    jp: &str,
    n: &j::NetworkInterface,
    instance: Option<&Text>,
) -> Result<Eni, TopologyError> {
    let id = req(p, jp, &n.network_interface_id, "NetworkInterfaceId")?;
    let mut private_ips = Vec::new();
    let mut public_ips = Vec::new();
    if let Some(ip) = &n.private_ip_address {
        private_ips.push(addr(p, format!("{jp}.PrivateIpAddress"), ip)?);
    }
    for (k, a) in n.private_ip_addresses.iter().enumerate() {
        if let Some(ip) = &a.private_ip_address {
            let ip = addr(
                p,
                format!("{jp}.PrivateIpAddresses[{k}].PrivateIpAddress"),
                ip,
            )?;
            if !private_ips.contains(&ip) {
                private_ips.push(ip);
            }
        }
        if let Some(pub_ip) = a.association.as_ref().and_then(|a| a.public_ip.as_ref()) {
            let ip = addr(
                p,
                format!("{jp}.PrivateIpAddresses[{k}].Association.PublicIp"),
                pub_ip,
            )?;
            if !public_ips.contains(&ip) {
                public_ips.push(ip);
            }
        }
    }
    for (k, a) in n.ipv6_addresses.iter().enumerate() {
        if let Some(ip) = &a.ipv6_address {
            private_ips.push(addr(p, format!("{jp}.Ipv6Addresses[{k}].Ipv6Address"), ip)?);
        }
    }
    if let Some(pub_ip) = n.association.as_ref().and_then(|a| a.public_ip.as_ref()) {
        let ip = addr(p, format!("{jp}.Association.PublicIp"), pub_ip)?;
        if !public_ips.contains(&ip) {
            public_ips.push(ip);
        }
    }
    let itype = n.interface_type.as_deref().unwrap_or("interface");
    let desc = n.description.as_deref().unwrap_or_default();
    let kind = if let Some(i) = instance.cloned().or_else(|| {
        n.attachment
            .as_ref()
            .and_then(|a| a.instance_id.as_deref())
            .map(Text::from)
    }) {
        EniKind::Instance(i)
    } else if let Some(v) = desc.strip_prefix("VPC Endpoint Interface ") {
        EniKind::InterfaceEndpoint(v.trim().into())
    } else if let Some(v) = desc.strip_prefix("Interface for NAT Gateway ") {
        EniKind::NatGateway(v.trim().into())
    } else {
        EniKind::Other(itype.into())
    };
    Ok(Eni {
        id,
        kind,
        subnet_id: n.subnet_id.as_deref().map(Text::from).unwrap_or_default(),
        vpc_id: n.vpc_id.as_deref().map(Text::from).unwrap_or_default(),
        private_ips,
        public_ips,
        description: n.description.clone().filter(|d| !d.is_empty()),
        interface_type: n.interface_type.as_deref().map(Text::from),
    })
}

fn read_ip_ranges(p: &str, obj: &Map<String, Value>) -> Result<IpRanges, TopologyError> {
    let mut out = IpRanges {
        file: p.to_string(),
        sync_token: obj
            .get("syncToken")
            .and_then(Value::as_str)
            .map(str::to_string),
        create_date: obj
            .get("createDate")
            .and_then(Value::as_str)
            .map(str::to_string),
        prefixes: Vec::new(),
    };
    for key in ["prefixes", "ipv6_prefixes"] {
        for (i, e) in items::<j::IpRangePrefix>(p, obj, key)?
            .into_iter()
            .enumerate()
        {
            let jp = format!("{key}[{i}]");
            let (cidr, member) = match (&e.ip_prefix, &e.ipv6_prefix) {
                (Some(c), _) => (c, "ip_prefix"),
                (None, Some(c)) => (c, "ipv6_prefix"),
                (None, None) => return Err(content(p, format!("{jp}.ip_prefix"), "missing")),
            };
            let prefix = net(p, format!("{jp}.{member}"), cidr)?;
            out.prefixes.push(IpRangePrefix {
                prefix,
                service: req(p, &jp, &e.service, "service")?,
                region: e.region.as_deref().map(Text::from).unwrap_or_default(),
            });
        }
    }
    Ok(out)
}
