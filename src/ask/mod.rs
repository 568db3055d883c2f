//! ASK: a business question in plain English, answered through any Postgres client. The
//! pipeline is link (the role's catalog view) → plan (`planner`, an [`plan::AnalysisPlan`]) →
//! compile (`compile`, SQL through a typed builder) → the same guard as typed SQL → upstream.
//! When it declines, a configured language model is asked (`llm`, `agent`, `model`,
//! `sql_check`, `verify`). The session layer recognises the trigger (`trigger`) and swaps the statement for the SQL
//! this module returns, so both protocols, transactions and Describe work as for any SQL.
//! See docs/ASK.md.

pub mod agent;
pub mod analyse;
pub mod cache;
pub mod chart;
pub mod compile;
pub mod explain;
pub mod followup;
pub mod frame;
pub mod insights;
pub mod llm;
pub mod model;
pub mod next;
pub mod plan;
pub mod plan_check;
pub mod plan_schema;
pub mod planner;
pub mod redis;
pub mod relation;
pub mod sql_check;
pub mod time;
pub mod trigger;
pub mod verify;

use crate::auth::Principal;
use crate::catalog::store::{CatalogStore, Semantic};
use crate::error::PgError;
use crate::guard::{Guard, SessionGuard};
pub use trigger::{detect, AskRequest};

/// SQLSTATE of a question ASK declines: words it could not link, or an ambiguous plan.
pub const DECLINED: &str = "QA001";
/// SQLSTATE when no catalog is available for the database.
pub const NO_CATALOG: &str = "QA002";

/// Which planner answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Planner {
    /// The deterministic planner (no model).
    #[serde(rename = "deterministic")]
    Deterministic,
    /// The language model.
    #[serde(rename = "model")]
    Model,
    /// A follow-up refining the previous plan (no model).
    #[serde(rename = "follow-up")]
    FollowUp,
}

impl Planner {
    /// The name NOTICEs, `EXPLAIN ASK` and the audit log use.
    pub fn name(self) -> &'static str {
        match self {
            Planner::Deterministic => "deterministic",
            Planner::Model => "model",
            Planner::FollowUp => "follow-up",
        }
    }
}

/// How an answer was made: for the audit log and the conversation's memory.
#[derive(Debug, Clone, PartialEq)]
pub struct About {
    /// The planner that answered.
    pub planner: Planner,
    /// The model, when it answered.
    pub model: Option<String>,
    /// The plan, when there is one.
    pub plan: Option<plan::AnalysisPlan>,
    /// The SQL before the guard.
    pub sql: String,
    /// The version of the catalog view it was planned on.
    pub version: u64,
    /// What the model cost: prompt tokens, answer tokens, repairs (zero without a model).
    pub cost: (u32, u32, u32),
}

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
        /// How it was made.
        about: Box<About>,
    },
    /// Answer the statement with this error (declined, refused by the guard, no catalog).
    Refuse(PgError),
    /// `ASK RESET`: forget the conversation, and run `sql` (one row saying so).
    Forget {
        /// The SQL to run.
        sql: String,
    },
}

/// A session's last answered question: what a follow-up refines.
#[derive(Debug, Clone, PartialEq)]
pub struct Asked {
    /// The question.
    pub question: String,
    /// Its plan, when there was one.
    pub plan: Option<plan::AnalysisPlan>,
    /// Its SQL before the guard.
    pub sql: String,
    /// The version of the catalog view its plan refers to (a plan names columns by position).
    pub version: u64,
}

/// Whether `question` is `RESET`: forget the conversation.
pub fn is_reset(question: &str) -> bool {
    question
        .trim()
        .trim_end_matches(';')
        .trim()
        .eq_ignore_ascii_case("reset")
}

/// Who is asking, where, and what answers: the catalog, the guard, the plan cache and the
/// model are passed in, so ASK does not depend on the server.
pub struct Asker<'a> {
    /// The catalogs of the upstream's databases.
    pub catalog: &'a CatalogStore,
    /// The policy guard, when policies are loaded.
    pub guard: Option<&'a Guard>,
    /// The deterministic planner's cache.
    pub plans: &'a cache::PlanCache,
    /// The language model, when one is configured.
    pub model: Option<&'a llm::ModelAgent>,
    /// The session's database.
    pub database: &'a str,
    /// The authenticated principal.
    pub principal: &'a Principal,
    /// The session's guard, for guarded sessions.
    pub session: Option<&'a mut SessionGuard>,
    /// The session's last answered question.
    pub previous: Option<&'a Asked>,
    /// The history, for verified examples.
    pub history: Option<&'a crate::history::History>,
}

/// Longest question accepted, in bytes.
pub const MAX_QUESTION: usize = 2000;

fn declined(message: impl Into<String>, hint: impl Into<String>) -> Answer {
    Answer::Refuse(PgError::error(DECLINED, message).with_hint(hint))
}

/// Checks what can be checked before anything is looked up.
fn admissible(question: &str) -> Result<(), Answer> {
    if question.len() > MAX_QUESTION {
        return Err(declined(
            format!("the question is longer than {MAX_QUESTION} bytes"),
            "ask one shorter question at a time",
        ));
    }
    let q = question.trim();
    if q.strip_prefix('$')
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(declined(
            "ASK takes its question as text, not as a $n parameter",
            "send the question in the statement: ASK 'top 5 products by revenue'",
        ));
    }
    Ok(())
}

/// The role's catalog view (link stage input), or why there is none.
async fn view_of(asker: &Asker<'_>) -> Result<std::sync::Arc<Semantic>, Answer> {
    let policies = asker.guard.map(|g| g.policies());
    let view = asker
        .catalog
        .view(asker.database, policies, asker.principal)
        .await
        .map_err(|e| Answer::Refuse(
            PgError::error(NO_CATALOG, format!("ASK has no catalog of database {}: {e}", asker.database))
                .with_hint("check that the upstream is reachable, then POST /catalog/refresh on the admin port"),
        ))?;
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
            return Err(declined(
                format!("ASK cannot answer: {why}"),
                "ask an administrator for a role whose policy lists the tables you need",
            ));
        }
    }
    Ok(view)
}

/// Answers one question: the SQL to run in its place, or the error to return. The stages:
/// link and plan (deterministic, cached) → compile → guard; or, when the planner declines
/// (or `llm.mode = always`), the model stage (`llm`), which checks its answer as strictly.
pub async fn answer(mut asker: Asker<'_>, req: &AskRequest) -> Answer {
    if let Err(a) = admissible(&req.question) {
        return a;
    }
    if is_reset(&req.question) {
        return Answer::Forget {
            sql: "SELECT 'ASK forgot the conversation' AS ask_reset".into(),
        };
    }
    let view = match view_of(&asker).await {
        Ok(v) => v,
        Err(a) => return a,
    };
    let policy_version = asker.guard.and_then(|g| g.policies().version).map(|v| v.0);
    let model = asker.model;
    if let Some(a) = follow_up(&mut asker, &view, req).await {
        return a;
    }
    // "now total revenue by region in 2023" is the question after "now".
    let own = followup::question_part(&req.question);
    let own = if own.trim().is_empty() {
        req.question.as_str()
    } else {
        own
    };
    let deterministic = || {
        let key = cache::Key::new(asker.database, &view, policy_version, asker.principal, own);
        asker
            .plans
            .get_or_plan(key, || cache::plan_and_compile(&view, own))
    };
    let made = match model {
        Some(m) if m.always() => None,
        _ => Some(deterministic()),
    };
    let declined_by_planner = match made.as_ref().map(|m| m.as_ref()) {
        Some(Ok(m)) => return deterministic_answer(&mut asker, &view, req, m).await,
        Some(Err(d)) => Some(d.clone()),
        None => None,
    };
    let Some(model) = model else {
        let d = declined_by_planner.unwrap_or_else(|| planner::Declined {
            message: "ASK has no planner for this question".into(),
            hint: "set llm.url".into(),
        });
        return declined(d.message, d.hint);
    };
    match model_answer(&mut asker, model, &view, req, policy_version).await {
        Ok(a) => a,
        Err(e) => match declined_by_planner {
            Some(d) => Answer::Refuse(
                e.with_detail(format!("Querent's own planner declined too: {}", d.message)),
            ),
            // `always`: the deterministic planner is the fallback when the model fails.
            None => match deterministic().as_ref() {
                Ok(m) => deterministic_answer(&mut asker, &view, req, m).await,
                Err(_) => Answer::Refuse(e),
            },
        },
    }
}

/// A follow-up of the session's previous plan ("now by month"), refined without a model:
/// `None` when the question is not one.
async fn follow_up(asker: &mut Asker<'_>, view: &Semantic, req: &AskRequest) -> Option<Answer> {
    let prev = asker.previous?;
    let plan = prev.plan.as_ref()?;
    if prev.version != view.catalog.version.0 || !followup::looks_like_follow_up(&req.question) {
        return None;
    }
    let previous = followup::Previous {
        question: prev.question.clone(),
        plan: plan.clone(),
    };
    let followup::FollowUp::Refined { plan, said } =
        followup::refine(view, &previous, &req.question)
    else {
        return None;
    };
    let sql = match compile::compile(view, &plan) {
        Ok(s) => s,
        Err(_) => return None,
    };
    let guarded = match guarded(asker, &sql).await {
        Ok(g) => g,
        Err(e) => return Some(Answer::Refuse(e)),
    };
    let shown = shown(asker.guard, &guarded);
    let summary = explain::summary(&view.catalog, &plan);
    let about = Box::new(About {
        planner: Planner::FollowUp,
        model: None,
        plan: Some(plan.clone()),
        sql: sql.clone(),
        version: view.catalog.version.0,
        cost: (0, 0, 0),
    });
    let line = format!("follow-up of \"{}\": {said}", prev.question);
    if req.explain {
        return Some(Answer::Run {
            sql: explain::follow_up_rows_sql(view, &req.question, &line, &plan, &sql, &shown),
            notices: Vec::new(),
            about,
        });
    }
    Some(Answer::Run {
        notices: vec![
            format!("ASK: {line}"),
            format!("ASK: {summary}"),
            format!("ASK SQL: {shown}"),
        ],
        sql: guarded,
        about,
    })
}

/// `sql` after the session's guard (unchanged for unguarded sessions).
async fn guarded(asker: &mut Asker<'_>, sql: &str) -> Result<String, PgError> {
    match (asker.session.as_deref_mut(), asker.guard) {
        (Some(session), Some(guard)) => guard.check(session, sql).await.into_sql(sql),
        _ => Ok(sql.to_string()),
    }
}

/// The three verified examples (pinned in annotations, or promoted from history) most like
/// `question` that the asking role could run itself: every table in its catalog view, and for a
/// guarded session, SQL its guard does not refuse (so a denied column never reaches its prompt).
async fn examples(asker: &mut Asker<'_>, view: &Semantic, question: &str) -> Vec<(String, String)> {
    let Some(loaded) = asker.catalog.current(asker.database) else {
        return Vec::new();
    };
    let all = crate::history::examples_for(&loaded, asker.history).await;
    let session = std::cell::RefCell::new(asker.session.as_deref_mut());
    let readable = |sql: &str| {
        let in_view = crate::history::tables_read(sql)
            .is_some_and(|tables| tables.iter().all(|t| view.catalog.find_table(t).is_some()));
        in_view
            && match session.borrow_mut().as_deref_mut() {
                Some(s) => !matches!(s.check(sql), crate::guard::Decision::Deny(_)),
                None => true,
            }
    };
    crate::history::similar(&all, question, 3, readable)
        .into_iter()
        .map(|e| (e.question.clone(), e.sql.clone()))
        .collect()
}

/// What a client is shown never carries the hash-mask key.
fn shown(guard: Option<&Guard>, sql: &str) -> String {
    match guard {
        Some(g) => g.redact(sql),
        None => sql.to_string(),
    }
}

/// The guard stage for a deterministic plan, then the notices or `EXPLAIN ASK` rows.
async fn deterministic_answer(
    asker: &mut Asker<'_>,
    view: &Semantic,
    req: &AskRequest,
    m: &cache::Made,
) -> Answer {
    let guarded = match guarded(asker, &m.sql).await {
        Ok(g) => g,
        Err(e) => return Answer::Refuse(e),
    };
    let shown = shown(asker.guard, &guarded);
    let about = Box::new(About {
        planner: Planner::Deterministic,
        model: None,
        plan: Some(m.planned.plan.clone()),
        sql: m.sql.clone(),
        version: view.catalog.version.0,
        cost: (0, 0, 0),
    });
    if req.explain {
        return Answer::Run {
            sql: explain::rows_sql(view, &req.question, &m.planned, &m.sql, &shown),
            notices: Vec::new(),
            about,
        };
    }
    let summary = explain::summary(&view.catalog, &m.planned.plan);
    Answer::Run {
        notices: vec![format!("ASK: {summary}"), format!("ASK SQL: {shown}")],
        sql: guarded,
        about,
    }
}

/// The model stage, then the notices or `EXPLAIN ASK` rows.
async fn model_answer(
    asker: &mut Asker<'_>,
    model: &llm::ModelAgent,
    view: &Semantic,
    req: &AskRequest,
    policy_version: Option<u64>,
) -> Result<Answer, PgError> {
    let examples = examples(&mut *asker, view, &req.question).await;
    let guard = match (asker.guard, asker.session.as_deref_mut()) {
        (Some(g), Some(s)) => Some((g, s)),
        _ => None,
    };
    let checked = model
        .answer(llm::Inputs {
            view,
            database: asker.database,
            question: &req.question,
            spender: &asker.principal.user,
            kind: cache::kind(asker.principal),
            policy_version,
            guard,
            examples,
            previous: asker
                .previous
                .filter(|_| followup::looks_like_follow_up(&req.question))
                .map(|p| (p.question.clone(), p.sql.clone())),
        })
        .await?;
    let shown = shown(asker.guard, &checked.guarded);
    let made = &checked.made;
    let about = Box::new(About {
        planner: Planner::Model,
        model: Some(model.model().to_string()),
        plan: made.plan.clone(),
        sql: made.sql.clone(),
        version: view.catalog.version.0,
        cost: if made.cached {
            (0, 0, 0)
        } else {
            (made.prompt_tokens, made.completion_tokens, made.repairs)
        },
    });
    if req.explain {
        return Ok(Answer::Run {
            sql: explain::model_rows_sql(view, &req.question, model.model(), made, &shown),
            notices: Vec::new(),
            about,
        });
    }
    let mut notices = vec![format!("ASK: {}", explain::model_line(model.model(), made))];
    if let Some(plan) = &made.plan {
        notices.push(format!("ASK: {}", explain::summary(&view.catalog, plan)));
    }
    notices.push(format!("ASK SQL: {shown}"));
    Ok(Answer::Run {
        sql: checked.guarded,
        notices,
        about,
    })
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
