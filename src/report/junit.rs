//! `-o junit`: one test case per expectation and host; a failure carries the
//! offending flows. For CI systems that show JUnit results.

use std::fmt::Write as _;

use super::Report;
use super::escape::xml;

pub fn render_junit(r: &Report) -> Vec<u8> {
    let cases: usize = r.expectations.iter().map(|e| e.hosts.len()).sum();
    let failures: usize = r
        .expectations
        .iter()
        .flat_map(|e| e.hosts.iter())
        .filter(|h| !h.met)
        .count();
    let mut o = String::new();
    o.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        o,
        "<testsuites name=\"privpath audit\" tests=\"{cases}\" failures=\"{failures}\" errors=\"0\">"
    );
    let _ = writeln!(
        o,
        "  <testsuite name=\"privpath audit expectations\" tests=\"{cases}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">"
    );
    for e in &r.expectations {
        for h in &e.hosts {
            let who = h
                .host
                .as_ref()
                .map_or_else(|| "no host".to_owned(), |h| h.describe());
            let _ = write!(
                o,
                "    <testcase classname=\"privpath.expect\" name=\"{} on {}\" file=\"{}\"",
                xml(&e.expect),
                xml(&who),
                xml(&e.origin)
            );
            if h.met {
                o.push_str(" />\n");
                continue;
            }
            o.push_str(">\n");
            let message = match (&h.note, h.violations_total) {
                (Some(n), 0) => n.clone(),
                (_, n) => format!("{n} offending flows"),
            };
            let _ = write!(
                o,
                "      <failure type=\"expectation\" message=\"{}\">",
                xml(&message)
            );
            let mut body = String::new();
            if let Some(n) = &h.note {
                let _ = writeln!(body, "{n}");
            }
            for v in &h.violations {
                let _ = writeln!(body, "{}", super::view::ViolationCells::of(v).line());
            }
            if let Some(n) = super::view::more(h.violations_total, h.violations.len()) {
                let _ = writeln!(body, "… and {n} more");
            }
            o.push_str(&xml(&body));
            o.push_str("</failure>\n    </testcase>\n");
        }
    }
    o.push_str("  </testsuite>\n</testsuites>\n");
    o.into_bytes()
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
    use quick_xml::events::Event;

    #[test]
    fn render_junit_fixture_snapshot() {
        let out = String::from_utf8(render_junit(&fixture::report())).unwrap();
        insta::assert_snapshot!(out);
    }

    /// Parse the output back with a real XML parser: counts and failures agree.
    #[test]
    fn render_junit_parses_back_with_quick_xml() {
        let report = fixture::report();
        let out = render_junit(&report);
        let mut reader = quick_xml::Reader::from_reader(out.as_slice());
        let mut buf = Vec::new();
        let (mut cases, mut failures, mut failure_text) = (0, 0, String::new());
        let mut in_failure = false;
        loop {
            match reader.read_event_into(&mut buf).unwrap() {
                Event::Eof => break,
                Event::Start(e) | Event::Empty(e) if e.name().as_ref() == "testcase" => cases += 1,
                Event::Start(e) if e.name().as_ref() == "failure" => {
                    failures += 1;
                    in_failure = true;
                }
                Event::End(e) if e.name().as_ref() == "failure" => in_failure = false,
                Event::Text(t) if in_failure => failure_text.push_str(&t.xml10_content()),
                Event::GeneralRef(r) if in_failure => {
                    failure_text.push_str(&format!("&{};", r.into_inner()));
                }
                _ => {}
            }
            buf.clear();
        }
        let want_cases: usize = report.expectations.iter().map(|e| e.hosts.len()).sum();
        let want_failures = report
            .expectations
            .iter()
            .flat_map(|e| &e.hosts)
            .filter(|h| !h.met)
            .count();
        assert_eq!(cases, want_cases);
        assert_eq!(failures, want_failures);
        assert!(failures > 0);
        assert!(
            failure_text.contains("tcp 52.219.60.1:443"),
            "{failure_text}"
        );
        assert!(failure_text.contains("internet-gateway"), "{failure_text}");
    }
}
