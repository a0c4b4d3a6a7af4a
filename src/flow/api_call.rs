//! API calls CloudTrail recorded: the evidence of one call's path (the
//! caller's source address, the VPC endpoint it came through) and who made it.

use std::net::IpAddr;

use serde::Serialize;

use super::{Provenance, Text};

/// One CloudTrail record, reduced to what the path and the report need.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ApiCall {
    /// `eventTime`, unix seconds.
    pub time: u64,
    /// `eventSource` without `.amazonaws.com` (`cloudformation`, `s3`).
    pub service: Text,
    pub event_name: Text,
    /// `sourceIPAddress` as logged (an address, a service name, `AWS Internal`).
    pub source_ip: String,
    /// `sourceIPAddress` when it is an address.
    pub source_addr: Option<IpAddr>,
    /// `userIdentity.arn`, else `principalId`, else `invokedBy`, else `type`.
    pub principal: String,
    /// `userIdentity.type` (`AssumedRole`, `AWSService`, …).
    pub identity_type: Option<Text>,
    /// `userIdentity.invokedBy`: an AWS service calling on the user's behalf.
    pub invoked_by: Option<Text>,
    pub vpc_endpoint_id: Option<Text>,
    pub vpc_endpoint_account_id: Option<Text>,
    /// `Management`, `Data`, `NetworkActivity`, `Insight`.
    pub event_category: Option<Text>,
    /// `AwsApiCall`, `AwsVpceEvent`, …
    pub event_type: Option<Text>,
    /// `errorCode` (`VpceAccessDenied`, `AccessDenied`, …).
    pub error_code: Option<Text>,
    pub region: Option<Text>,
    /// `eventID`: the same call delivered twice (S3 and lookup-events) is
    /// counted once.
    pub event_id: Option<Text>,
    /// Where it was read: the input and the 1-based line or element.
    pub provenance: Provenance,
}

impl ApiCall {
    /// Recorded by a network activity event (`eventCategory` NetworkActivity).
    pub fn is_network_activity(&self) -> bool {
        self.event_category.as_deref() == Some("NetworkActivity")
            || self.event_type.as_deref() == Some("AwsVpceEvent")
    }

    /// The endpoint's policy (or an IAM policy) refused the call.
    pub fn denied(&self) -> bool {
        self.error_code
            .as_deref()
            .is_some_and(|c| c.contains("AccessDenied") || c == "UnauthorizedOperation")
    }
}
