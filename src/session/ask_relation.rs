//! `ask('...')`, `ask_insights('...')` and `ask_followups('...')` in a client's statement:
//! each call's question is answered ([`crate::ask::answer`], with the session's guard, so a
//! question the role may not ask is refused as `ASK` refuses it), the call is replaced by a
//! derived table ([`crate::ask::relation::splice`]), and the statement is sent as the client's
//! own message with the new text. A guarded session's guard then checks the whole statement
//! like typed SQL (row filters and masks apply to the answer's tables there, once).

use super::ask::Ctx;
use super::intercept::cstr;
use crate::ask::relation::{self, Call, Func};
use crate::ask::{Answer, AskRequest};
use crate::error::PgError;

/// What a statement with calls becomes.
pub struct Spliced {
    /// The statement's new text.
    pub sql: String,
    /// NOTICEs for the client (each call's summary and SQL).
    pub notices: Vec<String>,
    /// History entries of the questions.
    pub entries: Vec<crate::history::Entry>,
}

/// The message `msg` (Query or Parse) with `sql` as its text; a Parse keeps its name and its
/// parameter types (the statement's own `$n` still bind).
pub fn with_text(msg: &[u8], sql: &str, out: &mut bytes::BytesMut) {
    let body = &msg[5..];
    if msg[0] == b'P' {
        if let Some((name, rest)) = cstr(body) {
            let tail = cstr(rest).map_or(&[][..], |(_, t)| t);
            super::intercept::message(
                out,
                b'P',
                &[name.as_bytes(), b"\0", sql.as_bytes(), b"\0", tail],
            );
            return;
        }
    }
    super::intercept::message(out, b'Q', &[sql.as_bytes(), b"\0"]);
}

/// Answers the calls in `sql`. `Ok(None)` when the statement holds none after all (the byte
/// scan matched something else) or does not parse (the upstream or guard says why).
pub async fn splice(ctx: &mut Ctx<'_>, msg: &[u8]) -> Result<Option<Spliced>, PgError> {
    let Some(sql) = super::trail::sql_of(msg) else {
        return Ok(None);
    };
    let Ok(stmts) = crate::guard::depth::parse(sql) else {
        return Ok(None);
    };
    let calls = relation::calls(&stmts)?;
    if calls.is_empty() {
        return Ok(None);
    }
    let mut with = Vec::with_capacity(calls.len());
    let mut notices = Vec::new();
    let mut entries = Vec::new();
    for call in calls {
        let (query, mut said) = one(ctx, &call, &mut entries).await?;
        notices.append(&mut said);
        with.push((call.func, query));
    }
    Ok(Some(Spliced {
        sql: relation::splice(stmts, with)?,
        notices,
        entries,
    }))
}

/// The derived table's query of one call, and its NOTICEs.
async fn one(
    ctx: &mut Ctx<'_>,
    call: &Call,
    entries: &mut Vec<crate::history::Entry>,
) -> Result<(sqlparser::ast::Query, Vec<String>), PgError> {
    let shared = ctx.shared;
    let req = AskRequest {
        question: call.question.clone(),
        explain: false,
    };
    if crate::ask::is_reset(&req.question) {
        return Err(PgError::error(
            "22023",
            format!("{}('RESET') is not a question", call.func.name()),
        )
        .with_hint("ASK RESET forgets a conversation; ask() answers one question on its own"));
    }
    let session = ctx.intercept.as_deref_mut().map(|ic| &mut ic.guard);
    let asker = shared.asker(ctx.database, ctx.principal, session, None);
    let started = std::time::Instant::now();
    let answer = tokio::select! {
        a = Box::pin(crate::ask::answer(asker, &req)) => a,
        () = ctx.cancel.cancelled() => Answer::Refuse(super::ask::cancelled()),
    };
    if let Some(e) = super::ask::history_entry(ctx.database, ctx.principal, &req, &answer, started)
    {
        entries.push(e);
    }
    let (sql, notices, about) = match answer {
        Answer::Run {
            sql,
            notices,
            about,
        } => (sql, notices, about),
        Answer::Refuse(e) => return Err(e),
        Answer::Forget { .. } => {
            return Err(PgError::error("XX000", "ask(): unexpected reset")
                .with_hint("report this to the operator"))
        }
    };
    let query = match call.func {
        Func::Ask => relation::query_of(&about.sql)?,
        Func::Insights => {
            let rows = super::ask_extras::insight_rows(ctx, &req.question, &sql, &about).await?;
            relation::query_of(&rows)?
        }
        Func::Followups => {
            let rows = super::ask_extras::followup_rows(ctx, &about).await?;
            relation::query_of(&rows)?
        }
    };
    Ok((query, notices))
}
