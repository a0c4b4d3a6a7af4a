//! The one integration test binary: whole-CLI runs of `privpath`.

mod audit;
mod audit_stream;
mod aws_logs;
mod browser;
mod capture_opts;
#[cfg(feature = "aws")]
mod cloudwatch;
mod dual_stack;
mod flowlog;
mod fuzz_replay;
mod harness;
mod inputs;
mod pcap;
mod report_extras;
#[cfg(feature = "aws")]
mod s3;
mod samples;
mod smoke;
mod sql;
mod topology;
