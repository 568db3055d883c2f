//! `ask('...')` as a relation through the real proxy: nested as Superset and Tableau nest it,
//! in CTEs, joins, aggregates and `COPY (...) TO STDOUT`, over the simple protocol (psql) and
//! the extended one (tokio-postgres: Describe gives the answer's columns before Execute, the
//! statement's own `$1` still binds), for a guarded user (row filters hold inside the answer)
//! and a trusted one; `ask_followups()` gives questions `ask()` answers; bad calls are named.

mod common;
mod leak;

use common::Proxy;

fn proxy() -> Proxy {
    leak::guarded_proxy()
}

fn psql(p: &Proxy, user: &str, cmd: &str) -> (String, String) {
    leak::psql(p.port, user, &["-v", "VERBOSITY=verbose"], cmd)
}

const Q: &str = "revenue by region in 2024";

#[tokio::test]
async fn ask_stands_where_a_table_stands() {
    leak::ensure_dataset().await;
    let p = proxy();
    let direct = leak::direct().await;
    let (plain, err) = psql(&p, leak::ADMIN, &format!("SELECT * FROM ask('{Q}')"));
    assert_eq!(plain.lines().count(), 5, "{plain}{err}");
    assert!(
        err.contains("NOTICE:  00000: ASK: revenue by region"),
        "{err}"
    );
    // The same rows as ASK gives.
    let (asked, _) = psql(&p, leak::ADMIN, &format!("ASK '{Q}'"));
    assert_eq!(plain, asked);
    // Superset's SQL Lab and chart queries wrap it in a virtual table; Tableau in a subquery.
    for (sql, want) in [
        (
            format!("SELECT region AS region, sum(revenue) AS \"SUM(revenue)\" FROM (SELECT * FROM ask('{Q}')) AS virtual_table GROUP BY region ORDER BY \"SUM(revenue)\" DESC LIMIT 10000"),
            5,
        ),
        (format!("SELECT * FROM (SELECT * FROM ask('{Q}')) \"Custom SQL Query\" LIMIT 1"), 1),
        (format!("SELECT count(*) FROM ask('{Q}') AS a WHERE a.revenue > 0"), 1),
        (
            format!("WITH a AS (SELECT * FROM ask('{Q}')), b AS (SELECT * FROM ask('number of orders by region in 2024')) SELECT a.region, a.revenue, b.* FROM a JOIN b USING (region)"),
            5,
        ),
        (format!("SELECT r.name FROM retail.regions r JOIN ask('{Q}') x ON x.region = r.name"), 5),
        (format!("COPY (SELECT * FROM ask('{Q}')) TO STDOUT"), 5),
        (format!("SELECT * FROM ASK ($${Q}$$) AS t (name, total) ORDER BY total DESC"), 5),
    ] {
        let (out, err) = psql(&p, leak::ADMIN, &sql);
        assert_eq!(out.lines().count(), want, "{sql}\n{out}{err}");
        assert!(!err.contains("ERROR"), "{sql}\n{err}");
    }
    // The sum over the relation is the sum PostgreSQL computes itself.
    let (sum, _) = psql(
        &p,
        leak::ADMIN,
        &format!("SELECT round(sum(revenue), 2) FROM ask('{Q}')"),
    );
    let truth = leak::direct_rows(
        &direct,
        "SELECT round(sum(oi.quantity * oi.unit_price * (1 - oi.discount)), 2)::text \
         FROM retail.order_items oi JOIN retail.orders o USING (order_id) \
         WHERE o.status = 'completed' AND o.order_date >= '2024-01-01' AND o.order_date < '2025-01-01'",
    )
    .await;
    assert_eq!(sum.trim(), truth[0][0].as_deref().unwrap());
}

#[tokio::test]
async fn a_guarded_user_gets_only_her_rows_inside_the_relation() {
    leak::ensure_dataset().await;
    let p = proxy();
    let (mine, err) = psql(
        &p,
        leak::ALICE,
        &format!("SELECT * FROM (SELECT * FROM ask('{Q}')) v"),
    );
    assert_eq!(mine.lines().count(), 1, "{mine}{err}");
    assert!(mine.starts_with("East|"), "{mine}");
    // Her guard still checks the statement around the call.
    let (out, err) = psql(
        &p,
        leak::ALICE,
        &format!("SELECT e.salary FROM ask('{Q}') a, retail.employees e"),
    );
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("ERROR:  42501"), "{err}");
    // A question about what her policy hides is refused as ASK refuses it.
    let (out, err) = psql(&p, leak::ALICE, "SELECT * FROM ask('payroll by store')");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("ERROR:  QA001"), "{err}");
    assert!(!err.contains("salary"), "{err}");
}

#[tokio::test]
async fn describe_before_execute_and_parameters_in_the_extended_protocol() {
    leak::ensure_dataset().await;
    let p = proxy();
    let c = leak::connect_proxy(p.port, leak::ALICE, leak::ALICE_PW, None)
        .await
        .unwrap();
    let sql = format!("SELECT * FROM ask('{Q}') WHERE revenue > $1::float8");
    let stmt = c.client.prepare(&sql).await.unwrap();
    let cols: Vec<(&str, &str)> = stmt
        .columns()
        .iter()
        .map(|c| (c.name(), c.type_().name()))
        .collect();
    assert_eq!(cols, vec![("region", "text"), ("revenue", "numeric")]);
    assert_eq!(stmt.params().len(), 1);
    let none = c.client.query(&sql, &[&1e12f64]).await.unwrap();
    assert!(none.is_empty());
    let some = c.client.query(&sql, &[&0f64]).await.unwrap();
    assert_eq!(some.len(), 1);
    let rows = c
        .client
        .query("SELECT region FROM ask('revenue by region in 2024')", &[])
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, &str>(0), "East");
}

#[tokio::test]
async fn every_followup_is_a_question_ask_answers() {
    leak::ensure_dataset().await;
    let p = proxy();
    for user in [leak::ADMIN, leak::ALICE] {
        let (out, err) = psql(
            &p,
            user,
            &format!("SELECT question FROM ask_followups('{Q}')"),
        );
        let questions: Vec<&str> = out.lines().collect();
        assert!((2..=3).contains(&questions.len()), "{user}: {out}{err}");
        for q in questions {
            let (rows, err) = psql(
                &p,
                user,
                &format!("SELECT count(*) FROM ask('{}')", q.replace('\'', "''")),
            );
            assert!(!err.contains("ERROR"), "{user}: {q}: {err}");
            assert_ne!(rows.trim(), "0", "{user}: {q}");
        }
    }
}

/// A column her policy masks is never suggested as a grouping: its groups would all read `***`.
#[tokio::test]
async fn followups_never_group_by_a_masked_column() {
    leak::ensure_dataset().await;
    let p = proxy();
    let q = "SELECT question FROM ask_followups('top 10 customers by revenue')";
    let (admin, _) = psql(&p, leak::ADMIN, q);
    assert!(admin.contains("by customer"), "{admin}");
    let (mine, err) = psql(&p, leak::ALICE, q);
    assert!(!mine.is_empty(), "{err}");
    assert!(!mine.contains("by customer"), "{mine}");
}

#[tokio::test]
async fn bad_calls_are_named() {
    leak::ensure_dataset().await;
    let p = proxy();
    for (sql, code) in [
        ("SELECT ask('top products')", "42809"),
        ("SELECT * FROM ask(1)", "22023"),
        ("SELECT * FROM ask('a', 'b')", "22023"),
        ("SELECT * FROM ask('RESET')", "22023"),
        ("SELECT * FROM ask('flibber wobble')", "QA001"),
    ] {
        let (out, err) = psql(&p, leak::ADMIN, sql);
        assert!(out.is_empty(), "{sql}: {out}");
        assert!(err.contains(&format!("ERROR:  {code}")), "{sql}: {err}");
        assert!(err.contains("HINT:"), "{sql}: {err}");
    }
    // Not ours: a qualified name, or a column called ask.
    let (out, err) = psql(&p, leak::ADMIN, "SELECT * FROM public.ask('x')");
    assert!(err.contains("ERROR:  42883"), "{out}{err}");
    let (out, err) = psql(&p, leak::ADMIN, "SELECT ask FROM (SELECT 1 AS ask) t");
    assert_eq!(out.trim(), "1", "{err}");
}
