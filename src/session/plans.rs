//! A guarded session's plan cache: statements run as named prepared statements upstream.
//!
//! Extended protocol: a client's unnamed Parse (the first message of its batch) of a query is
//! sent as a Parse of a named statement the first time; afterwards it is not sent at all, a
//! ParseComplete is answered in its place, and the Bind and Describe of the unnamed statement
//! name the prepared one, so PostgreSQL parses and plans the guard's SQL once.
//!
//! Simple protocol:
//! when the guard gives a statement's prepared form (`guard::params`), the session sends
//! `Parse` (the first time the shape and parameter types are seen, as a named statement
//! `querent_p<N>`), then `Bind` with the literals as text parameters, `Describe`, `Execute`
//! and `Sync` instead of the `Query`. PostgreSQL answers as for the query plus a
//! ParseComplete and a BindComplete, which [`super::replies::Replies`] drops, so the client
//! sees exactly a simple query's reply. A statement is used again only once its ParseComplete
//! arrived (a Parse refused upstream, say in an aborted transaction, is forgotten and tried
//! again later). The client may not use statement names starting with `querent_`, and
//! `DEALLOCATE ALL` forgets every statement.

use super::intercept::message;
use crate::guard::params::PlanForm;
use bytes::{BufMut, BytesMut};
use std::collections::HashMap;

/// Prefix of the statement names the plan cache uses upstream.
pub const PREFIX: &str = "querent_p";
/// Most statements one session prepares.
const MAX_STATEMENTS: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Parse sent, its answer not seen yet.
    Pending,
    /// Prepared upstream.
    Ready,
}

/// Statement shape (parameterized SQL and parameter types) → upstream statement.
#[derive(Debug, Default)]
pub struct PlanCache {
    statements: HashMap<(String, Vec<u32>), (String, State)>,
    next: u64,
    /// The upstream statement the client's unnamed statement is, when the plan cache named it.
    pub unnamed: Option<String>,
}

/// What to do with a client's unnamed Parse.
pub enum Unnamed {
    /// Prepared already: do not send the Parse, answer its ParseComplete, use this name.
    Ready(String),
    /// Send it as a Parse of this named statement (its ParseComplete confirms it).
    Prepare(String),
    /// Send it as it is.
    Inline,
}

/// What to do with one simple-protocol statement.
pub enum Plan {
    /// Send the statement as it is (no prepared form, or one is being prepared).
    Inline,
    /// These extended-protocol messages replace the Query; `prepare` names the statement
    /// whose ParseComplete confirms it, when a Parse is among them.
    Extended {
        /// The messages.
        bytes: BytesMut,
        /// The statement prepared by these messages, if any.
        prepare: Option<String>,
    },
}

fn cstr(out: &mut BytesMut, s: &str) {
    out.put_slice(s.as_bytes());
    out.put_u8(0);
}

impl PlanCache {
    /// The messages for running `form` prepared.
    pub fn plan(&mut self, form: &PlanForm) -> Plan {
        let key = (form.sql.clone(), form.types.clone());
        let (name, prepare) = match self.statements.get(&key) {
            Some((name, State::Ready)) => (name.clone(), false),
            Some((_, State::Pending)) => return Plan::Inline,
            None if self.statements.len() >= MAX_STATEMENTS || form.sql.contains('\0') => {
                return Plan::Inline
            }
            None => {
                self.next += 1;
                let name = format!("{PREFIX}{}", self.next);
                self.statements.insert(key, (name.clone(), State::Pending));
                (name, true)
            }
        };
        let mut out = BytesMut::with_capacity(form.sql.len() + 64);
        if prepare {
            let mut body = BytesMut::new();
            cstr(&mut body, &name);
            cstr(&mut body, &form.sql);
            body.put_i16(form.types.len() as i16);
            for t in &form.types {
                body.put_u32(*t);
            }
            message(&mut out, b'P', &[&body]);
        }
        let mut bind = BytesMut::new();
        cstr(&mut bind, "");
        cstr(&mut bind, &name);
        bind.put_i16(0); // every parameter in text format
        bind.put_i16(form.values.len() as i16);
        for v in &form.values {
            bind.put_i32(v.len() as i32);
            bind.put_slice(v.as_bytes());
        }
        bind.put_i16(0); // every result column in text format, as a simple query
        message(&mut out, b'B', &[&bind]);
        message(&mut out, b'D', &[b"P\0"]);
        message(&mut out, b'E', &[b"\0", &0i32.to_be_bytes()]);
        message(&mut out, b'S', &[]);
        Plan::Extended {
            bytes: out,
            prepare: prepare.then_some(name),
        }
    }

    /// The upstream statement for a client's unnamed Parse of `sql` (the guard's text) with
    /// parameter types `types`; remembers it as what the unnamed statement is.
    pub fn unnamed(&mut self, sql: &str, types: Vec<u32>) -> Unnamed {
        let key = (sql.to_string(), types);
        let found = match self.statements.get(&key) {
            Some((name, State::Ready)) => Unnamed::Ready(name.clone()),
            Some((_, State::Pending)) => Unnamed::Inline,
            None if self.statements.len() >= MAX_STATEMENTS => Unnamed::Inline,
            None => {
                self.next += 1;
                let name = format!("{PREFIX}{}", self.next);
                self.statements.insert(key, (name.clone(), State::Pending));
                Unnamed::Prepare(name)
            }
        };
        self.unnamed = match &found {
            Unnamed::Ready(n) | Unnamed::Prepare(n) => Some(n.clone()),
            Unnamed::Inline => None,
        };
        found
    }

    /// Records the upstream's answer to the Parse of statement `name`.
    pub fn resolved(&mut self, name: &str, prepared: bool) {
        if prepared {
            if let Some(entry) = self.statements.values_mut().find(|(n, _)| n == name) {
                entry.1 = State::Ready;
            }
        } else {
            self.statements.retain(|_, (n, _)| n != name);
        }
    }

    /// Forgets every statement (the client ran `DEALLOCATE ALL`).
    pub fn clear(&mut self) {
        self.statements.clear();
        self.unnamed = None;
    }
}

/// The parameter types of a Parse message's tail (after the statement text).
pub fn parse_types(tail: &[u8]) -> Option<Vec<u32>> {
    let n = i16::from_be_bytes(tail.get(..2)?.try_into().ok()?);
    let mut types = Vec::with_capacity(n.max(0) as usize);
    for i in 0..n.max(0) as usize {
        let at = 2 + 4 * i;
        types.push(u32::from_be_bytes(tail.get(at..at + 4)?.try_into().ok()?));
    }
    Some(types)
}

/// A Bind whose statement (the second name in `body`) is the unnamed one, naming `stmt`.
pub fn bind_to(body: &[u8], stmt: &str, out: &mut BytesMut) -> bool {
    let Some(portal_end) = body.iter().position(|&b| b == 0) else {
        return false;
    };
    if body.get(portal_end + 1) != Some(&0) {
        return false; // a named statement
    }
    let mut b = BytesMut::with_capacity(body.len() + stmt.len());
    b.put_slice(&body[..=portal_end]);
    cstr(&mut b, stmt);
    b.put_slice(&body[portal_end + 2..]);
    message(out, b'B', &[&b]);
    true
}

/// Whether a statement name the client uses is one the plan cache may use.
pub fn reserved(name: &str) -> bool {
    name.to_ascii_lowercase().starts_with("querent_")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(v: &str) -> PlanForm {
        PlanForm {
            sql: "SELECT a FROM t WHERE id = $1".into(),
            types: vec![23],
            values: vec![v.into()],
        }
    }

    fn tags(b: &[u8]) -> Vec<u8> {
        crate::protocol::frame::messages(b).map(|m| m[0]).collect()
    }

    #[test]
    fn prepared_once_then_bound() {
        let mut c = PlanCache::default();
        let Plan::Extended { bytes, prepare } = c.plan(&form("1")) else {
            panic!("a new shape is prepared")
        };
        assert_eq!(tags(&bytes), b"PBDES");
        let name = prepare.unwrap();
        assert!(
            matches!(c.plan(&form("2")), Plan::Inline),
            "pending: inline"
        );
        c.resolved(&name, true);
        let Plan::Extended { bytes, prepare } = c.plan(&form("3")) else {
            panic!("ready")
        };
        assert_eq!(tags(&bytes), b"BDES");
        assert!(prepare.is_none());
        c.clear();
        assert!(matches!(
            c.plan(&form("4")),
            Plan::Extended {
                prepare: Some(_),
                ..
            }
        ));
    }

    #[test]
    fn a_refused_parse_is_tried_again() {
        let mut c = PlanCache::default();
        let Plan::Extended { prepare, .. } = c.plan(&form("1")) else {
            panic!()
        };
        c.resolved(&prepare.unwrap(), false);
        assert!(matches!(
            c.plan(&form("1")),
            Plan::Extended {
                prepare: Some(_),
                ..
            }
        ));
        assert!(reserved("Querent_p1") && !reserved("q1"));
    }

    #[test]
    fn unnamed_statements_are_named_then_reused() {
        let mut c = PlanCache::default();
        let Unnamed::Prepare(n) = c.unnamed("SELECT $1", vec![23]) else {
            panic!()
        };
        assert_eq!(c.unnamed.as_deref(), Some(n.as_str()));
        assert!(matches!(c.unnamed("SELECT $1", vec![23]), Unnamed::Inline));
        assert!(c.unnamed.is_none());
        c.resolved(&n, true);
        assert!(matches!(c.unnamed("SELECT $1", vec![23]), Unnamed::Ready(m) if m == n));
        assert!(
            matches!(c.unnamed("SELECT $1", vec![25]), Unnamed::Prepare(_)),
            "types count"
        );
        assert_eq!(
            parse_types(&[0, 2, 0, 0, 0, 23, 0, 0, 0, 0]),
            Some(vec![23, 0])
        );
        assert_eq!(parse_types(&[0, 2, 0, 0]), None);
        let bind = [b"p\0\0".as_slice(), &[0, 0, 0, 0, 0, 0]].concat();
        let mut out = BytesMut::new();
        assert!(bind_to(&bind, "querent_p1", &mut out));
        assert_eq!(
            &out[5..],
            [b"p\0querent_p1\0".as_slice(), &[0, 0, 0, 0, 0, 0]].concat()
        );
        assert!(!bind_to(b"p\0s1\0\0\0", "x", &mut BytesMut::new()));
    }
}
