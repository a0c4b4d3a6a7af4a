//! The name index: which DNS name an address had, for whom, and when.
//!
//! Built once from the DNS answers of all captures and the SNI / HTTP Host
//! names seen on capture flows. A name counts for a flow when the flow's time
//! window overlaps `[answer time, answer time + TTL + GRACE_SECS]` (an SNI or
//! Host sighting counts for `SIGHTING_SECS` around the flow that carried it).
//! Same client as the flow's host: strong evidence; another client: weaker.

use std::net::IpAddr;

use serde::Serialize;

use crate::flow::{DnsRecord, Flow, NameSighting, NameSource};
use crate::topology::Text;

use crate::topology::index::FxMap;

/// Seconds an answer stays usable after its TTL ran out (clients cache).
pub const GRACE_SECS: u64 = 300;
/// TTL assumed when an answer carries none.
pub const DEFAULT_TTL_SECS: u64 = 60;
/// How long a name seen on a flow (SNI, Host) names its server.
pub const SIGHTING_SECS: u64 = 600;

#[derive(Debug, Clone)]
struct NameEntry {
    name: Text,
    client: IpAddr,
    from: u64,
    until: u64,
    source: NameSource,
}

/// How strongly a name applies to a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NameStrength {
    /// Seen by the flow's own host.
    SameHost,
    /// Seen by another host (in the VPC): weaker.
    OtherHost,
}

/// A name found for an address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct NameHit {
    pub name: Text,
    pub source: NameSource,
    pub strength: NameStrength,
}

/// Address → names, with time windows and the client that saw them.
#[derive(Debug, Clone, Default)]
pub struct NameIndex {
    by_addr: FxMap<IpAddr, Vec<NameEntry>>,
}

impl NameIndex {
    /// An index with no names.
    pub fn new() -> NameIndex {
        NameIndex::default()
    }

    /// Build from DNS answers and name sightings (see [`sightings_from_flows`]).
    pub fn build(dns: &[DnsRecord], sightings: &[NameSighting]) -> NameIndex {
        let mut idx = NameIndex::default();
        for r in dns {
            if r.rcode != 0 {
                continue;
            }
            let name: Text = r
                .final_name()
                .trim_end_matches('.')
                .to_ascii_lowercase()
                .into();
            let query: Text = r.query.trim_end_matches('.').to_ascii_lowercase().into();
            let ttl = r.ttl.map_or(DEFAULT_TTL_SECS, u64::from);
            let until = r.time.saturating_add(ttl).saturating_add(GRACE_SECS);
            for a in &r.answers {
                let list = idx.by_addr.entry(*a).or_default();
                // The query name is what the client asked for (cloudformation.…),
                // the final CNAME target may be an AWS-internal name; keep both,
                // query first.
                list.push(NameEntry {
                    name: query.clone(),
                    client: r.client,
                    from: r.time,
                    until,
                    source: NameSource::Dns,
                });
                if name != query {
                    list.push(NameEntry {
                        name: name.clone(),
                        client: r.client,
                        from: r.time,
                        until,
                        source: NameSource::Dns,
                    });
                }
            }
        }
        for s in sightings {
            idx.by_addr.entry(s.server).or_default().push(NameEntry {
                name: s.name.to_ascii_lowercase(),
                client: s.client,
                from: s.time.saturating_sub(SIGHTING_SECS),
                until: s.time.saturating_add(SIGHTING_SECS),
                source: s.kind,
            });
        }
        idx
    }

    pub fn is_empty(&self) -> bool {
        self.by_addr.is_empty()
    }

    /// The best name for `addr` for a flow of `client` over `[start, end]`
    /// (Unix seconds; None = any time): same host before other hosts, then
    /// the latest answer, then the name (deterministic).
    pub fn lookup(
        &self,
        addr: IpAddr,
        client: Option<IpAddr>,
        start: Option<u64>,
        end: Option<u64>,
    ) -> Option<NameHit> {
        let list = self.by_addr.get(&addr)?;
        let s = start.or(end);
        let e = end.or(start);
        list.iter()
            .filter(|n| match (s, e) {
                (Some(s), Some(e)) => n.from <= e && s <= n.until,
                _ => true,
            })
            .map(|n| {
                let strength = if Some(n.client) == client {
                    NameStrength::SameHost
                } else {
                    NameStrength::OtherHost
                };
                (strength, std::cmp::Reverse(n.from), n)
            })
            .min_by(|a, b| (a.0, a.1, &a.2.name).cmp(&(b.0, b.1, &b.2.name)))
            .map(|(strength, _, n)| NameHit {
                name: n.name.clone(),
                source: n.source,
                strength,
            })
    }
}

/// The SNI and HTTP Host names carried by capture flows, as sightings
/// (client = the flow's source, server = its destination).
pub fn sightings_from_flows<'f>(flows: impl IntoIterator<Item = &'f Flow>) -> Vec<NameSighting> {
    let mut out = Vec::new();
    for f in flows {
        let (Some(cap), Some(src), Some(dst)) = (&f.capture, f.src_addr, f.dst_addr) else {
            continue;
        };
        let time = f.start.unwrap_or(0);
        if let Some(n) = &cap.sni {
            out.push(NameSighting {
                time,
                client: src,
                server: dst,
                name: n.clone(),
                kind: NameSource::Sni,
            });
        }
        if let Some(n) = &cap.http_host {
            // A Host header may carry a port.
            let host = n.rsplit_once(':').map_or(n.as_str(), |(h, p)| {
                if p.bytes().all(|b| b.is_ascii_digit()) {
                    h
                } else {
                    n.as_str()
                }
            });
            out.push(NameSighting {
                time,
                client: src,
                server: dst,
                name: host.into(),
                kind: NameSource::HttpHost,
            });
        }
    }
    out
}

/// What an AWS DNS name says about the service behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct NamedService {
    /// `s3`, `cloudformation`, `dynamodb`, … (lower case).
    pub service: Text,
    pub region: Option<Text>,
    /// An endpoint-specific name (`vpce-….<service>.<region>.vpce.amazonaws.com`).
    pub endpoint_specific: bool,
}

/// The AWS service a DNS name belongs to, or None for a non-AWS name.
///
/// Understood: `vpce-….<service>.<region>.vpce.amazonaws.com`,
/// `<bucket>.s3.<region>.amazonaws.com`, `s3.<region>.amazonaws.com`,
/// `s3-<region>.amazonaws.com`, `<bucket>.s3.amazonaws.com`,
/// `s3.dualstack.<region>.amazonaws.com`, `<service>.<region>.amazonaws.com`,
/// `<service>.<region>.api.aws`, `<service>.amazonaws.com` (global), and any
/// other `*.amazonaws.com` / `*.api.aws` name as service `aws`.
pub fn service_from_name(name: &str) -> Option<NamedService> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let name = name.trim_start_matches("*.");
    let (body, suffix_api) = if let Some(b) = name.strip_suffix(".amazonaws.com") {
        (b, false)
    } else if let Some(b) = name.strip_suffix(".amazonaws.com.cn") {
        (b, false)
    } else if let Some(b) = name.strip_suffix(".api.aws") {
        (b, true)
    } else {
        return None;
    };
    let labels: Vec<&str> = body.split('.').collect();
    let region_at = |i: usize| -> Option<Text> {
        labels
            .get(i)
            .filter(|l| crate::topology::looks_like_region(l))
            .map(|l| Text::from(*l))
    };
    // vpce-….<service…>.<region>.vpce
    if !suffix_api && labels.last() == Some(&"vpce") && labels.len() >= 4 {
        let n = labels.len();
        let region = n.checked_sub(2).and_then(region_at);
        let svc = labels.get(1..n.saturating_sub(2)).map(|s| s.join("."));
        if let (Some(svc), true) = (svc, labels.first().is_some_and(|l| l.starts_with("vpce-"))) {
            if !svc.is_empty() {
                return Some(NamedService {
                    service: svc.into(),
                    region,
                    endpoint_specific: true,
                });
            }
        }
    }
    // S3 in all its spellings.
    for (i, l) in labels.iter().enumerate() {
        if *l == "s3" || l.starts_with("s3-") || *l == "s3-accesspoint" {
            let region =
                l.strip_prefix("s3-")
                    .filter(|r| crate::topology::looks_like_region(r))
                    .map(Text::from)
                    .or_else(|| {
                        labels.iter().skip(i + 1).find_map(|x| {
                            crate::topology::looks_like_region(x).then(|| Text::from(*x))
                        })
                    });
            return Some(NamedService {
                service: "s3".into(),
                region,
                endpoint_specific: false,
            });
        }
    }
    // <service>[.<region>] or <service>.<fips/dualstack>.<region>
    let region_pos = labels
        .iter()
        .position(|l| crate::topology::looks_like_region(l));
    let service = match region_pos {
        Some(0) | None => labels.first().copied(),
        Some(p) => labels.get(p.saturating_sub(1)).copied().and_then(|s| {
            if s == "dualstack" || s.ends_with("-fips") || s == "fips" {
                labels.get(p.saturating_sub(2)).copied()
            } else {
                Some(s)
            }
        }),
    };
    let region = region_pos.and_then(region_at);
    let service = match service {
        Some(s) if region_pos == Some(0) => s, // `<region>.amazonaws.com`-ish: odd
        Some(s) => s,
        None => "aws",
    };
    let service = service.trim_end_matches("-fips");
    let service = match service {
        "" | "ec2" if region_pos.is_none() && labels.len() > 2 => "aws",
        s if s.starts_with("ec2-") || s.starts_with("ip-") => "aws",
        s => s,
    };
    Some(NamedService {
        service: service.into(),
        region,
        endpoint_specific: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(n: &str) -> Option<(String, Option<String>, bool)> {
        service_from_name(n).map(|s| {
            (
                s.service.to_string(),
                s.region.map(|r| r.to_string()),
                s.endpoint_specific,
            )
        })
    }

    #[test]
    fn service_from_name_table() {
        let r = Some("ap-northeast-2".to_string());
        let rows: &[(&str, Option<(String, Option<String>, bool)>)] = &[
            (
                "s3.ap-northeast-2.amazonaws.com",
                Some(("s3".into(), r.clone(), false)),
            ),
            (
                "my-bucket.s3.ap-northeast-2.amazonaws.com",
                Some(("s3".into(), r.clone(), false)),
            ),
            (
                "s3-ap-northeast-2.amazonaws.com",
                Some(("s3".into(), r.clone(), false)),
            ),
            ("bucket.s3.amazonaws.com", Some(("s3".into(), None, false))),
            (
                "s3.dualstack.ap-northeast-2.amazonaws.com",
                Some(("s3".into(), r.clone(), false)),
            ),
            (
                "cloudformation.ap-northeast-2.amazonaws.com",
                Some(("cloudformation".into(), r.clone(), false)),
            ),
            (
                "cloudformation.ap-northeast-2.amazonaws.com.",
                Some(("cloudformation".into(), r.clone(), false)),
            ),
            (
                "dynamodb.ap-northeast-2.amazonaws.com",
                Some(("dynamodb".into(), r.clone(), false)),
            ),
            ("sts.amazonaws.com", Some(("sts".into(), None, false))),
            (
                "sts.ap-northeast-2.api.aws",
                Some(("sts".into(), r.clone(), false)),
            ),
            (
                "vpce-04b9d1f7a3c5e2860-k3m9x2qa.cloudformation.ap-northeast-2.vpce.amazonaws.com",
                Some(("cloudformation".into(), r.clone(), true)),
            ),
            (
                "vpce-04b9d1f7a3c5e2860-k3m9x2qa-ap-northeast-2a.cloudformation.ap-northeast-2.vpce.amazonaws.com",
                Some(("cloudformation".into(), r.clone(), true)),
            ),
            (
                "ec2-43-201-112-57.ap-northeast-2.compute.amazonaws.com",
                Some(("aws".into(), r.clone(), false)),
            ),
            ("example.com", None),
            ("amazonaws.com.evil.example", None),
        ];
        for (name, want) in rows {
            assert_eq!(&svc(name), want, "row {name}");
        }
    }

    fn rec(t: u64, client: &str, q: &str, ans: &str, ttl: u32) -> DnsRecord {
        DnsRecord {
            time: t,
            time_nanos: 0,
            client: client.parse().unwrap(),
            resolver: "10.0.0.2".parse().unwrap(),
            query: q.into(),
            qtype: 1,
            rcode: 0,
            answers: vec![ans.parse().unwrap()],
            cnames: vec![],
            ttl: Some(ttl),
            provenance: Default::default(),
        }
    }

    #[test]
    fn name_index_prefers_same_host_and_respects_ttl_plus_grace() {
        let idx = NameIndex::build(
            &[
                rec(1000, "10.0.0.37", "other.amazonaws.com", "52.1.1.1", 60),
                rec(
                    1000,
                    "10.0.1.148",
                    "cloudformation.ap-northeast-2.amazonaws.com",
                    "52.1.1.1",
                    60,
                ),
            ],
            &[],
        );
        let ip = "52.1.1.1".parse().unwrap();
        let me = Some("10.0.1.148".parse().unwrap());
        let hit = idx.lookup(ip, me, Some(1010), Some(1020)).unwrap();
        assert_eq!(hit.name, "cloudformation.ap-northeast-2.amazonaws.com");
        assert_eq!(hit.strength, NameStrength::SameHost);
        let other = idx
            .lookup(
                ip,
                Some("10.0.9.9".parse().unwrap()),
                Some(1010),
                Some(1010),
            )
            .unwrap();
        assert_eq!(other.strength, NameStrength::OtherHost);
        // 1000 + 60 + 300 = 1360 is the last second.
        assert!(idx.lookup(ip, me, Some(1360), Some(1400)).is_some());
        assert!(idx.lookup(ip, me, Some(1361), Some(1400)).is_none());
        assert!(idx.lookup(ip, me, Some(900), Some(999)).is_none());
    }
}
