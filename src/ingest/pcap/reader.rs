//! The container: classic pcap (both byte orders, micro/nanosecond, the
//! "modified" format) and pcapng (several sections of either byte order,
//! several interfaces), read as a sequential scan of record boundaries into
//! batches of owned packets.
//!
//! pcap-parser parses each record; this module owns the buffer, so every
//! record is checked for a sane length *before* it is parsed and every step
//! makes progress (pcap-parser's own iterators can spin on errors and trust a
//! corrupt caplen).

use std::io::Read;

use pcap_parser::pcapng::{Block, parse_block_be, parse_block_le, parse_sectionheaderblock};
use pcap_parser::{
    LegacyPcapBlock, PcapError, parse_pcap_frame, parse_pcap_frame_be, parse_pcap_frame_modified,
    parse_pcap_header,
};

use crate::flow::{SourceKind, SourceTally};

/// Records larger than this are refused even when the snaplen is larger
/// (libpcap refuses above 256 KiB; BIG TCP captures reach a few hundred KiB).
pub const MAX_RECORD: usize = 16 * 1024 * 1024;
/// The smallest caplen limit for classic pcap, whatever the header's snaplen.
const MIN_CAPLEN_LIMIT: usize = 262_144;
/// How much is read from the input at a time.
const READ_CHUNK: usize = 1 << 20;
/// Packets per batch handed to a worker.
pub const BATCH_PACKETS: usize = 4096;
/// Bytes per batch handed to a worker.
pub const BATCH_BYTES: usize = 4 << 20;

/// A read buffer's size (a batch, and a read or two beyond it).
const BUFFER_BYTES: usize = BATCH_BYTES + 2 * READ_CHUNK;
/// A half-full batch ends when fewer bytes than this are left buffered.
const TAIL_BYTES: usize = 4096;
/// Batches kept for reuse.
const MAX_SPARE: usize = 32;

/// pcapng block types (host-order values).
const SHB: u32 = 0x0A0D_0D0A;

/// Errors that stop reading a capture (the packets before are kept).
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("not a pcap or pcapng capture")]
    NotACapture,
    #[error("capture header cut short ({0} of 24 bytes)")]
    HeaderCut(usize),
    #[error("empty input")]
    Empty,
    #[error("read error: {0}")]
    Io(#[from] std::io::Error),
    #[error(
        "packet {index} (offset {offset}): record length {len} exceeds the limit of {limit} bytes"
    )]
    AbsurdLength {
        index: u64,
        offset: u64,
        len: u64,
        limit: usize,
    },
    #[error("packet {index} (offset {offset}): corrupt record: {reason}")]
    Corrupt {
        index: u64,
        offset: u64,
        reason: String,
    },
}

/// One packet, its bytes living in the batch arena.
#[derive(Debug, Clone, Copy)]
pub struct PacketMeta {
    /// 1-based packet index in the capture (as tshark numbers frames).
    pub index: u64,
    /// Byte offset of the record in the (decompressed) input.
    pub offset: u64,
    pub ts_sec: i64,
    pub ts_nanos: u32,
    pub linktype: u32,
    /// Original length on the wire (link header included).
    pub orig_len: u32,
    start: usize,
    len: usize,
}

/// Packets with owned bytes: what a worker decodes.
#[derive(Debug, Default)]
pub struct Batch {
    arena: Vec<u8>,
    pub packets: Vec<PacketMeta>,
}

impl Batch {
    pub fn data(&self, p: &PacketMeta) -> &[u8] {
        self.arena.get(p.start..p.start + p.len).unwrap_or(&[])
    }

    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    /// `len` bytes at `start` of the batch's buffer (empty when outside).
    pub fn bytes(&self, start: usize, len: usize) -> &[u8] {
        self.arena
            .get(start..start.saturating_add(len))
            .unwrap_or(&[])
    }

    /// Where `part` (a slice of this batch's packets) starts in the buffer.
    pub fn offset_of(&self, part: &[u8]) -> usize {
        (part.as_ptr() as usize).wrapping_sub(self.arena.as_ptr() as usize)
    }

    fn full(&self) -> bool {
        self.packets.len() >= BATCH_PACKETS
    }
}

#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: u32,
    snaplen: u32,
    /// Units per second; None = invalid `if_tsresol` (then microseconds).
    resolution: Option<u64>,
    offset: i64,
}

#[derive(Debug)]
enum Format {
    Legacy {
        big_endian: bool,
        nanos: bool,
        modified: bool,
        linktype: u32,
        caplen_limit: usize,
    },
    Ng {
        big_endian: bool,
        interfaces: Vec<Interface>,
    },
}

/// A sequential reader of record boundaries.
pub struct CaptureReader<'r> {
    src: &'r mut dyn Read,
    /// The read buffer; `buf[..filled]` holds input (the rest is spare,
    /// already initialised, so reads go straight into it).
    buf: Vec<u8>,
    filled: usize,
    pos: usize,
    /// File offset of `buf[0]`.
    base: u64,
    eof: bool,
    format: Format,
    next_index: u64,
    done: bool,
    /// Batches given back after decoding: their buffers are reused, so the
    /// pages stay mapped (no page faults for every batch).
    spare: Vec<Batch>,
    pub kind: SourceKind,
}

fn u32_at(b: &[u8], at: usize, big: bool) -> Option<u32> {
    let s: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(if big {
        u32::from_be_bytes(s)
    } else {
        u32::from_le_bytes(s)
    })
}

impl<'r> CaptureReader<'r> {
    /// Sniff the header. Fails when the input is not a capture.
    pub fn open(src: &'r mut dyn Read) -> Result<CaptureReader<'r>, CaptureError> {
        let mut r = CaptureReader {
            src,
            buf: vec![0; BUFFER_BYTES],
            filled: 0,
            pos: 0,
            base: 0,
            eof: false,
            format: Format::Ng {
                big_endian: false,
                interfaces: Vec::new(),
            },
            next_index: 1,
            done: false,
            spare: Vec::new(),
            kind: SourceKind::Unknown,
        };
        r.ensure(24)?;
        let head = r.rest();
        if head.is_empty() {
            return Err(CaptureError::Empty);
        }
        if u32_at(head, 0, false) == Some(SHB) {
            r.kind = SourceKind::Pcapng;
            return Ok(r);
        }
        match parse_pcap_header(head) {
            Ok((rest, h)) => {
                let used = head.len() - rest.len();
                // The upper bits of the field carry FCS information (LT_FCS_*).
                let linktype = u32::try_from(h.network.0).unwrap_or(u32::MAX) & 0xFFFF;
                let snap = usize::try_from(h.snaplen).unwrap_or(usize::MAX);
                r.format = Format::Legacy {
                    big_endian: h.is_bigendian(),
                    nanos: h.is_nanosecond_precision(),
                    modified: h.is_modified_format(),
                    linktype,
                    caplen_limit: snap.clamp(MIN_CAPLEN_LIMIT, MAX_RECORD),
                };
                r.kind = SourceKind::Pcap;
                r.pos += used;
                Ok(r)
            }
            Err(_) if head.len() < 24 => Err(CaptureError::HeaderCut(head.len())),
            Err(_) => Err(CaptureError::NotACapture),
        }
    }

    fn rest(&self) -> &[u8] {
        self.buf.get(self.pos..self.filled).unwrap_or(&[])
    }

    fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Make `n` bytes available from `pos`; Ok(false) when the input ends first.
    #[inline]
    fn ensure(&mut self, n: usize) -> Result<bool, CaptureError> {
        if self.filled - self.pos >= n {
            return Ok(true);
        }
        self.fill(n)
    }

    /// Read until `n` bytes are available from `pos` (the slow path of
    /// [`Self::ensure`]).
    #[inline(never)]
    fn fill(&mut self, n: usize) -> Result<bool, CaptureError> {
        while self.filled - self.pos < n {
            if self.eof {
                return Ok(false);
            }
            // No draining here: the packets of the batch being built point
            // into this buffer; `next_batch` hands it over whole.
            let have = self.filled - self.pos;
            let want = READ_CHUNK.max(n - have);
            let end = self.filled + want;
            if self.buf.len() < end {
                self.buf.resize(end, 0);
            }
            // Large reads straight into the buffer (a `BufReader` in front
            // passes them through without copying); short reads, such as a
            // gzip decoder's, are retried until `want` bytes or the end.
            while self.filled < end {
                let Some(spare) = self.buf.get_mut(self.filled..end) else {
                    break;
                };
                match self.src.read(spare) {
                    Ok(0) => {
                        self.eof = true;
                        break;
                    }
                    Ok(k) => self.filled += k.min(end - self.filled),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(true)
    }

    fn cut_short(&mut self, tally: &mut SourceTally, name: &str) {
        let (idx, off) = (self.next_index, self.offset());
        tally.skip("cut short", || {
            format!(
                "{name}: packet {idx} (offset {off}): capture cut short in the middle of a record"
            )
        });
        tally.warn(format!("{name}: cut short in the middle of packet {idx}"));
        self.done = true;
    }

    /// Read the next batch; an empty batch means the end. A fatal problem
    /// lands in `tally.error` and ends the scan.
    pub fn next_batch(&mut self, tally: &mut SourceTally, name: &str) -> Batch {
        let (mut packets, mut fresh) = match self.spare.pop() {
            Some(b) => (b.packets, b.arena),
            None => (Vec::with_capacity(BATCH_PACKETS), vec![0; BUFFER_BYTES]),
        };
        packets.clear();
        let mut batch = Batch {
            arena: Vec::new(),
            packets,
        };
        while !self.done && !batch.full() && self.pos < BATCH_BYTES {
            // End a batch that is half full where the buffered bytes end, so
            // that little is copied over into the next buffer.
            if batch.packets.len() >= BATCH_PACKETS / 2 && self.filled - self.pos < TAIL_BYTES {
                break;
            }
            let step = match self.format {
                Format::Legacy { .. } => self.legacy_record(&mut batch, tally, name),
                Format::Ng { .. } => self.ng_block(&mut batch, tally, name),
            };
            if let Err(e) = step {
                tally.error = Some(format!("{name}: {e}"));
                self.done = true;
            }
        }
        // Hand the buffer over as the batch's arena (no copy of the packets);
        // only the unparsed tail moves to a fresh (or recycled) buffer.
        let tail = self.rest();
        if fresh.len() < tail.len() {
            fresh.resize(tail.len(), 0);
        }
        if let Some(to) = fresh.get_mut(..tail.len()) {
            to.copy_from_slice(tail);
        }
        let tail_len = tail.len();
        self.filled = tail_len;
        batch.arena = std::mem::replace(&mut self.buf, fresh);
        self.base += self.pos as u64;
        self.pos = 0;
        batch
    }

    /// Give a decoded batch back, for its buffers to be reused.
    pub fn recycle(&mut self, batch: Batch) {
        if self.spare.len() < MAX_SPARE {
            self.spare.push(batch);
        }
    }

    /// Record a packet whose bytes `data` lie inside `self.buf`.
    fn push(buf: &[u8], batch: &mut Batch, mut meta: PacketMeta, data: &[u8]) {
        meta.start = (data.as_ptr() as usize).wrapping_sub(buf.as_ptr() as usize);
        meta.len = data.len();
        if meta
            .start
            .checked_add(meta.len)
            .is_some_and(|end| end <= buf.len())
        {
            batch.packets.push(meta);
        }
    }

    fn legacy_record(
        &mut self,
        batch: &mut Batch,
        tally: &mut SourceTally,
        name: &str,
    ) -> Result<(), CaptureError> {
        let Format::Legacy {
            big_endian,
            nanos,
            modified,
            linktype,
            caplen_limit,
        } = self.format
        else {
            return Ok(());
        };
        let hdr = if modified { 24 } else { 16 };
        if !self.ensure(hdr)? {
            if !self.rest().is_empty() {
                self.cut_short(tally, name);
            }
            self.done = true;
            return Ok(());
        }
        let (index, offset) = (self.next_index, self.offset());
        let caplen = u32_at(self.rest(), 8, big_endian).unwrap_or(0);
        let caplen = usize::try_from(caplen).unwrap_or(usize::MAX);
        if caplen > caplen_limit {
            return Err(CaptureError::AbsurdLength {
                index,
                offset,
                len: caplen as u64,
                limit: caplen_limit,
            });
        }
        if !self.ensure(hdr + caplen)? {
            self.cut_short(tally, name);
            return Ok(());
        }
        let rest = self.rest();
        let parsed = if modified {
            parse_pcap_frame_modified(rest)
        } else if big_endian {
            parse_pcap_frame_be(rest)
        } else {
            parse_pcap_frame(rest)
        };
        let (used, meta, data) = match parsed {
            Ok((after, b)) => {
                let used = rest.len() - after.len();
                let (ts_sec, ts_nanos) = legacy_ts(&b, nanos, tally, name, index);
                let meta = PacketMeta {
                    index,
                    offset,
                    ts_sec,
                    ts_nanos,
                    linktype,
                    orig_len: b.origlen,
                    start: 0,
                    len: 0,
                };
                (used, meta, b.data)
            }
            Err(e) => {
                return Err(CaptureError::Corrupt {
                    index,
                    offset,
                    reason: pcap_error_text(&e),
                });
            }
        };
        if used == 0 {
            return Err(CaptureError::Corrupt {
                index,
                offset,
                reason: "no progress".into(),
            });
        }
        Self::push(&self.buf, batch, meta, data);
        self.pos += used;
        self.next_index += 1;
        Ok(())
    }

    fn ng_block(
        &mut self,
        batch: &mut Batch,
        tally: &mut SourceTally,
        name: &str,
    ) -> Result<(), CaptureError> {
        if !self.ensure(12)? {
            if !self.rest().is_empty() {
                self.cut_short(tally, name);
            }
            self.done = true;
            return Ok(());
        }
        let offset = self.offset();
        let index = self.next_index;
        let head = self.rest();
        let block_type = u32_at(head, 0, false).unwrap_or(0);
        let is_shb = block_type == SHB;
        let big = if is_shb {
            // The byte-order magic decides the section's order.
            u32_at(head, 8, false) != Some(0x1A2B_3C4D)
        } else {
            match &self.format {
                Format::Ng { big_endian, .. } => *big_endian,
                Format::Legacy { .. } => false,
            }
        };
        let len = u32_at(head, 4, big).unwrap_or(0);
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if len < 12 || len % 4 != 0 || len > MAX_RECORD {
            if is_shb && offset == 0 {
                return Err(CaptureError::NotACapture);
            }
            return Err(CaptureError::AbsurdLength {
                index,
                offset,
                len: len as u64,
                limit: MAX_RECORD,
            });
        }
        if !self.ensure(len)? {
            self.cut_short(tally, name);
            return Ok(());
        }
        let block_bytes = self.buf.get(self.pos..self.pos + len).unwrap_or(&[]);
        let parsed = if is_shb {
            parse_sectionheaderblock(block_bytes).map(|(r, b)| (r, Block::SectionHeader(b)))
        } else if big {
            parse_block_be(block_bytes)
        } else {
            parse_block_le(block_bytes)
        };
        let mut packet: Option<(PacketMeta, &[u8])> = None;
        let mut ignore: Option<&'static str> = None;
        match (parsed, &mut self.format) {
            (Ok((_, Block::SectionHeader(shb))), fmt) => {
                *fmt = Format::Ng {
                    big_endian: shb.big_endian(),
                    interfaces: Vec::new(),
                };
            }
            (Ok((_, Block::InterfaceDescription(idb))), Format::Ng { interfaces, .. }) => {
                let resolution = idb.ts_resolution();
                if resolution.is_none() {
                    tally.warn(format!(
                        "{name}: interface {} has an invalid if_tsresol {}: microseconds assumed",
                        interfaces.len(),
                        idb.if_tsresol
                    ));
                }
                interfaces.push(Interface {
                    linktype: u32::try_from(idb.linktype.0).unwrap_or(u32::MAX),
                    snaplen: idb.snaplen,
                    resolution,
                    offset: idb.if_tsoffset,
                });
            }
            (Ok((_, Block::EnhancedPacket(epb))), Format::Ng { interfaces, .. }) => {
                let Some(ifc) = usize::try_from(epb.if_id)
                    .ok()
                    .and_then(|i| interfaces.get(i))
                else {
                    let id = epb.if_id;
                    tally.skip("unknown interface", || {
                        format!("{name}: packet {index} (offset {offset}): interface {id} was not described")
                    });
                    self.next_index += 1;
                    self.pos += len;
                    return Ok(());
                };
                let ts = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                let (ts_sec, ts_nanos) = ng_ts(ts, ifc);
                let caplen = usize::try_from(epb.caplen).unwrap_or(usize::MAX);
                let data = epb.data.get(..caplen).unwrap_or(epb.data);
                packet = Some((
                    PacketMeta {
                        index,
                        offset,
                        ts_sec,
                        ts_nanos,
                        linktype: ifc.linktype,
                        orig_len: epb.origlen,
                        start: 0,
                        len: 0,
                    },
                    data,
                ));
            }
            (Ok((_, Block::SimplePacket(spb))), Format::Ng { interfaces, .. }) => {
                let Some(ifc) = interfaces.first() else {
                    tally.skip("unknown interface", || {
                        format!("{name}: packet {index} (offset {offset}): simple packet block without an interface")
                    });
                    self.next_index += 1;
                    self.pos += len;
                    return Ok(());
                };
                // pcap-parser's SPB helpers invert truncation and keep the
                // padding: caplen = min(origlen, snaplen, data).
                let mut caplen = usize::try_from(spb.origlen).unwrap_or(usize::MAX);
                if ifc.snaplen > 0 {
                    caplen = caplen.min(usize::try_from(ifc.snaplen).unwrap_or(usize::MAX));
                }
                let data = spb.data.get(..caplen).unwrap_or(spb.data);
                packet = Some((
                    PacketMeta {
                        index,
                        offset,
                        ts_sec: 0,
                        ts_nanos: 0,
                        linktype: ifc.linktype,
                        orig_len: spb.origlen,
                        start: 0,
                        len: 0,
                    },
                    data,
                ));
            }
            (Ok((_, Block::Unknown(_))), _) => ignore = Some("unknown pcapng block"),
            (Ok((_, Block::Custom(_))), _) => ignore = Some("custom pcapng block"),
            (Ok(_), _) => {}
            (Err(e), _) => {
                let reason = pcap_error_text(&e);
                tally.skip("corrupt block", || {
                    format!("{name}: offset {offset}: corrupt pcapng block of type {block_type:#x}: {reason}")
                });
            }
        }
        if let Some(what) = ignore {
            *tally.notes.entry(what.to_owned()).or_insert(0) += 1;
        }
        if let Some((meta, data)) = packet {
            Self::push(&self.buf, batch, meta, data);
            self.next_index += 1;
        }
        self.pos += len;
        Ok(())
    }
}

fn legacy_ts(
    b: &LegacyPcapBlock<'_>,
    nanos: bool,
    tally: &mut SourceTally,
    name: &str,
    index: u64,
) -> (i64, u32) {
    let per_sec: u64 = if nanos { 1_000_000_000 } else { 1_000_000 };
    let frac = u64::from(b.ts_usec);
    let mut sec = i64::from(b.ts_sec);
    if frac >= per_sec {
        tally.warn(format!(
            "{name}: packet {index}: invalid timestamp fraction {frac} (normalised)"
        ));
        sec = sec.saturating_add(i64::try_from(frac / per_sec).unwrap_or(0));
    }
    let rem = frac % per_sec;
    let ns = if nanos { rem } else { rem * 1000 };
    (sec, u32::try_from(ns).unwrap_or(0))
}

fn ng_ts(ts: u64, ifc: &Interface) -> (i64, u32) {
    let res = ifc.resolution.unwrap_or(1_000_000).max(1);
    let secs = i64::try_from(ts / res).unwrap_or(i64::MAX);
    let frac = u128::from(ts % res);
    let ns = frac * 1_000_000_000 / u128::from(res);
    (
        secs.saturating_add(ifc.offset),
        u32::try_from(ns).unwrap_or(0),
    )
}

fn pcap_error_text(e: &pcap_parser::nom::Err<PcapError<&[u8]>>) -> String {
    match e {
        pcap_parser::nom::Err::Incomplete(_) => "incomplete record".into(),
        pcap_parser::nom::Err::Error(e) | pcap_parser::nom::Err::Failure(e) => match e {
            PcapError::NomError(_, kind) => format!("{kind:?}"),
            other => format!("{:?}", other.to_owned_vec()),
        },
    }
}
