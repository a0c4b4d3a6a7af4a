//! Detection and reading of every delivery form, and adversarial inputs.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::io::{BufReader, Cursor, Read, Write};

use super::*;
use crate::ingest::cloudtrail::tests::{EXAMPLE_A, EXAMPLE_E, example_b, example_c};

const RESOLVER_1: &str = r#"{"version":"1.100000","account_id":"240917365018","region":"ap-northeast-2","vpc_id":"vpc-0c2e5a7b91d34f068","query_timestamp":"2026-11-25T13:40:02Z","query_name":"cloudformation.ap-northeast-2.amazonaws.com.","query_type":"A","query_class":"IN","rcode":"NOERROR","answers":[{"Rdata":"10.0.1.87","Type":"A","Class":"IN"},{"Rdata":"10.0.0.214","Type":"A","Class":"IN"}],"srcaddr":"10.0.1.148","srcport":"41822","transport":"UDP","srcids":{"instance":"i-05e2b8d4a1c9f7036"}}"#;
const RESOLVER_3: &str = r#"{"version":"1.100000","account_id":"626345947581","region":"us-east-1","vpc_id":"vpc-01e31a7c","query_timestamp":"2021-12-11T22:46:23Z","query_name":"does-not-exist.abc.com.","query_type":"A","query_class":"IN","rcode":"NXDOMAIN","answers":[],"srcaddr":"172.31.86.159","srcport":"48701","transport":"UDP","srcids":{}}"#;

fn one_line(s: &str) -> String {
    s.replace('\n', "")
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn read(input: &str) -> AwsLogOut {
    let shape = detect(input.as_bytes()).unwrap_or_else(|| panic!("not detected: {input:.80}"));
    read_aws_log(
        Cursor::new(input.as_bytes().to_vec()),
        shape,
        "in",
        SourceId(0),
    )
}

fn lookup_page(records: &[&str]) -> String {
    let events: Vec<serde_json::Value> = records
        .iter()
        .enumerate()
        .map(|(i, r)| serde_json::json!({"EventId": format!("e{i}"), "EventName": "DescribeStacks", "ReadOnly": "true", "EventTime": "2026-11-25T22:40:03+09:00", "EventSource": "cloudformation.amazonaws.com", "Username": "i-05e2b8d4a1c9f7036", "Resources": [], "CloudTrailEvent": r}))
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({"Events": events, "NextToken": "abc"}))
        .unwrap()
}

fn cwl_events(messages: &[&str], key: &str) -> String {
    let ev: Vec<serde_json::Value> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| serde_json::json!({"id": i.to_string(), "timestamp": 1_795_700_402_000u64, "message": m}))
        .collect();
    if key == "logEvents" {
        serde_json::json!({"messageType": "DATA_MESSAGE", "owner": "240917365018", "logGroup": "/aws/route53/resolver", "logStream": "vpc-0c2e5a7b91d34f068_abc", "subscriptionFilters": ["f"], "logEvents": ev}).to_string()
    } else {
        serde_json::json!({"events": ev, "searchedLogStreams": [], "nextToken": null}).to_string()
    }
}

#[test]
fn detect_tells_every_form_apart_and_leaves_flow_logs_alone() {
    let ct_lines = format!("{}\n{}\n", one_line(EXAMPLE_A), EXAMPLE_E);
    let cases: Vec<(String, Option<AwsLogShape>)> = vec![
        (
            format!("{RESOLVER_1}\n{RESOLVER_3}\n"),
            Some(AwsLogShape::ResolverLines),
        ),
        (
            format!("{{\"Records\": [{EXAMPLE_A}]}}"),
            Some(AwsLogShape::CloudTrailFile),
        ),
        (
            lookup_page(&[EXAMPLE_A]),
            Some(AwsLogShape::CloudTrailLookup),
        ),
        (ct_lines, Some(AwsLogShape::CloudTrailLines)),
        (EXAMPLE_A.to_owned(), Some(AwsLogShape::CloudTrailRecords)),
        (
            cwl_events(&[RESOLVER_1], "logEvents"),
            Some(AwsLogShape::CloudWatch(Envelope::LogEvents)),
        ),
        (
            cwl_events(&[EXAMPLE_E], "events"),
            Some(AwsLogShape::CloudWatch(Envelope::Events)),
        ),
        (
            serde_json::json!({"message": RESOLVER_1}).to_string(),
            Some(AwsLogShape::CloudWatch(Envelope::MessageLines)),
        ),
        (
            cwl_events(
                &["2 123 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK"],
                "events",
            ),
            None,
        ),
        (
            r#"{"message": "2 123 eni-1 - - - - - - - 1 2 - NODATA"}"#.to_owned(),
            None,
        ),
        ("version account-id".to_owned(), None),
        (r#"{"x": 1}"#.to_owned(), None),
    ];
    for (input, want) in cases {
        assert_eq!(detect(input.as_bytes()), want, "{input:.100}");
    }
}

#[test]
fn resolver_lines_plain_and_gzip_count_bad_lines_and_go_on() {
    let input = format!(
        "{RESOLVER_1}\n\n{{\"query_name\":\"a.\",\"srcaddr\":\"10.0.0.1\"}}\n{RESOLVER_3}\r\n"
    );
    let out = read(&input);
    assert_eq!(out.kind, SourceKind::ResolverQueryLog);
    assert_eq!(
        (
            out.tally.records,
            out.tally.blank,
            out.tally.skipped_total()
        ),
        (2, 1, 1)
    );
    assert_eq!(
        out.tally.examples,
        ["in:3: missing field 'query_timestamp'"]
    );
    assert_eq!(out.dns[1].provenance.index, 4);
    assert_eq!(out.tally.error, None);
    // The S3 delivery: gzip (read through the ingest front door).
    let dir = tempfile::tempdir().unwrap();
    let p = dir
        .path()
        .join("vpc-0c2e5a7b91d34f068_vpcdnsquerylogs_240917365018_20261125T1340Z_213be99c.log.gz");
    std::fs::write(&p, gz(input.as_bytes())).unwrap();
    let got = crate::ingest::read_inputs(
        &[p],
        &crate::ingest::IngestOptions::default(),
        Vec::<crate::flow::Flow>::new,
    )
    .unwrap();
    assert_eq!(got.sources[0].kind, SourceKind::ResolverQueryLog);
    assert_eq!(got.dns.len(), 2);
    assert_eq!(got.sources[0].tally.records, 2);
}

#[test]
fn cloudtrail_file_lookup_and_cloudwatch_forms_give_the_same_calls() {
    let records = [
        EXAMPLE_A.to_owned(),
        example_b(),
        example_c(),
        EXAMPLE_E.to_owned(),
    ];
    let refs: Vec<&str> = records.iter().map(String::as_str).collect();
    let file = format!("{{\"Records\":[{}]}}", refs.join(","));
    let a = read(&file);
    assert_eq!(
        (a.kind, a.calls.len(), a.tally.skipped_total()),
        (SourceKind::CloudTrail, 4, 0)
    );
    let b = read(&lookup_page(&refs));
    let oneline: Vec<String> = refs.iter().map(|r| one_line(r)).collect();
    let c = read(&cwl_events(
        &oneline.iter().map(String::as_str).collect::<Vec<_>>(),
        "events",
    ));
    let d = read(&cwl_events(
        &oneline.iter().map(String::as_str).collect::<Vec<_>>(),
        "logEvents",
    ));
    let e = read(&oneline.join("\n"));
    let msgs: Vec<String> = oneline
        .iter()
        .map(|m| serde_json::json!({"message": m}).to_string())
        .collect();
    let f = read(&msgs.join("\n"));
    let strip = |o: &AwsLogOut| -> Vec<ApiCall> {
        o.calls
            .iter()
            .map(|c| ApiCall {
                provenance: Provenance::default(),
                ..c.clone()
            })
            .collect()
    };
    for (name, o) in [
        ("lookup", &b),
        ("events", &c),
        ("logEvents", &d),
        ("lines", &e),
        ("messages", &f),
    ] {
        assert_eq!(strip(o), strip(&a), "{name}");
        assert_eq!(o.tally.skipped_total(), 0, "{name}: {:?}", o.tally.examples);
        assert_eq!(o.kind, SourceKind::CloudTrail, "{name}");
    }
    // A subscription payload of Resolver records; Firehose concatenates payloads.
    let two = format!(
        "{}{}",
        cwl_events(&[RESOLVER_1], "logEvents"),
        cwl_events(&[RESOLVER_3], "logEvents")
    );
    let r = read(&two);
    assert_eq!(
        (r.kind, r.dns.len(), r.tally.records),
        (SourceKind::ResolverQueryLog, 2, 2)
    );
    assert_eq!(r.dns[1].provenance.index, 2);
}

#[test]
fn adversarial_records_array_with_a_broken_element() {
    let file = format!(
        "{{\"Records\":[{EXAMPLE_A}, {{\"eventVersion\": \"1.08\", \"eventTime\": 17}}, [1, 2], {EXAMPLE_E}]}}"
    );
    let out = read(&file);
    assert_eq!(out.calls.len(), 2);
    assert_eq!(out.tally.skipped_total(), 2);
    assert!(
        out.tally.examples[0]
            .starts_with("in:Records[1]: invalid json: invalid type: integer `17`"),
        "{:?}",
        out.tally.examples
    );
    assert!(
        out.tally.examples[1].starts_with("in:Records[2]: invalid json"),
        "{:?}",
        out.tally.examples
    );
    assert_eq!(out.tally.error, None);
    assert_eq!(out.calls[1].provenance.index, 4);
}

#[test]
fn adversarial_lookup_string_that_is_not_json() {
    let page = lookup_page(&[
        EXAMPLE_A,
        "{\"eventVersion\": \"1.08\", truncated",
        EXAMPLE_E,
    ]);
    let out = read(&page);
    assert_eq!(out.calls.len(), 2);
    assert_eq!(out.tally.skipped.get("invalid json"), Some(&1));
    assert!(
        out.tally.examples[0]
            .starts_with("in:Events[1]: 'CloudTrailEvent' is not a JSON record: invalid json"),
        "{:?}",
        out.tally.examples
    );
}

#[test]
fn adversarial_truncated_gzip_keeps_the_records_before_the_cut() {
    let records: Vec<String> = (0..400)
        .map(|i| EXAMPLE_A.replace("0b5d7a3e", &format!("{i:08x}")))
        .collect();
    let file = format!("{{\"Records\":[{}]}}", records.join(","));
    let mut z = gz(file.as_bytes());
    z.truncate(z.len() / 2);
    let dir = tempfile::tempdir().unwrap();
    let p = dir
        .path()
        .join("240917365018_CloudTrail_ap-northeast-2_20261125T1340Z_Mu0KsOhtH1ar15ZZ.json.gz");
    std::fs::write(&p, &z).unwrap();
    let got = crate::ingest::read_inputs(
        &[p],
        &crate::ingest::IngestOptions::default(),
        Vec::<crate::flow::Flow>::new,
    )
    .unwrap();
    let s = &got.sources[0];
    assert_eq!(s.kind, SourceKind::CloudTrail);
    assert!(
        s.tally.records > 0 && s.tally.records < 400,
        "{}",
        s.tally.records
    );
    assert_eq!(got.api_calls.len() as u64, s.tally.records);
    let err = s.tally.error.as_deref().unwrap();
    assert!(
        err.contains("truncated") || err.contains("corrupt"),
        "{err}"
    );
}

/// 100 MiB of one record, generated as it is read: never held.
struct HugeRecord {
    prefix: Vec<u8>,
    body: u64,
    suffix: Vec<u8>,
    pos: u64,
}

impl Read for HugeRecord {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let p = self.prefix.len() as u64;
        let total = p + self.body + self.suffix.len() as u64;
        let mut n = 0;
        while n < buf.len() && self.pos < total {
            let b = if self.pos < p {
                self.prefix[self.pos as usize]
            } else if self.pos < p + self.body {
                b'x'
            } else {
                self.suffix[(self.pos - p - self.body) as usize]
            };
            buf[n] = b;
            n += 1;
            self.pos += 1;
        }
        Ok(n)
    }
}

#[test]
fn adversarial_a_100_mib_record_is_skipped_without_being_held() {
    for (shape, prefix, suffix) in [
        (
            AwsLogShape::CloudTrailFile,
            format!(
                "{{\"Records\":[{EXAMPLE_A},{{\"eventVersion\":\"1.0\",\"requestParameters\":\""
            ),
            format!("\"}},{EXAMPLE_E}]}}"),
        ),
        (
            AwsLogShape::ResolverLines,
            format!("{RESOLVER_1}\n{{\"query_name\":\""),
            format!("\"}}\n{RESOLVER_3}\n"),
        ),
    ] {
        let huge = HugeRecord {
            prefix: prefix.into_bytes(),
            body: 100 << 20,
            suffix: suffix.into_bytes(),
            pos: 0,
        };
        let mut scan = Scanner::new(BufReader::with_capacity(1 << 16, huge));
        let mut out = AwsLogOut::default();
        let mut peak = 0usize;
        // Drive the reader element by element to watch the buffer.
        let r = match shape {
            AwsLogShape::CloudTrailFile => {
                assert!(scan.enter_array("Records").unwrap());
                let mut first = true;
                let mut i = 0;
                while let Some(item) = scan.next_element(first).unwrap() {
                    first = false;
                    peak = peak.max(scan.record.capacity());
                    match item {
                        Scanned::Record => out.take(
                            cloudtrail::parse_record(&scan.record, Provenance::default())
                                .map(Record::Call),
                            "in",
                            &format!("Records[{i}]"),
                        ),
                        Scanned::TooLarge(n) => out.too_large("in", &format!("Records[{i}]"), n),
                    }
                    i += 1;
                }
                Ok(())
            }
            _ => {
                while let Some(item) = scan.next_line().unwrap() {
                    peak = peak.max(scan.record.capacity());
                    match item {
                        Scanned::Record => out.take(
                            resolver::parse_record(&scan.record, Provenance::default())
                                .map(Record::Dns),
                            "in",
                            "1",
                        ),
                        Scanned::TooLarge(n) => out.too_large("in", "2", n),
                    }
                }
                Ok::<(), ScanError>(())
            }
        };
        r.unwrap();
        assert_eq!(out.tally.records, 2, "{shape:?}");
        assert_eq!(
            out.tally.skipped.get("record too large"),
            Some(&1),
            "{shape:?}"
        );
        assert!(
            out.tally.examples[0].contains("more than 4 MiB"),
            "{:?}",
            out.tally.examples
        );
        assert!(
            peak <= 2 * super::super::json_records::MAX_RECORD_BYTES,
            "{shape:?}: buffer grew to {peak}"
        );
    }
}
