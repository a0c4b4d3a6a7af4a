//! CloudWatch Logs source options, shared by `pull cloudwatch`, `audit
//! --cloudwatch` and `flows --cloudwatch` (flatten [`CloudWatchArgs`] into a
//! subcommand's args; call [`CloudWatchArgs::read`]).
//!
//! These types exist in every build so that callers need no `cfg`; without
//! the `aws` feature, asking for CloudWatch (or S3) is a clear error.

use anyhow::bail;
use clap::Args;
use jiff::{SignedDuration, Timestamp};
use privpath::ingest::{self, FlowSink, IngestOptions, Ingested};

/// The remote sources of `audit` and `flows`: `--cloudwatch LOG_GROUP` and
/// the options that select what to read, and the options of `s3://` inputs.
#[derive(Debug, Clone, Default, Args)]
pub struct CloudWatchArgs {
    /// Read flow logs from this CloudWatch Logs group (one log stream per ENI)
    #[arg(long, value_name = "LOG_GROUP", help_heading = "CloudWatch Logs")]
    pub cloudwatch: Option<String>,
    #[command(flatten)]
    pub source: CloudWatchSourceArgs,
    #[command(flatten)]
    pub s3: super::s3_args::S3Args,
}

/// How to reach AWS: shared by every AWS client (CloudWatch Logs, S3).
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "AWS")]
pub struct AwsArgs {
    /// AWS profile from the shared config files (default: AWS_PROFILE, then "default")
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region (default: AWS_REGION, then the profile's region)
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Send AWS requests to this URL (default: AWS_ENDPOINT_URL_<SERVICE>,
    /// e.g. AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, then the region's endpoint)
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

impl AwsArgs {
    /// The first option given, for "needs …" messages.
    pub fn first_given(&self) -> Option<&'static str> {
        [
            (self.profile.is_some(), "--profile"),
            (self.endpoint_url.is_some(), "--endpoint-url"),
        ]
        .into_iter()
        .find_map(|(given, flag)| given.then_some(flag))
    }

    /// The library's view of these options.
    #[cfg(feature = "aws")]
    pub fn to_options(&self) -> privpath::ingest::aws::AwsOptions {
        privpath::ingest::aws::AwsOptions {
            profile: self.profile.clone(),
            region: self.region.clone(),
            endpoint_url: self.endpoint_url.clone(),
        }
    }
}

/// What to read from a log group and how to reach AWS.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "CloudWatch Logs")]
pub struct CloudWatchSourceArgs {
    /// Read only this log stream (repeat for more)
    #[arg(
        long = "log-stream",
        value_name = "NAME",
        conflicts_with = "log_stream_prefix"
    )]
    pub log_streams: Vec<String>,
    /// Read only the log streams whose name starts with this
    #[arg(long, value_name = "PREFIX")]
    pub log_stream_prefix: Option<String>,
    /// Earliest record start to read: RFC 3339 (2026-11-25T09:00:00Z), a date
    /// (2026-11-25, UTC) or an age (30m, 2h, 1d, 1w, 1h30m)
    #[arg(long, value_name = "TIME", value_parser = parse_time_arg)]
    pub start: Option<TimeArg>,
    /// Latest record start to read (inclusive), in the same forms as --start
    #[arg(long, value_name = "TIME", value_parser = parse_time_arg)]
    pub end: Option<TimeArg>,
    /// CloudWatch Logs filter pattern, applied by the service (e.g. REJECT)
    #[arg(long, value_name = "PATTERN")]
    pub filter_pattern: Option<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Log streams fetched at once
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrent_streams: u16,
    /// Events per FilterLogEvents request (1-10000)
    #[arg(long, value_name = "N", default_value_t = 10_000, hide = true,
          value_parser = clap::value_parser!(i32).range(1..=10_000))]
    pub page_size: i32,
}

impl Default for CloudWatchSourceArgs {
    fn default() -> Self {
        CloudWatchSourceArgs {
            log_streams: Vec::new(),
            log_stream_prefix: None,
            start: None,
            end: None,
            filter_pattern: None,
            aws: AwsArgs::default(),
            concurrent_streams: 4,
            page_size: 10_000,
        }
    }
}

impl CloudWatchSourceArgs {
    /// The first selecting option given, for "needs --cloudwatch" messages
    /// (the AWS options serve `s3://` inputs too: see [`AwsArgs`]).
    fn first_given(&self) -> Option<&'static str> {
        [
            (!self.log_streams.is_empty(), "--log-stream"),
            (self.log_stream_prefix.is_some(), "--log-stream-prefix"),
            (self.start.is_some(), "--start"),
            (self.end.is_some(), "--end"),
            (self.filter_pattern.is_some(), "--filter-pattern"),
        ]
        .into_iter()
        .find_map(|(given, flag)| given.then_some(flag))
    }
}

/// A `--start`/`--end` value before "now" is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeArg {
    At(Timestamp),
    /// This long before now.
    Ago(SignedDuration),
}

impl TimeArg {
    #[cfg_attr(not(feature = "aws"), allow(dead_code))]
    pub fn resolve(self, now: Timestamp) -> anyhow::Result<Timestamp> {
        match self {
            TimeArg::At(t) => Ok(t),
            TimeArg::Ago(d) => now
                .checked_sub(d)
                .map_err(|_| anyhow::anyhow!("the time {} ago is out of range", d)),
        }
    }
}

/// RFC 3339 (`2026-11-25T09:00:00Z`, `…+09:00`), a date (`2026-11-25`, at
/// 00:00 UTC), or an age: one or more `<number><unit>` with units `s m h d w`
/// (`30m`, `2h`, `1d`, `1h30m`).
pub fn parse_time_arg(s: &str) -> Result<TimeArg, String> {
    let s = s.trim();
    if let Some(d) = parse_age(s) {
        return d.map(TimeArg::Ago);
    }
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(TimeArg::At(t));
    }
    if let Ok(date) = s.parse::<jiff::civil::Date>() {
        return date
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .map(|z| TimeArg::At(z.timestamp()))
            .map_err(|e| format!("invalid date '{s}': {e}"));
    }
    Err(format!(
        "invalid time '{s}': use RFC 3339 (2026-11-25T09:00:00Z), a date (2026-11-25) or an age (30m, 2h, 1d)"
    ))
}

/// `None` when `s` does not look like an age at all; `Some(Err)` when it
/// does but is out of range.
fn parse_age(s: &str) -> Option<Result<SignedDuration, String>> {
    if s.is_empty() || !s.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let mut total: i64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (num, tail) = rest.split_at(digits);
        let mut chars = tail.chars();
        let unit = chars.next()?;
        let secs_per: i64 = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return None,
        };
        if num.is_empty() {
            return None;
        }
        let n: i64 = match num.parse() {
            Ok(n) => n,
            Err(_) => return Some(Err(format!("invalid age '{s}': number too large"))),
        };
        match n.checked_mul(secs_per).and_then(|v| total.checked_add(v)) {
            Some(t) => total = t,
            None => return Some(Err(format!("invalid age '{s}': too long"))),
        }
        rest = chars.as_str();
    }
    Some(Ok(SignedDuration::from_secs(total)))
}

#[cfg(feature = "aws")]
mod resolve {
    use super::*;
    use privpath::ingest::cloudwatch_pull::{CloudWatchSource, StreamSelection};

    impl CloudWatchSourceArgs {
        /// The library's view of these options for `log_group`, with ages
        /// measured back from `now`.
        pub fn to_source(
            &self,
            log_group: &str,
            now: Timestamp,
        ) -> anyhow::Result<CloudWatchSource> {
            if log_group.is_empty() {
                bail!("the log group name is empty");
            }
            let start = self.start.map(|t| t.resolve(now)).transpose()?;
            let end = self.end.map(|t| t.resolve(now)).transpose()?;
            if let (Some(s), Some(e)) = (start, end) {
                if e < s {
                    bail!("--end ({e}) is before --start ({s})");
                }
            }
            let streams = match (&self.log_stream_prefix, self.log_streams.is_empty()) {
                (Some(p), _) => StreamSelection::Prefix(p.clone()),
                (None, false) => StreamSelection::Names(self.log_streams.clone()),
                (None, true) => StreamSelection::All,
            };
            let mut src = CloudWatchSource::new(log_group);
            src.streams = streams;
            src.start = start;
            src.end = end;
            src.filter_pattern = self.filter_pattern.clone().filter(|p| !p.is_empty());
            src.aws = self.aws.to_options();
            src.concurrency = usize::from(self.concurrent_streams);
            src.page_size = self.page_size;
            Ok(src)
        }
    }

    impl CloudWatchArgs {
        /// The source to read, or `None` without `--cloudwatch`.
        pub fn to_source(&self, now: Timestamp) -> anyhow::Result<Option<CloudWatchSource>> {
            match &self.cloudwatch {
                Some(group) => self.source.to_source(group, now).map(Some),
                None => {
                    if let Some(flag) = self.source.first_given() {
                        bail!("{flag} needs --cloudwatch LOG_GROUP");
                    }
                    Ok(None)
                }
            }
        }
    }
}

#[cfg(not(feature = "aws"))]
impl CloudWatchArgs {
    /// Without the `aws` feature there is nothing to read from.
    pub fn check_available(&self) -> anyhow::Result<()> {
        if self.cloudwatch.is_some() {
            bail!("{}", NOT_BUILT);
        }
        if let Some(flag) = self.source.first_given() {
            bail!("{flag} needs --cloudwatch LOG_GROUP");
        }
        Ok(())
    }
}

/// Read every input the user gave into one [`Ingested`]: the local files
/// and folders first, in their usual order, then the `s3://` objects
/// (prefix by prefix, keys in order), then the `--cloudwatch` log streams
/// by name; source ids run on across the three. The remote parts show
/// progress on stderr unless `quiet` or stderr is not a terminal, and the
/// S3 part says on stderr (unless `quiet`) what it selected. S3 objects are
/// chosen for `opts.key_window`. Every remote option is checked, and the S3
/// prefixes listed, before any file is read. Without the `aws` feature,
/// `--cloudwatch` and `s3://` inputs are errors.
pub fn read_inputs_and_cloudwatch<S, F>(
    inputs: &[std::path::PathBuf],
    cw: &CloudWatchArgs,
    opts: &IngestOptions,
    quiet: bool,
    make_sink: F,
) -> anyhow::Result<Ingested<S>>
where
    S: FlowSink,
    F: Fn() -> S + Sync,
{
    read_local_then_remote(inputs, cw, opts, quiet, make_sink, |paths, make_sink| {
        let got = if paths.is_empty() {
            Ingested {
                sink: make_sink(),
                sources: Vec::new(),
                dns: Vec::new(),
                api_calls: Vec::new(),
                aside: Vec::new(),
            }
        } else {
            ingest::read_inputs(paths, opts, make_sink)?
        };
        let n = got.sources.len();
        Ok((got, n))
    })
}

/// [`read_inputs_and_cloudwatch`] with the local files and folders read by
/// `read_local`, which returns what it read and how many source ids it
/// used (the remote inputs' ids follow).
pub fn read_local_then_remote<S, F, L>(
    inputs: &[std::path::PathBuf],
    cw: &CloudWatchArgs,
    opts: &IngestOptions,
    quiet: bool,
    make_sink: F,
    read_local: L,
) -> anyhow::Result<Ingested<S>>
where
    S: FlowSink,
    F: Fn() -> S + Sync,
    L: FnOnce(&[std::path::PathBuf], &F) -> anyhow::Result<(Ingested<S>, usize)>,
{
    let remote = Remote::prepare(inputs, cw, opts, quiet)?;
    let (mut got, mut used) = read_local(&remote.paths, &make_sink)?;
    let first = remote.next_id(used)?;
    if let Some(read) = remote.read_s3(|_| true, first, &make_sink)? {
        used += remote.s3_objects();
        add(&mut got, read);
    }
    let first = remote.next_id(used)?;
    if let Some(read) = remote.read_cloudwatch(first, &make_sink)? {
        add(&mut got, read);
    }
    Ok(got)
}

/// Fold what a remote source read into what was read before it.
pub fn add<S: FlowSink>(got: &mut Ingested<S>, read: Ingested<S>) {
    got.sink.merge(read.sink);
    got.sources.extend(read.sources);
    ingest::join(&mut got.dns, read.dns);
    ingest::join(&mut got.api_calls, read.api_calls);
}

/// The remote inputs of a run, checked and (S3) listed before any file is
/// read; read part by part by the caller (the streamed audit reads the
/// objects that name services before the flow logs).
pub struct Remote {
    /// The local inputs (the `s3://` ones taken out).
    pub paths: Vec<std::path::PathBuf>,
    #[cfg(feature = "aws")]
    s3: Option<(
        privpath::ingest::s3::S3Reader,
        privpath::ingest::s3::Selection,
    )>,
    #[cfg(feature = "aws")]
    cloudwatch: Option<privpath::ingest::cloudwatch_pull::CloudWatchSource>,
    #[cfg(feature = "aws")]
    opts: IngestOptions,
}

impl Remote {
    /// Check every remote option and list the S3 prefixes (for
    /// `opts.key_window`); say on stderr what was selected unless `quiet`.
    pub fn prepare(
        inputs: &[std::path::PathBuf],
        cw: &CloudWatchArgs,
        opts: &IngestOptions,
        quiet: bool,
    ) -> anyhow::Result<Remote> {
        let (paths, uris) = super::s3_args::split_inputs(inputs)?;
        if cw.cloudwatch.is_none() && uris.is_empty() {
            if let Some(flag) = cw.source.aws.first_given() {
                bail!("{flag} needs --cloudwatch LOG_GROUP or an s3:// input");
            }
        }
        #[cfg(feature = "aws")]
        {
            use std::io::IsTerminal;
            let cloudwatch = cw.to_source(Timestamp::now())?;
            let s3 = super::s3_args::select(&uris, &cw.source.aws, &cw.s3, opts, quiet)?;
            Ok(Remote {
                paths,
                s3,
                cloudwatch,
                opts: IngestOptions {
                    progress: !quiet && std::io::stderr().is_terminal(),
                    ..opts.clone()
                },
            })
        }
        #[cfg(not(feature = "aws"))]
        {
            cw.check_available()?;
            if !uris.is_empty() {
                bail!("{}", NOT_BUILT);
            }
            let _ = (opts, quiet);
            Ok(Remote { paths })
        }
    }

    /// The source id after `used` ids.
    pub fn next_id(&self, used: usize) -> anyhow::Result<privpath::flow::SourceId> {
        u32::try_from(used)
            .map(privpath::flow::SourceId)
            .map_err(|_| anyhow::anyhow!("too many inputs"))
    }

    /// Bytes of the selected S3 objects: (plain, gzip by name).
    pub fn s3_bytes(&self) -> (u64, u64) {
        #[cfg(feature = "aws")]
        if let Some((_, sel)) = &self.s3 {
            return sel.objects.iter().fold((0, 0), |(p, g), o| {
                if o.key.ends_with(".gz") {
                    (p, g + o.size)
                } else {
                    (p + o.size, g)
                }
            });
        }
        (0, 0)
    }

    /// How many S3 objects were selected (the ids they take).
    pub fn s3_objects(&self) -> usize {
        #[cfg(feature = "aws")]
        return self.s3.as_ref().map_or(0, |(_, sel)| sel.objects.len());
        #[cfg(not(feature = "aws"))]
        0
    }

    /// Read the selected S3 objects whose key `pick` accepts (`None`: no
    /// `s3://` input). Object `i` of the selection is source `first + i`
    /// whichever objects are picked.
    pub fn read_s3<S, F>(
        &self,
        pick: impl Fn(&str) -> bool + Sync,
        first: privpath::flow::SourceId,
        make_sink: &F,
    ) -> anyhow::Result<Option<Ingested<S>>>
    where
        S: FlowSink,
        F: Fn() -> S + Sync,
    {
        #[cfg(feature = "aws")]
        if let Some((reader, selection)) = &self.s3 {
            return Ok(Some(reader.read_picked(
                selection,
                &self.opts,
                first,
                make_sink,
                |o| pick(&o.key),
            )?));
        }
        let _ = (pick, first, make_sink);
        Ok(None)
    }

    /// Read the `--cloudwatch` log group (`None` without one).
    pub fn read_cloudwatch<S, F>(
        &self,
        first: privpath::flow::SourceId,
        make_sink: &F,
    ) -> anyhow::Result<Option<Ingested<S>>>
    where
        S: FlowSink,
        F: Fn() -> S + Sync,
    {
        #[cfg(feature = "aws")]
        if let Some(src) = &self.cloudwatch {
            return Ok(Some(
                privpath::ingest::cloudwatch_pull::read_log_group_from(
                    src, &self.opts, first, make_sink,
                )?,
            ));
        }
        let _ = (first, make_sink);
        Ok(None)
    }
}

/// The message for AWS sources in a build without them.
#[cfg_attr(feature = "aws", allow(dead_code))]
pub const NOT_BUILT: &str = "this privpath was built without the AWS clients (CloudWatch Logs, S3): rebuild with the default feature 'aws'";

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn time_arg_accepts_rfc3339_dates_and_ages() {
        let cases: &[(&str, TimeArg)] = &[
            (
                "2026-11-25T09:00:00Z",
                TimeArg::At(ts("2026-11-25T09:00:00Z")),
            ),
            (
                "2026-11-25T18:00:00+09:00",
                TimeArg::At(ts("2026-11-25T09:00:00Z")),
            ),
            ("2026-11-25", TimeArg::At(ts("2026-11-25T00:00:00Z"))),
            ("30m", TimeArg::Ago(SignedDuration::from_secs(1_800))),
            ("2h", TimeArg::Ago(SignedDuration::from_secs(7_200))),
            ("1d", TimeArg::Ago(SignedDuration::from_secs(86_400))),
            ("1w", TimeArg::Ago(SignedDuration::from_secs(604_800))),
            ("1h30m", TimeArg::Ago(SignedDuration::from_secs(5_400))),
            ("90s", TimeArg::Ago(SignedDuration::from_secs(90))),
        ];
        for (input, want) in cases {
            assert_eq!(parse_time_arg(input).as_ref(), Ok(want), "input {input}");
        }
    }

    #[test]
    fn time_arg_rejects_garbage() {
        for bad in [
            "",
            "2",
            "h",
            "2x",
            "yesterday",
            "2026-13-01",
            "1h-",
            "99999999999999999999d",
        ] {
            let err = parse_time_arg(bad).unwrap_err();
            assert!(err.starts_with("invalid"), "{bad}: {err}");
        }
    }

    #[test]
    fn age_resolves_back_from_now() {
        let now = ts("2026-11-25T12:00:00Z");
        let t = parse_time_arg("2h").unwrap().resolve(now).unwrap();
        assert_eq!(t, ts("2026-11-25T10:00:00Z"));
    }

    #[cfg(feature = "aws")]
    #[test]
    fn source_args_resolve_into_a_selection() {
        use privpath::ingest::cloudwatch_pull::StreamSelection;
        let now = ts("2026-11-25T12:00:00Z");
        let args = CloudWatchSourceArgs {
            log_stream_prefix: Some("eni-0a".into()),
            start: Some(TimeArg::Ago(SignedDuration::from_secs(3_600))),
            filter_pattern: Some("REJECT".into()),
            aws: AwsArgs {
                region: Some("ap-northeast-2".into()),
                ..AwsArgs::default()
            },
            concurrent_streams: 2,
            ..CloudWatchSourceArgs::default()
        };
        let src = args.to_source("/vpc/flowlogs", now).unwrap();
        assert_eq!(src.streams, StreamSelection::Prefix("eni-0a".into()));
        assert_eq!(src.start, Some(ts("2026-11-25T11:00:00Z")));
        assert_eq!(src.end, None);
        assert_eq!(src.filter_pattern.as_deref(), Some("REJECT"));
        assert_eq!(src.aws.region.as_deref(), Some("ap-northeast-2"));
        assert_eq!(src.concurrency, 2);
    }

    #[cfg(feature = "aws")]
    #[test]
    fn end_before_start_is_an_error() {
        let now = ts("2026-11-25T12:00:00Z");
        let args = CloudWatchSourceArgs {
            start: Some(TimeArg::Ago(SignedDuration::from_secs(60))),
            end: Some(TimeArg::Ago(SignedDuration::from_secs(3_600))),
            ..CloudWatchSourceArgs::default()
        };
        let err = args.to_source("/g", now).unwrap_err().to_string();
        assert!(err.contains("is before --start"), "{err}");
    }

    #[cfg(feature = "aws")]
    #[test]
    fn selecting_options_need_cloudwatch() {
        let args = CloudWatchArgs {
            cloudwatch: None,
            source: CloudWatchSourceArgs {
                log_streams: vec!["eni-1".into()],
                ..CloudWatchSourceArgs::default()
            },
            s3: crate::cli::s3_args::S3Args::default(),
        };
        let err = args
            .to_source(Timestamp::UNIX_EPOCH)
            .unwrap_err()
            .to_string();
        assert_eq!(err, "--log-stream needs --cloudwatch LOG_GROUP");
        assert!(
            CloudWatchArgs::default()
                .to_source(Timestamp::UNIX_EPOCH)
                .unwrap()
                .is_none()
        );
    }
}
