//! CloudTrail records into [`ApiCall`]s: S3 files (`{"Records": […]}`,
//! gzip), CloudWatch Logs events (one bare record per message) and
//! `aws cloudtrail lookup-events` output (the record as a JSON *string* in
//! `Events[].CloudTrailEvent`).
//!
//! Fields (evidence-sources.md §2.1): `eventVersion` (major 1), `eventTime`,
//! `eventSource`, `eventName`, `awsRegion`, `sourceIPAddress` (an address,
//! or a service name / `AWS Internal/…` for calls AWS made), `userIdentity`
//! (`type`, `principalId`, `arn`, `invokedBy`), `vpcEndpointId`,
//! `vpcEndpointAccountId`, `eventCategory`, `eventType`, `errorCode`,
//! `eventID`. Everything else (requestParameters …) is skipped unread.

use serde::Deserialize;

use super::resolver::{RecordError, parse_timestamp};
use crate::flow::{ApiCall, Provenance, Text};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    event_version: Option<String>,
    event_time: Option<String>,
    event_source: Option<String>,
    event_name: Option<String>,
    aws_region: Option<String>,
    #[serde(rename = "sourceIPAddress")]
    source_ip_address: Option<String>,
    user_identity: Option<Identity>,
    vpc_endpoint_id: Option<String>,
    vpc_endpoint_account_id: Option<String>,
    event_category: Option<String>,
    event_type: Option<String>,
    error_code: Option<String>,
    #[serde(rename = "eventID")]
    event_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Identity {
    #[serde(rename = "type")]
    kind: Option<String>,
    principal_id: Option<String>,
    arn: Option<String>,
    invoked_by: Option<String>,
}

/// One `lookup-events` item: only the record string matters.
#[derive(Deserialize)]
struct LookupItem {
    #[serde(rename = "CloudTrailEvent")]
    cloudtrail_event: Option<String>,
}

/// Is this JSON object (its bytes) a CloudTrail record?
pub fn looks_like_record(bytes: &[u8]) -> bool {
    memchr::memmem::find(bytes, b"\"eventVersion\"").is_some()
        && memchr::memmem::find(bytes, b"\"eventSource\"").is_some()
}

/// `cloudformation.amazonaws.com` → `cloudformation`.
pub fn service_of_source(source: &str) -> Text {
    let s = source.trim().to_ascii_lowercase();
    Text::from(
        s.strip_suffix(".amazonaws.com")
            .or_else(|| s.strip_suffix(".amazonaws.com.cn"))
            .unwrap_or(&s),
    )
}

fn clip(s: Option<String>, max: usize) -> Option<Text> {
    s.filter(|s| !s.is_empty())
        .map(|s| Text::from(crate::error::sanitize(&s, max)))
}

/// One record (the bytes of one JSON object) into an [`ApiCall`].
pub fn parse_record(bytes: &[u8], provenance: Provenance) -> Result<ApiCall, RecordError> {
    let r: Record = serde_json::from_slice(bytes).map_err(|e| {
        RecordError::new(
            "invalid json",
            format!(
                "invalid json: {}",
                crate::error::sanitize(&e.to_string(), 100)
            ),
        )
    })?;
    if let Some(v) = &r.event_version {
        if v.split('.').next().and_then(|m| m.parse::<u32>().ok()) != Some(1) {
            return Err(RecordError::new(
                "unsupported version",
                format!(
                    "eventVersion {:?} (privpath reads 1.x)",
                    crate::error::sanitize(v, 20)
                ),
            ));
        }
    }
    let missing = |f: &str| RecordError::new("missing field", format!("missing field '{f}'"));
    let t = r
        .event_time
        .as_deref()
        .ok_or_else(|| missing("eventTime"))?;
    let (time, _) = parse_timestamp(t).ok_or_else(|| {
        RecordError::new(
            "invalid time",
            format!(
                "field 'eventTime': invalid time {:?}",
                crate::error::sanitize(t, 40)
            ),
        )
    })?;
    let source = r
        .event_source
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| missing("eventSource"))?;
    let service = service_of_source(&crate::error::sanitize(source, 100));
    let event_name = clip(r.event_name, 100).ok_or_else(|| missing("eventName"))?;
    let source_ip = r
        .source_ip_address
        .map(|s| crate::error::sanitize(&s, 200))
        .unwrap_or_default();
    let source_addr = source_ip.parse().ok();
    let id = r.user_identity;
    let kind = id.as_ref().and_then(|i| clip(i.kind.clone(), 40));
    let invoked_by = id.as_ref().and_then(|i| clip(i.invoked_by.clone(), 100));
    let principal = id
        .as_ref()
        .and_then(|i| {
            i.arn
                .clone()
                .filter(|s| !s.is_empty())
                .or_else(|| i.principal_id.clone().filter(|s| !s.is_empty()))
        })
        .map(|s| crate::error::sanitize(&s, 300))
        .or_else(|| invoked_by.as_ref().map(ToString::to_string))
        .or_else(|| kind.as_ref().map(ToString::to_string))
        .unwrap_or_else(|| "unknown".to_owned());
    Ok(ApiCall {
        time,
        service,
        event_name,
        source_ip,
        source_addr,
        principal,
        identity_type: kind,
        invoked_by,
        vpc_endpoint_id: clip(r.vpc_endpoint_id, 64),
        vpc_endpoint_account_id: clip(r.vpc_endpoint_account_id, 20),
        event_category: clip(r.event_category, 40),
        event_type: clip(r.event_type, 40),
        error_code: clip(r.error_code, 80),
        region: clip(r.aws_region, 40),
        event_id: clip(r.event_id, 80),
        provenance,
    })
}

/// One `lookup-events` item: its `CloudTrailEvent` string parsed as a record.
pub fn parse_lookup_item(bytes: &[u8], provenance: Provenance) -> Result<ApiCall, RecordError> {
    let item: LookupItem = serde_json::from_slice(bytes).map_err(|e| {
        RecordError::new(
            "invalid json",
            format!(
                "invalid json: {}",
                crate::error::sanitize(&e.to_string(), 100)
            ),
        )
    })?;
    let inner = item
        .cloudtrail_event
        .ok_or_else(|| RecordError::new("missing field", "missing field 'CloudTrailEvent'"))?;
    parse_record(inner.as_bytes(), provenance).map_err(|e| {
        let detail = if e.reason == "invalid json" {
            format!("'CloudTrailEvent' is not a JSON record: {}", e.detail)
        } else {
            format!("'CloudTrailEvent': {}", e.detail)
        };
        RecordError { detail, ..e }
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
pub(crate) mod tests {
    use super::*;
    use crate::flow::SourceId;

    const P: Provenance = Provenance {
        source: SourceId(0),
        index: 1,
    };

    /// evidence-sources.md §2.4 (a), verbatim.
    pub const EXAMPLE_A: &str = r#"{"eventVersion":"1.11","userIdentity":{"type":"AssumedRole","principalId":"AROATXE4EXAMPLE7Q2ZK:i-05e2b8d4a1c9f7036",
 "arn":"arn:aws:sts::240917365018:assumed-role/privpath-lab-ec2/i-05e2b8d4a1c9f7036","accountId":"240917365018",
 "sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROATXE4EXAMPLE7Q2ZK",
 "arn":"arn:aws:iam::240917365018:role/privpath-lab-ec2","accountId":"240917365018","userName":"privpath-lab-ec2"},
 "attributes":{"creationDate":"2026-11-25T13:02:11Z","mfaAuthenticated":"false"},"ec2RoleDelivery":"2.0"}},
 "eventTime":"2026-11-25T13:40:03Z","eventSource":"cloudformation.amazonaws.com","eventName":"DescribeStacks",
 "awsRegion":"ap-northeast-2","sourceIPAddress":"10.0.1.148","userAgent":"aws-cli/2.22.4 ua/2.1 os/linux#6.1",
 "requestParameters":null,"responseElements":null,"requestID":"6f1c2b0e-0d43-4b7a-9c52-3e8f0a1d2b44",
 "eventID":"0b5d7a3e-2f61-4c88-b0a4-7e2c9d1f6a35","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,
 "recipientAccountId":"240917365018","vpcEndpointId":"vpce-04b9d1f7a3c5e2860","eventCategory":"Management",
 "tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"cloudformation.ap-northeast-2.amazonaws.com"}}"#;

    /// §2.4 (e), the real network activity event, verbatim.
    pub const EXAMPLE_E: &str = r#"{"eventVersion":"1.11","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::012345678910:assumed-role/admin/user@domain.com","accountId":"012345678910"},"eventTime":"2025-02-26T16:41:35Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"us-east-1","sourceIPAddress":"10.0.141.54","eventID":"33980b64-2ce1-471d-856c-376497e887bb","eventType":"AwsVpceEvent","recipientAccountId":"012345678910","sharedEventID":"735fbea7-a934-43f7-a926-355589c59007","vpcEndpointId":"vpce-03y53r4ukkkuygzg0","vpcEndpointAccountId":"012345678910","eventCategory":"NetworkActivity"}"#;

    /// §2.4 (b): (a) as an S3 GetObject data event via the gateway endpoint.
    pub fn example_b() -> String {
        EXAMPLE_A
            .replace("\"cloudformation.amazonaws.com\"", "\"s3.amazonaws.com\"")
            .replace("\"DescribeStacks\"", "\"GetObject\"")
            .replace("\"Management\"", "\"Data\"")
            .replace("\"managementEvent\":true", "\"managementEvent\":false")
            .replace("vpce-04b9d1f7a3c5e2860", "vpce-0e5a3c7d9b1f24680")
            .replace(
                "\"requestParameters\":null",
                r#""requestParameters":{"bucketName":"lab-artifacts","Host":"lab-artifacts.s3.ap-northeast-2.amazonaws.com","key":"build/app.tar.gz"},"additionalEventData":{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"…","bytesTransferredOut":52428800},"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::lab-artifacts/build/app.tar.gz"},{"accountId":"240917365018","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::lab-artifacts"}]"#,
            )
    }

    /// §2.4 (c): (a) via the NAT: the NAT's EIP, no vpcEndpointId.
    pub fn example_c() -> String {
        EXAMPLE_A
            .replace(
                "\"sourceIPAddress\":\"10.0.1.148\"",
                "\"sourceIPAddress\":\"43.200.5.18\"",
            )
            .replace(",\"vpcEndpointId\":\"vpce-04b9d1f7a3c5e2860\"", "")
    }

    #[test]
    fn cloudtrail_example_a_parses_every_path_field() {
        let c = parse_record(EXAMPLE_A.as_bytes(), P).unwrap();
        assert_eq!(
            c,
            ApiCall {
                time: 1_795_614_003,
                service: "cloudformation".into(),
                event_name: "DescribeStacks".into(),
                source_ip: "10.0.1.148".into(),
                source_addr: Some("10.0.1.148".parse().unwrap()),
                principal:
                    "arn:aws:sts::240917365018:assumed-role/privpath-lab-ec2/i-05e2b8d4a1c9f7036"
                        .into(),
                identity_type: Some("AssumedRole".into()),
                invoked_by: None,
                vpc_endpoint_id: Some("vpce-04b9d1f7a3c5e2860".into()),
                vpc_endpoint_account_id: None,
                event_category: Some("Management".into()),
                event_type: Some("AwsApiCall".into()),
                error_code: None,
                region: Some("ap-northeast-2".into()),
                event_id: Some("0b5d7a3e-2f61-4c88-b0a4-7e2c9d1f6a35".into()),
                provenance: P,
            }
        );
        assert!(looks_like_record(EXAMPLE_A.as_bytes()));
    }

    #[test]
    fn cloudtrail_examples_b_c_e_parse() {
        let b = parse_record(example_b().as_bytes(), P).unwrap();
        assert_eq!(
            (
                b.service.as_str(),
                b.event_name.as_str(),
                b.event_category.as_deref()
            ),
            ("s3", "GetObject", Some("Data"))
        );
        assert_eq!(b.vpc_endpoint_id.as_deref(), Some("vpce-0e5a3c7d9b1f24680"));
        let c = parse_record(example_c().as_bytes(), P).unwrap();
        assert_eq!(
            (c.source_ip.as_str(), c.vpc_endpoint_id),
            ("43.200.5.18", None)
        );
        let e = parse_record(EXAMPLE_E.as_bytes(), P).unwrap();
        assert!(e.is_network_activity());
        assert_eq!(e.vpc_endpoint_account_id.as_deref(), Some("012345678910"));
        assert_eq!(e.vpc_endpoint_id.as_deref(), Some("vpce-03y53r4ukkkuygzg0"));
        assert_eq!(
            e.principal,
            "arn:aws:sts::012345678910:assumed-role/admin/user@domain.com"
        );
        assert_eq!(e.time, 1_740_588_095);
        assert!(!e.denied());
        let denied = parse_record(
            EXAMPLE_E
                .replace(
                    "\"eventCategory\"",
                    "\"errorCode\":\"VpceAccessDenied\",\"eventCategory\"",
                )
                .as_bytes(),
            P,
        )
        .unwrap();
        assert!(denied.denied());
    }

    #[test]
    fn cloudtrail_aws_service_principals_and_lookup_strings() {
        let svc = r#"{"eventVersion":"1.08","userIdentity":{"type":"AWSService","invokedBy":"cloudformation.amazonaws.com"},"eventTime":"2026-11-25T13:40:03Z","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","sourceIPAddress":"cloudformation.amazonaws.com"}"#;
        let c = parse_record(svc.as_bytes(), P).unwrap();
        assert_eq!(
            (c.principal.as_str(), c.source_addr, c.invoked_by.as_deref()),
            (
                "cloudformation.amazonaws.com",
                None,
                Some("cloudformation.amazonaws.com")
            )
        );
        let item = serde_json::json!({"EventId": "x", "EventName": "DescribeStacks", "CloudTrailEvent": EXAMPLE_A}).to_string();
        let c = parse_lookup_item(item.as_bytes(), P).unwrap();
        assert_eq!(c.event_name, "DescribeStacks");
        let bad = r#"{"EventId": "x", "CloudTrailEvent": "{not json"}"#;
        let e = parse_lookup_item(bad.as_bytes(), P).unwrap_err();
        assert!(
            e.detail
                .starts_with("'CloudTrailEvent' is not a JSON record: invalid json"),
            "{}",
            e.detail
        );
        let e = parse_lookup_item(br#"{"EventId": "x"}"#, P).unwrap_err();
        assert_eq!(e.detail, "missing field 'CloudTrailEvent'");
        let e = parse_record(br#"{"eventVersion":"2.0","eventTime":"x"}"#, P).unwrap_err();
        assert_eq!(e.reason, "unsupported version");
        let e = parse_record(
            br#"{"eventVersion":"1.0","eventSource":"s3.amazonaws.com"}"#,
            P,
        )
        .unwrap_err();
        assert_eq!(e.detail, "missing field 'eventTime'");
    }
}
