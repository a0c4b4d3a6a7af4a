//! `pull`: one gzip file per log stream, starting with a header line that
//! names the record format, so the file readers parse the saved records
//! exactly as [`read_log_group`](super::read_log_group) parses them live.
//! A log group of Resolver query logs or CloudTrail (JSON messages) is saved
//! as JSON lines, one record per line, without the header.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;

use super::fetch::{PageSink, drive};
use super::parse::record_plan;
use super::{CloudWatchError, CloudWatchSource, Event};
use crate::ingest::IngestOptions;
use crate::ingest::flowlog::FieldId;

/// Longest file name stem taken from a stream name.
const STEM_MAX: usize = 200;
/// Suffix of a file still being written.
const PART_SUFFIX: &str = ".part";

/// One stream as pulled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PulledStream {
    /// The log stream's name.
    pub name: String,
    /// The file written (removed again when `error` is set).
    pub path: PathBuf,
    pub events: u64,
    /// Bytes of event messages (before compression).
    pub bytes: u64,
    /// Why the stream could not be saved whole; its file is then removed.
    pub error: Option<String>,
}

/// The result of [`pull_to_dir`]: streams in sorted name order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PullSummary {
    pub streams: Vec<PulledStream>,
}

impl PullSummary {
    pub fn events(&self) -> u64 {
        self.streams.iter().map(|s| s.events).sum()
    }

    pub fn bytes(&self) -> u64 {
        self.streams.iter().map(|s| s.bytes).sum()
    }

    /// Streams that could not be saved.
    pub fn failed(&self) -> impl Iterator<Item = &PulledStream> {
        self.streams.iter().filter(|s| s.error.is_some())
    }
}

/// A file name for a stream: characters outside `[A-Za-z0-9._-]` become `_`,
/// a leading dot too (no hidden files), clipped, with `.log.gz` appended.
pub fn stream_file_name(stream: &str) -> String {
    let mut stem: String = stream
        .chars()
        .take(STEM_MAX)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if stem.is_empty() || stem.starts_with('.') {
        stem.insert(0, '_');
    }
    format!("{stem}.log.gz")
}

/// File names for sorted stream names, unique even when two names map to
/// the same file name (`a/b`, `a:b`): later ones get `-2`, `-3`, ….
fn file_names(streams: &[String]) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    streams
        .iter()
        .map(|s| {
            let base = stream_file_name(s);
            let mut name = base.clone();
            let mut n = 1u32;
            while !seen.insert(name.clone()) {
                n += 1;
                let stem = base.strip_suffix(".log.gz").unwrap_or(&base);
                name = format!("{stem}-{n}.log.gz");
            }
            name
        })
        .collect()
}

/// Pull the selected streams of `src` into `dir` (created if missing), one
/// `<stream>.log.gz` per stream: the format's header line, then one event
/// message per line, in the stream's order (with the event timestamp
/// appended as `start` when the format has no `start`). `opts.log_format` declares the
/// records' format (default: version 2); `opts.progress` shows events and
/// bytes fetched on stderr.
///
/// Files are written as `*.part` and renamed when the stream is complete; a
/// stream that fails midway leaves no file and is reported in the summary.
pub fn pull_to_dir(
    src: &CloudWatchSource,
    opts: &IngestOptions,
    dir: &Path,
) -> Result<PullSummary, CloudWatchError> {
    let (header, append_start) = layout(opts.log_format.as_deref())?;
    let mut writer = drive(src, opts.progress, |streams| {
        // Only once the group and streams are known: a failed start leaves
        // no folder behind.
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        Ok(DirWriter {
            header,
            append_start,
            files: file_names(streams)
                .into_iter()
                .zip(streams)
                .map(|(file, name)| StreamFile {
                    name: name.clone(),
                    path: dir.join(file),
                    open: None,
                    json: false,
                    events: 0,
                    bytes: 0,
                    error: None,
                })
                .collect(),
        })
    })?;
    Ok(PullSummary {
        streams: writer
            .files
            .drain(..)
            .map(|f| PulledStream {
                name: f.name,
                path: f.path,
                events: f.events,
                bytes: f.bytes,
                error: f.error,
            })
            .collect(),
    })
}

/// The first line of every file, and whether each record gets its event
/// timestamp appended as a `start` field (when the format has none, the
/// timestamp is the only record of the start: keep it).
fn layout(log_format: Option<&str>) -> Result<(String, bool), CloudWatchError> {
    let plan = record_plan(log_format)?;
    let append_start = !plan.has(FieldId::Start);
    let mut header = plan.to_header_line();
    if append_start {
        header.push_str(" start");
    }
    Ok((header, append_start))
}

fn io_error(path: &Path, source: std::io::Error) -> CloudWatchError {
    CloudWatchError::Io {
        path: path.display().to_string(),
        source,
    }
}

struct DirWriter {
    header: String,
    append_start: bool,
    files: Vec<StreamFile>,
}

struct StreamFile {
    name: String,
    path: PathBuf,
    open: Option<GzEncoder<BufWriter<File>>>,
    /// The stream holds JSON records (Resolver query logs, CloudTrail): no
    /// flow-log header and no appended start, one record per line.
    json: bool,
    events: u64,
    bytes: u64,
    error: Option<String>,
}

impl StreamFile {
    fn part_path(&self) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(PART_SUFFIX);
        PathBuf::from(p)
    }

    fn writer(&mut self, header: &str) -> Result<&mut GzEncoder<BufWriter<File>>, CloudWatchError> {
        if self.open.is_none() {
            let part = self.part_path();
            let file = File::create(&part).map_err(|e| io_error(&part, e))?;
            let mut enc = GzEncoder::new(BufWriter::new(file), Compression::default());
            if !self.json {
                enc.write_all(header.as_bytes())
                    .and_then(|()| enc.write_all(b"\n"))
                    .map_err(|e| io_error(&part, e))?;
            }
            self.open = Some(enc);
        }
        match self.open.as_mut() {
            Some(enc) => Ok(enc),
            None => Err(io_error(&self.path, std::io::Error::other("not open"))),
        }
    }

    fn finish(&mut self, header: &str) -> Result<(), CloudWatchError> {
        // A stream without events in the range still gets its (header-only)
        // file: the folder lists the same streams as the live read.
        self.writer(header)?;
        let part = self.part_path();
        if let Some(enc) = self.open.take() {
            let mut buf = enc.finish().map_err(|e| io_error(&part, e))?;
            buf.flush().map_err(|e| io_error(&part, e))?;
        }
        std::fs::rename(&part, &self.path).map_err(|e| io_error(&self.path, e))
    }

    fn discard(&mut self) {
        self.open = None;
        let _ = std::fs::remove_file(self.part_path());
    }
}

impl PageSink for DirWriter {
    fn page(&mut self, stream: usize, events: Vec<Event>) -> Result<(), CloudWatchError> {
        let header = &self.header;
        let Some(file) = self.files.get_mut(stream) else {
            return Ok(());
        };
        let part = file.part_path();
        if file.open.is_none() {
            // The first event tells a log group of JSON records (Resolver
            // query logs, CloudTrail) from one of flow-log lines.
            file.json = events
                .first()
                .is_some_and(|e| e.message.trim_start().starts_with('{'));
        }
        let append_start = self.append_start && !file.json;
        let enc = file.writer(header)?;
        let mut bytes = 0usize;
        for e in &events {
            // One event is one record; a stray line break would split it.
            let line = e.message.trim_end_matches(['\n', '\r']);
            bytes += e.message.len();
            enc.write_all(line.as_bytes())
                .and_then(|()| match append_start {
                    true => write!(enc, " {}", e.timestamp.div_euclid(1000)),
                    false => Ok(()),
                })
                .and_then(|()| enc.write_all(b"\n"))
                .map_err(|err| io_error(&part, err))?;
        }
        file.events += u64::try_from(events.len()).unwrap_or(u64::MAX);
        file.bytes += u64::try_from(bytes).unwrap_or(u64::MAX);
        Ok(())
    }

    fn done(
        &mut self,
        stream: usize,
        error: Option<CloudWatchError>,
    ) -> Result<(), CloudWatchError> {
        let header = &self.header;
        let Some(file) = self.files.get_mut(stream) else {
            return Ok(());
        };
        match error {
            Some(e) => {
                file.discard();
                file.error = Some(e.to_string());
                Ok(())
            }
            None => file.finish(header),
        }
    }
}

impl Drop for DirWriter {
    /// A pull stopped by an error leaves no half-written `.part` files.
    fn drop(&mut self) {
        for f in &mut self.files {
            if f.open.is_some() {
                f.discard();
            }
        }
    }
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

    #[test]
    fn stream_file_name_keeps_safe_characters_only() {
        assert_eq!(
            stream_file_name("eni-0a1b2c3d-all"),
            "eni-0a1b2c3d-all.log.gz"
        );
        assert_eq!(stream_file_name("a/b:c d"), "a_b_c_d.log.gz");
        assert_eq!(stream_file_name(".hidden"), "_.hidden.log.gz");
        assert_eq!(stream_file_name(""), "_.log.gz");
        assert_eq!(
            stream_file_name("../../etc/passwd"),
            "_.._.._etc_passwd.log.gz"
        );
        assert!(stream_file_name(&"x".repeat(1000)).len() <= STEM_MAX + 7);
    }

    #[test]
    fn file_names_are_unique_for_colliding_streams() {
        let streams = vec!["a/b".to_owned(), "a:b".to_owned(), "a_b".to_owned()];
        assert_eq!(
            file_names(&streams),
            ["a_b.log.gz", "a_b-2.log.gz", "a_b-3.log.gz"]
        );
    }

    fn gunzip(path: &Path) -> String {
        use std::io::Read;
        let mut s = String::new();
        flate2::read::MultiGzDecoder::new(File::open(path).unwrap())
            .read_to_string(&mut s)
            .unwrap();
        s
    }

    #[test]
    fn dir_writer_writes_complete_streams_and_drops_failed_ones() {
        let tmp = tempfile::tempdir().unwrap();
        let (header, append_start) = layout(None).unwrap();
        let streams = vec![
            "eni-a-all".to_owned(),
            "eni-b-all".to_owned(),
            "eni-c-all".to_owned(),
        ];
        let mut w = DirWriter {
            header,
            append_start,
            files: file_names(&streams)
                .into_iter()
                .zip(&streams)
                .map(|(f, name)| StreamFile {
                    name: name.clone(),
                    path: tmp.path().join(f),
                    open: None,
                    json: false,
                    events: 0,
                    bytes: 0,
                    error: None,
                })
                .collect(),
        };
        let ev = |m: &str| Event {
            timestamp: 1,
            message: m.to_owned(),
        };
        w.page(0, vec![ev("line 1\n"), ev("line 2")]).unwrap();
        w.page(1, vec![ev("partial")]).unwrap();
        w.page(0, vec![ev("line 3")]).unwrap();
        assert!(tmp.path().join("eni-a-all.log.gz.part").exists());
        w.done(0, None).unwrap();
        w.done(1, Some(CloudWatchError::Interrupted("eni-b-all".into())))
            .unwrap();
        w.done(2, None).unwrap();

        let a = gunzip(&tmp.path().join("eni-a-all.log.gz"));
        assert_eq!(a, format!("{}\nline 1\nline 2\nline 3\n", w.header));
        assert!(!tmp.path().join("eni-b-all.log.gz").exists());
        assert!(!tmp.path().join("eni-b-all.log.gz.part").exists());
        assert_eq!(
            gunzip(&tmp.path().join("eni-c-all.log.gz")),
            format!("{}\n", w.header)
        );
        assert_eq!(w.files[0].events, 3);
        assert!(w.files[1].error.is_some());
    }

    #[test]
    fn formats_without_start_get_the_event_time_appended() {
        let (header, append) = layout(Some("${interface-id} ${srcaddr} ${action}")).unwrap();
        assert_eq!(header, "interface-id srcaddr action start");
        assert!(append);
        let (header, append) = layout(None).unwrap();
        assert!(header.starts_with("version account-id interface-id"));
        assert!(!append);
    }
}
