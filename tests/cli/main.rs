//! The one integration test binary: whole-CLI runs of `privpath`.

mod audit;
mod capture_opts;
#[cfg(feature = "cloudwatch")]
mod cloudwatch;
mod dual_stack;
mod flowlog;
mod harness;
mod inputs;
mod pcap;
mod samples;
mod smoke;
mod topology;
