//! Route 53 Resolver query logs and CloudTrail through the whole CLI: the
//! lab phases that carry them, expectations on API calls, bad records, the
//! held and streamed engines agreeing.

use std::io::Write;
use std::path::Path;

use crate::harness::run;

fn json(args: &[&str]) -> serde_json::Value {
    let r = run(args);
    assert!(r.code == 0 || r.code == 1, "{}", r.snapshot());
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}\n{}", r.snapshot()))
}

fn rows<'a>(v: &'a serde_json::Value, key: &str) -> &'a Vec<serde_json::Value> {
    v[key].as_array().unwrap_or_else(|| panic!("no {key}"))
}

const PUBLIC: &str = "i-01a3c5e7092b4d6f8";
const PRIVATE: &str = "i-03c5e7091b2d4f6a8";

#[test]
fn aws_logs_phase_3_calls_come_through_the_endpoint_and_dns_rows_name_their_source() {
    let v = json(&[
        "audit",
        "samples/lab/3-cfn-interface-endpoint",
        "-o",
        "json",
    ]);
    let kinds: Vec<&str> = rows(&v, "inputs")
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"cloudtrail") && kinds.contains(&"resolver query log"),
        "{kinds:?}"
    );
    let calls = rows(&v, "api_calls");
    assert!(!calls.is_empty());
    for c in calls {
        assert_eq!(c["path"], "interface-endpoint", "{c}");
        assert_eq!(c["endpoint"], "vpce-06f8b1d2e4a3c5971", "{c}");
        assert_eq!(c["service"], "cloudformation");
    }
    let denied: Vec<_> = calls.iter().filter(|c| c["denied"] == 1).collect();
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0]["event_name"], "DeleteStack");
    assert_eq!(denied[0]["network_activity"], true);
    assert_eq!(denied[0]["host"]["instance_id"], PRIVATE);
    // Every DNS answer appears from both sources.
    let dns = rows(&v, "dns");
    let from = |s: &str| dns.iter().filter(|d| d["source"] == s).count();
    assert!(from("resolver-query-log") > 0);
    assert_eq!(from("resolver-query-log"), from("capture"));
    // The calls joined the verdicts.
    for v in rows(&v, "verdicts")
        .iter()
        .filter(|v| v["service"] == "cloudformation")
    {
        assert_eq!(v["verdict"], "private");
        let p = &v["paths"][0];
        assert!(p["calls"].as_u64().unwrap() >= 1, "{p}");
        assert!(
            p["evidence"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e.as_str().unwrap().starts_with("CloudTrail: ")),
            "{p}"
        );
    }
    assert!(rows(&v, "expectations").iter().all(|e| e["met"] == true));
}

#[test]
fn aws_logs_phase_4_public_call_is_the_internet_gateway_and_fails_an_endpoint_expectation() {
    let v = json(&["audit", "samples/lab/4-private-dns-off", "-o", "json"]);
    let calls = rows(&v, "api_calls");
    let igw: Vec<_> = calls
        .iter()
        .filter(|c| c["path"] == "internet-gateway")
        .collect();
    assert_eq!(igw.len(), 1);
    assert_eq!(igw[0]["source_ip"], "3.35.142.77");
    assert_eq!(igw[0]["host"]["instance_id"], PUBLIC);
    assert!(
        igw[0]["example"]
            .as_str()
            .unwrap()
            .ends_with("cloudtrail/lookup-events.json:3"),
        "{}",
        igw[0]
    );
    let expect = format!("cloudformation@{PUBLIC}=interface-endpoint");
    let r = run([
        "audit",
        "samples/lab/4-private-dns-off",
        "--expect",
        expect.as_str(),
        "-o",
        "json",
    ]);
    r.assert_code(1);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let e = rows(&v, "expectations")
        .iter()
        .find(|e| e["expect"] == expect.as_str())
        .unwrap();
    assert_eq!(e["met"], false);
    let trail: Vec<_> = e["violations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["destination"].as_str().unwrap().ends_with("(CloudTrail)"))
        .collect();
    assert_eq!(trail.len(), 1, "{e}");
    assert_eq!(trail[0]["path"], "internet-gateway");
    assert!(
        trail[0]["evidence"]
            .as_str()
            .unwrap()
            .contains("from 3.35.142.77")
    );
}

#[test]
fn aws_logs_held_and_streamed_engines_agree_on_calls_and_dns() {
    for case in [
        "samples/lab/3-cfn-interface-endpoint",
        "samples/lab/4-private-dns-off",
    ] {
        let a = json(&["audit", case, "-o", "json"]);
        let b = json(&["audit", case, "-o", "json", "--held"]);
        assert_eq!(a["api_calls"], b["api_calls"], "{case}");
        assert_eq!(a["dns"], b["dns"], "{case}");
        assert_eq!(a["private_dns"], b["private_dns"], "{case}");
    }
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A case of our own from phase 3's topology: a NAT-less VPC, so the call
/// from an unknown public address is `external`; broken records are counted
/// with their place and --strict makes them an error.
#[test]
fn aws_logs_bad_records_truncated_gzip_and_strict() {
    let dir = tempfile::tempdir().unwrap();
    let topo =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/lab/3-cfn-interface-endpoint/topology");
    let rec = |src: &str, id: &str| {
        format!(
            r#"{{"eventVersion":"1.11","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/dev"}},"eventTime":"2026-11-02T09:31:00Z","eventSource":"cloudformation.amazonaws.com","eventName":"ListStacks","awsRegion":"ap-northeast-2","sourceIPAddress":"{src}","eventID":"{id}"}}"#
        )
    };
    let trail = format!(
        r#"{{"Records":[{},{{"eventVersion":"1.11","eventTime":17}},{}]}}"#,
        rec("198.51.100.7", "a"),
        rec("10.0.1.20", "b")
    );
    std::fs::write(dir.path().join("trail.json.gz"), gz(trail.as_bytes())).unwrap();
    let lookup = serde_json::json!({"Events": [{"EventId": "c", "CloudTrailEvent": "{not json"}]})
        .to_string();
    std::fs::write(dir.path().join("lookup.json"), lookup).unwrap();
    let resolver: String = (0..500)
        .map(|i| format!("{{\"version\":\"1.100000\",\"query_timestamp\":\"2026-11-02T09:30:{:02}Z\",\"query_name\":\"cloudformation.ap-northeast-2.amazonaws.com.\",\"query_type\":\"A\",\"rcode\":\"NOERROR\",\"answers\":[{{\"Rdata\":\"10.0.1.150\",\"Type\":\"A\",\"Class\":\"IN\"}}],\"srcaddr\":\"10.0.1.20\",\"srcids\":{{}}}}\n", i % 60))
        .collect();
    let mut cut = gz(resolver.as_bytes());
    cut.truncate(cut.len() / 2);
    std::fs::write(dir.path().join("resolver.log.gz"), cut).unwrap();
    let d = dir.path().to_str().unwrap();
    let t = topo.to_str().unwrap();
    let r = run(["audit", d, "--topology", t, "-o", "json"]);
    // The cut-short gzip is an input error: exit 2, the rest still reported.
    r.assert_code(2);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let inputs = rows(&v, "inputs");
    let by = |name: &str| {
        inputs
            .iter()
            .find(|i| i["path"].as_str().unwrap().ends_with(name))
            .unwrap()
    };
    assert_eq!(
        (
            by("trail.json.gz")["records"].as_u64(),
            by("trail.json.gz")["skipped"].as_u64()
        ),
        (Some(2), Some(1))
    );
    assert_eq!(by("lookup.json")["skipped"], 1);
    let res = by("resolver.log.gz");
    assert_eq!(res["kind"], "resolver query log");
    assert!(
        res["records"].as_u64().unwrap() > 0 && res["records"].as_u64().unwrap() < 500,
        "{res}"
    );
    assert!(
        res["error"].as_str().unwrap().contains("resolver.log.gz"),
        "{res}"
    );
    let findings = rows(&v, "findings");
    let msgs: Vec<&str> = findings
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        msgs.iter()
            .any(|m| m.contains("trail.json.gz:Records[1]: invalid json")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("lookup.json:Events[0]: 'CloudTrailEvent' is not a JSON record")),
        "{msgs:?}"
    );
    let calls = rows(&v, "api_calls");
    let path_of = |ip: &str| {
        calls
            .iter()
            .find(|c| c["source_ip"] == ip)
            .map(|c| c["path"].clone())
    };
    assert_eq!(path_of("198.51.100.7"), Some("external".into()));
    assert_eq!(path_of("10.0.1.20"), Some("interface-endpoint".into()));
    // Without the cut file only bad records remain: exit 0, --strict exit 2.
    std::fs::remove_file(dir.path().join("resolver.log.gz")).unwrap();
    run(["audit", d, "--topology", t, "-q"]).assert_code(0);
    run(["audit", d, "--topology", t, "-q", "--strict"]).assert_code(2);
}
