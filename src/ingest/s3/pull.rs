//! `pull s3`: keep a local copy of the selected objects, in the bucket's
//! layout (keys relative to the prefix's folder, as `aws s3 sync` does).
//!
//! Resumable: each finished object is recorded (key, size, ETag) in the
//! hidden manifest [`MANIFEST`] in the output folder; an object whose file
//! is there with the same size and whose recorded ETag is the listed one is
//! not fetched again. Files are written under a hidden temporary name and
//! renamed when complete, so an interrupted pull never leaves a partial file
//! that looks whole (hidden names are skipped when a folder is read).

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::fetch::RemoteError;
use super::read::{Progress, S3Reader, Selection};
use super::{S3Object, S3Uri};

/// The manifest of finished objects, one JSON object per line.
pub const MANIFEST: &str = ".privpath-s3-manifest.jsonl";

/// One manifest line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    key: String,
    size: u64,
    etag: String,
}

/// An object that could not be saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedObject {
    pub key: String,
    /// Why (one line naming `s3://bucket/key` or the local file).
    pub error: String,
}

/// The result of a pull: counts, and the objects that failed (memory
/// holds no row per object pulled).
#[derive(Debug, Clone, Default)]
pub struct PullSummary {
    /// Objects fetched and saved, and their bytes.
    pub fetched: u64,
    pub fetched_bytes: u64,
    /// Already there with the same size and ETag: not fetched.
    pub skipped: u64,
    /// In key order.
    pub failed: Vec<FailedObject>,
}

/// Why a pull could not start.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> PullError + '_ {
    move |source| PullError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Save the objects of `sel` (selected under `uri`) into `out`. The
/// selection is consumed: the objects to fetch move out of it, so the
/// listing is held once.
pub fn pull_to_dir(
    reader: &S3Reader,
    uri: &S3Uri,
    sel: Selection,
    out: &Path,
    progress: bool,
) -> Result<PullSummary, PullError> {
    fs::create_dir_all(out).map_err(io_err(out))?;
    let manifest_path = out.join(MANIFEST);
    let done = load_manifest(&manifest_path)?;
    let mut manifest = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&manifest_path)
        .map_err(io_err(&manifest_path))?;

    let mut summary = PullSummary::default();
    let mut failed: Vec<(usize, FailedObject)> = Vec::new();
    let mut to_fetch: Vec<S3Object> = Vec::new();
    // Selection position of each object fetched (failures keep key order).
    let mut slots: Vec<usize> = Vec::new();
    let destination = |key: &str| local_path(out, key.strip_prefix(uri.folder()).unwrap_or(key));
    for (i, obj) in sel.objects.into_iter().enumerate() {
        match destination(&obj.key) {
            Some(path) => {
                let same = done
                    .get(&obj.key)
                    .is_some_and(|(size, etag)| *size == obj.size && *etag == obj.etag);
                let on_disk =
                    same && fs::metadata(&path).is_ok_and(|m| m.is_file() && m.len() == obj.size);
                if on_disk {
                    summary.skipped += 1;
                } else {
                    to_fetch.push(obj);
                    slots.push(i);
                }
            }
            None => failed.push((
                i,
                FailedObject {
                    error: format!(
                        "{}: the key is not a safe relative file path; not saved",
                        obj.uri()
                    ),
                    key: obj.key,
                },
            )),
        }
    }
    drop(done);

    let fetch_sel = Selection {
        objects: to_fetch,
        ..Selection::default()
    };
    let bar = Progress::new(progress, &fetch_sel);
    let objects = Arc::new(fetch_sel.objects);
    let mut manifest_error: Option<PullError> = None;
    reader.run(
        Arc::clone(&objects),
        |j, body| {
            let Some(obj) = objects.get(j) else {
                return Err("no such object".to_owned());
            };
            let Some(path) = destination(&obj.key) else {
                return Err(format!("{}: no destination", obj.uri()));
            };
            save(body, &path, &obj.uri())
        },
        |j, saved: Result<(), String>| {
            bar.update(reader.counters());
            let (Some(obj), Some(&slot)) = (objects.get(j), slots.get(j)) else {
                return;
            };
            match saved {
                Ok(()) => {
                    summary.fetched += 1;
                    summary.fetched_bytes += obj.size;
                    let entry = Entry {
                        key: obj.key.clone(),
                        size: obj.size,
                        etag: obj.etag.clone(),
                    };
                    if manifest_error.is_none() {
                        if let Err(e) = append(&mut manifest, &entry) {
                            manifest_error = Some(io_err(&manifest_path)(e));
                        }
                    }
                }
                Err(error) => failed.push((
                    slot,
                    FailedObject {
                        key: obj.key.clone(),
                        error,
                    },
                )),
            }
        },
    );
    bar.finish();
    if let Some(e) = manifest_error {
        return Err(e);
    }
    failed.sort_by_key(|(i, _)| *i);
    summary.failed = failed.into_iter().map(|(_, f)| f).collect();
    Ok(summary)
}

/// `out/rel`, or `None` when `rel` could leave `out` or name no file.
fn local_path(out: &Path, rel: &str) -> Option<PathBuf> {
    if rel.is_empty() || rel.ends_with('/') || rel.contains('\\') || rel.contains('\0') {
        return None;
    }
    let mut path = out.to_path_buf();
    for seg in rel.split('/') {
        let p = Path::new(seg);
        let mut comps = p.components();
        match (comps.next(), comps.next()) {
            (Some(Component::Normal(c)), None) if !seg.is_empty() => path.push(c),
            _ => return None,
        }
    }
    Some(path)
}

/// Copy a body to `path` through a hidden temporary file in the same
/// folder. The error names the object (`uri`) when reading it failed, else
/// the local file.
fn save(mut body: impl std::io::Read, path: &Path, uri: &str) -> Result<(), String> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.privpath-part"));
    let mut run = || -> std::io::Result<()> {
        fs::create_dir_all(dir)?;
        let mut w = BufWriter::with_capacity(256 << 10, File::create(&tmp)?);
        std::io::copy(&mut body, &mut w)?;
        w.flush()?;
        drop(w);
        fs::rename(&tmp, path)
    };
    run().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        if e.get_ref().is_some_and(|r| r.is::<RemoteError>()) {
            format!("{uri}: {e}")
        } else {
            format!("{}: {e}", path.display())
        }
    })
}

fn append(manifest: &mut File, entry: &Entry) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
    line.push(b'\n');
    manifest.write_all(&line)?;
    manifest.flush()
}

/// The finished objects recorded so far (the last line per key wins; lines
/// that do not parse, such as one cut by a crash, are ignored).
fn load_manifest(path: &Path) -> Result<HashMap<String, (u64, String)>, PullError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(e) => return Err(io_err(path)(e)),
    };
    let mut out = HashMap::new();
    for line in BufReader::new(file).lines() {
        let line = line.map_err(io_err(path))?;
        if let Ok(e) = serde_json::from_str::<Entry>(&line) {
            out.insert(e.key, (e.size, e.etag));
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_paths_inside_the_folder_only() {
        let out = Path::new("/tmp/o");
        assert_eq!(
            local_path(out, "2026/11/25/a.log.gz"),
            Some(PathBuf::from("/tmp/o/2026/11/25/a.log.gz"))
        );
        for bad in [
            "",
            "a/",
            "../x",
            "a/../../x",
            "/etc/passwd",
            "a//b",
            "./a",
            "a\\b",
            "a/./b",
        ] {
            assert_eq!(local_path(out, bad), None, "{bad}");
        }
    }

    #[test]
    fn manifest_round_trips_and_tolerates_a_cut_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(MANIFEST);
        let mut f = File::create(&path).unwrap();
        let e = Entry {
            key: "k".into(),
            size: 3,
            etag: "\"abc\"".into(),
        };
        append(&mut f, &e).unwrap();
        f.write_all(b"{\"key\":\"cut").unwrap();
        let got = load_manifest(&path).unwrap();
        assert_eq!(got.get("k"), Some(&(e.size, e.etag.clone())));
        assert_eq!(got.len(), 1);
    }
}
