//! Flow records as rows: the column set (Athena names, then extra columns,
//! then capture evidence, then provenance) and renderers to table, JSON
//! Lines and CSV. Also the top-talkers view (`flows --top FIELD`). Pure
//! functions: records in, bytes out.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::IpAddr;

use crate::flow::{COLUMNS, Flow, Handshake, Initiator, Text};
use crate::ingest::Parts;

/// The capture-evidence columns, present when any input was a capture.
pub const CAPTURE_COLUMNS: [&str; 5] =
    ["sni", "http_host", "initiator", "handshake", "capture_host"];

/// One output column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// Index into [`COLUMNS`].
    Standard(usize),
    /// An extra (v6+ or unknown) field, by Athena column name.
    Extra(String),
    /// Index into [`CAPTURE_COLUMNS`].
    Capture(usize),
    SourceFile,
    SourceLine,
}

/// The ordered column set of a record output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordColumns {
    pub columns: Vec<Column>,
}

impl RecordColumns {
    /// Athena columns, then the extra columns in first-seen order, then the
    /// capture columns when `captures` (or any flow has capture evidence),
    /// then `source_file`, `source_line`.
    pub fn for_flows(flows: &Parts<Flow>, captures: bool) -> RecordColumns {
        let mut columns: Vec<Column> = (0..COLUMNS.len()).map(Column::Standard).collect();
        let mut extra: Vec<&str> = Vec::new();
        let mut any_capture = captures;
        for f in flows.iter() {
            for (k, _) in &f.extra {
                if !extra.contains(&k.as_str()) {
                    extra.push(k.as_str());
                }
            }
            any_capture |= f.capture.is_some();
        }
        columns.extend(extra.into_iter().map(|e| Column::Extra(e.to_owned())));
        if any_capture {
            columns.extend((0..CAPTURE_COLUMNS.len()).map(Column::Capture));
        }
        columns.push(Column::SourceFile);
        columns.push(Column::SourceLine);
        RecordColumns { columns }
    }

    pub fn names(&self) -> Vec<&str> {
        self.columns.iter().map(column_name).collect()
    }
}

pub fn column_name(c: &Column) -> &str {
    match c {
        Column::Standard(i) => COLUMNS.get(*i).copied().unwrap_or("?"),
        Column::Extra(n) => n,
        Column::Capture(i) => CAPTURE_COLUMNS.get(*i).copied().unwrap_or("?"),
        Column::SourceFile => "source_file",
        Column::SourceLine => "source_line",
    }
}

/// One value of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell<'a> {
    Null,
    Int(u64),
    /// An address (written without an intermediate string).
    Ip(IpAddr),
    Str(Cow<'a, str>),
}

impl Cell<'_> {
    /// The cell as text (empty for absent).
    pub(crate) fn text(&self) -> Cow<'_, str> {
        match self {
            Cell::Null => Cow::Borrowed(""),
            Cell::Int(n) => Cow::Owned(n.to_string()),
            Cell::Ip(a) => Cow::Owned(a.to_string()),
            Cell::Str(s) => Cow::Borrowed(s),
        }
    }
}

fn int<T: Into<u64>>(v: Option<T>) -> Cell<'static> {
    v.map_or(Cell::Null, |n| Cell::Int(n.into()))
}

pub(crate) fn text(v: &Option<Text>) -> Cell<'_> {
    v.as_ref()
        .map_or(Cell::Null, |s| Cell::Str(Cow::Borrowed(s.as_str())))
}

pub(crate) fn ip(v: Option<IpAddr>) -> Cell<'static> {
    v.map_or(Cell::Null, Cell::Ip)
}

fn word(v: Option<&'static str>) -> Cell<'static> {
    v.map_or(Cell::Null, |s| Cell::Str(Cow::Borrowed(s)))
}

pub fn initiator_str(i: Initiator) -> &'static str {
    match i {
        Initiator::Source => "source",
        Initiator::Destination => "destination",
    }
}

pub fn handshake_str(h: Handshake) -> &'static str {
    match h {
        Handshake::Completed => "completed",
        Handshake::SynOnly => "syn-only",
        Handshake::Reset => "reset",
        Handshake::NotSeen => "not-seen",
    }
}

/// The value of the standard column `i` (index into [`COLUMNS`]).
pub fn standard_cell(f: &Flow, i: usize) -> Cell<'_> {
    match i {
        0 => int(f.version),
        1 => text(&f.context().account_id),
        2 => text(&f.interface_id),
        3 => ip(f.src_addr),
        4 => ip(f.dst_addr),
        5 => int(f.src_port),
        6 => int(f.dst_port),
        7 => int(f.protocol),
        8 => int(f.packets),
        9 => int(f.bytes),
        10 => int(f.start),
        11 => int(f.end),
        12 => word(f.action.map(|a| a.as_str())),
        13 => word(f.log_status.map(|s| s.as_str())),
        14 => text(&f.context().vpc_id),
        15 => text(&f.context().subnet_id),
        16 => text(&f.context().instance_id),
        17 => int(f.tcp_flags),
        18 => text(&f.context().flow_type),
        19 => ip(f.pkt_src_addr),
        20 => ip(f.pkt_dst_addr),
        21 => text(&f.context().region),
        22 => text(&f.context().az_id),
        23 => text(&f.context().sublocation_type),
        24 => text(&f.context().sublocation_id),
        25 => text(&f.pkt_src_aws_service),
        26 => text(&f.pkt_dst_aws_service),
        27 => word(f.flow_direction.map(|d| d.as_str())),
        28 => int(f.traffic_path),
        _ => Cell::Null,
    }
}

/// The value of `col` for `f`; `sources` names inputs by [`crate::flow::SourceId`].
pub fn cell<'a>(f: &'a Flow, col: &Column, sources: &'a [String]) -> Cell<'a> {
    match col {
        Column::Standard(i) => standard_cell(f, *i),
        Column::Extra(name) => f
            .extra
            .iter()
            .find(|(k, _)| k == name)
            .map_or(Cell::Null, |(_, v)| Cell::Str(Cow::Borrowed(v.as_str()))),
        Column::Capture(i) => {
            let Some(c) = f.capture.as_deref() else {
                return Cell::Null;
            };
            match i {
                0 => text(&c.sni),
                1 => text(&c.http_host),
                2 => word(c.initiator.map(initiator_str)),
                3 => word(c.handshake.map(handshake_str)),
                4 => ip(c.capture_host),
                _ => Cell::Null,
            }
        }
        Column::SourceFile => sources
            .get(usize::try_from(f.provenance.source.0).unwrap_or(usize::MAX))
            .map_or(Cell::Null, |s| Cell::Str(Cow::Borrowed(s.as_str()))),
        Column::SourceLine => Cell::Int(f.provenance.index),
    }
}

/// Flows per piece of CSV / JSON Lines rendered by one worker.
const PIECE: usize = 4096;

/// Render `flows` piece by piece, several pieces at a time in parallel,
/// and write the pieces to `w` in order as each window of them is done
/// (so the output is never held whole).
fn write_pieces(
    flows: &Parts<Flow>,
    w: &mut dyn std::io::Write,
    row: impl Fn(&mut Vec<u8>, &Flow) + Sync,
) -> std::io::Result<()> {
    for s in flows.slices() {
        write_rows(s, w, &row)?;
    }
    Ok(())
}

/// [`write_pieces`] over one slice of any kind of row.
pub(crate) fn write_rows<T: Sync>(
    rows: &[T],
    w: &mut dyn std::io::Write,
    row: &(impl Fn(&mut Vec<u8>, &T) + Sync),
) -> std::io::Result<()> {
    use rayon::prelude::*;
    let window = PIECE * 4 * rayon::current_num_threads().max(1);
    for part in rows.chunks(window) {
        let pieces: Vec<Vec<u8>> = part
            .par_chunks(PIECE)
            .map(|piece| {
                let mut out = Vec::with_capacity(piece.len() * 256);
                for r in piece {
                    row(&mut out, r);
                }
                out
            })
            .collect();
        for p in pieces {
            w.write_all(&p)?;
        }
    }
    Ok(())
}

/// What `write` writes, as bytes (writing to a vector does not fail).
fn rendered(write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = write(&mut out);
    out
}

/// One JSON object per line, keys in column order, absent values `null`.
pub fn render_jsonl(flows: &Parts<Flow>, cols: &RecordColumns, sources: &[String]) -> Vec<u8> {
    rendered(|out| write_jsonl(flows, cols, sources, out))
}

/// [`render_jsonl`], written to `w` as it is rendered.
pub fn write_jsonl(
    flows: &Parts<Flow>,
    cols: &RecordColumns,
    sources: &[String],
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    // Each key, quoted and followed by its colon, once.
    let keys: Vec<Vec<u8>> = cols
        .columns
        .iter()
        .map(|c| {
            let mut k = Vec::new();
            push_json_str(&mut k, column_name(c));
            k.push(b':');
            k
        })
        .collect();
    write_pieces(flows, w, |out, f| {
        out.push(b'{');
        for (i, (c, key)) in cols.columns.iter().zip(&keys).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(key);
            push_json_cell(out, cell(f, c, sources));
        }
        out.extend_from_slice(b"}\n");
    })
}

/// One JSON value: `null` for absent.
fn push_json_cell(out: &mut Vec<u8>, c: Cell<'_>) {
    use std::io::Write as _;
    match c {
        Cell::Null => out.extend_from_slice(b"null"),
        Cell::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Cell::Ip(a) => {
            let _ = write!(out, "\"{a}\"");
        }
        Cell::Str(s) => push_json_str(out, &s),
    }
}

fn push_json_str(out: &mut Vec<u8>, s: &str) {
    if serde_json::to_writer(&mut *out, s).is_err() {
        out.extend_from_slice(b"\"\"");
    }
}

/// CSV with a header row; absent values are empty fields.
pub fn render_csv(flows: &Parts<Flow>, cols: &RecordColumns, sources: &[String]) -> Vec<u8> {
    rendered(|out| write_csv(flows, cols, sources, out))
}

/// [`render_csv`], written to `w` as it is rendered.
pub fn write_csv(
    flows: &Parts<Flow>,
    cols: &RecordColumns,
    sources: &[String],
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let mut header = Vec::new();
    push_csv_record(&mut header, cols.names());
    w.write_all(&header)?;
    write_pieces(flows, w, |out, f| {
        for (i, c) in cols.columns.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            push_csv_cell(out, cell(f, c, sources));
        }
        out.push(b'\n');
    })
}

/// One CSV field: empty for absent, RFC 4180 quoting where needed.
pub(crate) fn push_csv_cell(out: &mut Vec<u8>, c: Cell<'_>) {
    use std::io::Write as _;
    match c {
        Cell::Null => {}
        Cell::Int(n) => {
            let _ = write!(out, "{n}");
        }
        // An address never needs quoting.
        Cell::Ip(a) => {
            let _ = write!(out, "{a}");
        }
        Cell::Str(s) => push_csv_field(out, &s),
    }
}

/// One CSV record of plain fields, and its newline.
pub(crate) fn push_csv_record<'a>(out: &mut Vec<u8>, fields: impl IntoIterator<Item = &'a str>) {
    for (i, v) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_csv_field(out, v);
    }
    out.push(b'\n');
}

fn push_csv_field(out: &mut Vec<u8>, v: &str) {
    if v.contains([',', '"', '\n', '\r']) {
        out.push(b'"');
        out.extend_from_slice(v.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(v.as_bytes());
    }
}

/// An aligned text table of the columns that have at least one value
/// (absent values shown as `-`, as AWS writes them).
pub fn render_table(flows: &Parts<Flow>, cols: &RecordColumns, sources: &[String]) -> Vec<u8> {
    let shown: Vec<&Column> = cols
        .columns
        .iter()
        .filter(|c| flows.iter().any(|f| cell(f, c, sources) != Cell::Null))
        .collect();
    let rows: Vec<Vec<String>> = flows
        .iter()
        .map(|f| {
            shown
                .iter()
                .map(|c| match cell(f, c, sources) {
                    Cell::Null => "-".to_owned(),
                    other => crate::error::sanitize(&other.text(), 200),
                })
                .collect()
        })
        .collect();
    let headers: Vec<&str> = shown.iter().map(|c| column_name(c)).collect();
    aligned(&headers, &rows)
}

fn aligned(headers: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, v) in widths.iter_mut().zip(r) {
            *w = (*w).max(v.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, vals: &mut dyn Iterator<Item = &str>| {
        let mut first = true;
        let mut pending = String::new();
        for (v, w) in vals.zip(&widths) {
            if !first {
                pending.push_str("  ");
            }
            first = false;
            pending.push_str(v);
            for _ in v.chars().count()..*w {
                pending.push(' ');
            }
        }
        out.push_str(pending.trim_end());
        out.push('\n');
    };
    line(&mut out, &mut headers.iter().copied());
    for r in rows {
        line(&mut out, &mut r.iter().map(String::as_str));
    }
    out.into_bytes()
}

/// A value of the `--top` field.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TopKey {
    Null,
    Int(u64),
    Ip(IpAddr),
    Text(Text),
}

impl TopKey {
    fn cell(&self) -> Cell<'_> {
        match self {
            TopKey::Null => Cell::Null,
            TopKey::Int(n) => Cell::Int(*n),
            TopKey::Ip(a) => Cell::Ip(*a),
            TopKey::Text(t) => Cell::Str(Cow::Borrowed(t.as_str())),
        }
    }
}

/// Records, packets and bytes for one value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TopCounts {
    pub records: u64,
    pub packets: u64,
    pub bytes: u64,
}

/// Records, packets and bytes per value of one column: the top-talkers
/// view. Aggregates as flows arrive (memory grows with distinct values).
#[derive(Debug, Clone)]
pub struct TopTable {
    /// Index into [`COLUMNS`].
    pub field: usize,
    /// foldhash, seeded per run (keys come from the input); read sorted.
    pub counts: HashMap<TopKey, TopCounts, foldhash::fast::RandomState>,
}

impl TopTable {
    /// `field` must be one of [`COLUMNS`].
    pub fn new(field: &str) -> Option<TopTable> {
        let field = COLUMNS.iter().position(|c| *c == field)?;
        Some(TopTable {
            field,
            counts: HashMap::default(),
        })
    }

    pub fn field_name(&self) -> &'static str {
        COLUMNS.get(self.field).copied().unwrap_or("?")
    }

    #[inline]
    pub fn add(&mut self, f: &Flow) {
        let key = top_key(f, self.field);
        let e = self.counts.entry(key).or_default();
        e.records += 1;
        e.packets = e.packets.saturating_add(f.packets.unwrap_or(0));
        e.bytes = e.bytes.saturating_add(f.bytes.unwrap_or(0));
    }

    pub fn merge(&mut self, other: TopTable) {
        for (k, v) in other.counts {
            let e = self.counts.entry(k).or_default();
            e.records += v.records;
            e.packets = e.packets.saturating_add(v.packets);
            e.bytes = e.bytes.saturating_add(v.bytes);
        }
    }

    /// Rows sorted by bytes, then records, descending; ties by value.
    pub fn sorted(&self) -> Vec<(&TopKey, TopCounts)> {
        let mut rows: Vec<(&TopKey, TopCounts)> =
            self.counts.iter().map(|(k, v)| (k, *v)).collect();
        rows.sort_by(|a, b| {
            b.1.bytes
                .cmp(&a.1.bytes)
                .then(b.1.records.cmp(&a.1.records))
                .then(a.0.cmp(b.0))
        });
        rows
    }
}

fn top_key(f: &Flow, field: usize) -> TopKey {
    match field {
        3 => f.src_addr.map_or(TopKey::Null, TopKey::Ip),
        4 => f.dst_addr.map_or(TopKey::Null, TopKey::Ip),
        19 => f.pkt_src_addr.map_or(TopKey::Null, TopKey::Ip),
        20 => f.pkt_dst_addr.map_or(TopKey::Null, TopKey::Ip),
        i => match standard_cell(f, i) {
            Cell::Null => TopKey::Null,
            Cell::Int(n) => TopKey::Int(n),
            Cell::Ip(a) => TopKey::Ip(a),
            Cell::Str(s) => TopKey::Text(Text::new(&s)),
        },
    }
}

/// The top-talkers rows in `format` (`table`, `jsonl`, `csv`), at most
/// `limit` rows (all when `None`).
pub fn render_top(top: &TopTable, format: &str, limit: Option<usize>) -> Vec<u8> {
    let rows = top.sorted();
    let rows = rows
        .get(..limit.unwrap_or(usize::MAX).min(rows.len()))
        .unwrap_or_default();
    let name = top.field_name();
    match format {
        "jsonl" => {
            use std::io::Write as _;
            let mut out = Vec::new();
            for (k, c) in rows {
                out.push(b'{');
                push_json_str(&mut out, name);
                out.push(b':');
                push_json_cell(&mut out, k.cell());
                let _ = writeln!(
                    out,
                    ",\"records\":{},\"packets\":{},\"bytes\":{}}}",
                    c.records, c.packets, c.bytes
                );
            }
            out
        }
        "csv" => {
            let mut out = Vec::new();
            push_csv_record(&mut out, [name, "records", "packets", "bytes"]);
            for (k, c) in rows {
                push_csv_record(
                    &mut out,
                    [
                        &*k.cell().text(),
                        &c.records.to_string(),
                        &c.packets.to_string(),
                        &c.bytes.to_string(),
                    ],
                );
            }
            out
        }
        _ => {
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|(k, c)| {
                    let v = match k.cell() {
                        Cell::Null => "-".to_owned(),
                        other => crate::error::sanitize(&other.text(), 200),
                    };
                    vec![
                        v,
                        c.records.to_string(),
                        c.packets.to_string(),
                        c.bytes.to_string(),
                    ]
                })
                .collect();
            aligned(&[name, "records", "packets", "bytes"], &table)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::flow::{Action, CaptureEvidence, Provenance, SourceId};

    fn flow(dst: &str, bytes: u64) -> Flow {
        Flow {
            version: Some(2),
            interface_id: Some("eni-1".into()),
            src_addr: Some("10.0.0.1".parse().unwrap()),
            dst_addr: Some(dst.parse().unwrap()),
            dst_port: Some(443),
            protocol: Some(6),
            packets: Some(2),
            bytes: Some(bytes),
            action: Some(Action::Accept),
            extra: vec![("reject_reason".into(), "BPA, \"x\"".into())],
            provenance: Provenance {
                source: SourceId(0),
                index: 7,
            },
            ..Flow::default()
        }
    }

    #[test]
    fn columns_put_extras_then_capture_then_provenance_last() {
        let mut f = flow("1.2.3.4", 1);
        f.capture = Some(Box::new(CaptureEvidence::default()));
        let cols = RecordColumns::for_flows(&Parts::from(vec![f]), false);
        let names = cols.names();
        assert_eq!(names[..29], COLUMNS);
        assert_eq!(
            names[29..],
            [
                "reject_reason",
                "sni",
                "http_host",
                "initiator",
                "handshake",
                "capture_host",
                "source_file",
                "source_line"
            ]
        );
    }

    #[test]
    fn jsonl_and_csv_write_nulls_numbers_and_quoted_strings() {
        let flows = Parts::from(vec![flow("1.2.3.4", 10)]);
        let cols = RecordColumns::for_flows(&flows, false);
        let src = vec!["a.log".to_owned()];
        let j = String::from_utf8(render_jsonl(&flows, &cols, &src)).unwrap();
        let v: serde_json::Value = serde_json::from_str(j.trim()).unwrap();
        assert_eq!(v["dstaddr"], "1.2.3.4");
        assert_eq!(v["dstport"], 443);
        assert_eq!(v["account_id"], serde_json::Value::Null);
        assert_eq!(v["reject_reason"], "BPA, \"x\"");
        assert_eq!(v["source_file"], "a.log");
        assert_eq!(v["source_line"], 7);
        let c = String::from_utf8(render_csv(&flows, &cols, &src)).unwrap();
        let mut lines = c.lines();
        assert!(lines.next().unwrap().starts_with("version,account_id,"));
        let row = lines.next().unwrap();
        assert!(
            row.starts_with("2,,eni-1,10.0.0.1,1.2.3.4,,443,6,2,10,"),
            "{row}"
        );
        assert!(row.ends_with("\"BPA, \"\"x\"\"\",a.log,7"), "{row}");
    }

    #[test]
    fn jsonl_and_csv_do_not_depend_on_how_the_flows_are_kept() {
        // 10,000 flows (several pieces) in one part, and in uneven parts.
        let all: Vec<Flow> = (0..10_000u64)
            .map(|i| {
                let mut f = flow("1.2.3.4", i);
                f.provenance.index = i;
                f
            })
            .collect();
        let one = Parts::from(all.clone());
        let mut parts = Vec::new();
        let mut rest = all;
        for cut in [1, 4095, 0, 4097] {
            let tail = rest.split_off(cut);
            parts.push(rest);
            rest = tail;
        }
        parts.push(rest);
        let split = Parts::new(parts);
        let cols = RecordColumns::for_flows(&one, false);
        let src = vec!["a.log".to_owned()];
        let csv = render_csv(&one, &cols, &src);
        assert_eq!(csv, render_csv(&split, &cols, &src));
        assert_eq!(
            render_jsonl(&one, &cols, &src),
            render_jsonl(&split, &cols, &src)
        );
        let text = String::from_utf8(csv).unwrap();
        assert_eq!(text.lines().count(), 10_001);
        let last = text.lines().last().unwrap();
        assert!(last.ends_with(",a.log,9999"), "{last}");
    }

    #[test]
    fn table_hides_empty_columns() {
        let flows = Parts::from(vec![flow("1.2.3.4", 10)]);
        let cols = RecordColumns::for_flows(&flows, false);
        let t = String::from_utf8(render_table(&flows, &cols, &["a".into()])).unwrap();
        let header = t.lines().next().unwrap();
        assert!(
            header.starts_with("version  interface_id  srcaddr"),
            "{header}"
        );
        assert!(!header.contains("account_id"));
    }

    #[test]
    fn top_sorts_by_bytes_and_merges() {
        let mut a = TopTable::new("dstaddr").unwrap();
        let mut b = TopTable::new("dstaddr").unwrap();
        a.add(&flow("1.1.1.1", 10));
        a.add(&flow("2.2.2.2", 5));
        b.add(&flow("2.2.2.2", 50));
        a.merge(b);
        let csv = String::from_utf8(render_top(&a, "csv", None)).unwrap();
        assert_eq!(
            csv,
            "dstaddr,records,packets,bytes\n2.2.2.2,2,4,55\n1.1.1.1,1,2,10\n"
        );
        assert!(TopTable::new("nope").is_none());
    }
}
