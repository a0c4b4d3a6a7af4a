//! The project's deterministic generator of `samples/lab/`: the seed lab
//! (VPC 10.0.0.0/16 in ap-northeast-2, a public and a private subnet, one
//! instance in each) as case folders, one per phase, plus a `timeline` case.
//!
//! Each case holds the topology as AWS CLI JSON, the flow logs of two flow
//! logs (default format as `aws logs filter-log-events` prints it, custom v5
//! as gzip objects at the S3 key layout), a capture per host (pcap from the
//! public host, pcapng with LINUX_SLL2 from the private host) and
//! `expect.toml`. Everything derives from one description of what each host
//! does ([`lab::exchanges`]); packets are built first and the flow-log records
//! are aggregated from them, so captures and flow logs always agree.
//!
//! No clock and no OS randomness: a fixed base time (2026-11-02T09:00:00Z)
//! and a SplitMix64 PRNG seeded per exchange. The same exchange yields the
//! same bytes in its phase's case and in the timeline.

use std::path::{Path, PathBuf};

pub mod aws_logs;
pub mod capture;
pub mod flowlog;
pub mod json;
pub mod lab;
pub mod packets;
pub mod payload;
pub mod topology;

use lab::{CASES, Case, HOSTS, Phase};

/// Errors of the samples generator.
#[derive(Debug, thiserror::Error)]
pub enum SamplesError {
    #[error("cannot build packet: {0}")]
    Packet(String),
    #[error("time out of range: {0}")]
    Time(String),
    #[error("gzip: {0}")]
    Gzip(#[source] std::io::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// One generated file: its path relative to the lab folder (`/`-separated)
/// and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// The folder names of the lab's cases, in the lab's order.
pub fn case_dirs() -> Vec<&'static str> {
    CASES.iter().map(|c| c.dir).collect()
}

/// Every file of `samples/lab/`, sorted by path. Pure: no I/O.
pub fn build_lab() -> Result<Vec<SampleFile>, SamplesError> {
    let mut files = vec![SampleFile {
        path: "README.md".into(),
        bytes: README.as_bytes().to_vec(),
    }];
    for case in &CASES {
        files.extend(build_case(case)?);
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

fn build_case(case: &Case) -> Result<Vec<SampleFile>, SamplesError> {
    let dir = case.dir;
    let mut files = Vec::new();
    let mut file = |rel: &str, bytes: Vec<u8>| {
        files.push(SampleFile {
            path: format!("{dir}/{rel}"),
            bytes,
        })
    };

    for t in topology::files(case.topology)? {
        file(&format!("topology/{}", t.name), t.text.into_bytes());
    }

    let mut packets = Vec::new();
    for phase in case.phases {
        for ex in lab::exchanges(*phase) {
            packets.extend(packets::build(&ex)?);
        }
    }
    // Stable: packets of one exchange keep their order on equal times.
    packets.sort_by_key(|p| p.t_us);

    for host in HOSTS {
        let mine: Vec<packets::Pkt> = packets
            .iter()
            .filter(|p| p.host.instance == host.instance)
            .cloned()
            .collect();
        let bytes = match host.capture {
            lab::CaptureKind::PcapEthernet => capture::write_pcap(host, &mine),
            lab::CaptureKind::PcapngSll2 => capture::write_pcapng(host, &mine),
        };
        file(&format!("captures/{}", host.capture_file), bytes);
    }

    let records = flowlog::records(&packets);
    file(
        "flowlogs/cloudwatch-filter-log-events.json",
        flowlog::cloudwatch_json(&records).into_bytes(),
    );
    for (key, bytes) in flowlog::s3_objects(&records)? {
        file(&format!("flowlogs/{key}"), bytes);
    }
    // Resolver query logs and CloudTrail: the evidence AWS already keeps
    // (phases 3 and 4).
    if let [phase @ (Phase::CfnInterface | Phase::PrivateDnsOff)] = case.phases {
        let exchanges = lab::exchanges(*phase);
        for (key, bytes) in aws_logs::resolver_objects(&exchanges)? {
            file(&format!("resolver-query-logs/{key}"), bytes);
        }
        for (key, bytes) in aws_logs::cloudtrail_files(*phase, &exchanges)? {
            file(&format!("cloudtrail/{key}"), bytes);
        }
    }
    file("expect.toml", expect_toml(case).into_bytes());
    Ok(files)
}

/// Writes the lab into `out` (the `samples/lab` folder). Case folders that
/// already exist there are removed first, so no stale file survives.
pub fn write_lab(out: &Path) -> Result<Vec<PathBuf>, SamplesError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SamplesError::Io { path, source }
    };
    let files = build_lab()?;
    for dir in case_dirs() {
        let d = out.join(dir);
        if d.exists() {
            std::fs::remove_dir_all(&d).map_err(io(&d))?;
        }
    }
    let mut written = Vec::with_capacity(files.len());
    for f in files {
        let path = f
            .path
            .split('/')
            .fold(out.to_path_buf(), |p, part| p.join(part));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, &f.bytes).map_err(io(&path))?;
        written.push(path);
    }
    Ok(written)
}

/// `samples/lab/README.md`.
const README: &str = include_str!("lab_readme.md");

fn toml_list(key: &str, items: &[String]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let mut out = format!("{key} = [\n");
    for i in items {
        out.push_str(&format!("    \"{i}\",\n"));
    }
    out.push_str("]\n");
    out
}

/// The case's `expect.toml`: what the phase proves, in the CLI's
/// expectation strings.
pub fn expect_toml(case: &Case) -> String {
    let (p, q) = (lab::PUBLIC_HOST.instance, lab::PRIVATE_HOST.instance);
    let (comment, since, expect, dns): (&str, Option<String>, Vec<String>, Vec<String>) = match (
        case.topology,
        case.phases,
    ) {
        (Phase::Baseline, _) => (
            "Baseline: no endpoints. The public host reaches S3 and the internet through the\n\
             internet gateway; the private subnet has only the local route, so the private\n\
             host's S3 connections and pings are never answered.",
            None,
            vec![
                format!("s3@{p}=internet-gateway"),
                format!("s3@{q}=blocked"),
                format!("external@{p}=internet-gateway"),
                format!("external@{q}=blocked"),
            ],
            vec![],
        ),
        (Phase::S3Gateway, _) => (
            "S3 gateway endpoint on both route tables (pl-78a54011 -> vpce): both hosts reach\n\
             S3 through the endpoint, and nothing goes to S3 through the internet gateway.",
            None,
            vec!["s3=gateway-endpoint".into(), "s3=private".into()],
            vec![],
        ),
        (Phase::CfnInterface, [_]) => (
            "CloudFormation interface endpoint with private DNS: the default name resolves to\n\
             the endpoint ENIs from both hosts and the API calls go to them; S3 stays on the\n\
             gateway endpoint.",
            None,
            vec![
                "s3=gateway-endpoint".into(),
                "cloudformation=interface-endpoint".into(),
            ],
            vec!["cloudformation=private".into()],
        ),
        (Phase::CfnInterface, _) => (
            "Timeline: baseline, then the S3 gateway endpoint (created 09:10:27.318Z), then the\n\
             CloudFormation interface endpoint (created 09:25:41.902Z). Before the gateway\n\
             endpoint existed the public host used the internet gateway for S3 and the private\n\
             host was blocked, so the expectations hold from the endpoint's creation on.",
            Some("2026-11-02T09:10:27.318Z".into()),
            vec![
                "s3=gateway-endpoint".into(),
                "cloudformation=interface-endpoint".into(),
            ],
            vec!["cloudformation=private".into()],
        ),
        (Phase::PrivateDnsOff, _) => (
            "Private DNS off: cloudformation.ap-northeast-2.amazonaws.com resolves to public\n\
             AMAZON addresses, so the public host reaches CloudFormation through the internet\n\
             gateway and the private host's attempts go unanswered; the endpoint-specific\n\
             vpce-... name still resolves to the endpoint ENIs and is answered from both hosts.",
            None,
            vec![
                "s3=gateway-endpoint".into(),
                format!("cloudformation@{q}=private"),
            ],
            vec!["cloudformation=public".into()],
        ),
    };
    let mut out = String::new();
    for line in comment.lines() {
        out.push_str(&format!("# {line}\n"));
    }
    out.push_str(&format!(
        "# Check: privpath audit samples/lab/{}\n\n",
        case.dir
    ));
    if let Some(s) = since {
        out.push_str(&format!("since = \"{s}\"\n"));
    }
    out.push_str(&toml_list("expect", &expect));
    out.push_str(&toml_list("expect-dns", &dns));
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn build_lab_is_deterministic_and_small() {
        let a = build_lab().unwrap();
        let b = build_lab().unwrap();
        assert_eq!(a, b);
        let total: usize = a.iter().map(|f| f.bytes.len()).sum();
        assert!(total < 2_000_000, "samples/lab is {total} bytes");
    }

    #[test]
    fn expect_toml_parses_with_the_documented_keys() {
        for case in &CASES {
            let text = expect_toml(case);
            let v: toml::Table =
                toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", case.dir));
            for key in v.keys() {
                assert!(
                    ["expect", "expect-dns", "since", "until"].contains(&key.as_str()),
                    "{}: {key}",
                    case.dir
                );
            }
            assert!(
                v["expect"].as_array().is_some_and(|a| !a.is_empty()),
                "{}",
                case.dir
            );
        }
    }

    #[test]
    fn topology_files_are_valid_json() {
        for case in &CASES {
            for t in topology::files(case.topology).unwrap() {
                serde_json::from_str::<serde_json::Value>(&t.text)
                    .unwrap_or_else(|e| panic!("{}: {e}", t.name));
            }
        }
    }

    #[test]
    fn timeline_flow_records_are_the_union_of_its_phases() {
        let lab = build_lab().unwrap();
        let lines = |dir: &str| -> Vec<String> {
            let f = lab
                .iter()
                .find(|f| f.path == format!("{dir}/flowlogs/cloudwatch-filter-log-events.json"))
                .unwrap();
            let v: serde_json::Value = serde_json::from_slice(&f.bytes).unwrap();
            v["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["message"].as_str().unwrap().to_owned())
                .collect()
        };
        let mut phases: Vec<String> = [
            "1-baseline",
            "2-s3-gateway-endpoint",
            "3-cfn-interface-endpoint",
        ]
        .iter()
        .flat_map(|d| lines(d))
        .collect();
        let mut timeline = lines("timeline");
        phases.sort();
        timeline.sort();
        assert_eq!(phases, timeline);
    }
}
