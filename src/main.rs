//! The `privpath` binary: parse the command line, run, map the outcome to an
//! exit code (0 ok, 1 an expectation failed, 2 error; a broken pipe is 0).

use std::process::ExitCode;

use clap::Parser;

mod cli;

// mimalloc: per-thread free lists and no arena growth by `mprotect` (glibc's
// malloc made the capture engine spend a third of its time in the kernel).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use cli::{Cli, Command};
use privpath::exit::ExitStatus;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(n) = cli.global.threads {
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
        {
            report_error(&anyhow::anyhow!("cannot start {n} worker threads: {e}"));
            return ExitStatus::Error.into();
        }
    }
    match run(&cli) {
        Ok(status) => status.into(),
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitStatus::Success.into();
            }
            report_error(&err);
            ExitStatus::Error.into()
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<ExitStatus> {
    let g = &cli.global;
    match &cli.command {
        Command::Audit(args) => cli::audit::run(args, g),
        Command::Flows(args) => cli::flows::run(args, g),
        Command::Dns(args) => cli::dns::run(args, g),
        Command::Topology(cmd) => cli::topology::run(cmd, g),
        Command::Pull(cmd) => cli::pull::run(cmd, g),
        Command::Sql(args) => cli::sql::run(args),
        Command::Report(args) => cli::report::run(args, g),
        Command::Completions(args) => cli::completions::run(args),
        Command::Man => cli::completions::run_man(),
        Command::Samples(args) => cli::samples::run(args, g),
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[allow(clippy::print_stderr)]
fn report_error(err: &anyhow::Error) {
    // `{:#}` prints the whole context chain on one line.
    eprintln!(
        "privpath: {}",
        privpath::error::sanitize(&format!("{err:#}"), 2000)
    );
}
