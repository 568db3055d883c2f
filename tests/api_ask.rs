//! `POST /v1/ask` through the real server: JWT bearer tokens (valid, expired, wrong
//! signature, none), a guarded user's answer holds only her rows (and her insights and
//! chart only her figures), follow-ups through the session id, EXPLAIN, the chart's SVG, and
//! errors in one JSON shape; `GET /v1/openapi.json`.

mod common;
mod leak;

use common::Proxy;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::io::{Read, Write};

const DB: &str = leak::DB;

fn secret() -> Vec<u8> {
    let s = std::fs::read_to_string(common::repo().join("fixtures/jwt/hs256.secret")).unwrap();
    s.trim_end().as_bytes().to_vec()
}

fn token(user: &str, roles: &[&str], exp_in: i64) -> String {
    let now = jsonwebtoken::get_current_timestamp() as i64;
    let c = json!({"sub": user, "exp": now + exp_in, "roles": roles, "attrs": {"region_id": 3}});
    encode(
        &Header::new(Algorithm::HS256),
        &c,
        &EncodingKey::from_secret(&secret()),
    )
    .unwrap()
}

/// (status code, body) of one HTTP request to the admin port.
fn http(
    port: u16,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: Option<&str>,
) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let body = body.unwrap_or("");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n", body.len());
    if let Some(t) = auth {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let code = out[9..12].parse().unwrap();
    let body = out
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (code, body)
}

fn ask(p: &Proxy, auth: Option<&str>, body: Value) -> (u16, Value) {
    let (code, text) = http(
        p.admin_port,
        "POST",
        "/v1/ask",
        auth,
        Some(&body.to_string()),
    );
    (
        code,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")),
    )
}

fn jwt_proxy() -> Proxy {
    Proxy::start_env(
        &[
            "--policies",
            "policies",
            "--schemas",
            "schemas",
            "--auth",
            "jwt",
            "--tls-cert",
            "fixtures/tls/server.pem",
            "--tls-key",
            "fixtures/tls/server.key",
        ],
        &[("QUERENT_JWT_SECRET_FILE", "fixtures/jwt/hs256.secret")],
    )
}

#[tokio::test]
async fn tokens_decide_who_asks_and_what_they_see() {
    leak::ensure_dataset().await;
    let p = jwt_proxy();
    let q = json!({"question": "revenue by region in 2024", "database": DB});
    // No token, a bad signature, an expired token: no data.
    let (code, none) = ask(&p, None, q.clone());
    assert_eq!(code, 401, "{none}");
    assert_eq!(none["error"]["code"], "28000");
    assert!(none["error"]["hint"].is_string());
    let forged = token("admin", &["admin"], 600) + "x";
    assert_eq!(ask(&p, Some(&forged), q.clone()).0, 401);
    let expired = token("admin", &["admin"], -3600);
    let (code, body) = ask(&p, Some(&expired), q.clone());
    assert_eq!(code, 401, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("token"),
        "{body}"
    );
    // The admin sees five regions; alice (analyst_west, region 3) only East.
    let (code, all) = ask(&p, Some(&token("admin", &["admin"], 600)), q.clone());
    assert_eq!(code, 200, "{all}");
    assert_eq!(all["rows"].as_array().unwrap().len(), 5, "{all}");
    let (code, mine) = ask(&p, Some(&token("alice", &["analyst_west"], 600)), q.clone());
    assert_eq!(code, 200, "{mine}");
    let rows = mine["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{mine}");
    assert_eq!(rows[0][0], "East");
    // Nothing of the other regions reaches her: not in rows, insights, chart or follow-ups.
    let text = mine.to_string();
    for other in ["West", "North", "South", "Central"] {
        assert!(!text.contains(other), "{other} in {text}");
    }
    let total: f64 = all["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[1].as_f64().unwrap())
        .sum();
    assert!(!text.contains(&format!("{:.0}", total)), "{text}");
    // A question about what her policy hides.
    let (code, body) = ask(
        &p,
        Some(&token("alice", &["analyst_west"], 600)),
        json!({"question": "payroll by store", "database": DB}),
    );
    assert_eq!(code, 422, "{body}");
    assert_eq!(body["error"]["code"], "QA001");
    assert!(!body.to_string().contains("salary"));
    // A body naming another user than the token's.
    let (code, _) = ask(
        &p,
        Some(&token("alice", &["analyst_west"], 600)),
        json!({"question": "revenue", "user": "admin"}),
    );
    assert_eq!(code, 403);
}

#[tokio::test]
async fn answers_carry_insights_chart_followups_and_sessions() {
    leak::ensure_dataset().await;
    let p = Proxy::start(&["--schemas", "schemas"]);
    let (code, a) = ask(
        &p,
        None,
        json!({"question": "revenue by month in 2023", "database": DB}),
    );
    assert_eq!(code, 200, "{a}");
    assert_eq!(a["planner"], "deterministic");
    assert_eq!(a["columns"][0]["name"], "month");
    assert_eq!(a["columns"][1]["type"], "numeric");
    assert_eq!(a["row_count"], 12);
    let kinds: Vec<&str> = a["insights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"trend"), "{kinds:?}");
    assert_eq!(a["chart"]["mark"], "line");
    let svg = a["chart"]["svg_url"].as_str().unwrap();
    let (code, body) = http(p.admin_port, "GET", svg, None, None);
    assert_eq!(code, 200);
    assert!(body.starts_with("<svg"), "{}", &body[..body.len().min(80)]);
    // Every follow-up is a question the API answers.
    let follow = a["followups"].as_array().unwrap();
    assert!(follow.len() >= 2, "{a}");
    for f in follow {
        let (code, b) = ask(&p, None, json!({"question": f["question"], "database": DB}));
        assert_eq!(code, 200, "{f}: {b}");
    }
    // The session id carries the conversation: "now by region" refines the last answer.
    let (code, b) = ask(
        &p,
        None,
        json!({"question": "now by region", "database": DB, "session": a["session"]}),
    );
    assert_eq!(code, 200, "{b}");
    assert_eq!(b["planner"], "follow-up");
    assert_eq!(b["rows"].as_array().unwrap().len(), 5);
    // EXPLAIN: the plan's rows instead of the answer.
    let (code, e) = ask(
        &p,
        None,
        json!({"question": "revenue by month in 2023", "database": DB, "explain": true}),
    );
    assert_eq!(code, 200, "{e}");
    assert!(
        e["explain"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["item"] == "plan"),
        "{e}"
    );
    // A session that is gone: the decline says why the question was not a follow-up.
    let (code, gone) = ask(
        &p,
        None,
        json!({"question": "now by month", "database": DB, "session": "0".repeat(32)}),
    );
    assert_eq!(code, 422, "{gone}");
    assert!(
        gone["error"]["detail"]
            .as_str()
            .unwrap_or("")
            .contains("unknown or has expired"),
        "{gone}"
    );
    // A made-up session id is not adopted: the answer starts a session of its own.
    let (code, fresh) = ask(
        &p,
        None,
        json!({"question": "revenue by region in 2024", "database": DB, "session": "shared1"}),
    );
    assert_eq!(code, 200, "{fresh}");
    assert_ne!(fresh["session"], "shared1");
    assert_eq!(fresh["session"].as_str().unwrap().len(), 32);
    // Counts are JSON integers.
    let (_, n) = ask(
        &p,
        None,
        json!({"question": "how many orders", "database": DB}),
    );
    assert!(n["rows"][0][0].is_i64(), "{n}");
    // Row caps.
    let (_, capped) = ask(
        &p,
        None,
        json!({"question": "revenue by month in 2023", "database": DB, "max_rows": 3}),
    );
    assert_eq!(capped["rows"].as_array().unwrap().len(), 3);
    assert_eq!(capped["truncated"], true);
}

#[tokio::test]
async fn bad_requests_get_one_error_shape() {
    leak::ensure_dataset().await;
    let p = Proxy::start(&["--schemas", "schemas"]);
    for (body, code, state) in [
        ("not json", 400, "22P02"),
        ("{\"question\": 5}", 400, "22P02"),
        ("{\"question\": \"\"}", 400, "22023"),
        ("{\"question\": \"x\", \"bogus\": 1}", 400, "22P02"),
        (
            "{\"question\": \"flibber wobble\", \"database\": \"querent_retail\"}",
            422,
            "QA001",
        ),
        (
            "{\"question\": \"revenue\", \"database\": \"no_such_db\"}",
            404,
            "QA002",
        ),
    ] {
        let (got, text) = http(p.admin_port, "POST", "/v1/ask", None, Some(body));
        let v: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{body}: {e}: {text}"));
        assert_eq!(got, code, "{body}: {text}");
        assert_eq!(v["error"]["code"], state, "{body}: {text}");
        assert!(
            v["error"]["message"].is_string() && v["error"]["hint"].is_string(),
            "{text}"
        );
    }
    // Headers too long: 431, not a dropped connection.
    let mut s = std::net::TcpStream::connect(("127.0.0.1", p.admin_port)).unwrap();
    write!(
        s,
        "GET /healthz HTTP/1.1\r\nX-Big: {}\r\n\r\n",
        "a".repeat(20_000)
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    assert!(
        out.starts_with("HTTP/1.1 431"),
        "{}",
        &out[..out.len().min(60)]
    );
    // Answers are never cached.
    let mut s = std::net::TcpStream::connect(("127.0.0.1", p.admin_port)).unwrap();
    write!(s, "GET /v1/openapi.json HTTP/1.1\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(
        out.contains("Cache-Control: private, no-store"),
        "{}",
        &out[..200]
    );
    let big = format!("{{\"question\": \"{}\"}}", "x".repeat(70_000));
    assert_eq!(
        http(p.admin_port, "POST", "/v1/ask", None, Some(&big)).0,
        413
    );
    let (code, doc) = http(p.admin_port, "GET", "/v1/openapi.json", None, None);
    assert_eq!(code, 200);
    let doc: Value = serde_json::from_str(&doc).unwrap();
    assert!(doc["paths"]["/v1/ask"]["post"]["responses"]["200"].is_object());
}

/// Many questions at once never open more than `MAX_BUSY` upstream connections to run them:
/// the rest wait their turn, and all are answered.
#[tokio::test]
async fn concurrent_runs_are_bounded() {
    use querent::ask::verify::{Verifier, MAX_BUSY};
    let target =
        querent::upstream::UpstreamTarget::parse(&common::retail::direct_dsn_db("postgres"))
            .unwrap();
    let v = std::sync::Arc::new(Verifier::with_timeout(
        target,
        std::time::Duration::from_secs(30),
    ));
    let marker = format!("bounded_{}", std::process::id());
    let sql = format!("SELECT pg_sleep(0.3), '{marker}' AS m");
    let mut tasks = Vec::new();
    for _ in 0..3 * MAX_BUSY {
        let (v, sql) = (v.clone(), sql.clone());
        tasks.push(tokio::spawn(
            async move { v.rows("postgres", &sql, 10).await },
        ));
    }
    let watch = common::connect(&common::retail::direct_dsn_db("postgres"))
        .await
        .unwrap();
    let mut most = 0;
    while tasks.iter().any(|t| !t.is_finished()) {
        let n: i64 = watch
            .query_one(
                &format!("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%{marker}%' AND pid <> pg_backend_pid()"),
                &[],
            )
            .await
            .unwrap()
            .get(0);
        most = most.max(n);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    for t in tasks {
        assert!(t.await.unwrap().is_ok());
    }
    assert!(most as usize <= MAX_BUSY && most >= 2, "{most} ran at once");
}
