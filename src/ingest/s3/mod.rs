//! Evidence read straight from S3: `s3://BUCKET/PREFIX` inputs.
//!
//! Flow logs, Resolver query logs and CloudTrail land in S3 under
//! `…/YYYY/MM/DD/` (or Hive `year=/month=/day=/hour=`) folders, with the
//! file's time in its name. This module lists the objects under each prefix
//! (ListObjectsV2), keeping only what a time window can need ([`select`]:
//! date folders first, then the key time of each file; the whole bucket is
//! never listed when a window is given), then streams the selected objects
//! (GetObject, a bounded number at once) into the same reader local files
//! go through ([`crate::ingest::read_named`]: sniffed by content, gzip
//! streamed, parsed in parallel), or saves them ([`pull`]).
//!
//! The URI and selection rules are plain functions that exist in every
//! build; the client half needs the `aws` feature.

pub mod select;
mod uri;

pub use select::KeyWindow;
pub use uri::{S3Uri, is_s3_uri};

#[cfg(feature = "aws")]
mod client;
#[cfg(feature = "aws")]
mod fetch;
#[cfg(feature = "aws")]
mod list;
#[cfg(feature = "aws")]
pub mod pull;
#[cfg(feature = "aws")]
mod read;

#[cfg(feature = "aws")]
pub use client::{S3Error, S3Problem};
#[cfg(feature = "aws")]
pub use read::{S3Reader, Selection};

/// Objects fetched at once unless told otherwise.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// One object as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Object {
    pub bucket: String,
    pub key: String,
    pub size: u64,
    /// As S3 sends it, quotes included (`"9b2cf535f27731c974343645a3985328"`).
    pub etag: String,
}

impl S3Object {
    /// `s3://bucket/key`: the object's name in messages and reports.
    pub fn uri(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }
}
