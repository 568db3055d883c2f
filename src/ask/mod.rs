//! ASK: a business question in plain English, answered through any Postgres client. The
//! pipeline is link (the role's catalog view) → plan (`planner`, an [`plan::AnalysisPlan`]) →
//! compile (`compile`, SQL through a typed builder) → the same guard as typed SQL → upstream.
//! The session layer recognises the trigger (`trigger`) and swaps the statement for the SQL
//! this module returns, so both protocols, transactions and Describe work as for any SQL.
//! See docs/ASK.md.

pub mod agent;
pub mod cache;
pub mod compile;
pub mod explain;
pub mod model;
pub mod plan;
pub mod plan_check;
pub mod plan_schema;
pub mod planner;
pub mod time;
pub mod trigger;

use crate::auth::Principal;
use crate::error::PgError;
use crate::guard::SessionGuard;
use crate::server::Shared;
pub use trigger::{detect, AskRequest};

/// SQLSTATE of a question ASK declines: words it could not link, or an ambiguous plan.
pub const DECLINED: &str = "QA001";
/// SQLSTATE when no catalog is available for the database.
pub const NO_CATALOG: &str = "QA002";

/// What to do with a statement that holds a question.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Send `sql` upstream in place of the statement (already checked by the guard), and send
    /// `notices` to the client (as NoticeResponse, severity NOTICE) before its results.
    Run {
        /// The SQL to run.
        sql: String,
        /// One message per NOTICE.
        notices: Vec<String>,
    },
    /// Answer the statement with this error (declined, refused by the guard, no catalog).
    Refuse(PgError),
}

/// Who is asking, and where.
pub struct Asker<'a> {
    /// The server.
    pub shared: &'a Shared,
    /// The session's database.
    pub database: &'a str,
    /// The authenticated principal.
    pub principal: &'a Principal,
    /// The session's guard, for guarded sessions.
    pub guard: Option<&'a mut SessionGuard>,
}

/// Longest question accepted, in bytes.
pub const MAX_QUESTION: usize = 2000;

/// Answers one question: the SQL to run in its place, or the error to return.
pub async fn answer(asker: Asker<'_>, req: &AskRequest) -> Answer {
    let shared = asker.shared;
    if req.question.len() > MAX_QUESTION {
        return Answer::Refuse(
            PgError::error(
                DECLINED,
                format!("the question is longer than {MAX_QUESTION} bytes"),
            )
            .with_hint("ask one shorter question at a time"),
        );
    }
    if req
        .question
        .trim()
        .strip_prefix('$')
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    {
        return Answer::Refuse(
            PgError::error(
                DECLINED,
                "ASK takes its question as text, not as a $n parameter",
            )
            .with_hint("send the question in the statement: ASK 'top 5 products by revenue'"),
        );
    }
    let policies = shared.guard.as_ref().map(|g| g.policies());
    let view = match shared
        .catalog
        .view(asker.database, policies, asker.principal)
        .await
    {
        Ok(v) => v,
        Err(e) => {
            return Answer::Refuse(
                PgError::error(NO_CATALOG, format!("ASK has no catalog of database {}: {e}", asker.database))
                    .with_hint("check that the upstream is reachable, then POST /catalog/refresh on the admin port"),
            )
        }
    };
    if let Some(p) = policies {
        if view.catalog.tables.is_empty() {
            let eff = crate::policy::Effective::new(p, asker.principal);
            let why = if eff.roles.is_empty() {
                format!(
                    "user \"{}\" has no role in the policies, so it can read no table",
                    asker.principal.user
                )
            } else {
                format!(
                    "role(s) {} can read no table of database {}",
                    eff.roles.join(", "),
                    asker.database
                )
            };
            return Answer::Refuse(
                PgError::error(DECLINED, format!("ASK cannot answer: {why}")).with_hint(
                    "ask an administrator for a role whose policy lists the tables you need",
                ),
            );
        }
    }
    let key = cache::Key::new(
        asker.database,
        &view,
        policies.and_then(|p| p.version).map(|v| v.0),
        asker.principal,
        &req.question,
    );
    let made = shared
        .ask_cache
        .get_or_plan(key, || cache::plan_and_compile(&view, &req.question));
    let (planned, sql) = match made.as_ref() {
        Ok(m) => (&m.planned, m.sql.clone()),
        Err(d) => {
            return Answer::Refuse(
                PgError::error(DECLINED, d.message.clone()).with_hint(d.hint.clone()),
            )
        }
    };
    let guarded = match (asker.guard, shared.guard.as_ref()) {
        (Some(session), Some(guard)) => match guard.check(session, &sql).await {
            crate::guard::Decision::Pass => sql.clone(),
            crate::guard::Decision::Rewrite(s) => s,
            crate::guard::Decision::Deny(e) => return Answer::Refuse(e),
        },
        _ => sql.clone(),
    };
    // What a client is shown never carries the hash-mask key.
    let shown = match shared.guard.as_ref() {
        Some(g) => g.redact(&guarded),
        None => guarded.clone(),
    };
    let summary = explain::summary(&view.catalog, &planned.plan);
    if req.explain {
        return Answer::Run {
            sql: explain::rows_sql(&view, &req.question, planned, &sql, &shown),
            notices: Vec::new(),
        };
    }
    Answer::Run {
        notices: vec![format!("ASK: {summary}"), format!("ASK SQL: {shown}")],
        sql: guarded,
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_count_schemas;
#[cfg(test)]
mod tests_counts;
#[cfg(test)]
mod tests_review;
#[cfg(test)]
mod tests_shapes;
