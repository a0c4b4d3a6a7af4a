//! Flow-log records derived from the captured packets: what the VPC's two
//! flow logs (default format → CloudWatch Logs, custom v5 → S3) would hold.
//!
//! Records are per ENI and per direction, aggregated over 60-second capture
//! windows (Nitro). Traffic with the Amazon DNS resolver is not logged (AWS
//! limitation). Packets to an interface-endpoint ENI also appear on that
//! ENI's own stream (ingress there; its replies are egress, traffic-path 1).

use std::collections::BTreeMap;
use std::io::Write;
use std::net::Ipv4Addr;

use flate2::{Compression, GzBuilder};

use super::SamplesError;
use super::json::{J, a, o, s};
use super::lab::*;
use super::packets::Pkt;
use super::payload::{Rng, fnv1a};

/// The custom format of the S3 flow log.
pub const V5_FORMAT: &str = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${region} ${az-id} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${flow-direction} ${traffic-path}";

/// One flow-log record.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Record {
    pub start: i64,
    pub end: i64,
    pub eni: &'static str,
    pub src: [u8; 4],
    pub dst: [u8; 4],
    pub sport: u16,
    pub dport: u16,
    pub proto: u8,
    pub packets: u64,
    pub bytes: u64,
    pub tcp_flags: u8,
    pub egress: bool,
    pub traffic_path: Option<u8>,
    pub instance: Option<&'static str>,
    pub subnet: &'static Subnet,
}

type Key = (&'static str, [u8; 4], [u8; 4], u16, u16, u8, i64);

/// The records of all the case's packets, sorted by start time.
pub fn records(packets: &[Pkt]) -> Vec<Record> {
    let mut map: BTreeMap<Key, Record> = BTreeMap::new();
    let mut add = |p: &Pkt,
                   eni: &'static str,
                   instance: Option<&'static str>,
                   subnet: &'static Subnet,
                   egress: bool,
                   path: Option<u8>| {
        let secs = p.t_us.div_euclid(1_000_000);
        let key = (
            eni,
            p.src,
            p.dst,
            p.sport,
            p.dport,
            p.proto,
            secs.div_euclid(60),
        );
        let r = map.entry(key).or_insert_with(|| Record {
            start: secs,
            end: secs,
            eni,
            src: p.src,
            dst: p.dst,
            sport: p.sport,
            dport: p.dport,
            proto: p.proto,
            packets: 0,
            bytes: 0,
            tcp_flags: 0,
            egress,
            traffic_path: if egress { path } else { None },
            instance,
            subnet,
        });
        r.packets += 1;
        r.bytes += p.ip_len();
        r.tcp_flags |= p.flow_flags;
        r.start = r.start.min(secs);
        r.end = r.end.max(secs);
    };
    for p in packets {
        let remote = if p.outgoing { p.dst } else { p.src };
        if remote == RESOLVER && (p.sport == 53 || p.dport == 53) {
            continue;
        }
        let h = p.host;
        add(
            p,
            h.eni,
            Some(h.instance),
            h.subnet,
            p.outgoing,
            p.route.traffic_path(),
        );
        if let Some(e) = CFN_ENIS.iter().find(|e| e.ip == remote) {
            add(p, e.eni, None, e.subnet, !p.outgoing, Some(1));
        }
    }
    let mut out: Vec<Record> = map.into_values().collect();
    out.sort();
    out
}

fn ip(v: [u8; 4]) -> String {
    Ipv4Addr::from(v).to_string()
}

fn service(v: [u8; 4]) -> &'static str {
    aws_service(v).unwrap_or("-")
}

impl Record {
    /// The default (v2) format line.
    pub fn to_v2(&self) -> String {
        format!(
            "2 {ACCOUNT} {} {} {} {} {} {} {} {} {} {} ACCEPT OK",
            self.eni,
            ip(self.src),
            ip(self.dst),
            self.sport,
            self.dport,
            self.proto,
            self.packets,
            self.bytes,
            self.start,
            self.end
        )
    }

    /// The line in [`V5_FORMAT`].
    pub fn to_v5(&self) -> String {
        format!(
            "5 {ACCOUNT} {} {} {} {} {} {} {} {} {} {} ACCEPT OK {VPC} {} {} {} IPv4 {} {} {REGION} {} {} {} {} {}",
            self.eni,
            ip(self.src),
            ip(self.dst),
            self.sport,
            self.dport,
            self.proto,
            self.packets,
            self.bytes,
            self.start,
            self.end,
            self.subnet.id,
            self.instance.unwrap_or("-"),
            self.tcp_flags,
            ip(self.src),
            ip(self.dst),
            self.subnet.az_id,
            service(self.src),
            service(self.dst),
            if self.egress { "egress" } else { "ingress" },
            self.traffic_path
                .map_or_else(|| "-".to_owned(), |p| p.to_string()),
        )
    }
}

/// `aws logs filter-log-events --log-group-name /privpath-lab/vpc-flow-logs`
/// output: the default-format records as events of one stream per ENI
/// (`eni-…-all`), interleaved by time as CloudWatch Logs returns them.
pub fn cloudwatch_json(records: &[Record]) -> String {
    let mut events: Vec<(i64, String, String)> = records
        .iter()
        .map(|r| (r.start * 1000, format!("{}-all", r.eni), r.to_v2()))
        .collect();
    events.sort();
    let events = events
        .into_iter()
        .map(|(ts, stream, message)| {
            let mut rng = Rng::from_name(&format!("{stream} {message}"));
            let ingestion = (ts / 60_000 + 1) * 60_000
                + i64::try_from(rng.range(240_000, 420_000)).unwrap_or(0);
            let event_id: String = (0..56)
                .map(|_| char::from(b'0' + (rng.next_u64() % 10) as u8))
                .collect();
            o(vec![
                ("logStreamName", s(stream)),
                ("timestamp", J::Int(ts)),
                ("message", s(message)),
                ("ingestionTime", J::Int(ingestion)),
                ("eventId", s(event_id)),
            ])
        })
        .collect();
    o(vec![("events", a(events))]).to_pretty(4)
}

/// The S3 objects of the v5 flow log: one gzip file per 5-minute window of
/// record end times, with a header line, at the S3 key layout.
pub fn s3_objects(records: &[Record]) -> Result<Vec<(String, Vec<u8>)>, SamplesError> {
    let mut windows: BTreeMap<i64, Vec<&Record>> = BTreeMap::new();
    for r in records {
        windows
            .entry(r.end - r.end.rem_euclid(300))
            .or_default()
            .push(r);
    }
    let header = V5_FORMAT.replace("${", "").replace('}', "");
    let mut out = Vec::new();
    for (window, recs) in windows {
        let mut text = String::with_capacity(recs.len() * 200);
        text.push_str(&header);
        text.push('\n');
        for r in recs {
            text.push_str(&r.to_v5());
            text.push('\n');
        }
        let t =
            jiff::Timestamp::from_second(window).map_err(|e| SamplesError::Time(e.to_string()))?;
        let dir = t.strftime("%Y/%m/%d").to_string();
        let stamp = t.strftime("%Y%m%dT%H%MZ").to_string();
        let hash = format!("{:08x}", fnv1a(text.as_bytes()) & 0xffff_ffff);
        let key = format!(
            "AWSLogs/{ACCOUNT}/vpcflowlogs/{REGION}/{dir}/{ACCOUNT}_vpcflowlogs_{REGION}_{FLOW_LOG_S3}_{stamp}_{hash}.log.gz"
        );
        out.push((key, gzip(text.as_bytes())?));
    }
    Ok(out)
}

/// gzip with a fixed header (mtime 0, no name), so the bytes never change.
pub fn gzip(data: &[u8]) -> Result<Vec<u8>, SamplesError> {
    let mut enc = GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), Compression::new(6));
    enc.write_all(data).map_err(SamplesError::Gzip)?;
    enc.finish().map_err(SamplesError::Gzip)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::samples::packets;

    fn phase_records(phase: Phase) -> Vec<Record> {
        let mut pkts = Vec::new();
        for ex in exchanges(phase) {
            pkts.extend(packets::build(&ex).unwrap());
        }
        pkts.sort_by_key(|p| p.t_us);
        records(&pkts)
    }

    fn from_host<'a>(recs: &'a [Record], host: &Host, egress: bool) -> Vec<&'a Record> {
        recs.iter()
            .filter(|r| r.eni == host.eni && r.egress == egress)
            .collect()
    }

    #[test]
    fn baseline_records_show_igw_for_public_and_no_answer_for_private() {
        let recs = phase_records(Phase::Baseline);
        let public = from_host(&recs, &PUBLIC_HOST, true);
        assert!(!public.is_empty());
        assert!(
            public.iter().all(|r| r.traffic_path == Some(8)),
            "{public:?}"
        );
        let private = from_host(&recs, &PRIVATE_HOST, true);
        assert!(
            private
                .iter()
                .all(|r| r.traffic_path.is_none() && (r.proto == 1 || r.tcp_flags == 2))
        );
        assert!(
            from_host(&recs, &PRIVATE_HOST, false).is_empty(),
            "nothing comes back to the private host"
        );
        assert!(
            recs.iter().all(|r| r.src != RESOLVER && r.dst != RESOLVER),
            "resolver traffic is not logged"
        );
    }

    #[test]
    fn gateway_endpoint_records_show_traffic_path_7_and_answers() {
        let recs = phase_records(Phase::S3Gateway);
        for host in HOSTS {
            let out = from_host(&recs, host, true);
            assert!(
                !out.is_empty() && out.iter().all(|r| r.traffic_path == Some(7)),
                "{}",
                host.name
            );
            assert!(
                out.iter().all(|r| r.tcp_flags == 3),
                "{}: initiator flags",
                host.name
            );
            let back = from_host(&recs, host, false);
            assert!(
                !back.is_empty() && back.iter().all(|r| r.tcp_flags == 19),
                "{}: responder flags",
                host.name
            );
        }
    }

    #[test]
    fn interface_endpoint_traffic_is_on_both_enis_streams() {
        let recs = phase_records(Phase::CfnInterface);
        for e in &CFN_ENIS {
            let ingress = recs
                .iter()
                .filter(|r| r.eni == e.eni && !r.egress && r.dport == 443)
                .count();
            let egress = recs
                .iter()
                .filter(|r| r.eni == e.eni && r.egress && r.traffic_path == Some(1))
                .count();
            assert_eq!((ingress, egress), (1, 1), "{}", e.eni);
        }
        for host in HOSTS {
            let to_enis = from_host(&recs, host, true)
                .into_iter()
                .filter(|r| CFN_ENIS.iter().any(|e| e.ip == r.dst))
                .count();
            assert_eq!(to_enis, 1, "{}", host.name);
        }
    }

    #[test]
    fn v5_lines_have_as_many_fields_as_the_format() {
        let n = V5_FORMAT.split(' ').count();
        for r in phase_records(Phase::PrivateDnsOff) {
            assert_eq!(r.to_v5().split(' ').count(), n, "{}", r.to_v5());
            assert_eq!(r.to_v2().split(' ').count(), 14, "{}", r.to_v2());
        }
    }
}
