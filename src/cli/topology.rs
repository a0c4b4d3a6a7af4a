//! `privpath topology show|check|export`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};

use super::GlobalArgs;
use privpath::exit::ExitStatus;
use privpath::topology::{
    self, EndpointKind, EniKind, RouteDestination, Severity, Snapshot, SnapshotTimeSource, Topology,
};

#[derive(Debug, Subcommand)]
pub enum TopologyCommand {
    /// Print what was understood of the topology: VPCs, subnets with their
    /// effective route table, routes (prefix lists expanded), endpoints with
    /// their ENIs and DNS names, NAT gateways, instances
    Show(TopologyArgs),
    /// Report inconsistencies in the topology (exit 2 when any error is found)
    Check(TopologyArgs),
    /// Write the topology as tables a SQL engine can join (one file per
    /// table, named after it), with their DDL for each dialect
    Export(super::topology_export::ExportArgs),
}

#[derive(Debug, Args)]
pub struct TopologyArgs {
    /// Files or folders of AWS CLI JSON output (describe-vpcs, describe-route-tables,
    /// …, ip-ranges.json), recognised by content. The files of one folder form one
    /// snapshot; give several folders for snapshots taken at different times
    #[arg(long = "topology", value_name = "PATH", required = true, num_args = 1..)]
    pub topology: Vec<PathBuf>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

pub fn run(cmd: &TopologyCommand, _global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    match cmd {
        TopologyCommand::Export(args) => super::topology_export::run(args),
        TopologyCommand::Show(args) => {
            let topo = topology::load(&args.topology).context("cannot load the topology")?;
            let out = if args.json {
                let mut s = serde_json::to_string_pretty(&topo)?;
                s.push('\n');
                s
            } else {
                render_show(&topo)
            };
            write_stdout(out.as_bytes())?;
            Ok(ExitStatus::Success)
        }
        TopologyCommand::Check(args) => {
            let topo = topology::load(&args.topology).context("cannot load the topology")?;
            let issues = topology::check(&topo);
            let out = if args.json {
                let mut s = serde_json::to_string_pretty(&issues)?;
                s.push('\n');
                s
            } else {
                render_check(&issues)
            };
            write_stdout(out.as_bytes())?;
            Ok(if issues.iter().any(|i| i.severity == Severity::Error) {
                ExitStatus::Error
            } else {
                ExitStatus::Success
            })
        }
    }
}

#[allow(clippy::print_stdout)]
fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    lock.write_all(bytes)?;
    lock.flush()?;
    Ok(())
}

fn render_check(issues: &[topology::Issue]) -> String {
    let mut s = String::new();
    let errors = issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .count();
    for i in issues {
        let sev = match i.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        if i.snapshot.is_empty() {
            let _ = writeln!(s, "{sev}: {}", i.message);
        } else {
            let _ = writeln!(s, "{sev}: {}: {}", i.snapshot, i.message);
        }
    }
    let _ = writeln!(
        s,
        "{errors} error(s), {} warning(s)",
        issues.len().saturating_sub(errors)
    );
    s
}

fn yes_no(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "on",
        Some(false) => "off",
        None => "?",
    }
}

fn list<T: std::fmt::Display>(items: &[T]) -> String {
    if items.is_empty() {
        "-".to_string()
    } else {
        items
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The text of `topology show`: deterministic (maps are sorted by id).
pub fn render_show(topo: &Topology) -> String {
    let mut s = String::new();
    for snap in &topo.snapshots {
        render_snapshot(&mut s, snap);
    }
    if let Some(r) = &topo.ip_ranges {
        let _ = writeln!(
            s,
            "ip-ranges {} ({} prefixes, createDate {})",
            r.file,
            r.prefixes.len(),
            r.create_date.as_deref().unwrap_or("?")
        );
    }
    for n in &topo.notes {
        let _ = writeln!(s, "note: {n}");
    }
    s
}

fn render_snapshot(s: &mut String, snap: &Snapshot) {
    let time = match (&snap.time, snap.time_source) {
        (Some(t), SnapshotTimeSource::SnapshotFile) => format!("{t} (snapshot.json)"),
        (Some(t), _) => format!("{t} (newest timestamp inside)"),
        (None, _) => "unknown".to_string(),
    };
    let _ = writeln!(
        s,
        "snapshot {}: time {time}, {} files",
        snap.dir,
        snap.files.len()
    );
    for vpc in snap.vpcs.values() {
        let _ = writeln!(
            s,
            "vpc {} {} dns-support {} dns-hostnames {}{}",
            vpc.id,
            list(&vpc.cidrs),
            yes_no(vpc.dns_support),
            yes_no(vpc.dns_hostnames),
            vpc.name
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        );
        for sub in snap.subnets.values().filter(|x| x.vpc_id == vpc.id) {
            let rt = snap.route_table_of_subnet(&sub.id);
            let how = if snap.subnet_uses_main(&sub.id) {
                "main"
            } else {
                "explicit"
            };
            let _ = writeln!(
                s,
                "  subnet {} {} {} -> {} ({how}){}",
                sub.id,
                list(&sub.cidrs),
                sub.availability_zone.as_deref().unwrap_or("-"),
                rt.map_or("no route table", |r| r.id.as_str()),
                sub.name
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default()
            );
        }
    }
    for sub in snap
        .subnets
        .values()
        .filter(|x| !snap.vpcs.contains_key(&x.vpc_id))
    {
        let _ = writeln!(
            s,
            "subnet {} {} (vpc {} not loaded)",
            sub.id,
            list(&sub.cidrs),
            sub.vpc_id
        );
    }
    for rt in snap.route_tables.values() {
        let _ = writeln!(
            s,
            "route table {} {}{} subnets {}{}",
            rt.id,
            rt.vpc_id,
            if rt.main { " main" } else { "" },
            list(&rt.subnet_ids),
            rt.name
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        );
        for r in &rt.routes {
            let _ = writeln!(
                s,
                "  {:<28} -> {:<26} {}{}",
                r.destination.to_string(),
                r.target.id(),
                r.state.as_str(),
                r.origin
                    .as_deref()
                    .map(|o| format!(" ({o})"))
                    .unwrap_or_default()
            );
            if let RouteDestination::PrefixList(pl) = &r.destination {
                match snap.prefix_lists.get(pl) {
                    Some(l) if l.entries_known => {
                        let _ = writeln!(
                            s,
                            "      {} = {}",
                            l.name.as_deref().unwrap_or("?"),
                            list(&l.cidrs)
                        );
                    }
                    _ => {
                        let _ = writeln!(s, "      (entries unknown)");
                    }
                }
            }
        }
    }
    for ep in snap.endpoints.values() {
        let kind = match &ep.kind {
            EndpointKind::Gateway => "gateway".to_string(),
            EndpointKind::Interface => "interface".to_string(),
            EndpointKind::GatewayLoadBalancer => "gateway-load-balancer".to_string(),
            EndpointKind::Other(o) => o.as_str().to_lowercase(),
        };
        let created = ep.created.map_or("unknown".to_string(), |t| t.to_string());
        let _ = writeln!(
            s,
            "endpoint {} {kind} {} ({}) state {} created {created}",
            ep.id,
            ep.service,
            ep.service_name,
            ep.state.as_deref().unwrap_or("?")
        );
        match ep.kind {
            EndpointKind::Gateway => {
                let _ = writeln!(s, "  route tables {}", list(&ep.route_table_ids));
            }
            _ => {
                let _ = writeln!(s, "  private dns {}", yes_no(ep.private_dns_enabled));
                for e in &ep.eni_ids {
                    match snap.enis.get(e) {
                        Some(eni) => {
                            let _ = writeln!(
                                s,
                                "  eni {} {} {}",
                                e,
                                list(&eni.private_ips),
                                eni.subnet_id
                            );
                        }
                        None => {
                            let _ = writeln!(s, "  eni {e} (not in describe-network-interfaces)");
                        }
                    }
                }
                for n in &ep.dns_names {
                    let _ = writeln!(s, "  dns {n}");
                }
            }
        }
    }
    for nat in snap.nat_gateways.values() {
        let _ = writeln!(
            s,
            "nat gateway {} {} private {} public {} state {}",
            nat.id,
            nat.subnet_id,
            list(&nat.private_ips),
            list(&nat.public_ips),
            nat.state.as_deref().unwrap_or("?")
        );
    }
    for i in snap.instances.values() {
        let _ = writeln!(
            s,
            "instance {} {} private {} public {} enis {}{}",
            i.id,
            i.subnet_id,
            i.private_ip.map_or("-".to_string(), |a| a.to_string()),
            i.public_ip.map_or("-".to_string(), |a| a.to_string()),
            list(&i.eni_ids),
            i.name
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        );
    }
    for eni in snap.enis.values() {
        let what = match &eni.kind {
            EniKind::Instance(i) => format!("instance {i}"),
            EniKind::InterfaceEndpoint(v) => format!("endpoint {v}"),
            EniKind::NatGateway(n) => format!("nat gateway {n}"),
            EniKind::Other(t) => format!("other ({t})"),
        };
        let _ = writeln!(
            s,
            "eni {} {} {} {what}",
            eni.id,
            eni.subnet_id,
            list(&eni.private_ips)
        );
    }
    for pl in snap.prefix_lists.values() {
        let _ = writeln!(
            s,
            "prefix list {} {} {}",
            pl.id,
            pl.name.as_deref().unwrap_or("?"),
            if pl.entries_known {
                format!("{} entries", pl.cidrs.len())
            } else {
                "entries unknown".to_string()
            }
        );
    }
    for n in &snap.notes {
        let _ = writeln!(s, "note: {n}");
    }
}
