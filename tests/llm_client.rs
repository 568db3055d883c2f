//! The language model client (`querent::ask::model`) against a test model that speaks the real
//! protocol: an HTTP server answering `POST /v1/chat/completions` with chat completion JSON as
//! OpenAI sends it, scripted per request (answers, API errors, slow answers, bodies that are
//! not completions). The requests the real async-openai client sends are captured and checked.

mod common;

use querent::ask::model::{ModelClient, ModelSettings, Shape};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the test model does with one request.
#[derive(Clone)]
enum Script {
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
struct Seen {
    path: String,
    authorization: Option<String>,
    body: serde_json::Value,
}

/// Starts the test model; answers requests with `script` in order (the last one repeats).
async fn test_model(script: Vec<Script>) -> (String, Arc<Mutex<Vec<Seen>>>) {
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
            let step = script[n.min(script.len() - 1)].clone();
            n += 1;
            let log = log.clone();
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
fn completion(text: &str) -> String {
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

fn client(url: &str, key: &str, timeout: Duration) -> ModelClient {
    ModelClient::new(ModelSettings {
        url: url.into(),
        model: "test-model".into(),
        api_key: key.into(),
        timeout,
    })
}

#[tokio::test]
async fn asks_with_the_schema_and_reads_the_answer() {
    let (url, seen) = test_model(vec![Script::Say("{\"intent\":\"aggregate\"}".into())]).await;
    let c = client(&url, "sk-test-123", Duration::from_secs(5));
    let schema = serde_json::json!({"type": "object", "properties": {"intent": {"type": "string"}}, "required": ["intent"], "additionalProperties": false});
    let reply = c
        .complete(
            "You plan SQL.",
            "revenue by region",
            Some(Shape {
                name: "analysis_plan",
                schema: schema.clone(),
            }),
        )
        .await
        .unwrap();
    assert_eq!(reply.content, "{\"intent\":\"aggregate\"}");
    assert_eq!((reply.prompt_tokens, reply.completion_tokens), (42, 7));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/v1/chat/completions");
    assert_eq!(seen[0].authorization.as_deref(), Some("Bearer sk-test-123"));
    let body = &seen[0].body;
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["messages"][0]["role"], "system");
    assert_eq!(body["messages"][0]["content"], "You plan SQL.");
    assert_eq!(body["messages"][1]["role"], "user");
    assert_eq!(body["messages"][1]["content"], "revenue by region");
    assert_eq!(body["response_format"]["type"], "json_schema");
    assert_eq!(
        body["response_format"]["json_schema"]["name"],
        "analysis_plan"
    );
    assert_eq!(body["response_format"]["json_schema"]["schema"], schema);
    assert_eq!(body["response_format"]["json_schema"]["strict"], true);
}

#[tokio::test]
async fn plain_prompts_send_no_response_format() {
    let (url, seen) = test_model(vec![Script::Say("SELECT 1".into())]).await;
    let reply = client(&url, "", Duration::from_secs(5))
        .complete("s", "u", None)
        .await
        .unwrap();
    assert_eq!(reply.content, "SELECT 1");
    let seen = seen.lock().unwrap().clone();
    assert!(seen[0].body.get("response_format").is_none());
}

#[tokio::test]
async fn endpoint_errors_are_qa004_naming_the_endpoint_never_the_key() {
    let (url, _) = test_model(vec![Script::Fail(400, "model 'test-model' not found")]).await;
    let e = client(&url, "sk-secret-999", Duration::from_secs(5))
        .complete("s", "u", None)
        .await
        .unwrap_err();
    assert_eq!(e.code, "QA004");
    assert!(e.message.contains(&url), "{}", e.message);
    assert!(e.message.contains("not found"), "{}", e.message);
    assert!(!e.message.contains("sk-secret-999"), "{}", e.message);
}

#[tokio::test]
async fn slow_models_time_out_with_qa004() {
    let (url, _) = test_model(vec![Script::Slow(Duration::from_secs(5))]).await;
    let started = std::time::Instant::now();
    let e = client(&url, "", Duration::from_millis(300))
        .complete("s", "u", None)
        .await
        .unwrap_err();
    assert_eq!(e.code, "QA004");
    assert!(e.message.contains("did not answer within"), "{}", e.message);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn answers_that_are_not_completions_are_qa003() {
    let (url, _) = test_model(vec![Script::Raw("{\"hello\": \"world\"")]).await;
    let e = client(&url, "", Duration::from_secs(5))
        .complete("s", "u", None)
        .await
        .unwrap_err();
    assert_eq!(e.code, "QA003", "{}", e.message);
    let (url, _) = test_model(vec![Script::Say("  ".into())]).await;
    let e = client(&url, "", Duration::from_secs(5))
        .complete("s", "u", None)
        .await
        .unwrap_err();
    assert_eq!(e.code, "QA003", "{}", e.message);
}

#[tokio::test]
async fn unreachable_endpoints_are_qa004() {
    // A port nothing listens on.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", l.local_addr().unwrap());
    drop(l);
    let e = client(&url, "", Duration::from_secs(5))
        .complete("s", "u", None)
        .await
        .unwrap_err();
    assert_eq!(e.code, "QA004");
    assert!(e.message.contains(&url), "{}", e.message);
}

/// The planner agent: the model gets the role's catalog by ids (and the plan schema), answers
/// a plan, the plan is checked against the view and compiled like the planner's own; a plan
/// naming a table the view lacks is refused with QA003.
#[tokio::test]
async fn the_planner_agent_asks_for_a_plan_by_ids_and_compiles_it() {
    use querent::catalog::store;
    common::retail::ensure_dataset().await;
    let db = common::retail::RETAIL_DB;
    let target =
        querent::upstream::UpstreamTarget::parse(&format!("postgres://root@127.0.0.1:5432/{db}"))
            .unwrap();
    let cfg = querent::config::Config::default();
    let loaded = store::discover(&target, db, &store::options(&cfg), &[])
        .await
        .unwrap();
    let view = &loaded.full;
    let c = &view.catalog;
    let customers = c.find_table("retail.customers").unwrap();
    let segment = c.find_column("customers.segment").unwrap();
    let plan = serde_json::json!({
        "intent": "aggregate",
        "measures": [{"count": customers}],
        "dimensions": [{"column": {"table": segment.table, "column": segment.column}, "grain": null}],
        "filters": [], "time": null, "having": null, "order": null, "limit": null,
        "previous": null, "without": null, "part": [], "via": [], "denominator_part": [],
        "percent": false, "confidence": 0.9
    });
    let (url, seen) = test_model(vec![Script::Say(plan.to_string())]).await;
    let model = client(&url, "", Duration::from_secs(5));
    let (got, reply) =
        querent::ask::agent::plan_with_model(&model, view, "customers in each segment")
            .await
            .unwrap();
    assert_eq!(reply.prompt_tokens, 42);
    let sql = querent::ask::compile::compile(view, &got).unwrap();
    let pg = common::connect(&format!("host=127.0.0.1 port=5432 user=root dbname={db}"))
        .await
        .unwrap();
    let rows = pg.simple_query(&sql).await.unwrap();
    let n = rows
        .iter()
        .filter(|m| matches!(m, tokio_postgres::SimpleQueryMessage::Row(_)))
        .count();
    assert_eq!(n, 3, "{sql}"); // Consumer, Corporate, Small Business
    let body = seen.lock().unwrap()[0].body.clone();
    let prompt = body["messages"][1]["content"].as_str().unwrap().to_string();
    assert!(prompt.contains("retail.customers"), "{prompt}");
    assert!(prompt.contains(&format!(
        "column {}.{} segment",
        segment.table, segment.column
    )));
    assert!(
        !prompt.contains('@'),
        "an email reached the model: {prompt}"
    );
    assert_eq!(
        body["response_format"]["json_schema"]["name"],
        "analysis_plan"
    );
    // A hostile plan: a table the view does not have.
    let mut bad = plan.clone();
    bad["measures"] = serde_json::json!([{"count": 9999}]);
    let (url, _) = test_model(vec![Script::Say(bad.to_string())]).await;
    let e = querent::ask::agent::plan_with_model(
        &client(&url, "", Duration::from_secs(5)),
        view,
        "customers in each segment",
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, "QA003");
    assert!(e.message.contains("not in the catalog"), "{}", e.message);
}
