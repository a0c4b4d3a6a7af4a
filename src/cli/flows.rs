//! `privpath flows`: print the normalised flow records of flow logs and
//! captures, or the top talkers by one column.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::GlobalArgs;
use super::cloudwatch_args::{CloudWatchArgs, read_inputs_and_cloudwatch};
use privpath::exit::ExitStatus;
use privpath::flow::{COLUMNS, Flow, SourceKind};
use privpath::ingest::{FlowSink, IngestOptions, Parts, SourceSummary};
use privpath::report::records::{self, RecordColumns, TopTable};

#[derive(Debug, Args)]
pub struct FlowsArgs {
    /// Input files, folders (walked recursively), case folders,
    /// s3://BUCKET/PREFIX (every object under it); `-` reads stdin.
    /// Topology JSON and expect.toml files are set aside (one line on
    /// stderr says which)
    #[arg(required_unless_present = "cloudwatch", value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = FlowsFormat::Table)]
    pub format: FlowsFormat,
    /// Write the output to FILE instead of stdout
    #[arg(long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Layout of header-less flow-log text, as AWS's custom format
    /// (`${version} ${account-id} …`); a header line in a file wins
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// Print records, packets and bytes per value of this column instead
    /// of the records, largest bytes first (e.g. dstaddr, srcaddr,
    /// interface_id, pkt_dst_aws_service)
    #[arg(long, value_name = "FIELD", value_parser = top_field)]
    pub top: Option<String>,
    /// With --top: print at most N rows
    #[arg(long, value_name = "N", requires = "top")]
    pub limit: Option<usize>,
    #[command(flatten)]
    pub cloudwatch: CloudWatchArgs,
    #[command(flatten)]
    pub capture: super::capture_args::CaptureArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FlowsFormat {
    Table,
    Jsonl,
    Csv,
    Parquet,
}

fn top_field(s: &str) -> Result<String, String> {
    let norm = s.replace('-', "_");
    if COLUMNS.contains(&norm.as_str()) {
        Ok(norm)
    } else {
        Err(format!("not a flow column; one of: {}", COLUMNS.join(", ")))
    }
}

/// The `--top` sink: aggregates as flows arrive, holds no flow.
struct TopSink(TopTable);

impl FlowSink for TopSink {
    #[inline]
    fn push(&mut self, flow: Flow) {
        self.0.add(&flow);
    }
    fn merge(&mut self, later: Self) {
        self.0.merge(later.0);
    }
}

pub fn run(args: &FlowsArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let opts = args.capture.apply(IngestOptions {
        log_format: args.log_format.clone(),
        ..IngestOptions::default()
    });
    // Create the output file up front: a bad path fails before the work.
    let mut out_file = match &args.out {
        Some(p) => Some(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        ),
        None => None,
    };
    if args.format == FlowsFormat::Parquet && out_file.is_none() && std::io::stdout().is_terminal()
    {
        anyhow::bail!("refusing to write parquet to a terminal: use --out FILE or a redirection");
    }

    let (rendered, sources, aside) = if let Some(field) = &args.top {
        let table = TopTable::new(field).context("unknown --top column")?;
        let got = read_inputs_and_cloudwatch(
            &args.inputs,
            &args.cloudwatch,
            &opts,
            global.quiet,
            || TopSink(table_clone(&table)),
        )?;
        let fmt = match args.format {
            FlowsFormat::Jsonl => "jsonl",
            FlowsFormat::Csv => "csv",
            FlowsFormat::Table => "table",
            FlowsFormat::Parquet => anyhow::bail!("--top prints table, jsonl or csv, not parquet"),
        };
        (
            Rendered::Bytes(records::render_top(&got.sink.0, fmt, args.limit)),
            got.sources,
            got.aside,
        )
    } else {
        let got = read_inputs_and_cloudwatch(
            &args.inputs,
            &args.cloudwatch,
            &opts,
            global.quiet,
            Parts::<Flow>::default,
        )?;
        let names: Vec<String> = got.sources.iter().map(|s| s.path.clone()).collect();
        let captures = got
            .sources
            .iter()
            .any(|s| matches!(s.kind, SourceKind::Pcap | SourceKind::Pcapng));
        let cols = RecordColumns::for_flows(&got.sink, captures);
        let rendered = match args.format {
            FlowsFormat::Table => Rendered::Bytes(records::render_table(&got.sink, &cols, &names)),
            FlowsFormat::Parquet => Rendered::Bytes(privpath::report::parquet::render_parquet(
                &got.sink, &cols, &names,
            )?),
            // Written as they are rendered: the output is never held whole.
            FlowsFormat::Jsonl | FlowsFormat::Csv => Rendered::Records {
                flows: got.sink,
                cols,
                names,
                csv: args.format == FlowsFormat::Csv,
            },
        };
        (rendered, got.sources, got.aside)
    };

    if !global.quiet {
        let mut text = summary(&sources);
        if let Some(line) = privpath::ingest::inputs::aside_line(&aside) {
            text.push_str(&line);
            text.push('\n');
        }
        write_stderr(&text);
    } else {
        let errors: String = sources
            .iter()
            .filter_map(|s| s.tally.error.as_ref())
            .map(|e| format!("privpath: error: {}\n", privpath::error::sanitize(e, 500)))
            .collect();
        write_stderr(&errors);
    }

    let write = |w: &mut dyn Write| -> std::io::Result<()> {
        match &rendered {
            Rendered::Bytes(b) => w.write_all(b),
            Rendered::Records {
                flows,
                cols,
                names,
                csv: true,
            } => records::write_csv(flows, cols, names, w),
            Rendered::Records {
                flows, cols, names, ..
            } => records::write_jsonl(flows, cols, names, w),
        }
    };
    match out_file.as_mut() {
        Some(f) => write(f).context("cannot write the output file")?,
        None => write_stdout(write)?,
    }

    let errored = sources.iter().any(|s| s.tally.error.is_some());
    let bad = sources.iter().any(|s| s.tally.skipped_total() > 0);
    Ok(if errored || (global.strict && bad) {
        ExitStatus::Error
    } else {
        ExitStatus::Success
    })
}

fn table_clone(t: &TopTable) -> TopTable {
    TopTable {
        field: t.field,
        counts: Default::default(),
    }
}

/// What `flows` prints: bytes, or records written as they are rendered.
enum Rendered {
    Bytes(Vec<u8>),
    Records {
        flows: Parts<Flow>,
        cols: RecordColumns,
        names: Vec<String>,
        /// CSV, else JSON Lines.
        csv: bool,
    },
}

#[allow(clippy::print_stdout)]
fn write_stdout(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    write(&mut lock)?;
    lock.flush()
}

#[allow(clippy::print_stderr)]
fn write_stderr(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// The per-input summary for stderr: records, skipped by reason, NODATA,
/// SKIPDATA, first examples, warnings, errors.
pub fn summary(sources: &[SourceSummary]) -> String {
    let clean = |s: &str| privpath::error::sanitize(s, 500);
    let mut out = String::new();
    for s in sources {
        let t = &s.tally;
        let _ = write!(
            out,
            "{} ({}): {} records",
            clean(&s.path),
            s.kind.as_str(),
            t.records
        );
        if t.packets > 0 {
            let _ = write!(out, " from {} packets", t.packets);
        }
        if t.skipped_total() > 0 {
            let reasons: Vec<String> = t.skipped.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            let _ = write!(
                out,
                ", {} skipped ({})",
                t.skipped_total(),
                reasons.join(", ")
            );
        }
        if t.nodata_total() > 0 {
            let _ = write!(
                out,
                ", {} NODATA on {} interfaces",
                t.nodata_total(),
                t.nodata.len()
            );
        }
        if t.skipdata_total() > 0 {
            let per: Vec<String> = t
                .skipdata
                .iter()
                .map(|(k, v)| format!("{} {v}", clean(k)))
                .collect();
            let _ = write!(
                out,
                ", {} SKIPDATA (records lost by AWS: {})",
                t.skipdata_total(),
                per.join(", ")
            );
        }
        out.push('\n');
        for e in &t.examples {
            let _ = writeln!(out, "  {}", clean(e));
        }
        for w in &t.warnings {
            let _ = writeln!(out, "  warning: {}", clean(w));
        }
        if let Some(e) = &t.error {
            let _ = writeln!(out, "  error: {}", clean(e));
        }
    }
    out
}
