//! The catalogs a running server knows, one per upstream database: discovered at start (the
//! default database) or on first need, refreshed on demand (`POST /catalog/refresh`,
//! `querent catalog refresh`) and optionally on a timer. Annotation files are re-read on every
//! refresh, so an edited `schemas/*.toml` takes effect without a restart. Role views are
//! cached per (roles, attribute names, policy version) and dropped when the catalog changes.

use super::annotations::{self, AnnotationFile};
use super::graph::JoinGraph;
use super::infer::{self, Inference};
use super::introspect::{introspect, IntrospectOptions};
use super::link::LinkIndex;
use super::model::{Catalog, SchemaVersion};
use super::view;
use crate::auth::Principal;
use crate::config::Config;
use crate::policy::{Diagnostic, Effective, Policies};
use crate::upstream::UpstreamTarget;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// A catalog with what linking and planning need: the search index and the join graph.
pub struct Semantic {
    /// The catalog (a role's view or the whole).
    pub catalog: Catalog,
    /// Schema-linking index over it.
    pub index: LinkIndex,
    /// Join graph over its relations.
    pub graph: JoinGraph,
}

impl Semantic {
    /// Indexes `catalog`.
    pub fn new(catalog: Catalog) -> Semantic {
        Semantic {
            index: LinkIndex::build(&catalog),
            graph: JoinGraph::build(&catalog),
            catalog,
        }
    }
}

/// One discovery of a database.
pub struct Loaded {
    /// The whole catalog, annotated (only the proxy itself sees it).
    pub full: Arc<Semantic>,
    /// Annotation entries that did not resolve against this database.
    pub problems: Vec<Diagnostic>,
    /// The `[[examples]]` of the annotation files that apply to this database.
    pub examples: Vec<crate::history::Example>,
    /// When it was read.
    pub at: SystemTime,
    /// How long introspection, profiling and indexing took.
    pub took: Duration,
    /// What was inferred for want of constraints (keys, relations, display and time columns).
    pub inference: Inference,
}

/// Opens the proxy's own connection to database `db` of `target`.
pub async fn connect(target: &UpstreamTarget, db: &str) -> Result<tokio_postgres::Client, String> {
    let mut cfg = tokio_postgres::Config::new();
    cfg.host(&target.host)
        .port(target.port)
        .user(&target.user)
        .dbname(db)
        .application_name("querent-catalog")
        .connect_timeout(Duration::from_secs(10));
    if let Some(p) = &target.password {
        cfg.password(p);
    }
    let (client, conn) = cfg.connect(tokio_postgres::NoTls).await.map_err(|e| {
        let why = e
            .as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or_else(|| e.to_string());
        format!("cannot connect to database {db} to read its catalog: {why}")
    })?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(client)
}

/// Reads, profiles, annotates and indexes database `db`.
pub async fn discover(
    target: &UpstreamTarget,
    db: &str,
    opts: &IntrospectOptions,
    files: &[AnnotationFile],
) -> Result<Loaded, String> {
    let started = Instant::now();
    let client = connect(target, db).await?;
    let mut catalog = introspect(&client, opts)
        .await
        .map_err(|e| format!("cannot read the catalog of database {db}: {e}"))?;
    // Inference reads table data, so it runs only when profiling does; it comes before the
    // annotations, which add to it and win over it.
    let mut inference = Inference::default();
    if opts.profile {
        inference = infer::infer_structure(&client, &mut catalog, opts).await;
    }
    let mut problems = annotations::apply(&mut catalog, files);
    let (examples, more) = annotations::examples(&catalog, files);
    problems.extend(more);
    for p in &problems {
        tracing::warn!(database = db, "annotation skipped: {p}");
    }
    infer::infer_labels(&mut catalog, &mut inference);
    catalog.seal();
    // Values of personal data are dropped here, once: no report, JSON or planner of the whole
    // catalog ever sees them, with or without a role.
    view::strip_pii(&mut catalog);
    let full = Arc::new(Semantic::new(catalog));
    Ok(Loaded {
        full,
        problems,
        examples,
        at: SystemTime::now(),
        took: started.elapsed(),
        inference,
    })
}

/// Introspection options from the configuration.
pub fn options(config: &Config) -> IntrospectOptions {
    let c = &config.catalog;
    IntrospectOptions {
        schemas: c.include_schemas.0.clone(),
        value_threshold: c.value_threshold,
        full_scan_rows: c.full_scan_rows,
        sample_rows: c.sample_rows,
        profile: c.profile != "off",
        statement_timeout_ms: c.statement_timeout.0.as_millis() as u64,
    }
}

/// Reads the annotation files of `dir` (none when `None`), failing on syntax errors.
pub fn read_annotations(dir: Option<&PathBuf>) -> Result<Vec<AnnotationFile>, String> {
    let Some(dir) = dir else {
        return Ok(Vec::new());
    };
    annotations::load_dir(dir).map_err(|errs| {
        format!(
            "annotations in {} do not load:\n{}",
            dir.display(),
            errs.iter()
                .map(|d| format!("  {d}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

#[derive(Default)]
struct Entry {
    loaded: Option<Arc<Loaded>>,
    last_error: Option<String>,
    views: HashMap<String, Arc<Semantic>>,
}

/// The server's catalogs.
pub struct CatalogStore {
    target: UpstreamTarget,
    opts: IntrospectOptions,
    schemas_dir: Option<PathBuf>,
    entries: Mutex<HashMap<String, Entry>>,
    refreshing: tokio::sync::Mutex<()>,
}

impl CatalogStore {
    /// A store for `target`; checks the annotation files once so that a broken file stops the
    /// start with a clear message.
    pub fn new(config: &Config, target: UpstreamTarget) -> Result<CatalogStore, String> {
        read_annotations(config.schemas.as_ref())?;
        Ok(CatalogStore {
            target,
            opts: options(config),
            schemas_dir: config.schemas.clone(),
            entries: Mutex::new(HashMap::new()),
            refreshing: tokio::sync::Mutex::new(()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Re-reads database `db` (and the annotation files). On failure the previous catalog
    /// stays in force and the error is kept for `/catalog`.
    pub async fn refresh(&self, db: &str) -> Result<Arc<Loaded>, String> {
        let _one_at_a_time = self.refreshing.lock().await;
        let result = match read_annotations(self.schemas_dir.as_ref()) {
            Ok(files) => discover(&self.target, db, &self.opts, &files).await,
            Err(e) => Err(e),
        };
        let mut entries = self.lock();
        let entry = entries.entry(db.to_string()).or_default();
        match result {
            Ok(loaded) => {
                let loaded = Arc::new(loaded);
                tracing::info!(
                    database = db,
                    version = %loaded.full.catalog.version,
                    tables = loaded.full.catalog.tables.len(),
                    columns = loaded.full.catalog.column_count(),
                    ms = loaded.took.as_millis() as u64,
                    "catalog loaded"
                );
                entry.loaded = Some(loaded.clone());
                entry.last_error = None;
                entry.views.clear();
                Ok(loaded)
            }
            Err(e) => {
                tracing::warn!(database = db, "catalog not refreshed: {e}");
                entry.last_error = Some(e.clone());
                Err(e)
            }
        }
    }

    /// Whether `db` was ever read (or tried) for the server's own use.
    pub fn knows(&self, db: &str) -> bool {
        self.lock().contains_key(db)
    }

    /// The current catalog of `db`, if it was read.
    pub fn current(&self, db: &str) -> Option<Arc<Loaded>> {
        self.lock().get(db).and_then(|e| e.loaded.clone())
    }

    /// The current catalog of `db`, reading it first if it never was.
    pub async fn get(&self, db: &str) -> Result<Arc<Loaded>, String> {
        match self.current(db) {
            Some(l) => Ok(l),
            None => self.refresh(db).await,
        }
    }

    /// What `principal` may see of database `db` under `policies` (`None` policies: the
    /// whole catalog, as for a proxy without a guard).
    pub async fn view(
        &self,
        db: &str,
        policies: Option<&Policies>,
        principal: &Principal,
    ) -> Result<Arc<Semantic>, String> {
        let loaded = self.get(db).await?;
        let Some(policies) = policies else {
            return Ok(loaded.full.clone());
        };
        let mut roles = principal.roles.clone();
        roles.sort();
        let attrs: Vec<&String> = principal.attributes.keys().collect();
        let key = format!("{roles:?}{attrs:?}{:?}", policies.version);
        if let Some(v) = self.lock().get(db).and_then(|e| e.views.get(&key).cloned()) {
            return Ok(v);
        }
        let eff = Effective::new(policies, principal);
        let v = Arc::new(Semantic::new(view::for_role(&loaded.full.catalog, &eff)));
        let mut entries = self.lock();
        let entry = entries.entry(db.to_string()).or_default();
        // Only cache against the catalog it was built from.
        if entry
            .loaded
            .as_ref()
            .is_some_and(|l| Arc::ptr_eq(&l.full, &loaded.full))
        {
            entry.views.insert(key, v.clone());
        }
        Ok(v)
    }

    /// `GET /catalog`: a JSON summary of every database read so far.
    pub fn summary_json(&self) -> String {
        let entries = self.lock();
        let mut dbs: Vec<serde_json::Value> = entries
            .iter()
            .map(|(db, e)| summary(db, e.loaded.as_deref(), e.last_error.as_deref()))
            .collect();
        dbs.sort_by(|a, b| a["database"].as_str().cmp(&b["database"].as_str()));
        serde_json::json!({ "databases": dbs }).to_string()
    }
}

/// A JSON summary of one database's catalog.
pub fn summary(db: &str, loaded: Option<&Loaded>, error: Option<&str>) -> serde_json::Value {
    let mut v = serde_json::json!({ "database": db, "error": error });
    if let Some(l) = loaded {
        describe(&mut v, l, &l.full);
        v["annotation_problems"] = l.problems.len().into();
        v["examples"] = l.examples.len().into();
        v["inference"] = serde_json::to_value(&l.inference).unwrap_or_default();
    }
    v
}

/// A JSON summary of `view`, a role's view of `loaded`: it counts only what the role sees
/// (and leaves out annotation problems, which may name what it does not).
pub fn view_summary(db: &str, loaded: &Loaded, view: &Semantic) -> serde_json::Value {
    let mut v = serde_json::json!({ "database": db, "error": null });
    describe(&mut v, loaded, view);
    v
}

fn describe(v: &mut serde_json::Value, l: &Loaded, sem: &Semantic) {
    let c = &sem.catalog;
    let s = sem.index.stats();
    v["version"] = SchemaVersion::to_string(&c.version).into();
    v["tables"] = c.tables.len().into();
    v["columns"] = c.column_count().into();
    v["relations"] = c.relations.len().into();
    v["metrics"] = c.metrics.len().into();
    v["indexed_values"] = s.values.into();
    v["indexed_phrases"] = s.phrases.into();
    v["loaded_ms_ago"] = (l.at.elapsed().unwrap_or_default().as_millis() as u64).into();
    v["took_ms"] = (l.took.as_millis() as u64).into();
}
