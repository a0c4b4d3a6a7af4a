//! `privpath topology export`: the topology as tables (CSV or Parquet, one
//! file per table named after it) and their DDL per dialect under `ddl/`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;

use privpath::exit::ExitStatus;
use privpath::sql::Dialect;
use privpath::sql::ddl::{FileFormat, ddl};
use privpath::topology::{self, TopologyIndex, export};

#[derive(Debug, Args)]
#[command(
    after_help = "Writes DIR/<table>.<format> for snapshots, enis, hosts, routes, \
subnet_route_tables, endpoints, nat_gateways, prefix_list_entries, aws_ranges, vpc_cidrs, and \
DIR/ddl/<dialect>.sql declaring them (athena, trino, spark, duckdb).\n\
Example: privpath topology export --topology samples/lab/2-s3-gateway-endpoint/topology --out topo/"
)]
pub struct ExportArgs {
    /// Files or folders of AWS CLI JSON output (as for `topology show`)
    #[arg(long = "topology", value_name = "PATH", required = true, num_args = 1..)]
    pub topology: Vec<PathBuf>,
    /// File format of the tables
    #[arg(long, value_enum, default_value_t = FileFormat::Parquet)]
    pub format: FileFormat,
    /// Folder to write into (created if missing)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Where the tables will live for Athena/Trino (an S3 prefix; each table in
    /// its own folder below it)
    #[arg(
        long,
        value_name = "S3_PREFIX",
        default_value = "s3://BUCKET/privpath/topology"
    )]
    pub location: String,
    /// Schema (database) to declare the tables in
    #[arg(long, value_name = "NAME")]
    pub topology_schema: Option<String>,
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("{}: cannot write", path.display()))
}

pub fn run(args: &ExportArgs) -> anyhow::Result<ExitStatus> {
    let topo = topology::load(&args.topology).context("cannot load the topology")?;
    let index = TopologyIndex::build(&topo);
    let tables = export::export(&topo, &index);
    std::fs::create_dir_all(args.out.join("ddl"))
        .with_context(|| format!("{}: cannot create the folder", args.out.display()))?;
    let ext = args.format.extension();
    for t in &tables {
        let bytes = match args.format {
            FileFormat::Csv => export::to_csv(t),
            FileFormat::Parquet => export::to_parquet(t)
                .map_err(|e| anyhow::anyhow!("{}: cannot build the parquet table: {e}", t.name))?,
        };
        write(&args.out.join(format!("{}.{ext}", t.name)), &bytes)?;
    }
    let local = std::path::absolute(&args.out)
        .unwrap_or_else(|_| args.out.clone())
        .display()
        .to_string();
    for d in [
        Dialect::Athena,
        Dialect::Trino,
        Dialect::Spark,
        Dialect::Duckdb,
    ] {
        let location = match d {
            Dialect::Athena | Dialect::Trino => args.location.as_str(),
            Dialect::Spark | Dialect::Duckdb => local.as_str(),
        };
        if let Some(s) = &args.topology_schema {
            if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                anyhow::bail!("--topology-schema '{s}' is not a plain SQL name");
            }
        }
        let sql = ddl(
            &tables,
            d,
            args.format,
            location,
            args.topology_schema.as_deref(),
        );
        write(
            &args.out.join("ddl").join(format!("{}.sql", d.as_str())),
            sql.as_bytes(),
        )?;
    }
    let mut err = std::io::stderr().lock();
    let rows: usize = tables.iter().map(|t| t.rows.len()).sum();
    writeln!(
        err,
        "privpath: wrote {} tables ({rows} rows) and ddl/*.sql to {}",
        tables.len(),
        privpath::error::sanitize(&args.out.display().to_string(), 300)
    )?;
    Ok(ExitStatus::Success)
}
