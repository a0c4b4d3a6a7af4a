//! Replays what fuzzing kept, on stable: every input of the minimised
//! corpora (`fuzz/corpus/<target>/`) and every crash, hang or out-of-memory
//! input it found (`fuzz/regressions/<target>/`, one file per finding, see
//! FUZZING.md) runs through the target's property
//! (`privpath::fuzzing`): no panic, no failed property, within 10 s each
//! (the fuzzers' `-timeout`).

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use privpath::fuzzing::TARGETS;

fn inputs(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<_> = rd
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

#[test]
fn fuzz_corpora_and_findings_replay_without_a_failure() {
    let root = crate::harness::root().join("fuzz");
    let mut total = 0;
    for (name, check) in TARGETS {
        let mut files = inputs(&root.join("corpus").join(name));
        let corpus = files.len();
        files.extend(inputs(&root.join("regressions").join(name)));
        assert!(corpus > 0, "fuzz/corpus/{name} is empty");
        for f in files {
            let data = std::fs::read(&f).unwrap();
            let (tx, rx) = mpsc::channel();
            let h = std::thread::spawn(move || {
                check(&data);
                let _ = tx.send(());
            });
            match rx.recv_timeout(Duration::from_secs(10)) {
                Ok(()) => h.join().unwrap(),
                Err(_) if h.is_finished() => panic!("{name}: {} fails", f.display()),
                Err(_) => panic!("{name}: {} hangs (10 s)", f.display()),
            }
            total += 1;
        }
    }
    eprintln!("{total} fuzz inputs replayed");
}
