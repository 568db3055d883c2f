//! ASK's history through the real proxy: every question is recorded (planner, model, SQL before
//! the guard, outcome, tokens — never rows) in `history.file`; `querent history verify` turns
//! an answer into an example, and the model is shown it for a similar question.

mod common;
mod leak;

use common::llm::{question_of, sql_answer, test_model_with, Script};
use common::Proxy;
use std::process::Command;

fn psql(port: u16, q: &str) -> (String, String) {
    let out = Command::new("psql")
        .arg(format!(
            "host=127.0.0.1 port={port} user=root dbname={}",
            leak::DB
        ))
        .args(["-XAt", "-c", q])
        .output()
        .expect("psql");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn entries(file: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questions_are_recorded_and_verified_answers_become_examples() {
    leak::ensure_dataset().await;
    let (url, seen) = test_model_with(|_, body| {
        let q = question_of(body);
        if q.contains("biggest stores") {
            sql_answer("SELECT name, size_sqft FROM retail.stores ORDER BY size_sqft DESC LIMIT 3")
        } else if q.contains("largest shops") {
            sql_answer("SELECT name FROM retail.stores ORDER BY size_sqft DESC LIMIT 5")
        } else {
            Script::Say("no idea".into())
        }
    })
    .await;
    let file = std::env::temp_dir().join(format!("querent-history-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&file);
    let p = Proxy::start_env(
        &["--schemas", "schemas"],
        &[
            ("QUERENT_LLM_URL", &url),
            ("QUERENT_LLM_MODEL", "scripted"),
            ("QUERENT_LLM_MAX_REPAIRS", "0"),
            ("QUERENT_HISTORY_FILE", file.to_str().unwrap()),
        ],
    );
    let (out, err) = psql(p.port, "ASK 'revenue by region in 2024'");
    assert_eq!(out.lines().count(), 5, "{out}{err}");
    let (out, err) = psql(
        p.port,
        "ASK 'which are the three biggest stores by floor space?'",
    );
    assert_eq!(out.lines().count(), 3, "{out}{err}");
    let (_, err) = psql(p.port, "ASK 'what is the meaning of life'");
    assert!(err.contains("no usable answer"), "{err}");
    // The writer is asynchronous: wait for the three lines.
    let mut got = Vec::new();
    for _ in 0..50 {
        got = entries(&file);
        if got.len() >= 3 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(got.len(), 3, "{got:?}");
    // /metrics counts the model's requests, failures and tokens, labelled with the model.
    assert_eq!(
        p.metric("querent_llm_requests_total{model=\"scripted\"}"),
        2.0
    );
    assert_eq!(
        p.metric("querent_llm_failures_total{model=\"scripted\"}"),
        1.0
    );
    assert_eq!(
        p.metric("querent_llm_tokens_total{model=\"scripted\",kind=\"prompt\"}"),
        84.0
    );
    assert_eq!(got[0]["planner"], "deterministic");
    assert_eq!(got[0]["outcome"], "answered");
    assert!(got[0]["plan"].is_object());
    assert_eq!(got[1]["planner"], "model");
    assert_eq!(got[1]["model"], "scripted");
    assert_eq!(got[1]["prompt_tokens"], 42);
    assert!(got[1]["sql"].as_str().unwrap().contains("size_sqft"));
    assert_eq!(got[2]["outcome"], "declined");
    assert_eq!(got[2]["sqlstate"], "QA003");
    // Never rows: the store names the answer returned are not in the file.
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!out.is_empty());
    for line in out.lines() {
        let name = line.split('|').next().unwrap();
        assert!(!text.contains(name), "{name} reached the history");
    }
    // Verify the model's answer; a similar question then shows it to the model.
    let id = got[1]["id"].as_str().unwrap();
    let v = Command::new(env!("CARGO_BIN_EXE_querent"))
        .args(["history", "verify", id, "--file", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    // The history's example cache holds for 30 s; a fresh proxy reads it now.
    let p2 = Proxy::start_env(
        &["--schemas", "schemas"],
        &[
            ("QUERENT_LLM_URL", &url),
            ("QUERENT_LLM_MODEL", "scripted"),
            ("QUERENT_HISTORY_FILE", file.to_str().unwrap()),
        ],
    );
    let (out, err) = psql(p2.port, "ASK 'list the five largest shops by floor space'");
    assert_eq!(out.lines().count(), 5, "{out}{err}");
    let last = seen.lock().unwrap().last().cloned().unwrap();
    let prompt = last.body["messages"][1]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(prompt.contains("Verified examples"), "{prompt}");
    assert!(
        prompt.contains("Q: which are the three biggest stores by floor space?"),
        "{prompt}"
    );
    let _ = std::fs::remove_file(&file);
}
