//! `privpath audit` over the bundled lab: every case folder, the CI
//! contract (exit codes), every output format, determinism across `-j`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::Path;

use crate::harness::{run, tempdir};

const CASES: [&str; 5] = [
    "1-baseline",
    "2-s3-gateway-endpoint",
    "3-cfn-interface-endpoint",
    "4-private-dns-off",
    "timeline",
];

fn case(name: &str) -> String {
    format!("samples/lab/{name}")
}

/// Every case folder audits with nothing else and its own expect.toml holds.
#[test]
fn audit_every_lab_case_holds_its_expectations() {
    for name in CASES {
        let r = run(["audit", case(name).as_str()]);
        r.assert_code(0);
        insta::assert_snapshot!(format!("audit_case_{name}"), r.snapshot());
    }
}

#[test]
fn audit_json_of_every_case_snapshot() {
    for name in CASES {
        let r = run(["audit", case(name).as_str(), "-o", "json"]);
        r.assert_code(0);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("valid json");
        assert_eq!(v["schema"], "privpath.audit/v1");
        insta::assert_snapshot!(format!("audit_json_{name}"), r.stdout);
    }
}

fn verdict<'a>(v: &'a serde_json::Value, service: &str, instance: &str) -> &'a str {
    v["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["service"] == service && x["host"]["instance_id"] == instance)
        .and_then(|x| x["verdict"].as_str())
        .unwrap_or("no-row")
}

const PUBLIC: &str = "i-01a3c5e7092b4d6f8";
const PRIVATE: &str = "i-03c5e7091b2d4f6a8";

/// The lab's story: the verdicts change phase by phase.
#[test]
fn audit_verdicts_follow_the_lab_phases() {
    let json = |name: &str| -> serde_json::Value {
        let r = run(["audit", case(name).as_str(), "-o", "json"]);
        serde_json::from_str(&r.stdout).unwrap()
    };
    let base = json("1-baseline");
    assert_eq!(verdict(&base, "s3", PUBLIC), "public");
    assert_eq!(verdict(&base, "s3", PRIVATE), "blocked");
    let gw = json("2-s3-gateway-endpoint");
    assert_eq!(verdict(&gw, "s3", PUBLIC), "private");
    assert_eq!(verdict(&gw, "s3", PRIVATE), "private");
    let cfn = json("3-cfn-interface-endpoint");
    assert_eq!(verdict(&cfn, "cloudformation", PUBLIC), "private");
    assert_eq!(verdict(&cfn, "cloudformation", PRIVATE), "private");
    let off = json("4-private-dns-off");
    assert_ne!(verdict(&off, "cloudformation", PUBLIC), "private");
    let tl = json("timeline");
    assert_eq!(verdict(&tl, "s3", PUBLIC), "mixed");
}

/// The failing CI check of the README: the gateway endpoint expected on the baseline.
#[test]
fn audit_expectation_on_the_baseline_fails_with_exit_1() {
    let r = run([
        "audit",
        "samples/lab/1-baseline",
        "--expect",
        "s3=gateway-endpoint",
    ]);
    r.assert_code(1);
    assert!(
        r.stdout.contains("FAIL  s3=gateway-endpoint"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("internet-gateway"),
        "offending flows listed"
    );
    insta::assert_snapshot!(r.snapshot());

    let r = run([
        "audit",
        "samples/lab/1-baseline",
        "--expect",
        "s3=gateway-endpoint",
        "--exit-zero",
    ]);
    r.assert_code(0);
}

#[test]
fn audit_scoped_expectations_and_dns() {
    let r = run([
        "audit",
        "samples/lab/4-private-dns-off",
        "--expect-dns",
        "cloudformation=private",
        "-o",
        "json",
    ]);
    r.assert_code(1);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let e = v["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["expect"] == "dns:cloudformation=private")
        .unwrap();
    assert_eq!(e["met"], false);
    assert!(e["violations_total"].as_u64().unwrap() > 0);
}

/// Same JSON whatever the thread count.
#[test]
fn audit_json_is_identical_for_j1_and_j2() {
    for name in ["timeline", "4-private-dns-off"] {
        let a = run(["-j", "1", "audit", case(name).as_str(), "-o", "json"]);
        let b = run(["-j", "2", "audit", case(name).as_str(), "-o", "json"]);
        a.assert_code(0);
        assert_eq!(a.stdout, b.stdout, "{name}");
    }
}

/// Several formats into a folder; JUnit and HTML parsed back.
#[test]
fn audit_writes_every_format_into_out_dir() {
    let dir = tempdir();
    let out = dir.path().join("report");
    let r = run([
        "audit",
        "samples/lab/timeline",
        "--expect",
        "s3=private",
        "-o",
        "json",
        "-o",
        "markdown",
        "-o",
        "html",
        "-o",
        "csv",
        "-o",
        "junit",
        "-o",
        "table",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    r.assert_code(0);
    assert_eq!(r.stdout, "");
    for f in [
        "audit.json",
        "audit.md",
        "audit.html",
        "flows.csv",
        "junit.xml",
        "audit.txt",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let junit = std::fs::read(out.join("junit.xml")).unwrap();
    let mut reader = quick_xml::Reader::from_reader(junit.as_slice());
    let mut buf = Vec::new();
    let mut cases = 0;
    loop {
        match reader.read_event_into(&mut buf).unwrap() {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)
                if e.name().as_ref() == "testcase" =>
            {
                cases += 1
            }
            _ => {}
        }
        buf.clear();
    }
    assert!(
        cases >= 3,
        "one test case per expectation and host: {cases}"
    );
    let html = std::fs::read_to_string(out.join("audit.html")).unwrap();
    let doc = scraper::Html::parse_document(&html);
    let svg = scraper::Selector::parse("figure svg").unwrap();
    assert!(
        doc.select(&svg).count() >= 2,
        "charts for s3 and cloudformation"
    );
    assert!(
        html.contains("created (gateway)"),
        "the endpoint creation is marked"
    );
    let csv = std::fs::read_to_string(out.join("flows.csv")).unwrap();
    assert!(csv.starts_with("version,account_id,interface_id,srcaddr,dstaddr"));
    assert!(csv.lines().count() > 10);
}

#[test]
fn audit_usage_errors_exit_2() {
    let r = run([
        "audit",
        "samples/lab/1-baseline",
        "-o",
        "json",
        "-o",
        "html",
    ]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("several -o formats need --out DIR"),
        "{}",
        r.stderr
    );

    let r = run(["audit", "samples/lab/1-baseline", "--expect", "s3=igw"]);
    r.assert_code(2);
    assert!(r.stderr.contains("expectation 's3=igw'"), "{}", r.stderr);

    let r = run(["audit", "samples/lab/1-baseline/captures"]);
    r.assert_code(2);
    assert!(r.stderr.contains("no topology"), "{}", r.stderr);

    let r = run([
        "audit",
        "no/such/folder",
        "--topology",
        "samples/lab/1-baseline/topology",
    ]);
    r.assert_code(2);
}

/// A case folder of our own: a bad flow-log line is counted and reported;
/// under --strict it is an error.
#[test]
fn audit_bad_records_are_findings_and_strict_makes_them_errors() {
    let dir = tempdir();
    let topo =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/lab/2-s3-gateway-endpoint/topology");
    let log = dir.path().join("flows.log");
    std::fs::write(
        &log,
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n\
         2 111122223333 eni-02b4d6f8103c5e7a9 10.0.0.10 52.219.60.25 40000 443 6 10 5000 1793610900 1793610960 ACCEPT OK\n\
         2 111122223333 eni-02b4d6f8103c5e7a9 10.0.0.10 52.219.60.25 40000 http 6 10 5000 1793610900 1793610960 ACCEPT OK\n",
    )
    .unwrap();
    let args = |strict: bool| {
        let mut a = vec![
            "audit".to_owned(),
            log.to_str().unwrap().to_owned(),
            "--topology".to_owned(),
            topo.to_str().unwrap().to_owned(),
            "-o".to_owned(),
            "json".to_owned(),
        ];
        if strict {
            a.push("--strict".to_owned());
        }
        a
    };
    let r = run(args(false));
    r.assert_code(0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["inputs"][0]["skipped"], 1);
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "bad-records"),
        "{}",
        r.stdout
    );
    run(args(true)).assert_code(2);
}

/// `--since` scopes the expectations: the baseline's internet-gateway flows
/// break `gateway-endpoint` only when they are inside the window.
#[test]
fn audit_since_scopes_the_expectations_not_the_verdicts() {
    let expect = format!("s3@{PUBLIC}=gateway-endpoint");
    // The case's expect.toml scopes to after the endpoint; the command
    // line's window wins over it.
    let all = run([
        "audit",
        "samples/lab/timeline",
        "--expect",
        expect.as_str(),
        "--since",
        "0",
        "-o",
        "json",
    ]);
    all.assert_code(1);
    let after = run([
        "audit",
        "samples/lab/timeline",
        "--expect",
        expect.as_str(),
        "--since",
        "2026-11-02T09:10:27.318Z",
        "-o",
        "json",
    ]);
    after.assert_code(0);
    let v: serde_json::Value = serde_json::from_str(&after.stdout).unwrap();
    assert_eq!(
        verdict(&v, "s3", PUBLIC),
        "mixed",
        "verdicts keep all the evidence"
    );
    assert_eq!(
        v["window"]["since"], "2026-11-02T09:10:28Z",
        "a fraction rounds up"
    );
}

#[test]
fn audit_colour_only_when_asked() {
    let plain = run(["audit", "samples/lab/2-s3-gateway-endpoint"]);
    assert!(!plain.stdout.contains('\u{1b}'), "no colour when piped");
    let colour = run([
        "--color",
        "always",
        "audit",
        "samples/lab/2-s3-gateway-endpoint",
    ]);
    colour.assert_code(0);
    assert!(
        colour.stdout.contains("\u{1b}["),
        "colour with --color always"
    );
}

#[test]
fn audit_parquet_has_the_classified_flows() {
    let dir = tempdir();
    let out = dir.path().join("flows.parquet");
    let r = run([
        "audit",
        "samples/lab/3-cfn-interface-endpoint",
        "-o",
        "parquet",
        "--out",
        out.to_str().unwrap(),
    ]);
    r.assert_code(0);
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"));
    let csv = run(["audit", "samples/lab/3-cfn-interface-endpoint", "-o", "csv"]);
    assert!(
        csv.stdout.contains(",interface-endpoint,"),
        "{}",
        csv.stdout
    );
    assert!(csv.stdout.contains(",vpce-06f8b1d2e4a3c5971,"));
}

/// A capture whose TLS ClientHello carries a hostile SNI: the name is text in
/// the HTML (no script element) and shows with visible escapes on a terminal.
#[test]
fn audit_hostile_sni_is_escaped_in_html_and_visible_in_the_table() {
    use privpath::samples::{capture, lab, packets};
    let sni = "<script>alert(1)</script>\u{1b}[2J.s3.ap-northeast-2.amazonaws.com";
    let ex = lab::Exchange {
        id: "hostile".into(),
        phase: lab::Phase::S3Gateway,
        host: &lab::PUBLIC_HOST,
        at_us: (lab::BASE_SECONDS + 900) * 1_000_000,
        kind: lab::Kind::Https {
            server: [52, 219, 60, 25],
            sni: sni.into(),
            request: 300,
            response: 2000,
        },
    };
    let pkts = packets::build(&ex).unwrap();
    let dir = tempdir();
    let pcap = dir.path().join("hostile.pcap");
    std::fs::write(&pcap, capture::write_pcap(&lab::PUBLIC_HOST, &pkts)).unwrap();
    let topo = "samples/lab/2-s3-gateway-endpoint/topology";
    let table = run(["audit", pcap.to_str().unwrap(), "--topology", topo]);
    table.assert_code(0);
    assert!(
        table
            .stdout
            .contains("<script>alert(1)</script>\\u{1b}[2J.s3"),
        "{}",
        table.stdout
    );
    assert!(!table.stdout.contains('\u{1b}'), "no raw control character");

    let html = dir.path().join("a.html");
    run([
        "audit",
        pcap.to_str().unwrap(),
        "--topology",
        topo,
        "-o",
        "html",
        "--out",
        html.to_str().unwrap(),
    ])
    .assert_code(0);
    let text = std::fs::read_to_string(&html).unwrap();
    let doc = scraper::Html::parse_document(&text);
    let script = scraper::Selector::parse("script").unwrap();
    assert_eq!(doc.select(&script).count(), 0);
    assert!(text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

/// `--cloudwatch` is wired into audit (the live read itself is tested
/// against the emulator in `cloudwatch.rs`): its options need the group, and
/// an unreachable endpoint is an error (exit 2), not an empty audit.
#[test]
fn audit_cloudwatch_options_are_checked() {
    let r = run([
        "audit",
        "samples/lab/2-s3-gateway-endpoint",
        "--log-stream",
        "eni-1-all",
    ]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("needs --cloudwatch LOG_GROUP"),
        "{}",
        r.stderr
    );

    if !cfg!(feature = "aws") {
        return;
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut cmd = crate::harness::privpath();
    cmd.env("AWS_ACCESS_KEY_ID", "AKIAPRIVPATHTESTKEY")
        .env("AWS_SECRET_ACCESS_KEY", "privpath-test-secret")
        .env("AWS_REGION", "ap-northeast-2")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .args([
            "audit",
            "--topology",
            "samples/lab/2-s3-gateway-endpoint/topology",
            "--cloudwatch",
            "/privpath-lab/vpc-flow-logs",
            "--endpoint-url",
        ])
        .arg(format!("http://127.0.0.1:{port}"));
    let r = crate::harness::run_cmd(&mut cmd);
    r.assert_code(2);
    assert!(
        r.stderr.contains("cannot reach CloudWatch Logs"),
        "{}",
        r.snapshot()
    );
}

/// A bad topology and an unreadable input are errors (exit 2) with one
/// clear line each; the run still reads the other inputs.
#[test]
fn audit_bad_topology_and_corrupt_input_exit_2() {
    let dir = tempdir();
    let topo = dir.path().join("topology");
    std::fs::create_dir(&topo).unwrap();
    std::fs::write(
        topo.join("describe-route-tables.json"),
        "{\"RouteTables\": [ {",
    )
    .unwrap();
    let r = run([
        "audit",
        "samples/lab/2-s3-gateway-endpoint/captures",
        "--topology",
        topo.to_str().unwrap(),
    ]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("describe-route-tables.json"),
        "{}",
        r.stderr
    );

    let gz = dir.path().join("broken.log.gz");
    std::fs::write(
        &gz,
        [0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x00],
    )
    .unwrap();
    let r = run([
        "audit",
        gz.to_str().unwrap(),
        "samples/lab/2-s3-gateway-endpoint/captures",
        "--topology",
        "samples/lab/2-s3-gateway-endpoint/topology",
        "-o",
        "json",
    ]);
    r.assert_code(2);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["inputs"][0]["error"].is_string(), "{}", r.stdout);
    assert!(
        v["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["service"] == "s3"),
        "the captures were still read"
    );
    assert!(r.stderr.contains("broken.log.gz"), "{}", r.stderr);
}

/// East-west traffic is service `vpc` (path `local`), not `external`: an
/// instance that talks to another instance of the VPC and to the internet
/// gets `vpc` private and `external` public, not one `external` `mixed`.
#[test]
fn audit_east_west_traffic_is_service_vpc_not_external() {
    let dir = tempdir();
    let topo =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/lab/2-s3-gateway-endpoint/topology");
    let log = dir.path().join("flows.log");
    let eni = "eni-02b4d6f8103c5e7a9";
    std::fs::write(
        &log,
        format!(
            "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n\
             2 111122223333 {eni} 10.0.0.10 10.0.1.20 40001 5432 6 10 5000 1793610900 1793610960 ACCEPT OK\n\
             2 111122223333 {eni} 10.0.1.20 10.0.0.10 5432 40001 6 10 9000 1793610900 1793610960 ACCEPT OK\n\
             2 111122223333 {eni} 10.0.0.10 93.184.216.34 40002 443 6 10 5000 1793610900 1793610960 ACCEPT OK\n\
             2 111122223333 {eni} 93.184.216.34 10.0.0.10 443 40002 6 10 9000 1793610900 1793610960 ACCEPT OK\n"
        ),
    )
    .unwrap();
    let r = run([
        "audit",
        log.to_str().unwrap(),
        "--topology",
        topo.to_str().unwrap(),
        "-o",
        "json",
    ]);
    r.assert_code(0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(verdict(&v, "vpc", PUBLIC), "private", "{}", r.stdout);
    assert_eq!(verdict(&v, "external", PUBLIC), "public", "{}", r.stdout);
    let row = v["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["service"] == "vpc")
        .unwrap();
    assert_eq!(row["paths"][0]["path"], "local");
    let evidence = row["paths"][0]["evidence"][0].as_str().unwrap();
    assert!(
        evidence.contains(
            "service vpc: 10.0.1.20 is in the VPC (eni-04d6f8a12c3e5b7d9, i-03c5e7091b2d4f6a8)"
        ),
        "{evidence}"
    );
    let external = v["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["service"] == "external")
        .unwrap();
    assert_eq!(external["paths"].as_array().unwrap().len(), 1);
    assert_eq!(external["paths"][0]["path"], "internet-gateway");
}

/// `--examples K` bounds the flows listed per path of a verdict and per
/// failed expectation and host (the first by time, each with its input file
/// and line); the rest are counted.
#[test]
fn audit_examples_are_the_first_k_flows_with_file_and_line() {
    let json = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec![
            "audit",
            "samples/lab/1-baseline",
            "--expect",
            "s3=gateway-endpoint",
            "-o",
            "json",
        ];
        args.extend_from_slice(extra);
        let r = run(args);
        r.assert_code(1);
        serde_json::from_str(&r.stdout).unwrap()
    };
    for (k, v) in [(20, json(&[])), (1, json(&["--examples", "1"]))] {
        let mut listed = 0;
        for row in v["verdicts"].as_array().unwrap() {
            for p in row["paths"].as_array().unwrap() {
                let flows = p["flows"].as_u64().unwrap();
                let examples = p["examples"].as_array().unwrap();
                let n = examples.len() as u64;
                assert_eq!(n, flows.min(k), "k {k}: {p}");
                assert_eq!(p["examples_more"].as_u64().unwrap(), flows - n, "{p}");
                let times: Vec<&str> = examples
                    .iter()
                    .map(|x| x["time"].as_str().unwrap())
                    .collect();
                assert!(times.windows(2).all(|w| w[0] <= w[1]), "by time: {times:?}");
                assert_eq!(
                    times.first().copied(),
                    p["first"].as_str(),
                    "the first flow: {p}"
                );
                for x in examples {
                    let source = x["source"].as_str().unwrap();
                    let (file, line) = source.rsplit_once(':').unwrap();
                    assert!(Path::new(file).is_file(), "{source}");
                    line.parse::<u64>().unwrap();
                }
                listed += n;
            }
        }
        assert!(listed > 0);
        let e = &v["expectations"][0];
        let hosts = e["hosts"].as_array().unwrap();
        let want: u64 = hosts
            .iter()
            .map(|h| h["violations_total"].as_u64().unwrap().min(k))
            .sum();
        assert_eq!(
            e["violations"].as_array().unwrap().len() as u64,
            want,
            "k {k} per host"
        );
        if k == 1 {
            assert!(
                hosts
                    .iter()
                    .any(|h| h["violations_total"].as_u64().unwrap() > k),
                "the bound is exercised"
            );
        }
    }
}
