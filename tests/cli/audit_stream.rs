//! The streamed audit (issue 14) against the engine that holds every record
//! (`--held`, what the record outputs use): the same report on every lab
//! case and corpus input; the same report whatever the memory budget (the
//! spill path), `-j`, the order of the files or of the records in them; a
//! record delivered twice counted once.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};

use crate::harness::{corpus, run, tempdir};

fn json(args: &[&str]) -> serde_json::Value {
    let (code, v) = json_code(args);
    assert_eq!(code, 0, "{args:?}");
    v
}

/// The exit code (2 when an input is unreadable: the corpus has some) and
/// the report.
fn json_code(args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = vec!["-q", "audit"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", "json", "--exit-zero"]);
    let r = run(&all);
    assert!(r.code == 0 || r.code == 2, "{}", r.snapshot());
    (r.code, serde_json::from_str(&r.stdout).expect("valid json"))
}

/// The report of `args` streamed, held, spilled at every batch, on one thread.
#[track_caller]
fn assert_engines_agree(args: &[&str]) -> serde_json::Value {
    let streamed = json_code(args);
    let held = json_code(&[args, &["--held"]].concat());
    assert_eq!(streamed, held, "streamed vs held: {args:?}");
    let spilled = json_code(&[args, &["--memory-budget", "1", "-j", "1"]].concat());
    assert_eq!(streamed, spilled, "spilled, one thread: {args:?}");
    streamed.1
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn audit_streamed_equals_held_on_every_lab_case() {
    for name in [
        "1-baseline",
        "2-s3-gateway-endpoint",
        "3-cfn-interface-endpoint",
        "4-private-dns-off",
        "timeline",
    ] {
        // Each copy of the flow log alone (together they are one log
        // delivered twice: see the duplicates test below).
        let case = PathBuf::from("samples/lab").join(name);
        let topo = case.join("topology");
        let caps = case.join("captures");
        let s3 = case.join("flowlogs/AWSLogs");
        let cw = case.join("flowlogs/cloudwatch-filter-log-events.json");
        for log in [&s3, &cw] {
            let mut args = vec!["--topology", s(&topo), s(log)];
            if caps.exists() {
                args.push(s(&caps));
            }
            assert_engines_agree(&args);
        }
    }
}

#[test]
fn audit_lab_case_counts_the_cloudwatch_copy_of_the_log_once() {
    let case = Path::new("samples/lab/1-baseline");
    let topo = case.join("topology");
    let s3_only = json(&[
        "--topology",
        s(&topo),
        s(&case.join("captures")),
        s(&case.join("flowlogs/AWSLogs")),
    ]);
    let both = json(&[s(case)]);
    assert_eq!(both["verdicts"], s3_only["verdicts"]);
    let inputs = both["inputs"].as_array().unwrap();
    let cw = inputs
        .iter()
        .find(|i| i["path"].as_str().unwrap().ends_with(".json"))
        .unwrap();
    let records = cw["records"].as_u64().unwrap();
    assert!(records > 0);
    assert_eq!(cw["duplicates"].as_u64(), Some(records), "{cw}");
    assert_eq!(cw["flows"].as_u64(), Some(0), "{cw}");
}

#[test]
fn audit_streamed_equals_held_on_the_corpus() {
    let Some(aws) = corpus("aws") else {
        return;
    };
    if let Some(pcap) = corpus("pcap") {
        assert_engines_agree(&["--topology", s(&aws), s(&pcap)]);
    }
    // The corpus repeats sample records across (and within) its flow-log
    // files, which the streamed audit counts once: the held engine counts
    // them again, so here the streamed report is checked against itself
    // (spilled, one thread, two threads) and its duplicates against held.
    let Some(flowlogs) = corpus("flowlogs") else {
        return;
    };
    let args = ["--topology", s(&aws), s(&flowlogs)];
    let streamed = json_code(&args);
    let spilled = json_code(&[args.as_slice(), &["--memory-budget", "1", "-j", "1"]].concat());
    assert_eq!(streamed, spilled);
    let two = json_code(&[args.as_slice(), &["-j", "2"]].concat());
    assert_eq!(streamed, two);
    let held = json_code(&[args.as_slice(), &["--held"]].concat()).1;
    let sum = |v: &serde_json::Value, field: &str| -> u64 {
        v["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i[field].as_u64().unwrap_or(0))
            .sum()
    };
    // Held counts each duplicate egress record as a flow of its own.
    let (flows, dups, held_flows) = (
        sum(&streamed.1, "flows"),
        sum(&streamed.1, "duplicates"),
        sum(&held, "flows"),
    );
    assert!(dups > 0 && flows < held_flows && held_flows - flows <= dups);
}

const HEADER: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path";

/// (interface, instance, subnet, address) of the lab's two instances.
const HOSTS: [(&str, &str, &str, &str); 2] = [
    (
        "eni-02b4d6f8103c5e7a9",
        "i-01a3c5e7092b4d6f8",
        "subnet-0c3f5a7b9d2e46813",
        "10.0.0.10",
    ),
    (
        "eni-04d6f8a12c3e5b7d9",
        "i-03c5e7091b2d4f6a8",
        "subnet-0d4a6b8c1e3f57924",
        "10.0.1.20",
    ),
];

#[allow(clippy::too_many_arguments)]
fn line(
    h: usize,
    out: bool,
    peer: &str,
    sport: u16,
    dport: u16,
    t: u64,
    action: &str,
    flags: u8,
) -> String {
    let (eni, inst, subnet, addr) = HOSTS[h % 2];
    let (src, dst, sp, dp, dir) = if out {
        (addr, peer, sport, dport, "egress")
    } else {
        (peer, addr, dport, sport, "ingress")
    };
    format!(
        "5 111122223333 {eni} {src} {dst} {sp} {dp} 6 {} {} {t} {} {action} OK vpc-0a1d3c5e7f9b24601 {subnet} {inst} {flags} IPv4 {src} {dst} ap-northeast-2 apne2-az1 - - {dir} -",
        3 + t % 7,
        200 + t % 1000,
        t + 20,
    )
}

/// A log whose replies sit in other files than their egress records, often
/// before them, far apart (files of 10 minutes, replies shifted by up to
/// 40 minutes of files), with long connections (one 5-tuple over many
/// windows, answered once), rejected replies and unanswered flows.
fn write_log(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<Vec<String>> = vec![Vec::new(); 6];
    let t0 = 1_793_610_000u64;
    for c in 0..600u64 {
        let h = usize::try_from(c % 2).unwrap();
        let peer = match c % 5 {
            0 | 1 => format!("52.219.60.{}", c % 200),
            2 => format!("8.8.{}.{}", c % 3, c % 250),
            3 => "10.0.1.20".to_owned(),
            _ => format!("3.5.{}.{}", c % 7, c % 90),
        };
        let sport = u16::try_from(30_000 + c).unwrap();
        let dport = if c % 3 == 0 { 80 } else { 443 };
        let t = t0 + c * 6;
        let file = usize::try_from(c % 6).unwrap();
        let windows = if c % 11 == 0 { 4 } else { 1 };
        for w in 0..windows {
            files[(file + usize::try_from(w).unwrap()) % 6].push(line(
                h,
                true,
                &peer,
                sport,
                dport,
                t + w * 60,
                "ACCEPT",
                3,
            ));
        }
        let reply_file = (file + 5 - usize::try_from(c % 4).unwrap()) % 6;
        match c % 9 {
            // No reply at all.
            0 => {}
            // A rejected reply.
            1 => files[reply_file].push(line(h, false, &peer, sport, dport, t + 1, "REJECT", 19)),
            _ => files[reply_file].push(line(h, false, &peer, sport, dport, t + 1, "ACCEPT", 19)),
        }
    }
    files
        .into_iter()
        .enumerate()
        .map(|(i, mut lines)| {
            // Records out of time order inside each file too.
            lines.reverse();
            let p = dir.join(format!("part-{i}.log"));
            std::fs::write(&p, format!("{HEADER}\n{}\n", lines.join("\n"))).unwrap();
            p
        })
        .collect()
}

fn without_inputs(mut v: serde_json::Value) -> serde_json::Value {
    // What depends on the inputs' names and order: the input list, the
    // per-input notes, and `file:line` of the violations.
    v.as_object_mut().unwrap().remove("inputs");
    v.as_object_mut().unwrap().remove("findings");
    v["summary"].as_object_mut().unwrap().remove("findings");
    v.as_object_mut().unwrap().remove("expectations");
    v
}

#[test]
fn audit_pairs_replies_across_files_out_of_order_and_counts_duplicates_once() {
    let dir = tempdir();
    let files = write_log(dir.path());
    let topo = "samples/lab/2-s3-gateway-endpoint/topology";
    let mut args: Vec<&str> = vec!["--topology", topo, "--expect", "s3=gateway-endpoint"];
    args.extend(files.iter().map(|p| s(p)));
    let base = assert_engines_agree(&args);
    // Every outcome the pairing settles is there.
    let text = base["verdicts"].to_string();
    for o in ["\"answered\":", "\"unanswered\":", "\"rejected\":"] {
        assert!(text.contains(o), "{o} in {text}");
    }
    let two = json(&[args.as_slice(), &["-j", "2"]].concat());
    assert_eq!(base, two, "-j 2");

    // The files in another order: the same verdicts.
    let mut rev: Vec<&str> = vec!["--topology", topo, "--expect", "s3=gateway-endpoint"];
    rev.extend(files.iter().rev().map(|p| s(p)));
    assert_eq!(without_inputs(json(&rev)), without_inputs(base.clone()));

    // Two files delivered again (a copy under another name): counted once.
    let again = dir.path().join("again");
    std::fs::create_dir(&again).unwrap();
    for f in &files[..2] {
        std::fs::copy(f, again.join(f.file_name().unwrap())).unwrap();
    }
    let mut dup = args.clone();
    dup.push(s(&again));
    let with_dup = assert_engines_agree_on_verdicts(&dup, &base);
    let inputs = with_dup["inputs"].as_array().unwrap();
    let copies: Vec<&serde_json::Value> = inputs
        .iter()
        .filter(|i| i["path"].as_str().unwrap().contains("again"))
        .collect();
    assert_eq!(copies.len(), 2);
    for c in copies {
        assert_eq!(c["duplicates"], c["records"], "{c}");
        assert_eq!(c["flows"], 0, "{c}");
    }
}

/// Streamed (and spilled) with duplicate deliveries: the verdicts of the
/// log without them.
#[track_caller]
fn assert_engines_agree_on_verdicts(args: &[&str], base: &serde_json::Value) -> serde_json::Value {
    let streamed = json(args);
    let spilled = json(&[args, &["--memory-budget", "1", "-j", "1"]].concat());
    assert_eq!(streamed, spilled);
    assert_eq!(streamed["verdicts"], base["verdicts"]);
    assert_eq!(streamed["timeline"], base["timeline"]);
    streamed
}

/// `-o csv` of `args`: exit code 0 and the text.
fn csv(args: &[&str]) -> String {
    let mut all = vec!["-q", "audit"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", "csv", "--exit-zero"]);
    let r = run(&all);
    assert_eq!(r.code, 0, "{}", r.snapshot());
    r.stdout
}

/// `-o parquet` of `args` read back as a table.
fn parquet(args: &[&str], out: &Path) -> polars::prelude::DataFrame {
    use polars::prelude::{ParquetReader, SerReader};
    let mut all = vec!["-q", "audit"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", "parquet", "--exit-zero", "--out", s(out)]);
    let r = run(&all);
    assert_eq!(r.code, 0, "{}", r.snapshot());
    ParquetReader::new(std::fs::File::open(out).unwrap())
        .finish()
        .unwrap()
}

/// The per-flow outputs streamed (through sorted runs on disk), spilled at
/// every batch on one thread, and on two threads equal the held engine's
/// byte for byte (CSV) and cell for cell (Parquet).
#[track_caller]
fn assert_flow_outputs_agree(args: &[&str], dir: &Path) -> String {
    let held = csv(&[args, &["--held"]].concat());
    let streamed = csv(args);
    assert_eq!(streamed, held, "csv streamed vs held: {args:?}");
    let spilled = csv(&[args, &["--memory-budget", "1", "-j", "1"]].concat());
    assert_eq!(spilled, held, "csv spilled, one thread: {args:?}");
    let two = csv(&[args, &["-j", "2"]].concat());
    assert_eq!(two, held, "csv -j 2: {args:?}");
    let a = parquet(
        &[args, &["--memory-budget", "1"]].concat(),
        &dir.join("streamed.parquet"),
    );
    let b = parquet(&[args, &["--held"]].concat(), &dir.join("held.parquet"));
    assert_eq!(a.shape(), b.shape());
    assert_eq!(a.shape().0 + 1, held.lines().count(), "{args:?}");
    assert!(a.equals_missing(&b), "parquet streamed vs held: {args:?}");
    streamed
}

#[test]
fn audit_csv_and_parquet_are_streamed_and_equal_the_held_outputs() {
    let dir = tempdir();
    for name in [
        "1-baseline",
        "3-cfn-interface-endpoint",
        "4-private-dns-off",
    ] {
        let case = PathBuf::from("samples/lab").join(name);
        let (topo, caps, s3) = (
            case.join("topology"),
            case.join("captures"),
            case.join("flowlogs/AWSLogs"),
        );
        let out =
            assert_flow_outputs_agree(&["--topology", s(&topo), s(&s3), s(&caps)], dir.path());
        // Capture and flow-log flows both, with their classification.
        assert!(out.contains(".pcap"), "{name}");
        assert!(out.contains(".log.gz"), "{name}");
    }

    // Replies in other files, records out of order, long connections.
    let files = write_log(dir.path());
    let topo = "samples/lab/2-s3-gateway-endpoint/topology";
    let mut args: Vec<&str> = vec!["--topology", topo];
    args.extend(files.iter().map(|p| s(p)));
    let base = assert_flow_outputs_agree(&args, dir.path());
    for o in [",answered,", ",unanswered,", ",rejected,"] {
        assert!(base.contains(o), "{o}");
    }

    // Two files delivered again: the rows of the log without them (the
    // first delivery of each record is the one listed).
    let again = dir.path().join("again");
    std::fs::create_dir(&again).unwrap();
    for f in &files[..2] {
        std::fs::copy(f, again.join(f.file_name().unwrap())).unwrap();
    }
    let mut dup = args.clone();
    dup.push(s(&again));
    assert_eq!(csv(&dup), base);
    assert_eq!(
        csv(&[dup.as_slice(), &["--memory-budget", "1"]].concat()),
        base
    );
}
