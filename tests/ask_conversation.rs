//! ASK conversations through the real proxy: a follow-up refines the session's last answer
//! without a model ("now by month"), in the simple protocol (psql) and the extended one
//! (tokio-postgres), `ASK RESET` forgets, and with a model configured a follow-up the planner
//! cannot refine goes to the model with the previous question and SQL.

mod common;
mod leak;

use common::llm::{question_of, sql_answer, test_model_with, Script};
use common::Proxy;

fn psql(port: u16, user: &str, commands: &[&str]) -> (String, String) {
    let mut args: Vec<String> = vec![
        format!("host=127.0.0.1 port={port} user={user} dbname={}", leak::DB),
        "-XAt".into(),
    ];
    for c in commands {
        args.push("-c".into());
        args.push(c.to_string());
    }
    let out = std::process::Command::new("psql")
        .args(&args)
        .env("PGPASSWORD", leak::ADMIN_PW)
        .output()
        .expect("psql");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn follow_ups_refine_the_last_answer_and_reset_forgets() {
    leak::ensure_dataset().await;
    let p = Proxy::start(&["--schemas", "schemas"]);
    let (out, err) = psql(
        p.port,
        "root",
        &["ASK 'revenue by region in 2024'", "ASK 'now by month'"],
    );
    let lines: Vec<&str> = out.lines().collect();
    // Five regions, then twelve months.
    assert_eq!(lines.len(), 5 + 12, "{out}{err}");
    assert!(
        err.contains("ASK: follow-up of \"revenue by region in 2024\""),
        "{err}"
    );
    assert!(lines[5].starts_with("2024-01-01"), "{out}");
    // A chain: the follow-up of a follow-up.
    let (out, err) = psql(
        p.port,
        "root",
        &[
            "ASK 'revenue by region in 2024'",
            "ASK 'only the West region'",
            "ASK 'and for 2023?'",
        ],
    );
    assert_eq!(out.lines().count(), 5 + 1 + 1, "{out}{err}");
    assert!(
        err.contains("follow-up of \"only the West region\""),
        "{err}"
    );
    // RESET forgets: the same follow-up is then a question of its own (declined).
    let (out, err) = psql(
        p.port,
        "root",
        &[
            "ASK 'revenue by region in 2024'",
            "ASK RESET",
            "ASK 'now by month'",
        ],
    );
    assert!(out.contains("ASK forgot the conversation"), "{out}{err}");
    assert!(err.contains("ERROR:  ASK"), "{err}");
    assert_eq!(err.matches("follow-up of").count(), 0, "{err}");
    // A new session has no conversation.
    let (_, err) = psql(p.port, "root", &["ASK 'now by month'"]);
    assert!(err.contains("ERROR:"), "{err}");

    // The extended protocol keeps the same conversation.
    let c = common::connect(&format!(
        "host=127.0.0.1 port={} user=root dbname={}",
        p.port,
        leak::DB
    ))
    .await
    .unwrap();
    let first = c
        .query("ASK 'revenue by region in 2024'", &[])
        .await
        .unwrap();
    assert_eq!(first.len(), 5);
    let monthly = c.query("ASK 'now by quarter'", &[]).await.unwrap();
    assert_eq!(monthly.len(), 4, "by quarter: four quarters");
    let top = c.query("ASK 'top 2 instead'", &[]).await.unwrap();
    assert_eq!(top.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_gets_the_previous_question_for_a_follow_up() {
    leak::ensure_dataset().await;
    let (url, seen) = test_model_with(|_, body| {
        let q = question_of(body);
        if q.contains("seats") || q.contains("biggest") {
            sql_answer("SELECT name, size_sqft FROM retail.stores ORDER BY size_sqft DESC LIMIT 3")
        } else if q.starts_with("and the smallest") {
            sql_answer("SELECT name, size_sqft FROM retail.stores ORDER BY size_sqft LIMIT 3")
        } else {
            Script::Fail(400, "unknown question")
        }
    })
    .await;
    let p = Proxy::start_env(
        &["--schemas", "schemas"],
        &[("QUERENT_LLM_URL", &url), ("QUERENT_LLM_MODEL", "scripted")],
    );
    let (out, err) = psql(
        p.port,
        "root",
        &[
            "ASK 'which are the three biggest stores by floor space, with their size?'",
            "ASK 'and the smallest three instead?'",
        ],
    );
    assert_eq!(out.lines().count(), 6, "{out}{err}");
    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 2, "{requests:?}");
    let first = requests[0].body["messages"][1]["content"].as_str().unwrap();
    assert!(!first.contains("Previous question"), "{first}");
    let second = requests[1].body["messages"][1]["content"].as_str().unwrap();
    assert!(
        second
            .contains("Previous question in this conversation: which are the three biggest stores"),
        "{second}"
    );
    assert!(
        second.contains("ORDER BY size_sqft DESC LIMIT 3"),
        "{second}"
    );
}

/// A CancelRequest ends a question still waiting for the model (57014), at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_request_stops_a_question_waiting_for_the_model() {
    leak::ensure_dataset().await;
    let (url, _) = test_model_with(|_, _| Script::Slow(std::time::Duration::from_secs(20))).await;
    let p = Proxy::start_env(
        &[],
        &[
            ("QUERENT_LLM_URL", &url),
            ("QUERENT_LLM_MODEL", "slow"),
            ("QUERENT_LLM_MODE", "always"),
            ("QUERENT_LLM_TIMEOUT", "60s"),
        ],
    );
    let c = common::connect(&format!(
        "host=127.0.0.1 port={} user=root dbname={}",
        p.port,
        leak::DB
    ))
    .await
    .unwrap();
    let token = c.cancel_token();
    let started = std::time::Instant::now();
    let asking = tokio::spawn(async move {
        let r = c.simple_query("ASK 'how many stores'").await;
        (r, c)
    });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    token.cancel_query(tokio_postgres::NoTls).await.unwrap();
    let (r, c) = asking.await.unwrap();
    let e = r.unwrap_err();
    assert_eq!(
        e.as_db_error().map(|d| d.code().code()),
        Some("57014"),
        "{e}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // The session goes on.
    let rows = c.simple_query("SELECT 1").await.unwrap();
    assert!(!rows.is_empty());
}
