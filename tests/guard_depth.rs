//! No statement may overflow the guard's stack (which would abort the whole process): every
//! family of deep syntax tree, just under the guard's limit, goes through the full check
//! (parse, rewrite with replaced tables, templates, print, drop) on a test thread's small
//! stack, and just over the limit is refused with 54001. The same shapes through a running
//! proxy are in `guard_clients.rs`.

mod common;

use querent::guard::depth::MAX_DEPTH;
use querent::guard::{Decision, SessionGuard};

fn guard() -> SessionGuard {
    common::guard::alice_guard("k")
}

/// Statement families whose tree depth grows with `n`, each touching a guarded table.
fn families(n: usize) -> Vec<(&'static str, String)> {
    let t = "retail.stores";
    vec![
        (
            "union",
            format!(
                "SELECT store_id FROM {t}{}",
                " UNION SELECT 1".repeat(n / 2)
            ),
        ),
        (
            "intersect in a CTE",
            format!(
                "WITH x AS (SELECT 1{}) SELECT * FROM x, {t}",
                " INTERSECT SELECT 1".repeat(n / 2)
            ),
        ),
        (
            "and",
            format!(
                "SELECT store_id FROM {t} WHERE true{}",
                " AND true".repeat(n)
            ),
        ),
        (
            "or of comparisons",
            format!(
                "SELECT store_id FROM {t} WHERE store_id = 0{}",
                " OR store_id = 1".repeat(n / 2)
            ),
        ),
        (
            "plus",
            format!("SELECT store_id{} FROM {t}", " + 1".repeat(n)),
        ),
        (
            "concat",
            format!("SELECT name{} FROM {t}", " || 'x'".repeat(n)),
        ),
        (
            "casts",
            format!("SELECT store_id{} FROM {t}", "::int".repeat(n)),
        ),
        (
            "is null",
            format!("SELECT 1 FROM {t} WHERE name{}", " IS NULL".repeat(n)),
        ),
        (
            "nested brackets",
            format!(
                "SELECT {}store_id{} FROM {t}",
                "(1 + ".repeat(n / 10),
                ")".repeat(n / 10)
            ),
        ),
        (
            "nested subqueries",
            format!(
                "SELECT {}store_id{} FROM {t}",
                "(SELECT ".repeat(n / 12),
                ")".repeat(n / 12)
            ),
        ),
        (
            "not",
            format!("SELECT 1 FROM {t} WHERE {}true", "NOT ".repeat(n / 8)),
        ),
    ]
}

#[test]
fn deep_statements_are_checked_or_refused_never_crash() {
    let mut g = guard();
    for (name, sql) in families(MAX_DEPTH * 9 / 10) {
        match g.check(&sql) {
            Decision::Rewrite(out) => assert!(!out.is_empty(), "{name}"),
            Decision::Deny(e) => assert!(
                e.code != "54001" && e.code != "42601",
                "{name} just under the limit was refused: {} {}",
                e.code,
                e.message
            ),
            Decision::Pass => panic!("{name}: a guarded session never passes SQL unchecked"),
        }
    }
    for n in [MAX_DEPTH + 100, 20_000, 100_000] {
        for (name, sql) in families(n * 2) {
            match g.check(&sql) {
                // sqlparser reports a too-deep prefix chain as a syntax error.
                Decision::Deny(e) if name == "not" => {
                    assert!(e.code == "54001" || e.code == "42601")
                }
                Decision::Deny(e) => {
                    assert_eq!(e.code, "54001", "{name} at {n}: {}", e.message);
                    assert!(e.message.contains("too complex"), "{}", e.message);
                }
                other => panic!("{name} at {n} was not refused: {other:?}"),
            }
        }
    }
}
