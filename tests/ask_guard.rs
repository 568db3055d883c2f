//! ASK under the guard, through the real proxy and psql: a question's SQL is checked and
//! rewritten like typed SQL (row filters apply), a role's catalog hides what its policy denies
//! (a metric reading a denied column is not understood), and EXPLAIN ASK shows the SQL before
//! and after the guard.

mod common;
mod leak;

use common::Proxy;

fn proxy() -> Proxy {
    leak::guarded_proxy()
}

fn psql(p: &Proxy, user: &str, cmd: &str) -> (String, String) {
    leak::psql(p.port, user, &["-v", "VERBOSITY=verbose"], cmd)
}

#[tokio::test]
async fn row_filters_apply_to_answers() {
    leak::ensure_dataset().await;
    let p = proxy();
    let (all, err) = psql(&p, leak::ADMIN, "ASK 'revenue by region in 2024'");
    assert_eq!(all.lines().count(), 5, "{all}{err}");
    assert!(
        err.contains("NOTICE:  00000: ASK: revenue by region"),
        "{err}"
    );
    // alice (analyst_west, region_id = 3) only sees orders of her region's stores.
    let (mine, err) = psql(&p, leak::ALICE, "ASK 'revenue by region in 2024'");
    assert_eq!(mine.lines().count(), 1, "{mine}{err}");
    assert!(mine.starts_with("East|"), "{mine}");
    assert!(all.contains(mine.trim()), "{all} / {mine}");
}

#[tokio::test]
async fn a_denied_column_makes_its_metric_unknown() {
    leak::ensure_dataset().await;
    let p = proxy();
    let (ok, err) = psql(&p, leak::ADMIN, "ASK 'payroll by store'");
    assert_eq!(ok.lines().count(), 40, "{ok}{err}");
    let (out, err) = psql(&p, leak::ALICE, "ASK 'payroll by store'");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("ERROR:  QA001: ASK did not understand \"payroll\""),
        "{err}"
    );
    assert!(err.contains("HINT:"), "{err}");
    // The hint never names what the role cannot see.
    assert!(!err.contains("salary"), "{err}");
}

#[tokio::test]
async fn explain_ask_shows_the_plan_and_the_guarded_sql() {
    leak::ensure_dataset().await;
    let p = proxy();
    let (out, err) = psql(&p, leak::ALICE, "EXPLAIN ASK 'reveune by shop in 2024'");
    let rows: Vec<(&str, &str)> = out.lines().filter_map(|l| l.split_once('|')).collect();
    let item = |k: &str| {
        rows.iter()
            .find(|(i, _)| *i == k)
            .map(|(_, d)| *d)
            .unwrap_or_else(|| panic!("no {k} in {out}{err}"))
    };
    assert_eq!(item("question"), "reveune by shop in 2024");
    assert!(
        item("linked").contains("\"reveune\" -> metric revenue"),
        "{out}"
    );
    let plan: serde_json::Value = serde_json::from_str(item("plan")).unwrap();
    assert_eq!(plan["time"]["start"], "2024-01-01");
    assert!(!item("sql").contains("region_id"), "{out}");
    assert!(
        item("guarded_sql").contains("region_id"),
        "row filter: {out}"
    );
    assert_eq!(item("planner"), "deterministic");
    // Nothing ran: no NOTICE of a result.
    assert!(!err.contains("ASK SQL"), "{err}");
}
