//! privpath: prove whether traffic to AWS services stayed on private paths.
//!
//! Layers (dependencies point down only):
//! - [`ingest`]: flow logs and captures → [`flow::Flow`] records (parallel, streaming)
//! - [`topology`]: AWS CLI JSON → an immutable, shared index
//! - [`classify`]: pure `Flow × TopologyIndex → Classification` with evidence
//! - [`audit`]: the streaming audit engine (compact rows, partitioned pairing, spill)
//! - [`report`]: aggregation (polars) and renderers (pure functions of a report)

pub mod classify;
pub mod error;
pub mod exit;
pub mod flow;
pub mod fuzzing;
pub mod ingest;
pub mod audit;
pub mod report;
pub mod samples;
pub mod topology;
