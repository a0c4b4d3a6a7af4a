//! CloudWatch Logs source options, shared by `pull cloudwatch`, `audit
//! --cloudwatch` and `flows --cloudwatch` (flatten [`CloudWatchArgs`] into a
//! subcommand's args; call [`CloudWatchArgs::read`]).
//!
//! These types exist in every build so that callers need no `cfg`; without
//! the `cloudwatch` feature, asking for CloudWatch is a clear error.

use anyhow::bail;
use clap::Args;
use jiff::{SignedDuration, Timestamp};
use privpath::ingest::{self, FlowSink, IngestOptions, Ingested};

/// `--cloudwatch LOG_GROUP` and the options that select what to read.
#[derive(Debug, Clone, Default, Args)]
pub struct CloudWatchArgs {
    /// Read flow logs from this CloudWatch Logs group (one log stream per ENI)
    #[arg(long, value_name = "LOG_GROUP", help_heading = "CloudWatch Logs")]
    pub cloudwatch: Option<String>,
    #[command(flatten)]
    pub source: CloudWatchSourceArgs,
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
    /// AWS profile from the shared config files (default: AWS_PROFILE, then "default")
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region (default: AWS_REGION, then the profile's region)
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Send CloudWatch Logs requests to this URL (default: AWS_ENDPOINT_URL_CLOUDWATCH_LOGS,
    /// AWS_ENDPOINT_URL, then the region's endpoint)
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
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
            profile: None,
            region: None,
            endpoint_url: None,
            concurrent_streams: 4,
            page_size: 10_000,
        }
    }
}

impl CloudWatchSourceArgs {
    /// The first selecting option given, for "needs --cloudwatch" messages.
    #[cfg_attr(not(feature = "cloudwatch"), allow(dead_code))]
    fn first_given(&self) -> Option<&'static str> {
        [
            (!self.log_streams.is_empty(), "--log-stream"),
            (self.log_stream_prefix.is_some(), "--log-stream-prefix"),
            (self.start.is_some(), "--start"),
            (self.end.is_some(), "--end"),
            (self.filter_pattern.is_some(), "--filter-pattern"),
            (self.profile.is_some(), "--profile"),
            (self.endpoint_url.is_some(), "--endpoint-url"),
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
    #[cfg_attr(not(feature = "cloudwatch"), allow(dead_code))]
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

#[cfg(feature = "cloudwatch")]
mod resolve {
    use super::*;
    use privpath::ingest::cloudwatch_pull::{AwsOptions, CloudWatchSource, StreamSelection};

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
            src.aws = AwsOptions {
                profile: self.profile.clone(),
                region: self.region.clone(),
                endpoint_url: self.endpoint_url.clone(),
            };
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

#[cfg(not(feature = "cloudwatch"))]
impl CloudWatchArgs {
    /// Without the `cloudwatch` feature there is nothing to read from.
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

/// Read the file inputs (if any) and the `--cloudwatch` log group (if
/// given) into one [`Ingested`]: files first, in their usual order, then the
/// log streams by name, with source ids continuing after the files'. The
/// CloudWatch part shows progress on stderr unless `quiet` or stderr is not
/// a terminal. Without the `cloudwatch` feature, `--cloudwatch` is an error.
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
    // Check the CloudWatch options before reading any file.
    #[cfg(feature = "cloudwatch")]
    let source = cw.to_source(Timestamp::now())?;
    #[cfg(not(feature = "cloudwatch"))]
    cw.check_available()?;

    #[cfg_attr(not(feature = "cloudwatch"), allow(unused_mut))]
    let mut got = if inputs.is_empty() {
        Ingested {
            sink: make_sink(),
            sources: Vec::new(),
            dns: Vec::new(),
            api_calls: Vec::new(),
        }
    } else {
        ingest::read_inputs(inputs, opts, &make_sink)?
    };
    #[cfg(feature = "cloudwatch")]
    if let Some(src) = source {
        use std::io::IsTerminal;
        let first = u32::try_from(got.sources.len())
            .map(privpath::flow::SourceId)
            .map_err(|_| anyhow::anyhow!("too many inputs"))?;
        let cw_opts = IngestOptions {
            progress: !quiet && std::io::stderr().is_terminal(),
            ..opts.clone()
        };
        let live = privpath::ingest::cloudwatch_pull::read_log_group_from(
            &src, &cw_opts, first, &make_sink,
        )?;
        got.sink.merge(live.sink);
        got.sources.extend(live.sources);
        got.dns.extend(live.dns);
        got.api_calls.extend(live.api_calls);
    }
    #[cfg(not(feature = "cloudwatch"))]
    let _ = quiet;
    Ok(got)
}

/// The message for CloudWatch options in a build without them.
#[cfg_attr(feature = "cloudwatch", allow(dead_code))]
pub const NOT_BUILT: &str = "this privpath was built without CloudWatch Logs support (rebuild with the default feature 'cloudwatch')";

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

    #[cfg(feature = "cloudwatch")]
    #[test]
    fn source_args_resolve_into_a_selection() {
        use privpath::ingest::cloudwatch_pull::StreamSelection;
        let now = ts("2026-11-25T12:00:00Z");
        let args = CloudWatchSourceArgs {
            log_stream_prefix: Some("eni-0a".into()),
            start: Some(TimeArg::Ago(SignedDuration::from_secs(3_600))),
            filter_pattern: Some("REJECT".into()),
            region: Some("ap-northeast-2".into()),
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

    #[cfg(feature = "cloudwatch")]
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

    #[cfg(feature = "cloudwatch")]
    #[test]
    fn selecting_options_need_cloudwatch() {
        let args = CloudWatchArgs {
            cloudwatch: None,
            source: CloudWatchSourceArgs {
                log_streams: vec!["eni-1".into()],
                ..CloudWatchSourceArgs::default()
            },
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
