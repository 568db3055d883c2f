//! Break-outs of issue 9 that the leak suite's text format cannot hold, through a running proxy
//! and the raw wire client (simple and extended protocol): statements deep enough to overflow
//! a stack (the process must survive and answer 54001), and client encodings whose multibyte
//! characters swallow a backslash (the guard must not let the session use them).

mod common;
mod leak;
#[path = "common/wire.rs"]
mod wire;

use common::Proxy;
use wire::{Conn, Msg};

fn proxy() -> Proxy {
    let users = leak::users_file();
    Proxy::start(&[
        "--policies",
        "policies",
        "--auth",
        "trust",
        "--users",
        users.to_str().unwrap(),
    ])
}

async fn alice(p: &Proxy, params: &[(&str, &str)]) -> Result<Conn, String> {
    Conn::connect_as(p.port, leak::ALICE, "querent_retail", params).await
}

fn error_code(msgs: &[Msg]) -> Option<String> {
    msgs.iter()
        .find(|m| m.tag == b'E')
        .and_then(|m| m.field('C'))
}

fn rows(msgs: &[Msg]) -> usize {
    msgs.iter().filter(|m| m.tag == b'D').count()
}

/// Runs `sql` with the simple protocol, then with Parse/Bind/Execute; each answer must be rows
/// or an error in `codes`, and the session must go on answering `SELECT 1` after it.
async fn both_protocols(c: &mut Conn, sql: &str, codes: &[&str]) -> Vec<Option<String>> {
    let mut seen = Vec::new();
    for extended in [false, true] {
        let mut out = Vec::new();
        if extended {
            let mut batch = wire::parse("", sql, &[]);
            batch.extend(wire::bind("", "", &[], &[], &[]));
            batch.extend(wire::execute("", 0));
            batch.extend(wire::sync());
            c.send(&batch).await.unwrap();
        } else {
            c.send(&wire::query(sql)).await.unwrap();
        }
        c.until_ready(1, &mut out).await.unwrap();
        let code = error_code(&out);
        if let Some(code) = &code {
            assert!(
                codes.contains(&code.as_str()),
                "{} ...: unexpected {code}: {out:?}",
                &sql[..60.min(sql.len())]
            );
        }
        seen.push(code);
        let mut after = Vec::new();
        c.send(&wire::query("SELECT 1")).await.unwrap();
        c.until_ready(1, &mut after).await.unwrap();
        assert_eq!(rows(&after), 1, "the session goes on: {after:?}");
    }
    seen
}

#[tokio::test]
async fn deep_statements_never_crash_the_proxy() {
    leak::ensure_dataset().await;
    let p = proxy();
    let mut c = alice(&p, &[]).await.unwrap();
    let t = "retail.stores";
    let union600 = format!("SELECT store_id FROM {t}{}", " UNION SELECT 1".repeat(600));
    let seen = both_protocols(&mut c, &union600, &[]).await;
    assert_eq!(seen, [None, None], "600 UNIONs (9 KB) are answered");
    for (what, sql) in [
        (
            "5,000 UNIONs",
            format!("SELECT 1{}", " UNION SELECT 1".repeat(5000)),
        ),
        (
            "INTERSECT chain in a CTE",
            format!(
                "WITH x AS (SELECT 1{}) SELECT * FROM x",
                " INTERSECT SELECT 1".repeat(3000)
            ),
        ),
        (
            "50,000 ANDs",
            format!("SELECT 1 FROM {t} WHERE true{}", " AND true".repeat(50_000)),
        ),
        (
            "100,000 additions",
            format!("SELECT 1{}", "+1".repeat(100_000)),
        ),
        (
            "30,000 casts",
            format!("SELECT 1{}", "::int".repeat(30_000)),
        ),
        (
            "5,000 nested brackets",
            format!("SELECT {}1{}", "(".repeat(5000), ")".repeat(5000)),
        ),
        (
            "2,000 nested subqueries",
            format!("SELECT {}1{}", "(SELECT ".repeat(2000), ")".repeat(2000)),
        ),
    ] {
        let seen = both_protocols(&mut c, &sql, &["54001"]).await;
        assert_eq!(seen, [Some("54001".into()), Some("54001".into())], "{what}");
    }
    // A long JOIN chain is a list, not a deep tree: it is checked, not refused.
    let joins: String = (0..30)
        .map(|i| format!(" JOIN retail.regions r{i} ON r{i}.region_id = s.region_id"))
        .collect();
    let sql = format!("SELECT count(*) FROM {t} s{joins}");
    assert_eq!(both_protocols(&mut c, &sql, &[]).await, [None, None]);
    // 3,000 joins are walked to the end (where a table is unknown), never too deep to walk.
    let joins: String = (0..3000)
        .map(|i| format!(" JOIN retail.regions r{i} ON r{i}.region_id = s.region_id"))
        .collect();
    let sql = format!("SELECT 1 FROM {t} s{joins} JOIN retail.no_such_table x ON true");
    let seen = both_protocols(&mut c, &sql, &["42P01"]).await;
    assert_eq!(seen, [Some("42P01".into()), Some("42P01".into())]);
    // Parenthesised joins nest: refused when too deep.
    let nested = format!(
        "SELECT 1 FROM {}{t} s{}",
        "(".repeat(1000),
        (0..1000)
            .map(|i| format!(" JOIN retail.regions r{i} ON true)"))
            .collect::<String>()
    );
    assert_eq!(
        both_protocols(&mut c, &nested, &["54001"]).await,
        [Some("54001".into()), Some("54001".into())]
    );
    c.close().await;
    // The process is alive: a new session works.
    let mut fresh = alice(&p, &[])
        .await
        .expect("the proxy still accepts sessions");
    let mut out = Vec::new();
    fresh
        .send(&wire::query("SELECT count(*) FROM retail.stores"))
        .await
        .unwrap();
    fresh.until_ready(1, &mut out).await.unwrap();
    assert_eq!(rows(&out), 1);
}

/// `E'ぁ\' , (SQL) --'`: in UTF-8 one string; read as SJIS (or GBK, BIG5) the backslash is the
/// second byte of a character and the quote closes the string. Guarded sessions cannot use
/// such an encoding, however it is asked for, and in UTF-8 the statement is just a string.
#[tokio::test]
async fn multibyte_encodings_cannot_swallow_a_backslash() {
    leak::ensure_dataset().await;
    let p = proxy();
    let attack =
        "SELECT E'ぁ\\' , (SELECT string_agg(email, chr(44)) FROM retail.customers) --' AS r";
    for params in [
        vec![("client_encoding", "SJIS")],
        vec![("client_encoding", "gbk")],
        vec![("options", "-c client_encoding=BIG5")],
        vec![("options", "--client-encoding=GB18030")],
    ] {
        let mut c = alice(&p, &params).await.unwrap();
        let mut out = Vec::new();
        c.send(&wire::query(attack)).await.unwrap();
        let first = c.read_msg().await.unwrap();
        out.push(first.clone());
        assert_eq!(first.tag, b'E', "{params:?}: {out:?}");
        assert_eq!(first.field('C').as_deref(), Some("42501"), "{params:?}");
        assert_eq!(first.field('S').as_deref(), Some("FATAL"), "{params:?}");
        assert!(first.text().contains("client_encoding"), "{}", first.text());
    }
    for stmt in [
        "SET client_encoding TO 'SJIS'",
        "SET NAMES 'GBK'",
        "SELECT set_config('client_encoding', 'BIG5', false)",
    ] {
        let mut c = alice(&p, &[]).await.unwrap();
        let mut out = Vec::new();
        c.send(&wire::query(stmt)).await.unwrap();
        c.until_ready(1, &mut out).await.unwrap();
        assert_eq!(
            error_code(&out).as_deref(),
            Some("42501"),
            "{stmt}: {out:?}"
        );
    }
    let mut c = alice(&p, &[("client_encoding", "UTF8")]).await.unwrap();
    let mut out = Vec::new();
    c.send(&wire::query(attack)).await.unwrap();
    c.until_ready(1, &mut out).await.unwrap();
    assert_eq!(error_code(&out), None, "{out:?}");
    assert_eq!(rows(&out), 1);
    let text = format!("{out:?}");
    assert!(!text.contains('@'), "no email in the answer: {text}");
}

/// Row-filtered tables are security barriers, yet a point lookup by key still uses the index:
/// the plan PostgreSQL makes for alice's lookup (simple and extended protocol) scans
/// `orders_pkey`, and a failing condition never sees a hidden row.
#[tokio::test]
async fn point_lookups_keep_their_index_behind_the_barrier() {
    leak::ensure_dataset().await;
    let p = proxy();
    let mut c = alice(&p, &[]).await.unwrap();
    for sql in [
        "EXPLAIN SELECT * FROM retail.orders WHERE order_id = 17",
        "EXPLAIN SELECT o.status, s.name FROM retail.orders o JOIN retail.stores s ON s.store_id = o.store_id WHERE o.order_id = 17",
    ] {
        for extended in [false, true] {
            let mut out = Vec::new();
            if extended {
                let mut batch = wire::parse("", sql, &[]);
                batch.extend(wire::bind("", "", &[], &[], &[]));
                batch.extend(wire::execute("", 0));
                batch.extend(wire::sync());
                c.send(&batch).await.unwrap();
            } else {
                c.send(&wire::query(sql)).await.unwrap();
            }
            c.until_ready(1, &mut out).await.unwrap();
            let plan: String = out.iter().filter(|m| m.tag == b'D').map(|m| m.text() + "\n").collect();
            assert!(plan.contains("Index Scan using orders_pkey"), "{sql}:\n{plan}");
        }
    }
    let mut out = Vec::new();
    let leaky = "SELECT count(*) FROM retail.orders WHERE (CASE WHEN store_id > 0 THEN (order_id::text || 'x')::int ELSE 0 END) = 0 OR order_id = 17";
    c.send(&wire::query(leaky)).await.unwrap();
    c.until_ready(1, &mut out).await.unwrap();
    // The cast fails on any row it sees; only rows of region 3 can be seen, and the error
    // names one of them, never a hidden one.
    let err = out
        .iter()
        .find(|m| m.tag == b'E')
        .map(|m| m.text())
        .unwrap_or_default();
    assert!(err.contains("invalid input syntax"), "{out:?}");
}

/// The plan cache: a guarded simple-protocol statement run again with other literals goes
/// upstream as a prepared statement, and the client sees exactly the reply a simple query
/// gets (compared message by message with a proxy whose `guard.plan_cache` is off), with the
/// row filter, type errors and transactions as before. Only an error's position and its
/// PostgreSQL source location (file, line, routine) may differ: the position points into the
/// guard's statement, not the client's, whether prepared or not (an error of a bound value has
/// none), and the routine is PostgreSQL's Bind instead of its simple-query handler.
fn without_position(msgs: &[Msg]) -> Vec<Msg> {
    msgs.iter()
        .map(|m| {
            if m.tag != b'E' {
                return m.clone();
            }
            let mut body = Vec::new();
            for (code, value) in m.fields().unwrap_or_default() {
                if !matches!(code, 'P' | 'F' | 'L' | 'R') {
                    body.push(code as u8);
                    body.extend_from_slice(value.as_bytes());
                    body.push(0);
                }
            }
            body.push(0);
            Msg { tag: b'E', body }
        })
        .collect()
}

/// Two proxies for alice's policies, with `guard.plan_cache` on and off.
async fn cache_on_and_off() -> (Proxy, Proxy) {
    leak::ensure_dataset().await;
    let users = leak::users_file();
    let start = |cache: &str| {
        Proxy::start_env(
            &[
                "--policies",
                "policies",
                "--auth",
                "trust",
                "--users",
                users.to_str().unwrap(),
            ],
            &[("QUERENT_GUARD_PLAN_CACHE", cache)],
        )
    };
    (start("on"), start("off"))
}

#[tokio::test]
async fn plan_cache_replies_like_a_simple_query() {
    let (on, off) = cache_on_and_off().await;
    let (mut a, mut b) = (
        alice(&on, &[]).await.unwrap(),
        alice(&off, &[]).await.unwrap(),
    );
    let shapes = [
        "SELECT order_id, status, order_date FROM retail.orders WHERE order_id = {}",
        "SELECT store_id, name FROM retail.stores WHERE store_id IN ({}, 12) AND name <> 'x' ORDER BY 1",
        "SELECT count(*) FROM retail.orders WHERE order_date >= '2024-01-01' AND store_id = {}",
        "SELECT order_id FROM retail.orders WHERE order_id = '{}'",
    ];
    let values = [
        "9",
        "10",
        "11",
        "12",
        "13",
        "14",
        "15",
        "16",
        "1",
        "17",
        "-3",
        "abc",
        "99999999999",
    ];
    for shape in shapes {
        for v in values {
            let sql = shape.replace("{}", v);
            let (mut x, mut y) = (Vec::new(), Vec::new());
            a.send(&wire::query(&sql)).await.unwrap();
            a.until_ready(1, &mut x).await.unwrap();
            b.send(&wire::query(&sql)).await.unwrap();
            b.until_ready(1, &mut y).await.unwrap();
            let (x, y) = (without_position(&x), without_position(&y));
            assert_eq!(
                x,
                y,
                "{sql}: {}",
                wire::diff(&x, &y, "plan cache", "inline")
            );
        }
    }
    // In a transaction, after an error, and after the client deallocates everything.
    for sql in [
        "BEGIN",
        "SELECT order_id FROM retail.orders WHERE order_id = 14",
        "SELECT order_id FROM retail.orders WHERE order_id = 1/0",
        "SELECT order_id FROM retail.orders WHERE order_id = 15",
        "ROLLBACK",
        "DEALLOCATE ALL",
        "SELECT order_id FROM retail.orders WHERE order_id = 16",
        "SELECT order_id FROM retail.orders WHERE order_id = 17",
        "PREPARE querent_p1 AS SELECT 1",
    ] {
        let (mut x, mut y) = (Vec::new(), Vec::new());
        a.send(&wire::query(sql)).await.unwrap();
        a.until_ready(1, &mut x).await.unwrap();
        b.send(&wire::query(sql)).await.unwrap();
        b.until_ready(1, &mut y).await.unwrap();
        let (x, y) = (without_position(&x), without_position(&y));
        assert_eq!(
            x,
            y,
            "{sql}: {}",
            wire::diff(&x, &y, "plan cache", "inline")
        );
    }
    // The statements really ran prepared, planned generically after five custom plans.
    let mut out = Vec::new();
    a.send(&wire::query(
        "SELECT name, generic_plans FROM pg_prepared_statements WHERE name LIKE 'querent%' ORDER BY 1",
    ))
    .await
    .unwrap();
    a.until_ready(1, &mut out).await.unwrap();
    let rows: Vec<String> = out
        .iter()
        .filter(|m| m.tag == b'D')
        .map(|m| m.text())
        .collect();
    assert!(!rows.is_empty(), "prepared statements: {out:?}");
}

/// The plan cache in the extended protocol: a client's unnamed Parse of a query (first in its
/// batch) is prepared once as a named statement; later ones are not sent, a ParseComplete is
/// answered in their place and their Bind and Describe name the prepared statement. Every
/// reply equals the reply of a proxy with `guard.plan_cache = off`, message by message.
#[tokio::test]
async fn plan_cache_in_the_extended_protocol() {
    let (on, off) = cache_on_and_off().await;
    let (mut a, mut b) = (
        alice(&on, &[]).await.unwrap(),
        alice(&off, &[]).await.unwrap(),
    );
    let q = "SELECT order_id, status FROM retail.orders WHERE order_id = $1";
    let text = |v: &str| Some(v.as_bytes().to_vec());
    let run = |p: &str, v: &str| {
        let mut m = wire::parse("", p, &[]);
        m.extend(wire::bind("", "", &[], &[text(v)], &[]));
        m.extend(wire::describe(b'P', ""));
        m.extend(wire::execute("", 0));
        m
    };
    let mut batches: Vec<Vec<u8>> = Vec::new();
    for v in ["10", "11", "12", "13", "14", "15", "16", "17", "abc", "9"] {
        batches.push([run(q, v), wire::sync()].concat());
    }
    // Describe the unnamed statement; bind it again without a Parse; close it and bind again.
    batches.push(
        [
            wire::parse("", q, &[]),
            wire::describe(b'S', ""),
            wire::sync(),
        ]
        .concat(),
    );
    batches.push(
        [
            wire::bind("", "", &[], &[text("12")], &[]),
            wire::execute("", 0),
            wire::sync(),
        ]
        .concat(),
    );
    batches.push(
        [
            wire::close(b'S', ""),
            wire::bind("", "", &[], &[text("12")], &[]),
            wire::sync(),
        ]
        .concat(),
    );
    // Two unnamed statements in one batch, a typed parameter, and a statement that is not a query.
    batches.push(
        [
            run(q, "13"),
            run("SELECT name FROM retail.stores WHERE store_id = $1", "12"),
            wire::sync(),
        ]
        .concat(),
    );
    batches.push(
        [
            wire::parse("", q, &[23]),
            wire::bind("", "", &[], &[text("14")], &[]),
            wire::execute("", 0),
            wire::sync(),
        ]
        .concat(),
    );
    batches.push(
        [
            wire::parse("", q, &[23]),
            wire::bind("", "", &[], &[text("15")], &[]),
            wire::execute("", 0),
            wire::sync(),
        ]
        .concat(),
    );
    batches.push(
        [
            wire::parse("", "SET work_mem = '8MB'", &[]),
            wire::bind("", "", &[], &[], &[]),
            wire::execute("", 0),
            wire::sync(),
        ]
        .concat(),
    );
    for batch in batches {
        let (mut x, mut y) = (Vec::new(), Vec::new());
        a.send(&batch).await.unwrap();
        a.until_ready(1, &mut x).await.unwrap();
        b.send(&batch).await.unwrap();
        b.until_ready(1, &mut y).await.unwrap();
        let (x, y) = (without_position(&x), without_position(&y));
        assert_eq!(x, y, "{}", wire::diff(&x, &y, "plan cache", "inline"));
    }
    let mut out = Vec::new();
    a.send(&wire::query("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'querent_p%' AND generic_plans > 0")).await.unwrap();
    a.until_ready(1, &mut out).await.unwrap();
    let n: String = out
        .iter()
        .filter(|m| m.tag == b'D')
        .map(|m| m.text())
        .collect();
    assert_eq!(
        n.trim(),
        "1",
        "the unnamed query ran prepared, generically planned: {out:?}"
    );
}
