//! `--github`: GitHub Actions workflow commands (`::error …::…`), one per
//! failed expectation and host and one per verdict that left the VPC over a
//! public path, so a job shows them on its summary page. A pure function of
//! the report; escaped as the runner expects (`%`, CR, LF; also `:` and `,`
//! in properties).

use std::fmt::Write as _;

use super::view::ViolationCells;
use super::{Report, Verdict};

fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The annotations, one per line.
pub fn render_annotations(r: &Report) -> String {
    let mut o = String::new();
    for e in r.expectations.iter().filter(|e| !e.met) {
        for hr in e.hosts.iter().filter(|h| !h.met) {
            let who = hr
                .host
                .as_ref()
                .map_or_else(|| "no host".to_owned(), |h| h.describe());
            let clean = |s: &str| crate::error::sanitize(s, 1_000);
            let mut msg = format!("{}: {} offending flows", clean(&who), hr.violations_total);
            if let Some(n) = &hr.note {
                msg.push_str(&format!(" ({})", clean(n)));
            }
            if let Some(v) = hr.violations.first() {
                msg.push_str(&format!(
                    "\nfirst: {}",
                    clean(&ViolationCells::of(v).line())
                ));
            }
            let _ = writeln!(
                o,
                "::error title={}::{}",
                property(&clean(&format!(
                    "privpath: expectation {} failed",
                    e.expect
                ))),
                data(&msg)
            );
        }
    }
    for v in &r.verdicts {
        if !matches!(v.verdict, Verdict::Public | Verdict::Mixed) {
            continue;
        }
        let public: Vec<&str> = v
            .paths
            .iter()
            .filter(|p| p.path.is_public())
            .map(|p| p.path.as_str())
            .collect();
        let _ = writeln!(
            o,
            "::warning title={}::{}",
            property(&format!("privpath: {} is {}", v.service, v.verdict)),
            data(&crate::error::sanitize(
                &format!(
                    "{} from {} went via {}",
                    v.service,
                    v.host.describe(),
                    public.join(", ")
                ),
                2_000
            ))
        );
    }
    o
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::report::fixture;

    #[test]
    fn annotations_one_line_each_escaped() {
        let out = render_annotations(&fixture::report());
        let lines: Vec<&str> = out.lines().collect();
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("::error title=privpath%3A expectation")),
            "{out}"
        );
        assert!(lines.iter().any(|l| l.starts_with("::warning ")), "{out}");
        for l in &lines {
            assert!(
                l.starts_with("::error ") || l.starts_with("::warning "),
                "{l}"
            );
        }
        assert_eq!(data("a%b\nc"), "a%25b%0Ac");
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
    }
}
