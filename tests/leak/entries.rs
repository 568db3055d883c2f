//! The .leak files: the entry format (`tests/leak/README.md`) and its parser.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Simple,
    Extended,
    Copy,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Simple => "simple",
            Mode::Extended => "extended",
            Mode::Copy => "copy",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub file: String,
    pub line: usize,
    pub name: String,
    pub category: String,
    pub sql: String,
    /// SQLSTATEs that count as a refusal; empty = the statement must return its rows.
    pub refuse: Vec<String>,
    /// Rows are not acceptable: the statement must be refused.
    pub must_refuse: bool,
    pub checks: Vec<String>,
    pub setup: Vec<String>,
    pub forbid: Vec<String>,
    pub modes: Vec<Mode>,
    pub params: Vec<Vec<String>>,
    pub options: Option<String>,
}

/// Parses every `*.leak` file in `dir` (sorted by name).
pub fn load_entries(dir: &Path) -> Vec<Entry> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "leak"))
        .collect();
    files.sort();
    let mut all = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        all.extend(parse_entries(
            f.file_name().unwrap().to_str().unwrap(),
            &text,
        ));
    }
    let mut names = HashSet::new();
    for e in &all {
        assert!(
            names.insert(e.name.clone()),
            "duplicate entry name {}",
            e.name
        );
    }
    all
}

pub fn parse_entries(file: &str, text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut cur: Option<Entry> = None;
    let mut in_body = false;
    let finish = |e: Entry, out: &mut Vec<Entry>| {
        let mut e = e;
        e.sql = e.sql.trim().to_string();
        assert!(
            !e.sql.is_empty(),
            "{}:{}: entry {} has no SQL",
            e.file,
            e.line,
            e.name
        );
        if e.modes.is_empty() {
            e.modes = if !e.params.is_empty() {
                vec![Mode::Extended]
            } else {
                vec![Mode::Simple, Mode::Extended]
            };
        }
        out.push(e);
    };
    for (i, line) in text.lines().enumerate() {
        if let Some(name) = line.strip_prefix("===") {
            if let Some(e) = cur.take() {
                finish(e, &mut out);
            }
            cur = Some(Entry {
                file: file.to_string(),
                line: i + 1,
                name: name.trim().to_string(),
                category: String::new(),
                sql: String::new(),
                refuse: Vec::new(),
                must_refuse: false,
                checks: Vec::new(),
                setup: Vec::new(),
                forbid: Vec::new(),
                modes: Vec::new(),
                params: Vec::new(),
                options: None,
            });
            in_body = false;
            continue;
        }
        let Some(e) = cur.as_mut() else {
            assert!(
                line.trim().is_empty() || line.trim_start().starts_with('#'),
                "{file}:{}: text before the first === entry",
                i + 1
            );
            continue;
        };
        if line.trim_start().starts_with('#') {
            continue;
        }
        if !in_body {
            if line.trim().is_empty() {
                continue;
            }
            if let Some((key, value)) = line.split_once(':') {
                let key = key.trim();
                let value = value.trim().to_string();
                let known = true;
                match key {
                    "category" => e.category = value,
                    "refuse" => e.refuse = value.split_whitespace().map(str::to_string).collect(),
                    "must" => {
                        assert_eq!(value, "refuse", "{file}:{}: must: refuse", i + 1);
                        e.must_refuse = true;
                    }
                    "check" => e.checks.push(value),
                    "setup" => e.setup.push(value),
                    "forbid" => e.forbid.push(value),
                    "params" => e
                        .params
                        .push(value.split('|').map(|v| v.trim().to_string()).collect()),
                    "options" => e.options = Some(value),
                    "mode" => {
                        e.modes = value
                            .split_whitespace()
                            .map(|m| match m {
                                "simple" => Mode::Simple,
                                "extended" => Mode::Extended,
                                "copy" => Mode::Copy,
                                other => panic!("{file}:{}: unknown mode {other}", i + 1),
                            })
                            .collect()
                    }
                    _ if key.chars().all(|c| c.is_ascii_lowercase() || c == '_') => {
                        panic!("{file}:{}: unknown key {key:?}", i + 1)
                    }
                    _ => {
                        in_body = true;
                        let _ = known;
                    }
                }
                if !in_body {
                    continue;
                }
            } else {
                in_body = true;
            }
        }
        e.sql.push_str(line);
        e.sql.push('\n');
    }
    if let Some(e) = cur.take() {
        finish(e, &mut out);
    }
    for e in &out {
        assert!(
            !e.must_refuse || !e.refuse.is_empty(),
            "{}: must: refuse needs refuse: codes",
            e.name
        );
    }
    out
}
