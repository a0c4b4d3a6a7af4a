//! `privpath dns`.

use clap::Args;

use super::GlobalArgs;
use privpath::exit::ExitStatus;

#[derive(Debug, Args)]
pub struct DnsArgs {
    /// Input files or folders
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<std::path::PathBuf>,
}

pub fn run(_args: &DnsArgs, _global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("'dns' is not built yet")
}
