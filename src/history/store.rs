//! Where the history lives, for reading and verifying: a PostgreSQL table (`history.table`) or
//! a JSON-lines file (`history.file`). The writer task appends to the same place.

use super::file::{self, verifiable};
use super::Entry;
use crate::audit::table::{pg_error, DbTarget, TableShape};
use crate::config::Config;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `history.table`: one column per field of [`Entry`].
pub(super) static HISTORY_TABLE: TableShape = TableShape {
    setting: "history.table",
    app: "querent-history",
    columns: &[
        ("id", "text PRIMARY KEY"),
        ("at", "timestamptz NOT NULL"),
        ("database", "text NOT NULL"),
        ("user", "text NOT NULL"),
        ("roles", "text[] NOT NULL"),
        ("question", "text NOT NULL"),
        ("planner", "text NOT NULL"),
        ("model", "text"),
        ("plan", "jsonb"),
        ("sql", "text"),
        ("outcome", "text NOT NULL"),
        ("sqlstate", "text"),
        ("latency_ms", "double precision NOT NULL"),
        ("prompt_tokens", "bigint NOT NULL"),
        ("completion_tokens", "bigint NOT NULL"),
        ("repairs", "bigint NOT NULL"),
        ("verified", "boolean NOT NULL DEFAULT false"),
    ],
    // An entry inserted again (a retried batch that did reach the table) is not an error.
    on_conflict: " ON CONFLICT (id) DO NOTHING",
};

/// Longest wait for one statement against `history.table`.
const QUERY_TIMEOUT: Duration = Duration::from_secs(10);
/// Most verified entries read per database.
const MAX_VERIFIED: i64 = 10_000;

/// The configured history place, for reading and verifying.
pub struct Store {
    kind: Kind,
}

enum Kind {
    File(PathBuf),
    Table {
        target: Box<DbTarget>,
        client: tokio::sync::Mutex<Option<tokio_postgres::Client>>,
    },
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Store {
    /// The store `history.table` or `history.file` names; `None` when neither is set. Errors
    /// name the setting: both set, a malformed table name or URL.
    pub fn from_config(config: &Config) -> Result<Option<Store>, String> {
        let h = &config.history;
        let table = h.table.trim();
        let kind = match (table.is_empty(), h.file_path()) {
            (true, None) => return Ok(None),
            (false, Some(_)) => {
                return Err("history.file: set history.table or history.file, not both".into())
            }
            (true, Some(p)) => Kind::File(p.to_path_buf()),
            (false, None) => {
                let (url, key) = if h.upstream.is_empty() {
                    (config.upstream.as_str(), "upstream")
                } else {
                    (h.upstream.as_str(), "history.upstream")
                };
                Kind::Table {
                    target: Box::new(DbTarget::parse(&HISTORY_TABLE, table, url, key)?),
                    client: tokio::sync::Mutex::new(None),
                }
            }
        };
        Ok(Some(Store { kind }))
    }

    /// `table "querent"."ask_history"` or `file /var/lib/querent/history.jsonl`.
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::File(p) => format!("file {}", p.display()),
            Kind::Table { target, .. } => format!("table {}", target.qualified()),
        }
    }

    pub(super) fn file(&self) -> Option<&Path> {
        match &self.kind {
            Kind::File(p) => Some(p),
            Kind::Table { .. } => None,
        }
    }

    pub(super) fn target(&self) -> Option<&DbTarget> {
        match &self.kind {
            Kind::File(_) => None,
            Kind::Table { target, .. } => Some(target),
        }
    }

    /// The latest `limit` entries, newest first.
    pub async fn list(&self, limit: usize) -> Result<Vec<Entry>, String> {
        match &self.kind {
            Kind::File(p) => {
                let p = p.clone();
                let mut all = blocking(move || file::read(&p)).await?;
                let keep = all.len().saturating_sub(limit);
                all.drain(..keep);
                all.reverse();
                Ok(all)
            }
            Kind::Table { .. } => {
                let limit = i64::try_from(limit).unwrap_or(i64::MAX);
                self.select("true ORDER BY at DESC, id DESC LIMIT $1", &[&limit])
                    .await
            }
        }
    }

    /// Verified, answered entries with SQL of `database`, newest first.
    pub async fn verified(&self, database: &str) -> Result<Vec<Entry>, String> {
        match &self.kind {
            Kind::File(p) => {
                let p = p.clone();
                let mut all = blocking(move || file::read(&p)).await?;
                all.retain(|e| e.verified && e.database == database && verifiable(e).is_ok());
                all.reverse();
                Ok(all)
            }
            Kind::Table { .. } => {
                self.select(
                    "database = $1 AND verified AND outcome = 'answered' AND sql IS NOT NULL ORDER BY at DESC LIMIT $2",
                    &[&database, &MAX_VERIFIED],
                )
                .await
            }
        }
    }

    /// Marks entry `id` verified and returns it. Only an answered entry with SQL can be: an
    /// example is a question with SQL known to answer it. Verifying twice is no error.
    pub async fn verify(&self, id: &str) -> Result<Entry, String> {
        match &self.kind {
            Kind::File(p) => {
                let (p, id, missing) = (p.clone(), id.to_string(), not_found(id, self));
                blocking(move || file::verify(&p, &id, missing)).await
            }
            Kind::Table { target, .. } => {
                let sql = format!(
                    "UPDATE {} SET verified = true WHERE id = $1 AND outcome = 'answered' AND sql IS NOT NULL",
                    target.qualified()
                );
                self.query(&sql, &[&id]).await?;
                let found = self.select("id = $1", &[&id]).await?;
                let entry = found
                    .into_iter()
                    .next()
                    .ok_or_else(|| not_found(id, self))?;
                verifiable(&entry)?;
                Ok(entry)
            }
        }
    }

    /// Entries of the table matching `condition` (which may order and limit).
    async fn select(
        &self,
        condition: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Entry>, String> {
        let Some(target) = self.target() else {
            return Ok(Vec::new());
        };
        let cols: Vec<String> = HISTORY_TABLE
            .columns
            .iter()
            .map(|(c, _)| match *c {
                "at" => r#"to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at"#
                    .to_string(),
                c => format!("\"{c}\""),
            })
            .collect();
        let sql = format!(
            "SELECT row_to_json(x)::text FROM (SELECT {} FROM {} WHERE {condition}) x",
            cols.join(", "),
            target.qualified()
        );
        let rows = self.query(&sql, params).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let text: String = row.get(0);
            match serde_json::from_str::<Entry>(&text) {
                Ok(e) => out.push(e),
                Err(e) => {
                    tracing::warn!(error = %e, "history.table: a row does not read as an entry; skipped")
                }
            }
        }
        Ok(out)
    }

    /// Runs one statement on the table's connection (made, and the table created, on first
    /// use; made again after an error), within [`QUERY_TIMEOUT`].
    async fn query(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<tokio_postgres::Row>, String> {
        let Kind::Table { target, client } = &self.kind else {
            return Ok(Vec::new());
        };
        let name = target.qualified();
        let mut slot = client.lock().await;
        if slot.as_ref().is_none_or(|c| c.is_closed()) {
            *slot = None;
            *slot = Some(
                target
                    .connect()
                    .await
                    .map_err(|e| format!("history.table {name}: {e}"))?,
            );
        }
        let Some(c) = slot.as_ref() else {
            return Err(format!("history.table {name}: not connected"));
        };
        match tokio::time::timeout(QUERY_TIMEOUT, c.query(sql, params)).await {
            Ok(Ok(rows)) => Ok(rows),
            Ok(Err(e)) => {
                *slot = None;
                Err(format!("history.table {name}: {}", pg_error(&e)))
            }
            Err(_) => {
                *slot = None;
                Err(format!(
                    "history.table {name}: no answer within {} s",
                    QUERY_TIMEOUT.as_secs()
                ))
            }
        }
    }
}

fn not_found(id: &str, store: &Store) -> String {
    format!(
        "no history entry {id} in {}; `querent history list` shows the latest ids",
        store.describe()
    )
}

/// Runs file I/O off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| format!("history.file: {e}"))?
}
