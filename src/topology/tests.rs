//! Loader tests: the lab corpus and hand-made files.

use std::path::PathBuf;

use super::*;

use super::tests_support::corpus_aws;

#[test]
fn load_corpus_folder_understands_the_lab() {
    let Some(dir) = corpus_aws() else { return };
    let t = load(&[dir]).unwrap();
    assert_eq!(t.snapshots.len(), 1);
    let s = &t.snapshots[0];
    assert_eq!(s.vpcs.len(), 1);
    let vpc = &s.vpcs["vpc-0c2e5a7b91d34f068"];
    assert_eq!(vpc.dns_support, Some(true));
    assert_eq!(vpc.dns_hostnames, Some(true));
    assert_eq!(s.subnets.len(), 2);
    assert_eq!(s.route_tables.len(), 3);
    // The "after" table wins over the "before" file (sorts last) and a note says so.
    let public = &s.route_tables["rtb-09a1c5e7d3b2f4860"];
    assert_eq!(public.routes.len(), 3);
    assert!(s.notes.iter().any(|n| n.contains("rtb-09a1c5e7d3b2f4860")));
    // Private DNS on wins (describe-vpc-endpoints.json sorts after -private-dns-off).
    let cfn = &s.endpoints["vpce-04b9d1f7a3c5e2860"];
    assert_eq!(cfn.private_dns_enabled, Some(true));
    assert_eq!(cfn.service, "cloudformation");
    assert_eq!(cfn.kind, EndpointKind::Interface);
    assert_eq!(
        cfn.default_dns_name().as_deref(),
        Some("cloudformation.ap-northeast-2.amazonaws.com")
    );
    assert_eq!(
        s.enis["eni-0b4f8d2a6e1c97305"].kind,
        EniKind::InterfaceEndpoint("vpce-04b9d1f7a3c5e2860".into())
    );
    assert_eq!(
        s.enis["eni-0d2b7f4a9c1e36580"].kind,
        EniKind::Instance("i-0a7c3e91f5b2d4068".into())
    );
    // Entries file named "-s3" is tied to the S3 list by its service.
    let pl = &s.prefix_lists["pl-78a54011"];
    assert!(pl.entries_known);
    assert_eq!(pl.cidrs.len(), 9);
    assert_eq!(pl.service(), Some("s3"));
    assert!(!s.prefix_lists["pl-48a54021"].entries_known);
    let r = t.ip_ranges.as_ref().unwrap();
    assert_eq!(r.prefixes.len(), 194 + 137);
    assert_eq!(s.time_source, SnapshotTimeSource::NewestInside);
    assert_eq!(s.time, parse_timestamp("2026-11-18T03:02:47.208Z"));
}

#[test]
fn load_corpus_private_subnet_uses_its_explicit_table() {
    let Some(dir) = corpus_aws() else { return };
    let t = load(&[dir]).unwrap();
    let s = &t.snapshots[0];
    assert_eq!(
        s.route_table_of_subnet("subnet-0b71d4e9a2c58f316")
            .unwrap()
            .id,
        "rtb-0d6f2a9c4e81b7053"
    );
    assert!(!s.subnet_uses_main("subnet-0b71d4e9a2c58f316"));
}

fn write(dir: &std::path::Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

#[test]
fn load_missing_route_destination_names_file_and_json_path() {
    let d = tempfile::tempdir().unwrap();
    let p = write(
        d.path(),
        "rt.json",
        r#"{"RouteTables":[{"RouteTableId":"rtb-1","VpcId":"vpc-1","Routes":[{"GatewayId":"local"},{"GatewayId":"igw-1","State":"active"}]}]}"#,
    );
    let e = load(&[p]).unwrap_err().to_string();
    assert!(
        e.contains("rt.json: RouteTables[0].Routes[0]: no destination"),
        "{e}"
    );
}

#[test]
fn load_invalid_cidr_is_an_error_with_path() {
    let d = tempfile::tempdir().unwrap();
    let p = write(
        d.path(),
        "subnets.json",
        r#"{"Subnets":[{"SubnetId":"subnet-1","VpcId":"vpc-1","CidrBlock":"10.0.0.0/33"}]}"#,
    );
    let e = load(&[p]).unwrap_err().to_string();
    assert!(e.contains("Subnets[0].CidrBlock: invalid CIDR"), "{e}");
}

#[test]
fn load_wrong_member_type_names_the_item() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "v.json", r#"{"Vpcs":[{"VpcId":5}]}"#);
    let e = load(&[p]).unwrap_err().to_string();
    assert!(e.contains("v.json: Vpcs[0]: invalid type"), "{e}");
}

#[test]
fn load_unknown_members_are_ignored() {
    let d = tempfile::tempdir().unwrap();
    let p = write(
        d.path(),
        "v.json",
        r#"{"Vpcs":[{"VpcId":"vpc-1","CidrBlock":"10.0.0.0/16","BrandNewMember":{"x":[1]}}],"NextToken":null}"#,
    );
    let t = load(&[p]).unwrap();
    assert_eq!(t.snapshots[0].vpcs["vpc-1"].cidrs.len(), 1);
}

#[test]
fn load_unrecognised_file_given_explicitly_is_an_error_but_skipped_in_a_folder() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "x.json", r#"{"Hello":1}"#);
    write(d.path(), "v.json", r#"{"Vpcs":[{"VpcId":"vpc-1"}]}"#);
    assert!(matches!(
        load(&[p]),
        Err(TopologyError::Unrecognised { .. })
    ));
    let t = load(&[d.path().to_path_buf()]).unwrap();
    assert!(t.notes.iter().any(|n| n.contains("x.json: skipped")));
}

#[test]
fn load_entries_take_the_id_from_wrapper_or_file_name() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "a.json",
        r#"{"PrefixListId":"pl-11111111","Entries":[{"Cidr":"1.1.1.0/24"}]}"#,
    );
    write(
        d.path(),
        "get-managed-prefix-list-entries-pl-22222222.json",
        r#"{"Entries":[{"Cidr":"2.2.2.0/24"}]}"#,
    );
    let t = load(&[d.path().to_path_buf()]).unwrap();
    let s = &t.snapshots[0];
    assert_eq!(
        s.prefix_lists["pl-11111111"].cidrs,
        vec!["1.1.1.0/24".parse::<ipnet::IpNet>().unwrap()]
    );
    assert_eq!(s.prefix_lists["pl-22222222"].cidrs.len(), 1);
}

#[test]
fn load_entries_without_any_id_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    let p = write(
        d.path(),
        "entries.json",
        r#"{"Entries":[{"Cidr":"1.1.1.0/24"}]}"#,
    );
    let e = load(&[p]).unwrap_err().to_string();
    assert!(
        e.contains("entries.json: Entries: cannot tell which prefix list"),
        "{e}"
    );
}

#[test]
fn load_subfolders_are_snapshots_ordered_by_snapshot_time() {
    let d = tempfile::tempdir().unwrap();
    for (sub, t) in [("b", "2026-11-18T00:00:00Z"), ("a", "2026-11-19T00:00:00Z")] {
        let s = d.path().join(sub);
        std::fs::create_dir(&s).unwrap();
        write(&s, "snapshot.json", &format!(r#"{{"SnapshotTime":"{t}"}}"#));
        write(&s, "v.json", r#"{"Vpcs":[{"VpcId":"vpc-1"}]}"#);
    }
    let t = load(&[d.path().to_path_buf()]).unwrap();
    assert_eq!(t.snapshots.len(), 2);
    assert!(t.snapshots[0].dir.ends_with('b'));
    assert_eq!(t.snapshots[0].time_source, SnapshotTimeSource::SnapshotFile);
}

#[test]
fn load_nothing_is_an_error_and_missing_path_is_not_found() {
    let d = tempfile::tempdir().unwrap();
    assert!(matches!(
        load(&[d.path().to_path_buf()]),
        Err(TopologyError::Empty { .. })
    ));
    assert!(matches!(
        load(&[d.path().join("nope")]),
        Err(TopologyError::NotFound { .. })
    ));
}

#[test]
fn parse_timestamp_accepts_cli_v1_and_v2_spellings() {
    let a = parse_timestamp("2026-11-18T02:14:09.512Z").unwrap();
    let b = parse_timestamp("2026-11-18T02:14:09.512000+00:00").unwrap();
    assert_eq!(a, b);
    assert!(parse_timestamp("2026-11-18").is_none());
}

#[test]
fn split_service_name_gives_service_and_region() {
    assert_eq!(
        split_service_name("com.amazonaws.ap-northeast-2.s3"),
        ("s3".into(), Some("ap-northeast-2".into()))
    );
    assert_eq!(
        split_service_name("com.amazonaws.us-gov-west-1.ecr.dkr").0,
        "ecr.dkr"
    );
}

/// A host is the instance with every ENI and address (IPv4 and IPv6), the
/// primary first; an ENI that no instance owns is a host of its own.
#[test]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
fn index_groups_an_instances_enis_and_addresses_into_one_host() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "describe-instances.json",
        r#"{"Reservations": [{"Instances": [{
            "InstanceId": "i-0dual", "SubnetId": "subnet-a", "VpcId": "vpc-1",
            "PrivateIpAddress": "10.0.0.30",
            "NetworkInterfaces": [
              {"NetworkInterfaceId": "eni-0b2", "SubnetId": "subnet-b", "VpcId": "vpc-1",
               "PrivateIpAddress": "10.0.1.31",
               "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.1.31", "Primary": true}],
               "Attachment": {"InstanceId": "i-0dual"}},
              {"NetworkInterfaceId": "eni-0a1", "SubnetId": "subnet-a", "VpcId": "vpc-1",
               "PrivateIpAddress": "10.0.0.30",
               "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.0.30", "Primary": true}],
               "Ipv6Addresses": [{"Ipv6Address": "2406:da12:7c0:f600::30"}],
               "Attachment": {"InstanceId": "i-0dual"}}
            ]}]}]}"#,
    );
    write(
        dir.path(),
        "describe-network-interfaces.json",
        r#"{"NetworkInterfaces": [
            {"NetworkInterfaceId": "eni-0lambda", "SubnetId": "subnet-a", "VpcId": "vpc-1",
             "InterfaceType": "lambda", "PrivateIpAddress": "10.0.0.77"}]}"#,
    );
    let t = load(&[dir.path().to_path_buf()]).unwrap();
    let index = TopologyIndex::build(&t);
    let hosts = index.hosts();
    assert_eq!(hosts.len(), 2, "{hosts:?}");
    let dual = hosts
        .iter()
        .find(|h| h.instance_id.as_deref() == Some("i-0dual"))
        .unwrap();
    assert_eq!(dual.enis, ["eni-0a1", "eni-0b2"], "the primary ENI first");
    let addrs: Vec<String> = dual.addrs.iter().map(ToString::to_string).collect();
    assert_eq!(addrs, ["10.0.0.30", "10.0.1.31", "2406:da12:7c0:f600::30"]);
    assert_eq!(dual.subnets, ["subnet-a", "subnet-b"]);
    let snap = &index.snapshots()[0];
    for a in ["10.0.0.30", "10.0.1.31", "2406:da12:7c0:f600::30"] {
        let eni = snap.eni_at(a.parse().unwrap(), None).unwrap();
        assert_eq!(index.host_of(eni), Some(dual), "{a}");
    }
    let lambda = index
        .host_of(snap.eni_at("10.0.0.77".parse().unwrap(), None).unwrap())
        .unwrap();
    assert_eq!(lambda.instance_id, None);
    assert_eq!(lambda.enis, ["eni-0lambda"]);
}
