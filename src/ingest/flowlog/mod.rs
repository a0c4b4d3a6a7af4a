//! VPC Flow Logs: text (any field order), gzip, JSON wrappers, CloudWatch
//! exports and subscription payloads, Parquet.
//!
//! Reusable entries for lines that come from elsewhere (CloudWatch pulls,
//! tests): [`FieldPlan::from_format`] / [`FieldPlan::default_v2`] resolve a
//! layout once, [`ingest_line`] parses one line into a [`FlowSink`] and
//! tallies what it was, [`parse_line`] is the pure parser.

use crate::flow::{ContextCache, ContextScratch, Provenance, SourceTally, Text};
use crate::ingest::FlowSink;

pub mod fields;
pub mod header;
pub mod json;
pub mod line;
pub mod parquet;
pub mod text;

pub use fields::FieldId;
pub use header::{DEFAULT_V2_FORMAT, FieldPlan, FormatError, Slot};
pub use line::{LineError, parse_line};

/// What [`ingest_line`] made of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineOutcome {
    /// A flow was pushed into the sink.
    Flow,
    /// A NODATA or SKIPDATA row, counted per interface.
    Status,
    /// A header line (counted and skipped).
    Header,
    /// Empty or whitespace only.
    Blank,
    /// A bad record (counted under its reason, example kept).
    Bad,
}

/// How a record's position is named in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Where {
    /// `file:12: …`
    Line,
    /// `file: event 12: …`
    Event,
    /// `file: row 12: …`
    Row,
}

pub(crate) fn locate(name: &str, at: Where, index: u64) -> String {
    match at {
        Where::Line => format!("{name}:{index}"),
        Where::Event => format!("{name}: event {index}"),
        Where::Row => format!("{name}: row {index}"),
    }
}

/// Parse one flow-log line (a record, a header, blank, or `{"message": …}`)
/// with `plan`, push the flow into `sink` and count it in `tally`. Problems
/// are tallied with an example `name:line: reason`; nothing is returned as
/// an error. A header line is counted and skipped (the plan is not changed:
/// readers that follow headers use their own state).
pub fn ingest_line<S: FlowSink>(
    line: &str,
    plan: &FieldPlan,
    prov: Provenance,
    name: &str,
    tally: &mut SourceTally,
    sink: &mut S,
) -> LineOutcome {
    let mut state = PlanState::fixed(plan);
    // One record on its own: nothing to share it with.
    state.contexts = ContextCache::unshared();
    state.ingest(line, prov, name, Where::Line, tally, sink)
}

/// The layout in effect while reading one input: the starting plan, and the
/// plan of the last header seen (S3 files, concatenations of them).
#[derive(Debug)]
pub(crate) struct PlanState<'p> {
    base: &'p FieldPlan,
    current: Option<FieldPlan>,
    follow_headers: bool,
    /// The records read with this state share their equal contexts.
    contexts: ContextCache,
    /// The context fields of the record being read.
    scratch: ContextScratch,
}

impl<'p> PlanState<'p> {
    pub(crate) fn following(base: &'p FieldPlan) -> Self {
        PlanState {
            base,
            current: None,
            follow_headers: true,
            contexts: ContextCache::default(),
            scratch: ContextScratch::default(),
        }
    }

    pub(crate) fn fixed(base: &'p FieldPlan) -> Self {
        PlanState {
            base,
            current: None,
            follow_headers: false,
            contexts: ContextCache::default(),
            scratch: ContextScratch::default(),
        }
    }

    /// The plan of the last header seen, if any.
    pub(crate) fn into_switched(self) -> Option<FieldPlan> {
        self.current
    }

    pub(crate) fn ingest<S: FlowSink>(
        &mut self,
        raw: &str,
        prov: Provenance,
        name: &str,
        at: Where,
        tally: &mut SourceTally,
        sink: &mut S,
    ) -> LineOutcome {
        let line = raw.trim_matches(|c: char| c == ' ' || c == '\t' || c == '\r' || c == '\n');
        let Some(&first) = line.as_bytes().first() else {
            tally.blank += 1;
            return LineOutcome::Blank;
        };
        if first == b'{' {
            return match json::unwrap_message(line) {
                Ok(inner) => {
                    let inner = inner
                        .trim_matches(|c: char| c == ' ' || c == '\t' || c == '\r' || c == '\n');
                    if inner.starts_with('{') {
                        self.bad(
                            &LineError::Json("nested json".into()),
                            name,
                            at,
                            prov,
                            tally,
                        )
                    } else {
                        self.ingest(inner, prov, name, at, tally, sink)
                    }
                }
                Err(e) => self.bad(&e, name, at, prov, tally),
            };
        }
        if first.is_ascii_lowercase() || first == b'$' {
            if header::is_header_line(line) {
                tally.headers += 1;
                if self.follow_headers {
                    match FieldPlan::from_format(line) {
                        Ok(p) => {
                            warn_unknown(&p, name, tally);
                            self.current = Some(p);
                        }
                        Err(e) => {
                            tally.skip("invalid header", || {
                                format!("{}: invalid header: {e}", locate(name, at, prov.index))
                            });
                        }
                    }
                }
                return LineOutcome::Header;
            }
        }
        let mut flow = crate::flow::Flow::default();
        // What a bad or status line left behind is not this record's.
        self.scratch.clear();
        // The plan in effect (fields borrowed apart from the scratch).
        let plan = self.current.as_ref().unwrap_or(self.base);
        match line::parse_line_with(line, plan, &mut flow, &mut self.scratch) {
            Ok(()) => {
                flow.provenance = prov;
                match flow.log_status {
                    Some(crate::flow::LogStatus::NoData) => {
                        count_status(&mut tally.nodata, &flow);
                        LineOutcome::Status
                    }
                    Some(crate::flow::LogStatus::SkipData) => {
                        count_status(&mut tally.skipdata, &flow);
                        LineOutcome::Status
                    }
                    _ => {
                        tally.records += 1;
                        flow.context = self.contexts.share(&mut self.scratch);
                        sink.push(flow);
                        LineOutcome::Flow
                    }
                }
            }
            Err(e) => self.bad(&e, name, at, prov, tally),
        }
    }

    fn bad(
        &self,
        e: &LineError,
        name: &str,
        at: Where,
        prov: Provenance,
        tally: &mut SourceTally,
    ) -> LineOutcome {
        tally.skip(e.reason(), || {
            format!("{}: {e}", locate(name, at, prov.index))
        });
        LineOutcome::Bad
    }
}

fn count_status(map: &mut std::collections::BTreeMap<Text, u64>, flow: &crate::flow::Flow) {
    let key = flow.interface_id.clone().unwrap_or_else(|| Text::new("-"));
    *map.entry(key).or_insert(0) += 1;
}

/// One warning per input for each field name this build does not know.
pub(crate) fn warn_unknown(plan: &FieldPlan, name: &str, tally: &mut SourceTally) {
    for u in plan.unknown_fields() {
        tally.warn(format!(
            "{name}: unknown field '{u}' kept as string column '{}'",
            fields::column_name(u)
        ));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::flow::{Flow, SourceId};

    fn prov(i: u64) -> Provenance {
        Provenance {
            source: SourceId(0),
            index: i,
        }
    }

    #[test]
    fn ingest_line_tallies_every_kind_of_line() {
        let plan = FieldPlan::default_v2();
        let mut t = SourceTally::default();
        let mut sink: Vec<Flow> = Vec::new();
        let lines = [
            "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status",
            "2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 20 4249 1 2 ACCEPT OK\r",
            "",
            "{\"message\":\"2 428961148399 eni-0e0 - - - - - - - 1671029698 1671029728 - NODATA\"}",
            "2 1 eni-2 - - - - - - - 1 2 - SKIPDATA",
            "2 1 eni-2 10.0.0.1 10.0.0.2 1 http 6 20 4249 1 2 ACCEPT OK",
            "{\"msg\": 1}",
        ];
        let got: Vec<LineOutcome> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| ingest_line(l, &plan, prov(i as u64 + 1), "a.log", &mut t, &mut sink))
            .collect();
        use LineOutcome as O;
        assert_eq!(
            got,
            [
                O::Header,
                O::Flow,
                O::Blank,
                O::Status,
                O::Status,
                O::Bad,
                O::Bad
            ]
        );
        assert_eq!(sink.len(), 1);
        assert_eq!(sink[0].provenance.index, 2);
        assert_eq!(t.records, 1);
        assert_eq!(t.headers, 1);
        assert_eq!(t.nodata.get("eni-0e0"), Some(&1));
        assert_eq!(t.skipdata.get("eni-2"), Some(&1));
        assert_eq!(
            t.examples[0],
            "a.log:6: field 'dstport': invalid number \"http\""
        );
        assert_eq!(t.skipped.get("invalid json"), Some(&1));
    }

    #[test]
    fn records_read_with_one_state_share_equal_contexts() {
        let plan = FieldPlan::from_format(
            "account-id interface-id srcaddr dstaddr vpc-id subnet-id instance-id type az-id",
        )
        .unwrap();
        let mut st = PlanState::fixed(&plan);
        let mut t = SourceTally::default();
        let mut sink: Vec<Flow> = Vec::new();
        for (i, l) in [
            "1 eni-1 10.0.0.1 52.219.60.1 vpc-1 subnet-1 i-1 IPv4 euw1-az1",
            "1 eni-2 10.0.0.2 52.219.60.1 vpc-1 subnet-2 i-2 IPv4 euw1-az2",
            "1 eni-1 10.0.0.1 52.219.60.2 vpc-1 subnet-1 i-1 IPv4 euw1-az1",
            "- eni-3 10.0.0.3 52.219.60.3 - - - - -",
        ]
        .iter()
        .enumerate()
        {
            st.ingest(l, prov(i as u64 + 1), "x", Where::Line, &mut t, &mut sink);
        }
        let ctx: Vec<Option<&std::sync::Arc<crate::flow::RecordContext>>> =
            sink.iter().map(|f| f.context.as_ref()).collect();
        let same = |a: usize, b: usize| match (ctx[a], ctx[b]) {
            (Some(x), Some(y)) => std::sync::Arc::ptr_eq(x, y),
            _ => false,
        };
        assert!(same(0, 2), "the two eni-1 records share one context");
        assert!(!same(0, 1));
        assert_eq!(sink[1].context().subnet_id.as_deref(), Some("subnet-2"));
        assert_eq!(sink[2].context().az_id.as_deref(), Some("euw1-az1"));
        assert_eq!(sink[0].context().account_id.as_deref(), Some("1"));
        // A record that logs none of the fields has none.
        assert!(sink[3].context.is_none());
        assert_eq!(sink[3].context().vpc_id, None);
    }

    #[test]
    fn following_state_switches_plan_on_header_and_warns_once() {
        let base = FieldPlan::default_v2();
        let mut st = PlanState::following(&base);
        let mut t = SourceTally::default();
        let mut sink: Vec<Flow> = Vec::new();
        for (i, l) in [
            "srcaddr dstaddr encryption-status",
            "10.0.0.1 10.0.0.2 1",
            "srcaddr dstaddr encryption-status",
            "10.0.0.3 10.0.0.4 -",
        ]
        .iter()
        .enumerate()
        {
            st.ingest(l, prov(i as u64 + 1), "x", Where::Line, &mut t, &mut sink);
        }
        assert_eq!(sink.len(), 2);
        assert_eq!(
            sink[0].extra,
            vec![("encryption_status".into(), "1".into())]
        );
        assert!(sink[1].extra.is_empty());
        assert_eq!(t.warnings.len(), 1, "{:?}", t.warnings);
        assert!(st.into_switched().is_some());
    }
}
