//! The history with the file backend (record, list, verify, examples), a starved writer,
//! [`similar`] and [`tables_read`]. The table backend runs against PostgreSQL in
//! tests/history.rs.

use super::*;
use std::path::PathBuf;

fn temp_file(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "querent-history-{}-{}",
        std::process::id(),
        new_id(SystemTime::now())
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn config_with_file(path: &std::path::Path, queue: usize) -> Config {
    let mut c = Config::default();
    c.history.file = Some(path.to_path_buf());
    c.history.queue = queue;
    c
}

fn answered(db: &str, question: &str, sql: &str) -> Entry {
    let mut e = Entry::new(
        db,
        "ann",
        vec!["analyst".into()],
        question,
        Planner::Deterministic,
        Outcome::Answered,
    );
    e.sql = Some(sql.into());
    e.plan = Some(serde_json::json!({"intent": "aggregate"}));
    e.latency_ms = 1.5;
    e
}

#[tokio::test]
async fn file_round_trip_record_list_verify_examples() {
    let path = temp_file("history.jsonl");
    let h = History::from_config(&config_with_file(&path, 100))
        .unwrap()
        .expect("history.file turns the history on");
    let first = answered("shop", "revenue by region", "SELECT 1 FROM sales");
    let mut declined = Entry::new(
        "shop",
        "bob",
        vec![],
        "inventory by warehouse",
        Planner::Model,
        Outcome::Declined,
    );
    declined.sqlstate = Some("QA001".into());
    declined.model = Some("test-model".into());
    let other_db = answered("crm", "deals by stage", "SELECT 2 FROM deals");
    for e in [first.clone(), declined.clone(), other_db.clone()] {
        h.record(e);
    }
    h.flush().await;
    assert_eq!(h.stats().written, 3);
    assert_eq!(h.stats().dropped, 0);

    // Every field is on each line, and nothing else.
    let text = std::fs::read_to_string(&path).unwrap();
    let line: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let mut keys: Vec<&str> = line
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "at",
            "completion_tokens",
            "database",
            "id",
            "latency_ms",
            "model",
            "outcome",
            "plan",
            "planner",
            "prompt_tokens",
            "question",
            "repairs",
            "roles",
            "sql",
            "sqlstate",
            "user",
            "verified"
        ]
    );
    assert_eq!(line["planner"], "deterministic");

    let listed = h.store().list(10).await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, [&other_db.id, &declined.id, &first.id], "newest first");
    assert_eq!(listed[1], declined);
    assert_eq!(h.store().list(1).await.unwrap()[0].id, other_db.id);

    assert!(h.examples("shop").await.is_empty(), "nothing verified yet");
    let v = h.store().verify(&first.id).await.unwrap();
    assert!(v.verified && v.question == "revenue by region");
    // Twice is no error.
    assert!(h.store().verify(&first.id).await.unwrap().verified);
    let e = h.store().verify(&declined.id).await.unwrap_err();
    assert!(
        e.contains("was declined") && e.contains("only an answered"),
        "{e}"
    );
    let e = h.store().verify("nope").await.unwrap_err();
    assert!(
        e.contains("no history entry nope") && e.contains("querent history list"),
        "{e}"
    );

    // The rewrite kept every line and the file's mode; new entries still arrive.
    h.record(answered("shop", "orders per month", "SELECT 3 FROM orders"));
    h.flush().await;
    let all = h.store().list(100).await.unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(all.iter().filter(|e| e.verified).count(), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // The cache was filled before the verify: a new handle reads the file again.
    let fresh = History::from_config(&config_with_file(&path, 10))
        .unwrap()
        .unwrap();
    let examples = fresh.examples("shop").await;
    assert_eq!(
        examples,
        [Example {
            question: "revenue by region".into(),
            sql: "SELECT 1 FROM sales".into(),
            source: Source::History(first.id.clone()),
        }]
    );
    assert_eq!(
        examples[0].source.to_string(),
        format!("history:{}", first.id)
    );
    assert!(fresh.examples("crm").await.is_empty());
}

#[tokio::test(flavor = "current_thread")]
async fn record_never_waits_for_a_starved_writer() {
    let path = temp_file("starved.jsonl");
    let h = History::from_config(&config_with_file(&path, 4))
        .unwrap()
        .unwrap();
    // This task never yields, so the writer cannot run: the queue fills and the rest drop.
    for i in 0..100 {
        h.record(answered("shop", &format!("question {i}"), "SELECT 1"));
    }
    assert_eq!(h.stats().dropped, 96);
    assert_eq!(h.stats().written, 0);
    assert!(METRICS.render().contains("querent_history_dropped_total "));
    h.flush().await;
    assert_eq!(h.stats().written, 4);
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 4);
}

#[tokio::test]
async fn settings_turn_the_history_on_and_off() {
    assert!(History::from_config(&Config::default()).unwrap().is_none());
    let mut c = Config::default();
    c.history.table = "q.h".into();
    c.history.file = Some("/tmp/x.jsonl".into());
    assert!(History::from_config(&c).unwrap_err().contains("not both"));
    let env = vec![(
        "QUERENT_HISTORY_FILE".to_string(),
        "/tmp/y.jsonl".to_string(),
    )];
    let c = crate::config::load(None, env, &[]).unwrap();
    assert_eq!(
        c.history.file_path(),
        Some(std::path::Path::new("/tmp/y.jsonl"))
    );
    let both = vec![
        (
            "QUERENT_HISTORY_FILE".to_string(),
            "/tmp/y.jsonl".to_string(),
        ),
        (
            "QUERENT_HISTORY_TABLE".to_string(),
            "querent.ask_history".to_string(),
        ),
    ];
    assert!(crate::config::load(None, both, &[])
        .unwrap_err()
        .0
        .contains("history.file: set history.table or history.file, not both"));
    let mut c = Config::default();
    c.history.table = "a.b.c".into();
    assert!(History::from_config(&c)
        .unwrap_err()
        .starts_with("history.table:"));
    c.history.table = "querent.ask_history".into();
    c.history.upstream = "mysql://x".into();
    assert!(History::from_config(&c)
        .unwrap_err()
        .starts_with("history.upstream:"));
    let mut c = config_with_file(&temp_file("q.jsonl"), 0);
    assert!(History::from_config(&c)
        .unwrap_err()
        .contains("history.queue"));
    c.history.queue = 1;
    c.history.file = Some("/nonexistent-dir/h.jsonl".into());
    assert!(History::from_config(&c)
        .unwrap_err()
        .starts_with("history.file: cannot open"));
}

#[test]
fn ids_are_unique_and_sort_by_time() {
    let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_000);
    let a = new_id(t);
    let b = new_id(t + Duration::from_millis(1));
    assert_eq!(a.len(), 24);
    assert!(a < b);
    // Within one millisecond, one process's ids still sort in the order they were made.
    let many: Vec<String> = (0..1000).map(|_| new_id(t)).collect();
    assert!(many.windows(2).all(|w| w[0] < w[1]), "{many:?}");
}

fn ex(q: &str, sql: &str, source: Source) -> Example {
    Example {
        question: q.into(),
        sql: sql.into(),
        source,
    }
}

#[test]
fn similar_ranks_by_shared_words_and_filters_by_role() {
    let h = |id: &str| Source::History(id.into());
    let examples = [
        ex(
            "How many customers signed up in 2024?",
            "SELECT count(*) FROM customers",
            h("a"),
        ),
        ex(
            "revenue by region",
            "SELECT 1 FROM orders JOIN regions USING (region_id)",
            Source::Pinned,
        ),
        ex(
            "top 5 products by revenue",
            "SELECT 2 FROM products",
            h("b"),
        ),
        ex(
            "average order value by month",
            "SELECT 3 FROM orders",
            h("c"),
        ),
        ex(
            "what is the salary of each employee",
            "SELECT salary FROM hr.employees",
            h("d"),
        ),
        ex("revenue by region", "SELECT 4 FROM orders", h("e")),
    ];
    let questions = |v: Vec<&Example>| v.iter().map(|e| e.sql.clone()).collect::<Vec<_>>();
    let all = |_: &str| true;

    // Plural and singular stem alike; stopwords ("how", "many", "in") do not count.
    let got = similar(&examples, "number of customer signups", 3, all);
    assert_eq!(got[0].question, "How many customers signed up in 2024?");
    // Identical questions tie: the pinned one first.
    let got = similar(&examples, "Revenue per region in 2023", 2, all);
    assert_eq!(
        questions(got),
        [
            "SELECT 1 FROM orders JOIN regions USING (region_id)",
            "SELECT 4 FROM orders"
        ]
    );
    // Rarer shared words weigh more: "products" beats the common "revenue".
    let got = similar(&examples, "best selling products revenue", 1, all);
    assert_eq!(got[0].sql, "SELECT 2 FROM products");
    // Only what shares a word, at most k.
    assert!(similar(&examples, "what is this", 3, all).is_empty());
    assert_eq!(similar(&examples, "revenue", 10, all).len(), 3);
    assert!(similar(&examples, "revenue", 0, all).is_empty());

    // The role's filter: the examples reading a table it may not read are never returned.
    let may_read = |sql: &str| {
        tables_read(sql)
            .is_some_and(|ts| ts.iter().all(|t| !t.starts_with("hr.") && t != "regions"))
    };
    let got = similar(&examples, "salary of employees by region", 5, may_read);
    assert_eq!(questions(got), ["SELECT 4 FROM orders"]);
}

#[test]
fn merge_keeps_pinned_first_and_each_question_once() {
    let pinned = [ex("Revenue by region?", "SELECT 1", Source::Pinned)];
    let more = vec![
        ex(
            "revenue  by REGION",
            "SELECT 2",
            Source::History("x".into()),
        ),
        ex("orders by month", "SELECT 3", Source::History("y".into())),
    ];
    let got = merge(&pinned, more);
    let sql: Vec<&str> = got.iter().map(|e| e.sql.as_str()).collect();
    assert_eq!(sql, ["SELECT 1", "SELECT 3"]);
}

#[test]
fn tables_read_lists_relations_not_ctes() {
    let t = |sql: &str| tables_read(sql).unwrap_or_else(|| panic!("None for {sql}"));
    assert_eq!(
        t("SELECT * FROM Orders o JOIN retail.Customers c ON c.id = o.cid"),
        ["orders", "retail.customers"]
    );
    assert_eq!(t(r#"SELECT * FROM "Mixed"."Case""#), ["Mixed.Case"]);
    // CTE names are not tables where they are in scope...
    assert_eq!(
        t("WITH o AS (SELECT * FROM orders), big AS (SELECT * FROM o WHERE total > 9) SELECT * FROM big JOIN stores USING (store_id)"),
        ["orders", "stores"]
    );
    // ... but a CTE sees only the ones before it (without RECURSIVE), and an inner WITH
    // ends with its query.
    assert_eq!(
        t("WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a, b"),
        ["b"]
    );
    assert_eq!(
        t("WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT * FROM r"),
        Vec::<String>::new()
    );
    assert_eq!(
        t("SELECT * FROM (WITH x AS (SELECT 1) SELECT * FROM x) s, x"),
        ["x"]
    );
    // Subqueries anywhere, set operations, LATERAL, TABLE, table functions.
    assert_eq!(
        t("SELECT (SELECT max(a) FROM s1), b FROM t1 WHERE EXISTS (SELECT 1 FROM s2) AND b IN (SELECT b FROM s3)"),
        ["s1", "s2", "s3", "t1"]
    );
    assert_eq!(
        t("SELECT a FROM u1 UNION SELECT a FROM u2 EXCEPT TABLE u3"),
        ["u1", "u2", "u3"]
    );
    assert_eq!(
        t("SELECT * FROM p, LATERAL (SELECT * FROM q WHERE q.p = p.id) l, generate_series(1, 3) g"),
        ["p", "q"]
    );
    assert_eq!(t("SELECT 1"), Vec::<String>::new());
    assert_eq!(t("SELECT * FROM t1 JOIN t1 x USING (a)"), ["t1"]);
}

#[test]
fn tables_read_refuses_what_is_not_one_read_only_query() {
    for sql in [
        "DELETE FROM orders",
        "WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d",
        "SELECT * INTO copy FROM orders",
        "SELECT * FROM orders FOR UPDATE",
        "SELECT 1; SELECT 2",
        "SELECT * FROM (",
        "",
        "SET search_path = x",
    ] {
        assert_eq!(tables_read(sql), None, "{sql}");
    }
    let deep = format!(
        "SELECT 1 FROM t WHERE {}",
        "a = 1 OR ".repeat(5000) + "true"
    );
    assert_eq!(tables_read(&deep), None, "beyond the guard's depth limit");
}
