//! The audit trail of one session: statements sent and not yet answered, finished into audit
//! records (with rows and duration) when their ReadyForQuery arrives. Only used when an audit
//! sink is configured.

use super::intercept::Note;
use crate::audit::{AuditPath, AuditRecord, Auditor, Decision};
use std::collections::VecDeque;
use std::time::{Instant, SystemTime};

/// Who and where, the same for every record of a session.
pub struct Who {
    /// Login name.
    pub user: String,
    /// Roles.
    pub roles: Vec<String>,
    /// Client address.
    pub client_addr: String,
    /// Database.
    pub database: String,
}

/// Pending statements of a session.
#[derive(Default)]
pub struct Trail {
    pending: VecDeque<(Note, AuditPath, Instant, SystemTime)>,
    rows: Option<u64>,
}

/// A note for SQL relayed without a guard decision.
pub fn passthrough(sql: &str) -> Note {
    Note {
        sql: sql.to_string(),
        decision: Decision::Allow,
        rewritten: None,
        reason: None,
        sqlstate: None,
        planner: None,
        model: None,
    }
}

/// The SQL of a Query or Parse message (`msg` includes tag and length).
pub fn sql_of(msg: &[u8]) -> Option<&str> {
    let body = &msg[5..];
    let body = match msg[0] {
        b'Q' => body,
        b'P' => &body[body.iter().position(|&b| b == 0)? + 1..],
        _ => return None,
    };
    std::str::from_utf8(&body[..body.iter().position(|&b| b == 0)?]).ok()
}

impl Trail {
    /// A statement was sent.
    pub fn push(&mut self, note: Note, path: AuditPath) {
        self.pending
            .push_back((note, path, Instant::now(), SystemTime::now()));
    }

    /// A CommandComplete reported rows.
    pub fn rows(&mut self, rows: u64) {
        self.rows = Some(rows);
    }

    /// A ReadyForQuery arrived: every pending statement is finished and recorded.
    pub fn finish(&mut self, who: &Who, auditor: &Auditor) {
        let rows = self.rows.take();
        let n = self.pending.len();
        for (i, (note, path, started, time)) in self.pending.drain(..).enumerate() {
            auditor.record(AuditRecord {
                time,
                user: who.user.clone(),
                roles: who.roles.clone(),
                client_addr: who.client_addr.clone(),
                database: who.database.clone(),
                path,
                original_sql: note.sql,
                rewritten_sql: note.rewritten,
                decision: note.decision,
                reason: note.reason,
                sqlstate: note.sqlstate,
                rows: if i + 1 == n { rows } else { None },
                duration_ms: started.elapsed().as_secs_f64() * 1000.0,
                planner: note.planner.map(str::to_string),
                model: note.model,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_of_query_and_parse() {
        assert_eq!(sql_of(b"Q\0\0\0\x0dSELECT 1\0"), Some("SELECT 1"));
        assert_eq!(sql_of(b"P\0\0\0\x10s1\0SELECT 2\0\0\0"), Some("SELECT 2"));
        assert_eq!(sql_of(b"S\0\0\0\x04"), None);
    }
}
