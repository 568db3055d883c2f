//! Session-affine upstream connections: a client takes one at its first statement and keeps
//! it; on disconnect it is reset (`ROLLBACK` if needed, `DISCARD ALL`) and kept idle for the
//! next client of the same database.

use super::connect::{connect, CancelKey, OpenGuard, UpstreamConn};
use super::{UpstreamError, UpstreamTarget};
use crate::protocol::frame::read_message;
use bytes::BytesMut;
use postgres_protocol::message::frontend;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// A pooled connection, detached from any runtime's I/O driver so that a session on any
/// worker thread can take it (it is registered again with that worker's driver).
struct Idle {
    stream: std::net::TcpStream,
    params: Vec<(String, String)>,
    key: CancelKey,
    db: String,
    open: OpenGuard,
}

impl Idle {
    fn detach(c: UpstreamConn) -> std::io::Result<Idle> {
        Ok(Idle {
            stream: c.stream.into_std()?,
            params: c.params,
            key: c.key,
            db: c.db,
            open: c.open,
        })
    }

    /// A pooled socket must have nothing to read: data or EOF there means the server closed
    /// it (restart, `pg_terminate_backend`, idle timeout).
    fn is_alive(&self) -> bool {
        let mut b = [0u8; 1];
        matches!(self.stream.peek(&mut b), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
    }

    fn attach(self) -> std::io::Result<UpstreamConn> {
        Ok(UpstreamConn {
            stream: tokio::net::TcpStream::from_std(self.stream)?,
            params: self.params,
            key: self.key,
            db: self.db,
            tx_status: b'I',
            open: self.open,
        })
    }
}

/// ParameterStatus values of a fresh upstream login, per database.
pub type Baseline = Arc<Vec<(String, String)>>;

/// The pool of idle upstream connections, keyed by database.
pub struct Pool {
    target: UpstreamTarget,
    connect_timeout: Duration,
    max_idle: usize,
    idle: Mutex<HashMap<String, Vec<Idle>>>,
    baselines: Mutex<HashMap<String, Baseline>>,
    settings: super::settings::SettingsCache,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind; keep serving.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

const RESET_TIMEOUT: Duration = Duration::from_secs(5);

impl Pool {
    /// A pool for the target.
    pub fn new(target: UpstreamTarget, connect_timeout: Duration, max_idle: usize) -> Self {
        Pool {
            target,
            connect_timeout,
            max_idle,
            idle: Mutex::new(HashMap::new()),
            baselines: Mutex::new(HashMap::new()),
            settings: Default::default(),
        }
    }

    /// The upstream this pool connects to.
    pub fn target(&self) -> &UpstreamTarget {
        &self.target
    }

    /// An idle connection to `db`, or a new one.
    pub async fn acquire(&self, db: &str) -> Result<UpstreamConn, UpstreamError> {
        loop {
            let conn = lock(&self.idle).get_mut(db).and_then(Vec::pop);
            let Some(idle) = conn else { break };
            crate::metrics::METRICS.pool_idle.dec();
            if idle.is_alive() {
                match idle.attach() {
                    Ok(c) => return Ok(c),
                    Err(e) => tracing::warn!(error = %e, "cannot reuse a pooled connection"),
                }
            } // closed while idle, or unusable: drop it and try the next
        }
        let conn = connect(&self.target, db, self.connect_timeout).await?;
        lock(&self.baselines)
            .entry(db.to_string())
            .or_insert_with(|| Arc::new(conn.params.clone()));
        Ok(conn)
    }

    /// The parameters a fresh login to `db` reports; logs in once (and pools that connection)
    /// the first time, which also checks that the database exists.
    pub async fn baseline(&self, db: &str) -> Result<Baseline, UpstreamError> {
        if let Some(b) = lock(&self.baselines).get(db) {
            return Ok(b.clone());
        }
        let conn = self.acquire(db).await?;
        let b = Arc::new(conn.params.clone());
        self.put_idle(conn);
        Ok(b)
    }

    /// Canonical values of startup settings already asked of the upstream.
    pub(crate) fn settings_cache(&self) -> &super::settings::SettingsCache {
        &self.settings
    }

    /// Returns a connection that is known clean (idle, nothing changed) without a reset.
    pub fn put_clean(&self, conn: UpstreamConn) {
        self.put_idle(conn);
    }

    /// Resets a connection a client is done with and keeps it idle; drops it if the reset fails.
    pub async fn release(&self, mut conn: UpstreamConn) {
        match tokio::time::timeout(RESET_TIMEOUT, reset(&mut conn)).await {
            Ok(Ok(())) => self.put_idle(conn),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "upstream reset failed; closing the connection")
            }
            Err(_) => tracing::warn!("upstream reset timed out; closing the connection"),
        }
    }

    fn put_idle(&self, conn: UpstreamConn) {
        let idle_conn = match Idle::detach(conn) {
            Ok(i) => i,
            Err(e) => return tracing::warn!(error = %e, "cannot pool a connection"),
        };
        let mut idle = lock(&self.idle);
        let list = idle.entry(idle_conn.db.clone()).or_default();
        if list.len() < self.max_idle {
            list.push(idle_conn);
            crate::metrics::METRICS.pool_idle.inc();
        }
    }
}

async fn reset(conn: &mut UpstreamConn) -> Result<(), String> {
    let mut out = BytesMut::new();
    let mut expected = 1;
    if conn.tx_status != b'I' {
        frontend::query("ROLLBACK", &mut out).map_err(|e| e.to_string())?;
        expected += 1;
    }
    frontend::query("DISCARD ALL", &mut out).map_err(|e| e.to_string())?;
    conn.stream
        .write_all(&out)
        .await
        .map_err(|e| e.to_string())?;
    let mut buf = BytesMut::with_capacity(512);
    while expected > 0 {
        let (tag, body) = read_message(&mut conn.stream, &mut buf, 1 << 20)
            .await
            .map_err(|e| e.to_string())?;
        match tag {
            b'E' => return Err(crate::protocol::backend::parse_error_fields(&body).to_string()),
            b'Z' => {
                expected -= 1;
                conn.tx_status = body.first().copied().unwrap_or(b'I');
            }
            _ => {}
        }
    }
    if !buf.is_empty() || conn.tx_status != b'I' {
        return Err("connection not idle after reset".into());
    }
    Ok(())
}
