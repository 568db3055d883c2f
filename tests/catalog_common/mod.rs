//! Helpers of the catalog introspection and profiling tests (tests/catalog_introspect.rs,
//! tests/catalog_profile.rs).
#![allow(dead_code)]

use crate::common;
use crate::common::retail::{direct_dsn_db, ensure_dataset, RETAIL_DB};
use querent::catalog::introspect::{introspect, IntrospectOptions};
use querent::catalog::{Catalog, Column, Profile, Table};
use std::time::Duration;
use tokio_postgres::Client;

pub async fn connect(db: &str) -> Client {
    let (client, conn) = tokio_postgres::connect(&direct_dsn_db(db), tokio_postgres::NoTls)
        .await
        .expect("direct connection to PostgreSQL");
    tokio::spawn(async move {
        let _ = conn.await;
    });
    client
}

/// A connection to the loaded (and analyzed) retail database.
pub async fn retail() -> Client {
    ensure_dataset().await;
    connect(RETAIL_DB).await
}

pub fn retail_opts() -> IntrospectOptions {
    IntrospectOptions {
        schemas: vec!["retail".into()],
        ..IntrospectOptions::default()
    }
}

pub async fn catalog_of(client: &Client, opts: &IntrospectOptions) -> Catalog {
    let cat = tokio::time::timeout(Duration::from_secs(120), introspect(client, opts))
        .await
        .expect("introspection finishes")
        .unwrap_or_else(|e| panic!("introspection failed: {e}"));
    assert_idle(client).await;
    cat
}

/// The connection is usable and not left inside a transaction.
pub async fn assert_idle(client: &Client) {
    // In a transaction of its own (simple protocol), a statement starts with its transaction.
    let rows = client
        .simple_query("SELECT now() = statement_timestamp()")
        .await
        .expect("connection still usable");
    let same = rows.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
        _ => None,
    });
    assert_eq!(
        same.as_deref(),
        Some("t"),
        "introspection left the connection inside a transaction"
    );
}

pub fn table<'a>(cat: &'a Catalog, name: &str) -> &'a Table {
    let id = cat
        .find_table(name)
        .unwrap_or_else(|| panic!("table {name} not found"));
    cat.table(id)
}

pub fn column<'a>(cat: &'a Catalog, name: &str) -> &'a Column {
    let r = cat
        .find_column(name)
        .unwrap_or_else(|| panic!("column {name} not found"));
    cat.column(r)
}

pub fn profile(cat: &Catalog, name: &str) -> Profile {
    let p = column(cat, name).profile.clone();
    p.unwrap_or_else(|| panic!("{name} not profiled"))
}

pub fn values(cat: &Catalog, name: &str) -> Option<Vec<String>> {
    profile(cat, name).values
}

/// `v` is some text starting with `prefix`.
pub fn starts(v: &Option<String>, prefix: &str) -> bool {
    v.as_deref().is_some_and(|m| m.starts_with(prefix))
}

pub fn strs(v: &[&str]) -> Option<Vec<String>> {
    Some(v.iter().map(|s| s.to_string()).collect())
}

/// A schema created for one test and dropped when it ends (even on panic; tests whose other
/// connections may hold locks on it run on a multi-threaded runtime so those connections can
/// close while the drop waits).
pub struct Scratch {
    pub db: &'static str,
    pub name: String,
}

impl Scratch {
    pub async fn create(client: &Client, db: &'static str, tag: &str, sql: &str) -> Scratch {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let name = format!("qi_{tag}_{}_{n}_{nanos}", std::process::id());
        let s = Scratch { db, name };
        client
            .batch_execute(&format!(
                "CREATE SCHEMA {0}; {1}",
                s.name,
                sql.replace("$S", &s.name)
            ))
            .await
            .unwrap_or_else(|e| panic!("creating scratch schema: {e:?}"));
        s
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::process::Command::new("psql")
            .args(["-X", "-q", "-h", common::PG_HOST, "-U", common::PG_USER])
            .args(["-p", &common::PG_PORT.to_string(), "-d", self.db, "-c"])
            .arg(format!(
                "SET lock_timeout = '30s'; DROP SCHEMA IF EXISTS {} CASCADE",
                self.name
            ))
            .output();
    }
}

/// One end of a relation as `table.col1+col2`.
#[allow(dead_code)]
pub fn end_name(cat: &Catalog, t: u32, cols: &[u32]) -> String {
    let t = cat.table(t);
    let cols: Vec<&str> = cols
        .iter()
        .map(|i| t.columns[*i as usize].name.as_str())
        .collect();
    format!("{}.{}", t.name, cols.join("+"))
}
