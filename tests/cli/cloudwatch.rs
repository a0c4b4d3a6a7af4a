//! `pull cloudwatch` (and `--cloudwatch` reads) against a real CloudWatch
//! Logs API: moto's server, at `PRIVPATH_TEST_CLOUDWATCH_URL` (`.ci/run`
//! starts it). Unset: every test here prints why and passes without
//! running; set but not answering: the tests fail.
//!
//! Each test makes its own log group (one stream per ENI), uploads
//! flow-log records re-timed into the last two days (the service refuses
//! events older than 14 days) with event timestamp = record start, and
//! writes the same records to local files for comparison.
//!
//! moto ignores `logStreamNamePrefix` in FilterLogEvents and treats most
//! filter patterns as match-all, so those are unit-tested on the request
//! (`ingest::cloudwatch_pull::client`), not here.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::print_stderr
)]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cloudwatchlogs::types::InputLogEvent;

use crate::harness::{Run, privpath, run_cmd, tempdir};

const REGION: &str = "ap-northeast-2";
const V2_HEADER: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";

/// The emulator's URL, or `None` (with the reason printed) when unset.
fn emulator_url() -> Option<String> {
    match std::env::var("PRIVPATH_TEST_CLOUDWATCH_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!(
                "skipped: PRIVPATH_TEST_CLOUDWATCH_URL is not set (start `moto_server -H 127.0.0.1 -p PORT` and export it as http://127.0.0.1:PORT)"
            );
            None
        }
    }
}

/// One test's log group in the emulator, plus a client to fill it.
struct Fixture {
    url: String,
    group: String,
    rt: tokio::runtime::Runtime,
    client: Client,
}

impl Fixture {
    /// `None` when the emulator is not configured; panics when it is but
    /// does not answer.
    fn new(test: &str) -> Option<Fixture> {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let url = emulator_url()?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let conf = aws_sdk_cloudwatchlogs::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
            .endpoint_url(&url)
            .build();
        let client = Client::from_conf(conf);
        let group = format!(
            "/privpath-test/{test}-{}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed),
            now_secs()
        );
        rt.block_on(client.create_log_group().log_group_name(&group).send())
            .unwrap_or_else(|e| {
                panic!(
                    "PRIVPATH_TEST_CLOUDWATCH_URL={url} is set but the emulator does not answer: {}",
                    aws_sdk_cloudwatchlogs::error::DisplayErrorContext(&e)
                )
            });
        Some(Fixture {
            url,
            group,
            rt,
            client,
        })
    }

    /// Create `stream` and upload `events` (sorted by timestamp).
    fn upload(&self, stream: &str, events: &[Event]) {
        self.rt
            .block_on(
                self.client
                    .create_log_stream()
                    .log_group_name(&self.group)
                    .log_stream_name(stream)
                    .send(),
            )
            .expect("create_log_stream");
        for chunk in events.chunks(2_000) {
            let batch: Vec<InputLogEvent> = chunk
                .iter()
                .map(|e| {
                    InputLogEvent::builder()
                        .timestamp(e.ts_ms)
                        .message(&e.line)
                        .build()
                        .expect("an event")
                })
                .collect();
            let out = self
                .rt
                .block_on(
                    self.client
                        .put_log_events()
                        .log_group_name(&self.group)
                        .log_stream_name(stream)
                        .set_log_events(Some(batch))
                        .send(),
                )
                .expect("put_log_events");
            assert!(
                out.rejected_log_events_info().is_none(),
                "the emulator rejected events: {:?}",
                out.rejected_log_events_info()
            );
        }
    }

    /// Upload every stream of `streams`.
    fn upload_all(&self, streams: &BTreeMap<String, Vec<Event>>) {
        for (name, events) in streams {
            self.upload(name, events);
        }
    }

    /// `privpath` with dummy credentials and nothing from the caller's AWS
    /// setup; the endpoint is passed by the test.
    fn cmd(&self) -> Command {
        let mut cmd = privpath();
        for var in [
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
            "AWS_SESSION_TOKEN",
            "AWS_DEFAULT_REGION",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", REGION)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/nonexistent/privpath-test/config")
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/privpath-test/credentials",
            );
        cmd
    }

    /// `pull cloudwatch <group> --endpoint-url <url> --out <out> <extra…>`.
    fn pull(&self, out: &Path, extra: &[&str]) -> Run {
        let mut cmd = self.cmd();
        cmd.args([
            "pull",
            "cloudwatch",
            &self.group,
            "--endpoint-url",
            &self.url,
            "--out",
        ])
        .arg(out)
        .args(extra);
        run_cmd(&mut cmd)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = self.rt.block_on(
            self.client
                .delete_log_group()
                .log_group_name(&self.group)
                .send(),
        );
    }
}

/// One flow-log event: its timestamp (the record's start, ms) and text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Event {
    ts_ms: i64,
    line: String,
}

fn now_secs() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970");
    i64::try_from(now.as_secs()).expect("seconds fit")
}

/// The first record's start: two days ago, on a minute boundary, so every
/// generated record lies well inside the service's 14-day window.
fn base_time() -> i64 {
    let t = now_secs() - 2 * 86_400;
    t - t % 60
}

/// Deterministic version-2 records for `enis` streams of `per_stream` events
/// each, 7 s apart: accepted and rejected TCP/UDP to S3 and other hosts, a
/// NODATA row, and one malformed record per stream (`bytes` not a number),
/// which must be counted the same way however it is read.
fn lab_streams(enis: usize, per_stream: usize, base: i64) -> BTreeMap<String, Vec<Event>> {
    let mut out = BTreeMap::new();
    for k in 0..enis {
        let eni = format!("eni-0a1b2c3d4e5f6{k:04x}");
        let mut events = Vec::with_capacity(per_stream);
        for i in 0..per_stream {
            let start = base + i64::try_from(i).expect("small") * 7;
            let end = start + 59;
            let line = match i % 97 {
                13 => format!("2 123456789012 {eni} - - - - - - - {start} {end} - NODATA"),
                41 => format!(
                    "2 123456789012 {eni} 10.0.{k}.10 52.219.60.9 40001 443 6 3 lots {start} {end} ACCEPT OK"
                ),
                _ => {
                    let (dst, port, proto) = match i % 4 {
                        0 => (format!("52.219.{}.{}", 60 + i % 4, i % 250), 443, 6),
                        1 => (format!("10.0.1.{}", 4 + i % 20), 5432, 6),
                        2 => ("10.0.0.2".to_owned(), 53, 17),
                        _ => (format!("3.5.{}.{}", i % 30, i % 200), 443, 6),
                    };
                    let action = if i % 11 == 0 { "REJECT" } else { "ACCEPT" };
                    format!(
                        "2 123456789012 {eni} 10.0.{k}.{} {dst} {} {port} {proto} {} {} {start} {end} {action} OK",
                        10 + i % 5,
                        32768 + i % 20000,
                        1 + i % 40,
                        60 + i * 13 % 90_000,
                    )
                }
            };
            events.push(Event {
                ts_ms: start * 1000,
                line,
            });
        }
        out.insert(format!("{eni}-all"), events);
    }
    out
}

/// The lines of a pulled `.log.gz` file.
fn gz_lines(path: &Path) -> Vec<String> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(file)
        .read_to_string(&mut text)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().map(str::to_owned).collect()
}

/// The pulled files of `dir`, by file name.
fn pulled(dir: &Path) -> BTreeMap<String, Vec<String>> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir).expect("the out folder") {
        let path: PathBuf = entry.expect("an entry").path();
        let name = path
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        files.insert(name, gz_lines(&path));
    }
    files
}

/// What `pull` must have written for `streams`: header, then the lines.
fn expected_files(
    streams: &BTreeMap<String, Vec<Event>>,
    keep: impl Fn(&Event) -> bool,
) -> BTreeMap<String, Vec<String>> {
    streams
        .iter()
        .map(|(name, events)| {
            let mut lines = vec![V2_HEADER.to_owned()];
            lines.extend(events.iter().filter(|e| keep(e)).map(|e| e.line.clone()));
            (format!("{name}.log.gz"), lines)
        })
        .collect()
}

fn rfc3339(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .expect("in range")
        .to_string()
}

#[test]
fn cloudwatch_pull_writes_every_stream_as_a_headed_gzip_file() {
    let Some(fx) = Fixture::new("pull-all") else {
        return;
    };
    let streams = lab_streams(3, 150, base_time());
    fx.upload_all(&streams);
    let out = tempdir();
    let dir = out.path().join("pulled");
    let r = fx.pull(&dir, &[]);
    r.assert_code(0);
    assert_eq!(pulled(&dir), expected_files(&streams, |_| true));
    assert!(
        r.stderr.contains("pulled 450 events") && r.stderr.contains("from 3 of 3 log streams"),
        "summary line missing:\n{}",
        r.snapshot()
    );
}

#[test]
fn cloudwatch_pull_paginates_over_10000_events_without_loss() {
    let Some(fx) = Fixture::new("paginate") else {
        return;
    };
    let streams = lab_streams(3, 3_500, base_time());
    fx.upload_all(&streams);
    let out = tempdir();
    let dir = out.path().join("pulled");
    // 1,000 events per page: at least 4 pages per stream, 11 in all.
    let r = fx.pull(
        &dir,
        &["--page-size", "1000", "--concurrent-streams", "2", "-q"],
    );
    r.assert_code(0);
    let got = pulled(&dir);
    let total: usize = got.values().map(|l| l.len() - 1).sum();
    assert_eq!(total, 10_500);
    assert_eq!(got, expected_files(&streams, |_| true));
    assert_eq!(r.stderr, "", "-q prints nothing");
}

#[test]
fn cloudwatch_pull_page_size_one_keeps_order_and_count() {
    let Some(fx) = Fixture::new("page-one") else {
        return;
    };
    let streams = lab_streams(2, 40, base_time());
    fx.upload_all(&streams);
    let out = tempdir();
    let dir = out.path().join("pulled");
    fx.pull(&dir, &["--page-size", "1", "--concurrent-streams", "1"])
        .assert_code(0);
    assert_eq!(pulled(&dir), expected_files(&streams, |_| true));
}

#[test]
fn cloudwatch_pull_start_end_select_records_by_start_time() {
    let Some(fx) = Fixture::new("time-range") else {
        return;
    };
    let base = base_time();
    let streams = lab_streams(2, 200, base);
    fx.upload_all(&streams);
    // Records start every 7 s: [base+700, base+1050] holds i = 100..=150.
    let (from, to) = (base + 700, base + 1_050);
    let out = tempdir();
    let dir = out.path().join("pulled");
    fx.pull(&dir, &["--start", &rfc3339(from), "--end", &rfc3339(to)])
        .assert_code(0);
    let want = expected_files(&streams, |e| e.ts_ms >= from * 1000 && e.ts_ms <= to * 1000);
    assert_eq!(want.values().map(|l| l.len() - 1).sum::<usize>(), 2 * 51);
    assert_eq!(pulled(&dir), want);

    // An age: everything of the last 3 days is everything uploaded.
    let dir = out.path().join("recent");
    fx.pull(&dir, &["--start", "3d"]).assert_code(0);
    assert_eq!(pulled(&dir), expected_files(&streams, |_| true));
    // And nothing is younger than one day.
    let dir = out.path().join("none");
    fx.pull(&dir, &["--start", "1d"]).assert_code(0);
    assert_eq!(pulled(&dir), expected_files(&streams, |_| false));
}

#[test]
fn cloudwatch_pull_log_stream_selects_only_those_streams() {
    let Some(fx) = Fixture::new("streams") else {
        return;
    };
    let streams = lab_streams(4, 30, base_time());
    fx.upload_all(&streams);
    let names: Vec<&String> = streams.keys().collect();
    let out = tempdir();
    let dir = out.path().join("pulled");
    fx.pull(&dir, &["--log-stream", names[3], "--log-stream", names[1]])
        .assert_code(0);
    let want: BTreeMap<_, _> = expected_files(&streams, |_| true)
        .into_iter()
        .filter(|(f, _)| {
            *f == format!("{}.log.gz", names[1]) || *f == format!("{}.log.gz", names[3])
        })
        .collect();
    assert_eq!(want.len(), 2);
    assert_eq!(pulled(&dir), want);
}

#[test]
fn cloudwatch_missing_log_group_exits_2_with_one_clear_line() {
    let Some(fx) = Fixture::new("missing") else {
        return;
    };
    let out = tempdir();
    let mut cmd = fx.cmd();
    cmd.args([
        "pull",
        "cloudwatch",
        "/privpath-test/no-such-group",
        "--endpoint-url",
        &fx.url,
        "--out",
    ])
    .arg(out.path().join("x"));
    let r = run_cmd(&mut cmd);
    r.assert_code(2);
    assert_eq!(
        r.stderr,
        "privpath: log group '/privpath-test/no-such-group' not found in region ap-northeast-2 (check the name and --region)\n"
    );
    assert!(!out.path().join("x").exists(), "no folder is left behind");
}

#[test]
fn cloudwatch_missing_log_stream_exits_2() {
    let Some(fx) = Fixture::new("missing-stream") else {
        return;
    };
    fx.upload_all(&lab_streams(1, 5, base_time()));
    let out = tempdir();
    let r = fx.pull(&out.path().join("x"), &["--log-stream", "eni-nope"]);
    r.assert_code(2);
    assert_eq!(
        r.stderr,
        format!(
            "privpath: log stream 'eni-nope' not found in log group '{}'\n",
            fx.group
        )
    );
}

#[test]
fn cloudwatch_endpoint_from_the_environment_is_used() {
    let Some(fx) = Fixture::new("env-endpoint") else {
        return;
    };
    let streams = lab_streams(1, 20, base_time());
    fx.upload_all(&streams);
    let out = tempdir();
    let dir = out.path().join("pulled");
    for var in ["AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "AWS_ENDPOINT_URL"] {
        let mut cmd = fx.cmd();
        cmd.env(var, &fx.url)
            .args(["pull", "cloudwatch", &fx.group, "--force", "--out"])
            .arg(&dir);
        run_cmd(&mut cmd).assert_code(0);
        assert_eq!(
            pulled(&dir),
            expected_files(&streams, |_| true),
            "via {var}"
        );
    }
}

#[test]
fn cloudwatch_pull_refuses_a_non_empty_folder() {
    let Some(fx) = Fixture::new("non-empty") else {
        return;
    };
    let out = tempdir();
    std::fs::write(out.path().join("keep.txt"), "x").expect("write");
    let r = fx.pull(out.path(), &[]);
    r.assert_code(2);
    assert!(r.stderr.contains("is not empty"), "{}", r.snapshot());
    assert!(out.path().join("keep.txt").exists());
}

/// Needs no emulator: nothing listens on the port.
#[test]
fn cloudwatch_unreachable_endpoint_exits_2_without_secrets() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("an address").port();
    drop(listener);
    let out = tempdir();
    let mut cmd = privpath();
    cmd.env("AWS_ACCESS_KEY_ID", "AKIAPRIVPATHTESTKEY")
        .env("AWS_SECRET_ACCESS_KEY", "privpath-test-secret")
        .env("AWS_REGION", REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .args(["pull", "cloudwatch", "/vpc/flowlogs", "--endpoint-url"])
        .arg(format!("http://127.0.0.1:{port}"))
        .arg("--out")
        .arg(out.path().join("x"));
    let r = run_cmd(&mut cmd);
    r.assert_code(2);
    assert!(
        r.stderr.starts_with(&format!(
            "privpath: cannot reach CloudWatch Logs at http://127.0.0.1:{port}: "
        )),
        "{}",
        r.snapshot()
    );
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.snapshot());
    assert!(
        !r.stderr.contains("privpath-test-secret") && !r.stderr.contains("AKIAPRIVPATHTESTKEY")
    );
}

/// Needs no emulator: the chain finds no credentials before any request.
#[test]
fn cloudwatch_without_credentials_exits_2() {
    let out = tempdir();
    let mut cmd = privpath();
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_REGION", REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/privpath-test/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/privpath-test/credentials",
        )
        .args([
            "pull",
            "cloudwatch",
            "/vpc/flowlogs",
            "--endpoint-url",
            "http://127.0.0.1:9",
            "--out",
        ])
        .arg(out.path().join("x"));
    let r = run_cmd(&mut cmd);
    r.assert_code(2);
    assert_eq!(
        r.stderr,
        "privpath: no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or choose a profile with --profile or AWS_PROFILE\n"
    );
}

#[test]
fn cloudwatch_bad_time_is_a_usage_error() {
    let r = crate::harness::run([
        "pull",
        "cloudwatch",
        "/g",
        "--out",
        "x",
        "--start",
        "yesterday",
    ]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("invalid time 'yesterday'"),
        "{}",
        r.snapshot()
    );
}

// ---- reading the group live (`flows --cloudwatch`) against the same records in files ----

/// `flows` output as JSON values without the columns that name the source
/// (`source_file`, `source_line`): what must not depend on where records came from.
fn flows_without_source(jsonl: &str) -> Vec<serde_json::Value> {
    jsonl
        .lines()
        .map(|l| {
            let mut v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            let obj = v.as_object_mut().expect("a JSON object per line");
            obj.remove("source_file");
            obj.remove("source_line");
            v
        })
        .collect()
}

/// The per-source tallies of a `flows` summary on stderr (`N records, K
/// skipped (…), M NODATA …`), without the source names.
fn tallies(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.contains(" records"))
        .filter_map(|l| l.split_once("): ").map(|(_, t)| t.to_owned()))
        .collect()
}

/// Write each stream's lines to `<dir>/<stream>.log` (header-less text, as
/// CloudWatch holds them).
fn write_files(dir: &Path, streams: &BTreeMap<String, Vec<Event>>) {
    std::fs::create_dir_all(dir).expect("a folder");
    for (name, events) in streams {
        let text: String = events.iter().map(|e| format!("{}\n", e.line)).collect();
        std::fs::write(dir.join(format!("{name}.log")), text).expect("write");
    }
}

impl Fixture {
    /// `flows --cloudwatch <group> --endpoint-url <url> -o jsonl <extra…>`.
    fn flows_live(&self, extra: &[&str]) -> Run {
        let mut cmd = self.cmd();
        cmd.args([
            "flows",
            "--cloudwatch",
            &self.group,
            "--endpoint-url",
            &self.url,
            "-o",
            "jsonl",
        ])
        .args(extra);
        run_cmd(&mut cmd)
    }
}

fn flows_files(path: &Path, extra: &[&str]) -> Run {
    let mut cmd = privpath();
    cmd.args(["flows", "-o", "jsonl"]).arg(path).args(extra);
    run_cmd(&mut cmd)
}

#[test]
fn cloudwatch_flows_equal_the_same_records_read_from_files_then_pulled() {
    let Some(fx) = Fixture::new("flows-equal") else {
        return;
    };
    // > 10,000 events across streams, read in pages of 1,000.
    let streams = lab_streams(3, 3_500, base_time());
    fx.upload_all(&streams);
    let out = tempdir();
    write_files(&out.path().join("files"), &streams);

    let live = fx.flows_live(&["--page-size", "1000"]);
    live.assert_code(0);
    let files = flows_files(&out.path().join("files"), &[]);
    files.assert_code(0);
    let live_flows = flows_without_source(&live.stdout);
    // NODATA rows and the malformed records are not flows.
    let records = streams
        .values()
        .flatten()
        .filter(|e| !e.line.ends_with("NODATA") && !e.line.contains(" lots "))
        .count();
    assert_eq!(records, 3 * (3_500 - 2 * 36));
    assert_eq!(live_flows.len(), records);
    assert_eq!(live_flows, flows_without_source(&files.stdout));
    assert_eq!(tallies(&live.stderr), tallies(&files.stderr));
    assert_eq!(tallies(&live.stderr).len(), 3);
    assert!(
        tallies(&live.stderr)[0]
            == "3428 records, 36 skipped (invalid number: 36), 36 NODATA on 1 interfaces",
        "{}",
        live.stderr
    );
    // Each flow names its stream and its event number.
    let first: serde_json::Value =
        serde_json::from_str(live.stdout.lines().next().expect("a line")).expect("json");
    let stream0 = streams.keys().next().expect("a stream");
    assert_eq!(
        first["source_file"],
        format!("cloudwatch:{}/{stream0}", fx.group)
    );
    assert_eq!(first["source_line"], 1);

    // pull, then read the folder: the same flows and tallies again.
    let dir = out.path().join("pulled");
    fx.pull(&dir, &["-q"]).assert_code(0);
    let again = flows_files(&dir, &[]);
    again.assert_code(0);
    assert_eq!(flows_without_source(&again.stdout), live_flows);
    assert_eq!(tallies(&again.stderr), tallies(&live.stderr));
}

/// Version-5 style records in a custom order, declared with --log-format.
fn custom_streams(base: i64) -> BTreeMap<String, Vec<Event>> {
    let mut out = BTreeMap::new();
    for k in 0..2 {
        let eni = format!("eni-0c0ffee{k:09x}");
        let events = (0..60)
            .map(|i: i64| {
                let start = base + i * 11;
                Event {
                    ts_ms: start * 1000,
                    line: format!(
                        "5 vpc-0aa subnet-0b{k} {eni} 10.0.{k}.7 52.219.60.{i} 3{i:04} 443 6 {} {start} {} ACCEPT OK egress 7 S3",
                        1 + i,
                        start + 30
                    ),
                }
            })
            .collect();
        out.insert(format!("{eni}-all"), events);
    }
    out
}

const CUSTOM_FORMAT: &str = "${version} ${vpc-id} ${subnet-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${start} ${end} ${action} ${log-status} ${flow-direction} ${traffic-path} ${pkt-dst-aws-service}";

#[test]
fn cloudwatch_custom_log_format_reads_the_same_live_from_files_and_pulled() {
    let Some(fx) = Fixture::new("custom-format") else {
        return;
    };
    let streams = custom_streams(base_time());
    fx.upload_all(&streams);
    let out = tempdir();
    write_files(&out.path().join("files"), &streams);

    let live = fx.flows_live(&["--log-format", CUSTOM_FORMAT]);
    live.assert_code(0);
    let files = flows_files(&out.path().join("files"), &["--log-format", CUSTOM_FORMAT]);
    files.assert_code(0);
    let live_flows = flows_without_source(&live.stdout);
    assert_eq!(live_flows.len(), 120);
    assert_eq!(live_flows, flows_without_source(&files.stdout));
    assert_eq!(live_flows[0]["pkt_dst_aws_service"], "S3");
    assert_eq!(live_flows[0]["traffic_path"], 7);

    // The pulled files carry the format in their header: no --log-format needed.
    let dir = out.path().join("pulled");
    fx.pull(&dir, &["--log-format", CUSTOM_FORMAT, "-q"])
        .assert_code(0);
    let first_file = dir.join(format!(
        "{}.log.gz",
        streams.keys().next().expect("a stream")
    ));
    assert_eq!(
        gz_lines(&first_file)[0],
        CUSTOM_FORMAT.replace("${", "").replace('}', "")
    );
    let again = flows_files(&dir, &[]);
    again.assert_code(0);
    assert_eq!(flows_without_source(&again.stdout), live_flows);
}

#[test]
fn cloudwatch_event_timestamp_is_the_start_when_the_format_has_none() {
    let Some(fx) = Fixture::new("no-start") else {
        return;
    };
    let base = base_time();
    let format = "${interface-id} ${srcaddr} ${dstaddr} ${dstport} ${protocol} ${action}";
    let events: Vec<Event> = (0..5)
        .map(|i: i64| Event {
            ts_ms: (base + i * 60) * 1000 + 250,
            line: format!("eni-0d {} 10.0.0.{i} 443 6 ACCEPT", "10.0.1.9"),
        })
        .collect();
    fx.upload("eni-0d-all", &events);
    let live = fx.flows_live(&["--log-format", format]);
    live.assert_code(0);
    let flows = flows_without_source(&live.stdout);
    let starts: Vec<i64> = flows
        .iter()
        .map(|f| f["start"].as_i64().expect("a start"))
        .collect();
    assert_eq!(starts, (0..5).map(|i| base + i * 60).collect::<Vec<_>>());

    let out = tempdir();
    let dir = out.path().join("pulled");
    fx.pull(&dir, &["--log-format", format, "-q"])
        .assert_code(0);
    let again = flows_files(&dir, &[]);
    again.assert_code(0);
    assert_eq!(flows_without_source(&again.stdout), flows);
}

#[test]
fn cloudwatch_flows_reads_only_the_selected_streams_and_time() {
    let Some(fx) = Fixture::new("flows-select") else {
        return;
    };
    let base = base_time();
    let streams = lab_streams(3, 100, base);
    fx.upload_all(&streams);
    let name = streams.keys().nth(1).expect("a stream");
    let (from, to) = (base + 70, base + 140); // i = 10..=20
    let live = fx.flows_live(&[
        "--log-stream",
        name,
        "--start",
        &rfc3339(from),
        "--end",
        &rfc3339(to),
    ]);
    live.assert_code(0);
    let flows = flows_without_source(&live.stdout);
    let want: Vec<&Event> = streams[name]
        .iter()
        .filter(|e| e.ts_ms >= from * 1000 && e.ts_ms <= to * 1000)
        .collect();
    // i = 13 is the NODATA row.
    assert_eq!(want.len(), 11);
    assert_eq!(flows.len(), 10);
    let eni = name.trim_end_matches("-all");
    assert!(
        flows.iter().all(|f| f["interface_id"] == eni),
        "{}",
        live.stdout
    );
    assert_eq!(tallies(&live.stderr).len(), 1);
}

#[test]
fn cloudwatch_options_without_cloudwatch_are_an_error() {
    let r = crate::harness::run(["flows", "--log-stream", "eni-1", "samples"]);
    r.assert_code(2);
    assert!(
        r.stderr
            .contains("--log-stream needs --cloudwatch LOG_GROUP"),
        "{}",
        r.snapshot()
    );
}

// ---- behaviour moto cannot show: a scripted CloudWatch Logs endpoint ----

/// A one-thread HTTP server that answers CloudWatch Logs JSON requests from
/// a script: for each request, by `X-Amz-Target` operation, the next
/// (status, body) of that operation's queue. Returns the URL and a handle
/// that yields the operations seen.
fn scripted_endpoint(
    mut script: BTreeMap<&'static str, Vec<(u16, String)>>,
) -> (String, std::thread::JoinHandle<Vec<String>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let url = format!("http://{}", listener.local_addr().expect("an address"));
    listener.set_nonblocking(true).expect("non-blocking accept");
    let handle = std::thread::spawn(move || {
        // Gives up after a while so that a failing test cannot hang.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let mut seen = Vec::new();
        while script.values().any(|q| !q.is_empty()) && std::time::Instant::now() < deadline {
            let stream = match listener.accept() {
                Ok((stream, _)) => stream,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    continue;
                }
                Err(_) => break,
            };
            stream.set_nonblocking(false).expect("blocking stream");
            let mut reader = BufReader::new(stream.try_clone().expect("a clone"));
            let (mut target, mut length) = (String::new(), 0usize);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("x-amz-target:") {
                    target = v.trim().rsplit('.').next().unwrap_or("").to_owned();
                }
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; length];
            let _ = std::io::Read::read_exact(&mut reader, &mut body);
            let op = match target.as_str() {
                "describelogstreams" => "DescribeLogStreams",
                "filterlogevents" => "FilterLogEvents",
                _ => "other",
            };
            seen.push(op.to_owned());
            let (status, reply) = script
                .get_mut(op)
                .filter(|q| !q.is_empty())
                .map(|q| q.remove(0))
                .unwrap_or((
                    500,
                    r#"{"__type":"InternalFailure","message":"unscripted"}"#.to_owned(),
                ));
            let mut out = stream;
            let _ = write!(
                out,
                "HTTP/1.1 {status} X\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-RequestId: 1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                reply.len()
            );
        }
        seen
    });
    (url, handle)
}

fn scripted_cmd(url: &str) -> Command {
    let mut cmd = privpath();
    for var in [
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
        "AWS_SESSION_TOKEN",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/privpath-test/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/privpath-test/credentials",
        )
        .env("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", url);
    cmd
}

const THROTTLED: &str = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;

fn events_page(lines: &[(i64, &str)], token: Option<&str>) -> String {
    let events: Vec<serde_json::Value> = lines
        .iter()
        .enumerate()
        .map(|(i, (ts, m))| serde_json::json!({"logStreamName": "s1", "timestamp": ts, "message": m, "eventId": i.to_string()}))
        .collect();
    let mut v = serde_json::json!({ "events": events, "searchedLogStreams": [] });
    if let Some(t) = token {
        v["nextToken"] = serde_json::Value::from(t);
    }
    v.to_string()
}

/// AWS may answer with empty pages that still carry a `nextToken` (while it
/// searches), and throttles with 400 ThrottlingException: the pull must go
/// on through both and lose nothing.
#[test]
fn cloudwatch_pull_goes_on_through_empty_pages_and_throttling() {
    let l1 = "2 123456789012 eni-1 10.0.0.1 52.219.60.1 40000 443 6 1 60 1795600000 1795600059 ACCEPT OK";
    let l2 = "2 123456789012 eni-1 10.0.0.1 52.219.60.2 40001 443 6 1 60 1795600001 1795600060 ACCEPT OK";
    let script = BTreeMap::from([
        (
            "DescribeLogStreams",
            vec![
                (400, THROTTLED.to_owned()),
                (200, r#"{"logStreams":[{"logStreamName":"s1"}]}"#.to_owned()),
            ],
        ),
        (
            "FilterLogEvents",
            vec![
                (200, events_page(&[], Some("t1"))),
                (400, THROTTLED.to_owned()),
                (200, events_page(&[(1_795_600_000_000, l1)], Some("t2"))),
                (200, events_page(&[], Some("t3"))),
                (200, events_page(&[], Some("t4"))),
                (200, events_page(&[(1_795_600_001_000, l2)], None)),
            ],
        ),
    ]);
    let (url, server) = scripted_endpoint(script);
    let out = tempdir();
    let dir = out.path().join("pulled");
    let mut cmd = scripted_cmd(&url);
    cmd.args(["pull", "cloudwatch", "/vpc/flowlogs", "--out"])
        .arg(&dir);
    let r = run_cmd(&mut cmd);
    r.assert_code(0);
    assert_eq!(gz_lines(&dir.join("s1.log.gz")), [V2_HEADER, l1, l2]);
    let seen = server.join().expect("the server thread");
    assert_eq!(seen.iter().filter(|o| *o == "FilterLogEvents").count(), 6);
    assert_eq!(
        seen.iter().filter(|o| *o == "DescribeLogStreams").count(),
        2
    );
}

#[test]
fn cloudwatch_access_denied_exits_2_with_the_services_reason() {
    let script = BTreeMap::from([(
        "DescribeLogStreams",
        vec![(
            400,
            r#"{"__type":"AccessDeniedException","message":"User: arn:aws:iam::123456789012:user/ci is not authorized to perform: logs:DescribeLogStreams"}"#
                .to_owned(),
        )],
    )]);
    let (url, server) = scripted_endpoint(script);
    let out = tempdir();
    let mut cmd = scripted_cmd(&url);
    cmd.args(["pull", "cloudwatch", "/vpc/flowlogs", "--out"])
        .arg(out.path().join("x"));
    let r = run_cmd(&mut cmd);
    r.assert_code(2);
    assert_eq!(
        r.stderr,
        "privpath: access denied to DescribeLogStreams on log group '/vpc/flowlogs': User: arn:aws:iam::123456789012:user/ci is not authorized to perform: logs:DescribeLogStreams\n"
    );
    server.join().expect("the server thread");
}

#[test]
fn cloudwatch_stream_failing_midway_is_reported_and_exits_2() {
    let l1 = "2 123456789012 eni-1 10.0.0.1 52.219.60.1 40000 443 6 1 60 1795600000 1795600059 ACCEPT OK";
    let script = BTreeMap::from([
        (
            "DescribeLogStreams",
            vec![(200, r#"{"logStreams":[{"logStreamName":"s1"}]}"#.to_owned())],
        ),
        (
            "FilterLogEvents",
            vec![
                (200, events_page(&[(1_795_600_000_000, l1)], Some("t1"))),
                (
                    400,
                    r#"{"__type":"InvalidParameterException","message":"token expired"}"#
                        .to_owned(),
                ),
            ],
        ),
    ]);
    let (url, server) = scripted_endpoint(script);
    let out = tempdir();
    let dir = out.path().join("pulled");
    let mut cmd = scripted_cmd(&url);
    cmd.args(["pull", "cloudwatch", "/vpc/flowlogs", "--out"])
        .arg(&dir);
    let r = run_cmd(&mut cmd);
    r.assert_code(2);
    assert!(
        r.stderr.starts_with(
            "privpath: cloudwatch:/vpc/flowlogs/s1: FilterLogEvents on log group '/vpc/flowlogs' failed: InvalidParameterException: token expired\n"
        ),
        "{}",
        r.snapshot()
    );
    assert!(
        r.stderr.contains("from 0 of 1 log streams"),
        "{}",
        r.snapshot()
    );
    assert!(pulled(&dir).is_empty(), "no partial file is left");
    server.join().expect("the server thread");
}

/// The lab's own CloudWatch export (`samples/lab/timeline`), uploaded with
/// every record moved into the last days (AWS keeps 14), reads live like
/// the export file itself, once the times are moved back.
#[test]
fn cloudwatch_lab_timeline_reads_live_like_its_export() {
    let Some(fx) = Fixture::new("lab-timeline") else {
        return;
    };
    let export = crate::harness::sample("lab/timeline/flowlogs/cloudwatch-filter-log-events.json");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&export).expect("the lab export"))
            .expect("json");
    let events = doc["events"].as_array().expect("events");
    let first_ts = events
        .iter()
        .filter_map(|e| e["timestamp"].as_i64())
        .min()
        .expect("a timestamp");
    let shift = base_time() - first_ts / 1000;
    let mut streams: BTreeMap<String, Vec<Event>> = BTreeMap::new();
    for e in events {
        let mut tokens: Vec<String> = e["message"]
            .as_str()
            .expect("a message")
            .split(' ')
            .map(str::to_owned)
            .collect();
        for i in [10, 11] {
            let t: i64 = tokens[i].parse().expect("v2 start/end");
            tokens[i] = (t + shift).to_string();
        }
        streams
            .entry(e["logStreamName"].as_str().expect("a stream").to_owned())
            .or_default()
            .push(Event {
                ts_ms: e["timestamp"].as_i64().expect("a timestamp") + shift * 1000,
                line: tokens.join(" "),
            });
    }
    for events in streams.values_mut() {
        events.sort_by_key(|e| e.ts_ms);
    }
    assert!(streams.len() >= 2, "the lab has one stream per ENI");
    fx.upload_all(&streams);

    let live = fx.flows_live(&[]);
    live.assert_code(0);
    let mut moved_back: Vec<String> = flows_without_source(&live.stdout)
        .into_iter()
        .map(|mut f| {
            for k in ["start", "end"] {
                f[k] = serde_json::Value::from(f[k].as_i64().expect("a time") - shift);
            }
            f.to_string()
        })
        .collect();
    let from_file = flows_files(&export, &[]);
    from_file.assert_code(0);
    let mut want: Vec<String> = flows_without_source(&from_file.stdout)
        .iter()
        .map(|f| f.to_string())
        .collect();
    moved_back.sort();
    want.sort();
    assert_eq!(moved_back.len(), events.len());
    assert_eq!(moved_back, want);
}
