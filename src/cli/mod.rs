//! The command line: clap derive types (stage one) and one module per
//! subcommand that resolves them and runs. Only `main.rs` uses this module.

use clap::{Args, Parser, Subcommand, ValueEnum};

pub mod audit;
pub mod capture_args;
pub mod cloudwatch_args;
pub mod completions;
pub mod dns;
pub mod flows;
pub mod pull;
pub mod s3_args;
pub mod samples;
pub mod topology;

/// Prove whether traffic to AWS services stayed on private paths.
///
/// privpath reads VPC Flow Logs (text, gzip, Parquet, CloudWatch) and tcpdump
/// captures (pcap, pcapng), joins them with the VPC's topology (route tables,
/// prefix lists, endpoint ENIs, ip-ranges.json) and decides, for every service
/// and source host, whether traffic left through the internet gateway, a NAT
/// gateway, a gateway endpoint or an interface endpoint, or was blocked.
///
/// Exit codes: 0 ok, 1 an expectation failed, 2 error.
#[derive(Debug, Parser)]
#[command(name = "privpath", version, about, long_about, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit evidence against the topology: verdicts per service and host
    Audit(audit::AuditArgs),
    /// Print the normalised flow records of flow logs and captures
    Flows(flows::FlowsArgs),
    /// Print the DNS answers seen in captures
    Dns(dns::DnsArgs),
    /// Show or check the VPC topology privpath understood
    #[command(subcommand)]
    Topology(topology::TopologyCommand),
    /// Pull evidence from a remote store (CloudWatch Logs, S3) into local files
    #[command(subcommand)]
    Pull(pull::PullCommand),
    /// Print shell completions for bash, zsh, fish, elvish or powershell
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff) to stdout
    Man,
    /// Regenerate the bundled lab samples (for maintainers)
    #[command(hide = true)]
    Samples(samples::SamplesArgs),
}

/// Options every subcommand takes.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Worker threads for parsing (default: one per core)
    #[arg(short = 'j', long, global = true, value_name = "N")]
    pub threads: Option<usize>,
    /// Treat any bad record or unreadable input as an error (exit 2)
    #[arg(long, global = true)]
    pub strict: bool,
    /// No progress bars and no summary on stderr
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// When to use colour on the terminal
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}
