//! The HTML report's charts: one inline SVG per service, bytes per path per
//! time bucket as stacked bars. A bucket without traffic draws nothing (no
//! line is drawn across it); the time axis is labelled at round steps chosen
//! for the window's length, so labels are distinct at any length; endpoint
//! creation is a dashed line labelled inside the plot, staggered so labels do
//! not overlap (the legend is HTML beside the chart, never on top of it).
//! Colours are the Okabe–Ito palette, and public paths are also hatched, so
//! the paths stay apart for colour-blind readers and in grey print.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::escape::html as h;
use super::{Mark, PathKind, Report, format_bytes};

/// Okabe–Ito colours per path.
pub fn path_color(p: PathKind) -> &'static str {
    match p {
        PathKind::InternetGateway => "#D55E00",
        PathKind::NatGateway => "#E69F00",
        PathKind::GatewayEndpoint => "#009E73",
        PathKind::InterfaceEndpoint => "#0072B2",
        PathKind::Local => "#56B4E9",
        PathKind::Peering | PathKind::TransitGateway | PathKind::VirtualPrivateGateway => "#CC79A7",
        PathKind::NoRoute => "#999999",
        PathKind::Unknown => "#333333",
    }
}

/// The fill of a path: its colour, hatched for public paths.
pub fn path_fill(p: PathKind) -> String {
    if p.is_public() {
        format!("url(#hatch-{})", p.as_str())
    } else {
        path_color(p).to_owned()
    }
}

/// SVG `<defs>` with the hatch patterns (once per document is enough; each
/// chart carries its own so it stands alone).
fn defs() -> String {
    let mut s = String::from("<defs>");
    for p in [PathKind::InternetGateway, PathKind::NatGateway] {
        let _ = write!(
            s,
            "<pattern id=\"hatch-{name}\" patternUnits=\"userSpaceOnUse\" width=\"6\" height=\"6\" patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"{c}\"/><rect width=\"2\" height=\"6\" fill=\"#fff\" fill-opacity=\"0.55\"/></pattern>",
            name = p.as_str(),
            c = path_color(p)
        );
    }
    s.push_str("</defs>");
    s
}

// Geometry, in SVG user units (the chart scales to the page width).
const W: f64 = 1000.0;
const H: f64 = 280.0;
const LEFT: f64 = 78.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 44.0;
const BOTTOM: f64 = 46.0;

/// Time-axis steps to choose from, in seconds.
const STEPS: [u64; 17] = [
    10, 30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 10_800, 21_600, 43_200, 86_400, 172_800,
    604_800, 2_592_000,
];

/// The smallest round step that gives at most `max` labels over `span`.
pub fn time_step(span: u64, max: u64) -> u64 {
    STEPS
        .iter()
        .copied()
        .find(|s| span / s < max)
        .unwrap_or_else(|| span / max.max(1) + 1)
}

/// A label for `t` at `step` granularity: seconds only below a minute, the
/// date once steps reach a day (or on the first label of a new day).
pub fn time_label(t: u64, step: u64, with_date: bool) -> String {
    let full = super::format_time(t); // 2026-11-25T10:00:00Z
    let date = full.get(5..10).unwrap_or("");
    let hm = full.get(11..16).unwrap_or("");
    let hms = full.get(11..19).unwrap_or("");
    if step >= 86_400 {
        date.to_owned()
    } else if step < 60 {
        if with_date {
            format!("{date} {hms}")
        } else {
            hms.to_owned()
        }
    } else if with_date {
        format!("{date} {hm}")
    } else {
        hm.to_owned()
    }
}

/// A round upper bound and step for the byte axis, round in the unit the
/// labels use (B, KiB, MiB …: `format_bytes`), at most 5 steps.
fn byte_axis(max: u64) -> (u64, u64) {
    let max = max.max(1);
    let mut unit = 1u64;
    while max / unit >= 1024 && unit <= u64::MAX / 1024 / 1024 {
        unit *= 1024;
    }
    for m in [1u64, 2, 5, 10, 20, 50, 100, 200, 250, 500, 1000] {
        let s = unit.saturating_mul(m);
        if max.div_ceil(s) <= 5 {
            return (s.saturating_mul(max.div_ceil(s)), s);
        }
    }
    (max, max)
}

/// The marks drawn on `service`'s chart: its own and the ones for every
/// chart, within `reach` seconds of the traffic.
fn marks_for<'a>(report: &'a Report, service: &str, lo: u64, hi: u64, reach: u64) -> Vec<&'a Mark> {
    report
        .timeline
        .marks
        .iter()
        .filter(|m| m.service.as_deref().is_none_or(|s| s == service))
        .filter(|m| m.time.saturating_add(reach) >= lo && m.time <= hi.saturating_add(reach))
        .collect()
}

/// The paths drawn on `service`'s chart, in stacking order (bottom first).
pub fn chart_paths(report: &Report, service: &str) -> Vec<PathKind> {
    let mut paths: Vec<PathKind> = report
        .timeline
        .series
        .iter()
        .filter(|s| s.service == service && !s.points.is_empty())
        .map(|s| s.path)
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

/// One SVG chart: bytes per path per bucket for `service`, stacked.
pub fn render_chart(report: &Report, service: &str) -> String {
    let width = report.timeline.bucket_secs.max(1);
    // bucket start -> path -> bytes
    let mut buckets: BTreeMap<u64, BTreeMap<PathKind, u64>> = BTreeMap::new();
    for s in report
        .timeline
        .series
        .iter()
        .filter(|s| s.service == service)
    {
        for &(t, b) in &s.points {
            let e = buckets.entry(t).or_default().entry(s.path).or_insert(0);
            *e = e.saturating_add(b);
        }
    }
    let lo = buckets.keys().next().copied().unwrap_or(0);
    let hi = buckets.keys().next_back().copied().unwrap_or(0);
    let reach = width.saturating_mul(super::aggregate::MAX_BUCKETS);
    let marks = marks_for(report, service, lo, hi, reach);
    let x0 = marks
        .iter()
        .map(|m| m.time - m.time % width)
        .chain(std::iter::once(lo))
        .min()
        .unwrap_or(lo);
    let x1 = marks
        .iter()
        .map(|m| m.time.saturating_add(1))
        .chain(std::iter::once(hi.saturating_add(width)))
        .max()
        .unwrap_or(hi)
        .max(x0.saturating_add(width));
    let span = x1 - x0;
    let y_max = buckets
        .values()
        .map(|m| m.values().fold(0u64, |a, b| a.saturating_add(*b)))
        .max()
        .unwrap_or(0);
    let (y_top, y_step) = byte_axis(y_max);
    let pw = W - LEFT - RIGHT;
    let ph = H - TOP - BOTTOM;
    #[allow(clippy::cast_precision_loss)]
    let x_of = |t: u64| LEFT + (t.saturating_sub(x0)) as f64 / span as f64 * pw;
    #[allow(clippy::cast_precision_loss)]
    let y_of = |b: u64| TOP + ph - b as f64 / y_top as f64 * ph;

    let mut o = String::new();
    let _ = write!(
        o,
        "<svg class=\"chart\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{s}: bytes per path per {width}-second bucket\" xmlns=\"http://www.w3.org/2000/svg\" font-family=\"system-ui,sans-serif\" font-size=\"12\">",
        s = h(service)
    );
    let _ = write!(o, "<title>{}: bytes per path over time</title>", h(service));
    o.push_str(&defs());
    // Grid and the byte axis.
    let mut b = 0u64;
    while b <= y_top {
        let y = y_of(b);
        let _ = write!(
            o,
            "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#444\">{}</text>",
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            format_bytes(b)
        );
        match b.checked_add(y_step) {
            Some(n) if y_step > 0 => b = n,
            _ => break,
        }
    }
    // Time axis: round steps, at most 8 labels; the date on the first label
    // and wherever the day changes.
    let step = time_step(span, 8).max(STEPS.iter().copied().find(|&s| s >= width).unwrap_or(width));
    let mut t = x0.div_ceil(step).saturating_mul(step);
    let mut last_day = None;
    // Over more than one day every label carries its date (else `22:00`
    // would repeat).
    let multi_day = x0 / 86_400 != x1 / 86_400;
    let _ = write!(
        o,
        "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#444\"/>",
        W - RIGHT,
        TOP + ph,
        TOP + ph
    );
    while t <= x1 {
        let x = x_of(t);
        // The last label may not run past the plot's right edge.
        let anchor = if x > W - RIGHT - 40.0 {
            "end"
        } else {
            "middle"
        };
        let day = t / 86_400;
        let with_date = multi_day || last_day != Some(day);
        last_day = Some(day);
        let _ = write!(
            o,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#444\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\" fill=\"#444\">{}</text>",
            TOP + ph,
            TOP + ph + 5.0,
            TOP + ph + 19.0,
            time_label(t, step, with_date)
        );
        match t.checked_add(step) {
            Some(n) => t = n,
            None => break,
        }
    }
    let _ = write!(
        o,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#666\">time (UTC), bars of {}</text>",
        LEFT + pw / 2.0,
        H - 6.0,
        duration(width)
    );
    // Bars: one stack per bucket with traffic; empty buckets stay empty.
    #[allow(clippy::cast_precision_loss)]
    let bar_w = (width as f64 / span as f64 * pw).max(1.0);
    let gap = if bar_w > 6.0 { 1.0 } else { 0.0 };
    for (&t, paths) in &buckets {
        let mut base = 0u64;
        for (&p, &bytes) in paths {
            if bytes == 0 {
                continue;
            }
            let top = base.saturating_add(bytes);
            let (ya, yb) = (y_of(top), y_of(base));
            let _ = write!(
                o,
                "<rect x=\"{:.2}\" y=\"{ya:.2}\" width=\"{:.2}\" height=\"{:.2}\" fill=\"{}\" stroke=\"{}\" stroke-width=\"0.5\"><title>{} via {}: {}</title></rect>",
                x_of(t) + gap / 2.0,
                (bar_w - gap).max(0.5),
                (yb - ya).max(0.5),
                path_fill(p),
                path_color(p),
                super::format_time(t),
                p.as_str(),
                format_bytes(bytes)
            );
            base = top;
        }
    }
    // Marks: a dashed line each; labels along the top, staggered in rows so
    // that neighbours never overlap, anchored away from the right edge.
    let mut rows_end: Vec<f64> = Vec::new();
    for m in &marks {
        let x = x_of(m.time);
        let _ = write!(
            o,
            "<line class=\"mark\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#222\" stroke-dasharray=\"4 3\"/>",
            TOP - 4.0,
            TOP + ph
        );
        #[allow(clippy::cast_precision_loss)]
        let text_w = m.label.chars().count() as f64 * 6.6;
        let right_side = x + text_w > W - RIGHT;
        let (start, end) = if right_side {
            (x - text_w - 4.0, x - 4.0)
        } else {
            (x + 4.0, x + 4.0 + text_w)
        };
        let row = rows_end
            .iter()
            .position(|&e| e < start)
            .unwrap_or(rows_end.len());
        if let Some(e) = rows_end.get_mut(row) {
            *e = end;
        } else {
            rows_end.push(end);
        }
        #[allow(clippy::cast_precision_loss)]
        let y = 14.0 + row as f64 * 14.0;
        let _ = write!(
            o,
            "<text class=\"mark-label\" x=\"{:.1}\" y=\"{y:.1}\" text-anchor=\"{}\" fill=\"#222\">{}</text>",
            if right_side { x - 4.0 } else { x + 4.0 },
            if right_side { "end" } else { "start" },
            h(&m.label)
        );
    }
    o.push_str("</svg>");
    o
}

/// `60 s`, `5 min`, `1 h`, `1 d`.
pub fn duration(secs: u64) -> String {
    if secs % 86_400 == 0 {
        format!("{} d", secs / 86_400)
    } else if secs % 3_600 == 0 {
        format!("{} h", secs / 3_600)
    } else if secs % 60 == 0 {
        format!("{} min", secs / 60)
    } else {
        format!("{secs} s")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn time_labels_are_distinct_at_any_window_length() {
        let t0 = 1_764_064_800; // 2025-11-25T10:00:00Z
        for span in [120, 600, 3_600, 4 * 3_600, 86_400, 3 * 86_400, 30 * 86_400] {
            let step = time_step(span, 8);
            let mut labels = Vec::new();
            let mut t = t0;
            let mut last_day = None;
            let multi_day = t0 / 86_400 != (t0 + span) / 86_400;
            while t <= t0 + span {
                let day = t / 86_400;
                labels.push(time_label(t, step, multi_day || last_day != Some(day)));
                last_day = Some(day);
                t += step;
            }
            assert!(labels.len() <= 9, "span {span}: {labels:?}");
            let mut d = labels.clone();
            d.sort();
            d.dedup();
            assert_eq!(d.len(), labels.len(), "span {span}: {labels:?}");
        }
    }

    #[test]
    fn byte_axis_is_round_and_covers_the_maximum() {
        assert_eq!(byte_axis(0), (1, 1));
        assert_eq!(byte_axis(1000), (1000, 200));
        // KiB-round when the labels are in KiB: 9.7 KiB of data -> 10 KiB top.
        assert_eq!(byte_axis(9_933), (10_240, 2_048));
        let (top, step) = byte_axis(123_456);
        assert!(top >= 123_456 && top / step <= 5, "{top} {step}");
    }
}
