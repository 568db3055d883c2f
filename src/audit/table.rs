//! The table sink: inserts the records into `audit.table` in batches, creating the table if
//! missing and retrying with backoff while PostgreSQL is unreachable.

use super::{Counts, DB_BATCH_INTERVAL, DB_BATCH_ROWS};
use crate::metrics::METRICS;
use std::collections::VecDeque;
use std::str::FromStr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const DB_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const DB_INSERT_TIMEOUT: Duration = Duration::from_secs(10);
const DB_BACKOFF_MIN: Duration = Duration::from_secs(1);
const DB_BACKOFF_MAX: Duration = Duration::from_secs(30);

/// The table sink's settings, checked at start.
pub(super) struct DbTarget {
    conn: tokio_postgres::Config,
    /// `"schema"."table"` or `"table"`.
    qualified: String,
    schema: Option<String>,
}

impl DbTarget {
    pub(super) fn parse(table: &str, url: &str, url_key: &str) -> Result<DbTarget, String> {
        let parts: Vec<&str> = table.split('.').collect();
        let ident = |s: &str| {
            !s.is_empty()
                && s.len() <= 63
                && s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        if parts.len() > 2 || !parts.iter().all(|p| ident(p)) {
            return Err(format!(
                "audit.table: expected schema.table or table (letters, digits and _), got \"{table}\""
            ));
        }
        let quote = |s: &str| format!("\"{s}\"");
        let qualified = parts.iter().map(|p| quote(p)).collect::<Vec<_>>().join(".");
        let schema = (parts.len() == 2).then(|| quote(parts[0]));
        let mut conn = tokio_postgres::Config::from_str(url).map_err(|e| {
            format!("{url_key}: invalid PostgreSQL URL for audit.table \"{url}\": {e}")
        })?;
        if conn.get_application_name().is_none() {
            conn.application_name("querent-audit");
        }
        conn.connect_timeout(DB_CONNECT_TIMEOUT);
        Ok(DbTarget {
            conn,
            qualified,
            schema,
        })
    }

    fn create_sql(&self) -> String {
        let mut sql = String::new();
        if let Some(s) = &self.schema {
            sql.push_str(&format!("CREATE SCHEMA IF NOT EXISTS {s};\n"));
        }
        sql.push_str(&format!(
            "CREATE TABLE IF NOT EXISTS {} (\n  \"time\" timestamptz NOT NULL,\n  \"user\" text NOT NULL,\n  \"roles\" text[] NOT NULL,\n  \"client_addr\" text NOT NULL,\n  \"database\" text NOT NULL,\n  \"path\" text NOT NULL,\n  \"original_sql\" text NOT NULL,\n  \"rewritten_sql\" text,\n  \"decision\" text NOT NULL,\n  \"reason\" text,\n  \"sqlstate\" text,\n  \"rows\" bigint,\n  \"duration_ms\" double precision NOT NULL,\n  \"planner\" text,\n  \"model\" text\n);\n\
             ALTER TABLE {} ADD COLUMN IF NOT EXISTS \"planner\" text, ADD COLUMN IF NOT EXISTS \"model\" text",
            self.qualified, self.qualified
        ));
        sql
    }

    /// One INSERT for a batch passed as a JSON array of records (the file's own lines).
    fn insert_sql(&self) -> String {
        let cols = "\"time\", \"user\", \"roles\", \"client_addr\", \"database\", \"path\", \"original_sql\", \"rewritten_sql\", \"decision\", \"reason\", \"sqlstate\", \"rows\", \"duration_ms\", \"planner\", \"model\"";
        format!(
            "INSERT INTO {t} ({cols}) SELECT {cols} FROM json_populate_recordset(NULL::{t}, $1::text::json)",
            t = self.qualified
        )
    }
}

pub(super) enum DbMsg {
    Line(String),
    Flush(std::sync::mpsc::Sender<()>),
}

pub(super) struct DbSink {
    target: DbTarget,
    create_sql: String,
    insert_sql: String,
    counts: Arc<Counts>,
    client: Option<tokio_postgres::Client>,
    /// Lines waiting for the table, with when each arrived.
    pending: VecDeque<(Instant, String)>,
    max_pending: usize,
    retry_at: Instant,
    backoff: Duration,
    acks: Vec<std::sync::mpsc::Sender<()>>,
    closing: bool,
}

impl DbSink {
    pub(super) fn new(target: DbTarget, counts: Arc<Counts>, max_pending: usize) -> DbSink {
        DbSink {
            create_sql: target.create_sql(),
            insert_sql: target.insert_sql(),
            target,
            counts,
            client: None,
            pending: VecDeque::new(),
            max_pending,
            retry_at: Instant::now(),
            backoff: Duration::ZERO,
            acks: Vec::new(),
            closing: false,
        }
    }

    fn take(&mut self, m: Option<DbMsg>) {
        match m {
            Some(DbMsg::Line(l)) => {
                if self.pending.len() >= self.max_pending {
                    self.pending.pop_front();
                    self.counts.dropped(1);
                }
                self.pending.push_back((Instant::now(), l));
            }
            Some(DbMsg::Flush(ack)) => self.acks.push(ack),
            None => self.closing = true,
        }
    }

    fn take_ready(&mut self, rx: &mut mpsc::Receiver<DbMsg>) {
        while !self.closing {
            match rx.try_recv() {
                Ok(m) => self.take(Some(m)),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => self.closing = true,
            }
        }
    }

    /// When the next insert is due without new input.
    fn due(&self) -> Option<Instant> {
        let first = self.pending.front()?.0;
        if self.pending.len() >= DB_BATCH_ROWS {
            Some(self.retry_at)
        } else {
            Some((first + DB_BATCH_INTERVAL).max(self.retry_at))
        }
    }

    pub(super) async fn run(mut self, mut rx: mpsc::Receiver<DbMsg>) {
        loop {
            let due = self.due();
            tokio::select! {
                m = rx.recv() => self.take(m),
                _ = sleep_until(due), if due.is_some() => {}
            }
            self.take_ready(&mut rx);
            let forced = self.closing || !self.acks.is_empty();
            if forced || self.due().is_some_and(|d| d <= Instant::now()) {
                self.insert_pending(&mut rx, forced).await;
            }
            for ack in self.acks.drain(..) {
                let _ = ack.send(());
            }
            if self.closing {
                if !self.pending.is_empty() {
                    tracing::warn!(
                        rows = self.pending.len(),
                        "audit.table: rows not inserted at shutdown (they are in audit.file if set)"
                    );
                    self.counts.dropped(self.pending.len() as u64);
                }
                return;
            }
        }
    }

    /// Inserts pending rows in batches until none are left or an attempt fails.
    async fn insert_pending(&mut self, rx: &mut mpsc::Receiver<DbMsg>, forced: bool) {
        while !self.pending.is_empty() {
            if !forced && self.pending.len() < DB_BATCH_ROWS {
                // A partial batch goes only when its interval is up.
                if self
                    .pending
                    .front()
                    .is_some_and(|(f, _)| *f + DB_BATCH_INTERVAL > Instant::now())
                {
                    return;
                }
            }
            let n = self.pending.len().min(DB_BATCH_ROWS);
            if let Err(e) = self.insert(n).await {
                self.failed(&e);
                return;
            }
            self.pending.drain(..n);
            self.counts.db_inserted.fetch_add(n as u64, Relaxed);
            self.backoff = Duration::ZERO;
            self.take_ready(rx);
        }
    }

    async fn insert(&mut self, n: usize) -> Result<(), String> {
        if self.client.as_ref().is_none_or(|c| c.is_closed()) {
            self.client = None;
            self.client = Some(self.connect().await?);
        }
        let mut json = String::with_capacity(
            self.pending
                .iter()
                .take(n)
                .map(|(_, l)| l.len() + 1)
                .sum::<usize>()
                + 2,
        );
        json.push('[');
        for (i, (_, l)) in self.pending.iter().take(n).enumerate() {
            if i > 0 {
                json.push(',');
            }
            json.push_str(l);
        }
        json.push(']');
        let Some(client) = self.client.as_ref() else {
            return Err(format!(
                "insert into {}: not connected",
                self.target.qualified
            ));
        };
        match tokio::time::timeout(
            DB_INSERT_TIMEOUT,
            client.execute(self.insert_sql.as_str(), &[&json]),
        )
        .await
        {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => {
                self.client = None;
                Err(format!(
                    "insert into {}: {}",
                    self.target.qualified,
                    pg_error(&e)
                ))
            }
            Err(_) => {
                self.client = None;
                Err(format!(
                    "insert into {}: no answer within {} s",
                    self.target.qualified,
                    DB_INSERT_TIMEOUT.as_secs()
                ))
            }
        }
    }

    async fn connect(&self) -> Result<tokio_postgres::Client, String> {
        let go = async {
            let (client, conn) = self
                .target
                .conn
                .connect(tokio_postgres::NoTls)
                .await
                .map_err(|e| format!("connect: {}", pg_error(&e)))?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            let exists: Option<String> = client
                .query_one("SELECT to_regclass($1)::text", &[&self.target.qualified])
                .await
                .map_err(|e| pg_error(&e))?
                .get(0);
            if exists.is_none() {
                client
                    .batch_execute(&self.create_sql)
                    .await
                    .map_err(|e| format!("create {}: {}", self.target.qualified, pg_error(&e)))?;
            }
            Ok(client)
        };
        match tokio::time::timeout(DB_CONNECT_TIMEOUT, go).await {
            Ok(r) => r,
            Err(_) => Err(format!(
                "connect: no answer within {} s",
                DB_CONNECT_TIMEOUT.as_secs()
            )),
        }
    }

    fn failed(&mut self, e: &str) {
        self.counts.db_errors.fetch_add(1, Relaxed);
        METRICS.audit_db_errors.inc();
        self.backoff = (self.backoff * 2).clamp(DB_BACKOFF_MIN, DB_BACKOFF_MAX);
        self.retry_at = Instant::now() + self.backoff;
        tracing::warn!(
            error = %e,
            pending = self.pending.len(),
            retry_in_s = self.backoff.as_secs(),
            "audit.table: PostgreSQL sink failed; rows kept and retried (audit.file is unaffected)"
        );
    }
}

async fn sleep_until(t: Option<Instant>) {
    if let Some(t) = t {
        tokio::time::sleep_until(t.into()).await;
    }
}

/// A PostgreSQL error with its message and SQLSTATE when the server sent one.
fn pg_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}
