//! `privpath topology show|check` on the lab corpus and on hand-made files.

use crate::harness::{corpus, run, tempdir};

#[test]
fn topology_show_corpus_lists_tables_endpoints_and_enis() {
    let Some(dir) = corpus("aws") else { return };
    let r = run(["topology", "show", "--topology"]
        .iter()
        .map(|s| s.to_string())
        .chain([dir.display().to_string()]));
    r.assert_code(0);
    let out = &r.stdout;
    for needle in [
        "vpc vpc-0c2e5a7b91d34f068 10.0.0.0/16 dns-support on dns-hostnames on",
        "subnet subnet-0b71d4e9a2c58f316 10.0.1.0/24 ap-northeast-2c -> rtb-0d6f2a9c4e81b7053 (explicit)",
        "pl-78a54011",
        "com.amazonaws.ap-northeast-2.s3 = 3.5.140.0/22",
        "endpoint vpce-04b9d1f7a3c5e2860 interface cloudformation",
        "private dns on",
        "eni eni-07c1e5a9d3b26f814 10.0.1.87 subnet-0b71d4e9a2c58f316",
        "created 2026-11-18T02:14:09.512Z",
        "instance i-0a7c3e91f5b2d4068 subnet-0f3a8c61b2d94e705 private 10.0.0.37 public 43.201.112.57",
        "ip-ranges",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
}

#[test]
fn topology_check_corpus_has_no_errors() {
    let Some(dir) = corpus("aws") else { return };
    let r = run([
        "topology".to_string(),
        "check".into(),
        "--topology".into(),
        dir.display().to_string(),
    ]);
    r.assert_code(0);
    assert!(r.stdout.contains("0 error(s)"), "{}", r.stdout);
    // The before/after route-table files share ids: noted, not an error.
    assert!(r.stdout.contains("warning:"), "{}", r.stdout);
}

#[test]
fn topology_check_route_to_missing_endpoint_exits_2() {
    let d = tempdir();
    std::fs::write(
        d.path().join("rt.json"),
        r#"{"RouteTables":[{"RouteTableId":"rtb-1","VpcId":"vpc-1","Associations":[{"Main":true}],
            "Routes":[{"DestinationCidrBlock":"10.0.0.0/16","GatewayId":"local","State":"active"},
                      {"DestinationPrefixListId":"pl-12345678","GatewayId":"vpce-0123456789abcdef0","State":"active"}]}]}"#,
    )
    .unwrap();
    let r = run([
        "topology".to_string(),
        "check".into(),
        "--topology".into(),
        d.path().display().to_string(),
    ]);
    r.assert_code(2);
    assert!(
        r.stdout
            .contains("vpce-0123456789abcdef0: endpoint missing"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("pl-12345678 has no entries"),
        "{}",
        r.stdout
    );
}

#[test]
fn topology_show_bad_json_names_file_and_path() {
    let d = tempdir();
    let f = d.path().join("subnets.json");
    std::fs::write(
        &f,
        r#"{"Subnets":[{"SubnetId":"subnet-1","VpcId":"vpc-1","CidrBlock":"10.0.0.0/40"}]}"#,
    )
    .unwrap();
    let r = run([
        "topology".to_string(),
        "show".into(),
        "--topology".into(),
        f.display().to_string(),
    ]);
    r.assert_code(2);
    assert!(
        r.stderr
            .contains("subnets.json: Subnets[0].CidrBlock: invalid CIDR"),
        "{}",
        r.stderr
    );
}

#[test]
fn topology_show_json_is_valid_json() {
    let Some(dir) = corpus("aws") else { return };
    let r = run([
        "topology".to_string(),
        "show".into(),
        "--json".into(),
        "--topology".into(),
        dir.display().to_string(),
    ]);
    r.assert_code(0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v["snapshots"][0]["endpoints"]["vpce-0e5a3c7d9b1f24680"]["service"],
        "s3"
    );
}

#[test]
fn topology_requires_a_path() {
    run(["topology", "show"]).assert_code(2);
}
