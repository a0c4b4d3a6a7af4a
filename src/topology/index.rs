//! [`TopologyIndex`]: the topology resolved once into lookup tables.
//!
//! Longest-prefix matching is done on the flattened tables of
//! [`super::lpm`]; each route table, the snapshot's prefix lists with
//! ip-ranges, and each time-rule epoch with the latest are merged so that
//! one lookup answers each question.
//!
//! Route priority for identical destinations (independent of route order):
//! `local`, then static CIDR routes, then prefix-list routes, then propagated
//! routes; ties by target id. Destinations inside a `local` route's CIDR
//! always take the local route. Blackhole routes take part in the match and
//! are reported as such (no fallback to a shorter route).
//!
//! Time: a gateway endpoint's routes and an interface endpoint's ENIs count
//! only from the endpoint's `CreationTimestamp` on. Each route table keeps
//! one flattened table per "epoch" (before the first endpoint creation, after
//! it, …) and a lookup picks the epoch of the flow's time.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;

pub(crate) use super::keys::FxMap;
use super::keys::{AddrKey, IdKey};
use super::lpm::{LpmTable, NONE, PairTable, v4_bounds, v6_bounds};
use super::routes::RtIndex;

use super::{EndpointKind, EniKind, IpRanges, Snapshot, Text, Topology};

// ---- the index -----------------------------------------------------------------

/// Unix milliseconds.
pub type Millis = i64;

/// When a route or an ENI starts to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeGate {
    Always,
    /// From the endpoint's creation (Unix milliseconds) on.
    From(Millis),
}

impl TimeGate {
    #[inline]
    pub fn open_at(self, t: Option<Millis>) -> bool {
        match (self, t) {
            (TimeGate::Always, _) | (TimeGate::From(_), None) => true,
            (TimeGate::From(c), Some(t)) => t >= c,
        }
    }
}

/// What an ENI is, for classification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EniRole {
    Instance(Text),
    InterfaceEndpoint(Text),
    NatGateway(Text),
    Other,
}

#[derive(Debug, Clone)]
pub struct EniInfo {
    pub id: Text,
    pub role: EniRole,
    pub subnet_id: Text,
    pub vpc_id: Text,
    pub addrs: Vec<IpAddr>,
    /// The route table of its subnet (explicit association, else main).
    pub route_table: Option<u32>,
    /// Interface-endpoint ENIs count from the endpoint's creation.
    pub gate: TimeGate,
    /// Index into the snapshot's endpoints.
    pub endpoint: Option<u32>,
    /// The host it belongs to: index into [`TopologyIndex::hosts`].
    pub host: Option<u32>,
}

/// A host: an instance with every ENI and address it has in any snapshot,
/// or an ENI that belongs to no instance. A dual-stack instance is one host
/// with its IPv4 and IPv6 addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostInfo {
    pub instance_id: Option<Text>,
    /// The ENI holding the primary address first, then the others by id.
    pub enis: Vec<Text>,
    /// The primary private address first, then the others sorted (IPv4
    /// before IPv6).
    pub addrs: Vec<IpAddr>,
    /// The primary ENI's subnet first, then the others by id.
    pub subnets: Vec<Text>,
}

#[derive(Debug, Clone)]
pub struct EndpointInfo {
    pub id: Text,
    pub kind: EndpointKind,
    pub service: Text,
    pub service_name: Text,
    pub region: Option<Text>,
    pub gate: TimeGate,
    pub private_dns_enabled: Option<bool>,
    pub default_name: Option<String>,
    pub eni_addrs: Vec<IpAddr>,
    pub dns_names: Vec<Text>,
}

#[derive(Debug, Clone)]
pub struct NatInfo {
    pub id: Text,
    pub subnet_id: Text,
    /// The route table of the NAT's own subnet (its onward route is evidence).
    pub route_table: Option<u32>,
}

/// One CIDR of an AWS-managed prefix list that names a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct PrefixListEntry {
    pub id: Text,
    /// `s3`, `dynamodb`.
    pub service: Text,
    pub cidr: IpNet,
}

/// One prefix of ip-ranges.json.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct IpRangeEntry {
    /// The ip-ranges label (`S3`, `AMAZON`, `EC2`).
    pub service: Text,
    pub region: Text,
    pub prefix: IpNet,
    /// The privpath service the label means ([`super::service_of_label`]).
    pub label: Text,
}

/// One snapshot, resolved.
#[derive(Debug, Clone)]
pub struct SnapshotIndex {
    pub time: Option<Millis>,
    pub dir: String,
    pub route_tables: Vec<RtIndex>,
    pub enis: Vec<EniInfo>,
    pub endpoints: Vec<EndpointInfo>,
    pub nat_gateways: FxMap<Text, NatInfo>,
    pub vpc_cidrs: Vec<IpNet>,
    /// ENIs by id: ids of up to 24 bytes (all AWS ids) by [`IdKey`],
    /// longer ones by text.
    eni_by_id: FxMap<IdKey, u32>,
    eni_by_long_id: FxMap<Text, u32>,
    /// The same keys sorted, for snapshots of up to [`FEW_ENIS`] ENIs (a
    /// binary search over a cache line or two beats the hash probe).
    few_eni_ids: Vec<(IdKey, u32)>,
    eni_by_addr: FxMap<AddrKey, u32>,
    /// The addresses of interface-endpoint ENIs, sorted (few per VPC):
    /// "is this destination an endpoint?" without a hash probe.
    endpoint_eni_addrs: Vec<(AddrKey, u32)>,
    pl_table: LpmTable,
    pl_entries: Vec<PrefixListEntry>,
    /// `pl_table` and the index's ip-ranges table merged: one lookup gives
    /// (prefix-list entry, ip-ranges prefix).
    aws: PairTable,
}

/// Snapshots with at most this many ENIs look ids up by binary search.
const FEW_ENIS: usize = 16;

/// The last interface id looked up by [`SnapshotIndex::eni_memo`] and its
/// answer: consecutive flow-log records mostly share their interface (a
/// CloudWatch log stream is one ENI's), so the next lookup is one compare.
#[derive(Debug, Clone, Copy, Default)]
pub struct EniMemo<'a>(Option<(&'a SnapshotIndex, IdKey, Option<&'a EniInfo>)>);

impl SnapshotIndex {
    #[inline]
    pub fn eni(&self, id: &str) -> Option<&EniInfo> {
        match IdKey::new(id) {
            Some(k) => self.eni_by_key(k),
            None => self
                .eni_by_long_id
                .get(id)
                .and_then(|&i| self.enis.get(i as usize)),
        }
    }

    /// [`SnapshotIndex::eni`], answered from `memo` when it holds the same
    /// id of this snapshot (and remembered in it otherwise).
    #[inline]
    pub fn eni_memo<'a>(&'a self, id: &str, memo: &mut EniMemo<'a>) -> Option<&'a EniInfo> {
        let Some(k) = IdKey::new(id) else {
            return self.eni(id);
        };
        if let Some((s, mk, e)) = memo.0 {
            if mk == k && std::ptr::eq(s, self) {
                return e;
            }
        }
        let e = self.eni_by_key(k);
        memo.0 = Some((self, k, e));
        e
    }

    #[inline]
    fn eni_by_key(&self, k: IdKey) -> Option<&EniInfo> {
        let i = if self.few_eni_ids.is_empty() {
            self.eni_by_id.get(&k)
        } else {
            self.few_eni_ids
                .binary_search_by(|(x, _)| x.cmp(&k))
                .ok()
                .and_then(|j| self.few_eni_ids.get(j))
                .map(|(_, i)| i)
        };
        i.and_then(|&i| self.enis.get(i as usize))
    }

    /// The interface-endpoint ENI owning `ip`, whatever the time (the
    /// caller applies the endpoint's time gate).
    #[inline]
    pub fn endpoint_eni_at(&self, ip: IpAddr) -> Option<&EniInfo> {
        if self.endpoint_eni_addrs.is_empty() {
            return None;
        }
        let k = AddrKey::from(ip);
        let i = self
            .endpoint_eni_addrs
            .binary_search_by(|(a, _)| a.cmp(&k))
            .ok()?;
        let &(_, e) = self.endpoint_eni_addrs.get(i)?;
        self.enis.get(e as usize)
    }

    /// The ENI owning `ip` (any of its addresses), honouring endpoint creation times.
    #[inline]
    pub fn eni_at(&self, ip: IpAddr, t: Option<Millis>) -> Option<&EniInfo> {
        self.eni_by_addr
            .get(&AddrKey::from(ip))
            .and_then(|&i| self.enis.get(i as usize))
            .filter(|e| e.gate.open_at(t))
    }

    pub fn route_table(&self, i: u32) -> Option<&RtIndex> {
        self.route_tables.get(i as usize)
    }

    pub fn route_table_by_id(&self, id: &str) -> Option<&RtIndex> {
        self.route_tables.iter().find(|r| r.id == id)
    }

    pub fn in_vpc(&self, ip: IpAddr) -> bool {
        self.vpc_cidrs.iter().any(|n| n.contains(&ip))
    }
}

/// The whole topology, resolved: immutable and `Sync`; build once, share by `&`.
#[derive(Debug, Clone, Default)]
pub struct TopologyIndex {
    snapshots: Vec<SnapshotIndex>,
    /// Every host of every snapshot ([`EniInfo::host`] points here).
    hosts: Vec<HostInfo>,
    ip_ranges: LpmTable,
    ip_prefixes: Vec<IpRangeEntry>,
}

fn millis(t: Option<jiff::Timestamp>) -> Option<Millis> {
    t.map(|t| t.as_millisecond())
}

fn ip_service_rank(service: &str) -> usize {
    match service {
        "S3" | "DYNAMODB" => 0,
        "EC2" => 2,
        "AMAZON" => 3,
        _ => 1,
    }
}

impl TopologyIndex {
    /// Resolve a loaded topology.
    pub fn build(topo: &Topology) -> TopologyIndex {
        let (ip_ranges, ip_prefixes) = build_ip_ranges(topo.ip_ranges.as_ref());
        let mut snapshots: Vec<SnapshotIndex> = topo
            .snapshots
            .iter()
            .map(|s| {
                let mut si = build_snapshot(s);
                si.aws = PairTable::merge(&si.pl_table, &ip_ranges);
                si
            })
            .collect();
        let hosts = assign_hosts(&topo.snapshots, &mut snapshots);
        snapshots.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.dir.cmp(&b.dir)));
        TopologyIndex {
            snapshots,
            hosts,
            ip_ranges,
            ip_prefixes,
        }
    }

    /// An index with nothing in it (every flow is `unknown`).
    pub fn empty() -> TopologyIndex {
        TopologyIndex::default()
    }

    pub fn snapshots(&self) -> &[SnapshotIndex] {
        &self.snapshots
    }

    /// Every host (instance, or ENI without an instance) of the topology.
    pub fn hosts(&self) -> &[HostInfo] {
        &self.hosts
    }

    /// The host an ENI belongs to.
    pub fn host_of(&self, eni: &EniInfo) -> Option<&HostInfo> {
        eni.host.and_then(|i| self.hosts.get(i as usize))
    }

    /// The snapshot for a flow at `t`: the latest taken at or before `t`,
    /// else the earliest; the latest when `t` is unknown.
    #[inline]
    pub fn snapshot_at(&self, t: Option<Millis>) -> Option<&SnapshotIndex> {
        match (self.snapshots.len(), t) {
            (0, _) => None,
            (1, _) | (_, None) => self.snapshots.last(),
            (_, Some(t)) => {
                let i = self
                    .snapshots
                    .partition_point(|s| s.time.is_none_or(|st| st <= t));
                i.checked_sub(1)
                    .and_then(|i| self.snapshots.get(i))
                    .or_else(|| self.snapshots.first())
            }
        }
    }

    /// The most specific ip-ranges service containing `ip`.
    #[inline]
    pub fn ip_range(&self, ip: IpAddr) -> Option<&IpRangeEntry> {
        let i = self.ip_ranges.lookup(ip)?;
        self.ip_prefixes.get(i as usize)
    }

    /// What AWS's own lists say of `ip`, in one lookup: the most specific
    /// entry of `snap`'s managed prefix lists that name a service, and the
    /// ip-ranges prefix ([`TopologyIndex::ip_range`]) containing it.
    #[inline]
    pub fn aws_ranges<'a>(
        &'a self,
        snap: Option<&'a SnapshotIndex>,
        ip: IpAddr,
    ) -> (Option<&'a PrefixListEntry>, Option<&'a IpRangeEntry>) {
        let Some(s) = snap else {
            return (None, self.ip_range(ip));
        };
        let (pl, ipr) = s.aws.lookup(ip);
        (
            s.pl_entries.get(pl as usize),
            self.ip_prefixes.get(ipr as usize),
        )
    }
}

fn build_ip_ranges(r: Option<&IpRanges>) -> (LpmTable, Vec<IpRangeEntry>) {
    let Some(r) = r else {
        return (LpmTable::default(), Vec::new());
    };
    let entries: Vec<IpRangeEntry> = r
        .prefixes
        .iter()
        .map(|p| IpRangeEntry {
            service: p.service.clone(),
            region: p.region.clone(),
            prefix: p.prefix,
            label: super::service_of_label(&p.service),
        })
        .collect();
    // One table per service class, then merged by class priority.
    let mut classes: [Vec<(IpNet, u32)>; 4] = Default::default();
    let mut b4 = Vec::new();
    let mut b6 = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let Ok(i) = u32::try_from(i) else { break };
        if let Some(c) = classes.get_mut(ip_service_rank(&e.service)) {
            c.push((e.prefix, i));
        }
        match &e.prefix {
            IpNet::V4(n) => v4_bounds(n, &mut b4),
            IpNet::V6(n) => v6_bounds(n, &mut b6),
        }
    }
    let tables: Vec<LpmTable> = classes.iter().map(|c| LpmTable::build(c)).collect();
    let merged = LpmTable::from_fns(b4, b6, |a| {
        tables.iter().find_map(|t| t.lookup(a)).unwrap_or(NONE)
    });
    (merged, entries)
}

/// Group the ENIs of every snapshot into hosts (an instance with all its
/// ENIs and addresses, or an ENI of its own) and point each ENI at its host.
/// `snapshots[i]` is the index of `sources[i]`.
fn assign_hosts(sources: &[Snapshot], snapshots: &mut [SnapshotIndex]) -> Vec<HostInfo> {
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    enum Key {
        Instance(Text),
        Eni(Text),
    }
    #[derive(Default)]
    struct Acc {
        enis: std::collections::BTreeSet<Text>,
        addrs: std::collections::BTreeSet<IpAddr>,
        subnets: std::collections::BTreeSet<Text>,
        /// The primary address and the ENI holding it (the smallest seen).
        primary: Option<(IpAddr, Text, Text)>,
    }
    let mut acc: std::collections::BTreeMap<Key, Acc> = std::collections::BTreeMap::new();
    for (src, snap) in sources.iter().zip(snapshots.iter()) {
        for e in &snap.enis {
            let (key, primary) = match &e.role {
                EniRole::Instance(i) => (
                    Key::Instance(i.clone()),
                    src.instances.get(i).and_then(|x| x.private_ip),
                ),
                _ => (Key::Eni(e.id.clone()), e.addrs.first().copied()),
            };
            let a = acc.entry(key).or_default();
            a.enis.insert(e.id.clone());
            a.addrs.extend(e.addrs.iter().copied());
            if !e.subnet_id.is_empty() {
                a.subnets.insert(e.subnet_id.clone());
            }
            if let Some(p) = primary.filter(|p| e.addrs.contains(p)) {
                let cand = (p, e.id.clone(), e.subnet_id.clone());
                if a.primary.as_ref().is_none_or(|old| cand < *old) {
                    a.primary = Some(cand);
                }
            }
        }
    }
    let mut hosts = Vec::with_capacity(acc.len());
    let mut number: std::collections::BTreeMap<Key, u32> = std::collections::BTreeMap::new();
    for (key, a) in acc {
        let Ok(n) = u32::try_from(hosts.len()) else {
            break;
        };
        let first = |set: std::collections::BTreeSet<Text>, lead: Option<&Text>| -> Vec<Text> {
            let mut v: Vec<Text> = lead
                .filter(|l| set.contains(*l))
                .into_iter()
                .cloned()
                .collect();
            v.extend(set.into_iter().filter(|x| Some(x) != lead));
            v
        };
        let (p_addr, p_eni, p_subnet) = match &a.primary {
            Some((ad, e, s)) => (Some(*ad), Some(e), Some(s)),
            None => (None, None, None),
        };
        let mut addrs: Vec<IpAddr> = p_addr.into_iter().collect();
        addrs.extend(a.addrs.iter().copied().filter(|x| Some(*x) != p_addr));
        hosts.push(HostInfo {
            instance_id: match &key {
                Key::Instance(i) => Some(i.clone()),
                Key::Eni(_) => None,
            },
            enis: first(a.enis, p_eni),
            addrs,
            subnets: first(a.subnets, p_subnet),
        });
        number.insert(key, n);
    }
    for snap in snapshots.iter_mut() {
        for e in &mut snap.enis {
            let key = match &e.role {
                EniRole::Instance(i) => Key::Instance(i.clone()),
                _ => Key::Eni(e.id.clone()),
            };
            e.host = number.get(&key).copied();
        }
    }
    hosts
}

fn build_snapshot(s: &Snapshot) -> SnapshotIndex {
    // Endpoints.
    let mut endpoints = Vec::new();
    let mut endpoint_idx: FxMap<Text, u32> = FxMap::default();
    let mut eni_owner: FxMap<Text, u32> = FxMap::default();
    for ep in s.endpoints.values() {
        let gate = millis(ep.created).map_or(TimeGate::Always, TimeGate::From);
        let eni_addrs = ep
            .eni_ids
            .iter()
            .filter_map(|e| s.enis.get(e))
            .flat_map(|e| e.private_ips.iter().copied())
            .collect();
        let Ok(i) = u32::try_from(endpoints.len()) else {
            break;
        };
        endpoint_idx.insert(ep.id.clone(), i);
        for e in &ep.eni_ids {
            eni_owner.insert(e.clone(), i);
        }
        endpoints.push(EndpointInfo {
            id: ep.id.clone(),
            kind: ep.kind.clone(),
            service: ep.service.clone(),
            service_name: ep.service_name.clone(),
            region: ep.region.clone(),
            gate,
            private_dns_enabled: ep.private_dns_enabled,
            default_name: ep.default_dns_name(),
            eni_addrs,
            dns_names: ep.dns_names.clone(),
        });
    }

    // Route tables.
    let mut route_tables = Vec::new();
    let mut rt_idx: FxMap<Text, u32> = FxMap::default();
    for rt in s.route_tables.values() {
        let Ok(i) = u32::try_from(route_tables.len()) else {
            break;
        };
        rt_idx.insert(rt.id.clone(), i);
        route_tables.push(RtIndex::build(rt, &s.prefix_lists, |id| {
            endpoint_idx
                .get(id)
                .and_then(|&i| endpoints.get(i as usize))
                .map(|ep| ep.gate)
        }));
    }
    // Subnet -> table.
    let subnet_rt = |subnet_id: &str| -> Option<u32> {
        s.route_table_of_subnet(subnet_id)
            .and_then(|rt| rt_idx.get(&rt.id).copied())
    };

    // ENIs.
    let mut enis = Vec::new();
    let mut eni_by_id: FxMap<IdKey, u32> = FxMap::default();
    let mut eni_by_long_id: FxMap<Text, u32> = FxMap::default();
    let mut eni_by_addr: FxMap<AddrKey, u32> = FxMap::default();
    let mut endpoint_eni_addrs: Vec<(AddrKey, u32)> = Vec::new();
    for e in s.enis.values() {
        let endpoint = eni_owner.get(&e.id).copied();
        let role = match &e.kind {
            EniKind::Instance(i) => EniRole::Instance(i.clone()),
            EniKind::InterfaceEndpoint(v) => EniRole::InterfaceEndpoint(v.clone()),
            EniKind::NatGateway(n) => EniRole::NatGateway(n.clone()),
            EniKind::Other(_) => EniRole::Other,
        };
        let endpoint = endpoint.or_else(|| match &role {
            EniRole::InterfaceEndpoint(v) => endpoint_idx.get(v).copied(),
            _ => None,
        });
        let gate = endpoint
            .and_then(|i| endpoints.get(i as usize))
            .map_or(TimeGate::Always, |ep| ep.gate);
        let Ok(i) = u32::try_from(enis.len()) else {
            break;
        };
        match IdKey::new(&e.id) {
            Some(k) => eni_by_id.insert(k, i),
            None => eni_by_long_id.insert(e.id.clone(), i),
        };
        for a in e.private_ips.iter().chain(&e.public_ips) {
            let k = AddrKey::from(*a);
            if let std::collections::hash_map::Entry::Vacant(v) = eni_by_addr.entry(k) {
                v.insert(i);
                if matches!(role, EniRole::InterfaceEndpoint(_)) {
                    endpoint_eni_addrs.push((k, i));
                }
            }
        }
        enis.push(EniInfo {
            id: e.id.clone(),
            role,
            subnet_id: e.subnet_id.clone(),
            vpc_id: e.vpc_id.clone(),
            addrs: e.private_ips.clone(),
            route_table: subnet_rt(&e.subnet_id),
            gate,
            endpoint,
            host: None,
        });
    }

    endpoint_eni_addrs.sort_unstable();

    // NAT gateways and the table of their subnet.
    let mut nat_gateways = FxMap::default();
    for n in s.nat_gateways.values() {
        nat_gateways.insert(
            n.id.clone(),
            NatInfo {
                id: n.id.clone(),
                subnet_id: n.subnet_id.clone(),
                route_table: subnet_rt(&n.subnet_id),
            },
        );
    }

    // AWS-managed prefix lists with a service, for attribution.
    let mut pl_entries = Vec::new();
    for pl in s.prefix_lists.values() {
        if let Some(svc) = pl.service() {
            for c in &pl.cidrs {
                pl_entries.push(PrefixListEntry {
                    id: pl.id.clone(),
                    service: Text::from(svc),
                    cidr: *c,
                });
            }
        }
    }
    let pairs: Vec<(IpNet, u32)> = pl_entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| u32::try_from(i).ok().map(|i| (e.cidr, i)))
        .collect();
    let pl_table = LpmTable::build(&pairs);

    let few_eni_ids = if enis.len() <= FEW_ENIS {
        // ENI ids are unique (the snapshot is keyed by id).
        let mut v: Vec<(IdKey, u32)> = enis
            .iter()
            .enumerate()
            .filter_map(|(i, e)| Some((IdKey::new(&e.id)?, u32::try_from(i).ok()?)))
            .collect();
        v.sort_unstable();
        v
    } else {
        Vec::new()
    };

    SnapshotIndex {
        time: millis(s.time),
        dir: s.dir.clone(),
        route_tables,
        enis,
        endpoints,
        nat_gateways,
        vpc_cidrs: s
            .vpcs
            .values()
            .flat_map(|v| v.cidrs.iter().copied())
            .collect(),
        few_eni_ids,
        eni_by_id,
        eni_by_long_id,
        eni_by_addr,
        endpoint_eni_addrs,
        pl_table,
        pl_entries,
        aws: PairTable::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eni_lookup_by_id_finds_every_eni_few_or_many() {
        use crate::topology::{Eni, EniKind};
        for count in [3usize, 40] {
            let mut s = Snapshot::new("t".into());
            let mut ids: Vec<String> = (0..count).map(|i| format!("eni-{i:017x}")).collect();
            ids.push("eni-b".into());
            ids.push("x".into());
            ids.push("a-network-interface-id-longer-than-24-bytes".into());
            for id in &ids {
                s.enis.insert(
                    id.as_str().into(),
                    Eni {
                        id: id.as_str().into(),
                        kind: EniKind::Other("interface".into()),
                        subnet_id: "subnet-1".into(),
                        vpc_id: "vpc-1".into(),
                        private_ips: vec![],
                        public_ips: vec![],
                        description: None,
                        interface_type: None,
                    },
                );
            }
            let snap = build_snapshot(&s);
            assert_eq!(snap.few_eni_ids.is_empty(), snap.enis.len() > FEW_ENIS);
            for id in &ids {
                assert_eq!(
                    snap.eni(id).map(|e| e.id.as_str()),
                    Some(id.as_str()),
                    "{id}"
                );
            }
            for absent in ["eni-", "eni-c", "eni-00000000000000001x", "y", ""] {
                assert!(snap.eni(absent).is_none(), "{absent}");
            }
        }
    }

    #[test]
    fn time_gate_opens_at_creation() {
        let g = TimeGate::From(1000);
        assert!(!g.open_at(Some(999)));
        assert!(g.open_at(Some(1000)));
        assert!(g.open_at(None));
        assert!(TimeGate::Always.open_at(Some(0)));
    }
}
