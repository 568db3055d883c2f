//! Canonical values of startup settings, as the upstream itself spells them.
//!
//! PostgreSQL reports `TimeZone=utc` as `UTC`, `DateStyle=German` as `German, DMY` and
//! `standard_conforming_strings=true` as `on`, and refuses invalid values at login. Querent asks
//! the upstream once per (database, name, value): `set_config(name, value, true)` inside a
//! transaction that is rolled back returns the canonical value and leaves the connection as it
//! was. Answers are cached, so later logins with the same settings cost nothing.

use super::pool::Pool;
use super::{UpstreamConn, UpstreamError};
use crate::error::{sqlstate, PgError, Severity};
use crate::protocol::backend::parse_error_fields;
use crate::protocol::frame::read_message;
use crate::session::literal;
use bytes::BytesMut;
use postgres_protocol::message::frontend;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::io::AsyncWriteExt;

type Key = (String, String, String);

/// Cache of canonical values by (database, lower-cased name, requested value).
#[derive(Default)]
pub struct SettingsCache {
    map: Mutex<HashMap<Key, String>>,
}

const MAX_ENTRIES: usize = 4096;

impl SettingsCache {
    fn get(&self, key: &Key) -> Option<String> {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }

    fn put(&self, key: Key, value: String) {
        let mut m = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if m.len() >= MAX_ENTRIES {
            m.clear(); // bounded: a client cannot grow it without limit
        }
        m.insert(key, value);
    }
}

/// The canonical value of every setting, in order; an error (FATAL, the upstream's SQLSTATE)
/// when the upstream rejects one, as PostgreSQL does at login.
pub async fn resolve(
    pool: &Pool,
    db: &str,
    settings: &[(String, String)],
) -> Result<Vec<(String, String)>, PgError> {
    let key = |k: &str, v: &str| (db.to_string(), k.to_ascii_lowercase(), v.to_string());
    let missing: Vec<(String, String)> = settings
        .iter()
        .filter(|(k, v)| pool.settings_cache().get(&key(k, v)).is_none())
        .cloned()
        .collect();
    if !missing.is_empty() {
        let mut conn = pool.acquire(db).await.map_err(|e| upstream_down(&e))?;
        let answer = ask(&mut conn, &missing).await;
        match answer {
            Ok(values) => {
                pool.put_clean(conn);
                for ((k, v), canonical) in missing.iter().zip(values) {
                    pool.settings_cache().put(key(k, v), canonical);
                }
            }
            Err(e) => {
                if conn.tx_status == b'I' {
                    pool.put_clean(conn);
                }
                return Err(e);
            }
        }
    }
    Ok(settings
        .iter()
        .map(|(k, v)| {
            let canonical = pool
                .settings_cache()
                .get(&key(k, v))
                .unwrap_or_else(|| v.clone());
            (k.clone(), canonical)
        })
        .collect())
}

fn upstream_down(e: &UpstreamError) -> PgError {
    crate::metrics::METRICS.upstream_errors.inc();
    e.to_client()
}

/// `BEGIN; SELECT set_config(..., true), ...; ROLLBACK` as three pipelined queries, so the
/// ROLLBACK runs even when a value is refused.
async fn ask(
    conn: &mut UpstreamConn,
    settings: &[(String, String)],
) -> Result<Vec<String>, PgError> {
    let calls: Vec<String> = settings
        .iter()
        .map(|(k, v)| {
            format!(
                "pg_catalog.set_config({}, {}, true)",
                literal(k),
                literal(v)
            )
        })
        .collect();
    let lost = |e: String| {
        PgError::fatal(
            sqlstate::CONNECTION_FAILURE,
            format!("upstream failed while checking startup parameters: {e}"),
        )
    };
    let mut out = BytesMut::new();
    for sql in [
        "BEGIN".to_string(),
        format!("SELECT {}", calls.join(", ")),
        "ROLLBACK".to_string(),
    ] {
        frontend::query(&sql, &mut out).map_err(|e| lost(e.to_string()))?;
    }
    conn.stream
        .write_all(&out)
        .await
        .map_err(|e| lost(e.to_string()))?;
    let mut buf = BytesMut::with_capacity(1024);
    let (mut ready, mut values, mut error) = (0, None, None);
    while ready < 3 {
        let (tag, body) = read_message(&mut conn.stream, &mut buf, 1 << 20)
            .await
            .map_err(|e| lost(e.to_string()))?;
        match tag {
            b'D' => values = Some(data_row(&body).ok_or_else(|| lost("malformed DataRow".into()))?),
            b'E' => {
                let mut e = parse_error_fields(&body);
                e.severity = Severity::Fatal;
                error.get_or_insert(e.with_hint("a startup parameter (or -c option) was rejected by the upstream; fix it and reconnect"));
            }
            b'Z' => {
                ready += 1;
                conn.tx_status = body.first().copied().unwrap_or(b'I');
            }
            _ => {} // ParameterStatus of the local change and its rollback
        }
    }
    match (error, values) {
        (Some(e), _) => Err(e),
        (None, Some(v)) if v.len() == settings.len() => Ok(v),
        _ => Err(lost("unexpected reply to set_config".into())),
    }
}

/// Text values of a DataRow body.
fn data_row(body: &[u8]) -> Option<Vec<String>> {
    let n = i16::from_be_bytes(body.get(..2)?.try_into().ok()?);
    let mut at = 2;
    let mut out = Vec::with_capacity(n.max(0) as usize);
    for _ in 0..n {
        let len = i32::from_be_bytes(body.get(at..at + 4)?.try_into().ok()?);
        at += 4;
        if len < 0 {
            out.push(String::new());
            continue;
        }
        let end = at + len as usize;
        out.push(String::from_utf8_lossy(body.get(at..end)?).into_owned());
        at = end;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::data_row;

    #[test]
    fn data_rows() {
        let mut b = 2i16.to_be_bytes().to_vec();
        b.extend_from_slice(&3i32.to_be_bytes());
        b.extend_from_slice(b"UTC");
        b.extend_from_slice(&(-1i32).to_be_bytes());
        assert_eq!(
            data_row(&b).unwrap(),
            vec!["UTC".to_string(), String::new()]
        );
        assert!(data_row(&b[..5]).is_none());
    }
}
