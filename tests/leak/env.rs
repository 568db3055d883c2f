//! Dataset and proxy: loads the retail dataset, creates the users file, starts the proxy and
//! opens client connections (through the proxy, or direct to PostgreSQL).

use super::{Truth, ADMIN, ADMIN_PW, ALICE, ALICE_PW, DB};
use crate::common::{self, Proxy};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_postgres::{AsyncMessage, Client, NoTls, SimpleQueryMessage};

use crate::common::retail::direct_dsn_db;
/// Loads the retail dataset into `querent_retail` ([`DB`]); shared with other tests, see
/// `tests/common/retail.rs`.
pub use crate::common::retail::ensure_dataset;

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

/// A proxy with the policies, the annotations and the leak users (SCRAM): alice guarded,
/// admin trusted.
pub fn guarded_proxy() -> Proxy {
    let users = users_file();
    Proxy::start(&[
        "--policies",
        "policies",
        "--schemas",
        "schemas",
        "--auth",
        "scram",
        "--users",
        users.to_str().unwrap_or_default(),
    ])
}

/// (stdout, stderr) of one `psql -XAt [extra] -c cmd` through proxy port `port` as `user`
/// (alice or admin, with their passwords), on the retail database.
pub fn psql(port: u16, user: &str, extra: &[&str], cmd: &str) -> (String, String) {
    let out = Command::new("psql")
        .arg(format!(
            "host=127.0.0.1 port={port} user={user} dbname={DB}"
        ))
        .arg("-XAt")
        .args(extra)
        .args(["-c", cmd])
        .env(
            "PGPASSWORD",
            if user == ADMIN { ADMIN_PW } else { ALICE_PW },
        )
        .output()
        .expect("psql (scripts/install-test-deps.sh)");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
