//! One harness for every whole-CLI test: run the built binary, capture the
//! exit code, stdout and stderr together; locate the shared corpus.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The crate root (where `samples/` lives).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A path under `samples/`.
pub fn sample(rel: &str) -> PathBuf {
    root().join("samples").join(rel)
}

/// The outcome of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub stdout_bytes: Vec<u8>,
}

impl Run {
    /// One text block for snapshots: exit code, stdout, stderr.
    pub fn snapshot(&self) -> String {
        format!(
            "exit_code: {}\n----- stdout -----\n{}----- stderr -----\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Run {
        assert_eq!(self.code, code, "unexpected exit code\n{}", self.snapshot());
        self
    }
}

/// A command for the `privpath` binary, run in the crate root.
/// `PRIVPATH_TEST_BIN` overrides the binary cargo built (a copy taken right
/// after the build, when the target dir is shared with other builds).
pub fn privpath() -> Command {
    let bin = std::env::var_os("PRIVPATH_TEST_BIN")
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_privpath").into());
    let mut cmd = Command::new(bin);
    cmd.current_dir(root());
    cmd.env_remove("PRIVPATH_COLOR");
    cmd.env("NO_COLOR", "1");
    cmd
}

/// Run the binary with `args` and capture everything.
pub fn run<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    run_cmd(privpath().args(args))
}

pub fn run_cmd(cmd: &mut Command) -> Run {
    let out = cmd.output().expect("the privpath binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        stdout_bytes: out.stdout,
    }
}

/// The conformance corpus folder `sub` (e.g. `flowlogs`, `pcap`, `aws`).
///
/// - `PRIVPATH_CORPUS` unset: prints why the test is skipped and returns None.
/// - set but the folder is missing: fails the test (CI promised the corpus).
#[track_caller]
pub fn corpus(sub: &str) -> Option<PathBuf> {
    match std::env::var_os("PRIVPATH_CORPUS") {
        None => {
            eprintln!(
                "skipped: PRIVPATH_CORPUS is not set (export PRIVPATH_CORPUS=../shared/corpus)"
            );
            None
        }
        Some(dir) => {
            let base = Path::new(&dir);
            let base = if base.is_relative() {
                root().join(base)
            } else {
                base.to_path_buf()
            };
            let p = base.join(sub);
            assert!(
                p.is_dir(),
                "PRIVPATH_CORPUS is set to {} but {} is missing",
                base.display(),
                p.display()
            );
            Some(p)
        }
    }
}

/// A fresh temporary directory, removed when dropped.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}
