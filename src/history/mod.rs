//! The ASK history and verified examples.
//!
//! Every question ASK answers (or declines) can be recorded as an [`Entry`]: who asked, in
//! which database, the question, the planner, the plan or SQL, the outcome, latency and tokens
//! — never result rows. Entries go to a PostgreSQL table (`history.table`, created if missing,
//! written through the same batching sink as `audit.table`) or to a JSON-lines file
//! (`history.file`); with neither set there is no history.
//!
//! [`History::record`] never blocks and never waits for I/O: it `try_send`s the entry on a
//! bounded queue (`history.queue`) and, when the queue is full, drops it and counts it
//! (`querent_history_dropped_total`). A writer task drains the queue in batches.
//!
//! An entry a person promotes (`querent history verify ID`) becomes an [`Example`]; so does
//! each `[[examples]]` entry of an annotation file (pinned, see
//! `crate::catalog::annotations`). [`similar`] picks the examples closest to a new question
//! among those whose tables ([`tables_read`]) a role may read. See docs/ASK.md.

mod examples;
mod file;
mod reads;
mod store;
mod writer;

pub use examples::{merge, similar, Example, Source};
pub use reads::tables_read;
pub use store::Store;

use crate::audit::table::{DbSink, SinkCounts};
use crate::audit::writer::open_append_file;
use crate::audit::DB_BATCH_ROWS;
use crate::catalog::store::Loaded;
use crate::config::Config;
use crate::metrics::METRICS;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot};
use writer::{Msg, Sink};

/// How long [`History::examples`] serves what it read before reading again (so an entry
/// verified from the command line is used within this long).
pub const EXAMPLES_TTL: Duration = Duration::from_secs(30);

/// Which planner answered (the same type ASK reports it with).
pub use crate::ask::Planner;

/// How a question ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// SQL was produced and sent upstream.
    Answered,
    /// The planner declined (QA001, QA003, ...).
    Declined,
    /// The guard refused the SQL.
    Refused,
    /// An error: the model's endpoint, the upstream.
    Failed,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Outcome::Answered => "answered",
            Outcome::Declined => "declined",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
        })
    }
}

impl std::fmt::Display for Planner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Planner::Deterministic => "deterministic",
            Planner::Model => "model",
            Planner::FollowUp => "follow-up",
        })
    }
}

/// One recorded question. Serialized as one JSON object (a line of `history.file`, a row of
/// `history.table`), every field present. It never holds result rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Unique: milliseconds since 1970, a sequence number and random bits, in hex (sorts by
    /// time).
    pub id: String,
    /// When it was asked, RFC 3339 in UTC with milliseconds.
    pub at: String,
    /// The session's database.
    pub database: String,
    /// The session's user.
    pub user: String,
    /// The user's roles.
    pub roles: Vec<String>,
    /// The question as asked.
    pub question: String,
    /// Which planner answered.
    pub planner: Planner,
    /// The model's name, when one was asked.
    pub model: Option<String>,
    /// The plan (an `AnalysisPlan` as JSON), when there was one.
    pub plan: Option<serde_json::Value>,
    /// The SQL the planner produced — before the guard's rewriting, which can hold row filter
    /// values and the hash-mask key and must never be recorded.
    pub sql: Option<String>,
    /// How it ended.
    pub outcome: Outcome,
    /// The SQLSTATE of a decline, refusal or failure.
    pub sqlstate: Option<String>,
    /// Time from the question's arrival to its SQL (or error), in milliseconds.
    pub latency_ms: f64,
    /// Prompt tokens the model was sent.
    pub prompt_tokens: u32,
    /// Completion tokens the model answered with.
    pub completion_tokens: u32,
    /// Times the model repaired its answer.
    pub repairs: u32,
    /// Promoted to an example (`querent history verify ID`).
    pub verified: bool,
}

impl Entry {
    /// An entry stamped now with a fresh id; the other fields empty (set them as known).
    pub fn new(
        database: impl Into<String>,
        user: impl Into<String>,
        roles: Vec<String>,
        question: impl Into<String>,
        planner: Planner,
        outcome: Outcome,
    ) -> Entry {
        let now = SystemTime::now();
        Entry {
            id: new_id(now),
            at: crate::audit::rfc3339_millis(now),
            database: database.into(),
            user: user.into(),
            roles,
            question: question.into(),
            planner,
            model: None,
            plan: None,
            sql: None,
            outcome,
            sqlstate: None,
            latency_ms: 0.0,
            prompt_tokens: 0,
            completion_tokens: 0,
            repairs: 0,
            verified: false,
        }
    }

    /// The example a verified entry stands for: its SQL must be one read-only query.
    pub fn example(&self) -> Option<Example> {
        let sql = self.sql.as_ref()?;
        (self.verified && self.outcome == Outcome::Answered && tables_read(sql).is_some()).then(
            || Example {
                question: self.question.clone(),
                sql: sql.clone(),
                source: Source::History(self.id.clone()),
            },
        )
    }
}

/// 12 hex digits of milliseconds since 1970, 4 of a counter of this process (so that ids made
/// in one millisecond sort in the order they were made) and 8 random ones.
fn new_id(at: SystemTime) -> String {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let ms = at
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64;
    let seq = SEQ.fetch_add(1, Relaxed) & 0xffff;
    format!(
        "{:012x}{seq:04x}{:08x}",
        ms & 0xffff_ffff_ffff,
        rand::random::<u32>()
    )
}

/// Counts of one history handle (the process-wide totals are in [`METRICS`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HistoryStats {
    /// Entries the writer took off the queue.
    pub written: u64,
    /// Entries lost: queue full, file write failed, or table backlog full.
    pub dropped: u64,
    /// Failed connects or inserts against `history.table`.
    pub db_errors: u64,
    /// Rows inserted into `history.table`.
    pub db_inserted: u64,
}

#[derive(Default)]
struct Counts {
    written: AtomicU64,
    dropped: AtomicU64,
    db_errors: AtomicU64,
    db_inserted: AtomicU64,
}

impl SinkCounts for Counts {
    fn dropped(&self, n: u64) {
        self.dropped.fetch_add(n, Relaxed);
        METRICS.history_dropped.add(n);
    }

    fn inserted(&self, n: u64) {
        self.db_inserted.fetch_add(n, Relaxed);
    }

    fn failed(&self) {
        self.db_errors.fetch_add(1, Relaxed);
        METRICS.history_db_errors.inc();
    }
}

struct Cached {
    at: Instant,
    examples: Vec<Example>,
}

struct Inner {
    tx: mpsc::Sender<Msg>,
    counts: Arc<Counts>,
    store: Store,
    cache: Mutex<HashMap<String, Cached>>,
}

/// The history handle. Cheap to clone (an `Arc`); every clone feeds the same writer task,
/// which stops, after writing what is queued, when the last clone is dropped.
#[derive(Clone)]
pub struct History {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("History")
            .field("store", &self.inner.store.describe())
            .finish()
    }
}

impl History {
    /// Starts the history `history.table` or `history.file` names, `None` when neither is set.
    /// Spawns the writer task, so it must be called inside a tokio runtime. Errors name the
    /// setting: both set, an unwritable file, a malformed table name or URL, a queue of 0.
    /// PostgreSQL being down is not an error: the sink retries.
    pub fn from_config(config: &Config) -> Result<Option<History>, String> {
        let Some(store) = Store::from_config(config)? else {
            return Ok(None);
        };
        let queue = config.history.queue;
        if queue == 0 {
            return Err("history.queue: expected at least 1".into());
        }
        let counts = Arc::new(Counts::default());
        let sink = if let Some(path) = store.file() {
            open_append_file(path, "history.file")?;
            Sink::File {
                path: path.to_path_buf(),
                failing: false,
            }
        } else if let Some(target) = store.target() {
            let room = queue.max(DB_BATCH_ROWS);
            let (tx, rx) = mpsc::channel(room);
            let sink = DbSink::new(target.clone(), counts.clone(), room);
            Sink::Table {
                tx,
                task: tokio::spawn(sink.run(rx)),
            }
        } else {
            return Ok(None);
        };
        let (tx, rx) = mpsc::channel(queue);
        tokio::spawn(writer::run(rx, sink, counts.clone()));
        Ok(Some(History {
            inner: Arc::new(Inner {
                tx,
                counts,
                store,
                cache: Mutex::new(HashMap::new()),
            }),
        }))
    }

    /// Queues an entry. Never blocks and never waits: when the queue is full (or the writer
    /// is gone) the entry is dropped and counted (`querent_history_dropped_total`).
    pub fn record(&self, entry: Entry) {
        if self.inner.tx.try_send(Msg::Entry(Box::new(entry))).is_err() {
            self.inner.counts.dropped(1);
        }
    }

    /// Waits until every entry queued before the call is written to the file or, for the
    /// table, one attempt was made to insert it. For tests and shutdown, not the ASK path.
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        if self.inner.tx.send(Msg::Flush(ack)).await.is_ok() {
            let _ = done.await;
        }
    }

    /// This handle's counts.
    pub fn stats(&self) -> HistoryStats {
        let c = &self.inner.counts;
        HistoryStats {
            written: c.written.load(Relaxed),
            dropped: c.dropped.load(Relaxed),
            db_errors: c.db_errors.load(Relaxed),
            db_inserted: c.db_inserted.load(Relaxed),
        }
    }

    /// Where the entries go (for reading them, `querent history`).
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The verified examples of `database` in the history, newest first. Read at most every
    /// [`EXAMPLES_TTL`] per database; when reading fails the last ones read are kept (and the
    /// failure logged). Pinned examples are in the catalog ([`Loaded::examples`]); see
    /// [`examples_for`] for both.
    pub async fn examples(&self, database: &str) -> Vec<Example> {
        let stale = {
            let cache = self.inner.cache.lock().unwrap_or_else(|p| p.into_inner());
            match cache.get(database) {
                Some(c) if c.at.elapsed() < EXAMPLES_TTL => return c.examples.clone(),
                Some(c) => Some(c.examples.clone()),
                None => None,
            }
        };
        let examples = match self.inner.store.verified(database).await {
            Ok(entries) => entries.iter().filter_map(Entry::example).collect(),
            Err(e) => {
                tracing::warn!(database, error = %e, "history: verified examples not read; the last ones read are used");
                stale.unwrap_or_default()
            }
        };
        let mut cache = self.inner.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.insert(
            database.to_string(),
            Cached {
                at: Instant::now(),
                examples: examples.clone(),
            },
        );
        examples
    }
}

/// Every example for a question on `loaded`'s database: the pinned ones of its annotation
/// files, then the verified ones of the history (when there is one), a question appearing once.
pub async fn examples_for(loaded: &Loaded, history: Option<&History>) -> Vec<Example> {
    let more = match history {
        Some(h) => h.examples(&loaded.full.catalog.database).await,
        None => Vec::new(),
    };
    merge(&loaded.examples, more)
}

#[cfg(test)]
mod tests;
