//! The hot-path accumulator: classified flows in, fine-grained counters out.
//!
//! One [`Collector`] per worker; [`Collector::merge`] combines them. Every
//! kept list is "the smallest N by a total order", so the result does not
//! depend on how the input was split between workers (same output for any
//! `-j`). No polars here: [`super::aggregate`] rolls the groups up.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::flow::{Flow, SourceId, Text, protocol_name};

use super::expect::{ExpectSet, Expectation};
use super::{DEFAULT_EXAMPLES, FlowRecord, Host, MAX_EVIDENCE, Outcome, PathKind, Violation};

/// Width of the finest time bucket kept per group, in seconds.
pub const MINUTE: u64 = 60;

/// One classified flow, as the collector takes it.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub flow: &'a Flow,
    /// The flow's index in the input (the flow itself is moved into its
    /// record at [`Collector::finish`], not copied here).
    pub index: usize,
    pub service: &'a str,
    pub host: &'a Host,
    pub path: PathKind,
    pub outcome: Outcome,
    /// The `vpce-…` id when the path is an endpoint.
    pub endpoint_id: Option<&'a str>,
    /// One line: route table, route, target, endpoint, how the service was attributed.
    pub evidence: &'a str,
}

/// The finest grouping kept: everything the rollups and the timeline need.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupKey {
    pub service: Text,
    pub host: Host,
    pub path: PathKind,
    pub outcome: Outcome,
    pub endpoint_id: Option<Text>,
    /// Start of the minute the flow started in.
    pub minute: u64,
}

/// Counters of one group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counters {
    pub flows: u64,
    pub packets: u64,
    pub bytes: u64,
    pub first: u64,
    pub last: u64,
}

impl Counters {
    fn add(&mut self, other: &Counters) {
        self.flows += other.flows;
        self.packets += other.packets;
        self.bytes += other.bytes;
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
    }
}

/// The first K flows of a group by (time, host, destination, …): at most
/// 2K held while collecting, cut to K by [`FirstK::cut`]. Which K survive
/// does not depend on the order flows arrive in or on how the input was
/// split between workers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstK<T> {
    pub items: Vec<T>,
    /// Once K were kept: the time of the K-th. A later flow cannot make the
    /// cut, so it is not even described ([`FirstK::wants`]).
    cutoff: Option<u64>,
}

impl<T> Default for FirstK<T> {
    fn default() -> Self {
        FirstK {
            items: Vec::new(),
            cutoff: None,
        }
    }
}

/// Something kept by [`FirstK`]: ordered by its time first.
pub trait Timed: Ord {
    fn time(&self) -> u64;
}

impl Timed for Violation {
    fn time(&self) -> u64 {
        self.time
    }
}

/// An example flow of a path as the collector keeps it: a few numbers, no
/// strings (it is described, with its input's name, only if it makes the
/// cut). Ordered by time, then the input's name (its rank among the names,
/// so the order of the inputs does not matter) and record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Example {
    pub time: u64,
    pub name_rank: u32,
    pub index: u64,
    pub source: SourceId,
    pub protocol: Option<u8>,
    pub dst: Option<std::net::IpAddr>,
    pub dst_port: Option<u16>,
    pub outcome: Outcome,
}

impl Timed for Example {
    fn time(&self) -> u64 {
        self.time
    }
}

impl<T: Timed> FirstK<T> {
    /// Could a flow at `time` be among the first `k`?
    pub fn wants(&self, time: u64, k: usize) -> bool {
        k > 0 && self.cutoff.is_none_or(|c| time <= c)
    }

    pub fn push(&mut self, v: T, k: usize) {
        self.items.push(v);
        if self.items.len() > 2 * k {
            self.cut(k);
        }
    }

    /// Fold another part's list in.
    pub fn merge(&mut self, other: FirstK<T>, k: usize) {
        self.items.extend(other.items);
        // The K-th of the union is no later than either part's K-th.
        self.cutoff = match (self.cutoff, other.cutoff) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if self.items.len() > 2 * k {
            self.cut(k);
        }
    }

    /// Sort, drop repeats, keep the first `k`.
    pub fn cut(&mut self, k: usize) {
        self.items.sort();
        self.items.dedup();
        self.items.truncate(k);
        if self.items.len() == k {
            self.cutoff = self.items.last().map(Timed::time);
        }
    }
}

/// An expectation's tally for one host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostTally {
    pub flows: u64,
    pub violations_total: u64,
    /// The first K offending flows by (time, host, …) once finished.
    pub violations: FirstK<Violation>,
}

/// What is kept of one (service, host, path) besides its counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathEvidence {
    /// Distinct evidence lines with the flows each covers: the smallest
    /// [`MAX_EVIDENCE`].
    pub lines: BTreeMap<String, EvidenceTally>,
    /// The first K flows (examples): described at [`Collector::finish`].
    pub examples: FirstK<Example>,
}

/// What a finished collector keeps of one (service, host, path).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathKept {
    /// Distinct evidence lines with the flows each covers.
    pub lines: BTreeMap<String, EvidenceTally>,
    /// The first K flows, with their input file and line, by time.
    pub examples: Vec<Violation>,
}

/// How many flows carried one evidence line, and the first few of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvidenceTally {
    pub flows: u64,
    /// The first [`MAX_EXAMPLES`] flows by (time, record index, input):
    /// where to look. Time first, so the choice does not depend on the
    /// order the inputs were given in.
    pub examples: BTreeSet<(u64, u64, SourceId)>,
}

impl EvidenceTally {
    fn merge(&mut self, other: EvidenceTally) {
        self.flows += other.flows;
        for e in other.examples {
            self.examples.insert(e);
            while self.examples.len() > MAX_EXAMPLES {
                self.examples.pop_last();
            }
        }
    }
}

/// Example flows kept per evidence line.
pub const MAX_EXAMPLES: usize = 3;

/// Distinct evidence lines with their tallies, per (service, host, path),
/// while collecting.
pub type EvidenceMap = BTreeMap<(Text, Host, PathKind), PathEvidence>;

/// Per-worker accumulator. `'a` borrows the run's expectations and input names.
#[derive(Debug, Clone)]
pub struct Collector<'a> {
    expect: &'a ExpectSet,
    source_names: &'a [String],
    keep_flows: bool,
    /// K: flows kept per path and per expectation and host (`--examples`).
    examples: usize,
    /// Each input's rank among the input names (by name).
    name_rank: Vec<u32>,
    /// Hashed with foldhash (seeded per run: the keys come from the input);
    /// sorted by key when finished, so the order never shows.
    pub groups: HashMap<GroupKey, Counters, foldhash::fast::RandomState>,
    /// Evidence lines, each with its flows counted (the smallest
    /// [`MAX_EVIDENCE`]: a line dropped here has `MAX_EVIDENCE` smaller ones
    /// in every merge, so the kept counts are exact for any split of the
    /// input), and example flows per (service, host, path).
    pub evidence: EvidenceMap,
    /// Per expectation (index into `expect.flows`), per host.
    pub expectations: Vec<BTreeMap<Host, HostTally>>,
    /// Flows counted per input.
    pub flows_per_source: BTreeMap<SourceId, u64>,
    /// Flows outside `--since/--until`.
    pub outside_window: u64,
    /// Status-only rows (NODATA/SKIPDATA): not flows.
    pub status_rows: u64,
    kept: Vec<KeptFlow>,
}

/// A flow kept for the record outputs, before its flow is moved in.
#[derive(Debug, Clone, PartialEq, Eq)]
struct KeptFlow {
    index: usize,
    service: Text,
    host: Host,
    path: PathKind,
    outcome: Outcome,
    endpoint_id: Option<Text>,
    evidence: String,
}

impl<'a> Collector<'a> {
    pub fn new(
        expect: &'a ExpectSet,
        source_names: &'a [String],
        keep_flows: bool,
    ) -> Collector<'a> {
        Collector {
            expect,
            source_names,
            keep_flows,
            examples: DEFAULT_EXAMPLES,
            name_rank: {
                let mut order: Vec<usize> = (0..source_names.len()).collect();
                order.sort_by(|&a, &b| source_names.get(a).cmp(&source_names.get(b)));
                let mut rank = vec![0u32; source_names.len()];
                for (r, i) in order.into_iter().enumerate() {
                    if let Some(x) = rank.get_mut(i) {
                        *x = u32::try_from(r).unwrap_or(u32::MAX);
                    }
                }
                rank
            },
            groups: HashMap::default(),
            evidence: BTreeMap::new(),
            expectations: vec![BTreeMap::new(); expect.flows.len()],
            flows_per_source: BTreeMap::new(),
            outside_window: 0,
            status_rows: 0,
            kept: Vec::new(),
        }
    }

    /// Keep `k` flows per path and per expectation and host (`--examples`).
    pub fn with_examples(mut self, k: usize) -> Collector<'a> {
        self.examples = k;
        self
    }

    /// The time a flow is filed under: its start, else its end.
    pub fn flow_time(flow: &Flow) -> Option<u64> {
        flow.start.or(flow.end)
    }

    /// True when the flow starts inside `--since/--until` (a flow is filed
    /// under its start; flows without a time are kept: nothing says they are
    /// outside).
    pub fn in_window(&self, flow: &Flow) -> bool {
        let Some(start) = flow.start.or(flow.end) else {
            return true;
        };
        self.expect.since.is_none_or(|s| start >= s) && self.expect.until.is_none_or(|u| start <= u)
    }

    /// Count a row that is not a flow (NODATA/SKIPDATA).
    pub fn add_status_row(&mut self) {
        self.status_rows += 1;
    }

    /// Count one classified flow. Returns false when it was outside the
    /// expectations' window (it still counts in the verdicts).
    pub fn add(&mut self, f: Facts<'_>) -> bool {
        let in_window = self.in_window(f.flow);
        if !in_window {
            self.outside_window += 1;
        }
        let time = Collector::flow_time(f.flow).unwrap_or(0);
        let end = f.flow.end.unwrap_or(time).max(time);
        *self
            .flows_per_source
            .entry(f.flow.provenance.source)
            .or_insert(0) += 1;
        let key = GroupKey {
            service: Text::from(f.service),
            host: f.host.clone(),
            path: f.path,
            outcome: f.outcome,
            endpoint_id: f.endpoint_id.map(Text::from),
            minute: time - time % MINUTE,
        };
        let c = Counters {
            flows: 1,
            packets: f.flow.packets.unwrap_or(0),
            bytes: f.flow.bytes.unwrap_or(0),
            first: time,
            last: end,
        };
        self.groups
            .entry(key)
            .and_modify(|g| g.add(&c))
            .or_insert(c);

        let ev_key = (Text::from(f.service), f.host.clone(), f.path);
        let k = self.examples;
        let pe = self.evidence.entry(ev_key).or_default();
        if !f.evidence.is_empty() {
            let example = (time, f.flow.provenance.index, f.flow.provenance.source);
            let tally = EvidenceTally {
                flows: 1,
                examples: BTreeSet::from([example]),
            };
            if let Some(t) = pe.lines.get_mut(f.evidence) {
                t.merge(tally);
            } else {
                insert_capped(&mut pe.lines, f.evidence.to_owned(), tally, MAX_EVIDENCE);
            }
        }
        if pe.examples.wants(time, k) {
            let flow = f.flow;
            pe.examples.push(
                Example {
                    time,
                    name_rank: usize::try_from(flow.provenance.source.0)
                        .ok()
                        .and_then(|i| self.name_rank.get(i))
                        .copied()
                        .unwrap_or(u32::MAX),
                    source: flow.provenance.source,
                    index: flow.provenance.index,
                    protocol: flow.protocol,
                    dst: flow.effective_dst(),
                    dst_port: flow.dst_port,
                    outcome: f.outcome,
                },
                k,
            );
        }

        // `--since/--until` scope the expectations; verdicts, timeline and
        // every other view cover all the evidence.
        let checked = if in_window {
            self.expect.flows.as_slice()
        } else {
            &[]
        };
        for (i, e) in checked.iter().enumerate() {
            if !e.matches(f.service, f.host) {
                continue;
            }
            let violated = e.violated_by(f.path, f.outcome);
            let Some(per_host) = self.expectations.get_mut(i) else {
                continue;
            };
            let tally = match per_host.get_mut(f.host) {
                Some(t) => t,
                None => per_host.entry(f.host.clone()).or_default(),
            };
            tally.flows += 1;
            if violated {
                tally.violations_total += 1;
                if tally.violations.wants(time, k) {
                    tally
                        .violations
                        .push(violation(&f, time, self.source_names), k);
                }
            }
        }

        if self.keep_flows {
            self.kept.push(KeptFlow {
                index: f.index,
                service: Text::from(f.service),
                host: f.host.clone(),
                path: f.path,
                outcome: f.outcome,
                endpoint_id: f.endpoint_id.map(Text::from),
                evidence: f.evidence.to_owned(),
            });
        }
        in_window
    }

    /// Fold `other` (any part of the input) into `self`.
    pub fn merge(&mut self, other: Collector<'a>) {
        // Summing is order-independent; output is sorted in `finish`.
        #[allow(clippy::iter_over_hash_type)]
        for (k, c) in other.groups {
            self.groups.entry(k).and_modify(|g| g.add(&c)).or_insert(c);
        }
        let k = self.examples;
        for (key, pe) in other.evidence {
            let mine = self.evidence.entry(key).or_default();
            for (e, t) in pe.lines {
                if let Some(m) = mine.lines.get_mut(&e) {
                    m.merge(t);
                } else {
                    insert_capped(&mut mine.lines, e, t, MAX_EVIDENCE);
                }
            }
            mine.examples.merge(pe.examples, k);
        }
        for (mine, theirs) in self.expectations.iter_mut().zip(other.expectations) {
            for (host, t) in theirs {
                let m = mine.entry(host).or_default();
                m.flows += t.flows;
                m.violations_total += t.violations_total;
                m.violations.merge(t.violations, k);
            }
        }
        for (s, n) in other.flows_per_source {
            *self.flows_per_source.entry(s).or_insert(0) += n;
        }
        self.outside_window += other.outside_window;
        self.status_rows += other.status_rows;
        self.kept.extend(other.kept);
    }

    /// Sort and trim everything kept, ready for [`super::aggregate`].
    /// `flows` are the input's flows in index order ([`Facts::index`]):
    /// each kept one is moved into its record, the others are dropped.
    pub fn finish(mut self, flows: impl IntoIterator<Item = Flow>) -> Finished {
        let k = self.examples;
        for per_host in &mut self.expectations {
            for t in per_host.values_mut() {
                t.violations.cut(k);
            }
        }
        let names = self.source_names;
        let evidence = self
            .evidence
            .into_iter()
            .map(|((service, host, path), mut pe)| {
                pe.examples.cut(k);
                let examples = pe
                    .examples
                    .items
                    .iter()
                    .map(|x| Violation {
                        time: x.time,
                        host: host.clone(),
                        destination: destination(x.protocol, x.dst, x.dst_port),
                        path: Some(path),
                        outcome: Some(x.outcome),
                        evidence: String::new(),
                        source: format!("{}:{}", source_name(names, x.source), x.index),
                    })
                    .collect();
                (
                    (service, host, path),
                    PathKept {
                        lines: pe.lines,
                        examples,
                    },
                )
            })
            .collect();
        self.kept.sort_by_key(|k| k.index);
        let mut records = Vec::with_capacity(self.kept.len());
        let mut want = self.kept.into_iter().peekable();
        for (i, flow) in flows.into_iter().enumerate() {
            if want.peek().is_none() {
                break;
            }
            // The last record kept for this flow takes it, any before it a copy.
            let mut flow = Some(flow);
            while let Some(k) = want.next_if(|k| k.index == i) {
                let last = want.peek().is_none_or(|n| n.index != i);
                let f = if last { flow.take() } else { flow.clone() };
                if let Some(f) = f {
                    let source_file = source_name(self.source_names, f.provenance.source);
                    records.push(kept_record(k, f, source_file));
                }
            }
        }
        records.sort_by(|a, b| {
            let ka = (Collector::flow_time(&a.flow), a.flow.provenance);
            let kb = (Collector::flow_time(&b.flow), b.flow.provenance);
            ka.cmp(&kb)
        });
        let mut groups: Vec<(GroupKey, Counters)> = self.groups.into_iter().collect();
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        Finished {
            examples: k,
            expect: self.expect.clone(),
            groups,
            evidence,
            source_names: self.source_names.to_vec(),
            expectations: self.expectations,
            flows_per_source: self.flows_per_source,
            outside_window: self.outside_window,
            status_rows: self.status_rows,
            kept: records,
        }
    }
}

fn kept_record(k: KeptFlow, flow: Flow, source_file: String) -> FlowRecord {
    FlowRecord {
        flow,
        service: k.service,
        host: k.host,
        path: k.path,
        outcome: k.outcome,
        endpoint_id: k.endpoint_id,
        evidence: k.evidence,
        source_file,
    }
}

/// A finished collector: sorted, owned, no borrows.
#[derive(Debug, Clone, Default)]
pub struct Finished {
    /// K of `--examples`.
    pub examples: usize,
    pub expect: ExpectSet,
    pub groups: Vec<(GroupKey, Counters)>,
    pub evidence: BTreeMap<(Text, Host, PathKind), PathKept>,
    /// The inputs' names, by [`SourceId`], for the evidence examples.
    pub source_names: Vec<String>,
    pub expectations: Vec<BTreeMap<Host, HostTally>>,
    pub flows_per_source: BTreeMap<SourceId, u64>,
    pub outside_window: u64,
    pub status_rows: u64,
    pub kept: Vec<FlowRecord>,
}

fn insert_capped(
    map: &mut BTreeMap<String, EvidenceTally>,
    key: String,
    value: EvidenceTally,
    cap: usize,
) {
    map.insert(key, value);
    while map.len() > cap {
        map.pop_last();
    }
}

/// `file:line` of an evidence example.
pub fn example_name(names: &[String], (_, index, source): (u64, u64, SourceId)) -> String {
    format!("{}:{index}", source_name(names, source))
}

fn source_name(names: &[String], id: SourceId) -> String {
    usize::try_from(id.0)
        .ok()
        .and_then(|i| names.get(i))
        .cloned()
        .unwrap_or_else(|| format!("input #{}", id.0))
}

/// `tcp 52.219.60.1:443`
fn destination(protocol: Option<u8>, dst: Option<std::net::IpAddr>, port: Option<u16>) -> String {
    let proto = protocol.map_or_else(|| "?".into(), protocol_name);
    match (dst, port) {
        (Some(a), Some(p)) if p != 0 => format!("{proto} {}", std::net::SocketAddr::new(a, p)),
        (Some(a), _) => format!("{proto} {a}"),
        (None, _) => "unknown destination".to_owned(),
    }
}

fn violation(f: &Facts<'_>, time: u64, names: &[String]) -> Violation {
    let flow = f.flow;
    let destination = destination(flow.protocol, flow.effective_dst(), flow.dst_port);
    let name = source_name(names, flow.provenance.source);
    Violation {
        time,
        host: f.host.clone(),
        destination,
        path: Some(f.path),
        outcome: Some(f.outcome),
        evidence: f.evidence.to_owned(),
        source: format!("{name}:{}", flow.provenance.index),
    }
}

/// Expectation lookups used by the collector.
impl Expectation {
    /// Convenience for tests and callers: does this flow break it?
    pub fn breaks(&self, service: &str, host: &Host, path: PathKind, outcome: Outcome) -> bool {
        self.matches(service, host) && self.violated_by(path, outcome)
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;
    use crate::flow::Provenance;

    fn flow(start: u64, bytes: u64, index: u64) -> Flow {
        Flow {
            src_addr: Some("10.0.1.5".parse().unwrap()),
            dst_addr: Some("52.219.60.1".parse().unwrap()),
            src_port: Some(40000),
            dst_port: Some(443),
            protocol: Some(6),
            packets: Some(1),
            bytes: Some(bytes),
            start: Some(start),
            end: Some(start + 5),
            provenance: Provenance {
                source: SourceId(u32::try_from(index % 2).unwrap()),
                index,
            },
            ..Flow::default()
        }
    }

    fn host() -> Host {
        Host {
            instance_id: Some("i-0private".into()),
            addresses: std::sync::Arc::from(vec!["10.0.1.5".parse().unwrap()]),
            ..Host::default()
        }
    }

    #[test]
    fn collector_split_anywhere_gives_the_same_result() {
        let expect =
            ExpectSet::parse_cli(&["s3=gateway-endpoint".to_owned()], &[], None, None).unwrap();
        let names = vec!["a.log".to_owned(), "b.log".to_owned()];
        let flows: Vec<Flow> = (0..300).map(|i| flow(1_000 + i * 7, 100 + i, i)).collect();
        let h = host();
        let feed = |c: &mut Collector<'_>, fl: &[Flow]| {
            for f in fl {
                let i = f.provenance.index;
                let path = if i % 3 == 0 {
                    PathKind::InternetGateway
                } else {
                    PathKind::GatewayEndpoint
                };
                let ev = format!("route {:02}", i % 19);
                c.add(Facts {
                    flow: f,
                    index: usize::try_from(i).unwrap(),
                    service: "s3",
                    host: &h,
                    path,
                    outcome: Outcome::Answered,
                    endpoint_id: None,
                    evidence: &ev,
                });
            }
        };
        let mut whole = Collector::new(&expect, &names, true);
        feed(&mut whole, &flows);
        for split in [1, 50, 151, 299] {
            let (a, b) = flows.split_at(split);
            let mut ca = Collector::new(&expect, &names, true);
            let mut cb = Collector::new(&expect, &names, true);
            feed(&mut ca, a);
            feed(&mut cb, b);
            ca.merge(cb);
            let x = ca.finish(flows.clone());
            let y = whole.clone().finish(flows.clone());
            assert_eq!(x.groups, y.groups, "split at {split}");
            assert_eq!(x.expectations, y.expectations, "split at {split}");
            assert_eq!(x.kept, y.kept, "split at {split}");
        }
        let fin = whole.finish(flows.clone());
        assert_eq!(fin.kept.len(), 300);
        assert!(fin.kept.iter().zip(&flows).all(|(k, f)| k.flow == *f));
        let tally = &fin.expectations[0][&h];
        assert_eq!(tally.flows, 300);
        assert_eq!(tally.violations_total, 100);
        assert_eq!(tally.violations.items.len(), DEFAULT_EXAMPLES);
        assert!(tally.violations.items.windows(2).all(|w| w[0] <= w[1]));
        let pe = fin.evidence.values().next().unwrap();
        assert_eq!(pe.lines.len(), MAX_EVIDENCE);
        // Kept lines count every flow that carried them, whatever the split:
        // on the gateway endpoint (i % 3 != 0), i % 19 == 0 for 16 - 6 flows.
        assert_eq!(pe.lines["route 00"].flows, 10);
        assert_eq!(pe.lines["route 00"].examples.len(), MAX_EXAMPLES);
        assert_eq!(pe.examples.len(), DEFAULT_EXAMPLES);
    }

    /// `--examples K`: per path and per expectation and host, the first K
    /// flows by time, whatever the order and the split; never more than 2K
    /// held while collecting (memory bounded by K, not by the flows).
    #[test]
    fn collector_keeps_the_first_k_examples_in_bounded_memory() {
        let expect =
            ExpectSet::parse_cli(&["s3=gateway-endpoint".to_owned()], &[], None, None).unwrap();
        let names = vec!["a.log".to_owned(), "b.log".to_owned()];
        let h = host();
        // 5000 flows at scrambled times, all on the internet gateway.
        let flows: Vec<Flow> = (0..5000u64)
            .map(|i| flow(1_000 + (i * 7919) % 5000, 100, i))
            .collect();
        for k in [0, 1, 3, 20] {
            let feed = |c: &mut Collector<'_>, fl: &[Flow]| {
                for f in fl {
                    c.add(Facts {
                        flow: f,
                        index: usize::try_from(f.provenance.index).unwrap(),
                        service: "s3",
                        host: &h,
                        path: PathKind::InternetGateway,
                        outcome: Outcome::Answered,
                        endpoint_id: None,
                        evidence: "igw",
                    });
                    let pe = c.evidence.values().next().unwrap();
                    assert!(pe.examples.items.len() <= 2 * k, "k {k}");
                    let t = &c.expectations[0][&h];
                    assert!(t.violations.items.len() <= 2 * k, "k {k}");
                }
            };
            let mut whole = Collector::new(&expect, &names, false).with_examples(k);
            feed(&mut whole, &flows);
            let mut rev = Collector::new(&expect, &names, false).with_examples(k);
            let reversed: Vec<Flow> = flows.iter().rev().cloned().collect();
            feed(&mut rev, &reversed);
            let (a, b) = flows.split_at(1234);
            let mut ca = Collector::new(&expect, &names, false).with_examples(k);
            let mut cb = Collector::new(&expect, &names, false).with_examples(k);
            feed(&mut ca, b);
            feed(&mut cb, a);
            ca.merge(cb);
            let x = whole.finish(Vec::new());
            let pe = x.evidence.values().next().unwrap();
            let times: Vec<u64> = pe.examples.iter().map(|v| v.time).collect();
            assert_eq!(
                times,
                (1_000..1_000 + k as u64).collect::<Vec<_>>(),
                "k {k}"
            );
            assert!(pe.examples.iter().all(|v| v.source.ends_with(&format!(
                        ":{}",
                        (0..5000u64)
                            .find(|i| 1_000 + (i * 7919) % 5000 == v.time)
                            .unwrap()
                    ))));
            let t = &x.expectations[0][&h];
            assert_eq!(t.violations_total, 5000);
            let key = |v: &Violation| (v.time, v.source.clone(), v.destination.clone());
            assert_eq!(
                t.violations.items.iter().map(key).collect::<Vec<_>>(),
                pe.examples.iter().map(key).collect::<Vec<_>>(),
                "k {k}"
            );
            for other in [rev.finish(Vec::new()), ca.finish(Vec::new())] {
                assert_eq!(other.evidence, x.evidence, "k {k}");
                assert_eq!(other.expectations, x.expectations, "k {k}");
            }
        }
    }

    #[test]
    fn collector_window_limits_the_expectations_only() {
        let expect = ExpectSet::parse_cli(
            &["s3=internet-gateway".to_owned()],
            &[],
            Some("2000"),
            Some("3000"),
        )
        .unwrap();
        let names = vec![];
        let mut c = Collector::new(&expect, &names, false);
        let h = host();
        for (t, want) in [
            (1000, false),
            (1996, false),
            (2000, true),
            (3000, true),
            (3001, false),
        ] {
            let f = flow(t, 1, 0);
            let added = c.add(Facts {
                flow: &f,
                index: 0,
                service: "s3",
                host: &h,
                path: PathKind::GatewayEndpoint,
                outcome: Outcome::Answered,
                endpoint_id: None,
                evidence: "",
            });
            assert_eq!(added, want, "flow at {t}");
        }
        assert_eq!(c.outside_window, 3);
        let fin = c.finish(Vec::new());
        let flows: u64 = fin.groups.iter().map(|(_, c)| c.flows).sum();
        assert_eq!(flows, 5, "every flow is in the verdicts");
        let t = &fin.expectations[0][&h];
        assert_eq!(
            (t.flows, t.violations_total),
            (2, 2),
            "only the window is checked"
        );
    }
}
