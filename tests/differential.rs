//! Differential tests: the same exchange on a fresh direct PostgreSQL connection and on a fresh
//! connection through the proxy must produce byte-identical backend messages after startup.
//!
//! The SQL corpus lives in `tests/differential/corpus.sql` (format in its header), startup
//! parameter spellings in `tests/differential/startup.sql`; extended protocol exchanges are
//! built in `tests/differential/extended.rs`. Shared tables and types come from
//! `tests/differential/setup.sql`, created once per test so their OIDs match on both sides.

mod common;
#[path = "differential/engine.rs"]
mod engine;
#[path = "differential/extended.rs"]
mod extended;
#[path = "common/wire.rs"]
mod wire;

use common::{Proxy, PG_PORT};
use engine::{Scenario, Step};
use std::sync::Arc;

const CORPUS: &str = include_str!("differential/corpus.sql");
const STARTUP: &str = include_str!("differential/startup.sql");
const SETUP: &str = include_str!("differential/setup.sql");
/// Scenarios run at the same time (each on its own pair of connections).
const PARALLEL: usize = 8;

/// The shared schema for one test, created before any scenario runs and dropped afterwards.
struct Fixture {
    proxy: Proxy,
    schema: String,
    admin: tokio_postgres::Client,
}

impl Fixture {
    async fn new(tag: &str) -> Fixture {
        let schema = format!("qdiff_{}_{tag}", std::process::id());
        let admin = common::connect(&common::direct_dsn())
            .await
            .expect("connect to PostgreSQL at 127.0.0.1:5432");
        admin
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .await
            .unwrap();
        admin
            .batch_execute(&SETUP.replace("@schema@", &schema))
            .await
            .expect("setup.sql");
        Fixture {
            proxy: Proxy::start(&[]),
            schema,
            admin,
        }
    }

    /// Runs every scenario on both sides, drops the schema, and fails listing every
    /// difference.
    async fn run(self, scenarios: Vec<Scenario>) {
        let total = scenarios.len();
        let proxy_port = self.proxy.port;
        let sem = Arc::new(tokio::sync::Semaphore::new(PARALLEL));
        let mut tasks = Vec::new();
        for sc in scenarios {
            let permit = sem.clone().acquire_owned().await.unwrap();
            tasks.push(tokio::spawn(async move {
                let r = engine::run_pair(PG_PORT, proxy_port, &sc).await;
                drop(permit);
                (sc.name, r)
            }));
        }
        let mut failures = Vec::new();
        for t in tasks {
            let (name, r) = t.await.expect("scenario task panicked");
            if let Err(e) = r {
                failures.push(format!("=== {name}\n{e}"));
            }
        }
        let _ = self
            .admin
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema))
            .await;
        println!(
            "{} of {total} scenarios identical through the proxy",
            total - failures.len()
        );
        if !failures.is_empty() {
            panic!(
                "{} of {total} scenarios differ between direct PostgreSQL and the proxy:\n\n{}\n\nproxy log:\n{}",
                failures.len(),
                failures.join("\n"),
                tail(&self.proxy.log_text(), 15)
            );
        }
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn corpus_matches_postgres() {
    let fx = Fixture::new("corpus").await;
    let scenarios = engine::parse_corpus(CORPUS, &fx.schema).expect("corpus.sql parses");
    assert!(
        scenarios.len() > 100,
        "corpus unexpectedly small: {}",
        scenarios.len()
    );
    assert!(
        scenarios.iter().all(|s| !s.checks.is_empty()),
        "every corpus entry needs an expect line"
    );
    fx.run(scenarios).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn startup_parameters_match_postgres() {
    let fx = Fixture::new("startup").await;
    let scenarios = engine::parse_corpus(STARTUP, &fx.schema).expect("startup.sql parses");
    assert!(scenarios
        .iter()
        .all(|s| !s.params.is_empty() && !s.checks.is_empty()));
    fx.run(scenarios).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn extended_protocol_matches_postgres() {
    let fx = Fixture::new("ext").await;
    let scenarios = extended::scenarios(&fx.schema);
    fx.run(scenarios).await;
}

/// The harness itself: a difference must be detected and shown, and checks must bite.
#[tokio::test]
async fn harness_detects_differences() {
    let a = vec![wire::Msg {
        tag: b'D',
        body: vec![0, 1, 0, 0, 0, 1, b'1'],
    }];
    let b = vec![wire::Msg {
        tag: b'D',
        body: vec![0, 1, 0, 0, 0, 1, b'2'],
    }];
    let d = wire::diff(&a, &b, "direct", "proxy");
    assert!(
        d.contains("!! #0") && d.contains("\"1\"") && d.contains("\"2\""),
        "{d}"
    );

    let sc = Scenario::new(
        "harness",
        vec![
            Step::Send(wire::query("SELECT 1 WHERE false")),
            Step::Until(1),
        ],
    )
    .check(engine::Check::Rows(1));
    let e = engine::run_pair(PG_PORT, PG_PORT, &sc).await.unwrap_err();
    assert!(e.contains("Rows(1)") && e.contains("0 DataRows"), "{e}");
}
