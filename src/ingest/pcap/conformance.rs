//! Conformance against tshark 4.0.17 over `$PRIVPATH_CORPUS/pcap`
//! (`expected/<file>.json`, see `shared/reference/pcap.md` §2).
//!
//! How counts are compared (tshark's `flows` pass has IP defragmentation and
//! TCP reassembly off, keyed on the outermost IP header, like us):
//! - per (src, dst) the packet count must be equal;
//! - per (src, dst, protocol) too, except in files where tshark files some
//!   frames under `data` (non-first IPv4/IPv6 fragments: we key them under the
//!   datagram's protocol without ports) or `other`/`ipproto-N` (IPv6 next
//!   header tshark does not name);
//! - frames whose IP header tshark could not read (`src: null`) are not
//!   flows for us either: we count them in the tally instead;
//! - the same holds for wire bytes (Σ original frame length), and per TCP
//!   5-tuple the OR of flow-log flags equals what tshark's SYN / SYN-ACK /
//!   RST / FIN counters imply;
//! - every file tshark reads is compared this way, whatever its link
//!   types (PKTAP, NFLOG, IPoIB and ipnet are decoded; for PPP, 802.15.4,
//!   SLIP and 802.3br frames tshark finds no IP flow and neither do we).
//!
//! Named exceptions are listed in [`EXCEPTIONS`] with the reason.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use super::{CaptureOutput, read_capture_file};
use crate::flow::SourceId;
use crate::ingest::IngestOptions;

/// Files whose per-(src,dst) counts legitimately differ, and why.
pub const EXCEPTIONS: &[(&str, &str)] = &[];

/// Files whose DNS answers legitimately differ, and why.
pub const DNS_EXCEPTIONS: &[(&str, &str)] = &[(
    "zeek__ipv6-fragmented-dns.pcap",
    "tshark reassembles the fragmented IPv6 response (frame 8); we do not reassemble IP fragments",
)];

/// Files whose SNI legitimately differs, and why.
pub const SNI_EXCEPTIONS: &[(&str, &str)] = &[];

/// Files tshark reads (all but a non-capture and a link type it does not
/// know): every one of them is compared in full.
const READABLE_FILES: usize = 148;

fn corpus() -> Option<PathBuf> {
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
                Path::new(env!("CARGO_MANIFEST_DIR")).join(base)
            } else {
                base.to_path_buf()
            };
            let p = base.join("pcap");
            assert!(
                p.is_dir(),
                "PRIVPATH_CORPUS is set but {} is missing",
                p.display()
            );
            Some(p)
        }
    }
}

/// Read with a time bound; a panic or a hang fails the test.
fn read_bounded(path: &Path) -> CaptureOutput {
    let (tx, rx) = mpsc::channel();
    let p = path.to_path_buf();
    let h = std::thread::spawn(move || {
        let out = read_capture_file(&p, SourceId(0), &IngestOptions::default());
        let _ = tx.send(out);
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(out) => {
            h.join().expect("reader thread");
            out
        }
        Err(_) => {
            let panicked = h.join().is_err();
            panic!(
                "{}: reader {} ",
                path.display(),
                if panicked { "panicked" } else { "hung (60 s)" }
            );
        }
    }
}

fn proto_class_tshark(p: &str) -> String {
    match p {
        "tcp" => "6".into(),
        "udp" => "17".into(),
        "icmp" => "1".into(),
        "icmpv6" => "58".into(),
        "igmp" => "2".into(),
        "gre" => "47".into(),
        "esp" => "50".into(),
        "ah" => "51".into(),
        "sctp" => "132".into(),
        "dccp" => "33".into(),
        "ip-in-ip" => "ipip".into(),
        other => other.into(),
    }
}

fn proto_class_ours(p: u8) -> String {
    match p {
        4 | 41 => "ipip".into(),
        n => n.to_string(),
    }
}

struct Expected {
    v: Value,
}

/// The fast decode path agrees with etherparse's lax path on every packet
/// of every corpus file (and is taken for some).
#[test]
fn fast_decode_agrees_with_lax_on_every_corpus_packet() {
    use std::io::Read;
    let Some(dir) = corpus() else { return };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let (mut packets, mut fast) = (0u64, 0u64);
    for path in files {
        let raw = std::fs::read(&path).unwrap();
        let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
            let mut out = Vec::new();
            let _ = flate2::read::MultiGzDecoder::new(&raw[..]).read_to_end(&mut out);
            out
        } else {
            raw
        };
        let mut src = &bytes[..];
        let Ok(mut rdr) = super::reader::CaptureReader::open(&mut src) else {
            continue;
        };
        let mut tally = crate::flow::SourceTally::default();
        loop {
            let batch = rdr.next_batch(&mut tally, "corpus");
            if batch.is_empty() {
                break;
            }
            for p in &batch.packets {
                let data = batch.data(p);
                let lax = super::decode::decode_lax(p.linktype, data, p.orig_len);
                let got = super::decode::decode(p.linktype, data, p.orig_len);
                assert_eq!(got, lax, "{}: packet {}", path.display(), p.index);
                packets += 1;
                fast += u64::from(super::decode::takes_fast_path(p.linktype, data));
            }
        }
    }
    eprintln!("{packets} corpus packets, {fast} on the fast path");
    assert!(packets > 1_000 && fast > packets / 4, "{fast} of {packets}");
}

#[test]
fn corpus_flows_dns_and_sni_match_tshark() {
    let Some(dir) = corpus() else { return };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("expected"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut failures: Vec<String> = Vec::new();
    let (mut exact, mut covered) = (0, 0);
    for exp_path in &files {
        let v: Value = serde_json::from_slice(&std::fs::read(exp_path).unwrap()).unwrap();
        let e = Expected { v };
        let file = e.v["file"].as_str().unwrap().to_owned();
        let out = read_bounded(&dir.join(&file));
        let ts = &e.v["tshark"];
        let read_error = ts["read_error"].as_bool().unwrap_or(false);
        let cut_short = ts["cut_short"].as_bool().unwrap_or(false);
        if read_error && !cut_short {
            // tshark cannot read it: a clean error, or (unsupported link
            // type) no flows.
            if out.tally.error.is_none() && !out.flows.is_empty() {
                failures.push(format!(
                    "{file}: tshark cannot read it, we gave {} flows",
                    out.flows.len()
                ));
            }
            continue;
        }
        covered += 1;
        if cut_short && !out.tally.skipped.contains_key("cut short") {
            failures.push(format!("{file}: cut short not reported"));
        }
        if let Some(err) = &out.tally.error {
            if !cut_short {
                failures.push(format!("{file}: unexpected error {err}"));
            }
        }
        let exception = EXCEPTIONS.iter().any(|(n, _)| *n == file);
        // --- flows
        let mut theirs: BTreeMap<(String, String, String), u64> = BTreeMap::new();
        let mut theirs_pair: BTreeMap<(String, String), u64> = BTreeMap::new();
        let mut proto_level = true;
        for f in e.v["flows"].as_array().into_iter().flatten() {
            let (Some(src), Some(dst)) = (f["src"].as_str(), f["dst"].as_str()) else {
                continue;
            };
            let proto = f["proto"].as_str().unwrap_or("other");
            if proto == "data" || proto == "other" || proto.starts_with("ipproto-") {
                proto_level = false;
            }
            let n = f["frames"].as_u64().unwrap();
            *theirs
                .entry((src.into(), dst.into(), proto_class_tshark(proto)))
                .or_insert(0) += n;
            *theirs_pair.entry((src.into(), dst.into())).or_insert(0) += n;
        }
        // Wire bytes (Σ original frame length) and TCP flags per 5-tuple.
        let mut theirs_bytes: BTreeMap<(String, String), u64> = BTreeMap::new();
        let mut theirs_tcp: BTreeMap<String, u16> = BTreeMap::new();
        for f in e.v["flows"].as_array().into_iter().flatten() {
            let (Some(src), Some(dst)) = (f["src"].as_str(), f["dst"].as_str()) else {
                continue;
            };
            *theirs_bytes.entry((src.into(), dst.into())).or_insert(0) +=
                f["bytes"].as_u64().unwrap();
            if f["proto"] == "tcp" && f["sport"].is_u64() {
                let mut fl = 0u16;
                if f["fin"].as_u64() > Some(0) {
                    fl |= 1;
                }
                if f["syn"].as_u64() > Some(0) {
                    fl |= 2;
                }
                if f["rst"].as_u64() > Some(0) {
                    fl |= 4;
                }
                if f["synack"].as_u64() > Some(0) {
                    fl |= 18;
                }
                let k = format!("{src}:{} > {dst}:{}", f["sport"], f["dport"]);
                *theirs_tcp.entry(k).or_insert(0) |= fl;
            }
        }
        let mut ours_bytes: BTreeMap<(String, String), u64> = BTreeMap::new();
        let mut ours_tcp: BTreeMap<String, u16> = BTreeMap::new();
        for f in &out.flows {
            let (s, d) = (
                f.src_addr.unwrap().to_string(),
                f.dst_addr.unwrap().to_string(),
            );
            *ours_bytes.entry((s.clone(), d.clone())).or_insert(0) +=
                f.capture.as_ref().unwrap().wire_bytes;
            if f.protocol == Some(6) {
                let k = format!("{s}:{} > {d}:{}", f.src_port.unwrap(), f.dst_port.unwrap());
                *ours_tcp.entry(k).or_insert(0) |= f.tcp_flags.unwrap();
            }
        }
        let mut ours: BTreeMap<(String, String, String), u64> = BTreeMap::new();
        let mut ours_pair: BTreeMap<(String, String), u64> = BTreeMap::new();
        for f in &out.flows {
            let (s, d) = (
                f.src_addr.unwrap().to_string(),
                f.dst_addr.unwrap().to_string(),
            );
            let n = f.packets.unwrap();
            *ours
                .entry((s.clone(), d.clone(), proto_class_ours(f.protocol.unwrap())))
                .or_insert(0) += n;
            *ours_pair.entry((s, d)).or_insert(0) += n;
        }
        if !exception {
            {
                if ours_pair != theirs_pair {
                    failures.push(format!(
                        "{file}: per (src,dst) counts differ\n  ours:   {ours_pair:?}\n  tshark: {theirs_pair:?}\n  notes: {:?}",
                        out.tally.notes
                    ));
                } else if ours_bytes != theirs_bytes {
                    failures.push(format!(
                        "{file}: per (src,dst) wire bytes differ\n  ours:   {ours_bytes:?}\n  tshark: {theirs_bytes:?}"
                    ));
                } else if proto_level && ours_tcp != theirs_tcp {
                    failures.push(format!(
                        "{file}: tcp flags differ\n  ours:   {ours_tcp:?}\n  tshark: {theirs_tcp:?}"
                    ));
                } else if proto_level && ours != theirs {
                    failures.push(format!(
                        "{file}: per (src,dst,proto) counts differ\n  ours:   {ours:?}\n  tshark: {theirs:?}"
                    ));
                } else {
                    exact += 1;
                }
            }
        }
        // --- DNS (port 53 only; mDNS and others are not ours)
        // tshark's `a`/`aaaa` fields include the authority and additional
        // sections; our answers are the answer section only: they must be a
        // sub-multiset, with the same responses and names.
        if !DNS_EXCEPTIONS.iter().any(|(n, _)| *n == file) {
            let mut theirs_dns = Vec::new();
            for r in e.v["dns_responses"].as_array().into_iter().flatten() {
                if r["sport"].as_u64() != Some(53) && r["dport"].as_u64() != Some(53) {
                    continue;
                }
                let q = r["qry_name"][0].as_str().unwrap_or("").to_ascii_lowercase();
                let q = if q == "<root>" { String::new() } else { q };
                let mut addrs: Vec<String> = r["a"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .chain(r["aaaa"].as_array().into_iter().flatten())
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect();
                addrs.sort();
                theirs_dns.push((r["frame"].as_u64().unwrap(), q, addrs));
            }
            let mut ours_dns = Vec::new();
            for r in &out.dns {
                let mut addrs: Vec<String> = r.answers.iter().map(|a| a.to_string()).collect();
                addrs.sort();
                ours_dns.push((r.provenance.index, r.query.clone(), addrs));
            }
            let same = ours_dns.len() == theirs_dns.len()
                && ours_dns.iter().zip(&theirs_dns).all(|(o, t)| {
                    let mut rest = t.2.clone();
                    o.0 == t.0
                        && o.1 == t.1
                        && o.2.iter().all(|a| match rest.iter().position(|x| x == a) {
                            Some(i) => {
                                rest.remove(i);
                                true
                            }
                            None => false,
                        })
                });
            if !same {
                failures.push(format!(
                    "{file}: dns differs\n  ours:   {ours_dns:?}\n  tshark: {theirs_dns:?}"
                ));
            }
        }
        // --- SNI over TCP, per 5-tuple
        if !SNI_EXCEPTIONS.iter().any(|(n, _)| *n == file) {
            let mut theirs_sni = BTreeMap::new();
            for h in e.v["tls_client_hellos"].as_array().into_iter().flatten() {
                if h["transport"].as_str() != Some("tcp") {
                    continue;
                }
                if let Some(s) = h["sni"].as_str() {
                    let k = format!(
                        "{} {}:{} > {}:{}",
                        h["src"].as_str().unwrap_or(""),
                        h["src"],
                        h["sport"],
                        h["dst"],
                        h["dport"]
                    );
                    theirs_sni.insert(k, s.to_owned());
                }
            }
            let mut ours_sni = BTreeMap::new();
            for f in &out.flows {
                if let Some(s) = f.capture.as_ref().and_then(|c| c.sni.as_ref()) {
                    let src = f.src_addr.unwrap().to_string();
                    let k = format!(
                        "{src} \"{src}\":{} > \"{}\":{}",
                        f.src_port.unwrap(),
                        f.dst_addr.unwrap(),
                        f.dst_port.unwrap()
                    );
                    ours_sni.insert(k, s.to_string());
                }
            }
            if ours_sni != theirs_sni {
                failures.push(format!(
                    "{file}: sni differs\n  ours:   {ours_sni:?}\n  tshark: {theirs_sni:?}"
                ));
            }
        }
    }
    eprintln!(
        "{} files, {covered} read by tshark and compared, {exact} with exact flow counts",
        files.len()
    );
    assert_eq!(covered, READABLE_FILES, "files compared");
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
