//! The classifier on the relay path: for a guarded session, every Query and Parse goes through
//! the guard; FunctionCall (which names a function by OID, around any SQL check) is refused.
//!
//! A refused message is not answered by the proxy directly: it is replaced by a statement that
//! fails upstream (`SELECT querent_refused_N`), so the upstream aborts a transaction and skips
//! an extended batch until Sync exactly as it would for any error; the upstream's error for
//! that marker is then swapped for Querent's own ErrorResponse on the way back.

use crate::error::PgError;
use crate::guard::{Decision, Guard, SessionGuard};
use crate::protocol::backend;
use crate::protocol::frame::peek_header;
use bytes::{BufMut, BytesMut};
use std::collections::HashMap;

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
}

/// A guarded session's interception state.
pub struct Interceptor {
    /// The session's guard.
    pub guard: SessionGuard,
    /// The decision on the last Query or Parse (taken by the relay for the audit log); only
    /// noted when `auditing`, so the hot path copies no SQL for nothing.
    pub last: Option<Note>,
    auditing: bool,
    subs: HashMap<u64, BytesMut>,
    carry: BytesMut,
    next: u64,
}

fn cstr(b: &[u8]) -> Option<(&str, &[u8])> {
    let end = b.iter().position(|&c| c == 0)?;
    Some((std::str::from_utf8(&b[..end]).ok()?, &b[end + 1..]))
}

fn message(out: &mut BytesMut, tag: u8, body: &[&[u8]]) {
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
    /// Wraps a session guard; `auditing` = keep a [`Note`] of each decision.
    pub fn new(guard: SessionGuard, auditing: bool) -> Self {
        Interceptor {
            guard,
            last: None,
            auditing,
            subs: HashMap::new(),
            carry: BytesMut::new(),
            next: 0,
        }
    }

    /// Decides on one SQL text and notes it; `None` = send the message as it is.
    async fn decide(&mut self, guard: &Guard, sql: &str) -> Option<String> {
        use crate::audit::Decision as D;
        let decision = guard.check(&mut self.guard, sql).await;
        if self.auditing {
            let (d, rewritten, reason, sqlstate) = match &decision {
                Decision::Pass => (D::Allow, None, None, None),
                Decision::Rewrite(s) => (D::Rewrite, Some(s.clone()), None, None),
                Decision::Deny(e) => (D::Deny, None, Some(e.message.clone()), Some(e.code.clone())),
            };
            self.last = Some(Note {
                sql: sql.to_string(),
                decision: d,
                rewritten,
                reason,
                sqlstate,
            });
        }
        match decision {
            Decision::Pass => None,
            Decision::Rewrite(s) => Some(s),
            Decision::Deny(e) => Some(self.refuse(&e)),
        }
    }

    fn refuse(&mut self, e: &PgError) -> String {
        self.next += 1;
        let mut err = BytesMut::new();
        backend::error_response(&mut err, e);
        self.subs.insert(self.next, err);
        format!("SELECT querent_refused_{}", self.next)
    }

    /// Checks one whole client message (`msg` includes tag and length); appends what to send
    /// upstream to `out` when it differs.
    pub async fn client_message(
        &mut self,
        guard: &Guard,
        msg: &[u8],
        out: &mut BytesMut,
    ) -> Outcome {
        let body = &msg[5..];
        match msg[0] {
            b'Q' => {
                let Some((sql, _)) = cstr(body) else {
                    let q = self.refuse(&PgError::error("22021", "query text is not valid UTF-8"));
                    message(out, b'Q', &[q.as_bytes(), b"\0"]);
                    return Outcome::Replaced;
                };
                let Some(sql) = self.decide(guard, sql).await else {
                    return Outcome::Same;
                };
                message(out, b'Q', &[sql.as_bytes(), b"\0"]);
                Outcome::Replaced
            }
            b'P' => {
                let parsed = cstr(body)
                    .and_then(|(name, rest)| cstr(rest).map(|(sql, tail)| (name, sql, tail)));
                let (name, sql, tail) = match parsed {
                    Some(p) => p,
                    None => {
                        let q = self.refuse(&PgError::error(
                            "22021",
                            "statement text is not valid UTF-8",
                        ));
                        message(
                            out,
                            b'P',
                            &[b"\0", q.as_bytes(), b"\0", &0i16.to_be_bytes()],
                        );
                        return Outcome::Replaced;
                    }
                };
                let Some(new_sql) = self.decide(guard, sql).await else {
                    return Outcome::Same;
                };
                message(
                    out,
                    b'P',
                    &[name.as_bytes(), b"\0", new_sql.as_bytes(), b"\0", tail],
                );
                Outcome::Replaced
            }
            b'F' => {
                let e = crate::guard::denied(
                    "the FunctionCall protocol message is not allowed for guarded roles",
                )
                .with_hint("call functions in SQL, where the guard can check them");
                let q = self.refuse(&e);
                message(out, b'Q', &[q.as_bytes(), b"\0"]);
                Outcome::Replaced
            }
            _ => Outcome::Same,
        }
    }

    /// Whether upstream bytes must be inspected (a refusal's error is on its way).
    pub fn substituting(&self) -> bool {
        !self.subs.is_empty() || !self.carry.is_empty()
    }

    /// Takes upstream bytes that start at a message boundary; appends whole messages to `out`,
    /// with each marker error replaced by Querent's own; keeps an incomplete tail.
    pub fn upstream(&mut self, data: &[u8], out: &mut BytesMut) {
        self.carry.extend_from_slice(data);
        loop {
            let total = match peek_header(&self.carry, usize::MAX) {
                Ok(Some(h)) if self.carry.len() >= h.total => h.total,
                _ => break,
            };
            let msg = self.carry.split_to(total);
            if msg[0] == b'E' {
                if let Some(id) = marker(&msg) {
                    if let Some(err) = self.subs.remove(&id) {
                        out.extend_from_slice(&err);
                        continue;
                    }
                }
            }
            out.extend_from_slice(&msg);
        }
    }
}

fn marker(msg: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(&msg[5..]).ok()?;
    let at = text.find("querent_refused_")? + "querent_refused_".len();
    let digits: String = text[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}
