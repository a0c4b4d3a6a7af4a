//! `privpath pull cloudwatch LOG_GROUP --out DIR`: save flow logs from
//! CloudWatch Logs as one gzip file per log stream, for an offline audit;
//! `privpath pull s3 s3://BUCKET/PREFIX --out DIR`: keep a local copy of the
//! objects under a prefix (resumable).

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
    /// Copy the objects under an S3 prefix into a folder, in the same layout
    ///
    /// Keys are saved relative to the prefix's folder (as `aws s3 sync`
    /// does). Resumable: an object already saved with the same size and
    /// ETag is not fetched again (DIR/.privpath-s3-manifest.jsonl records
    /// what was saved), and files appear only when complete. With
    /// --since/--until only the date folders and files whose key time can
    /// hold records of the window are listed and fetched. Credentials and
    /// region come from the standard AWS chain, overridden by --profile,
    /// --region and --endpoint-url.
    S3(PullS3Args),
}

#[derive(Debug, Args)]
pub struct PullS3Args {
    /// s3://BUCKET/PREFIX
    #[arg(value_name = "S3_URI")]
    pub uri: String,
    /// Folder to write into (created if missing)
    #[arg(short = 'o', long, value_name = "DIR")]
    pub out: PathBuf,
    /// Only objects that can hold records at or after this time: RFC 3339,
    /// a date (UTC) or an age (30m, 2h, 1d)
    #[arg(long, value_name = "TIME", value_parser = super::cloudwatch_args::parse_time_arg)]
    pub since: Option<super::cloudwatch_args::TimeArg>,
    /// Only objects that can hold records at or before this time
    #[arg(long, value_name = "TIME", value_parser = super::cloudwatch_args::parse_time_arg)]
    pub until: Option<super::cloudwatch_args::TimeArg>,
    #[command(flatten)]
    pub aws: super::cloudwatch_args::AwsArgs,
    #[command(flatten)]
    pub s3: super::s3_args::S3Args,
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
        PullCommand::S3(args) => run_s3(args, global),
    }
}

#[cfg(not(feature = "aws"))]
fn run_s3(_args: &PullS3Args, _global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("{}", super::cloudwatch_args::NOT_BUILT)
}

#[cfg(feature = "aws")]
fn run_s3(args: &PullS3Args, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    use std::io::{IsTerminal, Write};

    use anyhow::Context;
    use indicatif::HumanBytes;
    use privpath::error::sanitize;
    use privpath::ingest::s3::pull::pull_to_dir;
    use privpath::ingest::s3::{KeyWindow, S3Reader, S3Uri};

    let uri = S3Uri::parse(&args.uri).map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = jiff::Timestamp::now();
    let since = args.since.map(|t| t.resolve(now)).transpose()?;
    let until = args.until.map(|t| t.resolve(now)).transpose()?;
    if let (Some(s), Some(u)) = (since, until) {
        if u < s {
            anyhow::bail!("--until ({u}) is before --since ({s})");
        }
    }
    let window = KeyWindow {
        since: since.map(|t| t.as_second()),
        until: until.map(|t| t.as_second()),
    };
    let reader = S3Reader::connect(
        &args.aws.to_options(),
        usize::from(args.s3.concurrent_objects),
    )?;
    let selection = reader.select(std::slice::from_ref(&uri), &window)?;
    let mut err = std::io::stderr().lock();
    if !global.quiet {
        let line = selection.describe(std::slice::from_ref(&uri), &window);
        writeln!(err, "privpath: {}", sanitize(&line, 2_000)).context("writing to stderr")?;
    }
    drop(err);
    let progress = !global.quiet && std::io::stderr().is_terminal();
    let summary = pull_to_dir(&reader, &uri, selection, &args.out, progress)?;

    let mut err = std::io::stderr().lock();
    let mut status = ExitStatus::Success;
    for o in &summary.failed {
        status = ExitStatus::Error;
        writeln!(err, "privpath: {}", sanitize(&o.error, 1_000)).context("writing to stderr")?;
    }
    if !global.quiet {
        writeln!(
            err,
            "pulled {} objects ({}) into {}; {} already there; {} failed",
            summary.fetched,
            HumanBytes(summary.fetched_bytes),
            args.out.display(),
            summary.skipped,
            summary.failed.len(),
        )
        .context("writing to stderr")?;
    }
    Ok(status)
}

#[cfg(not(feature = "aws"))]
fn run_cloudwatch(_args: &PullCloudWatchArgs, _global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("{}", super::cloudwatch_args::NOT_BUILT)
}

#[cfg(feature = "aws")]
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
#[cfg(feature = "aws")]
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
