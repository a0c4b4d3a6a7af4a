//! Replies attached to their egress flow, and flow-log outcomes settled
//! from the pairing (an egress record with no return traffic is
//! `unanswered`).

use std::net::IpAddr;

use serde::Serialize;

use super::names::NameIndex;
use super::{Classification, Classifier, Outcome, Role};
use crate::flow::{Flow, FlowKey};
use crate::ingest::Parts;
use crate::topology::{Text, TopologyIndex};

/// An egress flow with the records that answered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Conversation<'a> {
    /// Index of the egress flow in the input.
    pub flow: usize,
    /// Indices of the reply records attached to it.
    pub replies: &'a [usize],
    pub classification: Classification<'a>,
}

/// One egress flow's pairing: what [`Conversations`] keeps of it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Egress {
    flow: usize,
    /// Settled from the pairing (flow logs); the record's own otherwise.
    outcome: Outcome,
    replies: Vec<usize>,
}

/// All flows, classified and paired.
///
/// It keeps each egress flow's pairing and settled outcome, not its
/// classification: [`Conversations::iter`] and
/// [`Conversations::par_iter`] classify the flow again as they hand out
/// its [`Conversation`] (classifying is pure and cheap; holding a
/// classification per record is not, for logs of millions of records).
#[derive(Debug, Clone)]
pub struct Conversations<'a, 'n> {
    flows: &'a Parts<Flow>,
    index: &'a TopologyIndex,
    names: &'n NameIndex,
    /// One per egress flow, in input order.
    egress: Vec<Egress>,
    /// Replies and inbound records with no egress flow to attach to, with
    /// their role (`reply` or `inbound`).
    pub unpaired: Vec<(usize, Role)>,
    /// Records of NAT / endpoint ENIs.
    pub transit: Vec<usize>,
}

impl<'a> Conversations<'a, '_> {
    /// How many egress flows (conversations) there are.
    pub fn len(&self) -> usize {
        self.egress.len()
    }

    pub fn is_empty(&self) -> bool {
        self.egress.is_empty()
    }

    fn conversation<'s>(
        &'s self,
        c: &mut Classifier<'a, '_>,
        e: &'s Egress,
    ) -> Option<Conversation<'s>> {
        let flow = self.flows.get(e.flow)?;
        let mut classification = c.classify(flow);
        classification.outcome = e.outcome;
        Some(Conversation {
            flow: e.flow,
            replies: &e.replies,
            classification,
        })
    }

    /// The conversations in input order.
    pub fn iter(&self) -> impl Iterator<Item = Conversation<'_>> {
        let mut c = Classifier::new(self.index, self.names);
        self.egress
            .iter()
            .filter_map(move |e| self.conversation(&mut c, e))
    }

    /// The conversations, in parallel (each worker classifies its share).
    pub fn par_iter(&self) -> impl rayon::iter::ParallelIterator<Item = Conversation<'_>> {
        use rayon::prelude::*;
        self.egress
            .par_iter()
            .map_init(
                || Classifier::new(self.index, self.names),
                |c, e| self.conversation(c, e),
            )
            .flatten()
    }
}

/// Seconds before an egress record's start that a reply may start (windows
/// of different ENIs/records do not line up exactly).
pub const PAIR_BEFORE_SECS: u64 = 60;
/// Seconds after an egress record's end that a reply may start.
pub const PAIR_AFTER_SECS: u64 = 600;

/// The egress record a reply (or inbound record) starting at `start` pairs
/// with, among the candidates of its group: those whose span (`span(e)` =
/// start, end) the reply starts within, [`PAIR_BEFORE_SECS`] before to
/// [`PAIR_AFTER_SECS`] after (a record with no times is always in); the
/// nearest by start, then the lowest index. The one rule of the held and the
/// streamed engines.
pub fn nearest_egress(
    start: Option<u64>,
    cands: &[usize],
    span: impl Fn(usize) -> Option<(Option<u64>, Option<u64>)>,
) -> Option<usize> {
    cands
        .iter()
        .copied()
        .filter(|&e| {
            let Some((es, ee)) = span(e) else {
                return false;
            };
            match (start, es.or(ee), ee.or(es)) {
                (Some(s), Some(es), Some(ee)) => {
                    s.saturating_add(PAIR_BEFORE_SECS) >= es
                        && s <= ee.saturating_add(PAIR_AFTER_SECS)
                }
                _ => true,
            }
        })
        .min_by_key(|&e| {
            let es = span(e).and_then(|(s, _)| s).unwrap_or(0);
            (start.unwrap_or(0).abs_diff(es), e)
        })
}

/// What the pairing needs of a flow's classification.
#[derive(Debug, Clone, Copy)]
struct RoleOutcome {
    role: Role,
    outcome: Outcome,
}

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
pub fn classify_conversations<'a, 'n>(
    flows: &'a Parts<Flow>,
    index: &'a TopologyIndex,
    names: &'n NameIndex,
) -> Conversations<'a, 'n> {
    use rayon::prelude::*;
    use std::collections::{HashMap, HashSet};
    // foldhash, seeded per run (the keys come from the input: a fixed seed
    // would let a crafted log collide them); nothing here iterates a map,
    // so the output never depends on the seed.
    type State = foldhash::fast::RandomState;

    // Only each flow's role and own outcome are kept (two bytes).
    let classes: Vec<RoleOutcome> = flows
        .par_iter()
        .map_init(
            || Classifier::new(index, names),
            |c, f| {
                let x = c.classify(f);
                RoleOutcome {
                    role: x.role,
                    outcome: x.outcome,
                }
            },
        )
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
                nearest_egress(start, cands, |e| flows.get(e).map(|ef| (ef.start, ef.end)))
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
                unpaired.push((i, c.role));
            }
        }
    }
    let mut egress = Vec::with_capacity(classes.iter().filter(|c| c.role == Role::Egress).count());
    for (i, (f, c)) in flows.iter().zip(classes).enumerate() {
        if c.role != Role::Egress {
            continue;
        }
        let r = replies.get_mut(i).map(std::mem::take).unwrap_or_default();
        let mut outcome = c.outcome;
        if outcome == Outcome::Unknown {
            let hk = host_key(f);
            let answered = f
                .key()
                .is_some_and(|k| answered_groups.contains(&(hk.clone(), k)));
            if answered {
                outcome = Outcome::Answered;
            } else if !r.is_empty() {
                // Only rejected replies came back.
                outcome = Outcome::Rejected;
            } else if has_ingress.contains(&hk) {
                outcome = Outcome::Unanswered;
            }
        }
        egress.push(Egress {
            flow: i,
            outcome,
            replies: r,
        });
    }
    Conversations {
        flows,
        index,
        names,
        egress,
        unpaired,
        transit,
    }
}
