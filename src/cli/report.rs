//! `privpath report`: an engine's result of `privpath sql` (the verdict
//! table, optionally the findings) rendered as `audit` renders its report,
//! with the same expectations and exit codes.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::bail;
use clap::Args;

use super::GlobalArgs;
use super::audit::{
    OutputFormat, exit_status, plan_outputs, requested_formats, terminal_style, write_outputs,
};
use privpath::exit::ExitStatus;
use privpath::report::expect::ExpectSet;

use privpath::sql::result;

/// Render the result of `privpath sql` as the audit's report.
///
/// Exit codes: 0 every expectation held (or none was given), 1 an
/// expectation failed, 2 error (unreadable result, bad expectation, bad
/// rows under --strict).
#[derive(Debug, Args)]
#[command(
    after_help = "RESULT: CSV as Athena writes query results to S3, or Parquet; a folder \
reads every .csv/.parquet file in it (Spark writes part files). Give the verdicts result and, \
optionally, the findings result.\n\
Exit codes: 0 every expectation held (or none was given), 1 an expectation failed, 2 error.\n\
Example: privpath report verdicts.csv --expect s3=gateway-endpoint -o markdown"
)]
pub struct ReportArgs {
    /// Result files or folders of them
    #[arg(required = true, value_name = "RESULT")]
    pub results: Vec<PathBuf>,
    /// SERVICE[@SCOPE]=PATH, as for `audit`; repeatable
    #[arg(long, value_name = "EXPECTATION")]
    pub expect: Vec<String>,
    /// An expect.toml (as in a case folder); repeatable
    #[arg(long, value_name = "FILE")]
    pub expect_file: Vec<PathBuf>,
    /// Check the expectations only on rows reaching this time or later
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Check the expectations only on rows starting at or before this time
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Output format; repeat with --out DIR for several
    #[arg(short = 'o', long = "output", value_enum, value_name = "FORMAT")]
    pub output: Vec<OutputFormat>,
    /// Write to this file (one format) or into this folder
    #[arg(long, value_name = "FILE|DIR")]
    pub out: Option<PathBuf>,
    /// Exit 0 even when an expectation fails (errors still exit 2)
    #[arg(long)]
    pub exit_zero: bool,
}

/// The result files: files as given, folders by their .csv/.parquet files.
fn result_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = walkdir::WalkDir::new(p)
                .into_iter()
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_file())
                .map(|e| e.into_path())
                .filter(|f| {
                    let name = f
                        .file_name()
                        .map(|n| n.to_string_lossy().to_string())
                        .unwrap_or_default();
                    !name.starts_with('.')
                        && !name.starts_with('_')
                        && (name.ends_with(".csv") || name.ends_with(".parquet"))
                })
                .collect();
            found.sort();
            if found.is_empty() {
                bail!(
                    "{}: no .csv or .parquet result files in the folder",
                    p.display()
                );
            }
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

pub fn run(args: &ReportArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let mut expect = ExpectSet::parse_cli(
        &args.expect,
        &[],
        args.since.as_deref(),
        args.until.as_deref(),
    )?;
    for f in &args.expect_file {
        expect.extend(ExpectSet::load_toml(f)?)?;
    }
    let files = result_files(&args.results)?;
    let tables: Vec<(String, Result<result::ResultTable, result::ResultError>)> = files
        .iter()
        .map(|f| (f.display().to_string(), result::read_file(f)))
        .collect();
    let report = result::report(&tables, &expect)?;

    let formats = requested_formats(&args.output);
    if formats.iter().any(|f| f.needs_flows()) {
        bail!(
            "-o csv|parquet lists every flow: the engine's result has rows per path, not flows (run the --select flows query instead)"
        );
    }
    let outputs = plan_outputs(&formats, args.out.as_deref())?;
    write_outputs(&outputs, terminal_style(global, &outputs), &report, None)?;
    let status = exit_status(&report, global.strict, args.exit_zero);
    if !global.quiet {
        let mut err = std::io::stderr().lock();
        for i in report.inputs.iter().filter(|i| i.error.is_some()) {
            writeln!(
                err,
                "privpath: {}",
                privpath::error::sanitize(i.error.as_deref().unwrap_or(""), 500)
            )?;
        }
        if !report.expectations.is_empty() {
            writeln!(
                err,
                "privpath: {} of {} expectations failed",
                report.failed_expectations(),
                report.expectations.len()
            )?;
        }
    }
    Ok(status)
}
