//! `privpath flows`.

use clap::Args;

use super::GlobalArgs;
use privpath::exit::ExitStatus;

#[derive(Debug, Args)]
pub struct FlowsArgs {
    /// Input files or folders
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<std::path::PathBuf>,
}

pub fn run(_args: &FlowsArgs, _global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("'flows' is not built yet")
}
