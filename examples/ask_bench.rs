//! ASK planning speed: link + plan + compile (no upstream query) for every question of
//! ../shared/bench/retail/questions.jsonl against the real retail catalog (read from
//! Postgres once), many times over; prints p50 / p99 / max per question, uncached and through
//! the plan cache. Run by scripts/bench-ask.sh.

use querent::ask::cache::{plan_and_compile, Key, PlanCache};
use querent::auth::Principal;
use querent::catalog::store;
use querent::upstream::UpstreamTarget;
use std::time::Instant;

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "postgres://root@127.0.0.1:5432/querent_retail".into());
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("../shared/bench/retail/questions.jsonl"))
        .map_err(|e| format!("questions: {e}"))?;
    let questions: Vec<String> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["question"].as_str().map(str::to_string))
        .collect();
    let target = UpstreamTarget::parse(&url)?;
    let files = store::read_annotations(Some(&root.join("schemas")))?;
    let cfg = querent::config::Config::default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let loaded = rt.block_on(store::discover(
        &target,
        &target.dbname,
        &store::options(&cfg),
        &files,
    ))?;
    let view = &loaded.full;
    let mut times = Vec::new();
    let mut answered = 0;
    for round in 0..rounds {
        for q in &questions {
            let t = Instant::now();
            let r = plan_and_compile(view, q);
            times.push(t.elapsed().as_secs_f64() * 1e6);
            if round == 0 && r.is_ok() {
                answered += 1;
            }
        }
    }
    let cache = PlanCache::default();
    let principal = Principal {
        user: "bench".into(),
        roles: vec![],
        attributes: Default::default(),
    };
    let mut cached = Vec::new();
    for _ in 0..rounds {
        for q in &questions {
            let t = Instant::now();
            let key = Key::new(&target.dbname, view, None, &principal, q);
            let _ = cache.get_or_plan(key, || plan_and_compile(view, q));
            cached.push(t.elapsed().as_secs_f64() * 1e6);
        }
    }
    println!(
        "ASK planning on {} ({} tables): {} questions x {rounds} rounds, {answered} planned, {} declined",
        target.dbname,
        view.catalog.tables.len(),
        questions.len(),
        questions.len() - answered
    );
    println!(
        "  link + plan + compile: p50 {:.0} us, p99 {:.0} us, max {:.0} us (goal p50 < 1 ms, p99 < 5 ms)",
        pct(&mut times, 0.5),
        pct(&mut times, 0.99),
        pct(&mut times, 1.0)
    );
    println!(
        "  through the plan cache: p50 {:.1} us, p99 {:.1} us",
        pct(&mut cached, 0.5),
        pct(&mut cached, 0.99)
    );
    Ok(())
}
