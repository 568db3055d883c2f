//! Time of one guard decision on a statement with many literals (for finding hot spots).
use querent::guard::catalog::Snapshot;
use std::time::Instant;
fn main() {
    std::thread::Builder::new()
        .stack_size(querent::guard::depth::GUARD_STACK)
        .spawn(|| {
            let repo = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
            let policies = querent::policy::load_dir(&repo.join("policies")).unwrap();
            let alice = querent::auth::Principal {
                user: "alice".into(),
                roles: vec!["analyst_west".into()],
                attributes: [("region_id".to_string(), "3".to_string())].into(),
            };
            for n in [5000usize, 10000, 20000, 40000] {
                let mut g = querent::guard::SessionGuard::offline(
                    &policies,
                    &alice,
                    "querent_retail",
                    vec!["public".into()],
                    Snapshot::fixture(&repo.join("fixtures/guard")),
                    "k",
                )
                .unwrap();
                let sql = format!("SELECT {} FROM retail.stores", vec!["1"; n].join(","));
                let t = Instant::now();
                let d = g.check(&sql);
                println!(
                    "{n} literals: {:?} ({})",
                    t.elapsed(),
                    matches!(d, querent::guard::Decision::Rewrite(_))
                );
            }
        })
        .unwrap()
        .join()
        .unwrap();
}
