//! The topology flattened into tables a SQL engine can join
//! (`privpath topology export`): one [`Table`] per kind of fact, each
//! written as one CSV or Parquet file named after the table.
//!
//! Addresses are compared as **keys**: the 16-byte IPv6 form of the
//! address (IPv4 as `::ffff:a.b.c.d`) in 32 upper-case hex digits, so a
//! string comparison is a numeric one in every dialect
//! (`key BETWEEN first_key AND last_key`), together with the `family`
//! (4 or 6: `0.0.0.0/0` and `::/0` must not cover each other). Range
//! tables without an id to join on (prefix lists, ip-ranges) also carry a
//! `bucket`: the first byte of the range (the first octet for IPv4), one
//! row per bucket a short prefix spans, so engines join on an equality.
//!
//! What the native index decides when it is built is decided here the same
//! way, from the same [`TopologyIndex`]: route priority for identical
//! destinations (`priority`, the index's order), routes shadowed by a
//! `local` route (left out), the validity window of gateway-endpoint routes
//! and interface-endpoint ENIs (`valid_from_ms`), the subnet's route table
//! with the main-table fallback, the ENI that owns an address, the
//! ip-ranges class order. The SQL ([`crate::sql`]) does the rest per flow:
//! longest-prefix match, time, role, service attribution, reply pairing.

use std::net::IpAddr;

use ipnet::IpNet;

use super::index::{EniRole, TimeGate, TopologyIndex};
use super::{EndpointKind, Snapshot, Topology};

/// A column's type (the same in every dialect's DDL and in Parquet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    Str,
    /// 64-bit signed.
    Int,
    Bool,
}

/// One cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    Null,
    Str(String),
    Int(i64),
    Bool(bool),
}

impl From<&str> for Val {
    fn from(s: &str) -> Val {
        Val::Str(s.to_owned())
    }
}

impl From<String> for Val {
    fn from(s: String) -> Val {
        Val::Str(s)
    }
}

impl From<i64> for Val {
    fn from(n: i64) -> Val {
        Val::Int(n)
    }
}

impl From<bool> for Val {
    fn from(b: bool) -> Val {
        Val::Bool(b)
    }
}

impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(v: Option<T>) -> Val {
        v.map_or(Val::Null, Into::into)
    }
}

/// One exported table: its name (the file's stem), columns and rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, ColType)],
    pub rows: Vec<Vec<Val>>,
}

impl Table {
    fn new(name: &'static str, columns: &'static [(&'static str, ColType)]) -> Table {
        Table {
            name,
            columns,
            rows: Vec::new(),
        }
    }

    fn push(&mut self, row: Vec<Val>) {
        debug_assert_eq!(row.len(), self.columns.len(), "{}", self.name);
        self.rows.push(row);
    }
}

use ColType::{Bool as B, Int as I, Str as S};

/// The snapshots and the flow times each one answers for:
/// `valid_from_ms <= t < valid_until_ms` (a flow without a time uses the last).
pub const SNAPSHOTS: &[(&str, ColType)] = &[
    ("snapshot", I),
    ("dir", S),
    ("time_ms", I),
    ("valid_from_ms", I),
    ("valid_until_ms", I),
];

/// Every ENI: what it is, its subnet and that subnet's route table, and the
/// host it belongs to (an instance with all its ENIs and addresses, else
/// the ENI itself): its primary ENI, address and subnet, and every one of
/// them space-separated (the primary first).
pub const ENIS: &[(&str, ColType)] = &[
    ("snapshot", I),
    ("eni_id", S),
    ("role", S),
    ("instance_id", S),
    ("endpoint_id", S),
    ("nat_gateway_id", S),
    ("subnet_id", S),
    ("vpc_id", S),
    ("route_table_id", S),
    ("interface_type", S),
    ("valid_from_ms", I),
    ("host_instance_id", S),
    ("host_eni", S),
    ("host_address", S),
    ("host_subnet_id", S),
    ("host_enis", S),
    ("host_addresses", S),
    ("host_subnet_ids", S),
];

/// One row per address of an ENI (private and public), with the ENI's facts.
/// `is_owner`: this ENI answers for the address (the first ENI by id when two
/// list it, as the native index decides).
pub const HOSTS: &[(&str, ColType)] = &[
    ("snapshot", I),
    ("address", S),
    ("address_key", S),
    ("family", I),
    ("is_private", B),
    ("is_owner", B),
    ("eni_id", S),
    ("role", S),
    ("instance_id", S),
    ("endpoint_id", S),
    ("nat_gateway_id", S),
    ("subnet_id", S),
    ("vpc_id", S),
    ("route_table_id", S),
    ("interface_type", S),
    ("valid_from_ms", I),
    ("host_instance_id", S),
    ("host_eni", S),
    ("host_address", S),
    ("host_subnet_id", S),
    ("host_enis", S),
    ("host_addresses", S),
    ("host_subnet_ids", S),
];

/// Routes of every table, prefix-list routes expanded to one row per CIDR,
/// routes inside a `local` route's CIDR left out (local always wins there).
/// `priority` orders identical destinations (lower wins); `path` is the
/// path the target means.
pub const ROUTES: &[(&str, ColType)] = &[
    ("snapshot", I),
    ("route_table_id", S),
    ("vpc_id", S),
    ("destination", S),
    ("cidr", S),
    ("family", I),
    ("first_address", S),
    ("last_address", S),
    ("first_key", S),
    ("last_key", S),
    ("prefix_len", I),
    ("target_kind", S),
    ("target_id", S),
    ("path", S),
    ("blackhole", B),
    ("valid_from_ms", I),
    ("gate_endpoint_id", S),
    ("priority", I),
];

/// Which table a subnet uses (`main`: no explicit association, the VPC's main table).
pub const SUBNET_ROUTE_TABLES: &[(&str, ColType)] = &[
    ("snapshot", I),
    ("subnet_id", S),
    ("vpc_id", S),
    ("route_table_id", S),
    ("main", B),
];

pub const ENDPOINTS: &[(&str, ColType)] = &[
    ("snapshot", I),
    ("endpoint_id", S),
    ("type", S),
    ("service", S),
    ("service_name", S),
    ("region", S),
    ("private_dns_enabled", B),
    ("dns_names", S),
    ("valid_from_ms", I),
];

pub const NAT_GATEWAYS: &[(&str, ColType)] = &[
    ("snapshot", I),
    ("nat_gateway_id", S),
    ("subnet_id", S),
    ("vpc_id", S),
    ("route_table_id", S),
    ("eni_id", S),
    ("address", S),
    ("address_kind", S),
];

/// Entries of AWS-managed prefix lists that name a service.
pub const PREFIX_LIST_ENTRIES: &[(&str, ColType)] = &[
    ("snapshot", I),
    ("prefix_list_id", S),
    ("service", S),
    ("cidr", S),
    ("family", I),
    ("bucket", S),
    ("first_key", S),
    ("last_key", S),
    ("prefix_len", I),
    ("priority", I),
];

/// ip-ranges.json prefixes. `class_rank`: S3/DYNAMODB 0, other services 1,
/// EC2 2, AMAZON 3 — the first class with a match decides, then the longest
/// prefix; `service` is privpath's name for the label (`AMAZON`/`EC2` → `aws`).
pub const AWS_RANGES: &[(&str, ColType)] = &[
    ("prefix", S),
    ("family", I),
    ("bucket", S),
    ("first_key", S),
    ("last_key", S),
    ("prefix_len", I),
    ("ip_ranges_service", S),
    ("region", S),
    ("service", S),
    ("class_rank", I),
    ("priority", I),
];

/// VPC CIDRs and the Amazon-provided resolver of each (base + 2, IPv4).
pub const VPC_CIDRS: &[(&str, ColType)] = &[
    ("snapshot", I),
    ("vpc_id", S),
    ("cidr", S),
    ("family", I),
    ("first_key", S),
    ("last_key", S),
    ("resolver_key", S),
];

/// The table names, in the order they are written.
pub const TABLE_NAMES: [&str; 10] = [
    "snapshots",
    "enis",
    "hosts",
    "routes",
    "subnet_route_tables",
    "endpoints",
    "nat_gateways",
    "prefix_list_entries",
    "aws_ranges",
    "vpc_cidrs",
];

/// `valid_until_ms` of the last snapshot, and the time a flow without one
/// is placed at (it uses the latest snapshot).
pub const TIME_MAX: i64 = i64::MAX;
/// `valid_from_ms` of the first snapshot.
pub const TIME_MIN: i64 = i64::MIN;

/// The 32-hex-digit key of an address (IPv4 as IPv4-mapped IPv6).
pub fn addr_key(a: IpAddr) -> String {
    let v6 = match a {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    };
    format!("{:032X}", u128::from(v6))
}

fn family(n: &IpNet) -> i64 {
    match n {
        IpNet::V4(_) => 4,
        IpNet::V6(_) => 6,
    }
}

fn family_of(a: IpAddr) -> i64 {
    match a {
        IpAddr::V4(_) => 4,
        IpAddr::V6(_) => 6,
    }
}

/// The first byte of an address as two hex digits (the octet for IPv4).
fn bucket_of(a: IpAddr) -> u8 {
    match a {
        IpAddr::V4(v) => v.octets()[0],
        IpAddr::V6(v) => v.octets()[0],
    }
}

/// Every bucket a network spans.
fn buckets(n: &IpNet) -> std::ops::RangeInclusive<u8> {
    let n = n.trunc();
    bucket_of(n.network())..=bucket_of(n.broadcast())
}

fn gate_ms(g: TimeGate) -> Option<i64> {
    match g {
        TimeGate::Always => None,
        TimeGate::From(t) => Some(t),
    }
}

fn role_name(r: &EniRole) -> &'static str {
    match r {
        EniRole::Instance(_) => "instance",
        EniRole::InterfaceEndpoint(_) => "interface-endpoint",
        EniRole::NatGateway(_) => "nat-gateway",
        EniRole::Other => "other",
    }
}

fn target_kind_name(k: super::TargetKind) -> &'static str {
    use super::TargetKind as K;
    match k {
        K::Local => "local",
        K::InternetGateway => "internet-gateway",
        K::EgressOnlyInternetGateway => "egress-only-internet-gateway",
        K::GatewayEndpoint => "gateway-endpoint",
        K::NatGateway => "nat-gateway",
        K::VpcPeering => "vpc-peering",
        K::TransitGateway => "transit-gateway",
        K::VirtualPrivateGateway => "virtual-private-gateway",
        K::NetworkInterface => "network-interface",
        K::Instance => "instance",
        K::Other => "other",
    }
}

fn endpoint_type(k: &EndpointKind) -> String {
    match k {
        EndpointKind::Gateway => "Gateway".to_owned(),
        EndpointKind::Interface => "Interface".to_owned(),
        EndpointKind::GatewayLoadBalancer => "GatewayLoadBalancer".to_owned(),
        EndpointKind::Other(s) => s.to_string(),
    }
}

fn i64_of(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Flatten a loaded topology (and its index, built once from it) into the tables.
pub fn export(topo: &Topology, index: &TopologyIndex) -> Vec<Table> {
    let mut snapshots = Table::new("snapshots", SNAPSHOTS);
    let mut enis = Table::new("enis", ENIS);
    let mut hosts = Table::new("hosts", HOSTS);
    let mut routes = Table::new("routes", ROUTES);
    let mut subnets = Table::new("subnet_route_tables", SUBNET_ROUTE_TABLES);
    let mut endpoints = Table::new("endpoints", ENDPOINTS);
    let mut nats = Table::new("nat_gateways", NAT_GATEWAYS);
    let mut pls = Table::new("prefix_list_entries", PREFIX_LIST_ENTRIES);
    let mut ranges = Table::new("aws_ranges", AWS_RANGES);
    let mut vpcs = Table::new("vpc_cidrs", VPC_CIDRS);

    let snaps = index.snapshots();
    for (si, snap) in snaps.iter().enumerate() {
        let sid = i64_of(si);
        // The index orders snapshots as `snapshot_at` picks them: a flow at
        // `t` uses the latest taken at or before `t`, else the first.
        let from = if si == 0 {
            TIME_MIN
        } else {
            snap.time.unwrap_or(TIME_MIN)
        };
        let until = match snaps.get(si + 1) {
            Some(next) => next.time.unwrap_or(TIME_MIN),
            None => TIME_MAX,
        };
        snapshots.push(vec![
            sid.into(),
            snap.dir.as_str().into(),
            snap.time.into(),
            from.into(),
            until.into(),
        ]);
        let raw: Option<&Snapshot> = topo.snapshots.iter().find(|s| s.dir == snap.dir);
        let rt_id = |i: Option<u32>| {
            i.and_then(|i| snap.route_table(i))
                .map(|r| r.id.to_string())
        };

        // ENIs and their addresses.
        let mut owned: std::collections::HashSet<IpAddr> = std::collections::HashSet::new();
        for e in &snap.enis {
            let (instance, endpoint, nat) = match &e.role {
                EniRole::Instance(i) => (Some(i.to_string()), None, None),
                EniRole::InterfaceEndpoint(v) => (None, Some(v.to_string()), None),
                EniRole::NatGateway(n) => (None, None, Some(n.to_string())),
                EniRole::Other => (None, None, None),
            };
            let raw_eni = raw.and_then(|s| s.enis.get(&e.id));
            let itype = raw_eni.and_then(|r| r.interface_type.as_ref().map(|t| t.to_string()));
            let attrs = |row: &mut Vec<Val>| {
                row.extend([
                    e.id.as_str().into(),
                    role_name(&e.role).into(),
                    Val::from(instance.clone()),
                    Val::from(endpoint.clone()),
                    Val::from(nat.clone()),
                    e.subnet_id.as_str().into(),
                    e.vpc_id.as_str().into(),
                    Val::from(rt_id(e.route_table)),
                    Val::from(itype.clone()),
                    Val::from(gate_ms(e.gate)),
                ]);
                let h = index.host_of(e);
                let join = |v: Vec<String>| Val::from(Some(v.join(" ")).filter(|s| !s.is_empty()));
                row.extend([
                    Val::from(
                        h.and_then(|h| h.instance_id.as_ref())
                            .map(|i| i.to_string()),
                    ),
                    Val::from(h.and_then(|h| h.enis.first()).map(|i| i.to_string())),
                    Val::from(h.and_then(|h| h.addrs.first()).map(|a| a.to_string())),
                    Val::from(h.and_then(|h| h.subnets.first()).map(|i| i.to_string())),
                    join(
                        h.map(|h| h.enis.iter().map(|x| x.to_string()).collect())
                            .unwrap_or_default(),
                    ),
                    join(
                        h.map(|h| h.addrs.iter().map(|x| x.to_string()).collect())
                            .unwrap_or_default(),
                    ),
                    join(
                        h.map(|h| h.subnets.iter().map(|x| x.to_string()).collect())
                            .unwrap_or_default(),
                    ),
                ]);
            };
            let mut row = vec![sid.into()];
            attrs(&mut row);
            enis.push(row);
            let private = raw_eni.map_or(e.addrs.clone(), |r| r.private_ips.clone());
            let public = raw_eni.map(|r| r.public_ips.clone()).unwrap_or_default();
            let all = private
                .iter()
                .map(|a| (*a, true))
                .chain(public.iter().map(|a| (*a, false)));
            for (a, is_private) in all {
                // The first ENI (by id) listing an address owns it.
                let owner = owned.insert(a);
                let mut row = vec![
                    sid.into(),
                    a.to_string().into(),
                    addr_key(a).into(),
                    family_of(a).into(),
                    is_private.into(),
                    owner.into(),
                ];
                attrs(&mut row);
                hosts.push(row);
            }
        }

        // Routes, in the index's priority order.
        for rt in &snap.route_tables {
            let local: Vec<IpNet> = rt
                .entries
                .iter()
                .filter(|e| e.target == super::RouteTarget::Local)
                .map(|e| e.cidr.trunc())
                .collect();
            for (prio, e) in rt.entries.iter().enumerate() {
                let cidr = e.cidr.trunc();
                let shadowed = e.target != super::RouteTarget::Local
                    && local.iter().any(|l| l.contains(&cidr));
                if shadowed {
                    continue;
                }
                let kind = e.target.kind();
                let path = crate::classify::rules::path_of_kind(kind);
                routes.push(vec![
                    sid.into(),
                    rt.id.as_str().into(),
                    rt.vpc_id.as_str().into(),
                    e.destination.to_string().into(),
                    cidr.to_string().into(),
                    family(&cidr).into(),
                    cidr.network().to_string().into(),
                    cidr.broadcast().to_string().into(),
                    addr_key(cidr.network()).into(),
                    addr_key(cidr.broadcast()).into(),
                    i64::from(cidr.prefix_len()).into(),
                    target_kind_name(kind).into(),
                    e.target.id().into(),
                    path.as_str().into(),
                    e.blackhole.into(),
                    Val::from(gate_ms(e.gate)),
                    Val::from(e.gate_endpoint.as_ref().map(|g| g.to_string())),
                    i64_of(prio).into(),
                ]);
            }
        }

        if let Some(raw) = raw {
            for s in raw.subnets.values() {
                let rt = raw.route_table_of_subnet(&s.id);
                subnets.push(vec![
                    sid.into(),
                    s.id.as_str().into(),
                    s.vpc_id.as_str().into(),
                    Val::from(rt.map(|r| r.id.to_string())),
                    raw.subnet_uses_main(&s.id).into(),
                ]);
            }
            for n in raw.nat_gateways.values() {
                let rt = snap
                    .nat_gateways
                    .get(&n.id)
                    .and_then(|i| rt_id(i.route_table));
                let eni = n.eni_ids.first().map(|e| e.to_string());
                let addrs = n
                    .private_ips
                    .iter()
                    .map(|a| (a, "private"))
                    .chain(n.public_ips.iter().map(|a| (a, "public")));
                for (a, kind) in addrs {
                    nats.push(vec![
                        sid.into(),
                        n.id.as_str().into(),
                        n.subnet_id.as_str().into(),
                        n.vpc_id.as_str().into(),
                        Val::from(rt.clone()),
                        Val::from(eni.clone()),
                        a.to_string().into(),
                        kind.into(),
                    ]);
                }
            }
            // Managed prefix lists naming a service, in the index's order.
            let mut prio = 0i64;
            for pl in raw.prefix_lists.values() {
                let Some(svc) = pl.service() else { continue };
                for c in &pl.cidrs {
                    let c = c.trunc();
                    for b in buckets(&c) {
                        pls.push(vec![
                            sid.into(),
                            pl.id.as_str().into(),
                            svc.into(),
                            c.to_string().into(),
                            family(&c).into(),
                            format!("{b:02X}").into(),
                            addr_key(c.network()).into(),
                            addr_key(c.broadcast()).into(),
                            i64::from(c.prefix_len()).into(),
                            prio.into(),
                        ]);
                    }
                    prio += 1;
                }
            }
            for v in raw.vpcs.values() {
                for c in &v.cidrs {
                    let c = c.trunc();
                    let resolver = match c.network() {
                        IpAddr::V4(n) => u32::from(n)
                            .checked_add(2)
                            .map(|r| addr_key(IpAddr::V4(r.into()))),
                        IpAddr::V6(_) => None,
                    };
                    vpcs.push(vec![
                        sid.into(),
                        v.id.as_str().into(),
                        c.to_string().into(),
                        family(&c).into(),
                        addr_key(c.network()).into(),
                        addr_key(c.broadcast()).into(),
                        Val::from(resolver),
                    ]);
                }
            }
        }
        for ep in &snap.endpoints {
            endpoints.push(vec![
                sid.into(),
                ep.id.as_str().into(),
                endpoint_type(&ep.kind).into(),
                ep.service.as_str().into(),
                ep.service_name.as_str().into(),
                Val::from(ep.region.as_ref().map(|r| r.to_string())),
                Val::from(ep.private_dns_enabled),
                ep.dns_names
                    .iter()
                    .map(|d| d.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
                    .into(),
                Val::from(gate_ms(ep.gate)),
            ]);
        }
    }

    if let Some(r) = &topo.ip_ranges {
        for (prio, p) in r.prefixes.iter().enumerate() {
            let c = p.prefix.trunc();
            for b in buckets(&c) {
                ranges.push(vec![
                    c.to_string().into(),
                    family(&c).into(),
                    format!("{b:02X}").into(),
                    addr_key(c.network()).into(),
                    addr_key(c.broadcast()).into(),
                    i64::from(c.prefix_len()).into(),
                    p.service.as_str().into(),
                    p.region.as_str().into(),
                    super::service_of_label(&p.service).as_str().into(),
                    i64_of(super::index::ip_service_rank(&p.service)).into(),
                    i64_of(prio).into(),
                ]);
            }
        }
    }
    vec![
        snapshots, enis, hosts, routes, subnets, endpoints, nats, pls, ranges, vpcs,
    ]
}

// ---- writers ------------------------------------------------------------------

fn csv_cell(out: &mut String, v: &Val) {
    match v {
        Val::Null => {}
        Val::Int(n) => out.push_str(&n.to_string()),
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Str(s) => {
            if s.contains([',', '"', '\n', '\r']) || s.is_empty() {
                out.push('"');
                out.push_str(&s.replace('"', "\"\""));
                out.push('"');
            } else {
                out.push_str(s);
            }
        }
    }
}

/// The table as CSV: a header line, then one line per row; an empty cell is null.
pub fn to_csv(t: &Table) -> Vec<u8> {
    let mut out = String::new();
    let names: Vec<&str> = t.columns.iter().map(|(n, _)| *n).collect();
    out.push_str(&names.join(","));
    out.push('\n');
    for row in &t.rows {
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            csv_cell(&mut out, v);
        }
        out.push('\n');
    }
    out.into_bytes()
}

/// The table as Parquet (Snappy): strings, INT64 and BOOLEAN columns.
pub fn to_parquet(t: &Table) -> Result<Vec<u8>, String> {
    use polars::prelude::{
        Column as PlColumn, DataFrame, NamedFrom, ParquetCompression, ParquetWriter, Series,
    };
    let mut cols: Vec<PlColumn> = Vec::with_capacity(t.columns.len());
    for (j, (name, ty)) in t.columns.iter().enumerate() {
        let cells = t.rows.iter().map(|r| r.get(j).unwrap_or(&Val::Null));
        let s = match ty {
            ColType::Str => Series::new(
                (*name).into(),
                cells
                    .map(|v| match v {
                        Val::Str(s) => Some(s.clone()),
                        _ => None,
                    })
                    .collect::<Vec<Option<String>>>(),
            ),
            ColType::Int => Series::new(
                (*name).into(),
                cells
                    .map(|v| match v {
                        Val::Int(n) => Some(*n),
                        _ => None,
                    })
                    .collect::<Vec<Option<i64>>>(),
            ),
            ColType::Bool => Series::new(
                (*name).into(),
                cells
                    .map(|v| match v {
                        Val::Bool(b) => Some(*b),
                        _ => None,
                    })
                    .collect::<Vec<Option<bool>>>(),
            ),
        };
        cols.push(s.into());
    }
    let mut df = DataFrame::new(t.rows.len(), cols).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    ParquetWriter::new(&mut out)
        .with_compression(ParquetCompression::Snappy)
        .finish(&mut df)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn keys_compare_as_the_addresses_do() {
        let a: IpAddr = "10.0.0.9".parse().unwrap();
        let b: IpAddr = "10.0.0.10".parse().unwrap();
        assert_eq!(addr_key(a), "00000000000000000000FFFF0A000009");
        assert!(addr_key(a) < addr_key(b));
        let c: IpAddr = "2600:1f18::1".parse().unwrap();
        assert_eq!(addr_key(c), "26001F18000000000000000000000001");
    }

    #[test]
    fn short_prefixes_span_every_bucket() {
        let n: IpNet = "0.0.0.0/0".parse().unwrap();
        assert_eq!(buckets(&n).count(), 256);
        let n: IpNet = "52.219.60.0/23".parse().unwrap();
        assert_eq!(buckets(&n).collect::<Vec<_>>(), vec![52]);
        let n: IpNet = "2406:da00::/24".parse().unwrap();
        assert_eq!(buckets(&n).collect::<Vec<_>>(), vec![0x24]);
    }

    #[test]
    fn csv_quotes_what_needs_it_and_leaves_nulls_empty() {
        let mut t = Table::new("t", &[("a", ColType::Str), ("b", ColType::Int)]);
        t.push(vec!["x,\"y\"".into(), Val::Null]);
        assert_eq!(
            String::from_utf8(to_csv(&t)).unwrap(),
            "a,b\n\"x,\"\"y\"\"\",\n"
        );
    }
}
