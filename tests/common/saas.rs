//! The saas demo database (fixtures/catalog/saas.sql) in its own database, loaded once and
//! reloaded when the fixture changes.

use super::repo;

/// Its database.
pub const SAAS_DB: &str = "querent_saas";

/// Loads the fixture unless this version of it is loaded (concurrency-safe).
pub async fn ensure() {
    let admin = super::connect(&super::direct_dsn()).await.unwrap();
    let exists = admin
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&SAAS_DB])
        .await
        .unwrap()
        .is_some();
    if !exists {
        // Two tests may race to create it; the loser sees 42P04 and goes on.
        let _ = admin
            .batch_execute(&format!("CREATE DATABASE {SAAS_DB}"))
            .await;
    }
    let db = super::connect(&format!(
        "host=127.0.0.1 port=5432 user=root dbname={SAAS_DB}"
    ))
    .await
    .unwrap();
    db.batch_execute("SELECT pg_advisory_lock(4242)")
        .await
        .unwrap();
    // The database's comment records which version of the fixture is loaded.
    let sql = std::fs::read_to_string(repo().join("fixtures/catalog/saas.sql")).unwrap();
    let stamp = format!("fixture {:x}", {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        sql.hash(&mut h);
        h.finish()
    });
    let loaded: Option<String> = db
        .query_one(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    if loaded.as_deref() != Some(stamp.as_str()) {
        db.batch_execute(&sql).await.unwrap();
        db.batch_execute(&format!("COMMENT ON DATABASE {SAAS_DB} IS '{stamp}'"))
            .await
            .unwrap();
    }
    db.batch_execute("SELECT pg_advisory_unlock(4242)")
        .await
        .unwrap();
}
