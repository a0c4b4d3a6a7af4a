//! Plain-text flow logs from any reader (a file, a gzip decoder, stdin):
//! read in line-aligned chunks, parse the chunks of a batch in parallel
//! while the next batch is read, merge in input order.
//!
//! Line numbers stay exact: each chunk's first line number is the sum of the
//! newlines of the chunks before it. A header inside a chunk switches the
//! layout from there on; a chunk that was parsed with a different layout
//! than the one in effect at its start (a header in an earlier chunk of the
//! same batch changed it) is parsed again, so the result never depends on
//! how the input was cut.

use std::io::{ErrorKind, Read};

use memchr::{memchr_iter, memrchr};
use rayon::prelude::*;

use super::{FieldPlan, PlanState, Where, warn_unknown};
use crate::flow::{Provenance, SourceId, SourceTally};
use crate::ingest::FlowSink;

/// Bytes per chunk handed to one worker.
pub const CHUNK_BYTES: usize = 4 << 20;

/// A line longer than this ends the input with an error (binary junk, or a
/// file that is not flow-log text) instead of growing without bound.
pub const MAX_LINE_BYTES: usize = 64 << 20;

/// What the text reader needs to know about its input.
#[derive(Debug, Clone, Copy)]
pub struct TextInput<'a> {
    /// The input's name in messages.
    pub name: &'a str,
    pub source: SourceId,
    /// The layout before any header line: `--log-format`, else default v2.
    pub plan: &'a FieldPlan,
    /// Bytes per chunk (tests use small chunks to exercise the splitting).
    pub chunk_bytes: usize,
}

struct Chunk {
    data: Vec<u8>,
    first_line: u64,
    /// Lines in `data` (each gives at most one flow).
    lines: u64,
}

struct ChunkOut<S> {
    sink: S,
    tally: SourceTally,
    /// The layout in effect at the end of the chunk, when a header set it.
    end_plan: Option<FieldPlan>,
}

/// Read all of `reader` as flow-log text. An I/O or decompression error ends
/// the input: the records before it are kept, `tally.error` says why.
pub fn read_text<R, S, F>(reader: R, input: TextInput<'_>, new_sink: &F) -> (S, SourceTally)
where
    R: Read + Send,
    S: FlowSink,
    F: Fn() -> S + Sync,
{
    let mut reader = reader;
    let batch_len = rayon::current_num_threads().max(1) * 2;
    let chunk_bytes = input.chunk_bytes.max(1);
    let mut sink = new_sink();
    let mut tally = SourceTally::default();
    warn_unknown(input.plan, input.name, &mut tally);
    let mut plan = input.plan.clone();
    let mut line_cursor: u64 = 1;
    let mut carry: Vec<u8> = Vec::new();
    let mut error: Option<String> = None;

    let (mut batch, mut done) = read_batch(
        &mut reader,
        &mut carry,
        batch_len,
        chunk_bytes,
        &mut error,
        &mut line_cursor,
        input.name,
    );
    loop {
        // Parse this batch while the next one is read.
        let parse =
            |batch: &Vec<Chunk>, plan: &FieldPlan| parse_batch(batch, plan, input, new_sink);
        let (outs, next) = if done {
            (parse(&batch, &plan), None)
        } else {
            let (outs, next) = rayon::join(
                || parse(&batch, &plan),
                || {
                    read_batch(
                        &mut reader,
                        &mut carry,
                        batch_len,
                        chunk_bytes,
                        &mut error,
                        &mut line_cursor,
                        input.name,
                    )
                },
            );
            (outs, Some(next))
        };
        for (chunk, out) in batch.iter().zip(outs) {
            let out = if out.1 == plan {
                out.0
            } else {
                parse_chunk(chunk, &plan, input, new_sink)
            };
            if let Some(p) = out.end_plan {
                plan = p;
            }
            sink.merge(out.sink);
            tally += out.tally;
        }
        match next {
            Some((b, d)) => {
                batch = b;
                done = d;
            }
            None => break,
        }
    }
    if let Some(e) = error {
        tally.error = Some(e);
    }
    (sink, tally)
}

fn count_lines(data: &[u8]) -> u64 {
    let n = memchr_iter(b'\n', data).count() as u64;
    // A final line without a newline still counts as a line.
    if data.last().is_some_and(|b| *b != b'\n') {
        n + 1
    } else {
        n
    }
}

/// Parse every chunk of a batch in parallel, each with `plan` assumed at its
/// start. Returns each result with the plan it assumed.
fn parse_batch<S, F>(
    batch: &[Chunk],
    plan: &FieldPlan,
    input: TextInput<'_>,
    new_sink: &F,
) -> Vec<(ChunkOut<S>, FieldPlan)>
where
    S: FlowSink,
    F: Fn() -> S + Sync,
{
    batch
        .par_iter()
        .map(|c| (parse_chunk(c, plan, input, new_sink), plan.clone()))
        .collect()
}

fn parse_chunk<S, F>(
    chunk: &Chunk,
    plan: &FieldPlan,
    input: TextInput<'_>,
    new_sink: &F,
) -> ChunkOut<S>
where
    S: FlowSink,
    F: Fn() -> S + Sync,
{
    let mut sink = new_sink();
    // A collecting sink makes room once: no regrowing copies.
    sink.reserve(usize::try_from(chunk.lines).unwrap_or(0));
    let mut tally = SourceTally::default();
    let mut state = PlanState::following(plan);
    let data = chunk.data.as_slice();
    let whole = std::str::from_utf8(data).ok();
    let mut start = 0usize;
    let mut line_no = chunk.first_line;
    let mut ends = memchr_iter(b'\n', data).chain(std::iter::once(data.len()));
    loop {
        let Some(end) = ends.next() else { break };
        if end == data.len() && start >= end {
            break;
        }
        let prov = Provenance {
            source: input.source,
            index: line_no,
        };
        let text = match whole {
            Some(s) => s.get(start..end),
            None => data
                .get(start..end)
                .and_then(|b| std::str::from_utf8(b).ok()),
        };
        match text {
            Some(line) => {
                state.ingest(line, prov, input.name, Where::Line, &mut tally, &mut sink);
            }
            None => {
                tally.skip("invalid utf-8", || {
                    format!("{}:{line_no}: invalid utf-8", input.name)
                });
            }
        }
        line_no += 1;
        start = end + 1;
    }
    ChunkOut {
        sink,
        tally,
        end_plan: state.into_switched(),
    }
}

/// Read up to `n` chunks of about `chunk_bytes`, each ending at a newline
/// (the rest is carried over), numbering their first lines from
/// `line_cursor`. Returns the chunks and whether the input ended.
fn read_batch<R: Read>(
    reader: &mut R,
    carry: &mut Vec<u8>,
    n: usize,
    chunk_bytes: usize,
    error: &mut Option<String>,
    line_cursor: &mut u64,
    name: &str,
) -> (Vec<Chunk>, bool) {
    let mut out = Vec::with_capacity(n);
    let mut done = false;
    while out.len() < n && !done {
        let mut buf = std::mem::take(carry);
        buf.reserve(chunk_bytes.saturating_sub(buf.len()) + 1024);
        let mut eof = false;
        // Newline search only over bytes not looked at yet (linear time).
        let mut scanned = 0usize;
        let mut has_newline = false;
        loop {
            if !has_newline {
                has_newline = buf
                    .get(scanned..)
                    .is_some_and(|b| memchr::memchr(b'\n', b).is_some());
                scanned = buf.len();
            }
            if buf.len() >= chunk_bytes && has_newline {
                break;
            }
            if buf.len() > MAX_LINE_BYTES && !has_newline {
                *error = Some(format!(
                    "{name}:{}: line longer than {} MiB: not flow-log text",
                    *line_cursor,
                    MAX_LINE_BYTES >> 20
                ));
                buf.clear();
                eof = true;
                break;
            }
            let want = chunk_bytes.max(buf.len() + 1) - buf.len();
            match fill(reader, &mut buf, want.max(64 << 10)) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(_) => {}
                Err(e) => {
                    *error = Some(format!("{name}: {}", describe_io(&e)));
                    eof = true;
                    // Drop a final partial line: it was cut by the error.
                    match memrchr(b'\n', &buf) {
                        Some(i) => buf.truncate(i + 1),
                        None => buf.clear(),
                    }
                    break;
                }
            }
        }
        if eof {
            done = true;
        } else if let Some(i) = memrchr(b'\n', &buf) {
            *carry = buf.get(i + 1..).map(<[u8]>::to_vec).unwrap_or_default();
            buf.truncate(i + 1);
        }
        if !buf.is_empty() {
            let first_line = *line_cursor;
            let lines = count_lines(&buf);
            *line_cursor += lines;
            out.push(Chunk {
                data: buf,
                first_line,
                lines,
            });
        }
    }
    (out, done)
}

/// Append up to `want` bytes; `Ok(0)` at end of input. Retries on EINTR.
fn fill<R: Read>(reader: &mut R, buf: &mut Vec<u8>, want: usize) -> std::io::Result<usize> {
    let old = buf.len();
    buf.resize(old + want, 0);
    loop {
        let slice = buf.get_mut(old..).unwrap_or_default();
        match reader.read(slice) {
            Ok(n) => {
                buf.truncate(old + n);
                return Ok(n);
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => {
                buf.truncate(old);
                return Err(e);
            }
        }
    }
}

/// A short lower-case description of a read error (gzip errors included).
pub fn describe_io(e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::UnexpectedEof => "truncated input (unexpected end of compressed data)".into(),
        ErrorKind::InvalidInput | ErrorKind::InvalidData => {
            format!("corrupt compressed data: {e}")
        }
        _ => e.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::flow::Flow;

    fn sample_text() -> String {
        let mut s = String::new();
        for i in 0..400u32 {
            match i % 97 {
                0 => s.push_str("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"),
                50 => s.push_str("srcaddr dstaddr bytes ${encryption-status}\r\n"),
                _ => {}
            }
            if (i % 97) >= 50 {
                s.push_str(&format!(
                    "10.0.{}.{} 10.1.0.1 {} 1\r\n",
                    i / 250,
                    i % 250,
                    i
                ));
                continue;
            }
            match i % 13 {
                3 => s.push_str("2 1 eni-9 10.0.0.1 10.0.0.2 1 http 6 1 1 1 2 ACCEPT OK\n"),
                5 => s.push('\n'),
                7 => s.push_str(&format!("2 1 eni-{i} - - - - - - - 1 2 - NODATA\n")),
                _ => s.push_str(&format!(
                    "2 123456789012 eni-{i}  10.0.0.{} 52.219.60.{} {} 443 6 {} {} 1 2 ACCEPT OK\n",
                    i % 250,
                    i % 7,
                    1024 + i,
                    i,
                    i * 10
                )),
            }
        }
        s.push_str("2 1 eni-last 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 REJECT OK"); // no final newline
        s
    }

    fn read(bytes: &[u8], chunk: usize) -> (Vec<Flow>, SourceTally) {
        let plan = FieldPlan::default_v2();
        let input = TextInput {
            name: "t.log",
            source: SourceId(1),
            plan: &plan,
            chunk_bytes: chunk,
        };
        read_text(bytes, input, &Vec::<Flow>::new)
    }

    #[test]
    fn read_text_result_does_not_depend_on_chunk_size() {
        let text = sample_text();
        let (whole, wt) = read(text.as_bytes(), 1 << 20);
        assert!(whole.len() > 300, "{}", whole.len());
        assert!(wt.skipped_total() > 10);
        assert_eq!(wt.warnings.len(), 1, "{:?}", wt.warnings);
        assert_eq!(
            whole.last().unwrap().interface_id.as_deref(),
            Some("eni-last")
        );
        // Line numbers are 1-based lines of the input.
        for f in &whole {
            let line = text.lines().nth(f.provenance.index as usize - 1).unwrap();
            if let Some(eni) = &f.interface_id {
                assert!(line.contains(eni.as_str()), "{line} vs {eni}");
            } else {
                assert!(line.contains(&f.bytes.unwrap().to_string()), "{line}");
            }
        }
        for chunk in [1, 7, 64, 500, 4096] {
            let (flows, tally) = read(text.as_bytes(), chunk);
            assert_eq!(flows, whole, "chunk {chunk}");
            assert_eq!(tally, wt, "chunk {chunk}");
        }
    }

    #[test]
    fn read_text_keeps_records_before_a_read_error() {
        struct Failing<'a>(&'a [u8]);
        impl Read for Failing<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0.is_empty() {
                    return Err(std::io::Error::new(ErrorKind::UnexpectedEof, "cut"));
                }
                let n = buf.len().min(self.0.len()).min(10);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let text = "2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK\n2 1 eni-2 10.0.0.1 10.0";
        let plan = FieldPlan::default_v2();
        let input = TextInput {
            name: "t.log.gz",
            source: SourceId(0),
            plan: &plan,
            chunk_bytes: 16,
        };
        let (flows, tally): (Vec<Flow>, _) =
            read_text(Failing(text.as_bytes()), input, &Vec::<Flow>::new);
        assert_eq!(flows.len(), 1);
        assert_eq!(tally.skipped_total(), 0, "the cut line is not a bad record");
        assert_eq!(
            tally.error.as_deref(),
            Some("t.log.gz: truncated input (unexpected end of compressed data)")
        );
    }
}
