//! The leak-suite harness shared by `tests/leak_suite.rs` and `tests/guard_proptest.rs`:
//! loads the retail dataset, starts the proxy with `policies/`, computes the ground truth from
//! a direct connection, runs statements through the proxy (simple Query, extended Parse/Bind,
//! COPY TO STDOUT) and judges the answers: a refusal with an expected SQLSTATE, or rows that
//! respect the row filters and contain none of the forbidden values.
//!
//! The attacks themselves live in `tests/leak/*.leak` (format described in
//! `tests/leak/README.md`).
#![allow(dead_code)]

mod decode;
mod entries;
mod env;
mod judge;
mod run;
mod truth;

// Each test target uses a different subset of the harness, hence the allows.
#[allow(unused_imports)]
pub use decode::{decode_binary, numeric_text, AnyText};
#[allow(unused_imports)]
pub use entries::{load_entries, parse_entries, Entry, Mode};
#[allow(unused_imports)]
pub use env::{
    connect_proxy, direct, direct_rows, ensure_dataset, guarded_proxy, psql, users_file, Conn, Env,
};
#[allow(unused_imports)]
pub use judge::{check, judge, run_all, run_entry};
#[allow(unused_imports)]
pub use run::{run_copy, run_extended, run_simple, ErrInfo, ResultSet, RunOut, TextParam};
#[allow(unused_imports)]
pub use truth::{Customer, Forbid, Truth};

use std::time::Duration;

/// The database the suite loads the retail dataset into.
pub const DB: &str = "querent_retail";
/// alice: role analyst_west, region 3.
pub const ALICE: &str = "alice";
pub const ALICE_PW: &str = "wonderland-leak";
/// admin: role admin (trusted).
pub const ADMIN: &str = "admin";
pub const ADMIN_PW: &str = "admin-leak-pw";
/// The region alice may see.
pub const REGION: i64 = 3;
/// How long one statement may take through the proxy before it counts as "not refused".
pub const STATEMENT_DEADLINE: Duration = Duration::from_secs(15);
