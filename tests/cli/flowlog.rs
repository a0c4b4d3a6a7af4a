//! Flow-log ingest and `privpath flows`: conformance with the peers'
//! expected parses in `$PRIVPATH_CORPUS/flowlogs`, AWS's documented
//! examples, bad input, output formats, and thread-count independence.
//!
//! Where peers disagree, the choice privpath makes is written next to the
//! comparison (search for "CHOICE").

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::expect_used
)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::harness::{corpus, run, tempdir};
use privpath::flow::{Flow, Provenance};
use privpath::ingest::flowlog::{FieldPlan, parse_line};
use privpath::report::records::{RecordColumns, render_jsonl};

/// Parse one record with `format` (None: default v2) and render it as our
/// JSON object (Athena column names, absent = null).
fn parse_json(line: &str, format: Option<&str>) -> Result<Value, String> {
    let plan = match format {
        Some(f) => FieldPlan::from_format(f).map_err(|e| e.to_string())?,
        None => FieldPlan::default_v2(),
    };
    let flow = parse_line(line, &plan).map_err(|e| e.to_string())?;
    Ok(flow_json(&flow))
}

fn flow_json(flow: &Flow) -> Value {
    let flows = privpath::ingest::Parts::from(vec![flow.clone()]);
    let cols = RecordColumns::for_flows(&flows, false);
    let bytes = render_jsonl(&flows, &cols, &["x".to_owned()]);
    serde_json::from_slice(&bytes).unwrap()
}

/// Peers type some fields differently (numbers as strings, extras as
/// numbers): compare the text of scalars.
fn loose(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

#[track_caller]
fn assert_fields(ours: &Value, expected: &serde_json::Map<String, Value>, ctx: &str) {
    for (k, want) in expected {
        let got = ours.get(k).unwrap_or(&Value::Null);
        assert_eq!(loose(got), loose(want), "{ctx}: field {k}\nours: {ours}");
    }
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn jsonl(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn gz(text: &str) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}

/// Double-quoted string literals of a VRL example source, in order.
fn vrl_strings(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = src;
    while let Some(i) = rest.find('"') {
        let after = &rest[i + 1..];
        let Some(j) = after.find('"') else { break };
        out.push(after[..j].to_owned());
        rest = &after[j + 1..];
    }
    out
}

#[test]
fn flowlog_vrl_documented_examples_match() {
    let Some(dir) = corpus("flowlogs") else {
        return;
    };
    let doc = read_json(&dir.join("vectordotdev-vrl/parse_aws_vpc_flow_log.json"));
    let examples = doc["examples"].as_array().unwrap();
    assert_eq!(examples.len(), 4);
    for ex in examples {
        let strings = vrl_strings(ex["source"].as_str().unwrap());
        let ours = parse_json(&strings[0], strings.get(1).map(String::as_str)).unwrap();
        let want = ex["return"].as_object().unwrap();
        // VRL returns exactly the format's keys; we return every column,
        // and the ones not in the format are null.
        assert_fields(&ours, want, ex["title"].as_str().unwrap());
        // CHOICE: v9+ fields (encryption_status …) are kept as strings (VRL
        // types encryption_status as an integer); loose() compares the text.
    }
    let cases = read_json(&dir.join("vectordotdev-vrl/test_function_expected.json"));
    for case in cases.as_array().unwrap() {
        let ours = parse_json(case["input"].as_str().unwrap(), case["format"].as_str()).unwrap();
        assert_fields(
            &ours,
            case["expected"].as_object().unwrap(),
            case["case"].as_str().unwrap(),
        );
    }
}

#[test]
fn flowlog_vrl_test_vectors_all_parse() {
    let Some(dir) = corpus("flowlogs") else {
        return;
    };
    let text =
        std::fs::read_to_string(dir.join("vectordotdev-vrl/test_vectors_parse_ok.jsonl")).unwrap();
    let mut n = 0;
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let format = v["format_effective"].as_str().unwrap();
        let rec = v["line"].as_str().unwrap();
        parse_json(rec, Some(format)).unwrap_or_else(|e| panic!("{rec}\n{format}\n{e}"));
        n += 1;
    }
    assert_eq!(n, 30);
}

#[test]
fn flowlog_awsdocs_examples_parse_with_their_format() {
    let Some(dir) = corpus("flowlogs") else {
        return;
    };
    let text = std::fs::read_to_string(
        dir.join("awsdocs-vpc-user-guide/flow-logs-records-examples.records.jsonl"),
    )
    .unwrap();
    let mut seen_v5_igw = false;
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let format = v["format"].as_str().unwrap();
        // `record` has the doc's trailing `#comment` removed; `line` is as
        // printed, including the doc's double-space typo, which we accept.
        let raw = v["line"].as_str().unwrap();
        let rec = v["record"].as_str().unwrap();
        let ours = parse_json(rec, Some(format)).unwrap_or_else(|e| panic!("{rec}: {e}"));
        if raw == rec {
            assert_eq!(parse_json(raw, Some(format)).unwrap(), ours);
        }
        // Every non-dash token shows up in our output.
        let plan = FieldPlan::from_format(format).unwrap();
        assert_eq!(plan.len(), v["n_fields_format"].as_u64().unwrap() as usize);
        let values: Vec<String> = ours
            .as_object()
            .unwrap()
            .values()
            .filter_map(loose)
            .collect();
        for tok in rec.split_whitespace().filter(|t| *t != "-") {
            assert!(values.iter().any(|x| x == tok), "{tok} missing from {ours}");
        }
        if ours["traffic_path"] == 8 && ours["pkt_dst_aws_service"] == "S3" {
            assert_eq!(ours["flow_direction"], "egress");
            seen_v5_igw = true;
        }
    }
    assert!(
        seen_v5_igw,
        "the v5 S3-through-IGW example is in the corpus"
    );
}

/// A tiny reader for the Beats test matrix: `case:` / `format:` / `- sample`
/// (plain YAML scalars: ` #` starts a comment; quoted ones are unquoted).
fn beats_cases(yml: &str) -> BTreeMap<String, (String, Vec<String>)> {
    let mut out: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    let mut current = String::new();
    for line in yml.lines() {
        if !line.starts_with(' ') && line.ends_with(':')
            || line.contains(": &") && !line.starts_with(' ')
        {
            current = line.split(':').next().unwrap().to_owned();
        } else if let Some(f) = line.trim_start().strip_prefix("format: ") {
            out.entry(current.clone()).or_default().0 = f.trim().to_owned();
        } else if let Some(s) = line.trim_start().strip_prefix("- ") {
            let s = if let Some(q) = s.strip_prefix('\'') {
                q.trim_end().trim_end_matches('\'').to_owned()
            } else {
                s.split(" #").next().unwrap().trim_end().to_owned()
            };
            out.entry(current.clone()).or_default().1.push(s);
        }
    }
    out
}

#[test]
fn flowlog_beats_matrix_parses_and_golden_matches() {
    let Some(dir) = corpus("flowlogs") else {
        return;
    };
    let cases = beats_cases(
        &std::fs::read_to_string(dir.join("elastic-beats/aws-vpc-flow-logs.yml")).unwrap(),
    );
    for name in [
        "default-v2-format",
        "tcp-flag-sequence",
        "custom-nat-gateway",
        "transit-gateway",
        "service-name-path-direction",
        "v5-fields-original",
        "v6-fields-original",
        "v7-fields-original",
    ] {
        let (format, samples) = cases.get(name).unwrap_or_else(|| panic!("case {name}"));
        assert!(!samples.is_empty(), "{name}");
        for s in samples {
            parse_json(s, Some(format)).unwrap_or_else(|e| panic!("{name}: {s}: {e}"));
        }
    }
    // The v6 sample has a Cyrillic letter inside a subnet id: a string field,
    // kept as is.
    let (format, samples) = &cases["v6-fields-original"];
    let ours = parse_json(&samples[0], Some(format)).unwrap();
    assert!(ours["tgw_src_subnet_id"].as_str().unwrap().ends_with('б'));

    let golden = read_json(&dir.join("elastic-beats/service-name-path-direction.golden.json"));
    let (format, samples) = &cases["service-name-path-direction"];
    for (g, s) in golden.as_array().unwrap().iter().zip(samples) {
        let ours = parse_json(s, Some(format)).unwrap();
        assert_fields(
            &ours,
            &g["aws"]["vpcflow"]
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, _)| *k != "tcp_flags_array")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<serde_json::Map<_, _>>(),
            "beats golden",
        );
        assert_eq!(ours["srcaddr"], g["source"]["ip"]);
        assert_eq!(ours["dstaddr"], g["destination"]["ip"]);
        assert_eq!(ours["srcport"], g["source"]["port"]);
        assert_eq!(ours["dstport"], g["destination"]["port"]);
        assert_eq!(ours["bytes"], g["network"]["bytes"]);
        assert_eq!(ours["packets"], g["network"]["packets"]);
        assert_eq!(ours["region"], g["cloud"]["region"]);
        assert_eq!(ours["az_id"], g["cloud"]["availability_zone"]);
        assert_eq!(ours["account_id"], g["cloud"]["account"]["id"]);
        assert_eq!(ours["flow_direction"], g["network"]["direction"]);
    }
}

#[test]
fn flowlog_elastic_v5_all_fields_match_expected() {
    let Some(dir) = corpus("flowlogs") else {
        return;
    };
    // The file has no header; Elastic picks the layout by token count (29 =
    // all v5 fields in table order). CHOICE: we never guess from the count,
    // so the layout is given as --log-format.
    let format = privpath::flow::COLUMNS.join(" ");
    let r = run(["flows", "-o", "jsonl", "--log-format", &format]
        .into_iter()
        .map(String::from)
        .chain([dir
            .join("elastic-integrations/test-v5-all-fields.log")
            .display()
            .to_string()]));
    r.assert_code(0);
    let rows = jsonl(&r.stdout);
    assert_eq!(rows.len(), 1);
    let ours = &rows[0];
    let exp = read_json(&dir.join("elastic-integrations/test-v5-all-fields.log-expected.json"));
    let e = &exp["expected"][0];
    let mut want = e["aws"]["vpcflow"].as_object().unwrap().clone();
    // Elastic renames the service fields and adds derived ones.
    for (theirs, our) in [
        ("pkt_src_service", "pkt_src_aws_service"),
        ("pkt_dst_service", "pkt_dst_aws_service"),
    ] {
        if let Some(v) = want.remove(theirs) {
            want.insert(our.into(), v);
        }
    }
    want.remove("tcp_flags_array");
    want.remove("sublocation");
    // CHOICE: Elastic keeps version/tcp_flags/traffic_path as strings; we
    // type them as integers (like VRL and Beats). loose() compares text.
    assert_fields(ours, &want, "elastic v5");
    assert_eq!(ours["srcaddr"], e["source"]["ip"]);
    assert_eq!(ours["srcport"], e["source"]["port"]);
    assert_eq!(ours["az_id"], e["cloud"]["availability_zone"]);
    // The deliberately odd start (164000066) is kept as written.
    assert_eq!(ours["start"], 164000066);
}

fn naive_utc(secs: u64) -> String {
    let ts = jiff::Timestamp::from_second(secs as i64).unwrap();
    format!("{} (naive UTC)", ts.strftime("%Y-%m-%dT%H:%M:%S"))
}

#[test]
fn flowlog_flowlogs_reader_expected_values_match() {
    let Some(dir) = corpus("flowlogs") else {
        return;
    };
    let exp = read_json(&dir.join("obsrvbl-oss-flowlogs-reader/expected_from_tests.json"));
    for (file, key) in [
        ("V3_FILE.log", "S3FlowLogsReaderTestCase.test_serial"),
        ("V4_FILE.log", "S3FlowLogsReaderTestCase.test_serial_v4"),
        ("V5_FILE.log", "S3FlowLogsReaderTestCase.test_serial_v5"),
        ("V6_FILE.log", "S3FlowLogsReaderTestCase.test_serial_v6"),
    ] {
        let path = dir.join("obsrvbl-oss-flowlogs-reader").join(file);
        let r = run(["flows", "-o", "jsonl", &path.display().to_string()]);
        r.assert_code(0);
        let rows = jsonl(&r.stdout);
        let want = exp[key].as_array().unwrap();
        assert_eq!(rows.len(), want.len(), "{file}\n{}", r.stderr);
        for (ours, w) in rows.iter().zip(want) {
            let mut w = w.as_object().unwrap().clone();
            // flowlogs-reader turns start/end into naive UTC datetimes.
            for k in ["start", "end"] {
                if let Some(v) = w.remove(k) {
                    assert_eq!(
                        Some(naive_utc(ours[k].as_u64().unwrap())),
                        loose(&v),
                        "{file} {k}"
                    );
                }
            }
            assert_fields(ours, &w, file);
            // flowlogs-reader drops '-' fields: every key it lacks is null for us.
            for (k, v) in ours.as_object().unwrap() {
                if !w.contains_key(k)
                    && !["start", "end", "source_file", "source_line"].contains(&k.as_str())
                {
                    assert_eq!(v, &Value::Null, "{file}: {k}");
                }
            }
        }
    }
    // V5 ends with a deliberately bogus line: counted with its line number.
    let r = run([
        "flows",
        "-o",
        "jsonl",
        &dir.join("obsrvbl-oss-flowlogs-reader/V5_FILE.log")
            .display()
            .to_string(),
    ]);
    assert!(
        r.stderr
            .contains("V5_FILE.log:4: too few fields: expected 29, found 2"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("1 skipped (too few fields: 1)"),
        "{}",
        r.stderr
    );
}

#[test]
fn flowlog_flowlogs_reader_parquet_reads_with_documented_differences() {
    let Some(dir) = corpus("flowlogs") else {
        return;
    };
    let path = dir.join("obsrvbl-oss-flowlogs-reader/flows.parquet");
    let r = run(["flows", "-o", "jsonl", &path.display().to_string()]);
    r.assert_code(0);
    let rows = jsonl(&r.stdout);
    // Row 1 is a normal record, typed the same as flowlogs-reader expects.
    let exp = read_json(&dir.join("obsrvbl-oss-flowlogs-reader/expected_from_tests.json"));
    let mut w = exp["S3FlowLogsReaderTestCase.test_serial_parquet"][0]
        .as_object()
        .unwrap()
        .clone();
    w.remove("start");
    w.remove("end");
    assert_eq!(rows.len(), 1, "{}", r.stderr);
    assert_fields(&rows[0], &w, "parquet row 1");
    assert_eq!(rows[0]["source_line"], 1);
    // CHOICE: row 2 stores pandas' "None" strings for missing values; we
    // read "None" in Parquet text columns as null, so it is a NODATA row
    // (counted, not a flow), as flowlogs-reader reads it.
    assert!(
        r.stderr.contains("1 NODATA on 1 interfaces"),
        "{}",
        r.stderr
    );
    // CHOICE: row 3 has protocol 8080, which is not an IP protocol number
    // (0..255): flowlogs-reader keeps it, we count it as a bad record.
    assert!(
        r.stderr
            .contains("flows.parquet: row 3: field 'protocol': number out of range \"8080\""),
        "{}",
        r.stderr
    );
}

#[test]
fn flowlog_otel_files_read_with_header_and_errors_have_line_numbers() {
    let Some(dir) = corpus("flowlogs") else {
        return;
    };
    let o = dir.join("otel-collector-contrib");
    let r = run([
        "flows",
        "-o",
        "jsonl",
        &o.join("valid_vpc_flow_log.log").display().to_string(),
    ]);
    r.assert_code(0);
    // OTel's expected output for this file is one NODATA record for
    // eni-0eb1e4178af74336c: we count it per interface instead of a flow.
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr.contains("0 records, 1 NODATA on 1 interfaces"),
        "{}",
        r.stderr
    );
    let yaml = std::fs::read_to_string(o.join("valid_vpc_flow_log_expected.yaml")).unwrap();
    assert!(yaml.contains("eni-0eb1e4178af74336c") && yaml.contains("NODATA"));

    let r = run([
        "flows",
        "-o",
        "jsonl",
        &o.join("valid_vpc_flow_log_multi.log").display().to_string(),
    ]);
    r.assert_code(0);
    assert_eq!(jsonl(&r.stdout).len(), 2);

    let few = o.join("vpc_flow_log_too_few_fields.log");
    let many = o.join("vpc_flow_log_too_many_fields.log");
    let r = run([
        "flows",
        "--strict",
        &few.display().to_string(),
        &many.display().to_string(),
    ]);
    r.assert_code(2);
    assert!(
        r.stderr
            .contains("vpc_flow_log_too_few_fields.log:2: too few fields: expected 14, found 13"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("vpc_flow_log_too_many_fields.log:2: too many fields: expected 14, found 15"),
        "{}",
        r.stderr
    );
    // Without --strict the run goes on and exits 0.
    run(["flows", &few.display().to_string()]).assert_code(0);

    // ECS header: v7 fields are documented extras, no warning.
    let r = run([
        "flows",
        "-o",
        "jsonl",
        &o.join("valid_vpc_flow_log_ecs.log").display().to_string(),
    ]);
    r.assert_code(0);
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);
    let rows = jsonl(&r.stdout);
    assert!(!rows.is_empty());
    assert!(rows[0].get("ecs_cluster_name").is_some(), "{}", rows[0]);
}

#[test]
fn flowlog_wrappers_and_repeated_headers_are_read() {
    let Some(dir) = corpus("flowlogs") else {
        return;
    };
    let e = dir.join("elastic-integrations");
    let r = run([
        "flows",
        "--strict",
        "-o",
        "jsonl",
        &e.join("test-with-message-field.log").display().to_string(),
    ]);
    r.assert_code(0);
    assert!(
        r.stderr
            .contains("(flow-log json): 0 records, 1 NODATA on 1 interfaces"),
        "{}",
        r.stderr
    );
    // A header before every record (concatenated S3 objects).
    let r = run([
        "flows",
        "--strict",
        "-o",
        "jsonl",
        &e.join("test-tcp-flag-sequence.log").display().to_string(),
    ]);
    r.assert_code(0);
    let rows = jsonl(&r.stdout);
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["vpc_id"].is_string()), "{rows:?}");
    // S3 gzip object with a header.
    let r = run([
        "flows",
        "--strict",
        "-o",
        "jsonl",
        &dir.join("grafana-loki/vpcflowlog.log.gz")
            .display()
            .to_string(),
    ]);
    r.assert_code(0);
    assert_eq!(jsonl(&r.stdout).len(), 3);
    assert!(
        r.stderr.contains("(flow-log gzip): 3 records"),
        "{}",
        r.stderr
    );
    // CloudWatch subscription payload with a custom 4-field format.
    let o = dir.join("otel-collector-contrib");
    let r = run([
        "flows",
        "--strict",
        "-o",
        "jsonl",
        "--log-format",
        "${version} ${interface-id} ${srcaddr} ${dstaddr}",
        &o.join("valid_vpc_flow_cw_custom.json")
            .display()
            .to_string(),
    ]);
    r.assert_code(0);
    let rows = jsonl(&r.stdout);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["srcaddr"], "172.31.9.69");
    assert_eq!(rows[1]["source_line"], 2);
    let r = run([
        "flows",
        "--strict",
        "-o",
        "jsonl",
        &o.join("valid_vpc_flow_cw.json").display().to_string(),
    ]);
    r.assert_code(0);
    assert!(r.stderr.contains("(cloudwatch logs)"), "{}", r.stderr);
}

fn record(i: u32) -> String {
    format!(
        "2 123456789012 eni-{:08x} 10.0.{}.{} 52.219.{}.{} {} 443 6 {} {} 1700000000 1700000060 ACCEPT OK",
        i % 50,
        (i / 250) % 250,
        i % 250,
        i % 7,
        i % 11,
        1024 + i % 60000,
        1 + i % 9,
        100 + (i * 37) % 5000
    )
}

/// Several inputs of every text shape, one of them large enough to be split
/// into chunks.
fn multi_input(dir: &Path) {
    let header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n";
    let mut big = String::from(header);
    for i in 0..60_000 {
        big.push_str(&record(i));
        big.push_str(if i % 3 == 0 { "\r\n" } else { "\n" });
        if i % 9_999 == 0 {
            big.push_str("2 1 eni-x 10.0.0.1 10.0.0.2 1 http 6 1 1 1 2 ACCEPT OK\n");
        }
    }
    let sub = dir.join("AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/01/02");
    std::fs::create_dir_all(&sub).unwrap();
    write(&sub, "big.log", &big);
    let hive = dir.join("AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/year=2024/month=01/day=02");
    std::fs::create_dir_all(&hive).unwrap();
    let small: String = (0..500).map(|i| record(i) + "\n").collect();
    std::fs::write(hive.join("a.log.gz"), gz(&(header.to_owned() + &small))).unwrap();
    let mut two = gz(&small);
    two.extend(gz("2 1 eni-1 - - - - - - - 1 2 - SKIPDATA\n"));
    std::fs::write(hive.join("b.log.gz"), two).unwrap();
    write(
        dir,
        "c.json",
        &format!(
            "{{\"message\":\"{}\"}}\n{{\"message\":\"{}\"}}",
            record(1),
            record(2)
        ),
    );
}

#[test]
fn flows_output_is_identical_for_any_thread_count() {
    let dir = tempdir();
    let root = dir.path().join("in");
    std::fs::create_dir_all(&root).unwrap();
    multi_input(&root);
    let root_s = root.display().to_string();
    let mut outputs = Vec::new();
    for j in ["1", "2", "3"] {
        let r = run(["flows", "-j", j, "-o", "jsonl", &root_s]);
        r.assert_code(0);
        let top = run(["flows", "-j", j, "--top", "dstaddr", "-o", "csv", &root_s]);
        top.assert_code(0);
        outputs.push((r.stdout, r.stderr, top.stdout));
    }
    let rows = jsonl(&outputs[0].0);
    assert_eq!(rows.len(), 60_000 + 500 + 500 + 2);
    // Line numbers of the large file are exact across chunk boundaries.
    let big: Vec<&Value> = rows
        .iter()
        .filter(|r| r["source_file"].as_str().unwrap().ends_with("big.log"))
        .collect();
    let text = std::fs::read_to_string(
        root.join("AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/01/02/big.log"),
    )
    .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    for r in big.iter().step_by(997) {
        let l = lines[r["source_line"].as_u64().unwrap() as usize - 1];
        assert!(
            l.contains(r["srcaddr"].as_str().unwrap())
                && l.contains(&format!(" {} 443 ", r["srcport"])),
            "{l} vs {r}"
        );
    }
    assert!(outputs[0].1.contains("big.log:"), "{}", outputs[0].1);
    assert!(
        outputs[0]
            .1
            .contains("SKIPDATA (records lost by AWS: eni-1 1)"),
        "{}",
        outputs[0].1
    );
    for o in &outputs[1..] {
        assert!(o.0 == outputs[0].0, "jsonl differs between thread counts");
        assert_eq!(o.1, outputs[0].1);
        assert_eq!(o.2, outputs[0].2);
    }
    // --top sums match the records.
    let top: Vec<&str> = outputs[0].2.lines().collect();
    assert_eq!(top[0], "dstaddr,records,packets,bytes");
    let total: u64 = top[1..]
        .iter()
        .map(|l| l.split(',').nth(3).unwrap().parse::<u64>().unwrap())
        .sum();
    let want: u64 = rows.iter().map(|r| r["bytes"].as_u64().unwrap()).sum();
    assert_eq!(total, want);
}

#[test]
fn flows_bad_inputs_are_reported_and_the_run_goes_on() {
    let dir = tempdir();
    let good = write(dir.path(), "good.log", &format!("{}\n", record(1)));
    let bad = write(
        dir.path(),
        "bad.log",
        &format!(
            "{}\n2 1 eni-1 10.0.0.1 10.0.0.2 1 http 6 1 1 1 2 ACCEPT OK\n",
            record(2)
        ),
    );
    let mut cut = gz(&(0..5000).map(|i| record(i) + "\n").collect::<String>());
    cut.truncate(cut.len() / 2);
    let trunc = dir.path().join("cut.log.gz");
    std::fs::write(&trunc, cut).unwrap();
    let r = run([
        "flows",
        "-o",
        "csv",
        &good.display().to_string(),
        &bad.display().to_string(),
    ]);
    r.assert_code(0);
    assert!(
        r.stderr
            .contains("bad.log:2: field 'dstport': invalid number \"http\""),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("1 skipped (invalid number: 1)"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stdout.lines().count(), 3);
    run([
        "flows",
        "--strict",
        &good.display().to_string(),
        &bad.display().to_string(),
    ])
    .assert_code(2);
    // A truncated gzip is an error for that file only: exit 2, records kept.
    let r = run([
        "flows",
        "-o",
        "csv",
        &good.display().to_string(),
        &trunc.display().to_string(),
    ]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("cut.log.gz: truncated input"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.lines().count() > 2);
    // Missing input and bad --log-format stop before reading.
    let r = run(["flows", "/no/such/input"]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("/no/such/input: no such file or folder"),
        "{}",
        r.stderr
    );
    let r = run([
        "flows",
        "--log-format",
        "${version} ${version}",
        &good.display().to_string(),
    ]);
    r.assert_code(2);
    assert!(
        r.stderr
            .contains("invalid --log-format: field 'version' appears twice"),
        "{}",
        r.stderr
    );
    // --quiet drops the summary.
    let r = run(["flows", "-q", &bad.display().to_string()]);
    assert_eq!(r.stderr, "");
}

#[test]
fn flows_parquet_output_has_athena_columns_and_types() {
    use polars::prelude::{DataType, ParquetReader, SerReader};
    let dir = tempdir();
    let input = write(
        dir.path(),
        "v5.log",
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status pkt-dst-aws-service flow-direction traffic-path reject-reason\n5 123456789012 eni-1 10.0.0.5 52.219.60.1 40000 443 6 10 5000 1700000000 1700000060 ACCEPT OK S3 egress 7 -\n5 123456789012 eni-1 10.0.0.5 10.0.1.9 40001 443 6 1 50 1700000000 1700000060 REJECT OK - egress 1 BPA\n",
    );
    let out = dir.path().join("out.parquet");
    let r = run([
        "flows",
        "-o",
        "parquet",
        "--out",
        &out.display().to_string(),
        &input.display().to_string(),
    ]);
    r.assert_code(0);
    assert_eq!(r.stdout, "");
    let df = ParquetReader::new(std::fs::File::open(&out).unwrap())
        .finish()
        .unwrap();
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut want: Vec<String> = privpath::flow::COLUMNS
        .iter()
        .map(|s| s.to_string())
        .collect();
    want.extend(["reject_reason", "source_file", "source_line"].map(String::from));
    assert_eq!(names, want);
    assert_eq!(df.height(), 2);
    assert_eq!(df.column("dstport").unwrap().dtype(), &DataType::Int32);
    assert_eq!(df.column("traffic_path").unwrap().dtype(), &DataType::Int32);
    assert_eq!(df.column("bytes").unwrap().dtype(), &DataType::Int64);
    assert_eq!(df.column("pkt_dst_aws_service").unwrap().null_count(), 1);
    assert_eq!(df.column("vpc_id").unwrap().null_count(), 2);
}

#[test]
fn flows_table_and_top_outputs() {
    let dir = tempdir();
    let input = write(
        dir.path(),
        "a.log",
        &format!("{}\n{}\n{}\n", record(1), record(2), record(1)),
    );
    let r = run(["flows", &input.display().to_string()]);
    r.assert_code(0);
    let header = r.stdout.lines().next().unwrap();
    assert!(
        header.starts_with("version  account_id    interface_id"),
        "{header}"
    );
    assert!(
        !header.contains("vpc_id"),
        "empty columns are hidden: {header}"
    );
    assert_eq!(r.stdout.lines().count(), 4);
    let r = run([
        "flows",
        "--top",
        "dstaddr",
        "-o",
        "jsonl",
        &input.display().to_string(),
    ]);
    r.assert_code(0);
    let rows = jsonl(&r.stdout);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["records"], 2);
    assert_eq!(rows[0]["dstaddr"], "52.219.1.1");
    let r = run(["flows", "--top", "no_such", &input.display().to_string()]);
    r.assert_code(2);
    let _ = Provenance::default();
}
