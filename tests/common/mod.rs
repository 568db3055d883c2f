//! Helpers shared by the integration tests: run the real `querent` binary on free ports
//! against the local PostgreSQL, and connect to either side.
#![allow(dead_code)]

pub mod guard;
pub mod llm;
pub mod retail;
pub mod saas;

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Upstream PostgreSQL used by every test (the machine's local server).
pub const PG_HOST: &str = "127.0.0.1";
/// Its port.
pub const PG_PORT: u16 = 5432;
/// Its user and database.
pub const PG_USER: &str = "root";
/// Database.
pub const PG_DB: &str = "test";

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A running `querent serve` child process; killed on drop.
pub struct Proxy {
    pub child: Child,
    pub port: u16,
    pub admin_port: u16,
    pub log: PathBuf,
}

impl Proxy {
    /// Starts `querent serve` with the default upstream plus `extra` flags, on free ports.
    pub fn start(extra: &[&str]) -> Proxy {
        Self::start_env(extra, &[])
    }

    /// Same, with extra environment variables for the child.
    pub fn start_env(extra: &[&str], env: &[(&str, &str)]) -> Proxy {
        let port = free_port();
        let admin_port = free_port();
        let log = std::env::temp_dir().join(format!("querent-test-{port}.log"));
        let logf = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_querent"));
        cmd.arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--admin-listen")
            .arg(format!("127.0.0.1:{admin_port}"));
        if !extra.contains(&"--upstream") {
            cmd.arg("--upstream")
                .arg(format!("postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_DB}"));
        }
        cmd.args(extra)
            .env("RUST_LOG", "querent=debug")
            .stdout(Stdio::null())
            .stderr(logf)
            .current_dir(repo());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn querent");
        let p = Proxy {
            child,
            port,
            admin_port,
            log,
        };
        p.wait_ready();
        p
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("querent did not start; log:\n{}", self.log_text());
    }

    /// What the proxy logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A libpq-style connection string to the proxy.
    pub fn dsn(&self, user: &str) -> String {
        format!(
            "host=127.0.0.1 port={} user={user} dbname={PG_DB}",
            self.port
        )
    }

    /// GET a path on the admin port; returns (status line, body).
    pub fn admin_get(&self, path: &str) -> (String, String) {
        use std::io::Write;
        let mut s = TcpStream::connect(("127.0.0.1", self.admin_port)).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        (
            head.lines().next().unwrap_or("").to_string(),
            body.to_string(),
        )
    }

    /// Reads one metric's value from /metrics.
    pub fn metric(&self, name: &str) -> f64 {
        let (_, body) = self.admin_get("/metrics");
        body.lines()
            .find_map(|l| {
                l.strip_prefix(name)
                    .and_then(|r| r.strip_prefix(' '))
                    .map(|v| v.trim().parse().unwrap())
            })
            .unwrap_or_else(|| panic!("metric {name} missing"))
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A direct connection string to the upstream.
pub fn direct_dsn() -> String {
    format!("host={PG_HOST} port={PG_PORT} user={PG_USER} dbname={PG_DB}")
}

/// Connects tokio-postgres without TLS and drives the connection in the background.
pub async fn connect(dsn: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, conn) = tokio_postgres::connect(dsn, tokio_postgres::NoTls).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(client)
}
