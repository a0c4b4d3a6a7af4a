//! `-o html`: one self-contained file (inline CSS and SVG, no scripts, no
//! external resources) with a chart per service: bytes per path over time,
//! endpoint creation times marked, so the move from the internet gateway to
//! an endpoint shows where it happened. Every input-derived string is
//! HTML-escaped.

use std::fmt::Write as _;

use plotters::prelude::*;

use super::escape::html as h;
use super::{PathKind, RenderError, Report, Series, Verdict, format_bytes, format_time};

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}\
table{border-collapse:collapse;margin:1em 0;font-size:14px}\
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}\
td.n{text-align:right}th{background:#f3f3f3}\
.private{color:#137333;font-weight:bold}.public{color:#c5221f;font-weight:bold}\
.blocked{color:#b06000;font-weight:bold}.mixed{color:#8430ce;font-weight:bold}\
.no-traffic,.unknown{color:#777}.pass{color:#137333}.fail{color:#c5221f}\
code{background:#f6f6f6;padding:0 3px}figure{margin:1em 0}";

fn path_color(p: PathKind) -> RGBColor {
    match p {
        PathKind::InterfaceEndpoint => RGBColor(26, 115, 232),
        PathKind::GatewayEndpoint => RGBColor(19, 115, 51),
        PathKind::InternetGateway => RGBColor(197, 34, 31),
        PathKind::NatGateway => RGBColor(232, 113, 10),
        PathKind::Local => RGBColor(0, 137, 123),
        PathKind::Peering | PathKind::TransitGateway | PathKind::VirtualPrivateGateway => {
            RGBColor(121, 85, 72)
        }
        PathKind::NoRoute => RGBColor(128, 128, 128),
        PathKind::Unknown => RGBColor(40, 40, 40),
    }
}

fn chart_err(service: &str, e: impl std::fmt::Display) -> RenderError {
    RenderError::Chart {
        service: service.to_owned(),
        message: e.to_string(),
    }
}

/// One SVG chart: bytes per path over time for `service`.
pub fn render_chart(report: &Report, service: &str) -> Result<String, RenderError> {
    let series: Vec<&Series> = report
        .timeline
        .series
        .iter()
        .filter(|s| s.service == service)
        .collect();
    let width = report.timeline.bucket_secs.max(1);
    let first = series
        .iter()
        .flat_map(|s| s.points.first())
        .map(|p| p.0)
        .min()
        .unwrap_or(0);
    let x_last = series
        .iter()
        .flat_map(|s| s.points.last())
        .map(|p| p.0)
        .max()
        .unwrap_or(0);
    // Marks near the traffic only (an endpoint created years before the
    // evidence would squash the chart): within MAX_BUCKETS buckets of it.
    let reach = width.saturating_mul(super::aggregate::MAX_BUCKETS);
    let marks: Vec<&super::Mark> = report
        .timeline
        .marks
        .iter()
        .filter(|m| m.service.as_deref().is_none_or(|s| s == service))
        .filter(|m| m.time.saturating_add(reach) >= first && m.time <= x_last.saturating_add(reach))
        .collect();
    let mark_max = marks.iter().map(|m| m.time).max().unwrap_or(0);
    let mark_min = marks.iter().map(|m| m.time).min().unwrap_or(u64::MAX);
    let x0 = first.min(mark_min - mark_min % width);
    let x1 = x_last
        .saturating_add(width)
        .max(mark_max.saturating_add(width));
    let y_max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .max()
        .unwrap_or(1)
        .max(1);
    let y1 = y_max + y_max / 10 + 1;

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 320)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| chart_err(service, e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("{service}: bytes per path"), ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, 0u64..y1)
            .map_err(|e| chart_err(service, e))?;
        chart
            .configure_mesh()
            .x_labels(8)
            .y_labels(6)
            .x_label_formatter(&|t| format_time(*t).get(11..16).unwrap_or("").to_owned())
            .y_label_formatter(&|b| format_bytes(*b))
            .x_desc("time (UTC)")
            .draw()
            .map_err(|e| chart_err(service, e))?;
        for s in &series {
            // Fill empty buckets with zero so a path that stops shows the drop.
            let mut points = Vec::new();
            // From the chart's left edge, which marks may pull back by at
            // most MAX_BUCKETS buckets: a bounded number of points.
            let mut t = x0 - x0 % width;
            let mut it = s.points.iter().peekable();
            while t <= x_last {
                let v = match it.peek() {
                    Some(&&(pt, v)) if pt == t => {
                        it.next();
                        v
                    }
                    _ => 0,
                };
                points.push((t, v));
                t = match t.checked_add(width) {
                    Some(next) => next,
                    None => break,
                };
            }
            let color = path_color(s.path);
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))
                .map_err(|e| chart_err(service, e))?
                .label(s.path.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
        }
        for m in &marks {
            let style = RGBColor(90, 90, 90).stroke_width(1);
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(m.time, 0), (m.time, y1)],
                    style,
                )))
                .map_err(|e| chart_err(service, e))?;
            chart
                .draw_series(std::iter::once(Text::new(
                    m.label.clone(),
                    (m.time, y1 - y1 / 12),
                    ("sans-serif", 12).into_font().color(&RGBColor(60, 60, 60)),
                )))
                .map_err(|e| chart_err(service, e))?;
        }
        if !series.is_empty() {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .position(SeriesLabelPosition::UpperLeft)
                .draw()
                .map_err(|e| chart_err(service, e))?;
        }
        root.present().map_err(|e| chart_err(service, e))?;
    }
    Ok(svg)
}

pub fn render_html(r: &Report) -> Result<Vec<u8>, RenderError> {
    let mut o = String::new();
    o.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    o.push_str("<title>privpath audit</title>\n<style>");
    o.push_str(CSS);
    o.push_str("</style>\n</head>\n<body>\n<h1>privpath audit</h1>\n");
    let flows: u64 = r
        .verdicts
        .iter()
        .flat_map(|v| v.paths.iter().map(|p| p.flows))
        .sum();
    let _ = write!(o, "<p>{flows} flows from {} inputs", r.inputs.len());
    if let (Some(a), Some(b)) = (r.window.first, r.window.last) {
        let _ = write!(o, ", {} .. {}", format_time(a), format_time(b));
    }
    o.push('.');
    if !r.expectations.is_empty() {
        let failed = r.failed_expectations();
        if failed == 0 {
            let _ = write!(
                o,
                " <strong class=\"pass\">All {} expectations hold.</strong>",
                r.expectations.len()
            );
        } else {
            let _ = write!(
                o,
                " <strong class=\"fail\">{failed} of {} expectations failed.</strong>",
                r.expectations.len()
            );
        }
    }
    o.push_str("</p>\n");

    o.push_str("<h2 id=\"verdicts\">Verdicts</h2>\n<table>\n<tr><th>Service</th><th>Host</th><th>Verdict</th><th>Path</th><th>Flows</th><th>Bytes</th><th>Outcome</th><th>First</th><th>Last</th><th>Evidence</th></tr>\n");
    for v in &r.verdicts {
        let n = v.paths.len().max(1);
        for (i, p) in v.paths.iter().enumerate() {
            o.push_str("<tr>");
            if i == 0 {
                let _ = write!(
                    o,
                    "<td rowspan=\"{n}\">{}</td><td rowspan=\"{n}\">{}</td><td rowspan=\"{n}\" class=\"{}\">{}</td>",
                    h(&v.service),
                    h(&v.host.describe()),
                    v.verdict.as_str(),
                    v.verdict.as_str()
                );
            }
            let evidence: Vec<String> = p.evidence.iter().map(|e| h(e).into_owned()).collect();
            let _ = writeln!(
                o,
                "<td><code>{}</code></td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                p.path,
                p.flows,
                format_bytes(p.bytes),
                p.outcomes.summary(),
                format_time(p.first),
                format_time(p.last),
                evidence.join("<br>")
            );
        }
    }
    o.push_str("</table>\n");
    let mixed: Vec<_> = r
        .verdicts
        .iter()
        .filter(|v| v.verdict == Verdict::Mixed)
        .collect();
    if !mixed.is_empty() {
        o.push_str("<ul>\n");
        for v in mixed {
            let _ = writeln!(
                o,
                "<li>{} from {}: public until {}, private from {}</li>",
                h(&v.service),
                h(&v.host.label()),
                v.last_public.map_or_else(|| "-".to_owned(), format_time),
                v.first_private.map_or_else(|| "-".to_owned(), format_time)
            );
        }
        o.push_str("</ul>\n");
    }

    let mut services: Vec<&str> = r
        .timeline
        .series
        .iter()
        .map(|s| s.service.as_str())
        .collect();
    services.dedup();
    if !services.is_empty() {
        let _ = writeln!(
            o,
            "<h2 id=\"timeline\">Bytes per path over time</h2>\n<p>Buckets of {} s; vertical lines mark endpoint creation.</p>",
            r.timeline.bucket_secs
        );
        for s in services {
            let svg = render_chart(r, s)?;
            let _ = writeln!(
                o,
                "<figure>\n{svg}\n<figcaption>{}</figcaption>\n</figure>",
                h(s)
            );
        }
    }

    if r.public_paths().next().is_some() {
        o.push_str("<h2 id=\"public-flows\">Public flows</h2>\n");
        for (v, p) in r.public_paths() {
            let _ = writeln!(
                o,
                "<h3>{} from {} via <code>{}</code>: {} flows</h3>\n<table>\n<tr><th>Time</th><th>Destination</th><th>Outcome</th><th>Evidence</th><th>Source</th></tr>",
                h(&v.service),
                h(&v.host.label()),
                p.path,
                p.flows
            );
            for x in &p.examples {
                let _ = writeln!(
                    o,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    format_time(x.time),
                    h(&x.destination),
                    x.outcome.map_or("-", |o| o.as_str()),
                    h(&x.evidence),
                    h(&x.source)
                );
            }
            o.push_str("</table>\n");
            if p.examples_more() > 0 {
                let _ = writeln!(o, "<p>… and {} more.</p>", p.examples_more());
            }
        }
    }

    if !r.expectations.is_empty() {
        o.push_str("<h2 id=\"expectations\">Expectations</h2>\n");
        for e in &r.expectations {
            let (class, mark) = if e.met {
                ("pass", "PASS")
            } else {
                ("fail", "FAIL")
            };
            let flows: u64 = e.hosts.iter().map(|h| h.flows).sum();
            let _ = writeln!(
                o,
                "<h3><span class=\"{class}\">{mark}</span> <code>{}</code></h3>\n<p>{}; {flows} matching, {} offending</p>\n<ul>",
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
                    o.push_str("\n<table>\n<tr><th>Time</th><th>Host</th><th>Destination</th><th>Path</th><th>Outcome</th><th>Evidence</th><th>Source</th></tr>\n");
                    for v in &hr.violations {
                        let _ = writeln!(
                            o,
                            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                            format_time(v.time),
                            h(&v.host.label()),
                            h(&v.destination),
                            v.path.map_or("-", |p| p.as_str()),
                            v.outcome.map_or("-", |x| x.as_str()),
                            h(&v.evidence),
                            h(&v.source)
                        );
                    }
                    o.push_str("</table>\n");
                    let shown = u64::try_from(hr.violations.len()).unwrap_or(u64::MAX);
                    if hr.violations_total > shown {
                        let _ = writeln!(o, "<p>… and {} more.</p>", hr.violations_total - shown);
                    }
                }
                o.push_str("</li>\n");
            }
            o.push_str("</ul>\n");
        }
    }

    if !r.dns.is_empty() {
        o.push_str("<h2 id=\"dns\">DNS</h2>\n<table>\n<tr><th>Name</th><th>Host</th><th>Resolves</th><th>Answers</th><th>First</th><th>Last</th><th>Responses</th></tr>\n");
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
        o.push_str("<h2 id=\"endpoints\">Endpoints</h2>\n<table>\n<tr><th>Endpoint</th><th>Path</th><th>Service</th><th>Hosts</th><th>Flows</th><th>Bytes</th><th>First</th><th>Last</th></tr>\n");
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
    o.push_str("<h2 id=\"inputs\">Inputs</h2>\n<table>\n<tr><th>Input</th><th>Kind</th><th>Records</th><th>Packets</th><th>Flows</th><th>Skipped</th><th>NODATA</th><th>SKIPDATA</th><th>Error</th></tr>\n");
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
    o.push_str("</table>\n</body>\n</html>\n");
    Ok(o.into_bytes())
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
            .select(&sel("td.mixed"))
            .map(|e| e.text().collect())
            .collect();
        assert_eq!(verdict_cells, vec!["mixed"]);
        // The chart for s3 marks the gateway endpoint's creation.
        let s3 = render_chart(&fixture::report(), "s3").unwrap();
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
        let svg = render_chart(&report, "s3").unwrap();
        assert!(!svg.contains("vpce-old"));
        assert!(svg.contains("vpce-0s3gw created"));
        assert!(svg.len() < 200_000, "{} bytes", svg.len());
    }
}
