//! `privpath dns` on captures: formats, errors, and the corpus against tshark.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use crate::harness::{self, run};

fn corpus_file(name: &str) -> Option<std::path::PathBuf> {
    harness::corpus("pcap").map(|d| d.join(name))
}

#[test]
fn dns_jsonl_matches_tshark_on_the_synthetic_capture() {
    let Some(file) = corpus_file("synthetic__ec2-ens5-ether.pcap") else {
        return;
    };
    let r = run([std::ffi::OsStr::new("dns"), file.as_os_str()]);
    r.assert_code(0);
    let exp: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            file.parent()
                .unwrap()
                .join("expected/synthetic__ec2-ens5-ether.pcap.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let theirs = exp["dns_responses"].as_array().unwrap();
    let ours: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(ours.len(), theirs.len());
    for (o, t) in ours.iter().zip(theirs) {
        assert_eq!(o["packet"], t["frame"]);
        assert_eq!(o["query"], t["qry_name"][0]);
        assert_eq!(o["resolver"], t["src"]);
        assert_eq!(o["client"], t["dst"]);
        let mut addrs: Vec<&str> = t["a"]
            .as_array()
            .unwrap()
            .iter()
            .chain(t["aaaa"].as_array().unwrap())
            .map(|x| x.as_str().unwrap())
            .collect();
        addrs.sort();
        let mut got: Vec<&str> = o["answers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap())
            .collect();
        got.sort();
        assert_eq!(got, addrs);
        assert_eq!(o["cnames"], t["cname"]);
        for key in ["qtype", "rcode", "ttl", "time"] {
            assert!(!o[key].is_null(), "{key} missing in {o}");
        }
    }
}

#[test]
fn dns_table_and_csv_and_out_file() {
    let Some(file) = corpus_file("tcpdump__dns_tcp.pcap") else {
        return;
    };
    let r = run([
        std::ffi::OsStr::new("dns"),
        "-o".as_ref(),
        "table".as_ref(),
        file.as_os_str(),
    ]);
    r.assert_code(0);
    assert!(r.stdout.contains("www.tcpdump.org"), "{}", r.snapshot());
    assert!(r.stdout.contains("NOERROR"));
    let dir = harness::tempdir();
    let out = dir.path().join("dns.csv");
    let r = run([
        std::ffi::OsStr::new("dns"),
        "-o".as_ref(),
        "csv".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
        file.as_os_str(),
    ]);
    r.assert_code(0);
    assert_eq!(r.stdout, "");
    let csv = std::fs::read_to_string(&out).unwrap();
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("time,client,resolver,query,qtype,rcode,answers")
    );
    let row = lines.next().unwrap();
    assert!(
        row.contains(",www.tcpdump.org,A,NOERROR,192.139.46.66 198.199.88.104,"),
        "{row}"
    );
}

#[test]
fn not_a_capture_is_named_and_a_warning_or_exit_2_under_strict() {
    let Some(file) = corpus_file("pcapparser__err-eof.bin") else {
        return;
    };
    let r = run([std::ffi::OsStr::new("dns"), file.as_os_str()]);
    r.assert_code(0);
    assert!(
        r.stderr
            .contains("err-eof.bin: not a kind privpath reads: binary data"),
        "{}",
        r.snapshot()
    );
    assert!(!r.stderr.contains("panicked"));
    let r = run([
        std::ffi::OsStr::new("dns"),
        "--strict".as_ref(),
        file.as_os_str(),
    ]);
    r.assert_code(2);
}

#[test]
fn cut_short_capture_keeps_answers_and_strict_makes_it_an_error() {
    let Some(file) = corpus_file("synthetic__ec2-ens5-cut-short.pcap") else {
        return;
    };
    let r = run([std::ffi::OsStr::new("dns"), file.as_os_str()]);
    r.assert_code(0);
    assert!(r.stderr.contains("cut short"), "{}", r.snapshot());
    assert!(!r.stdout.is_empty());
    let r = run([
        std::ffi::OsStr::new("dns"),
        "--strict".as_ref(),
        file.as_os_str(),
    ]);
    r.assert_code(2);
}

#[test]
fn missing_file_is_exit_2() {
    let r = run(["dns", "/nonexistent/capture.pcap"]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("/nonexistent/capture.pcap"),
        "{}",
        r.snapshot()
    );
}
