//! What an input is, decided from its first bytes (never from its name):
//! the one classifier of input kinds every command uses, both when the
//! inputs are planned ([`super::inputs`]) and when each one is read.

/// How many first bytes [`sniff`] wants (fewer is fine at the end of input).
pub const HEAD_BYTES: usize = 4096;

/// The kinds of content privpath reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// `1f 8b`: gzip (possibly multi-member); sniff again after decoding.
    Gzip,
    /// pcap, either byte order, micro- or nanosecond timestamps, or the
    /// "modified" (Kuznetzov) format.
    Pcap,
    /// pcapng section header block.
    Pcapng,
    /// `PAR1`.
    Parquet,
    /// `{` or `[` after optional BOM and whitespace (flow-log JSON).
    Json,
    /// A JSON object whose top-level members are AWS CLI output the
    /// topology loader reads (`Vpcs`, `RouteTables` …): not evidence.
    TopologyJson,
    /// TOML with `expect.toml` keys: expectations, not evidence.
    ExpectToml,
    /// `H4sI`: base64 text of a gzip stream (a subscription payload).
    Base64Gzip,
    /// Text: flow-log text.
    Text,
    /// Zero bytes.
    Empty,
    /// No kind privpath reads; says what it looks like ("a PNG image",
    /// "binary data", "a capture header cut short").
    Unknown(&'static str),
}

impl Sniffed {
    /// Evidence (flows, packets, answers) rather than the topology or the
    /// expectations of a case.
    pub fn is_evidence(self) -> bool {
        !matches!(self, Sniffed::TopologyJson | Sniffed::ExpectToml)
    }
}

const PCAP: [[u8; 4]; 6] = [
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
    [0x4d, 0x3c, 0xb2, 0xa1],
    // The "modified" format (Alexey Kuznetzov's patches, 24-byte records).
    [0xa1, 0xb2, 0xcd, 0x34],
    [0x34, 0xcd, 0xb2, 0xa1],
];
const PCAPNG: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

/// Formats users hand over by mistake, named in the message.
const FOREIGN: &[(&[u8], &str)] = &[
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x7fELF", "an ELF executable"),
    (b"BZh", "a bzip2 stream (decompress it first)"),
    (b"\xfd7zXZ\x00", "an xz stream (decompress it first)"),
    (b"\x28\xb5\x2f\xfd", "a zstd stream (decompress it first)"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"SQLite format 3\x00", "an SQLite database"),
];

/// Keys of `expect.toml` (see `report::expect`).
const EXPECT_KEYS: [&str; 4] = ["expect", "expect-dns", "since", "until"];

/// Classify an input by its first bytes ([`HEAD_BYTES`] are plenty; a
/// shorter head is the whole input).
pub fn sniff(head: &[u8]) -> Sniffed {
    if head.is_empty() {
        return Sniffed::Empty;
    }
    if head.starts_with(&[0x1f, 0x8b]) {
        return Sniffed::Gzip;
    }
    if PCAP.iter().any(|m| head.starts_with(m)) {
        return Sniffed::Pcap;
    }
    if head.starts_with(&PCAPNG) {
        return Sniffed::Pcapng;
    }
    if head.len() < 4
        && PCAP
            .iter()
            .chain(std::iter::once(&PCAPNG))
            .any(|m| m.starts_with(head))
    {
        return Sniffed::Unknown("a capture header cut short");
    }
    if head.starts_with(b"PAR1") {
        return Sniffed::Parquet;
    }
    if let Some((_, what)) = FOREIGN.iter().find(|(m, _)| head.starts_with(m)) {
        return Sniffed::Unknown(what);
    }
    if !looks_like_text(head) {
        return Sniffed::Unknown("binary data");
    }
    let body = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') if top_level_keys(body).any(is_topology_member) => Sniffed::TopologyJson,
        Some(b'{') | Some(b'[') => Sniffed::Json,
        _ if body.starts_with(b"H4sI") => Sniffed::Base64Gzip,
        _ if is_expect_toml(body) => Sniffed::ExpectToml,
        _ => Sniffed::Text,
    }
}

/// UTF-8 (a character cut at the end of the head is fine) without NUL or
/// other control characters than tab, line feed, carriage return and form
/// feed.
fn looks_like_text(head: &[u8]) -> bool {
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        // Cut inside a character at the end of the head: the rest is valid.
        Err(e) if e.error_len().is_none() => {
            let valid = head.get(..e.valid_up_to()).unwrap_or_default();
            std::str::from_utf8(valid).unwrap_or_default()
        }
        Err(_) => return false,
    };
    !text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c'))
}

fn is_topology_member(key: &str) -> bool {
    crate::topology::TOPOLOGY_MEMBERS.contains(&key)
}

/// The first significant line (blank lines and `#` comments skipped) is
/// `KEY =` with a key of `expect.toml`.
fn is_expect_toml(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    let Some(line) = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
    else {
        return false;
    };
    let Some((key, _)) = line.split_once('=') else {
        return false;
    };
    let key = key.trim().trim_matches('"');
    EXPECT_KEYS.contains(&key)
}

/// The member names of a JSON object's top level found in `body` (which may
/// end anywhere): a small scanner of strings and nesting, no values parsed.
fn top_level_keys(body: &[u8]) -> impl Iterator<Item = &str> {
    let mut depth = 0usize;
    let mut i = 0usize;
    std::iter::from_fn(move || {
        while let Some(&b) = body.get(i) {
            i += 1;
            match b {
                b'{' | b'[' => depth += 1,
                b'}' | b']' => depth = depth.saturating_sub(1),
                b'"' => {
                    let start = i;
                    while let Some(&c) = body.get(i) {
                        i += 1;
                        match c {
                            b'\\' => i += 1,
                            b'"' => break,
                            _ => {}
                        }
                    }
                    let end = i.saturating_sub(1).max(start);
                    // A member name: at the top level and followed by `:`.
                    let next = body
                        .get(i..)
                        .unwrap_or_default()
                        .iter()
                        .find(|c| !c.is_ascii_whitespace());
                    if depth == 1 && next == Some(&b':') {
                        if let Some(key) = body
                            .get(start..end)
                            .and_then(|k| std::str::from_utf8(k).ok())
                        {
                            return Some(key);
                        }
                    }
                }
                _ => {}
            }
        }
        None
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn sniff_decides_by_magic_bytes() {
        let cases: &[(&[u8], Sniffed)] = &[
            (b"\x1f\x8b\x08\x00", Sniffed::Gzip),
            (b"\xd4\xc3\xb2\xa1\x02\x00", Sniffed::Pcap),
            (b"\xa1\xb2\xc3\xd4", Sniffed::Pcap),
            (b"\x4d\x3c\xb2\xa1", Sniffed::Pcap),
            (b"\xa1\xb2\x3c\x4d", Sniffed::Pcap),
            (b"\x34\xcd\xb2\xa1\x02\x00\x04\x00", Sniffed::Pcap),
            (b"\xa1\xb2\xcd\x34", Sniffed::Pcap),
            (b"\x0a\x0d\x0d\x0a", Sniffed::Pcapng),
            (b"PAR1\x15\x04", Sniffed::Parquet),
            (b"\xef\xbb\xbf  {\"a\"", Sniffed::Json),
            (b"\n[{", Sniffed::Json),
            (b"H4sIAAAAAAAA", Sniffed::Base64Gzip),
            (b"version account-id", Sniffed::Text),
            (b"2 123", Sniffed::Text),
            (b"   ", Sniffed::Text),
            (b"\xc3\x94", Sniffed::Text),
            (b"", Sniffed::Empty),
        ];
        for (head, want) in cases {
            assert_eq!(sniff(head), *want, "{head:?}");
        }
    }

    #[test]
    fn what_privpath_does_not_read_is_unknown_and_named() {
        let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR";
        assert_eq!(sniff(png), Sniffed::Unknown("a PNG image"));
        assert_eq!(
            sniff(b"\x00\x01\x02garbage\xff\xfe"),
            Sniffed::Unknown("binary data")
        );
        assert_eq!(
            sniff(b"\x06\x00\x00\x00\x00"),
            Sniffed::Unknown("binary data")
        );
        // A capture magic cut short, and text with a NUL.
        assert_eq!(
            sniff(b"\xd4\xc3"),
            Sniffed::Unknown("a capture header cut short")
        );
        assert_eq!(sniff(b"2 123\x00 eni"), Sniffed::Unknown("binary data"));
        // Invalid UTF-8 inside the head, but a character cut at its end is fine.
        assert_eq!(sniff(b"2 1\xff23"), Sniffed::Unknown("binary data"));
        assert_eq!(sniff(b"2 123 \xc3"), Sniffed::Text);
    }

    #[test]
    fn topology_json_and_expect_toml_are_told_from_evidence() {
        let vpcs = b"{\n    \"Vpcs\": [\n        {\"CidrBlock\": \"10.0.0.0/16\"";
        assert_eq!(sniff(vpcs), Sniffed::TopologyJson);
        let attr = br#"{"VpcId": "vpc-1", "EnableDnsSupport": {"Value": true}}"#;
        assert_eq!(sniff(attr), Sniffed::TopologyJson);
        // Member names nested deeper, or string values, do not count.
        let events = br#"{"events": [{"message": "Vpcs", "Vpcs": 1}], "x": "Subnets"}"#;
        assert_eq!(sniff(events), Sniffed::Json);
        let escaped = br#"{"a\"Vpcs": 1, "logEvents": []}"#;
        assert_eq!(sniff(escaped), Sniffed::Json);
        let toml =
            b"# Timeline\n\nsince = \"2026-11-02T09:10:27Z\"\nexpect = [\"s3=gateway-endpoint\"]\n";
        assert_eq!(sniff(toml), Sniffed::ExpectToml);
        assert_eq!(sniff(b"expect-dns = []"), Sniffed::ExpectToml);
        assert_eq!(sniff(b"# comment\n2 123 eni-1"), Sniffed::Text);
        assert_eq!(sniff(b"other = 1"), Sniffed::Text);
        assert!(!Sniffed::TopologyJson.is_evidence() && Sniffed::Pcap.is_evidence());
    }
}
