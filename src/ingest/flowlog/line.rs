//! One flow-log record line into a [`Flow`]: split on bytes, typed by the
//! [`FieldPlan`], no allocation beyond the inline `CompactString`s.

use std::net::IpAddr;

use memchr::memchr2;

use super::fields::FieldId;
use super::header::{FieldPlan, Slot};
use crate::flow::{
    Action, ContextField, ContextFields, Direction, Flow, LogStatus, RecordContext, Text,
};

/// Why a value could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueError {
    InvalidNumber,
    OutOfRange,
    InvalidAddress,
    InvalidValue,
}

impl ValueError {
    pub fn as_str(self) -> &'static str {
        match self {
            ValueError::InvalidNumber => "invalid number",
            ValueError::OutOfRange => "number out of range",
            ValueError::InvalidAddress => "invalid address",
            ValueError::InvalidValue => "invalid value",
        }
    }
}

/// Why a record line was rejected. The `Display` text follows
/// `field 'dstport': invalid number "http"`; [`LineError::reason`] is the
/// key the tally counts under.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("too few fields: expected {expected}, found {found}")]
    TooFew { expected: usize, found: usize },
    #[error("too many fields: expected {expected}, found {found}")]
    TooMany { expected: usize, found: usize },
    #[error("field '{field}': {} \"{value}\"", kind.as_str())]
    Field {
        field: &'static str,
        kind: ValueError,
        /// The offending token, sanitised and clipped.
        value: String,
    },
    #[error("invalid json: {0}")]
    Json(String),
    #[error("invalid utf-8")]
    Utf8,
}

impl LineError {
    /// The tally key: `too few fields`, `invalid number`, …
    pub fn reason(&self) -> &'static str {
        match self {
            LineError::TooFew { .. } => "too few fields",
            LineError::TooMany { .. } => "too many fields",
            LineError::Field { kind, .. } => kind.as_str(),
            LineError::Json(_) => "invalid json",
            LineError::Utf8 => "invalid utf-8",
        }
    }
}

/// Iterator over space- or tab-separated tokens; runs of separators count
/// as one (the AWS docs themselves contain a double space).
struct Tokens<'a> {
    rest: &'a [u8],
    s: &'a str,
    pos: usize,
}

impl<'a> Tokens<'a> {
    fn new(s: &'a str) -> Self {
        Tokens {
            rest: s.as_bytes(),
            s,
            pos: 0,
        }
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = &'a str;

    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let (len, skip) = match memchr2(b' ', b'\t', self.rest) {
                Some(i) => (i, i + 1),
                None => (self.rest.len(), self.rest.len()),
            };
            let start = self.pos;
            self.pos += skip;
            self.rest = self.rest.get(skip..).unwrap_or_default();
            if len > 0 {
                // Separators are ASCII, so these are char boundaries.
                return self.s.get(start..start + len);
            }
        }
    }
}

/// Count the tokens of a line (for the error message of a bad line).
pub fn count_tokens(line: &str) -> usize {
    Tokens::new(line).count()
}

/// Parse one record (already stripped of CR/LF and wrappers) with `plan`.
/// NODATA/SKIPDATA rows parse fine: the caller tallies them.
pub fn parse_line(line: &str, plan: &FieldPlan) -> Result<Flow, LineError> {
    let mut flow = Flow::default();
    parse_line_into(line, plan, &mut flow)?;
    Ok(flow)
}

/// Like [`parse_line`], filling `flow` (which should be `Flow::default()`).
pub fn parse_line_into(line: &str, plan: &FieldPlan, flow: &mut Flow) -> Result<(), LineError> {
    let mut ctx = RecordContext::default();
    parse_line_with(line, plan, flow, &mut ctx)?;
    flow.context = ctx.shared();
    Ok(())
}

/// Like [`parse_line_into`], with the record's context fields written to
/// `ctx` (which should be empty) instead of a context of the flow's own: the
/// caller shares it (see [`crate::flow::ContextCache`]).
pub(crate) fn parse_line_with<C: ContextFields>(
    line: &str,
    plan: &FieldPlan,
    flow: &mut Flow,
    ctx: &mut C,
) -> Result<(), LineError> {
    let slots = plan.slots();
    let mut tokens = Tokens::new(line);
    let mut n = 0usize;
    for slot in slots {
        let Some(tok) = tokens.next() else {
            return Err(LineError::TooFew {
                expected: slots.len(),
                found: n,
            });
        };
        n += 1;
        if let Err(kind) = set_field(flow, ctx, *slot, tok, plan) {
            let found = count_tokens(line);
            if found != slots.len() {
                return Err(count_error(slots.len(), found));
            }
            return Err(LineError::Field {
                field: slot_name(*slot),
                kind,
                value: crate::error::sanitize(tok, 40),
            });
        }
    }
    if tokens.next().is_some() {
        return Err(count_error(slots.len(), count_tokens(line)));
    }
    Ok(())
}

fn count_error(expected: usize, found: usize) -> LineError {
    if found < expected {
        LineError::TooFew { expected, found }
    } else {
        LineError::TooMany { expected, found }
    }
}

fn slot_name(slot: Slot) -> &'static str {
    match slot {
        Slot::Typed(id) => id.aws_name(),
        Slot::Extra(_) => "extra",
    }
}

/// Set one field from its token. `-` means absent.
#[inline(always)]
pub(crate) fn set_field<C: ContextFields>(
    flow: &mut Flow,
    ctx: &mut C,
    slot: Slot,
    tok: &str,
    plan: &FieldPlan,
) -> Result<(), ValueError> {
    if tok == "-" {
        return Ok(());
    }
    let id = match slot {
        Slot::Typed(id) => id,
        Slot::Extra(i) => {
            if let Some(col) = plan.extra_columns().get(usize::from(i)) {
                flow.extra.push((Text::new(col), Text::new(tok)));
            }
            return Ok(());
        }
    };
    set_typed(flow, ctx, id, tok)
}

/// Set one typed field from a present (non-`-`) token; the context fields
/// go to `ctx`.
#[inline(always)]
pub(crate) fn set_typed<C: ContextFields>(
    flow: &mut Flow,
    ctx: &mut C,
    id: FieldId,
    tok: &str,
) -> Result<(), ValueError> {
    match id {
        FieldId::Version => flow.version = Some(int(tok)?),
        FieldId::AccountId => ctx.set(ContextField::AccountId, tok),
        FieldId::InterfaceId => flow.interface_id = Some(Text::new(tok)),
        FieldId::SrcAddr => flow.src_addr = Some(addr(tok)?),
        FieldId::DstAddr => flow.dst_addr = Some(addr(tok)?),
        FieldId::SrcPort => flow.src_port = Some(int(tok)?),
        FieldId::DstPort => flow.dst_port = Some(int(tok)?),
        FieldId::Protocol => flow.protocol = Some(int(tok)?),
        FieldId::Packets => flow.packets = Some(parse_u64(tok)?),
        FieldId::Bytes => flow.bytes = Some(parse_u64(tok)?),
        FieldId::Start => flow.start = Some(parse_u64(tok)?),
        FieldId::End => flow.end = Some(parse_u64(tok)?),
        FieldId::Action => {
            flow.action = Some(match tok {
                "ACCEPT" => Action::Accept,
                "REJECT" => Action::Reject,
                _ => return Err(ValueError::InvalidValue),
            })
        }
        FieldId::LogStatus => {
            flow.log_status = Some(match tok {
                "OK" => LogStatus::Ok,
                "NODATA" => LogStatus::NoData,
                "SKIPDATA" => LogStatus::SkipData,
                _ => return Err(ValueError::InvalidValue),
            })
        }
        FieldId::VpcId => ctx.set(ContextField::VpcId, tok),
        FieldId::SubnetId => ctx.set(ContextField::SubnetId, tok),
        FieldId::InstanceId => ctx.set(ContextField::InstanceId, tok),
        FieldId::TcpFlags => flow.tcp_flags = Some(int(tok)?),
        FieldId::Type => ctx.set(ContextField::FlowType, tok),
        FieldId::PktSrcAddr => flow.pkt_src_addr = Some(addr(tok)?),
        FieldId::PktDstAddr => flow.pkt_dst_addr = Some(addr(tok)?),
        FieldId::Region => ctx.set(ContextField::Region, tok),
        FieldId::AzId => ctx.set(ContextField::AzId, tok),
        FieldId::SublocationType => ctx.set(ContextField::SublocationType, tok),
        FieldId::SublocationId => ctx.set(ContextField::SublocationId, tok),
        FieldId::PktSrcAwsService => flow.pkt_src_aws_service = Some(Text::new(tok)),
        FieldId::PktDstAwsService => flow.pkt_dst_aws_service = Some(Text::new(tok)),
        FieldId::FlowDirection => {
            flow.flow_direction = Some(match tok {
                "ingress" => Direction::Ingress,
                "egress" => Direction::Egress,
                _ => return Err(ValueError::InvalidValue),
            })
        }
        FieldId::TrafficPath => flow.traffic_path = Some(int(tok)?),
    }
    Ok(())
}

/// Decimal digits only (no sign, no spaces), checked against overflow.
#[inline]
pub fn parse_u64(tok: &str) -> Result<u64, ValueError> {
    let b = tok.as_bytes();
    if b.is_empty() {
        return Err(ValueError::InvalidNumber);
    }
    let mut v: u64 = 0;
    let mut overflow = false;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return Err(ValueError::InvalidNumber);
        }
        match v.checked_mul(10).and_then(|x| x.checked_add(u64::from(d))) {
            Some(x) => v = x,
            None => overflow = true,
        }
    }
    if overflow {
        Err(ValueError::OutOfRange)
    } else {
        Ok(v)
    }
}

#[inline]
fn int<T: TryFrom<u64>>(tok: &str) -> Result<T, ValueError> {
    T::try_from(parse_u64(tok)?).map_err(|_| ValueError::OutOfRange)
}

/// IPv4 (fast path) or IPv6.
#[inline]
pub fn addr(tok: &str) -> Result<IpAddr, ValueError> {
    if let Some(v4) = parse_ipv4(tok.as_bytes()) {
        return Ok(IpAddr::V4(v4));
    }
    tok.parse::<IpAddr>()
        .map_err(|_| ValueError::InvalidAddress)
}

/// Dotted quad without leading zeros beyond one digit group of up to 3 digits;
/// `None` sends the token to the std parser (which decides validity).
#[inline]
fn parse_ipv4(b: &[u8]) -> Option<std::net::Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut part = 0usize;
    let mut val: u16 = 0;
    let mut digits = 0u8;
    for &c in b {
        if c == b'.' {
            if digits == 0 {
                return None;
            }
            *octets.get_mut(part)? = u8::try_from(val).ok()?;
            part += 1;
            val = 0;
            digits = 0;
        } else {
            let d = c.wrapping_sub(b'0');
            if d > 9 || digits == 3 {
                return None;
            }
            if digits == 1 && val == 0 {
                return None; // leading zero: let std reject it
            }
            val = val * 10 + u16::from(d);
            digits += 1;
        }
    }
    if part != 3 || digits == 0 {
        return None;
    }
    *octets.get_mut(3)? = u8::try_from(val).ok()?;
    Some(std::net::Ipv4Addr::from(octets))
}

/// Render `flow` as a record line in `plan`'s layout (`-` for absent
/// values): the inverse of [`parse_line`], used by tests, benches and
/// generators.
pub fn render_line(flow: &Flow, plan: &FieldPlan) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(160);
    for (i, slot) in plan.slots().iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let start = out.len();
        match *slot {
            Slot::Extra(x) => {
                let col = plan.extra_columns().get(usize::from(x));
                if let Some((_, v)) = flow
                    .extra
                    .iter()
                    .find(|(k, _)| Some(k.as_str()) == col.map(String::as_str))
                {
                    out.push_str(v);
                }
            }
            Slot::Typed(id) => {
                let _ = match id {
                    FieldId::Version => opt(&mut out, flow.version),
                    FieldId::AccountId => opt(&mut out, flow.context().account_id.as_ref()),
                    FieldId::InterfaceId => opt(&mut out, flow.interface_id.as_ref()),
                    FieldId::SrcAddr => opt(&mut out, flow.src_addr),
                    FieldId::DstAddr => opt(&mut out, flow.dst_addr),
                    FieldId::SrcPort => opt(&mut out, flow.src_port),
                    FieldId::DstPort => opt(&mut out, flow.dst_port),
                    FieldId::Protocol => opt(&mut out, flow.protocol),
                    FieldId::Packets => opt(&mut out, flow.packets),
                    FieldId::Bytes => opt(&mut out, flow.bytes),
                    FieldId::Start => opt(&mut out, flow.start),
                    FieldId::End => opt(&mut out, flow.end),
                    FieldId::Action => opt(&mut out, flow.action.map(Action::as_str)),
                    FieldId::LogStatus => opt(&mut out, flow.log_status.map(LogStatus::as_str)),
                    FieldId::VpcId => opt(&mut out, flow.context().vpc_id.as_ref()),
                    FieldId::SubnetId => opt(&mut out, flow.context().subnet_id.as_ref()),
                    FieldId::InstanceId => opt(&mut out, flow.context().instance_id.as_ref()),
                    FieldId::TcpFlags => opt(&mut out, flow.tcp_flags),
                    FieldId::Type => opt(&mut out, flow.context().flow_type.as_ref()),
                    FieldId::PktSrcAddr => opt(&mut out, flow.pkt_src_addr),
                    FieldId::PktDstAddr => opt(&mut out, flow.pkt_dst_addr),
                    FieldId::Region => opt(&mut out, flow.context().region.as_ref()),
                    FieldId::AzId => opt(&mut out, flow.context().az_id.as_ref()),
                    FieldId::SublocationType => {
                        opt(&mut out, flow.context().sublocation_type.as_ref())
                    }
                    FieldId::SublocationId => opt(&mut out, flow.context().sublocation_id.as_ref()),
                    FieldId::PktSrcAwsService => opt(&mut out, flow.pkt_src_aws_service.as_ref()),
                    FieldId::PktDstAwsService => opt(&mut out, flow.pkt_dst_aws_service.as_ref()),
                    FieldId::FlowDirection => {
                        opt(&mut out, flow.flow_direction.map(Direction::as_str))
                    }
                    FieldId::TrafficPath => opt(&mut out, flow.traffic_path),
                };
            }
        }
        if out.len() == start {
            out.push('-');
        }
    }
    fn opt<T: std::fmt::Display>(out: &mut String, v: Option<T>) -> std::fmt::Result {
        match v {
            Some(v) => write!(out, "{v}"),
            None => Ok(()),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    fn v2() -> FieldPlan {
        FieldPlan::default_v2()
    }

    #[test]
    fn parse_line_v2_accept_record_is_typed() {
        let f = parse_line(
            "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
            &v2(),
        )
        .unwrap();
        assert_eq!(f.version, Some(2));
        assert_eq!(f.context().account_id.as_deref(), Some("123456789010"));
        assert_eq!(f.src_addr, Some("172.31.16.139".parse().unwrap()));
        assert_eq!(f.dst_port, Some(22));
        assert_eq!(f.protocol, Some(6));
        assert_eq!(f.bytes, Some(4249));
        assert_eq!(f.end, Some(1418530070));
        assert_eq!(f.action, Some(Action::Accept));
        assert_eq!(f.log_status, Some(LogStatus::Ok));
    }

    #[test]
    fn parse_line_dash_is_absent_and_nodata_parses() {
        let f = parse_line(
            "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA",
            &v2(),
        )
        .unwrap();
        assert_eq!(f.src_addr, None);
        assert_eq!(f.packets, None);
        assert_eq!(f.action, None);
        assert!(f.is_status_only());
    }

    #[test]
    fn parse_line_bad_number_names_field_and_value() {
        let e = parse_line(
            "2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 http 6 20 4249 1 2 ACCEPT OK",
            &v2(),
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "field 'dstport': invalid number \"http\"");
        assert_eq!(e.reason(), "invalid number");
    }

    #[test]
    fn parse_line_counts_tokens_on_mismatch() {
        let e = parse_line("2 123456789010 eni-1 10.0.0.1", &v2()).unwrap_err();
        assert_eq!(e.to_string(), "too few fields: expected 14, found 4");
        let e = parse_line(
            "2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 20 4249 1 2 ACCEPT OK extra",
            &v2(),
        )
        .unwrap_err();
        assert_eq!(e.reason(), "too many fields");
        // A misaligned line reports the count, not a misleading field error.
        let e = parse_line(
            "2 123456789010 10.0.0.1 10.0.0.2 1 2 6 20 4249 1 2 ACCEPT OK",
            &v2(),
        )
        .unwrap_err();
        assert_eq!(e.reason(), "too few fields");
    }

    #[test]
    fn parse_line_tolerates_double_spaces_and_tabs() {
        let f = parse_line(
            "2  123456789010 eni-1\t10.0.0.1 10.0.0.2 1 2 6 20 4249 1 2 ACCEPT OK ",
            &v2(),
        )
        .unwrap();
        assert_eq!(f.interface_id.as_deref(), Some("eni-1"));
    }

    #[test]
    fn parse_line_out_of_range_values_are_errors() {
        let e = parse_line(
            "2 1 eni-1 10.0.0.1 10.0.0.2 1 70000 6 20 4249 1 2 ACCEPT OK",
            &v2(),
        )
        .unwrap_err();
        assert_eq!(e.reason(), "number out of range");
        let e = parse_line(
            "2 1 eni-1 10.0.0.1 10.0.0.2 1 1 6 99999999999999999999999 4249 1 2 ACCEPT OK",
            &v2(),
        )
        .unwrap_err();
        assert_eq!(e.reason(), "number out of range");
        let e = parse_line(
            "2 1 eni-1 10.0.0.256 10.0.0.2 1 1 6 1 4249 1 2 ACCEPT OK",
            &v2(),
        )
        .unwrap_err();
        assert_eq!(e.reason(), "invalid address");
    }

    #[test]
    fn ipv4_fast_path_agrees_with_std() {
        for s in [
            "0.0.0.0",
            "255.255.255.255",
            "10.0.0.1",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "1..2.3",
            "256.1.1.1",
            "1.2.3.4 ",
            "",
            "1.2.3.-",
            "2001:db8::1",
            "1.2.3.4000",
        ] {
            let ours = addr(s).ok();
            let std = s.parse::<IpAddr>().ok();
            assert_eq!(ours, std, "{s:?}");
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod proptests {
    use super::*;
    use crate::flow::{Provenance, RecordContext};
    use crate::ingest::flowlog::fields::TYPED;
    use proptest::prelude::*;

    fn ident() -> impl Strategy<Value = Option<Text>> {
        proptest::option::of("[a-z]{1,4}-[0-9a-f]{1,17}".prop_map(|s| Text::new(&s)))
    }

    fn ip() -> impl Strategy<Value = Option<IpAddr>> {
        proptest::option::of(prop_oneof![
            any::<[u8; 4]>().prop_map(|o| IpAddr::from(o)),
            any::<[u16; 8]>().prop_map(|o| IpAddr::from(o)),
        ])
    }

    fn flow() -> BoxedStrategy<Flow> {
        let net = (
            proptest::option::of(2u8..12),
            ident(),
            ident(),
            [ip(), ip(), ip(), ip()],
            any::<(Option<u16>, Option<u16>, Option<u8>)>(),
        )
            .boxed();
        let counters = (
            any::<[Option<u64>; 4]>(),
            proptest::option::of(prop_oneof![Just(Action::Accept), Just(Action::Reject)]),
            proptest::option::of(prop_oneof![
                Just(LogStatus::Ok),
                Just(LogStatus::NoData),
                Just(LogStatus::SkipData)
            ]),
            any::<(Option<u16>, Option<u8>)>(),
            proptest::option::of(prop_oneof![
                Just(Direction::Ingress),
                Just(Direction::Egress)
            ]),
        )
            .boxed();
        let ids = (
            proptest::collection::vec(ident(), 10),
            proptest::option::of("[A-Za-z0-9._:/=-]{1,30}"),
        )
            .boxed();
        (net, counters, ids)
            .prop_map(|(net, counters, ids)| {
                let (
                    version,
                    account_id,
                    interface_id,
                    [src_addr, dst_addr, pkt_src_addr, pkt_dst_addr],
                    (src_port, dst_port, protocol),
                ) = net;
                let (
                    [packets, bytes, start, end],
                    action,
                    log_status,
                    (tcp_flags, traffic_path),
                    flow_direction,
                ) = counters;
                let (mut v, extra) = ids;
                let mut next = || v.pop().flatten();
                let context = RecordContext {
                    account_id,
                    vpc_id: next(),
                    subnet_id: next(),
                    instance_id: next(),
                    flow_type: next(),
                    region: next(),
                    az_id: next(),
                    sublocation_type: next(),
                    sublocation_id: next(),
                }
                .shared();
                Flow {
                    version,
                    context,
                    interface_id,
                    src_addr,
                    dst_addr,
                    src_port,
                    dst_port,
                    protocol,
                    packets,
                    bytes,
                    start,
                    end,
                    action,
                    log_status,
                    tcp_flags,
                    pkt_src_addr,
                    pkt_dst_addr,
                    pkt_src_aws_service: next(),
                    pkt_dst_aws_service: next(),
                    flow_direction,
                    traffic_path,
                    extra: extra
                        .map(|e| vec![(Text::new("encryption_status"), Text::new(&e))])
                        .unwrap_or_default(),
                    ..Flow::default()
                }
            })
            .boxed()
    }

    /// A random layout: a shuffled subset of every typed field plus an extra one.
    fn plan() -> impl Strategy<Value = FieldPlan> {
        let names: Vec<&'static str> = TYPED
            .iter()
            .map(|s| s.aws)
            .chain(["encryption-status"])
            .collect();
        Just(names)
            .prop_shuffle()
            .prop_flat_map(|names| {
                let n = names.len();
                (Just(names), 1..=n)
            })
            .prop_map(|(names, k)| FieldPlan::from_format(&names[..k].join(" ")).unwrap())
    }

    /// The fields a plan does not carry are absent after parsing.
    fn project(f: &Flow, plan: &FieldPlan) -> Flow {
        let line = render_line(
            f,
            &FieldPlan::from_format(&FieldPlan::default_v2().to_header_line()).unwrap(),
        );
        let _ = line;
        let mut full_names: Vec<&str> = TYPED.iter().map(|s| s.aws).collect();
        full_names.push("encryption-status");
        let mut g = Flow::default();
        let mut ctx = RecordContext::default();
        let full = FieldPlan::from_format(&full_names.join(" ")).unwrap();
        let l = render_line(f, &full);
        let toks: Vec<&str> = l.split(' ').collect();
        for (slot, tok) in full.slots().iter().zip(toks) {
            if plan.slots().iter().any(|s| match (s, slot) {
                (Slot::Typed(a), Slot::Typed(b)) => a == b,
                (Slot::Extra(_), Slot::Extra(_)) => true,
                _ => false,
            }) {
                set_field(&mut g, &mut ctx, *slot, tok, &full).unwrap();
            }
        }
        g.context = ctx.shared();
        g
    }

    proptest! {
        #[test]
        fn rendered_flow_parses_back_equal(f in flow(), plan in plan()) {
            let line = render_line(&f, &plan);
            let parsed = parse_line(&line, &plan).unwrap();
            prop_assert_eq!(parsed, project(&f, &plan), "line {}", line);
        }

        #[test]
        fn every_prefix_of_a_valid_line_is_handled(f in flow(), plan in plan()) {
            let line = render_line(&f, &plan);
            for cut in 0..line.len() {
                if let Some(prefix) = line.get(..cut) {
                    let _ = parse_line(prefix, &plan);
                    let mut t = crate::flow::SourceTally::default();
                    let mut sink: Vec<Flow> = Vec::new();
                    crate::ingest::flowlog::ingest_line(prefix, &plan, Provenance::default(), "p", &mut t, &mut sink);
                }
            }
        }

        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,200}") {
            let _ = parse_line(&s, &FieldPlan::default_v2());
            let mut t = crate::flow::SourceTally::default();
            let mut sink: Vec<Flow> = Vec::new();
            crate::ingest::flowlog::ingest_line(&s, &FieldPlan::default_v2(), Provenance::default(), "p", &mut t, &mut sink);
        }
    }
}
