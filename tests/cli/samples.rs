//! `privpath samples`: the committed `samples/lab` is exactly what the
//! generator writes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

use crate::harness::{run, sample, tempdir};

/// Every file under `dir`, by `/`-separated relative path.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.expect("walk the folder"))
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap();
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            (rel, std::fs::read(e.path()).unwrap())
        })
        .collect()
}

#[test]
fn samples_regenerated_equal_the_committed_lab() {
    let tmp = tempdir();
    let out = tmp.path().join("lab");
    run(["samples", "--out", out.to_str().unwrap(), "--quiet"]).assert_code(0);
    let fresh = tree(&out);
    let committed = tree(&sample("lab"));
    assert!(!fresh.is_empty(), "the generator wrote nothing");
    let mut problems = Vec::new();
    for (path, bytes) in &fresh {
        match committed.get(path) {
            None => problems.push(format!("missing from samples/lab: {path}")),
            Some(old) if old != bytes => problems.push(format!("differs: {path}")),
            Some(_) => {}
        }
    }
    for path in committed.keys().filter(|p| !fresh.contains_key(*p)) {
        problems.push(format!("not generated (stale): {path}"));
    }
    assert!(
        problems.is_empty(),
        "samples/lab is out of date; run `cargo run -- samples --out samples/lab`:\n{}",
        problems.join("\n")
    );
}

#[test]
fn samples_is_hidden_from_help() {
    let r = run(["--help"]);
    r.assert_code(0);
    assert!(
        !r.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("samples")),
        "{}",
        r.stdout
    );
}

#[test]
fn samples_lab_is_under_two_megabytes() {
    let total: usize = tree(&sample("lab")).values().map(Vec::len).sum();
    assert!(total < 2 * 1024 * 1024, "samples/lab holds {total} bytes");
}

#[test]
fn samples_evidence_reads_without_a_skipped_record() {
    for case in [
        "1-baseline",
        "2-s3-gateway-endpoint",
        "3-cfn-interface-endpoint",
        "4-private-dns-off",
        "timeline",
    ] {
        let dir = sample("lab").join(case);
        // --strict turns any skipped record or unreadable input into exit 2.
        let r = run([
            "flows",
            "--strict",
            "--quiet",
            "-o",
            "jsonl",
            dir.join("flowlogs").to_str().unwrap(),
            dir.join("captures").to_str().unwrap(),
        ]);
        r.assert_code(0);
        assert!(
            r.stdout.lines().count() > 10,
            "{case}: too few records\n{}",
            r.snapshot()
        );
    }
}
