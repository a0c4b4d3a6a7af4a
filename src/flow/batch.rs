//! Per-input counters and the batch type the readers hand back.

use std::collections::BTreeMap;
use std::ops::AddAssign;

use serde::Serialize;

use super::{Flow, SourceId, Text};

/// How many example messages of bad records are kept per input.
pub const MAX_EXAMPLES: usize = 5;

/// What an input turned out to be (decided by content, not by name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    FlowLogText,
    FlowLogGzip,
    FlowLogParquet,
    FlowLogJson,
    CloudWatch,
    Pcap,
    Pcapng,
    /// Route 53 Resolver query logs (JSON lines, gzip, CloudWatch Logs).
    ResolverQueryLog,
    /// CloudTrail: S3 files, CloudWatch Logs events, `lookup-events` output.
    CloudTrail,
    /// AWS CLI JSON of the topology, found among the evidence: set aside.
    Topology,
    /// An `expect.toml`, found among the evidence: set aside.
    Expectations,
    #[default]
    Unknown,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::FlowLogText => "flow-log text",
            SourceKind::FlowLogGzip => "flow-log gzip",
            SourceKind::FlowLogParquet => "flow-log parquet",
            SourceKind::FlowLogJson => "flow-log json",
            SourceKind::CloudWatch => "cloudwatch logs",
            SourceKind::Pcap => "pcap",
            SourceKind::Pcapng => "pcapng",
            SourceKind::ResolverQueryLog => "resolver query log",
            SourceKind::CloudTrail => "cloudtrail",
            SourceKind::Topology => "topology",
            SourceKind::Expectations => "expectations",
            SourceKind::Unknown => "unknown",
        }
    }
}

/// Counters for one input. Mergeable, so per-chunk and per-worker tallies add up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SourceTally {
    /// Records (lines, rows, events) that became flows.
    pub records: u64,
    /// Packets read (captures).
    pub packets: u64,
    /// Header lines recognised and skipped.
    pub headers: u64,
    /// Blank lines and comments skipped.
    pub blank: u64,
    /// Bad records by reason (`invalid number`, `too few fields`, …).
    pub skipped: BTreeMap<String, u64>,
    /// NODATA rows per interface id.
    pub nodata: BTreeMap<Text, u64>,
    /// SKIPDATA rows per interface id: records AWS lost.
    pub skipdata: BTreeMap<Text, u64>,
    /// The first few bad-record messages, `file:line: reason`, in input order.
    pub examples: Vec<String>,
    /// Benign, counted observations that are not bad records: non-IP frames,
    /// unsupported link types, snaplen-truncated layers, skipped block types.
    pub notes: BTreeMap<String, u64>,
    /// Non-fatal notes (unknown field names, cut-short captures …), once each.
    pub warnings: Vec<String>,
    /// A fatal error for this input (unreadable, corrupt gzip): the records
    /// read before it are kept.
    pub error: Option<String>,
}

impl SourceTally {
    /// Count one bad record under `reason`, keeping the message as an example
    /// while fewer than [`MAX_EXAMPLES`] are kept.
    pub fn skip(&mut self, reason: &str, message: impl FnOnce() -> String) {
        *self.skipped.entry(reason.to_owned()).or_insert(0) += 1;
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(message());
        }
    }

    /// Add a warning unless the same text is already there.
    pub fn warn(&mut self, message: String) {
        if !self.warnings.contains(&message) {
            self.warnings.push(message);
        }
    }

    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    pub fn nodata_total(&self) -> u64 {
        self.nodata.values().sum()
    }

    pub fn skipdata_total(&self) -> u64 {
        self.skipdata.values().sum()
    }
}

impl AddAssign for SourceTally {
    /// Merge `rhs`, which must describe a *later* part of the same input
    /// (examples keep input order).
    fn add_assign(&mut self, rhs: SourceTally) {
        self.records += rhs.records;
        self.packets += rhs.packets;
        self.headers += rhs.headers;
        self.blank += rhs.blank;
        for (k, v) in rhs.skipped {
            *self.skipped.entry(k).or_insert(0) += v;
        }
        for (k, v) in rhs.nodata {
            *self.nodata.entry(k).or_insert(0) += v;
        }
        for (k, v) in rhs.skipdata {
            *self.skipdata.entry(k).or_insert(0) += v;
        }
        for (k, v) in rhs.notes {
            *self.notes.entry(k).or_insert(0) += v;
        }
        for e in rhs.examples {
            if self.examples.len() < MAX_EXAMPLES {
                self.examples.push(e);
            }
        }
        for w in rhs.warnings {
            self.warn(w);
        }
        if self.error.is_none() {
            self.error = rhs.error;
        }
    }
}

/// Flows read from one input, with its tally.
#[derive(Debug, Clone, Default)]
pub struct FlowBatch {
    pub source: SourceId,
    pub flows: Vec<Flow>,
    pub tally: SourceTally,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_add_keeps_order_and_limits_examples() {
        let mut a = SourceTally::default();
        for i in 0..4 {
            a.skip("invalid number", || format!("a:{i}"));
        }
        let mut b = SourceTally::default();
        for i in 0..4 {
            b.skip("too few fields", || format!("b:{i}"));
        }
        a += b;
        assert_eq!(a.skipped_total(), 8);
        assert_eq!(a.examples, vec!["a:0", "a:1", "a:2", "a:3", "b:0"]);
        assert_eq!(a.skipped["too few fields"], 4);
    }
}
