//! Real client programs against the running proxy and the real PostgreSQL: psql, pgbench,
//! psycopg 3, asyncpg, node-postgres and pgjdbc. Each test starts its own proxy, runs one
//! program from tests/clients/ against it, and fails with that program's output and the proxy
//! log when the program reports a mismatch. A missing client tool is a failure
//! ("run scripts/install-test-deps.sh"), never a skip. The `ask_relation_*` tests run
//! `SELECT * FROM ask('...')` as BI tools wrap it, on the retail dataset, as a trusted and a
//! guarded user.

mod common;
mod leak;

use common::{repo, Proxy, PG_DB, PG_HOST, PG_PORT, PG_USER};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const INSTALL: &str = "run scripts/install-test-deps.sh";
const PGJDBC_JAR: &str = "/usr/share/java/postgresql.jar";

/// Panics with the install hint unless `program args...` runs and exits 0.
fn require(what: &str, program: &str, args: &[&str]) {
    let ok = Command::new(program)
        .args(args)
        .current_dir(repo())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "missing {what}: {INSTALL}");
}

fn require_file(what: &str, path: &Path) {
    assert!(
        path.is_file(),
        "missing {what} ({}): {INSTALL}",
        path.display()
    );
}

fn clients_dir() -> PathBuf {
    repo().join("tests").join("clients")
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string())
}

fn direct_url() -> String {
    format!("postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_DB}")
}

/// The proxy log without terminal colour codes, at most its last 30,000 characters.
fn log_tail(proxy: &Proxy) -> String {
    let raw = proxy.log_text();
    let mut clean = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            clean.push(c);
        }
    }
    let keep = 30_000;
    match clean.char_indices().rev().nth(keep) {
        Some((i, _)) => format!("[... {i} bytes cut ...]\n{}", &clean[i..]),
        None => clean,
    }
}

/// Runs a client program to completion (killed after `limit`); panics unless it exits 0,
/// showing its stdout, stderr and the proxy log. Returns its stdout.
fn run_client(name: &str, proxy: &Proxy, mut cmd: Command, limit: Duration) -> String {
    let dir = std::env::temp_dir();
    let out_path = dir.join(format!("querent-client-{name}-{}.out", proxy.port));
    let err_path = dir.join(format!("querent-client-{name}-{}.err", proxy.port));
    let out = std::fs::File::create(&out_path).unwrap();
    let err = std::fs::File::create(&err_path).unwrap();
    cmd.current_dir(repo())
        .env("QUERENT_REPO", repo())
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("missing {name} ({e}): {INSTALL}"));
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    let _ = std::fs::remove_file(&out_path);
    let _ = std::fs::remove_file(&err_path);
    let verdict = match status {
        Some(s) if s.success() => {
            println!(
                "{name} passed in {:.1}s:\n{stdout}",
                started.elapsed().as_secs_f64()
            );
            return stdout;
        }
        Some(s) => format!("exited with {s}"),
        None => format!("still running after {limit:?}; killed"),
    };
    panic!(
        "{name} client test failed ({verdict}) against the proxy on port {}\n\
         ---- {name} stdout ----\n{stdout}\n---- {name} stderr ----\n{stderr}\n\
         ---- proxy log ----\n{}",
        proxy.port,
        log_tail(proxy)
    );
}

fn require_psql() {
    require("psql", "psql", &["--version"]);
}

fn psql_script(section: &str, proxy: &Proxy) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg(clients_dir().join("psql").join("psql_client_test.sh"))
        .arg(section)
        .env("QUERENT_PORT", proxy.port.to_string());
    cmd
}

/// A file removed when dropped (also when the test panics).
struct TempFile(PathBuf);

impl TempFile {
    fn arg(&self) -> String {
        self.0.display().to_string()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A users file with one user, made by the real `querent user add`.
fn users_file(user: &str, password: &str) -> TempFile {
    let path = std::env::temp_dir().join(format!(
        "querent-real-clients-{}-{user}.toml",
        common::free_port()
    ));
    let _ = std::fs::remove_file(&path);
    let out = Command::new(env!("CARGO_BIN_EXE_querent"))
        .args(["user", "add", user, "--users"])
        .arg(&path)
        .args([
            "--password",
            password,
            "--role",
            "analyst",
            "--attr",
            "team=qa",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "querent user add failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    TempFile(path)
}

fn tls_flags() -> Vec<String> {
    let tls = repo().join("fixtures").join("tls");
    vec![
        "--tls-cert".into(),
        tls.join("server.pem").display().to_string(),
        "--tls-key".into(),
        tls.join("server.key").display().to_string(),
    ]
}

/// The SQLSTATE a tokio-postgres login gets from the proxy.
fn login_sqlstate(dsn: &str) -> Option<String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        match common::connect(dsn).await {
            Ok(client) => {
                client
                    .simple_query("SELECT 1")
                    .await
                    .expect("query after login");
                None
            }
            Err(e) => Some(
                e.as_db_error()
                    .map(|d| d.code().code().to_string())
                    .unwrap_or_else(|| format!("not a server error: {e}")),
            ),
        }
    })
}

/// psql's \d, \dt, \d+, \l and \x print exactly the same text through the proxy as directly.
#[test]
fn psql_describe_commands_match_direct() {
    require_psql();
    let proxy = Proxy::start(&[]);
    run_client(
        "psql-meta",
        &proxy,
        psql_script("meta", &proxy),
        Duration::from_secs(120),
    );
}

/// Ctrl-C in psql cancels a running pg_sleep(30) through the proxy's CancelRequest forwarding.
#[test]
fn psql_ctrl_c_cancels_upstream_statement() {
    require_psql();
    let proxy = Proxy::start(&[]);
    run_client(
        "psql-cancel",
        &proxy,
        psql_script("cancel", &proxy),
        Duration::from_secs(60),
    );
}

/// psql with sslmode=require and verify-full against a TLS proxy; require against a proxy
/// without TLS fails with "server does not support SSL".
#[test]
fn psql_tls_modes() {
    require_psql();
    let flags = tls_flags();
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let tls_proxy = Proxy::start(&flags);
    let plain_proxy = Proxy::start(&[]);
    let mut cmd = psql_script("tls", &tls_proxy);
    cmd.env("QUERENT_PLAIN_PORT", plain_proxy.port.to_string());
    run_client("psql-tls", &tls_proxy, cmd, Duration::from_secs(120));
}

/// psql logging in with SCRAM-SHA-256: right password, wrong password (28P01), unknown user
/// (28P01 too: no user enumeration); the SQLSTATEs are checked with tokio-postgres.
#[test]
fn psql_scram_login() {
    require_psql();
    let users = users_file("alice", "s3cret-Ü");
    let users_s = users.arg();
    let proxy = Proxy::start(&["--auth", "scram", "--users", &users_s]);
    let mut cmd = psql_script("scram", &proxy);
    cmd.env("QUERENT_USER", "alice")
        .env("QUERENT_PASSWORD", "s3cret-Ü");
    run_client("psql-scram", &proxy, cmd, Duration::from_secs(60));
    let base = format!("host=127.0.0.1 port={} dbname={PG_DB}", proxy.port);
    assert_eq!(
        login_sqlstate(&format!("{base} user=alice password=s3cret-Ü")),
        None
    );
    assert_eq!(
        login_sqlstate(&format!("{base} user=alice password=wrong")).as_deref(),
        Some("28P01")
    );
    assert_eq!(
        login_sqlstate(&format!("{base} user=nosuch password=x")).as_deref(),
        Some("28P01")
    );
}

/// psql with --auth password: works over TLS, refused on a plain connection.
#[test]
fn psql_password_login_over_tls() {
    require_psql();
    let users = users_file("bob", "pw-bob");
    let users_s = users.arg();
    let mut flags = vec![
        "--auth".to_string(),
        "password".into(),
        "--users".into(),
        users_s,
    ];
    flags.extend(tls_flags());
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let proxy = Proxy::start(&flags);
    let mut cmd = psql_script("password", &proxy);
    cmd.env("QUERENT_USER", "bob")
        .env("QUERENT_PASSWORD", "pw-bob");
    run_client("psql-password", &proxy, cmd, Duration::from_secs(60));
}

/// SCRAM-SHA-256 from every driver's own implementation (libpq via psycopg, asyncpg,
/// node-postgres, pgjdbc) on plain TCP and on verified TLS: right password works, wrong
/// password and unknown user both give 28P01.
#[test]
fn scram_login_from_every_driver() {
    require(
        "python3 with psycopg 3 and asyncpg",
        &python(),
        &["-c", "import psycopg, asyncpg"],
    );
    require("node", "node", &["--version"]);
    require_file(
        "node-postgres (npm pg in tests/clients/node)",
        &clients_dir()
            .join("node")
            .join("node_modules")
            .join("pg")
            .join("package.json"),
    );
    require("java", "java", &["-version"]);
    require_file("pgjdbc (libpostgresql-jdbc-java)", Path::new(PGJDBC_JAR));
    let (user, password) = ("carol", "Sc-ram pw ☃");
    let users = users_file(user, password);
    let mut flags = vec![
        "--auth".to_string(),
        "scram".into(),
        "--users".into(),
        users.arg(),
    ];
    flags.extend(tls_flags());
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let proxy = Proxy::start(&flags);
    let ca = repo()
        .join("fixtures")
        .join("tls")
        .join("ca.pem")
        .display()
        .to_string();
    let port = proxy.port.to_string();
    let args = [port.as_str(), user, password, ca.as_str()];
    let mut py = Command::new(python());
    py.arg(clients_dir().join("python").join("scram_login_test.py"))
        .args(args);
    run_client("scram-python", &proxy, py, Duration::from_secs(60));
    let mut node = Command::new("node");
    node.arg(clients_dir().join("node").join("scram_login_test.js"))
        .args(args);
    run_client("scram-node", &proxy, node, Duration::from_secs(60));
    let mut java = Command::new("java");
    java.arg("-cp")
        .arg(PGJDBC_JAR)
        .arg(clients_dir().join("jdbc").join("ScramLoginTest.java"))
        .args(args);
    run_client("scram-pgjdbc", &proxy, java, Duration::from_secs(60));
}

/// pgbench -i through the proxy, select-only runs in -M simple/extended/prepared and TPC-B-like
/// write runs: all transactions processed, none failed, writes exactly visible upstream.
#[test]
fn pgbench_all_query_modes() {
    require_psql();
    require("pgbench", "pgbench", &["--version"]);
    require("createdb", "createdb", &["--version"]);
    require("dropdb", "dropdb", &["--version"]);
    let proxy = Proxy::start(&[]);
    let mut cmd = Command::new("bash");
    cmd.arg(clients_dir().join("pgbench").join("pgbench_client_test.sh"))
        .env("QUERENT_PORT", proxy.port.to_string())
        .env("PGBENCH_DB", format!("querent_pgbench_{}", proxy.port));
    run_client("pgbench", &proxy, cmd, Duration::from_secs(300));
}

/// psycopg 3: server-side binding, binary cursors over many types, prepared statements,
/// transactions, COPY, named cursors, LISTEN/NOTIFY, error sqlstates.
#[test]
fn psycopg3_client() {
    require(
        "python3 with psycopg 3",
        &python(),
        &["-c", "import psycopg, psycopg_binary"],
    );
    let proxy = Proxy::start(&[]);
    let mut cmd = Command::new(python());
    cmd.arg(clients_dir().join("python").join("psycopg_client_test.py"))
        .arg(proxy.dsn("root"))
        .arg(common::direct_dsn());
    run_client("psycopg", &proxy, cmd, Duration::from_secs(180));
}

/// asyncpg (binary everything): parameters, prepared statement reuse, cursors with prefetch,
/// copy_from_query, executemany, types, exception sqlstates.
#[test]
fn asyncpg_client() {
    require("python3 with asyncpg", &python(), &["-c", "import asyncpg"]);
    let proxy = Proxy::start(&[]);
    let mut cmd = Command::new(python());
    cmd.arg(clients_dir().join("python").join("asyncpg_client_test.py"))
        .arg(format!("postgres://root@127.0.0.1:{}/{PG_DB}", proxy.port))
        .arg(direct_url());
    run_client("asyncpg", &proxy, cmd, Duration::from_secs(180));
}

/// node-postgres: parameterized queries, a named prepared statement, rowMode array, a
/// transaction, error codes, LISTEN notifications.
#[test]
fn node_postgres_client() {
    require("node", "node", &["--version"]);
    let node_dir = clients_dir().join("node");
    require_file(
        "node-postgres (npm pg in tests/clients/node)",
        &node_dir
            .join("node_modules")
            .join("pg")
            .join("package.json"),
    );
    let proxy = Proxy::start(&[]);
    let mut cmd = Command::new("node");
    cmd.arg(node_dir.join("pg_client_test.js"))
        .arg(format!("postgres://root@127.0.0.1:{}/{PG_DB}", proxy.port))
        .arg(direct_url());
    run_client("node-postgres", &proxy, cmd, Duration::from_secs(180));
}

/// pgjdbc with prepareThreshold=1: named binary statements with typed getters, setFetchSize in
/// a transaction (Execute max_rows + PortalSuspended), batches, metadata, SQLState.
#[test]
fn pgjdbc_client() {
    require("java", "java", &["-version"]);
    require_file("pgjdbc (libpostgresql-jdbc-java)", Path::new(PGJDBC_JAR));
    let proxy = Proxy::start(&[]);
    let mut cmd = Command::new("java");
    cmd.arg("-cp")
        .arg(PGJDBC_JAR)
        .arg(clients_dir().join("jdbc").join("JdbcClientTest.java"))
        .arg(proxy.port.to_string())
        .arg(format!(
            "jdbc:postgresql://{PG_HOST}:{PG_PORT}/{PG_DB}?user={PG_USER}"
        ));
    run_client("pgjdbc", &proxy, cmd, Duration::from_secs(180));
}

/// The proxy the ask() client tests use: the retail dataset loaded, `policies/` and
/// `schemas/`, SCRAM logins for admin (trusted) and alice (guarded: region East only).
fn ask_proxy() -> (Proxy, [String; 3]) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(leak::ensure_dataset());
    let users = leak::users_file();
    let proxy = Proxy::start(&[
        "--policies",
        "policies",
        "--schemas",
        "schemas",
        "--auth",
        "scram",
        "--users",
        users.to_str().unwrap(),
    ]);
    let args = [
        proxy.port.to_string(),
        format!("{}:{}", leak::ADMIN, leak::ADMIN_PW),
        format!("{}:{}", leak::ALICE, leak::ALICE_PW),
    ];
    (proxy, args)
}

/// `SELECT * FROM ask('revenue by region in 2024')` through psycopg 3 (extended, binary,
/// prepared, client-side binding), psycopg2 (Superset's driver) and SQLAlchemy 2 + pandas
/// read_sql: Superset's virtual_table, Tableau's `WHERE 1=0`, a CTE, a `%s` outside the call,
/// ask_followups(); 5 exact rows for admin, only East for alice; columns region text, revenue
/// numeric. ask_insights(): column types, and no text naming what alice may not see (a server
/// answering 0A000 for it is a printed skip, so the scripts also run against older builds).
#[test]
fn ask_relation_psycopg_sqlalchemy_pandas() {
    require(
        "python3 with psycopg 3, psycopg2, SQLAlchemy 2 and pandas",
        &python(),
        &[
            "-c",
            "import psycopg, psycopg_binary, psycopg2, sqlalchemy, pandas",
        ],
    );
    let (proxy, args) = ask_proxy();
    let mut cmd = Command::new(python());
    cmd.arg(clients_dir().join("python").join("ask_relation_psycopg.py"))
        .args(&args);
    run_client("ask-psycopg", &proxy, cmd, Duration::from_secs(120));
}

/// The same through asyncpg: prepared statements' attributes before execution (Describe), a
/// `$1` outside the call, a cursor with prefetch=2 in a transaction.
#[test]
fn ask_relation_asyncpg() {
    require("python3 with asyncpg", &python(), &["-c", "import asyncpg"]);
    let (proxy, args) = ask_proxy();
    let mut cmd = Command::new(python());
    cmd.arg(clients_dir().join("python").join("ask_relation_asyncpg.py"))
        .args(&args);
    run_client("ask-asyncpg", &proxy, cmd, Duration::from_secs(120));
}

/// The same through pgjdbc: a PreparedStatement with a `?` outside the call and its
/// ResultSetMetaData read before executing, prepareThreshold=1, setFetchSize(2) in a
/// transaction, and preferQueryMode=simple.
#[test]
fn ask_relation_pgjdbc() {
    require("java", "java", &["-version"]);
    require_file("pgjdbc (libpostgresql-jdbc-java)", Path::new(PGJDBC_JAR));
    let (proxy, args) = ask_proxy();
    let mut cmd = Command::new("java");
    cmd.arg("-cp")
        .arg(PGJDBC_JAR)
        .arg(clients_dir().join("jdbc").join("AskRelationTest.java"))
        .args(&args);
    run_client("ask-pgjdbc", &proxy, cmd, Duration::from_secs(120));
}

/// The same through node-postgres: simple protocol without values, extended with a `$1`, a
/// named statement, rowMode array.
#[test]
fn ask_relation_node_postgres() {
    require("node", "node", &["--version"]);
    let node_dir = clients_dir().join("node");
    require_file(
        "node-postgres (npm pg in tests/clients/node)",
        &node_dir
            .join("node_modules")
            .join("pg")
            .join("package.json"),
    );
    let (proxy, args) = ask_proxy();
    let mut cmd = Command::new("node");
    cmd.arg(node_dir.join("ask_relation_test.js")).args(&args);
    run_client("ask-node-postgres", &proxy, cmd, Duration::from_secs(120));
}
