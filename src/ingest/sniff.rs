//! What an input is, decided from its first bytes (never from its name).

/// The kinds of content privpath reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// `1f 8b`: gzip (possibly multi-member); sniff again after decoding.
    Gzip,
    /// pcap, either byte order, micro- or nanosecond timestamps.
    Pcap,
    /// pcapng section header block.
    Pcapng,
    /// `PAR1`.
    Parquet,
    /// `{` or `[` after optional BOM and whitespace.
    Json,
    /// `H4sI`: base64 text of a gzip stream (a subscription payload).
    Base64Gzip,
    /// Anything else: flow-log text.
    Text,
    /// Zero bytes.
    Empty,
}

/// Classify an input by its first bytes (a few hundred are plenty).
pub fn sniff(head: &[u8]) -> Sniffed {
    const PCAP: [[u8; 4]; 4] = [
        [0xa1, 0xb2, 0xc3, 0xd4],
        [0xd4, 0xc3, 0xb2, 0xa1],
        [0xa1, 0xb2, 0x3c, 0x4d],
        [0x4d, 0x3c, 0xb2, 0xa1],
    ];
    if head.is_empty() {
        return Sniffed::Empty;
    }
    if head.starts_with(&[0x1f, 0x8b]) {
        return Sniffed::Gzip;
    }
    if PCAP.iter().any(|m| head.starts_with(m)) {
        return Sniffed::Pcap;
    }
    if head.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        return Sniffed::Pcapng;
    }
    if head.starts_with(b"PAR1") {
        return Sniffed::Parquet;
    }
    let body = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') | Some(b'[') => Sniffed::Json,
        _ if body.starts_with(b"H4sI") => Sniffed::Base64Gzip,
        None => Sniffed::Text,
        _ => Sniffed::Text,
    }
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
            (b"\x0a\x0d\x0d\x0a", Sniffed::Pcapng),
            (b"PAR1\x15\x04", Sniffed::Parquet),
            (b"\xef\xbb\xbf  {\"a\"", Sniffed::Json),
            (b"\n[{", Sniffed::Json),
            (b"H4sIAAAAAAAA", Sniffed::Base64Gzip),
            (b"version account-id", Sniffed::Text),
            (b"2 123", Sniffed::Text),
            (b"   ", Sniffed::Text),
            (b"", Sniffed::Empty),
        ];
        for (head, want) in cases {
            assert_eq!(sniff(head), *want, "{head:?}");
        }
    }
}
