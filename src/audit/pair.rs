//! Pairing one partition: duplicate deliveries dropped, replies and inbound
//! records attached to their egress flow, flow-log outcomes settled.
//!
//! The same rules as [`crate::classify::classify_conversations`] (which the
//! record outputs still use on held flows), through the one
//! [`nearest_egress`]: a reply pairs with an egress flow of the same host and
//! reversed 5-tuple whose span it starts within, the nearest in time first,
//! then the first in input order. An egress flow whose own record says `unknown` becomes `answered`
//! when its (host, 5-tuple) got an accepted reply, `rejected` when only
//! rejected replies came back to it, `unanswered` when its host logged any
//! ingress at all, else stays `unknown`.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::row::{ConvRow, Delivery};
use crate::classify::{Outcome, Role, nearest_egress};
use crate::flow::FlowKey;

type State = foldhash::fast::RandomState;

/// A partition, paired.
#[derive(Debug, Default)]
pub struct Paired {
    /// Egress rows in input order with their settled outcome.
    pub egress: Vec<(ConvRow, Outcome)>,
    /// Reply and inbound records with no egress flow to attach to.
    pub unpaired: u64,
    /// Duplicate deliveries dropped, per input.
    pub duplicates: BTreeMap<u32, u64>,
}

/// Pair the rows of one partition (every record of a conversation is in
/// it). `has_ingress`: the hosts that logged any reply or inbound record in
/// the whole run.
pub fn pair_partition<S: std::hash::BuildHasher>(
    mut rows: Vec<ConvRow>,
    has_ingress: &HashSet<u32, S>,
) -> Paired {
    rows.sort_unstable();
    let mut out = Paired::default();

    // One connection counts once: the first delivery of a record is kept.
    let mut seen: HashSet<Delivery, State> = HashSet::default();
    rows.retain(|r| match r.delivery() {
        Some(d) if !seen.insert(d) => {
            *out.duplicates.entry(r.source).or_insert(0) += 1;
            false
        }
        _ => true,
    });
    drop(seen);

    let mut egress: HashMap<(u32, FlowKey), Vec<usize>, State> = HashMap::default();
    for (i, r) in rows.iter().enumerate() {
        if r.role == Role::Egress {
            if let Some(k) = r.key {
                egress.entry((r.host, k)).or_default().push(i);
            }
        }
    }
    // Per egress row: (replies attached, any accepted).
    let mut replies: Vec<u32> = vec![0; rows.len()];
    let mut answered: HashSet<(u32, FlowKey), State> = HashSet::default();
    for r in &rows {
        if !matches!(r.role, Role::Reply | Role::Inbound) {
            continue;
        }
        let group = r.key.map(|k| (r.host, k.reversed()));
        let start = r.start;
        let best = group
            .as_ref()
            .and_then(|g| egress.get(g))
            .and_then(|cands| {
                nearest_egress(start, cands, |e| rows.get(e).map(|ef| (ef.start, ef.end)))
            });
        match (best, group) {
            (Some(e), Some(g)) => {
                if let Some(n) = replies.get_mut(e) {
                    *n += 1;
                }
                if !r.rejected {
                    answered.insert(g);
                }
            }
            _ => out.unpaired += 1,
        }
    }
    drop(egress);
    for (r, n) in rows.iter().zip(&replies) {
        if r.role != Role::Egress {
            continue;
        }
        let mut outcome = r.outcome;
        if outcome == Outcome::Unknown {
            if r.key.is_some_and(|k| answered.contains(&(r.host, k))) {
                outcome = Outcome::Answered;
            } else if *n > 0 {
                // Only rejected replies came back.
                outcome = Outcome::Rejected;
            } else if has_ingress.contains(&r.host) {
                outcome = Outcome::Unanswered;
            }
        }
        out.egress.push((*r, outcome));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::audit::row::NO_CLASS;
    use crate::classify::PAIR_AFTER_SECS;

    fn row(index: u64, role: Role, out: bool, start: u64, rejected: bool) -> ConvRow {
        let a = "10.0.0.1".parse().unwrap();
        let b = "52.219.60.1".parse().unwrap();
        let key = FlowKey {
            src: if out { a } else { b },
            dst: if out { b } else { a },
            src_port: if out { 40000 } else { 443 },
            dst_port: if out { 443 } else { 40000 },
            protocol: 6,
        };
        ConvRow {
            source: 0,
            index,
            host: 1,
            class: if role == Role::Egress { 0 } else { NO_CLASS },
            role,
            outcome: if rejected {
                Outcome::Rejected
            } else {
                Outcome::Unknown
            },
            rejected,
            logged: true,
            key: Some(key),
            start: Some(start),
            end: Some(start + 10),
            packets: Some(1),
            bytes: Some(index),
            dst: Some(key.dst),
            dst_port: Some(key.dst_port),
            protocol: Some(6),
        }
    }

    #[test]
    fn pair_partition_settles_outcomes_and_drops_duplicate_deliveries() {
        let ingress: HashSet<u32> = [1].into_iter().collect();
        // A reply before its egress record in input order, far in the file.
        let egress = row(5, Role::Egress, true, 1000, false);
        let reply = row(1, Role::Reply, false, 1001, false);
        let mut again = egress;
        again.source = 3;
        let p = pair_partition(vec![again, egress, reply], &ingress);
        assert_eq!(p.egress, vec![(egress, Outcome::Answered)]);
        assert_eq!(p.duplicates.get(&3), Some(&1));
        assert_eq!(p.unpaired, 0);

        // No reply, but the host logs ingress: unanswered; without: unknown.
        let lone = row(7, Role::Egress, true, 5000, false);
        let p = pair_partition(vec![lone], &ingress);
        assert_eq!(p.egress[0].1, Outcome::Unanswered);
        let p = pair_partition(vec![lone], &HashSet::<u32>::new());
        assert_eq!(p.egress[0].1, Outcome::Unknown);

        // Only a rejected reply: rejected. A reply out of the window: unpaired.
        let p = pair_partition(vec![lone, row(8, Role::Reply, false, 5001, true)], &ingress);
        assert_eq!(p.egress[0].1, Outcome::Rejected);
        let p = pair_partition(
            vec![
                lone,
                row(
                    9,
                    Role::Reply,
                    false,
                    5000 + 10 + PAIR_AFTER_SECS + 1,
                    false,
                ),
            ],
            &ingress,
        );
        assert_eq!((p.egress[0].1, p.unpaired), (Outcome::Unanswered, 1));
    }
}
