//! What the user named, sorted before anything is read: files, folders
//! (walked), case folders (evidence beside `topology/` and `expect.toml`)
//! and standard input become evidence to read, topology to load and
//! expectations to check. Every command plans its inputs here, so a folder
//! means the same to `audit`, `flows` and `dns`; each file is classified by
//! its first bytes ([`super::sniff`]), never by its name.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::IngestError;
use super::sniff::{self, Sniffed};

/// Names inside a case folder that are not evidence (the case's layout).
pub const CASE_SKIP: [&str; 3] = ["topology", "expect.toml", "README.md"];

/// A folder holding `topology/` is a case folder.
pub fn is_case_folder(p: &Path) -> bool {
    p.is_dir() && p.join("topology").is_dir()
}

/// Why a path is not read as evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Aside {
    /// A case's `topology/` folder, or AWS CLI JSON found by content.
    Topology,
    /// A case's `expect.toml`, or TOML with its keys found by content.
    Expectations,
    /// A case's `README.md`.
    Notes,
}

impl Aside {
    pub fn as_str(self) -> &'static str {
        match self {
            Aside::Topology => "topology",
            Aside::Expectations => "expectations",
            Aside::Notes => "case notes",
        }
    }
}

/// The inputs, sorted.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct InputPlan {
    /// Files (and `-`) to read as evidence, in a deterministic order: each
    /// argument as given, folders walked in sorted order.
    pub evidence: Vec<PathBuf>,
    /// Topology folders and files (a case's `topology/`, AWS CLI JSON found
    /// among the inputs), for the topology loader.
    pub topology: Vec<PathBuf>,
    /// `expect.toml` files (a case's, or found by content).
    pub expect: Vec<PathBuf>,
    /// Everything that is not evidence, with the reason, in input order
    /// (`topology` and `expect` are here too, for commands that only read
    /// evidence to say what they set aside).
    pub aside: Vec<(PathBuf, Aside)>,
}

impl InputPlan {
    fn file(&mut self, path: PathBuf) -> Result<(), IngestError> {
        match sniff_file(&path)? {
            Sniffed::TopologyJson => {
                self.topology.push(path.clone());
                self.aside.push((path, Aside::Topology));
            }
            Sniffed::ExpectToml => {
                self.expect.push(path.clone());
                self.aside.push((path, Aside::Expectations));
            }
            _ => self.evidence.push(path),
        }
        Ok(())
    }

    fn case(&mut self, dir: &Path) -> Result<(), IngestError> {
        let topology = dir.join("topology");
        self.topology.push(topology.clone());
        self.aside.push((topology, Aside::Topology));
        let expect = dir.join("expect.toml");
        if expect.is_file() {
            self.expect.push(expect.clone());
            self.aside.push((expect, Aside::Expectations));
        }
        let notes = dir.join("README.md");
        if notes.is_file() {
            self.aside.push((notes, Aside::Notes));
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| io_error(dir, e))?
            .map(|e| e.map(|e| e.path()).map_err(|e| io_error(dir, e)))
            .collect::<Result<_, _>>()?;
        entries.sort();
        for p in entries {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.starts_with('.') || CASE_SKIP.contains(&name.as_str()) {
                continue;
            }
            self.path(&p)?;
        }
        Ok(())
    }

    fn path(&mut self, p: &Path) -> Result<(), IngestError> {
        // Standard input and remote inputs (`s3://…`, read by their own
        // readers) are evidence as given.
        if p.as_os_str() == "-" || p.to_str().is_some_and(|s| s.starts_with("s3://")) {
            self.evidence.push(p.to_path_buf());
            return Ok(());
        }
        let meta = std::fs::metadata(p).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => IngestError::NotFound {
                path: p.display().to_string(),
            },
            _ => io_error(p, e),
        })?;
        if !meta.is_dir() {
            return self.file(p.to_path_buf());
        }
        if is_case_folder(p) {
            return self.case(p);
        }
        let walk = walkdir::WalkDir::new(p)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
        let mut walk = walk.into_iter();
        while let Some(entry) = walk.next() {
            let entry = entry.map_err(|e| IngestError::Io {
                path: e
                    .path()
                    .map_or_else(|| p.display().to_string(), |x| x.display().to_string()),
                source: e.into(),
            })?;
            if entry.depth() > 0 && entry.file_type().is_dir() && is_case_folder(entry.path()) {
                // A case inside the folder keeps its own layout.
                walk.skip_current_dir();
                self.case(entry.path())?;
            } else if entry.file_type().is_file() {
                self.file(entry.into_path())?;
            }
        }
        Ok(())
    }
}

fn io_error(p: &Path, e: std::io::Error) -> IngestError {
    IngestError::Io {
        path: p.display().to_string(),
        source: e,
    }
}

/// Sort the inputs. Fails on a path that does not exist or cannot be
/// listed, before anything is read (and before any other check of the
/// caller, such as a missing topology).
pub fn plan(inputs: &[PathBuf]) -> Result<InputPlan, IngestError> {
    let mut plan = InputPlan::default();
    for p in inputs {
        plan.path(p)?;
    }
    Ok(plan)
}

/// The kind of a file from its first bytes (an unreadable file is left to
/// the reader, which reports it as that input's error).
fn sniff_file(path: &Path) -> Result<Sniffed, IngestError> {
    let Ok(f) = File::open(path) else {
        return Ok(Sniffed::Text);
    };
    let mut head = Vec::with_capacity(sniff::HEAD_BYTES);
    match f.take(sniff::HEAD_BYTES as u64).read_to_end(&mut head) {
        Ok(_) => Ok(sniff::sniff(&head)),
        Err(_) => Ok(Sniffed::Text),
    }
}

/// One line saying what was set aside (None when nothing was): paths
/// grouped by reason, with the number of files in each.
pub fn aside_line(aside: &[(PathBuf, Aside)]) -> Option<String> {
    if aside.is_empty() {
        return None;
    }
    let mut by: std::collections::BTreeMap<Aside, Vec<String>> = Default::default();
    for (p, why) in aside {
        by.entry(*why).or_default().push(p.display().to_string());
    }
    let parts: Vec<String> = by
        .iter()
        .map(|(why, paths)| {
            let shown: Vec<&str> = paths.iter().take(3).map(String::as_str).collect();
            let more = paths.len().saturating_sub(shown.len());
            let tail = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            format!("{} ({}{tail})", why.as_str(), shown.join(", "))
        })
        .collect();
    Some(format!(
        "set aside, not evidence: {}",
        crate::error::sanitize(&parts.join("; "), 600)
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    fn touch(p: &Path, bytes: &[u8]) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }

    #[test]
    fn a_case_folder_splits_into_evidence_topology_and_expectations() {
        let dir = tempfile::tempdir().unwrap();
        let case = dir.path().join("case");
        touch(&case.join("topology/vpcs.json"), br#"{"Vpcs": []}"#);
        touch(&case.join("expect.toml"), b"expect = []\n");
        touch(&case.join("README.md"), b"# notes\n");
        touch(
            &case.join("flows/a.log"),
            b"2 1 eni-1 - - - - - - - 1 2 - NODATA\n",
        );
        touch(&case.join("cap.pcap"), b"\xd4\xc3\xb2\xa1");
        touch(&case.join(".hidden"), b"x");
        let plan = plan(&[case.clone()]).unwrap();
        assert_eq!(
            plan.evidence,
            vec![case.join("cap.pcap"), case.join("flows/a.log")]
        );
        assert_eq!(plan.topology, vec![case.join("topology")]);
        assert_eq!(plan.expect, vec![case.join("expect.toml")]);
        let line = aside_line(&plan.aside).unwrap();
        assert!(line.contains("topology ("), "{line}");
        assert!(line.contains("expectations ("), "{line}");
        assert!(line.contains("case notes ("), "{line}");
    }

    #[test]
    fn plain_folders_are_sorted_by_content_and_cases_inside_keep_their_layout() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        touch(&d.join("a/rt.json"), b"{\n  \"RouteTables\": []\n}\n");
        touch(&d.join("a/checks"), b"# mine\nsince = 1\n");
        touch(&d.join("a/events.json"), br#"{"events": []}"#);
        touch(&d.join("a/inner/topology/x.json"), br#"{"Subnets": []}"#);
        touch(&d.join("a/inner/cap.pcapng"), b"\x0a\x0d\x0d\x0a");
        touch(&d.join("a/inner/topology.txt"), b"2 1");
        let s3 = PathBuf::from("s3://bucket/AWSLogs/");
        let plan = plan(&[d.join("a"), PathBuf::from("-"), s3.clone()]).unwrap();
        assert_eq!(
            plan.evidence,
            vec![
                d.join("a/events.json"),
                d.join("a/inner/cap.pcapng"),
                d.join("a/inner/topology.txt"),
                PathBuf::from("-"),
                s3
            ]
        );
        assert_eq!(
            plan.topology,
            vec![d.join("a/inner/topology"), d.join("a/rt.json")]
        );
        assert_eq!(plan.expect, vec![d.join("a/checks")]);
    }

    #[test]
    fn a_missing_path_fails_the_plan() {
        let e = plan(&[PathBuf::from("/no/such/input")]).unwrap_err();
        assert_eq!(e.to_string(), "/no/such/input: no such file or folder");
    }
}
