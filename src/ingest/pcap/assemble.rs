//! Packets into directional flows.
//!
//! Two steps per wave of batches, both parallel:
//! 1. [`decode_batch`] (one task per batch) decodes every packet, hashes its
//!    flow key once, and sums the batch's packets per flow in a small local
//!    table (one [`Agg`] per flow and batch, its TCP payload segments kept
//!    as places in the batch, in capture order); the aggregates are grouped
//!    by shard. DNS answers are parsed here, in packet order. The buffers
//!    of this step ([`Scratch`]) are reused from wave to wave.
//! 2. [`Shard::apply`] (one task per shard) folds the aggregates of its
//!    shard, batch after batch, into the shard's flow table. A shard is
//!    picked by a hash of the *conversation* (both directions hash alike),
//!    so a flow and its reverse always live in the same shard, and every
//!    flow sees its packets in capture order whatever the number of threads.
//!
//! [`finish`] then turns the shards into [`Flow`] records, built in place and
//! in parallel in the final order (first packet time, then packet index).

use std::collections::HashMap as StdHashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::net::IpAddr;
use std::sync::Arc;

use rayon::prelude::*;

use crate::error::sanitize_bytes;
use crate::flow::{
    CaptureEvidence, Direction, DnsRecord, Flow, FlowKey, Handshake, Initiator, Provenance,
    RecordContext, SourceId, SourceTally, Text,
};

use super::decode::{self, Decoded, Fragment};
use super::dns;
use super::reader::Batch;
use super::tls::{self, AppName};
use crate::ingest::FlowSink;

/// Flow tables hash keys taken from untrusted captures: foldhash seeded
/// at random per process (cheap, yet not open to crafted collisions the
/// way a fixed-seed hash is).
pub type KeyHasher = foldhash::fast::RandomState;

type HashMap<K, V> = StdHashMap<K, V, KeyHasher>;

/// Shards of a capture's flow table (a power of two).
pub const SHARDS: usize = 64;
/// Out-of-order segments held while reassembling the first client bytes.
const MAX_HELD: usize = 16;
/// XOR-ed into the conversation hash for the second direction: changes the
/// bits hashbrown uses (low bucket bits and the top 7-bit tag), keeps the
/// shard bits (40..46) so both directions land in the same shard.
const REVERSE_MIX: u64 = 0xB5A3_0000_0000_6C2F;

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

fn addr_bits(a: IpAddr) -> u128 {
    match a {
        // Tagged so that an IPv4 address never equals an IPv6 one.
        IpAddr::V4(v4) => (1u128 << 127) | u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The hash of a directional key: the conversation's hash (the same for
/// both directions), mixed for one of the two directions.
pub fn key_hash(hasher: &KeyHasher, k: &WindowKey) -> u64 {
    let a = (addr_bits(k.key.src), k.key.src_port);
    let b = (addr_bits(k.key.dst), k.key.dst_port);
    let (lo, hi, forward) = if a <= b { (a, b, true) } else { (b, a, false) };
    let h = hasher.hash_one((
        lo.0,
        hi.0,
        (u32::from(lo.1) << 16) | u32::from(hi.1),
        k.key.protocol,
        k.window,
    ));
    if forward { h } else { h ^ REVERSE_MIX }
}

/// The shard of a key hash.
pub fn shard_of(hash: u64) -> usize {
    ((hash >> 40) as usize) & (SHARDS - 1)
}

/// Passes a precomputed `u64` through (anything else is folded in, so it
/// stays a valid hasher).
#[derive(Debug, Default, Clone, Copy)]
struct PassHasher(u64);

impl Hasher for PassHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// A table keyed by precomputed key hashes.
type HashIndex = StdHashMap<u64, u32, BuildHasherDefault<PassHasher>>;

/// Timestamp as (seconds, nanoseconds).
type Ts = (i64, u32);

/// One flow's packets in one batch (the output of step 1).
#[derive(Debug, Clone)]
struct Agg {
    hash: u64,
    key: WindowKey,
    acc: Acc,
    /// The next aggregate with the same key hash in the batch's table.
    next: u32,
    /// The batch's TCP payload segments of this flow, in capture order: a
    /// list threaded through [`Scratch::segs`].
    first_seg: u32,
    last_seg: u32,
}

/// No segment.
const NO_SEG: u32 = u32::MAX;

/// A TCP payload segment of the batch.
#[derive(Debug, Clone, Copy)]
struct Seg {
    seq: u32,
    /// Where the payload lies in the batch's buffer.
    start: usize,
    len: usize,
    index: u64,
    next: u32,
}

/// Counters of one directional flow.
#[derive(Debug, Clone)]
struct Acc {
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
    /// The first client bytes were classified: later payload is ignored.
    name_done: bool,
    truncated: u32,
    echo_requests: u32,
    echo_replies: u32,
    /// Sequence number of this direction's SYN (or SYN-ACK): the stream
    /// starts one after it.
    syn_seq: Option<u32>,
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
            name_done: false,
            truncated: 0,
            echo_requests: 0,
            echo_replies: 0,
            syn_seq: None,
        }
    }
}

impl Acc {
    /// Add a later part of the same flow (`o` comes after `self` in capture
    /// order).
    fn absorb(&mut self, o: &Acc) {
        self.packets += o.packets;
        self.ip_bytes += o.ip_bytes;
        self.wire_bytes += o.wire_bytes;
        self.first_index = self.first_index.min(o.first_index);
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

/// Buffers a worker fills for one batch, reused from wave to wave (fresh
/// buffers for every batch cost a page fault per 4 KiB).
#[derive(Debug, Default)]
pub struct Scratch {
    /// Key hash -> first aggregate with that hash (keys are compared in
    /// the aggregates, equal hashes chained): 16-byte buckets.
    local: HashIndex,
    aggs: Vec<Agg>,
    order: Vec<u32>,
    /// `aggs` grouped by shard: shard `s` owns
    /// `by_shard[bounds[s]..bounds[s + 1]]`.
    by_shard: Vec<Agg>,
    bounds: Vec<u32>,
    segs: Vec<Seg>,
}

/// What one worker made of one batch.
#[derive(Debug)]
pub struct BatchResult<'b> {
    batch: &'b Batch,
    scratch: &'b Scratch,
    pub dns: Vec<DnsRecord>,
    pub tally: SourceTally,
}

impl BatchResult<'_> {
    fn of_shard(&self, s: usize) -> &[Agg] {
        let b = &self.scratch.bounds;
        let lo = b.get(s).copied().unwrap_or(0) as usize;
        let hi = b.get(s + 1).copied().unwrap_or(0) as usize;
        self.scratch.by_shard.get(lo..hi).unwrap_or(&[])
    }
}

/// Settings the workers need.
#[derive(Debug, Clone)]
pub struct Ctx<'a> {
    pub name: &'a str,
    pub source: SourceId,
    pub window: Option<u64>,
    pub hasher: KeyHasher,
}

fn note(tally: &mut SourceTally, what: &str) {
    match tally.notes.get_mut(what) {
        Some(n) => *n += 1,
        None => {
            tally.notes.insert(what.to_owned(), 1);
        }
    }
}

/// Step 1: decode every packet of a batch into records grouped by shard.
pub fn decode_batch<'b>(
    batch: &'b Batch,
    scratch: &'b mut Scratch,
    ctx: &Ctx<'_>,
) -> BatchResult<'b> {
    let mut out = Decoding {
        dns: Vec::new(),
        tally: SourceTally::default(),
    };
    // The batch's own small table: packets of one flow are summed here, in
    // cache, so that the shard tables see one aggregate per flow and batch.
    let Scratch {
        local,
        aggs,
        order,
        by_shard,
        bounds,
        segs,
    } = scratch;
    local.clear();
    aggs.clear();
    segs.clear();
    let mut last: Option<(u64, u32)> = None;
    for p in &batch.packets {
        let data = batch.data(p);
        out.tally.packets += 1;
        let truncated = (data.len() as u64) < u64::from(p.orig_len);
        let d = match decode::decode(p.linktype, data, p.orig_len) {
            Ok(d) => d,
            Err(skip) => {
                note(&mut out.tally, &skip.reason());
                continue;
            }
        };
        out.tally.records += 1;
        if let Some(stop) = &d.stop {
            note(&mut out.tally, stop);
        }
        match d.fragment {
            Fragment::No => {}
            Fragment::First => note(&mut out.tally, "ip fragment (first)"),
            Fragment::Later => note(&mut out.tally, "ip fragment (later)"),
        }
        let ts = (p.ts_sec, p.ts_nanos);
        let window = match ctx.window {
            Some(w) if w > 0 => u64::try_from(p.ts_sec.max(0)).unwrap_or(0) / w,
            _ => 0,
        };
        let key = WindowKey {
            key: FlowKey {
                src: d.src,
                dst: d.dst,
                src_port: d.src_port,
                dst_port: d.dst_port,
                protocol: d.protocol,
            },
            window,
        };
        let hash = key_hash(&ctx.hasher, &key);
        if d.src_port == 53 || d.dst_port == 53 {
            dns_packet(&d, p.index, p.offset, ts, truncated, ctx, &mut out);
        }
        // Runs of packets of one flow (bulk transfers) skip the lookup.
        let ai = match last {
            Some((h, i)) if h == hash && aggs.get(i as usize).is_some_and(|a| a.key == key) => i,
            _ => {
                let n = u32::try_from(aggs.len()).unwrap_or(NO_ENTRY);
                match find_or_insert(local, aggs.as_slice(), hash, &key, n) {
                    Ok(i) => i,
                    Err(next) => {
                        aggs.push(Agg {
                            hash,
                            key,
                            acc: Acc::new(p.index, ts, d.v6),
                            next,
                            first_seg: NO_SEG,
                            last_seg: NO_SEG,
                        });
                        n
                    }
                }
            }
        };
        last = Some((hash, ai));
        let Some(a) = aggs.get_mut(ai as usize) else {
            continue;
        };
        let acc = &mut a.acc;
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
            let at = u32::try_from(segs.len()).unwrap_or(NO_SEG);
            segs.push(Seg {
                seq: d.tcp_seq,
                start: batch.offset_of(d.payload),
                len: d.payload.len(),
                index: p.index,
                next: NO_SEG,
            });
            if a.first_seg == NO_SEG {
                a.first_seg = at;
            } else if let Some(last) = segs.get_mut(a.last_seg as usize) {
                last.next = at;
            }
            a.last_seg = at;
        }
    }
    // Group by shard (a stable counting sort).
    let mut counts = [0u32; SHARDS];
    for a in aggs.iter() {
        if let Some(c) = counts.get_mut(shard_of(a.hash)) {
            *c += 1;
        }
    }
    bounds.clear();
    let mut sum = 0u32;
    bounds.push(0);
    for c in counts {
        sum += c;
        bounds.push(sum);
    }
    order.clear();
    order.resize(aggs.len(), 0);
    let mut at = [0u32; SHARDS];
    at.copy_from_slice(bounds.get(..SHARDS).unwrap_or(&[0; SHARDS]));
    for (i, a) in aggs.iter().enumerate() {
        if let Some(pos) = at.get_mut(shard_of(a.hash)) {
            if let Some(slot) = order.get_mut(*pos as usize) {
                *slot = i as u32;
            }
            *pos += 1;
        }
    }
    by_shard.clear();
    by_shard.extend(order.iter().filter_map(|&i| aggs.get(i as usize).cloned()));
    BatchResult {
        batch,
        scratch,
        dns: out.dns,
        tally: out.tally,
    }
}

/// What decoding a batch yields besides the aggregates.
struct Decoding {
    dns: Vec<DnsRecord>,
    tally: SourceTally,
}

#[allow(clippy::too_many_arguments)]
fn dns_packet(
    d: &Decoded<'_>,
    index: u64,
    offset: u64,
    ts: Ts,
    truncated: bool,
    ctx: &Ctx<'_>,
    out: &mut Decoding,
) {
    if d.fragment != Fragment::No {
        return;
    }
    match d.protocol {
        17 => dns_message(d.payload, d, index, offset, ts, truncated, ctx, out),
        6 => {
            // DNS over TCP: 2-byte length prefix; whole messages within this
            // segment only (no reassembly across segments).
            let mut rest = d.payload;
            while let Some(len) = rest.get(..2).and_then(|b| <[u8; 2]>::try_from(b).ok()) {
                let n = usize::from(u16::from_be_bytes(len));
                match rest.get(2..2 + n) {
                    Some(m) => {
                        dns_message(m, d, index, offset, ts, truncated, ctx, out);
                        rest = rest.get(2 + n..).unwrap_or(&[]);
                    }
                    None => break,
                }
            }
        }
        _ => {}
    }
}

#[allow(clippy::too_many_arguments)]
fn dns_message(
    m: &[u8],
    d: &Decoded<'_>,
    index: u64,
    offset: u64,
    ts: Ts,
    truncated: bool,
    ctx: &Ctx<'_>,
    out: &mut Decoding,
) {
    if m.is_empty() {
        return;
    }
    match dns::parse_response(m) {
        Ok(Some(a)) => {
            if let Some(e) = &a.stopped {
                if d.stop.is_some() || truncated {
                    note(&mut out.tally, "dns answers cut by the snaplen");
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
            note(&mut out.tally, "dns message cut by the snaplen");
        }
        Err(e) => {
            let name = ctx.name;
            out.tally.skip("malformed dns", || {
                format!("{name}: packet {index} (offset {offset}): {e}")
            });
        }
    }
}

/// A TCP payload segment held for reassembly.
#[derive(Debug, Clone)]
struct Segment {
    seq: u32,
    data: Vec<u8>,
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
    fn place(&mut self, seq: u32, data: &[u8]) -> bool {
        let base = *self.base.get_or_insert(seq);
        let rel = seq.wrapping_sub(base) as usize;
        if rel > tls::MAX_HELLO {
            return false; // before the base (wrapped) or far ahead
        }
        let end = rel + data.len();
        if rel <= self.buf.len() && end > self.buf.len() {
            let from = self.buf.len() - rel;
            self.buf.extend_from_slice(data.get(from..).unwrap_or(&[]));
            self.buf.truncate(tls::MAX_HELLO);
            return true;
        }
        if rel > self.buf.len() && self.held.len() < MAX_HELD {
            let keep = data.get(..tls::MAX_HELLO).unwrap_or(data);
            self.held.push(Segment {
                seq,
                data: keep.to_vec(),
            });
        }
        false
    }

    /// Add the next segment (in capture order) of the stream.
    fn add(&mut self, seq: u32, data: &[u8], index: u64) {
        if self.done {
            return;
        }
        let at_base = *self.base.get_or_insert(seq) == seq;
        let name = if at_base && self.buf.is_empty() && self.held.is_empty() {
            // The stream's first bytes in one segment (the common case):
            // decide from the packet's bytes, copy only when more is needed.
            let part = data.get(..tls::MAX_HELLO).unwrap_or(data);
            let name = tls::app_name(part);
            if matches!(name, AppName::NeedMore) {
                self.buf.extend_from_slice(part);
            }
            (name, part.len())
        } else {
            if self.place(seq, data) {
                // Held segments may now fit.
                loop {
                    let held = std::mem::take(&mut self.held);
                    let mut progressed = false;
                    for h in held {
                        progressed |= self.place(h.seq, &h.data);
                    }
                    if !progressed {
                        break;
                    }
                }
            }
            (tls::app_name(&self.buf), self.buf.len())
        };
        match name {
            (AppName::NeedMore, len) if len < tls::MAX_HELLO => {}
            (n @ (AppName::Sni(_) | AppName::HttpHost(_)), _) => self.finish(Some(n), index),
            _ => self.finish(None, index),
        }
    }

    fn finish(&mut self, name: Option<AppName>, index: u64) {
        self.done = true;
        self.name = name.map(|n| (n, index));
        self.buf = Vec::new();
        self.held = Vec::new();
    }
}

/// One directional flow in a shard.
#[derive(Debug)]
struct Entry {
    key: WindowKey,
    acc: Acc,
    /// The next entry whose key has the same 64-bit hash ([`NO_ENTRY`]:
    /// none); such chains are almost always empty.
    next: u32,
    /// The SNI or Host found, and the packet it was found in.
    name: Option<(AppName, u64)>,
    /// Reassembly state, out of line and only while a name is awaited over
    /// several segments (most streams decide on their first segment).
    re: Option<Box<Reassembly>>,
}

/// End of a hash chain.
const NO_ENTRY: u32 = u32::MAX;

/// Items of a table whose index maps a key hash to the first item with that
/// hash, equal hashes chained through the items (the batch's aggregates and
/// a shard's entries).
trait Chained {
    /// The key of item `i` and the next item with the same hash.
    fn key_next(&self, i: u32) -> Option<(&WindowKey, u32)>;
}

impl Chained for [Agg] {
    #[inline]
    fn key_next(&self, i: u32) -> Option<(&WindowKey, u32)> {
        self.get(i as usize).map(|a| (&a.key, a.next))
    }
}

impl Chained for Entries {
    #[inline]
    fn key_next(&self, i: u32) -> Option<(&WindowKey, u32)> {
        self.get(i as usize).map(|e| (&e.key, e.next))
    }
}

/// The item of `key` on the chain starting at `i`.
#[inline]
fn chain_find<C: Chained + ?Sized>(items: &C, mut i: u32, key: &WindowKey) -> Option<u32> {
    while let Some((k, next)) = items.key_next(i) {
        if k == key {
            return Some(i);
        }
        i = next;
    }
    None
}

/// `Ok(i)`: item `i` holds `key`. `Err(next)`: it does not; the index now
/// names `new_at` first for `hash`, and the caller adds that item with
/// `next` as its chain link.
#[inline]
fn find_or_insert<C: Chained + ?Sized>(
    index: &mut HashIndex,
    items: &C,
    hash: u64,
    key: &WindowKey,
    new_at: u32,
) -> Result<u32, u32> {
    match index.entry(hash) {
        std::collections::hash_map::Entry::Vacant(v) => {
            v.insert(new_at);
            Err(NO_ENTRY)
        }
        std::collections::hash_map::Entry::Occupied(mut o) => {
            match chain_find(items, *o.get(), key) {
                Some(i) => Ok(i),
                // Another key with this hash: the new item goes first.
                None => Err(o.insert(new_at)),
            }
        }
    }
}

/// What the output needs of a flow's reverse direction.
#[derive(Debug, Clone, Copy)]
struct Summary {
    initiator: Initiator,
    handshake: Option<Handshake>,
    echo_replies: u32,
    /// The SNI or Host has bytes a server name should not have.
    suspicious: bool,
}

/// One shard of a capture's flow table.
#[derive(Debug, Default)]
pub struct Shard {
    /// Key hash -> first entry with that hash. Keys are compared in the
    /// entries (which an update reads anyway), so the table holds 16-byte
    /// buckets and stays small enough for the cache.
    index: HashIndex,
    entries: Entries,
}

/// Entries per chunk of [`Entries`].
const CHUNK: usize = 512;

/// The entries of a shard, in chunks: growing never moves an entry (no
/// copies of the whole table, no fresh pages for them on every doubling).
#[derive(Debug, Default)]
struct Entries {
    chunks: Vec<Vec<Entry>>,
    len: usize,
}

impl Entries {
    fn len(&self) -> usize {
        self.len
    }

    fn get(&self, i: usize) -> Option<&Entry> {
        self.chunks.get(i / CHUNK)?.get(i % CHUNK)
    }

    fn get_mut(&mut self, i: usize) -> Option<&mut Entry> {
        self.chunks.get_mut(i / CHUNK)?.get_mut(i % CHUNK)
    }

    fn push(&mut self, e: Entry) {
        match self.chunks.last_mut() {
            Some(c) if c.len() < CHUNK => c.push(e),
            _ => {
                let mut c = Vec::with_capacity(CHUNK);
                c.push(e);
                self.chunks.push(c);
            }
        }
        self.len += 1;
    }

    fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.chunks.iter().flatten()
    }
}

impl Shard {
    /// Step 2: fold the aggregates of shard `s` of one batch into the table
    /// (batches must come in capture order).
    pub fn apply(&mut self, s: usize, batch: &BatchResult<'_>) {
        // Look every key up once before folding: the lookups do not depend
        // on each other, so their cache misses overlap; the folding below
        // then finds the table and entries in cache.
        let mut found = 0u32;
        for a in batch.of_shard(s) {
            found ^= self.find(a.hash, &a.key).unwrap_or(0);
        }
        std::hint::black_box(found);
        for a in batch.of_shard(s) {
            let (i, added) = self.find_or_add(a.hash, &a.key, || Entry {
                key: a.key,
                acc: a.acc.clone(),
                next: NO_ENTRY,
                name: None,
                re: None,
            });
            let Some(e) = self.entries.get_mut(i as usize) else {
                continue;
            };
            // The stream starts after the flow's first SYN seen up to the end
            // of the batch that brings its first payload (as before this
            // table was sharded).
            let base = e
                .acc
                .syn_seq
                .filter(|_| !added)
                .or(a.acc.syn_seq)
                .map(|s| s.wrapping_add(1));
            if !added {
                e.acc.absorb(&a.acc);
            }
            let mut at = a.first_seg;
            while let Some(seg) = batch.scratch.segs.get(at as usize) {
                let data = batch.batch.bytes(seg.start, seg.len);
                if e.acc.name_done {
                    break;
                }
                let done = match e.re.as_mut() {
                    Some(re) => {
                        re.add(seg.seq, data, seg.index);
                        re.done.then(|| re.name.take())
                    }
                    None => {
                        // The stream's first segment: no state kept unless
                        // it leaves the name undecided.
                        let mut re = Reassembly {
                            base,
                            ..Reassembly::default()
                        };
                        re.add(seg.seq, data, seg.index);
                        if re.done {
                            Some(re.name)
                        } else {
                            e.re = Some(Box::new(re));
                            None
                        }
                    }
                };
                if let Some(name) = done {
                    e.name = name;
                    e.re = None;
                    e.acc.name_done = true;
                }
                at = seg.next;
            }
        }
    }

    /// The entry of `key`.
    fn find(&self, hash: u64, key: &WindowKey) -> Option<u32> {
        chain_find(&self.entries, *self.index.get(&hash)?, key)
    }

    /// The entry of `key`, added (made by `new`) when missing; true when
    /// added.
    fn find_or_add(
        &mut self,
        hash: u64,
        key: &WindowKey,
        new: impl FnOnce() -> Entry,
    ) -> (u32, bool) {
        let n = u32::try_from(self.entries.len()).unwrap_or(NO_ENTRY);
        match find_or_insert(&mut self.index, &self.entries, hash, key, n) {
            Ok(i) => (i, false),
            Err(next) => {
                let mut e = new();
                e.next = next;
                self.entries.push(e);
                (n, true)
            }
        }
    }

    /// Handshake, initiator and answered echoes of every entry, from the
    /// entry and its reverse (both directions live in this shard; a flow
    /// from a socket to itself is its own reverse). Shard by shard, the
    /// lookups stay within one small table.
    fn summaries(&self, hasher: &KeyHasher) -> Vec<Summary> {
        self.entries
            .iter()
            .map(|e| {
                let rk = e.key.reversed();
                let rev = if rk == e.key {
                    Some(e)
                } else {
                    self.find(key_hash(hasher, &rk), &rk)
                        .and_then(|j| self.entries.get(j as usize))
                };
                summary(e, rev.map(|r| &r.acc))
            })
            .collect()
    }
}

fn summary(e: &Entry, rev: Option<&Acc>) -> Summary {
    let acc = &e.acc;
    let first_is_ours = rev.is_none_or(|r| acc.first_index < r.first_index);
    let mut initiator = None;
    let mut handshake = None;
    if e.key.key.protocol == 6 {
        let rev_syn = rev.is_some_and(|r| r.syn);
        let rev_synack = rev.is_some_and(|r| r.synack);
        let rev_rst = rev.is_some_and(|r| r.rst);
        if acc.syn && (first_is_ours || !rev_syn) {
            initiator = Some(Initiator::Source);
            handshake = Some(if rev_synack {
                Handshake::Completed
            } else if rev_rst {
                Handshake::Reset
            } else {
                Handshake::SynOnly
            });
        } else if rev_syn {
            initiator = Some(Initiator::Destination);
            handshake = Some(if acc.synack {
                Handshake::Completed
            } else if acc.rst {
                Handshake::Reset
            } else {
                Handshake::SynOnly
            });
        } else {
            handshake = Some(Handshake::NotSeen);
        }
    }
    Summary {
        initiator: initiator.unwrap_or(if first_is_ours {
            Initiator::Source
        } else {
            Initiator::Destination
        }),
        handshake,
        echo_replies: acc.echo_requests.min(rev.map_or(0, |r| r.echo_replies)),
        suspicious: name_of(e).is_some_and(|(raw, _)| !raw.iter().copied().all(name_byte)),
    }
}

/// The raw SNI or Host of a flow and the packet it was found in.
fn name_of(e: &Entry) -> Option<(&[u8], u64)> {
    match e.name.as_ref()? {
        (AppName::Sni(n) | AppName::HttpHost(n), index) => Some((n.as_slice(), *index)),
        _ => None,
    }
}

/// Where one output flow comes from, with its sort key.
#[derive(Debug, Clone, Copy)]
struct Slot<'s> {
    sec: u64,
    nanos: u32,
    first_index: u64,
    entry: &'s Entry,
    summary: Summary,
}

/// Flows built (in parallel) per slice handed to the sink: the output never
/// lies in memory all at once, unless the sink keeps it.
const OUT_SLICE: usize = 16 * 1024;

/// Turn the shards into flows sorted by first packet, with capture evidence,
/// and hand them to `sink` in that order. Suspicious server names are
/// tallied (in output order).
pub fn finish<S: FlowSink>(
    shards: &[Shard],
    ctx: &Ctx<'_>,
    host: Option<IpAddr>,
    tally: &mut SourceTally,
    sink: &mut S,
) {
    let capture_host = host.or_else(|| busiest_address(shards));
    let clamp = |t: i64| u64::try_from(t.max(0)).unwrap_or(0);
    // What needs the reverse direction, shard by shard (each shard's
    // entries are at hand, unlike in output order).
    let summaries: Vec<Vec<Summary>> = shards
        .par_iter()
        .map(|sh| sh.summaries(&ctx.hasher))
        .collect();
    // Sort small keys, not the (large) flow records. The packet index that
    // opened a flow is unique, so the order is total.
    let mut order: Vec<Slot<'_>> = Vec::with_capacity(shards.iter().map(|s| s.entries.len()).sum());
    for (sh, sums) in shards.iter().zip(&summaries) {
        order.extend(sh.entries.iter().zip(sums).map(|(e, &summary)| Slot {
            sec: clamp(e.acc.first_ts.0),
            nanos: e.acc.first_ts.1,
            first_index: e.acc.first_index,
            entry: e,
            summary,
        }));
    }
    order.par_sort_unstable_by_key(|s| (s.sec, s.nanos, s.first_index));
    // Built in parallel, a slice at a time, in the final order.
    sink.reserve(order.len());
    let mut built: Vec<Flow> = Vec::with_capacity(OUT_SLICE.min(order.len()));
    for part in order.chunks(OUT_SLICE) {
        built.par_extend(
            part.par_iter()
                .map(|s| build(s.entry, s.summary, capture_host, ctx)),
        );
        for f in built.drain(..) {
            sink.push(f);
        }
    }
    for s in order.iter().filter(|s| s.summary.suspicious) {
        if let Some((raw, index)) = name_of(s.entry) {
            let shown = sanitize_bytes(raw, 100);
            let n = ctx.name;
            tally.skip("suspicious name", || {
                format!("{n}: packet {index}: server name with unexpected bytes \"{shown}\"")
            });
        }
    }
}

/// A server name as text (lossy for bytes that are not UTF-8).
fn name_text(raw: &[u8]) -> Text {
    match std::str::from_utf8(raw) {
        Ok(s) => Text::from(s),
        Err(_) => Text::from(String::from_utf8_lossy(raw)),
    }
}

fn name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_' | b'*' | b':' | b'[' | b']')
}

/// One output record.
fn build(e: &Entry, sum: Summary, capture_host: Option<IpAddr>, ctx: &Ctx<'_>) -> Flow {
    let (k, acc) = (&e.key, &e.acc);
    let mut ev = CaptureEvidence {
        capture_host,
        initiator: Some(sum.initiator),
        handshake: sum.handshake,
        wire_bytes: acc.wire_bytes,
        truncated_packets: acc.truncated,
        echo_requests: acc.echo_requests,
        echo_replies: sum.echo_replies,
        ..CaptureEvidence::default()
    };
    if let Some((name, _)) = e.name.as_ref() {
        match name {
            AppName::Sni(n) => ev.sni = Some(name_text(n)),
            AppName::HttpHost(n) => ev.http_host = Some(name_text(n)),
            _ => {}
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
    Flow {
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
        context: Some(Arc::clone(family_context(acc.v6))),
        flow_direction: direction,
        capture: Some(Box::new(ev)),
        provenance: Provenance {
            source: ctx.source,
            index: acc.first_index,
        },
        ..Flow::default()
    }
}

/// A capture's flows log only their `type`: two contexts, shared by all.
fn family_context(v6: bool) -> &'static Arc<RecordContext> {
    static CONTEXTS: std::sync::LazyLock<[Arc<RecordContext>; 2]> =
        std::sync::LazyLock::new(|| {
            ["IPv4", "IPv6"].map(|t| {
                Arc::new(RecordContext {
                    flow_type: Some(Text::const_new(t)),
                    ..RecordContext::default()
                })
            })
        });
    let [v4, v6_ctx] = &*CONTEXTS;
    if v6 { v6_ctx } else { v4 }
}

/// The address that appears in the most directional flows (ties: the lowest).
fn busiest_address(shards: &[Shard]) -> Option<IpAddr> {
    let count = shards
        .par_iter()
        .map(|sh| {
            let mut count: HashMap<IpAddr, u64> = HashMap::default();
            for e in sh.entries.iter() {
                *count.entry(e.key.key.src).or_insert(0) += 1;
                *count.entry(e.key.key.dst).or_insert(0) += 1;
            }
            count
        })
        .reduce(HashMap::default, |mut a, b| {
            #[allow(clippy::iter_over_hash_type)] // sums: order-free
            for (k, v) in b {
                *a.entry(k).or_insert(0) += v;
            }
            a
        });
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
