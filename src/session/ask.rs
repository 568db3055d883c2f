//! ASK on the relay path: every session recognises a question in a Query or Parse and sends
//! the SQL [`crate::ask::answer`] returns in its place, so both protocols, transactions and
//! Describe behave as for typed SQL.
//!
//! A statement is a candidate only when its first non-blank bytes are `ask`, `explain`, `/*`
//! or `--` (any case); only candidates go to [`crate::ask::detect`], so ordinary SQL costs a
//! few byte compares, and a batch without a question is relayed as it is (unguarded sessions)
//! or only through the guard (guarded ones). A question is never given to the guard's
//! `check`: `answer` has run the guard on the SQL it returns. A refusal uses the guard's
//! marker substitution ([`super::replies`]); NOTICEs are placed before the statement's results.

use super::intercept::{message, Interceptor, Note, Outcome};
use super::replies::{Cycles, Replies, Spot};
use super::trail::{passthrough, sql_of, Trail};
use crate::ask::{Answer, AskRequest};
use crate::audit::{AuditPath, Decision};
use crate::auth::Principal;
use crate::error::PgError;
use crate::protocol::frame::messages;
use crate::server::Shared;
use bytes::BytesMut;

/// What a client message asks.
#[derive(Debug, PartialEq)]
pub enum Asking {
    /// `ASK '...'` and its comment forms.
    Question(AskRequest),
    /// A statement that may call `ask()`, `ask_insights()` or `ask_followups()`.
    Relation,
}

/// A question found in a client batch.
pub struct Found {
    /// Where its message starts in the batch.
    pub offset: usize,
    /// What it asks.
    pub what: Asking,
}

/// The error of a question cancelled while it was answered.
pub fn cancelled() -> PgError {
    PgError::error("57014", "canceling statement due to user request: ASK stopped").with_hint(
        "the question was cancelled while it was being answered (a language model may have been asked)",
    )
}

fn starts_with_ci(s: &[u8], word: &[u8]) -> bool {
    s.len() >= word.len() && s[..word.len()].eq_ignore_ascii_case(word)
}

/// Whether SQL text may hold a question: its first non-blank bytes are `ask`, `explain`, `/*`
/// or `--`, in any case.
#[inline]
pub fn candidate(sql: &[u8]) -> bool {
    let start = sql
        .iter()
        .position(|b| !b.is_ascii_whitespace() && *b != 0x0b)
        .unwrap_or(sql.len());
    let s = &sql[start..];
    match s.first() {
        Some(b'/') => s.starts_with(b"/*"),
        Some(b'-') => s.starts_with(b"--"),
        Some(b'a' | b'A') => starts_with_ci(s, b"ask"),
        Some(b'e' | b'E') => starts_with_ci(s, b"explain"),
        _ => false,
    }
}

/// What one whole client message (`msg` includes tag and length) asks, for Query and Parse
/// messages: a question, or a statement that may call `ask()` (see
/// [`crate::ask::relation::mentions`]).
pub fn question(msg: &[u8]) -> Option<Asking> {
    let body = msg.get(5..)?;
    let text = match msg[0] {
        b'Q' => body,
        b'P' => &body[body.iter().position(|&b| b == 0)? + 1..],
        _ => return None,
    };
    let text = &text[..text.iter().position(|&b| b == 0)?];
    if candidate(text) {
        if let Some(req) = crate::ask::detect(std::str::from_utf8(text).ok()?) {
            return Some(Asking::Question(req));
        }
    }
    crate::ask::relation::mentions(text).then_some(Asking::Relation)
}

/// What the batch rewrite needs from the session.
pub struct Ctx<'a> {
    /// The server.
    pub shared: &'a Shared,
    /// The session's database.
    pub database: &'a str,
    /// Who is connected.
    pub principal: &'a Principal,
    /// The guard's interception, for guarded sessions.
    pub intercept: Option<&'a mut Interceptor>,
    /// Refusal markers and NOTICEs.
    pub replies: &'a mut Replies,
    /// The client side's count of response cycles before the batch.
    pub cycles: Cycles,
    /// The audit trail, when auditing.
    pub trail: Option<&'a mut Trail>,
    /// The session's last answered question (ASK follow-ups refine it).
    pub conversation: &'a mut Option<Box<crate::ask::Asked>>,
    /// The session's cancel key: a CancelRequest ends a question still being answered.
    pub cancel: &'a crate::cancel::Registration,
}

/// The client messages in `batch` as they go upstream: questions answered, and for a guarded
/// session every other Query and Parse checked by the guard. `None` when nothing changed.
/// Notes every statement in the audit trail when auditing.
pub async fn rewrite(ctx: Ctx<'_>, batch: &[u8], found: Vec<Found>) -> Option<BytesMut> {
    let Ctx {
        shared,
        database,
        principal,
        mut intercept,
        replies,
        mut trail,
        mut cycles,
        conversation,
        cancel,
    } = ctx;
    let guard = shared.guard.as_ref();
    let unguarded_path = if guard.is_some() {
        AuditPath::Trusted
    } else {
        AuditPath::Passthrough
    };
    let guarded = intercept.is_some() && guard.is_some();
    if !guarded && found.is_empty() {
        if let Some(trail) = trail {
            for sql in messages(batch).filter_map(sql_of) {
                trail.push(passthrough(sql), unguarded_path);
            }
        }
        return None;
    }
    let mut out = BytesMut::with_capacity(batch.len() + 64);
    let mut changed = false;
    let mut found = found.into_iter().peekable();
    let mut offset = 0;
    for msg in messages(batch) {
        let at = offset;
        offset += msg.len();
        let spot = cycles.client(msg[0]);
        if let Some(ic) = intercept.as_deref_mut() {
            ic.observe(msg[0]);
        }
        // A statement calling ask() goes on with its calls replaced (to the guard, if any).
        let mut spliced: Option<BytesMut> = None;
        match found.next_if(|f| f.offset == at).map(|f| f.what) {
            Some(Asking::Question(req)) => {
                let ctx = Ctx {
                    shared,
                    database,
                    principal,
                    intercept: intercept.as_deref_mut(),
                    replies: &mut *replies,
                    cycles,
                    trail: trail.as_deref_mut(),
                    conversation: &mut *conversation,
                    cancel,
                };
                // Boxed, like the answer inside: a question's state (follow-ups, the catalog
                // view) is on the heap only while it is answered, not in every idle session.
                Box::pin(question_message(ctx, msg, spot, &req, &mut out)).await;
                changed = true;
                continue;
            }
            Some(Asking::Relation) => {
                let mut ctx = Ctx {
                    shared,
                    database,
                    principal,
                    intercept: intercept.as_deref_mut(),
                    replies: &mut *replies,
                    cycles,
                    trail: None,
                    conversation: &mut *conversation,
                    cancel,
                };
                match Box::pin(super::ask_relation::splice(&mut ctx, msg)).await {
                    Ok(None) => {}
                    Ok(Some(s)) => {
                        record(shared, s.entries);
                        replies.notify(spot, &s.notices);
                        let mut m = BytesMut::new();
                        super::ask_relation::with_text(msg, &s.sql, &mut m);
                        if intercept.is_none() {
                            if let Some(trail) = trail.as_deref_mut() {
                                trail.push(relation_note(guard, msg, &s.sql), AuditPath::Ask);
                            }
                        }
                        spliced = Some(m);
                    }
                    Err(e) => {
                        let note = refused(msg, spot, &e, replies, &mut out);
                        if let Some(trail) = trail.as_deref_mut() {
                            trail.push(note, AuditPath::Ask);
                        }
                        changed = true;
                        continue;
                    }
                }
            }
            None => {}
        }
        let msg: &[u8] = match &spliced {
            Some(m) => {
                changed = true;
                m
            }
            None => msg,
        };
        match (intercept.as_deref_mut(), guard) {
            (Some(ic), Some(guard)) => {
                match ic.client_message(guard, msg, &mut out, replies, spot).await {
                    Outcome::Same => out.extend_from_slice(msg),
                    Outcome::Replaced => changed = true,
                }
                if let (Some(trail), Some(note)) = (trail.as_deref_mut(), ic.last.take()) {
                    trail.push(note, AuditPath::Guarded);
                }
            }
            _ => {
                out.extend_from_slice(msg);
                if spliced.is_none() {
                    if let (Some(trail), Some(sql)) = (trail.as_deref_mut(), sql_of(msg)) {
                        trail.push(passthrough(sql), unguarded_path);
                    }
                }
            }
        }
    }
    changed.then_some(out)
}

/// Answers the question in `msg` and appends the message that replaces it to `out`.
async fn question_message(
    ctx: Ctx<'_>,
    msg: &[u8],
    spot: Spot,
    req: &AskRequest,
    out: &mut BytesMut,
) {
    let Ctx {
        shared,
        database,
        principal,
        mut intercept,
        replies,
        trail,
        conversation,
        cancel,
        ..
    } = ctx;
    let session = intercept.as_deref_mut().map(|ic| &mut ic.guard);
    let asker = shared.asker(database, principal, session, conversation.as_deref());
    let started = std::time::Instant::now();
    // Boxed: the answer's state (a model call, EXPLAIN) lives on the heap only while a
    // question is answered, not in every idle session's future.
    let answer = tokio::select! {
        a = Box::pin(crate::ask::answer(asker, req)) => a,
        () = cancel.cancelled() => Answer::Refuse(cancelled()),
    };
    if let (Some(h), false) = (shared.history.as_ref(), req.explain) {
        if let Some(e) = history_entry(database, principal, req, &answer, started) {
            h.record(e);
        }
    }
    match &answer {
        Answer::Run { about, .. } if !req.explain => {
            *conversation = Some(Box::new(crate::ask::Asked {
                question: req.question.clone(),
                plan: about.plan.clone(),
                sql: about.sql.clone(),
                version: about.version,
            }));
            if shared.config.ask.analysis != "off" {
                let session = intercept.map(|ic| &mut ic.guard);
                let next =
                    crate::api::run::followups(shared, database, principal, session, about).await;
                let context = crate::ask::analyse::context(&req.question, about);
                let finish =
                    super::ask_extras::after_rows(shared, principal.user.clone(), context, next);
                replies.tap(spot, shared.config.ask.insight_rows.max(1), finish);
            }
        }
        Answer::Forget { .. } => *conversation = None,
        _ => {}
    }
    let mut note = answered(msg, spot, req, answer, replies, out);
    // The audit log never holds the hash mask's key.
    if let (Some(g), Some(r)) = (shared.guard.as_ref(), note.rewritten.as_mut()) {
        *r = g.redact(r);
    }
    if let Some(trail) = trail {
        trail.push(note, AuditPath::Ask);
    }
}

/// Records history entries, when there is a history.
fn record(shared: &Shared, entries: Vec<crate::history::Entry>) {
    if let Some(h) = shared.history.as_ref() {
        for e in entries {
            h.record(e);
        }
    }
}

/// The audit note of a statement whose ask() calls were answered (unguarded sessions; a
/// guarded one's guard notes the statement it checks).
fn relation_note(guard: Option<&crate::guard::Guard>, msg: &[u8], sql: &str) -> Note {
    Note {
        sql: sql_of(msg).unwrap_or_default().to_string(),
        decision: Decision::Rewrite,
        rewritten: Some(guard.map_or_else(|| sql.to_string(), |g| g.redact(sql))),
        reason: None,
        sqlstate: None,
        planner: None,
        model: None,
    }
}

/// Appends `msg` replaced by a refusal marker (its error `e`) to `out`; returns the audit note.
fn refused(msg: &[u8], spot: Spot, e: &PgError, replies: &mut Replies, out: &mut BytesMut) -> Note {
    let marker = replies.refuse(spot, e);
    super::ask_relation::with_text(msg, &marker, out);
    Note {
        sql: sql_of(msg).unwrap_or_default().to_string(),
        decision: Decision::Deny,
        rewritten: None,
        reason: Some(e.message.clone()),
        sqlstate: Some(e.code.clone()),
        planner: None,
        model: None,
    }
}

/// The history entry of one answered, declined or refused question (never its rows, never the
/// SQL after the guard, which may hold row-filter values or the mask key).
pub(super) fn history_entry(
    database: &str,
    principal: &Principal,
    req: &AskRequest,
    answer: &Answer,
    started: std::time::Instant,
) -> Option<crate::history::Entry> {
    use crate::ask::Planner;
    use crate::history::{Entry, Outcome};
    let new = |planner, outcome| {
        Entry::new(
            database,
            principal.user.clone(),
            principal.roles.clone(),
            req.question.clone(),
            planner,
            outcome,
        )
    };
    let mut e = match answer {
        Answer::Forget { .. } => return None,
        Answer::Run { about, .. } => {
            let mut e = new(about.planner, Outcome::Answered);
            e.model = about.model.clone();
            e.plan = about
                .plan
                .as_ref()
                .and_then(|p| serde_json::to_value(p).ok());
            e.sql = Some(about.sql.clone());
            (e.prompt_tokens, e.completion_tokens, e.repairs) = about.cost;
            e
        }
        Answer::Refuse(err) => {
            let model = matches!(err.code.as_str(), "QA003" | "QA004" | "QA005");
            let outcome = match err.code.as_str() {
                "QA001" | "QA002" | "QA003" => Outcome::Declined,
                c if c.starts_with("42") || c == "25006" => Outcome::Refused,
                _ => Outcome::Failed,
            };
            let planner = if model {
                Planner::Model
            } else {
                Planner::Deterministic
            };
            let mut e = new(planner, outcome);
            e.sqlstate = Some(err.code.clone());
            e
        }
    };
    e.latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    Some(e)
}

/// Appends the message that replaces the question's `msg` to `out`: the answer's SQL, or a
/// refusal marker. Returns the audit note.
fn answered(
    msg: &[u8],
    spot: Spot,
    req: &AskRequest,
    answer: Answer,
    replies: &mut Replies,
    out: &mut BytesMut,
) -> Note {
    let mut note = Note {
        sql: req.question.clone(),
        decision: Decision::Rewrite,
        rewritten: None,
        reason: None,
        sqlstate: None,
        planner: None,
        model: None,
    };
    let refuse = |e: PgError, note: &mut Note, replies: &mut Replies| {
        note.decision = Decision::Deny;
        note.reason = Some(e.message.clone());
        note.sqlstate = Some(e.code.clone());
        replies.refuse(spot, &e)
    };
    let sql = match answer {
        Answer::Run { sql, .. } if sql.contains('\0') => {
            let e = PgError::error("XX000", "the SQL for this question contains a NUL byte")
                .with_hint("rephrase the question; report this to the operator");
            refuse(e, &mut note, replies)
        }
        Answer::Run {
            sql,
            notices,
            about,
        } => {
            note.planner = Some(about.planner.name());
            note.model = about.model;
            replies.notify(spot, &notices);
            note.rewritten = Some(sql.clone());
            sql
        }
        Answer::Refuse(e) => refuse(e, &mut note, replies),
        Answer::Forget { sql } => {
            replies.notify(spot, &["ASK: the conversation is forgotten".to_string()]);
            note.rewritten = Some(sql.clone());
            sql
        }
    };
    if msg[0] == b'P' {
        // The statement keeps its name; the new SQL has no parameters.
        let name = msg[5..].split(|&b| b == 0).next().unwrap_or_default();
        message(
            out,
            b'P',
            &[name, b"\0", sql.as_bytes(), b"\0", &0i16.to_be_bytes()],
        );
    } else {
        message(out, b'Q', &[sql.as_bytes(), b"\0"]);
    }
    note
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(sql: &str) -> Vec<u8> {
        let mut m = vec![b'Q'];
        m.extend_from_slice(&((sql.len() + 5) as u32).to_be_bytes());
        m.extend_from_slice(sql.as_bytes());
        m.push(0);
        m
    }

    /// A Parse declaring `types` parameter type OIDs.
    fn p_types(name: &str, sql: &str, types: &[u32]) -> Vec<u8> {
        let mut body = [name.as_bytes(), b"\0", sql.as_bytes(), b"\0"].concat();
        body.extend_from_slice(&(types.len() as i16).to_be_bytes());
        for t in types {
            body.extend_from_slice(&t.to_be_bytes());
        }
        let mut m = vec![b'P'];
        m.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
        m.extend(body);
        m
    }

    fn p(name: &str, sql: &str) -> Vec<u8> {
        p_types(name, sql, &[23])
    }

    #[test]
    fn candidates_are_cheap_to_rule_out() {
        for sql in [
            "ASK 'x'",
            "  ask x",
            "\n\tExplain ask 'x'",
            "/* ask: x */",
            "-- ask: x",
            "EXPLAIN SELECT 1",
            "/* c */ SELECT 1",
        ] {
            assert!(candidate(sql.as_bytes()), "{sql:?}");
        }
        for sql in [
            "SELECT 'ask'",
            "select 1",
            "as",
            "",
            "  ",
            "- 1",
            "/ 2",
            "e",
            "ANALYZE t",
        ] {
            assert!(!candidate(sql.as_bytes()), "{sql:?}");
        }
    }

    #[test]
    fn questions_in_query_and_parse() {
        let want = Some(Asking::Question(AskRequest {
            question: "top products".into(),
            explain: false,
        }));
        assert_eq!(question(&q("ASK 'top products'")), want);
        assert_eq!(question(&q("-- ask: top products\n")), want);
        assert_eq!(question(&p("s1", "/* ask: top products */")), want);
        assert_eq!(question(&p("", "ask top products;")), want);
        for sql in ["SELECT 'ask'", "EXPLAIN SELECT 1", "-- note\nSELECT 1"] {
            assert_eq!(question(&q(sql)), None);
            assert_eq!(question(&p("", sql)), None);
        }
        assert_eq!(question(b"S\0\0\0\x04"), None);
        assert_eq!(
            question(&q("ASK '\u{e9}'")),
            Some(Asking::Question(AskRequest {
                question: "\u{e9}".into(),
                explain: false
            }))
        );
        for sql in [
            "SELECT * FROM ask('x')",
            "select * from (select * from ASK_insights ('x')) t",
        ] {
            assert_eq!(question(&q(sql)), Some(Asking::Relation), "{sql}");
            assert_eq!(question(&p("s", sql)), Some(Asking::Relation), "{sql}");
        }
    }

    #[test]
    fn a_parse_keeps_its_name_and_drops_parameter_types() {
        let mut replies = Replies::default();
        let spot = replies.client(b'P');
        let msg = p("s7", "ASK 'x'");
        let req = AskRequest {
            question: "x".into(),
            explain: false,
        };
        let mut out = BytesMut::new();
        let run = Answer::Run {
            sql: "SELECT 1".into(),
            notices: vec!["n".into()],
            about: Box::new(crate::ask::About {
                planner: crate::ask::Planner::Model,
                model: Some("m".into()),
                plan: None,
                sql: "SELECT 1".into(),
                version: 0,
                cost: (0, 0, 0),
            }),
        };
        let note = answered(&msg, spot, &req, run, &mut replies, &mut out);
        assert_eq!(note.planner, Some("model"));
        assert_eq!(note.model.as_deref(), Some("m"));
        assert_eq!(&out[..], &p_types("s7", "SELECT 1", &[])[..]);
        assert_eq!(note.decision, Decision::Rewrite);
        assert_eq!(note.rewritten.as_deref(), Some("SELECT 1"));
        assert!(replies.active());

        let mut out = BytesMut::new();
        let refuse = Answer::Refuse(PgError::error("QA001", "no"));
        let note = answered(&q("ASK 'x'"), spot, &req, refuse, &mut replies, &mut out);
        assert_eq!(&out[..], &q("SELECT querent_refused_1")[..]);
        assert_eq!(note.decision, Decision::Deny);
        assert_eq!(note.sqlstate.as_deref(), Some("QA001"));
    }
}
