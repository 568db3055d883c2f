//! The audit log's PostgreSQL table sink (`audit.table`) against the local PostgreSQL
//! (127.0.0.1:5432, user root, database test): table creation, batching, every column, and
//! PostgreSQL being down then coming back while the file keeps being written.

use querent::audit::{AuditPath, AuditRecord, Auditor, Decision};
use querent::config::{AuditConfig, Config};
use querent::metrics::METRICS;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const PG: &str = "postgres://root@127.0.0.1:5432/test";

fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}_{}_{}", std::process::id(), nanos % 1_000_000_000)
}

fn tmp_file(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(unique("querent-audit-it"));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A direct connection to check what the sink wrote.
struct Pg {
    rt: tokio::runtime::Runtime,
    client: tokio_postgres::Client,
}

impl Pg {
    fn connect() -> Pg {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let client = rt.block_on(async {
            let (client, conn) = tokio_postgres::connect(PG, tokio_postgres::NoTls)
                .await
                .expect("local PostgreSQL on 127.0.0.1:5432");
            tokio::spawn(async move {
                let _ = conn.await;
            });
            client
        });
        Pg { rt, client }
    }

    fn query(&self, sql: &str) -> Vec<tokio_postgres::Row> {
        self.rt
            .block_on(self.client.query(sql, &[]))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    fn count(&self, table: &str) -> i64 {
        self.query(&format!("SELECT count(*) FROM {table}"))[0].get(0)
    }
}

/// Drops the test schema even when an assertion fails.
struct DropSchema<'a>(&'a Pg, String);

impl Drop for DropSchema<'_> {
    fn drop(&mut self) {
        let _ = self.0.rt.block_on(
            self.0
                .client
                .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.1)),
        );
    }
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let t = Instant::now();
    while !ok() {
        assert!(t.elapsed() < Duration::from_secs(20), "timed out: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn rec(i: u64) -> AuditRecord {
    AuditRecord {
        user: "alice".into(),
        roles: vec!["analyst_west".into()],
        client_addr: "127.0.0.1:40000".into(),
        database: "test".into(),
        path: AuditPath::Passthrough,
        original_sql: format!("select {i}"),
        rows: Some(1),
        duration_ms: 0.5,
        ..AuditRecord::default()
    }
}

#[test]
fn table_sink_creates_the_table_and_inserts_every_field_in_batches() {
    let pg = Pg::connect();
    let schema = unique("querent_audit_it");
    let table = format!("{schema}.statements");
    let _cleanup = DropSchema(&pg, schema.clone());
    let file = tmp_file("audit.jsonl");
    // audit.upstream empty: the main `upstream` URL (the default, the local PostgreSQL) is used.
    let config = Config {
        audit: AuditConfig {
            file: Some(file.clone()),
            table: table.clone(),
            ..AuditConfig::default()
        },
        ..Config::default()
    };
    let auditor = Auditor::from_config(&config).unwrap();
    let at = UNIX_EPOCH + Duration::from_millis(1_714_566_896_789);
    auditor.record(AuditRecord {
        time: at,
        user: "alice".into(),
        roles: vec!["analyst_west".into(), "o'brien, \"q\" {x}".into()],
        client_addr: "10.0.0.7:51234".into(),
        database: "test".into(),
        path: AuditPath::Guarded,
        original_sql: "select * from orders -- é\n where note = 'a\\b'".into(),
        rewritten_sql: Some("select * from orders where region_id = 3".into()),
        decision: Decision::Rewrite,
        reason: Some("policy region_filter".into()),
        sqlstate: None,
        rows: Some(42),
        duration_ms: 3.25,
        planner: Some("model".into()),
        model: Some("qwen2.5-coder".into()),
    });
    auditor.record(AuditRecord {
        time: at,
        user: "mallory".into(),
        path: AuditPath::Ask,
        original_sql: "select * from salaries".into(),
        decision: Decision::Deny,
        reason: Some("no access to salaries".into()),
        sqlstate: Some("42501".into()),
        ..AuditRecord::default()
    });
    auditor.flush();
    assert_eq!(pg.count(&table), 2);
    assert_eq!(auditor.stats().db_inserted, 2);

    let types: Vec<(String, String)> = pg
        .query(&format!(
            "SELECT column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_schema = '{schema}' AND table_name = 'statements' ORDER BY ordinal_position"
        ))
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let expect = [
        ("time", "timestamp with time zone"),
        ("user", "text"),
        ("roles", "ARRAY"),
        ("client_addr", "text"),
        ("database", "text"),
        ("path", "text"),
        ("original_sql", "text"),
        ("rewritten_sql", "text"),
        ("decision", "text"),
        ("reason", "text"),
        ("sqlstate", "text"),
        ("rows", "bigint"),
        ("duration_ms", "double precision"),
        ("planner", "text"),
        ("model", "text"),
    ];
    assert_eq!(
        types,
        expect
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    );

    let rows = pg.query(&format!(
        "SELECT (extract(epoch from time) * 1000)::bigint, \"user\", roles, client_addr, database, path, \
         original_sql, rewritten_sql, decision, reason, sqlstate, rows, duration_ms, planner, model \
         FROM {table} ORDER BY \"user\""
    ));
    let r = &rows[0];
    assert_eq!(r.get::<_, Option<String>>(13).as_deref(), Some("model"));
    assert_eq!(
        r.get::<_, Option<String>>(14).as_deref(),
        Some("qwen2.5-coder")
    );
    assert_eq!(rows[1].get::<_, Option<String>>(13), None);
    assert_eq!(r.get::<_, i64>(0), 1_714_566_896_789);
    assert_eq!(r.get::<_, String>(1), "alice");
    assert_eq!(
        r.get::<_, Vec<String>>(2),
        vec!["analyst_west".to_string(), "o'brien, \"q\" {x}".to_string()]
    );
    assert_eq!(r.get::<_, String>(3), "10.0.0.7:51234");
    assert_eq!(r.get::<_, String>(4), "test");
    assert_eq!(r.get::<_, String>(5), "guarded");
    assert_eq!(
        r.get::<_, String>(6),
        "select * from orders -- é\n where note = 'a\\b'"
    );
    assert_eq!(
        r.get::<_, Option<String>>(7).as_deref(),
        Some("select * from orders where region_id = 3")
    );
    assert_eq!(r.get::<_, String>(8), "rewrite");
    assert_eq!(
        r.get::<_, Option<String>>(9).as_deref(),
        Some("policy region_filter")
    );
    assert_eq!(r.get::<_, Option<String>>(10), None);
    assert_eq!(r.get::<_, Option<i64>>(11), Some(42));
    assert_eq!(r.get::<_, f64>(12), 3.25);
    let d = &rows[1];
    assert_eq!(d.get::<_, String>(1), "mallory");
    assert_eq!(d.get::<_, Vec<String>>(2), Vec::<String>::new());
    assert_eq!(d.get::<_, String>(5), "ask");
    assert_eq!(d.get::<_, String>(8), "deny");
    assert_eq!(d.get::<_, Option<String>>(10).as_deref(), Some("42501"));
    assert_eq!(d.get::<_, Option<String>>(7), None);
    assert_eq!(d.get::<_, Option<i64>>(11), None);

    // Batches without flush(): 1,234 records go in as 500 + 500 + 234 rows (the last after
    // the batch interval); record() cost with the table sink on is printed.
    let t = Instant::now();
    for i in 0..1_234 {
        auditor.record(rec(i));
    }
    let per = t.elapsed().as_nanos() as f64 / 1_234.0;
    println!("audit record() with file + table sinks: {per:.0} ns per call");
    wait_for("1,236 rows inserted", || {
        auditor.stats().db_inserted == 1_236
    });
    assert_eq!(pg.count(&table), 1_236);
    let s = auditor.stats();
    assert_eq!((s.written, s.dropped, s.db_errors), (1_236, 0, 0), "{s:?}");
    auditor.shutdown();
    assert_eq!(
        std::fs::read_to_string(&file).unwrap().lines().count(),
        1_236
    );
}

/// A TCP forwarder to the local PostgreSQL, started late on a port the sink already uses.
fn forward(listener: TcpListener) {
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let Ok(server) = TcpStream::connect("127.0.0.1:5432") else {
                continue;
            };
            for (mut from, mut to) in [
                (client.try_clone().unwrap(), server.try_clone().unwrap()),
                (server, client),
            ] {
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16 * 1024];
                    while let Ok(n) = from.read(&mut buf) {
                        if n == 0 || to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = to.shutdown(std::net::Shutdown::Both);
                });
            }
        }
    });
}

#[test]
fn postgres_down_keeps_the_file_and_retries_later() {
    let pg = Pg::connect();
    let schema = unique("querent_audit_it_down");
    let table = format!("{schema}.statements");
    let _cleanup = DropSchema(&pg, schema.clone());
    // A port with nothing listening: PostgreSQL is "down".
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let file = tmp_file("down.jsonl");
    let errors_before = METRICS.audit_db_errors.get();
    let auditor = Auditor::start(&AuditConfig {
        file: Some(file.clone()),
        table: table.clone(),
        upstream: format!("postgres://root@127.0.0.1:{port}/test"),
        queue: 1_000,
    })
    .unwrap();
    for i in 0..5 {
        auditor.record(rec(i));
    }
    auditor.flush();
    let s = auditor.stats();
    assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), 5);
    assert!(s.db_errors >= 1 && s.db_inserted == 0, "{s:?}");
    assert!(METRICS.audit_db_errors.get() > errors_before);
    assert!(METRICS
        .render()
        .contains("# TYPE querent_audit_db_errors_total counter"));

    // While PostgreSQL is down, record() still never blocks and the file keeps growing.
    for i in 5..10 {
        auditor.record(rec(i));
    }
    wait_for("file has 10 lines", || {
        std::fs::read_to_string(&file).unwrap().lines().count() == 10
    });

    // PostgreSQL comes back: the kept rows are inserted on a retry, without flush().
    forward(TcpListener::bind(("127.0.0.1", port)).unwrap());
    wait_for("10 rows inserted after the retry", || {
        auditor.stats().db_inserted == 10
    });
    assert_eq!(pg.count(&table), 10);
    auditor.record(rec(10));
    auditor.shutdown();
    assert_eq!(pg.count(&table), 11);
    let got: Vec<String> = pg
        .query(&format!(
            "SELECT original_sql FROM {table} ORDER BY time, original_sql"
        ))
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(got.contains(&"select 0".to_string()) && got.contains(&"select 10".to_string()));
}
