//! Exit codes are a contract: 0 ok, 1 an expectation failed, 2 error.

use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitStatus {
    /// Ran, and every expectation held (or none was given).
    Success,
    /// Ran, and at least one expectation failed.
    Failure,
    /// Something went wrong: unreadable input, bad topology, bad records
    /// under `--strict`, a usage error.
    Error,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Error => 2,
        }
    }

    /// The worse of two statuses (Error > Failure > Success).
    pub fn merge(self, other: ExitStatus) -> ExitStatus {
        self.max(other)
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> ExitCode {
        ExitCode::from(s.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_the_worst_status() {
        use ExitStatus::*;
        assert_eq!(Success.merge(Failure), Failure);
        assert_eq!(Failure.merge(Error), Error);
        assert_eq!(Error.merge(Success), Error);
        assert_eq!(Success.merge(Success), Success);
        assert_eq!([Success, Failure, Error].map(|s| s.code()), [0, 1, 2]);
    }
}
