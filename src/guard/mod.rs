//! The guard: every statement of a guarded principal is parsed (sqlparser, PostgreSQL
//! dialect), checked (`rules`) and rewritten (`rewrite`) before it goes upstream. It fails
//! closed: SQL it cannot parse, tables it does not know and catalog relations it has no rule
//! for are refused.
//!
//! Pipeline for one statement string: parse → for each statement: `rules::check_statement`
//! → `rewrite::Rewriter` (tables, catalog relations, functions) → `rewrite::Columns`
//! (qualified column names, denied columns) → print. Decisions are cached per session by
//! (SQL, search_path); the session's guard is rebuilt when the policy or the catalog changes.

pub mod catalog;
pub mod catalog_rules;
pub mod depth;
pub mod functions;
pub mod params;
pub mod print;
pub mod pushdown;
pub mod rewrite;
pub mod rules;
pub mod set;
pub mod settings;
pub mod template;
pub mod view;

use crate::auth::Principal;
use crate::error::PgError;
use crate::policy::{Effective, Policies};
use crate::upstream::UpstreamTarget;
use catalog::Snapshot;
use rewrite::{Columns, Env, Rewriter};
use sqlparser::ast::VisitMut;
use sqlparser::dialect::PostgreSqlDialect;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
pub use view::SessionView;

/// `TABLE t` as a whole statement, which sqlparser does not parse (and its `TABLE` inside a
/// query body mis-parses an unqualified name): when the first token is the keyword TABLE, it
/// is replaced by `SELECT * FROM`, which PostgreSQL documents as the same query. The other
/// tokens are kept as they are.
fn table_statement(sql: &str) -> Option<Vec<sqlparser::ast::Statement>> {
    use sqlparser::keywords::Keyword;
    use sqlparser::tokenizer::{Token, Tokenizer};
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, sql).tokenize().ok()?;
    let at = tokens
        .iter()
        .position(|t| !matches!(t, Token::Whitespace(_)))?;
    if !matches!(&tokens[at], Token::Word(w) if w.keyword == Keyword::TABLE) {
        return None;
    }
    let mut text: String = tokens[..at].iter().map(|t| t.to_string()).collect();
    text.push_str("SELECT * FROM");
    text.extend(tokens[at + 1..].iter().map(|t| t.to_string()));
    depth::parse(&text).ok()
}

/// Parses a statement string for the guard: bounded size and depth ([`depth`]), and `TABLE t`
/// as `SELECT * FROM t`.
fn parse_for_guard(sql: &str) -> Result<Vec<sqlparser::ast::Statement>, PgError> {
    match depth::parse(sql) {
        Ok(s) => Ok(s),
        Err(e) if e.code == "42601" => table_statement(sql).ok_or(e),
        Err(e) => Err(e),
    }
}

/// Warns when policies are in force but the upstream login is a superuser or has BYPASSRLS:
/// whatever slipped past the guard would then run with every right (docs/GUARD.md describes a
/// least-privilege login). Runs once at start; an unreachable upstream is only logged.
pub async fn warn_if_privileged(target: UpstreamTarget) {
    let mut cfg = tokio_postgres::Config::new();
    cfg.host(&target.host)
        .port(target.port)
        .user(&target.user)
        .dbname(&target.dbname)
        .application_name("querent-guard-check")
        .connect_timeout(Duration::from_secs(5));
    if let Some(p) = &target.password {
        cfg.password(p);
    }
    let Ok((client, conn)) = cfg.connect(tokio_postgres::NoTls).await else {
        tracing::info!("could not check the upstream login's privileges (upstream unreachable)");
        return;
    };
    let driver = tokio::spawn(conn);
    let sql = "SELECT rolsuper, rolbypassrls FROM pg_catalog.pg_roles WHERE rolname = current_user";
    if let Ok(row) = client.query_one(sql, &[]).await {
        let (superuser, bypass): (bool, bool) = (row.get(0), row.get(1));
        if superuser || bypass {
            tracing::warn!(
                user = %target.user,
                superuser,
                bypassrls = bypass,
                "policies are in force but the upstream login is {}: anything that got past the guard would run with its rights; give Querent a least-privilege login (docs/GUARD.md, \"A least-privilege upstream login\")",
                if superuser { "a superuser" } else { "allowed to bypass row-level security" }
            );
        }
    }
    drop(client);
    let _ = driver.await;
}

/// A 42501 refusal.
pub fn denied(msg: impl Into<String>) -> PgError {
    PgError::error("42501", msg)
}

/// What happens to a statement string.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Send it as it is (trusted principal, or no policies).
    Pass,
    /// Send this SQL instead.
    Rewrite(String),
    /// Refuse with this error.
    Deny(PgError),
}

impl Decision {
    /// The SQL to send for `sql` (itself, or its rewrite), or the refusal.
    pub fn into_sql(self, sql: &str) -> Result<String, PgError> {
        match self {
            Decision::Pass => Ok(sql.to_string()),
            Decision::Rewrite(s) => Ok(s),
            Decision::Deny(e) => Err(e),
        }
    }
}

struct SnapshotEntry {
    snap: Arc<Snapshot>,
    loaded: Instant,
}

/// Shared by all sessions: the policies and one catalog snapshot per database.
pub struct Guard {
    policies: Policies,
    mask_key: Arc<str>,
    target: UpstreamTarget,
    snapshots: tokio::sync::Mutex<HashMap<String, SnapshotEntry>>,
}

/// One session's guard. (The default guard has no role: it refuses every table.)
#[derive(Default)]
pub struct SessionGuard {
    /// The principal's combined policy.
    pub effective: Effective,
    snap: Arc<Snapshot>,
    db: String,
    search_path: Vec<String>,
    view: SessionView,
    mask_key: Arc<str>,
    derived: HashMap<(String, String), rewrite::Resolution>,
    /// Decision per statement text, and whether the text is one query.
    cache: HashMap<String, (Decision, bool)>,
    /// Template per statement shape; `None` = this shape cannot have one (do not retry).
    templates: HashMap<String, Option<Shape>>,
    /// The prepared form of the last statement checked, when it has one (see `params`).
    last_form: Option<params::PlanForm>,
    /// Whether the last statement checked was one query (SELECT, WITH, VALUES, TABLE).
    last_query: bool,
}

/// A statement shape's template, and its parameterized form when it has one.
struct Shape {
    tpl: template::Template,
    params: Option<params::ParamTemplate>,
    query: bool,
}

const RELOAD_AFTER_MISS: Duration = Duration::from_secs(2);
/// Statements at least this long (bytes) are checked off the worker thread.
const OFFLOAD_BYTES: usize = 32 << 10;

impl Guard {
    /// A guard over these policies, reading catalogs with the proxy's upstream login.
    pub fn new(policies: Policies, target: UpstreamTarget, mask_key: &str) -> Guard {
        Guard {
            policies,
            mask_key: mask_key.into(),
            target,
            snapshots: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    /// `sql` with the hash-mask key replaced, for showing a rewritten statement to a client.
    pub fn redact(&self, sql: &str) -> String {
        if self.mask_key.is_empty() {
            return sql.to_string();
        }
        sql.replace(&*self.mask_key, "<guard.mask_secret>")
    }

    /// The loaded policies.
    pub fn policies(&self) -> &Policies {
        &self.policies
    }

    async fn snapshot(&self, db: &str, force: bool) -> Result<Arc<Snapshot>, PgError> {
        let mut snaps = self.snapshots.lock().await;
        if let Some(e) = snaps.get(db) {
            if !force || e.loaded.elapsed() < RELOAD_AFTER_MISS {
                return Ok(e.snap.clone());
            }
        }
        let snap = Arc::new(Snapshot::load(&self.target, db).await.map_err(|e| {
            PgError::error(crate::error::sqlstate::CONNECTION_FAILURE, e)
                .with_hint("the guard needs the upstream catalog; check the upstream")
        })?);
        snaps.insert(
            db.to_string(),
            SnapshotEntry {
                snap: snap.clone(),
                loaded: Instant::now(),
            },
        );
        Ok(snap)
    }

    /// The guard for a new session, or `None` when the principal is trusted.
    pub async fn session(
        &self,
        principal: &Principal,
        db: &str,
        search_path: Vec<String>,
    ) -> Result<Option<SessionGuard>, PgError> {
        let effective = Effective::new(&self.policies, principal);
        if effective.trusted {
            return Ok(None);
        }
        let snap = self.snapshot(db, false).await?;
        let view = SessionView::build(&snap, &effective, &self.mask_key);
        Ok(Some(SessionGuard {
            effective,
            snap,
            db: db.to_string(),
            search_path,
            view,
            mask_key: self.mask_key.clone(),
            derived: HashMap::new(),
            cache: HashMap::new(),
            templates: HashMap::new(),
            last_form: None,
            last_query: false,
        }))
    }

    /// Decides on one statement string (which may hold several statements). A relation
    /// missing from the snapshot reloads it once (at most every 2 s) before refusing. A long
    /// statement not decided before is checked on a blocking thread, so the worker's other
    /// sessions go on meanwhile.
    pub async fn check(&self, session: &mut SessionGuard, sql: &str) -> Decision {
        let d = if sql.len() >= OFFLOAD_BYTES && !session.cache.contains_key(sql) {
            let taken = std::mem::take(session);
            let text = sql.to_string();
            let done = tokio::task::spawn_blocking(move || {
                let mut s = taken;
                let d = s.check(&text);
                (s, d)
            })
            .await;
            match done {
                Ok((back, d)) => {
                    *session = back;
                    d
                }
                // The session keeps the default guard, which refuses every table.
                Err(e) => Decision::Deny(PgError::error("XX000", format!("the guard failed: {e}"))),
            }
        } else {
            session.check(sql)
        };
        if let Decision::Deny(e) = &d {
            if e.code == "42P01" {
                if let Ok(snap) = self.snapshot(&session.db, true).await {
                    if !Arc::ptr_eq(&snap, &session.snap) {
                        session.view =
                            SessionView::build(&snap, &session.effective, &session.mask_key);
                        session.snap = snap;
                        session.derived.clear();
                        session.cache.clear();
                        session.templates.clear();
                        return session.check(sql);
                    }
                }
            }
        }
        d
    }
}

impl SessionGuard {
    /// A session guard over a given snapshot, without an upstream (tests, tools). `None` for a
    /// trusted principal.
    pub fn offline(
        policies: &Policies,
        principal: &Principal,
        db: &str,
        search_path: Vec<String>,
        snap: Snapshot,
        mask_key: &str,
    ) -> Option<SessionGuard> {
        let effective = Effective::new(policies, principal);
        if effective.trusted {
            return None;
        }
        let view = SessionView::build(&snap, &effective, mask_key);
        Some(SessionGuard {
            effective,
            snap: Arc::new(snap),
            db: db.to_string(),
            search_path,
            view,
            mask_key: mask_key.into(),
            derived: HashMap::new(),
            cache: HashMap::new(),
            templates: HashMap::new(),
            last_form: None,
            last_query: false,
        })
    }

    /// Checks the settings a client asked for at startup (parameters and `options`) by the
    /// rules of `SET` ([`settings`]); the first refused one, as a FATAL error naming it.
    pub fn check_startup(&self, requested: &[(String, String)]) -> Result<(), PgError> {
        let roles = self.effective.roles.join(", ");
        for (name, value) in requested {
            settings::check(
                &self.snap.settings,
                name,
                settings::Value::Text(value),
                &roles,
            )
            .map_err(|mut e| {
                e.severity = crate::error::Severity::Fatal;
                e.message = format!("startup parameter {name}={value}: {}", e.message);
                e
            })?;
        }
        Ok(())
    }

    /// Decides on a statement string with the current snapshot: an exact cache per SQL text,
    /// then templates for statements that differ only in literals (see `template`), then the
    /// full check.
    pub fn check(&mut self, sql: &str) -> Decision {
        self.last_form = None;
        if let Some((d, query)) = self.cache.get(sql) {
            self.last_query = *query;
            return d.clone();
        }
        depth::with_stack(|| self.check_uncached(sql))
    }

    fn check_uncached(&mut self, sql: &str) -> Decision {
        let fp = template::fingerprint(sql);
        if let Some(fp) = &fp {
            if let Some(shape) = self.templates.get(&fp.key).and_then(Option::as_ref) {
                if let Some(out) = shape.tpl.render(&fp.literals) {
                    self.last_form = shape.params.as_ref().and_then(|p| p.form(&fp.raw));
                    self.last_query = shape.query;
                    return Decision::Rewrite(out);
                }
            }
        }
        self.last_query = false;
        let (decision, new_path, inspected) = match self.decide(sql) {
            Ok(r) => r,
            Err(e) => (Decision::Deny(e), None, true),
        };
        let query = self.last_query;
        if let Some(p) = new_path {
            // Cached decisions assumed the old search_path.
            self.search_path = p;
            self.cache.clear();
            self.templates.clear();
            return decision;
        }
        if let (Decision::Rewrite(out), Some(fp)) = (&decision, &fp) {
            let untried = !self.templates.contains_key(&fp.key);
            if untried && !fp.literals.is_empty() && self.templates.len() < 1024 {
                let t = if inspected {
                    None
                } else {
                    self.template_for(sql, fp, out)
                };
                let made = t.is_some();
                self.templates.insert(fp.key.clone(), t);
                if made {
                    return decision;
                }
            }
        }
        if self.cache.len() < 4096 {
            self.cache
                .insert(sql.to_string(), (decision.clone(), query));
        }
        decision
    }

    /// How many statement shapes have a template (for tests and tools).
    pub fn templates(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .templates
            .iter()
            .filter(|(_, t)| t.is_some())
            .map(|(k, _)| k.clone())
            .collect();
        keys.sort();
        keys
    }

    /// Re-decides with every literal replaced by a slot mark; a template only if that decision
    /// also looked at no literal and reproduces `expected` with the statement's own literals.
    fn template_for(
        &mut self,
        sql: &str,
        fp: &template::Fingerprint,
        expected: &str,
    ) -> Option<Shape> {
        let mut stmts = parse_for_guard(sql).ok()?;
        if !template::mark_literals(&mut stmts, fp) {
            return None;
        }
        match self.decide_parsed(stmts) {
            Ok((Decision::Rewrite(marked), None, false)) => Some(Shape {
                tpl: template::build(&marked, fp, expected)?,
                params: params::param_template(&marked, fp.literals.len()),
                query: self.last_query,
            }),
            _ => None,
        }
    }

    /// Whether the statement the last [`SessionGuard::check`] let through is one query.
    pub fn last_was_query(&self) -> bool {
        self.last_query
    }

    /// The prepared form of the statement the last [`SessionGuard::check`] let through: its
    /// SQL with parameters in place of the literals, when its template has one (`params`).
    pub fn take_plan_form(&mut self) -> Option<params::PlanForm> {
        self.last_form.take()
    }

    fn decide(&mut self, sql: &str) -> Result<(Decision, Option<Vec<String>>, bool), PgError> {
        let stmts = parse_for_guard(sql)?;
        self.decide_parsed(stmts)
    }

    /// The decision, the new search_path if the statements set one, and whether a literal's
    /// value was looked at.
    fn decide_parsed(
        &mut self,
        mut stmts: Vec<sqlparser::ast::Statement>,
    ) -> Result<(Decision, Option<Vec<String>>, bool), PgError> {
        let env = Env {
            snap: &self.snap,
            eff: &self.effective,
            search_path: &self.search_path,
            db: &self.db,
            view: &self.view,
            mask_key: &self.mask_key,
            inspected: std::cell::Cell::new(false),
        };
        let mut new_path = None;
        for stmt in stmts.iter_mut() {
            rules::check_statement(&env, stmt, &mut new_path)?;
            let mut rw = Rewriter::new(&env, &mut self.derived);
            if let std::ops::ControlFlow::Break(e) = VisitMut::visit(stmt, &mut rw) {
                return Err(e);
            }
            let wrapped = std::mem::take(&mut rw.wrapped);
            let fences = std::mem::take(&mut rw.fences);
            rules::check_explain(stmt, rw.keyed, !fences.is_empty(), &self.effective.roles)?;
            if let Some(max) = self.effective.max_rows {
                if rules::cap_statement(stmt, max) {
                    env.inspected.set(true);
                }
            }
            let mut cols = Columns {
                wrapped: &wrapped,
                roles: &self.effective.roles,
            };
            if let std::ops::ControlFlow::Break(e) = VisitMut::visit(stmt, &mut cols) {
                return Err(e);
            }
            if !fences.is_empty() {
                let mut push = pushdown::Pushdown {
                    fences: &fences,
                    relations: &self.snap.relations,
                };
                let _ = VisitMut::visit(stmt, &mut push);
            }
        }
        let inspected = env.inspected.get();
        self.last_query = matches!(stmts.as_slice(), [sqlparser::ast::Statement::Query(_)]);
        if stmts.is_empty() {
            // Never the client's own text: if the upstream's lexer saw a statement where ours
            // saw only comments, it would run unchecked. An empty query is what we checked.
            return Ok((Decision::Rewrite(String::new()), new_path, inspected));
        }
        let text = print::statements(&mut stmts)?;
        Ok((Decision::Rewrite(text), new_path, inspected))
    }
}
