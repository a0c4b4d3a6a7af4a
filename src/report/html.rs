//! `-o html`: one self-contained file (inline CSS and SVG, no scripts, no
//! external resources) that people act on. The summary comes first: the
//! expectations' result, a verdict matrix (services × hosts, coloured and
//! marked with a symbol, each cell a link to its details), traffic and the
//! estimated cost per path. Then the details per verdict row with the
//! evidence grouped by what it shows and counted, one chart per service
//! ([`super::chart`]), the expectations, DNS, endpoints, findings and inputs.
//! Readable without JavaScript, prints cleanly, colour-blind-safe colours;
//! every input-derived string is HTML-escaped.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::chart::{self, path_color};
use super::cost;
use super::escape::html as h;
use super::view::{self, EvidenceGroups, ViolationCells};
use super::{PathRow, RenderError, Report, Verdict, VerdictRow, format_bytes, format_time};

pub use super::chart::render_chart;

const CSS: &str = "\
:root{--fg:#1d1d1f;--muted:#5f6368;--line:#d9dce1;--bg2:#f6f7f9}\
*{box-sizing:border-box}\
body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:var(--fg);margin:0 auto;padding:24px 28px 48px;max-width:1180px}\
h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;margin:36px 0 10px;padding-bottom:4px;border-bottom:2px solid var(--line)}\
h3{font-size:16px;margin:0 0 8px}\
.meta{color:var(--muted);margin:0 0 12px}\
nav{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:14px;margin:0 0 18px}nav a{color:#0b57d0;text-decoration:none}\
table{border-collapse:collapse;margin:8px 0 14px;font-size:14px;max-width:100%}\
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}\
th{background:var(--bg2);font-weight:600}td.n,th.n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}\
code{background:var(--bg2);padding:0 3px;border-radius:3px;font-size:13px}\
.banner{padding:10px 14px;border-radius:6px;font-weight:600;margin:8px 0 4px;border:1px solid}\
.banner.pass{background:#e6f4ea;border-color:#7cc49a}.banner.fail{background:#fce8e6;border-color:#e8998f}.banner.none{background:var(--bg2);border-color:var(--line)}\
.banner ul{margin:6px 0 0;font-weight:400}\
.v{display:inline-block;padding:1px 7px;border-radius:10px;font-weight:600;font-size:13px;white-space:nowrap;text-decoration:none;color:inherit;border:1px solid}\
.v.private{background:#dff3ec;border-color:#009E73;color:#00563f}\
.v.public{background:#fbe3d6;border-color:#D55E00;color:#8a3c00}\
.v.mixed{background:#f3e3ee;border-color:#CC79A7;color:#7a2f62}\
.v.blocked{background:#fdf2cf;border-color:#b58900;color:#6b5100}\
.v.no-traffic,.v.unknown{background:var(--bg2);border-color:#999;color:#555}\
table.matrix td{text-align:center}table.matrix th.row{text-align:left}\
.sw{display:inline-block;width:12px;height:12px;border:1px solid #0003;vertical-align:-1px;margin-right:5px}\
ul.legend{list-style:none;padding:0;margin:4px 0;display:flex;flex-wrap:wrap;gap:4px 16px;font-size:13px}\
section.verdict{border:1px solid var(--line);border-radius:8px;padding:12px 16px;margin:14px 0;break-inside:avoid-page}\
section.verdict:target{outline:3px solid #0b57d0}\
.ev{margin:6px 0 10px}.ev h4{font-size:14px;margin:10px 0 2px}\
.ev dl{margin:2px 0 0;display:grid;grid-template-columns:max-content 1fr;gap:2px 12px}\
.ev dt{color:var(--muted);font-size:13px;padding-top:1px}.ev dd{margin:0}\
.ev ul{margin:0;padding-left:18px}.ev li{margin:1px 0}\
.cnt{display:inline-block;min-width:64px;color:var(--muted);font-variant-numeric:tabular-nums}\
.ex{color:var(--muted);font-size:12.5px}\
details>summary{cursor:pointer;color:#0b57d0;font-size:13px}\
figure{margin:12px 0 22px}figure svg{width:100%;height:auto;display:block}figcaption{font-weight:600;margin-bottom:2px}\
.note{color:var(--muted);font-size:13px}\
.pass{color:#00703c}.fail{color:#b3261e}\
@media print{body{padding:0;max-width:none;font-size:12px}nav{display:none}section.verdict,figure,table{break-inside:avoid}a{color:inherit;text-decoration:none}h2{break-after:avoid}}";

/// A symbol per verdict, so it reads without colour.
fn symbol(v: Verdict) -> &'static str {
    match v {
        Verdict::Private => "✓",
        Verdict::Public => "✗",
        Verdict::Mixed => "◐",
        Verdict::Blocked => "⊘",
        Verdict::NoTraffic => "·",
        Verdict::Unknown => "?",
    }
}

fn badge(v: Verdict) -> String {
    format!(
        "<span class=\"v {c}\">{} {c}</span>",
        symbol(v),
        c = v.as_str()
    )
}

fn swatch(p: super::PathKind) -> String {
    format!(
        "<span class=\"sw\" style=\"background:{}\"></span>",
        path_color(p)
    )
}

/// Input paths to what tells them apart, for evidence examples.
struct Names {
    short: BTreeMap<String, String>,
}

impl Names {
    fn new(r: &Report) -> Names {
        let full: Vec<String> = r.inputs.iter().map(|i| i.path.clone()).collect();
        let short = view::short_names(&full);
        Names {
            short: full.into_iter().zip(short).collect(),
        }
    }

    /// `file:line` with the file shortened.
    fn example(&self, e: &str) -> String {
        if let Some((file, line)) = e.rsplit_once(':') {
            if let Some(s) = self.short.get(file) {
                return format!("{s}:{line}");
            }
        }
        e.to_owned()
    }
}

pub fn render_html(r: &Report) -> Result<Vec<u8>, RenderError> {
    let mut o = String::new();
    let names = Names::new(r);
    o.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    o.push_str("<title>privpath audit</title>\n<style>");
    o.push_str(CSS);
    o.push_str("</style>\n</head>\n<body>\n<h1>privpath audit</h1>\n");
    let (flows, bytes) = view::totals(r);
    let _ = write!(
        o,
        "<p class=\"meta\">{flows} flows, {} sent, from {} inputs",
        format_bytes(bytes),
        r.inputs.len()
    );
    if let Some(w) = view::window_text(r) {
        let _ = write!(o, " · {w}");
    }
    o.push_str("</p>\n");
    let services = chart_services(r);
    o.push_str("<nav><a href=\"#summary\">Summary</a><a href=\"#details\">Details</a>");
    if !services.is_empty() {
        o.push_str("<a href=\"#timeline\">Charts</a>");
    }
    if !r.expectations.is_empty() {
        o.push_str("<a href=\"#expectations\">Expectations</a>");
    }
    if !r.dns.is_empty() {
        o.push_str("<a href=\"#dns\">DNS</a>");
    }
    if !r.endpoints.is_empty() {
        o.push_str("<a href=\"#endpoints\">Endpoints</a>");
    }
    if !r.findings.is_empty() {
        o.push_str("<a href=\"#findings\">Findings</a>");
    }
    o.push_str("<a href=\"#inputs\">Inputs</a></nav>\n");

    summary(&mut o, r);
    details(&mut o, r, &names);
    if !services.is_empty() {
        let _ = writeln!(
            o,
            "<h2 id=\"timeline\">Bytes per path over time</h2>\n<p class=\"note\">Bytes sent per {} bucket, stacked by path; an empty bucket had no traffic. Dashed lines mark endpoint creation. Hatched: public paths.</p>",
            chart::duration(r.timeline.bucket_secs.max(1))
        );
        for s in services {
            let _ = write!(
                o,
                "<figure id=\"chart-{}\">\n<figcaption>{}</figcaption>\n<ul class=\"legend\">",
                h(&anchor_part(s)),
                h(s)
            );
            for p in chart::chart_paths(r, s) {
                let _ = write!(o, "<li>{}{}</li>", swatch_fill(p), p.as_str());
            }
            o.push_str("</ul>\n");
            o.push_str(&render_chart(r, s));
            o.push_str("\n</figure>\n");
        }
    }
    expectations(&mut o, r);
    tail_sections(&mut o, r);
    o.push_str("</body>\n</html>\n");
    Ok(o.into_bytes())
}

fn swatch_fill(p: super::PathKind) -> String {
    if p.is_public() {
        format!(
            "<span class=\"sw\" style=\"background:repeating-linear-gradient(45deg,{c} 0 3px,#fff8 3px 5px),{c}\"></span>",
            c = path_color(p)
        )
    } else {
        swatch(p)
    }
}

fn anchor_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Services with a chart, sorted, once each.
fn chart_services(r: &Report) -> Vec<&str> {
    let mut services: Vec<&str> = r
        .timeline
        .series
        .iter()
        .filter(|s| !s.points.is_empty())
        .map(|s| s.service.as_str())
        .collect();
    services.sort_unstable();
    services.dedup();
    services
}

fn summary(o: &mut String, r: &Report) {
    o.push_str("<section id=\"summary\">\n");
    if r.expectations.is_empty() {
        o.push_str("<div class=\"banner none\">No expectations given: the verdicts below are observations, not checks.</div>\n");
    } else {
        let failed = r.failed_expectations();
        if failed == 0 {
            let _ = writeln!(
                o,
                "<div class=\"banner pass\">✓ All {} expectations hold.</div>",
                r.expectations.len()
            );
        } else {
            let _ = write!(
                o,
                "<div class=\"banner fail\">✗ {failed} of {} expectations failed.<ul>",
                r.expectations.len()
            );
            for (i, e) in r.expectations.iter().enumerate().filter(|(_, e)| !e.met) {
                let _ = write!(
                    o,
                    "<li><a href=\"#e-{i}\"><code>{}</code></a>: {} offending</li>",
                    h(&e.expect),
                    e.violations_total()
                );
            }
            o.push_str("</ul></div>\n");
        }
    }

    o.push_str("<h2 id=\"verdicts\">Verdicts</h2>\n");
    if r.verdicts.is_empty() {
        o.push_str("<p>No flows.</p>\n");
    } else {
        matrix(o, r);
    }

    let totals = view::path_totals(r);
    if !totals.is_empty() {
        o.push_str("<h2 id=\"paths\">Traffic and cost by path</h2>\n");
        let rows = cost::cost_rows(r);
        o.push_str("<table class=\"paths\">\n<tr><th>Path</th><th class=\"n\">Flows</th><th class=\"n\">Bytes sent</th>");
        if r.pricing.is_some() {
            o.push_str("<th class=\"n\">Est. charge</th>");
        }
        o.push_str("</tr>\n");
        for (p, f, b) in &totals {
            let _ = write!(
                o,
                "<tr><td>{}<code>{}</code></td><td class=\"n\">{f}</td><td class=\"n\">{}</td>",
                swatch_fill(*p),
                p.as_str(),
                format_bytes(*b)
            );
            if let Some(pr) = &r.pricing {
                let c = pr.cost(*p, *b);
                let _ = write!(
                    o,
                    "<td class=\"n\">{}</td>",
                    c.map_or_else(|| "–".to_owned(), |c| cost::approx_usd(c.usd))
                );
            }
            o.push_str("</tr>\n");
        }
        o.push_str("</table>\n");
        if let Some(pr) = &r.pricing {
            let worth: Vec<&cost::CostRow> = rows
                .iter()
                .filter(|c| c.instead.is_some() || c.cost.as_ref().is_some_and(|x| x.usd > 0.0))
                .collect();
            if !worth.is_empty() {
                o.push_str("<h3>What each path costs (estimate)</h3>\n<ul class=\"costs\">\n");
                for c in worth {
                    let _ = writeln!(o, "<li>{}</li>", h(&c.sentence()));
                }
                o.push_str("</ul>\n");
            }
            let _ = writeln!(o, "<p class=\"note\">{}</p>", h(&cost::estimate_note(pr)));
        }
    }
    o.push_str("</section>\n");
}

/// Services × hosts; the longer list goes down the rows so the table stays
/// narrow.
fn matrix(o: &mut String, r: &Report) {
    let m = view::matrix(r);
    let hosts_across = m.hosts.len() <= m.services.len();
    let (cols, rows) = if hosts_across {
        (&m.hosts, &m.services)
    } else {
        (&m.services, &m.hosts)
    };
    let _ = write!(
        o,
        "<table class=\"matrix\">\n<tr><th>{}</th>",
        if hosts_across {
            "Service \\ host"
        } else {
            "Host \\ service"
        }
    );
    for c in cols {
        let _ = write!(o, "<th>{}</th>", h(c));
    }
    o.push_str("</tr>\n");
    for (ri, row) in rows.iter().enumerate() {
        let _ = write!(o, "<tr><th class=\"row\">{}</th>", h(row));
        for ci in 0..cols.len() {
            let (s, hst) = if hosts_across { (ri, ci) } else { (ci, ri) };
            let cell = m
                .cells
                .get(s)
                .and_then(|r| r.get(hst))
                .copied()
                .flatten()
                .and_then(|i| r.verdicts.get(i));
            match cell {
                Some(v) => {
                    let _ = write!(
                        o,
                        "<td><a class=\"v {c}\" href=\"#{a}\" title=\"{t}\">{} {c}</a></td>",
                        symbol(v.verdict),
                        c = v.verdict.as_str(),
                        a = h(&view::anchor(v)),
                        t = h(&format!("{} from {}", v.service, v.host.describe()))
                    );
                }
                None => o.push_str("<td class=\"note\">–</td>"),
            }
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</table>\n<p class=\"note\">✓ private · ✗ public (internet or NAT gateway) · ◐ mixed · ⊘ blocked · ? host not in the topology. Click a cell for its evidence.</p>\n");
}

fn details(o: &mut String, r: &Report, names: &Names) {
    if r.verdicts.is_empty() {
        return;
    }
    o.push_str("<h2 id=\"details\">Details per verdict</h2>\n");
    // Worst first, then as sorted (service, host).
    let mut order: Vec<&VerdictRow> = r.verdicts.iter().collect();
    order.sort_by_key(|v| std::cmp::Reverse(view::severity(v.verdict)));
    for v in order {
        let _ = write!(
            o,
            "<section class=\"verdict\" id=\"{}\">\n<h3>{} {} · {}</h3>\n",
            h(&view::anchor(v)),
            badge(v.verdict),
            h(&v.service),
            h(&v.host.describe())
        );
        if v.verdict == Verdict::Mixed {
            let _ = writeln!(
                o,
                "<p>Public until {}, private from {}.</p>",
                v.last_public.map_or_else(|| "-".to_owned(), format_time),
                v.first_private.map_or_else(|| "-".to_owned(), format_time)
            );
        }
        o.push_str("<table>\n<tr><th>Path</th><th class=\"n\">Flows</th><th class=\"n\">Bytes sent</th><th>Outcome</th><th>First</th><th>Last</th>");
        if r.pricing.is_some() {
            o.push_str("<th class=\"n\">Est. charge</th>");
        }
        o.push_str("</tr>\n");
        for p in &v.paths {
            let _ = write!(
                o,
                "<tr><td>{}<code>{}</code></td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td>",
                swatch_fill(p.path),
                p.path,
                p.flows,
                format_bytes(p.bytes),
                p.outcomes.summary(),
                format_time(p.first),
                format_time(p.last)
            );
            if let Some(pr) = &r.pricing {
                let c = pr.cost(p.path, p.bytes);
                let _ = write!(
                    o,
                    "<td class=\"n\">{}</td>",
                    c.map_or_else(|| "–".to_owned(), |c| cost::approx_usd(c.usd))
                );
            }
            o.push_str("</tr>\n");
        }
        o.push_str("</table>\n");
        for p in &v.paths {
            evidence(o, p, names, v.paths.len() > 1);
        }
        // The first flows of each public path, folded: where to look first.
        for p in v
            .paths
            .iter()
            .filter(|p| p.path.is_public() && !p.examples.is_empty())
        {
            let _ = write!(
                o,
                "<details class=\"flows\"><summary>First {} of {} flows via {}</summary>\n<table>\n<tr><th>Time</th><th>Destination</th><th>Outcome</th><th>Source</th></tr>\n",
                p.examples.len(),
                p.flows,
                p.path
            );
            for x in &p.examples {
                let _ = writeln!(
                    o,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    format_time(x.time),
                    h(&x.destination),
                    x.outcome.map_or("-", |o| o.as_str()),
                    h(&names.example(&x.source))
                );
            }
            o.push_str("</table>");
            if p.examples_more() > 0 {
                let _ = write!(
                    o,
                    "<p>… and {} more (<code>-o json</code>, <code>--examples K</code>).</p>",
                    p.examples_more()
                );
            }
            o.push_str("</details>\n");
        }
        o.push_str("</section>\n");
    }
}

/// How many items of one kind show before the rest fold away.
const SHOWN_ITEMS: usize = 3;

fn evidence(o: &mut String, p: &PathRow, names: &Names, heading: bool) {
    let g: EvidenceGroups = view::evidence_groups(p);
    if g.groups.is_empty() && g.untold == 0 {
        return;
    }
    o.push_str("<div class=\"ev\">");
    if heading {
        let _ = write!(o, "<h4>Evidence via <code>{}</code></h4>", p.path);
    } else {
        o.push_str("<h4>Evidence</h4>");
    }
    o.push_str("<dl>");
    for (kind, items) in &g.groups {
        let _ = write!(o, "<dt>{}</dt><dd><ul>", kind.title());
        for (i, it) in items.iter().enumerate() {
            if i == SHOWN_ITEMS {
                let _ = write!(
                    o,
                    "</ul><details><summary>{} more</summary><ul>",
                    items.len() - SHOWN_ITEMS
                );
            }
            let ex: Vec<String> = it
                .examples
                .iter()
                .take(2)
                .map(|e| names.example(e))
                .collect();
            let _ = write!(
                o,
                "<li><span class=\"cnt\">{} flow{}</span> {}",
                it.flows,
                if it.flows == 1 { "" } else { "s" },
                h(&it.text)
            );
            if !ex.is_empty() {
                let _ = write!(o, " <span class=\"ex\">e.g. {}</span>", h(&ex.join(", ")));
            }
            o.push_str("</li>");
        }
        if items.len() > SHOWN_ITEMS {
            o.push_str("</ul></details></dd>");
        } else {
            o.push_str("</ul></dd>");
        }
    }
    if g.untold > 0 {
        let _ = write!(
            o,
            "<dt>other</dt><dd>{} flows with further distinct evidence (not kept: see <code>-o csv</code>)</dd>",
            g.untold
        );
    }
    o.push_str("</dl></div>\n");
}

fn expectations(o: &mut String, r: &Report) {
    if r.expectations.is_empty() {
        return;
    }
    o.push_str("<h2 id=\"expectations\">Expectations</h2>\n");
    for (i, e) in r.expectations.iter().enumerate() {
        let (class, mark) = if e.met {
            ("pass", "✓ PASS")
        } else {
            ("fail", "✗ FAIL")
        };
        let flows: u64 = e.hosts.iter().map(|h| h.flows).sum();
        let _ = writeln!(
            o,
            "<h3 id=\"e-{i}\"><span class=\"{class}\">{mark}</span> <code>{}</code></h3>\n<p class=\"note\">{}; {flows} matching flows, {} offending</p>\n<ul>",
            h(&e.expect),
            h(&e.origin),
            e.violations_total()
        );
        for hr in &e.hosts {
            let who = hr
                .host
                .as_ref()
                .map_or_else(|| "no host".to_owned(), |x| x.describe());
            let _ = write!(
                o,
                "<li>{}: {}",
                h(&who),
                if hr.met { "ok" } else { "failed" }
            );
            if let Some(n) = &hr.note {
                let _ = write!(o, " ({})", h(n));
            }
            if !hr.violations.is_empty() {
                let fold = hr.violations.len() > 5;
                if fold {
                    let _ = write!(
                        o,
                        "\n<details><summary>{} offending flows</summary>",
                        hr.violations.len()
                    );
                }
                o.push_str("\n<table>\n<tr>");
                for c in view::VIOLATION_HEADER {
                    let _ = write!(o, "<th>{c}</th>");
                }
                o.push_str("</tr>\n");
                for v in &hr.violations {
                    o.push_str("<tr>");
                    for c in ViolationCells::of(v).cells() {
                        let _ = write!(o, "<td>{}</td>", h(c));
                    }
                    o.push_str("</tr>\n");
                }
                o.push_str("</table>\n");
                if let Some(n) = view::more(hr.violations_total, hr.violations.len()) {
                    let _ = writeln!(o, "<p>… and {n} more.</p>");
                }
                if fold {
                    o.push_str("</details>\n");
                }
            }
            o.push_str("</li>\n");
        }
        o.push_str("</ul>\n");
    }
}

fn tail_sections(o: &mut String, r: &Report) {
    if !r.dns.is_empty() {
        o.push_str("<h2 id=\"dns\">DNS</h2>\n<table>\n<tr><th>Name</th><th>Host</th><th>Resolves</th><th>Answers</th><th>First</th><th>Last</th><th class=\"n\">Responses</th></tr>\n");
        for d in &r.dns {
            let answers: Vec<String> = d
                .answers
                .iter()
                .map(|a| format!("{} {}", a.address, h(&a.resolution.to_string())))
                .collect();
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
                h(&d.name),
                h(&d.host.label()),
                d.summary(),
                answers.join("<br>"),
                format_time(d.first),
                format_time(d.last),
                d.responses
            );
        }
        o.push_str("</table>\n");
    }
    if !r.private_dns.is_empty() {
        o.push_str("<h2 id=\"private-dns\">Private DNS per interface endpoint</h2>\n<table>\n<tr><th>Endpoint</th><th>Service</th><th>Enabled</th><th>Verdict</th><th>Detail</th></tr>\n");
        for p in &r.private_dns {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                h(&p.endpoint_id),
                h(&p.service_name),
                p.enabled
                    .map_or("unknown", |b| if b { "yes" } else { "no" }),
                h(&p.verdict),
                h(&p.detail)
            );
        }
        o.push_str("</table>\n");
    }
    if !r.endpoints.is_empty() {
        o.push_str("<h2 id=\"endpoints\">Endpoints</h2>\n<table>\n<tr><th>Endpoint</th><th>Path</th><th>Service</th><th class=\"n\">Hosts</th><th class=\"n\">Flows</th><th class=\"n\">Bytes</th><th>First</th><th>Last</th></tr>\n");
        for e in &r.endpoints {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
                h(&e.endpoint_id),
                e.path,
                h(&e.service),
                e.hosts,
                e.flows,
                format_bytes(e.bytes),
                format_time(e.first),
                format_time(e.last)
            );
        }
        o.push_str("</table>\n");
    }
    if !r.findings.is_empty() {
        o.push_str("<h2 id=\"findings\">Findings</h2>\n<ul>\n");
        for f in &r.findings {
            let _ = writeln!(
                o,
                "<li><strong>{}</strong> ({}): {}</li>",
                f.kind.as_str(),
                f.count,
                h(&f.message)
            );
        }
        o.push_str("</ul>\n");
    }
    o.push_str("<h2 id=\"inputs\">Inputs</h2>\n<table>\n<tr><th>Input</th><th>Kind</th><th class=\"n\">Records</th><th class=\"n\">Packets</th><th class=\"n\">Flows</th><th class=\"n\">Skipped</th><th class=\"n\">NODATA</th><th class=\"n\">SKIPDATA</th><th>Error</th></tr>\n");
    for i in &r.inputs {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            h(&i.path),
            h(&i.kind),
            i.records,
            i.packets,
            i.flows,
            i.skipped,
            i.nodata,
            i.skipdata,
            i.error
                .as_deref()
                .map(|e| h(e).into_owned())
                .unwrap_or_default()
        );
    }
    o.push_str("</table>\n");
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
    use scraper::{Html, Selector};

    #[test]
    fn render_html_fixture_snapshot() {
        let out = String::from_utf8(render_html(&fixture::report()).unwrap()).unwrap();
        insta::assert_snapshot!(out);
    }

    /// Parse it back with a real HTML parser: the hostile SNI is text, not a
    /// script element; charts are inline SVG; nothing is loaded from outside.
    #[test]
    fn render_html_parses_back_and_escapes_hostile_sni() {
        let out = String::from_utf8(render_html(&fixture::report()).unwrap()).unwrap();
        let doc = Html::parse_document(&out);
        let sel = |s: &str| Selector::parse(s).unwrap();
        assert_eq!(doc.select(&sel("script")).count(), 0, "no script element");
        assert!(
            doc.root_element()
                .text()
                .any(|t| t.contains(fixture::HOSTILE_SNI)),
            "shown as text"
        );
        assert!(out.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        let svgs = doc.select(&sel("figure svg")).count();
        assert_eq!(
            svgs, 4,
            "one chart per service (aws, cloudformation, external, s3)"
        );
        for attr in ["src", "href"] {
            let s = sel(&format!("[{attr}]"));
            for e in doc.select(&s) {
                let v = e.value().attr(attr).unwrap();
                assert!(!v.contains("://"), "external resource {v}");
            }
        }
        let verdict_cells: Vec<String> = doc
            .select(&sel("table.matrix a.v.mixed"))
            .map(|e| e.text().collect())
            .collect();
        assert_eq!(verdict_cells, vec!["◐ mixed"]);
        // The chart for s3 marks the gateway endpoint's creation.
        let s3 = render_chart(&fixture::report(), "s3");
        assert!(s3.contains("vpce-0s3gw created"));
        assert!(s3.contains("internet-gateway") && s3.contains("gateway-endpoint"));
    }

    /// An endpoint created long before the evidence does not stretch the
    /// chart into millions of buckets.
    #[test]
    fn render_chart_ignores_marks_far_from_the_traffic() {
        let mut report = fixture::report();
        report.timeline.marks.push(crate::report::Mark {
            time: 1_000,
            label: "vpce-old created".to_owned(),
            service: Some("s3".into()),
        });
        let svg = render_chart(&report, "s3");
        assert!(!svg.contains("vpce-old"));
        assert!(svg.contains("vpce-0s3gw created"));
        assert!(svg.len() < 200_000, "{} bytes", svg.len());
    }
}
