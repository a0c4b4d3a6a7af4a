//! Records out of large JSON inputs without holding the input: the elements
//! of one top-level array (`{"Records": […]}` of CloudTrail S3 files,
//! `{"Events": […]}` of `aws cloudtrail lookup-events`) and JSON lines, each
//! handed over as its own bytes.
//!
//! A byte scanner over a [`BufRead`] tracks strings and nesting only; the
//! record itself is parsed by the caller (serde). A record longer than the
//! cap is skipped while scanning (never buffered), so memory stays at one
//! record and time is linear in the input, whatever the input holds.

use std::io::{BufRead, ErrorKind};

/// The largest record kept. CloudTrail truncates its large members
/// (requestParameters 100 KB, responseElements 100 KB, additionalEventData
/// 28 KB) and Resolver records are small: anything beyond this is not a
/// record AWS wrote.
pub const MAX_RECORD_BYTES: usize = 4 << 20;

/// One element or line as scanned.
#[derive(Debug, PartialEq, Eq)]
pub enum Scanned {
    /// The element's bytes (in the scanner's buffer until the next call).
    Record,
    /// An element longer than the cap: skipped; its length in bytes.
    TooLarge(u64),
}

/// Why a scan stopped early. The records before it were handed over.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScanError {
    #[error("cut short at byte {offset} (unexpected end of input)")]
    Truncated { offset: u64 },
    #[error("byte {offset}: {what}")]
    Syntax { offset: u64, what: String },
    #[error("{0}")]
    Io(String),
}

/// A byte cursor over a `BufRead` with one byte of look-ahead.
pub struct Scanner<R> {
    r: R,
    offset: u64,
    /// Line ends consumed so far.
    newlines: u64,
    /// The current record's bytes.
    pub record: Vec<u8>,
    cap: usize,
}

impl<R: BufRead> Scanner<R> {
    pub fn new(r: R) -> Scanner<R> {
        Scanner::with_cap(r, MAX_RECORD_BYTES)
    }

    pub fn with_cap(r: R, cap: usize) -> Scanner<R> {
        Scanner {
            r,
            offset: 0,
            newlines: 0,
            record: Vec::new(),
            cap,
        }
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn io(e: &std::io::Error) -> ScanError {
        ScanError::Io(super::flowlog::text::describe_io(e))
    }

    fn peek(&mut self) -> Result<Option<u8>, ScanError> {
        loop {
            match self.r.fill_buf() {
                Ok(b) => return Ok(b.first().copied()),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(Self::io(&e)),
            }
        }
    }

    fn bump(&mut self, b: u8) {
        self.r.consume(1);
        self.offset += 1;
        if b == b'\n' {
            self.newlines += 1;
        }
    }

    /// The 1-based line the scanner stands on.
    pub fn line(&self) -> u64 {
        self.newlines + 1
    }

    fn next(&mut self) -> Result<u8, ScanError> {
        match self.peek()? {
            Some(b) => {
                self.bump(b);
                Ok(b)
            }
            None => Err(self.truncated()),
        }
    }

    fn skip_ws(&mut self) -> Result<Option<u8>, ScanError> {
        loop {
            match self.peek()? {
                Some(b) if b.is_ascii_whitespace() => self.bump(b),
                other => return Ok(other),
            }
        }
    }

    fn syntax(&self, what: impl Into<String>) -> ScanError {
        ScanError::Syntax {
            offset: self.offset,
            what: what.into(),
        }
    }

    /// `expected …, found 'b'` at the current offset.
    fn unexpected(&self, expected: &str, b: u8) -> ScanError {
        self.syntax(format!(
            "expected {expected}, found '{}'",
            char::from(b).escape_default()
        ))
    }

    /// The input ended inside the structure.
    fn truncated(&self) -> ScanError {
        ScanError::Truncated {
            offset: self.offset,
        }
    }

    fn expect(&mut self, want: u8) -> Result<(), ScanError> {
        match self.skip_ws()? {
            Some(b) if b == want => {
                self.bump(b);
                Ok(())
            }
            Some(b) => Err(self.syntax(format!(
                "expected '{}', found '{}'",
                char::from(want),
                char::from(b).escape_default()
            ))),
            None => Err(self.truncated()),
        }
    }

    /// Scan one JSON value. With `keep`, its bytes go to `self.record` up
    /// to the cap; returns the value's length.
    fn value(&mut self, keep: bool) -> Result<u64, ScanError> {
        self.record.clear();
        let mut over = false;
        let mut push = |s: &mut Self, b: u8| {
            if keep && !over {
                if s.record.len() < s.cap {
                    s.record.push(b);
                } else {
                    over = true;
                    s.record = Vec::new();
                }
            }
        };
        let Some(first) = self.skip_ws()? else {
            return Err(self.truncated());
        };
        let start = self.offset;
        match first {
            b'{' | b'[' => {
                let mut depth = 0u32;
                let mut in_str = false;
                let mut esc = false;
                loop {
                    let b = self.next()?;
                    push(self, b);
                    if in_str {
                        if esc {
                            esc = false;
                        } else if b == b'\\' {
                            esc = true;
                        } else if b == b'"' {
                            in_str = false;
                        }
                        continue;
                    }
                    match b {
                        b'"' => in_str = true,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
            }
            b'"' => {
                self.bump(b'"');
                push(self, b'"');
                let mut esc = false;
                loop {
                    let b = self.next()?;
                    push(self, b);
                    if esc {
                        esc = false;
                    } else if b == b'\\' {
                        esc = true;
                    } else if b == b'"' {
                        break;
                    }
                }
            }
            b',' | b']' | b'}' | b':' => {
                return Err(self.syntax(format!("unexpected '{}'", char::from(first))));
            }
            _ => loop {
                match self.peek()? {
                    Some(b) if !b.is_ascii_whitespace() && !b",]}".contains(&b) => {
                        self.bump(b);
                        push(self, b);
                    }
                    _ => break,
                }
            },
        }
        if over {
            self.record.clear();
        }
        Ok(self.offset - start)
    }

    /// Find `key` among the members of the top-level object and step into
    /// its array. `Ok(false)` when the object ends without it.
    pub fn enter_array(&mut self, key: &str) -> Result<bool, ScanError> {
        self.expect(b'{')?;
        loop {
            match self.skip_ws()? {
                Some(b'}') => {
                    self.bump(b'}');
                    return Ok(false);
                }
                Some(b'"') => {}
                Some(b) => {
                    return Err(self.unexpected("a member name", b));
                }
                None => {
                    return Err(self.truncated());
                }
            }
            self.value(true)?;
            let name: Option<String> = serde_json::from_slice(&self.record).ok();
            self.expect(b':')?;
            if name.as_deref() == Some(key) {
                self.expect(b'[')?;
                return Ok(true);
            }
            self.value(false)?;
            match self.skip_ws()? {
                Some(b',') => self.bump(b','),
                Some(b'}') => {
                    self.bump(b'}');
                    return Ok(false);
                }
                Some(b) => {
                    return Err(self.unexpected("',' or '}'", b));
                }
                None => {
                    return Err(self.truncated());
                }
            }
        }
    }

    /// The next element of the array entered with [`Scanner::enter_array`]
    /// (`None` after its `]`).
    pub fn next_element(&mut self, first: bool) -> Result<Option<Scanned>, ScanError> {
        match self.skip_ws()? {
            Some(b']') => {
                self.bump(b']');
                return Ok(None);
            }
            Some(b',') if !first => self.bump(b','),
            Some(_) if first => {}
            Some(b) => {
                return Err(self.unexpected("',' or ']'", b));
            }
            None => {
                return Err(self.truncated());
            }
        }
        let len = self.value(true)?;
        if self.record.is_empty() {
            Ok(Some(Scanned::TooLarge(len)))
        } else {
            Ok(Some(Scanned::Record))
        }
    }

    /// After the array of [`Scanner::enter_array`]: skip the object's other
    /// members and its `}`. `Ok(true)` when another top-level value follows
    /// (concatenated documents, as Firehose writes them).
    pub fn leave_object(&mut self) -> Result<bool, ScanError> {
        loop {
            match self.skip_ws()? {
                Some(b'}') => {
                    self.bump(b'}');
                    break;
                }
                Some(b',') => {
                    self.bump(b',');
                    self.value(false)?;
                    self.expect(b':')?;
                    self.value(false)?;
                }
                Some(b) => {
                    return Err(self.unexpected("',' or '}'", b));
                }
                None => {
                    return Err(self.truncated());
                }
            }
        }
        Ok(self.skip_ws()?.is_some())
    }

    /// Skip the rest of the current top-level object after
    /// [`Scanner::enter_array`] returned `false` (it ended): whether another
    /// top-level value follows.
    pub fn more(&mut self) -> Result<bool, ScanError> {
        Ok(self.skip_ws()?.is_some())
    }

    /// The next top-level value (of a sequence of values); call after
    /// [`Scanner::more`] said there is one.
    pub fn next_value(&mut self) -> Result<Scanned, ScanError> {
        let len = self.value(true)?;
        if self.record.is_empty() {
            Ok(Scanned::TooLarge(len))
        } else {
            Ok(Scanned::Record)
        }
    }

    /// The next line (without its end), at most the cap long; a longer line
    /// is skipped to its end. `None` at the end of input.
    pub fn next_line(&mut self) -> Result<Option<Scanned>, ScanError> {
        self.record.clear();
        let mut len = 0u64;
        let mut over = false;
        let mut any = false;
        loop {
            let buf = loop {
                match self.r.fill_buf() {
                    Ok(b) => break b,
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(e) => return Err(Self::io(&e)),
                }
            };
            if buf.is_empty() {
                break;
            }
            any = true;
            let (chunk, done) = match memchr::memchr(b'\n', buf) {
                Some(i) => (buf.get(..i).unwrap_or_default(), true),
                None => (buf, false),
            };
            let n = chunk.len();
            if !over {
                if self.record.len().saturating_add(n) <= self.cap {
                    self.record.extend_from_slice(chunk);
                } else {
                    over = true;
                    self.record = Vec::new();
                }
            }
            len += n as u64;
            let used = n + usize::from(done);
            self.r.consume(used);
            self.offset += used as u64;
            if done {
                self.newlines += 1;
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        if over {
            return Ok(Some(Scanned::TooLarge(len)));
        }
        if self.record.last() == Some(&b'\r') {
            self.record.pop();
        }
        Ok(Some(Scanned::Record))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    fn elements(input: &str, key: &str, cap: usize) -> (Vec<String>, Option<ScanError>) {
        let mut s = Scanner::with_cap(std::io::Cursor::new(input.as_bytes().to_vec()), cap);
        let mut out = Vec::new();
        match s.enter_array(key) {
            Ok(true) => {}
            Ok(false) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
        let mut first = true;
        loop {
            match s.next_element(first) {
                Ok(Some(Scanned::Record)) => out.push(String::from_utf8(s.record.clone()).unwrap()),
                Ok(Some(Scanned::TooLarge(n))) => out.push(format!("<{n} bytes>")),
                Ok(None) => return (out, None),
                Err(e) => return (out, Some(e)),
            }
            first = false;
        }
    }

    #[test]
    fn scanner_splits_the_named_array_past_other_members() {
        let input = r#" {"NextToken": "a]}\"b", "n": [1, {"x": "]"}], "Events" : [ {"a": "}\\"}, [1,2] , "s", 12 ,{}], "z": 1}"#;
        let (got, err) = elements(input, "Events", 1024);
        assert_eq!(err, None);
        assert_eq!(got, [r#"{"a": "}\\"}"#, "[1,2]", r#""s""#, "12", "{}"]);
        let (got, err) = elements(r#"{"Records": []}"#, "Records", 1024);
        assert_eq!((got.len(), err), (0, None));
        let (got, err) = elements(r#"{"Other": []}"#, "Records", 1024);
        assert_eq!((got.len(), err), (0, None));
    }

    #[test]
    fn scanner_skips_an_element_over_the_cap_and_reports_truncation() {
        let big = "x".repeat(100);
        let input = format!(r#"{{"Records": [{{"a": 1}}, {{"big": "{big}"}}, {{"b": 2}}]}}"#);
        let (got, err) = elements(&input, "Records", 50);
        assert_eq!(err, None);
        assert_eq!(got, [r#"{"a": 1}"#, "<111 bytes>", r#"{"b": 2}"#]);
        let cut = &input[..input.len() - 5];
        let (got, err) = elements(cut, "Records", 1024);
        assert_eq!(got.len(), 2);
        assert!(matches!(err, Some(ScanError::Truncated { .. })), "{err:?}");
        let (_, err) = elements(r#"{"Records": [{} {}]}"#, "Records", 1024);
        assert_eq!(
            err.unwrap().to_string(),
            "byte 16: expected ',' or ']', found '{'"
        );
    }

    #[test]
    fn scanner_lines_cap_long_lines_and_strip_cr() {
        let input = format!("a\r\n{}\n\nlast", "y".repeat(30));
        let mut s = Scanner::with_cap(std::io::Cursor::new(input.into_bytes()), 10);
        let mut got = Vec::new();
        while let Some(l) = s.next_line().unwrap() {
            got.push(match l {
                Scanned::Record => String::from_utf8(s.record.clone()).unwrap(),
                Scanned::TooLarge(n) => format!("<{n}>"),
            });
        }
        assert_eq!(got, ["a", "<30>", "", "last"]);
    }
}
