//! `querent serve`: the listener, shared state, graceful shutdown.

use crate::auth::users::UsersFile;
use crate::cancel::CancelRegistry;
use crate::config::Config;
use crate::error::{sqlstate, PgError};
use crate::upstream::{Pool, UpstreamTarget};
use crate::workers::{Job, Workers};
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

/// State every session shares.
pub struct Shared {
    /// The configuration in force.
    pub config: Config,
    /// TLS acceptor when TLS is configured.
    pub tls: Option<crate::net::Tls>,
    users: RwLock<Arc<UsersFile>>,
    /// Upstream connections.
    pub pool: Pool,
    /// Cancel keys of live sessions.
    pub cancels: Arc<CancelRegistry>,
    /// Becomes true when the server begins to shut down.
    pub shutdown: watch::Receiver<bool>,
    /// The JWT verifier, when `auth = "jwt"` or `jwt.*` keys are set (loaded at start).
    pub jwt: Option<Arc<crate::auth::jwt::JwtVerifier>>,
    /// Backoff after failed logins.
    pub throttle: crate::auth::throttle::Throttle,
    /// The policy guard, when `policies` is set.
    pub guard: Option<crate::guard::Guard>,
    /// The audit sink (disabled unless audit.file or audit.table is set).
    pub auditor: crate::audit::Auditor,
    /// What Querent knows about each upstream database.
    pub catalog: Arc<crate::catalog::store::CatalogStore>,
    /// ASK plans by question, principal kind, policy and schema version.
    pub ask_cache: crate::ask::cache::PlanCache,
    /// The language model ASK may ask (`llm.*`), when one is configured.
    pub ask_model: Option<crate::ask::llm::ModelAgent>,
    /// The ASK history (`history.*`), when one is configured.
    pub history: Option<crate::history::History>,
    /// Charts of answers, served by the admin port (`GET /v1/charts/<id>.svg`).
    pub charts: Arc<crate::ask::chart::Charts>,
    /// The proxy's own read-only connections that run answers (`ask_insights()`, the API).
    pub runner: crate::ask::verify::Verifier,
    /// Conversations of the HTTP API, by session id.
    pub api_sessions: crate::api::Sessions,
}

impl Shared {
    /// The users file as loaded.
    pub fn users(&self) -> Arc<UsersFile> {
        self.users.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// What answers a question of `principal` in `database`: the server's catalog, guard,
    /// caches, model and history, with the session's guard and last answer.
    pub fn asker<'a>(
        &'a self,
        database: &'a str,
        principal: &'a crate::auth::Principal,
        session: Option<&'a mut crate::guard::SessionGuard>,
        previous: Option<&'a crate::ask::Asked>,
    ) -> crate::ask::Asker<'a> {
        crate::ask::Asker {
            catalog: &self.catalog,
            guard: self.guard.as_ref(),
            plans: &self.ask_cache,
            model: self.ask_model.as_ref(),
            database,
            principal,
            session,
            previous,
            history: self.history.as_ref(),
        }
    }
}

/// A running server.
pub struct Server {
    /// Where clients connect.
    pub addr: SocketAddr,
    /// Where the admin HTTP port listens, if enabled.
    pub admin_addr: Option<SocketAddr>,
    shutdown_tx: watch::Sender<bool>,
    done: tokio::task::JoinHandle<()>,
    shared: Arc<Shared>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StartError(pub String);

/// Binds the listeners and starts serving in the background.
pub async fn start(config: Config) -> Result<Server, StartError> {
    let tls = match (&config.tls.cert, &config.tls.key) {
        (Some(c), Some(k)) => Some(crate::net::tls_acceptor(c, k).map_err(StartError)?),
        _ => None,
    };
    let users = match &config.users {
        Some(p) => UsersFile::load(p, false).map_err(StartError)?,
        None => UsersFile::default(),
    };
    // Keys are loaded for `auth = jwt` logins, and whenever some are configured for the HTTP
    // API's bearer tokens (`POST /v1/ask`).
    let j = &config.jwt;
    let keys = j.secret.is_some()
        || j.secret_file.is_some()
        || !j.public_keys.0.is_empty()
        || j.jwks.is_some();
    let jwt = if config.auth == crate::config::AuthMode::Jwt || keys {
        let verifier = crate::auth::jwt::JwtVerifier::load(&config.jwt).map_err(StartError)?;
        tracing::info!(?verifier, "JWTs are checked with these keys");
        Some(Arc::new(verifier))
    } else {
        None
    };
    if config.auth == crate::config::AuthMode::Trust {
        tracing::warn!(
            "auth = trust: any client may connect as any user; use scram outside local development"
        );
    }
    let target = UpstreamTarget::parse(&config.upstream).map_err(StartError)?;
    let guard = match &config.policies {
        Some(dir) => {
            let policies = crate::policy::load_dir(dir).map_err(|errs| {
                StartError(format!(
                    "policies in {} do not load:\n{}",
                    dir.display(),
                    errs.iter()
                        .map(|d| format!("  {d}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                ))
            })?;
            tracing::info!(roles = policies.roles.len(), dir = %dir.display(), "policies loaded; every statement of a guarded role is checked");
            let key = if config.guard.mask_secret.is_empty() {
                tracing::warn!("guard.mask_secret is not set: hash masks use a random key for this process only; set it for hashes that stay the same across restarts and replicas");
                let mut raw = [0u8; 32];
                rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut raw);
                raw.iter().map(|b| format!("{b:02x}")).collect::<String>()
            } else {
                config.guard.mask_secret.clone()
            };
            tokio::spawn(crate::guard::warn_if_privileged(target.clone()));
            Some(crate::guard::Guard::new(policies, target.clone(), &key))
        }
        None => None,
    };
    let auditor = crate::audit::Auditor::from_config(&config).map_err(StartError)?;
    let catalog = Arc::new(
        crate::catalog::store::CatalogStore::new(&config, target.clone()).map_err(StartError)?,
    );
    let ask_model =
        crate::ask::llm::ModelAgent::from_config(&config, target.clone()).map_err(StartError)?;
    if let Some(m) = &ask_model {
        tracing::info!(
            model = m.model(),
            always = m.always(),
            "ASK may ask a language model"
        );
    }
    let history = crate::history::History::from_config(&config).map_err(StartError)?;
    let listen = config.listen_addr().map_err(|e| StartError(e.0))?;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| StartError(format!("cannot listen on {listen}: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| StartError(e.to_string()))?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let charts = Arc::new(crate::ask::chart::Charts::new(
        crate::ask::chart::CAPACITY,
        config.ask.chart_ttl.0,
    ));
    let admin_at = config.admin_addr().map_err(|e| StartError(e.0))?;
    spawn_catalog_refresh(catalog.clone(), target.dbname.clone(), &config);
    let throttle = crate::auth::throttle::Throttle::new(
        config.limits.login_backoff.0,
        config.limits.login_backoff_max.0,
    );
    let shared = Arc::new(Shared {
        catalog,
        ask_cache: Default::default(),
        ask_model,
        history,
        charts,
        runner: crate::ask::verify::Verifier::with_timeout(
            target.clone(),
            config.ask.run_timeout.0,
        ),
        api_sessions: crate::api::Sessions::default(),
        pool: Pool::new(target, config.timeouts.connect.0, config.pool.max_idle),
        config,
        tls,
        users: RwLock::new(Arc::new(users)),
        cancels: Arc::new(CancelRegistry::default()),
        shutdown: shutdown_rx,
        jwt,
        guard,
        auditor,
        throttle,
    });
    let admin_addr = match admin_at {
        Some(a) => Some(
            crate::admin::start(
                a,
                crate::admin::AdminState {
                    shutdown: shared.shutdown.clone(),
                    catalog: shared.catalog.clone(),
                    default_db: shared.pool.target().dbname.clone(),
                    charts: Some(shared.charts.clone()),
                    api: Some(shared.clone()),
                },
            )
            .await
            .map_err(StartError)?,
        ),
        None => None,
    };
    tracing::info!(%addr, tls = shared.tls.is_some(), auth = ?shared.config.auth, "querent listening");
    let workers = Workers::start(shared.config.workers, shared.clone()).map_err(StartError)?;
    let done = tokio::spawn(accept_loop(listener, shared.clone(), workers));
    Ok(Server {
        addr,
        admin_addr,
        shutdown_tx,
        done,
        shared,
    })
}

impl Server {
    /// Reloads the users file (SIGHUP). A file that does not load leaves the old one in force.
    pub fn reload(&self) -> Result<usize, String> {
        let Some(path) = &self.shared.config.users else {
            return Ok(0);
        };
        let users = UsersFile::load(path, false)?;
        let n = users.users.len();
        *self.shared.users.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(users);
        Ok(n)
    }

    /// Stops accepting, lets running statements finish up to `timeouts.shutdown`, then returns.
    pub async fn shutdown(self) {
        let _ = self.shutdown_tx.send(true);
        let _ = self.done.await;
        self.shared.auditor.flush();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, workers: Workers) {
    let (alive_tx, mut alive_rx) = mpsc::channel::<()>(1);
    let mut shutdown = shared.shutdown.clone();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.changed() => break,
        };
        let (tcp, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let m = &crate::metrics::METRICS;
        m.connections_total.inc();
        if m.connections_active.get() >= shared.config.limits.max_clients as i64 {
            m.connections_rejected.inc();
            tokio::spawn(refuse(tcp, shared.config.limits.max_clients));
            continue;
        }
        match tcp.into_std() {
            Ok(tcp) => workers.dispatch(Job {
                tcp,
                peer,
                alive: alive_tx.clone(),
            }),
            Err(e) => tracing::warn!(error = %e, "cannot hand over an accepted socket"),
        }
    }
    drop(listener);
    drop(workers);
    drop(alive_tx);
    let grace = shared.config.timeouts.shutdown.0;
    tracing::info!(
        grace_ms = grace.as_millis() as u64,
        "shutting down: no new connections; waiting for running statements"
    );
    if tokio::time::timeout(grace, alive_rx.recv()).await.is_err() {
        tracing::warn!("shutdown grace period over; closing remaining sessions");
    }
}

async fn refuse(mut tcp: tokio::net::TcpStream, max: usize) {
    use tokio::io::AsyncWriteExt;
    // Read the startup packet first so the client is ready for a reply; SSLRequest gets 'N'.
    let e = PgError::fatal(
        sqlstate::TOO_MANY_CONNECTIONS,
        "sorry, too many clients already",
    )
    .with_hint(format!("Querent allows {max} clients (limits.max_clients)"));
    let mut out = bytes::BytesMut::new();
    crate::protocol::backend::error_response(&mut out, &e);
    let fut = async {
        if let Ok(crate::protocol::startup::StartupPacket::SslRequest) =
            crate::protocol::startup::read_startup(&mut tcp).await
        {
            tcp.write_all(b"N").await?;
            let _ = crate::protocol::startup::read_startup(&mut tcp).await;
        }
        tcp.write_all(&out).await
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), fut).await;
}

/// Reads the default database's catalog in the background at start, then every
/// `catalog.refresh_interval` when set. Failures are logged; the proxy serves SQL regardless.
fn spawn_catalog_refresh(
    store: Arc<crate::catalog::store::CatalogStore>,
    db: String,
    config: &Config,
) {
    let every = config.catalog.refresh_interval.0;
    tokio::spawn(async move {
        loop {
            let _ = store.refresh(&db).await;
            if every.is_zero() {
                return;
            }
            tokio::time::sleep(every).await;
        }
    });
}
