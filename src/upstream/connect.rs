//! Opening an upstream connection: TCP, StartupMessage, the proxy's own authentication
//! (trust, cleartext, MD5, SCRAM-SHA-256), then ParameterStatus and BackendKeyData.

use super::{UpstreamError, UpstreamTarget};
use crate::protocol::backend::parse_error_fields;
use crate::protocol::frame::{read_message, take_cstr, take_i32};
use bytes::BytesMut;
use postgres_protocol::authentication::sasl::{ChannelBinding, ScramSha256};
use postgres_protocol::message::frontend;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What is needed to cancel a query on an upstream backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CancelKey {
    /// Address of the upstream server.
    pub addr: SocketAddr,
    /// Backend process id.
    pub pid: i32,
    /// Backend secret.
    pub secret: i32,
}

/// One logged-in upstream connection.
pub struct UpstreamConn {
    /// The socket.
    pub stream: TcpStream,
    /// ParameterStatus values reported at login.
    pub params: Vec<(String, String)>,
    /// Key for cancelling its queries.
    pub key: CancelKey,
    /// Database it is connected to.
    pub db: String,
    /// Transaction status from the last ReadyForQuery.
    pub tx_status: u8,
    /// Counts the connection in `querent_upstream_connections` while it lives.
    pub open: OpenGuard,
}

/// Keeps the open-connections gauge right however a connection ends.
#[derive(Debug)]
pub struct OpenGuard(());

impl OpenGuard {
    fn new() -> Self {
        crate::metrics::METRICS.upstream_open.inc();
        OpenGuard(())
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        crate::metrics::METRICS.upstream_open.dec();
    }
}

const MAX_LOGIN_MESSAGE: usize = 1 << 20;

fn io_err(e: impl std::fmt::Display) -> UpstreamError {
    UpstreamError::Protocol(e.to_string())
}

/// Connects and logs in to `db` on the target, within `timeout`.
pub async fn connect(
    target: &UpstreamTarget,
    db: &str,
    timeout: Duration,
) -> Result<UpstreamConn, UpstreamError> {
    let addr = format!("{}:{}", target.host, target.port);
    match tokio::time::timeout(timeout, connect_inner(target, db, &addr)).await {
        Ok(r) => r,
        Err(_) => Err(UpstreamError::Connect {
            addr,
            reason: format!(
                "timed out after {} ms (timeouts.connect)",
                timeout.as_millis()
            ),
        }),
    }
}

async fn connect_inner(
    target: &UpstreamTarget,
    db: &str,
    addr: &str,
) -> Result<UpstreamConn, UpstreamError> {
    let mut stream = TcpStream::connect(addr)
        .await
        .map_err(|e| UpstreamError::Connect {
            addr: addr.to_string(),
            reason: e.to_string(),
        })?;
    stream.set_nodelay(true).map_err(io_err)?;
    let peer = stream.peer_addr().map_err(io_err)?;
    let mut out = BytesMut::new();
    frontend::startup_message([("user", target.user.as_str()), ("database", db)], &mut out)
        .map_err(io_err)?;
    stream.write_all(&out).await.map_err(io_err)?;
    let mut buf = BytesMut::with_capacity(1024);
    let mut params = Vec::new();
    let mut key = None;
    let mut scram: Option<ScramSha256> = None;
    loop {
        let (tag, body) = read_message(&mut stream, &mut buf, MAX_LOGIN_MESSAGE)
            .await
            .map_err(io_err)?;
        let mut b = &body[..];
        out.clear();
        match tag {
            b'R' => {
                let code = take_i32(&mut b).map_err(io_err)?;
                authenticate_step(target, code, b, &mut scram, &mut out)?;
                if !out.is_empty() {
                    stream.write_all(&out).await.map_err(io_err)?;
                }
            }
            b'S' => {
                let k = take_cstr(&mut b).map_err(io_err)?;
                let v = take_cstr(&mut b).map_err(io_err)?;
                params.push((k, v));
            }
            b'K' => {
                let pid = take_i32(&mut b).map_err(io_err)?;
                let secret = take_i32(&mut b).map_err(io_err)?;
                key = Some(CancelKey {
                    addr: peer,
                    pid,
                    secret,
                });
            }
            b'E' => return Err(UpstreamError::Rejected(parse_error_fields(b))),
            b'Z' => {
                let key = key.ok_or_else(|| io_err("upstream sent no BackendKeyData"))?;
                crate::metrics::METRICS.upstream_connects.inc();
                return Ok(UpstreamConn {
                    stream,
                    params,
                    key,
                    db: db.to_string(),
                    tx_status: b.first().copied().unwrap_or(b'I'),
                    open: OpenGuard::new(),
                });
            }
            _ => {} // NoticeResponse, NegotiateProtocolVersion: nothing to do
        }
    }
}

fn authenticate_step(
    target: &UpstreamTarget,
    code: i32,
    body: &[u8],
    scram: &mut Option<ScramSha256>,
    out: &mut BytesMut,
) -> Result<(), UpstreamError> {
    let need_password = || {
        target.password.clone().ok_or_else(|| {
            UpstreamError::Protocol(
                "the upstream asks for a password but the upstream URL has none: write postgres://user:PASSWORD@host/db".into(),
            )
        })
    };
    match code {
        0 => {}
        3 => frontend::password_message(&need_password()?, out).map_err(io_err)?,
        5 => {
            let salt: [u8; 4] = body
                .get(..4)
                .and_then(|s| s.try_into().ok())
                .ok_or_else(|| io_err("short MD5 salt"))?;
            let hash = postgres_protocol::authentication::md5_hash(
                target.user.as_bytes(),
                &need_password()?,
                salt,
            );
            frontend::password_message(hash.as_bytes(), out).map_err(io_err)?;
        }
        10 => {
            let offers_scram = body.split(|&c| c == 0).any(|m| m == b"SCRAM-SHA-256");
            if !offers_scram {
                return Err(io_err(
                    "upstream offers no SASL mechanism Querent supports (SCRAM-SHA-256)",
                ));
            }
            let s = ScramSha256::new(&need_password()?, ChannelBinding::unsupported());
            frontend::sasl_initial_response("SCRAM-SHA-256", s.message(), out).map_err(io_err)?;
            *scram = Some(s);
        }
        11 => {
            let s = scram
                .as_mut()
                .ok_or_else(|| io_err("unexpected SASL continue"))?;
            s.update(body).map_err(io_err)?;
            frontend::sasl_response(s.message(), out).map_err(io_err)?;
        }
        12 => {
            let mut s = scram
                .take()
                .ok_or_else(|| io_err("unexpected SASL final"))?;
            s.finish(body)
                .map_err(|e| io_err(format!("upstream SCRAM verification failed: {e}")))?;
        }
        other => {
            return Err(io_err(format!(
                "upstream asks for unsupported authentication method {other}"
            )))
        }
    }
    Ok(())
}

/// Sends a CancelRequest for `key` to the upstream. Errors are logged, never returned: a
/// cancel is best effort, as in Postgres.
pub async fn send_cancel(key: CancelKey) {
    let attempt = async {
        let mut s = TcpStream::connect(key.addr).await?;
        let mut out = BytesMut::new();
        frontend::cancel_request(key.pid, key.secret, &mut out);
        s.write_all(&out).await?;
        // The server closes the socket once it has handled the request.
        let mut sink = [0u8; 16];
        let _ = s.read(&mut sink).await;
        Ok::<_, std::io::Error>(())
    };
    match tokio::time::timeout(Duration::from_secs(5), attempt).await {
        Ok(Ok(())) => crate::metrics::METRICS.upstream_cancels.inc(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, pid = key.pid, "could not forward cancel request upstream")
        }
        Err(_) => tracing::warn!(pid = key.pid, "cancel request to upstream timed out"),
    }
}
