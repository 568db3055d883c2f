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

/// A guarded session's interception state.
pub struct Interceptor {
    /// The session's guard.
    pub guard: SessionGuard,
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
    /// Wraps a session guard.
    pub fn new(guard: SessionGuard) -> Self {
        Interceptor {
            guard,
            subs: HashMap::new(),
            carry: BytesMut::new(),
            next: 0,
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
                let sql = match guard.check(&mut self.guard, sql).await {
                    Decision::Pass => return Outcome::Same,
                    Decision::Rewrite(s) => s,
                    Decision::Deny(e) => self.refuse(&e),
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
                let new_sql = match guard.check(&mut self.guard, sql).await {
                    Decision::Pass => return Outcome::Same,
                    Decision::Rewrite(s) => s,
                    Decision::Deny(e) => self.refuse(&e),
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
