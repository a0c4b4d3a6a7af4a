//! Live read: events parsed as they arrive, with the same line parser and
//! tallies as flow-log files, in parallel within each page.

use rayon::prelude::*;

use super::fetch::{PageSink, drive};
use super::{CloudWatchError, CloudWatchSource, Event};
use crate::flow::{ApiCall, DnsRecord, Flow, Provenance, SourceId, SourceKind, SourceTally};
use crate::ingest::aws_logs::{self, Record};
use crate::ingest::flowlog::{FieldId, FieldPlan, PlanState, Where};
use crate::ingest::{FlowSink, IngestOptions, Ingested, SourceSummary};

/// Events parsed per rayon task: large enough to amortise a sink per task.
const PARSE_CHUNK: usize = 2_048;

/// Read the selected streams of a log group into sinks made by `make_sink`.
///
/// Every stream is one input: its [`SourceSummary`] (path
/// `cloudwatch:<group>/<stream>`, kind [`SourceKind::CloudWatch`]) counts
/// records, NODATA/SKIPDATA rows and bad records exactly as a file of the
/// same lines would. Source ids follow the sorted stream names, flows keep
/// each stream's event order and streams are merged in id order, so the
/// result does not depend on timing or thread count. Each event message is
/// one record in `opts.log_format` (default: version 2); an event's index in
/// its stream (1-based) is the flow's [`Provenance::index`]. When the
/// format has no `start`, the event timestamp (the record's start) fills it.
///
/// Fails before the first event for a bad `--log-format`, missing
/// credentials or region, a missing group or stream, denied access or an
/// unreachable endpoint; a stream that fails midway keeps what was read and
/// has `tally.error` set.
pub fn read_log_group<S, F>(
    src: &CloudWatchSource,
    opts: &IngestOptions,
    make_sink: F,
) -> Result<Ingested<S>, CloudWatchError>
where
    S: FlowSink,
    F: Fn() -> S + Sync,
{
    read_log_group_from(src, opts, SourceId(0), make_sink)
}

/// [`read_log_group`] with source ids starting at `first` (to follow the
/// ids of files read in the same run).
pub fn read_log_group_from<S, F>(
    src: &CloudWatchSource,
    opts: &IngestOptions,
    first: SourceId,
    make_sink: F,
) -> Result<Ingested<S>, CloudWatchError>
where
    S: FlowSink,
    F: Fn() -> S + Sync,
{
    let plan = record_plan(opts.log_format.as_deref())?;
    let fill_start = !plan.has(FieldId::Start);
    let reader = drive(src, opts.progress, |streams| {
        let mut states = Vec::with_capacity(streams.len());
        for (i, name) in streams.iter().enumerate() {
            let offset = u32::try_from(i).map_err(|_| too_many_streams(src))?;
            let id = first
                .0
                .checked_add(offset)
                .ok_or_else(|| too_many_streams(src))?;
            states.push(StreamState {
                id: SourceId(id),
                path: src.stream_path(name),
                sink: None,
                tally: SourceTally::default(),
                events: 0,
                dns: Vec::new(),
                calls: Vec::new(),
            });
        }
        Ok(GroupReader {
            plan: &plan,
            fill_start,
            make_sink: &make_sink,
            streams: states,
        })
    })?;
    let mut sink = make_sink();
    let mut sources = Vec::with_capacity(reader.streams.len());
    let mut dns = Vec::new();
    let mut api_calls = Vec::new();
    for st in reader.streams {
        if let Some(s) = st.sink {
            sink.merge(s);
        }
        // A Resolver or CloudTrail log group: its streams say so.
        let kind = if !st.dns.is_empty() {
            SourceKind::ResolverQueryLog
        } else if !st.calls.is_empty() {
            SourceKind::CloudTrail
        } else {
            SourceKind::CloudWatch
        };
        sources.push(SourceSummary {
            id: st.id,
            path: st.path,
            kind,
            tally: st.tally,
        });
        dns.extend(st.dns);
        api_calls.extend(st.calls);
    }
    Ok(Ingested {
        sink,
        sources,
        dns,
        api_calls,
        aside: Vec::new(),
    })
}

/// The plan records are parsed with: `--log-format`, else version 2.
pub(crate) fn record_plan(log_format: Option<&str>) -> Result<FieldPlan, CloudWatchError> {
    match log_format {
        Some(f) => FieldPlan::from_format(f).map_err(|e| CloudWatchError::Format(e.to_string())),
        None => Ok(FieldPlan::default_v2()),
    }
}

fn too_many_streams(src: &CloudWatchSource) -> CloudWatchError {
    CloudWatchError::Service {
        operation: "DescribeLogStreams",
        group: src.log_group.clone(),
        code: "too many log streams".to_owned(),
        message: format!("more than {} streams", u32::MAX),
    }
}

struct StreamState<S> {
    id: SourceId,
    path: String,
    /// Flows so far, in event order (`None` until the first page).
    sink: Option<S>,
    tally: SourceTally,
    /// Events seen so far: the next event's index is this + 1.
    events: u64,
    /// Resolver query log records and CloudTrail records among the events.
    dns: Vec<DnsRecord>,
    calls: Vec<ApiCall>,
}

/// What one chunk of events gave.
struct Parsed<S> {
    sink: S,
    tally: SourceTally,
    dns: Vec<DnsRecord>,
    calls: Vec<ApiCall>,
}

struct GroupReader<'a, S, F> {
    plan: &'a FieldPlan,
    fill_start: bool,
    make_sink: &'a F,
    streams: Vec<StreamState<S>>,
}

impl<S, F> PageSink for GroupReader<'_, S, F>
where
    S: FlowSink,
    F: Fn() -> S + Sync,
{
    fn page(&mut self, stream: usize, events: Vec<Event>) -> Result<(), CloudWatchError> {
        let Some(st) = self.streams.get_mut(stream) else {
            return Ok(());
        };
        let (plan, fill_start, make_sink) = (self.plan, self.fill_start, self.make_sink);
        let (id, base, name) = (st.id, st.events, st.path.as_str());
        // Chunks are parsed in parallel and merged back in order.
        let parts: Vec<Parsed<S>> = events
            .par_chunks(PARSE_CHUNK)
            .enumerate()
            .map(|(c, chunk)| {
                let mut sink = make_sink();
                let mut tally = SourceTally::default();
                let mut dns = Vec::new();
                let mut calls = Vec::new();
                let mut held: Vec<Flow> = Vec::new();
                // One layout state per chunk: its records share equal contexts.
                let mut state = PlanState::fixed(plan);
                let first = base.saturating_add(u64::try_from(c * PARSE_CHUNK).unwrap_or(u64::MAX));
                for (j, e) in chunk.iter().enumerate() {
                    let index = first
                        .saturating_add(u64::try_from(j).unwrap_or(u64::MAX))
                        .saturating_add(1);
                    let prov = Provenance { source: id, index };
                    // Resolver query logs and CloudTrail delivered to CloudWatch Logs.
                    if let Some(rec) = aws_logs::parse_message(&e.message, prov) {
                        match rec {
                            Ok(Record::Dns(d)) => {
                                tally.records += 1;
                                dns.push(d);
                            }
                            Ok(Record::Call(c)) => {
                                tally.records += 1;
                                calls.push(c);
                            }
                            Err(err) => {
                                tally.skip(err.reason, || format!("{name}:{index}: {}", err.detail))
                            }
                        }
                        continue;
                    }
                    if fill_start {
                        state.ingest(&e.message, prov, name, Where::Line, &mut tally, &mut held);
                        let start = u64::try_from(e.timestamp.div_euclid(1000)).ok();
                        for mut f in held.drain(..) {
                            if f.start.is_none() {
                                f.start = start;
                            }
                            sink.push(f);
                        }
                    } else {
                        state.ingest(&e.message, prov, name, Where::Line, &mut tally, &mut sink);
                    }
                }
                Parsed {
                    sink,
                    tally,
                    dns,
                    calls,
                }
            })
            .collect();
        for part in parts {
            match st.sink.as_mut() {
                Some(s) => s.merge(part.sink),
                None => st.sink = Some(part.sink),
            }
            st.tally += part.tally;
            st.dns.extend(part.dns);
            st.calls.extend(part.calls);
        }
        st.events = st
            .events
            .saturating_add(u64::try_from(events.len()).unwrap_or(u64::MAX));
        Ok(())
    }

    fn done(
        &mut self,
        stream: usize,
        error: Option<CloudWatchError>,
    ) -> Result<(), CloudWatchError> {
        if let (Some(st), Some(e)) = (self.streams.get_mut(stream), error) {
            st.tally.error = Some(e.to_string());
        }
        Ok(())
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

    fn ev(ts_s: i64, message: &str) -> Event {
        Event {
            timestamp: ts_s * 1000 + 999,
            message: message.to_owned(),
        }
    }

    fn v2(eni: &str, dport: u16, start: u64) -> String {
        format!(
            "2 123456789012 {eni} 10.0.0.5 52.219.60.9 40000 {dport} 6 3 180 {start} {} ACCEPT OK",
            start + 60
        )
    }

    fn reader<'a>(
        plan: &'a FieldPlan,
        make: &'a fn() -> Vec<Flow>,
        n: usize,
    ) -> GroupReader<'a, Vec<Flow>, fn() -> Vec<Flow>> {
        GroupReader {
            plan,
            fill_start: !plan.has(FieldId::Start),
            make_sink: make,
            streams: (0..n)
                .map(|i| StreamState {
                    id: SourceId(u32::try_from(i).unwrap() + 10),
                    path: format!("cloudwatch:/g/s{i}"),
                    sink: None,
                    tally: SourceTally::default(),
                    events: 0,
                    dns: Vec::new(),
                    calls: Vec::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn interleaved_pages_keep_each_streams_order_and_event_numbers() {
        let plan = FieldPlan::default_v2();
        let make: fn() -> Vec<Flow> = Vec::new;
        let mut r = reader(&plan, &make, 2);
        // A page bigger than one parse chunk, split across rayon tasks.
        let big: Vec<Event> = (0..5_000u16)
            .map(|i| ev(100, &v2("eni-b", i, 100)))
            .collect();
        r.page(1, big).unwrap();
        r.page(0, vec![ev(1, &v2("eni-a", 1, 1)), ev(2, "garbage line")])
            .unwrap();
        r.page(1, vec![ev(200, &v2("eni-b", 9999, 200))]).unwrap();
        r.page(0, vec![ev(3, &v2("eni-a", 3, 3))]).unwrap();
        r.done(0, None).unwrap();
        r.done(1, Some(CloudWatchError::Interrupted("s1".into())))
            .unwrap();

        let a = r.streams[0].sink.as_ref().unwrap();
        assert_eq!(
            a.iter().map(|f| f.dst_port.unwrap()).collect::<Vec<_>>(),
            [1, 3]
        );
        assert_eq!(
            a.iter()
                .map(|f| (f.provenance.source, f.provenance.index))
                .collect::<Vec<_>>(),
            [(SourceId(10), 1), (SourceId(10), 3)]
        );
        assert_eq!(r.streams[0].tally.records, 2);
        assert_eq!(r.streams[0].tally.skipped_total(), 1);
        assert!(
            r.streams[0].tally.examples[0].starts_with("cloudwatch:/g/s0:2"),
            "{:?}",
            r.streams[0].tally.examples
        );
        assert_eq!(r.streams[0].tally.error, None);

        let b = r.streams[1].sink.as_ref().unwrap();
        assert_eq!(b.len(), 5_001);
        let ports: Vec<u16> = b.iter().map(|f| f.dst_port.unwrap()).collect();
        let want: Vec<u16> = (0..5_000).chain([9999]).collect();
        assert_eq!(ports, want);
        assert!(
            b.iter()
                .enumerate()
                .all(|(i, f)| f.provenance.index == i as u64 + 1)
        );
        assert_eq!(
            r.streams[1].tally.error.as_deref(),
            Some("the fetch of log stream 's1' ended without a result")
        );
    }

    #[test]
    fn event_timestamp_fills_a_missing_start_only() {
        let plan =
            FieldPlan::from_format("${interface-id} ${srcaddr} ${dstaddr} ${action}").unwrap();
        let make: fn() -> Vec<Flow> = Vec::new;
        let mut r = reader(&plan, &make, 1);
        r.page(0, vec![ev(1_795_600_000, "eni-1 10.0.0.1 10.0.0.2 ACCEPT")])
            .unwrap();
        let f = &r.streams[0].sink.as_ref().unwrap()[0];
        assert_eq!(f.start, Some(1_795_600_000));

        let plan = FieldPlan::default_v2();
        let mut r = reader(&plan, &make, 1);
        r.page(0, vec![ev(5, &v2("eni-a", 443, 77))]).unwrap();
        assert_eq!(r.streams[0].sink.as_ref().unwrap()[0].start, Some(77));
    }

    #[test]
    fn resolver_and_cloudtrail_messages_become_dns_and_calls() {
        let plan = FieldPlan::default_v2();
        let make: fn() -> Vec<Flow> = Vec::new;
        let mut r = reader(&plan, &make, 1);
        let resolver = r#"{"version":"1.100000","query_timestamp":"2026-11-25T13:40:02Z","query_name":"cloudformation.ap-northeast-2.amazonaws.com.","query_type":"A","rcode":"NOERROR","answers":[{"Rdata":"10.0.1.87","Type":"A","Class":"IN"}],"srcaddr":"10.0.1.148","srcids":{}}"#;
        let trail = r#"{"eventVersion":"1.11","eventTime":"2026-11-25T13:40:03Z","eventSource":"cloudformation.amazonaws.com","eventName":"DescribeStacks","sourceIPAddress":"10.0.1.148"}"#;
        let bad = r#"{"eventVersion":"1.11","eventSource":"cloudformation.amazonaws.com"}"#;
        r.page(
            0,
            vec![
                ev(1, resolver),
                ev(2, trail),
                ev(3, bad),
                ev(4, &v2("eni-a", 443, 4)),
            ],
        )
        .unwrap();
        let st = &r.streams[0];
        assert_eq!((st.dns.len(), st.calls.len(), st.tally.records), (1, 1, 3));
        assert_eq!(st.calls[0].provenance.index, 2);
        assert_eq!(
            st.tally.examples,
            ["cloudwatch:/g/s0:3: missing field 'eventTime'"]
        );
        assert_eq!(st.sink.as_ref().unwrap().len(), 1);
    }

    #[test]
    fn bad_log_format_is_an_error_before_any_request() {
        let err = record_plan(Some("${nope nope")).unwrap_err();
        assert!(
            err.to_string().starts_with("invalid --log-format: "),
            "{err}"
        );
    }
}
