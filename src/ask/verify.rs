//! SQL a language model wrote, checked upstream before it runs: `EXPLAIN` on one of the
//! proxy's own connections to the database (read-only by default, with a statement timeout),
//! so a wrong column, a type error or a syntax error comes back as text the model can repair
//! from, and the client never sees a failed answer. `EXPLAIN` without `ANALYZE` plans the
//! query and runs nothing; it goes through the extended protocol, which takes exactly one
//! statement. Each check has a connection of its own (a small pool per database), so one slow
//! plan never holds up another user's question.

use super::frame::Frame;
use crate::upstream::UpstreamTarget;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// Idle connections kept per database.
const IDLE_PER_DB: usize = 4;

/// Checks or runs at once per verifier: more wait (up to the timeout), so concurrent
/// questions can never open more upstream connections than this plus the idle ones.
pub const MAX_BUSY: usize = 8;

/// Longest a check may take upstream.
pub const EXPLAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections for `EXPLAIN`, per database, opened on demand.
pub struct Verifier {
    target: UpstreamTarget,
    timeout: Duration,
    busy: tokio::sync::Semaphore,
    idle: Mutex<HashMap<String, Vec<tokio_postgres::Client>>>,
}

impl Verifier {
    /// A verifier of databases of `target` (no connection is opened yet).
    pub fn new(target: UpstreamTarget) -> Verifier {
        Verifier::with_timeout(target, EXPLAIN_TIMEOUT)
    }

    /// Connections whose statements time out after `timeout` (for [`Verifier::rows`]).
    pub fn with_timeout(target: UpstreamTarget, timeout: Duration) -> Verifier {
        Verifier {
            target,
            timeout,
            busy: tokio::sync::Semaphore::new(MAX_BUSY),
            idle: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<tokio_postgres::Client>>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A turn among the [`MAX_BUSY`] checks or runs at once, waiting at most the timeout.
    async fn turn(&self) -> Result<tokio::sync::SemaphorePermit<'_>, Failed> {
        match tokio::time::timeout(self.timeout, self.busy.acquire()).await {
            Ok(Ok(p)) => Ok(p),
            // Not the SQL's fault: nothing a model could repair.
            _ => Err(Failed {
                upstream: true,
                message: format!(
                    "53300: {MAX_BUSY} answers were being checked or run at once for {} s",
                    self.timeout.as_secs()
                ),
            }),
        }
    }

    async fn take(&self, db: &str) -> Result<tokio_postgres::Client, String> {
        loop {
            let held = self.lock().get_mut(db).and_then(Vec::pop);
            match held {
                Some(c) if !c.is_closed() => return Ok(c),
                Some(_) => continue,
                None => break,
            }
        }
        let c = crate::catalog::store::connect(&self.target, db).await?;
        c.batch_execute(&format!(
            "SET default_transaction_read_only = on; SET statement_timeout = '{}ms'; \
             SET application_name = 'querent-ask'",
            self.timeout.as_millis()
        ))
        .await
        .map_err(|e| describe(&e))?;
        Ok(c)
    }

    fn give_back(&self, db: &str, c: tokio_postgres::Client) {
        let mut idle = self.lock();
        let list = idle.entry(db.to_string()).or_default();
        if list.len() < IDLE_PER_DB && !c.is_closed() {
            list.push(c);
        }
    }

    /// `Ok` when PostgreSQL can plan `sql` in database `db`; its error otherwise. `Err` with
    /// `upstream: true` when the database could not be reached at all.
    pub async fn explain(&self, db: &str, sql: &str) -> Result<(), Failed> {
        let _turn = self.turn().await?;
        let client = self.take(db).await.map_err(|e| Failed {
            message: e,
            upstream: true,
        })?;
        let explain = format!("EXPLAIN {sql}");
        let run = tokio::time::timeout(
            self.timeout + Duration::from_secs(1),
            client.query(&explain, &[]),
        );
        let (out, reusable) = match run.await {
            Ok(Ok(_)) => (Ok(()), true),
            Ok(Err(e)) => {
                let upstream = e.as_db_error().is_none();
                let failed = Failed {
                    upstream,
                    message: describe(&e),
                };
                (Err(failed), !upstream)
            }
            // Still planning upstream: the connection is not reused.
            Err(_) => (
                Err(Failed {
                    upstream: false,
                    message: format!("planning took longer than {} s", self.timeout.as_secs()),
                }),
                false,
            ),
        };
        if reusable {
            self.give_back(db, client);
        }
        out
    }
}

impl Verifier {
    /// The first `limit` rows of the query `sql` as a [`Frame`] (text values, column types
    /// from a Describe), reading no further: for `ask_insights()` and the HTTP API, which
    /// run an answer on the proxy's own read-only connection.
    pub async fn rows(&self, db: &str, sql: &str, limit: usize) -> Result<Frame, Failed> {
        use futures_util::StreamExt;
        use tokio_postgres::SimpleQueryMessage;
        let _turn = self.turn().await?;
        let client = self.take(db).await.map_err(|e| Failed {
            message: e,
            upstream: true,
        })?;
        let failed = |e: tokio_postgres::Error| Failed {
            upstream: e.as_db_error().is_none(),
            message: describe(&e),
        };
        let read = async {
            let stmt = client.prepare(sql).await.map_err(failed)?;
            let columns: Vec<(String, u32)> = stmt
                .columns()
                .iter()
                .map(|c| (c.name().to_string(), c.type_().oid()))
                .collect();
            let mut frame = Frame::new(&columns, limit);
            let stream = client.simple_query_raw(sql).await.map_err(failed)?;
            let mut stream = std::pin::pin!(stream);
            let mut complete = true;
            while let Some(m) = stream.next().await {
                if let SimpleQueryMessage::Row(r) = m.map_err(failed)? {
                    let values: Vec<Option<&[u8]>> =
                        (0..r.len()).map(|i| r.get(i).map(str::as_bytes)).collect();
                    frame.push_text(&values);
                    if frame.seen > limit as u64 {
                        complete = false;
                        break;
                    }
                }
            }
            Ok::<_, Failed>((frame, complete))
        };
        let out = match tokio::time::timeout(self.timeout + Duration::from_secs(1), read).await {
            Ok(r) => r,
            Err(_) => Err(Failed {
                upstream: false,
                message: format!("the query took longer than {} s", self.timeout.as_secs()),
            }),
        };
        match out {
            // A result read to its end leaves the connection ready for the next one.
            Ok((frame, true)) => {
                self.give_back(db, client);
                Ok(frame)
            }
            Ok((frame, false)) => Ok(frame),
            Err(f) => {
                if !f.upstream {
                    self.give_back(db, client);
                }
                Err(f)
            }
        }
    }
}

/// Why `EXPLAIN` failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Failed {
    /// PostgreSQL's message (with its hint), or the connection error.
    pub message: String,
    /// The database was not reached (no SQL error).
    pub upstream: bool,
}

fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => {
            let mut m = format!("{}: {}", d.code().code(), d.message());
            if let Some(h) = d.hint() {
                m.push_str(&format!(" (hint: {h})"));
            }
            m
        }
        None => e.to_string(),
    }
}
