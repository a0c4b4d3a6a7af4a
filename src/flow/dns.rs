//! DNS answers seen in captures: the evidence that names a destination.

use std::net::IpAddr;

use serde::Serialize;

use super::{Provenance, Text};

/// One DNS response (over UDP or TCP port 53) seen in a capture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnsRecord {
    /// Unix seconds and nanoseconds of the response packet.
    pub time: u64,
    pub time_nanos: u32,
    /// The host that asked (destination of the response).
    pub client: IpAddr,
    /// The server that answered (source of the response).
    pub resolver: IpAddr,
    /// The first question's name, lower-case, without the trailing dot.
    pub query: String,
    /// The first question's type (1 A, 28 AAAA, 5 CNAME, 65 HTTPS …).
    pub qtype: u16,
    /// Response code (0 NOERROR, 3 NXDOMAIN …).
    pub rcode: u8,
    /// A and AAAA addresses in the answer section, in order.
    pub answers: Vec<IpAddr>,
    /// CNAME targets in the answer section, in chain order.
    pub cnames: Vec<String>,
    /// The smallest TTL among the answer records, if any.
    pub ttl: Option<u32>,
    /// Where the response was read.
    pub provenance: Provenance,
}

impl DnsRecord {
    /// The name the addresses belong to: the last CNAME target, else the query.
    pub fn final_name(&self) -> &str {
        self.cnames
            .last()
            .map_or(self.query.as_str(), String::as_str)
    }
}

/// A name seen on a flow itself (TLS SNI or HTTP Host), kept for the DNS join.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NameSighting {
    pub time: u64,
    pub client: IpAddr,
    pub server: IpAddr,
    pub name: Text,
    pub kind: NameSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NameSource {
    Dns,
    Sni,
    HttpHost,
}
