//! One client connection, from its first byte to its last: TLS negotiation, startup,
//! authentication, the startup reply, then the relay.
//!
//! Lifecycle: accept → (SSLRequest → TLS) → StartupMessage → authenticate → AuthenticationOk,
//! ParameterStatus*, BackendKeyData, ReadyForQuery → idle (no upstream held) → first message:
//! bind a pooled upstream connection and apply startup settings → relay until Terminate or
//! EOF → reset and pool the upstream connection, or cancel and drop it if a statement was
//! running.

mod ask;
mod ask_extras;
mod ask_relation;
mod intercept;
mod params;
mod plans;
mod relay;
mod replies;
mod scan;
mod tap;
mod trail;

use crate::auth::{self, Principal};
use crate::error::{sqlstate, PgError};
use crate::net::ClientStream;
use crate::protocol::startup::{read_startup, StartupPacket};
use crate::protocol::{backend, ProtocolError};
use crate::server::Shared;
use bytes::BytesMut;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tracing::Instrument;

pub use params::literal;

/// A logged-in client, ready for the relay.
pub(crate) struct Client {
    pub stream: ClientStream,
    pub principal: Principal,
    pub database: String,
    /// Settings to apply upstream when the session binds.
    pub settings: Vec<(String, String)>,
    /// What the client was told, by lower-cased parameter name.
    pub reported: Vec<(String, String)>,
    pub cancel: crate::cancel::Registration,
    /// The client's address.
    pub peer: SocketAddr,
}

/// Serves one accepted TCP connection to the end. Never panics on client input; errors go to
/// the client as ErrorResponse and to the log.
pub async fn serve(tcp: TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    let span = tracing::info_span!("conn", %peer, user = tracing::field::Empty, db = tracing::field::Empty);
    let _ = tcp.set_nodelay(true);
    let limit = shared.config.timeouts.auth.0;
    let started = tokio::time::timeout(limit, startup(tcp, peer, &shared))
        .instrument(span.clone())
        .await;
    let client = match started {
        Ok(Some(c)) => c,
        Ok(None) => return,
        Err(_) => {
            tracing::info!(parent: &span, "client did not finish startup within timeouts.auth; closed");
            return;
        }
    };
    span.record("user", client.principal.user.as_str());
    span.record("db", client.database.as_str());
    tracing::debug!(parent: &span, roles = ?client.principal.roles, "session started");
    // The relay is not instrumented: entering a span on every poll costs more than the relay
    // itself; its events name the connection span as their parent instead.
    relay::run(client, shared, span).await;
}

async fn send_fatal(stream: &mut ClientStream, e: &PgError) {
    let mut out = BytesMut::new();
    backend::error_response(&mut out, e);
    let _ = stream.write_all(&out).await;
    let _ = stream.flush().await;
    let _ = stream.shutdown().await;
}

/// Negotiation and login. `None` when the connection is finished (cancel request, error sent,
/// client gone).
async fn startup(tcp: TcpStream, peer: SocketAddr, shared: &Shared) -> Option<Client> {
    let mut stream = match direct_tls(tcp, shared).await? {
        Ok(tls) => tls,
        Err(tcp) => ClientStream::Plain(tcp),
    };
    let (version, params) = loop {
        let packet = match read_startup(&mut stream).await {
            Ok(p) => p,
            Err(ProtocolError::Closed) => return None,
            Err(e) => {
                crate::metrics::METRICS.protocol_errors.inc();
                send_fatal(
                    &mut stream,
                    &PgError::fatal(sqlstate::PROTOCOL_VIOLATION, e.to_string()),
                )
                .await;
                return None;
            }
        };
        match packet {
            StartupPacket::SslRequest => match (&shared.tls, stream) {
                (Some(tls), ClientStream::Plain(mut tcp)) => {
                    tcp.write_all(b"S").await.ok()?;
                    match tls.acceptor.accept(tcp).await {
                        Ok(tls) => stream = ClientStream::Tls(Box::new(tls)),
                        Err(e) => {
                            tracing::info!(error = %e, "TLS handshake failed");
                            return None;
                        }
                    }
                }
                (None, ClientStream::Plain(mut tcp)) => {
                    tcp.write_all(b"N").await.ok()?;
                    stream = ClientStream::Plain(tcp);
                }
                (_, mut s @ ClientStream::Tls(_)) => {
                    let e = PgError::fatal(
                        sqlstate::PROTOCOL_VIOLATION,
                        "SSLRequest received on an encrypted connection",
                    );
                    send_fatal(&mut s, &e).await;
                    return None;
                }
            },
            StartupPacket::GssEncRequest => stream.write_all(b"N").await.ok()?,
            StartupPacket::Cancel { pid, secret } => {
                // Nothing is ever written back on a cancel connection.
                match shared.cancels.lookup(pid, secret) {
                    Some(key) => crate::upstream::send_cancel(key).await,
                    None => {
                        tracing::debug!(pid, "cancel request matched no running session; ignored")
                    }
                }
                return None;
            }
            StartupPacket::Startup { version, params } => break (version, params),
        }
    };
    match login(&mut stream, shared, version, params, peer).await {
        Ok((client_parts, reply)) => {
            if stream.write_all(&reply).await.is_err() || stream.flush().await.is_err() {
                return None;
            }
            let (principal, database, settings, reported, cancel) = client_parts;
            Some(Client {
                stream,
                principal,
                database,
                settings,
                reported,
                cancel,
                peer,
            })
        }
        Err(e) => {
            send_fatal(&mut stream, &e).await;
            None
        }
    }
}

/// PostgreSQL 17 clients may start TLS at once (`sslnegotiation=direct`): the first byte is a
/// TLS handshake record (0x16) and ALPN must say `postgresql`. `Ok` is the TLS stream, `Err`
/// gives the plain socket back for the usual negotiation; `None` ends the connection.
async fn direct_tls(tcp: TcpStream, shared: &Shared) -> Option<Result<ClientStream, TcpStream>> {
    let mut first = [0u8; 1];
    let n = tcp.peek(&mut first).await.ok()?;
    let Some(config) = shared.tls.as_ref().filter(|_| n == 1 && first[0] == 0x16) else {
        return Some(Err(tcp));
    };
    let tls = match config.acceptor.accept(tcp).await {
        Ok(t) => t,
        Err(e) => {
            tracing::info!(error = %e, "direct TLS handshake failed");
            return None;
        }
    };
    if tls.get_ref().1.alpn_protocol() != Some(b"postgresql") {
        let mut s = ClientStream::Tls(Box::new(tls));
        let e = PgError::fatal(sqlstate::PROTOCOL_VIOLATION, "direct TLS connection without ALPN \"postgresql\"")
            .with_hint("direct TLS needs a client that sends ALPN postgresql (libpq 17 with sslnegotiation=direct)");
        send_fatal(&mut s, &e).await;
        return None;
    }
    Some(Ok(ClientStream::Tls(Box::new(tls))))
}

type LoginParts = (
    Principal,
    String,
    Vec<(String, String)>,
    Vec<(String, String)>,
    crate::cancel::Registration,
);

async fn login(
    stream: &mut ClientStream,
    shared: &Shared,
    version: i32,
    params: Vec<(String, String)>,
    peer: SocketAddr,
) -> Result<(LoginParts, BytesMut), PgError> {
    let mut reply = BytesMut::with_capacity(512);
    let unknown_pq: Vec<String> = params
        .iter()
        .filter(|(k, _)| k.starts_with("_pq_."))
        .map(|(k, _)| k.clone())
        .collect();
    if version & 0xffff != 0 || !unknown_pq.is_empty() {
        let mut neg = BytesMut::new();
        backend::negotiate_protocol_version(&mut neg, 0, &unknown_pq);
        stream
            .write_all(&neg)
            .await
            .map_err(|e| PgError::fatal(sqlstate::CONNECTION_FAILURE, e.to_string()))?;
    }
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let user = get("user").filter(|u| !u.is_empty()).ok_or_else(|| {
        PgError::fatal(
            sqlstate::INVALID_AUTHORIZATION,
            "no PostgreSQL user name specified in startup packet",
        )
        .with_hint("pass a user name, e.g. psql -U alice")
    })?;
    let database = get("database")
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| shared.pool.target().dbname.clone());
    let settings = params::requested_settings(&params)?;
    let users = shared.users();
    let endpoint = match (&shared.tls, stream.is_tls()) {
        (Some(tls), true) => Some(tls.endpoint.as_slice()),
        _ => None,
    };
    let checks_secrets = shared.config.auth != crate::config::AuthMode::Trust;
    if checks_secrets {
        match shared.throttle.turn(&user, peer.ip()) {
            Ok(wait) if !wait.is_zero() => {
                crate::metrics::METRICS.auth_throttled.inc();
                tracing::info!(user = %user, wait_ms = wait.as_millis() as u64, "earlier logins failed; this attempt waits its turn");
                tokio::time::sleep(wait).await;
            }
            Ok(_) => {}
            Err(wait) => {
                crate::metrics::METRICS.auth_throttled.inc();
                return Err(PgError::fatal(
                    sqlstate::INVALID_AUTHORIZATION,
                    format!("too many failed logins for user \"{user}\" from this address"),
                )
                .with_hint(format!(
                    "try again in {} s (limits.login_backoff_max)",
                    wait.as_secs().max(1)
                )));
            }
        }
    }
    let principal = auth::authenticate(
        stream,
        shared.config.auth,
        &users,
        shared.jwt.as_deref(),
        &user,
        endpoint,
    )
    .await
    .inspect_err(|e| {
        crate::metrics::METRICS.auth_failures.inc();
        // A wrong secret counts; a client that hangs up to ask its user for a password
        // (psql does) does not.
        if checks_secrets && matches!(e.code.as_str(), "28P01" | "28000") {
            shared.throttle.failed(&user, peer.ip());
        }
        tracing::info!(user = %user, code = %e.code, "authentication failed: {}", e.message);
    })?;
    if checks_secrets {
        shared.throttle.succeeded(&user, peer.ip());
    }
    let baseline = shared.pool.baseline(&database).await.map_err(|e| {
        crate::metrics::METRICS.upstream_errors.inc();
        tracing::warn!(error = %e, db = %database, "upstream unavailable at login");
        e.to_client()
    })?;
    let canonical = crate::upstream::resolve_settings(&shared.pool, &database, &settings).await?;
    let reported = params::reported(&baseline, &canonical);
    let cancel = shared.cancels.register();
    backend::auth_ok(&mut reply);
    for (k, v) in &reported {
        backend::parameter_status(&mut reply, k, v);
    }
    backend::backend_key_data(&mut reply, cancel.pid, cancel.secret);
    if let Some(guard) = shared.guard.as_ref() {
        let eff = crate::policy::Effective::new(guard.policies(), &principal);
        if eff.roles.is_empty() {
            backend::notice(
                &mut reply,
                "01000",
                &format!("user \"{}\" has no role in the policies: every table will be refused", principal.user),
                Some("an administrator gives the user a role: querent user add NAME --role ROLE (or the JWT's roles claim)"),
            );
        }
    }
    backend::ready_for_query(&mut reply, b'I');
    Ok(((principal, database, settings, reported, cancel), reply))
}
