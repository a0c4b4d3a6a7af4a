//! The report's extras as a user runs them: cost estimates with the built-in
//! prices and with `--prices FILE`, `--github` annotations, and the table
//! output fitted to a terminal width.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use crate::harness::{run, sample, tempdir};

fn json_of(args: &[&str]) -> serde_json::Value {
    let lab = sample("lab/timeline");
    let mut all = vec!["audit", lab.to_str().unwrap(), "-o", "json"];
    all.extend_from_slice(args);
    let r = run(all);
    r.assert_code(0);
    serde_json::from_str(&r.stdout).unwrap()
}

/// Each `cost` on a verdict's paths, by path name.
fn costs(doc: &serde_json::Value) -> Vec<(String, Option<serde_json::Value>)> {
    doc["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|v| v["paths"].as_array().unwrap().iter())
        .map(|p| {
            (
                p["path"].as_str().unwrap().to_owned(),
                p.get("cost").cloned(),
            )
        })
        .collect()
}

#[test]
fn audit_json_prices_each_path_from_the_region_table() {
    let doc = json_of(&[]);
    let costs = costs(&doc);
    for (path, cost) in &costs {
        match path.as_str() {
            "gateway-endpoint" => {
                let c = cost.as_ref().unwrap();
                assert_eq!(c["usd"], 0.0);
                assert!(c["basis"].as_str().unwrap().contains("ap-northeast-2"));
            }
            "interface-endpoint" => {
                let c = cost.as_ref().unwrap();
                assert_eq!(c["per_gb"], 0.01);
                assert!(c["usd"].as_f64().unwrap() > 0.0);
            }
            // No per-GB price applies: the field is absent.
            _ => assert!(cost.is_none(), "{path}: {cost:?}"),
        }
    }
    assert_eq!(doc["costs"]["estimate"], true);
    assert_eq!(doc["costs"]["region"], "ap-northeast-2");
    let s3_igw = doc["costs"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["service"] == "s3" && r["path"] == "internet-gateway")
        .unwrap();
    assert_eq!(s3_igw["endpoint_instead"]["path"], "gateway-endpoint");
    assert_eq!(s3_igw["endpoint_instead"]["cost"]["usd"], 0.0);
}

#[test]
fn audit_prices_file_overrides_and_bad_file_exits_2() {
    let dir = tempdir();
    let file = dir.path().join("prices.toml");
    std::fs::write(
        &file,
        "source = \"our contract\"\ndefault_region = \"ap-northeast-2\"\n\
         [regions.ap-northeast-2]\ndate = \"2026-12-01\"\nnat_gateway_per_gb = 0.05\n\
         interface_endpoint_per_gb = 2.5\n",
    )
    .unwrap();
    let doc = json_of(&["--prices", file.to_str().unwrap()]);
    let ife = costs(&doc)
        .into_iter()
        .find(|(p, _)| p == "interface-endpoint")
        .unwrap()
        .1
        .unwrap();
    assert_eq!(ife["per_gb"], 2.5);
    assert!(ife["basis"].as_str().unwrap().contains("2026-12-01"));
    assert!(
        doc["costs"]["prices"]
            .as_str()
            .unwrap()
            .contains("prices.toml")
    );

    std::fs::write(&file, "source = \"x\"\n").unwrap();
    let lab = sample("lab/timeline");
    let r = run([
        "audit",
        lab.to_str().unwrap(),
        "--prices",
        file.to_str().unwrap(),
    ]);
    r.assert_code(2);
    assert!(r.stderr.contains("prices.toml"), "{}", r.stderr);
}

#[test]
fn audit_every_format_labels_the_cost_an_estimate() {
    let lab = sample("lab/timeline");
    for (format, needle) in [
        ("table", "Cost (estimate)"),
        ("markdown", "## Cost (estimate)"),
        ("html", "What each path costs (estimate)"),
    ] {
        let r = run(["audit", lab.to_str().unwrap(), "-o", format]);
        r.assert_code(0);
        assert!(r.stdout.contains(needle), "{format}");
        assert!(r.stdout.contains("Estimate from list prices"), "{format}");
        assert!(
            r.stdout
                .contains("a gateway endpoint would carry it at no charge"),
            "{format}"
        );
    }
}

#[test]
fn audit_github_annotations_on_a_failed_expectation() {
    let lab = sample("lab/1-baseline");
    let r = run([
        "audit",
        lab.to_str().unwrap(),
        "--expect",
        "s3=gateway-endpoint",
        "--github",
        "-q",
    ]);
    r.assert_code(1);
    let errors: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with("::error "))
        .collect();
    assert!(!errors.is_empty(), "{}", r.stderr);
    assert!(errors[0].contains("s3=gateway-endpoint"), "{}", errors[0]);
    assert!(r.stderr.lines().any(|l| l.starts_with("::warning ")));
    assert!(
        !r.stdout.contains("::error"),
        "stdout keeps the report only"
    );
}
