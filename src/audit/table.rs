//! The table sink: inserts JSON records into a PostgreSQL table in batches, creating the table
//! if missing and retrying with backoff while PostgreSQL is unreachable. The audit log
//! (`audit.table`) and the ASK history (`history.table`, `crate::history`) both use it, each
//! with its own [`TableShape`] and counters ([`SinkCounts`]).

use super::{DB_BATCH_INTERVAL, DB_BATCH_ROWS};
use std::collections::VecDeque;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const DB_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const DB_INSERT_TIMEOUT: Duration = Duration::from_secs(10);
const DB_BACKOFF_MIN: Duration = Duration::from_secs(1);
const DB_BACKOFF_MAX: Duration = Duration::from_secs(30);

/// What a sink's table looks like: the setting that names it (for messages), the application
/// name of its connections, and its columns, named as the fields of the JSON records inserted.
pub(crate) struct TableShape {
    /// The setting naming the table, e.g. `audit.table`.
    pub(crate) setting: &'static str,
    /// `application_name` of the sink's connections (unless the URL sets one).
    pub(crate) app: &'static str,
    /// (column, type and constraints), in order.
    pub(crate) columns: &'static [(&'static str, &'static str)],
    /// Appended to the INSERT, e.g. ` ON CONFLICT (id) DO NOTHING` (so that a row already
    /// there never blocks its batch), or empty.
    pub(crate) on_conflict: &'static str,
}

/// The counters a sink reports to.
pub(crate) trait SinkCounts: Send + Sync + 'static {
    /// Records lost (backlog full, or pending at shutdown).
    fn dropped(&self, n: u64);
    /// Rows inserted.
    fn inserted(&self, n: u64);
    /// One failed connect or insert.
    fn failed(&self);
}

/// A table sink's settings, checked at start.
#[derive(Clone)]
pub(crate) struct DbTarget {
    shape: &'static TableShape,
    conn: tokio_postgres::Config,
    /// `"schema"."table"` or `"table"`.
    qualified: String,
    schema: Option<String>,
}

impl DbTarget {
    /// Checks `table` (`schema.table` or `table`) and the connection `url` (named `url_key` in
    /// messages).
    pub(crate) fn parse(
        shape: &'static TableShape,
        table: &str,
        url: &str,
        url_key: &str,
    ) -> Result<DbTarget, String> {
        let parts: Vec<&str> = table.split('.').collect();
        let ident = |s: &str| {
            !s.is_empty()
                && s.len() <= 63
                && s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        if parts.len() > 2 || !parts.iter().all(|p| ident(p)) {
            return Err(format!(
                "{}: expected schema.table or table (letters, digits and _), got \"{table}\"",
                shape.setting
            ));
        }
        let quote = |s: &str| format!("\"{s}\"");
        let qualified = parts.iter().map(|p| quote(p)).collect::<Vec<_>>().join(".");
        let schema = (parts.len() == 2).then(|| quote(parts[0]));
        let mut conn = tokio_postgres::Config::from_str(url).map_err(|e| {
            format!(
                "{url_key}: invalid PostgreSQL URL for {} \"{url}\": {e}",
                shape.setting
            )
        })?;
        if conn.get_application_name().is_none() {
            conn.application_name(shape.app);
        }
        conn.connect_timeout(DB_CONNECT_TIMEOUT);
        Ok(DbTarget {
            shape,
            conn,
            qualified,
            schema,
        })
    }

    /// The table, quoted: `"schema"."table"` or `"table"`.
    pub(crate) fn qualified(&self) -> &str {
        &self.qualified
    }

    fn column_list(&self) -> String {
        let cols: Vec<String> = self
            .shape
            .columns
            .iter()
            .map(|(c, _)| format!("\"{c}\""))
            .collect();
        cols.join(", ")
    }

    fn create_sql(&self) -> String {
        let mut sql = String::new();
        if let Some(s) = &self.schema {
            sql.push_str(&format!("CREATE SCHEMA IF NOT EXISTS {s};\n"));
        }
        let cols: Vec<String> = self
            .shape
            .columns
            .iter()
            .map(|(c, t)| format!("  \"{c}\" {t}"))
            .collect();
        sql.push_str(&format!(
            "CREATE TABLE IF NOT EXISTS {} (\n{}\n)",
            self.qualified,
            cols.join(",\n")
        ));
        sql
    }

    /// `ALTER TABLE ... ADD COLUMN IF NOT EXISTS` for every nullable column, which an older
    /// version may not have created.
    fn upgrade_sql(&self) -> Option<String> {
        let adds: Vec<String> = self
            .shape
            .columns
            .iter()
            .filter(|(_, t)| !t.contains("NOT NULL"))
            .map(|(c, t)| format!("ADD COLUMN IF NOT EXISTS \"{c}\" {t}"))
            .collect();
        (!adds.is_empty()).then(|| format!("ALTER TABLE {} {}", self.qualified, adds.join(", ")))
    }

    /// One INSERT for a batch passed as a JSON array of records (the file's own lines).
    fn insert_sql(&self) -> String {
        format!(
            "INSERT INTO {t} ({cols}) SELECT {cols} FROM json_populate_recordset(NULL::{t}, $1::text::json){}",
            self.shape.on_conflict,
            t = self.qualified,
            cols = self.column_list()
        )
    }

    /// Connects (within the connect timeout) and creates the table when it is missing.
    pub(crate) async fn connect(&self) -> Result<tokio_postgres::Client, String> {
        let go = async {
            let (client, conn) = self
                .conn
                .connect(tokio_postgres::NoTls)
                .await
                .map_err(|e| format!("connect: {}", pg_error(&e)))?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            let exists: Option<String> = client
                .query_one("SELECT to_regclass($1)::text", &[&self.qualified])
                .await
                .map_err(|e| pg_error(&e))?
                .get(0);
            if exists.is_none() {
                client
                    .batch_execute(&self.create_sql())
                    .await
                    .map_err(|e| format!("create {}: {}", self.qualified, pg_error(&e)))?;
            } else if let Some(upgrade) = self.upgrade_sql() {
                // Columns added in later versions (nullable ones) join an existing table.
                client
                    .batch_execute(&upgrade)
                    .await
                    .map_err(|e| format!("upgrade {}: {}", self.qualified, pg_error(&e)))?;
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
}

/// Who waits for a flush: a blocked thread (the audit log) or a task (the history).
pub(crate) enum Ack {
    /// A thread blocked on the receiver.
    Blocking(std::sync::mpsc::Sender<()>),
    /// A task awaiting the receiver.
    Async(tokio::sync::oneshot::Sender<()>),
}

impl Ack {
    /// Wakes whoever waits.
    pub(crate) fn done(self) {
        match self {
            Ack::Blocking(s) => {
                let _ = s.send(());
            }
            Ack::Async(s) => {
                let _ = s.send(());
            }
        }
    }
}

/// What a sink receives.
pub(crate) enum DbMsg {
    /// One record, as a JSON object whose fields are the table's columns.
    Line(String),
    /// Insert everything pending now (one attempt), then acknowledge.
    Flush(Ack),
}

/// The task inserting records into one table.
pub(crate) struct DbSink<C: SinkCounts> {
    target: DbTarget,
    insert_sql: String,
    counts: Arc<C>,
    client: Option<tokio_postgres::Client>,
    /// Lines waiting for the table, with when each arrived.
    pending: VecDeque<(Instant, String)>,
    max_pending: usize,
    retry_at: Instant,
    backoff: Duration,
    acks: Vec<Ack>,
    closing: bool,
}

impl<C: SinkCounts> DbSink<C> {
    /// A sink keeping at most `max_pending` rows while PostgreSQL is unreachable.
    pub(crate) fn new(target: DbTarget, counts: Arc<C>, max_pending: usize) -> DbSink<C> {
        DbSink {
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

    /// Inserts what arrives on `rx` until every sender is gone, then what is pending.
    pub(crate) async fn run(mut self, mut rx: mpsc::Receiver<DbMsg>) {
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
                ack.done();
            }
            if self.closing {
                if !self.pending.is_empty() {
                    tracing::warn!(
                        table = self.target.shape.setting,
                        rows = self.pending.len(),
                        "rows not inserted at shutdown"
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
            self.counts.inserted(n as u64);
            self.backoff = Duration::ZERO;
            self.take_ready(rx);
        }
    }

    async fn insert(&mut self, n: usize) -> Result<(), String> {
        if self.client.as_ref().is_none_or(|c| c.is_closed()) {
            self.client = None;
            self.client = Some(self.target.connect().await?);
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

    fn failed(&mut self, e: &str) {
        self.counts.failed();
        self.backoff = (self.backoff * 2).clamp(DB_BACKOFF_MIN, DB_BACKOFF_MAX);
        self.retry_at = Instant::now() + self.backoff;
        tracing::warn!(
            table = self.target.shape.setting,
            error = %e,
            pending = self.pending.len(),
            retry_in_s = self.backoff.as_secs(),
            "PostgreSQL sink failed; rows kept and retried (a file log is unaffected)"
        );
    }
}

async fn sleep_until(t: Option<Instant>) {
    if let Some(t) = t {
        tokio::time::sleep_until(t.into()).await;
    }
}

/// A PostgreSQL error with its message and SQLSTATE when the server sent one.
pub(crate) fn pg_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}
