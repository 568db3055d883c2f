//! Golden tests of the guard: `tests/golden/guard/*.sql` hold a header, the input SQL and the
//! expected rewritten SQL or refusal. They run offline against fixtures/guard (the retail
//! catalog) and the policies in policies/. `UPDATE_GOLDEN=1 cargo test --test guard_golden`
//! rewrites the expectations; review the diff before committing.
//!
//! File format:
//! ```text
//! -- user: alice roles=analyst_west region_id=3
//! -- search_path: public            (optional; default "root, public")
//! SELECT ...
//! -- expect:
//! SELECT ...                        (or: ERROR 42501 <message>)
//! ```
//! Fixture regeneration (database loaded from ../shared/bench/retail/retail.sql):
//! see fixtures/guard/README.md.

use querent::auth::Principal;
use querent::guard::catalog::{Relation, Snapshot};
use querent::guard::{Decision, SessionGuard};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn snapshot() -> Snapshot {
    let mut snap = Snapshot::default();
    let text = std::fs::read_to_string(repo().join("fixtures/guard/retail_catalog.txt")).unwrap();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let full = words.next().unwrap();
        let kind = words.next().unwrap().chars().next().unwrap();
        let (s, t) = full.split_once('.').unwrap();
        snap.relations.insert(
            (s.into(), t.into()),
            Relation {
                kind,
                columns: words.map(String::from).collect(),
            },
        );
    }
    let funcs =
        std::fs::read_to_string(repo().join("fixtures/guard/builtin_functions.txt")).unwrap();
    snap.builtin_functions = funcs.lines().map(String::from).collect();
    snap
}

struct Case {
    principal: Principal,
    search_path: Vec<String>,
    sql: String,
    expect: String,
}

fn parse_case(text: &str) -> Case {
    let mut principal = Principal::default();
    let mut search_path = vec!["root".to_string(), "public".to_string()];
    let (input, expect) = text.split_once("-- expect:\n").expect("-- expect: line");
    let mut sql = String::new();
    for line in input.lines() {
        if let Some(u) = line.strip_prefix("-- user: ") {
            let mut words = u.split_whitespace();
            principal.user = words.next().unwrap().into();
            for w in words {
                let (k, v) = w.split_once('=').unwrap();
                if k == "roles" {
                    principal.roles = v.split(',').map(String::from).collect();
                } else {
                    principal.attributes.insert(k.into(), v.into());
                }
            }
        } else if let Some(p) = line.strip_prefix("-- search_path: ") {
            search_path = p.split(',').map(|s| s.trim().to_string()).collect();
        } else {
            sql.push_str(line);
            sql.push('\n');
        }
    }
    Case {
        principal,
        search_path,
        sql: sql.trim().to_string(),
        expect: expect.trim().to_string(),
    }
}

fn render(d: &Decision) -> String {
    match d {
        Decision::Pass => "PASS".into(),
        Decision::Rewrite(s) => s.clone(),
        Decision::Deny(e) => format!("ERROR {} {}", e.code, e.message),
    }
}

#[test]
fn golden_cases() {
    let policies = querent::policy::load_dir(&repo().join("policies")).expect("policies load");
    let dir = repo().join("tests/golden/guard");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "only {} golden cases", files.len());
    let update = std::env::var("UPDATE_GOLDEN").is_ok();
    let mut failures = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let case = parse_case(&text);
        let got = match SessionGuard::offline(
            &policies,
            &case.principal,
            "querent_retail",
            case.search_path.clone(),
            snapshot(),
            "golden-key",
        ) {
            Some(mut g) => render(&g.check(&case.sql)),
            None => "PASS (trusted)".into(),
        };
        if update {
            let head = text.split("-- expect:\n").next().unwrap();
            std::fs::write(f, format!("{head}-- expect:\n{got}\n")).unwrap();
        } else if got != case.expect {
            failures.push(format!(
                "{}:\n  expected: {}\n  got:      {}",
                name(f),
                case.expect,
                got
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden case(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}
