//! ASK on a second schema written for this purpose (fixtures/catalog/saas.sql: no foreign keys,
//! no comments, join columns named `acct` and `plan`) with its own annotations
//! (schemas/saas.toml): each question is planned and compiled by the real planner, run on
//! Postgres, and its rows compared with hand-written gold SQL; questions the data cannot answer
//! must be declined.

mod common;

use querent::ask::cache::plan_and_compile;
use querent::catalog::store;
use querent::upstream::UpstreamTarget;

const DB: &str = "querent_saas";

/// (question, gold SQL; None = must be declined)
const CASES: &[(&str, Option<&str>)] = &[
    (
        "total billings in 2024",
        Some("SELECT ROUND(SUM(amount_usd), 2) FROM saas.invoices WHERE state = 'paid' AND issued >= '2024-01-01' AND issued < '2025-01-01'"),
    ),
    (
        "revenue by plan",
        Some("SELECT p.title, ROUND(SUM(i.amount_usd), 2) FROM saas.invoices i JOIN saas.accounts a ON a.acct = i.acct JOIN saas.plans p ON p.code = a.plan WHERE i.state = 'paid' GROUP BY p.title"),
    ),
    (
        "how many tickets per priority",
        Some("SELECT priority, COUNT(*) FROM saas.tickets GROUP BY priority"),
    ),
    (
        "number of urgent tikets in 2024",
        Some("SELECT COUNT(*) FROM saas.tickets WHERE priority = 'urgent' AND opened_at >= '2024-01-01' AND opened_at < '2025-01-01'"),
    ),
    (
        "monthly api calls in the last 3 months",
        Some("SELECT date_trunc('month', day)::date, SUM(api_calls) FROM saas.usage_daily WHERE day >= '2024-10-01' GROUP BY 1"),
    ),
    (
        "top 5 clients by billings",
        Some("SELECT a.company, ROUND(SUM(i.amount_usd), 2) AS b FROM saas.invoices i JOIN saas.accounts a ON a.acct = i.acct WHERE i.state = 'paid' GROUP BY a.acct, a.company ORDER BY b DESC, a.company LIMIT 5"),
    ),
    (
        "how many accounts per country",
        Some("SELECT country, COUNT(*) FROM saas.accounts GROUP BY country"),
    ),
    (
        "outstanding amount by industry",
        Some("SELECT a.industry, ROUND(SUM(i.amount_usd), 2) FROM saas.invoices i JOIN saas.accounts a ON a.acct = i.acct WHERE i.state = 'open' GROUP BY a.industry"),
    ),
    (
        "average resolution time by topic",
        Some("SELECT topic, ROUND(AVG(EXTRACT(EPOCH FROM (closed_at - opened_at)) / 3600)::numeric, 2) FROM saas.tickets WHERE closed_at IS NOT NULL GROUP BY topic"),
    ),
    (
        "what share of billings came from German customers",
        Some("SELECT ROUND(100.0 * SUM(i.amount_usd) FILTER (WHERE a.country = 'Germany') / SUM(i.amount_usd), 2) FROM saas.invoices i JOIN saas.accounts a ON a.acct = i.acct WHERE i.state = 'paid'"),
    ),
    (
        "how many clients have more than 10 tickets",
        Some("SELECT COUNT(*) FROM (SELECT acct FROM saas.tickets GROUP BY acct HAVING COUNT(*) > 10) t"),
    ),
    (
        "billings growth in 2024",
        Some("SELECT ROUND(100.0 * (c - p) / p, 2) FROM (SELECT SUM(amount_usd) FILTER (WHERE issued >= '2024-01-01' AND issued < '2025-01-01') AS c, SUM(amount_usd) FILTER (WHERE issued >= '2023-01-01' AND issued < '2024-01-01') AS p FROM saas.invoices WHERE state = 'paid') x"),
    ),
    (
        "p1 tickets by country",
        Some("SELECT a.country, COUNT(*) FROM saas.tickets t JOIN saas.accounts a ON a.acct = t.acct WHERE t.priority = 'urgent' GROUP BY a.country"),
    ),
    (
        "which 3 industries had the most tickets in 2024",
        Some("SELECT a.industry, COUNT(*) AS n FROM saas.tickets t JOIN saas.accounts a ON a.acct = t.acct WHERE t.opened_at >= '2024-01-01' AND t.opened_at < '2025-01-01' GROUP BY a.industry ORDER BY n DESC, a.industry LIMIT 3"),
    ),
    ("inventory levels by warehouse", None),
    ("net promoter score of enterprise customers", None),
    ("how many employees work in support", None),
];

fn canon(rows: Vec<Vec<Option<String>>>) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = rows
        .into_iter()
        .map(|r| {
            r.into_iter()
                .map(|c| match c {
                    None => "NULL".into(),
                    Some(v) => match v.parse::<f64>() {
                        Ok(n) => format!("{n:.2}"),
                        Err(_) => v,
                    },
                })
                .collect()
        })
        .collect();
    out.sort();
    out
}

async fn rows(c: &tokio_postgres::Client, sql: &str) -> Vec<Vec<Option<String>>> {
    let msgs = c
        .simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    msgs.into_iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
            }
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn saas_questions_are_answered_or_declined_correctly() {
    common::saas::ensure().await;
    let target = UpstreamTarget::parse(&format!("postgres://root@127.0.0.1:5432/{DB}")).unwrap();
    let files = store::read_annotations(Some(&common::repo().join("schemas"))).unwrap();
    let cfg = querent::config::Config::default();
    let loaded = store::discover(&target, DB, &store::options(&cfg), &files)
        .await
        .unwrap();
    let view = &loaded.full;
    let client = common::connect(&format!("host=127.0.0.1 port=5432 user=root dbname={DB}"))
        .await
        .unwrap();
    let mut failures = Vec::new();
    for (q, gold) in CASES {
        let made = plan_and_compile(view, q);
        match (gold, made) {
            (None, Err(_)) => {}
            (None, Ok(m)) => failures.push(format!("{q:?} must be declined, got {}", m.sql)),
            (Some(_), Err(d)) => {
                failures.push(format!("{q:?} declined: {} ({})", d.message, d.hint))
            }
            (Some(g), Ok(m)) => {
                let want = canon(rows(&client, g).await);
                let got = canon(rows(&client, &m.sql).await);
                if want != got {
                    failures.push(format!(
                        "{q:?}: got {:?}.. want {:?}..\n  {}",
                        got.iter().take(3).collect::<Vec<_>>(),
                        want.iter().take(3).collect::<Vec<_>>(),
                        m.sql
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
