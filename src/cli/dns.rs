//! `privpath dns`: the DNS answers seen in captures, one per response.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use rayon::prelude::*;
use serde::Serialize;

use super::GlobalArgs;
use privpath::error::sanitize;
use privpath::exit::ExitStatus;
use privpath::flow::DnsRecord;
use privpath::ingest::{Discard, IngestOptions, read_inputs};

#[derive(Debug, Args)]
pub struct DnsArgs {
    /// Captures (pcap or pcapng, optionally gzip-compressed), folders of
    /// them or case folders; flow logs, topology and expectations among
    /// them are set aside
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = DnsFormat::Jsonl)]
    pub format: DnsFormat,
    /// Write to FILE instead of stdout
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub capture: super::capture_args::CaptureArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DnsFormat {
    /// One JSON object per response
    Jsonl,
    /// An aligned table
    Table,
    /// Comma-separated values with a header row
    Csv,
}

/// The wire shape of one response (separate from the internal record).
#[derive(Debug, Serialize)]
struct DnsRow<'a> {
    time: String,
    client: String,
    resolver: String,
    query: &'a str,
    qtype: String,
    rcode: String,
    answers: Vec<String>,
    cnames: &'a [String],
    ttl: Option<u32>,
    source_file: &'a str,
    packet: u64,
}

/// `A`, `AAAA`, … else the number.
pub fn qtype_name(t: u16) -> String {
    match t {
        1 => "A".into(),
        2 => "NS".into(),
        5 => "CNAME".into(),
        6 => "SOA".into(),
        12 => "PTR".into(),
        15 => "MX".into(),
        16 => "TXT".into(),
        28 => "AAAA".into(),
        33 => "SRV".into(),
        64 => "SVCB".into(),
        65 => "HTTPS".into(),
        255 => "ANY".into(),
        n => n.to_string(),
    }
}

/// `NOERROR`, `NXDOMAIN`, … else the number.
pub fn rcode_name(r: u8) -> String {
    match r {
        0 => "NOERROR".into(),
        1 => "FORMERR".into(),
        2 => "SERVFAIL".into(),
        3 => "NXDOMAIN".into(),
        4 => "NOTIMP".into(),
        5 => "REFUSED".into(),
        n => n.to_string(),
    }
}

fn time_text(secs: u64, nanos: u32) -> String {
    let t = i64::try_from(secs)
        .ok()
        .and_then(|s| jiff::Timestamp::new(s, i32::try_from(nanos).unwrap_or(0)).ok());
    t.map_or_else(|| secs.to_string(), |t| t.to_string())
}

fn rows<'a>(recs: &'a [(DnsRecord, &'a str)]) -> Vec<DnsRow<'a>> {
    recs.par_iter()
        .map(|(r, file)| DnsRow {
            time: time_text(r.time, r.time_nanos),
            client: r.client.to_string(),
            resolver: r.resolver.to_string(),
            query: &r.query,
            qtype: qtype_name(r.qtype),
            rcode: rcode_name(r.rcode),
            answers: r.answers.iter().map(ToString::to_string).collect(),
            cnames: &r.cnames,
            ttl: r.ttl,
            source_file: file,
            packet: r.provenance.index,
        })
        .collect()
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// Render the responses (pure: bytes out).
pub fn render(recs: &[(DnsRecord, &str)], format: DnsFormat) -> anyhow::Result<Vec<u8>> {
    let rows = rows(recs);
    let mut out = Vec::new();
    match format {
        DnsFormat::Jsonl => {
            // Serialized in parallel, a slice at a time, joined in order.
            let parts: Vec<Vec<u8>> = rows
                .par_chunks(4096)
                .map(|part| {
                    let mut buf = Vec::with_capacity(part.len() * 256);
                    for r in part {
                        serde_json::to_writer(&mut buf, r)?;
                        buf.push(b'\n');
                    }
                    Ok(buf)
                })
                .collect::<Result<_, serde_json::Error>>()?;
            out = parts.concat();
        }
        DnsFormat::Csv => {
            out.extend_from_slice(
                b"time,client,resolver,query,qtype,rcode,answers,cnames,ttl,source_file,packet\n",
            );
            for r in &rows {
                let fields = [
                    r.time.clone(),
                    r.client.clone(),
                    r.resolver.clone(),
                    r.query.to_owned(),
                    r.qtype.clone(),
                    r.rcode.clone(),
                    r.answers.join(" "),
                    r.cnames.join(" "),
                    r.ttl.map(|t| t.to_string()).unwrap_or_default(),
                    r.source_file.to_owned(),
                    r.packet.to_string(),
                ];
                let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
                out.extend_from_slice(line.join(",").as_bytes());
                out.push(b'\n');
            }
        }
        DnsFormat::Table => {
            let mut t = comfy_table::Table::new();
            t.load_style(comfy_table::presets::NOTHING);
            t.set_header([
                "time", "client", "resolver", "query", "type", "rcode", "answers", "cnames", "ttl",
            ]);
            for r in &rows {
                t.add_row([
                    r.time.clone(),
                    r.client.clone(),
                    r.resolver.clone(),
                    sanitize(r.query, 120),
                    r.qtype.clone(),
                    r.rcode.clone(),
                    r.answers.join(" "),
                    sanitize(&r.cnames.join(" "), 200),
                    r.ttl.map(|t| t.to_string()).unwrap_or_default(),
                ]);
            }
            out.extend_from_slice(t.trim_fmt().as_bytes());
            out.push(b'\n');
        }
    }
    Ok(out)
}

#[allow(clippy::print_stderr)]
pub fn run(args: &DnsArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let opts = args.capture.apply(IngestOptions {
        dns_only: true,
        ..IngestOptions::default()
    });
    // Inputs are planned as every command plans them (folders, case
    // folders, kinds by content); only the answers are kept.
    let got = read_inputs(&args.inputs, &opts, || Discard)?;
    let mut status = ExitStatus::Success;
    for s in &got.sources {
        let t = &s.tally;
        if let Some(e) = &t.error {
            eprintln!("privpath: {}", sanitize(e, 500));
            status = ExitStatus::Error;
        }
        if global.strict && t.skipped_total() > 0 {
            status = ExitStatus::Error;
        }
        if !global.quiet {
            for ex in &t.examples {
                eprintln!("privpath: {}", sanitize(ex, 500));
            }
            for w in &t.warnings {
                eprintln!("privpath: warning: {}", sanitize(w, 500));
            }
        }
    }
    if !global.quiet {
        let flow_logs: Vec<&str> = got
            .sources
            .iter()
            .filter(|s| s.tally.notes.keys().any(|k| k.starts_with("set aside")))
            .map(|s| s.path.as_str())
            .collect();
        if let Some(line) = privpath::ingest::inputs::aside_line(&got.aside) {
            eprintln!("privpath: {line}");
        }
        if !flow_logs.is_empty() {
            eprintln!(
                "privpath: set aside, no DNS answers in flow logs: {}",
                sanitize(&flow_logs.join(", "), 300)
            );
        }
    }
    let names: Vec<&str> = got.sources.iter().map(|s| s.path.as_str()).collect();
    let recs: Vec<(DnsRecord, &str)> = got
        .dns
        .into_iter()
        .map(|r| {
            let name = usize::try_from(r.provenance.source.0)
                .ok()
                .and_then(|i| names.get(i))
                .copied()
                .unwrap_or_default();
            (r, name)
        })
        .collect();
    let bytes = render(&recs, args.format)?;
    match &args.out {
        Some(path) => std::fs::write(path, &bytes)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            lock.write_all(&bytes)?;
            lock.flush()?;
        }
    }
    Ok(status)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use std::net::IpAddr;

    use privpath::flow::{Provenance, SourceId};

    use super::*;

    fn record(i: u32) -> DnsRecord {
        DnsRecord {
            time: 1_794_968_049 + u64::from(i),
            time_nanos: i % 1000,
            client: IpAddr::from([10, 0, 0, 37]),
            resolver: IpAddr::from([10, 0, 0, 2]),
            query: format!("q{i}.s3.ap-northeast-2.amazonaws.com"),
            qtype: 1,
            rcode: 0,
            answers: vec![IpAddr::from(i.to_be_bytes())],
            cnames: vec![],
            ttl: Some(i % 60),
            provenance: Provenance {
                source: SourceId(0),
                index: u64::from(i) + 1,
            },
        }
    }

    #[test]
    fn jsonl_is_one_line_per_response_in_order_across_slices() {
        let recs: Vec<(DnsRecord, &str)> = (0..10_000).map(|i| (record(i), "a.pcap")).collect();
        let out = render(&recs, DnsFormat::Jsonl).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 10_000);
        for (i, line) in lines.iter().enumerate() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["packet"], i as u64 + 1, "line {i}");
            assert_eq!(v["query"], format!("q{i}.s3.ap-northeast-2.amazonaws.com"));
        }
    }
}
