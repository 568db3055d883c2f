//! The upstream PostgreSQL: where it is, how the proxy logs in, the pool of session-affine
//! connections and cancel forwarding.

mod connect;
mod pool;
mod settings;

pub use connect::{send_cancel, CancelKey, UpstreamConn};
pub use pool::Pool;
pub use settings::resolve as resolve_settings;

use crate::error::{sqlstate, PgError};
use std::str::FromStr;

/// Where the upstream is and the proxy's own login there.
#[derive(Debug, Clone)]
pub struct UpstreamTarget {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Login user of the proxy.
    pub user: String,
    /// Its password, if the upstream asks for one.
    pub password: Option<Vec<u8>>,
    /// Database used when a client names none.
    pub dbname: String,
}

impl UpstreamTarget {
    /// Parses a `postgres://user:pass@host:port/db` URL or a `key=value` connection string.
    pub fn parse(s: &str) -> Result<UpstreamTarget, String> {
        let c = tokio_postgres::Config::from_str(s)
            .map_err(|e| format!("invalid upstream URL \"{s}\": {e}; expected postgres://user[:password]@host[:port]/database"))?;
        let host = match c.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
            Some(_) => {
                return Err(
                    "unix-socket upstreams are not supported; use a TCP host such as 127.0.0.1"
                        .into(),
                )
            }
            None => "127.0.0.1".into(),
        };
        let user = c
            .get_user()
            .ok_or_else(|| {
                format!("upstream URL \"{s}\" names no user: write postgres://USER@host/db")
            })?
            .to_string();
        Ok(UpstreamTarget {
            host,
            port: c.get_ports().first().copied().unwrap_or(5432),
            dbname: c.get_dbname().unwrap_or(&user).to_string(),
            user,
            password: c.get_password().map(|p| p.to_vec()),
        })
    }
}

/// Why the upstream could not be used.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// TCP connect failed or timed out.
    #[error("could not connect to upstream {addr}: {reason}")]
    Connect {
        /// host:port tried.
        addr: String,
        /// What went wrong.
        reason: String,
    },
    /// The upstream refused the login or the database (its own error, passed on).
    #[error("upstream refused the connection: {0}")]
    Rejected(PgError),
    /// The upstream broke the protocol or the connection dropped during login.
    #[error("upstream protocol error: {0}")]
    Protocol(String),
}

impl UpstreamError {
    /// The error a client sees.
    pub fn to_client(&self) -> PgError {
        match self {
            UpstreamError::Connect { .. } => PgError::fatal(sqlstate::CANNOT_CONNECT, self.to_string())
                .with_hint("check that the upstream PostgreSQL is running and that `upstream` in the Querent config points at it"),
            UpstreamError::Rejected(e) => {
                let mut e = e.clone();
                e.severity = crate::error::Severity::Fatal;
                e
            }
            UpstreamError::Protocol(_) => PgError::fatal(sqlstate::CONNECTION_FAILURE, self.to_string())
                .with_hint("the upstream connection failed during login; try again, and check the upstream's log"),
        }
    }
}
