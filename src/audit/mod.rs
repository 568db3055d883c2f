//! The audit log: one record per statement decision (allow, rewrite, deny), appended as JSON
//! lines to `audit.file` and optionally inserted in batches into a PostgreSQL table
//! (`audit.table`).
//!
//! [`Auditor::record`] never blocks and never waits for I/O: it `try_send`s the record on a
//! bounded queue (`audit.queue`) and, when the queue is full, drops the record and counts it in
//! `querent_audit_dropped_total`. A dedicated std thread (independent of whatever tokio runtimes
//! the callers run on) drains the queue every few milliseconds, writes the file through a
//! `BufWriter` (flushed after every drain, so within [`POLL`] of a record arriving, and on
//! shutdown), and feeds the table sink. The table sink runs as a task on the writer thread's own
//! current-thread tokio runtime: it inserts up to [`DB_BATCH_ROWS`] rows at a time, at least
//! every [`DB_BATCH_INTERVAL`], creates the table if missing, and when PostgreSQL is unreachable
//! keeps the rows (up to `audit.queue` of them), retries with backoff and counts failures in
//! `querent_audit_db_errors_total` — the file keeps being written meanwhile.
//!
//! The queue is a `std::sync::mpsc::sync_channel`: a preallocated ring (about 250 bytes per
//! slot, so 2.5 MB for the default 10,000), so `record()` neither allocates nor contends with the
//! writer's allocator. The writer polls instead of being woken, so `record()` never makes a
//! system call either: its cost is one ring push, a few tens of nanoseconds.

pub(crate) mod table;
mod time;
pub(crate) mod writer;

pub use self::time::rfc3339_millis;

use self::table::{DbTarget, SinkCounts, TableShape};
use self::writer::{open_append, Writer};
use crate::config::{AuditConfig, Config};
use crate::metrics::METRICS;
use serde::{Serialize, Serializer};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc;

/// How often the writer drains the queue (and so the longest a record waits before it is
/// written and flushed to the file).
pub const POLL: Duration = Duration::from_millis(10);
/// Most rows in one INSERT into `audit.table`.
pub const DB_BATCH_ROWS: usize = 500;
/// Longest a record waits before it is inserted into `audit.table` (PostgreSQL being up).
pub const DB_BATCH_INTERVAL: Duration = Duration::from_millis(500);

/// How a statement reached its decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AuditPath {
    /// Relayed without a policy check (no guard configured).
    #[default]
    Passthrough,
    /// Checked by the policy guard.
    Guarded,
    /// A plain-English `ASK` question.
    Ask,
    /// A trusted principal, exempt from the guard.
    Trusted,
}

/// What was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// Relayed as sent.
    #[default]
    Allow,
    /// Relayed rewritten (`rewritten_sql`).
    Rewrite,
    /// Refused (`reason`, `sqlstate`).
    Deny,
}

/// One audited statement. Serialized as one JSON object per line, every field present
/// (`null` when absent); `time` is written in RFC 3339, UTC, with milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord {
    /// When the statement arrived (formatted on the writer thread, not the caller's).
    #[serde(serialize_with = "serialize_time")]
    pub time: SystemTime,
    /// The session's user.
    pub user: String,
    /// The user's roles.
    pub roles: Vec<String>,
    /// The client's address, e.g. `127.0.0.1:50432`.
    pub client_addr: String,
    /// The database the session uses.
    pub database: String,
    /// How the statement was handled.
    pub path: AuditPath,
    /// The SQL as the client sent it.
    pub original_sql: String,
    /// The SQL actually sent upstream, when rewritten.
    pub rewritten_sql: Option<String>,
    /// Allow, rewrite or deny.
    pub decision: Decision,
    /// Why (the policy that denied or rewrote).
    pub reason: Option<String>,
    /// The SQLSTATE of an error (a denial or an upstream error).
    pub sqlstate: Option<String>,
    /// Rows returned or affected, when known.
    pub rows: Option<u64>,
    /// Time from the statement's arrival to its completion, in milliseconds.
    pub duration_ms: f64,
    /// For ASK: the planner that answered (`deterministic` or `model`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub planner: Option<String>,
    /// For ASK answered by a language model: the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

impl Default for AuditRecord {
    /// An empty `allow`/`passthrough` record stamped with the current time.
    fn default() -> Self {
        AuditRecord {
            time: SystemTime::now(),
            user: String::new(),
            roles: Vec::new(),
            client_addr: String::new(),
            database: String::new(),
            path: AuditPath::default(),
            original_sql: String::new(),
            rewritten_sql: None,
            decision: Decision::default(),
            reason: None,
            sqlstate: None,
            rows: None,
            duration_ms: 0.0,
            planner: None,
            model: None,
        }
    }
}

fn serialize_time<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339_millis(*t))
}

/// Counts of one auditor (the process-wide totals are in [`METRICS`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuditStats {
    /// Records the writer took off the queue.
    pub written: u64,
    /// Records lost: queue full, file write failed, or table backlog full.
    pub dropped: u64,
    /// Failed connects or inserts against `audit.table`.
    pub db_errors: u64,
    /// Rows inserted into `audit.table`.
    pub db_inserted: u64,
}

#[derive(Default)]
struct Counts {
    written: AtomicU64,
    dropped: AtomicU64,
    db_errors: AtomicU64,
    db_inserted: AtomicU64,
    /// Test hook: the writer leaves the queue alone while set (except to shut down).
    paused: AtomicBool,
}

impl SinkCounts for Counts {
    fn dropped(&self, n: u64) {
        self.dropped.fetch_add(n, Relaxed);
        METRICS.audit_dropped.add(n);
    }

    fn inserted(&self, n: u64) {
        self.db_inserted.fetch_add(n, Relaxed);
    }

    fn failed(&self) {
        self.db_errors.fetch_add(1, Relaxed);
        METRICS.audit_db_errors.inc();
    }
}

/// `audit.table`: one column per field of [`AuditRecord`].
static AUDIT_TABLE: TableShape = TableShape {
    setting: "audit.table",
    app: "querent-audit",
    columns: &[
        ("time", "timestamptz NOT NULL"),
        ("user", "text NOT NULL"),
        ("roles", "text[] NOT NULL"),
        ("client_addr", "text NOT NULL"),
        ("database", "text NOT NULL"),
        ("path", "text NOT NULL"),
        ("original_sql", "text NOT NULL"),
        ("rewritten_sql", "text"),
        ("decision", "text NOT NULL"),
        ("reason", "text"),
        ("sqlstate", "text"),
        ("rows", "bigint"),
        ("duration_ms", "double precision NOT NULL"),
        ("planner", "text"),
        ("model", "text"),
    ],
    on_conflict: "",
};

enum Ctl {
    Flush(std::sync::mpsc::Sender<()>),
    Shutdown,
}

struct Shared {
    tx: SyncSender<AuditRecord>,
    ctl: mpsc::UnboundedSender<Ctl>,
    counts: Arc<Counts>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Shared {
    fn stop(&self) {
        let handle = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(h) = handle {
            let _ = self.ctl.send(Ctl::Shutdown);
            let _ = h.join();
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The audit log handle. Cheap to clone (an `Arc`); every clone feeds the same writer. The
/// writer stops — after writing everything queued — at [`Auditor::shutdown`] or when the last
/// clone is dropped.
#[derive(Clone, Default)]
pub struct Auditor {
    inner: Option<Arc<Shared>>,
}

impl std::fmt::Debug for Auditor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auditor")
            .field("enabled", &self.is_enabled())
            .finish()
    }
}

impl Auditor {
    /// An auditor that records nothing; [`Auditor::record`] is a no-op.
    pub fn disabled() -> Auditor {
        Auditor { inner: None }
    }

    /// Starts from the whole configuration: like [`Auditor::start`], with `upstream` as the
    /// table's connection URL when `audit.upstream` is empty.
    pub fn from_config(config: &Config) -> Result<Auditor, String> {
        Self::start_inner(&config.audit, Some(&config.upstream))
    }

    /// Starts the writer for `audit.file` and/or `audit.table`, or returns
    /// [`Auditor::disabled`] when neither is set. Errors name the setting: an unwritable
    /// `audit.file`, a malformed `audit.table` or URL, `audit.queue` = 0. `audit.table` needs
    /// `audit.upstream` here (use [`Auditor::from_config`] to fall back to `upstream`).
    /// PostgreSQL being down is not an error: the sink retries.
    pub fn start(cfg: &AuditConfig) -> Result<Auditor, String> {
        Self::start_inner(cfg, None)
    }

    fn start_inner(cfg: &AuditConfig, main_upstream: Option<&str>) -> Result<Auditor, String> {
        let path = cfg.file.clone().filter(|p| !p.as_os_str().is_empty());
        let table = cfg.table.trim();
        if path.is_none() && table.is_empty() {
            return Ok(Auditor::disabled());
        }
        if cfg.queue == 0 {
            return Err("audit.queue: expected at least 1".into());
        }
        let db = if table.is_empty() {
            None
        } else if !cfg.upstream.is_empty() {
            Some(DbTarget::parse(
                &AUDIT_TABLE,
                table,
                &cfg.upstream,
                "audit.upstream",
            )?)
        } else if let Some(url) = main_upstream {
            Some(DbTarget::parse(&AUDIT_TABLE, table, url, "upstream")?)
        } else {
            return Err(
                "audit.table: no connection URL: set audit.upstream (or start from the whole configuration so that upstream is used)".into(),
            );
        };
        let file = match &path {
            Some(p) => Some(open_append(p)?),
            None => None,
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("audit: cannot build the writer's runtime: {e}"))?;
        let (tx, rx) = sync_channel(cfg.queue);
        let (ctl, ctl_rx) = mpsc::unbounded_channel();
        let counts = Arc::new(Counts::default());
        let writer = Writer {
            rx,
            ctl: ctl_rx,
            file,
            path,
            counts: counts.clone(),
            file_failing: false,
            table_closed: false,
        };
        let queue = cfg.queue;
        let thread = std::thread::Builder::new()
            .name("querent-audit".into())
            .spawn(move || rt.block_on(writer.run(db, queue)))
            .map_err(|e| format!("audit: cannot start the writer thread: {e}"))?;
        Ok(Auditor {
            inner: Some(Arc::new(Shared {
                tx,
                ctl,
                counts,
                thread: Mutex::new(Some(thread)),
            })),
        })
    }

    /// Whether records go anywhere (callers may skip building records when not).
    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// Queues a record. Never blocks: when the queue is full the record is dropped and counted
    /// (`querent_audit_dropped_total`). A no-op on a disabled auditor.
    #[inline]
    pub fn record(&self, rec: AuditRecord) {
        if let Some(s) = &self.inner {
            if s.tx.try_send(rec).is_err() {
                s.counts.dropped(1);
            }
        }
    }

    /// Waits until every record queued before the call is written to the file and, when a
    /// table is configured, one attempt was made to insert it. Blocks the calling thread: for
    /// tests, admin commands and shutdown paths, not the statement path.
    pub fn flush(&self) {
        if let Some(s) = &self.inner {
            let (ack, done) = std::sync::mpsc::channel();
            if s.ctl.send(Ctl::Flush(ack)).is_ok() {
                let _ = done.recv();
            }
        }
    }

    /// Writes everything queued (file flushed, a last insert attempted) and stops the writer,
    /// for every clone: records sent afterwards are dropped and counted. Blocks until done.
    /// Dropping the last clone does the same.
    pub fn shutdown(self) {
        if let Some(s) = &self.inner {
            s.stop();
        }
    }

    /// This auditor's counts.
    pub fn stats(&self) -> AuditStats {
        match &self.inner {
            None => AuditStats::default(),
            Some(s) => AuditStats {
                written: s.counts.written.load(Relaxed),
                dropped: s.counts.dropped.load(Relaxed),
                db_errors: s.counts.db_errors.load(Relaxed),
                db_inserted: s.counts.db_inserted.load(Relaxed),
            },
        }
    }

    #[cfg(test)]
    fn pause_writer(&self, paused: bool) {
        if let Some(s) = &self.inner {
            s.counts.paused.store(paused, Relaxed);
        }
    }
}

#[cfg(test)]
mod tests;
