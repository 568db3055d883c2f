//! `history.file`: one JSON line per entry. The writer appends under an exclusive lock;
//! `querent history verify` rewrites the file under the same lock into a new file renamed over
//! the old one, and a writer that waited for the lock sees the rename and appends to the new
//! file, so no entry is lost and no reader ever sees half a rewrite.

use super::{Entry, Outcome};
use crate::audit::writer::open_append_file;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;

/// Opens `path` with `open` and locks it exclusively, making sure the locked file is still
/// the one at `path` (a verify may have replaced it while we waited for the lock).
fn lock_current(path: &Path, open: impl Fn() -> Result<File, String>) -> Result<File, String> {
    let problem = |e: std::io::Error| format!("history.file: cannot lock {}: {e}", path.display());
    for _ in 0..8 {
        let f = open()?;
        f.lock().map_err(problem)?;
        if same_file(&f, path) {
            return Ok(f);
        }
    }
    Err(format!(
        "history.file: {} keeps being replaced; is another process rewriting it?",
        path.display()
    ))
}

#[cfg(unix)]
fn same_file(f: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (f.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &File, _: &Path) -> bool {
    true
}

/// Appends `lines` (each ending in a newline) to the file, creating it (mode 0600).
pub(super) fn append(path: &Path, lines: &str) -> Result<(), String> {
    let mut f = lock_current(path, || open_append_file(path, "history.file"))?;
    f.write_all(lines.as_bytes())
        .and_then(|()| f.flush())
        .map_err(|e| format!("history.file: cannot write {}: {e}", path.display()))
}

/// Every entry of the file, oldest first; none when it does not exist yet. Lines that do not
/// read as an entry are skipped (and logged).
pub(super) fn read(path: &Path) -> Result<Vec<Entry>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("history.file: cannot read {}: {e}", path.display())),
    };
    let mut out = Vec::new();
    let mut bad = 0usize;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match serde_json::from_str::<Entry>(line) {
            Ok(e) => out.push(e),
            Err(_) => bad += 1,
        }
    }
    if bad > 0 {
        tracing::warn!(file = %path.display(), lines = bad, "history.file: lines that are not entries were skipped");
    }
    Ok(out)
}

/// Whether `e` may become an example: an answered question with its SQL.
pub(super) fn verifiable(e: &Entry) -> Result<(), String> {
    match (&e.outcome, e.sql.as_deref()) {
        (Outcome::Answered, Some(sql)) if !sql.trim().is_empty() => Ok(()),
        (outcome, _) => Err(format!(
            "history entry {} was {outcome} without SQL: only an answered question with its SQL can be verified",
            e.id
        )),
    }
}

/// Sets `verified` on entry `id` by rewriting the file atomically; returns the entry.
pub(super) fn verify(path: &Path, id: &str, not_found: String) -> Result<Entry, String> {
    let io = |what: &str, e: std::io::Error| {
        format!("history.file: cannot {what} {}: {e}", path.display())
    };
    let mut f = lock_current(path, || {
        OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| io("open", e))
    })?;
    let mut text = String::new();
    f.read_to_string(&mut text).map_err(|e| io("read", e))?;
    let mut found: Option<Entry> = None;
    let mut out = String::with_capacity(text.len() + 16);
    for line in text.lines() {
        if found.is_none() {
            if let Ok(mut e) = serde_json::from_str::<Entry>(line) {
                if e.id == id {
                    verifiable(&e)?;
                    if e.verified {
                        return Ok(e);
                    }
                    e.verified = true;
                    let json = serde_json::to_string(&e)
                        .map_err(|e| format!("history.file: cannot write entry {id}: {e}"))?;
                    out.push_str(&json);
                    out.push('\n');
                    found = Some(e);
                    continue;
                }
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    let entry = found.ok_or(not_found)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "history".into());
    let tmp = path.with_file_name(format!(".{name}.verify-{}", std::process::id()));
    let written = (|| {
        let mut o = OpenOptions::new();
        o.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        let mut t = o.open(&tmp)?;
        if let Ok(meta) = f.metadata() {
            t.set_permissions(meta.permissions())?;
        }
        t.write_all(out.as_bytes())?;
        t.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io("rewrite", e));
    }
    // Unlocked only now: a writer waiting for the lock finds the new file at the path.
    drop(f);
    Ok(entry)
}
