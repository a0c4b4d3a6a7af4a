//! The lab's Route 53 Resolver query logs and CloudTrail records, derived
//! from the same exchanges as its packets: every DNS exchange of a host is a
//! query the Resolver logged, every CloudFormation HTTPS exchange that
//! reached AWS is one `DescribeStacks` call CloudTrail recorded.
//!
//! - Resolver: gzip JSON lines at the S3 key layout
//!   (`AWSLogs/<account>/vpcdnsquerylogs/<vpc>/YYYY/MM/DD/…log.gz`).
//! - Phase 3 (private DNS on): the calls come from the hosts' private
//!   addresses with the endpoint's `vpcEndpointId`, as an S3 CloudTrail file
//!   (`{"Records": […]}`, gzip); the endpoint's network activity events
//!   record them again, plus one call its policy denied.
//! - Phase 4 (private DNS off): the public host's call by the default name
//!   comes from its public address (internet gateway), its call by the
//!   `vpce-…` name and the private host's from their private addresses, as
//!   `aws cloudtrail lookup-events` prints them (each record a JSON string).
//!   The private host's call by the default name never reached AWS.

use super::SamplesError;
use super::flowlog::gzip;
use super::json::{J, a, o, s};
use super::lab::*;
use super::payload::{Rng, fnv1a};

fn q(v: &str) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "\"\"".to_owned())
}

fn time_text(us: i64, millis: bool) -> Result<String, SamplesError> {
    let t = jiff::Timestamp::from_microsecond(us).map_err(|e| SamplesError::Time(e.to_string()))?;
    Ok(if millis {
        t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    } else {
        t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    })
}

fn ip(v: [u8; 4]) -> String {
    std::net::Ipv4Addr::from(v).to_string()
}

/// One Resolver query log record (evidence-sources.md §1.1), as one line.
fn resolver_record(ex: &Exchange) -> Result<Option<String>, SamplesError> {
    let Kind::Dns {
        qname,
        cname,
        addrs,
        ..
    } = &ex.kind
    else {
        return Ok(None);
    };
    let mut answers = Vec::new();
    if let Some((c, _)) = cname {
        answers.push(format!(
            r#"{{"Rdata":{},"Type":"CNAME","Class":"IN"}}"#,
            q(&format!("{c}."))
        ));
    }
    for a in addrs {
        answers.push(format!(
            r#"{{"Rdata":{},"Type":"A","Class":"IN"}}"#,
            q(&ip(*a))
        ));
    }
    let mut rng = Rng::from_name(&format!("{}/resolver", ex.id));
    let port = 32768 + rng.range(0, 28000);
    Ok(Some(format!(
        r#"{{"version":"1.100000","account_id":"{ACCOUNT}","region":"{REGION}","vpc_id":"{VPC}","query_timestamp":{},"query_name":{},"query_type":"A","query_class":"IN","rcode":"NOERROR","answers":[{}],"srcaddr":"{}","srcport":"{port}","transport":"UDP","srcids":{{"instance":"{}"}}}}"#,
        q(&time_text(ex.at_us, false)?),
        q(&format!("{qname}.")),
        answers.join(","),
        ip(ex.host.ip),
        ex.host.instance,
    )))
}

/// The Resolver query log of `exchanges` as S3 objects (key, gzip bytes).
pub fn resolver_objects(exchanges: &[Exchange]) -> Result<Vec<(String, Vec<u8>)>, SamplesError> {
    let mut text = String::new();
    let mut first = None;
    for ex in exchanges {
        if let Some(line) = resolver_record(ex)? {
            first = first.or(Some(ex.at_us));
            text.push_str(&line);
            text.push('\n');
        }
    }
    let Some(first) = first else {
        return Ok(Vec::new());
    };
    let secs = first.div_euclid(1_000_000);
    let window = secs - secs.rem_euclid(300);
    let t = jiff::Timestamp::from_second(window).map_err(|e| SamplesError::Time(e.to_string()))?;
    let dir = t.strftime("%Y/%m/%d").to_string();
    let stamp = t.strftime("%Y%m%dT%H%MZ").to_string();
    let hash = format!("{:08x}", fnv1a(text.as_bytes()) & 0xffff_ffff);
    let key = format!(
        "AWSLogs/{ACCOUNT}/vpcdnsquerylogs/{VPC}/{dir}/{VPC}_vpcdnsquerylogs_{ACCOUNT}_{stamp}_{hash}.log.gz"
    );
    Ok(vec![(key, gzip(text.as_bytes())?)])
}

/// One CloudTrail call, before it is written.
struct Call<'a> {
    ex: &'a Exchange,
    event: &'static str,
    source: String,
    endpoint: Option<&'static str>,
    /// A network activity event of the endpoint (`AwsVpceEvent`).
    network: bool,
    error: Option<&'static str>,
}

fn uuid(rng: &mut Rng) -> String {
    let b = rng.bytes(16);
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        h.get(0..8).unwrap_or(""),
        h.get(8..12).unwrap_or(""),
        h.get(12..16).unwrap_or(""),
        h.get(16..20).unwrap_or(""),
        h.get(20..32).unwrap_or("")
    )
}

const ROLE: &str = "privpath-lab-ec2";
const ROLE_ID: &str = "AROAYLAB2EXAMPLE7Q2ZK";

/// One record, compact, members in CloudTrail's order (§2.4 (a) and (e)).
fn trail_record(c: &Call<'_>) -> Result<String, SamplesError> {
    let mut rng = Rng::from_name(&format!("{}/{}/{}", c.ex.id, c.event, c.network));
    let inst = c.ex.host.instance;
    // CloudTrail records the call's completion, a moment after the request.
    let at = time_text(c.ex.at_us + 180_000, false)?;
    let arn = format!("arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE}/{inst}");
    let mut m: Vec<String> = vec![r#""eventVersion":"1.11""#.to_owned()];
    if c.network {
        m.push(format!(
            r#""userIdentity":{{"type":"AssumedRole","arn":{},"accountId":"{ACCOUNT}"}}"#,
            q(&arn)
        ));
    } else {
        m.push(format!(
            r#""userIdentity":{{"type":"AssumedRole","principalId":"{ROLE_ID}:{inst}","arn":{},"accountId":"{ACCOUNT}","accessKeyId":"ASIAYLAB{:012X}","sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"{ROLE_ID}","arn":"arn:aws:iam::{ACCOUNT}:role/{ROLE}","accountId":"{ACCOUNT}","userName":"{ROLE}"}},"attributes":{{"creationDate":{},"mfaAuthenticated":"false"}},"ec2RoleDelivery":"2.0"}}}}"#,
            q(&arn),
            rng.next_u64() & 0xffff_ffff_ffff,
            q(&time_text(LAUNCH_SECONDS * 1_000_000 + 95_000_000, false)?),
        ));
    }
    m.push(format!(r#""eventTime":{}"#, q(&at)));
    m.push(r#""eventSource":"cloudformation.amazonaws.com""#.to_owned());
    m.push(format!(r#""eventName":"{}""#, c.event));
    m.push(format!(r#""awsRegion":"{REGION}""#));
    m.push(format!(r#""sourceIPAddress":{}"#, q(&c.source)));
    if !c.network {
        m.push(r#""userAgent":"aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.1 os/linux#6.1.115-126.197.amzn2023.x86_64 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#amzn.2023 md/prompt#off md/command#cloudformation.describe-stacks""#.to_owned());
    }
    if let Some(e) = c.error {
        m.push(format!(r#""errorCode":"{e}""#));
        m.push(format!(
            r#""errorMessage":"User: {arn} is not authorized to perform: cloudformation:{} with an explicit deny in a VPC endpoint policy""#,
            c.event
        ));
    }
    if !c.network {
        m.push(r#""requestParameters":null"#.to_owned());
        m.push(r#""responseElements":null"#.to_owned());
        m.push(format!(r#""requestID":"{}""#, uuid(&mut rng)));
    }
    m.push(format!(r#""eventID":"{}""#, uuid(&mut rng)));
    if c.network {
        m.push(r#""eventType":"AwsVpceEvent""#.to_owned());
    } else {
        m.push(r#""readOnly":true"#.to_owned());
        m.push(r#""eventType":"AwsApiCall""#.to_owned());
        m.push(r#""managementEvent":true"#.to_owned());
    }
    m.push(format!(r#""recipientAccountId":"{ACCOUNT}""#));
    if c.network {
        m.push(format!(r#""sharedEventID":"{}""#, uuid(&mut rng)));
    }
    if let Some(ep) = c.endpoint {
        m.push(format!(r#""vpcEndpointId":"{ep}""#));
        m.push(format!(r#""vpcEndpointAccountId":"{ACCOUNT}""#));
    }
    m.push(format!(
        r#""eventCategory":"{}""#,
        if c.network {
            "NetworkActivity"
        } else {
            "Management"
        }
    ));
    if !c.network {
        let host = match &c.ex.kind {
            Kind::Https { sni, .. } => sni.as_str(),
            _ => CFN_NAME,
        };
        m.push(format!(
            r#""tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":{}}}"#,
            q(host)
        ));
    }
    Ok(format!("{{{}}}", m.join(",")))
}

/// The CloudFormation calls of `phase` that reached AWS.
fn calls(phase: Phase, exchanges: &[Exchange]) -> Vec<Call<'_>> {
    let mut out = Vec::new();
    for ex in exchanges {
        let Kind::Https { sni, server, .. } = &ex.kind else {
            continue;
        };
        if !sni.contains("cloudformation") {
            continue;
        }
        let via_endpoint = CFN_ENIS.iter().any(|e| e.ip == *server);
        let source = if via_endpoint {
            ip(ex.host.ip)
        } else if let (Route::InternetGateway, Some(p)) = (ex.route(), ex.host.public_ip) {
            ip(p)
        } else {
            // No route out: the call never reached CloudFormation.
            continue;
        };
        let endpoint = via_endpoint.then_some(CFN_ENDPOINT);
        out.push(Call {
            ex,
            event: "DescribeStacks",
            source: source.clone(),
            endpoint,
            network: false,
            error: None,
        });
        if phase == Phase::CfnInterface && via_endpoint {
            out.push(Call {
                ex,
                event: "DescribeStacks",
                source: source.clone(),
                endpoint,
                network: true,
                error: None,
            });
            if ex.host.instance == PRIVATE_HOST.instance {
                // The endpoint policy allows reads only: network activity
                // events record the refused call too.
                out.push(Call {
                    ex,
                    event: "DeleteStack",
                    source,
                    endpoint,
                    network: true,
                    error: Some("VpceAccessDenied"),
                });
            }
        }
    }
    out
}

/// The CloudTrail files of a case: (path under `cloudtrail/`, bytes).
pub fn cloudtrail_files(
    phase: Phase,
    exchanges: &[Exchange],
) -> Result<Vec<(String, Vec<u8>)>, SamplesError> {
    let calls = calls(phase, exchanges);
    let Some(first) = calls.first().map(|c| c.ex.at_us) else {
        return Ok(Vec::new());
    };
    let records = calls
        .iter()
        .map(trail_record)
        .collect::<Result<Vec<_>, _>>()?;
    if phase == Phase::PrivateDnsOff {
        // `aws cloudtrail lookup-events --lookup-attributes
        // AttributeKey=EventSource,AttributeValue=cloudformation.amazonaws.com`:
        // newest first, each record a string.
        let mut events = Vec::new();
        for (c, r) in calls.iter().zip(&records).rev() {
            let v: serde_json::Value =
                serde_json::from_str(r).map_err(|e| SamplesError::Time(format!("record: {e}")))?;
            let id = v.get("eventID").and_then(|x| x.as_str()).unwrap_or("");
            let time = time_text(c.ex.at_us + 180_000, false)?;
            events.push(o(vec![
                ("EventId", s(id)),
                ("EventName", s(c.event)),
                ("ReadOnly", s("true")),
                ("AccessKeyId", s("")),
                ("EventTime", s(time)),
                ("EventSource", s("cloudformation.amazonaws.com")),
                ("Username", s(c.ex.host.instance)),
                ("Resources", a(vec![])),
                ("CloudTrailEvent", J::Str(r.clone())),
            ]));
        }
        let doc = o(vec![("Events", a(events))]);
        return Ok(vec![(
            "lookup-events.json".to_owned(),
            doc.to_pretty(4).into_bytes(),
        )]);
    }
    let text = format!("{{\"Records\":[{}]}}", records.join(","));
    let secs = first.div_euclid(1_000_000) + 300;
    let window = secs - secs.rem_euclid(300);
    let t = jiff::Timestamp::from_second(window).map_err(|e| SamplesError::Time(e.to_string()))?;
    let dir = t.strftime("%Y/%m/%d").to_string();
    let stamp = t.strftime("%Y%m%dT%H%MZ").to_string();
    let mut rng = Rng::from_name(&format!("cloudtrail/{phase:?}"));
    let tag: String = (0..16)
        .map(|_| {
            let chars = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
            let i = usize::try_from(rng.range(0, chars.len() as u64)).unwrap_or(0);
            char::from(chars.get(i).copied().unwrap_or(b'A'))
        })
        .collect();
    let key = format!(
        "AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/{dir}/{ACCOUNT}_CloudTrail_{REGION}_{stamp}_{tag}.json.gz"
    );
    Ok(vec![(key, gzip(text.as_bytes())?)])
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::flow::{Provenance, SourceId};
    use crate::ingest::{cloudtrail, resolver};

    #[test]
    fn lab_logs_parse_with_the_product_readers() {
        let p3 = exchanges(Phase::CfnInterface);
        let calls3 = calls(Phase::CfnInterface, &p3);
        // Two hosts' calls, their network events, one denied call.
        assert_eq!(calls3.len(), 5);
        for c in &calls3 {
            let r = trail_record(c).unwrap();
            let call = cloudtrail::parse_record(r.as_bytes(), Provenance::default()).unwrap();
            assert_eq!(call.source_ip, ip(c.ex.host.ip));
            assert_eq!(call.vpc_endpoint_id.as_deref(), Some(CFN_ENDPOINT));
        }
        let p4 = exchanges(Phase::PrivateDnsOff);
        let calls4 = calls(Phase::PrivateDnsOff, &p4);
        let sources: Vec<&str> = calls4.iter().map(|c| c.source.as_str()).collect();
        assert_eq!(sources, ["3.35.142.77", "10.0.0.10", "10.0.1.20"]);
        for ex in &p4 {
            if let Some(line) = resolver_record(ex).unwrap() {
                let d = resolver::parse_record(
                    line.as_bytes(),
                    Provenance {
                        source: SourceId(0),
                        index: 1,
                    },
                )
                .unwrap();
                assert_eq!(d.client.to_string(), ip(ex.host.ip));
                assert!(!d.answers.is_empty());
            }
        }
    }
}
