//! The HTML report in a real browser: every lab report rendered by headless
//! Chromium to a DOM dump and a PNG. The DOM must hold every verdict (matrix
//! cell and details section), a chart per service with traffic, and no table
//! (nor the page) wider than a 1280 px viewport, as the browser lays it out:
//! a copy of the report with a small measuring script writes the widths into
//! the DOM that `--dump-dom` returns. The PNGs go to `target/browser/` for
//! people to look at.
//!
//! Chromium: `PRIVPATH_TEST_CHROMIUM` (set by `.ci/run`) names the binary and
//! the tests fail if it does not run; unset, `chromium` on the PATH is used,
//! and without one the tests print why and pass without running.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::print_stderr
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use scraper::{Html, Selector};

use crate::harness::{run, sample};

const VIEWPORT: u32 = 1280;

/// The Chromium binary, or `None` (with the reason printed).
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PRIVPATH_TEST_CHROMIUM").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        let ok = Command::new(&p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            ok,
            "PRIVPATH_TEST_CHROMIUM={} is set but does not run",
            p.display()
        );
        return Some(p);
    }
    for name in ["chromium", "chromium-browser"] {
        if Command::new(name)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return Some(PathBuf::from(name));
        }
    }
    eprintln!(
        "skipped: no Chromium (apt-get install chromium, or export PRIVPATH_TEST_CHROMIUM=/path/to/chromium)"
    );
    None
}

/// Where the PNGs and DOM dumps go: `target/browser/`.
fn out_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("browser");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Run headless Chromium on `page` with `extra` flags; returns stdout.
fn headless(chrome: &Path, page: &Path, height: u32, extra: &[String]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chrome)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--window-size={VIEWPORT},{height}"))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed on {}: {}",
        page.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Writes, into `<pre id="privpath-measure">`, the page's scroll width and
/// height and each table's laid-out width, as JSON.
const MEASURE: &str = r#"<script>
(function(){
  var t = Array.prototype.map.call(document.querySelectorAll('table'), function(e){
    var r = e.getBoundingClientRect(); return {cls: e.className, right: Math.ceil(r.right), width: Math.ceil(r.width)};
  });
  var p = document.createElement('pre'); p.id = 'privpath-measure';
  p.textContent = JSON.stringify({page_width: document.documentElement.scrollWidth,
    page_height: document.documentElement.scrollHeight, viewport: window.innerWidth, tables: t});
  document.body.appendChild(p);
})();
</script>"#;

/// Every lab under `samples/lab/`.
const LABS: [&str; 5] = [
    "1-baseline",
    "2-s3-gateway-endpoint",
    "3-cfn-interface-endpoint",
    "4-private-dns-off",
    "timeline",
];

#[test]
fn html_report_of_every_lab_renders_in_chromium() {
    let Some(chrome) = chromium() else {
        return;
    };
    let out = out_dir();
    for name in LABS {
        let dir = sample(&format!("lab/{}", name));
        let html_path = out.join(format!("{}.html", name));
        let json_path = out.join(format!("{}.json", name));
        let formats_dir = out.join(format!("{}-out", name));
        std::fs::create_dir_all(&formats_dir).unwrap();
        let r = run([
            "audit".as_ref(),
            dir.as_os_str(),
            "-o".as_ref(),
            "html".as_ref(),
            "-o".as_ref(),
            "json".as_ref(),
            "--out".as_ref(),
            formats_dir.as_os_str(),
        ]);
        assert!(r.code == 0 || r.code == 1, "{}", r.snapshot());
        std::fs::copy(formats_dir.join("audit.html"), &html_path).unwrap();
        std::fs::copy(formats_dir.join("audit.json"), &json_path).unwrap();
        let html = std::fs::read_to_string(&html_path).unwrap();
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();

        // The report's own DOM as Chromium parsed it (no script of ours).
        let dom = headless(&chrome, &html_path, 900, &["--dump-dom".to_owned()]);
        std::fs::write(out.join(format!("{}.dom.html", name)), &dom).unwrap();
        let doc = Html::parse_document(&dom);
        let sel = |s: &str| Selector::parse(s).unwrap();
        let verdicts = json["verdicts"].as_array().unwrap();
        assert!(!verdicts.is_empty(), "{}: no verdicts", name);
        assert_eq!(
            doc.select(&sel("table.matrix")).count(),
            1,
            "{}: the verdict matrix",
            name
        );
        assert_eq!(
            doc.select(&sel("section.verdict")).count(),
            verdicts.len(),
            "{}: one details section per verdict row",
            name
        );
        for v in verdicts {
            let service = v["service"].as_str().unwrap();
            let verdict = v["verdict"].as_str().unwrap();
            let host = v["host"]["instance_id"]
                .as_str()
                .or(v["host"]["eni"].as_str())
                .map(str::to_owned)
                .or(v["host"]["address"].as_str().map(str::to_owned))
                .unwrap();
            let found = doc.select(&sel("section.verdict")).any(|s| {
                let title: String = s
                    .select(&sel("h3"))
                    .next()
                    .map(|h| h.text().collect())
                    .unwrap_or_default();
                title.contains(verdict) && title.contains(service) && title.contains(&host)
            });
            assert!(found, "{}: no details for {service} {host} {verdict}", name);
            let cell = doc.select(&sel("table.matrix a.v")).any(|a| {
                let href = a.value().attr("href").unwrap_or("");
                let target = href.trim_start_matches('#');
                a.text().collect::<String>().contains(verdict)
                    && doc
                        .select(&sel(&format!("section[id=\"{target}\"]")))
                        .next()
                        .is_some()
            });
            assert!(cell, "{}: no matrix cell linking {verdict}", name);
        }
        let mut services: Vec<&str> = json["timeline"]["series"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| !s["points"].as_array().unwrap().is_empty())
            .map(|s| s["service"].as_str().unwrap())
            .collect();
        services.sort_unstable();
        services.dedup();
        assert_eq!(
            doc.select(&sel("figure svg.chart")).count(),
            services.len(),
            "{}: one chart per service",
            name
        );
        assert_eq!(
            doc.select(&sel("script")).count(),
            0,
            "no script in the report"
        );

        // Widths as the browser lays the page out at 1280 px.
        let measured_page = out.join(format!("{}.measure.html", name));
        std::fs::write(
            &measured_page,
            html.replace("</body>", &format!("{MEASURE}</body>")),
        )
        .unwrap();
        let dom = headless(&chrome, &measured_page, 900, &["--dump-dom".to_owned()]);
        let doc = Html::parse_document(&dom);
        let text: String = doc
            .select(&sel("pre#privpath-measure"))
            .next()
            .unwrap_or_else(|| panic!("{}: the measuring script did not run", name))
            .text()
            .collect();
        let m: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(m["viewport"].as_u64(), Some(u64::from(VIEWPORT)), "{m}");
        let page_width = m["page_width"].as_u64().unwrap();
        assert!(
            page_width <= u64::from(VIEWPORT),
            "{}: the page is {page_width} px wide",
            name
        );
        let tables = m["tables"].as_array().unwrap();
        assert!(!tables.is_empty());
        for t in tables {
            let right = t["right"].as_u64().unwrap();
            assert!(
                right <= u64::from(VIEWPORT),
                "{}: a table ({}) ends at {right} px, past the {VIEWPORT} px viewport",
                name,
                t["cls"]
            );
        }

        // A picture of the whole page for people.
        let height = u32::try_from(m["page_height"].as_u64().unwrap().clamp(600, 12_000)).unwrap();
        let png = out.join(format!("{}.png", name));
        headless(
            &chrome,
            &html_path,
            height,
            &[format!("--screenshot={}", png.display())],
        );
        let meta = std::fs::metadata(&png).unwrap();
        assert!(meta.len() > 10_000, "{}: the screenshot is empty", name);
        eprintln!("{}: {} ({} px tall)", name, png.display(), height);
    }
}
