//! `-o markdown`: the post-lab audit report; fits a CI job summary
//! (`>> $GITHUB_STEP_SUMMARY`): the important sections first, and cut with a
//! note below GitHub's 1 MiB job-summary limit ([`SUMMARY_LIMIT`]). Every
//! input-derived string is escaped.

use std::fmt::Write as _;

use super::escape::markdown as md;
use super::view::{self, ViolationCells};
use super::{Report, Verdict, format_bytes, format_time};

/// The most bytes `-o markdown` writes: GitHub rejects a job summary over
/// 1 MiB (1,048,576 bytes); this leaves room for the cut note and for a
/// heading the job adds.
pub const SUMMARY_LIMIT: usize = 1_000_000;

/// How many offending flows per expectation and host are listed.
pub const SHOWN_VIOLATIONS: usize = 20;

fn verdict_badge(v: Verdict) -> &'static str {
    match v {
        Verdict::Private => "🟢 private",
        Verdict::Public => "🔴 public",
        Verdict::Blocked => "🟡 blocked",
        Verdict::Mixed => "🟣 mixed",
        Verdict::NoTraffic => "⚪ no-traffic",
        Verdict::Unknown => "⚪ unknown",
    }
}

pub fn render_markdown(r: &Report) -> Vec<u8> {
    cut_to(render_full(r), SUMMARY_LIMIT).into_bytes()
}

/// `s` cut at the last line break that leaves room for the note, with the
/// note appended; unchanged when it fits.
pub fn cut_to(s: String, limit: usize) -> String {
    if s.len() <= limit {
        return s;
    }
    const NOTE: &str = "\n\n> **Cut here**: the report is longer than a GitHub job summary may be (1 MiB). \
The full report is in `-o json` / `-o html`.\n";
    let room = limit.saturating_sub(NOTE.len());
    let mut end = room.min(s.len());
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    let cut = s.get(..end).and_then(|h| h.rfind('\n')).unwrap_or(0);
    let mut out = s.get(..cut).unwrap_or("").to_owned();
    out.push_str(NOTE);
    out
}

fn render_full(r: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# privpath audit\n");
    let flows: u64 = r
        .verdicts
        .iter()
        .flat_map(|v| v.paths.iter().map(|p| p.flows))
        .sum();
    let _ = write!(o, "{flows} flows from {} inputs", r.inputs.len());
    if let (Some(a), Some(b)) = (r.window.first, r.window.last) {
        let _ = write!(o, ", {} .. {}", format_time(a), format_time(b));
    }
    o.push_str(".\n");
    if !r.expectations.is_empty() {
        let failed = r.failed_expectations();
        if failed == 0 {
            let _ = writeln!(o, "\n**All {} expectations hold.**", r.expectations.len());
        } else {
            let _ = writeln!(
                o,
                "\n**{failed} of {} expectations failed.**",
                r.expectations.len()
            );
        }
    }

    let _ = writeln!(o, "\n## Verdicts\n");
    if r.verdicts.is_empty() {
        o.push_str("No flows.\n");
    } else {
        o.push_str(
            "| Service | Host | Verdict | Path | Flows | Bytes | Outcome | First | Last |\n",
        );
        o.push_str("|---|---|---|---|---:|---:|---|---|---|\n");
        for v in &r.verdicts {
            for (i, p) in v.paths.iter().enumerate() {
                let (svc, host, verdict) = if i == 0 {
                    (
                        md(&v.service),
                        md(&v.host.describe()),
                        verdict_badge(v.verdict).to_owned(),
                    )
                } else {
                    (String::new(), String::new(), String::new())
                };
                let _ = writeln!(
                    o,
                    "| {svc} | {host} | {verdict} | `{}` | {} | {} | {} | {} | {} |",
                    p.path,
                    p.flows,
                    format_bytes(p.bytes),
                    p.outcomes.summary(),
                    format_time(p.first),
                    format_time(p.last)
                );
            }
        }
        for v in r.verdicts.iter().filter(|v| v.verdict == Verdict::Mixed) {
            let _ = writeln!(
                o,
                "\n- {} from {}: public until {}, private from {}",
                md(&v.service),
                md(&v.host.label()),
                v.last_public.map_or_else(|| "-".to_owned(), format_time),
                v.first_private.map_or_else(|| "-".to_owned(), format_time)
            );
        }
    }

    if r.public_paths().next().is_some() {
        let _ = writeln!(o, "\n## Public flows\n");
        for (v, p) in r.public_paths() {
            let _ = writeln!(
                o,
                "- {} from {} via `{}`: {} flows",
                md(&v.service),
                md(&v.host.label()),
                p.path,
                p.flows
            );
            for x in p.examples.iter().take(SHOWN_VIOLATIONS) {
                let _ = writeln!(
                    o,
                    "  - {} {} {} ({})",
                    format_time(x.time),
                    md(&x.destination),
                    x.outcome.map_or("-", |o| o.as_str()),
                    md(&x.source)
                );
            }
            let shown = u64::try_from(p.examples.len().min(SHOWN_VIOLATIONS)).unwrap_or(u64::MAX);
            if p.flows > shown {
                let _ = writeln!(o, "  - … and {} more.", p.flows - shown);
            }
        }
    }

    if !r.expectations.is_empty() {
        let _ = writeln!(o, "\n## Expectations\n");
        for e in &r.expectations {
            let mark = if e.met { "✅" } else { "❌" };
            let flows: u64 = e.hosts.iter().map(|h| h.flows).sum();
            let _ = writeln!(
                o,
                "- {mark} `{}` ({}): {flows} matching, {} offending",
                md(&e.expect).replace('`', "'"),
                md(&e.origin),
                e.violations_total()
            );
            for h in &e.hosts {
                let who = h
                    .host
                    .as_ref()
                    .map_or_else(|| "no host".to_owned(), |h| h.describe());
                let _ = write!(
                    o,
                    "  - {}: {}",
                    md(&who),
                    if h.met { "ok" } else { "failed" }
                );
                if let Some(n) = &h.note {
                    let _ = write!(o, " ({})", md(n));
                }
                o.push('\n');
                if !h.violations.is_empty() {
                    let _ = writeln!(o, "\n    | {} |", view::VIOLATION_HEADER.join(" | "));
                    o.push_str("    |---|---|---|---|---|---|---|\n");
                    for v in h.violations.iter().take(SHOWN_VIOLATIONS) {
                        let cells: Vec<String> = ViolationCells::of(v)
                            .cells()
                            .iter()
                            .map(|c| md(c))
                            .collect();
                        let _ = writeln!(o, "    | {} |", cells.join(" | "));
                    }
                    let shown = h.violations.len().min(SHOWN_VIOLATIONS);
                    if let Some(n) = view::more(h.violations_total, shown) {
                        let _ = writeln!(o, "\n    … and {n} more.");
                    }
                    o.push('\n');
                }
            }
        }
    }

    if let Some(pricing) = &r.pricing {
        let rows = super::cost::cost_rows(r);
        let rows: Vec<_> = rows
            .iter()
            .filter(|c| c.instead.is_some() || c.cost.as_ref().is_some_and(|x| x.usd > 0.0))
            .collect();
        if !rows.is_empty() {
            let _ = writeln!(o, "\n## Cost (estimate)\n");
            for c in rows {
                let _ = writeln!(o, "- {}", md(&c.sentence()));
            }
            let _ = writeln!(o, "\n_{}_", md(&super::cost::estimate_note(pricing)));
        }
    }

    let _ = writeln!(o, "\n## Evidence\n");
    for v in &r.verdicts {
        for p in &v.paths {
            let g = view::evidence_groups(p);
            if g.groups.is_empty() {
                continue;
            }
            let _ = writeln!(
                o,
                "- **{} · {} · `{}`** ({} flows)",
                md(&v.service),
                md(&v.host.label()),
                p.path,
                p.flows
            );
            for (kind, items) in &g.groups {
                for it in items {
                    let ex = it
                        .examples
                        .first()
                        .map_or_else(String::new, |e| format!("; e.g. {}", md(e)));
                    let _ = writeln!(
                        o,
                        "  - {}: {} ({} flows{ex})",
                        kind.title(),
                        md(&it.text),
                        it.flows
                    );
                }
            }
            if g.untold > 0 {
                let _ = writeln!(
                    o,
                    "  - other: {} flows with further distinct evidence",
                    g.untold
                );
            }
        }
    }

    if !r.dns.is_empty() {
        let _ = writeln!(o, "\n## DNS\n");
        o.push_str("| Name | Host | Resolves | Answers | First | Responses |\n|---|---|---|---|---|---:|\n");
        for d in &r.dns {
            let answers: Vec<String> = d
                .answers
                .iter()
                .map(|a| format!("{} {}", a.address, md(&a.resolution.to_string())))
                .collect();
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                md(&d.name),
                md(&d.host.label()),
                d.summary(),
                answers.join(", "),
                format_time(d.first),
                d.responses
            );
        }
    }

    if !r.private_dns.is_empty() {
        let _ = writeln!(o, "\n## Private DNS per interface endpoint\n");
        o.push_str("| Endpoint | Service | Enabled | Verdict | Detail |\n|---|---|---|---|---|\n");
        for p in &r.private_dns {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                md(&p.endpoint_id),
                md(&p.service_name),
                p.enabled
                    .map_or("unknown", |b| if b { "yes" } else { "no" }),
                md(&p.verdict),
                md(&p.detail)
            );
        }
    }

    if !r.endpoints.is_empty() {
        let _ = writeln!(o, "\n## Endpoints\n");
        o.push_str(
            "| Endpoint | Path | Service | Hosts | Flows | Bytes |\n|---|---|---|---:|---:|---:|\n",
        );
        for e in &r.endpoints {
            let _ = writeln!(
                o,
                "| {} | `{}` | {} | {} | {} | {} |",
                md(&e.endpoint_id),
                e.path,
                md(&e.service),
                e.hosts,
                e.flows,
                format_bytes(e.bytes)
            );
        }
    }

    if !r.findings.is_empty() {
        let _ = writeln!(o, "\n## Findings\n");
        for f in &r.findings {
            let _ = writeln!(
                o,
                "- **{}** ({}): {}",
                f.kind.as_str(),
                f.count,
                md(&f.message)
            );
        }
    }

    let _ = writeln!(o, "\n## Inputs\n");
    o.push_str(
        "| Input | Kind | Records | Packets | Flows | Skipped | NODATA | SKIPDATA | Error |\n",
    );
    o.push_str("|---|---|---:|---:|---:|---:|---:|---:|---|\n");
    for i in &r.inputs {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            md(&i.path),
            md(&i.kind),
            i.records,
            i.packets,
            i.flows,
            i.skipped,
            i.nodata,
            i.skipdata,
            i.error.as_deref().map(md).unwrap_or_default()
        );
    }
    o
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
    use crate::report::fixture;

    #[test]
    fn render_markdown_fixture_snapshot() {
        let out = String::from_utf8(render_markdown(&fixture::report())).unwrap();
        insta::assert_snapshot!(out);
    }

    /// A report bigger than a job summary may be is cut below 1 MiB, on a
    /// line break, with the note saying so.
    #[test]
    fn render_markdown_stays_under_the_job_summary_limit() {
        let mut r = fixture::report();
        let row = r.dns[0].clone();
        for i in 0..40_000 {
            let mut d = row.clone();
            d.name = format!("name-{i}.example.com");
            r.dns.push(d);
        }
        let out = String::from_utf8(render_markdown(&r)).unwrap();
        assert!(out.len() <= SUMMARY_LIMIT, "{} bytes", out.len());
        assert!(out.len() > SUMMARY_LIMIT - 2_000, "cut close to the limit");
        assert!(out.ends_with("The full report is in `-o json` / `-o html`.\n"));
        assert!(out.contains("## Verdicts"), "the summary comes first");
        let small = String::from_utf8(render_markdown(&fixture::report())).unwrap();
        assert!(!small.contains("Cut here"));
    }

    #[test]
    fn render_markdown_escapes_hostile_names() {
        let out = String::from_utf8(render_markdown(&fixture::report())).unwrap();
        assert!(!out.contains("<script>"), "raw markup leaked");
        assert!(out.contains("&lt;script&gt;"));
        assert!(
            out.contains("public\\|eni.log"),
            "a | in a file name cannot break the table"
        );
    }
}
