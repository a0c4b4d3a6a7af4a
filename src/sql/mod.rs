//! The audit as SQL (`privpath sql`): one generator for Athena/Trino, Spark
//! and DuckDB, over AWS's flow-log table (the column names of AWS's Athena
//! DDL) joined with the tables of `privpath topology export`
//! ([`crate::topology::export`]).
//!
//! The SQL follows the native classifier step by step ([`query`] says
//! which step each CTE is): the record's role (egress, reply, inbound,
//! transit) and host ENI, the longest-prefix match in the host subnet's
//! route table (prefix-list routes and blackholes included, gateway-endpoint
//! routes and interface-endpoint ENIs only from the endpoint's creation), the
//! service (endpoint ENI, prefix list, ip-ranges, `pkt-dst-aws-service`, in
//! that order), the reply pairing that settles the outcome, and the
//! verdict of each service × host. The dialects differ only in the few
//! functions of [`dialect`].
//!
//! What needs captures stays native: DNS answers, TLS SNI and HTTP Host
//! never reach a flow-log table, so the SQL attributes services from the
//! flow logs and the topology only (the verdicts' evidence says so).
//! A record delivered twice (same interface, 5-tuple, start, end, packets,
//! bytes) counts once, as in the native audit.

pub mod ddl;
pub mod dialect;
mod query;
pub mod result;

pub use dialect::Dialect;

/// Which result a statement computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Select {
    /// One row per service × host × path (the audit's verdict table)
    Verdicts,
    /// One row per egress flow with its classification
    Flows,
    /// Traffic-path disagreements (logged path vs the topology replay)
    Findings,
}

/// The verdict table's columns, in order. The first twelve are the
/// contract (`instance_id`, `eni`, `address`: the host's primary ones); the
/// rest carry what `privpath report` needs to render the same report as
/// `audit` (the primary subnet, the outcome counts behind `outcome`, the
/// endpoint, every ENI, address and subnet of the host space-separated,
/// the evidence).
pub const VERDICT_COLUMNS: [&str; 22] = [
    "service",
    "instance_id",
    "eni",
    "address",
    "verdict",
    "path",
    "flows",
    "packets",
    "bytes",
    "first",
    "last",
    "outcome",
    "subnet_id",
    "answered",
    "unanswered",
    "rejected",
    "unknown",
    "endpoint_id",
    "enis",
    "addresses",
    "subnet_ids",
    "evidence",
];

/// What the SQL reads and how it is filtered.
#[derive(Debug, Clone)]
pub struct SqlOptions {
    pub dialect: Dialect,
    /// The flow-log table (AWS's Athena DDL column names).
    pub flow_table: String,
    /// The schema (database) holding the exported topology tables.
    pub topology_schema: Option<String>,
    /// Unix seconds: flows starting at or after / at or before.
    pub since: Option<u64>,
    pub until: Option<u64>,
    /// A `yyyy/MM/dd` string partition column pruned by `since`/`until`
    /// (`day` in AWS's partition-projection DDL).
    pub partition_column: Option<String>,
}

/// Why options cannot become SQL.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    #[error("{what} '{name}' is not a plain SQL name (letters, digits, '_', '.' between parts)")]
    BadName { what: &'static str, name: String },
}

/// A table or schema name the SQL can carry unquoted.
fn check_name(what: &'static str, name: &str) -> Result<(), SqlError> {
    let ok = !name.is_empty()
        && name.split('.').all(|p| {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !p.as_bytes().first().is_some_and(u8::is_ascii_digit)
        });
    if ok {
        Ok(())
    } else {
        Err(SqlError::BadName {
            what,
            name: name.to_owned(),
        })
    }
}

impl SqlOptions {
    fn validate(&self) -> Result<(), SqlError> {
        check_name("--flow-table", &self.flow_table)?;
        if let Some(s) = &self.topology_schema {
            check_name("--topology-schema", s)?;
        }
        if let Some(p) = &self.partition_column {
            check_name("--partition-column", p)?;
        }
        Ok(())
    }
}

/// What Spark needs set before these statements: its optimizer's
/// constraint propagation grows exponentially with the CASE chains here
/// (SPARK-19875) and runs out of memory planning.
pub const SPARK_SETTING: &str = "SET spark.sql.constraintPropagation.enabled = false";

/// The comment every statement opens with.
fn header(o: &SqlOptions, what: &str) -> String {
    let spark = if o.dialect == Dialect::Spark {
        format!("-- Spark: run `{SPARK_SETTING}` first (the script does).\n")
    } else {
        String::new()
    };
    spark
        + &format!(
            "-- privpath {} ({} dialect): {what}\n\
         -- Reads {} (AWS's Athena flow-log columns) and the tables of `privpath topology export`{}.\n\
         -- Capture evidence (DNS answers, TLS SNI, HTTP Host) is not in flow logs: services are\n\
         -- attributed by endpoint ENI, prefix list, ip-ranges and pkt-dst-aws-service only;\n\
         -- run `privpath audit` on captures for the rest.\n",
            env!("CARGO_PKG_VERSION"),
            o.dialect.as_str(),
            o.flow_table,
            o.topology_schema
                .as_deref()
                .map(|s| format!(" in schema {s}"))
                .unwrap_or_default(),
        )
}

/// One statement whose result is the `select`ed table (CTEs inline).
pub fn statement(o: &SqlOptions, select: Select) -> Result<String, SqlError> {
    o.validate()?;
    let q = query::Query::new(o);
    let (what, body) = match select {
        Select::Verdicts => ("the verdict table", q.verdicts(None)),
        Select::Flows => ("the classified egress flows", q.flows(None)),
        Select::Findings => ("traffic-path disagreements", q.findings(None)),
    };
    Ok(format!("{}{body};\n", header(o, what)))
}

/// The whole script: the classification as a view, then the three queries.
pub fn script(o: &SqlOptions) -> Result<String, SqlError> {
    o.validate()?;
    let q = query::Query::new(o);
    let view = "privpath_flows";
    let mut s = header(o, "the audit as views and queries");
    if o.dialect == Dialect::Spark {
        s.push_str(SPARK_SETTING);
        s.push_str(";\n");
    }
    s.push_str("\n-- 1. Every egress flow, classified (the per-flow view).\n");
    s.push_str(&o.dialect.create_view(view));
    s.push('\n');
    s.push_str(&q.all());
    s.push_str(";\n\n-- 2. The verdict table: one row per service x host x path.\n");
    s.push_str(&q.verdicts(Some(view)));
    s.push_str(";\n\n-- 3. The flows, as classified.\n");
    s.push_str(&q.flows(Some(view)));
    s.push_str(";\n\n-- 4. Findings: traffic-path disagreements.\n");
    s.push_str(&q.findings(Some(view)));
    s.push_str(";\n");
    Ok(s)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn opts(d: Dialect) -> SqlOptions {
        SqlOptions {
            dialect: d,
            flow_table: "vpc_flow_logs".into(),
            topology_schema: None,
            since: None,
            until: None,
            partition_column: None,
        }
    }

    #[test]
    fn names_are_checked() {
        let mut o = opts(Dialect::Duckdb);
        o.flow_table = "logs; DROP TABLE x".into();
        assert!(statement(&o, Select::Verdicts).is_err());
        o.flow_table = "db.vpc_flow_logs".into();
        assert!(statement(&o, Select::Verdicts).is_ok());
        o.topology_schema = Some("1x".into());
        assert!(statement(&o, Select::Verdicts).is_err());
    }

    #[test]
    fn dialects_differ_only_in_their_functions() {
        let t = statement(&opts(Dialect::Trino), Select::Verdicts).unwrap();
        let a = statement(&opts(Dialect::Athena), Select::Verdicts).unwrap();
        assert_eq!(t.replace("trino dialect", "athena dialect"), a);
        assert!(t.contains("IPADDRESS") && t.contains("bitwise_and"));
        let s = statement(&opts(Dialect::Spark), Select::Verdicts).unwrap();
        assert!(s.contains("`end`") && !s.contains("IPADDRESS"));
        let d = statement(&opts(Dialect::Duckdb), Select::Verdicts).unwrap();
        assert!(d.contains("lambda g:"));
    }

    #[test]
    fn since_until_prune_partitions() {
        let mut o = opts(Dialect::Athena);
        o.since = Some(1_793_610_000);
        o.until = Some(1_793_620_000);
        o.partition_column = Some("day".into());
        let s = statement(&o, Select::Verdicts).unwrap();
        assert!(s.contains("\"day\" >= '2026/11/02'"), "{s}");
        assert!(s.contains(">= 1793610000"));
    }
}
