//! Calls joined into verdicts and expectations.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use super::*;
use crate::flow::{Provenance, SourceId};
use crate::report::PathKind;

fn host(i: &str, addr: &str) -> Host {
    Host {
        instance_id: Some(i.into()),
        enis: vec![Text::from(format!("eni-{i}"))].into(),
        addresses: vec![addr.parse().unwrap()].into(),
        subnet_ids: Vec::new().into(),
    }
}

fn call(t: u64, source_ip: &str, denied: bool) -> ApiCall {
    ApiCall {
        time: t,
        service: "cloudformation".into(),
        event_name: "DescribeStacks".into(),
        source_ip: source_ip.into(),
        source_addr: source_ip.parse().ok(),
        principal: "arn:aws:sts::1:assumed-role/lab/i-priv".into(),
        identity_type: Some("AssumedRole".into()),
        invoked_by: None,
        vpc_endpoint_id: None,
        vpc_endpoint_account_id: None,
        event_category: None,
        event_type: None,
        error_code: denied.then(|| "VpceAccessDenied".into()),
        region: None,
        event_id: None,
        provenance: Provenance {
            source: SourceId(0),
            index: t,
        },
    }
}

fn facts<'a>(
    c: &'a ApiCall,
    path: ApiPath,
    endpoint: Option<&str>,
    h: Option<Host>,
) -> CallFacts<'a> {
    CallFacts {
        call: c,
        path: CallPath {
            path,
            endpoint: endpoint.map(Text::from),
            host: None,
            evidence: format!("because {}", path.as_str()),
        },
        host: h,
        source: format!("trail.json:Records[{}]", c.time),
    }
}

fn private_verdict(h: &Host) -> VerdictRow {
    let paths = vec![PathRow {
        path: PathKind::InterfaceEndpoint,
        flows: 3,
        packets: 30,
        bytes: 3000,
        first: 100,
        last: 200,
        outcomes: OutcomeCounts {
            answered: 3,
            ..OutcomeCounts::default()
        },
        calls: 0,
        evidence: vec![EvidenceLine {
            text: "10.0.1.87 is an ENI of vpce-cfn".into(),
            flows: 1,
            examples: Vec::new(),
        }],
        examples: vec![],
    }];
    VerdictRow {
        service: "cloudformation".into(),
        host: h.clone(),
        verdict: Verdict::decide(&paths),
        paths,
        last_public: None,
        first_private: None,
    }
}

#[test]
fn group_calls_counts_per_principal_event_path_and_source() {
    let h = host("i-priv", "10.0.1.148");
    let a = call(300, "10.0.1.148", false);
    let b = call(250, "10.0.1.148", true);
    let c = call(400, "43.200.5.18", false);
    let rows = group_calls(&[
        facts(
            &a,
            ApiPath::InterfaceEndpoint,
            Some("vpce-cfn"),
            Some(h.clone()),
        ),
        facts(
            &b,
            ApiPath::InterfaceEndpoint,
            Some("vpce-cfn"),
            Some(h.clone()),
        ),
        facts(&c, ApiPath::NatGateway, Some("nat-1"), None),
    ]);
    assert_eq!(rows.len(), 2);
    let r = rows
        .iter()
        .find(|r| r.path == ApiPath::InterfaceEndpoint)
        .unwrap();
    assert_eq!((r.calls, r.denied, r.first, r.last), (2, 1, 250, 300));
    assert_eq!(r.example, "trail.json:Records[250]");
    assert!(evidence_line(r).contains("2 calls DescribeStacks by arn:aws:sts::1:assumed-role/lab/i-priv from 10.0.1.148 via vpce-cfn (1 denied)"));
}

#[test]
fn a_nat_call_makes_private_flows_mixed_with_the_call_as_evidence() {
    let h = host("i-priv", "10.0.1.148");
    let mut verdicts = vec![private_verdict(&h)];
    assert_eq!(verdicts[0].verdict, Verdict::Private);
    let c = call(50, "43.200.5.18", false);
    let rows = group_calls(&[facts(
        &c,
        ApiPath::NatGateway,
        Some("nat-1"),
        Some(h.clone()),
    )]);
    join_verdicts(&mut verdicts, &rows);
    let v = &verdicts[0];
    assert_eq!(v.verdict, Verdict::Mixed);
    assert_eq!((v.last_public, v.first_private), (Some(50), Some(100)));
    let nat = v
        .paths
        .iter()
        .find(|p| p.path == PathKind::NatGateway)
        .unwrap();
    assert_eq!((nat.flows, nat.calls), (0, 1));
    assert!(
        nat.evidence[0]
            .text
            .starts_with("CloudTrail: 1 call DescribeStacks by "),
        "{:?}",
        nat.evidence
    );
    assert!(nat.evidence[0].text.contains("from 43.200.5.18 via nat-1"));
    // A host with calls only gets a verdict of its own; aws-internal never joins.
    let other = host("i-pub", "10.0.0.10");
    let d = call(60, "43.201.112.57", false);
    let e = call(61, "cloudformation.amazonaws.com", false);
    let rows = group_calls(&[
        facts(&d, ApiPath::InternetGateway, None, Some(other.clone())),
        facts(&e, ApiPath::AwsInternal, None, Some(other.clone())),
    ]);
    join_verdicts(&mut verdicts, &rows);
    assert_eq!(verdicts.len(), 2);
    let v = verdicts.iter().find(|v| v.host == other).unwrap();
    assert_eq!(v.verdict, Verdict::Public);
    assert_eq!(v.paths.len(), 1);
}

#[test]
fn expectations_fail_on_a_call_off_the_endpoint_and_hold_on_one_through_it() {
    use crate::report::expect::ExpectSet;
    let h = host("i-priv", "10.0.1.148");
    let set = ExpectSet::parse_cli(
        &[
            "cloudformation=interface-endpoint".into(),
            "cloudformation@i-priv=private".into(),
        ],
        &[],
        None,
        None,
    )
    .unwrap();
    let placeholder = |e: &str| ExpectationResult {
        expect: e.into(),
        origin: "--expect".into(),
        met: true,
        hosts: vec![HostResult {
            host: None,
            met: true,
            flows: 0,
            violations_total: 0,
            violations: vec![],
            note: Some("no cloudformation traffic observed".into()),
        }],
    };
    let ok = call(10, "10.0.1.148", false);
    let mut results = vec![placeholder("a"), placeholder("b")];
    apply_expectations(
        &mut results,
        &set,
        &[facts(
            &ok,
            ApiPath::InterfaceEndpoint,
            Some("vpce-cfn"),
            Some(h.clone()),
        )],
        20,
    );
    assert!(results.iter().all(|r| r.met));
    assert_eq!(results[0].hosts.len(), 1);
    assert_eq!(results[0].hosts[0].flows, 1);
    assert_eq!(results[0].hosts[0].host.as_ref(), Some(&h));

    let nat = call(20, "43.200.5.18", false);
    let unknown_host = call(30, "43.200.5.18", false);
    let mut results = vec![placeholder("a"), placeholder("b")];
    apply_expectations(
        &mut results,
        &set,
        &[
            facts(
                &ok,
                ApiPath::InterfaceEndpoint,
                Some("vpce-cfn"),
                Some(h.clone()),
            ),
            facts(&nat, ApiPath::NatGateway, Some("nat-1"), Some(h.clone())),
            facts(&unknown_host, ApiPath::NatGateway, Some("nat-1"), None),
        ],
        20,
    );
    assert!(!results[0].met);
    assert_eq!(results[0].violations_total(), 2);
    let v = &results[0]
        .hosts
        .iter()
        .find(|x| x.host.is_some())
        .unwrap()
        .violations[0];
    assert_eq!(
        (v.time, v.path, v.source.as_str()),
        (20, Some(PathKind::NatGateway), "trail.json:Records[20]")
    );
    assert_eq!(v.destination, "cloudformation DescribeStacks (CloudTrail)");
    // The scoped one sees only i-priv's NAT call.
    assert!(!results[1].met);
    assert_eq!(results[1].violations_total(), 1);
    // Outside the window: not checked.
    let late = ExpectSet {
        since: Some(25),
        ..set.clone()
    };
    let mut results = vec![placeholder("a"), placeholder("b")];
    apply_expectations(
        &mut results,
        &late,
        &[facts(&nat, ApiPath::NatGateway, Some("nat-1"), Some(h))],
        20,
    );
    assert!(results.iter().all(|r| r.met));
}
