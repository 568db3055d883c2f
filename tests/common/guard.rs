//! An offline session guard for alice (role analyst_west, region 3) over the fixture catalog
//! (`fixtures/guard`) and `policies/`, for tests that check the guard without a proxy.

use querent::auth::Principal;
use querent::guard::catalog::Snapshot;
use querent::guard::SessionGuard;

/// Alice's guard, with hash-mask key `key`.
pub fn alice_guard(key: &str) -> SessionGuard {
    let repo = super::repo();
    let snap = Snapshot::fixture(&repo.join("fixtures/guard"));
    let policies = querent::policy::load_dir(&repo.join("policies")).expect("policies load");
    let alice = Principal {
        user: "alice".into(),
        roles: vec!["analyst_west".into()],
        attributes: [("region_id".to_string(), "3".to_string())].into(),
    };
    SessionGuard::offline(
        &policies,
        &alice,
        "querent_retail",
        vec!["public".into()],
        snap,
        key,
    )
    .expect("alice is guarded")
}
