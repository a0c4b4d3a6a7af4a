//! Application payloads of the lab: DNS messages, TLS 1.3 handshake records,
//! HTTP/1.1 requests and responses, ping data, and the fixed-seed PRNG that
//! fills their random parts.

/// SplitMix64: a small fixed-seed generator (no OS randomness in the samples).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded from a name (FNV-1a), so each exchange has its own
    /// stream independent of which other exchanges a case holds.
    pub fn from_name(name: &str) -> Rng {
        Rng(fnv1a(name.as_bytes()))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn next_u32(&mut self) -> u32 {
        u32::try_from(self.next_u64() >> 32).unwrap_or(0)
    }

    pub fn next_u16(&mut self) -> u16 {
        u16::try_from(self.next_u64() >> 48).unwrap_or(0)
    }

    /// A value in `lo..hi` (`lo` when the range is empty).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        match hi.checked_sub(lo) {
            Some(span) if span > 0 => lo + self.next_u64() % span,
            _ => lo,
        }
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n)
            .map(|_| self.next_u64().to_le_bytes().first().copied().unwrap_or(0))
            .collect()
    }
}

/// FNV-1a, 64 bit.
pub fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn put_u24(out: &mut Vec<u8>, v: usize) {
    let b = u32::try_from(v).unwrap_or(0).to_be_bytes();
    out.extend_from_slice(b.get(1..).unwrap_or(&[]));
}

fn len16(v: usize) -> u16 {
    u16::try_from(v).unwrap_or(u16::MAX)
}

/// A DNS name in wire form (uncompressed).
fn put_name(out: &mut Vec<u8>, name: &str) {
    for label in name.trim_end_matches('.').split('.') {
        out.push(u8::try_from(label.len()).unwrap_or(63));
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
}

const TYPE_A: u16 = 1;
const TYPE_CNAME: u16 = 5;
const CLASS_IN: u16 = 1;

/// A standard query (RD set) for the A record of `name`, as glibc sends it.
pub fn dns_query(id: u16, name: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    put_u16(&mut out, id);
    put_u16(&mut out, 0x0100);
    for n in [1, 0, 0, 0] {
        put_u16(&mut out, n);
    }
    put_name(&mut out, name);
    put_u16(&mut out, TYPE_A);
    put_u16(&mut out, CLASS_IN);
    out
}

/// The resolver's answer: optionally a CNAME for the query name, then A
/// records for the (CNAME target or query) name. Owner names are compressed
/// with pointers, as Route 53 Resolver does.
pub fn dns_response(
    id: u16,
    name: &str,
    cname: Option<(&str, u32)>,
    addrs: &[[u8; 4]],
    ttl: u32,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    put_u16(&mut out, id);
    put_u16(&mut out, 0x8180);
    let answers = addrs.len() + usize::from(cname.is_some());
    for n in [1, len16(answers), 0, 0] {
        put_u16(&mut out, n);
    }
    put_name(&mut out, name);
    put_u16(&mut out, TYPE_A);
    put_u16(&mut out, CLASS_IN);
    // The question name starts right after the 12-byte header.
    let mut owner: u16 = 0xc000 | 12;
    if let Some((target, cname_ttl)) = cname {
        put_u16(&mut out, owner);
        put_u16(&mut out, TYPE_CNAME);
        put_u16(&mut out, CLASS_IN);
        out.extend_from_slice(&cname_ttl.to_be_bytes());
        let mut rdata = Vec::new();
        put_name(&mut rdata, target);
        put_u16(&mut out, len16(rdata.len()));
        owner = 0xc000 | len16(out.len());
        out.extend_from_slice(&rdata);
    }
    for addr in addrs {
        put_u16(&mut out, owner);
        put_u16(&mut out, TYPE_A);
        put_u16(&mut out, CLASS_IN);
        out.extend_from_slice(&ttl.to_be_bytes());
        put_u16(&mut out, 4);
        out.extend_from_slice(addr);
    }
    out
}

fn tls_record(content_type: u8, legacy_version: u16, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 5);
    out.push(content_type);
    put_u16(&mut out, legacy_version);
    put_u16(&mut out, len16(body.len()));
    out.extend_from_slice(body);
    out
}

fn extension(out: &mut Vec<u8>, kind: u16, body: &[u8]) {
    put_u16(out, kind);
    put_u16(out, len16(body.len()));
    out.extend_from_slice(body);
}

/// A TLS 1.3 ClientHello in one record, with the extensions OpenSSL 3 sends
/// (SNI, groups, signature algorithms, ALPN `http/1.1`, key share x25519).
pub fn tls_client_hello(sni: &str, rng: &mut Rng) -> Vec<u8> {
    let mut hello = Vec::with_capacity(320);
    put_u16(&mut hello, 0x0303);
    hello.extend_from_slice(&rng.bytes(32));
    hello.push(32);
    hello.extend_from_slice(&rng.bytes(32));
    let suites: [u16; 15] = [
        0x1302, 0x1303, 0x1301, 0xc02c, 0xc030, 0x009f, 0xcca9, 0xcca8, 0xccaa, 0xc02b, 0xc02f,
        0x009e, 0xc024, 0xc028, 0x00ff,
    ];
    put_u16(&mut hello, len16(suites.len() * 2));
    for s in suites {
        put_u16(&mut hello, s);
    }
    hello.extend_from_slice(&[1, 0]);

    let mut ext = Vec::with_capacity(200);
    // server_name: list length, type host_name, name length, name.
    let mut sn = Vec::new();
    put_u16(&mut sn, len16(sni.len() + 3));
    sn.push(0);
    put_u16(&mut sn, len16(sni.len()));
    sn.extend_from_slice(sni.as_bytes());
    extension(&mut ext, 0, &sn);
    extension(&mut ext, 11, &[3, 0, 1, 2]);
    extension(
        &mut ext,
        10,
        &[0, 8, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x1e, 0x00, 0x18],
    );
    extension(&mut ext, 35, &[]);
    let alpn = b"http/1.1";
    let mut al = Vec::new();
    put_u16(&mut al, len16(alpn.len() + 1));
    al.push(u8::try_from(alpn.len()).unwrap_or(0));
    al.extend_from_slice(alpn);
    extension(&mut ext, 16, &al);
    extension(&mut ext, 22, &[]);
    extension(&mut ext, 23, &[]);
    let sigs: [u16; 9] = [
        0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806, 0x0401,
    ];
    let mut sa = Vec::new();
    put_u16(&mut sa, len16(sigs.len() * 2));
    for s in sigs {
        put_u16(&mut sa, s);
    }
    extension(&mut ext, 13, &sa);
    extension(&mut ext, 43, &[4, 0x03, 0x04, 0x03, 0x03]);
    extension(&mut ext, 45, &[1, 1]);
    let mut ks = Vec::new();
    put_u16(&mut ks, 36);
    put_u16(&mut ks, 0x001d);
    put_u16(&mut ks, 32);
    ks.extend_from_slice(&rng.bytes(32));
    extension(&mut ext, 51, &ks);
    put_u16(&mut hello, len16(ext.len()));
    hello.extend_from_slice(&ext);

    let mut hs = vec![1];
    put_u24(&mut hs, hello.len());
    hs.extend_from_slice(&hello);
    tls_record(22, 0x0301, &hs)
}

/// The server's first flight: ServerHello (TLS 1.3, x25519),
/// ChangeCipherSpec, and the encrypted rest of the handshake as one
/// application-data record of `encrypted` bytes.
pub fn tls_server_flight(rng: &mut Rng, encrypted: usize) -> Vec<u8> {
    let mut hello = Vec::with_capacity(128);
    put_u16(&mut hello, 0x0303);
    hello.extend_from_slice(&rng.bytes(32));
    hello.push(32);
    hello.extend_from_slice(&rng.bytes(32));
    put_u16(&mut hello, 0x1302);
    hello.push(0);
    let mut ext = Vec::new();
    extension(&mut ext, 43, &[0x03, 0x04]);
    let mut ks = Vec::new();
    put_u16(&mut ks, 0x001d);
    put_u16(&mut ks, 32);
    ks.extend_from_slice(&rng.bytes(32));
    extension(&mut ext, 51, &ks);
    put_u16(&mut hello, len16(ext.len()));
    hello.extend_from_slice(&ext);
    let mut hs = vec![2];
    put_u24(&mut hs, hello.len());
    hs.extend_from_slice(&hello);
    let mut out = tls_record(22, 0x0303, &hs);
    out.extend_from_slice(&tls_record(20, 0x0303, &[1]));
    out.extend_from_slice(&tls_application_data(rng, encrypted));
    out
}

/// One TLS application-data record of `n` opaque bytes.
pub fn tls_application_data(rng: &mut Rng, n: usize) -> Vec<u8> {
    tls_record(23, 0x0303, &rng.bytes(n))
}

/// The client's second flight: ChangeCipherSpec, Finished and the request.
pub fn tls_client_finished(rng: &mut Rng, request: usize) -> Vec<u8> {
    let mut out = tls_record(20, 0x0303, &[1]);
    out.extend_from_slice(&tls_application_data(rng, 53));
    out.extend_from_slice(&tls_application_data(rng, request));
    out
}

/// `curl http://HOST/PATH` as curl 8 sends it.
pub fn http_get(host: &str, path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n")
        .into_bytes()
}

/// S3's answer to a GET of a small object.
pub fn http_ok(rng: &mut Rng, date: &str, body: &str) -> Vec<u8> {
    let request_id: String = (0..16).map(|_| hex_upper(rng.range(0, 16))).collect();
    let id2 = base64_like(rng, 76);
    let etag: String = (0..32).map(|_| hex_lower(rng.range(0, 16))).collect();
    format!(
        "HTTP/1.1 200 OK\r\nx-amz-id-2: {id2}\r\nx-amz-request-id: {request_id}\r\nDate: {date}\r\n\
         Last-Modified: Sun, 01 Nov 2026 22:14:05 GMT\r\nETag: \"{etag}\"\r\n\
         x-amz-server-side-encryption: AES256\r\nAccept-Ranges: bytes\r\nContent-Type: text/plain\r\n\
         Server: AmazonS3\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn hex_upper(v: u64) -> char {
    char::from_digit(u32::try_from(v).unwrap_or(0), 16)
        .unwrap_or('0')
        .to_ascii_uppercase()
}

fn hex_lower(v: u64) -> char {
    char::from_digit(u32::try_from(v).unwrap_or(0), 16).unwrap_or('0')
}

fn base64_like(rng: &mut Rng, n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    (0..n)
        .map(|_| {
            let i = usize::try_from(rng.range(0, 64)).unwrap_or(0);
            char::from(ALPHABET.get(i).copied().unwrap_or(b'A'))
        })
        .collect()
}

/// Linux `ping` data: a 16-byte `struct timeval` then the 0x10.. pattern (56 bytes).
pub fn ping_data(t_us: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(56);
    out.extend_from_slice(&t_us.div_euclid(1_000_000).to_le_bytes());
    out.extend_from_slice(&t_us.rem_euclid(1_000_000).to_le_bytes());
    out.extend(0x10u8..0x38);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn dns_response_compresses_owner_names_and_counts_answers() {
        let r = dns_response(
            0x1234,
            "a.example.com",
            Some(("b.example.com", 300)),
            &[[1, 2, 3, 4]],
            5,
        );
        assert_eq!(&r[..4], &[0x12, 0x34, 0x81, 0x80]);
        assert_eq!(&r[6..8], &[0, 2], "two answers");
        // The A record's owner points at the CNAME target.
        let q_end = 12 + 15 + 4;
        let cname_rdata = q_end + 12;
        let a_owner = cname_rdata + 15;
        assert_eq!(
            &r[a_owner..a_owner + 2],
            &(0xc000u16 | cname_rdata as u16).to_be_bytes()
        );
        assert_eq!(&r[r.len() - 4..], &[1, 2, 3, 4]);
    }

    #[test]
    fn client_hello_lengths_are_consistent() {
        let mut rng = Rng::from_name("t");
        let h = tls_client_hello("s3.ap-northeast-2.amazonaws.com", &mut rng);
        let rec_len = u16::from_be_bytes([h[3], h[4]]) as usize;
        assert_eq!(rec_len + 5, h.len());
        let hs_len = u32::from_be_bytes([0, h[6], h[7], h[8]]) as usize;
        assert_eq!(hs_len + 4, rec_len);
        assert!(
            h.windows(31)
                .any(|w| w == b"s3.ap-northeast-2.amazonaws.com")
        );
    }

    #[test]
    fn rng_is_deterministic_per_name() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = Rng::from_name("x");
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..4)
            .map({
                let mut r = Rng::from_name("x");
                move |_| r.next_u64()
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(Rng::from_name("y").next_u64(), a[0]);
    }
}
