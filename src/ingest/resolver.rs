//! Route 53 Resolver query logs: one JSON record per query (files, gzip,
//! S3 delivery, CloudWatch Logs messages) into [`DnsRecord`]s, so that they
//! feed the DNS evidence exactly as the DNS answers of a capture do.
//!
//! Fields (evidence-sources.md §1.1): `query_timestamp` (ISO 8601, optional
//! fraction), `query_name` (trailing dot), `query_type`, `rcode`, `answers`
//! (`{Rdata, Type, Class}`, CNAME before its A/AAAA), `srcaddr`, `srcids`,
//! `version` (`"1.100000"`: a major other than 1 is refused). The logs carry
//! no TTL: the name index assumes its default. Cache hits are not logged, so
//! a missing query proves nothing.

use std::net::{IpAddr, Ipv4Addr};

use serde::Deserialize;

use crate::flow::{DnsRecord, Provenance};

/// The resolver a query log's answers came from: the Amazon-provided
/// resolver, by its link-local address (the logs do not name it).
pub const AMAZON_RESOLVER: IpAddr = IpAddr::V4(Ipv4Addr::new(169, 254, 169, 253));

#[derive(Deserialize)]
struct Record {
    version: Option<String>,
    query_timestamp: Option<String>,
    query_name: Option<String>,
    query_type: Option<String>,
    rcode: Option<String>,
    #[serde(default)]
    answers: Option<Vec<AnswerRec>>,
    srcaddr: Option<String>,
}

#[derive(Deserialize)]
struct AnswerRec {
    #[serde(rename = "Rdata")]
    rdata: Option<String>,
    #[serde(rename = "Type")]
    kind: Option<String>,
}

/// Why a record was refused: a short reason (the tally key) and the detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    pub reason: &'static str,
    pub detail: String,
}

impl RecordError {
    pub fn new(reason: &'static str, detail: impl Into<String>) -> RecordError {
        RecordError {
            reason,
            detail: detail.into(),
        }
    }
}

/// Is this JSON object (its bytes) a Resolver query log record?
pub fn looks_like_record(bytes: &[u8]) -> bool {
    memchr::memmem::find(bytes, b"\"query_name\"").is_some()
        && memchr::memmem::find(bytes, b"\"srcaddr\"").is_some()
}

/// `"1.100000"` → major 1.
fn check_version(v: Option<&str>) -> Result<(), RecordError> {
    let Some(v) = v else { return Ok(()) };
    let major = v
        .split('.')
        .next()
        .and_then(|m| m.trim().parse::<u32>().ok());
    match major {
        Some(1) => Ok(()),
        _ => Err(RecordError::new(
            "unsupported version",
            format!(
                "version {:?} (privpath reads 1.x)",
                crate::error::sanitize(v, 20)
            ),
        )),
    }
}

/// ISO 8601 UTC with an optional fraction; also the AWS documentation's
/// `19:20:177Z` (seconds run into the milliseconds).
pub fn parse_timestamp(s: &str) -> Option<(u64, u32)> {
    let ts: Option<jiff::Timestamp> = s.parse().ok().or_else(|| {
        let body = s.strip_suffix('Z')?;
        let (head, secs) = body.rsplit_once(':')?;
        if secs.len() > 2 && secs.bytes().all(|b| b.is_ascii_digit()) {
            let (whole, frac) = secs.split_at(2);
            format!("{head}:{whole}.{frac}Z").parse().ok()
        } else {
            None
        }
    });
    let ts = ts?;
    let secs = u64::try_from(ts.as_second()).ok()?;
    let nanos = u32::try_from(ts.subsec_nanosecond()).unwrap_or(0);
    Some((secs, nanos))
}

/// DNS type names as the logs write them.
pub fn qtype_number(s: &str) -> u16 {
    match s.to_ascii_uppercase().as_str() {
        "A" => 1,
        "NS" => 2,
        "CNAME" => 5,
        "SOA" => 6,
        "PTR" => 12,
        "MX" => 15,
        "TXT" => 16,
        "AAAA" => 28,
        "SRV" => 33,
        "NAPTR" => 35,
        "DS" => 43,
        "DNSKEY" => 48,
        "SVCB" => 64,
        "HTTPS" => 65,
        "ANY" => 255,
        "CAA" => 257,
        other => other
            .strip_prefix("TYPE")
            .and_then(|n| n.parse().ok())
            .unwrap_or(0),
    }
}

/// Response code names.
pub fn rcode_number(s: &str) -> u8 {
    match s.to_ascii_uppercase().as_str() {
        "NOERROR" => 0,
        "FORMERR" => 1,
        "SERVFAIL" => 2,
        "NXDOMAIN" => 3,
        "NOTIMP" => 4,
        "REFUSED" => 5,
        "YXDOMAIN" => 6,
        "YXRRSET" => 7,
        "NXRRSET" => 8,
        "NOTAUTH" => 9,
        "NOTZONE" => 10,
        _ => u8::MAX,
    }
}

fn required<'a>(v: &'a Option<String>, field: &str) -> Result<&'a str, RecordError> {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| RecordError::new("missing field", format!("missing field '{field}'")))
}

/// One record (the bytes of one JSON object) into a [`DnsRecord`].
pub fn parse_record(bytes: &[u8], provenance: Provenance) -> Result<DnsRecord, RecordError> {
    let r: Record = serde_json::from_slice(bytes).map_err(|e| {
        RecordError::new(
            "invalid json",
            format!(
                "invalid json: {}",
                crate::error::sanitize(&e.to_string(), 100)
            ),
        )
    })?;
    check_version(r.version.as_deref())?;
    let ts = required(&r.query_timestamp, "query_timestamp")?;
    let (time, time_nanos) = parse_timestamp(ts).ok_or_else(|| {
        RecordError::new(
            "invalid time",
            format!(
                "field 'query_timestamp': invalid time {:?}",
                crate::error::sanitize(ts, 40)
            ),
        )
    })?;
    let name = required(&r.query_name, "query_name")?;
    let src = required(&r.srcaddr, "srcaddr")?;
    let client: IpAddr = src.parse().map_err(|_| {
        RecordError::new(
            "invalid address",
            format!(
                "field 'srcaddr': invalid address {:?}",
                crate::error::sanitize(src, 40)
            ),
        )
    })?;
    let mut answers = Vec::new();
    let mut cnames = Vec::new();
    for (i, a) in r.answers.iter().flatten().enumerate() {
        let data = a.rdata.as_deref().unwrap_or("");
        match a.kind.as_deref().map(str::to_ascii_uppercase).as_deref() {
            Some("A") | Some("AAAA") => {
                let addr: IpAddr = data.parse().map_err(|_| {
                    RecordError::new(
                        "invalid address",
                        format!(
                            "field 'answers[{i}].Rdata': invalid address {:?}",
                            crate::error::sanitize(data, 40)
                        ),
                    )
                })?;
                answers.push(addr);
            }
            Some("CNAME") => cnames.push(data.trim_end_matches('.').to_ascii_lowercase()),
            _ => {}
        }
    }
    Ok(DnsRecord {
        time,
        time_nanos,
        client,
        resolver: AMAZON_RESOLVER,
        query: name.trim_end_matches('.').to_ascii_lowercase(),
        qtype: r.query_type.as_deref().map_or(0, qtype_number),
        rcode: r.rcode.as_deref().map_or(0, rcode_number),
        answers,
        cnames,
        ttl: None,
        provenance,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::flow::SourceId;

    const P: Provenance = Provenance {
        source: SourceId(0),
        index: 1,
    };

    // evidence-sources.md §1.2, examples (1)–(4), verbatim.
    pub const EXAMPLE_1: &str = r#"{"version":"1.100000","account_id":"240917365018","region":"ap-northeast-2","vpc_id":"vpc-0c2e5a7b91d34f068","query_timestamp":"2026-11-25T13:40:02Z","query_name":"cloudformation.ap-northeast-2.amazonaws.com.","query_type":"A","query_class":"IN","rcode":"NOERROR","answers":[{"Rdata":"10.0.1.87","Type":"A","Class":"IN"},{"Rdata":"10.0.0.214","Type":"A","Class":"IN"}],"srcaddr":"10.0.1.148","srcport":"41822","transport":"UDP","srcids":{"instance":"i-05e2b8d4a1c9f7036"}}"#;
    pub const EXAMPLE_2: &str = r#"{"version":"1.100000","account_id":"240917365018","region":"ap-northeast-2","vpc_id":"vpc-0c2e5a7b91d34f068","query_timestamp":"2026-11-25T13:41:17Z","query_name":"cfn.corp.internal.","query_type":"A","query_class":"IN","rcode":"NOERROR","answers":[{"Rdata":"vpce-04b9d1f7a3c5e2860-k3m9x2qa.cloudformation.ap-northeast-2.vpce.amazonaws.com.","Type":"CNAME","Class":"IN"},{"Rdata":"10.0.0.214","Type":"A","Class":"IN"},{"Rdata":"10.0.1.87","Type":"A","Class":"IN"}],"srcaddr":"10.0.0.37","srcport":"53211","transport":"UDP","srcids":{"instance":"i-0a7c3e91f5b2d4068"}}"#;
    pub const EXAMPLE_3: &str = r#"{"version":"1.100000","account_id":"626345947581","region":"us-east-1","vpc_id":"vpc-01e31a7c","query_timestamp":"2021-12-11T22:46:23Z","query_name":"does-not-exist.abc.com.","query_type":"A","query_class":"IN","rcode":"NXDOMAIN","answers":[],"srcaddr":"172.31.86.159","srcport":"48701","transport":"UDP","srcids":{}}"#;
    pub const EXAMPLE_4: &str = r#"{"version":"1.100000","account_id":"240917365018","region":"ap-northeast-2","vpc_id":"vpc-0c2e5a7b91d34f068","query_timestamp":"2026-11-25T14:02:51Z","query_name":"cloudformation.ap-northeast-2.amazonaws.com.","query_type":"A","query_class":"IN","rcode":"NOERROR","answers":[{"Rdata":"10.0.0.214","Type":"A","Class":"IN"}],"srcaddr":"192.168.40.17","srcport":"15083","transport":"UDP","srcids":{"resolver_endpoint":"rslvr-in-0f1e2d3c4b5a69788","resolver_network_interface":"rni-0a1b2c3d4e5f60718"}}"#;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn resolver_examples_of_the_reference_parse_field_by_field() {
        let r = parse_record(EXAMPLE_1.as_bytes(), P).unwrap();
        assert_eq!(
            r,
            DnsRecord {
                time: 1_795_614_002,
                time_nanos: 0,
                client: ip("10.0.1.148"),
                resolver: AMAZON_RESOLVER,
                query: "cloudformation.ap-northeast-2.amazonaws.com".into(),
                qtype: 1,
                rcode: 0,
                answers: vec![ip("10.0.1.87"), ip("10.0.0.214")],
                cnames: vec![],
                ttl: None,
                provenance: P,
            }
        );
        assert_eq!(parse_timestamp("2026-11-25T13:40:02Z").unwrap().0, r.time);
        let r = parse_record(EXAMPLE_2.as_bytes(), P).unwrap();
        assert_eq!(r.query, "cfn.corp.internal");
        assert_eq!(
            r.cnames,
            ["vpce-04b9d1f7a3c5e2860-k3m9x2qa.cloudformation.ap-northeast-2.vpce.amazonaws.com"]
        );
        assert_eq!(r.answers, [ip("10.0.0.214"), ip("10.0.1.87")]);
        assert_eq!(r.client, ip("10.0.0.37"));
        let r = parse_record(EXAMPLE_3.as_bytes(), P).unwrap();
        assert_eq!((r.rcode, r.answers.len(), r.time), (3, 0, 1_639_262_783));
        assert_eq!(r.query, "does-not-exist.abc.com");
        let r = parse_record(EXAMPLE_4.as_bytes(), P).unwrap();
        assert_eq!(
            (r.client, r.answers.clone()),
            (ip("192.168.40.17"), vec![ip("10.0.0.214")])
        );
        for e in [EXAMPLE_1, EXAMPLE_2, EXAMPLE_3, EXAMPLE_4] {
            assert!(looks_like_record(e.as_bytes()));
        }
    }

    #[test]
    fn resolver_times_accept_a_fraction_and_the_documented_typo() {
        assert_eq!(
            parse_timestamp("2021-12-11T22:46:23.177Z"),
            Some((1_639_262_783, 177_000_000))
        );
        assert_eq!(
            parse_timestamp("2021-12-11T19:20:177Z").map(|t| t.1),
            Some(700_000_000)
        );
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn resolver_bad_records_say_which_field() {
        let cases: &[(&str, &str)] = &[
            (
                r#"{"query_name":"a.","srcaddr":"10.0.0.1"}"#,
                "missing field 'query_timestamp'",
            ),
            (
                r#"{"query_timestamp":"2026-11-25T13:40:02Z","query_name":"a.","srcaddr":"x"}"#,
                "field 'srcaddr': invalid address \"x\"",
            ),
            (
                r#"{"version":"2.0","query_timestamp":"2026-11-25T13:40:02Z","query_name":"a.","srcaddr":"10.0.0.1"}"#,
                "version \"2.0\" (privpath reads 1.x)",
            ),
            (
                r#"{"query_timestamp":"2026-11-25T13:40:02Z","query_name":"a.","srcaddr":"10.0.0.1","answers":[{"Rdata":"nope","Type":"A"}]}"#,
                "field 'answers[0].Rdata': invalid address \"nope\"",
            ),
            (
                r#"{"query_timestamp":"#,
                "invalid json: EOF while parsing a value at line 1 column 19",
            ),
        ];
        for (input, want) in cases {
            let e = parse_record(input.as_bytes(), P).unwrap_err();
            assert_eq!(e.detail, *want, "{input}");
        }
    }
}
