//! `privpath pull cloudwatch LOG_GROUP --out DIR`: save flow logs from
//! CloudWatch Logs as one gzip file per log stream, for an offline audit.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::GlobalArgs;
use super::cloudwatch_args::CloudWatchSourceArgs;
use privpath::exit::ExitStatus;

#[derive(Debug, Subcommand)]
pub enum PullCommand {
    /// Pull VPC Flow Logs from a CloudWatch Logs group into gzip files
    ///
    /// Writes one `<log-stream>.log.gz` per log stream into DIR: a header
    /// line naming the record format, then one record per line, so that
    /// `privpath audit DIR` later gives the same result as reading the group
    /// live. Credentials and region come from the standard AWS chain
    /// (environment, ~/.aws files, SSO, instance role), overridden by
    /// --profile, --region and --endpoint-url.
    Cloudwatch(PullCloudWatchArgs),
}

#[derive(Debug, Args)]
pub struct PullCloudWatchArgs {
    /// The log group the flow logs are delivered to
    #[arg(value_name = "LOG_GROUP")]
    pub log_group: String,
    /// Folder to write into (created if missing; must be empty unless --force)
    #[arg(short = 'o', long, value_name = "DIR")]
    pub out: PathBuf,
    /// Write into DIR even if it is not empty (files of the same streams are replaced)
    #[arg(long)]
    pub force: bool,
    /// The flow log's LogFormat ('${version} ${account-id} …'), default: version 2
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<String>,
    #[command(flatten)]
    pub source: CloudWatchSourceArgs,
}

pub fn run(cmd: &PullCommand, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    match cmd {
        PullCommand::Cloudwatch(args) => run_cloudwatch(args, global),
    }
}

#[cfg(not(feature = "cloudwatch"))]
fn run_cloudwatch(_args: &PullCloudWatchArgs, _global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("{}", super::cloudwatch_args::NOT_BUILT)
}

#[cfg(feature = "cloudwatch")]
fn run_cloudwatch(args: &PullCloudWatchArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    use std::io::{IsTerminal, Write};

    use anyhow::Context;
    use indicatif::HumanBytes;
    use privpath::error::sanitize;
    use privpath::ingest::IngestOptions;
    use privpath::ingest::cloudwatch_pull::pull_to_dir;

    let src = args
        .source
        .to_source(&args.log_group, jiff::Timestamp::now())?;
    if !args.force && is_non_empty_dir(&args.out)? {
        anyhow::bail!(
            "{} is not empty: pull into a new or empty folder, or pass --force",
            args.out.display()
        );
    }
    let opts = IngestOptions {
        log_format: args.log_format.clone(),
        progress: !global.quiet && std::io::stderr().is_terminal(),
        ..IngestOptions::default()
    };
    let summary = pull_to_dir(&src, &opts, &args.out)?;

    let mut err = std::io::stderr().lock();
    let mut status = ExitStatus::Success;
    for s in summary.failed() {
        status = ExitStatus::Error;
        let reason = s.error.as_deref().unwrap_or_default();
        writeln!(
            err,
            "privpath: {}: {}",
            sanitize(&src.stream_path(&s.name), 500),
            reason
        )
        .context("writing to stderr")?;
    }
    if !global.quiet {
        let saved = summary.streams.len() - summary.failed().count();
        writeln!(
            err,
            "pulled {} events ({}) from {} of {} log streams of {} into {}",
            summary.events(),
            HumanBytes(summary.bytes()),
            saved,
            summary.streams.len(),
            sanitize(&src.log_group, 500),
            args.out.display()
        )
        .context("writing to stderr")?;
    }
    Ok(status)
}

/// True when `dir` exists and has at least one entry.
#[cfg(feature = "cloudwatch")]
fn is_non_empty_dir(dir: &std::path::Path) -> anyhow::Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_some()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
            anyhow::bail!("{} is not a folder", dir.display())
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!("{}", dir.display()))),
    }
}
