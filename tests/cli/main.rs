//! The one integration test binary: whole-CLI runs of `privpath`.

mod audit;
mod browser;
mod capture_opts;
#[cfg(feature = "cloudwatch")]
mod cloudwatch;
mod dual_stack;
mod flowlog;
mod harness;
mod pcap;
mod report_extras;
mod samples;
mod smoke;
mod topology;
