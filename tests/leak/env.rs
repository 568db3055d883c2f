//! Dataset and proxy: loads the retail dataset, creates the users file, starts the proxy and
//! opens client connections (through the proxy, or direct to PostgreSQL).

use super::{Truth, ADMIN, ADMIN_PW, ALICE, ALICE_PW, DB};
use crate::common::{self, Proxy};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_postgres::{AsyncMessage, Client, NoTls, SimpleQueryMessage};

fn direct_dsn_db(db: &str) -> String {
    format!(
        "host={} port={} user={} dbname={db}",
        common::PG_HOST,
        common::PG_PORT,
        common::PG_USER
    )
}

/// Loads `../shared/bench/retail/retail.sql` into `querent_retail` once. Concurrent test
/// processes serialize on a session advisory lock taken in database `postgres`.
pub async fn ensure_dataset() {
    let admin = common::connect(&direct_dsn_db("postgres"))
        .await
        .expect("direct connection to PostgreSQL (database postgres)");
    admin
        .simple_query("SELECT pg_advisory_lock(74656171)")
        .await
        .unwrap();
    let exists = !admin
        .simple_query(&format!("SELECT 1 FROM pg_database WHERE datname = '{DB}'"))
        .await
        .unwrap()
        .iter()
        .all(|m| !matches!(m, SimpleQueryMessage::Row(_)));
    if !exists {
        admin
            .simple_query(&format!("CREATE DATABASE {DB}"))
            .await
            .unwrap();
    }
    let db = common::connect(&direct_dsn_db(DB)).await.unwrap();
    // The file loads in one transaction (BEGIN ... COMMIT), so the last table existing means
    // the whole load committed.
    let loaded = first_cell(&db, "SELECT to_regclass('retail.returns') IS NOT NULL").await;
    if loaded.as_deref() != Some("t") {
        let sql = common::repo().join("../shared/bench/retail/retail.sql");
        let out = Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", common::PG_HOST])
            .args([
                "-p",
                &common::PG_PORT.to_string(),
                "-U",
                common::PG_USER,
                "-d",
                DB,
            ])
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
    // pg_stats must have something to leak for the statistics attacks to mean anything.
    let stats = first_cell(
        &db,
        "SELECT count(*) FROM pg_stats WHERE schemaname = 'retail' AND tablename = 'customers'",
    )
    .await;
    if stats.as_deref() == Some("0") {
        db.simple_query("ANALYZE retail.customers; ANALYZE retail.employees; ANALYZE retail.stores; ANALYZE retail.orders")
            .await
            .unwrap();
    }
    admin
        .simple_query("SELECT pg_advisory_unlock(74656171)")
        .await
        .unwrap();
}

async fn first_cell(c: &Client, sql: &str) -> Option<String> {
    for m in c.simple_query(sql).await.unwrap() {
        if let SimpleQueryMessage::Row(r) = m {
            return r.get(0).map(str::to_string);
        }
    }
    None
}

/// Creates a users file with alice (analyst_west, region_id=3) and admin (admin) through the
/// real `querent user add` command.
pub fn users_file() -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("querent-leak-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("users.toml");
    let _ = std::fs::remove_file(&path);
    let add = |args: &[&str]| {
        let st = Command::new(env!("CARGO_BIN_EXE_querent"))
            .args(["user", "add"])
            .args(&args[..1])
            .arg("--users")
            .arg(&path)
            .args(&args[1..])
            .status()
            .expect("run querent user add");
        assert!(st.success(), "querent user add {args:?} failed");
    };
    add(&[
        ALICE,
        "--password",
        ALICE_PW,
        "--role",
        "analyst_west",
        "--attr",
        "region_id=3",
    ]);
    add(&[ADMIN, "--password", ADMIN_PW, "--role", "admin"]);
    path
}

/// Everything a test needs: the running proxy and the ground truth.
pub struct Env {
    pub proxy: Proxy,
    pub users: PathBuf,
    pub truth: Arc<Truth>,
}

impl Env {
    pub async fn start() -> Env {
        ensure_dataset().await;
        let users = users_file();
        // LEAK_SUITE_POLICIES=<dir> runs the suite against other policies (e.g. a control run
        // where analyst_west is trusted, to see the suite catch leaks).
        let policies = std::env::var("LEAK_SUITE_POLICIES").unwrap_or_else(|_| "policies".into());
        let proxy = Proxy::start(&[
            "--policies",
            &policies,
            "--auth",
            "scram",
            "--users",
            users.to_str().unwrap(),
        ]);
        let truth = Arc::new(Truth::load().await);
        Env {
            proxy,
            users,
            truth,
        }
    }

    pub async fn alice(&self, options: Option<&str>) -> Result<Conn, tokio_postgres::Error> {
        connect_proxy(self.proxy.port, ALICE, ALICE_PW, options).await
    }

    pub async fn admin(&self) -> Result<Conn, tokio_postgres::Error> {
        connect_proxy(self.proxy.port, ADMIN, ADMIN_PW, None).await
    }
}

/// A client connection whose notices are kept (a notice can leak as well as a row).
pub struct Conn {
    pub client: Client,
    pub notices: Arc<Mutex<Vec<String>>>,
}

pub async fn connect_proxy(
    port: u16,
    user: &str,
    password: &str,
    options: Option<&str>,
) -> Result<Conn, tokio_postgres::Error> {
    let mut cfg = tokio_postgres::Config::new();
    cfg.host("127.0.0.1")
        .port(port)
        .user(user)
        .password(password)
        .dbname(DB)
        .connect_timeout(Duration::from_secs(10));
    if let Some(o) = options {
        cfg.options(o);
    }
    let (client, mut conn) = cfg.connect(NoTls).await?;
    let notices = Arc::new(Mutex::new(Vec::new()));
    let sink = notices.clone();
    tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| conn.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notice(n))) => sink.lock().unwrap().push(format!(
                    "{} {} {} {}",
                    n.message(),
                    n.detail().unwrap_or(""),
                    n.hint().unwrap_or(""),
                    n.where_().unwrap_or("")
                )),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break,
            }
        }
    });
    Ok(Conn { client, notices })
}

pub async fn direct() -> Client {
    common::connect(&direct_dsn_db(DB))
        .await
        .expect("direct connection")
}

/// All rows of `sql` on the direct connection, as text.
pub async fn direct_rows(c: &Client, sql: &str) -> Vec<Vec<Option<String>>> {
    let mut rows = Vec::new();
    for m in c
        .simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    {
        if let SimpleQueryMessage::Row(r) = m {
            rows.push((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect());
        }
    }
    rows
}
