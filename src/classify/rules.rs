//! Small pure helpers of the classifier: flow time, route target → path,
//! outcome from a single record, the traffic-path cross-check, service names.

use crate::flow::{Action, Flow, Handshake};
use crate::topology::{Millis, RouteTarget, TargetKind};

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
    path_of_kind(t.kind())
}

/// The path a winning route's target kind means.
#[inline]
pub fn path_of_kind(t: TargetKind) -> PathClass {
    match t {
        TargetKind::Local => PathClass::Local,
        TargetKind::InternetGateway | TargetKind::EgressOnlyInternetGateway => {
            PathClass::InternetGateway
        }
        TargetKind::GatewayEndpoint => PathClass::GatewayEndpoint,
        TargetKind::NatGateway => PathClass::NatGateway,
        TargetKind::VpcPeering => PathClass::Peering,
        TargetKind::TransitGateway => PathClass::TransitGateway,
        TargetKind::VirtualPrivateGateway => PathClass::VirtualPrivateGateway,
        TargetKind::NetworkInterface | TargetKind::Instance | TargetKind::Other => {
            PathClass::Unknown
        }
    }
}

/// `reject-reason` of a v8+ record (kept in `extra`).
pub fn reject_reason(flow: &Flow) -> Option<&str> {
    flow.extra
        .iter()
        .find(|(k, v)| (k == "reject_reason" || k == "reject-reason") && v != "-")
        .map(|(_, v)| v.as_str())
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

pub use crate::topology::service_of_label;

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
