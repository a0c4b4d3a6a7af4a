//! Small pure helpers of the classifier: flow time, route target → path,
//! outcome from a single record, the traffic-path cross-check, service names.

use crate::flow::{Action, Flow, Handshake, Text};
use crate::topology::{Millis, TargetKind};

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

/// The path a winning route's target kind means (a table: see
/// [`TRAFFIC_PATH_AGREES`]).
#[inline]
pub fn path_of_kind(t: TargetKind) -> PathClass {
    // In `TargetKind` order (a test checks every kind).
    const PATH: [PathClass; 11] = [
        PathClass::Local,
        PathClass::InternetGateway,
        PathClass::InternetGateway,
        PathClass::GatewayEndpoint,
        PathClass::NatGateway,
        PathClass::Peering,
        PathClass::TransitGateway,
        PathClass::VirtualPrivateGateway,
        PathClass::Unknown,
        PathClass::Unknown,
        PathClass::Unknown,
    ];
    PATH.get(t as usize).copied().unwrap_or(PathClass::Unknown)
}

/// `reject-reason` of a v8+ record (kept in `extra`).
pub fn reject_reason(flow: &Flow) -> Option<&Text> {
    flow.extra
        .iter()
        .find(|(k, v)| (k == "reject_reason" || k == "reject-reason") && v != "-")
        .map(|(_, v)| v)
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

/// What each `traffic-path` code means (index = code; 0 is unused).
const TRAFFIC_PATH_MEANING: [&str; 9] = [
    "unknown code",
    "same vpc",
    "internet gateway or gateway endpoint",
    "virtual private gateway",
    "intra-region peering",
    "inter-region peering",
    "local gateway",
    "gateway endpoint",
    "internet gateway",
];

/// What a `traffic-path` code means.
pub fn traffic_path_meaning(code: u8) -> &'static str {
    TRAFFIC_PATH_MEANING
        .get(usize::from(code))
        .copied()
        .unwrap_or("unknown code")
}

/// The paths each `traffic-path` code agrees with, as a bit set of
/// `PathClass` discriminants (index = code; 0 for codes that cannot be
/// checked). Tables, not `match`es: the classifier runs this per flow, and
/// a jump on input-dependent values is a branch the CPU mispredicts.
const TRAFFIC_PATH_AGREES: [u16; 9] = {
    use PathClass as P;
    const fn bit(p: P) -> u16 {
        1 << p as u16
    }
    [
        0,
        bit(P::InterfaceEndpoint) | bit(P::NatGateway) | bit(P::Local),
        bit(P::InternetGateway) | bit(P::GatewayEndpoint),
        bit(P::VirtualPrivateGateway),
        bit(P::Peering),
        bit(P::Peering),
        0,
        bit(P::GatewayEndpoint),
        bit(P::InternetGateway),
    ]
};

/// Compare a logged `traffic-path` with the replayed path.
#[inline]
pub fn check_traffic_path(code: u8, path: PathClass) -> TrafficPathCheck {
    let agrees_with = TRAFFIC_PATH_AGREES
        .get(usize::from(code))
        .copied()
        .unwrap_or(0);
    let verdict = if path == PathClass::Unknown || agrees_with == 0 {
        TrafficPathVerdict::Unverifiable
    } else if agrees_with & (1 << path as u16) == 0 {
        TrafficPathVerdict::Disagrees
    } else if code == 2 {
        TrafficPathVerdict::AmbiguousResolved
    } else {
        TrafficPathVerdict::Agrees
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
    fn path_of_kind_table_follows_target_kind_order() {
        use PathClass as P;
        use TargetKind as K;
        let rows = [
            (K::Local, P::Local),
            (K::InternetGateway, P::InternetGateway),
            (K::EgressOnlyInternetGateway, P::InternetGateway),
            (K::GatewayEndpoint, P::GatewayEndpoint),
            (K::NatGateway, P::NatGateway),
            (K::VpcPeering, P::Peering),
            (K::TransitGateway, P::TransitGateway),
            (K::VirtualPrivateGateway, P::VirtualPrivateGateway),
            (K::NetworkInterface, P::Unknown),
            (K::Instance, P::Unknown),
            (K::Other, P::Unknown),
        ];
        for (k, want) in rows {
            assert_eq!(path_of_kind(k), want, "{k:?}");
        }
    }

    #[test]
    fn check_traffic_path_of_unknown_codes_is_unverifiable() {
        for code in [0, 6, 9, 200] {
            let c = check_traffic_path(code, PathClass::InternetGateway);
            assert_eq!(c.verdict, TrafficPathVerdict::Unverifiable, "{code}");
        }
        assert_eq!(traffic_path_meaning(200), "unknown code");
        assert_eq!(traffic_path_meaning(7), "gateway endpoint");
    }

    #[test]
    fn service_of_label_maps_generic_ranges_to_aws() {
        assert_eq!(service_of_label("S3"), "s3");
        assert_eq!(service_of_label("AMAZON"), "aws");
        assert_eq!(service_of_label("EC2"), "aws");
        assert_eq!(service_of_label("DYNAMODB"), "dynamodb");
    }
}
