//! A host is the instance, with all its addresses: a lab-like case where the
//! public instance is dual-stack. Its S3 traffic over IPv4 takes the gateway
//! endpoint, over IPv6 the internet gateway (gateway endpoints route the
//! IPv4 prefix list only): one host, one `mixed` row listing both addresses,
//! in every output, and expectations scoped by instance, ENI or either
//! address cover both.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::harness::{root, run, tempdir};

const INSTANCE: &str = "i-01a3c5e7092b4d6f8";
const ENI: &str = "eni-02b4d6f8103c5e7a9";
const V4: &str = "10.0.0.10";
const V6: &str = "2406:da12:7c0:f600::10";
const VPC_V6: &str = "2406:da12:7c0:f600::/56";
const S3_V4: &str = "52.219.60.25";
/// In ip-ranges.json's S3 IPv6 prefix 2406:daf0:2000::/40.
const S3_V6: &str = "2406:daf0:2000::25";
/// 2026-11-02T09:20:00Z, after the gateway endpoint was created.
const T: u64 = 1_793_611_200;

fn read(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn write(p: &Path, v: &Value) {
    std::fs::write(p, serde_json::to_string_pretty(v).unwrap()).unwrap();
}

/// The public instance's ENI with its IPv6 address added (as
/// describe-network-interfaces and describe-instances list it).
fn add_ipv6(eni: &mut Value) {
    if eni["NetworkInterfaceId"] == ENI {
        eni["Ipv6Addresses"] = json!([{ "Ipv6Address": V6, "IsPrimaryIpv6": false }]);
    }
}

/// The lab's gateway-endpoint phase, made dual-stack, with a flow log of the
/// public instance: S3 over IPv4 and over IPv6, each with its reply.
fn case() -> (tempfile::TempDir, PathBuf) {
    let dir = tempdir();
    let case = dir.path().join("dual-stack");
    let topo = case.join("topology");
    std::fs::create_dir_all(&topo).unwrap();
    let lab = root().join("samples/lab/2-s3-gateway-endpoint/topology");
    for entry in std::fs::read_dir(&lab).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, topo.join(p.file_name().unwrap())).unwrap();
    }
    let p = topo.join("describe-vpcs.json");
    let mut v = read(&p);
    v["Vpcs"][0]["Ipv6CidrBlockAssociationSet"] = json!([{
        "AssociationId": "vpc-cidr-assoc-0d1f3a5c7e9b24681",
        "Ipv6CidrBlock": VPC_V6,
        "Ipv6CidrBlockState": { "State": "associated" },
        "NetworkBorderGroup": "ap-northeast-2",
        "Ipv6Pool": "Amazon"
    }]);
    write(&p, &v);
    let p = topo.join("describe-network-interfaces.json");
    let mut v = read(&p);
    for eni in v["NetworkInterfaces"].as_array_mut().unwrap() {
        add_ipv6(eni);
    }
    write(&p, &v);
    let p = topo.join("describe-instances.json");
    let mut v = read(&p);
    for r in v["Reservations"].as_array_mut().unwrap() {
        for i in r["Instances"].as_array_mut().unwrap() {
            for eni in i["NetworkInterfaces"].as_array_mut().unwrap() {
                add_ipv6(eni);
            }
        }
    }
    write(&p, &v);
    let p = topo.join("describe-route-tables.json");
    let mut v = read(&p);
    for rt in v["RouteTables"].as_array_mut().unwrap() {
        let public = rt["Routes"].as_array().unwrap().iter().any(|r| {
            r["GatewayId"]
                .as_str()
                .is_some_and(|g| g.starts_with("igw-"))
        });
        if public {
            rt["Routes"].as_array_mut().unwrap().push(json!({
                "DestinationIpv6CidrBlock": "::/0",
                "GatewayId": "igw-0b2e4f6a8c1d35702",
                "Origin": "CreateRoute",
                "State": "active"
            }));
        }
    }
    write(&p, &v);

    let flowlogs = case.join("flowlogs");
    std::fs::create_dir_all(&flowlogs).unwrap();
    let mut log = String::from(
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n",
    );
    for (k, (local, remote)) in [(V4, S3_V4), (V6, S3_V6)].into_iter().enumerate() {
        for n in 0..3u64 {
            let port = 40_000 + 10 * k as u64 + n;
            let t = T + 60 * n + 5 * k as u64;
            log.push_str(&format!(
                "2 111122223333 {ENI} {local} {remote} {port} 443 6 12 1800 {t} {} ACCEPT OK\n\
                 2 111122223333 {ENI} {remote} {local} 443 {port} 6 15 9000 {t} {} ACCEPT OK\n",
                t + 30,
                t + 30
            ));
        }
    }
    std::fs::write(flowlogs.join("dual-stack.log"), log).unwrap();
    (dir, case)
}

fn json_of(case: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["audit", case.to_str().unwrap(), "-o", "json"];
    args.extend_from_slice(extra);
    let r = run(args);
    let v = serde_json::from_str(&r.stdout).unwrap_or(Value::Null);
    assert!(!v.is_null(), "{}", r.snapshot());
    (r.code, v)
}

#[test]
fn dual_stack_instance_is_one_host_with_a_mixed_verdict() {
    let (_dir, case) = case();
    let (code, v) = json_of(&case, &[]);
    assert_eq!(code, 0);
    let rows: Vec<&Value> = v["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["service"] == "s3")
        .collect();
    assert_eq!(rows.len(), 1, "one row for the instance: {rows:?}");
    let row = rows[0];
    assert_eq!(row["verdict"], "mixed", "{row}");
    assert_eq!(row["host"]["instance_id"], INSTANCE);
    assert_eq!(row["host"]["address"], V4, "the primary address");
    assert_eq!(row["host"]["addresses"], json!([V4, V6]));
    assert_eq!(row["host"]["enis"], json!([ENI]));
    let paths: Vec<&str> = row["paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["gateway-endpoint", "internet-gateway"]);
    assert!(
        row["paths"][1]["evidence"][0]
            .as_str()
            .unwrap()
            .contains("::/0 -> igw-0b2e4f6a8c1d35702"),
        "{row}"
    );
    // Same bytes whatever the thread count.
    let a = run(["-j", "1", "audit", case.to_str().unwrap(), "-o", "json"]);
    let b = run(["-j", "2", "audit", case.to_str().unwrap(), "-o", "json"]);
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn dual_stack_expectations_scope_by_instance_eni_or_either_address() {
    let (_dir, case) = case();
    for scope in [INSTANCE, ENI, V4, V6] {
        let expect = format!("s3@{scope}=gateway-endpoint");
        let (code, v) = json_of(&case, &["--expect", expect.as_str()]);
        assert_eq!(code, 1, "{scope}: the IPv6 flows break it");
        let e = &v["expectations"][0];
        assert_eq!(e["violations_total"], 3, "{scope}: {e}");
        assert_eq!(e["hosts"].as_array().unwrap().len(), 1, "{scope}: one host");
        assert_eq!(e["hosts"][0]["flows"], 6, "{scope}: both address families");
        let dst = e["violations"][0]["destination"].as_str().unwrap();
        assert!(dst.contains(S3_V6), "{scope}: {dst}");
    }
    let (code, _) = json_of(&case, &["--expect", "s3@10.0.0.99=gateway-endpoint"]);
    assert_eq!(code, 0, "another address is another host (none here)");
}

#[test]
fn dual_stack_host_shows_both_addresses_in_every_output() {
    let (dir, case) = case();
    let out = dir.path().join("out");
    let r = run([
        "audit",
        case.to_str().unwrap(),
        "--expect",
        "s3=gateway-endpoint",
        "-o",
        "table",
        "-o",
        "markdown",
        "-o",
        "html",
        "-o",
        "junit",
        "-o",
        "csv",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    r.assert_code(1);
    let both = format!("{INSTANCE} ({ENI}, {V4}, {V6})");
    for f in ["audit.txt", "audit.md", "audit.html", "junit.xml"] {
        let text = std::fs::read_to_string(out.join(f)).unwrap();
        assert!(
            text.contains(&both),
            "{f} names the host with both addresses\n{text}"
        );
    }
    let table = std::fs::read_to_string(out.join("audit.txt")).unwrap();
    let s3_rows: Vec<&str> = table.lines().filter(|l| l.starts_with(" s3 ")).collect();
    assert_eq!(s3_rows.len(), 1, "{table}");
    assert!(s3_rows[0].contains("mixed"), "{}", s3_rows[0]);
    let csv = std::fs::read_to_string(out.join("flows.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "host_address").unwrap();
    let egress: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(egress.len(), 6, "{csv}");
    for line in egress {
        assert_eq!(
            line.split(',').nth(col),
            Some(format!("{V4} {V6}").as_str()),
            "{line}"
        );
    }
}
