//! `privpath samples` (hidden): regenerate `samples/lab/` with the project's
//! deterministic generator.

use anyhow::Context;
use clap::Args;

use privpath::exit::ExitStatus;

#[derive(Debug, Args)]
pub struct SamplesArgs {
    /// The lab folder to write (its case folders are replaced)
    #[arg(long, value_name = "DIR")]
    pub out: std::path::PathBuf,
}

#[allow(clippy::print_stderr)]
pub fn run(args: &SamplesArgs, global: &super::GlobalArgs) -> anyhow::Result<ExitStatus> {
    let written = privpath::samples::write_lab(&args.out)
        .with_context(|| format!("cannot write the lab samples into {}", args.out.display()))?;
    if !global.quiet {
        let bytes: u64 = written
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum();
        eprintln!(
            "privpath: wrote {} files ({bytes} bytes) into {}",
            written.len(),
            args.out.display()
        );
    }
    Ok(ExitStatus::Success)
}
