//! Pull VPC Flow Logs straight from a CloudWatch Logs group.
//!
//! Flow logs delivered to CloudWatch Logs live in one log group, one log
//! stream per ENI, one record per event and no header line. This module lists
//! the streams (`DescribeLogStreams`), pages through each with the SDK's
//! `FilterLogEvents` paginator (several streams at once, up to
//! [`CloudWatchSource::concurrency`]) and hands the events, page by page over
//! a bounded channel, to the synchronous side, which either parses them into
//! [`Flow`](crate::flow::Flow)s ([`read_log_group`]) or writes one gzip file
//! per stream ([`pull_to_dir`]) that the file readers read back to the same
//! flows.
//!
//! The async runtime (tokio) lives here only: the public functions are
//! synchronous and block until the pull is over. The SDK's standard
//! credential and region chain, `AWS_ENDPOINT_URL` /
//! `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS` and its retry/backoff for throttling all
//! apply; [`AwsOptions`] only overrides them.
//!
//! Every stream gets its own [`SourceSummary`]; ids follow the sorted stream
//! names, so the result does not depend on which stream finished first.

mod client;
mod fetch;
mod parse;
mod write;

pub use crate::ingest::aws::AwsOptions;
pub use client::CloudWatchError;
pub use parse::{read_log_group, read_log_group_from};
pub use write::{PullSummary, PulledStream, pull_to_dir, stream_file_name};

/// Streams fetched at once unless told otherwise.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// Events per `FilterLogEvents` page: the service's maximum (and default).
pub const DEFAULT_PAGE_SIZE: i32 = 10_000;

/// Which log streams of the group to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum StreamSelection {
    /// Every stream in the group.
    #[default]
    All,
    /// Exactly these streams (each must exist).
    Names(Vec<String>),
    /// Streams whose name starts with this (`DescribeLogStreams`'s prefix).
    Prefix(String),
}

/// What to read from CloudWatch Logs (no clap types).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudWatchSource {
    pub log_group: String,
    pub streams: StreamSelection,
    /// Earliest event timestamp (inclusive). A flow-log event's timestamp is
    /// the record's `start`.
    pub start: Option<jiff::Timestamp>,
    /// Latest event timestamp (inclusive).
    pub end: Option<jiff::Timestamp>,
    /// A CloudWatch Logs filter pattern, applied by the service.
    pub filter_pattern: Option<String>,
    pub aws: AwsOptions,
    /// Streams fetched at once (at least 1).
    pub concurrency: usize,
    /// Events per `FilterLogEvents` page (1..=10000).
    pub page_size: i32,
}

impl CloudWatchSource {
    /// All streams of `log_group`, all time, default client settings.
    pub fn new(log_group: impl Into<String>) -> CloudWatchSource {
        CloudWatchSource {
            log_group: log_group.into(),
            streams: StreamSelection::All,
            start: None,
            end: None,
            filter_pattern: None,
            aws: AwsOptions::default(),
            concurrency: DEFAULT_CONCURRENCY,
            page_size: DEFAULT_PAGE_SIZE,
        }
    }

    /// How a stream is named in messages and [`SourceSummary::path`]:
    /// `cloudwatch:<group>/<stream>`.
    ///
    /// [`SourceSummary::path`]: crate::ingest::SourceSummary::path
    pub fn stream_path(&self, stream: &str) -> String {
        format!("cloudwatch:{}/{}", self.log_group, stream)
    }
}

/// One log event as fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    /// Milliseconds since the epoch (the record's start for flow logs).
    pub timestamp: i64,
    pub message: String,
}
