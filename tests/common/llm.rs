//! An OpenAI-compatible test model: an HTTP server answering `POST /v1/chat/completions` with
//! chat completion JSON as OpenAI sends it, scripted per request (answers, API errors, slow
//! answers, bodies that are not completions), capturing every request it gets.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the test model does with one request.
#[derive(Clone)]
pub enum Script {
    /// 200 with a chat completion whose message is this text.
    Say(String),
    /// This status with an OpenAI error body.
    Fail(u16, &'static str),
    /// Wait this long, then say "late".
    Slow(Duration),
    /// 200 with this body as it is.
    Raw(&'static str),
}

/// One captured request: path, authorization header, JSON body.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Request path.
    pub path: String,
    /// Authorization header.
    pub authorization: Option<String>,
    /// JSON body.
    pub body: serde_json::Value,
}

/// Starts the test model; answers requests with `script` in order (the last one repeats).
pub async fn test_model(script: Vec<Script>) -> (String, Arc<Mutex<Vec<Seen>>>) {
    test_model_with(move |n, _| script[n.min(script.len() - 1)].clone()).await
}

/// Starts the test model; request `n` (from 0) with JSON body `b` is answered with `f(n, b)`.
pub async fn test_model_with(
    f: impl Fn(usize, &serde_json::Value) -> Script + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let f = Arc::new(f);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        let mut n = 0usize;
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let k = n;
            n += 1;
            let log = log.clone();
            let f = f.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head_end, length) = loop {
                    let Ok(k) = sock.read(&mut chunk).await else {
                        return;
                    };
                    if k == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..k]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..i]).to_string();
                        let length = head
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        break (i + 4, length);
                    }
                };
                while buf.len() < head_end + length {
                    let Ok(k) = sock.read(&mut chunk).await else {
                        return;
                    };
                    if k == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..k]);
                }
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let path = head
                    .lines()
                    .next()
                    .and_then(|l| l.split_whitespace().nth(1))
                    .unwrap_or("")
                    .to_string();
                let authorization = head.lines().find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("authorization")
                        .then(|| v.trim().to_string())
                });
                let body = serde_json::from_slice(&buf[head_end..head_end + length])
                    .unwrap_or(serde_json::Value::Null);
                let step = f(k, &body);
                log.lock().unwrap().push(Seen {
                    path,
                    authorization,
                    body,
                });
                let (status, body) = match step {
                    Script::Say(text) => (200, completion(&text)),
                    Script::Fail(status, message) => (
                        status,
                        serde_json::json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": null}}).to_string(),
                    ),
                    Script::Slow(d) => {
                        tokio::time::sleep(d).await;
                        (200, completion("late"))
                    }
                    Script::Raw(body) => (200, body.to_string()),
                };
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(reply.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    (url, seen)
}

/// A chat completion as OpenAI's API returns it.
pub fn completion(text: &str) -> String {
    serde_json::json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_733_000_000,
        "model": "test-model",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": text, "refusal": null},
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": 42, "completion_tokens": 7, "total_tokens": 49}
    })
    .to_string()
}

/// The question of a request ASK sent: the last "Question: " line of its first user message.
pub fn question_of(body: &serde_json::Value) -> String {
    let first = body["messages"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or("");
    first
        .rsplit_once("Question: ")
        .map(|(_, q)| q.trim().to_string())
        .unwrap_or_default()
}

/// An answer carrying SQL.
pub fn sql_answer(sql: &str) -> Script {
    Script::Say(serde_json::json!({"plan": null, "sql": sql}).to_string())
}
