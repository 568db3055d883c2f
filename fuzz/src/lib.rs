//! The checks each fuzz target makes on one input. Shared with `tests/fuzz_replay.rs` in the
//! main crate, which replays the seed corpus and every saved crash in CI.
//!
//! - [`frame`]: frontend message framing (`peek_header`, `messages`, field readers) and the
//!   upstream error parser never panic, and framing never reads past the buffer.
//! - [`startup`]: startup packets and `options` strings parse or fail cleanly.
//! - [`guard`]: any statement text is checked by a guarded session without panicking or
//!   overflowing the stack; SQL it lets through parses back to the statements it printed,
//!   is ASCII outside double-quoted identifiers, and prints the same again (stable).

use querent::guard::{print, Decision, SessionGuard};
use querent::protocol::{backend, frame, startup};
use std::path::Path;

/// Framing of client bytes.
pub fn frame(data: &[u8]) {
    let mut at = 0;
    while at < data.len() {
        match frame::peek_header(&data[at..], 1 << 20) {
            Ok(Some(h)) => {
                assert!(h.total >= 5, "a frame holds at least its header");
                if data.len() - at < h.total {
                    break;
                }
                at += h.total;
            }
            Ok(None) | Err(_) => break,
        }
    }
    let mut seen = 0;
    for m in frame::messages(data) {
        assert!(m.len() >= 5 && m.len() <= data.len());
        seen += m.len();
        let mut body = &m[5..];
        let _ = frame::take_cstr(&mut body);
        let _ = frame::take_i32(&mut body);
    }
    assert!(seen <= data.len());
    let _ = backend::parse_error_fields(data);
}

/// Startup packet bodies and `options` strings.
pub fn startup(data: &[u8]) {
    if let Ok(startup::StartupPacket::Startup { params, .. }) = startup::parse_startup(data) {
        for (k, v) in &params {
            if k == "options" {
                let _ = startup::parse_options(v);
            }
        }
    }
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(opts) = startup::parse_options(s) {
            for (k, _) in opts {
                assert!(!k.contains('-'), "option names use underscores: {k}");
            }
        }
    }
}

/// A guarded session (alice of `policies/`, region 3) over the fixture catalog.
pub fn guard_session(repo: &Path) -> SessionGuard {
    let snap = querent::guard::catalog::Snapshot::fixture(&repo.join("fixtures/guard"));
    let policies = querent::policy::load_dir(&repo.join("policies")).expect("policies load");
    let alice = querent::auth::Principal {
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
        "fuzz-key",
    )
    .expect("alice is guarded")
}

/// Whether `sql` is ASCII outside double-quoted identifiers (strings are `'...'` or `E'...'`).
pub fn ascii_but_identifiers(sql: &str) -> bool {
    let b = sql.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && !(b[i] == b'"' && b.get(i + 1) != Some(&b'"')) {
                    i += if b[i] == b'"' { 2 } else { 1 };
                }
            }
            b'\'' => {
                let escapes = i > 0 && (b[i - 1] == b'E' || b[i - 1] == b'e');
                i += 1;
                while i < b.len() {
                    match b[i] {
                        b'\'' if b.get(i + 1) == Some(&b'\'') => i += 1,
                        b'\'' => break,
                        b'\\' if escapes => i += 1,
                        c if !c.is_ascii() => return false,
                        _ => {}
                    }
                    i += 1;
                }
            }
            c if !c.is_ascii() => return false,
            _ => {}
        }
        i += 1;
    }
    true
}

/// One statement text through a guarded session.
pub fn guard(g: &mut SessionGuard, data: &[u8]) {
    let Ok(sql) = std::str::from_utf8(data) else {
        return;
    };
    let Decision::Rewrite(out) = g.check(sql) else {
        return;
    };
    if out.is_empty() {
        return;
    }
    assert!(
        ascii_but_identifiers(&out),
        "non-ASCII outside identifiers: {out}"
    );
    querent::guard::depth::with_stack(|| {
        let dialect = sqlparser::dialect::PostgreSqlDialect {};
        let mut again = sqlparser::parser::Parser::new(&dialect)
            .with_recursion_limit(querent::guard::depth::PARSER_RECURSION_LIMIT)
            .try_with_sql(&out)
            .and_then(|mut p| p.parse_statements())
            .unwrap_or_else(|e| panic!("the guard's SQL does not parse: {e}\n{out}"));
        let reprinted = print::statements(&mut again).unwrap_or_else(|e| {
            panic!("the guard's SQL does not print again: {}\n{out}", e.message)
        });
        assert_eq!(reprinted, out, "printing is not stable");
    });
}
