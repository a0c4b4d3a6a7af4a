//! The streamed audit's `-o csv|parquet`, written from its record runs
//! ([`RecordRuns::merge`]): the columns, types and row order of the held
//! renderers ([`crate::report::csv`], [`crate::report::parquet`]), one
//! record in memory at a time (Parquet: one row group of [`BATCH`] rows).

use std::borrow::Cow;
use std::io::Write;

use super::Class;
use super::records::{RecordRuns, RunEntry, decode_cells, owned};
use crate::flow::{COLUMNS, Flow};
use crate::report::csv::{CLASS_COLUMNS, class_cell};
use crate::report::parquet::{ClassifiedParquet, ParquetRenderError};
use crate::report::records::{Cell, push_csv_cell, push_csv_record};
use crate::report::{FlowRecord, Outcome};

/// Rows per Parquet row group.
pub const BATCH: usize = 1 << 16;

/// The classification of every interned class, as the held renderers read
/// it (a record without its flow), and the inputs' names.
pub struct FlowTable<'a> {
    protos: Vec<FlowRecord>,
    sources: &'a [String],
}

impl<'a> FlowTable<'a> {
    pub fn new(classes: &[Class], sources: &'a [String]) -> FlowTable<'a> {
        let protos = classes
            .iter()
            .map(|c| FlowRecord {
                flow: Flow::default(),
                service: c.service.clone(),
                host: c.host.clone(),
                path: c.path,
                outcome: Outcome::Unknown,
                endpoint_id: c.endpoint_id.clone(),
                evidence: c.evidence.clone(),
                source_file: String::new(),
            })
            .collect();
        FlowTable { protos, sources }
    }

    /// The classification cells of one entry ([`CLASS_COLUMNS`] order).
    fn class_cells(&self, e: &RunEntry) -> Vec<Cell<'_>> {
        let proto = usize::try_from(e.class)
            .ok()
            .and_then(|c| self.protos.get(c));
        (0..CLASS_COLUMNS.len())
            .map(|j| match (j, proto) {
                (6, _) => Cell::Str(Cow::Borrowed(e.outcome.as_str())),
                (9, _) => usize::try_from(e.source)
                    .ok()
                    .and_then(|s| self.sources.get(s))
                    .map_or(Cell::Null, |s| Cell::Str(Cow::Borrowed(s.as_str()))),
                (10, _) => Cell::Int(e.index),
                (_, Some(p)) => class_cell(p, j),
                (_, None) => Cell::Null,
            })
            .collect()
    }

    /// Every flow as CSV to `w` (header first). Returns the rows written.
    pub fn write_csv(&self, runs: &RecordRuns, w: &mut dyn Write) -> std::io::Result<u64> {
        let mut out = Vec::with_capacity(1 << 16);
        push_csv_record(
            &mut out,
            COLUMNS.iter().chain(CLASS_COLUMNS.iter()).copied(),
        );
        let n = runs.merge(|e| {
            for (i, c) in decode_cells(&e.cells).into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                push_csv_cell(&mut out, c);
            }
            for c in self.class_cells(e) {
                out.push(b',');
                push_csv_cell(&mut out, c);
            }
            out.push(b'\n');
            if out.len() >= 1 << 16 {
                w.write_all(&out)?;
                out.clear();
            }
            Ok(())
        })?;
        w.write_all(&out)?;
        w.flush()?;
        Ok(n)
    }

    /// Every flow as Parquet to `w`. Returns the rows written.
    pub fn write_parquet<W: Write>(
        &self,
        runs: &RecordRuns,
        w: W,
    ) -> Result<u64, ParquetRenderError> {
        let mut writer = ClassifiedParquet::new(w);
        let mut athena: Vec<Vec<Cell<'static>>> = Vec::with_capacity(BATCH);
        let mut class: Vec<Vec<Cell<'static>>> = Vec::with_capacity(BATCH);
        let mut failed = None;
        let n = runs
            .merge(|e| {
                athena.push(owned(decode_cells(&e.cells)));
                class.push(owned(self.class_cells(e)));
                if athena.len() >= BATCH {
                    if let Err(err) = writer.write(&athena, &class) {
                        failed = Some(err);
                        return Err(std::io::Error::other("parquet"));
                    }
                    athena.clear();
                    class.clear();
                }
                Ok(())
            })
            .map_err(|e| {
                failed
                    .take()
                    .unwrap_or_else(|| ParquetRenderError::Polars(e.to_string()))
            })?;
        if !athena.is_empty() {
            writer.write(&athena, &class)?;
        }
        writer.finish()?;
        Ok(n)
    }
}
