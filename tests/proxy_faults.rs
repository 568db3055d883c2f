//! Faults: upstream down or killed, clients vanishing, timeouts, bad bytes, SIGTERM.

mod common;
#[path = "common/raw.rs"]
mod raw;

use common::{connect, direct_dsn, free_port, Proxy};
use raw::{field, msg, query, Raw};
use std::io::Write;
use std::time::{Duration, Instant};

/// Backends running a query whose text contains `marker`, seen directly on the upstream.
async fn running(marker: &str) -> i64 {
    let c = connect(&direct_dsn()).await.unwrap();
    let row = c
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()",
            &[&marker],
        )
        .await
        .unwrap();
    row.get(0)
}

async fn wait_until_gone(marker: &str, limit: Duration) -> Duration {
    let t = Instant::now();
    while running(marker).await > 0 {
        assert!(
            t.elapsed() < limit,
            "query {marker} still running upstream after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    t.elapsed()
}

#[tokio::test]
async fn upstream_down_gives_08001_and_proxy_keeps_serving() {
    let dead = free_port();
    let p = Proxy::start(&[
        "--upstream",
        &format!("postgres://root@127.0.0.1:{dead}/test"),
    ]);
    let err = connect(&p.dsn("root"))
        .await
        .expect_err("login must fail with the upstream down");
    let db = err
        .as_db_error()
        .expect("a server error, not a dropped socket");
    assert_eq!(db.code().code(), "08001");
    assert!(
        db.message().contains("could not connect to upstream"),
        "{}",
        db.message()
    );
    assert!(db.hint().is_some());
    // The proxy is still up and answers again.
    let (status, _) = p.admin_get("/healthz");
    assert!(status.contains("200"), "{status}");
    assert!(connect(&p.dsn("root")).await.is_err());
    assert!(p.metric("querent_upstream_errors_total") >= 2.0);
}

#[tokio::test]
async fn unknown_database_is_refused_like_postgres() {
    let p = Proxy::start(&[]);
    let err = connect(&format!(
        "host=127.0.0.1 port={} user=root dbname=no_such_db_q",
        p.port
    ))
    .await
    .err()
    .unwrap();
    assert_eq!(err.as_db_error().unwrap().code().code(), "3D000");
    let c = connect(&p.dsn("root")).await.unwrap();
    assert_eq!(
        c.query_one("SELECT 1", &[]).await.unwrap().get::<_, i32>(0),
        1
    );
}

#[tokio::test]
async fn terminated_upstream_backend_fails_only_that_client() {
    let p = Proxy::start(&[]);
    let victim = connect(&p.dsn("root")).await.unwrap();
    let other = connect(&p.dsn("root")).await.unwrap();
    other.simple_query("SELECT 1").await.unwrap();
    let marker = format!("victim_{}", p.port);
    let sql = format!("SELECT pg_sleep(30) /* {marker} */");
    let task = tokio::spawn(async move { victim.simple_query(&sql).await });
    while running(&marker).await == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let admin = connect(&direct_dsn()).await.unwrap();
    admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()",
            &[&marker],
        )
        .await
        .unwrap();
    let res = tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("victim must not hang")
        .unwrap();
    let err = res.expect_err("victim's query must fail");
    let code = err.as_db_error().map(|e| e.code().code().to_string());
    assert!(matches!(code.as_deref(), Some("57P01") | None), "{err:?}");
    // The other session goes on, on its own upstream connection.
    let rows = other.simple_query("SELECT 2").await.unwrap();
    assert!(!rows.is_empty());
}

#[tokio::test]
async fn client_gone_mid_query_cancels_upstream_and_does_not_pool() {
    let p = Proxy::start(&[]);
    let marker = format!("gone_{}", p.port);
    let before = p.metric("querent_pool_idle_connections");
    {
        let mut r = Raw::connect(p.port);
        r.send(&query(&format!("SELECT pg_sleep(30) /* {marker} */")));
        let t = Instant::now();
        while running(&marker).await == 0 {
            assert!(t.elapsed() < Duration::from_secs(10));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    } // socket dropped here
    let took = wait_until_gone(&marker, Duration::from_secs(5)).await;
    eprintln!("upstream query stopped {took:?} after the client vanished");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        p.metric("querent_pool_idle_connections"),
        before,
        "a dirty connection was pooled"
    );
}

#[tokio::test]
async fn cancel_request_reaches_upstream_and_wrong_key_is_ignored() {
    let p = Proxy::start(&[]);
    let mut r = Raw::connect(p.port);
    let (pid, secret) = r.key;
    // Wrong key: ignored, nothing written back, the statement completes.
    r.send(&query("SELECT pg_sleep(0.5)"));
    std::thread::sleep(Duration::from_millis(100));
    assert!(raw::cancel(p.port, pid, secret.wrapping_add(1)).is_empty());
    let out = r.until_ready();
    assert!(out.iter().all(|m| m.0 != b'E'), "wrong key must not cancel");
    // Right key: the upstream query stops.
    let marker = format!("cancel_{}", p.port);
    r.send(&query(&format!("SELECT pg_sleep(30) /* {marker} */")));
    while running(&marker).await == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let t = Instant::now();
    assert!(
        raw::cancel(p.port, pid, secret).is_empty(),
        "nothing is written on a cancel connection"
    );
    let out = r.until_ready();
    let took = t.elapsed();
    let err = out
        .iter()
        .find(|m| m.0 == b'E')
        .expect("cancelled query errors");
    assert_eq!(field(&err.1, b'C').as_deref(), Some("57014"));
    eprintln!("cancel to error: {took:?}");
    assert_eq!(running(&marker).await, 0);
    // Session still usable.
    r.send(&query("SELECT 1"));
    assert!(r.until_ready().iter().any(|m| m.0 == b'D'));
}

#[tokio::test]
async fn idle_timeout_closes_with_57p05() {
    let p = Proxy::start_env(&[], &[("QUERENT_TIMEOUTS_IDLE", "700ms")]);
    let mut r = Raw::connect(p.port);
    r.send(&query("SELECT 1"));
    r.until_ready();
    let msgs = r.until_eof();
    let e = msgs
        .iter()
        .find(|m| m.0 == b'E')
        .expect("an error before close");
    assert_eq!(field(&e.1, b'C').as_deref(), Some("57P05"));
    assert!(field(&e.1, b'H').unwrap().contains("timeouts.idle"));
}

#[tokio::test]
async fn query_timeout_cancels_with_a_notice() {
    let p = Proxy::start_env(&[], &[("QUERENT_TIMEOUTS_QUERY", "300ms")]);
    let mut r = Raw::connect(p.port);
    let t = Instant::now();
    r.send(&query("SELECT pg_sleep(20)"));
    let out = r.until_ready();
    assert!(t.elapsed() < Duration::from_secs(10));
    let e = out.iter().find(|m| m.0 == b'E').expect("timeout error");
    assert_eq!(field(&e.1, b'C').as_deref(), Some("57014"));
    let n = out
        .iter()
        .find(|m| m.0 == b'N')
        .expect("notice naming the timeout");
    assert!(field(&n.1, b'M').unwrap().contains("timeouts.query"));
    r.send(&query("SELECT 1"));
    assert!(
        r.until_ready().iter().any(|m| m.0 == b'D'),
        "session survives the timeout"
    );
}

#[tokio::test]
async fn malformed_and_oversized_messages_close_only_that_connection() {
    let p = Proxy::start_env(&[], &[("QUERENT_LIMITS_MAX_MESSAGE_SIZE", "65536")]);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"Q\0\0\0\x02".to_vec(), "invalid message length"),
        (msg(b'z', b"hello"), "invalid frontend message type"),
        (
            [&b"Q"[..], &(1u32 << 30).to_be_bytes()].concat(),
            "over the limit",
        ),
        (query(&"x".repeat(70_000)), "over the limit"),
    ];
    for (bytes, expect) in cases {
        let mut r = Raw::connect(p.port);
        r.send(&bytes);
        let msgs = r.until_eof();
        let e = msgs
            .iter()
            .find(|m| m.0 == b'E')
            .unwrap_or_else(|| panic!("no error for {expect}"));
        assert_eq!(field(&e.1, b'C').as_deref(), Some("08P01"));
        assert!(
            field(&e.1, b'M').unwrap().contains(expect),
            "{:?}",
            field(&e.1, b'M')
        );
    }
    // Garbage instead of a startup packet.
    for junk in [
        &b"GET / HTTP/1.1\r\n\r\n"[..],
        &[0xff; 64][..],
        &[0, 0, 0, 8, 0, 2, 0, 0][..],
    ] {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", p.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(junk).unwrap();
        let mut back = Vec::new();
        let _ = std::io::Read::read_to_end(&mut s, &mut back);
    }
    let c = connect(&p.dsn("root")).await.unwrap();
    assert_eq!(
        c.query_one("SELECT 41 + 1", &[])
            .await
            .unwrap()
            .get::<_, i32>(0),
        42
    );
    assert!(p.metric("querent_protocol_errors_total") >= 4.0);
}

#[tokio::test]
async fn sigterm_lets_running_statements_finish_then_exits_0() {
    let mut p = Proxy::start(&[]);
    let c = connect(&p.dsn("root")).await.unwrap();
    let task = tokio::spawn(async move { c.simple_query("SELECT pg_sleep(1.5)").await });
    tokio::time::sleep(Duration::from_millis(400)).await;
    let pid = p.child.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        connect(&p.dsn("root")).await.is_err(),
        "no new connections while draining"
    );
    let res = task.await.unwrap();
    assert!(res.is_ok(), "running statement must finish: {res:?}");
    let t = Instant::now();
    let status = loop {
        if let Some(s) = p.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit status {status:?}\n{}", p.log_text());
}

#[tokio::test]
async fn clients_over_the_limit_get_53300() {
    let p = Proxy::start_env(&[], &[("QUERENT_LIMITS_MAX_CLIENTS", "2")]);
    let _a = connect(&p.dsn("root")).await.unwrap();
    let _b = connect(&p.dsn("root")).await.unwrap();
    let err = connect(&p.dsn("root"))
        .await
        .expect_err("third client refused");
    let db = err.as_db_error().expect("a server error");
    assert_eq!(db.code().code(), "53300");
    assert!(db.hint().unwrap().contains("limits.max_clients"));
    drop(_a);
    tokio::time::sleep(Duration::from_millis(200)).await;
    connect(&p.dsn("root"))
        .await
        .expect("a slot frees up when a client leaves");
}

#[tokio::test]
async fn statement_spans_are_logged() {
    let p = Proxy::start_env(&["--log-format", "json"], &[]);
    let c = connect(&p.dsn("root")).await.unwrap();
    c.simple_query("SELECT 1").await.unwrap();
    drop(c);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = p.log_text();
    let line = log
        .lines()
        .find(|l| l.contains("statement done"))
        .unwrap_or_else(|| panic!("no statement event:\n{log}"));
    assert!(
        line.starts_with('{') && line.contains("\"statement\"") && line.contains("\"conn\""),
        "{line}"
    );
}
