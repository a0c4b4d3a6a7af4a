//! Names on a connection: the TLS ClientHello server name (SNI) and the
//! HTTP `Host` header, read from the first bytes a client sends.
//!
//! Both parsers take the bytes reassembled so far and say whether they need
//! more; the caller bounds how much it ever reassembles ([`MAX_HELLO`]).

/// Most bytes reassembled to find a name.
pub const MAX_HELLO: usize = 32 * 1024;
/// Most bytes of HTTP request head searched for `Host`.
const MAX_HTTP_HEAD: usize = 8 * 1024;

/// What the first bytes of a client stream say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppName {
    /// TLS ClientHello with this server name (raw bytes, not trusted).
    Sni(Vec<u8>),
    /// HTTP request with this Host header value (raw bytes).
    HttpHost(Vec<u8>),
    /// Recognised, complete, no name in it.
    NoName,
    /// Looks like TLS or HTTP, but more bytes are needed.
    NeedMore,
    /// Neither TLS nor HTTP.
    Other,
}

const METHODS: [&[u8]; 9] = [
    b"GET ",
    b"POST ",
    b"HEAD ",
    b"PUT ",
    b"DELETE ",
    b"OPTIONS ",
    b"PATCH ",
    b"CONNECT ",
    b"TRACE ",
];

/// Classify the first bytes of a stream.
pub fn app_name(buf: &[u8]) -> AppName {
    match buf.first() {
        None => AppName::NeedMore,
        Some(0x16) => tls_sni(buf),
        Some(_) => {
            let is_http = METHODS.iter().any(|m| {
                let n = m.len().min(buf.len());
                buf.get(..n) == m.get(..n)
            });
            if is_http {
                http_host(buf)
            } else {
                AppName::Other
            }
        }
    }
}

fn be16(b: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes(
        b.get(at..at + 2)?.try_into().ok()?,
    )))
}

/// Collect the handshake bytes from consecutive TLS handshake records, then
/// read the ClientHello.
fn tls_sni(buf: &[u8]) -> AppName {
    let mut hs: Vec<u8> = Vec::new();
    let mut pos = 0;
    loop {
        let Some(header) = buf.get(pos..pos + 5) else {
            return AppName::NeedMore;
        };
        let (ctype, major) = (header.first().copied(), header.get(1).copied());
        let (ctype, major) = (ctype.unwrap_or(0), major.unwrap_or(0));
        if ctype != 0x16 || major != 3 {
            return if hs.is_empty() {
                AppName::Other
            } else {
                AppName::NoName
            };
        }
        let len = be16(header, 3).unwrap_or(0);
        let body = buf
            .get(pos + 5..(pos + 5 + len).min(buf.len()))
            .unwrap_or(&[]);
        hs.extend_from_slice(body);
        // The handshake header says how long the ClientHello is.
        if let (Some(&t), Some(&[l0, l1, l2])) = (hs.first(), hs.get(1..4)) {
            if t != 1 {
                return AppName::NoName;
            }
            let need = 4 + ((usize::from(l0) << 16) | (usize::from(l1) << 8) | usize::from(l2));
            if hs.len() >= need {
                return client_hello(hs.get(4..need).unwrap_or(&[]));
            }
            if need > MAX_HELLO {
                return AppName::NoName;
            }
        }
        if body.len() < len {
            return AppName::NeedMore;
        }
        pos += 5 + len;
    }
}

/// Read the server_name extension of a ClientHello body.
pub fn client_hello(b: &[u8]) -> AppName {
    let mut p = 2 + 32; // version, random
    let Some(&sid) = b.get(p) else {
        return AppName::NoName;
    };
    p += 1 + usize::from(sid);
    let Some(cs) = be16(b, p) else {
        return AppName::NoName;
    };
    p += 2 + cs;
    let Some(&comp) = b.get(p) else {
        return AppName::NoName;
    };
    p += 1 + usize::from(comp);
    let Some(ext_len) = be16(b, p) else {
        return AppName::NoName;
    };
    p += 2;
    let end = (p + ext_len).min(b.len());
    while p + 4 <= end {
        let (Some(t), Some(l)) = (be16(b, p), be16(b, p + 2)) else {
            break;
        };
        let data = b.get(p + 4..(p + 4 + l).min(end)).unwrap_or(&[]);
        if t == 0 {
            // server_name_list: u16 len, then (u8 type, u16 len, name)*
            let mut q = 2;
            while q + 3 <= data.len() {
                let kind = data.get(q).copied().unwrap_or(1);
                let n = be16(data, q + 1).unwrap_or(0);
                if let (0, Some(name)) = (kind, data.get(q + 3..q + 3 + n)) {
                    return AppName::Sni(name.to_vec());
                }
                q += 3 + n;
            }
            return AppName::NoName;
        }
        p += 4 + l;
    }
    AppName::NoName
}

/// Find the Host header of an HTTP request head.
fn http_host(buf: &[u8]) -> AppName {
    let head_end = memchr::memmem::find(buf, b"\r\n\r\n");
    let head = buf.get(..head_end.unwrap_or(buf.len())).unwrap_or(buf);
    for line in head.split(|&c| c == b'\n').skip(1) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() >= 5
            && line
                .get(..5)
                .is_some_and(|h| h.eq_ignore_ascii_case(b"host:"))
        {
            let v = line.get(5..).unwrap_or(&[]);
            let v = v.trim_ascii();
            return AppName::HttpHost(v.to_vec());
        }
    }
    if head_end.is_some() || buf.len() >= MAX_HTTP_HEAD {
        AppName::NoName
    } else {
        AppName::NeedMore
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
pub(crate) mod tests {
    use super::*;

    /// A TLS 1.2-style ClientHello record with `sni`.
    pub fn client_hello_record(sni: &[u8]) -> Vec<u8> {
        let mut ext = Vec::new();
        let mut list = vec![0u8];
        list.extend((sni.len() as u16).to_be_bytes());
        list.extend(sni);
        let mut sn = (list.len() as u16).to_be_bytes().to_vec();
        sn.extend(list);
        ext.extend([0, 0]);
        ext.extend((sn.len() as u16).to_be_bytes());
        ext.extend(sn);
        ext.extend([0, 0x17, 0, 0]); // extended master secret, empty
        let mut body = vec![3, 3];
        body.extend([7u8; 32]);
        body.push(0);
        body.extend([0, 2, 0x13, 0x01]);
        body.extend([1, 0]);
        body.extend((ext.len() as u16).to_be_bytes());
        body.extend(ext);
        let mut hs = vec![1, 0];
        hs.extend((body.len() as u16).to_be_bytes());
        hs.extend(body);
        let mut rec = vec![0x16, 3, 1];
        rec.extend((hs.len() as u16).to_be_bytes());
        rec.extend(hs);
        rec
    }

    #[test]
    fn sni_of_a_whole_client_hello() {
        let r = client_hello_record(b"s3.eu-west-1.amazonaws.com");
        assert_eq!(
            app_name(&r),
            AppName::Sni(b"s3.eu-west-1.amazonaws.com".to_vec())
        );
    }

    #[test]
    fn every_prefix_of_a_client_hello_needs_more() {
        let r = client_hello_record(b"example.org");
        for n in 0..r.len() {
            assert_eq!(app_name(&r[..n]), AppName::NeedMore, "prefix {n}");
        }
    }

    #[test]
    fn handshake_split_over_two_records() {
        let r = client_hello_record(b"a.example");
        let hs = &r[5..];
        let (a, b) = hs.split_at(20);
        let mut two = vec![0x16, 3, 1];
        two.extend((a.len() as u16).to_be_bytes());
        two.extend(a);
        two.extend([0x16, 3, 1]);
        two.extend((b.len() as u16).to_be_bytes());
        two.extend(b);
        assert_eq!(app_name(&two), AppName::Sni(b"a.example".to_vec()));
    }

    #[test]
    fn http_host_and_other_protocols() {
        assert_eq!(
            app_name(b"GET /x HTTP/1.1\r\nHOST: bucket.s3.amazonaws.com \r\n\r\n"),
            AppName::HttpHost(b"bucket.s3.amazonaws.com".to_vec())
        );
        assert_eq!(
            app_name(b"GET /x HTTP/1.1\r\nAccept: */*\r\n"),
            AppName::NeedMore
        );
        assert_eq!(app_name(b"GE"), AppName::NeedMore);
        assert_eq!(app_name(b"SSH-2.0-OpenSSH\r\n"), AppName::Other);
    }
}
