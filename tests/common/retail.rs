//! The retail benchmark dataset (`../shared/bench/retail/retail.sql`), loaded once into its
//! own database for every test that needs realistic data (the leak suite, the catalog
//! introspection tests, ...).

use super::{connect, repo, PG_HOST, PG_PORT, PG_USER};
use std::process::Command;
use tokio_postgres::{Client, SimpleQueryMessage};

/// The database the retail dataset is loaded into.
pub const RETAIL_DB: &str = "querent_retail";

/// A direct (not proxied) connection string to database `db`.
pub fn direct_dsn_db(db: &str) -> String {
    format!("host={PG_HOST} port={PG_PORT} user={PG_USER} dbname={db}")
}

/// Loads `../shared/bench/retail/retail.sql` into [`RETAIL_DB`] once, and makes sure every
/// retail table has been analyzed (planner statistics and row estimates exist). Concurrent
/// test processes serialize on a session advisory lock taken in database `postgres`.
pub async fn ensure_dataset() {
    let admin = connect(&direct_dsn_db("postgres"))
        .await
        .expect("direct connection to PostgreSQL (database postgres)");
    admin
        .simple_query("SELECT pg_advisory_lock(74656171)")
        .await
        .unwrap();
    let exists = first_cell(
        &admin,
        &format!("SELECT 1 FROM pg_database WHERE datname = '{RETAIL_DB}'"),
    )
    .await
    .is_some();
    if !exists {
        admin
            .simple_query(&format!("CREATE DATABASE {RETAIL_DB}"))
            .await
            .unwrap();
    }
    let db = connect(&direct_dsn_db(RETAIL_DB)).await.unwrap();
    // The file loads in one transaction (BEGIN ... COMMIT), so the last table existing means
    // the whole load committed.
    let loaded = first_cell(&db, "SELECT to_regclass('retail.returns') IS NOT NULL").await;
    if loaded.as_deref() != Some("t") {
        let sql = repo().join("../shared/bench/retail/retail.sql");
        let out = Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", PG_HOST])
            .args(["-p", &PG_PORT.to_string(), "-U", PG_USER, "-d", RETAIL_DB])
            .arg("-f")
            .arg(&sql)
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "loading {} failed: {}",
            sql.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // pg_stats must have something to leak for the statistics attacks to mean anything, and
    // the catalog tests expect row estimates: analyze every table never analyzed.
    let never = first_cell(
        &db,
        "SELECT string_agg(format('%I.%I', n.nspname, c.relname), ', ') \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'retail' AND c.relkind = 'r' \
           AND (c.reltuples < 0 OR NOT EXISTS \
                (SELECT 1 FROM pg_stats s WHERE s.schemaname = n.nspname AND s.tablename = c.relname))",
    )
    .await;
    if let Some(tables) = never {
        db.simple_query(&format!("ANALYZE {tables}")).await.unwrap();
    }
    admin
        .simple_query("SELECT pg_advisory_unlock(74656171)")
        .await
        .unwrap();
}

/// The first column of the first row of `sql`, if any (NULL counts as none).
pub async fn first_cell(c: &Client, sql: &str) -> Option<String> {
    for m in c
        .simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    {
        if let SimpleQueryMessage::Row(r) = m {
            return r.get(0).map(str::to_string);
        }
    }
    None
}
