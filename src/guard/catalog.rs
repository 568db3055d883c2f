//! What the guard needs to know about the upstream database: every relation with its kind and
//! columns (to resolve names as PostgreSQL would and to build filtered, masked derived tables),
//! and the names of the built-in functions in pg_catalog (anything else could read tables
//! behind the guard's back).

use crate::upstream::UpstreamTarget;
use std::collections::{HashMap, HashSet};

/// One relation.
#[derive(Debug, Clone)]
pub struct Relation {
    /// `r` table, `v` view, `m` materialized view, `p` partitioned table, `f` foreign table.
    pub kind: char,
    /// Column names in order.
    pub columns: Vec<String>,
    /// Their types, as `format_type` names them (`integer`, `timestamp with time zone`);
    /// empty when unknown.
    pub types: Vec<String>,
}

impl Relation {
    /// The type of column `col`, if known.
    pub fn type_of(&self, col: &str) -> Option<&str> {
        let i = self.columns.iter().position(|c| c == col)?;
        self.types.get(i).map(String::as_str)
    }
}

/// A snapshot of one database's relations.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Relations by (schema, name).
    pub relations: HashMap<(String, String), Relation>,
    /// Built-in function names.
    pub builtin_functions: HashSet<String>,
    /// `pg_settings.context` of every setting, by lower-cased name.
    pub settings: HashMap<String, String>,
}

/// Schemas whose relations are catalog relations (rules in `catalog_rules`).
pub const SYSTEM_SCHEMAS: [&str; 2] = ["pg_catalog", "information_schema"];

const RELATIONS_SQL: &str = "SELECT n.nspname::text, c.relname::text, c.relkind::text, \
     coalesce(array_agg(a.attname::text ORDER BY a.attnum) FILTER (WHERE a.attnum > 0), '{}'), \
     coalesce(array_agg(pg_catalog.format_type(a.atttypid, NULL) ORDER BY a.attnum) FILTER (WHERE a.attnum > 0), '{}') \
     FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
     LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
     WHERE c.relkind IN ('r','v','m','p','f') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' \
     GROUP BY 1, 2, 3";

const SETTINGS_SQL: &str = "SELECT lower(name), context FROM pg_catalog.pg_settings";

/// Built-in function names every overload of which any user may execute (functions whose
/// EXECUTE is revoked from PUBLIC are administrators' tools: reading files, signalling
/// backends, replication, ...).
const FUNCTIONS_SQL: &str = "SELECT p.proname::text FROM pg_catalog.pg_proc p \
     WHERE p.pronamespace = 'pg_catalog'::regnamespace GROUP BY 1 \
     HAVING bool_and(p.proacl IS NULL OR EXISTS (SELECT 1 FROM pg_catalog.aclexplode(p.proacl) a \
     WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE'))";

impl Snapshot {
    /// A snapshot from the text format of `fixtures/guard/` (tests, fuzzing, benchmarks): one
    /// relation per line of `catalog` (`schema.name kind column:type...`, spaces in type names
    /// written `+`; `:type` may be left out), one function name per
    /// line of `functions`. Malformed lines are skipped.
    pub fn from_text(catalog: &str, functions: &str) -> Snapshot {
        let mut snap = Snapshot::default();
        for line in catalog.lines() {
            let mut words = line.split_whitespace();
            let (Some(full), Some(kind)) = (words.next(), words.next()) else {
                continue;
            };
            let Some((s, t)) = full.split_once('.') else {
                continue;
            };
            let (mut columns, mut types) = (Vec::new(), Vec::new());
            for w in words {
                let (c, t) = w.split_once(':').unwrap_or((w, ""));
                columns.push(c.to_string());
                types.push(t.replace('+', " "));
            }
            snap.relations.insert(
                (s.into(), t.into()),
                Relation {
                    kind: kind.chars().next().unwrap_or('r'),
                    columns,
                    types,
                },
            );
        }
        snap.builtin_functions = functions.lines().map(String::from).collect();
        snap
    }

    /// The offline snapshot in directory `dir` (`fixtures/guard`: `retail_catalog.txt`,
    /// `builtin_functions.txt`, `settings.txt`); missing files count as empty.
    pub fn fixture(dir: &std::path::Path) -> Snapshot {
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
        Snapshot::from_text(&read("retail_catalog.txt"), &read("builtin_functions.txt"))
            .with_settings(&read("settings.txt"))
    }

    /// Adds settings' contexts from lines `name context` (`fixtures/guard/settings.txt`).
    pub fn with_settings(mut self, text: &str) -> Snapshot {
        for line in text.lines() {
            if let Some((name, context)) = line.split_once(' ') {
                self.settings
                    .insert(name.to_ascii_lowercase(), context.trim().to_string());
            }
        }
        self
    }

    /// Reads the snapshot of database `db` with the proxy's own upstream login.
    pub async fn load(target: &UpstreamTarget, db: &str) -> Result<Snapshot, String> {
        let mut cfg = tokio_postgres::Config::new();
        cfg.host(&target.host)
            .port(target.port)
            .user(&target.user)
            .dbname(db);
        cfg.application_name("querent-guard-catalog");
        if let Some(p) = &target.password {
            cfg.password(p);
        }
        let (client, conn) = cfg
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(|e| format!("cannot read the catalog of database {db}: {e}"))?;
        let driver = tokio::spawn(conn);
        let err =
            |e: tokio_postgres::Error| format!("cannot read the catalog of database {db}: {e}");
        let mut snap = Snapshot::default();
        for row in client.query(RELATIONS_SQL, &[]).await.map_err(err)? {
            let kind: String = row.get(2);
            snap.relations.insert(
                (row.get(0), row.get(1)),
                Relation {
                    kind: kind.chars().next().unwrap_or('r'),
                    columns: row.get(3),
                    types: row.get(4),
                },
            );
        }
        for row in client.query(FUNCTIONS_SQL, &[]).await.map_err(err)? {
            snap.builtin_functions.insert(row.get(0));
        }
        for row in client.query(SETTINGS_SQL, &[]).await.map_err(err)? {
            snap.settings.insert(row.get(0), row.get(1));
        }
        drop(client);
        let _ = driver.await;
        Ok(snap)
    }
}
