//! One understanding of inputs across commands: case folders, topology
//! JSON, expect.toml, captures of every format and inputs of no known kind
//! mean the same to `flows`, `dns` and `audit`.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use crate::harness::{corpus, run, tempdir};

/// `flows` on a case folder reads its evidence and says in one line what it
/// set aside (the topology and the expectations), instead of reading them
/// as broken flow logs.
#[test]
fn flows_on_a_case_folder_reads_the_evidence_and_sets_the_rest_aside() {
    let r = run(["flows", "samples/lab/timeline", "--top", "dstaddr"]);
    r.assert_code(0);
    assert!(!r.stderr.contains("invalid"), "{}", r.snapshot());
    assert!(!r.stderr.contains("error"), "{}", r.snapshot());
    let aside: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with("set aside"))
        .collect();
    assert_eq!(aside.len(), 1, "{}", r.snapshot());
    assert!(
        aside[0].contains("topology (samples/lab/timeline/topology)")
            && aside[0].contains("expectations (samples/lab/timeline/expect.toml)"),
        "{}",
        aside[0]
    );
    // Both captures and the flow logs were read.
    assert!(
        r.stderr.contains("private-host.pcapng (pcapng)"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("public-host.pcap (pcap)"), "{}", r.stderr);
    assert!(r.stderr.contains("(cloudwatch logs)"), "{}", r.stderr);
}

/// The same folder through `dns`: the captures' answers; the flow logs,
/// the topology and the expectations set aside.
#[test]
fn dns_on_a_case_folder_reads_the_captures() {
    let r = run(["dns", "samples/lab/timeline"]);
    r.assert_code(0);
    assert!(r.stdout.lines().count() > 0, "{}", r.snapshot());
    assert!(
        r.stdout
            .contains("\"source_file\":\"samples/lab/timeline/captures/")
    );
    assert!(
        r.stderr.contains("set aside, not evidence: topology"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("set aside, no DNS answers in flow logs"),
        "{}",
        r.stderr
    );
}

/// Topology files named on their own are recognised by content by every
/// command: `audit` uses them as the topology, `flows` sets them aside.
#[test]
fn topology_files_among_the_inputs_are_topology_for_audit() {
    let r = run([
        "audit",
        "samples/lab/timeline/captures",
        "samples/lab/timeline/topology",
    ]);
    r.assert_code(0);
    assert!(!r.stderr.contains("no topology"), "{}", r.snapshot());
    let r = run(["flows", "samples/lab/timeline/topology/describe-vpcs.json"]);
    r.assert_code(0);
    assert!(
        r.stderr.contains("set aside, not evidence: topology"),
        "{}",
        r.stderr
    );
}

/// A path that does not exist is reported before a missing topology.
#[test]
fn audit_reports_a_missing_path_before_a_missing_topology() {
    let r = run(["audit", "no/such/flows.log"]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("no/such/flows.log: no such file"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("no topology"), "{}", r.stderr);
}

/// What is no kind privpath reads (an image, binary garbage, a capture
/// header cut short) is named and counted: a warning, exit 2 under
/// --strict; never "a flow-log file with N invalid lines".
#[test]
fn inputs_of_no_known_kind_are_named_counted_and_fail_under_strict() {
    let dir = tempdir();
    let png = dir.path().join("diagram.png");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00").unwrap();
    let junk = dir.path().join("junk.bin");
    std::fs::write(&junk, [0u8, 1, 2, 3, 0xff, 0xfe, 9, 9, 9]).unwrap();
    let cut = dir.path().join("cut.pcap");
    std::fs::write(&cut, [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]).unwrap();
    for strict in [false, true] {
        let mut args = vec!["flows".to_owned(), dir.path().display().to_string()];
        if strict {
            args.insert(0, "--strict".to_owned());
        }
        let r = run(&args);
        r.assert_code(if strict { 2 } else { 0 });
        for (file, what) in [
            ("diagram.png", "a PNG image"),
            ("junk.bin", "binary data"),
            ("cut.pcap", "capture header cut short (8 of 24 bytes)"),
        ] {
            assert!(
                r.stderr
                    .contains(&format!("{file}: not a kind privpath reads: {what}")),
                "{file}\n{}",
                r.snapshot()
            );
        }
        assert!(!r.stderr.contains("invalid"), "{}", r.snapshot());
    }
}

/// The "modified" pcap format is a capture, not flow-log text.
#[test]
fn modified_pcap_format_is_read_as_a_capture() {
    let Some(dir) = corpus("pcap") else { return };
    let file = dir.join("pcapparser__modified-format.pcap");
    let r = run([std::ffi::OsStr::new("flows"), file.as_os_str()]);
    r.assert_code(0);
    assert!(
        r.stderr
            .contains("modified-format.pcap (pcap): 1 records from 1 packets"),
        "{}",
        r.snapshot()
    );
    assert!(!r.stderr.contains("utf-8"), "{}", r.stderr);
}
