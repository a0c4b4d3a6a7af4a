//! The one record type both ingest paths produce.
//!
//! A [`Flow`] is one direction of one 5-tuple over one window, as VPC Flow Logs
//! report it. Flow-log lines map onto it field by field (the Athena column
//! names are the wire names, see [`COLUMNS`]); captures aggregate packets into
//! it and add [`CaptureEvidence`]. Nothing after `ingest` knows which path
//! produced a flow, except through [`Provenance`] and the optional evidence.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use compact_str::CompactString;
use serde::Serialize;

pub mod api_call;
pub mod batch;
mod context;
pub mod dns;

pub use api_call::ApiCall;
pub use batch::{FlowBatch, SourceKind, SourceTally};
pub use context::{ContextCache, ContextField, ContextFields, ContextScratch, RecordContext};
pub use dns::{DnsRecord, NameSighting, NameSource};

/// Short AWS identifiers (`eni-…`, `vpc-…`, account ids) fit inline: no
/// allocation per record.
pub type Text = CompactString;

/// Which input a flow came from: an index into the run's input list
/// (assigned in sorted path order, so ids are deterministic).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
pub struct SourceId(pub u32);

/// Where a flow was read: the input, and the 1-based line (text), row
/// (Parquet), event (CloudWatch) or packet index (captures) that created it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
pub struct Provenance {
    pub source: SourceId,
    pub index: u64,
}

/// `ACCEPT` / `REJECT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Action {
    Accept,
    Reject,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Accept => "ACCEPT",
            Action::Reject => "REJECT",
        }
    }
}

/// `OK` / `NODATA` / `SKIPDATA`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum LogStatus {
    Ok,
    NoData,
    SkipData,
}

impl LogStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LogStatus::Ok => "OK",
            LogStatus::NoData => "NODATA",
            LogStatus::SkipData => "SKIPDATA",
        }
    }
}

/// `flow-direction`, relative to the logged (or capturing) interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }
}

/// Which side of a connection sent the first packet (captures), or sent the
/// SYN (tcp-flags 2/3 in flow logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Initiator {
    /// This flow's source opened the conversation.
    Source,
    /// This flow's destination opened it (this is a reply direction).
    Destination,
}

/// TCP handshake state seen in a capture for the conversation of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Handshake {
    /// SYN seen, SYN-ACK seen (from the other side).
    Completed,
    /// SYN seen, no SYN-ACK: the path or the peer did not answer.
    SynOnly,
    /// SYN answered by RST.
    Reset,
    /// Mid-connection capture: no SYN seen.
    NotSeen,
}

/// What a capture tells beyond the 5-tuple counters. Flow-log records have none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CaptureEvidence {
    /// The capturing host's address, when it could be decided.
    pub capture_host: Option<IpAddr>,
    pub initiator: Option<Initiator>,
    pub handshake: Option<Handshake>,
    /// ICMP/ICMPv6 echo requests sent in this flow, and how many got a reply.
    pub echo_requests: u32,
    pub echo_replies: u32,
    /// TLS ClientHello server name (first one seen on this flow).
    pub sni: Option<Text>,
    /// HTTP `Host` header of the first plain-HTTP request on this flow.
    pub http_host: Option<Text>,
    /// Packets whose capture was cut by the snaplen.
    pub truncated_packets: u32,
    /// Σ original frame lengths (link layer included): what tshark's `conv` counts.
    pub wire_bytes: u64,
}

/// One flow record. All fields are optional because a flow-log format may
/// carry any subset of them and `-` means absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[repr(C)]
pub struct Flow {
    // The fields the classifier reads come first, laid out (`repr(C)`)
    // so that an egress record's fall in its first three cache lines:
    // line 0: times, flags, capture, ports; line 1: interface and
    // addresses; line 2: packet addresses, destination service.
    /// Unix seconds (flow logs) of the first packet in the window.
    pub start: Option<u64>,
    /// Unix seconds of the last packet in the window.
    pub end: Option<u64>,
    /// Sub-second precision of start/end for captures (nanoseconds in the
    /// second); flow logs are whole seconds.
    pub start_nanos: u32,
    pub end_nanos: u32,
    pub tcp_flags: Option<u16>,
    pub traffic_path: Option<u8>,
    pub action: Option<Action>,
    pub flow_direction: Option<Direction>,
    pub capture: Option<Box<CaptureEvidence>>,
    pub src_port: Option<u16>,
    pub dst_port: Option<u16>,
    pub interface_id: Option<Text>,
    pub src_addr: Option<IpAddr>,
    pub dst_addr: Option<IpAddr>,
    pub protocol: Option<u8>,
    pub version: Option<u8>,
    pub log_status: Option<LogStatus>,
    pub pkt_src_addr: Option<IpAddr>,
    pub pkt_dst_addr: Option<IpAddr>,
    pub pkt_dst_aws_service: Option<Text>,
    pub pkt_src_aws_service: Option<Text>,
    // The rest of the record.
    pub packets: Option<u64>,
    pub bytes: Option<u64>,
    /// Where the record was logged (account, VPC, subnet, instance, type,
    /// region, zone, sublocation): shared by the records that say the same
    /// (see [`RecordContext`]); `None` when the record logs none of them.
    #[serde(flatten)]
    pub context: Option<Arc<RecordContext>>,
    /// v6+ and unknown fields, as (Athena column name, raw value), in format order.
    pub extra: Vec<(Text, Text)>,
    pub provenance: Provenance,
}

/// The Athena DDL column names, in order, that `Flow` maps onto. Output
/// formats use exactly these names, then any extra columns, then
/// `source_file` and `source_line`.
pub const COLUMNS: [&str; 29] = [
    "version",
    "account_id",
    "interface_id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log_status",
    "vpc_id",
    "subnet_id",
    "instance_id",
    "tcp_flags",
    "type",
    "pkt_srcaddr",
    "pkt_dstaddr",
    "region",
    "az_id",
    "sublocation_type",
    "sublocation_id",
    "pkt_src_aws_service",
    "pkt_dst_aws_service",
    "flow_direction",
    "traffic_path",
];

/// A directional 5-tuple. Flows with the same key (and window) aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct FlowKey {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub src_port: u16,
    pub dst_port: u16,
    pub protocol: u8,
}

impl FlowKey {
    pub fn reversed(self) -> FlowKey {
        FlowKey {
            src: self.dst,
            dst: self.src,
            src_port: self.dst_port,
            dst_port: self.src_port,
            protocol: self.protocol,
        }
    }
}

impl fmt::Display for FlowKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}:{} -> {}:{}",
            protocol_name(self.protocol),
            self.src,
            self.src_port,
            self.dst,
            self.dst_port
        )
    }
}

/// `tcp`, `udp`, `icmp`, `icmpv6`, else the number.
pub fn protocol_name(p: u8) -> std::borrow::Cow<'static, str> {
    match p {
        1 => "icmp".into(),
        6 => "tcp".into(),
        17 => "udp".into(),
        58 => "icmpv6".into(),
        47 => "gre".into(),
        50 => "esp".into(),
        132 => "sctp".into(),
        n => n.to_string().into(),
    }
}

impl Flow {
    /// The 5-tuple, when the record carries one (NODATA/SKIPDATA rows do not).
    pub fn key(&self) -> Option<FlowKey> {
        Some(FlowKey {
            src: self.src_addr?,
            dst: self.dst_addr?,
            src_port: self.src_port.unwrap_or(0),
            dst_port: self.dst_port.unwrap_or(0),
            protocol: self.protocol?,
        })
    }

    /// True for NODATA and SKIPDATA rows: they describe an interface, not a flow.
    pub fn is_status_only(&self) -> bool {
        matches!(
            self.log_status,
            Some(LogStatus::NoData) | Some(LogStatus::SkipData)
        )
    }

    /// The record's context fields (all absent when it logs none).
    pub fn context(&self) -> &RecordContext {
        self.context.as_deref().unwrap_or(RecordContext::EMPTY)
    }

    /// The context to fill in: this record's own (made unique when shared).
    pub fn context_mut(&mut self) -> &mut RecordContext {
        Arc::make_mut(self.context.get_or_insert_default())
    }

    /// The packet-level destination when logged, else `dstaddr`.
    pub fn effective_dst(&self) -> Option<IpAddr> {
        self.pkt_dst_addr.or(self.dst_addr)
    }

    /// The packet-level source when logged, else `srcaddr`.
    pub fn effective_src(&self) -> Option<IpAddr> {
        self.pkt_src_addr.or(self.src_addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifier_fields_share_the_first_three_cache_lines() {
        let f = Flow::default();
        // (field, offset, size) of every field an egress record's
        // classification reads.
        macro_rules! at {
            ($($name:ident),*) => {
                [$((
                    stringify!($name),
                    std::mem::offset_of!(Flow, $name),
                    std::mem::size_of_val(&f.$name),
                )),*]
            };
        }
        let read = at!(
            start,
            end,
            end_nanos,
            tcp_flags,
            traffic_path,
            action,
            flow_direction,
            capture,
            interface_id,
            src_addr,
            dst_addr,
            pkt_dst_addr,
            pkt_dst_aws_service
        );
        for (name, at, len) in read {
            let end = at + len;
            assert!(end <= 192, "{name} ends at byte {end}");
        }
        // No field straddles a line it could avoid: each of these lies
        // inside one 64-byte line.
        for (name, at, len) in read {
            if ["interface_id", "src_addr", "dst_addr", "pkt_dst_addr"].contains(&name) {
                assert_eq!(
                    at / 64,
                    (at + len - 1) / 64,
                    "{name} at {at} straddles a line"
                );
            }
        }
    }

    #[test]
    fn a_record_is_at_most_five_cache_lines() {
        // The context fields are shared, not inline (they were 216 bytes of
        // 504): what an audit holds per record.
        let size = std::mem::size_of::<Flow>();
        assert!(size <= 320, "Flow is {size} bytes");
        assert_eq!(std::mem::size_of::<Option<Arc<RecordContext>>>(), 8);
    }

    #[test]
    fn flow_key_reversed_twice_is_identity() {
        let k = FlowKey {
            src: "10.0.0.1".parse().unwrap(),
            dst: "52.219.60.1".parse().unwrap(),
            src_port: 40000,
            dst_port: 443,
            protocol: 6,
        };
        assert_eq!(k.reversed().reversed(), k);
        assert_eq!(k.to_string(), "tcp 10.0.0.1:40000 -> 52.219.60.1:443");
    }

    #[test]
    fn status_only_rows_have_no_key() {
        let f = Flow {
            log_status: Some(LogStatus::NoData),
            ..Flow::default()
        };
        assert!(f.is_status_only());
        assert_eq!(f.key(), None);
    }
}
