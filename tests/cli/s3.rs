//! `s3://` inputs of `audit`/`flows` and `pull s3` against a real S3 API:
//! moto's server at `PRIVPATH_TEST_S3_URL` (`.ci/run` starts it). Unset:
//! every test here prints why and passes without running; set but not
//! answering: the tests fail.
//!
//! The lab's timeline flow logs (already in AWS's key layout) are uploaded
//! for three days (the records moved by a day either way), so that a time
//! window has folders and files to leave out. Requests go through a small
//! counting proxy in front of moto, which records every ListObjectsV2 and
//! GetObject privpath sends and can inject faults moto cannot produce (a
//! body cut midway, throttling). Denied access is real: a second moto with
//! IAM enforced (`INITIAL_NO_AUTH_ACTION_COUNT`), started by
//! `s3_iam_moto.py`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::print_stderr
)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};

use crate::harness::{Run, privpath, root, run_cmd, tempdir};

const REGION: &str = "ap-northeast-2";
const LAB: &str = "samples/lab/timeline";
/// The folder of the lab's flow-log files (day 0).
const DAY0: &str = "AWSLogs/111122223333/vpcflowlogs/ap-northeast-2/2026/11/02/";
const STEM: &str = "111122223333_vpcflowlogs_ap-northeast-2_fl-0b4e6a8c1d3f5a729_";

/// The emulator's URL, or `None` (with the reason printed) when unset.
fn emulator_url() -> Option<String> {
    match std::env::var("PRIVPATH_TEST_S3_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!(
                "skipped: PRIVPATH_TEST_S3_URL is not set (start `moto_server -H 127.0.0.1 -p PORT` and export it as http://127.0.0.1:PORT)"
            );
            None
        }
    }
}

/// One test's bucket in the emulator, plus a client to fill it.
struct Fixture {
    url: String,
    bucket: String,
    rt: tokio::runtime::Runtime,
    client: Client,
}

fn s3_client(url: &str, key: &str, secret: &str) -> Client {
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(key, secret, None, None, "test"))
        .endpoint_url(url)
        .force_path_style(true)
        .build();
    Client::from_conf(conf)
}

impl Fixture {
    /// `None` when the emulator is not configured; panics when it is but
    /// does not answer.
    fn new(test: &str) -> Option<Fixture> {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let url = emulator_url()?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let client = s3_client(&url, "testing", "testing");
        let mut bucket = format!(
            "pp-{test}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        )
        .replace('_', "-");
        bucket.truncate(63);
        rt.block_on(
            client
                .create_bucket()
                .bucket(&bucket)
                .create_bucket_configuration(
                    CreateBucketConfiguration::builder()
                        .location_constraint(BucketLocationConstraint::from(REGION))
                        .build(),
                )
                .send(),
        )
        .unwrap_or_else(|e| {
            panic!(
                "PRIVPATH_TEST_S3_URL={url} is set but the emulator does not answer: {}",
                aws_sdk_s3::error::DisplayErrorContext(&e)
            )
        });
        Some(Fixture {
            url,
            bucket,
            rt,
            client,
        })
    }

    /// Upload every object, 32 at a time.
    fn put_all(&self, objects: &[(String, Vec<u8>)]) {
        for batch in objects.chunks(32) {
            let handles: Vec<_> = batch
                .iter()
                .map(|(key, body)| {
                    let req = self
                        .client
                        .put_object()
                        .bucket(&self.bucket)
                        .key(key)
                        .body(ByteStream::from(body.clone()));
                    self.rt.spawn(req.send())
                })
                .collect();
            for h in handles {
                self.rt
                    .block_on(h)
                    .expect("an upload task")
                    .expect("put_object");
            }
        }
    }

    fn uri(&self, prefix: &str) -> String {
        format!("s3://{}/{prefix}", self.bucket)
    }

    /// `privpath` with dummy credentials, nothing from the caller's AWS
    /// setup, and S3 at `endpoint`.
    fn cmd(&self, endpoint: &str) -> Command {
        aws_cmd(endpoint, "testing", "testing")
    }
}

fn aws_cmd(endpoint: &str, key: &str, secret: &str) -> Command {
    let mut cmd = privpath();
    for var in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_SESSION_TOKEN",
        "AWS_DEFAULT_REGION",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_ACCESS_KEY_ID", key)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_REGION", REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/privpath-test/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/privpath-test/credentials",
        )
        .env("AWS_ENDPOINT_URL_S3", endpoint);
    cmd
}

fn run_with(mut cmd: Command, args: &[&str]) -> Run {
    cmd.args(args);
    run_cmd(&mut cmd)
}

// ---- the lab's flow logs, over several days ----

fn gunzip(bytes: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_string(&mut text)
        .expect("gzip text");
    text
}

fn gzip(text: &str) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(text.as_bytes()).expect("gzip");
    e.finish().expect("gzip")
}

/// The lab's flow-log files: (key, bytes), key relative to `flowlogs/`.
fn lab_files() -> Vec<(String, Vec<u8>)> {
    let base = root().join(LAB).join("flowlogs");
    let mut out = Vec::new();
    let mut stack = vec![base.join("AWSLogs")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("the lab folder") {
            let p = entry.expect("an entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let key = p
                    .strip_prefix(&base)
                    .expect("under the base")
                    .to_string_lossy()
                    .into_owned();
                out.push((key, std::fs::read(&p).expect("a lab file")));
            }
        }
    }
    out.sort();
    assert_eq!(out.len(), 3, "the lab timeline has three flow-log files");
    out
}

/// A lab file moved by `days`: its records' start and end, its folder and
/// the time in its name.
fn shifted(key: &str, bytes: &[u8], days: i64) -> (String, Vec<u8>) {
    let text = gunzip(bytes);
    let mut lines = text.lines();
    let header = lines.next().expect("a header line");
    let cols: Vec<&str> = header.split(' ').collect();
    let at = |name: &str| cols.iter().position(|c| *c == name).expect("a column");
    let (start, end) = (at("start"), at("end"));
    let mut out = format!("{header}\n");
    for line in lines {
        let mut f: Vec<String> = line.split(' ').map(str::to_owned).collect();
        for i in [start, end] {
            if let Ok(t) = f[i].parse::<i64>() {
                f[i] = (t + days * 86_400).to_string();
            }
        }
        out.push_str(&f.join(" "));
        out.push('\n');
    }
    let day = jiff::civil::date(2026, 11, 2)
        .checked_add(jiff::Span::new().days(days))
        .expect("a date");
    let folder = format!("/{:04}/{:02}/{:02}/", day.year(), day.month(), day.day());
    let stamp = format!("_{:04}{:02}{:02}T", day.year(), day.month(), day.day());
    let key = key
        .replace("/2026/11/02/", &folder)
        .replace("_20261102T", &stamp);
    (key, gzip(&out))
}

/// The lab files on 2026-11-01, -02 and -03.
fn three_days() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (key, bytes) in lab_files() {
        for days in [-1, 0, 1] {
            out.push(shifted(&key, &bytes, days));
        }
    }
    out.sort();
    out
}

fn write_local(dir: &Path, files: &[(String, Vec<u8>)]) {
    for (key, bytes) in files {
        let p = dir.join(key);
        std::fs::create_dir_all(p.parent().expect("a parent")).expect("mkdir");
        std::fs::write(&p, bytes).expect("a local copy");
    }
}

/// `audit … -o json` of a local folder with its paths written as S3 URIs.
fn as_s3(json: &str, dir: &Path, bucket: &str) -> String {
    json.replace(&format!("{}/", dir.display()), &format!("s3://{bucket}/"))
}

// ---- a counting, fault-injecting proxy in front of moto ----

/// One request the proxy saw.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    /// The path, percent-decoded (`/bucket/key`).
    path: String,
    query: BTreeMap<String, String>,
    range: Option<String>,
}

impl Seen {
    fn is_list(&self) -> bool {
        self.query.get("list-type").is_some_and(|v| v == "2")
    }
    /// The key of a GetObject (`None` for anything else).
    fn get_key(&self, bucket: &str) -> Option<String> {
        if self.method != "GET" || self.is_list() {
            return None;
        }
        self.path
            .strip_prefix(&format!("/{bucket}/"))
            .filter(|k| !k.is_empty())
            .map(str::to_owned)
    }
}

#[derive(Default)]
struct Faults {
    /// GetObject of this key is answered 503 SlowDown, always.
    throttle_key: Option<String>,
    /// GetObject of this key (without a Range) has its body cut after this
    /// many bytes, once.
    cut_once: Mutex<Option<(String, usize)>>,
}

struct Proxy {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Proxy {
    fn start(upstream: &str, faults: Faults) -> Proxy {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let faults = Arc::new(faults);
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let (up, log, faults) = (upstream.clone(), Arc::clone(&log), Arc::clone(&faults));
                std::thread::spawn(move || serve(conn, &up, &log, &faults));
            }
        });
        Proxy { url, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("the log").clone()
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
            if let Ok(v) = u8::from_str_radix(hex, 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Serve one client connection (keep-alive): each request goes to moto on
/// a fresh connection (`Connection: close`) unless a fault answers it.
fn serve(client: TcpStream, upstream: &str, log: &Mutex<Vec<Seen>>, faults: &Faults) {
    let mut reader = BufReader::new(client.try_clone().expect("a clone"));
    let mut client = client;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut headers = Vec::new();
        let mut length = 0usize;
        let mut range = None;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            let lower = line.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            if lower.starts_with("range:") {
                range = Some(line["range:".len()..].trim().to_owned());
            }
            if !lower.starts_with("connection:") {
                headers.push(line);
            }
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or("").to_owned();
        let target = parts.next().unwrap_or("").to_owned();
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let query: BTreeMap<String, String> = query
            .split('&')
            .filter(|q| !q.is_empty())
            .map(|q| {
                let (k, v) = q.split_once('=').unwrap_or((q, ""));
                (percent_decode(k), percent_decode(v))
            })
            .collect();
        let seen = Seen {
            method,
            path: percent_decode(path),
            query,
            range,
        };
        log.lock().expect("the log").push(seen.clone());
        let key = seen.path.splitn(3, '/').nth(2).unwrap_or("").to_owned();
        let is_get = seen.method == "GET" && !seen.is_list() && !key.is_empty();

        if is_get && faults.throttle_key.as_deref() == Some(key.as_str()) {
            let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>1</RequestId></Error>";
            let _ = write!(
                client,
                "HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            continue;
        }

        let Ok(mut up) = TcpStream::connect(upstream) else {
            return;
        };
        let mut head = request_line.clone();
        for h in &headers {
            head.push_str(h);
        }
        head.push_str("Connection: close\r\n\r\n");
        if up.write_all(head.as_bytes()).is_err() || up.write_all(&body).is_err() {
            return;
        }
        let mut response = Vec::new();
        let _ = up.read_to_end(&mut response);
        let cut = {
            let mut slot = faults.cut_once.lock().expect("the fault");
            match slot.as_ref() {
                Some((k, n)) if is_get && seen.range.is_none() && *k == key => {
                    let n = *n;
                    *slot = None;
                    Some(n)
                }
                _ => None,
            }
        };
        match cut {
            Some(n) => {
                let head_end = response
                    .windows(4)
                    .position(|w| w == b"\r\n\r\n")
                    .map_or(response.len(), |p| p + 4);
                let upto = (head_end + n).min(response.len());
                let _ = client.write_all(&response[..upto]);
                let _ = client.flush();
                return; // the connection drops mid-body
            }
            None => {
                if client.write_all(&response).is_err() {
                    return;
                }
                let closes = String::from_utf8_lossy(&response[..response.len().min(2048)])
                    .to_ascii_lowercase()
                    .contains("connection: close");
                if closes {
                    return;
                }
            }
        }
    }
}

fn gets(seen: &[Seen], bucket: &str) -> Vec<String> {
    seen.iter().filter_map(|s| s.get_key(bucket)).collect()
}

fn lists(seen: &[Seen]) -> Vec<&Seen> {
    seen.iter().filter(|s| s.is_list()).collect()
}

fn audit_args<'a>(input: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "audit",
        input,
        "--topology",
        "samples/lab/timeline/topology",
        "-o",
        "json",
    ];
    v.extend_from_slice(extra);
    v
}

// ---- tests ----

#[test]
fn s3_audit_and_flows_equal_the_same_files_on_disk() {
    let Some(fx) = Fixture::new("equal") else {
        return;
    };
    let files = three_days();
    fx.put_all(&files);
    let local = tempdir();
    write_local(local.path(), &files);
    let dir = local.path().display().to_string();

    let on_disk = crate::harness::run(audit_args(&dir, &[]));
    on_disk.assert_code(0);
    let uri = fx.uri("AWSLogs/");
    let from_s3 = run_with(fx.cmd(&fx.url), &audit_args(&uri, &[]));
    from_s3.assert_code(0);
    assert_eq!(
        from_s3.stdout,
        as_s3(&on_disk.stdout, local.path(), &fx.bucket),
        "the audit from S3 differs from the audit of the same files"
    );
    assert!(
        from_s3.stderr.contains("selected 9 objects"),
        "{}",
        from_s3.snapshot()
    );

    let flows_disk = crate::harness::run(["flows", &dir, "-o", "jsonl"]);
    flows_disk.assert_code(0);
    let flows_s3 = run_with(
        fx.cmd("http://127.0.0.1:1"),
        &[
            "flows",
            &uri,
            "-o",
            "jsonl",
            "--endpoint-url",
            &fx.url,
            "-q",
        ],
    );
    flows_s3.assert_code(0);
    assert!(!flows_s3.stdout.is_empty());
    assert_eq!(
        flows_s3.stdout,
        as_s3(&flows_disk.stdout, local.path(), &fx.bucket)
    );
    assert_eq!(flows_s3.stderr, "", "-q: nothing on stderr");

    // The same for any thread count and number of objects in flight.
    for (j, n) in [("1", "1"), ("2", "16")] {
        let r = run_with(
            fx.cmd(&fx.url),
            &[
                "flows",
                &uri,
                "-o",
                "jsonl",
                "-q",
                "-j",
                j,
                "--concurrent-objects",
                n,
            ],
        );
        r.assert_code(0);
        assert_eq!(r.stdout, flows_s3.stdout, "-j {j} --concurrent-objects {n}");
    }
}

#[test]
fn s3_window_lists_only_its_folders_and_fetches_only_its_keys() {
    let Some(fx) = Fixture::new("window") else {
        return;
    };
    let files = three_days();
    fx.put_all(&files);
    let proxy = Proxy::start(&fx.url, Faults::default());
    let window = [
        "--since",
        "2026-11-02T09:20:00Z",
        "--until",
        "2026-11-02T09:25:00Z",
    ];
    let uri = fx.uri("");
    let r = run_with(fx.cmd(&proxy.url), &audit_args(&uri, &window));
    r.assert_code(0);

    let seen = proxy.seen();
    let got: BTreeSet<String> = gets(&seen, &fx.bucket).into_iter().collect();
    let want: BTreeSet<String> = ["20261102T0915Z_120253ab", "20261102T0930Z_692d16f4"]
        .iter()
        .map(|t| format!("{DAY0}{STEM}{t}.log.gz"))
        .collect();
    assert_eq!(got, want, "GetObject only for the keys the window needs");
    assert_eq!(gets(&seen, &fx.bucket).len(), 2, "each once");

    let listed: Vec<String> = lists(&seen)
        .iter()
        .map(|s| {
            assert_eq!(
                s.query.get("delimiter").map(String::as_str),
                Some("/"),
                "a window never lists without a delimiter: {s:?}"
            );
            s.query.get("prefix").cloned().unwrap_or_default()
        })
        .collect();
    let root = "AWSLogs/111122223333/vpcflowlogs/ap-northeast-2/";
    assert_eq!(
        listed,
        [
            String::new(),
            "AWSLogs/".into(),
            "AWSLogs/111122223333/".into(),
            "AWSLogs/111122223333/vpcflowlogs/".into(),
            root.to_owned(),
            format!("{root}2026/"),
            format!("{root}2026/11/"),
            DAY0.to_owned(),
        ],
        "only the day of the window is listed"
    );
    assert!(
        r.stderr.contains("selected 2 objects")
            && r.stderr
                .contains("of 3 keys listed in 8 ListObjectsV2 requests"),
        "{}",
        r.snapshot()
    );

    // The same as the audit of those two files on disk, with the window.
    let local = tempdir();
    let chosen: Vec<(String, Vec<u8>)> = files
        .into_iter()
        .filter(|(k, _)| want.contains(k))
        .collect();
    write_local(local.path(), &chosen);
    let dir = local.path().display().to_string();
    let on_disk = crate::harness::run(audit_args(&dir, &window));
    on_disk.assert_code(0);
    assert_eq!(r.stdout, as_s3(&on_disk.stdout, local.path(), &fx.bucket));
}

/// One small flow-log file per key, `n` keys in one day folder (times
/// 09:00-18:59, one a minute, wrapping).
fn many_objects(n: usize) -> Vec<(String, Vec<u8>)> {
    let header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";
    (0..n)
        .map(|i| {
            let start = 1_793_610_000 + i as i64;
            let text = format!(
                "{header}\n2 111122223333 eni-02b4d6f8103c5e7a9 10.0.0.10 52.219.60.{} {} 443 6 1 60 {start} {} ACCEPT OK\n",
                i % 250,
                30_000 + i,
                start + 30
            );
            let key = format!(
                "{DAY0}{STEM}20261102T{:02}{:02}Z_{i:08x}.log.gz",
                9 + i / 60 % 10,
                i % 60
            );
            (key, gzip(&text))
        })
        .collect()
}

#[test]
fn s3_lists_past_1000_keys_and_pull_resumes_by_size_and_etag() {
    let Some(fx) = Fixture::new("pages") else {
        return;
    };
    let n = 1_030;
    let objects = many_objects(n);
    fx.put_all(&objects);
    let proxy = Proxy::start(&fx.url, Faults::default());

    let uri = fx.uri("AWSLogs/");
    let r = run_with(fx.cmd(&proxy.url), &["flows", &uri, "-o", "jsonl"]);
    r.assert_code(0);
    assert_eq!(r.stdout.lines().count(), n, "one record per object");
    let seen = proxy.seen();
    assert_eq!(lists(&seen).len(), 2, "1,000 keys a page: two pages");
    assert_eq!(gets(&seen, &fx.bucket).len(), n);

    // pull: the 120 objects of one hour (a prefix ending mid-name), in the
    // bucket's layout under the prefix's folder.
    let hour: Vec<&(String, Vec<u8>)> = objects
        .iter()
        .filter(|(k, _)| k.contains("_20261102T09"))
        .collect();
    assert_eq!(hour.len(), 120);
    let uri = fx.uri(&format!("{DAY0}{STEM}20261102T09"));
    let out = tempdir();
    let dir = out.path().join("copy");
    let dir_s = dir.display().to_string();
    let local = |key: &str| dir.join(key.strip_prefix(DAY0).unwrap());
    let pull = || run_with(fx.cmd(&proxy.url), &["pull", "s3", &uri, "--out", &dir_s]);
    let before = proxy.seen().len();
    let r = pull();
    r.assert_code(0);
    assert!(
        r.stderr.contains("pulled 120 objects") && r.stderr.contains("0 already there"),
        "{}",
        r.snapshot()
    );
    for (key, bytes) in &hour {
        assert_eq!(&std::fs::read(local(key)).unwrap(), bytes, "{key}");
    }
    assert_eq!(gets(&proxy.seen()[before..], &fx.bucket).len(), 120);

    // Again: nothing is fetched.
    let before = proxy.seen().len();
    let r = pull();
    r.assert_code(0);
    assert!(
        r.stderr.contains("pulled 0 objects") && r.stderr.contains("120 already there"),
        "{}",
        r.snapshot()
    );
    assert!(gets(&proxy.seen()[before..], &fx.bucket).is_empty());

    // One object replaced (same size, new ETag), one local file removed:
    // exactly those two are fetched.
    let (k0, b0) = hour[0];
    let replacement = gzip(&gunzip(b0).replace(" ACCEPT ", " REJECT "));
    fx.put_all(&[(k0.clone(), replacement.clone())]);
    let (k1, _) = hour[1];
    std::fs::remove_file(local(k1)).unwrap();
    let before = proxy.seen().len();
    let r = pull();
    r.assert_code(0);
    let fetched: BTreeSet<String> = gets(&proxy.seen()[before..], &fx.bucket)
        .into_iter()
        .collect();
    assert_eq!(fetched, BTreeSet::from([k0.clone(), k1.clone()]));
    assert_eq!(std::fs::read(local(k0)).unwrap(), replacement);
    // Nothing hidden (manifest, temporary files) is read back as evidence.
    let r = crate::harness::run(["flows", &dir_s, "-o", "jsonl"]);
    r.assert_code(0);
    assert_eq!(r.stdout.lines().count(), 120);
}

#[test]
fn s3_interrupted_download_resumes_where_it_stopped() {
    let Some(fx) = Fixture::new("resume") else {
        return;
    };
    let files = three_days();
    fx.put_all(&files);
    let victim = format!("{DAY0}{STEM}20261102T0915Z_120253ab.log.gz");
    let size = files.iter().find(|(k, _)| *k == victim).unwrap().1.len();
    assert!(size > 200, "the cut falls inside the body");
    let faults = Faults {
        cut_once: Mutex::new(Some((victim.clone(), 100))),
        ..Faults::default()
    };
    let proxy = Proxy::start(&fx.url, faults);
    let uri = fx.uri("AWSLogs/");
    let r = run_with(fx.cmd(&proxy.url), &["flows", &uri, "-o", "jsonl"]);
    r.assert_code(0);
    let clean = run_with(fx.cmd(&fx.url), &["flows", &uri, "-o", "jsonl"]);
    clean.assert_code(0);
    assert_eq!(
        r.stdout, clean.stdout,
        "the break is invisible in the output"
    );
    let seen = proxy.seen();
    let ranges: Vec<Option<String>> = seen
        .iter()
        .filter(|s| s.get_key(&fx.bucket).as_deref() == Some(victim.as_str()))
        .map(|s| s.range.clone())
        .collect();
    assert_eq!(ranges, [None, Some("bytes=100-".to_owned())], "{seen:?}");
}

#[test]
fn s3_throttled_object_exits_2_naming_bucket_and_key() {
    let Some(fx) = Fixture::new("throttle") else {
        return;
    };
    fx.put_all(&three_days());
    let victim = format!("{DAY0}{STEM}20261102T0900Z_fd243124.log.gz");
    let proxy = Proxy::start(
        &fx.url,
        Faults {
            throttle_key: Some(victim.clone()),
            ..Faults::default()
        },
    );
    let uri = fx.uri("AWSLogs/");
    let r = run_with(fx.cmd(&proxy.url), &audit_args(&uri, &[]));
    r.assert_code(2);
    let line = format!(
        "privpath: s3://{}/{victim}: GetObject throttled by S3 (SlowDown) after 6 attempts: Please reduce your request rate.\n",
        fx.bucket
    );
    assert!(r.stderr.contains(&line), "{}", r.snapshot());
    let tries = gets(&proxy.seen(), &fx.bucket)
        .iter()
        .filter(|k| **k == victim)
        .count();
    assert_eq!(tries, 6, "the SDK's retries, then the error");
}

#[test]
fn s3_missing_bucket_exits_2_with_one_line() {
    let Some(fx) = Fixture::new("missing") else {
        return;
    };
    let missing = format!("{}-none", fx.bucket);
    let uri = format!("s3://{missing}/AWSLogs/");
    let r = run_with(fx.cmd(&fx.url), &audit_args(&uri, &[]));
    r.assert_code(2);
    assert_eq!(
        r.stderr,
        format!(
            "privpath: s3://{missing}/AWSLogs/: no such bucket '{missing}' (region {REGION}; check the name and --region)\n"
        )
    );
    assert_eq!(r.stdout, "");
}

/// A moto server of its own with IAM enforced, started by
/// `s3_iam_moto.py`; stopped when dropped.
struct IamMoto {
    child: std::process::Child,
    info: serde_json::Value,
}

impl IamMoto {
    fn start() -> IamMoto {
        let script = root().join("tests/cli/s3_iam_moto.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs (PRIVPATH_TEST_S3_URL promises moto)");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the helper's first line");
        let info: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("s3_iam_moto.py said {line:?}: {e}"));
        IamMoto { child, info }
    }
    fn get(&self, k: &str) -> String {
        self.info[k]
            .as_str()
            .unwrap_or_else(|| panic!("{k} in {}", self.info))
            .to_owned()
    }
}

impl Drop for IamMoto {
    fn drop(&mut self) {
        drop(self.child.stdin.take()); // the helper stops its server
        let _ = self.child.wait();
    }
}

#[test]
fn s3_access_denied_exits_2_with_one_line() {
    if emulator_url().is_none() {
        return;
    }
    let moto = IamMoto::start();
    let (url, bucket) = (moto.get("url"), moto.get("bucket"));
    // No `/` in the prefix: with IAM on, moto checks signatures and its
    // canonical query string encodes `/` differently from the SDK
    // (SignatureDoesNotMatch for `prefix=a%2F`).
    let uri = format!("s3://{bucket}/AWSLogs");
    let r = run_with(
        aws_cmd(&url, &moto.get("key"), &moto.get("secret")),
        &audit_args(&uri, &[]),
    );
    r.assert_code(2);
    assert_eq!(
        r.stderr,
        format!("privpath: {uri}: access denied to ListObjectsV2: Access Denied\n")
    );
    // Keys the server does not know: rejected credentials, also one line.
    let r = run_with(aws_cmd(&url, "AKIAUNKNOWN", "x"), &audit_args(&uri, &[]));
    r.assert_code(2);
    assert!(
        r.stderr.starts_with(&format!(
            "privpath: {uri}: AWS rejected the credentials in region {REGION} (InvalidAccessKeyId)"
        )) && r.stderr.lines().count() == 1,
        "{}",
        r.snapshot()
    );
}

#[test]
fn aws_options_need_a_remote_input() {
    let r = crate::harness::run(["flows", "samples/lab/timeline/flowlogs", "--profile", "x"]);
    r.assert_code(2);
    assert!(
        r.stderr
            .contains("--profile needs --cloudwatch LOG_GROUP or an s3:// input"),
        "{}",
        r.snapshot()
    );
    let r = crate::harness::run(["flows", "s3://Not_A_Bucket/x"]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("not a valid bucket name"),
        "{}",
        r.snapshot()
    );
}

/// Every evidence file of lab phases 3 and 4 that AWS delivers to S3, under
/// AWS's keys (`AWSLogs/…/vpcflowlogs/…`, `…/vpcdnsquerylogs/<vpc>/…`,
/// `…/CloudTrail/<region>/…`): (key, bytes).
fn lab_evidence() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for case in [
        "samples/lab/3-cfn-interface-endpoint",
        "samples/lab/4-private-dns-off",
    ] {
        for kind in ["flowlogs", "resolver-query-logs", "cloudtrail"] {
            let base = root().join(case).join(kind);
            let mut stack = vec![base.join("AWSLogs")];
            while let Some(dir) = stack.pop() {
                let Ok(entries) = std::fs::read_dir(&dir) else {
                    continue;
                };
                for entry in entries {
                    let p = entry.expect("an entry").path();
                    if p.is_dir() {
                        stack.push(p);
                    } else {
                        let key = p
                            .strip_prefix(&base)
                            .unwrap()
                            .to_string_lossy()
                            .into_owned();
                        out.push((key, std::fs::read(&p).expect("a lab file")));
                    }
                }
            }
        }
    }
    out.sort();
    out
}

#[test]
fn s3_resolver_and_cloudtrail_logs_are_read_and_chosen_by_key_time() {
    fn strs(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }
    let Some(fx) = Fixture::new("aws-logs") else {
        return;
    };
    let files = lab_evidence();
    let kinds: Vec<&str> = files
        .iter()
        .map(|(k, _)| k.split('/').nth(2).unwrap_or_default())
        .collect();
    for kind in ["vpcflowlogs", "vpcdnsquerylogs", "CloudTrail"] {
        assert!(kinds.contains(&kind), "a {kind} object in {kinds:?}");
    }
    fx.put_all(&files);
    let topo = "samples/lab/3-cfn-interface-endpoint/topology";
    let args = |input: &str, extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = ["audit", input, "--topology", topo, "-o", "json"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        v.extend(extra.iter().map(|s| (*s).to_owned()));
        v
    };

    // The whole bucket equals the same files on disk, and the Resolver
    // answers and CloudTrail calls are in the report.
    let local = tempdir();
    write_local(local.path(), &files);
    let dir = local.path().display().to_string();
    let on_disk = crate::harness::run(strs(&args(&dir, &[])));
    on_disk.assert_code(0);
    let uri = fx.uri("AWSLogs/");
    let from_s3 = run_with(fx.cmd(&fx.url), &strs(&args(&uri, &[])));
    from_s3.assert_code(0);
    assert_same_lines(
        &from_s3.stdout,
        &as_s3(&on_disk.stdout, local.path(), &fx.bucket),
    );
    let report: serde_json::Value = serde_json::from_str(&from_s3.stdout).unwrap();
    let kinds: BTreeSet<&str> = report["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["kind"].as_str())
        .collect();
    assert!(
        kinds.len() >= 3,
        "flow log, Resolver and CloudTrail inputs: {kinds:?}"
    );
    assert!(
        report["api_calls"]
            .as_array()
            .is_some_and(|a| !a.is_empty()),
        "CloudTrail calls from S3"
    );
    assert!(
        report["dns"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d.to_string().contains("resolver")),
        "Resolver answers from S3: {}",
        report["dns"]
    );

    // Phase 3's window: its flow-log and Resolver files (T = 09:30) and the
    // CloudTrail file delivered after it (T = 09:35), not phase 4's (09:45).
    let proxy = Proxy::start(&fx.url, Faults::default());
    let window = [
        "--since",
        "2026-11-02T09:29:00Z",
        "--until",
        "2026-11-02T09:34:00Z",
    ];
    let r = run_with(fx.cmd(&proxy.url), &strs(&args(&uri, &window)));
    r.assert_code(0);
    let got: BTreeSet<String> = gets(&proxy.seen(), &fx.bucket).into_iter().collect();
    let want: BTreeSet<String> = files
        .iter()
        .map(|(k, _)| k.clone())
        .filter(|k| !k.contains("T0945Z"))
        .collect();
    assert_eq!(want.len(), 3, "{want:?}");
    assert_eq!(got, want, "GetObject only for phase 3's keys");
    let chosen: Vec<(String, Vec<u8>)> = files
        .into_iter()
        .filter(|(k, _)| want.contains(k))
        .collect();
    let only3 = tempdir();
    write_local(only3.path(), &chosen);
    let dir3 = only3.path().display().to_string();
    let disk3 = crate::harness::run(strs(&args(&dir3, &window)));
    disk3.assert_code(0);
    assert_same_lines(&r.stdout, &as_s3(&disk3.stdout, only3.path(), &fx.bucket));

    // A Resolver log under a key that does not say what it is arrives with
    // the flow logs: its answers are listed, and the report says they named
    // no service.
    let odd: Vec<(String, Vec<u8>)> = chosen
        .iter()
        .filter(|(k, _)| !k.contains("CloudTrail"))
        .map(|(k, b)| {
            let name = if k.contains("vpcdnsquerylogs") {
                "a.gz"
            } else {
                "b.gz"
            };
            (format!("odd/{name}"), b.clone())
        })
        .collect();
    fx.put_all(&odd);
    let r = run_with(fx.cmd(&fx.url), &strs(&args(&fx.uri("odd/"), &[])));
    r.assert_code(0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let notes = v["findings"].to_string();
    assert!(
        notes.contains("odd/a.gz: name evidence read with the flow logs"),
        "{notes}"
    );
}

/// Equal texts, or a panic showing the first lines that differ.
#[track_caller]
fn assert_same_lines(got: &str, want: &str) {
    if got == want {
        return;
    }
    let (g, w): (Vec<&str>, Vec<&str>) = (got.lines().collect(), want.lines().collect());
    let at = g
        .iter()
        .zip(&w)
        .position(|(a, b)| a != b)
        .unwrap_or(g.len().min(w.len()));
    let lo = at.saturating_sub(3);
    panic!(
        "texts differ at line {} ({} vs {} lines):\n--- got\n{}\n--- want\n{}",
        at + 1,
        g.len(),
        w.len(),
        g[lo..(at + 4).min(g.len())].join("\n"),
        w[lo..(at + 4).min(w.len())].join("\n"),
    );
}
