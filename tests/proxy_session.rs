//! Session behaviour: startup parameters, idle clients hold no upstream connection, reset
//! before pooling, COPY, streaming with bounded memory, admin endpoints.

mod common;
#[path = "common/raw.rs"]
mod raw;

use common::{connect, Proxy};
use raw::{query, startup_packet, Raw};
use std::io::{Read, Write};
use std::time::Duration;

#[tokio::test]
async fn startup_parameters_reach_the_upstream() {
    let p = Proxy::start(&[]);
    let dsn = format!(
        "{} application_name=qtest options='-c search_path=pg_catalog,public -c work_mem=12MB'",
        p.dsn("root")
    );
    let c = connect(&dsn).await.unwrap();
    let row = c
        .query_one(
            "SELECT current_setting('application_name'), current_setting('search_path'), current_setting('work_mem'), current_schemas(false)::text",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "qtest");
    assert_eq!(
        row.get::<_, String>(1),
        "pg_catalog,public",
        "as Postgres keeps it at startup"
    );
    assert_eq!(row.get::<_, String>(2), "12MB");
    assert_eq!(
        row.get::<_, String>(3),
        "{pg_catalog,public}",
        "a list value means two schemas, as at startup"
    );
}

#[test]
fn reported_parameters_follow_the_client() {
    let p = Proxy::start(&[]);
    let mut s = std::net::TcpStream::connect(("127.0.0.1", p.port)).unwrap();
    s.write_all(&startup_packet(&[
        ("user", "root"),
        ("database", "test"),
        ("DateStyle", "ISO"),
        ("application_name", "rep"),
    ]))
    .unwrap();
    let mut params = std::collections::HashMap::new();
    while let Some((tag, body)) = raw::read_msg(&mut s) {
        if tag == b'S' {
            let mut parts = body
                .split(|&b| b == 0)
                .map(|b| String::from_utf8_lossy(b).into_owned());
            params.insert(parts.next().unwrap(), parts.next().unwrap());
        }
        if tag == b'Z' {
            break;
        }
    }
    assert_eq!(params["DateStyle"], "ISO, MDY");
    assert_eq!(params["application_name"], "rep");
    assert!(params["server_version"].starts_with(char::is_numeric));
    assert!(params.contains_key("integer_datetimes"));
}

#[tokio::test]
async fn bad_startup_setting_is_refused_at_login_like_postgres() {
    let p = Proxy::start(&[]);
    for dsn in [p.dsn("root"), common::direct_dsn()] {
        let err = connect(&format!("{dsn} options='-c DateStyle=nonsense'"))
            .await
            .expect_err("refused at login");
        let db = err.as_db_error().expect("server error");
        assert_eq!(db.code().code(), "22023");
        assert!(db.message().contains("DateStyle"), "{}", db.message());
    }
    let err = connect(&format!("{} options='-x'", p.dsn("root")))
        .await
        .expect_err("bad options word");
    assert!(err.as_db_error().is_some());
    // A canonical spelling is what the client is told, as PostgreSQL does.
    let c = connect(&format!("{} options='-c TimeZone=utc'", p.dsn("root")))
        .await
        .unwrap();
    let tz: String = c
        .query_one("SELECT current_setting('TimeZone')", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(tz, "UTC");
}

#[tokio::test]
async fn idle_clients_hold_no_upstream_connection() {
    let p = Proxy::start(&[]);
    // The first login checks the database and leaves one pooled connection.
    let first = connect(&p.dsn("root")).await.unwrap();
    let base = p.metric("querent_upstream_connections");
    let mut idle = Vec::new();
    for _ in 0..20 {
        idle.push(connect(&p.dsn("root")).await.unwrap());
    }
    assert_eq!(
        p.metric("querent_upstream_connections"),
        base,
        "idle clients took upstream connections"
    );
    for c in &idle {
        c.simple_query("SELECT 1").await.unwrap();
    }
    assert!(p.metric("querent_upstream_connections") >= 20.0);
    drop(first);
}

#[tokio::test]
async fn session_state_is_reset_before_the_next_client() {
    let p = Proxy::start(&[]);
    let a = connect(&p.dsn("root")).await.unwrap();
    let pid_a: i32 = a
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    a.batch_execute(
        "SET work_mem = '7MB'; CREATE TEMP TABLE leftover(x int); PREPARE leftover_stmt AS SELECT 1; LISTEN leftover_chan; BEGIN; SELECT 1",
    )
    .await
    .unwrap();
    drop(a); // leaves inside an open transaction
    tokio::time::sleep(Duration::from_millis(300)).await;
    let b = connect(&p.dsn("root")).await.unwrap();
    let pid_b: i32 = b
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(pid_a, pid_b, "the pooled connection should be reused");
    let row = b
        .query_one(
            "SELECT current_setting('work_mem'), to_regclass('pg_temp.leftover') IS NULL, (SELECT count(*) FROM pg_prepared_statements), (SELECT count(*) FROM pg_listening_channels()), now() = statement_timestamp()",
            &[],
        )
        .await
        .unwrap();
    assert_ne!(row.get::<_, String>(0), "7MB");
    assert!(row.get::<_, bool>(1), "temp table survived");
    assert_eq!(
        row.get::<_, i64>(2),
        1,
        "only tokio-postgres' own statement may exist"
    );
    assert_eq!(row.get::<_, i64>(3), 0, "LISTEN survived");
}

#[tokio::test]
async fn copy_in_and_out_and_notify() {
    let p = Proxy::start(&[]);
    let c = connect(&p.dsn("root")).await.unwrap();
    c.batch_execute("CREATE TEMP TABLE cp(a int, b text)")
        .await
        .unwrap();
    use futures_util::SinkExt;
    let sink = c.copy_in("COPY cp FROM STDIN").await.unwrap();
    futures_util::pin_mut!(sink);
    sink.send(bytes::Bytes::from_static(b"1\tone\n2\ttwo\n"))
        .await
        .unwrap();
    assert_eq!(sink.finish().await.unwrap(), 2);
    let rows = c.query("SELECT b FROM cp ORDER BY a", &[]).await.unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| r.get::<_, String>(0))
            .collect::<Vec<_>>(),
        ["one", "two"]
    );
    // NOTIFY from another session arrives asynchronously through the relay.
    let mut r = Raw::connect(p.port);
    r.send(&query("LISTEN qchan"));
    r.until_ready();
    c.batch_execute("NOTIFY qchan, 'hello'").await.unwrap();
    let (tag, body) = raw::read_msg(&mut r.s).unwrap();
    assert_eq!(tag, b'A');
    assert!(String::from_utf8_lossy(&body).contains("hello"));
}

fn rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[test]
fn a_million_rows_stream_without_buffering() {
    let p = Proxy::start(&[]);
    let mut r = Raw::connect(p.port);
    // ~230 MB of DataRows; the relay must never hold them all.
    r.send(&query(
        "SELECT i, repeat('x', 200) FROM generate_series(1, 1000000) i",
    ));
    let before = rss_kib(p.child.id());
    // A slow reader first: the proxy must wait for it, not buffer.
    std::thread::sleep(Duration::from_millis(1500));
    let while_stalled = rss_kib(p.child.id());
    let mut total = 0u64;
    let mut buf = vec![0u8; 1 << 16];
    let mut peak = while_stalled;
    let mut rows_end = Vec::new();
    loop {
        let n = r.s.read(&mut buf).unwrap();
        assert!(n > 0, "connection closed early");
        total += n as u64;
        rows_end.extend_from_slice(&buf[..n]);
        if rows_end.len() > 64 {
            rows_end.drain(..rows_end.len() - 64);
        }
        if total % (16 << 20) < n as u64 {
            peak = peak.max(rss_kib(p.child.id()));
        }
        // ends with CommandComplete "SELECT 1000000" and ReadyForQuery
        if rows_end.ends_with(b"Z\0\0\0\x05I") {
            break;
        }
    }
    let tail = String::from_utf8_lossy(&rows_end);
    assert!(tail.contains("SELECT 1000000"), "{tail}");
    assert!(total > 200_000_000);
    eprintln!("rss before {before} KiB, stalled {while_stalled} KiB, peak {peak} KiB, streamed {total} bytes");
    assert!(
        while_stalled < before + 16 * 1024,
        "proxy buffered while the client stalled"
    );
    assert!(
        peak < before + 32 * 1024,
        "proxy memory grew with the result size"
    );
}

#[test]
fn admin_endpoints() {
    let p = Proxy::start(&[]);
    let (status, body) = p.admin_get("/healthz");
    assert!(status.contains("200"));
    assert!(body.contains("ok"));
    let mut r = Raw::connect(p.port);
    r.send(&query("SELECT 1"));
    r.until_ready();
    let (_, metrics) = p.admin_get("/metrics");
    for name in [
        "querent_connections_total",
        "querent_connections_active",
        "querent_statements_total{path=\"passthrough\"}",
        "querent_statement_duration_seconds_bucket",
        "querent_upstream_errors_total",
    ] {
        assert!(metrics.contains(name), "{name} missing");
    }
    assert!(p.metric("querent_connections_active") >= 1.0);
    assert!(p.admin_get("/nope").0.contains("404"));
}
