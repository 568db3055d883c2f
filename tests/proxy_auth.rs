//! Authentication and the command line: SCRAM, cleartext over TLS only, users file, config
//! errors that name the key.

mod common;

use common::{connect, Proxy};
use std::path::PathBuf;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_querent"))
}

fn users_file(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("querent-auth-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("users.toml");
    let _ = std::fs::remove_file(&path);
    let st = bin()
        .args(["user", "add", "alice", "--users"])
        .arg(&path)
        .args([
            "--password",
            "wonderland",
            "--role",
            "analyst_west",
            "--attr",
            "region_id=3",
        ])
        .status()
        .unwrap();
    assert!(st.success());
    path
}

#[tokio::test]
async fn scram_right_wrong_and_unknown() {
    let users = users_file("scram");
    let text = std::fs::read_to_string(&users).unwrap();
    assert!(text.contains("SCRAM-SHA-256$4096:") && !text.contains("wonderland"));
    let p = Proxy::start(&["--auth", "scram", "--users", users.to_str().unwrap()]);
    let ok = connect(&format!("{} password=wonderland", p.dsn("alice")))
        .await
        .unwrap();
    assert_eq!(
        ok.query_one("SELECT 1", &[])
            .await
            .unwrap()
            .get::<_, i32>(0),
        1
    );

    let err = connect(&format!("{} password=nope", p.dsn("alice")))
        .await
        .err()
        .unwrap();
    let db = err.as_db_error().unwrap();
    assert_eq!(db.code().code(), "28P01");
    assert_eq!(
        db.message(),
        "password authentication failed for user \"alice\""
    );

    let err = connect(&format!("{} password=x", p.dsn("mallory")))
        .await
        .err()
        .unwrap();
    let db = err.as_db_error().unwrap();
    // An unknown user goes through the same SCRAM exchange and fails like a wrong password:
    // nothing tells a client which user names exist.
    assert_eq!(db.code().code(), "28P01");
    assert_eq!(
        db.message(),
        "password authentication failed for user \"mallory\""
    );
    assert!(p.metric("querent_auth_failures_total") >= 2.0);
}

/// After 3 wrong passwords for a user, each further attempt waits its turn
/// (`limits.login_backoff`, doubling), from any address and however many connections; the
/// right password still gets in, and resets the record.
#[tokio::test]
async fn failed_logins_back_off() {
    let users = users_file("backoff");
    let p = Proxy::start(&["--auth", "scram", "--users", users.to_str().unwrap()]);
    let wrong = format!("{} password=nope", p.dsn("alice"));
    for _ in 0..3 {
        assert!(connect(&wrong).await.is_err());
    }
    assert_eq!(p.metric("querent_auth_throttled_total"), 0.0);
    let t = std::time::Instant::now();
    let tries: Vec<_> = (0..3)
        .map(|_| {
            let dsn = wrong.clone();
            tokio::spawn(async move { connect(&dsn).await.is_err() })
        })
        .collect();
    for t in tries {
        assert!(t.await.unwrap());
    }
    // Three parallel attempts took turns 250 ms, 500 ms and 1 s apart at least.
    assert!(
        t.elapsed() >= std::time::Duration::from_millis(250 + 500),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(p.metric("querent_auth_throttled_total"), 3.0);
    let ok = connect(&format!("{} password=wonderland", p.dsn("alice")))
        .await
        .expect("the right password still logs in");
    drop(ok);
    // The right password waited its turn too (nothing tells a guesser which attempt was right).
    let throttled = p.metric("querent_auth_throttled_total");
    assert!(connect(&wrong).await.is_err());
    assert_eq!(
        p.metric("querent_auth_throttled_total"),
        throttled,
        "a success clears the record: the next failure does not wait"
    );
}

#[test]
fn user_add_updates_in_place() {
    let users = users_file("update");
    let before = std::fs::read_to_string(&users).unwrap();
    let st = bin()
        .args(["user", "add", "alice", "--users"])
        .arg(&users)
        .args(["--attr", "tier=gold"])
        .status()
        .unwrap();
    assert!(st.success());
    let after = std::fs::read_to_string(&users).unwrap();
    let verifier = |t: &str| {
        t.lines()
            .find(|l| l.starts_with("scram"))
            .map(str::to_string)
    };
    assert_eq!(
        verifier(&before),
        verifier(&after),
        "no new password: verifier kept"
    );
    assert!(after.contains("tier = \"gold\"") && after.contains("region_id = \"3\""));
    let out = bin()
        .args(["user", "add", "bob", "--users"])
        .arg(&users)
        .args(["--attr", "oops"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("key=value"));
}

#[test]
fn cleartext_password_only_over_tls() {
    let users = users_file("cleartext");
    let u = users.to_str().unwrap();
    let out = bin()
        .args([
            "serve",
            "--auth",
            "password",
            "--users",
            u,
            "--admin-listen",
            "",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("needs TLS"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let p = Proxy::start(&[
        "--auth",
        "password",
        "--users",
        u,
        "--tls-cert",
        "fixtures/tls/server.pem",
        "--tls-key",
        "fixtures/tls/server.key",
    ]);
    let psql = |mode: &str, pw: &str| {
        Command::new("psql")
            .arg(format!(
                "host=localhost port={} user=alice dbname=test sslmode={mode} sslrootcert=fixtures/tls/ca.pem",
                p.port
            ))
            .args(["-XAtc", "SELECT 40 + 2"])
            .env("PGPASSWORD", pw)
            .current_dir(common::repo())
            .output()
            .expect("psql is installed (scripts/install-test-deps.sh)")
    };
    let ok = psql("verify-full", "wonderland");
    assert_eq!(
        String::from_utf8_lossy(&ok.stdout).trim(),
        "42",
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let bad = psql("require", "wrong");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("password authentication failed"));
    let plain = psql("disable", "wonderland");
    let e = String::from_utf8_lossy(&plain.stderr);
    assert!(e.contains("requires an encrypted connection"), "{e}");
}

#[test]
fn trust_mode_logs_a_warning() {
    let p = Proxy::start(&[]);
    let log = p.log_text();
    assert!(log.contains("auth = trust"));
    assert!(
        !log.contains('\u{1b}'),
        "no terminal colour codes in a log file: {log:?}"
    );
}

#[test]
fn tls_refused_cleanly_when_off() {
    let p = Proxy::start(&[]);
    let out = Command::new("psql")
        .arg(format!(
            "host=127.0.0.1 port={} user=root dbname=test sslmode=require",
            p.port
        ))
        .args(["-XAtc", "SELECT 1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("server does not support SSL"));
    let ok = Command::new("psql")
        .arg(format!(
            "host=127.0.0.1 port={} user=root dbname=test sslmode=prefer",
            p.port
        ))
        .args(["-XAtc", "SELECT 1"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&ok.stdout).trim(), "1");
}

#[test]
fn config_errors_name_the_key_and_exit_nonzero() {
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = bin();
        c.arg("serve").args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        assert!(!out.status.success(), "{args:?} should fail");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(
        run(&["--auth", "magic"], &[]).contains("--auth: expected one of trust, scram, password")
    );
    assert!(run(&["--listen", "nowhere"], &[]).contains("listen: expected host:port"));
    assert!(run(&[], &[("QUERENT_TIMEOUTS_QUERY", "soon")]).contains("QUERENT_TIMEOUTS_QUERY"));
    assert!(run(&["--upstream", "mysql://x"], &[]).contains("upstream"));
    let dir = std::env::temp_dir().join(format!("querent-cfg-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("q.toml");
    std::fs::write(&f, "listen = \"127.0.0.1:0\"\n\n[timeouts]\nidle = true\n").unwrap();
    let e = run(&["--config", f.to_str().unwrap()], &[]);
    assert!(e.contains("line 4") && e.contains("idle"), "{e}");
    assert!(run(&["--config", "/no/such/file.toml"], &[]).contains("cannot read config file"));
}

#[test]
fn every_setting_is_documented_in_the_readme() {
    let readme = std::fs::read_to_string(common::repo().join("README.md")).unwrap();
    let out = bin().arg("settings").output().unwrap();
    let listing = String::from_utf8_lossy(&out.stdout);
    let mut n = 0;
    for line in listing.lines() {
        let key = line.split_whitespace().next().unwrap();
        let env = line.split_whitespace().nth(1).unwrap();
        assert!(
            readme.contains(&format!("`{key}`")),
            "README lacks setting `{key}`"
        );
        assert!(readme.contains(env), "README lacks {env}");
        n += 1;
    }
    assert!(n >= 15);
}

/// Direct TLS (PostgreSQL 17's `sslnegotiation=direct`), driven by Python's ssl module.
#[test]
fn direct_tls_with_alpn() {
    let p = Proxy::start(&[
        "--tls-cert",
        "fixtures/tls/server.pem",
        "--tls-key",
        "fixtures/tls/server.key",
    ]);
    let script = r#"
import socket, ssl, struct, sys
port, alpn = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile="fixtures/tls/ca.pem")
if alpn: ctx.set_alpn_protocols([alpn])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
body = struct.pack("!i", 196608) + b"user\0root\0database\0test\0\0"
s.sendall(struct.pack("!i", len(body) + 4) + body)
def exact(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c: return None
        b += c
    return b
tags = b""
while not tags.endswith(b"Z") and not tags.endswith(b"E"):
    hdr = exact(5)
    if hdr is None: break
    exact(struct.unpack("!i", hdr[1:])[0] - 4)
    tags += hdr[:1]
print(tags.decode())
"#;
    let run = |alpn: &str| {
        let out = Command::new("python3")
            .args(["-c", script, &p.port.to_string(), alpn])
            .current_dir(common::repo())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let ok = run("postgresql");
    assert!(ok.starts_with('R') && ok.ends_with('Z'), "{ok}");
    assert!(run("").ends_with('E'), "without ALPN the login is refused");
}

#[tokio::test]
async fn sighup_reloads_the_users_file() {
    let users = users_file("reload");
    let p = Proxy::start(&["--auth", "scram", "--users", users.to_str().unwrap()]);
    let bob = format!("{} password=builder", p.dsn("bob"));
    assert!(connect(&bob).await.is_err(), "bob does not exist yet");
    let st = bin()
        .args(["user", "add", "bob", "--users"])
        .arg(&users)
        .args(["--password", "builder"])
        .status()
        .unwrap();
    assert!(st.success());
    let hup = |pid: u32| {
        Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status()
            .unwrap()
    };
    assert!(hup(p.child.id()).success());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    connect(&bob).await.expect("bob can log in after SIGHUP");
    // A broken file keeps the old one in force.
    std::fs::write(&users, "[users.bob]\nscram = \"plain-text\"\n").unwrap();
    assert!(hup(p.child.id()).success());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    connect(&bob).await.expect("old users stay in force");
    assert!(p.log_text().contains("users file not reloaded"));
}

/// SCRAM-SHA-256-PLUS over TLS: psql with channel_binding=require logs in; without TLS it
/// cannot (nothing to bind to), as with PostgreSQL.
#[test]
fn scram_channel_binding_over_tls() {
    let users = users_file("plus");
    let p = Proxy::start(&[
        "--auth",
        "scram",
        "--users",
        users.to_str().unwrap(),
        "--tls-cert",
        "fixtures/tls/server.pem",
        "--tls-key",
        "fixtures/tls/server.key",
    ]);
    let psql = |ssl: &str| {
        Command::new("psql")
            .arg(format!(
                "host=localhost port={} user=alice dbname=test sslmode={ssl} sslrootcert=fixtures/tls/ca.pem channel_binding=require",
                p.port
            ))
            .args(["-XAtc", "SELECT 'bound'"])
            .env("PGPASSWORD", "wonderland")
            .current_dir(common::repo())
            .output()
            .unwrap()
    };
    let ok = psql("verify-full");
    assert_eq!(
        String::from_utf8_lossy(&ok.stdout).trim(),
        "bound",
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let plain = psql("disable");
    assert!(!plain.status.success());
    assert!(String::from_utf8_lossy(&plain.stderr).contains("channel binding"));
}
