//! See the crate docs.

pub mod parquet;
pub mod records;
