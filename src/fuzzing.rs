//! The properties the fuzz targets check, one function per target: the
//! targets in `fuzz/` (libFuzzer, nightly flags) and the replay of their
//! corpora and findings on stable (`tests/cli/fuzz_replay.rs`) run the same
//! code. Each function panics when its property fails; none may panic on
//! any input otherwise.

use crate::flow::{Flow, SourceId, SourceTally};
use crate::ingest::IngestOptions;
use crate::ingest::aws_logs::{AwsLogShape, Envelope, detect, read_aws_log};
use crate::ingest::flowlog::header::is_header_line;
use crate::ingest::flowlog::json::{read_json, unwrap_message};
use crate::ingest::flowlog::line::render_line;
use crate::ingest::flowlog::{FieldPlan, parse_line};
use crate::ingest::pcap::dns::parse_response;
use crate::ingest::pcap::read_capture;
use crate::ingest::pcap::tls::{AppName, app_name};
use crate::topology::{TopologyIndex, load_bytes};

/// The targets, by the names `fuzz/Cargo.toml` gives them.
pub const TARGETS: [(&str, fn(&[u8])); 8] = [
    ("capture_reader", capture_reader),
    ("dns_response", dns_response),
    ("tls_client_hello", tls_client_hello),
    ("flowlog_line", flowlog_line),
    ("flowlog_json", flowlog_json),
    ("topology_json", topology_json),
    ("resolver_log", resolver_log),
    ("cloudtrail_log", cloudtrail_log),
];

/// Any bytes as a capture: the counts add up (packets in flows never exceed
/// packets read).
pub fn capture_reader(data: &[u8]) {
    let mut r = data;
    let out = read_capture(&mut r, "fuzz", SourceId(0), &IngestOptions::default());
    let in_flows: u64 = out.flows.iter().filter_map(|f| f.packets).sum();
    assert!(in_flows <= out.tally.packets);
    assert!(out.tally.records <= out.tally.packets);
}

/// Any bytes as a DNS message: names stay within 255 bytes (escaped: ×4).
pub fn dns_response(data: &[u8]) {
    if let Ok(Some(a)) = parse_response(data) {
        assert!(a.query.len() <= 255 * 4);
        for c in &a.cnames {
            assert!(c.len() <= 255 * 4);
        }
    }
}

/// Any bytes as the first bytes of a client stream: a recognised name is a
/// sub-slice of the input.
pub fn tls_client_hello(data: &[u8]) {
    if let AppName::Sni(n) | AppName::HttpHost(n) = app_name(data) {
        assert!(n.len() <= data.len());
        assert!(n.is_empty() || data.windows(n.len()).any(|w| w == n.as_slice()));
    }
}

/// Any bytes as flow-log text: the first line as a header (when it is one)
/// or a `--log-format`, every line as a record; a parsed record renders
/// and parses back.
pub fn flowlog_line(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    let plan = if is_header_line(first) {
        FieldPlan::from_header_line(first).unwrap_or_else(FieldPlan::default_v2)
    } else {
        FieldPlan::from_format(first).unwrap_or_else(|_| FieldPlan::default_v2())
    };
    for line in std::iter::once(first).chain(lines) {
        if let Ok(flow) = parse_line(line, &plan) {
            let again = render_line(&flow, &plan);
            assert!(
                parse_line(&again, &plan).is_ok(),
                "{line:?} rendered as {again:?} does not parse"
            );
        }
    }
}

/// Any bytes as a flow-log JSON input: every record read is counted.
pub fn flowlog_json(data: &[u8]) {
    let plan = FieldPlan::default_v2();
    let mut flows: Vec<Flow> = Vec::new();
    let mut tally = SourceTally::default();
    let _ = read_json(data, "fuzz", SourceId(0), &plan, &mut flows, &mut tally);
    assert_eq!(flows.len() as u64, tally.records);
    if let Ok(line) = std::str::from_utf8(data) {
        let _ = unwrap_message(line);
    }
}

/// Any bytes as one AWS CLI JSON file of the topology: what loads builds
/// an index.
pub fn topology_json(data: &[u8]) {
    if let Ok(topo) = load_bytes("fuzz.json", data) {
        let _ = TopologyIndex::build(&topo);
    }
}

/// Read `data` as an AWS log of `shape`: every record kept is counted, and
/// a record either parsed or was set aside with a reason.
fn aws_log(data: &[u8], shape: AwsLogShape) {
    let out = read_aws_log(data, shape, "fuzz", SourceId(0));
    let kept = (out.dns.len() + out.calls.len()) as u64;
    assert_eq!(kept, out.tally.records, "{shape:?}: records kept ≠ counted");
}

/// Any bytes as a Route 53 Resolver query log: as the shape detection
/// names it (when it does) and as Resolver JSON lines.
pub fn resolver_log(data: &[u8]) {
    if let Some(shape) = detect(data) {
        aws_log(data, shape);
    }
    aws_log(data, AwsLogShape::ResolverLines);
}

/// The CloudTrail shapes and CloudWatch envelopes, chosen by the first byte.
const CLOUDTRAIL_SHAPES: [AwsLogShape; 7] = [
    AwsLogShape::CloudTrailLines,
    AwsLogShape::CloudTrailRecords,
    AwsLogShape::CloudTrailFile,
    AwsLogShape::CloudTrailLookup,
    AwsLogShape::CloudWatch(Envelope::LogEvents),
    AwsLogShape::CloudWatch(Envelope::Events),
    AwsLogShape::CloudWatch(Envelope::MessageLines),
];

/// Any bytes as CloudTrail in every form AWS delivers it: the first byte
/// picks the shape (files, lookup-events, CloudWatch envelopes), the rest
/// is the input; the whole input also goes through shape detection.
pub fn cloudtrail_log(data: &[u8]) {
    if let Some(shape) = detect(data) {
        aws_log(data, shape);
    }
    if let Some((&pick, rest)) = data.split_first() {
        let shape = CLOUDTRAIL_SHAPES[usize::from(pick) % CLOUDTRAIL_SHAPES.len()];
        aws_log(rest, shape);
    }
}
