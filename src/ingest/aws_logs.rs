//! The logs AWS already keeps, recognised by content and read in every form
//! AWS delivers them: Route 53 Resolver query logs ([`super::resolver`]) and
//! CloudTrail ([`super::cloudtrail`]).
//!
//! | shape | looks like |
//! |---|---|
//! | JSON lines | one bare record per line (Resolver files and S3 delivery; CloudTrail records as forwarders write them) |
//! | CloudTrail file | `{"Records": […]}` (S3 delivery, gzip) |
//! | lookup-events | `{"Events": [{…, "CloudTrailEvent": "<record as a string>"}]}` |
//! | CloudWatch Logs | `aws logs filter-log-events` / `get-log-events` (`events[].message`), subscription payloads (`logEvents[].message`, concatenated as Firehose writes them), `{"message": …}` lines — each message one record |
//!
//! Everything is scanned record by record ([`super::json_records`]): memory
//! holds one record, a record over the cap is a bad record, a bad record is
//! counted with its line or element and the input goes on.

use std::io::BufRead;

use serde::Deserialize;

use super::json_records::{ScanError, Scanned, Scanner};
use super::resolver::RecordError;
use super::{cloudtrail, resolver};
use crate::flow::{ApiCall, DnsRecord, Provenance, SourceId, SourceKind, SourceTally};

/// Which AWS log an input holds, and in which form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsLogShape {
    /// Resolver records, one per line.
    ResolverLines,
    /// Bare CloudTrail records, one per line.
    CloudTrailLines,
    /// Bare CloudTrail records, one after another (pretty-printed).
    CloudTrailRecords,
    /// A CloudTrail S3 file: `{"Records": […]}`.
    CloudTrailFile,
    /// `aws cloudtrail lookup-events` output.
    CloudTrailLookup,
    /// CloudWatch Logs JSON whose messages are Resolver or CloudTrail records.
    CloudWatch(Envelope),
}

/// The CloudWatch Logs JSON around the messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Envelope {
    /// `{"logEvents": […]}` subscription payloads.
    LogEvents,
    /// `{"events": […]}` from `filter-log-events` / `get-log-events`.
    Events,
    /// `{"message": "…"}`, one per line.
    MessageLines,
}

/// Occurrences of `"key"` not preceded by a backslash (a member of the
/// record itself, not text inside an escaped message string).
fn has_key(head: &[u8], key: &[u8]) -> bool {
    memchr::memmem::find_iter(head, key).any(|i| i == 0 || head.get(i - 1) != Some(&b'\\'))
}

/// The first member name of the object `head` starts with.
fn first_key(body: &[u8]) -> Option<&[u8]> {
    let rest = body.strip_prefix(b"{")?;
    let start = rest.iter().position(|b| !b.is_ascii_whitespace())?;
    let rest = rest.get(start..)?.strip_prefix(b"\"")?;
    let end = memchr::memchr(b'"', rest)?;
    rest.get(..end)
}

/// Recognise a Resolver or CloudTrail input from its first bytes (a few
/// KiB; the first record is enough). `None`: not one of them.
pub fn detect(head: &[u8]) -> Option<AwsLogShape> {
    let body = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let start = body.iter().position(|b| !b.is_ascii_whitespace())?;
    let body = body.get(start..)?;
    if !body.starts_with(b"{") {
        return None;
    }
    match first_key(body) {
        Some(b"Records") => return Some(AwsLogShape::CloudTrailFile),
        Some(b"Events") => return Some(AwsLogShape::CloudTrailLookup),
        _ => {}
    }
    if has_key(body, b"\"CloudTrailEvent\"") {
        return Some(AwsLogShape::CloudTrailLookup);
    }
    if has_key(body, b"\"query_name\"") && has_key(body, b"\"srcaddr\"") {
        return Some(AwsLogShape::ResolverLines);
    }
    if has_key(body, b"\"eventVersion\"") && has_key(body, b"\"eventSource\"") {
        // JSON lines when the first line is a whole record.
        let first = memchr::memchr(b'\n', body).and_then(|i| body.get(..i));
        let lines = first.is_some_and(|l| {
            serde_json::from_slice::<serde::de::IgnoredAny>(l.trim_ascii()).is_ok()
        });
        return Some(if lines {
            AwsLogShape::CloudTrailLines
        } else {
            AwsLogShape::CloudTrailRecords
        });
    }
    let escaped = memchr::memmem::find(body, br#"\"query_name\""#).is_some()
        || memchr::memmem::find(body, br#"\"eventVersion\""#).is_some();
    if !escaped {
        return None;
    }
    let envelope = if has_key(body, b"\"logEvents\"") {
        Envelope::LogEvents
    } else if has_key(body, b"\"events\"") {
        Envelope::Events
    } else if has_key(body, b"\"message\"") {
        Envelope::MessageLines
    } else {
        return None;
    };
    Some(AwsLogShape::CloudWatch(envelope))
}

/// What one AWS-log input gave.
#[derive(Debug, Default)]
pub struct AwsLogOut {
    pub kind: SourceKind,
    pub dns: Vec<DnsRecord>,
    pub calls: Vec<ApiCall>,
    pub tally: SourceTally,
}

impl AwsLogOut {
    fn take(&mut self, rec: Result<Record, RecordError>, name: &str, at: &str) {
        match rec {
            Ok(Record::Dns(d)) => {
                self.tally.records += 1;
                self.dns.push(d);
            }
            Ok(Record::Call(c)) => {
                self.tally.records += 1;
                self.calls.push(c);
            }
            Err(e) => self
                .tally
                .skip(e.reason, || format!("{name}:{at}: {}", e.detail)),
        }
    }

    fn too_large(&mut self, name: &str, at: &str, len: u64) {
        self.tally.skip("record too large", || {
            format!(
                "{name}:{at}: record of {len} bytes (more than {} MiB)",
                super::json_records::MAX_RECORD_BYTES >> 20
            )
        });
    }
}

/// One record of either log.
#[derive(Debug)]
pub enum Record {
    Dns(DnsRecord),
    Call(ApiCall),
}

/// A CloudWatch Logs event message: `None` when it is not a Resolver or
/// CloudTrail record (a flow-log line), else the record or why it is bad.
pub fn parse_message(message: &str, prov: Provenance) -> Option<Result<Record, RecordError>> {
    let t = message.trim_start();
    if !t.starts_with('{') {
        return None;
    }
    let b = t.as_bytes();
    if resolver::looks_like_record(b) || cloudtrail::looks_like_record(b) {
        Some(parse_any(b, prov))
    } else {
        None
    }
}

/// A message or line: a Resolver or a CloudTrail record, by its members.
fn parse_any(bytes: &[u8], prov: Provenance) -> Result<Record, RecordError> {
    if resolver::looks_like_record(bytes) {
        resolver::parse_record(bytes, prov).map(Record::Dns)
    } else if cloudtrail::looks_like_record(bytes) {
        cloudtrail::parse_record(bytes, prov).map(Record::Call)
    } else {
        // Neither: say why in the terms of the more likely one.
        match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
            Err(e) => Err(RecordError::new(
                "invalid json",
                format!(
                    "invalid json: {}",
                    crate::error::sanitize(&e.to_string(), 100)
                ),
            )),
            Ok(_) => Err(RecordError::new(
                "not a record",
                "neither a Resolver query log record nor a CloudTrail record",
            )),
        }
    }
}

#[derive(Deserialize)]
struct Event {
    message: Option<String>,
}

/// Read an input of `shape` (already detected) record by record.
pub fn read_aws_log<R: BufRead>(
    reader: R,
    shape: AwsLogShape,
    name: &str,
    source: SourceId,
) -> AwsLogOut {
    let mut out = AwsLogOut {
        kind: match shape {
            AwsLogShape::ResolverLines => SourceKind::ResolverQueryLog,
            _ => SourceKind::CloudTrail,
        },
        ..AwsLogOut::default()
    };
    let mut scan = Scanner::new(reader);
    let result = match shape {
        AwsLogShape::ResolverLines
        | AwsLogShape::CloudTrailLines
        | AwsLogShape::CloudWatch(Envelope::MessageLines) => {
            read_lines(&mut scan, shape, name, source, &mut out)
        }
        AwsLogShape::CloudTrailRecords => read_values(&mut scan, name, source, &mut out),
        AwsLogShape::CloudTrailFile => read_arrays(&mut scan, "Records", name, source, &mut out),
        AwsLogShape::CloudTrailLookup => read_arrays(&mut scan, "Events", name, source, &mut out),
        AwsLogShape::CloudWatch(Envelope::LogEvents) => {
            read_arrays(&mut scan, "logEvents", name, source, &mut out)
        }
        AwsLogShape::CloudWatch(Envelope::Events) => {
            read_arrays(&mut scan, "events", name, source, &mut out)
        }
    };
    if let AwsLogShape::CloudWatch(_) = shape {
        if out.dns.len() > out.calls.len() {
            out.kind = SourceKind::ResolverQueryLog;
        }
    }
    if let Err(e) = result {
        out.tally.error = Some(format!("{name}: {e}"));
    }
    out
}

fn prov(source: SourceId, index: u64) -> Provenance {
    Provenance { source, index }
}

/// One record per line; blank lines are counted as blank.
fn read_lines<R: BufRead>(
    scan: &mut Scanner<R>,
    shape: AwsLogShape,
    name: &str,
    source: SourceId,
    out: &mut AwsLogOut,
) -> Result<(), ScanError> {
    loop {
        let line = scan.line();
        let Some(item) = scan.next_line()? else {
            return Ok(());
        };
        let at = line.to_string();
        match item {
            Scanned::TooLarge(n) => out.too_large(name, &at, n),
            Scanned::Record => {
                let bytes = scan.record.trim_ascii();
                if bytes.is_empty() {
                    out.tally.blank += 1;
                    continue;
                }
                let p = prov(source, line);
                let rec = match shape {
                    AwsLogShape::ResolverLines => resolver::parse_record(bytes, p).map(Record::Dns),
                    AwsLogShape::CloudTrailLines => {
                        cloudtrail::parse_record(bytes, p).map(Record::Call)
                    }
                    _ => message_of(bytes).and_then(|m| parse_any(m.as_bytes(), p)),
                };
                out.take(rec, name, &at);
            }
        }
    }
}

fn message_of(bytes: &[u8]) -> Result<String, RecordError> {
    match serde_json::from_slice::<Event>(bytes) {
        Ok(Event { message: Some(m) }) => Ok(m),
        Ok(Event { message: None }) => {
            Err(RecordError::new("missing field", "missing field 'message'"))
        }
        Err(e) => Err(RecordError::new(
            "invalid json",
            format!(
                "invalid json: {}",
                crate::error::sanitize(&e.to_string(), 100)
            ),
        )),
    }
}

/// Bare records one after another (pretty-printed or not).
fn read_values<R: BufRead>(
    scan: &mut Scanner<R>,
    name: &str,
    source: SourceId,
    out: &mut AwsLogOut,
) -> Result<(), ScanError> {
    loop {
        if !scan.more()? {
            return Ok(());
        }
        // One line per record when the file is JSON lines: the line is the
        // record's own.
        let line = scan.line();
        let at = line.to_string();
        match scan.next_value()? {
            Scanned::TooLarge(n) => out.too_large(name, &at, n),
            Scanned::Record => {
                let rec =
                    cloudtrail::parse_record(&scan.record, prov(source, line)).map(Record::Call);
                out.take(rec, name, &at);
            }
        }
    }
}

/// `{"<key>": [elements…], …}`, possibly several documents in a row.
fn read_arrays<R: BufRead>(
    scan: &mut Scanner<R>,
    key: &str,
    name: &str,
    source: SourceId,
    out: &mut AwsLogOut,
) -> Result<(), ScanError> {
    let mut index = 0u64;
    loop {
        if scan.enter_array(key)? {
            let mut i = 0u64;
            let mut first = true;
            while let Some(item) = scan.next_element(first)? {
                first = false;
                index += 1;
                let at = format!("{key}[{i}]");
                i += 1;
                let p = prov(source, index);
                match item {
                    Scanned::TooLarge(n) => out.too_large(name, &at, n),
                    Scanned::Record => {
                        let rec = match key {
                            "Records" => {
                                cloudtrail::parse_record(&scan.record, p).map(Record::Call)
                            }
                            "Events" => {
                                cloudtrail::parse_lookup_item(&scan.record, p).map(Record::Call)
                            }
                            _ => message_of(&scan.record).and_then(|m| {
                                // A subscription's CONTROL_MESSAGE carries text, not records.
                                if m.starts_with("CWL CONTROL MESSAGE") {
                                    Err(RecordError::new("control message", "control message"))
                                } else {
                                    parse_any(m.as_bytes(), p)
                                }
                            }),
                        };
                        match rec {
                            Err(e) if e.reason == "control message" => {
                                out.tally.blank += 1;
                            }
                            rec => out.take(rec, name, &at),
                        }
                    }
                }
            }
            if !scan.leave_object()? {
                return Ok(());
            }
        } else if !scan.more()? {
            return Ok(());
        }
    }
}

#[cfg(test)]
#[path = "aws_logs_tests.rs"]
mod tests;
