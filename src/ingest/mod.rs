//! Evidence intake: flow logs and captures into [`Flow`] records.
//!
//! CONTRACT (shared by the flow-log, capture, CloudWatch and audit work):
//! - [`read_inputs`] walks files and folders, sniffs each input by content,
//!   parses in parallel (rayon) and pushes every flow into per-worker
//!   [`FlowSink`]s that are merged in input order, so the result is the same
//!   for any thread count.
//! - Every input gets a [`SourceSummary`] with its tally; a bad input never
//!   stops the run.

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::flow::{ApiCall, DnsRecord, Flow, SourceId, SourceKind, SourceTally};
use flowlog::FieldPlan;
use sniff::Sniffed;

#[cfg(feature = "aws")]
pub mod aws;
pub mod aws_logs;
pub mod cloudtrail;
#[cfg(feature = "aws")]
pub mod cloudwatch_pull;
pub mod flowlog;
pub mod inputs;
pub mod json_records;
mod parts;
pub mod pcap;
pub mod resolver;
pub mod s3;
pub mod sniff;

pub use inputs::{Aside, InputPlan};
pub use parts::Parts;

/// Where parsed flows go. One sink per worker; `merge` receives the sink of
/// the *later* part of the input order.
pub trait FlowSink: Send + Sized {
    fn push(&mut self, flow: Flow);
    fn merge(&mut self, later: Self);
    /// `additional` more flows are coming (a capture knows its count before
    /// it hands them over); a collecting sink makes room once.
    fn reserve(&mut self, additional: usize) {
        let _ = additional;
    }
    /// The input is read: a sink that buffers hands its buffer on now (the
    /// per-input sinks wait for each other before they are merged).
    fn finish_input(&mut self) {}
}

/// Is `path` evidence that names destinations (a capture, a Route 53
/// Resolver query log) or CloudTrail? A streamed audit reads these before
/// the flow logs, so that their names attribute every flow-log record.
pub fn is_name_evidence(path: &Path) -> bool {
    if path.as_os_str() == "-" {
        return false;
    }
    let Ok(f) = File::open(path) else {
        return false;
    };
    let mut reader: Box<dyn BufRead + Send> = Box::new(BufReader::with_capacity(1 << 16, f));
    for _ in 0..2 {
        let Ok(head) = peek(&mut reader, 16) else {
            return false;
        };
        match sniff::sniff(&head) {
            Sniffed::Pcap | Sniffed::Pcapng => return true,
            Sniffed::Gzip => {
                let dec = flate2::read::MultiGzDecoder::new(reader);
                reader = Box::new(BufReader::with_capacity(1 << 16, dec));
            }
            Sniffed::Json => {
                return peek(&mut reader, 64 << 10).is_ok_and(|h| aws_logs::detect(&h).is_some());
            }
            _ => return false,
        }
    }
    false
}

impl FlowSink for Vec<Flow> {
    fn push(&mut self, flow: Flow) {
        Vec::push(self, flow);
    }
    fn reserve(&mut self, additional: usize) {
        Vec::reserve_exact(self, additional);
    }
    fn merge(&mut self, later: Self) {
        join(self, later);
    }
}

/// `more` after `into`: moved whole when `into` is empty (no copy), else
/// appended.
pub fn join<T>(into: &mut Vec<T>, mut more: Vec<T>) {
    if into.is_empty() {
        *into = more;
    } else {
        into.append(&mut more);
    }
}

/// The parts, in order, as one vector of the exact size: each element is
/// moved once (appending part after part would regrow and copy), and a
/// single non-empty part is moved whole.
pub fn join_all<T>(mut parts: Vec<Vec<T>>) -> Vec<T> {
    parts.retain(|p| !p.is_empty());
    if parts.len() <= 1 {
        return parts.pop().unwrap_or_default();
    }
    let mut all = Vec::with_capacity(parts.iter().map(Vec::len).sum());
    for p in parts {
        all.extend(p);
    }
    all
}

/// A sink that keeps nothing: for callers that want only the DNS answers
/// and the tally of a capture.
#[derive(Debug, Default, Clone, Copy)]
pub struct Discard;

impl FlowSink for Discard {
    fn push(&mut self, flow: Flow) {
        drop(flow);
    }
    fn merge(&mut self, _later: Self) {}
}

/// Settings for one ingest run (no clap types).
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// `--log-format '${version} …'` for header-less flow-log text.
    pub log_format: Option<String>,
    /// Capture flows split into fixed windows of this many seconds.
    pub window: Option<u64>,
    /// The capturing host's address, when the capture alone is ambiguous.
    pub host: Option<IpAddr>,
    /// Show a progress bar on stderr.
    pub progress: bool,
    /// Only DNS answers are wanted (`privpath dns`): inputs that cannot
    /// hold any (flow-log text and Parquet) are set aside unread.
    pub dns_only: bool,
    /// The time of interest: remote sources fetch only what can hold
    /// records of it (S3: the objects whose key time can). Records outside
    /// it are still read from what is fetched; local files are read whole.
    pub key_window: s3::KeyWindow,
}

/// One input as read: what it was and what came of it.
#[derive(Debug, Clone)]
pub struct SourceSummary {
    pub id: SourceId,
    /// The path as the user gave it (or found under a folder they gave).
    pub path: String,
    pub kind: SourceKind,
    pub tally: SourceTally,
}

/// The result of [`read_inputs`].
#[derive(Debug)]
pub struct Ingested<S> {
    pub sink: S,
    /// Inputs in id order.
    pub sources: Vec<SourceSummary>,
    /// DNS responses seen in captures and Resolver query logs, in input
    /// then packet (line) order.
    pub dns: Vec<DnsRecord>,
    /// API calls CloudTrail recorded, in input then record order.
    pub api_calls: Vec<ApiCall>,
    /// What the inputs held that is not evidence (topology, expectations),
    /// set aside unread (see [`inputs::aside_line`]).
    pub aside: Vec<(PathBuf, Aside)>,
}

/// Errors that stop an ingest before it starts (a path that does not exist,
/// an invalid `--log-format`). Problems inside one input are tallied instead.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{path}: no such file or folder")]
    NotFound { path: String },
    #[error("invalid --log-format: {0}")]
    Format(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// The input name used for standard input (`-` on the command line).
pub const STDIN_NAME: &str = "<stdin>";

/// Files to read as evidence, in order: each argument as given; folders
/// walked recursively in sorted order (hidden entries below the folder
/// skipped), case folders split ([`inputs::plan`]), so [`SourceId`]s are
/// deterministic. `-` stands for standard input.
pub fn expand_inputs(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, IngestError> {
    inputs::plan(inputs).map(|p| p.evidence)
}

/// Read every input (files, folders, `-`) in parallel into sinks made by
/// `new_sink`, merged in input order: the result does not depend on the
/// number of threads. Fails only before reading (missing path, bad
/// `--log-format`); problems inside an input are in its [`SourceSummary`].
pub fn read_inputs<S, F>(
    inputs: &[PathBuf],
    opts: &IngestOptions,
    new_sink: F,
) -> Result<Ingested<S>, IngestError>
where
    S: FlowSink,
    F: Fn() -> S + Sync,
{
    read_inputs_chunked(inputs, opts, flowlog::text::CHUNK_BYTES, new_sink)
}

/// [`read_inputs`] with a chosen text chunk size (tests and benches use
/// small chunks to exercise the splitting of large files).
pub fn read_inputs_chunked<S, F>(
    inputs: &[PathBuf],
    opts: &IngestOptions,
    chunk_bytes: usize,
    new_sink: F,
) -> Result<Ingested<S>, IngestError>
where
    S: FlowSink,
    F: Fn() -> S + Sync,
{
    let InputPlan {
        evidence, aside, ..
    } = inputs::plan(inputs)?;
    let files: Vec<(SourceId, PathBuf)> = evidence
        .into_iter()
        .enumerate()
        .map(|(i, p)| (SourceId(u32::try_from(i).unwrap_or(u32::MAX)), p))
        .collect();
    let mut got = read_files_chunked(&files, opts, chunk_bytes, new_sink)?;
    got.aside = aside;
    Ok(got)
}

/// [`read_inputs`] of files already expanded, each with its [`SourceId`]
/// (a caller that reads some inputs before others keeps their ids).
pub fn read_files<S, F>(
    files: &[(SourceId, PathBuf)],
    opts: &IngestOptions,
    new_sink: F,
) -> Result<Ingested<S>, IngestError>
where
    S: FlowSink,
    F: Fn() -> S + Sync,
{
    read_files_chunked(files, opts, flowlog::text::CHUNK_BYTES, new_sink)
}

fn read_files_chunked<S, F>(
    files: &[(SourceId, PathBuf)],
    opts: &IngestOptions,
    chunk_bytes: usize,
    new_sink: F,
) -> Result<Ingested<S>, IngestError>
where
    S: FlowSink,
    F: Fn() -> S + Sync,
{
    let plan = base_plan(opts)?;
    let results: Vec<(SourceSummary, S, Evidence)> = files
        .par_iter()
        .map(|(id, p)| {
            let mut out = read_input(p, *id, opts, &plan, chunk_bytes, &new_sink);
            out.1.finish_input();
            out
        })
        .collect();
    let mut sink = new_sink();
    let mut sources = Vec::with_capacity(results.len());
    let mut dns = Vec::new();
    let mut api_calls = Vec::new();
    for (summary, s, ev) in results {
        sink.merge(s);
        sources.push(summary);
        join(&mut dns, ev.dns);
        join(&mut api_calls, ev.calls);
    }
    Ok(Ingested {
        sink,
        sources,
        dns,
        api_calls,
        aside: Vec::new(),
    })
}

/// The layout for header-less text: `--log-format`, else the default v2.
pub fn base_plan(opts: &IngestOptions) -> Result<FieldPlan, IngestError> {
    match &opts.log_format {
        Some(f) => FieldPlan::from_format(f).map_err(|e| IngestError::Format(e.to_string())),
        None => Ok(FieldPlan::default_v2()),
    }
}

/// What an input gave besides flows: DNS answers (captures, Resolver query
/// logs) and API calls (CloudTrail).
#[derive(Debug, Default)]
pub struct Evidence {
    pub dns: Vec<DnsRecord>,
    pub calls: Vec<ApiCall>,
}

/// Read one input (a file, or `-` for stdin). Never fails: an unreadable
/// input has `tally.error` set.
pub fn read_input<S, F>(
    path: &Path,
    id: SourceId,
    opts: &IngestOptions,
    plan: &FieldPlan,
    chunk_bytes: usize,
    new_sink: &F,
) -> (SourceSummary, S, Evidence)
where
    S: FlowSink,
    F: Fn() -> S + Sync,
{
    let is_stdin = path.as_os_str() == "-";
    let name = if is_stdin {
        STDIN_NAME.to_owned()
    } else {
        path.display().to_string()
    };
    let reader: Box<dyn BufRead + Send> = if is_stdin {
        Box::new(BufReader::with_capacity(1 << 20, std::io::stdin()))
    } else {
        match File::open(path) {
            Ok(f) => Box::new(BufReader::with_capacity(1 << 20, f)),
            Err(e) => {
                let tally = SourceTally {
                    error: Some(format!("{name}: {}", io_message(&e))),
                    ..SourceTally::default()
                };
                let summary = SourceSummary {
                    id,
                    path: name,
                    kind: SourceKind::Unknown,
                    tally,
                };
                return (summary, new_sink(), Evidence::default());
            }
        }
    };
    read_named(reader, name, id, opts, plan, chunk_bytes, new_sink)
}

/// Read one input that is not a local file (an S3 object, …): `reader`
/// yields its bytes, `name` names it in messages and in its
/// [`SourceSummary`]. Sniffed by content and parsed exactly as a file of
/// the same bytes; a read error midway keeps what was parsed and sets
/// `tally.error`. Never fails.
pub fn read_named<S, F>(
    reader: Box<dyn BufRead + Send>,
    name: String,
    id: SourceId,
    opts: &IngestOptions,
    plan: &FieldPlan,
    chunk_bytes: usize,
    new_sink: &F,
) -> (SourceSummary, S, Evidence)
where
    S: FlowSink,
    F: Fn() -> S + Sync,
{
    let ctx = Ctx {
        name: &name,
        id,
        opts,
        plan,
        chunk_bytes,
    };
    let out = read_stream(reader, &ctx, 0, false, new_sink);
    let summary = SourceSummary {
        id,
        path: name,
        kind: out.kind,
        tally: out.tally,
    };
    let evidence = Evidence {
        dns: out.dns,
        calls: out.calls,
    };
    (summary, out.sink, evidence)
}

struct Ctx<'a> {
    name: &'a str,
    id: SourceId,
    opts: &'a IngestOptions,
    plan: &'a FieldPlan,
    chunk_bytes: usize,
}

struct StreamOut<S> {
    kind: SourceKind,
    sink: S,
    tally: SourceTally,
    dns: Vec<DnsRecord>,
    calls: Vec<ApiCall>,
}

fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => flowlog::text::describe_io(e),
    }
}

/// Sniff `reader` and hand it to the right reader; gzip and base64 layers
/// are peeled (at most two) and sniffed again.
fn read_stream<S, F>(
    mut reader: Box<dyn BufRead + Send>,
    ctx: &Ctx<'_>,
    depth: u8,
    gzipped: bool,
    new_sink: &F,
) -> StreamOut<S>
where
    S: FlowSink,
    F: Fn() -> S + Sync,
{
    let fail = |msg: String, kind: SourceKind| StreamOut {
        kind,
        sink: new_sink(),
        tally: SourceTally {
            error: Some(format!("{}: {msg}", ctx.name)),
            ..SourceTally::default()
        },
        dns: Vec::new(),
        calls: Vec::new(),
    };
    let text_kind = if gzipped {
        SourceKind::FlowLogGzip
    } else {
        SourceKind::FlowLogText
    };
    let head = match peek(&mut reader, sniff::HEAD_BYTES) {
        Ok(h) => h,
        Err(e) => return fail(io_message(&e), text_kind),
    };
    let sniffed = sniff::sniff(&head);
    match sniffed {
        Sniffed::Empty => {
            let mut tally = SourceTally::default();
            tally.warn(format!("{}: empty input", ctx.name));
            StreamOut {
                kind: text_kind,
                sink: new_sink(),
                tally,
                dns: Vec::new(),
                calls: Vec::new(),
            }
        }
        Sniffed::Unknown(what) => {
            let mut tally = SourceTally::default();
            tally.skip("not a kind privpath reads", || {
                format!("{}: not a kind privpath reads: {what}", ctx.name)
            });
            StreamOut {
                kind: SourceKind::Unknown,
                sink: new_sink(),
                tally,
                dns: Vec::new(),
                calls: Vec::new(),
            }
        }
        Sniffed::TopologyJson | Sniffed::ExpectToml => StreamOut {
            // Found inside a compressed input or on stdin (files are sorted
            // before reading): set aside, as the plan does.
            kind: if sniffed == Sniffed::ExpectToml {
                SourceKind::Expectations
            } else {
                SourceKind::Topology
            },
            sink: new_sink(),
            tally: SourceTally::default(),
            dns: Vec::new(),
            calls: Vec::new(),
        },
        Sniffed::Text | Sniffed::Parquet if ctx.opts.dns_only => {
            let mut tally = SourceTally::default();
            *tally
                .notes
                .entry("set aside: flow logs hold no DNS answers".to_owned())
                .or_insert(0) += 1;
            StreamOut {
                kind: if sniffed == Sniffed::Parquet {
                    SourceKind::FlowLogParquet
                } else {
                    text_kind
                },
                sink: new_sink(),
                tally,
                dns: Vec::new(),
                calls: Vec::new(),
            }
        }
        Sniffed::Gzip | Sniffed::Base64Gzip if depth >= 2 => {
            fail("too many nested compression layers".into(), text_kind)
        }
        Sniffed::Gzip => {
            let dec = flate2::read::MultiGzDecoder::new(reader);
            read_stream(
                Box::new(BufReader::with_capacity(1 << 20, dec)),
                ctx,
                depth + 1,
                true,
                new_sink,
            )
        }
        Sniffed::Base64Gzip => {
            let mut text = String::new();
            if let Err(e) = reader.read_to_string(&mut text) {
                return fail(io_message(&e), SourceKind::CloudWatch);
            }
            match flowlog::json::decode_base64_gzip(&text) {
                Ok(bytes) => {
                    let mut out = read_stream(
                        Box::new(Cursor::new(bytes)),
                        ctx,
                        depth + 1,
                        gzipped,
                        new_sink,
                    );
                    if out.kind == SourceKind::FlowLogJson {
                        out.kind = SourceKind::CloudWatch;
                    }
                    out
                }
                Err(e) => fail(e, SourceKind::CloudWatch),
            }
        }
        Sniffed::Pcap | Sniffed::Pcapng => {
            // Flows go to the sink as they are built, a slice at a time: an
            // aggregating sink never holds the capture's flows all at once.
            let mut sink = new_sink();
            let cap = pcap::read_capture_into(&mut reader, ctx.name, ctx.id, ctx.opts, &mut sink);
            StreamOut {
                kind: cap.kind,
                sink,
                tally: cap.tally,
                dns: cap.dns,
                calls: Vec::new(),
            }
        }
        Sniffed::Parquet => {
            let mut bytes = Vec::new();
            if let Err(e) = reader.read_to_end(&mut bytes) {
                return fail(io_message(&e), SourceKind::FlowLogParquet);
            }
            let mut sink = new_sink();
            let mut tally = SourceTally::default();
            flowlog::parquet::read_parquet(bytes, ctx.name, ctx.id, &mut sink, &mut tally);
            StreamOut {
                kind: SourceKind::FlowLogParquet,
                sink,
                tally,
                dns: Vec::new(),
                calls: Vec::new(),
            }
        }
        Sniffed::Json => {
            // Resolver query logs and CloudTrail, by their members.
            let head = match peek(&mut reader, 64 << 10) {
                Ok(h) => h,
                Err(e) => return fail(io_message(&e), SourceKind::FlowLogJson),
            };
            if let Some(shape) = aws_logs::detect(&head) {
                let out = aws_logs::read_aws_log(reader, shape, ctx.name, ctx.id);
                return StreamOut {
                    kind: out.kind,
                    sink: new_sink(),
                    tally: out.tally,
                    dns: out.dns,
                    calls: out.calls,
                };
            }
            let mut bytes = Vec::new();
            let read_err = reader.read_to_end(&mut bytes).err();
            let mut sink = new_sink();
            let mut tally = SourceTally::default();
            let shape = if read_err.is_none() {
                flowlog::json::read_json(&bytes, ctx.name, ctx.id, ctx.plan, &mut sink, &mut tally)
            } else {
                flowlog::json::JsonShape::NotJson
            };
            if shape == flowlog::json::JsonShape::Unknown {
                return fail(
                    "json without flow-log records (expected events, logEvents or message)".into(),
                    SourceKind::FlowLogJson,
                );
            }
            if shape != flowlog::json::JsonShape::NotJson {
                return StreamOut {
                    kind: flowlog::json::kind_of(shape),
                    sink,
                    tally,
                    dns: Vec::new(),
                    calls: Vec::new(),
                };
            }
            // JSON Lines with some bad lines, or text that starts with `{`.
            let (sink, mut tally) = read_text_from(Cursor::new(bytes), ctx, new_sink);
            if let Some(e) = read_err {
                tally.error = Some(format!("{}: {}", ctx.name, io_message(&e)));
            }
            StreamOut {
                kind: SourceKind::FlowLogJson,
                sink,
                tally,
                dns: Vec::new(),
                calls: Vec::new(),
            }
        }
        Sniffed::Text => {
            let (sink, tally) = read_text_from(reader, ctx, new_sink);
            StreamOut {
                kind: text_kind,
                sink,
                tally,
                dns: Vec::new(),
                calls: Vec::new(),
            }
        }
    }
}

fn read_text_from<R, S, F>(reader: R, ctx: &Ctx<'_>, new_sink: &F) -> (S, SourceTally)
where
    R: Read + Send,
    S: FlowSink,
    F: Fn() -> S + Sync,
{
    flowlog::text::read_text(
        reader,
        flowlog::text::TextInput {
            name: ctx.name,
            source: ctx.id,
            plan: ctx.plan,
            chunk_bytes: ctx.chunk_bytes,
        },
        new_sink,
    )
}

/// Up to `n` first bytes without consuming them (fewer at end of input).
fn peek(reader: &mut Box<dyn BufRead + Send>, n: usize) -> std::io::Result<Vec<u8>> {
    loop {
        match reader.fill_buf() {
            Ok(buf) => return Ok(buf.get(..n.min(buf.len())).unwrap_or_default().to_vec()),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(text: &str) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(text.as_bytes()).unwrap();
        e.finish().unwrap()
    }

    const REC: &str = "2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 443 6 1 100 1 2 ACCEPT OK\n";

    #[test]
    fn join_all_keeps_order_at_the_exact_size_and_moves_a_lone_part() {
        let all = join_all(vec![vec![1, 2], vec![], vec![3], vec![4, 5, 6]]);
        assert_eq!(all, [1, 2, 3, 4, 5, 6]);
        assert_eq!(all.capacity(), 6);
        let lone = vec![7, 8];
        let ptr = lone.as_ptr();
        let moved = join_all(vec![vec![], lone, vec![]]);
        assert_eq!(moved.as_ptr(), ptr);
        assert!(join_all::<u8>(vec![]).is_empty());
    }

    #[test]
    fn read_inputs_reads_multi_member_gzip_and_keeps_records_before_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let mut two = gz(&REC.repeat(2));
        two.extend(gz(&REC.repeat(3)));
        std::fs::write(dir.path().join("a.log.gz"), &two).unwrap();
        let big: String = (0..2000)
            .map(|i| REC.replace("eni-1", &format!("eni-{i}")))
            .collect();
        let mut cut = gz(&big);
        cut.truncate(cut.len() / 2);
        std::fs::write(dir.path().join("b.log.gz"), &cut).unwrap();
        std::fs::write(dir.path().join(".hidden"), "junk").unwrap();
        let got = read_inputs(
            &[dir.path().to_path_buf()],
            &IngestOptions::default(),
            Vec::<Flow>::new,
        )
        .unwrap();
        assert_eq!(got.sources.len(), 2);
        let a = &got.sources[0];
        assert_eq!(
            (a.kind, a.tally.records, a.tally.error.is_none()),
            (SourceKind::FlowLogGzip, 5, true)
        );
        let b = &got.sources[1];
        assert_eq!(b.id, SourceId(1));
        assert!(
            b.tally.records > 0 && b.tally.records < 2000,
            "{}",
            b.tally.records
        );
        assert_eq!(b.tally.skipped_total(), 0);
        assert!(
            b.tally.error.as_deref().unwrap().contains("b.log.gz: "),
            "{:?}",
            b.tally.error
        );
        assert_eq!(got.sink.len() as u64, 5 + b.tally.records);
    }

    #[test]
    fn read_inputs_reports_missing_paths_and_bad_formats_up_front() {
        let e = read_inputs(
            &[PathBuf::from("/no/such/file")],
            &IngestOptions::default(),
            Vec::<Flow>::new,
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "/no/such/file: no such file or folder");
        let opts = IngestOptions {
            log_format: Some("${version} 2".into()),
            ..IngestOptions::default()
        };
        let e = read_inputs(&[], &opts, Vec::<Flow>::new).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid --log-format: '2' is not a field name"
        );
    }

    #[test]
    fn read_inputs_handles_gzip_json_and_base64_payloads_and_captures() {
        use base64::Engine;
        let dir = tempfile::tempdir().unwrap();
        let payload = format!(
            r#"{{"messageType":"DATA_MESSAGE","logGroup":"g","logStream":"eni-1","logEvents":[{{"id":"1","timestamp":1,"message":"{}"}}]}}"#,
            REC.trim()
        );
        std::fs::write(dir.path().join("1.json.gz"), gz(&payload)).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(gz(&payload));
        std::fs::write(dir.path().join("2.b64"), b64).unwrap();
        std::fs::write(dir.path().join("3.pcap.gz"), gz("\u{d4}")).unwrap();
        let mut pcap = vec![0xd4, 0xc3, 0xb2, 0xa1];
        pcap.extend([0u8; 20]);
        std::fs::write(dir.path().join("4.cap"), &pcap).unwrap();
        std::fs::write(dir.path().join("5.empty"), "").unwrap();
        std::fs::write(dir.path().join("6.json"), "{\"x\": 1}").unwrap();
        let got = read_inputs(
            &[dir.path().to_path_buf()],
            &IngestOptions::default(),
            Vec::<Flow>::new,
        )
        .unwrap();
        let kinds: Vec<SourceKind> = got.sources.iter().map(|s| s.kind).collect();
        assert_eq!(kinds[0], SourceKind::CloudWatch);
        assert_eq!(kinds[1], SourceKind::CloudWatch);
        assert_eq!(got.sources[0].tally.records, 1);
        assert_eq!(got.sources[1].tally.records, 1);
        // A gzip of one byte that is not a capture magic is text.
        assert_eq!(kinds[2], SourceKind::FlowLogGzip);
        assert!(matches!(kinds[3], SourceKind::Pcap | SourceKind::Pcapng));
        assert!(got.sources[4].tally.warnings[0].ends_with("empty input"));
        assert!(
            got.sources[5]
                .tally
                .error
                .as_deref()
                .unwrap()
                .contains("json without flow-log records")
        );
    }
}
