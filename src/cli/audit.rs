//! `privpath audit`.

use clap::Args;

use super::GlobalArgs;
use privpath::exit::ExitStatus;

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Input files or folders
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<std::path::PathBuf>,
}

pub fn run(_args: &AuditArgs, _global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("'audit' is not built yet")
}
