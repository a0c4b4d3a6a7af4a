//! Conversation rows partitioned by a hash of (host, 5-tuple either way
//! round), kept in memory up to a budget and spilled to temporary files
//! beyond it. Every record of one conversation lands in one partition, so a
//! partition can be paired on its own.

use std::fs::{File, OpenOptions};
use std::hash::{BuildHasher, Hash, Hasher};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::PathBuf;
use std::sync::Mutex;

use super::row::{ConvRow, ENCODED_LEN};

/// Default bytes of rows held in memory before partitions spill.
pub const DEFAULT_BUDGET: usize = 96 << 20;

/// Rows per partition aimed at (the pairing of one partition holds its rows
/// and a table of its egress flows).
const ROWS_PER_PARTITION: u64 = 1 << 14;

/// Bytes a row takes in memory (its size in a vector).
pub const ROW_BYTES: usize = std::mem::size_of::<ConvRow>();

/// How many partitions for about `records` records: enough that one
/// partition's pairing stays small, few enough to keep the spill files few.
pub fn partitions_for(records: u64) -> usize {
    let want = (records / ROWS_PER_PARTITION).clamp(16, 1024);
    usize::try_from(want.next_power_of_two()).unwrap_or(1024)
}

/// An estimate of the records in inputs of `bytes` (text ≈ 100 bytes a
/// record, gzip ≈ 10 bytes).
pub fn estimate_records(plain_bytes: u64, gzip_bytes: u64) -> u64 {
    plain_bytes / 100 + gzip_bytes / 10
}

#[derive(Debug, Default)]
struct Part {
    rows: Vec<ConvRow>,
    /// Rows written to this partition's spill file.
    spilled: u64,
}

#[derive(Debug)]
struct Inner {
    parts: Vec<Part>,
    in_memory: usize,
    dir: Option<tempfile::TempDir>,
    /// The first spill error (the rows then stay in memory).
    error: Option<String>,
    spills: u64,
}

/// The partitioned row store of one audit run. Shared by `&` between the
/// ingest workers; each hands over a batch at a time ([`RowStore::push`]).
#[derive(Debug)]
pub struct RowStore {
    inner: Mutex<Inner>,
    budget: usize,
    hasher: foldhash::fast::RandomState,
    count: usize,
}

/// One partition's rows, read back (memory and spill file), unsorted.
#[derive(Debug, Default)]
pub struct Partition {
    pub rows: Vec<ConvRow>,
}

/// What the store did: rows kept, rows spilled, spill rounds, any spill error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreStats {
    pub partitions: usize,
    pub spilled_rows: u64,
    pub spills: u64,
    pub error: Option<String>,
}

impl RowStore {
    /// A store of `partitions` partitions holding at most `budget` bytes of
    /// rows in memory.
    pub fn new(partitions: usize, budget: usize) -> RowStore {
        let count = partitions.max(1);
        RowStore {
            inner: Mutex::new(Inner {
                parts: (0..count).map(|_| Part::default()).collect(),
                in_memory: 0,
                dir: None,
                error: None,
                spills: 0,
            }),
            budget,
            hasher: foldhash::fast::RandomState::default(),
            count,
        }
    }

    /// The partition of a row: (host, conversation) hashed (seeded per run).
    pub fn partition_of(&self, row: &ConvRow) -> usize {
        let mut h = self.hasher.build_hasher();
        row.host.hash(&mut h);
        row.conversation().hash(&mut h);
        usize::try_from(h.finish() % self.count as u64).unwrap_or(0)
    }

    /// Add a batch of rows; spills every partition when the rows held pass
    /// the budget. Never fails: a spill error keeps the rows in memory.
    pub fn push(&self, batch: &mut Vec<ConvRow>) {
        if batch.is_empty() {
            return;
        }
        let mut slots: Vec<(usize, ConvRow)> =
            batch.drain(..).map(|r| (self.partition_of(&r), r)).collect();
        slots.sort_unstable_by_key(|(p, _)| *p);
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let n = slots.len();
        for (p, r) in slots {
            if let Some(part) = inner.parts.get_mut(p) {
                part.rows.push(r);
            }
        }
        inner.in_memory += n * ROW_BYTES;
        if inner.in_memory > self.budget && inner.error.is_none() {
            spill_all(&mut inner);
        }
    }

    /// Hand out the partitions one by one (each read back whole), and what
    /// the store did.
    pub fn into_partitions(self) -> (PartitionIter, StoreStats) {
        let inner = self.inner.into_inner().unwrap_or_else(|p| p.into_inner());
        let stats = StoreStats {
            partitions: inner.parts.len(),
            spilled_rows: inner.parts.iter().map(|p| p.spilled).sum(),
            spills: inner.spills,
            error: inner.error.clone(),
        };
        (PartitionIter { inner }, stats)
    }
}

fn spill_path(dir: &tempfile::TempDir, p: usize) -> PathBuf {
    dir.path().join(format!("part-{p:05}.rows"))
}

/// Append every partition's rows in memory to its file.
fn spill_all(inner: &mut Inner) {
    if inner.dir.is_none() {
        match tempfile::Builder::new().prefix("privpath-audit-").tempdir() {
            Ok(d) => inner.dir = Some(d),
            Err(e) => {
                inner.error = Some(format!("cannot make a spill folder: {e}"));
                return;
            }
        }
    }
    let Some(dir) = inner.dir.as_ref() else {
        return;
    };
    let mut buf = Vec::new();
    let mut error = None;
    for (p, part) in inner.parts.iter_mut().enumerate() {
        if part.rows.is_empty() {
            continue;
        }
        buf.clear();
        buf.reserve(part.rows.len() * ENCODED_LEN);
        for r in &part.rows {
            r.encode(&mut buf);
        }
        let path = spill_path(dir, p);
        let written = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|f| {
                let mut w = BufWriter::new(f);
                w.write_all(&buf)?;
                w.flush()
            });
        match written {
            Ok(()) => {
                part.spilled += part.rows.len() as u64;
                part.rows = Vec::new();
            }
            Err(e) => {
                error = Some(format!("cannot write {}: {e}", path.display()));
                break;
            }
        }
    }
    inner.in_memory = inner.parts.iter().map(|p| p.rows.len() * ROW_BYTES).sum();
    inner.spills += 1;
    if error.is_some() {
        inner.error = error;
    }
}

/// The partitions of a finished store, read back one at a time.
#[derive(Debug)]
pub struct PartitionIter {
    inner: Inner,
}

impl PartitionIter {
    pub fn len(&self) -> usize {
        self.inner.parts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inner.parts.is_empty()
    }

    /// Partition `p`: its spilled rows read back, then those in memory.
    /// Takes them out of the store (a second call gives nothing). A read
    /// error is returned with the rows read before it.
    pub fn take(&self, p: usize, mem: Vec<ConvRow>) -> (Partition, Option<String>) {
        let spilled = self.inner.parts.get(p).map_or(0, |x| x.spilled);
        let mut rows = Vec::with_capacity(mem.len() + usize::try_from(spilled).unwrap_or(0));
        let mut error = None;
        if let (Some(dir), true) = (self.inner.dir.as_ref(), spilled > 0) {
            let path = spill_path(dir, p);
            match File::open(&path) {
                Ok(f) => {
                    let mut r = BufReader::with_capacity(1 << 16, f);
                    let mut one = [0u8; ENCODED_LEN];
                    loop {
                        match r.read_exact(&mut one) {
                            Ok(()) => rows.push(ConvRow::decode(&one)),
                            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                            Err(e) => {
                                error = Some(format!("cannot read {}: {e}", path.display()));
                                break;
                            }
                        }
                    }
                    if (rows.len() as u64) < spilled && error.is_none() {
                        error = Some(format!("{}: spill file cut short", path.display()));
                    }
                }
                Err(e) => error = Some(format!("cannot open {}: {e}", path.display())),
            }
            let _ = std::fs::remove_file(&path);
        }
        rows.extend(mem);
        (Partition { rows }, error)
    }

    /// The in-memory rows of every partition, moved out (to hand each to
    /// [`PartitionIter::take`] from a parallel loop).
    pub fn memory_rows(&mut self) -> Vec<Vec<ConvRow>> {
        self.inner
            .parts
            .iter_mut()
            .map(|p| std::mem::take(&mut p.rows))
            .collect()
    }
}
