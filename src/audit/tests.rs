//! Tests of the audit log, end to end through [`Auditor`].

use super::*;
use crate::config::AuditConfig;
use std::path::PathBuf;
use std::time::{Instant, UNIX_EPOCH};

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "querent-audit-{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn cfg(file: &std::path::Path, queue: usize) -> AuditConfig {
    AuditConfig {
        file: Some(file.to_path_buf()),
        queue,
        ..AuditConfig::default()
    }
}

fn sample(i: usize) -> AuditRecord {
    AuditRecord {
        time: UNIX_EPOCH + Duration::from_millis(1_700_000_000_123),
        user: "alice".into(),
        roles: vec!["analyst_west".into(), "o'brien \"q\"".into()],
        client_addr: "127.0.0.1:50432".into(),
        database: "test".into(),
        path: AuditPath::Guarded,
        original_sql: format!("select * from orders where id = {i} -- é\n;"),
        rewritten_sql: Some(format!(
            "select * from orders where id = {i} and region_id = 3"
        )),
        decision: Decision::Rewrite,
        reason: Some("policy region_filter".into()),
        sqlstate: None,
        rows: Some(i as u64),
        duration_ms: 1.25,
        planner: None,
        model: None,
    }
}

fn lines(p: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}
#[test]
fn records_are_json_lines_with_every_field() {
    let p = tmp("audit.jsonl");
    std::fs::write(&p, "{\"earlier\":true}\n").unwrap();
    let a = Auditor::start(&cfg(&p, 100)).unwrap();
    assert!(a.is_enabled());
    a.record(sample(1));
    a.record(AuditRecord {
        user: "bob".into(),
        decision: Decision::Deny,
        reason: Some("no access to salaries".into()),
        sqlstate: Some("42501".into()),
        original_sql: "select * from salaries".into(),
        ..AuditRecord::default()
    });
    a.flush();
    let got = lines(&p);
    assert_eq!(got.len(), 3, "appended after the existing line: {got:?}");
    let r = &got[1];
    let keys: Vec<&str> = r.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    for k in [
        "time",
        "user",
        "roles",
        "client_addr",
        "database",
        "path",
        "original_sql",
        "rewritten_sql",
        "decision",
        "reason",
        "sqlstate",
        "rows",
        "duration_ms",
    ] {
        assert!(keys.contains(&k), "missing {k} in {r}");
    }
    assert_eq!(keys.len(), 13, "{r}");
    assert_eq!(r["time"], "2023-11-14T22:13:20.123Z");
    assert_eq!(r["roles"][1], "o'brien \"q\"");
    assert_eq!(r["path"], "guarded");
    assert_eq!(r["decision"], "rewrite");
    assert_eq!(
        r["original_sql"],
        "select * from orders where id = 1 -- é\n;"
    );
    assert_eq!(r["rows"], 1);
    assert_eq!(r["sqlstate"], serde_json::Value::Null);
    assert_eq!(r["duration_ms"], 1.25);
    let d = &got[2];
    assert_eq!(d["decision"], "deny");
    assert_eq!(d["path"], "passthrough");
    assert_eq!(d["sqlstate"], "42501");
    assert_eq!(d["rewritten_sql"], serde_json::Value::Null);
    let t = d["time"].as_str().unwrap();
    assert!(
        t.len() == 24 && t.ends_with('Z') && t.as_bytes()[19] == b'.',
        "{t}"
    );
    assert_eq!(a.stats().written, 2);
    a.shutdown();
}

#[test]
fn full_queue_drops_and_counts_instead_of_blocking() {
    let p = tmp("full.jsonl");
    let a = Auditor::start(&cfg(&p, 4)).unwrap();
    a.pause_writer(true);
    let global = METRICS.audit_dropped.get();
    let t = Instant::now();
    for i in 0..10_000 {
        a.record(sample(i));
    }
    let took = t.elapsed();
    // Not a timing assertion: a blocking send would never return while the writer is
    // paused; this only guards against a retry loop in record().
    assert!(took < Duration::from_secs(5), "{took:?}");
    let s = a.stats();
    assert_eq!(s.dropped, 10_000 - 4, "{s:?}");
    assert!(METRICS.audit_dropped.get() >= global + 9_996);
    assert!(METRICS.render().contains("querent_audit_dropped_total "));
    a.pause_writer(false);
    a.shutdown();
    let got = lines(&p);
    assert_eq!(got.len(), 4);
    assert_eq!(got[0]["rows"], 0);
    assert_eq!(got[3]["rows"], 3);
}

#[test]
fn shutdown_and_drop_write_everything_queued() {
    let p = tmp("shutdown.jsonl");
    let a = Auditor::start(&cfg(&p, 100_000)).unwrap();
    let b = a.clone();
    a.pause_writer(true);
    for i in 0..5_000 {
        b.record(sample(i));
    }
    drop(b);
    // Paused: nothing may have been written yet.
    assert_eq!(std::fs::metadata(&p).unwrap().len(), 0);
    a.shutdown();
    let got = lines(&p);
    assert_eq!(got.len(), 5_000);
    assert_eq!(got[4_999]["rows"], 4_999);

    // Dropping the last clone does the same.
    let p2 = tmp("drop.jsonl");
    let a = Auditor::start(&cfg(&p2, 100_000)).unwrap();
    a.pause_writer(true);
    for i in 0..300 {
        a.record(sample(i));
    }
    drop(a);
    assert_eq!(lines(&p2).len(), 300);
}

#[test]
fn file_is_flushed_without_shutdown() {
    let p = tmp("timer.jsonl");
    let a = Auditor::start(&cfg(&p, 100)).unwrap();
    a.record(sample(7));
    let t = Instant::now();
    while lines(&p).is_empty() {
        assert!(t.elapsed() < Duration::from_secs(10), "never flushed");
        std::thread::sleep(Duration::from_millis(5));
    }
    println!("first record on disk after {:?}", t.elapsed());
    drop(a);
}

#[test]
fn start_errors_name_the_setting() {
    let e = Auditor::start(&cfg(
        std::path::Path::new("/nonexistent-dir/x/audit.jsonl"),
        10,
    ))
    .unwrap_err();
    assert!(
        e.starts_with("audit.file:") && e.contains("/nonexistent-dir"),
        "{e}"
    );
    let e = Auditor::start(&cfg(&tmp("q.jsonl"), 0)).unwrap_err();
    assert!(e.starts_with("audit.queue"), "{e}");
    let bad_table = AuditConfig {
        table: "a.b.c".into(),
        upstream: "postgres://root@127.0.0.1:5432/test".into(),
        ..AuditConfig::default()
    };
    assert!(Auditor::start(&bad_table)
        .unwrap_err()
        .starts_with("audit.table:"));
    let no_url = AuditConfig {
        table: "audit_log".into(),
        ..AuditConfig::default()
    };
    assert!(Auditor::start(&no_url)
        .unwrap_err()
        .starts_with("audit.table:"));
    let bad_url = AuditConfig {
        table: "audit_log".into(),
        upstream: "mysql://x".into(),
        ..AuditConfig::default()
    };
    assert!(Auditor::start(&bad_url)
        .unwrap_err()
        .starts_with("audit.upstream:"));
    // Nothing configured: disabled, no thread.
    let off = Auditor::start(&AuditConfig::default()).unwrap();
    assert!(!off.is_enabled());
    off.record(sample(0));
    off.flush();
    assert_eq!(off.stats(), AuditStats::default());
}

/// Cost of `record()` on the caller's thread (printed; run with `--nocapture`, and
/// `--release` for production numbers). Records are built beforehand, 1,000 at a time so
/// they are in cache, and only the calls are timed; the writer drains concurrently to a
/// real file.
#[test]
fn record_cost() {
    const CHUNK: usize = 1_000;
    const CHUNKS: usize = 200;
    // Per-call ns of each chunk, sorted: the median shrugs off preemption on a busy
    // machine, the mean does not.
    let time = |a: &Auditor, make: fn(usize) -> AuditRecord| {
        let mut per: Vec<f64> = (0..CHUNKS)
            .map(|_| {
                let recs: Vec<AuditRecord> = (0..CHUNK).map(make).collect();
                let t = Instant::now();
                for r in recs {
                    a.record(r);
                }
                t.elapsed().as_nanos() as f64 / CHUNK as f64
            })
            .collect();
        per.sort_by(f64::total_cmp);
        let mean = per.iter().sum::<f64>() / per.len() as f64;
        (per[0], per[per.len() / 2], mean)
    };
    let p = tmp("bench.jsonl");
    let a = Auditor::start(&cfg(&p, CHUNK * CHUNKS)).unwrap();
    let (best, median, mean) = time(&a, sample);
    let dropped = a.stats().dropped;
    // Records without heap data, so that only the call is timed, not freeing them.
    let empty = |_| AuditRecord {
        time: UNIX_EPOCH,
        ..AuditRecord::default()
    };
    let (best_off, median_off, mean_off) = time(&Auditor::disabled(), empty);
    a.shutdown();
    println!(
        "size of AuditRecord: {} bytes",
        std::mem::size_of::<AuditRecord>()
    );
    println!(
        "audit record() ns per call: enabled best {best:.0}, median {median:.0}, mean {mean:.0} \
         ({dropped} dropped of {}); disabled best {best_off:.0}, median {median_off:.0}, \
         mean {mean_off:.0} (records without heap data)",
        CHUNK * CHUNKS
    );
    assert_eq!(lines(&p).len() as u64, (CHUNK * CHUNKS) as u64 - dropped);
}
