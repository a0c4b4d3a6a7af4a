//! Captures: pcap and pcapng into flows, DNS answers, TLS SNI and HTTP Host.
//!
//! CONTRACT: `read_capture(reader, name, source, opts) -> CaptureOutput`
//! (see the capture issue); `ingest::read_inputs` calls it for inputs sniffed
//! as pcap or pcapng (gzip already removed).
//!
//! Pipeline: [`reader`] scans record boundaries sequentially and hands
//! the read buffer over as a batch (no per-packet copy); while it reads the
//! next wave of batches, the pool decodes the current one: each batch is
//! decoded and summed per flow by [`assemble::decode_batch`], then each
//! shard of the capture's flow table folds its part of every batch
//! ([`assemble::Shard::apply`]), in batch order. Memory holds two waves of
//! batches plus one entry per distinct flow, whatever the capture's size.
//!
//! Known limits (each counted, none fatal):
//! - no IP defragmentation: fragments are counted in the tally; a first
//!   fragment is keyed with its ports, later ones without ports under the
//!   datagram's protocol (tshark files them as `data`);
//! - DNS over TCP: whole messages inside one segment only;
//! - SNI over TCP only (QUIC Initials are encrypted; not decrypted here);
//!   reassembly keeps at most [`tls::MAX_HELLO`] bytes of the first client
//!   bytes per flow;
//! - link types other than Ethernet, SLL, SLL2, raw IP and NULL/LOOP are
//!   counted by link type in `tally.notes` and skipped.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use rayon::prelude::*;

use crate::flow::{DnsRecord, Flow, SourceId, SourceKind, SourceTally};
use crate::ingest::{FlowSink, IngestOptions};

pub mod assemble;
pub mod decode;
pub mod dns;
pub mod reader;
pub mod tls;

use assemble::{Ctx, KeyHasher, SHARDS, Scratch, Shard};
use reader::{Batch, CaptureReader};

/// What one capture yields.
#[derive(Debug, Default)]
pub struct CaptureOutput {
    /// Directional flows (one per direction per 5-tuple, per window), sorted.
    pub flows: Vec<Flow>,
    /// DNS responses in packet order.
    pub dns: Vec<DnsRecord>,
    pub tally: SourceTally,
    /// `Pcap` or `Pcapng`.
    pub kind: SourceKind,
}

/// Read one capture (gzip already removed by the caller). `name` is used in
/// messages; problems are tallied, never returned as errors.
pub fn read_capture(
    reader: &mut dyn Read,
    name: &str,
    source: SourceId,
    opts: &IngestOptions,
) -> CaptureOutput {
    let mut flows = Vec::new();
    let rest = read_capture_into(reader, name, source, opts, &mut flows);
    CaptureOutput { flows, ..rest }
}

/// [`read_capture`], handing the flows to `sink` in their output order as
/// they are built (the returned output's `flows` is empty).
pub fn read_capture_into<S: FlowSink>(
    reader: &mut dyn Read,
    name: &str,
    source: SourceId,
    opts: &IngestOptions,
    sink: &mut S,
) -> CaptureOutput {
    let mut tally = SourceTally::default();
    let mut rdr = match CaptureReader::open(reader) {
        Ok(r) => r,
        Err(reader::CaptureError::Io(e)) => {
            return CaptureOutput {
                tally: SourceTally {
                    error: Some(format!("{name}: read error: {e}")),
                    ..tally
                },
                kind: SourceKind::Unknown,
                ..CaptureOutput::default()
            };
        }
        Err(e) => {
            // Not a capture after all (a header cut short, a bad magic):
            // counted as an input of no kind privpath reads, as the
            // classifier does for other such inputs.
            tally.skip("not a kind privpath reads", || {
                format!("{name}: not a kind privpath reads: {e}")
            });
            return CaptureOutput {
                tally,
                kind: SourceKind::Unknown,
                ..CaptureOutput::default()
            };
        }
    };
    let kind = rdr.kind;
    let ctx = Ctx {
        name,
        source,
        window: opts.window,
        hasher: KeyHasher::default(),
    };
    let wave_len = (rayon::current_num_threads() * 2).max(2);
    let mut shards: Vec<Shard> = (0..SHARDS).map(|_| Shard::default()).collect();
    // Each batch's DNS answers, joined once at the end (no regrowing copies).
    let mut dns_parts: Vec<Vec<DnsRecord>> = Vec::new();
    let mut packets = SourceTally::default();
    let mut scratch: Vec<Scratch> = (0..wave_len).map(|_| Scratch::default()).collect();
    let mut wave = read_wave(&mut rdr, &mut tally, name, wave_len);
    while !wave.is_empty() {
        let mut done = Vec::new();
        let mut next = Vec::new();
        // Decode this wave on the pool while this thread reads the next one
        // (the reader is not `Send`, so it stays here).
        rayon::in_place_scope(|s| {
            let (wave, shards, done, ctx) = (&wave, &mut shards, &mut done, &ctx);
            let scratch = &mut scratch;
            s.spawn(move |_| {
                let results: Vec<_> = wave
                    .par_iter()
                    .zip(scratch.par_iter_mut())
                    .map(|(b, sc)| assemble::decode_batch(b, sc, ctx))
                    .collect();
                shards.par_iter_mut().enumerate().for_each(|(i, sh)| {
                    for r in &results {
                        sh.apply(i, r);
                    }
                });
                *done = results.into_iter().map(|r| (r.dns, r.tally)).collect();
            });
            next = read_wave(&mut rdr, &mut tally, name, wave_len);
        });
        for (d, t) in done {
            dns_parts.push(d);
            packets += t;
        }
        for b in std::mem::replace(&mut wave, next) {
            rdr.recycle(b);
        }
    }
    assemble::finish(&shards, &ctx, opts.host, &mut packets, sink);
    let dns = super::join_all(dns_parts);
    // The tables are large: free them on the pool, not on this thread.
    shards.into_par_iter().for_each(drop);
    // Reader problems (cut short, absurd length) come after the packets.
    packets += tally;
    CaptureOutput {
        flows: Vec::new(),
        dns,
        tally: packets,
        kind,
    }
}

fn read_wave(
    rdr: &mut CaptureReader<'_>,
    tally: &mut SourceTally,
    name: &str,
    n: usize,
) -> Vec<Batch> {
    let mut wave = Vec::with_capacity(n);
    while wave.len() < n {
        let b = rdr.next_batch(tally, name);
        if b.is_empty() {
            break;
        }
        wave.push(b);
    }
    wave
}

/// Read a capture file, gzip-compressed or not (decided by its first bytes).
/// Used by `privpath dns` and tests; `ingest::read_inputs` does the same for
/// every input kind.
pub fn read_capture_file(path: &Path, source: SourceId, opts: &IngestOptions) -> CaptureOutput {
    let mut flows = Vec::new();
    let rest = read_capture_file_into(path, source, opts, &mut flows);
    CaptureOutput { flows, ..rest }
}

/// [`read_capture_file`], handing the flows to `sink` (see
/// [`read_capture_into`]).
pub fn read_capture_file_into<S: FlowSink>(
    path: &Path,
    source: SourceId,
    opts: &IngestOptions,
    sink: &mut S,
) -> CaptureOutput {
    let name = path.display().to_string();
    let fail = |e: std::io::Error| CaptureOutput {
        tally: SourceTally {
            error: Some(format!("{name}: {e}")),
            ..SourceTally::default()
        },
        ..CaptureOutput::default()
    };
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) => return fail(e),
    };
    let mut magic = [0u8; 2];
    let mut got = 0;
    while got < 2 {
        match file.read(magic.get_mut(got..).unwrap_or(&mut [])) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return fail(e),
        }
    }
    let head = std::io::Cursor::new(magic.get(..got).unwrap_or(&[]).to_vec());
    let chained = head.chain(file);
    if magic == [0x1f, 0x8b] && got == 2 {
        let mut gz = flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 16, chained));
        let mut out = read_capture_into(&mut gz, &name, source, opts, sink);
        if let Some(e) = out.tally.error.as_mut() {
            if e.contains("read error") {
                *e = format!("{e} (corrupt gzip?)");
            }
        }
        out
    } else {
        let mut r = chained;
        read_capture_into(&mut r, &name, source, opts, sink)
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::print_stderr
)]
mod conformance;

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests;
