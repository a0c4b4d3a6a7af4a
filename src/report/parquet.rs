//! Flow records as a Parquet file (through polars), with the Athena column
//! names and types of AWS's flow-log Parquet delivery: `version`, ports,
//! `protocol`, `tcp_flags`, `traffic_path` INT32; `packets`, `bytes`,
//! `start`, `end` INT64; everything else STRING; absent values null. Loads
//! into DuckDB (`read_parquet`) and Athena unchanged.

use polars::io::parquet::write::BatchedWriter;
use polars::prelude::{
    Column as PlColumn, DataFrame, NamedFrom, ParquetCompression, ParquetWriter, Series,
};

use super::records::{Cell, Column, RecordColumns, cell};
use crate::flow::Flow;

/// Why the Parquet output could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ParquetRenderError {
    #[error("cannot build the parquet table: {0}")]
    Polars(String),
}

/// The physical type of a column.
fn is_int32(c: &Column) -> bool {
    // version srcport dstport protocol tcp_flags traffic_path
    matches!(c, Column::Standard(0 | 5 | 6 | 7 | 17 | 28))
}

fn is_int64(c: &Column) -> bool {
    // packets bytes start end, and the source line
    matches!(c, Column::Standard(8..=11) | Column::SourceLine)
}

/// One column from its cells, typed as AWS's Parquet delivery types it.
fn typed_column<'a>(name: &str, col: &Column, cells: impl Iterator<Item = Cell<'a>>) -> PlColumn {
    let series = if is_int32(col) {
        let v: Vec<Option<i32>> = cells
            .map(|c| match c {
                Cell::Int(n) => i32::try_from(n).ok(),
                _ => None,
            })
            .collect();
        Series::new(name.into(), v)
    } else if is_int64(col) {
        let v: Vec<Option<i64>> = cells
            .map(|c| match c {
                Cell::Int(n) => i64::try_from(n).ok(),
                _ => None,
            })
            .collect();
        Series::new(name.into(), v)
    } else {
        let v: Vec<Option<String>> = cells
            .map(|c| match c {
                Cell::Null => None,
                c => Some(c.text().into_owned()),
            })
            .collect();
        Series::new(name.into(), v)
    };
    series.into()
}

/// Write `columns` (each `rows` long) as Snappy-compressed Parquet bytes.
fn write_parquet(rows: usize, columns: Vec<PlColumn>) -> Result<Vec<u8>, ParquetRenderError> {
    let mut df =
        DataFrame::new(rows, columns).map_err(|e| ParquetRenderError::Polars(e.to_string()))?;
    let mut out = Vec::new();
    ParquetWriter::new(&mut out)
        .with_compression(ParquetCompression::Snappy)
        .finish(&mut df)
        .map_err(|e| ParquetRenderError::Polars(e.to_string()))?;
    Ok(out)
}

/// Render `flows` with `cols` as Parquet bytes (Snappy compressed, for the
/// widest reader support).
pub fn render_parquet(
    flows: &crate::ingest::Parts<Flow>,
    cols: &RecordColumns,
    sources: &[String],
) -> Result<Vec<u8>, ParquetRenderError> {
    let columns = cols
        .columns
        .iter()
        .map(|c| {
            let name = super::records::column_name(c);
            typed_column(&name, c, flows.iter().map(|f| cell(f, c, sources)))
        })
        .collect();
    write_parquet(flows.len(), columns)
}

/// Every classified flow of an audit as Parquet: the Athena columns typed
/// as [`render_parquet`] types them, then the classification columns
/// (`service` … `evidence`, `source_file` as strings, `source_line` INT64).
pub fn render_parquet_classified(
    records: &[super::FlowRecord],
) -> Result<Vec<u8>, ParquetRenderError> {
    use super::records::standard_cell;
    let mut columns: Vec<PlColumn> = crate::flow::COLUMNS
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let cells = records.iter().map(|r| standard_cell(&r.flow, i));
            typed_column(name, &Column::Standard(i), cells)
        })
        .collect();
    for (j, name) in super::csv::CLASS_COLUMNS.iter().enumerate() {
        let series = if *name == "source_line" {
            let v: Vec<Option<i64>> = records
                .iter()
                .map(|r| i64::try_from(r.flow.provenance.index).ok())
                .collect();
            Series::new((*name).into(), v)
        } else {
            let v: Vec<Option<String>> = records
                .iter()
                .map(|r| {
                    Some(super::csv::class_cell(r, j).text().into_owned()).filter(|s| !s.is_empty())
                })
                .collect();
            Series::new((*name).into(), v)
        };
        columns.push(series.into());
    }
    write_parquet(records.len(), columns)
}

/// One classification column from its cells: `source_line` INT64, the
/// rest strings (empty → null), as [`render_parquet_classified`] types them.
fn class_column<'a>(name: &str, cells: impl Iterator<Item = Cell<'a>>) -> PlColumn {
    let series = if name == "source_line" {
        let v: Vec<Option<i64>> = cells
            .map(|c| match c {
                Cell::Int(n) => i64::try_from(n).ok(),
                _ => None,
            })
            .collect();
        Series::new(name.into(), v)
    } else {
        let v: Vec<Option<String>> = cells
            .map(|c| Some(c.text().into_owned()).filter(|s| !s.is_empty()))
            .collect();
        Series::new(name.into(), v)
    };
    series.into()
}

/// Classified flows written a batch at a time (a row group each), with the
/// columns and types of [`render_parquet_classified`]: the streamed
/// audit's `-o parquet`.
pub struct ClassifiedParquet<W: std::io::Write> {
    out: Option<W>,
    writer: Option<BatchedWriter<W>>,
}

impl<W: std::io::Write> ClassifiedParquet<W> {
    pub fn new(out: W) -> ClassifiedParquet<W> {
        ClassifiedParquet {
            out: Some(out),
            writer: None,
        }
    }

    /// One batch of rows: their Athena cells ([`crate::flow::COLUMNS`]
    /// order) and their classification cells ([`super::csv::CLASS_COLUMNS`]).
    pub fn write(
        &mut self,
        athena: &[Vec<Cell<'_>>],
        class: &[Vec<Cell<'_>>],
    ) -> Result<(), ParquetRenderError> {
        let mut columns: Vec<PlColumn> = crate::flow::COLUMNS
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let cells = athena
                    .iter()
                    .map(|r| r.get(i).cloned().unwrap_or(Cell::Null));
                typed_column(name, &Column::Standard(i), cells)
            })
            .collect();
        for (j, name) in super::csv::CLASS_COLUMNS.iter().enumerate() {
            let cells = class
                .iter()
                .map(|r| r.get(j).cloned().unwrap_or(Cell::Null));
            columns.push(class_column(name, cells));
        }
        let polars = |e: polars::error::PolarsError| ParquetRenderError::Polars(e.to_string());
        let df = DataFrame::new(athena.len(), columns).map_err(polars)?;
        if self.writer.is_none() {
            let Some(out) = self.out.take() else {
                return Ok(());
            };
            let w = ParquetWriter::new(out)
                .with_compression(ParquetCompression::Snappy)
                .batched(df.schema())
                .map_err(polars)?;
            self.writer = Some(w);
        }
        if let Some(w) = self.writer.as_mut() {
            if df.height() > 0 {
                w.write_batch(&df).map_err(polars)?;
            }
        }
        Ok(())
    }

    /// Write the footer (an empty table when no batch came).
    pub fn finish(mut self) -> Result<(), ParquetRenderError> {
        if self.writer.is_none() {
            self.write(&[], &[])?;
        }
        if let Some(w) = self.writer {
            w.finish()
                .map_err(|e| ParquetRenderError::Polars(e.to_string()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;
    use crate::flow::{Provenance, SourceId};
    use polars::prelude::{DataType, ParquetReader, SerReader};

    #[test]
    fn render_parquet_round_trips_types_and_nulls() {
        let flows = vec![
            Flow {
                version: Some(5),
                dst_port: Some(443),
                bytes: Some(1_000),
                dst_addr: Some("52.219.60.1".parse().unwrap()),
                provenance: Provenance {
                    source: SourceId(0),
                    index: 3,
                },
                ..Flow::default()
            },
            Flow::default(),
        ];
        let flows = crate::ingest::Parts::from(flows);
        let cols = RecordColumns::for_flows(&flows, false);
        let bytes = render_parquet(&flows, &cols, &["a.log".into()]).unwrap();
        assert!(bytes.starts_with(b"PAR1"));
        let df = ParquetReader::new(std::io::Cursor::new(bytes))
            .finish()
            .unwrap();
        assert_eq!(df.height(), 2);
        assert_eq!(df.column("dstport").unwrap().dtype(), &DataType::Int32);
        assert_eq!(df.column("bytes").unwrap().dtype(), &DataType::Int64);
        assert_eq!(df.column("dstaddr").unwrap().dtype(), &DataType::String);
        assert_eq!(df.column("source_line").unwrap().dtype(), &DataType::Int64);
        assert_eq!(df.column("dstport").unwrap().null_count(), 1);
        let names: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(names.first().map(String::as_str), Some("version"));
        assert_eq!(names.last().map(String::as_str), Some("source_line"));
    }

    #[test]
    fn render_parquet_classified_has_athena_and_classification_columns() {
        let report = crate::report::fixture::report();
        let bytes = render_parquet_classified(&report.flows).unwrap();
        let df = ParquetReader::new(std::io::Cursor::new(bytes))
            .finish()
            .unwrap();
        assert_eq!(df.height(), report.flows.len());
        assert_eq!(df.column("dstport").unwrap().dtype(), &DataType::Int32);
        assert_eq!(df.column("bytes").unwrap().dtype(), &DataType::Int64);
        assert_eq!(df.column("path").unwrap().dtype(), &DataType::String);
        assert_eq!(df.column("source_line").unwrap().dtype(), &DataType::Int64);
        let paths: Vec<Option<&str>> = df.column("path").unwrap().str().unwrap().iter().collect();
        assert!(paths.contains(&Some("internet-gateway")));
        assert!(paths.contains(&Some("gateway-endpoint")));
        let names: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(names.first().map(String::as_str), Some("version"));
        assert_eq!(names.last().map(String::as_str), Some("source_line"));
    }
}
