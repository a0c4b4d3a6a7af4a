//! `privpath sql`: print the audit as SQL for one engine.

use std::io::Write as _;

use clap::Args;

use privpath::exit::ExitStatus;
use privpath::report::expect::{parse_time, parse_time_ceil};
use privpath::sql::{Dialect, Select, SqlOptions, script, statement};

#[derive(Debug, Args)]
#[command(
    after_help = "Without --select: the whole script (the classified flows as a view, then \
the verdicts, flows and findings queries). With --select: one statement whose result is that table.\n\
Example: privpath sql --dialect athena --select verdicts --flow-table vpc_flow_logs --topology-schema privpath"
)]
pub struct SqlArgs {
    /// The engine
    #[arg(long, value_enum)]
    pub dialect: Dialect,
    /// The flow-log table (AWS's Athena DDL column names)
    #[arg(long, value_name = "NAME", default_value = "vpc_flow_logs")]
    pub flow_table: String,
    /// The schema (database) of the tables `privpath topology export` wrote
    #[arg(long, value_name = "NAME")]
    pub topology_schema: Option<String>,
    /// Print one statement computing this table
    #[arg(long, value_enum)]
    pub select: Option<Select>,
    /// Only flows starting at or after this time (RFC 3339 or unix seconds)
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only flows starting at or before this time (RFC 3339 or unix seconds)
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// The flow table's `yyyy/MM/dd` day partition, pruned by --since/--until
    /// (`none`: no partition predicate)
    #[arg(long, value_name = "COLUMN", default_value = "day")]
    pub partition_column: String,
}

pub fn run(args: &SqlArgs) -> anyhow::Result<ExitStatus> {
    let since = args.since.as_deref().map(parse_time_ceil).transpose()?;
    let until = args.until.as_deref().map(parse_time).transpose()?;
    let o = SqlOptions {
        dialect: args.dialect,
        flow_table: args.flow_table.clone(),
        topology_schema: args.topology_schema.clone(),
        since,
        until,
        partition_column: Some(args.partition_column.clone()).filter(|p| p != "none"),
    };
    let sql = match args.select {
        Some(s) => statement(&o, s)?,
        None => script(&o)?,
    };
    let mut out = std::io::stdout().lock();
    out.write_all(sql.as_bytes())?;
    out.flush()?;
    Ok(ExitStatus::Success)
}
