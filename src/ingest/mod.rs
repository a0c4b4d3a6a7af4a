//! Evidence intake: flow logs and captures into [`Flow`] records.
//!
//! CONTRACT (shared by the flow-log, capture, CloudWatch and audit work):
//! - [`read_inputs`] walks files and folders, sniffs each input by content,
//!   parses in parallel (rayon) and pushes every flow into per-worker
//!   [`FlowSink`]s that are merged in input order, so the result is the same
//!   for any thread count.
//! - Every input gets a [`SourceSummary`] with its tally; a bad input never
//!   stops the run.

use std::net::IpAddr;

use crate::flow::{DnsRecord, Flow, SourceId, SourceKind, SourceTally};

#[cfg(feature = "cloudwatch")]
pub mod cloudwatch_pull;
pub mod flowlog;
pub mod pcap;

/// Where parsed flows go. One sink per worker; `merge` receives the sink of
/// the *later* part of the input order.
pub trait FlowSink: Send + Sized {
    fn push(&mut self, flow: Flow);
    fn merge(&mut self, later: Self);
}

impl FlowSink for Vec<Flow> {
    fn push(&mut self, flow: Flow) {
        Vec::push(self, flow);
    }
    fn merge(&mut self, mut later: Self) {
        self.append(&mut later);
    }
}

/// Settings for one ingest run (no clap types).
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// `--log-format '${version} …'` for header-less flow-log text.
    pub log_format: Option<String>,
    /// Capture flows split into fixed windows of this many seconds.
    pub window: Option<u64>,
    /// The capturing host's address, when the capture alone is ambiguous.
    pub host: Option<IpAddr>,
    /// Show a progress bar on stderr.
    pub progress: bool,
}

/// One input as read: what it was and what came of it.
#[derive(Debug, Clone)]
pub struct SourceSummary {
    pub id: SourceId,
    /// The path as the user gave it (or found under a folder they gave).
    pub path: String,
    pub kind: SourceKind,
    pub tally: SourceTally,
}

/// The result of [`read_inputs`].
#[derive(Debug)]
pub struct Ingested<S> {
    pub sink: S,
    /// Inputs in id order.
    pub sources: Vec<SourceSummary>,
    /// DNS responses seen in captures, in input then packet order.
    pub dns: Vec<DnsRecord>,
}

/// Errors that stop an ingest before it starts (a path that does not exist,
/// an invalid `--log-format`). Problems inside one input are tallied instead.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{path}: no such file or folder")]
    NotFound { path: String },
    #[error("invalid --log-format: {0}")]
    Format(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}
