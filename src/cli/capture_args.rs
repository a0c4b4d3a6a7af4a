//! Capture options shared by `flows`, `dns` and `audit`.

use std::net::IpAddr;

use clap::Args;
use privpath::ingest::IngestOptions;

#[derive(Debug, Clone, Default, Args)]
pub struct CaptureArgs {
    /// Split capture flows into fixed windows (`60s`, `10m`, `1h` or seconds),
    /// as flow logs aggregate them
    #[arg(long, value_name = "DURATION", value_parser = parse_window)]
    pub window: Option<u64>,

    /// The capturing host's address, when a capture alone is ambiguous
    #[arg(long, value_name = "IP")]
    pub host: Option<IpAddr>,
}

impl CaptureArgs {
    /// Copy the capture options into `opts`.
    pub fn apply(&self, opts: IngestOptions) -> IngestOptions {
        IngestOptions {
            window: self.window,
            host: self.host,
            ..opts
        }
    }
}

/// `60s`, `10m`, `1h`, `90` (seconds): a whole positive number of seconds.
pub fn parse_window(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (digits, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, ""),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("invalid duration {s:?}: expected e.g. 60s, 10m, 1h"))?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return Err(format!("invalid duration unit in {s:?}: use s, m or h")),
    };
    match n.checked_mul(mult) {
        Some(0) | None => Err(format!("invalid duration {s:?}: must be at least 1s")),
        Some(v) => Ok(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_window_accepts_units_and_rejects_nonsense() {
        assert_eq!(parse_window("60s"), Ok(60));
        assert_eq!(parse_window("10m"), Ok(600));
        assert_eq!(parse_window("1h"), Ok(3600));
        assert_eq!(parse_window("90"), Ok(90));
        assert!(parse_window("0s").is_err());
        assert!(parse_window("1d").is_err());
        assert!(parse_window("s").is_err());
        assert!(parse_window("99999999999999999999h").is_err());
    }
}
