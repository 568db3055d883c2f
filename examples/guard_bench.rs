//! Microseconds per guard decision, uncached (every statement text new) and cached (the same
//! text again), over the retail catalog fixture and policies/example.toml.
//!
//! `cargo run --release --example guard_bench [iterations]`

use querent::auth::Principal;
use querent::guard::catalog::Snapshot;
use querent::guard::{Decision, SessionGuard};
use std::time::Instant;

fn snapshot(repo: &std::path::Path) -> Snapshot {
    Snapshot::fixture(&repo.join("fixtures/guard"))
}

fn main() {
    // On a stack like a worker's, as in the proxy (the guard needs no stack switch there).
    std::thread::Builder::new()
        .stack_size(querent::guard::depth::GUARD_STACK)
        .spawn(run)
        .expect("bench thread")
        .join()
        .expect("bench");
}

fn run() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let repo = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let policies = querent::policy::load_dir(&repo.join("policies")).expect("policies");
    let alice = Principal {
        user: "alice".into(),
        roles: vec!["analyst_west".into()],
        attributes: [("region_id".to_string(), "3".to_string())].into(),
    };
    let queries = [
        ("point lookup", "SELECT name, city FROM retail.stores WHERE store_id = {}"),
        ("join + aggregate", "SELECT s.name, count(*) FROM retail.orders o JOIN retail.stores s ON s.store_id = o.store_id WHERE o.order_id > {} GROUP BY 1 ORDER BY 2 DESC LIMIT 5"),
        ("masked columns", "SELECT name, email, phone FROM retail.customers WHERE customer_id = {}"),
    ];
    println!("guard decision cost, {n} iterations each (parse + check + rewrite + print)");
    for (label, tpl) in queries {
        let mut g = SessionGuard::offline(
            &policies,
            &alice,
            "querent_retail",
            vec!["public".into()],
            snapshot(&repo),
            "bench-key",
        )
        .expect("guarded");
        let t = Instant::now();
        for i in 0..n {
            let d = g.check(&tpl.replace("{}", &i.to_string()));
            assert!(matches!(d, Decision::Rewrite(_)), "{d:?}");
        }
        let uncached = t.elapsed().as_secs_f64() * 1e6 / n as f64;
        let same = tpl.replace("{}", "7");
        g.check(&same);
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(g.check(&same));
        }
        let cached = t.elapsed().as_secs_f64() * 1e6 / n as f64;
        println!("  {label:<18} uncached {uncached:>7.2} us   cached {cached:>6.2} us");
    }
}
