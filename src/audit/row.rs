//! The compact conversation row: what the reply pairing and the report read
//! of one record (≈ 100 bytes instead of a 296-byte `Flow` plus its
//! classification), with a fixed-size byte encoding for the spill files.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::classify::{Outcome, Role};
use crate::flow::{Flow, FlowKey, Provenance, SourceId};

/// No interned class: the row is not an egress flow.
pub const NO_CLASS: u32 = u32::MAX;

/// One record reduced to what the audit needs after classification.
///
/// Ordered by input position first (`source`, `index`), so sorting a
/// partition gives the input order the pairing's tie-breaks rely on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConvRow {
    /// The input (its [`SourceId`]).
    pub source: u32,
    /// The record's index in its input (line, event, flow).
    pub index: u64,
    /// The interned interface or capture host the record was seen on.
    pub host: u32,
    /// The interned description of an egress flow ([`NO_CLASS`] otherwise).
    pub class: u32,
    pub role: Role,
    /// What the record alone shows (flow logs: `unknown` or `rejected`).
    pub outcome: Outcome,
    /// `action` was REJECT.
    pub rejected: bool,
    /// A flow-log record (a capture flow is never a duplicate delivery).
    pub logged: bool,
    pub key: Option<FlowKey>,
    pub start: Option<u64>,
    pub end: Option<u64>,
    pub packets: Option<u64>,
    pub bytes: Option<u64>,
    /// The packet-level destination when logged, else `dstaddr`.
    pub dst: Option<IpAddr>,
    pub dst_port: Option<u16>,
    pub protocol: Option<u8>,
}

impl ConvRow {
    /// The row of `flow`, classified as `role` with its own `outcome`.
    pub fn of(flow: &Flow, host: u32, class: u32, role: Role, outcome: Outcome) -> ConvRow {
        ConvRow {
            source: flow.provenance.source.0,
            index: flow.provenance.index,
            host,
            class,
            role,
            outcome,
            rejected: flow.action == Some(crate::flow::Action::Reject),
            logged: flow.capture.is_none(),
            key: flow.key(),
            start: flow.start,
            end: flow.end,
            packets: flow.packets,
            bytes: flow.bytes,
            dst: flow.effective_dst(),
            dst_port: flow.dst_port,
            protocol: flow.protocol,
        }
    }

    /// A `Flow` carrying the fields the collector reads of an egress flow
    /// (times, counters, destination, provenance).
    pub fn to_flow(&self) -> Flow {
        Flow {
            start: self.start,
            end: self.end,
            packets: self.packets,
            bytes: self.bytes,
            dst_addr: self.dst,
            dst_port: self.dst_port,
            protocol: self.protocol,
            provenance: Provenance {
                source: SourceId(self.source),
                index: self.index,
            },
            ..Flow::default()
        }
    }

    /// The 5-tuple with its two directions made one (either direction of a
    /// connection gives the same value): what partitions are hashed by.
    pub fn conversation(&self) -> Option<FlowKey> {
        self.key.map(|k| k.min(k.reversed()))
    }

    /// The identity of a delivered flow-log record: same interface,
    /// 5-tuple, start, end, packets and bytes is the same record.
    pub fn delivery(&self) -> Option<Delivery> {
        if !self.logged {
            return None;
        }
        Some(Delivery {
            host: self.host,
            key: self.key?,
            start: self.start,
            end: self.end,
            packets: self.packets,
            bytes: self.bytes,
        })
    }
}

/// See [`ConvRow::delivery`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Delivery {
    host: u32,
    key: FlowKey,
    start: Option<u64>,
    end: Option<u64>,
    packets: Option<u64>,
    bytes: Option<u64>,
}

/// Bytes of one encoded row.
pub const ENCODED_LEN: usize = 4 + 8 + 4 + 4 + 4 + 2 + 17 + 17 + 2 + 2 + 1 + 8 * 4 + 17 + 2 + 1;

fn role_code(r: Role) -> u8 {
    match r {
        Role::Egress => 0,
        Role::Reply => 1,
        Role::Inbound => 2,
        Role::Transit => 3,
    }
}

fn role_of(c: u8) -> Role {
    match c {
        0 => Role::Egress,
        1 => Role::Reply,
        2 => Role::Inbound,
        _ => Role::Transit,
    }
}

pub(super) fn outcome_code(o: Outcome) -> u8 {
    match o {
        Outcome::Answered => 0,
        Outcome::Unanswered => 1,
        Outcome::Rejected => 2,
        Outcome::Unknown => 3,
    }
}

pub(super) fn outcome_of(c: u8) -> Outcome {
    match c {
        0 => Outcome::Answered,
        1 => Outcome::Unanswered,
        2 => Outcome::Rejected,
        _ => Outcome::Unknown,
    }
}

fn put_addr(out: &mut Vec<u8>, a: Option<IpAddr>) {
    match a {
        None => {
            out.push(0);
            out.extend_from_slice(&[0; 16]);
        }
        Some(IpAddr::V4(v4)) => {
            out.push(4);
            out.extend_from_slice(&v4.to_ipv6_mapped().octets());
        }
        Some(IpAddr::V6(v6)) => {
            out.push(6);
            out.extend_from_slice(&v6.octets());
        }
    }
}

/// Reads fixed-width fields from one encoded row.
struct Cursor<'b> {
    buf: &'b [u8],
    at: usize,
}

impl Cursor<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        if let Some(s) = self.buf.get(self.at..self.at + N) {
            out.copy_from_slice(s);
        }
        self.at += N;
        out
    }
    fn u8(&mut self) -> u8 {
        self.take::<1>()[0]
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.take())
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take())
    }
    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take())
    }
    fn addr(&mut self) -> Option<IpAddr> {
        let family = self.u8();
        let octets: [u8; 16] = self.take();
        let v6 = Ipv6Addr::from(octets);
        match family {
            4 => v6
                .to_ipv4_mapped()
                .map(IpAddr::V4)
                .or(Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED))),
            6 => Some(IpAddr::V6(v6)),
            _ => None,
        }
    }
}

/// Presence bits of the optional fields.
const HAS_KEY: u16 = 1;
const HAS_START: u16 = 2;
const HAS_END: u16 = 4;
const HAS_PACKETS: u16 = 8;
const HAS_BYTES: u16 = 16;
const HAS_DST_PORT: u16 = 32;
const HAS_PROTOCOL: u16 = 64;
const REJECTED: u16 = 128;
const LOGGED: u16 = 256;

impl ConvRow {
    /// Append the row's [`ENCODED_LEN`] bytes to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut bits = 0u16;
        let mut set = |b: u16, on: bool| {
            if on {
                bits |= b;
            }
        };
        set(HAS_KEY, self.key.is_some());
        set(HAS_START, self.start.is_some());
        set(HAS_END, self.end.is_some());
        set(HAS_PACKETS, self.packets.is_some());
        set(HAS_BYTES, self.bytes.is_some());
        set(HAS_DST_PORT, self.dst_port.is_some());
        set(HAS_PROTOCOL, self.protocol.is_some());
        set(REJECTED, self.rejected);
        set(LOGGED, self.logged);
        out.extend_from_slice(&self.source.to_le_bytes());
        out.extend_from_slice(&self.index.to_le_bytes());
        out.extend_from_slice(&self.host.to_le_bytes());
        out.extend_from_slice(&self.class.to_le_bytes());
        out.extend_from_slice(&[role_code(self.role), outcome_code(self.outcome), 0, 0]);
        out.extend_from_slice(&bits.to_le_bytes());
        let k = self.key;
        put_addr(out, k.map(|k| k.src));
        put_addr(out, k.map(|k| k.dst));
        out.extend_from_slice(&k.map_or(0, |k| k.src_port).to_le_bytes());
        out.extend_from_slice(&k.map_or(0, |k| k.dst_port).to_le_bytes());
        out.push(k.map_or(0, |k| k.protocol));
        for v in [self.start, self.end, self.packets, self.bytes] {
            out.extend_from_slice(&v.unwrap_or(0).to_le_bytes());
        }
        put_addr(out, self.dst);
        out.extend_from_slice(&self.dst_port.unwrap_or(0).to_le_bytes());
        out.push(self.protocol.unwrap_or(0));
    }

    /// The row encoded in `buf` (exactly [`ENCODED_LEN`] bytes, written by
    /// [`ConvRow::encode`] of this run).
    pub fn decode(buf: &[u8]) -> ConvRow {
        let mut c = Cursor { buf, at: 0 };
        let source = c.u32();
        let index = c.u64();
        let host = c.u32();
        let class = c.u32();
        let [role, outcome, _, _] = c.take::<4>();
        let bits = c.u16();
        let has = |b: u16| bits & b != 0;
        let src = c.addr();
        let dst = c.addr();
        let src_port = c.u16();
        let dst_port = c.u16();
        let protocol = c.u8();
        let key = match (has(HAS_KEY), src, dst) {
            (true, Some(src), Some(dst)) => Some(FlowKey {
                src,
                dst,
                src_port,
                dst_port,
                protocol,
            }),
            _ => None,
        };
        let mut opt = |b: u16| {
            let v = c.u64();
            has(b).then_some(v)
        };
        let start = opt(HAS_START);
        let end = opt(HAS_END);
        let packets = opt(HAS_PACKETS);
        let bytes = opt(HAS_BYTES);
        let eff_dst = c.addr();
        let dport = c.u16();
        let proto = c.u8();
        ConvRow {
            source,
            index,
            host,
            class,
            role: role_of(role),
            outcome: outcome_of(outcome),
            rejected: has(REJECTED),
            logged: has(LOGGED),
            key,
            start,
            end,
            packets,
            bytes,
            dst: eff_dst,
            dst_port: has(HAS_DST_PORT).then_some(dport),
            protocol: has(HAS_PROTOCOL).then_some(proto),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn row_encoding_round_trips_every_field() {
        let full = ConvRow {
            source: 7,
            index: 1 << 40,
            host: 3,
            class: 9,
            role: Role::Inbound,
            outcome: Outcome::Rejected,
            rejected: true,
            logged: true,
            key: Some(FlowKey {
                src: "10.0.0.1".parse().unwrap(),
                dst: "2600:1f18::1".parse().unwrap(),
                src_port: 40000,
                dst_port: 443,
                protocol: 6,
            }),
            start: Some(0),
            end: Some(u64::MAX),
            packets: Some(5),
            bytes: None,
            dst: Some("0.0.0.0".parse().unwrap()),
            dst_port: Some(0),
            protocol: None,
        };
        let empty = ConvRow {
            key: None,
            start: None,
            end: None,
            packets: None,
            dst: None,
            dst_port: None,
            rejected: false,
            logged: false,
            class: NO_CLASS,
            ..full
        };
        for row in [full, empty] {
            let mut buf = Vec::new();
            row.encode(&mut buf);
            assert_eq!(buf.len(), ENCODED_LEN);
            assert_eq!(ConvRow::decode(&buf), row);
        }
    }
}
