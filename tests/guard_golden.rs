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
use querent::guard::catalog::Snapshot;
use querent::guard::{Decision, SessionGuard};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn snapshot() -> Snapshot {
    Snapshot::fixture(&repo().join("fixtures/guard"))
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

/// Templates (decisions reused for statements differing only in literals) must give exactly
/// the decision a fresh guard computes in full, for every literal, including the literals whose
/// value the guard looks at (pg_sleep, set_config, LIMIT against max_rows).
#[test]
fn templates_agree_with_full_decisions() {
    let policies = querent::policy::load_dir(&repo().join("policies")).expect("policies load");
    let alice = parse_case("-- user: alice roles=analyst_west region_id=3\nSELECT 1\n-- expect:\n")
        .principal;
    let families: &[(&str, &[&str])] = &[
        ("SELECT name FROM retail.stores WHERE store_id = {}", &["1", "17", "-4", "0"]),
        ("SELECT email FROM retail.customers WHERE name = {} AND customer_id > {}", &["'O''Brien'", "'x'", "''", "'a\\b'"]),
        ("SELECT pg_sleep({})", &["1", "29", "3600", "1"]),
        ("SELECT set_config({}, 'x', false)", &["'work_mem'", "'role'", "'application_name'", "'search_path'"]),
        ("SELECT order_id FROM retail.orders ORDER BY 1 LIMIT {}", &["5", "50000", "10000", "7"]),
        ("SELECT * FROM retail.orders o JOIN retail.stores s USING (store_id) WHERE o.order_id BETWEEN {} AND {}", &["1", "100", "5", "9"]),
        ("SELECT {} + 1, 'lit' FROM retail.regions", &["1", "2.5", "1e3", "3"]),
    ];
    let mut warm = SessionGuard::offline(
        &policies,
        &alice,
        "querent_retail",
        vec!["public".into()],
        snapshot(),
        "k",
    )
    .unwrap();
    let mut compared = 0;
    for (tpl, values) in families {
        for round in 0..2 {
            for (i, v) in values.iter().enumerate() {
                let second = values[(i + round + 1) % values.len()];
                let sql = tpl.replacen("{}", v, 1).replacen("{}", second, 1);
                let mut fresh = SessionGuard::offline(
                    &policies,
                    &alice,
                    "querent_retail",
                    vec!["public".into()],
                    snapshot(),
                    "k",
                )
                .unwrap();
                let full = render(&fresh.check(&sql));
                let got = render(&warm.check(&sql));
                assert_eq!(got, full, "template and full decision differ for {sql}");
                compared += 1;
            }
        }
    }
    assert!(compared >= 50);
    // Shapes whose decision looks at a literal (pg_sleep, set_config, LIMIT) get no template;
    // the others (point lookup with and without a sign, string filter, join, arithmetic) do.
    let shapes = warm.templates();
    assert!(
        shapes
            .iter()
            .all(|k| !k.contains("pg_sleep") && !k.contains("set_config") && !k.contains("LIMIT")),
        "a shape whose decision depends on a literal got a template: {shapes:#?}"
    );
    assert_eq!(shapes.len(), 5, "templates were not used: {shapes:#?}");
}
