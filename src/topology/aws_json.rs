//! Serde mirrors of the AWS CLI `describe-*` JSON output (PascalCase members).
//!
//! Tolerant on purpose: every member is optional (`#[serde(default)]`), and
//! unknown members are ignored, because AWS keeps adding them. Required
//! members are checked when these mirrors are turned into the model
//! (`load.rs`), so the error can name the JSON path.

#![allow(missing_docs)]

use serde::Deserialize;

/// Strings are kept as `String` here; the model converts them.
pub type S = Option<String>;

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Tag {
    pub key: S,
    pub value: S,
}

// ---- describe-vpcs -------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Vpc {
    pub vpc_id: S,
    pub cidr_block: S,
    pub cidr_block_association_set: Vec<CidrAssociation>,
    pub ipv6_cidr_block_association_set: Vec<Ipv6CidrAssociation>,
    pub owner_id: S,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct CidrAssociation {
    pub cidr_block: S,
    pub cidr_block_state: Option<AssocState>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Ipv6CidrAssociation {
    pub ipv6_cidr_block: S,
    pub ipv6_cidr_block_state: Option<AssocState>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct AssocState {
    pub state: S,
}

// ---- describe-vpc-attribute ---------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct VpcAttribute {
    pub vpc_id: S,
    pub enable_dns_support: Option<BoolValue>,
    pub enable_dns_hostnames: Option<BoolValue>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct BoolValue {
    pub value: Option<bool>,
}

// ---- describe-subnets ------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Subnet {
    pub subnet_id: S,
    pub vpc_id: S,
    pub cidr_block: S,
    pub ipv6_cidr_block_association_set: Vec<Ipv6CidrAssociation>,
    pub availability_zone: S,
    pub availability_zone_id: S,
    pub map_public_ip_on_launch: Option<bool>,
    pub tags: Vec<Tag>,
}

// ---- describe-route-tables -------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct RouteTable {
    pub route_table_id: S,
    pub vpc_id: S,
    pub associations: Vec<RouteTableAssociation>,
    pub routes: Vec<Route>,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct RouteTableAssociation {
    pub main: Option<bool>,
    pub subnet_id: S,
    pub gateway_id: S,
    pub association_state: Option<AssocState>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Route {
    pub destination_cidr_block: S,
    pub destination_ipv6_cidr_block: S,
    pub destination_prefix_list_id: S,
    pub gateway_id: S,
    pub nat_gateway_id: S,
    pub network_interface_id: S,
    pub instance_id: S,
    pub transit_gateway_id: S,
    pub vpc_peering_connection_id: S,
    pub egress_only_internet_gateway_id: S,
    pub local_gateway_id: S,
    pub carrier_gateway_id: S,
    pub core_network_arn: S,
    pub origin: S,
    pub state: S,
}

// ---- describe-internet-gateways --------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct InternetGateway {
    pub internet_gateway_id: S,
    pub attachments: Vec<IgwAttachment>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct IgwAttachment {
    pub vpc_id: S,
    pub state: S,
}

// ---- describe-nat-gateways -------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct NatGateway {
    pub nat_gateway_id: S,
    pub vpc_id: S,
    pub subnet_id: S,
    pub state: S,
    pub create_time: S,
    pub connectivity_type: S,
    pub nat_gateway_addresses: Vec<NatGatewayAddress>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct NatGatewayAddress {
    pub network_interface_id: S,
    pub private_ip: S,
    pub public_ip: S,
}

// ---- describe-addresses (Elastic IPs) --------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Address {
    pub public_ip: S,
    pub allocation_id: S,
    pub association_id: S,
    pub domain: S,
    pub instance_id: S,
    pub network_interface_id: S,
    pub private_ip_address: S,
}

// ---- describe-vpc-endpoints ------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct VpcEndpoint {
    pub vpc_endpoint_id: S,
    pub vpc_endpoint_type: S,
    pub vpc_id: S,
    pub service_name: S,
    pub service_region: S,
    pub state: S,
    pub route_table_ids: Vec<String>,
    pub subnet_ids: Vec<String>,
    pub network_interface_ids: Vec<String>,
    pub private_dns_enabled: Option<bool>,
    pub dns_entries: Vec<DnsEntry>,
    pub creation_timestamp: S,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct DnsEntry {
    pub dns_name: S,
    pub hosted_zone_id: S,
}

// ---- describe-network-interfaces / describe-instances ----------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct NetworkInterface {
    pub network_interface_id: S,
    pub interface_type: S,
    pub description: S,
    pub requester_managed: Option<bool>,
    pub subnet_id: S,
    pub vpc_id: S,
    pub private_ip_address: S,
    pub private_ip_addresses: Vec<PrivateIp>,
    pub ipv6_addresses: Vec<Ipv6Address>,
    pub association: Option<IpAssociation>,
    pub attachment: Option<EniAttachment>,
    pub status: S,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct PrivateIp {
    pub private_ip_address: S,
    pub primary: Option<bool>,
    pub association: Option<IpAssociation>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Ipv6Address {
    pub ipv6_address: S,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct IpAssociation {
    pub public_ip: S,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct EniAttachment {
    pub instance_id: S,
    pub instance_owner_id: S,
    pub attach_time: S,
    pub device_index: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Reservation {
    pub reservation_id: S,
    pub instances: Vec<Instance>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Instance {
    pub instance_id: S,
    pub subnet_id: S,
    pub vpc_id: S,
    pub private_ip_address: S,
    pub public_ip_address: S,
    pub launch_time: S,
    pub state: Option<InstanceState>,
    pub network_interfaces: Vec<NetworkInterface>,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct InstanceState {
    pub name: S,
}

// ---- prefix lists ------------------------------------------------------------

/// One item of `describe-managed-prefix-lists` (no `Cidrs`) or of the legacy
/// `describe-prefix-lists` (with `Cidrs`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct PrefixList {
    pub prefix_list_id: S,
    pub prefix_list_name: S,
    pub address_family: S,
    pub owner_id: S,
    pub cidrs: Option<Vec<String>>,
}

/// One entry of `get-managed-prefix-list-entries`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct PrefixListEntry {
    pub cidr: S,
    pub description: S,
}

// ---- ip-ranges.json (snake_case) -------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct IpRangePrefix {
    pub ip_prefix: S,
    pub ipv6_prefix: S,
    pub region: S,
    pub service: S,
    pub network_border_group: S,
}

// ---- snapshot.json (ours, written by scripts/collect-topology.sh) -----------

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct SnapshotInfo {
    pub snapshot_time: S,
    pub vpc_id: S,
    pub region: S,
}
