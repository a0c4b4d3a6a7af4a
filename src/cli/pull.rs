//! `privpath pull cloudwatch`.

use clap::Subcommand;

use super::GlobalArgs;
use privpath::exit::ExitStatus;

#[derive(Debug, Subcommand)]
pub enum PullCommand {
    /// Pull VPC Flow Logs from a CloudWatch Logs group into gzip files
    Cloudwatch,
}

pub fn run(_cmd: &PullCommand, _global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("'pull' is not built yet")
}
