//! DNS responses: question, rcode, and the A/AAAA/CNAME answers with TTLs.
//!
//! Names are read with compression pointers that must point strictly
//! backwards (no loops possible) and a cap on jumps and length.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Most compression pointers followed while reading one name.
const MAX_JUMPS: usize = 32;
/// Longest name kept (RFC 1035: 255 octets on the wire).
const MAX_NAME: usize = 255;

/// A parsed response (queries give `Ok(None)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsAnswer {
    pub id: u16,
    pub rcode: u8,
    pub query: String,
    pub qtype: u16,
    pub answers: Vec<IpAddr>,
    pub cnames: Vec<String>,
    pub ttl: Option<u32>,
    /// Why the answer section could not be read to its end (a message cut by
    /// the snaplen, or malformed): the answers before it are kept.
    pub stopped: Option<DnsError>,
}

/// Why a DNS message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    #[error("dns message shorter than its header")]
    Short,
    #[error("dns name runs past the end of the message")]
    NameOverrun,
    #[error("dns compression pointer loops or points forward")]
    BadPointer,
    #[error("dns name too long or too deeply compressed")]
    NameTooLong,
    #[error("dns record runs past the end of the message")]
    RecordOverrun,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Read a (possibly compressed) name at `at`; returns the name (lower-case,
/// no trailing dot, lossy for non-UTF-8 bytes) and the offset after it.
pub fn read_name(msg: &[u8], at: usize) -> Result<(String, usize), DnsError> {
    let mut name: Vec<u8> = Vec::with_capacity(64);
    let end = walk_name(msg, at, |label| {
        if !name.is_empty() {
            name.push(b'.');
        }
        name.extend_from_slice(label);
    })?;
    // Lower-casing ASCII before the lossy conversion is the same as after
    // it: an ASCII byte is never part of an invalid UTF-8 sequence.
    name.make_ascii_lowercase();
    let s = match String::from_utf8(name) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    Ok((s, end))
}

/// Follow a (possibly compressed) name at `at`, handing each label to
/// `label`; returns the offset after the name. Errors exactly as
/// [`read_name`] does.
fn walk_name(msg: &[u8], at: usize, mut label: impl FnMut(&[u8])) -> Result<usize, DnsError> {
    let mut pos = at;
    let mut after: Option<usize> = None;
    let mut jumps = 0;
    // Length of the dotted name so far.
    let mut len_so_far = 0usize;
    loop {
        let len = *msg.get(pos).ok_or(DnsError::NameOverrun)?;
        match len & 0xC0 {
            0x00 => {
                if len == 0 {
                    return Ok(after.unwrap_or(pos + 1));
                }
                let l = usize::from(len);
                let bytes = msg.get(pos + 1..pos + 1 + l).ok_or(DnsError::NameOverrun)?;
                len_so_far += usize::from(len_so_far > 0) + l;
                label(bytes);
                if len_so_far > MAX_NAME {
                    return Err(DnsError::NameTooLong);
                }
                pos += 1 + l;
            }
            0xC0 => {
                let lo = *msg.get(pos + 1).ok_or(DnsError::NameOverrun)?;
                let target = (usize::from(len & 0x3F) << 8) | usize::from(lo);
                if target >= pos {
                    return Err(DnsError::BadPointer);
                }
                jumps += 1;
                if jumps > MAX_JUMPS {
                    return Err(DnsError::NameTooLong);
                }
                if after.is_none() {
                    after = Some(pos + 2);
                }
                pos = target;
            }
            // 0x40 / 0x80: extended label types, obsolete.
            _ => return Err(DnsError::BadPointer),
        }
    }
}

/// Parse a DNS message; `Ok(None)` for queries.
pub fn parse_response(msg: &[u8]) -> Result<Option<DnsAnswer>, DnsError> {
    let id = be16(msg, 0).ok_or(DnsError::Short)?;
    let flags = be16(msg, 2).ok_or(DnsError::Short)?;
    let qd = be16(msg, 4).ok_or(DnsError::Short)?;
    let an = be16(msg, 6).ok_or(DnsError::Short)?;
    if msg.len() < 12 {
        return Err(DnsError::Short);
    }
    if flags & 0x8000 == 0 {
        return Ok(None);
    }
    let rcode = u8::try_from(flags & 0x000F).unwrap_or(0);
    let mut pos = 12;
    let mut query = String::new();
    let mut qtype = 0;
    for i in 0..qd {
        let (name, p) = read_name(msg, pos)?;
        let t = be16(msg, p).ok_or(DnsError::RecordOverrun)?;
        be16(msg, p + 2).ok_or(DnsError::RecordOverrun)?;
        if i == 0 {
            query = name;
            qtype = t;
        }
        pos = p + 4;
    }
    let mut out = DnsAnswer {
        id,
        rcode,
        query,
        qtype,
        answers: Vec::new(),
        cnames: Vec::new(),
        ttl: None,
        stopped: None,
    };
    for _ in 0..an {
        if let Err(e) = answer(msg, &mut pos, &mut out) {
            out.stopped = Some(e);
            break;
        }
    }
    Ok(Some(out))
}

/// Read one answer record at `pos` into `out`.
fn answer(msg: &[u8], pos: &mut usize, out: &mut DnsAnswer) -> Result<(), DnsError> {
    // The owner name is not kept: checked, not built.
    let p = walk_name(msg, *pos, |_| {})?;
    let rtype = be16(msg, p).ok_or(DnsError::RecordOverrun)?;
    let ttl = be32(msg, p + 4).ok_or(DnsError::RecordOverrun)?;
    let rdlen = usize::from(be16(msg, p + 8).ok_or(DnsError::RecordOverrun)?);
    let rd_at = p + 10;
    let rdata = msg
        .get(rd_at..rd_at + rdlen)
        .ok_or(DnsError::RecordOverrun)?;
    let counted = match (rtype, rdlen) {
        (1, 4) => {
            let a: [u8; 4] = rdata.try_into().map_err(|_| DnsError::RecordOverrun)?;
            out.answers.push(IpAddr::V4(Ipv4Addr::from(a)));
            true
        }
        (28, 16) => {
            let a: [u8; 16] = rdata.try_into().map_err(|_| DnsError::RecordOverrun)?;
            out.answers.push(IpAddr::V6(Ipv6Addr::from(a)));
            true
        }
        (5, _) => {
            let (target, _) = read_name(msg, rd_at)?;
            out.cnames.push(target);
            true
        }
        _ => false,
    };
    if counted {
        out.ttl = Some(out.ttl.map_or(ttl, |t: u32| t.min(ttl)));
    }
    *pos = rd_at + rdlen;
    Ok(())
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;

    fn name(n: &str) -> Vec<u8> {
        let mut v = Vec::new();
        for l in n.split('.') {
            v.push(l.len() as u8);
            v.extend_from_slice(l.as_bytes());
        }
        v.push(0);
        v
    }

    /// A response for `q` with a CNAME to `c` then A records.
    pub fn response(q: &str, c: Option<&str>, addrs: &[[u8; 4]]) -> Vec<u8> {
        let an = addrs.len() + usize::from(c.is_some());
        let mut m = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, an as u8, 0, 0, 0, 0];
        m.extend(name(q));
        m.extend([0, 1, 0, 1]);
        let mut owner = vec![0xC0, 12];
        if let Some(c) = c {
            m.extend(&owner);
            m.extend([0, 5, 0, 1, 0, 0, 0, 60]);
            let n = name(c);
            let target_at = m.len() + 2;
            m.extend((n.len() as u16).to_be_bytes());
            m.extend(n);
            owner = vec![0xC0 | (target_at >> 8) as u8, target_at as u8];
        }
        for a in addrs {
            m.extend(&owner);
            m.extend([0, 1, 0, 1, 0, 0, 0, 30, 0, 4]);
            m.extend(a);
        }
        m
    }

    #[test]
    fn parses_cname_chain_and_addresses_with_min_ttl() {
        let m = response(
            "Bucket.S3.amazonaws.com",
            Some("s3-r-w.amazonaws.com"),
            &[[3, 5, 184, 20]],
        );
        let r = parse_response(&m).unwrap().unwrap();
        assert_eq!(r.query, "bucket.s3.amazonaws.com");
        assert_eq!(r.qtype, 1);
        assert_eq!(r.cnames, vec!["s3-r-w.amazonaws.com"]);
        assert_eq!(r.answers, vec!["3.5.184.20".parse::<IpAddr>().unwrap()]);
        assert_eq!(r.ttl, Some(30));
    }

    #[test]
    fn queries_are_not_responses() {
        let mut m = response("a.b", None, &[]);
        m[2] = 0x01;
        assert_eq!(parse_response(&m).unwrap(), None);
    }

    #[test]
    fn pointer_loops_and_forward_pointers_are_refused() {
        let mut m = vec![0, 0, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0];
        m.extend([0xC0, 12, 0, 1, 0, 1]);
        assert_eq!(parse_response(&m), Err(DnsError::BadPointer));
        let mut m = vec![0, 0, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0];
        m.extend([0xC0, 40, 0, 1, 0, 1]);
        assert_eq!(parse_response(&m), Err(DnsError::BadPointer));
    }

    #[test]
    fn every_truncation_is_an_error_or_a_prefix_result_never_a_panic() {
        let m = response(
            "x.example.com",
            Some("y.example.com"),
            &[[1, 2, 3, 4], [5, 6, 7, 8]],
        );
        for n in 0..m.len() {
            let _ = parse_response(&m[..n]);
        }
    }

    /// The name reader as it was before `walk_name` (one String per name,
    /// owner names included): the reference for the property below.
    fn read_name_reference(msg: &[u8], at: usize) -> Result<(String, usize), DnsError> {
        let mut name: Vec<u8> = Vec::new();
        let mut pos = at;
        let mut after: Option<usize> = None;
        let mut jumps = 0;
        loop {
            let len = *msg.get(pos).ok_or(DnsError::NameOverrun)?;
            match len & 0xC0 {
                0x00 => {
                    if len == 0 {
                        let end = after.unwrap_or(pos + 1);
                        let s = String::from_utf8_lossy(&name).to_ascii_lowercase();
                        return Ok((s, end));
                    }
                    let l = usize::from(len);
                    let label = msg.get(pos + 1..pos + 1 + l).ok_or(DnsError::NameOverrun)?;
                    if !name.is_empty() {
                        name.push(b'.');
                    }
                    name.extend_from_slice(label);
                    if name.len() > MAX_NAME {
                        return Err(DnsError::NameTooLong);
                    }
                    pos += 1 + l;
                }
                0xC0 => {
                    let lo = *msg.get(pos + 1).ok_or(DnsError::NameOverrun)?;
                    let target = (usize::from(len & 0x3F) << 8) | usize::from(lo);
                    if target >= pos {
                        return Err(DnsError::BadPointer);
                    }
                    jumps += 1;
                    if jumps > MAX_JUMPS {
                        return Err(DnsError::NameTooLong);
                    }
                    if after.is_none() {
                        after = Some(pos + 2);
                    }
                    pos = target;
                }
                _ => return Err(DnsError::BadPointer),
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

        /// Names (random labels, upper case and non-UTF-8 bytes, pointers,
        /// loops, long names) read as the reference reads them, and
        /// `walk_name` stops where and how `read_name` does.
        #[test]
        fn read_name_and_walk_name_agree_with_the_reference(
            labels in proptest::collection::vec(
                proptest::collection::vec(proptest::prelude::any::<u8>(), 0..70), 0..8),
            tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..6),
            at in 0usize..40,
        ) {
            let mut m = vec![0u8; 12];
            for l in &labels {
                m.push(l.len() as u8);
                m.extend(l);
            }
            m.extend(&tail);
            let at = at.min(m.len());
            let want = read_name_reference(&m, at);
            proptest::prop_assert_eq!(read_name(&m, at), want.clone());
            proptest::prop_assert_eq!(walk_name(&m, at, |_| {}), want.map(|(_, end)| end));
        }
    }
}
