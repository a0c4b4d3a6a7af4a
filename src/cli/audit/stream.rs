//! The streamed audit: captures first (their names attribute services),
//! then every flow-log record classified as it is parsed and reduced to a
//! compact row ([`privpath::audit`]); the rows are paired partition by
//! partition into the collector. Memory grows with what the report holds,
//! not with the records.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use super::super::cloudwatch_args::{Remote, add};
use super::Plan;
use super::pipeline::{
    Notes, describe, dns_rows, endpoint_marks, input_rows, private_dns_rows, progress_bar,
};
use privpath::audit::{
    self, Class, ConvRow, FlowTable, HostKey, Interner, LocalIds, NO_CLASS, RecordBatch,
    RecordRuns, RecordStore, RowStore, estimate_records, partitions_for,
};
use privpath::classify::{self, NameIndex, Role};
use privpath::flow::{Flow, SourceId};
use privpath::ingest::{self, FlowSink};
use privpath::report::aggregate::{ReportInput, build_report};
use privpath::report::collect::Collector;
use privpath::report::{Finding, FindingKind, HostTable, Report};
use privpath::topology::{self, TopologyIndex};

type State = foldhash::fast::RandomState;

/// Rows a sink gathers before it hands them to the store.
const BATCH: usize = 8192;
/// Flows per progress-bar tick.
const TICK: u64 = 4096;

/// What every sink of one run shares.
struct Run<'r> {
    index: &'r TopologyIndex,
    host_table: &'r HostTable,
    names: &'r NameIndex,
    store: &'r RowStore,
    /// `-o csv|parquet`: the egress records' Athena cells, partitioned as the rows.
    records: Option<&'r RecordStore>,
    hosts: &'r Interner<HostKey>,
    classes: &'r Interner<Class>,
    bar: Option<indicatif::ProgressBar>,
}

/// Classifies each flow as it arrives and keeps only its row.
struct StreamSink<'r> {
    run: &'r Run<'r>,
    rows: Vec<ConvRow>,
    recs: RecordBatch,
    host_ids: LocalIds<HostKey>,
    class_ids: LocalIds<Class>,
    notes: Notes,
    /// NODATA / SKIPDATA rows (not flows).
    status_rows: u64,
    /// Hosts that logged a reply or an inbound record.
    has_ingress: HashSet<u32, State>,
    pending: u64,
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

impl<'r> StreamSink<'r> {
    fn new(run: &'r Run<'r>) -> StreamSink<'r> {
        StreamSink {
            run,
            rows: Vec::new(),
            recs: RecordBatch::default(),
            host_ids: LocalIds::default(),
            class_ids: LocalIds::default(),
            notes: Notes::default(),
            status_rows: 0,
            has_ingress: HashSet::default(),
            pending: 0,
        }
    }

    fn flush(&mut self) {
        self.run.store.push(&mut self.rows);
        if let Some(r) = self.run.records {
            r.push(&mut self.recs);
        }
    }
}

impl FlowSink for StreamSink<'_> {
    fn push(&mut self, flow: Flow) {
        let run = self.run;
        let cl = classify::classify(&flow, run.index, run.names);
        match cl.role {
            // NAT / endpoint ENI records: neither a flow nor a reply.
            Role::Transit => {}
            Role::Egress if flow.is_status_only() => self.status_rows += 1,
            role => {
                let host = self.host_ids.id(&host_key(&flow), run.hosts);
                let class = if role == Role::Egress {
                    let c = describe(&mut self.notes, &flow, &cl, (run.index, run.host_table));
                    self.class_ids.id(&c, run.classes)
                } else {
                    self.has_ingress.insert(host);
                    NO_CLASS
                };
                let row = ConvRow::of(&flow, host, class, role, cl.outcome);
                if let (Some(_), true) = (run.records, class != NO_CLASS) {
                    self.recs.add(run.store.partition_of(&row), &flow);
                }
                self.rows.push(row);
                if self.rows.len() >= BATCH {
                    self.flush();
                }
            }
        }
        self.pending += 1;
        if self.pending >= TICK {
            if let Some(b) = &run.bar {
                b.inc(self.pending);
            }
            self.pending = 0;
        }
    }

    fn merge(&mut self, mut later: Self) {
        self.flush();
        later.flush();
        self.notes.merge(later.notes);
        self.status_rows += later.status_rows;
        self.has_ingress.extend(later.has_ingress);
        self.pending += later.pending;
    }

    fn finish_input(&mut self) {
        self.flush();
    }
}

/// Inputs and their bytes: (plain, gzip-compressed).
fn input_bytes(files: &[(SourceId, PathBuf)]) -> (u64, u64) {
    let mut plain = 0;
    let mut gz = 0;
    for (_, p) in files {
        let Ok(m) = std::fs::metadata(p) else {
            continue;
        };
        let gzip = p.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz"));
        if gzip {
            gz += m.len();
        } else {
            plain += m.len();
        }
    }
    (plain, gz)
}

/// The per-flow outputs of a streamed audit, ready to write.
pub struct StreamedFlows {
    runs: RecordRuns,
    classes: Vec<Class>,
    sources: Vec<String>,
}

impl StreamedFlows {
    /// The table writer (classes and input names).
    pub fn table(&self) -> (FlowTable<'_>, &RecordRuns) {
        (FlowTable::new(&self.classes, &self.sources), &self.runs)
    }
}

/// The streamed audit; with `with_flows`, also every classified flow for
/// `-o csv|parquet`, written to temporary runs instead of held.
pub fn build(plan: &Plan, with_flows: bool) -> anyhow::Result<(Report, Option<StreamedFlows>)> {
    let topo = topology::load(&plan.topology)?;
    let index = TopologyIndex::build(&topo);
    let host_table = HostTable::new(&index);
    let opts = plan.ingest_options();
    let bar = progress_bar(plan);

    // Every remote option checked and the S3 prefixes listed before any
    // file is read.
    let remote = Remote::prepare(&plan.inputs, &plan.cloudwatch, &opts, plan.quiet)?;
    let files: Vec<(SourceId, PathBuf)> = ingest::expand_inputs(&remote.paths)?
        .into_iter()
        .enumerate()
        .map(|(i, p)| (SourceId(u32::try_from(i).unwrap_or(u32::MAX)), p))
        .collect();
    let (captures, logs): (Vec<_>, Vec<_>) = files
        .iter()
        .cloned()
        .partition(|(_, p)| ingest::is_name_evidence(p));

    // Name evidence first: the DNS answers, SNI and Host names of captures
    // and Resolver query logs (local files, and S3 objects whose keys say
    // so) attribute the services of every flow, so the name index is built
    // before any flow log is classified.
    let s3_first = remote.next_id(files.len())?;
    let mut caps = ingest::read_files(&captures, &opts, Vec::<Flow>::new)?;
    if let Some(read) = remote.read_s3(names_services, s3_first, &Vec::<Flow>::new)? {
        add(&mut caps, read);
    }
    let names = NameIndex::build(&caps.dns, &classify::sightings_from_flows(caps.sink.iter()));

    let (plain, gz) = input_bytes(&logs);
    let (s3_plain, s3_gz) = remote.s3_bytes();
    let partitions = partitions_for(estimate_records(plain + s3_plain, gz + s3_gz));
    let store = RowStore::new(partitions, plan.memory_budget);
    let record_store = with_flows.then(|| RecordStore::new(partitions, plan.memory_budget));
    let hosts = Interner::default();
    let classes = Interner::default();
    let (mut notes, status_rows, has_ingress, logged) = {
        let run = Run {
            index: &index,
            host_table: &host_table,
            names: &names,
            store: &store,
            records: record_store.as_ref(),
            hosts: &hosts,
            classes: &classes,
            bar: bar.clone(),
        };
        let mut sink = StreamSink::new(&run);
        for f in caps.sink.drain(..) {
            sink.push(f);
        }
        sink.flush();
        // Then the flow logs: local files, the other S3 objects (keeping
        // their ids in the selection), --cloudwatch.
        let new_sink = || StreamSink::new(&run);
        let mut logged = ingest::read_files(&logs, &opts, new_sink)?;
        if let Some(read) = remote.read_s3(|k| !names_services(k), s3_first, &new_sink)? {
            add(&mut logged, read);
        }
        let cw_first = remote.next_id(files.len() + remote.s3_objects())?;
        if let Some(read) = remote.read_cloudwatch(cw_first, &new_sink)? {
            add(&mut logged, read);
        }
        let later = std::mem::replace(&mut logged.sink, StreamSink::new(&run));
        sink.merge(later);
        (
            sink.notes,
            sink.status_rows,
            sink.has_ingress,
            (logged.sources, logged.dns, logged.api_calls),
        )
    };
    let late_names = late_name_evidence(&logged.0);
    let mut sources = caps.sources;
    sources.extend(logged.0);
    sources.sort_by_key(|s| s.id);
    let mut dns = caps.dns;
    dns.extend(logged.1);
    let mut api_calls = caps.api_calls;
    api_calls.extend(logged.2);

    if let Some(b) = &bar {
        b.set_message("pairing");
    }
    let source_names: Vec<String> = sources.iter().map(|s| s.path.clone()).collect();
    let classes = classes.into_values();
    let runs = record_store.map(RecordStore::into_runs);
    let drained = audit::drain(store, &classes, &has_ingress, runs.as_ref(), || {
        Collector::new(&plan.expect, &source_names, false).with_examples(plan.examples)
    });
    let mut collector = drained.collector;
    collector.status_rows += status_rows;

    let mut findings = Vec::new();
    let mut inputs = input_rows(&sources, &mut findings);
    let nat_uses = std::mem::take(&mut notes.nat_uses);
    notes.into_findings(&source_names, &mut findings);
    if let Some(f) = late_names {
        findings.push(f);
    }
    if drained.unpaired > 0 {
        findings.push(Finding {
            kind: FindingKind::Note,
            source: None,
            message: "reply or inbound records without an egress flow (not in the verdicts)"
                .to_owned(),
            count: drained.unpaired,
        });
    }
    duplicate_findings(&drained.duplicates, &mut inputs, &mut findings);
    for e in drained.stats.error.iter().chain(&drained.errors) {
        findings.push(Finding {
            kind: FindingKind::InputError,
            source: None,
            message: format!("spill: {e}"),
            count: 1,
        });
    }
    for e in runs.iter().flat_map(RecordRuns::errors) {
        findings.push(Finding {
            kind: FindingKind::InputError,
            source: None,
            message: format!("flow records (-o csv|parquet): {e}"),
            count: 1,
        });
    }
    if let Some(b) = &bar {
        b.set_message("aggregating");
    }
    let private_dns = private_dns_rows(&index, &dns, &mut findings);
    let kinds: Vec<privpath::flow::SourceKind> = sources.iter().map(|s| s.kind).collect();
    let mut report = build_report(ReportInput {
        finished: collector.finish(Vec::new()),
        dns: dns_rows(&index, &host_table, &dns, &kinds),
        private_dns,
        findings,
        inputs,
        marks: endpoint_marks(&index),
    })?;
    report.pricing = Some(
        plan.prices
            .for_region(super::pipeline::region_of(&topo).as_deref()),
    );
    super::api_calls::add_to_report(
        &mut report,
        &api_calls,
        (&topo, &index, &host_table),
        &nat_uses.to_vec(),
        (&plan.expect, plan.examples),
        &source_names,
    );
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let flows = runs.map(|runs| StreamedFlows {
        runs,
        classes,
        sources: source_names,
    });
    Ok((report, flows))
}

/// The S3 keys read with the name evidence: Resolver query logs in AWS's
/// layout and captures.
fn names_services(key: &str) -> bool {
    let name = key.rsplit('/').next().unwrap_or(key).to_ascii_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    key.contains("/vpcdnsquerylogs/")
        || name.contains("_vpcdnsquerylogs_")
        || [".pcap", ".pcapng", ".cap"]
            .iter()
            .any(|e| name.ends_with(e))
}

/// Name evidence that came with the flow logs (an S3 key that does not say
/// what it holds, a --cloudwatch group of Resolver query logs): its answers
/// are in the DNS section but named no service of the flows read before it.
fn late_name_evidence(sources: &[ingest::SourceSummary]) -> Option<Finding> {
    use privpath::flow::SourceKind;
    let late: Vec<&str> = sources
        .iter()
        // Local name evidence was read first: these came from S3 or CloudWatch.
        .filter(|s| {
            matches!(
                s.kind,
                SourceKind::ResolverQueryLog | SourceKind::Pcap | SourceKind::Pcapng
            )
        })
        .map(|s| s.path.as_str())
        .collect();
    let first = late.first()?;
    Some(Finding {
        kind: FindingKind::Note,
        source: Some((*first).to_owned()),
        message: format!(
            "{first}{}: name evidence read with the flow logs (its key or log group does not say what it holds): its answers are in the DNS section but attributed no service to flows; pull it (`privpath pull`) and audit the local copy, or give it a key AWS would",
            if late.len() > 1 {
                format!(" and {} more", late.len() - 1)
            } else {
                String::new()
            }
        ),
        count: late.len() as u64,
    })
}

/// Duplicate deliveries: counted on their input's row and as a note.
fn duplicate_findings(
    duplicates: &BTreeMap<u32, u64>,
    inputs: &mut [privpath::report::InputRow],
    findings: &mut Vec<Finding>,
) {
    for (&src, &n) in duplicates {
        let Some(row) = usize::try_from(src).ok().and_then(|i| inputs.get_mut(i)) else {
            continue;
        };
        row.duplicates += n;
        findings.push(Finding {
            kind: FindingKind::Note,
            source: Some(row.path.clone()),
            message: format!(
                "{}: {n} records delivered again (same interface, 5-tuple, start, end, packets and bytes as an earlier record): counted once",
                row.path
            ),
            count: n,
        });
    }
}
