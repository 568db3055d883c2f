//! The classifier on the relay path: for a guarded session, every Query and Parse goes through
//! the guard (except a question, which `super::ask` answers with SQL the guard has already
//! checked); FunctionCall (which names a function by OID, around any SQL check) is refused.
//!
//! A refused message is not answered by the proxy directly: it is replaced by a statement that
//! fails upstream (`SELECT querent_refused_N`), so the upstream aborts a transaction and skips
//! an extended batch until Sync exactly as it would for any error; the upstream's error for
//! that marker is then swapped for Querent's own ErrorResponse on the way back
//! ([`super::replies::Replies`]).

use super::plans::{Plan, PlanCache, Unnamed};
use super::replies::{Replies, Spot};
use crate::error::PgError;
use crate::guard::params::PlanForm;
use crate::guard::{Decision, Guard, SessionGuard};
use bytes::{BufMut, BytesMut};

/// The guard's decision on the last Query or Parse, for the audit log.
#[derive(Debug, Clone)]
pub struct Note {
    /// The client's SQL.
    pub sql: String,
    /// What was decided.
    pub decision: crate::audit::Decision,
    /// The SQL sent instead, for a rewrite.
    pub rewritten: Option<String>,
    /// Why, for a refusal.
    pub reason: Option<String>,
    /// SQLSTATE of a refusal.
    pub sqlstate: Option<String>,
    /// For ASK: the planner that answered.
    pub planner: Option<&'static str>,
    /// For ASK: the language model that answered.
    pub model: Option<String>,
}

/// A guarded session's interception state.
pub struct Interceptor {
    /// The session's guard.
    pub guard: SessionGuard,
    /// The decision on the last Query or Parse (taken by the relay for the audit log); only
    /// noted when `auditing`, so the hot path copies no SQL for nothing.
    pub last: Option<Note>,
    auditing: bool,
    /// Simple queries run as prepared statements (`guard.plan_cache`); `None` when off.
    plans: Option<PlanCache>,
    /// Extended-protocol messages sent since the last Sync (a Query then is not converted).
    mid_batch: bool,
}

pub(super) fn cstr(b: &[u8]) -> Option<(&str, &[u8])> {
    let end = b.iter().position(|&c| c == 0)?;
    Some((std::str::from_utf8(&b[..end]).ok()?, &b[end + 1..]))
}

/// Appends one frontend message made of `body` parts.
pub(super) fn message(out: &mut BytesMut, tag: u8, body: &[&[u8]]) {
    out.put_u8(tag);
    out.put_u32((4 + body.iter().map(|b| b.len()).sum::<usize>()) as u32);
    for b in body {
        out.put_slice(b);
    }
}

/// What the relay forwards for one client message.
pub enum Outcome {
    /// The message as it is.
    Same,
    /// These bytes instead.
    Replaced,
}

impl Interceptor {
    /// Wraps a session guard; `auditing` = keep a [`Note`] of each decision; `plan_cache` =
    /// run simple queries with a prepared form as prepared statements.
    pub fn new(guard: SessionGuard, auditing: bool, plan_cache: bool) -> Self {
        Interceptor {
            guard,
            last: None,
            auditing,
            plans: plan_cache.then(PlanCache::default),
            mid_batch: false,
        }
    }

    /// Counts every client message of a batch, in order (questions included), so a Query in
    /// the middle of an extended-protocol batch is known.
    pub fn observe(&mut self, tag: u8) {
        match tag {
            b'P' | b'B' | b'D' | b'E' | b'C' | b'H' => self.mid_batch = true,
            b'S' => self.mid_batch = false,
            _ => {}
        }
    }

    /// Decides on one SQL text and notes it; `None` = send the message as it is. With the
    /// SQL to send, the statement's prepared form when it has one, and whether it is one
    /// query the guard let through (not a refusal marker).
    async fn decide(
        &mut self,
        guard: &Guard,
        sql: &str,
        replies: &mut Replies,
        at: Spot,
    ) -> (Option<String>, Option<PlanForm>, bool) {
        use crate::audit::Decision as D;
        let decision = guard.check(&mut self.guard, sql).await;
        if self.auditing {
            let (d, rewritten, reason, sqlstate) = match &decision {
                Decision::Pass => (D::Allow, None, None, None),
                // The audit log never holds the hash mask's key (it may be a table others read).
                Decision::Rewrite(s) => (D::Rewrite, Some(guard.redact(s)), None, None),
                Decision::Deny(e) => (D::Deny, None, Some(e.message.clone()), Some(e.code.clone())),
            };
            self.last = Some(Note {
                sql: sql.to_string(),
                decision: d,
                rewritten,
                reason,
                sqlstate,
                planner: None,
                model: None,
            });
        }
        match decision {
            Decision::Pass => (None, None, false),
            Decision::Rewrite(s) => {
                if let Some(plans) = self.plans.as_mut() {
                    // Our own printed form: `DEALLOCATE ALL` drops the plan cache's statements.
                    if s.split("; ")
                        .any(|st| st.starts_with("DEALLOCATE") && st.ends_with(" ALL"))
                    {
                        plans.clear();
                    }
                }
                let form = self.guard.take_plan_form();
                let query = self.guard.last_was_query();
                (Some(s), form, query)
            }
            Decision::Deny(e) => (Some(replies.refuse(at, &e)), None, false),
        }
    }

    /// Replaces an extended-protocol message that names a statement reserved for the plan
    /// cache by a refusal.
    fn refuse_reserved(
        &mut self,
        name: &str,
        out: &mut BytesMut,
        replies: &mut Replies,
        at: Spot,
    ) -> Option<Outcome> {
        if !super::plans::reserved(name) {
            return None;
        }
        let e = crate::guard::denied(format!(
            "prepared statement name \"{name}\" is reserved for Querent"
        ))
        .with_hint("choose a name that does not start with querent_");
        let q = replies.refuse(at, &e);
        message(
            out,
            b'P',
            &[b"\0", q.as_bytes(), b"\0", &0i16.to_be_bytes()],
        );
        Some(Outcome::Replaced)
    }

    /// Checks one whole client message (`msg` includes tag and length, `at` its place among
    /// the response cycles); appends what to send upstream to `out` when it differs (a refusal
    /// is registered in `replies`).
    pub async fn client_message(
        &mut self,
        guard: &Guard,
        msg: &[u8],
        out: &mut BytesMut,
        replies: &mut Replies,
        at: Spot,
    ) -> Outcome {
        let body = &msg[5..];
        if let Some(plans) = self.plans.as_mut() {
            for (name, prepared) in replies.take_resolved() {
                plans.resolved(&name, prepared);
            }
        }
        match msg[0] {
            b'Q' => {
                let Some((sql, _)) = cstr(body) else {
                    let q = replies.refuse(
                        at,
                        &PgError::error("22021", "query text is not valid UTF-8"),
                    );
                    message(out, b'Q', &[q.as_bytes(), b"\0"]);
                    return Outcome::Replaced;
                };
                let mid_batch = self.mid_batch;
                let (Some(sql), form, _) = self.decide(guard, sql, replies, at).await else {
                    return Outcome::Same;
                };
                if let (Some(form), Some(plans), false) = (form, self.plans.as_mut(), mid_batch) {
                    if let Plan::Extended { bytes, prepare } = plans.plan(&form) {
                        out.extend_from_slice(&bytes);
                        replies.converted(at, prepare);
                        return Outcome::Replaced;
                    }
                }
                message(out, b'Q', &[sql.as_bytes(), b"\0"]);
                Outcome::Replaced
            }
            b'P' => {
                let parsed = cstr(body)
                    .and_then(|(name, rest)| cstr(rest).map(|(sql, tail)| (name, sql, tail)));
                let (name, sql, tail) = match parsed {
                    Some(p) => p,
                    None => {
                        let q = replies.refuse(
                            at,
                            &PgError::error("22021", "statement text is not valid UTF-8"),
                        );
                        message(
                            out,
                            b'P',
                            &[b"\0", q.as_bytes(), b"\0", &0i16.to_be_bytes()],
                        );
                        return Outcome::Replaced;
                    }
                };
                if let Some(o) = self.refuse_reserved(name, out, replies, at) {
                    return o;
                }
                let unnamed = name.is_empty();
                if unnamed {
                    if let Some(plans) = self.plans.as_mut() {
                        plans.unnamed = None;
                    }
                }
                let (Some(new_sql), _, query) = self.decide(guard, sql, replies, at).await else {
                    return Outcome::Same;
                };
                let cacheable = unnamed && at.first() && query;
                let types = super::plans::parse_types(tail);
                if let (Some(plans), Some(types), true) = (self.plans.as_mut(), types, cacheable) {
                    match plans.unnamed(&new_sql, types) {
                        Unnamed::Ready(_) => {
                            replies.parse_complete(at);
                            return Outcome::Replaced;
                        }
                        Unnamed::Prepare(n) => {
                            let sql = new_sql.as_bytes();
                            message(out, b'P', &[n.as_bytes(), b"\0", sql, b"\0", tail]);
                            replies.confirm(at, n);
                            return Outcome::Replaced;
                        }
                        Unnamed::Inline => {}
                    }
                }
                message(
                    out,
                    b'P',
                    &[name.as_bytes(), b"\0", new_sql.as_bytes(), b"\0", tail],
                );
                Outcome::Replaced
            }
            b'B' => {
                let stmt = cstr(body).and_then(|(_, rest)| cstr(rest)).map(|(s, _)| s);
                if let Some(o) = stmt.and_then(|s| self.refuse_reserved(s, out, replies, at)) {
                    return o;
                }
                match self.plans.as_ref().and_then(|p| p.unnamed.as_deref()) {
                    Some(n) if super::plans::bind_to(body, n, out) => Outcome::Replaced,
                    _ => Outcome::Same,
                }
            }
            b'D' | b'C' if body.first() == Some(&b'S') => {
                let Some((stmt, _)) = cstr(&body[1..]) else {
                    return Outcome::Same;
                };
                if let Some(o) = self.refuse_reserved(stmt, out, replies, at) {
                    return o;
                }
                let plans = self.plans.as_mut().filter(|_| stmt.is_empty());
                let named = plans.and_then(|p| {
                    if msg[0] == b'C' {
                        p.unnamed = None; // the upstream's unnamed statement closes instead
                        None
                    } else {
                        p.unnamed.clone()
                    }
                });
                match named {
                    Some(n) => {
                        message(out, b'D', &[b"S", n.as_bytes(), b"\0"]);
                        Outcome::Replaced
                    }
                    None => Outcome::Same,
                }
            }
            b'F' => {
                let e = crate::guard::denied(
                    "the FunctionCall protocol message is not allowed for guarded roles",
                )
                .with_hint("call functions in SQL, where the guard can check them");
                let q = replies.refuse(at, &e);
                message(out, b'Q', &[q.as_bytes(), b"\0"]);
                Outcome::Replaced
            }
            _ => Outcome::Same,
        }
    }
}
