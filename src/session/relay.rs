//! The relay: client messages go upstream and upstream bytes go to the client, unchanged.
//!
//! Client bytes are split into whole messages (to check them, find ASK questions and, for a
//! guarded session, pass Query and Parse through the guard: `super::ask`); upstream bytes are
//! forwarded as they are read, with a [`Scanner`] watching for ReadyForQuery so the relay knows
//! when a statement is running (and `super::replies` when the upstream reaches a refusal's
//! error or an ASK's NOTICEs). Each direction holds at most
//! one read buffer, so results stream with the client's own backpressure.

use super::scan::{Scanner, Seen};
use super::Client;
use crate::error::{sqlstate, PgError};
use crate::metrics::{StatementPath, METRICS};
use crate::protocol::backend;
use crate::protocol::frame::{peek_header, printable};
use crate::server::Shared;
use crate::upstream::{send_cancel, UpstreamConn};
use bytes::{Buf, BytesMut};
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::sleep_until;
use tracing::Instrument;

/// Sleeps until `at`, or forever. The timer is created only when polled with a deadline.
async fn maybe_sleep(at: Option<Instant>) {
    match at {
        Some(t) => sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}

const CLIENT_BUF: usize = 2048;
const UPSTREAM_BUF: usize = 32 * 1024;

/// How the relay ended.
enum End {
    /// Terminate or EOF from the client.
    ClientGone,
    /// The proxy closed the session (error already sent to the client).
    Closed,
    /// The upstream connection broke.
    UpstreamLost,
}

struct Relay {
    client: Client,
    shared: Arc<Shared>,
    up: Option<UpstreamConn>,
    cbuf: BytesMut,
    sbuf: BytesMut,
    scan: Scanner,
    /// Query, Sync and FunctionCall messages sent and not yet answered by ReadyForQuery.
    in_flight: u32,
    /// Extended-protocol messages sent since the last Sync.
    unsynced: bool,
    stmt_started: Instant,
    last_activity: Instant,
    cancel_sent: bool,
    pending_notice: Option<BytesMut>,
    draining: bool,
    saw_fatal: bool,
    /// Statements started in this session, and the span of the current one.
    seq: u64,
    stmt_span: tracing::Span,
    conn_span: tracing::Span,
    /// The guard's interception, for sessions whose principal has a policy.
    intercept: Option<super::intercept::Interceptor>,
    /// Refusal markers and ASK notices on their way, and the response cycles that place them.
    replies: super::replies::Replies,
    /// Statement time limit from the policy, if any.
    policy_timeout: Option<std::time::Duration>,
    /// Pending audit records (only filled when an audit sink is configured).
    trail: super::trail::Trail,
    who: super::trail::Who,
    /// The last question ASK answered in this session.
    conversation: Option<Box<crate::ask::Asked>>,
}

/// Runs the relay for a logged-in client until the session ends.
pub(crate) async fn run(client: Client, shared: Arc<Shared>, conn_span: tracing::Span) {
    let who = super::trail::Who {
        user: client.principal.user.clone(),
        roles: client.principal.roles.clone(),
        client_addr: client.peer.to_string(),
        database: client.database.clone(),
    };
    let now = Instant::now();
    let mut r = Relay {
        client,
        shared,
        up: None,
        cbuf: BytesMut::with_capacity(CLIENT_BUF),
        sbuf: BytesMut::new(),
        scan: Scanner::default(),
        in_flight: 0,
        unsynced: false,
        stmt_started: now,
        last_activity: now,
        cancel_sent: false,
        pending_notice: None,
        draining: false,
        saw_fatal: false,
        seq: 0,
        stmt_span: tracing::Span::none(),
        conn_span,
        intercept: None,
        replies: Default::default(),
        policy_timeout: None,
        trail: Default::default(),
        who,
        conversation: None,
    };
    let end = r.run_loop().await;
    let span = r.conn_span.clone();
    r.finish(end).instrument(span).await;
}

async fn read_up(up: &mut Option<UpstreamConn>, buf: &mut BytesMut) -> std::io::Result<usize> {
    match up {
        Some(c) => c.stream.read_buf(buf).await,
        None => std::future::pending().await,
    }
}

impl Relay {
    async fn run_loop(&mut self) -> End {
        // One long-lived future watches for shutdown, so the hot loop does not re-register a
        // waiter on every turn.
        let mut shutdown = self.shared.shutdown.clone();
        let shutdown_signal = async move {
            while !*shutdown.borrow_and_update() {
                if shutdown.changed().await.is_err() {
                    break;
                }
            }
        };
        tokio::pin!(shutdown_signal);
        let timeouts = self.shared.config.timeouts.clone();
        loop {
            if self.draining && self.in_flight == 0 {
                let e = PgError::fatal(
                    sqlstate::ADMIN_SHUTDOWN,
                    "terminating connection due to administrator command",
                )
                .with_hint(
                    "Querent is shutting down; reconnect to another instance or retry shortly",
                );
                self.send_error(&e).await;
                return End::Closed;
            }
            // Timers are armed only when their timeout is on and applies now; a disabled branch
            // is never polled, so it costs nothing on the hot path.
            let idle_at = timeouts
                .idle
                .enabled()
                .filter(|_| self.in_flight == 0)
                .map(|d| self.last_activity + d);
            let query_limit = match (timeouts.query.enabled(), self.policy_timeout) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let query_at = query_limit
                .filter(|_| self.in_flight > 0 && !self.cancel_sent)
                .map(|d| self.stmt_started + d);
            if self.cbuf.capacity() - self.cbuf.len() < 512 {
                self.cbuf.reserve(CLIENT_BUF);
            }
            tokio::select! {
                biased;
                // Upstream first: drain results before taking more requests.
                r = read_up(&mut self.up, &mut self.sbuf) => match r {
                    Ok(0) | Err(_) => return End::UpstreamLost,
                    Ok(_) => {
                        if let Some(end) = self.on_upstream_data().await {
                            return end;
                        }
                    }
                },
                r = self.client.stream.read_buf(&mut self.cbuf) => match r {
                    Ok(0) | Err(_) => return End::ClientGone,
                    Ok(_) => {
                        self.last_activity = Instant::now();
                        if let Some(end) = self.on_client_data().await {
                            return end;
                        }
                    }
                },
                _ = maybe_sleep(idle_at), if idle_at.is_some() => {
                    let e = PgError::fatal(sqlstate::IDLE_SESSION_TIMEOUT, "terminating connection due to idle-session timeout")
                        .with_hint(format!("the session was idle longer than timeouts.idle ({} s); reconnect", timeouts.idle.0.as_secs_f64()));
                    self.send_error(&e).await;
                    return End::Closed;
                },
                _ = maybe_sleep(query_at), if query_at.is_some() => self.cancel_for_timeout(query_limit.unwrap_or_default()),
                _ = &mut shutdown_signal, if !self.draining => self.draining = true,
            }
        }
    }

    /// Splits the client buffer into whole messages, checks them and forwards them upstream.
    async fn on_client_data(&mut self) -> Option<End> {
        let max = self.shared.config.limits.max_message_size;
        let mut end = 0;
        let mut terminate = false;
        let mut found = Vec::new();
        let cycles = self.replies.cycles();
        loop {
            let header = match peek_header(&self.cbuf[end..], max) {
                Ok(Some(h)) => h,
                Ok(None) => break,
                Err(e) => return Some(self.protocol_violation(e.to_string()).await),
            };
            if self.cbuf.len() - end < header.total {
                self.cbuf.reserve(header.total - (self.cbuf.len() - end));
                break;
            }
            self.replies.client(header.tag);
            match header.tag {
                b'X' => {
                    terminate = true;
                    break;
                }
                b'Q' | b'F' => self.statement_sent(),
                b'S' => {
                    self.unsynced = false;
                    self.statement_sent();
                }
                b'P' | b'B' | b'E' | b'D' | b'C' => self.unsynced = true,
                b'H' | b'd' | b'c' | b'f' => {}
                other => {
                    return Some(
                        self.protocol_violation(format!(
                            "invalid frontend message type {}",
                            printable(other) as u32
                        ))
                        .await,
                    )
                }
            }
            if matches!(header.tag, b'Q' | b'P') {
                if let Some(req) = super::ask::question(&self.cbuf[end..end + header.total]) {
                    found.push(super::ask::Found {
                        offset: end,
                        what: req,
                    });
                }
            }
            end += header.total;
        }
        if end > 0 {
            if self.up.is_none() {
                let span = self.conn_span.clone();
                if let Err(e) = self.bind().instrument(span).await {
                    self.send_error(&e).await;
                    return Some(End::Closed);
                }
            }
            let ctx = super::ask::Ctx {
                shared: &self.shared,
                database: &self.client.database,
                principal: &self.client.principal,
                intercept: self.intercept.as_mut(),
                replies: &mut self.replies,
                cycles,
                trail: self.shared.auditor.is_enabled().then_some(&mut self.trail),
                conversation: &mut self.conversation,
                cancel: &self.client.cancel,
            };
            let rewritten = super::ask::rewrite(ctx, &self.cbuf[..end], found).await;
            let Some(up) = self.up.as_mut() else {
                return Some(End::Closed);
            };
            let bytes = rewritten.as_deref().unwrap_or(&self.cbuf[..end]);
            if up.stream.write_all(bytes).await.is_err() {
                return Some(End::UpstreamLost);
            }
            self.cbuf.advance(end);
        }
        terminate.then_some(End::ClientGone)
    }

    fn statement_sent(&mut self) {
        if self.in_flight == 0 {
            self.start_statement(Instant::now());
        }
        self.in_flight += 1;
    }

    /// Opens the span of the next statement (a disabled span costs nothing when debug is off).
    fn start_statement(&mut self, at: Instant) {
        self.seq += 1;
        self.stmt_started = at;
        self.stmt_span = tracing::debug_span!(parent: &self.conn_span, "statement", seq = self.seq, path = "passthrough");
    }

    /// Forwards what the upstream sent and tracks ReadyForQuery.
    async fn on_upstream_data(&mut self) -> Option<End> {
        if self.replies.active() {
            return self.on_upstream_data_rewriting().await;
        }
        self.forward_upstream().await
    }

    /// Slow path while a refusal's error or an ASK's NOTICE is on its way: the bytes that
    /// finish the message in progress go out as they are, whole messages after them pass
    /// through [`super::replies::Replies::upstream`].
    async fn on_upstream_data_rewriting(&mut self) -> Option<End> {
        let head = self.scan.head_len(&self.sbuf);
        if head > 0 {
            let rest = self.sbuf.split_off(head);
            if let Some(end) = self.forward_upstream().await {
                return Some(end);
            }
            self.sbuf = rest;
        }
        if self.sbuf.is_empty() {
            return None;
        }
        let mut out = BytesMut::new();
        self.replies.upstream(&self.sbuf, &mut out);
        self.sbuf = out;
        if self.sbuf.is_empty() {
            return None;
        }
        self.forward_upstream().await
    }

    /// Forwards `sbuf` to the client as it is and tracks ReadyForQuery.
    async fn forward_upstream(&mut self) -> Option<End> {
        // ReadyForQuery messages completed by this read, and the last transaction status.
        let (mut finished, mut status) = (0u32, b'I');
        let at_boundary = self.scan.at_boundary();
        let mut fatal = false;
        let auditing = self.shared.auditor.is_enabled();
        let (trail, who, auditor) = (&mut self.trail, &self.who, &self.shared.auditor);
        let replies = &mut self.replies;
        self.scan.feed(&self.sbuf, |m: Seen| {
            replies.seen(m.tag);
            if m.tag == b'Z' {
                finished += 1;
                status = m.status();
                if auditing {
                    trail.finish(who, auditor);
                }
            } else if m.is_fatal_error() {
                fatal = true;
            } else if auditing {
                if let Some(rows) = m.rows() {
                    trail.rows(rows);
                }
            }
        });
        self.saw_fatal |= fatal;
        if at_boundary {
            if let Some(notice) = self.pending_notice.take() {
                if self.client.stream.write_all(&notice).await.is_err() {
                    return Some(End::ClientGone);
                }
            }
        }
        if self.client.stream.write_all(&self.sbuf).await.is_err()
            || self.client.stream.flush().await.is_err()
        {
            return Some(End::ClientGone);
        }
        self.sbuf.clear();
        if self.sbuf.capacity() < UPSTREAM_BUF {
            self.sbuf.reserve(UPSTREAM_BUF);
        }
        if finished > 0 {
            if let Some(up) = self.up.as_mut() {
                up.tx_status = status;
            }
            self.cancel_sent = false;
        }
        for _ in 0..finished {
            self.in_flight = self.in_flight.saturating_sub(1);
            let now = Instant::now();
            METRICS.statement(StatementPath::Passthrough, now - self.stmt_started);
            if tracing::enabled!(tracing::Level::DEBUG) {
                let took_us = (now - self.stmt_started).as_micros() as u64;
                self.stmt_span
                    .in_scope(|| tracing::debug!(took_us, "statement done"));
            }
            if self.in_flight > 0 {
                self.start_statement(now);
            }
        }
        None
    }

    /// Takes a pooled upstream connection and applies the client's startup settings.
    async fn bind(&mut self) -> Result<(), PgError> {
        let mut up = self
            .shared
            .pool
            .acquire(&self.client.database)
            .await
            .map_err(|e| {
                METRICS.upstream_errors.inc();
                self.conn_span
                    .in_scope(|| tracing::warn!(error = %e, "cannot bind an upstream connection"));
                e.to_client()
            })?;
        let mut settings = self.client.settings.clone();
        if let Some(guard) = self.shared.guard.as_ref() {
            match self.guard_session(guard).await {
                Ok(Some(sg)) => {
                    if let Err(e) = sg.check_startup(&self.client.settings) {
                        self.shared.pool.put_clean(up);
                        return Err(e);
                    }
                    if sg.effective.read_only {
                        // Belt and braces: the upstream refuses writes too (volatile functions).
                        settings.push(("default_transaction_read_only".into(), "on".into()));
                    }
                    // The guard's parser reads strings the standard way; the upstream must too,
                    // or a backslash could make them see two different statements.
                    settings.push(("standard_conforming_strings".into(), "on".into()));
                    self.policy_timeout = sg.effective.statement_timeout;
                    self.intercept = Some(super::intercept::Interceptor::new(
                        sg,
                        self.shared.auditor.is_enabled(),
                        self.shared.config.guard.plan_cache == "on",
                    ));
                }
                Ok(None) => {}
                Err(e) => {
                    self.shared.pool.put_clean(up);
                    return Err(e);
                }
            }
        }
        if let Some(sql) = super::params::apply_statement(&settings) {
            let changed = super::params::apply_settings(&mut up, &sql, &self.client.reported).await;
            match changed {
                Ok(bytes) => {
                    if !bytes.is_empty() {
                        self.pending_notice = Some(bytes); // ParameterStatus updates, sent at a boundary
                    }
                }
                Err(e) => {
                    self.shared.pool.release(up).await;
                    return Err(e);
                }
            }
        }
        self.client.cancel.set_upstream(Some(up.key));
        self.sbuf.reserve(UPSTREAM_BUF);
        self.up = Some(up);
        Ok(())
    }

    /// The guard for this session (None for trusted principals).
    async fn guard_session(
        &self,
        guard: &crate::guard::Guard,
    ) -> Result<Option<crate::guard::SessionGuard>, PgError> {
        let user = self.shared.pool.target().user.clone();
        let path = self
            .client
            .settings
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case("search_path"))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| "\"$user\", public".to_string());
        // As PostgreSQL reads the list; a malformed one is refused by `check_startup`.
        let search_path = crate::guard::settings::split_identifier_list(&path)
            .unwrap_or_default()
            .into_iter()
            .map(|p| if p == "$user" { user.clone() } else { p })
            .collect();
        guard
            .session(&self.client.principal, &self.client.database, search_path)
            .await
    }

    fn cancel_for_timeout(&mut self, limit: std::time::Duration) {
        self.cancel_sent = true;
        if let Some(up) = &self.up {
            self.stmt_span.in_scope(|| {
                tracing::warn!(
                    limit_ms = limit.as_millis() as u64,
                    "statement exceeded timeouts.query; cancelling upstream"
                )
            });
            let mut n = BytesMut::new();
            backend::notice(
                &mut n,
                "57014",
                &format!(
                    "Querent cancelled the statement: it ran longer than timeouts.query ({} ms)",
                    limit.as_millis()
                ),
                Some("make the query cheaper, or ask the operator to raise timeouts.query"),
            );
            self.pending_notice = Some(n);
            tokio::spawn(send_cancel(up.key));
        }
    }

    async fn protocol_violation(&mut self, msg: String) -> End {
        METRICS.protocol_errors.inc();
        self.conn_span
            .in_scope(|| tracing::info!("protocol violation: {msg}"));
        let e = PgError::fatal(sqlstate::PROTOCOL_VIOLATION, msg)
            .with_hint("the client sent bytes that are not a valid PostgreSQL v3 message; the connection was closed");
        self.send_error(&e).await;
        End::Closed
    }

    async fn send_error(&mut self, e: &PgError) {
        let mut out = BytesMut::new();
        backend::error_response(&mut out, e);
        let _ = self.client.stream.write_all(&out).await;
        let _ = self.client.stream.flush().await;
    }

    /// Puts the upstream connection back (reset) when it is clean, otherwise cancels what runs
    /// there and drops it.
    async fn finish(mut self, end: End) {
        self.client.cancel.set_upstream(None);
        if let End::UpstreamLost = end {
            METRICS.upstream_errors.inc();
            if !self.saw_fatal {
                let e = PgError::fatal(sqlstate::CONNECTION_FAILURE, "the upstream PostgreSQL connection was lost")
                    .with_hint("the upstream server closed the connection (restart, crash or pg_terminate_backend); reconnect");
                self.send_error(&e).await;
            }
            tracing::warn!(in_flight = self.in_flight, "upstream connection lost");
            self.up = None;
        }
        let _ = self.client.stream.shutdown().await;
        let Some(up) = self.up.take() else { return };
        if self.in_flight > 0 || self.unsynced {
            if self.in_flight > 0 {
                tracing::info!("client left during a statement; cancelling it upstream");
                send_cancel(up.key).await;
            }
            drop(up); // never pooled dirty
        } else {
            self.shared.pool.release(up).await;
        }
    }
}
