//! Who sent a flow: a host is an instance (or an ENI that belongs to no
//! instance) with all its ENIs and addresses, so a dual-stack instance is
//! one row of the verdicts whether it spoke IPv4 or IPv6. A host the
//! topology does not know is its address.
//!
//! [`HostTable`] turns the topology's hosts into report hosts once per run;
//! a flow's host is then a cheap clone (the lists are shared).

use std::net::IpAddr;
use std::sync::Arc;

use serde::Serialize;

use crate::flow::Text;
use crate::topology::{EniInfo, HostInfo, TopologyIndex};

/// The source host of a flow, as far as the topology knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Host {
    pub instance_id: Option<Text>,
    /// Its ENIs, the one holding the primary address first.
    pub enis: Arc<[Text]>,
    /// Every address (IPv4 and IPv6), the primary first, then sorted.
    pub addresses: Arc<[IpAddr]>,
    /// Its subnets, the primary ENI's first.
    pub subnet_ids: Arc<[Text]>,
}

impl Host {
    /// A host the topology does not know: its address only.
    pub fn from_address(addr: Option<IpAddr>) -> Host {
        Host {
            addresses: addr.into_iter().collect(),
            ..Host::default()
        }
    }

    /// The report's view of a topology host.
    pub fn from_info(h: &HostInfo) -> Host {
        Host {
            instance_id: h.instance_id.clone(),
            enis: h.enis.iter().cloned().collect(),
            addresses: h.addrs.iter().copied().collect(),
            subnet_ids: h.subnets.iter().cloned().collect(),
        }
    }

    /// The primary ENI.
    pub fn eni(&self) -> Option<&Text> {
        self.enis.first()
    }

    /// The primary address.
    pub fn address(&self) -> Option<IpAddr> {
        self.addresses.first().copied()
    }

    /// The primary ENI's subnet.
    pub fn subnet_id(&self) -> Option<&Text> {
        self.subnet_ids.first()
    }

    /// A short name: the instance id, else the ENI, else the address.
    pub fn label(&self) -> String {
        if let Some(i) = &self.instance_id {
            return i.to_string();
        }
        if let Some(e) = self.eni() {
            return e.to_string();
        }
        match self.address() {
            Some(a) => a.to_string(),
            None => "unknown host".to_owned(),
        }
    }

    /// `i-… (eni-…, 10.0.1.5, 2406:da1c:…::5)`: everything known, for detail lines.
    pub fn describe(&self) -> String {
        let mut rest: Vec<String> = Vec::new();
        if self.instance_id.is_some() {
            rest.extend(self.enis.iter().map(ToString::to_string));
        } else {
            rest.extend(self.enis.iter().skip(1).map(ToString::to_string));
        }
        if self.instance_id.is_some() || !self.enis.is_empty() {
            rest.extend(self.addresses.iter().map(ToString::to_string));
        } else {
            rest.extend(self.addresses.iter().skip(1).map(ToString::to_string));
        }
        if rest.is_empty() {
            self.label()
        } else {
            format!("{} ({})", self.label(), rest.join(", "))
        }
    }

    /// The addresses, space-separated (one cell of a record output).
    pub fn addresses_text(&self) -> String {
        self.addresses
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The topology's hosts as report hosts, built once per run.
#[derive(Debug, Clone, Default)]
pub struct HostTable {
    hosts: Vec<Host>,
}

impl HostTable {
    pub fn new(index: &TopologyIndex) -> HostTable {
        HostTable {
            hosts: index.hosts().iter().map(Host::from_info).collect(),
        }
    }

    /// The host of a flow: its ENI's host, else the bare address.
    pub fn of(&self, eni: Option<&EniInfo>, addr: Option<IpAddr>) -> Host {
        eni.and_then(|e| e.host)
            .and_then(|i| self.hosts.get(i as usize))
            .cloned()
            .unwrap_or_else(|| Host::from_address(addr))
    }
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

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn host_names_list_every_eni_and_address() {
        let dual = Host {
            instance_id: Some("i-0dual".into()),
            enis: Arc::from(vec![Text::from("eni-0a")]),
            addresses: Arc::from(vec![ip("10.0.0.30"), ip("2406:da1c:abc:1200::30")]),
            subnet_ids: Arc::from(vec![Text::from("subnet-0a")]),
        };
        assert_eq!(dual.label(), "i-0dual");
        assert_eq!(
            dual.describe(),
            "i-0dual (eni-0a, 10.0.0.30, 2406:da1c:abc:1200::30)"
        );
        assert_eq!(dual.address(), Some(ip("10.0.0.30")));
        assert_eq!(dual.addresses_text(), "10.0.0.30 2406:da1c:abc:1200::30");
        let eni_only = Host {
            enis: Arc::from(vec![Text::from("eni-0b")]),
            addresses: Arc::from(vec![ip("10.0.0.40")]),
            ..Host::default()
        };
        assert_eq!(eni_only.describe(), "eni-0b (10.0.0.40)");
        let bare = Host::from_address(Some(ip("10.9.9.9")));
        assert_eq!(bare.describe(), "10.9.9.9");
        assert_eq!(Host::from_address(None).describe(), "unknown host");
    }
}
