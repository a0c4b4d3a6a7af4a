//! The field registry: the *only* place that maps AWS spellings
//! (`srcaddr`, `pkt-dstaddr`, `${pkt-dstaddr}`, `pkt_dstaddr`) to a [`FieldId`].

/// A field of the flow-log record that maps onto a typed [`crate::flow::Flow`]
/// field (versions 2 to 5). Everything else is kept as an extra string column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FieldId {
    Version,
    AccountId,
    InterfaceId,
    SrcAddr,
    DstAddr,
    SrcPort,
    DstPort,
    Protocol,
    Packets,
    Bytes,
    Start,
    End,
    Action,
    LogStatus,
    VpcId,
    SubnetId,
    InstanceId,
    TcpFlags,
    Type,
    PktSrcAddr,
    PktDstAddr,
    Region,
    AzId,
    SublocationType,
    SublocationId,
    PktSrcAwsService,
    PktDstAwsService,
    FlowDirection,
    TrafficPath,
}

/// One row of the registry: the AWS name (hyphens), the Athena column name
/// (underscores) and the version that introduced the field.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    pub id: FieldId,
    pub aws: &'static str,
    pub column: &'static str,
    pub version: u8,
}

const fn spec(id: FieldId, aws: &'static str, column: &'static str, version: u8) -> FieldSpec {
    FieldSpec {
        id,
        aws,
        column,
        version,
    }
}

/// Every typed field, in Athena DDL order (the same order as
/// [`crate::flow::COLUMNS`]).
pub const TYPED: [FieldSpec; 29] = [
    spec(FieldId::Version, "version", "version", 2),
    spec(FieldId::AccountId, "account-id", "account_id", 2),
    spec(FieldId::InterfaceId, "interface-id", "interface_id", 2),
    spec(FieldId::SrcAddr, "srcaddr", "srcaddr", 2),
    spec(FieldId::DstAddr, "dstaddr", "dstaddr", 2),
    spec(FieldId::SrcPort, "srcport", "srcport", 2),
    spec(FieldId::DstPort, "dstport", "dstport", 2),
    spec(FieldId::Protocol, "protocol", "protocol", 2),
    spec(FieldId::Packets, "packets", "packets", 2),
    spec(FieldId::Bytes, "bytes", "bytes", 2),
    spec(FieldId::Start, "start", "start", 2),
    spec(FieldId::End, "end", "end", 2),
    spec(FieldId::Action, "action", "action", 2),
    spec(FieldId::LogStatus, "log-status", "log_status", 2),
    spec(FieldId::VpcId, "vpc-id", "vpc_id", 3),
    spec(FieldId::SubnetId, "subnet-id", "subnet_id", 3),
    spec(FieldId::InstanceId, "instance-id", "instance_id", 3),
    spec(FieldId::TcpFlags, "tcp-flags", "tcp_flags", 3),
    spec(FieldId::Type, "type", "type", 3),
    spec(FieldId::PktSrcAddr, "pkt-srcaddr", "pkt_srcaddr", 3),
    spec(FieldId::PktDstAddr, "pkt-dstaddr", "pkt_dstaddr", 3),
    spec(FieldId::Region, "region", "region", 4),
    spec(FieldId::AzId, "az-id", "az_id", 4),
    spec(
        FieldId::SublocationType,
        "sublocation-type",
        "sublocation_type",
        4,
    ),
    spec(
        FieldId::SublocationId,
        "sublocation-id",
        "sublocation_id",
        4,
    ),
    spec(
        FieldId::PktSrcAwsService,
        "pkt-src-aws-service",
        "pkt_src_aws_service",
        5,
    ),
    spec(
        FieldId::PktDstAwsService,
        "pkt-dst-aws-service",
        "pkt_dst_aws_service",
        5,
    ),
    spec(
        FieldId::FlowDirection,
        "flow-direction",
        "flow_direction",
        5,
    ),
    spec(FieldId::TrafficPath, "traffic-path", "traffic_path", 5),
];

/// Documented fields of versions 6 (Transit Gateway), 7 (ECS) and 8
/// (reject-reason) that `Flow` has no typed slot for: kept as extra strings
/// without a warning.
pub const DOCUMENTED_EXTRA: [&str; 30] = [
    "resource-type",
    "tgw-id",
    "tgw-attachment-id",
    "tgw-src-vpc-account-id",
    "tgw-dst-vpc-account-id",
    "tgw-src-vpc-id",
    "tgw-dst-vpc-id",
    "tgw-src-subnet-id",
    "tgw-dst-subnet-id",
    "tgw-src-eni",
    "tgw-dst-eni",
    "tgw-src-az-id",
    "tgw-dst-az-id",
    "tgw-pair-attachment-id",
    "packets-lost-no-route",
    "packets-lost-blackhole",
    "packets-lost-mtu-exceeded",
    "packets-lost-ttl-expired",
    "ecs-cluster-arn",
    "ecs-cluster-name",
    "ecs-container-instance-arn",
    "ecs-container-instance-id",
    "ecs-container-id",
    "ecs-second-container-id",
    "ecs-service-name",
    "ecs-task-definition-arn",
    "ecs-task-arn",
    "ecs-task-id",
    "reject-reason",
    "resource-id",
];

impl FieldId {
    pub fn spec(self) -> &'static FieldSpec {
        // TYPED is in enum order; the fallback keeps this total without indexing.
        TYPED.iter().find(|s| s.id == self).unwrap_or(&TYPED[0])
    }

    /// The AWS (hyphenated) name, as in `${…}` format strings and S3 headers.
    pub fn aws_name(self) -> &'static str {
        self.spec().aws
    }

    /// The Athena / Parquet column name (underscores).
    pub fn column(self) -> &'static str {
        self.spec().column
    }

    /// The flow-log version that introduced this field.
    pub fn version(self) -> u8 {
        self.spec().version
    }
}

/// What a name in a header or format string refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    Typed(FieldId),
    /// A documented v6–v8 field without a typed slot; the Athena column name.
    Documented(String),
    /// A name we do not know (v9+ or a typo); the Athena column name.
    Unknown(String),
}

/// Strip `${…}` and whitespace; `None` when what is left is not a plausible
/// field name (lower-case ASCII letters, digits, `-`, `_`, starting with a letter).
pub fn normalize(token: &str) -> Option<&str> {
    let t = token.trim();
    let t = t
        .strip_prefix("${")
        .and_then(|r| r.strip_suffix('}'))
        .unwrap_or(t);
    let mut chars = t.chars();
    let first = chars.next()?;
    if !first.is_ascii_lowercase() {
        return None;
    }
    if chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_') {
        Some(t)
    } else {
        None
    }
}

/// The Athena column spelling of a name: hyphens become underscores.
pub fn column_name(name: &str) -> String {
    name.replace('-', "_")
}

/// Look a typed field up by any spelling: `pkt-dstaddr`, `pkt_dstaddr`,
/// `${pkt-dstaddr}`.
pub fn lookup(token: &str) -> Option<FieldId> {
    let name = normalize(token)?;
    TYPED.iter().find(|s| eq_name(s.aws, name)).map(|s| s.id)
}

/// True when `token` names a documented field (typed or extra), without
/// allocating: the hot-path check for header lines.
pub fn is_known(token: &str) -> bool {
    match normalize(token) {
        Some(name) => {
            TYPED.iter().any(|s| eq_name(s.aws, name))
                || DOCUMENTED_EXTRA.iter().any(|d| eq_name(d, name))
        }
        None => false,
    }
}

/// Resolve any name: typed, documented extra, or unknown. `None` when the
/// token is not a plausible field name at all.
pub fn resolve(token: &str) -> Option<Resolved> {
    let name = normalize(token)?;
    if let Some(id) = lookup(name) {
        return Some(Resolved::Typed(id));
    }
    let col = column_name(name);
    if DOCUMENTED_EXTRA.iter().any(|d| eq_name(d, name)) {
        Some(Resolved::Documented(col))
    } else {
        Some(Resolved::Unknown(col))
    }
}

/// Compare an AWS hyphenated name with a name spelled with hyphens or underscores.
fn eq_name(aws: &str, name: &str) -> bool {
    aws.len() == name.len()
        && aws
            .bytes()
            .zip(name.bytes())
            .all(|(a, b)| a == b || (a == b'-' && b == b'_'))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn lookup_accepts_every_spelling() {
        for s in [
            "pkt-dstaddr",
            "pkt_dstaddr",
            "${pkt-dstaddr}",
            " ${pkt_dstaddr} ",
        ] {
            assert_eq!(lookup(s), Some(FieldId::PktDstAddr), "{s}");
        }
        assert_eq!(lookup("log_status"), Some(FieldId::LogStatus));
        assert_eq!(lookup("LOG-STATUS"), None);
        assert_eq!(lookup("2"), None);
    }

    #[test]
    fn typed_table_is_in_enum_and_column_order() {
        for (i, s) in TYPED.iter().enumerate() {
            assert_eq!(s.id as usize, i, "{}", s.aws);
            assert_eq!(crate::flow::COLUMNS[i], s.column);
            assert_eq!(s.column, column_name(s.aws));
            assert_eq!(s.id.spec().aws, s.aws);
        }
    }

    #[test]
    fn resolve_classifies_documented_and_unknown_names() {
        assert_eq!(
            resolve("${ecs-task-id}"),
            Some(Resolved::Documented("ecs_task_id".into()))
        );
        assert_eq!(
            resolve("encryption-status"),
            Some(Resolved::Unknown("encryption_status".into()))
        );
        assert_eq!(
            resolve("eni-0abc"),
            Some(Resolved::Unknown("eni_0abc".into()))
        );
        assert_eq!(resolve("10.0.0.1"), None);
        assert_eq!(resolve("ACCEPT"), None);
    }
}
