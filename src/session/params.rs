//! Startup parameters: which ones a client asked for, what the client is told at startup, and
//! the one statement that applies them to a pooled upstream connection when the session binds.

use crate::error::{sqlstate, PgError};
use crate::protocol::backend;
use crate::protocol::startup::parse_options;
use crate::upstream::UpstreamConn;
use bytes::BytesMut;
use tokio::io::AsyncWriteExt;

/// Parameters that describe the connection, not settings to apply.
const NOT_SETTINGS: [&str; 3] = ["user", "database", "options"];

/// Settings a client asked for at startup, in order, from its parameters and `options`.
pub fn requested_settings(params: &[(String, String)]) -> Result<Vec<(String, String)>, PgError> {
    let mut out = Vec::new();
    for (k, v) in params {
        if k == "replication" {
            return Err(PgError::fatal(
                sqlstate::FEATURE_NOT_SUPPORTED,
                "replication connections are not supported by Querent",
            )
            .with_hint("connect replication clients to PostgreSQL directly"));
        }
        if k == "options" {
            let opts = parse_options(v).map_err(|e| {
                PgError::fatal("22023", e)
                    .with_hint("write options as -c name=value, e.g. options='-c search_path=app'")
            })?;
            out.extend(opts);
        } else if !NOT_SETTINGS.contains(&k.as_str()) && !k.starts_with("_pq_.") {
            out.push((k.clone(), v.clone()));
        }
    }
    Ok(out)
}

/// What the client is told at startup: the upstream's own report at login, with the
/// canonical values (as the upstream spells them) of the settings the client asked for.
pub fn reported(
    baseline: &[(String, String)],
    canonical: &[(String, String)],
) -> Vec<(String, String)> {
    let mut out = baseline.to_vec();
    for (k, v) in canonical {
        if let Some(slot) = out
            .iter_mut()
            .find(|(name, _)| name.eq_ignore_ascii_case(k))
        {
            slot.1 = v.clone();
        }
    }
    out
}

/// An escaped string literal, `E'...'`, correct whatever standard_conforming_strings is.
pub fn literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 3);
    out.push_str("E'");
    for c in s.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            '\0' => {}
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// One statement applying all settings as Postgres applies startup values (so list-valued
/// settings like `search_path=a,b` mean two schemas, as they do at startup).
pub fn apply_statement(settings: &[(String, String)]) -> Option<String> {
    if settings.is_empty() {
        return None;
    }
    let calls: Vec<String> = settings
        .iter()
        .map(|(k, v)| {
            format!(
                "pg_catalog.set_config({}, {}, false)",
                literal(k),
                literal(v)
            )
        })
        .collect();
    Some(format!("SELECT {}", calls.join(", ")))
}

/// Applies startup settings on a fresh binding; returns the ParameterStatus messages whose
/// value differs from what the client was told, ready to forward.
pub(super) async fn apply_settings(
    up: &mut UpstreamConn,
    sql: &str,
    reported: &[(String, String)],
) -> Result<BytesMut, PgError> {
    let mut out = BytesMut::new();
    postgres_protocol::message::frontend::query(sql, &mut out)
        .map_err(|e| PgError::fatal(sqlstate::PROTOCOL_VIOLATION, e.to_string()))?;
    let lost = |e: String| {
        PgError::fatal(
            sqlstate::CONNECTION_FAILURE,
            format!("upstream failed while applying startup parameters: {e}"),
        )
    };
    up.stream
        .write_all(&out)
        .await
        .map_err(|e| lost(e.to_string()))?;
    let mut buf = BytesMut::with_capacity(1024);
    let mut forward = BytesMut::new();
    let mut error = None;
    loop {
        let (tag, body) = crate::protocol::frame::read_message(&mut up.stream, &mut buf, 1 << 20)
            .await
            .map_err(|e| lost(e.to_string()))?;
        match tag {
            b'S' => {
                let mut b = &body[..];
                let k = crate::protocol::frame::take_cstr(&mut b).unwrap_or_default();
                let v = crate::protocol::frame::take_cstr(&mut b).unwrap_or_default();
                if !reported.iter().any(|(n, rv)| *n == k && *rv == v) {
                    backend::parameter_status(&mut forward, &k, &v);
                }
            }
            b'E' => {
                let mut e = backend::parse_error_fields(&body);
                e.severity = crate::error::Severity::Fatal;
                error = Some(e.with_hint("a startup parameter (or -c option) was rejected by the upstream; fix it and reconnect"));
            }
            b'Z' => {
                up.tx_status = body.first().copied().unwrap_or(b'I');
                return match error {
                    Some(e) => Err(e),
                    None => Ok(forward),
                };
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(k: &str, v: &str) -> (String, String) {
        (k.into(), v.into())
    }

    #[test]
    fn settings_from_params_and_options() {
        let s = requested_settings(&[
            p("user", "u"),
            p("database", "d"),
            p("application_name", "psql"),
            p("options", "-c search_path=a,b"),
            p("_pq_.x", "1"),
        ])
        .unwrap();
        assert_eq!(
            s,
            vec![p("application_name", "psql"), p("search_path", "a,b")]
        );
        assert!(requested_settings(&[p("replication", "true")]).is_err());
    }

    #[test]
    fn reported_values_replace_baseline_by_name() {
        let base = vec![p("DateStyle", "ISO, MDY"), p("application_name", "")];
        let r = reported(
            &base,
            &[p("datestyle", "German, DMY"), p("work_mem", "4MB")],
        );
        assert_eq!(
            r,
            vec![p("DateStyle", "German, DMY"), p("application_name", "")]
        );
    }

    #[test]
    fn literals_cannot_escape() {
        assert_eq!(literal("a'b\\c"), "E'a''b\\\\c'");
        let stmt = apply_statement(&[p("application_name", "x'); DROP TABLE t; --")]).unwrap();
        assert_eq!(
            stmt,
            "SELECT pg_catalog.set_config(E'application_name', E'x''); DROP TABLE t; --', false)"
        );
    }
}
