//! Parquet flow logs (S3 delivery option `parquet`): columns named like
//! Athena (`log_status`, `pkt_dst_aws_service`), nulls for absent values.
//! Read through polars, then typed by the same field registry as text.
//!
//! Every column is cast to text first and parsed like a text token, so
//! files with unusual physical types (the synthetic corpus file stores
//! ports as strings and the account id as an integer) still read, with
//! the same checks as text. Empty strings, `-` and `None` (pandas' text
//! for a missing value) read as absent.

use std::io::Cursor;

use polars::prelude::{DataType, ParquetReader, SerReader};

use super::fields::{self, Resolved};
use super::header::Slot;
use super::line::{self, LineError};
use super::{FieldPlan, Where, locate};
use crate::flow::{
    ContextCache, ContextScratch, Flow, LogStatus, Provenance, SourceId, SourceTally, Text,
};
use crate::ingest::FlowSink;

/// Read a whole Parquet file from memory. Problems with rows are tallied;
/// an unreadable file sets `tally.error`.
pub fn read_parquet<S: FlowSink>(
    bytes: Vec<u8>,
    name: &str,
    source: SourceId,
    sink: &mut S,
    tally: &mut SourceTally,
) {
    let df = match ParquetReader::new(Cursor::new(bytes)).finish() {
        Ok(df) => df,
        Err(e) => {
            tally.error = Some(format!(
                "{name}: unreadable parquet: {}",
                crate::error::sanitize(&e.to_string(), 200)
            ));
            return;
        }
    };
    let height = df.height();
    let mut flows: Vec<Flow> = (0..height).map(|_| Flow::default()).collect();
    let mut errors: Vec<Option<LineError>> = vec![None; height];
    // Each row's context fields, shared as the rows are handed over.
    let mut contexts: Vec<ContextScratch> = vec![ContextScratch::default(); height];
    let mut extra_columns: Vec<String> = Vec::new();
    for col in df.columns() {
        let cname = col.name().as_str();
        let slot = match fields::resolve(cname) {
            Some(Resolved::Typed(id)) => Slot::Typed(id),
            Some(Resolved::Documented(c)) | Some(Resolved::Unknown(c)) => {
                if matches!(fields::resolve(cname), Some(Resolved::Unknown(_))) {
                    tally.warn(format!(
                        "{name}: unknown field '{cname}' kept as string column '{c}'"
                    ));
                }
                extra_columns.push(c);
                Slot::Extra(0)
            }
            None => {
                let c = fields::column_name(cname);
                tally.warn(format!(
                    "{name}: unknown field '{}' kept as string column",
                    crate::error::sanitize(cname, 60)
                ));
                extra_columns.push(c);
                Slot::Extra(0)
            }
        };
        let series = match col.as_materialized_series().cast(&DataType::String) {
            Ok(s) => s,
            Err(e) => {
                tally.warn(format!("{name}: column '{cname}' skipped: {e}"));
                continue;
            }
        };
        let Ok(strings) = series.str() else {
            tally.warn(format!("{name}: column '{cname}' skipped: not text"));
            continue;
        };
        let extra_name = extra_columns.last().cloned().unwrap_or_default();
        let rows = flows.iter_mut().zip(contexts.iter_mut());
        for ((value, (flow, ctx)), err) in strings.iter().zip(rows).zip(errors.iter_mut()) {
            let Some(v) = value else { continue };
            let v = v.trim();
            // `None` is what pandas writes for a missing value in a text
            // column (the synthetic flowlogs-reader file): absent too.
            if v.is_empty() || v == "-" || v == "None" {
                continue;
            }
            match slot {
                Slot::Typed(id) => {
                    if let Err(kind) = line::set_typed(flow, ctx, id, v) {
                        if err.is_none() {
                            *err = Some(LineError::Field {
                                field: id.aws_name(),
                                kind,
                                value: crate::error::sanitize(v, 40),
                            });
                        }
                    }
                }
                Slot::Extra(_) => flow.extra.push((Text::new(&extra_name), Text::new(v))),
            }
        }
    }
    let mut cache = ContextCache::default();
    let rows = flows.into_iter().zip(contexts).zip(errors);
    for (i, ((mut flow, mut ctx), err)) in rows.enumerate() {
        let row = i as u64 + 1;
        flow.provenance = Provenance { source, index: row };
        if let Some(e) = err {
            tally.skip(e.reason(), || {
                format!("{}: {e}", locate(name, Where::Row, row))
            });
            continue;
        }
        match flow.log_status {
            Some(LogStatus::NoData) => bump(&mut tally.nodata, &flow),
            Some(LogStatus::SkipData) => bump(&mut tally.skipdata, &flow),
            _ => {
                tally.records += 1;
                flow.context = cache.share(&mut ctx);
                sink.push(flow);
            }
        }
    }
}

fn bump(map: &mut std::collections::BTreeMap<Text, u64>, flow: &Flow) {
    let key = flow.interface_id.clone().unwrap_or_else(|| Text::new("-"));
    *map.entry(key).or_insert(0) += 1;
}

/// The plan a Parquet file's columns amount to (for messages and tests).
pub fn plan_of_columns(names: &[&str]) -> Option<FieldPlan> {
    FieldPlan::from_format(&names.join(" ")).ok()
}
