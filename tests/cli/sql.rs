//! The audit as SQL, run for real: the emitted statements on DuckDB and
//! Spark (local mode, one session for every case) over the lab samples'
//! flow logs and a generated case (text and Parquet), compared row for row
//! with `privpath audit -o json` on the same inputs; `privpath report` of
//! the engine's result against the audit's report and exit code; the
//! Athena/Trino dialect parsed by sqlglot (`read="trino"`).
//!
//! The engines are Python packages driven by `tests/cli/sql_engines.py`.
//! Without them these tests skip and say why; with
//! `PRIVPATH_TEST_SQL_ENGINES=1` (`.ci/run` exports it after installing
//! duckdb, pyspark and sqlglot) a missing engine fails the test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{root, run, sample, tempdir};

const LABS: [&str; 5] = [
    "1-baseline",
    "2-s3-gateway-endpoint",
    "3-cfn-interface-endpoint",
    "4-private-dns-off",
    "timeline",
];

/// The cases Spark runs too (DuckDB runs every case).
const SPARK_CASES: [&str; 3] = ["1-baseline", "timeline", "scale-parquet"];

/// Whether CI promised the engines.
fn required() -> bool {
    std::env::var_os("PRIVPATH_TEST_SQL_ENGINES").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Run the engine driver; `false` (with the reason printed) when the
/// engine's package is missing and CI did not promise it.
#[track_caller]
fn drive(engine: &str, jobs: &serde_json::Value, dir: &Path) -> bool {
    let spec = dir.join(format!("jobs-{engine}.json"));
    std::fs::write(
        &spec,
        serde_json::to_vec(&serde_json::json!({"engine": engine, "jobs": jobs})).unwrap(),
    )
    .unwrap();
    let out = match Command::new("python3")
        .arg(root().join("tests/cli/sql_engines.py"))
        .arg(&spec)
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            assert!(
                !required(),
                "PRIVPATH_TEST_SQL_ENGINES is set but python3 does not run: {e}"
            );
            eprintln!("skipped: python3 does not run ({e})");
            return false;
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(3) {
        assert!(
            !required(),
            "PRIVPATH_TEST_SQL_ENGINES is set but {engine} is missing: {stdout}"
        );
        eprintln!("{}", stdout.trim());
        return false;
    }
    assert!(
        out.status.success(),
        "{engine} failed:\n{stdout}\n{}",
        stderr
            .chars()
            .rev()
            .take(6000)
            .collect::<String>()
            .chars()
            .rev()
            .collect::<String>()
    );
    true
}

fn write_sql(dir: &Path, dialect: &str, select: &str) -> PathBuf {
    let r = run(["sql", "--dialect", dialect, "--select", select]);
    r.assert_code(0);
    let p = dir.join(format!("{dialect}-{select}.sql"));
    std::fs::write(&p, &r.stdout).unwrap();
    p
}

/// Flow-log text files of a lab case (the S3 delivery: every column).
fn lab_flow_files(case: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> =
        walkdir::WalkDir::new(sample(&format!("lab/{case}/flowlogs/AWSLogs")))
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| e.into_path())
            .collect();
    v.sort();
    v
}

type VerdictKey = (String, String, String, String, String);
/// (service, instance, eni, address, path) -> (verdict, flows, packets, bytes, first, last, outcome).
type Verdicts = BTreeMap<VerdictKey, (String, u64, u64, u64, u64, u64, String)>;

fn secs(rfc3339: &str) -> u64 {
    rfc3339
        .parse::<jiff::Timestamp>()
        .map(|t| u64::try_from(t.as_second()).unwrap())
        .unwrap_or_else(|_| rfc3339.parse().unwrap())
}

/// The verdict rows of `audit -o json` (or `report -o json`).
fn json_verdicts(json: &str) -> Verdicts {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let s = |x: &serde_json::Value| x.as_str().unwrap_or("").to_owned();
    let mut out = Verdicts::new();
    for row in v["verdicts"].as_array().unwrap() {
        let h = &row["host"];
        for p in row["paths"].as_array().unwrap() {
            let key = (
                s(&row["service"]),
                s(&h["instance_id"]),
                s(&h["eni"]),
                s(&h["address"]),
                s(&p["path"]),
            );
            let val = (
                s(&row["verdict"]),
                p["flows"].as_u64().unwrap(),
                p["packets"].as_u64().unwrap(),
                p["bytes"].as_u64().unwrap(),
                secs(&s(&p["first"])),
                secs(&s(&p["last"])),
                s(&p["outcome"]),
            );
            assert!(
                out.insert(key.clone(), val).is_none(),
                "duplicate row {key:?}"
            );
        }
    }
    out
}

/// The verdict table an engine wrote (CSV, header first).
fn csv_verdicts(path: &Path) -> Verdicts {
    let text = std::fs::read_to_string(path).unwrap();
    let t = privpath::sql::result::parse_csv(&text, &path.display().to_string()).unwrap();
    let ix = |n: &str| {
        t.columns
            .iter()
            .position(|c| c == n)
            .unwrap_or_else(|| panic!("no column {n}"))
    };
    let mut out = Verdicts::new();
    for r in &t.rows {
        let s = |n: &str| r[ix(n)].clone().unwrap_or_default();
        let n = |c: &str| s(c).parse::<u64>().unwrap();
        let key = (
            s("service"),
            s("instance_id"),
            s("eni"),
            s("address"),
            s("path"),
        );
        let val = (
            s("verdict"),
            n("flows"),
            n("packets"),
            n("bytes"),
            n("first"),
            n("last"),
            s("outcome"),
        );
        assert!(
            out.insert(key.clone(), val).is_none(),
            "duplicate row {key:?}"
        );
    }
    out
}

#[track_caller]
fn assert_same(name: &str, engine: &str, want: &Verdicts, got: &Verdicts) {
    let missing: Vec<_> = want
        .iter()
        .filter(|(k, v)| got.get(*k) != Some(*v))
        .collect();
    let extra: Vec<_> = got.iter().filter(|(k, _)| !want.contains_key(*k)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{name} on {engine}: the SQL's verdict table differs from the native audit\n\
         native rows not matched: {missing:#?}\nSQL rows: {:#?}\nextra SQL rows: {extra:#?}",
        missing
            .iter()
            .map(|(k, _)| (k, got.get(*k)))
            .collect::<Vec<_>>()
    );
    assert!(!want.is_empty(), "{name}: no verdicts to compare");
}

/// One case: its topology, flow inputs (as the engine loads them and as
/// the audit reads them) and the expectations both are checked against.
struct Case {
    name: String,
    topology: PathBuf,
    engine_flows: serde_json::Value,
    audit_inputs: Vec<PathBuf>,
    format: &'static str,
    expect: Vec<&'static str>,
}

fn cases(dir: &Path) -> Vec<Case> {
    let mut out = Vec::new();
    for (i, lab) in LABS.iter().enumerate() {
        let files = lab_flow_files(lab);
        out.push(Case {
            name: (*lab).to_owned(),
            topology: sample(&format!("lab/{lab}/topology")),
            engine_flows: serde_json::json!({"kind": "text", "files": files}),
            audit_inputs: files,
            // Both export formats, on alternate cases.
            format: if i % 2 == 0 { "csv" } else { "parquet" },
            expect: vec!["s3=gateway-endpoint", "cloudformation=private"],
        });
    }
    // The generated case: text, and the same records as Parquet.
    let scale = dir.join("scale");
    // The shared tools sit beside the checkout (as the corpus does).
    let tool = root().join("../shared/tools/make_scale_case.py");
    let ok = Command::new("python3")
        .arg(&tool)
        .arg(&scale)
        .args(["--records", "12000", "--seed", "7"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            !required(),
            "PRIVPATH_TEST_SQL_ENGINES is set but {} did not run",
            tool.display()
        );
        eprintln!(
            "note: {} did not run: the generated case is left out",
            tool.display()
        );
        return out;
    }
    let mut texts: Vec<PathBuf> = walkdir::WalkDir::new(scale.join("flowlogs"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    texts.sort();
    out.push(Case {
        name: "scale-text".into(),
        topology: scale.join("topology"),
        engine_flows: serde_json::json!({"kind": "text", "files": texts}),
        audit_inputs: vec![scale.join("flowlogs")],
        format: "parquet",
        expect: vec!["s3=gateway-endpoint", "cloudformation=interface-endpoint"],
    });
    let pq = dir.join("scale-flows.parquet");
    let r = run([
        "flows".as_ref(),
        scale.join("flowlogs").as_os_str(),
        "-o".as_ref(),
        "parquet".as_ref(),
        "--out".as_ref(),
        pq.as_os_str(),
    ]);
    r.assert_code(0);
    out.push(Case {
        name: "scale-parquet".into(),
        topology: scale.join("topology"),
        engine_flows: serde_json::json!({"kind": "parquet", "files": [pq]}),
        audit_inputs: vec![pq],
        format: "csv",
        expect: vec!["s3=private"],
    });
    out
}

#[test]
fn sql_dialect_athena_and_trino_parse_as_trino() {
    let dir = tempdir();
    let mut queries = serde_json::Map::new();
    for d in ["athena", "trino"] {
        for s in ["verdicts", "flows", "findings"] {
            queries.insert(
                format!("{d}-{s}"),
                write_sql(dir.path(), d, s).display().to_string().into(),
            );
        }
    }
    let jobs = serde_json::json!([{"name": "parse", "queries": queries}]);
    drive("sqlglot", &jobs, dir.path());
}

#[test]
fn sql_verdicts_on_duckdb_and_spark_equal_the_native_audit() {
    let dir = tempdir();
    let d = dir.path();
    let cases = cases(d);
    let mut jobs: BTreeMap<&str, Vec<serde_json::Value>> = BTreeMap::new();
    let mut native = Vec::new();
    for c in &cases {
        let topo_out = d.join(format!("topo-{}", c.name));
        run([
            "topology".as_ref(),
            "export".as_ref(),
            "--topology".as_ref(),
            c.topology.as_os_str(),
            "--format".as_ref(),
            c.format.as_ref(),
            "--out".as_ref(),
            topo_out.as_os_str(),
        ])
        .assert_code(0);
        let mut args: Vec<std::ffi::OsString> = vec![
            "audit".into(),
            "--topology".into(),
            c.topology.clone().into(),
        ];
        args.extend(c.audit_inputs.iter().map(|p| p.clone().into_os_string()));
        for e in &c.expect {
            args.push("--expect".into());
            args.push((*e).into());
        }
        args.extend(["-o".into(), "json".into()]);
        let a = run(&args);
        assert!(
            a.code == 0 || a.code == 1,
            "audit of {}: {}",
            c.name,
            a.snapshot()
        );
        native.push((json_verdicts(&a.stdout), a.code, a.stdout.clone()));
        // Spark plans this query in tens of seconds: it runs the cases that
        // cover the most (both endpoint creations, the generated case as Parquet).
        let engines: &[&str] = if SPARK_CASES.contains(&c.name.as_str()) {
            &["duckdb", "spark"]
        } else {
            &["duckdb"]
        };
        for &engine in engines {
            let mut queries = serde_json::Map::new();
            queries.insert(
                "verdicts".into(),
                write_sql(d, engine, "verdicts")
                    .display()
                    .to_string()
                    .into(),
            );
            queries.insert(
                "findings".into(),
                write_sql(d, engine, "findings")
                    .display()
                    .to_string()
                    .into(),
            );
            if engine == "duckdb" {
                queries.insert(
                    "flows".into(),
                    write_sql(d, engine, "flows").display().to_string().into(),
                );
            }
            jobs.entry(engine).or_default().push(serde_json::json!({
                "name": c.name,
                "ddl": topo_out.join("ddl").join(format!("{engine}.sql")),
                "flows": c.engine_flows,
                "queries": queries,
                "out": d.join(format!("out-{engine}-{}", c.name)),
            }));
        }
    }
    for (engine, js) in &jobs {
        if !drive(engine, &serde_json::Value::Array(js.clone()), d) {
            continue;
        }
        for (c, (want, code, audit_json)) in cases.iter().zip(&native) {
            if *engine == "spark" && !SPARK_CASES.contains(&c.name.as_str()) {
                continue;
            }
            let out = d.join(format!("out-{engine}-{}", c.name));
            let got = csv_verdicts(&out.join("verdicts.csv"));
            assert_same(&c.name, engine, want, &got);
            // The findings the audit reports, worded the same.
            let aj: serde_json::Value = serde_json::from_str(audit_json).unwrap();
            let mut want_findings: Vec<(String, u64)> = aj["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["kind"] == "traffic-path-disagreement")
                .map(|f| {
                    (
                        f["message"].as_str().unwrap().to_owned(),
                        f["count"].as_u64().unwrap(),
                    )
                })
                .collect();
            want_findings.sort();
            let ft = privpath::sql::result::parse_csv(
                &std::fs::read_to_string(out.join("findings.csv")).unwrap(),
                "findings.csv",
            )
            .unwrap();
            let mut got_findings: Vec<(String, u64)> = ft
                .rows
                .iter()
                .map(|r| {
                    (
                        r[1].clone().unwrap(),
                        r[2].clone().unwrap().parse().unwrap(),
                    )
                })
                .collect();
            got_findings.sort();
            assert_eq!(
                got_findings, want_findings,
                "{} on {engine}: findings",
                c.name
            );
            // `report` of the engine's result: the audit's verdicts, expectations and exit code.
            let mut args: Vec<std::ffi::OsString> = vec![
                "report".into(),
                out.join("verdicts.csv").into_os_string(),
                out.join("findings.csv").into_os_string(),
            ];
            for e in &c.expect {
                args.push("--expect".into());
                args.push((*e).into());
            }
            args.extend(["-o".into(), "json".into()]);
            let r = run(&args);
            assert_eq!(
                r.code,
                *code,
                "{} on {engine}: report's exit code\n{}",
                c.name,
                r.snapshot()
            );
            assert_same(
                &c.name,
                &format!("{engine} via report"),
                want,
                &json_verdicts(&r.stdout),
            );
            let rj: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
            let summary = |j: &serde_json::Value| -> Vec<(String, bool, u64)> {
                j["expectations"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|e| {
                        e["hosts"].as_array().unwrap().iter().map(move |h| {
                            (
                                format!("{} {}", e["expect"], h["host"]),
                                h["met"].as_bool().unwrap(),
                                h["violations_total"].as_u64().unwrap(),
                            )
                        })
                    })
                    .collect()
            };
            assert_eq!(
                summary(&rj),
                summary(&aj),
                "{} on {engine}: expectations",
                c.name
            );
        }
    }
}
