//! The ASK history against the local PostgreSQL (127.0.0.1:5432, user root, database test):
//! the table created and written through the sink, read back field for field, verified with
//! the real `querent history` binary and served as examples; the same command on a file; and
//! PostgreSQL being unreachable.

use querent::config::Config;
use querent::history::{Entry, Example, History, Outcome, Planner, Source};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

const PG: &str = "postgres://root@127.0.0.1:5432/test";

fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}_{}_{}", std::process::id(), nanos % 1_000_000_000)
}

/// Runs the real binary; returns (success, stdout, stderr).
fn querent(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_querent"))
        .args(args)
        .env_remove("QUERENT_CONFIG")
        .env_remove("QUERENT_HISTORY_TABLE")
        .env_remove("QUERENT_HISTORY_FILE")
        .env_remove("QUERENT_HISTORY_UPSTREAM")
        .output()
        .expect("run querent");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn pg() -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(PG, tokio_postgres::NoTls)
        .await
        .expect("local PostgreSQL on 127.0.0.1:5432");
    tokio::spawn(async move {
        let _ = conn.await;
    });
    client
}

/// Drops the test schema even when an assertion fails.
struct DropSchema(String);

impl Drop for DropSchema {
    fn drop(&mut self) {
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.0);
        let _ = Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "root", "-d", "test", "-qc", &sql])
            .output();
    }
}

fn entries() -> (Entry, Entry) {
    let mut answered = Entry::new(
        "shop",
        "ann",
        vec!["analyst".into(), "west".into()],
        "revenue by region in 2024",
        Planner::Model,
        Outcome::Answered,
    );
    answered.model = Some("test-model".into());
    answered.plan =
        Some(serde_json::json!({"intent": "aggregate", "measures": [{"metric": "revenue"}]}));
    answered.sql = Some(
        "SELECT r.name, sum(o.total) FROM orders o JOIN regions r USING (region_id) GROUP BY 1"
            .into(),
    );
    answered.latency_ms = 12.25;
    answered.prompt_tokens = 1234;
    answered.completion_tokens = 56;
    answered.repairs = 1;
    let mut declined = Entry::new(
        "shop",
        "bob",
        vec![],
        "inventory by warehouse",
        Planner::Deterministic,
        Outcome::Declined,
    );
    declined.sqlstate = Some("QA001".into());
    (answered, declined)
}

#[tokio::test]
async fn table_backend_records_verifies_and_serves_examples() {
    let schema = unique("qhist");
    let _drop = DropSchema(schema.clone());
    let table = format!("{schema}.ask_history");
    let mut cfg = Config::default();
    cfg.history.table = table.clone();
    cfg.history.upstream = PG.into();
    let h = History::from_config(&cfg).unwrap().expect("history on");
    let (answered, declined) = entries();
    h.record(answered.clone());
    h.record(declined.clone());
    h.flush().await;
    assert_eq!(h.stats().db_inserted, 2, "{:?}", h.stats());
    assert_eq!(h.stats().db_errors, 0);

    // The table was created with every field as a column; result rows are nowhere.
    let c = pg().await;
    let row = c
        .query_one(
            &format!("SELECT roles, plan->>'intent', planner, outcome, verified, prompt_tokens FROM {table} WHERE id = $1"),
            &[&answered.id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, Vec<String>>(0), ["analyst", "west"]);
    assert_eq!(row.get::<_, String>(1), "aggregate");
    assert_eq!(row.get::<_, String>(2), "model");
    assert_eq!(row.get::<_, String>(3), "answered");
    assert!(!row.get::<_, bool>(4));
    assert_eq!(row.get::<_, i64>(5), 1234);

    // Read back field for field, newest first.
    let listed = h.store().list(10).await.unwrap();
    assert_eq!(listed, [declined.clone(), answered.clone()]);

    // `querent history verify` through the binary.
    let place = ["--table", table.as_str(), "--upstream", PG];
    let (ok, out, err) = querent(&[&["history", "verify", &answered.id][..], &place[..]].concat());
    assert!(ok, "{err}");
    assert!(out.contains(&format!("verified {}", answered.id)), "{out}");
    let (ok, _, err) = querent(&[&["history", "verify", &declined.id][..], &place[..]].concat());
    assert!(!ok && err.contains("only an answered question"), "{err}");
    let (ok, _, err) = querent(&[&["history", "verify", "0000"][..], &place[..]].concat());
    assert!(!ok && err.contains("no history entry 0000"), "{err}");
    let (ok, out, err) = querent(&[&["history", "list", "--limit", "5"][..], &place[..]].concat());
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with(&declined.id) && lines[0].contains("declined"),
        "{out}"
    );
    assert!(
        lines[1].starts_with(&answered.id) && lines[1].contains("verified"),
        "{out}"
    );

    // A fresh handle (its cache empty) serves the verified entry as an example of its database.
    let h2 = History::from_config(&cfg).unwrap().unwrap();
    assert_eq!(
        h2.examples("shop").await,
        [Example {
            question: answered.question.clone(),
            sql: answered.sql.clone().unwrap(),
            source: Source::History(answered.id.clone()),
        }]
    );
    assert!(h2.examples("other").await.is_empty());
}

#[tokio::test]
async fn an_unreachable_table_never_holds_up_record() {
    let mut cfg = Config::default();
    cfg.history.table = "querent.ask_history".into();
    cfg.history.upstream = "postgres://root@127.0.0.1:1/test".into();
    let h = History::from_config(&cfg).unwrap().unwrap();
    let (answered, _) = entries();
    for _ in 0..10 {
        h.record(answered.clone());
    }
    h.flush().await;
    let s = h.stats();
    assert_eq!(s.written, 10);
    assert!(s.db_errors >= 1, "{s:?}");
    assert_eq!((s.db_inserted, s.dropped), (0, 0), "kept for the retry");
    // Reading fails with the table named, and examples fall back to none.
    let e = h.store().list(1).await.unwrap_err();
    assert!(
        e.contains("history.table \"querent\".\"ask_history\""),
        "{e}"
    );
    assert!(h.examples("shop").await.is_empty());
}

fn temp_file(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(unique("querent-history-it"));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn lines_of(p: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn cli_verify_rewrites_the_file() {
    let path = temp_file("history.jsonl");
    let mut cfg = Config::default();
    cfg.history.file = Some(path.clone());
    let h = History::from_config(&cfg).unwrap().unwrap();
    let (answered, declined) = entries();
    h.record(answered.clone());
    h.record(declined.clone());
    h.flush().await;

    let file = path.to_str().unwrap();
    let (ok, out, err) = querent(&["history", "verify", "--file", file, &answered.id]);
    assert!(ok, "{err}");
    assert!(out.contains("revenue by region in 2024"), "{out}");
    let lines = lines_of(&path);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], answered.id.as_str());
    assert_eq!(lines[0]["verified"], true);
    assert_eq!(lines[1]["verified"], false);

    // The running writer appends to the rewritten file, not the replaced one.
    h.record(declined.clone());
    h.flush().await;
    assert_eq!(lines_of(&path).len(), 3);

    let (ok, out, err) = querent(&["history", "list", "--json", "--file", file, "--limit", "2"]);
    assert!(ok, "{err}");
    let listed: Vec<Entry> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|e| e.id == declined.id));

    let (ok, _, err) = querent(&["history", "list"]);
    assert!(
        !ok && err.contains("no history: set history.table or history.file"),
        "{err}"
    );
}
