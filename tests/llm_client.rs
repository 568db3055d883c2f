//! The language model client (`querent::ask::model`) against a test model that speaks the real
//! protocol: an HTTP server answering `POST /v1/chat/completions` with chat completion JSON as
//! OpenAI sends it, scripted per request (answers, API errors, slow answers, bodies that are
//! not completions). The requests the real async-openai client sends are captured and checked.

mod common;

use querent::ask::model::{ModelClient, ModelSettings, Shape};
use std::time::Duration;

use common::llm::{test_model, Script};

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

/// The retail catalog, a model agent over `url` (at most `repairs` repairs) and the target.
async fn retail_agent(
    url: &str,
    repairs: u32,
) -> (
    std::sync::Arc<querent::catalog::store::Loaded>,
    querent::ask::llm::ModelAgent,
) {
    retail_agent_env(url, repairs, &[]).await
}

async fn retail_agent_env(
    url: &str,
    repairs: u32,
    more: &[(&str, &str)],
) -> (
    std::sync::Arc<querent::catalog::store::Loaded>,
    querent::ask::llm::ModelAgent,
) {
    use querent::catalog::store;
    common::retail::ensure_dataset().await;
    let db = common::retail::RETAIL_DB;
    let target =
        querent::upstream::UpstreamTarget::parse(&format!("postgres://root@127.0.0.1:5432/{db}"))
            .unwrap();
    let env = [
        ("QUERENT_LLM_URL", url.to_string()),
        ("QUERENT_LLM_MODEL", "test-model".to_string()),
        ("QUERENT_LLM_MAX_REPAIRS", repairs.to_string()),
    ]
    .map(|(k, v)| (k.to_string(), v))
    .into_iter()
    .chain(more.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let cfg = querent::config::load(None, env, &[]).unwrap();
    let loaded = store::discover(&target, db, &store::options(&cfg), &[])
        .await
        .unwrap();
    let agent = querent::ask::llm::ModelAgent::from_config(&cfg, target)
        .unwrap()
        .unwrap();
    (std::sync::Arc::new(loaded), agent)
}

fn inputs<'a>(
    view: &'a querent::catalog::store::Semantic,
    question: &'a str,
) -> querent::ask::llm::Inputs<'a> {
    querent::ask::llm::Inputs {
        view,
        database: common::retail::RETAIL_DB,
        question,
        spender: "alice",
        kind: "test".into(),
        policy_version: None,
        guard: None,
        examples: Vec::new(),
        previous: None,
    }
}

/// The model gets the role's catalog by ids (and the answer's schema), answers a plan; the
/// plan is checked against the view and compiled like the planner's own, and `EXPLAIN`ed.
#[tokio::test]
async fn a_plan_from_the_model_is_checked_compiled_and_explained() {
    let (loaded, _) = retail_agent("http://127.0.0.1:9/v1", 0).await;
    let c = &loaded.full.catalog;
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
    let answer = serde_json::json!({"plan": plan, "sql": null}).to_string();
    let (url, seen) = test_model(vec![Script::Say(answer)]).await;
    let (loaded, agent) = retail_agent(&url, 2).await;
    let got = agent
        .answer(inputs(&loaded.full, "customers in each segment"))
        .await
        .unwrap();
    assert!(got.made.plan.is_some());
    assert_eq!(got.made.repairs, 0);
    assert_eq!(got.made.prompt_tokens, 42);
    let db = common::retail::RETAIL_DB;
    let pg = common::connect(&format!("host=127.0.0.1 port=5432 user=root dbname={db}"))
        .await
        .unwrap();
    let rows = pg.simple_query(&got.guarded).await.unwrap();
    let n = rows
        .iter()
        .filter(|m| matches!(m, tokio_postgres::SimpleQueryMessage::Row(_)))
        .count();
    assert_eq!(n, 3, "{}", got.guarded); // Consumer, Corporate, Small Business
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
    assert_eq!(body["response_format"]["json_schema"]["name"], "ask_answer");
    // The same question again is answered from the cache: no second request.
    let again = agent
        .answer(inputs(&loaded.full, "Customers in each  segment?"))
        .await
        .unwrap();
    assert!(again.made.cached);
    assert_eq!(seen.lock().unwrap().len(), 1);
}

/// Failing answers go back to the model with the reason, at most `llm.max_repairs` times: a
/// plan naming a table the view lacks, SQL with a column that does not exist (PostgreSQL's own
/// error from EXPLAIN), SQL that writes; then a good answer is used.
#[tokio::test]
async fn failing_answers_are_repaired_with_the_reason() {
    let sql = |s: &str| serde_json::json!({"plan": null, "sql": s}).to_string();
    let bad_plan = serde_json::json!({"plan": {
        "intent": "aggregate", "measures": [{"count": 9999}], "dimensions": [], "filters": [],
        "time": null, "having": null, "order": null, "limit": null, "previous": null,
        "without": null, "part": [], "via": [], "denominator_part": [], "percent": false,
        "confidence": 0.5}, "sql": null})
    .to_string();
    let (url, seen) = test_model(vec![
        Script::Say(bad_plan),
        Script::Say(sql("SELECT no_such_column FROM retail.stores")),
        Script::Say(sql("DELETE FROM retail.stores")),
        Script::Say(sql("SELECT count(*) AS stores FROM retail.stores")),
    ])
    .await;
    let (loaded, agent) = retail_agent(&url, 3).await;
    let got = agent
        .answer(inputs(&loaded.full, "how many stores are there"))
        .await
        .unwrap();
    assert_eq!(got.made.repairs, 3);
    assert!(got.made.plan.is_none());
    assert_eq!(got.guarded, "SELECT count(*) AS stores FROM retail.stores");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 4);
    let last_turn = |i: usize| {
        let m = seen[i].body["messages"].as_array().unwrap();
        m.last().unwrap()["content"].as_str().unwrap().to_string()
    };
    assert!(
        last_turn(1).contains("not in the catalog"),
        "{}",
        last_turn(1)
    );
    assert!(last_turn(2).contains("no_such_column"), "{}", last_turn(2));
    assert!(last_turn(3).contains("read-only"), "{}", last_turn(3));
    // Each repair request carries the whole conversation.
    assert_eq!(seen[3].body["messages"].as_array().unwrap().len(), 8);
}

/// After `llm.max_repairs` failed repairs ASK declines with QA003 and the last reason.
#[tokio::test]
async fn no_usable_answer_after_the_repairs_is_qa003() {
    let (url, seen) = test_model(vec![Script::Say("I cannot help with that.".into())]).await;
    let (loaded, agent) = retail_agent(&url, 1).await;
    let e = agent
        .answer(inputs(&loaded.full, "what is the meaning of life"))
        .await
        .unwrap_err();
    assert_eq!(e.code, "QA003");
    assert!(e.message.contains("after 1 repair"), "{}", e.message);
    assert!(e.message.contains("not JSON"), "{}", e.message);
    assert_eq!(seen.lock().unwrap().len(), 2);
    // An endpoint that refuses response_format is asked again without it, the schema in the
    // prompt instead.
    let (url, seen) = test_model_refusing_schema().await;
    let (loaded, agent) = retail_agent(&url, 0).await;
    agent
        .answer(inputs(&loaded.full, "how many stores"))
        .await
        .unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert!(seen[1].body.get("response_format").is_none());
    let system = seen[1].body["messages"][0]["content"].as_str().unwrap();
    assert!(system.contains("JSON schema"), "{system}");
}

async fn test_model_refusing_schema() -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<common::llm::Seen>>>,
) {
    common::llm::test_model_with(|_, body| {
        if body.get("response_format").is_some() {
            Script::Fail(400, "response_format is not supported")
        } else {
            Script::Say(
                serde_json::json!({"plan": null, "sql": "SELECT count(*) FROM retail.stores"})
                    .to_string(),
            )
        }
    })
    .await
}

/// Two replicas with the same `cache.redis_url` share the model's answers: the second asks
/// no model. A principal of another kind (roles) never gets the first one's answer.
#[tokio::test]
async fn replicas_share_answers_through_redis() {
    let (url, seen) = test_model(vec![Script::Say(
        serde_json::json!({"plan": null, "sql": "SELECT count(*) FROM retail.stores"}).to_string(),
    )])
    .await;
    let redis = [("QUERENT_CACHE_REDIS_URL", "redis://127.0.0.1:6379/0")];
    let (loaded, one) = retail_agent_env(&url, 0, &redis).await;
    let (_, two) = retail_agent_env(&url, 0, &redis).await;
    // A question no earlier run asked, so the shared cache is cold.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let q = format!("how many stores are there (run {nanos})");
    let first = one.answer(inputs(&loaded.full, &q)).await.unwrap();
    assert!(!first.made.cached);
    // The write to Redis does not hold up the answer; give it a moment.
    let mut shared = None;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let got = two.answer(inputs(&loaded.full, &q)).await.unwrap();
        if got.made.cached {
            shared = Some(got);
            break;
        }
    }
    let shared = shared.expect("the second replica never found the answer in Redis");
    assert_eq!(shared.guarded, first.guarded);
    let asked = seen.lock().unwrap().len();
    let mut other = inputs(&loaded.full, &q);
    other.kind = "another role".into();
    let theirs = two.answer(other).await.unwrap();
    assert!(!theirs.made.cached);
    assert_eq!(seen.lock().unwrap().len(), asked + 1);
}

/// The catalog part of the prompt carries the annotations' meaning: synonyms, units, metrics
/// with their definitions; and values only of columns that are not personal.
#[tokio::test]
async fn the_prompt_carries_synonyms_metrics_and_no_personal_values() {
    use querent::catalog::store;
    common::retail::ensure_dataset().await;
    let db = common::retail::RETAIL_DB;
    let target =
        querent::upstream::UpstreamTarget::parse(&format!("postgres://root@127.0.0.1:5432/{db}"))
            .unwrap();
    let cfg = querent::config::Config::default();
    let files = store::read_annotations(Some(&common::repo().join("schemas"))).unwrap();
    let loaded = store::discover(&target, db, &store::options(&cfg), &files)
        .await
        .unwrap();
    let prompt = querent::ask::agent::catalog_prompt(&loaded.full, "revenue by territory");
    assert!(prompt.contains("retail.regions"), "{prompt}");
    assert!(prompt.contains("also called: area, territory"), "{prompt}");
    assert!(
        prompt
            .lines()
            .any(|l| l.starts_with("metric ") && l.contains(" revenue = ")),
        "{prompt}"
    );
    assert!(!prompt.contains('@'), "{prompt}");
    let customers = querent::ask::agent::catalog_prompt(&loaded.full, "customers by segment");
    assert!(
        customers.contains("values: Consumer | Corporate | Small Business"),
        "{customers}"
    );
}
