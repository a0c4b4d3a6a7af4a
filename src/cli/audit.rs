//! `privpath audit`: verdicts per service and host, expectations (the CI
//! contract), reports.
//!
//! Stages: the clap struct ([`AuditArgs`]) is resolved into a [`Plan`]
//! (case folders expanded, expectations parsed, output targets opened up
//! front); [`pipeline`] ingests, classifies and collects; the report is
//! built once and rendered by every requested format.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};

use super::{ColorChoice, GlobalArgs};
use privpath::exit::ExitStatus;
use privpath::report::expect::ExpectSet;
use privpath::report::{Format, RenderOptions, Report};

/// Output formats of `-o`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Verdict table, expectations, DNS, findings (default)
    Table,
    /// The `privpath.audit/v1` document
    Json,
    /// Audit report for people and CI job summaries
    Markdown,
    /// One self-contained HTML file with SVG charts
    Html,
    /// Every classified flow: Athena columns + classification
    Csv,
    /// The same as CSV, as a Parquet file (typed as AWS delivers flow logs)
    Parquet,
    /// One test case per expectation and host
    Junit,
}

impl From<OutputFormat> for Format {
    fn from(f: OutputFormat) -> Format {
        match f {
            OutputFormat::Table => Format::Table,
            OutputFormat::Json => Format::Json,
            OutputFormat::Markdown => Format::Markdown,
            OutputFormat::Html => Format::Html,
            OutputFormat::Csv => Format::Csv,
            OutputFormat::Parquet => Format::Parquet,
            OutputFormat::Junit => Format::Junit,
        }
    }
}

/// Audit flow logs and captures against the topology.
///
/// Exit codes: 0 every expectation held (or none was given), 1 an
/// expectation failed, 2 error (unreadable input, bad topology, bad
/// expectation, bad records under --strict).
#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes: 0 every expectation held (or none was given), 1 an expectation \
failed, 2 error (unreadable input, bad topology, bad expectation, bad records under --strict).\n\
Example: privpath audit samples/lab/1-baseline --expect s3=gateway-endpoint"
)]
pub struct AuditArgs {
    /// Flow logs, captures, folders of them, case folders (a folder with
    /// `topology/` and optionally `expect.toml` beside the evidence), or
    /// s3://BUCKET/PREFIX (the objects under it; with --since/--until only
    /// those whose date folder and key time can hold the window); AWS CLI
    /// JSON and expect.toml files among local inputs are used as topology
    /// and expectations (recognised by content)
    #[arg(required_unless_present = "cloudwatch", value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,

    /// AWS CLI JSON of the VPC (files or folders); repeatable
    #[arg(long, value_name = "PATH")]
    pub topology: Vec<PathBuf>,

    /// SERVICE[@SCOPE]=PATH: every matching flow must take PATH
    ///
    /// SCOPE: an instance id (i-…), ENI (eni-…), subnet id (subnet-…) or
    /// address. PATH: interface-endpoint, gateway-endpoint, internet-gateway,
    /// nat-gateway, local, peering, transit-gateway, virtual-private-gateway,
    /// no-route, unknown; or `endpoint` (either endpoint kind), `private`
    /// (nothing via the internet gateway or a NAT gateway), `blocked`
    /// (nothing answered). Repeatable.
    #[arg(long, value_name = "EXPECTATION")]
    pub expect: Vec<String>,

    /// SERVICE=private|public: how the service's names must resolve; repeatable
    #[arg(long, value_name = "EXPECTATION")]
    pub expect_dns: Vec<String>,

    /// Check the expectations only on flows starting at or after this time
    /// (RFC 3339 or unix seconds); the verdicts keep all the evidence read.
    /// With s3:// inputs, also fetch only the objects that can hold the window
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Check the expectations only on flows starting at or before this time
    /// (RFC 3339 or unix seconds)
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// Output format; repeat with --out DIR for several
    #[arg(short = 'o', long = "output", value_enum, value_name = "FORMAT")]
    pub output: Vec<OutputFormat>,

    /// Write to this file (one format) or into this folder (audit.json,
    /// audit.md, audit.html, flows.csv, flows.parquet, junit.xml, audit.txt)
    #[arg(long, value_name = "FILE|DIR")]
    pub out: Option<PathBuf>,

    /// Exit 0 even when an expectation fails (errors still exit 2)
    #[arg(long)]
    pub exit_zero: bool,

    /// Price file for the cost estimates (the shape of the built-in
    /// `src/report/prices.toml`: per region, USD per GB of NAT gateway and
    /// endpoint data processing, with source and date)
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,

    /// Also print GitHub Actions annotations (`::error ::…`) for failed
    /// expectations and public paths to stderr
    #[arg(long)]
    pub github: bool,
    /// Flows listed, with their input file and line, per path of a verdict and
    /// per failed expectation and host (the first by time; the rest are counted)
    #[arg(long, value_name = "K", default_value_t = privpath::report::DEFAULT_EXAMPLES)]
    pub examples: usize,

    /// `--log-format` for header-less flow-log text (`${version} ${account-id} …`)
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<String>,

    /// Read flow logs live from CloudWatch Logs (beside or instead of files)
    #[command(flatten)]
    pub cloudwatch: super::cloudwatch_args::CloudWatchArgs,

    #[command(flatten)]
    pub capture: super::capture_args::CaptureArgs,

    /// Bytes of conversation rows held in memory before they spill to
    /// temporary files (tests use a small budget to exercise the spill)
    #[arg(long, hide = true, value_name = "BYTES")]
    pub memory_budget: Option<usize>,

    /// Hold every record instead of streaming (the engine the record
    /// outputs use; tests compare the two)
    #[arg(long, hide = true)]
    pub held: bool,
}

/// Where one rendered format goes.
#[derive(Debug)]
pub(super) enum Target {
    Stdout,
    File(PathBuf),
}

/// The resolved run: no clap types below this point.
#[derive(Debug)]
pub struct Plan {
    /// Evidence inputs (case folders replaced by their evidence).
    pub inputs: Vec<PathBuf>,
    pub topology: Vec<PathBuf>,
    pub expect: ExpectSet,
    outputs: Vec<(Format, Target)>,
    /// Colour and width of the terminal table.
    pub style: Style,
    pub progress: bool,
    pub strict: bool,
    pub exit_zero: bool,
    pub quiet: bool,
    /// `--examples K`: flows kept per path and per expectation and host.
    pub examples: usize,
    pub log_format: Option<String>,
    /// The price table for the cost estimates.
    pub prices: privpath::report::cost::PriceTable,
    /// Print GitHub Actions annotations.
    pub github: bool,
    /// `--cloudwatch LOG_GROUP` and its options.
    pub cloudwatch: super::cloudwatch_args::CloudWatchArgs,
    /// `--window` / `--host` for captures.
    pub capture: super::capture_args::CaptureArgs,
    /// Bytes of conversation rows held before spilling.
    pub memory_budget: usize,
    /// Hold every record (the record outputs' engine).
    pub held: bool,
}

impl Plan {
    /// Keep every classified flow in the report (a per-flow format was asked for).
    pub fn keep_flows(&self) -> bool {
        self.outputs.iter().any(|(f, _)| f.needs_flows())
    }

    /// `--since`/`--until` (or `since`/`until` of expect.toml): the objects
    /// of `s3://` inputs are chosen for this window.
    pub fn key_window(&self) -> privpath::ingest::s3::KeyWindow {
        privpath::ingest::s3::KeyWindow {
            since: self.expect.since.and_then(|t| i64::try_from(t).ok()),
            until: self.expect.until.and_then(|t| i64::try_from(t).ok()),
        }
    }

    /// What every reader of this audit is told: the log format, progress,
    /// the key window and the capture options.
    pub fn ingest_options(&self) -> privpath::ingest::IngestOptions {
        self.capture.apply(privpath::ingest::IngestOptions {
            log_format: self.log_format.clone(),
            progress: self.progress,
            key_window: self.key_window(),
            ..privpath::ingest::IngestOptions::default()
        })
    }
}

/// Resolve the arguments: case folders, expectations, output targets.
pub fn resolve(args: &AuditArgs, global: &GlobalArgs) -> anyhow::Result<Plan> {
    let mut expect = ExpectSet::parse_cli(
        &args.expect,
        &args.expect_dns,
        args.since.as_deref(),
        args.until.as_deref(),
    )?;
    // Inputs are sorted as every command sorts them (a path that does not
    // exist fails here, before the topology is looked for): evidence, the
    // topology of case folders and AWS CLI JSON among the inputs, and
    // expect.toml files.
    let sorted = privpath::ingest::inputs::plan(&args.inputs)?;
    let inputs = sorted.evidence;
    let mut topology = args.topology.clone();
    topology.extend(sorted.topology);
    for f in &sorted.expect {
        expect.extend(ExpectSet::load_toml(f)?)?;
    }
    if topology.is_empty() {
        bail!("no topology: give --topology PATH or a case folder holding topology/");
    }
    let prices = match &args.prices {
        None => privpath::report::cost::PriceTable::builtin()?,
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("{}: cannot read the price file", p.display()))?;
            privpath::report::cost::PriceTable::parse(&p.display().to_string(), &text)?
        }
    };

    let stdout_tty = std::io::stdout().is_terminal();
    let outputs = plan_outputs(&requested_formats(&args.output), args.out.as_deref())?;
    if stdout_tty
        && outputs
            .iter()
            .any(|(f, t)| *f == Format::Parquet && matches!(t, Target::Stdout))
    {
        bail!("refusing to write parquet to a terminal: use --out FILE or a redirection");
    }
    Ok(Plan {
        inputs,
        topology,
        expect,
        style: terminal_style(global, &outputs),
        outputs,
        progress: !global.quiet && std::io::stderr().is_terminal(),
        strict: global.strict,
        exit_zero: args.exit_zero,
        quiet: global.quiet,
        examples: args.examples,
        log_format: args.log_format.clone(),
        prices,
        github: args.github,
        cloudwatch: args.cloudwatch.clone(),
        memory_budget: args
            .memory_budget
            .unwrap_or(privpath::audit::DEFAULT_BUDGET),
        held: args.held,
        capture: args.capture.clone(),
    })
}

/// The formats asked for, each once in the order given; the table when none.
pub(super) fn requested_formats(output: &[OutputFormat]) -> Vec<Format> {
    let mut formats: Vec<Format> = output.iter().map(|&f| f.into()).collect();
    let mut seen = std::collections::BTreeSet::new();
    formats.retain(|f| seen.insert(*f));
    if formats.is_empty() {
        formats.push(Format::Table);
    }
    formats
}

/// How the terminal table is drawn.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    /// ANSI colour (only when a table goes to stdout).
    pub color: bool,
    /// The terminal's width when stdout is one (else `COLUMNS`, else none).
    pub width: Option<u16>,
}

/// Colour from `--color` and `NO_COLOR`, width from the terminal.
pub(super) fn terminal_style(global: &GlobalArgs, outputs: &[(Format, Target)]) -> Style {
    let stdout_tty = std::io::stdout().is_terminal();
    let color = match global.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            stdout_tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let table_to_stdout = outputs
        .iter()
        .any(|(f, t)| *f == Format::Table && matches!(t, Target::Stdout));
    Style {
        color: color && table_to_stdout,
        width: stdout_tty
            .then(|| terminal_size::terminal_size().map(|(w, _)| w.0))
            .flatten()
            .or_else(|| {
                std::env::var("COLUMNS")
                    .ok()
                    .and_then(|c| c.parse().ok())
                    .filter(|_| stdout_tty)
            }),
    }
}

/// Decide where each format goes and create the files now, so that a bad
/// path fails before the long work starts.
pub(super) fn plan_outputs(
    formats: &[Format],
    out: Option<&Path>,
) -> anyhow::Result<Vec<(Format, Target)>> {
    let Some(out) = out else {
        if formats.len() > 1 {
            bail!("several -o formats need --out DIR");
        }
        return Ok(formats.iter().map(|&f| (f, Target::Stdout)).collect());
    };
    let as_dir =
        formats.len() > 1 || out.is_dir() || out.as_os_str().to_string_lossy().ends_with('/');
    let mut targets = Vec::new();
    if as_dir {
        std::fs::create_dir_all(out)
            .with_context(|| format!("{}: cannot create the output folder", out.display()))?;
        for &f in formats {
            targets.push((f, Target::File(out.join(f.file_name()))));
        }
    } else {
        for &f in formats {
            targets.push((f, Target::File(out.to_path_buf())));
        }
    }
    for (_, t) in &targets {
        if let Target::File(p) = t {
            std::fs::File::create(p)
                .with_context(|| format!("{}: cannot create the output file", p.display()))?;
        }
    }
    Ok(targets)
}

/// Write every requested format. Returns the files written.
pub(super) fn write_outputs(
    outputs: &[(Format, Target)],
    style: Style,
    report: &Report,
    flows: Option<&stream::StreamedFlows>,
) -> anyhow::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (format, target) in outputs {
        if let (true, Some(flows)) = (format.needs_flows(), flows) {
            write_flows(*format, target, flows)?;
            if let Target::File(p) = target {
                written.push(p.clone());
            }
            continue;
        }
        let opts = RenderOptions {
            color: style.color && matches!(target, Target::Stdout),
            width: if matches!(target, Target::Stdout) && *format == Format::Table {
                style.width
            } else {
                None
            },
        };
        let bytes = privpath::report::render(*format, report, opts)?;
        match target {
            Target::Stdout => {
                #[allow(clippy::print_stdout)]
                let mut out = std::io::stdout().lock();
                out.write_all(&bytes)?;
                out.flush()?;
            }
            Target::File(p) => {
                std::fs::write(p, &bytes)
                    .with_context(|| format!("{}: cannot write", p.display()))?;
                written.push(p.clone());
            }
        }
    }
    Ok(written)
}

/// `-o csv|parquet` of a streamed audit: merged from its runs to the target.
fn write_flows(
    format: Format,
    target: &Target,
    flows: &stream::StreamedFlows,
) -> anyhow::Result<()> {
    let (table, runs) = flows.table();
    let name = match target {
        Target::Stdout => "standard output".to_owned(),
        Target::File(p) => p.display().to_string(),
    };
    let mut out: Box<dyn Write> = match target {
        Target::Stdout => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
        Target::File(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("{}: cannot write", p.display()))?,
        )),
    };
    match format {
        Format::Parquet => {
            table
                .write_parquet(runs, &mut out)
                .with_context(|| format!("{name}: cannot write the parquet flows"))?;
        }
        _ => {
            table
                .write_csv(runs, &mut out)
                .with_context(|| format!("{name}: cannot write the csv flows"))?;
        }
    }
    out.flush()
        .with_context(|| format!("{name}: cannot write"))?;
    Ok(())
}

/// Decide the exit status from the report and the errors seen.
pub fn exit_status(report: &Report, strict: bool, exit_zero: bool) -> ExitStatus {
    let errored = report.inputs.iter().any(|i| i.error.is_some());
    let bad = report.inputs.iter().any(|i| i.skipped > 0);
    if errored || (strict && bad) {
        return ExitStatus::Error;
    }
    if report.all_met() || exit_zero {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    }
}

pub fn run(args: &AuditArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let plan = resolve(args, global)?;
    let (report, flows) = pipeline::build(&plan)?;
    let written = write_outputs(&plan.outputs, plan.style, &report, flows.as_ref())?;
    let status = exit_status(&report, plan.strict, plan.exit_zero);
    if plan.github {
        // Workflow commands: the runner reads them from either stream;
        // stderr keeps stdout for the report.
        let mut err = std::io::stderr().lock();
        err.write_all(privpath::report::github::render_annotations(&report).as_bytes())?;
    }
    if !plan.quiet {
        let mut err = std::io::stderr().lock();
        for p in &written {
            writeln!(
                err,
                "privpath: wrote {}",
                privpath::error::sanitize(&p.display().to_string(), 500)
            )?;
        }
        for i in report.inputs.iter().filter(|i| i.error.is_some()) {
            writeln!(
                err,
                "privpath: {}",
                privpath::error::sanitize(i.error.as_deref().unwrap_or(""), 500)
            )?;
        }
        if plan.strict && status == ExitStatus::Error {
            let bad: u64 = report.inputs.iter().map(|i| i.skipped).sum();
            if bad > 0 {
                writeln!(err, "privpath: {bad} bad records (--strict)")?;
            }
        }
        if !report.expectations.is_empty() {
            let failed = report.failed_expectations();
            writeln!(
                err,
                "privpath: {failed} of {} expectations failed{}",
                report.expectations.len(),
                if failed > 0 && plan.exit_zero {
                    " (--exit-zero)"
                } else {
                    ""
                }
            )?;
        }
    }
    Ok(status)
}

mod api_calls;
pub mod pipeline;
pub(super) mod stream;

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;

    #[test]
    fn plan_outputs_needs_a_folder_for_several_formats() {
        let err = plan_outputs(&[Format::Json, Format::Html], None).unwrap_err();
        assert_eq!(err.to_string(), "several -o formats need --out DIR");
        let dir = tempfile::tempdir().unwrap();
        let t = plan_outputs(&[Format::Json, Format::Junit], Some(dir.path())).unwrap();
        assert_eq!(t.len(), 2);
        assert!(dir.path().join("audit.json").is_file());
        assert!(dir.path().join("junit.xml").is_file());
        let file = dir.path().join("one.md");
        plan_outputs(&[Format::Markdown], Some(&file)).unwrap();
        assert!(file.is_file());
    }
}
