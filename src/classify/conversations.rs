//! Replies attached to their egress flow, and flow-log outcomes settled
//! from the pairing (an egress record with no return traffic is
//! `unanswered`).

use std::net::IpAddr;

use serde::Serialize;

use super::names::NameIndex;
use super::{Classification, Classifier, Outcome, Role};
use crate::flow::{Flow, FlowKey};
use crate::topology::{Text, TopologyIndex};

/// An egress flow with the records that answered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Conversation<'a> {
    /// Index of the egress flow in the input slice.
    pub flow: usize,
    /// Indices of the reply records attached to it.
    pub replies: Vec<usize>,
    pub classification: Classification<'a>,
}

/// All flows, classified and paired.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Conversations<'a> {
    /// One per egress flow, in input order.
    pub conversations: Vec<Conversation<'a>>,
    /// Replies and inbound records with no egress flow to attach to, with
    /// their classification (role `reply` or `inbound`).
    pub unpaired: Vec<(usize, Classification<'a>)>,
    /// Records of NAT / endpoint ENIs.
    pub transit: Vec<usize>,
}

/// Seconds before an egress record's start that a reply may start (windows
/// of different ENIs/records do not line up exactly).
pub const PAIR_BEFORE_SECS: u64 = 60;
/// Seconds after an egress record's end that a reply may start.
pub const PAIR_AFTER_SECS: u64 = 600;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum HostKey {
    Eni(Text),
    Addr(IpAddr),
    None,
}

fn host_key(flow: &Flow) -> HostKey {
    if let Some(i) = &flow.interface_id {
        return HostKey::Eni(i.clone());
    }
    match flow.capture.as_deref().and_then(|c| c.capture_host) {
        Some(h) => HostKey::Addr(h),
        None => HostKey::None,
    }
}

/// Classify every flow (in parallel), attach replies to their egress flow
/// and settle flow-log outcomes. Deterministic for any thread count.
pub fn classify_conversations<'a>(
    flows: &'a [Flow],
    index: &'a TopologyIndex,
    names: &NameIndex,
) -> Conversations<'a> {
    use rayon::prelude::*;
    use std::collections::{HashMap, HashSet};
    // foldhash with a fixed seed: fast, and the same on every run (nothing
    // here iterates a map, so output order never depends on it anyway).
    type State = foldhash::fast::FixedState;

    let classes: Vec<Classification> = flows
        .par_iter()
        .map_init(|| Classifier::new(index, names), |c, f| c.classify(f))
        .collect();

    // Egress flows by (host, key).
    let mut egress: HashMap<(HostKey, FlowKey), Vec<usize>, State> = HashMap::default();
    let mut has_ingress: HashSet<HostKey, State> = HashSet::default();
    for (i, (f, c)) in flows.iter().zip(&classes).enumerate() {
        if c.role == Role::Egress {
            if let Some(k) = f.key() {
                egress.entry((host_key(f), k)).or_default().push(i);
            }
        }
        if matches!(c.role, Role::Reply | Role::Inbound) {
            has_ingress.insert(host_key(f));
        }
    }
    let mut replies: Vec<Vec<usize>> = vec![Vec::new(); flows.len()];
    let mut answered_groups: HashSet<(HostKey, FlowKey), State> = HashSet::default();
    let mut unpaired = Vec::new();
    let mut transit = Vec::new();
    for (i, (f, c)) in flows.iter().zip(&classes).enumerate() {
        match c.role {
            Role::Egress => continue,
            Role::Transit => {
                transit.push(i);
                continue;
            }
            Role::Reply | Role::Inbound => {}
        }
        let group = f.key().map(|k| (host_key(f), k.reversed()));
        let start = f.start;
        let best = group
            .as_ref()
            .and_then(|g| egress.get(g))
            .and_then(|cands| {
                cands
                    .iter()
                    .filter(|&&e| {
                        let Some(ef) = flows.get(e) else { return false };
                        match (start, ef.start.or(ef.end), ef.end.or(ef.start)) {
                            (Some(s), Some(es), Some(ee)) => {
                                s.saturating_add(PAIR_BEFORE_SECS) >= es
                                    && s <= ee.saturating_add(PAIR_AFTER_SECS)
                            }
                            _ => true,
                        }
                    })
                    .min_by_key(|&&e| {
                        let es = flows.get(e).and_then(|ef| ef.start).unwrap_or(0);
                        (start.unwrap_or(0).abs_diff(es), e)
                    })
                    .copied()
            });
        match (best, group) {
            (Some(e), Some(g)) => {
                if let Some(r) = replies.get_mut(e) {
                    r.push(i);
                }
                if f.action != Some(crate::flow::Action::Reject) {
                    answered_groups.insert(g);
                }
            }
            _ => {
                if let Some(c) = classes.get(i) {
                    unpaired.push((i, c.clone()));
                }
            }
        }
    }
    let mut conversations =
        Vec::with_capacity(classes.iter().filter(|c| c.role == Role::Egress).count());
    for (i, (f, mut c)) in flows.iter().zip(classes).enumerate() {
        if c.role != Role::Egress {
            continue;
        }
        let r = replies.get_mut(i).map(std::mem::take).unwrap_or_default();
        if c.outcome == Outcome::Unknown {
            let hk = host_key(f);
            let answered = f
                .key()
                .is_some_and(|k| answered_groups.contains(&(hk.clone(), k)));
            if answered {
                c.outcome = Outcome::Answered;
            } else if !r.is_empty() {
                // Only rejected replies came back.
                c.outcome = Outcome::Rejected;
            } else if has_ingress.contains(&hk) {
                c.outcome = Outcome::Unanswered;
            }
        }
        conversations.push(Conversation {
            flow: i,
            replies: r,
            classification: c,
        });
    }
    Conversations {
        conversations,
        unpaired,
        transit,
    }
}
