//! `privpath topology show|check`.

use clap::Subcommand;

use super::GlobalArgs;
use privpath::exit::ExitStatus;

#[derive(Debug, Subcommand)]
pub enum TopologyCommand {
    /// Print what was understood of the topology
    Show,
    /// Report inconsistencies in the topology (exit 2 when any)
    Check,
}

pub fn run(_cmd: &TopologyCommand, _global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("'topology' is not built yet")
}
