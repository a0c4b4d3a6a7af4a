//! Small pure helpers of the classifier: flow time, route target → path,
//! outcome from a single record, the traffic-path cross-check, service names.

use crate::flow::{Action, Flow, Handshake};
use crate::topology::{Millis, RouteTarget, Text};

use super::{Outcome, PathClass, TrafficPathCheck, TrafficPathVerdict};

/// The flow's start in Unix milliseconds (end when no start).
#[inline]
pub fn flow_time(flow: &Flow) -> Option<Millis> {
    let (secs, nanos) = match (flow.start, flow.end) {
        (Some(s), _) => (s, flow.start_nanos),
        (None, Some(e)) => (e, flow.end_nanos),
        (None, None) => return None,
    };
    let secs = i64::try_from(secs).ok()?;
    secs.checked_mul(1000)?
        .checked_add(i64::from(nanos / 1_000_000))
}

/// The flow's end in Unix milliseconds (start when no end).
#[inline]
pub fn flow_end_time(flow: &Flow) -> Option<Millis> {
    let (secs, nanos) = match (flow.end, flow.start) {
        (Some(e), _) => (e, flow.end_nanos),
        (None, Some(s)) => (s, flow.start_nanos),
        (None, None) => return None,
    };
    let secs = i64::try_from(secs).ok()?;
    secs.checked_mul(1000)?
        .checked_add(i64::from(nanos / 1_000_000))
}

/// The path a winning route's target means.
#[inline]
pub fn path_of_target(t: &RouteTarget) -> PathClass {
    match t {
        RouteTarget::Local => PathClass::Local,
        RouteTarget::InternetGateway(_) | RouteTarget::EgressOnlyInternetGateway(_) => {
            PathClass::InternetGateway
        }
        RouteTarget::GatewayEndpoint(_) => PathClass::GatewayEndpoint,
        RouteTarget::NatGateway(_) => PathClass::NatGateway,
        RouteTarget::VpcPeering(_) => PathClass::Peering,
        RouteTarget::TransitGateway(_) => PathClass::TransitGateway,
        RouteTarget::VirtualPrivateGateway(_) => PathClass::VirtualPrivateGateway,
        RouteTarget::NetworkInterface(_) | RouteTarget::Instance(_) | RouteTarget::Other(_) => {
            PathClass::Unknown
        }
    }
}

/// `reject-reason` of a v8+ record (kept in `extra`).
pub fn reject_reason(flow: &Flow) -> Option<Text> {
    flow.extra
        .iter()
        .find(|(k, v)| (k == "reject_reason" || k == "reject-reason") && v != "-")
        .map(|(_, v)| v.clone())
}

/// What one record alone says about the outcome. Flow-log records give
/// `Unknown` (answered or not needs the reply pairing of
/// [`super::classify_conversations`]); captures know their handshake.
#[inline]
pub fn outcome_of(flow: &Flow) -> Outcome {
    if flow.action == Some(Action::Reject) {
        return Outcome::Rejected;
    }
    let Some(cap) = flow.capture.as_deref() else {
        return Outcome::Unknown;
    };
    if cap.echo_requests > 0 {
        return if cap.echo_replies == 0 {
            Outcome::Unanswered
        } else {
            Outcome::Answered
        };
    }
    match cap.handshake {
        Some(Handshake::SynOnly) => Outcome::Unanswered,
        Some(Handshake::Completed | Handshake::Reset | Handshake::NotSeen) => Outcome::Answered,
        None => Outcome::Unknown,
    }
}

/// What a `traffic-path` code means.
pub fn traffic_path_meaning(code: u8) -> &'static str {
    match code {
        1 => "same vpc",
        2 => "internet gateway or gateway endpoint",
        3 => "virtual private gateway",
        4 => "intra-region peering",
        5 => "inter-region peering",
        6 => "local gateway",
        7 => "gateway endpoint",
        8 => "internet gateway",
        _ => "unknown code",
    }
}

/// Compare a logged `traffic-path` with the replayed path.
pub fn check_traffic_path(code: u8, path: PathClass) -> TrafficPathCheck {
    use PathClass as P;
    let verdict = if matches!(path, P::Unknown) {
        TrafficPathVerdict::Unverifiable
    } else {
        let agrees = match code {
            1 => matches!(path, P::InterfaceEndpoint | P::NatGateway | P::Local),
            2 => matches!(path, P::InternetGateway | P::GatewayEndpoint),
            3 => matches!(path, P::VirtualPrivateGateway),
            4 | 5 => matches!(path, P::Peering),
            7 => matches!(path, P::GatewayEndpoint),
            8 => matches!(path, P::InternetGateway),
            _ => {
                return TrafficPathCheck {
                    code,
                    logged: traffic_path_meaning(code),
                    replayed: path,
                    verdict: TrafficPathVerdict::Unverifiable,
                };
            }
        };
        match (agrees, code) {
            (true, 2) => TrafficPathVerdict::AmbiguousResolved,
            (true, _) => TrafficPathVerdict::Agrees,
            (false, _) => TrafficPathVerdict::Disagrees,
        }
    };
    TrafficPathCheck {
        code,
        logged: traffic_path_meaning(code),
        replayed: path,
        verdict,
    }
}

/// The privpath service of an ip-ranges / `pkt-dst-aws-service` label:
/// `S3` → `s3`, `DYNAMODB` → `dynamodb`; `AMAZON` and `EC2` say only "some
/// AWS address" → `aws`; other labels lower-cased (`CLOUDFRONT` → `cloudfront`).
pub fn service_of_label(label: &str) -> Text {
    if label.eq_ignore_ascii_case("AMAZON") || label.eq_ignore_ascii_case("EC2") {
        Text::const_new("aws")
    } else {
        // Inline (no allocation) for labels up to 24 bytes.
        let mut t = Text::from(label);
        t.make_ascii_lowercase();
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_traffic_path_table() {
        use PathClass as P;
        use TrafficPathVerdict as V;
        let rows = [
            (7, P::GatewayEndpoint, V::Agrees),
            (7, P::InternetGateway, V::Disagrees),
            (8, P::InternetGateway, V::Agrees),
            (8, P::GatewayEndpoint, V::Disagrees),
            (8, P::NoRoute, V::Disagrees),
            (1, P::InterfaceEndpoint, V::Agrees),
            (1, P::NatGateway, V::Agrees),
            (1, P::InternetGateway, V::Disagrees),
            (2, P::GatewayEndpoint, V::AmbiguousResolved),
            (2, P::InternetGateway, V::AmbiguousResolved),
            (2, P::NatGateway, V::Disagrees),
            (4, P::Peering, V::Agrees),
            (3, P::VirtualPrivateGateway, V::Agrees),
            (8, P::Unknown, V::Unverifiable),
            (6, P::Local, V::Unverifiable),
        ];
        for (code, path, want) in rows {
            assert_eq!(
                check_traffic_path(code, path).verdict,
                want,
                "code {code} vs {path:?}"
            );
        }
    }

    #[test]
    fn flow_time_uses_start_then_end() {
        let mut f = Flow {
            start: Some(10),
            start_nanos: 5_000_000,
            end: Some(20),
            ..Flow::default()
        };
        assert_eq!(flow_time(&f), Some(10_005));
        assert_eq!(flow_end_time(&f), Some(20_000));
        f.start = None;
        assert_eq!(flow_time(&f), Some(20_000));
        f.start = Some(u64::MAX);
        assert_eq!(flow_time(&f), None);
    }

    #[test]
    fn service_of_label_maps_generic_ranges_to_aws() {
        assert_eq!(service_of_label("S3"), "s3");
        assert_eq!(service_of_label("AMAZON"), "aws");
        assert_eq!(service_of_label("EC2"), "aws");
        assert_eq!(service_of_label("DYNAMODB"), "dynamodb");
    }
}
