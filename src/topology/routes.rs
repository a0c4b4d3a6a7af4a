//! One route table resolved ([`RtIndex`]): its routes expanded (a
//! prefix-list route gives one entry per CIDR) and ordered by priority, then
//! cut into one flattened table per time-rule epoch, each merged with the
//! latest so that one lookup answers both "which route then" and "which
//! route now" (the replay's evidence).

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;

use super::index::{Millis, TimeGate};
use super::lpm::{LpmTable, NONE, PairTable};
use super::{PrefixList, RouteDestination, RouteState, RouteTable, RouteTarget, TargetKind, Text};

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

fn route_rank(destination: &RouteDestination, target: &RouteTarget, propagated: bool) -> u8 {
    match (destination, target, propagated) {
        (_, RouteTarget::Local, _) => 0,
        (_, _, true) => 3,
        (RouteDestination::Cidr(_), _, false) => 1,
        (RouteDestination::PrefixList(_), _, false) => 2,
    }
}

impl RtIndex {
    /// Resolve `rt`. `gate_of` gives a gateway endpoint's time gate (None
    /// for an endpoint the snapshot does not know: its routes always count).
    pub(super) fn build(
        rt: &RouteTable,
        prefix_lists: &BTreeMap<Text, PrefixList>,
        gate_of: impl Fn(&Text) -> Option<TimeGate>,
    ) -> RtIndex {
        let mut entries: Vec<RouteEntry> = Vec::new();
        for r in &rt.routes {
            let (gate, gate_endpoint) = match &r.target {
                RouteTarget::GatewayEndpoint(id) => match gate_of(id) {
                    Some(gate) => (gate, Some(id.clone())),
                    None => (TimeGate::Always, None),
                },
                _ => (TimeGate::Always, None),
            };
            let rank = route_rank(&r.destination, &r.target, r.is_propagated());
            let blackhole = r.state == RouteState::Blackhole;
            let cidrs: Vec<IpNet> = match &r.destination {
                RouteDestination::Cidr(n) => vec![*n],
                RouteDestination::PrefixList(id) => prefix_lists
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
        let kinds = entries
            .iter()
            .map(|e| RouteKind {
                target: e.target.kind(),
                blackhole: e.blackhole,
            })
            .collect();
        RtIndex {
            id: rt.id.clone(),
            vpc_id: rt.vpc_id.clone(),
            entries,
            kinds,
            epochs,
            epoch_from,
        }
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
}
