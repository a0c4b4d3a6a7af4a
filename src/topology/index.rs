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

use std::collections::HashMap;
use std::hash::Hasher;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;

use super::lpm::{LpmTable, NONE, PairTable, v4_bounds, v6_bounds};

use super::{
    EndpointKind, EniKind, IpRanges, RouteDestination, RouteState, RouteTarget, Snapshot,
    TargetKind, Text, Topology,
};

/// Maps of ids and addresses: foldhash with a fixed seed (fast, and the
/// same order on every run; keys come from the user's own topology).
pub(crate) type FxMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

/// A short id (`eni-0123456789abcdef0`: up to 24 bytes) as a hash key of
/// four words, read with overlapping loads: hashing and comparing it needs
/// no byte loop and no `memcmp` call (the interface lookup runs per flow).
/// Injective for a given length, so equal keys mean equal ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct IdKey {
    len: u8,
    a: u64,
    b: u64,
    c: u64,
}

impl IdKey {
    #[inline]
    fn new(id: &str) -> Option<IdKey> {
        let s = id.as_bytes();
        let n = s.len();
        let w8 = |at: usize| {
            s.get(at..at + 8)
                .and_then(|w| <[u8; 8]>::try_from(w).ok())
                .map_or(0, u64::from_le_bytes)
        };
        let w4 = |at: usize| {
            s.get(at..at + 4)
                .and_then(|w| <[u8; 4]>::try_from(w).ok())
                .map_or(0, |w| u64::from(u32::from_le_bytes(w)))
        };
        let b1 = |at: usize| s.get(at).map_or(0, |&b| u64::from(b));
        let (a, b, c) = match n {
            0 => (0, 0, 0),
            1..=3 => (b1(0) | b1(n / 2) << 8 | b1(n - 1) << 16, 0, 0),
            4..=7 => (w4(0) | w4(n - 4) << 32, 0, 0),
            8..=16 => (w8(0), w8(n - 8), 0),
            17..=24 => (w8(0), w8(8), w8(n - 8)),
            _ => return None,
        };
        Some(IdKey {
            len: n as u8,
            a,
            b,
            c,
        })
    }
}

impl std::hash::Hash for IdKey {
    /// One hasher round: the words folded (equality still compares all).
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(
            self.a ^ self.b.rotate_left(21) ^ self.c.rotate_left(42) ^ u64::from(self.len),
        );
    }
}

/// Snapshots with at most this many ENIs look ids up by binary search.
const FEW_ENIS: usize = 16;

/// An address as a hash key: two hasher rounds instead of `IpAddr`'s
/// discriminant, length prefix and byte loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct AddrKey {
    v6: bool,
    bits: u128,
}

impl From<IpAddr> for AddrKey {
    #[inline]
    fn from(ip: IpAddr) -> AddrKey {
        match ip {
            IpAddr::V4(a) => AddrKey {
                v6: false,
                bits: u128::from(u32::from(a)),
            },
            IpAddr::V6(a) => AddrKey {
                v6: true,
                bits: u128::from(a),
            },
        }
    }
}

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

/// One route of a table, expanded (a prefix-list route gives one entry per CIDR).
#[derive(Debug, Clone)]
pub struct RouteEntry {
    pub destination: RouteDestination,
    pub cidr: IpNet,
    pub target: RouteTarget,
    pub blackhole: bool,
    pub gate: TimeGate,
    /// The endpoint that gates this route (gateway endpoints).
    pub gate_endpoint: Option<Text>,
    rank: u8,
}

#[derive(Debug, Clone)]
struct Epoch {
    from: Option<Millis>,
    table: LpmTable,
    /// This epoch's table and the latest one merged: (entry in this epoch,
    /// entry in the latest epoch) in one lookup (the time rule's replay).
    replay: PairTable,
}

impl Epoch {
    /// Merge `self.table` with the latest epoch's table into `self.replay`.
    fn build_replay(&mut self, last: &LpmTable) {
        self.replay = PairTable::merge(&self.table, last);
    }
}

/// What a route entry does, in two bytes: the lookup's answer reads this
/// compact copy instead of the entry itself (the entries of a large table
/// do not stay in cache; this does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteKind {
    pub target: TargetKind,
    pub blackhole: bool,
}

/// One route table, resolved.
#[derive(Debug, Clone)]
pub struct RtIndex {
    pub id: Text,
    pub vpc_id: Text,
    pub entries: Vec<RouteEntry>,
    /// `kinds[i]` describes `entries[i]`.
    kinds: Vec<RouteKind>,
    epochs: Vec<Epoch>,
    /// `epochs[i + 1].from`: the creation times that start each later epoch.
    epoch_from: Vec<Millis>,
}

/// The result of a route lookup.
#[derive(Debug, Clone, Copy)]
pub struct RouteHit<'a> {
    /// The winning route (None: nothing matches).
    pub entry: Option<&'a RouteEntry>,
    /// What the winning route does (Some exactly when `entry` is).
    pub kind: Option<RouteKind>,
    /// Set when the flow's time is before an endpoint creation and the
    /// current table would pick this other route (the replay changed the answer).
    pub replayed_instead_of: Option<&'a RouteEntry>,
    /// When the epoch of the flow's time ends (the next endpoint creation);
    /// None for the latest epoch.
    pub epoch_end: Option<Millis>,
}

impl RtIndex {
    /// The winning route for `dst` at time `t`, and what the current table
    /// would say when that differs (the time rule's evidence).
    #[inline]
    pub fn lookup(&self, dst: IpAddr, t: Option<Millis>) -> RouteHit<'_> {
        // The epoch of `t`: how many later epochs had begun by then.
        let i = match t {
            None => self.epoch_from.len(),
            // `epoch_from` is ascending.
            Some(t) => self.epoch_from.partition_point(|&f| f <= t),
        };
        // One lookup in the epoch's merged table gives (then, now).
        let (then, now) = self
            .epochs
            .get(i)
            .map_or((NONE, NONE), |e| e.replay.lookup(dst));
        RouteHit {
            entry: self.entries.get(then as usize),
            kind: self.kinds.get(then as usize).copied(),
            replayed_instead_of: if then == now {
                None
            } else {
                self.entries.get(now as usize)
            },
            epoch_end: self.epoch_from.get(i).copied(),
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
    ip_ranges: LpmTable,
    ip_prefixes: Vec<IpRangeEntry>,
}

fn millis(t: Option<jiff::Timestamp>) -> Option<Millis> {
    t.map(|t| t.as_millisecond())
}

fn route_rank(destination: &RouteDestination, target: &RouteTarget, propagated: bool) -> u8 {
    match (destination, target, propagated) {
        (_, RouteTarget::Local, _) => 0,
        (_, _, true) => 3,
        (RouteDestination::Cidr(_), _, false) => 1,
        (RouteDestination::PrefixList(_), _, false) => 2,
    }
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
        snapshots.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.dir.cmp(&b.dir)));
        TopologyIndex {
            snapshots,
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
        let mut entries: Vec<RouteEntry> = Vec::new();
        for r in &rt.routes {
            let (gate, gate_endpoint) = match &r.target {
                RouteTarget::GatewayEndpoint(id) => match endpoint_idx
                    .get(id)
                    .and_then(|&i| endpoints.get(i as usize))
                {
                    Some(ep) => (ep.gate, Some(id.clone())),
                    None => (TimeGate::Always, None),
                },
                _ => (TimeGate::Always, None),
            };
            let rank = route_rank(&r.destination, &r.target, r.is_propagated());
            let blackhole = r.state == RouteState::Blackhole;
            let cidrs: Vec<IpNet> = match &r.destination {
                RouteDestination::Cidr(n) => vec![*n],
                RouteDestination::PrefixList(id) => s
                    .prefix_lists
                    .get(id)
                    .map(|pl| pl.cidrs.clone())
                    .unwrap_or_default(),
            };
            for cidr in cidrs {
                entries.push(RouteEntry {
                    destination: r.destination.clone(),
                    cidr,
                    target: r.target.clone(),
                    blackhole,
                    gate,
                    gate_endpoint: gate_endpoint.clone(),
                    rank,
                });
            }
        }
        // Priority order, independent of the order AWS printed the routes in.
        entries.sort_by(|a, b| {
            (
                a.cidr.trunc(),
                a.rank,
                a.target.id(),
                &a.destination,
                a.blackhole,
            )
                .cmp(&(
                    b.cidr.trunc(),
                    b.rank,
                    b.target.id(),
                    &b.destination,
                    b.blackhole,
                ))
        });
        // Destinations inside a `local` route's CIDR always take the local
        // route: a more specific route inside it never enters the tables, so
        // one longest-prefix match answers (local routes are in every epoch).
        let local: Vec<IpNet> = entries
            .iter()
            .filter(|e| e.target == RouteTarget::Local)
            .map(|e| e.cidr.trunc())
            .collect();
        let shadowed_by_local = |e: &RouteEntry| {
            e.target != RouteTarget::Local && local.iter().any(|l| l.contains(&e.cidr.trunc()))
        };
        let mut gates: Vec<Option<Millis>> = vec![None];
        let mut times: Vec<Millis> = entries
            .iter()
            .filter_map(|e| match e.gate {
                TimeGate::From(t) => Some(t),
                TimeGate::Always => None,
            })
            .collect();
        times.sort_unstable();
        times.dedup();
        gates.extend(times.into_iter().map(Some));
        let mut epochs: Vec<Epoch> = gates
            .into_iter()
            .map(|from| {
                let pairs: Vec<(IpNet, u32)> = entries
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| !shadowed_by_local(e))
                    .filter(|(_, e)| match (e.gate, from) {
                        (TimeGate::Always, _) => true,
                        (TimeGate::From(_), None) => false,
                        (TimeGate::From(c), Some(f)) => c <= f,
                    })
                    .filter_map(|(i, e)| u32::try_from(i).ok().map(|i| (e.cidr, i)))
                    .collect();
                Epoch {
                    from,
                    table: LpmTable::build(&pairs),
                    replay: PairTable::default(),
                }
            })
            .collect();
        if let Some((last, older)) = epochs.split_last_mut() {
            for e in older {
                e.build_replay(&last.table);
            }
            // The latest epoch too, against itself (pairs (x, x)): every
            // lookup is then the same one merged-table lookup.
            let table = last.table.clone();
            last.build_replay(&table);
        }
        let epoch_from = epochs.iter().skip(1).filter_map(|e| e.from).collect();
        let Ok(i) = u32::try_from(route_tables.len()) else {
            break;
        };
        rt_idx.insert(rt.id.clone(), i);
        let kinds = entries
            .iter()
            .map(|e| RouteKind {
                target: e.target.kind(),
                blackhole: e.blackhole,
            })
            .collect();
        route_tables.push(RtIndex {
            id: rt.id.clone(),
            vpc_id: rt.vpc_id.clone(),
            entries,
            kinds,
            epochs,
            epoch_from,
        });
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
    use ipnet::{Ipv4Net, Ipv6Net};
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn n(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    #[test]
    fn replay_table_gives_both_epochs_in_one_lookup() {
        // An older epoch without 100 gated prefixes vs the latest with them:
        // the merged table must answer exactly (old lookup, new lookup).
        let mut x: u64 = 0x0ddc_0ffe_e123_4567;
        let mut step = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut all = vec![(n("0.0.0.0/0"), 0u32), (n("2406:da00::/24"), 1)];
        for v in 2..400u32 {
            let r = step();
            let len = 8 + (r % 21) as u8;
            let a = Ipv4Addr::from((r >> 32) as u32);
            all.push((IpNet::V4(Ipv4Net::new(a, len).unwrap().trunc()), v));
        }
        for v in 400..420u32 {
            let r = step();
            let a = Ipv6Addr::from(u128::from(r) << 64 | 0x2406_da00_u128 << 96);
            all.push((
                IpNet::V6(Ipv6Net::new(a, 32 + (r % 33) as u8).unwrap().trunc()),
                v,
            ));
        }
        let old: Vec<(IpNet, u32)> = all.iter().copied().filter(|(_, v)| v % 4 != 0).collect();
        let last = LpmTable::build(&all);
        let mut e = Epoch {
            from: None,
            table: LpmTable::build(&old),
            replay: PairTable::default(),
        };
        e.build_replay(&last);
        assert!(e.replay.packed);
        let unpacked = PairTable {
            packed: false,
            ..PairTable::default()
        };
        let (t, pairs) = LpmTable::merge(&e.table, &last, false);
        let unpacked = PairTable {
            table: t,
            pairs,
            ..unpacked
        };
        let mut probes: Vec<IpAddr> = all
            .iter()
            .flat_map(|(p, _)| [p.network(), p.broadcast()])
            .collect();
        for _ in 0..5000 {
            probes.push(IpAddr::V4(Ipv4Addr::from((step() >> 32) as u32)));
        }
        for a in probes {
            let want = (
                e.table.lookup(a).unwrap_or(NONE),
                last.lookup(a).unwrap_or(NONE),
            );
            assert_eq!(e.replay.lookup(a), want, "{a}");
            assert_eq!(unpacked.lookup(a), want, "{a}");
        }
    }

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
