//! `-o table`: the terminal view. Verdicts first, then expectations with
//! their offending flows, DNS, endpoints, findings and inputs. Input-derived
//! text is shown with visible escapes; colour only when asked for.

use std::fmt::Write as _;

use comfy_table::{Cell, CellAlignment, Color, ContentArrangement, Table, presets};
use owo_colors::OwoColorize;

use super::escape::terminal;
use super::view::{self, ViolationCells};
use super::{RenderOptions, Report, Verdict, format_bytes, format_time};

/// How many offending flows per expectation and host the table lists.
pub const SHOWN_VIOLATIONS: usize = 10;

/// How many example flows per public path the table lists.
pub const SHOWN_EXAMPLES: usize = 5;

const NAME_MAX: usize = 120;

fn new_table(opts: RenderOptions, header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(presets::NOTHING);
    t.force_no_tty();
    if opts.color {
        t.enforce_styling();
    }
    if let Some(w) = opts.width {
        t.set_content_arrangement(ContentArrangement::Dynamic);
        t.set_width(w);
    }
    t.set_header(header.iter().map(Cell::new).collect::<Vec<_>>());
    t
}

fn verdict_color(v: Verdict) -> Color {
    match v {
        Verdict::Private => Color::Green,
        Verdict::Public => Color::Red,
        Verdict::Blocked => Color::Yellow,
        Verdict::Mixed => Color::Magenta,
        Verdict::NoTraffic | Verdict::Unknown => Color::Grey,
    }
}

fn num(n: u64) -> Cell {
    Cell::new(n).set_alignment(CellAlignment::Right)
}

/// One line cut to the terminal's width (counted in characters) with `…`.
fn fit(opts: RenderOptions, line: &str) -> String {
    match opts.width.map(usize::from) {
        Some(w) if w > 1 && line.chars().count() > w => {
            let mut s: String = line.chars().take(w - 1).collect();
            s.push('…');
            s
        }
        _ => line.to_owned(),
    }
}

/// Write `line` and a newline, cut to the width.
fn put(out: &mut String, opts: RenderOptions, line: &str) {
    out.push_str(&fit(opts, line));
    out.push('\n');
}

fn push_table(out: &mut String, t: &Table) {
    for line in t.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

fn heading(out: &mut String, opts: RenderOptions, title: &str) {
    out.push('\n');
    if opts.color {
        let _ = writeln!(out, "{}", title.bold());
    } else {
        let _ = writeln!(out, "{title}");
    }
}

/// Render the report for a terminal.
pub fn render_table(r: &Report, opts: RenderOptions) -> Vec<u8> {
    let mut out = String::new();
    let flows: u64 = r
        .verdicts
        .iter()
        .flat_map(|v| v.paths.iter().map(|p| p.flows))
        .sum();
    let mut first = format!(
        "privpath audit: {flows} flows from {} inputs",
        r.inputs.len()
    );
    if let Some(w) = view::window_text(r) {
        first.push_str(&format!(", {w}"));
    }
    put(&mut out, opts, &first);
    if r.window.since.is_some() || r.window.until.is_some() {
        let _ = writeln!(
            out,
            "window: --since {} --until {}",
            r.window.since.map_or_else(|| "-".to_owned(), format_time),
            r.window.until.map_or_else(|| "-".to_owned(), format_time)
        );
    }

    heading(&mut out, opts, "Verdicts");
    if r.verdicts.is_empty() {
        out.push_str("no flows\n");
    } else {
        // A CALLS column only when CloudTrail calls joined the verdicts.
        let with_calls = r
            .verdicts
            .iter()
            .any(|v| v.paths.iter().any(|p| p.calls > 0));
        let mut header = vec![
            "SERVICE", "HOST", "VERDICT", "PATH", "FLOWS", "BYTES", "OUTCOME", "FIRST", "LAST",
        ];
        if with_calls {
            header.insert(5, "CALLS");
        }
        let mut t = new_table(opts, &header);
        for v in &r.verdicts {
            for (i, p) in v.paths.iter().enumerate() {
                let (svc, host, verdict) = if i == 0 {
                    (
                        Cell::new(terminal(&v.service, NAME_MAX)),
                        Cell::new(terminal(&v.host.describe(), NAME_MAX)),
                        Cell::new(v.verdict.as_str()).fg(verdict_color(v.verdict)),
                    )
                } else {
                    (Cell::new(""), Cell::new(""), Cell::new(""))
                };
                let path = if opts.color && p.path.is_public() {
                    Cell::new(p.path.as_str()).fg(Color::Red)
                } else {
                    Cell::new(p.path.as_str())
                };
                let mut row = vec![
                    svc,
                    host,
                    verdict,
                    path,
                    num(p.flows),
                    Cell::new(format_bytes(p.bytes)).set_alignment(CellAlignment::Right),
                    Cell::new(p.outcomes.summary()),
                    Cell::new(format_time(p.first)),
                    Cell::new(format_time(p.last)),
                ];
                if with_calls {
                    row.insert(5, num(p.calls));
                }
                t.add_row(row);
            }
        }
        push_table(&mut out, &t);
        for v in r.verdicts.iter().filter(|v| v.verdict == Verdict::Mixed) {
            let _ = writeln!(
                out,
                "{} from {}: public until {}, private from {}",
                terminal(&v.service, NAME_MAX),
                terminal(&v.host.label(), NAME_MAX),
                v.last_public.map_or_else(|| "-".to_owned(), format_time),
                v.first_private.map_or_else(|| "-".to_owned(), format_time),
            );
        }
    }

    // Evidence: per service × host × path, each distinct piece once with
    // the flows it covers and where to see one.
    heading(&mut out, opts, "Evidence");
    let full: Vec<String> = r.inputs.iter().map(|i| i.path.clone()).collect();
    let short: std::collections::BTreeMap<String, String> =
        full.iter().cloned().zip(view::short_names(&full)).collect();
    for v in &r.verdicts {
        for p in &v.paths {
            let g = view::evidence_groups(p);
            if g.groups.is_empty() {
                continue;
            }
            put(
                &mut out,
                opts,
                &format!(
                    "{} {} via {} ({} flow{})",
                    terminal(&v.service, NAME_MAX),
                    terminal(&v.host.label(), NAME_MAX),
                    p.path,
                    p.flows,
                    if p.flows == 1 { "" } else { "s" }
                ),
            );
            for (kind, items) in &g.groups {
                for it in items {
                    let ex = it.examples.first().map_or_else(String::new, |e| {
                        let e = match e.rsplit_once(':') {
                            Some((f, l)) => short
                                .get(f)
                                .map_or_else(|| e.clone(), |s| format!("{s}:{l}")),
                            None => e.clone(),
                        };
                        format!("  [{}]", terminal(&e, 200))
                    });
                    put(
                        &mut out,
                        opts,
                        &format!(
                            "  {:<13} {:>6}  {}{ex}",
                            kind.title().split(' ').next().unwrap_or(""),
                            it.flows,
                            terminal(&it.text, 400)
                        ),
                    );
                }
            }
            if g.untold > 0 {
                put(
                    &mut out,
                    opts,
                    &format!(
                        "  {:<13} {:>6}  further distinct evidence not kept",
                        "other", g.untold
                    ),
                );
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
            heading(&mut out, opts, "Cost (estimate)");
            for c in rows {
                put(&mut out, opts, &terminal(&c.sentence(), 400));
            }
            put(&mut out, opts, &super::cost::estimate_note(pricing));
        }
    }

    if r.public_paths().next().is_some() {
        heading(&mut out, opts, "Public flows");
        for (v, p) in r.public_paths() {
            let _ = writeln!(
                out,
                "{} {} {}: {} flows",
                terminal(&v.service, NAME_MAX),
                terminal(&v.host.label(), NAME_MAX),
                p.path,
                p.flows
            );
            for x in p.examples.iter().take(SHOWN_EXAMPLES) {
                let _ = writeln!(
                    out,
                    "      {}  {}  {}  [{}]",
                    format_time(x.time),
                    terminal(&x.destination, 200),
                    x.outcome.map_or("-", |o| o.as_str()),
                    terminal(&x.source, 200),
                );
            }
            let shown = u64::try_from(p.examples.len().min(SHOWN_EXAMPLES)).unwrap_or(u64::MAX);
            if p.flows > shown {
                let _ = writeln!(out, "      … and {} more (see -o json)", p.flows - shown);
            }
        }
    }

    if !r.expectations.is_empty() {
        heading(&mut out, opts, "Expectations");
        for e in &r.expectations {
            let mark = match (e.met, opts.color) {
                (true, true) => "PASS".green().bold().to_string(),
                (false, true) => "FAIL".red().bold().to_string(),
                (true, false) => "PASS".to_owned(),
                (false, false) => "FAIL".to_owned(),
            };
            let flows: u64 = e.hosts.iter().map(|h| h.flows).sum();
            let _ = writeln!(
                out,
                "{mark}  {}  ({}; {flows} matching, {} offending)",
                terminal(&e.expect, NAME_MAX),
                terminal(&e.origin, NAME_MAX),
                e.violations_total()
            );
            for h in &e.hosts {
                let who = h
                    .host
                    .as_ref()
                    .map_or_else(|| "no host".to_owned(), |h| h.describe());
                let state = if h.met { "ok" } else { "failed" };
                let _ = write!(out, "      {}: {state}", terminal(&who, NAME_MAX));
                if let Some(n) = &h.note {
                    let _ = write!(out, " ({})", terminal(n, 200));
                }
                out.push('\n');
                for v in h.violations.iter().take(SHOWN_VIOLATIONS) {
                    let line = terminal(&ViolationCells::of(v).line(), 900);
                    put(&mut out, opts, &format!("        {line}"));
                }
                let shown =
                    u64::try_from(h.violations.len().min(SHOWN_VIOLATIONS)).unwrap_or(u64::MAX);
                if h.violations_total > shown {
                    let _ = writeln!(
                        out,
                        "        … and {} more (see -o json)",
                        h.violations_total - shown
                    );
                }
            }
        }
        let failed = r.failed_expectations();
        let _ = writeln!(
            out,
            "{} of {} expectations failed",
            failed,
            r.expectations.len()
        );
    }

    if !r.api_calls.is_empty() {
        heading(&mut out, opts, "API calls (CloudTrail)");
        let mut t = new_table(
            opts,
            &[
                "SERVICE",
                "HOST",
                "PRINCIPAL",
                "EVENT",
                "PATH",
                "ENDPOINT",
                "CALLS",
                "SOURCE IP",
                "FIRST",
                "LAST",
            ],
        );
        for c in &r.api_calls {
            let calls = if c.denied > 0 {
                format!("{} ({} denied)", c.calls, c.denied)
            } else {
                c.calls.to_string()
            };
            t.add_row(vec![
                Cell::new(terminal(&c.service, NAME_MAX)),
                Cell::new(
                    c.host
                        .as_ref()
                        .map_or_else(|| "unknown".to_owned(), |h| terminal(&h.label(), NAME_MAX)),
                ),
                Cell::new(terminal(&c.principal, NAME_MAX)),
                Cell::new(if c.network_activity {
                    format!("{} (network)", terminal(&c.event_name, NAME_MAX))
                } else {
                    terminal(&c.event_name, NAME_MAX)
                }),
                Cell::new(c.path.as_str()),
                Cell::new(
                    c.endpoint
                        .as_deref()
                        .map_or_else(String::new, |e| terminal(e, NAME_MAX)),
                ),
                Cell::new(calls).set_alignment(CellAlignment::Right),
                Cell::new(terminal(&c.source_ip, NAME_MAX)),
                Cell::new(format_time(c.first)),
                Cell::new(format_time(c.last)),
            ]);
        }
        push_table(&mut out, &t);
    }

    if !r.dns.is_empty() {
        heading(&mut out, opts, "DNS");
        // A SOURCE column once answers come from more than captures.
        let with_source = r.dns.iter().any(|d| d.source != super::DNS_SOURCE_CAPTURE);
        let mut header = vec!["NAME", "HOST", "RESOLVES", "ANSWERS", "FIRST", "RESPONSES"];
        if with_source {
            header.push("SOURCE");
        }
        let mut t = new_table(opts, &header);
        for d in &r.dns {
            let answers: Vec<String> = d
                .answers
                .iter()
                .map(|a| {
                    format!(
                        "{} {}",
                        a.address,
                        terminal(&a.resolution.to_string(), NAME_MAX)
                    )
                })
                .collect();
            let mut row = vec![
                Cell::new(terminal(&d.name, NAME_MAX)),
                Cell::new(terminal(&d.host.label(), NAME_MAX)),
                Cell::new(d.summary()),
                Cell::new(answers.join(", ")),
                Cell::new(format_time(d.first)),
                num(d.responses),
            ];
            if with_source {
                row.push(Cell::new(d.source));
            }
            t.add_row(row);
        }
        push_table(&mut out, &t);
    }

    if !r.private_dns.is_empty() {
        heading(&mut out, opts, "Private DNS");
        let mut t = new_table(
            opts,
            &["ENDPOINT", "SERVICE", "ENABLED", "VERDICT", "DETAIL"],
        );
        for p in &r.private_dns {
            t.add_row(vec![
                Cell::new(terminal(&p.endpoint_id, NAME_MAX)),
                Cell::new(terminal(&p.service_name, NAME_MAX)),
                Cell::new(
                    p.enabled
                        .map_or("unknown", |b| if b { "yes" } else { "no" }),
                ),
                Cell::new(terminal(&p.verdict, NAME_MAX)),
                Cell::new(terminal(&p.detail, 300)),
            ]);
        }
        push_table(&mut out, &t);
    }

    if !r.endpoints.is_empty() {
        heading(&mut out, opts, "Endpoints");
        let mut t = new_table(
            opts,
            &[
                "ENDPOINT", "PATH", "SERVICE", "HOSTS", "FLOWS", "BYTES", "FIRST", "LAST",
            ],
        );
        for e in &r.endpoints {
            t.add_row(vec![
                Cell::new(terminal(&e.endpoint_id, NAME_MAX)),
                Cell::new(e.path.as_str()),
                Cell::new(terminal(&e.service, NAME_MAX)),
                num(e.hosts),
                num(e.flows),
                Cell::new(format_bytes(e.bytes)).set_alignment(CellAlignment::Right),
                Cell::new(format_time(e.first)),
                Cell::new(format_time(e.last)),
            ]);
        }
        push_table(&mut out, &t);
    }

    if !r.findings.is_empty() {
        heading(&mut out, opts, "Findings");
        for f in &r.findings {
            let _ = writeln!(
                out,
                "{} ({}): {}",
                f.kind.as_str(),
                f.count,
                terminal(&f.message, 400)
            );
        }
    }

    heading(&mut out, opts, "Inputs");
    let mut t = new_table(
        opts,
        &[
            "INPUT", "KIND", "RECORDS", "PACKETS", "FLOWS", "SKIPPED", "NODATA", "SKIPDATA",
            "ERROR",
        ],
    );
    for i in &r.inputs {
        t.add_row(vec![
            Cell::new(terminal(short.get(&i.path).unwrap_or(&i.path), 200)),
            Cell::new(&i.kind),
            num(i.records),
            num(i.packets),
            num(i.flows),
            num(i.skipped),
            num(i.nodata),
            num(i.skipdata),
            Cell::new(
                i.error
                    .as_deref()
                    .map_or_else(String::new, |e| terminal(e, 200)),
            ),
        ]);
    }
    push_table(&mut out, &t);
    out.into_bytes()
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
    fn render_table_fixture_snapshot() {
        let out =
            String::from_utf8(render_table(&fixture::report(), RenderOptions::default())).unwrap();
        insta::assert_snapshot!(out);
    }

    #[test]
    fn render_table_shows_hostile_text_with_visible_escapes() {
        let out =
            String::from_utf8(render_table(&fixture::report(), RenderOptions::default())).unwrap();
        assert!(
            out.contains(fixture::HOSTILE_SNI),
            "the name is shown as text"
        );
        assert!(
            out.contains("ht\\u{1b}[31mtp"),
            "the escape byte is shown escaped"
        );
        assert!(!out.contains('\u{1b}'), "no raw escape without colour");
    }

    #[test]
    fn render_table_colour_only_when_asked() {
        let out = render_table(
            &fixture::report(),
            RenderOptions {
                color: true,
                width: None,
            },
        );
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("\u{1b}["), "colour codes present");
        // The hostile ESC from input is still escaped, never raw: every raw
        // ESC must start one of our SGR sequences.
        assert!(text.contains("ht\\u{1b}[31mtp"));
    }
}
