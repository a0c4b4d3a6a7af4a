//! `--window` and `--host` on the capture path, through the CLI.

use crate::harness::{run, sample};

fn jsonl(args: &[&str]) -> Vec<serde_json::Value> {
    let r = run(args);
    r.assert_code(0);
    r.stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

#[test]
fn window_splits_capture_flows_and_host_names_the_capturer() {
    let cap = sample("lab/timeline/captures/public-host.pcap");
    let cap = cap.to_str().unwrap();
    let whole = jsonl(&["flows", "-q", "-o", "jsonl", cap]);
    let windowed = jsonl(&["flows", "-q", "-o", "jsonl", "--window", "1s", cap]);
    // The timeline spans many seconds: one-second windows split long flows.
    assert!(
        windowed.len() > whole.len(),
        "--window 1s gave {} flows, without {}",
        windowed.len(),
        whole.len()
    );
    let sum = |v: &[serde_json::Value]| {
        v.iter()
            .map(|f| f["packets"].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(sum(&whole), sum(&windowed), "windows must not lose packets");
    for f in &whole {
        assert_eq!(f["capture_host"], "10.0.0.10", "{f}");
    }
    let forced = jsonl(&["flows", "-q", "-o", "jsonl", "--host", "10.0.0.2", cap]);
    assert!(forced.iter().all(|f| f["capture_host"] == "10.0.0.2"));
}

#[test]
fn window_rejects_a_bad_duration_with_exit_2() {
    let r = run(["flows", "--window", "1d", "samples/lab"]);
    r.assert_code(2);
    assert!(r.stderr.contains("invalid duration unit"), "{}", r.stderr);
}
