//! Replays the fuzz targets' seed corpus and every saved crash (`fuzz/corpus/<target>/`,
//! `fuzz/regressions/<target>/`) through the same checks the fuzzers make (`fuzz/src/lib.rs`),
//! so CI runs them on every change without a fuzzer. Fuzzing itself: `fuzz/README.md`.

mod common;
#[path = "../fuzz/src/lib.rs"]
mod targets;

use std::path::PathBuf;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for dir in ["corpus", "regressions"] {
        let d = common::repo().join("fuzz").join(dir).join(target);
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            if e.path().is_file() {
                out.push((e.path(), std::fs::read(e.path()).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn frame_corpus() {
    let all = inputs("frame");
    assert!(!all.is_empty());
    for (_, data) in &all {
        targets::frame(data);
    }
}

#[test]
fn startup_corpus() {
    let all = inputs("startup");
    assert!(!all.is_empty());
    for (_, data) in &all {
        targets::startup(data);
    }
}

#[test]
fn guard_corpus() {
    let all = inputs("guard");
    assert!(
        all.len() >= 300,
        "the seed corpus holds the leak suite and golden inputs"
    );
    let mut g = targets::guard_session(&common::repo());
    for (path, data) in &all {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            targets::guard(&mut g, data)
        }));
        assert!(r.is_ok(), "{} failed", path.display());
    }
}
