//! Packets into directional flows: per-batch tables built by workers, merged
//! in batch order into one table, then turned into [`Flow`] records with
//! capture evidence.
//!
//! Every per-flow counter merges commutatively (sums, min/max, OR); the only
//! ordered state — the first client bytes kept to find a TLS SNI or HTTP Host —
//! is appended in batch order, so the result is the same for any number of
//! workers.

use std::collections::hash_map::Entry;
use std::net::IpAddr;

use crate::error::sanitize_bytes;
use crate::flow::{
    CaptureEvidence, Direction, DnsRecord, Flow, FlowKey, Handshake, Initiator, Provenance,
    SourceId, SourceTally, Text,
};

use super::decode::{self, Decoded, Fragment};
use super::dns;
use super::reader::Batch;
use super::tls::{self, AppName};

/// Flow tables hash keys taken from untrusted captures: foldhash seeded
/// at random per process (cheap, yet not open to crafted collisions the
/// way a fixed-seed hash is).
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// Payload segments a worker keeps per flow and batch for name extraction.
const MAX_SEGMENTS: usize = 8;
/// Out-of-order segments held while reassembling the first client bytes.
const MAX_HELD: usize = 16;

/// A flow table key: direction, 5-tuple and window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WindowKey {
    pub key: FlowKey,
    pub window: u64,
}

impl WindowKey {
    fn reversed(self) -> WindowKey {
        WindowKey {
            key: self.key.reversed(),
            window: self.window,
        }
    }
}

/// A TCP payload segment kept for reassembly.
#[derive(Debug, Clone)]
struct Segment {
    seq: u32,
    data: Vec<u8>,
}

/// Timestamp as (seconds, nanoseconds).
type Ts = (i64, u32);

/// Counters of one directional flow.
#[derive(Debug, Clone)]
pub struct Acc {
    packets: u64,
    ip_bytes: u64,
    wire_bytes: u64,
    first_index: u64,
    first_ts: Ts,
    last_ts: Ts,
    /// Flow-log tcp_flags (FIN 1, SYN 2, RST 4, SYN-ACK 18), OR-ed.
    flags: u16,
    syn: bool,
    synack: bool,
    rst: bool,
    v6: bool,
    truncated: u32,
    echo_requests: u32,
    echo_replies: u32,
    /// Sequence number of this direction's SYN (or SYN-ACK): the stream
    /// starts one after it.
    syn_seq: Option<u32>,
    /// Client bytes kept for name extraction: out of line, and only for TCP
    /// flows that carry payload, so the table entry stays small.
    stream: Option<Box<Stream>>,
}

/// What a worker keeps of one flow's payload in one batch.
#[derive(Debug, Clone, Default)]
struct Stream {
    segments: Vec<Segment>,
    segment_bytes: usize,
    /// The worker already decided the name from the stream's first segment
    /// (SYN and first payload in the same batch): no copying needed.
    early: Option<(Option<AppName>, u64)>,
}

impl Acc {
    fn new(index: u64, ts: Ts, v6: bool) -> Acc {
        Acc {
            packets: 0,
            ip_bytes: 0,
            wire_bytes: 0,
            first_index: index,
            first_ts: ts,
            last_ts: ts,
            flags: 0,
            syn: false,
            synack: false,
            rst: false,
            v6,
            truncated: 0,
            echo_requests: 0,
            echo_replies: 0,
            syn_seq: None,
            stream: None,
        }
    }

    fn absorb(&mut self, o: Acc) {
        self.packets += o.packets;
        self.ip_bytes += o.ip_bytes;
        self.wire_bytes += o.wire_bytes;
        if o.first_index < self.first_index {
            self.first_index = o.first_index;
        }
        self.first_ts = self.first_ts.min(o.first_ts);
        self.last_ts = self.last_ts.max(o.last_ts);
        self.flags |= o.flags;
        self.syn |= o.syn;
        self.synack |= o.synack;
        self.rst |= o.rst;
        self.truncated += o.truncated;
        self.echo_requests += o.echo_requests;
        self.echo_replies += o.echo_replies;
        if self.syn_seq.is_none() {
            self.syn_seq = o.syn_seq;
        }
    }
}

/// Flow-log semantics of one TCP flags byte.
pub fn flow_log_flags(f: u8) -> u16 {
    let (fin, syn, rst, ack) = (f & 0x01 != 0, f & 0x02 != 0, f & 0x04 != 0, f & 0x10 != 0);
    let mut out = 0;
    if fin {
        out |= 1;
    }
    if syn {
        out |= if ack { 18 } else { 2 };
    }
    if rst {
        out |= 4;
    }
    out
}

/// What one worker made of one batch.
#[derive(Debug, Default)]
pub struct BatchResult {
    table: HashMap<WindowKey, Acc>,
    pub dns: Vec<DnsRecord>,
    pub tally: SourceTally,
}

/// Settings the workers need.
#[derive(Debug, Clone)]
pub struct Ctx<'a> {
    pub name: &'a str,
    pub source: SourceId,
    pub window: Option<u64>,
}

/// Decode every packet of a batch into a batch-local flow table.
pub fn decode_batch(batch: &Batch, ctx: &Ctx<'_>) -> BatchResult {
    // Sized for a few packets per flow: no rehash in the common case.
    let mut out = BatchResult {
        table: HashMap::with_capacity_and_hasher(batch.packets.len() / 4, Default::default()),
        ..BatchResult::default()
    };
    for p in &batch.packets {
        let data = batch.data(p);
        out.tally.packets += 1;
        let truncated = (data.len() as u64) < u64::from(p.orig_len);
        let d = match decode::decode(p.linktype, data, p.orig_len) {
            Ok(d) => d,
            Err(skip) => {
                *out.tally.notes.entry(skip.reason()).or_insert(0) += 1;
                continue;
            }
        };
        out.tally.records += 1;
        if let Some(stop) = &d.stop {
            *out.tally.notes.entry(stop.clone()).or_insert(0) += 1;
        }
        match d.fragment {
            Fragment::No => {}
            Fragment::First => {
                *out.tally
                    .notes
                    .entry("ip fragment (first)".into())
                    .or_insert(0) += 1
            }
            Fragment::Later => {
                *out.tally
                    .notes
                    .entry("ip fragment (later)".into())
                    .or_insert(0) += 1
            }
        }
        let ts = (p.ts_sec, p.ts_nanos);
        let window = match ctx.window {
            Some(w) if w > 0 => u64::try_from(p.ts_sec.max(0)).unwrap_or(0) / w,
            _ => 0,
        };
        let wk = WindowKey {
            key: FlowKey {
                src: d.src,
                dst: d.dst,
                src_port: d.src_port,
                dst_port: d.dst_port,
                protocol: d.protocol,
            },
            window,
        };
        let acc = out
            .table
            .entry(wk)
            .or_insert_with(|| Acc::new(p.index, ts, d.v6));
        acc.packets += 1;
        acc.ip_bytes += d.ip_len;
        acc.wire_bytes += u64::from(p.orig_len);
        acc.first_ts = acc.first_ts.min(ts);
        acc.last_ts = acc.last_ts.max(ts);
        if truncated {
            acc.truncated += 1;
        }
        if let Some(f) = d.tcp_flags {
            acc.flags |= flow_log_flags(f);
            let (syn, ack, rst) = (f & 0x02 != 0, f & 0x10 != 0, f & 0x04 != 0);
            acc.syn |= syn && !ack;
            acc.synack |= syn && ack;
            acc.rst |= rst;
            if syn && acc.syn_seq.is_none() {
                acc.syn_seq = Some(d.tcp_seq);
            }
        }
        match (d.protocol, d.icmp_type) {
            (1, Some(8)) | (58, Some(128)) => acc.echo_requests += 1,
            (1, Some(0)) | (58, Some(129)) => acc.echo_replies += 1,
            _ => {}
        }
        if d.protocol == 6 && !d.payload.is_empty() {
            stream_payload(acc, &d, p.index);
        }
        if d.src_port == 53 || d.dst_port == 53 {
            dns_packet(&d, p.index, p.offset, ts, truncated, ctx, &mut out);
        }
    }
    out
}

/// Keep (or decide from) a TCP payload for name extraction.
fn stream_payload(acc: &mut Acc, d: &Decoded<'_>, index: u64) {
    let st = acc.stream.get_or_insert_with(Box::default);
    if st.early.is_some() {
        return;
    }
    if st.segments.is_empty() {
        // The stream's first bytes, in one segment: decide here.
        let at_start = acc.syn_seq.map(|s| s.wrapping_add(1)) == Some(d.tcp_seq);
        if at_start {
            match tls::app_name(d.payload) {
                AppName::NeedMore => {}
                n @ (AppName::Sni(_) | AppName::HttpHost(_)) => {
                    st.early = Some((Some(n), index));
                    return;
                }
                _ => {
                    st.early = Some((None, index));
                    return;
                }
            }
        }
    }
    if st.segments.len() < MAX_SEGMENTS && st.segment_bytes < tls::MAX_HELLO {
        let take = d.payload.len().min(tls::MAX_HELLO - st.segment_bytes);
        let part = d.payload.get(..take).unwrap_or(&[]);
        st.segment_bytes += part.len();
        st.segments.push(Segment {
            seq: d.tcp_seq,
            data: part.to_vec(),
        });
    }
}

#[allow(clippy::too_many_arguments)]
fn dns_packet(
    d: &Decoded<'_>,
    index: u64,
    offset: u64,
    ts: Ts,
    truncated: bool,
    ctx: &Ctx<'_>,
    out: &mut BatchResult,
) {
    let mut messages: Vec<&[u8]> = Vec::new();
    match d.protocol {
        17 => messages.push(d.payload),
        6 => {
            // DNS over TCP: 2-byte length prefix; whole messages within this
            // segment only (no reassembly across segments).
            let mut rest = d.payload;
            while let Some(len) = rest.get(..2).and_then(|b| <[u8; 2]>::try_from(b).ok()) {
                let n = usize::from(u16::from_be_bytes(len));
                match rest.get(2..2 + n) {
                    Some(m) => {
                        messages.push(m);
                        rest = rest.get(2 + n..).unwrap_or(&[]);
                    }
                    None => break,
                }
            }
        }
        _ => {}
    }
    if d.fragment != Fragment::No {
        return;
    }
    for m in messages {
        if m.is_empty() {
            continue;
        }
        match dns::parse_response(m) {
            Ok(Some(a)) => {
                if let Some(e) = &a.stopped {
                    if d.stop.is_some() || truncated {
                        *out.tally
                            .notes
                            .entry("dns answers cut by the snaplen".into())
                            .or_insert(0) += 1;
                    } else {
                        let name = ctx.name;
                        out.tally.skip("malformed dns", || {
                            format!("{name}: packet {index} (offset {offset}): {e}")
                        });
                    }
                }
                out.dns.push(DnsRecord {
                    time: u64::try_from(ts.0.max(0)).unwrap_or(0),
                    time_nanos: ts.1,
                    client: d.dst,
                    resolver: d.src,
                    query: a.query,
                    qtype: a.qtype,
                    rcode: a.rcode,
                    answers: a.answers,
                    cnames: a.cnames,
                    ttl: a.ttl,
                    provenance: Provenance {
                        source: ctx.source,
                        index,
                    },
                })
            }
            Ok(None) => {}
            Err(_) if truncated || d.stop.is_some() => {
                *out.tally
                    .notes
                    .entry("dns message cut by the snaplen".into())
                    .or_insert(0) += 1;
            }
            Err(e) => {
                let name = ctx.name;
                out.tally.skip("malformed dns", || {
                    format!("{name}: packet {index} (offset {offset}): {e}")
                });
            }
        }
    }
}

/// Reassembly of the first client bytes of one directional TCP flow.
#[derive(Debug, Default)]
struct Reassembly {
    done: bool,
    base: Option<u32>,
    buf: Vec<u8>,
    held: Vec<Segment>,
    name: Option<(AppName, u64)>,
}

impl Reassembly {
    /// Place a segment; true when it extended the contiguous prefix.
    fn place(&mut self, s: &Segment) -> bool {
        let base = *self.base.get_or_insert(s.seq);
        let rel = s.seq.wrapping_sub(base) as usize;
        if rel > tls::MAX_HELLO {
            return false; // before the base (wrapped) or far ahead
        }
        let end = rel + s.data.len();
        if rel <= self.buf.len() && end > self.buf.len() {
            let from = self.buf.len() - rel;
            self.buf
                .extend_from_slice(s.data.get(from..).unwrap_or(&[]));
            self.buf.truncate(tls::MAX_HELLO);
            return true;
        }
        if rel > self.buf.len() && self.held.len() < MAX_HELD {
            self.held.push(s.clone());
        }
        false
    }

    fn add(&mut self, segments: Vec<Segment>, first_index: u64) {
        if self.done {
            return;
        }
        for s in segments {
            if self.place(&s) {
                // Held segments may now fit.
                loop {
                    let held = std::mem::take(&mut self.held);
                    let mut progressed = false;
                    for h in held {
                        progressed |= self.place(&h);
                    }
                    if !progressed {
                        break;
                    }
                }
            }
            match tls::app_name(&self.buf) {
                AppName::NeedMore if self.buf.len() < tls::MAX_HELLO => {}
                AppName::Sni(n) => self.finish(Some(AppName::Sni(n)), first_index),
                AppName::HttpHost(n) => self.finish(Some(AppName::HttpHost(n)), first_index),
                _ => self.finish(None, first_index),
            }
            if self.done {
                return;
            }
        }
    }

    fn finish(&mut self, name: Option<AppName>, index: u64) {
        self.done = true;
        self.name = name.map(|n| (n, index));
        self.buf = Vec::new();
        self.held = Vec::new();
    }
}

/// The merged table of one capture.
#[derive(Debug, Default)]
pub struct FlowTable {
    /// Reassembly state lives out of line, only for flows with payload.
    flows: HashMap<WindowKey, (Acc, Option<Box<Reassembly>>)>,
    pub dns: Vec<DnsRecord>,
    pub tally: SourceTally,
}

impl FlowTable {
    /// Merge the result of the next batch (batches must come in order).
    pub fn merge(&mut self, r: BatchResult) {
        // Per-key merging does not depend on the iteration order.
        #[allow(clippy::iter_over_hash_type)]
        for (k, mut acc) in r.table {
            let stream = acc.stream.take();
            let first = acc.first_index;
            let entry = match self.flows.entry(k) {
                Entry::Occupied(o) => {
                    let e = o.into_mut();
                    e.0.absorb(acc);
                    e
                }
                Entry::Vacant(v) => v.insert((acc, None)),
            };
            let Some(stream) = stream else {
                continue;
            };
            let Stream {
                segments, early, ..
            } = *stream;
            if early.is_none() && segments.is_empty() {
                continue;
            }
            let re = entry.1.get_or_insert_with(Box::default);
            if re.base.is_none() {
                re.base = entry.0.syn_seq.map(|s| s.wrapping_add(1));
            }
            if let Some((name, index)) = early {
                if !re.done {
                    re.finish(name, index);
                }
            } else {
                re.add(segments, first);
            }
        }
        self.dns.extend(r.dns);
        self.tally += r.tally;
    }

    /// The flows, sorted by first packet, with capture evidence.
    pub fn finish(
        self,
        ctx: &Ctx<'_>,
        host: Option<IpAddr>,
    ) -> (Vec<Flow>, Vec<DnsRecord>, SourceTally) {
        let FlowTable {
            flows,
            dns,
            mut tally,
        } = self;
        let capture_host = host.or_else(|| busiest_address(&flows));
        // Sort small keys, not the (large) flow records.
        let clamp = |t: i64| u64::try_from(t.max(0)).unwrap_or(0);
        #[allow(clippy::iter_over_hash_type)] // sorted here
        let mut order: Vec<(u64, u32, u64, &WindowKey)> = flows
            .iter()
            .map(|(k, (a, _))| (clamp(a.first_ts.0), a.first_ts.1, a.first_index, k))
            .collect();
        order.sort_unstable();
        let mut out = Vec::with_capacity(flows.len());
        for (k, acc, re) in order
            .into_iter()
            .filter_map(|(_, _, _, k)| flows.get(k).map(|(a, r)| (k, a, r)))
        {
            let rev = flows.get(&k.reversed()).map(|(a, _)| a);
            let mut ev = CaptureEvidence {
                capture_host,
                wire_bytes: acc.wire_bytes,
                truncated_packets: acc.truncated,
                echo_requests: acc.echo_requests,
                echo_replies: acc.echo_requests.min(rev.map_or(0, |r| r.echo_replies)),
                ..CaptureEvidence::default()
            };
            let first_is_ours = rev.is_none_or(|r| acc.first_index < r.first_index);
            if k.key.protocol == 6 {
                let rev_syn = rev.is_some_and(|r| r.syn);
                let rev_synack = rev.is_some_and(|r| r.synack);
                let rev_rst = rev.is_some_and(|r| r.rst);
                if acc.syn && (first_is_ours || !rev_syn) {
                    ev.initiator = Some(Initiator::Source);
                    ev.handshake = Some(if rev_synack {
                        Handshake::Completed
                    } else if rev_rst {
                        Handshake::Reset
                    } else {
                        Handshake::SynOnly
                    });
                } else if rev_syn {
                    ev.initiator = Some(Initiator::Destination);
                    ev.handshake = Some(if acc.synack {
                        Handshake::Completed
                    } else if acc.rst {
                        Handshake::Reset
                    } else {
                        Handshake::SynOnly
                    });
                } else {
                    ev.handshake = Some(Handshake::NotSeen);
                }
            }
            if ev.initiator.is_none() {
                ev.initiator = Some(if first_is_ours {
                    Initiator::Source
                } else {
                    Initiator::Destination
                });
            }
            if let Some((name, index)) = re.as_ref().and_then(|r| r.name.as_ref()) {
                let (raw, is_sni) = match name {
                    AppName::Sni(n) => (n.as_slice(), true),
                    AppName::HttpHost(n) => (n.as_slice(), false),
                    _ => (&[][..], false),
                };
                let text = Text::from(String::from_utf8_lossy(raw));
                if !raw.iter().all(|&c| {
                    c.is_ascii_alphanumeric()
                        || matches!(c, b'.' | b'-' | b'_' | b'*' | b':' | b'[' | b']')
                }) {
                    let shown = sanitize_bytes(raw, 100);
                    let (n, i) = (ctx.name, *index);
                    tally.skip("suspicious name", || {
                        format!("{n}: packet {i}: server name with unexpected bytes \"{shown}\"")
                    });
                }
                if is_sni {
                    ev.sni = Some(text);
                } else {
                    ev.http_host = Some(text);
                }
            }
            let direction = capture_host.and_then(|h| {
                if k.key.src == h {
                    Some(Direction::Egress)
                } else if k.key.dst == h {
                    Some(Direction::Ingress)
                } else {
                    None
                }
            });
            out.push(Flow {
                src_addr: Some(k.key.src),
                dst_addr: Some(k.key.dst),
                src_port: Some(k.key.src_port),
                dst_port: Some(k.key.dst_port),
                protocol: Some(k.key.protocol),
                packets: Some(acc.packets),
                bytes: Some(acc.ip_bytes),
                start: Some(u64::try_from(acc.first_ts.0.max(0)).unwrap_or(0)),
                end: Some(u64::try_from(acc.last_ts.0.max(0)).unwrap_or(0)),
                start_nanos: acc.first_ts.1,
                end_nanos: acc.last_ts.1,
                tcp_flags: Some(acc.flags),
                flow_type: Some(Text::const_new(if acc.v6 { "IPv6" } else { "IPv4" })),
                flow_direction: direction,
                capture: Some(Box::new(ev)),
                provenance: Provenance {
                    source: ctx.source,
                    index: acc.first_index,
                },
                ..Flow::default()
            });
        }
        (out, dns, tally)
    }
}

/// The address that appears in the most directional flows (ties: the lowest).
fn busiest_address(flows: &HashMap<WindowKey, (Acc, Option<Box<Reassembly>>)>) -> Option<IpAddr> {
    let mut count: HashMap<IpAddr, u64> = HashMap::default();
    #[allow(clippy::iter_over_hash_type)] // counting; the pick below is order-free
    for k in flows.keys() {
        *count.entry(k.key.src).or_insert(0) += 1;
        *count.entry(k.key.dst).or_insert(0) += 1;
    }
    // An instance is captured with its private address (even a public one:
    // the public IP is NAT-ed by the internet gateway), so private addresses
    // come first; then most flows; ties go to the lowest address.
    #[allow(clippy::iter_over_hash_type)]
    count
        .into_iter()
        .max_by(|a, b| {
            is_private(a.0)
                .cmp(&is_private(b.0))
                .then(a.1.cmp(&b.1))
                .then(b.0.cmp(&a.0))
        })
        .map(|(a, _)| a)
}

/// RFC 1918, shared (100.64/10) and IPv6 unique-local addresses: where VPC
/// interfaces live.
fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private() || (o[0] == 100 && (o[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}
