//! `POST /v1/ask`: the same stages as an ASK on the wire — answer (with the principal's
//! guard), run (on the proxy's own read-only connection, the guarded SQL), then insights,
//! chart and follow-ups — composed here, answered as one JSON object.

use super::{new_session_id, ApiError};
use crate::ask::analyse::{self, Analysis};
use crate::ask::frame::Cell;
use crate::ask::{Answer, AskRequest, Asked};
use crate::auth::Principal;
use crate::server::Shared;
use serde_json::{json, Value};
use std::time::Instant;

/// The request body.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AskIn {
    /// The question.
    pub question: String,
    /// The database (default: the upstream URL's).
    #[serde(default)]
    pub database: Option<String>,
    /// A session id from an earlier answer: follow-ups refine it.
    #[serde(default)]
    pub session: Option<String>,
    /// Show the plan instead of running it (`EXPLAIN ASK`).
    #[serde(default)]
    pub explain: bool,
    /// Most rows returned (at most `ask.api_rows`).
    #[serde(default)]
    pub max_rows: Option<u32>,
    /// The user, only where `auth = trust` and no token is sent.
    #[serde(default)]
    pub user: Option<String>,
}

fn cell_json(c: &Cell) -> Value {
    match c {
        Cell::Null => Value::Null,
        Cell::Num(x) => json!(x),
        Cell::Text(s) => json!(s),
        Cell::Time { text, .. } => json!(text),
    }
}

/// A value of a column of type `oid` in the API's rows: integers as JSON integers (exact up
/// to 2^53, beyond it as a string of digits), other numbers as JSON numbers (double precision).
fn value_json(oid: u32, c: &Cell) -> Value {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match (oid, c) {
        (20 | 21 | 23, Cell::Num(x)) if x.fract() == 0.0 && x.abs() <= EXACT => json!(*x as i64),
        (20 | 21 | 23, Cell::Num(x)) => json!(format!("{x:.0}")),
        _ => cell_json(c),
    }
}

fn type_name(oid: u32) -> &'static str {
    match oid {
        16 => "bool",
        20 => "int8",
        21 => "int2",
        23 => "int4",
        700 => "float4",
        701 => "float8",
        1700 => "numeric",
        1082 => "date",
        1114 => "timestamp",
        1184 => "timestamptz",
        25 => "text",
        1043 => "varchar",
        _ => "other",
    }
}

fn run_error(f: crate::ask::verify::Failed) -> ApiError {
    if f.message.starts_with("53300") {
        return ApiError::new(
            "503 Service Unavailable",
            "53300",
            format!("too many answers at once: {}", f.message),
            "try again in a moment",
        );
    }
    if f.upstream {
        ApiError::new(
            "502 Bad Gateway",
            "08006",
            format!("the database could not run the answer: {}", f.message),
            "check that the upstream is reachable",
        )
    } else {
        let code = f
            .message
            .get(..5)
            .filter(|c| c.chars().all(|x| x.is_ascii_alphanumeric()));
        ApiError::new(
            "422 Unprocessable Entity",
            code.unwrap_or("XX000"),
            format!("the answer's SQL failed upstream: {}", f.message),
            "rephrase the question, or look at the SQL with \"explain\": true",
        )
    }
}

/// Answers `input` for `principal`.
pub async fn ask(shared: &Shared, principal: &Principal, input: AskIn) -> Result<Value, ApiError> {
    let started = Instant::now();
    let database = input
        .database
        .clone()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| shared.pool.target().dbname.clone());
    if input.question.trim().is_empty() {
        return Err(ApiError::new(
            "400 Bad Request",
            "22023",
            "the question is empty",
            "send {\"question\": \"revenue by region in 2024\"}",
        ));
    }
    let mut session = match shared.guard.as_ref() {
        Some(g) => {
            let user = shared.pool.target().user.clone();
            g.session(principal, &database, vec![user, "public".into()])
                .await
                .map_err(ApiError::from_pg)?
        }
        None => None,
    };
    let previous = input
        .session
        .as_deref()
        .and_then(|id| shared.api_sessions.get(id, &principal.user));
    let req = AskRequest {
        question: input.question.clone(),
        explain: input.explain,
    };
    let answer = crate::ask::answer(
        shared.asker(&database, principal, session.as_mut(), previous.as_ref()),
        &req,
    )
    .await;
    // Only ids this server made and still holds for this user continue a conversation; any
    // other id (unknown, expired, another user's, made up) gets a new one.
    let session_id = match (&input.session, &previous) {
        (Some(id), Some(_)) => id.clone(),
        _ => new_session_id(),
    };
    let (sql, notices, about) = match answer {
        Answer::Run {
            sql,
            notices,
            about,
        } => (sql, notices, about),
        Answer::Refuse(mut e) => {
            // A follow-up of a session that is gone reads as a question of its own: say why.
            if let (Some(id), None) = (input.session.as_deref(), previous.as_ref()) {
                if e.detail.is_none() {
                    e.detail = Some(format!(
                        "session {id} is unknown or has expired (sessions are kept for an hour without use), so the question was not read as a follow-up"
                    ));
                }
            }
            return Err(ApiError::from_pg(e));
        }
        Answer::Forget { .. } => {
            shared.api_sessions.forget(&session_id, &principal.user);
            return Ok(json!({"question": input.question, "database": database,
                "summary": "ASK forgot the conversation", "session": session_id}));
        }
    };
    let answered = started.elapsed();
    let cfg = &shared.config.ask;
    let max_rows = input
        .max_rows
        .map_or(cfg.api_rows, |m| (m as usize).min(cfg.api_rows));
    let read = max_rows.max(cfg.insight_rows).max(1);
    let frame = shared
        .runner
        .rows(&database, &sql, read)
        .await
        .map_err(run_error)?;
    let ran = started.elapsed();
    let columns: Vec<Value> = frame
        .columns
        .iter()
        .map(|c| json!({"name": c.name, "type": type_name(c.type_oid)}))
        .collect();
    let rows: Vec<Value> = frame
        .rows
        .iter()
        .take(max_rows)
        .map(|r| {
            let cells = r.iter().zip(&frame.columns);
            Value::Array(cells.map(|(c, col)| value_json(col.type_oid, c)).collect())
        })
        .collect();
    let shown = shared
        .guard
        .as_ref()
        .map_or_else(|| sql.clone(), |g| g.redact(&sql));
    let mut out = json!({
        "question": input.question,
        "database": database,
        "planner": about.planner.name(),
        "model": about.model,
        "summary": notices.first().map(|n| n.trim_start_matches("ASK: ").to_string()).unwrap_or_default(),
        "sql": shown,
        "columns": columns,
        "row_count": frame.seen.min(read as u64),
        "truncated": frame.seen > max_rows as u64,
        "notices": notices,
        "session": session_id,
        "insights": [],
        "chart": Value::Null,
        "followups": [],
        "explain": Value::Null,
    });
    if input.explain {
        let items: Vec<Value> = frame
            .rows
            .iter()
            .map(|r| json!({"item": r.first().map(cell_json), "detail": r.get(1).map(cell_json)}))
            .collect();
        out["explain"] = Value::Array(items);
        out["rows"] = Value::Array(rows);
    } else {
        out["rows"] = Value::Array(rows);
        let ctx = analyse::context(&input.question, &about);
        let previous = super::run::previous_frame(
            shared,
            &database,
            principal,
            session.as_mut(),
            &about,
            read,
        )
        .await;
        let Analysis { insights, chart } =
            analyse::analyse(&frame, &ctx, previous.as_ref(), cfg.insights);
        out["insights"] = json!(insights
            .iter()
            .map(
                |i| json!({"kind": i.kind, "text": i.text, "score": i.score, "columns": i.columns})
            )
            .collect::<Vec<_>>());
        if let Some(c) = chart {
            let id = shared.charts.put_owned(&principal.user, &c, &frame);
            out["chart"] = json!({
                "mark": format!("{:?}", c.mark).to_lowercase(),
                "spec": c.spec,
                "svg_url": format!("/v1/charts/{id}.svg"),
                "json_url": format!("/v1/charts/{id}.json"),
            });
        }
        out["followups"] = json!(
            super::run::followups(shared, &database, principal, session.as_mut(), &about).await
        );
        shared.api_sessions.put(
            &session_id,
            &principal.user,
            Asked {
                question: input.question.clone(),
                plan: about.plan.clone(),
                sql: about.sql.clone(),
                version: about.version,
            },
        );
    }
    let ms = |d: std::time::Duration| (d.as_secs_f64() * 1e5).round() / 100.0;
    out["timings"] = json!({
        "answer_ms": ms(answered),
        "run_ms": ms(ran - answered),
        "total_ms": ms(started.elapsed()),
    });
    Ok(out)
}
