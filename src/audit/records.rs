//! The audit's per-flow outputs (`-o csv|parquet`: every classified egress
//! flow with its Athena columns) without holding the flows.
//!
//! An egress record's Athena cells are encoded as it is parsed and go to
//! the same partition as its conversation row ([`RecordStore`], held up to
//! a budget and spilled to temporary files beyond it, as the rows are).
//! When a partition has been paired, its egress flows (duplicates already
//! dropped, outcomes settled) are written to a run file, sorted by (time,
//! input, index) ([`RecordRuns::write_run`]); the outputs then merge the
//! runs ([`RecordRuns::merge`]): the rows come out in the order the held
//! engine sorts its records, for any partitioning, input order or `-j`,
//! and memory holds one buffered entry per run.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::sync::Mutex;

use super::row::{ConvRow, outcome_code, outcome_of};
use crate::classify::Outcome;
use crate::flow::{COLUMNS, Flow};
use crate::report::records::{Cell, standard_cell};

type State = foldhash::fast::RandomState;

const NULL: u8 = 0;
const INT: u8 = 1;
const IP4: u8 = 2;
const IP6: u8 = 3;
const STR: u8 = 4;

/// Append the Athena cells of `flow` ([`COLUMNS`] order), tagged.
fn encode_cells(flow: &Flow, out: &mut Vec<u8>) {
    for i in 0..COLUMNS.len() {
        match standard_cell(flow, i) {
            Cell::Null => out.push(NULL),
            Cell::Int(n) => {
                out.push(INT);
                out.extend_from_slice(&n.to_le_bytes());
            }
            Cell::Ip(IpAddr::V4(a)) => {
                out.push(IP4);
                out.extend_from_slice(&a.octets());
            }
            Cell::Ip(IpAddr::V6(a)) => {
                out.push(IP6);
                out.extend_from_slice(&a.octets());
            }
            Cell::Str(s) => {
                let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
                out.push(STR);
                out.extend_from_slice(&len.to_le_bytes());
                out.extend_from_slice(s.as_bytes().get(..len as usize).unwrap_or_default());
            }
        }
    }
}

/// Decode the cells [`encode_cells`] wrote. A cut-short buffer (a damaged
/// spill file) ends the cells early; the caller pads with absent values.
pub fn decode_cells(mut b: &[u8]) -> Vec<Cell<'_>> {
    fn take<'b>(b: &mut &'b [u8], n: usize) -> Option<&'b [u8]> {
        let (head, rest) = b.split_at_checked(n)?;
        *b = rest;
        Some(head)
    }
    let mut cells = Vec::with_capacity(COLUMNS.len());
    while let Some(tag) = take(&mut b, 1).and_then(|t| t.first().copied()) {
        let cell = match tag {
            INT => take(&mut b, 8)
                .and_then(|s| <[u8; 8]>::try_from(s).ok())
                .map(|a| Cell::Int(u64::from_le_bytes(a))),
            IP4 => take(&mut b, 4)
                .and_then(|s| <[u8; 4]>::try_from(s).ok())
                .map(|a| Cell::Ip(IpAddr::V4(Ipv4Addr::from(a)))),
            IP6 => take(&mut b, 16)
                .and_then(|s| <[u8; 16]>::try_from(s).ok())
                .map(|a| Cell::Ip(IpAddr::V6(Ipv6Addr::from(a)))),
            STR => take(&mut b, 4)
                .and_then(|s| <[u8; 4]>::try_from(s).ok())
                .map(u32::from_le_bytes)
                .and_then(|n| take(&mut b, n as usize))
                .map(|s| Cell::Str(String::from_utf8_lossy(s))),
            _ => Some(Cell::Null),
        };
        let Some(cell) = cell else { break };
        cells.push(cell);
    }
    while cells.len() < COLUMNS.len() {
        cells.push(Cell::Null);
    }
    cells
}

/// Encoded records a sink gathers before handing them to the store:
/// (partition, bytes of one entry) appended to one buffer.
#[derive(Debug, Default)]
pub struct RecordBatch {
    ends: Vec<(usize, usize)>,
    bytes: Vec<u8>,
}

impl RecordBatch {
    /// Add `flow` (whose row went to partition `part`).
    pub fn add(&mut self, part: usize, flow: &Flow) {
        self.bytes
            .extend_from_slice(&flow.provenance.source.0.to_le_bytes());
        self.bytes
            .extend_from_slice(&flow.provenance.index.to_le_bytes());
        let len_at = self.bytes.len();
        self.bytes.extend_from_slice(&[0; 4]);
        encode_cells(flow, &mut self.bytes);
        let len = u32::try_from(self.bytes.len() - len_at - 4).unwrap_or(u32::MAX);
        if let Some(slot) = self.bytes.get_mut(len_at..len_at + 4) {
            slot.copy_from_slice(&len.to_le_bytes());
        }
        self.ends.push((part, self.bytes.len()));
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

#[derive(Debug, Default)]
struct Part {
    bytes: Vec<u8>,
    spilled: bool,
}

#[derive(Debug)]
struct Inner {
    parts: Vec<Part>,
    in_memory: usize,
    dir: Option<tempfile::TempDir>,
    error: Option<String>,
}

/// The encoded egress records of one audit run, partitioned as the rows.
#[derive(Debug)]
pub struct RecordStore {
    inner: Mutex<Inner>,
    budget: usize,
}

fn make_dir(dir: &mut Option<tempfile::TempDir>) -> Result<&tempfile::TempDir, String> {
    if dir.is_none() {
        let d = tempfile::Builder::new()
            .prefix("privpath-records-")
            .tempdir()
            .map_err(|e| format!("cannot make a folder for the flow records: {e}"))?;
        *dir = Some(d);
    }
    dir.as_ref()
        .ok_or_else(|| "no folder for the flow records".to_owned())
}

impl RecordStore {
    /// A store of `partitions` partitions (as many as the row store's)
    /// holding at most `budget` bytes in memory.
    pub fn new(partitions: usize, budget: usize) -> RecordStore {
        RecordStore {
            inner: Mutex::new(Inner {
                parts: (0..partitions.max(1)).map(|_| Part::default()).collect(),
                in_memory: 0,
                dir: None,
                error: None,
            }),
            budget,
        }
    }

    /// Add a batch; spills every partition when the bytes held pass the
    /// budget. A spill error keeps the records in memory and is reported.
    pub fn push(&self, batch: &mut RecordBatch) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut start = 0;
        for &(p, end) in &batch.ends {
            if let (Some(part), Some(b)) = (inner.parts.get_mut(p), batch.bytes.get(start..end)) {
                part.bytes.extend_from_slice(b);
            }
            start = end;
        }
        inner.in_memory += batch.bytes.len();
        batch.ends.clear();
        batch.bytes.clear();
        if inner.in_memory > self.budget && inner.error.is_none() {
            spill_all(&mut inner);
        }
    }

    /// The store, ready for [`RecordRuns::write_run`] per paired partition.
    pub fn into_runs(self) -> RecordRuns {
        let mut inner = self.inner.into_inner().unwrap_or_else(|p| p.into_inner());
        let mut error = inner.error.take();
        if let Err(e) = make_dir(&mut inner.dir).map(|_| ()) {
            error.get_or_insert(e);
        }
        let dir = inner.dir.take();
        let count = inner.parts.len();
        RecordRuns {
            parts: inner
                .parts
                .into_iter()
                .map(|p| Mutex::new(Some(p)))
                .collect(),
            runs: Mutex::new(vec![None; count]),
            dir,
            errors: Mutex::new(error.into_iter().collect()),
        }
    }
}

fn part_path(dir: &tempfile::TempDir, p: usize) -> PathBuf {
    dir.path().join(format!("part-{p:05}.recs"))
}

fn run_path(dir: &tempfile::TempDir, p: usize) -> PathBuf {
    dir.path().join(format!("run-{p:05}.recs"))
}

fn spill_all(inner: &mut Inner) {
    let dir = match make_dir(&mut inner.dir) {
        Ok(d) => d.path().to_owned(),
        Err(e) => {
            inner.error = Some(e);
            return;
        }
    };
    for (p, part) in inner.parts.iter_mut().enumerate() {
        if part.bytes.is_empty() {
            continue;
        }
        let path = dir.join(format!("part-{p:05}.recs"));
        let written = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(&part.bytes));
        if let Err(e) = written {
            inner.error = Some(format!("cannot write {}: {e}", path.display()));
            break;
        }
        part.bytes = Vec::new();
        part.spilled = true;
    }
    inner.in_memory = inner.parts.iter().map(|p| p.bytes.len()).sum();
}

/// The partitions' records after ingest, turned into sorted runs as the
/// partitions are paired, then merged into the outputs.
#[derive(Debug)]
pub struct RecordRuns {
    parts: Vec<Mutex<Option<Part>>>,
    /// Entries of each run written (`None`: no run for that partition).
    runs: Mutex<Vec<Option<u64>>>,
    dir: Option<tempfile::TempDir>,
    errors: Mutex<Vec<String>>,
}

/// One record of a run, in the order the outputs write them.
#[derive(Debug)]
pub struct RunEntry {
    pub time: Option<u64>,
    pub source: u32,
    pub index: u64,
    pub class: u32,
    pub outcome: Outcome,
    /// The encoded Athena cells ([`decode_cells`]).
    pub cells: Vec<u8>,
}

impl RunEntry {
    fn key(&self) -> (Option<u64>, u32, u64) {
        (self.time, self.source, self.index)
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.push(u8::from(self.time.is_some()));
        out.extend_from_slice(&self.time.unwrap_or(0).to_le_bytes());
        out.extend_from_slice(&self.source.to_le_bytes());
        out.extend_from_slice(&self.index.to_le_bytes());
        out.extend_from_slice(&self.class.to_le_bytes());
        out.push(outcome_code(self.outcome));
        let len = u32::try_from(self.cells.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&self.cells);
    }

    /// The next entry of a run file; `Ok(None)` at its end.
    fn read(r: &mut impl Read) -> std::io::Result<Option<RunEntry>> {
        let mut head = [0u8; 1 + 8 + 4 + 8 + 4 + 1 + 4];
        match r.read_exact(&mut head) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        let mut c = Fields { b: &head, at: 0 };
        let has_time = c.take::<1>()[0] == 1;
        let time = u64::from_le_bytes(c.take());
        let source = u32::from_le_bytes(c.take());
        let index = u64::from_le_bytes(c.take());
        let class = u32::from_le_bytes(c.take());
        let outcome = outcome_of(c.take::<1>()[0]);
        let len = u32::from_le_bytes(c.take());
        let mut cells = vec![0; len as usize];
        r.read_exact(&mut cells)?;
        Ok(Some(RunEntry {
            time: has_time.then_some(time),
            source,
            index,
            class,
            outcome,
            cells,
        }))
    }
}

/// Fixed-width fields of a run entry's head.
struct Fields<'b> {
    b: &'b [u8],
    at: usize,
}

impl Fields<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        if let Some(s) = self.b.get(self.at..self.at + N) {
            out.copy_from_slice(s);
        }
        self.at += N;
        out
    }
}

/// Entries of a partition's buffer: (source, index) → encoded cells.
fn index_entries(bytes: &[u8]) -> HashMap<(u32, u64), &[u8], State> {
    let mut map = HashMap::default();
    let mut b = bytes;
    loop {
        let Some((head, rest)) = b.split_at_checked(16) else {
            break;
        };
        let mut f = Fields { b: head, at: 0 };
        let source = u32::from_le_bytes(f.take());
        let index = u64::from_le_bytes(f.take());
        let len = u32::from_le_bytes(f.take()) as usize;
        let Some((cells, rest)) = rest.split_at_checked(len) else {
            break;
        };
        map.insert((source, index), cells);
        b = rest;
    }
    map
}

impl RecordRuns {
    fn error(&self, e: String) {
        self.errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(e);
    }

    /// Partition `p` has been paired: write its `egress` flows (with their
    /// settled outcomes) as a sorted run. Errors are kept for
    /// [`RecordRuns::errors`]; the run goes on without that partition.
    pub fn write_run(&self, p: usize, egress: &[(ConvRow, Outcome)]) {
        let part = self
            .parts
            .get(p)
            .and_then(|m| m.lock().unwrap_or_else(|e| e.into_inner()).take());
        let (Some(part), Some(dir)) = (part, self.dir.as_ref()) else {
            return;
        };
        let mut bytes = Vec::new();
        if part.spilled {
            let path = part_path(dir, p);
            if let Err(e) = File::open(&path).and_then(|mut f| f.read_to_end(&mut bytes)) {
                self.error(format!("cannot read {}: {e}", path.display()));
            }
            let _ = std::fs::remove_file(&path);
        }
        bytes.extend_from_slice(&part.bytes);
        drop(part);
        let cells = index_entries(&bytes);
        let mut entries: Vec<RunEntry> = egress
            .iter()
            .map(|(row, outcome)| RunEntry {
                time: row.start.or(row.end),
                source: row.source,
                index: row.index,
                class: row.class,
                outcome: *outcome,
                cells: cells
                    .get(&(row.source, row.index))
                    .map(|c| c.to_vec())
                    .unwrap_or_default(),
            })
            .collect();
        drop(cells);
        drop(bytes);
        entries.sort_unstable_by_key(RunEntry::key);
        let mut out = Vec::new();
        for e in &entries {
            e.encode(&mut out);
        }
        let path = run_path(dir, p);
        match std::fs::write(&path, &out) {
            Ok(()) => {
                if let Some(slot) = self
                    .runs
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get_mut(p)
                {
                    *slot = Some(entries.len() as u64);
                }
            }
            Err(e) => self.error(format!("cannot write {}: {e}", path.display())),
        }
    }

    /// What went wrong with the temporary files (those records are missing
    /// from the outputs), sorted.
    pub fn errors(&self) -> Vec<String> {
        let mut e = self
            .errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        e.sort();
        e
    }

    /// Every run's entries in (time, input, index) order, to `each`.
    /// Returns the entries given. Can be called again (for a second format).
    pub fn merge(
        &self,
        mut each: impl FnMut(&RunEntry) -> std::io::Result<()>,
    ) -> std::io::Result<u64> {
        let Some(dir) = self.dir.as_ref() else {
            return Ok(0);
        };
        let runs = self.runs.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut readers = Vec::new();
        let mut heap = BinaryHeap::new();
        for (p, n) in runs.iter().enumerate() {
            if !n.is_some_and(|n| n > 0) {
                continue;
            }
            let path = run_path(dir, p);
            let f = File::open(&path)
                .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
            let mut r = BufReader::with_capacity(1 << 14, f);
            if let Some(e) = RunEntry::read(&mut r)? {
                heap.push(Reverse(Head(e, readers.len())));
            }
            readers.push(r);
        }
        let mut given = 0u64;
        while let Some(Reverse(Head(entry, r))) = heap.pop() {
            each(&entry)?;
            given += 1;
            if let Some(reader) = readers.get_mut(r) {
                if let Some(next) = RunEntry::read(reader)? {
                    heap.push(Reverse(Head(next, r)));
                }
            }
        }
        Ok(given)
    }
}

/// A run's next entry in the merge heap, ordered by its key.
struct Head(RunEntry, usize);

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.0.key() == other.0.key()
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Head {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.key().cmp(&other.0.key())
    }
}

/// The cells as text (tests).
#[cfg(test)]
fn cells_text(cells: &[Cell<'_>]) -> Vec<String> {
    cells.iter().map(|c| c.text().into_owned()).collect()
}

/// Cells that own their text (a decoded entry outlives its buffer).
pub fn owned(cells: Vec<Cell<'_>>) -> Vec<Cell<'static>> {
    cells
        .into_iter()
        .map(|c| match c {
            Cell::Str(s) => Cell::Str(Cow::Owned(s.into_owned())),
            Cell::Null => Cell::Null,
            Cell::Int(n) => Cell::Int(n),
            Cell::Ip(a) => Cell::Ip(a),
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::classify::Role;
    use crate::flow::{Provenance, SourceId};

    fn flow(source: u32, index: u64, start: u64) -> Flow {
        Flow {
            provenance: Provenance {
                source: SourceId(source),
                index,
            },
            start: Some(start),
            end: Some(start + 60),
            interface_id: Some("eni-1".into()),
            src_addr: "10.0.0.1".parse().ok(),
            dst_addr: "2001:db8::1".parse().ok(),
            bytes: Some(index * 10),
            ..Flow::default()
        }
    }

    #[test]
    fn cells_round_trip_through_the_encoding() {
        let f = flow(1, 7, 100);
        let mut b = Vec::new();
        encode_cells(&f, &mut b);
        let want: Vec<String> = (0..COLUMNS.len())
            .map(|i| standard_cell(&f, i).text().into_owned())
            .collect();
        assert_eq!(cells_text(&decode_cells(&b)), want);
        // Cut short: padded with absent values, no panic.
        let cut = decode_cells(&b[..b.len() / 2]);
        assert_eq!(cut.len(), COLUMNS.len());
    }

    #[test]
    fn runs_merge_in_time_then_input_order_across_partitions_and_spills() {
        // Three partitions, a budget that spills after every batch.
        let store = RecordStore::new(3, 64);
        let flows: Vec<(usize, Flow)> = vec![
            (0, flow(0, 3, 300)),
            (1, flow(0, 1, 100)),
            (2, flow(1, 0, 100)),
            (0, flow(0, 2, 100)),
            (1, flow(0, 9, 50)),
        ];
        for (p, f) in &flows {
            let mut batch = RecordBatch::default();
            batch.add(*p, f);
            store.push(&mut batch);
        }
        let runs = store.into_runs();
        for p in 0..3 {
            let egress: Vec<(ConvRow, Outcome)> = flows
                .iter()
                .filter(|(q, _)| *q == p)
                .map(|(_, f)| {
                    (
                        ConvRow::of(f, 0, 5, Role::Egress, Outcome::Unknown),
                        Outcome::Answered,
                    )
                })
                .collect();
            runs.write_run(p, &egress);
        }
        assert!(runs.errors().is_empty(), "{:?}", runs.errors());
        for _ in 0..2 {
            let mut got = Vec::new();
            let n = runs
                .merge(|e| {
                    let bytes = decode_cells(&e.cells)[9].text().into_owned();
                    got.push((e.time, e.source, e.index, e.class, bytes));
                    Ok(())
                })
                .unwrap();
            assert_eq!(n, 5);
            let keys: Vec<(Option<u64>, u32, u64)> = got.iter().map(|g| (g.0, g.1, g.2)).collect();
            assert_eq!(
                keys,
                vec![
                    (Some(50), 0, 9),
                    (Some(100), 0, 1),
                    (Some(100), 0, 2),
                    (Some(100), 1, 0),
                    (Some(300), 0, 3)
                ]
            );
            assert!(got.iter().all(|g| g.3 == 5));
            assert_eq!(got[0].4, "90");
        }
    }
}
