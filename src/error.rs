//! Where an error happened, and how to show input-derived text safely.

use std::fmt;

/// A position in an input: line (text), record/packet index, byte offset.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// The input's path as the user gave it (or a stream name).
    pub source: String,
    /// 1-based line number (text inputs).
    pub line: Option<u64>,
    /// 1-based record index (packets, Parquet rows, CloudWatch events).
    pub record: Option<u64>,
    /// Byte offset from the start of the (decompressed) input.
    pub offset: Option<u64>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(rec) = self.record {
            write!(f, ": packet {rec}")?;
        }
        if let Some(off) = self.offset {
            write!(f, " (offset {off})")?;
        }
        Ok(())
    }
}

/// Escape control characters and clip to `max` characters, so that text taken
/// from input cannot move the cursor, change colours or flood a terminal.
pub fn sanitize(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max) + 8);
    for (n, c) in s.chars().enumerate() {
        if n >= max {
            out.push('…');
            break;
        }
        if c.is_control()
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Like [`sanitize`] for raw bytes that may not be UTF-8.
pub fn sanitize_bytes(b: &[u8], max: usize) -> String {
    sanitize(&String::from_utf8_lossy(b), max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_escapes_control_characters_and_clips() {
        assert_eq!(sanitize("a\x1b[31mb", 80), "a\\u{1b}[31mb");
        assert_eq!(sanitize("abcdef", 3), "abc…");
        assert_eq!(sanitize("x\u{202e}y", 10), "x\\u{202e}y");
    }

    #[test]
    fn location_display_names_line_and_offset() {
        let l = Location {
            source: "a.log".into(),
            line: Some(3),
            record: None,
            offset: Some(40),
        };
        assert_eq!(l.to_string(), "a.log:3 (offset 40)");
    }
}
