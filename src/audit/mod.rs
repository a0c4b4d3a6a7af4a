//! The audit's streaming engine: records in, a collector of what the report
//! holds out, with memory that does not grow with the records.
//!
//! # Design note (issue 14)
//!
//! The audit used to hold every record (≈ 0.6 KB each with its pairing) so
//! that replies could find their egress flow anywhere in the input. Now:
//!
//! 1. **Classify at ingest.** Captures are read first (they give the DNS
//!    answers, TLS SNI and HTTP Host names the classifier attributes
//!    services with); then every flow-log record is classified as it is
//!    parsed, by the ingest worker that parsed it.
//! 2. **Reduce to a compact row.** What the pairing and the report read of
//!    a record becomes a [`ConvRow`] (≈ 130 bytes in memory, 118 on disk):
//!    input position, the interned interface ([`Interner`]), the interned
//!    description of an egress flow (service, host, path, endpoint,
//!    evidence line: a few hundred distinct values in a VPC), role, own
//!    outcome, 5-tuple, times, counters. The `Flow` is dropped.
//! 3. **Partition by conversation.** Rows go to one of P partitions by a
//!    hash of (interface, 5-tuple with its two directions made one)
//!    ([`RowStore`]): every record that can pair with another lands in the
//!    same partition, whatever file, order or time it came in. P grows with
//!    the input's size (≈ 16,384 records a partition, 16–1,024).
//! 4. **Hold up to a budget, spill beyond it.** Rows stay in memory until
//!    they pass a byte budget (96 MiB by default); then every partition's
//!    rows are appended to its own temporary file. A spill error keeps the
//!    rows in memory (the run never stops for it) and is reported.
//! 5. **Pair partition by partition** ([`pair_partition`]), in parallel:
//!    the exact rules of [`crate::classify::classify_conversations`] (the
//!    record outputs still pair held flows with it), on one partition's
//!    rows at a time, then fold each settled egress flow into a per-worker
//!    [`Collector`]; collectors merge order-independently, so the report is
//!    the same for any partitioning, input order or `-j`.
//!
//! Peak memory is then: the ingest buffers, the budget, one partition per
//! worker (≈ P⁻¹ of the rows), the interners and the collector (groups,
//! time buckets, evidence, violations): what the report holds. The time
//! window of the pairing is not a memory bound here, because a partition
//! holds all of its conversations' records: pairing is exact whatever the
//! order of the input (no tolerance to exceed, nothing left unpaired for
//! arriving late).
//!
//! **One connection counts once**: a flow-log record delivered twice (same
//! interface, 5-tuple, start, end, packets and bytes: the S3 and CloudWatch
//! copies of one log, overlapping downloads) is kept once, the first in
//! input order; the duplicates are counted per input.
//!
//! **Nothing is dropped silently**: replies and inbound records that found
//! no egress flow are counted and reported; so are spill errors.

mod intern;
mod output;
mod pair;
mod records;
mod row;
mod store;

pub use intern::{Interner, LocalIds};
pub use output::FlowTable;
pub use pair::{Paired, pair_partition};
pub use records::{RecordBatch, RecordRuns, RecordStore, RunEntry, decode_cells};
pub use row::{ConvRow, Delivery, ENCODED_LEN, NO_CLASS};
pub use store::{
    DEFAULT_BUDGET, Partition, PartitionIter, ROW_BYTES, RowStore, StoreStats, estimate_records,
    partitions_for,
};

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;

use rayon::prelude::*;

use crate::report::collect::{Collector, Facts};
use crate::report::{Host, PathKind};
use crate::topology::Text;

/// The interface (or capture host) a record was seen on: replies pair
/// within one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HostKey {
    Eni(Text),
    Addr(IpAddr),
    None,
}

/// What the report files an egress flow under, interned per run.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Class {
    pub service: Text,
    pub host: Host,
    pub path: PathKind,
    pub endpoint_id: Option<Text>,
    /// One line: route table, route, target, endpoint, how the service was attributed.
    pub evidence: String,
}

/// The result of [`drain`].
#[derive(Debug)]
pub struct Drained<'a> {
    pub collector: Collector<'a>,
    pub unpaired: u64,
    /// Duplicate deliveries dropped, per input.
    pub duplicates: BTreeMap<u32, u64>,
    pub stats: StoreStats,
    /// Spill files that could not be read back (their rows are missing).
    pub errors: Vec<String>,
}

/// Pair every partition of `store` and fold the egress flows into
/// collectors made by `new_collector` (in parallel, merged). With
/// `records`, each paired partition's egress flows also become a sorted
/// run of the per-flow outputs.
pub fn drain<'a, S, F>(
    store: RowStore,
    classes: &[Class],
    has_ingress: &HashSet<u32, S>,
    records: Option<&RecordRuns>,
    new_collector: F,
) -> Drained<'a>
where
    S: std::hash::BuildHasher + Sync,
    F: Fn() -> Collector<'a> + Sync + Send,
{
    let (mut parts, stats) = store.into_partitions();
    let memory = parts.memory_rows();
    let parts = &parts;
    type Acc<'c> = (Collector<'c>, u64, BTreeMap<u32, u64>, Vec<String>);
    let new = || -> Acc<'a> { (new_collector(), 0, BTreeMap::new(), Vec::new()) };
    let (collector, unpaired, duplicates, errors) = memory
        .into_par_iter()
        .enumerate()
        .with_max_len(1)
        .fold(new, |mut acc, (p, mem)| {
            let (part, err) = parts.take(p, mem);
            if let Some(e) = err {
                acc.3.push(e);
            }
            let paired = pair_partition(part.rows, has_ingress);
            if let Some(r) = records {
                r.write_run(p, &paired.egress);
            }
            acc.1 += paired.unpaired;
            for (s, n) in paired.duplicates {
                *acc.2.entry(s).or_insert(0) += n;
            }
            for (row, outcome) in paired.egress {
                let Some(class) = usize::try_from(row.class).ok().and_then(|c| classes.get(c))
                else {
                    continue;
                };
                let flow = row.to_flow();
                acc.0.add(Facts {
                    flow: &flow,
                    index: 0,
                    service: &class.service,
                    host: &class.host,
                    path: class.path,
                    outcome,
                    endpoint_id: class.endpoint_id.as_deref(),
                    evidence: &class.evidence,
                });
            }
            acc
        })
        .reduce(new, |mut a, b| {
            a.0.merge(b.0);
            a.1 += b.1;
            for (s, n) in b.2 {
                *a.2.entry(s).or_insert(0) += n;
            }
            a.3.extend(b.3);
            a
        });
    let mut errors = errors;
    errors.sort();
    Drained {
        collector,
        unpaired,
        duplicates,
        stats,
        errors,
    }
}
