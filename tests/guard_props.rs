//! Property tests of the guard's break-out classes (issue 9), from fixed seeds so CI is
//! repeatable; `GUARD_PROPTEST_CASES=N` runs more.
//!
//! - **Depth**: random mixes of chains (UNION, AND, OR, `+`, `||`, casts, IS NULL) and nesting
//!   (brackets, subqueries, CASE, NOT) of random sizes over guarded tables: every one is
//!   checked or refused, never crashes the process.
//! - **Quoting and encodings**: random string literals (quotes, backslashes, control
//!   characters, the UTF-8 characters whose bytes trip SJIS/GBK/BIG5, emoji) in every literal
//!   form (`'...'`, `E'...'`, `$$...$$`, `U&'...'`) and random identifiers: the guard's SQL
//!   is ASCII outside double-quoted identifiers, never has a backslash outside an `E''`
//!   string, parses back to the statements it printed, and PostgreSQL computes the same
//!   `md5` of each literal under `standard_conforming_strings` on and off and under the
//!   client encodings SJIS, GBK and BIG5 as the client meant.
//! - **Setting names**: protected and pinned settings in random case, quoting, scope and
//!   statement form (`SET`, `SET SESSION/LOCAL`, `TO DEFAULT`, `RESET`, `set_config`) are
//!   always refused; user-level settings are allowed.

mod common;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use querent::guard::print;
use querent::guard::Decision;

fn runner(seed: u8) -> TestRunner {
    let cases = std::env::var("GUARD_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]),
    )
}

// ---- depth ---------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Layer {
    Chain(&'static str, usize),
    Wrap(&'static str, &'static str, usize),
}

fn layer() -> impl Strategy<Value = Layer> {
    let chain = prop_oneof![
        Just(" AND true"),
        Just(" OR false"),
        Just(" + 1"),
        Just(" || 'x'"),
        Just("::int"),
        Just(" IS NOT NULL"),
        Just(" = 1"),
    ];
    let wrap = prop_oneof![
        Just(("(", ")")),
        Just(("(SELECT ", ")")),
        Just(("NOT (", ")")),
        Just(("CASE WHEN true THEN ", " END")),
        Just(("coalesce(", ", 1)")),
        Just(("ARRAY[", "]")),
    ];
    prop_oneof![
        (chain, 1usize..4000).prop_map(|(c, n)| Layer::Chain(c, n)),
        (wrap, 1usize..400).prop_map(|((a, b), n)| Layer::Wrap(a, b, n)),
    ]
}

fn deep_statement(layers: &[Layer], unions: usize) -> String {
    let mut e = "store_id".to_string();
    for l in layers {
        match l {
            Layer::Chain(op, n) => e = format!("({e}{})", op.repeat(*n)),
            Layer::Wrap(a, b, n) => e = format!("{}{e}{}", a.repeat(*n), b.repeat(*n)),
        }
    }
    format!(
        "SELECT {e} FROM retail.stores{}",
        " UNION SELECT 1".repeat(unions)
    )
}

#[test]
fn deep_random_statements_are_checked_or_refused() {
    let g = std::cell::RefCell::new(common::guard::alice_guard("k"));
    let refused = std::cell::Cell::new(0);
    runner(1)
        .run(
            &(proptest::collection::vec(layer(), 1..5), 0usize..3000),
            |(layers, unions)| {
                let sql = deep_statement(&layers, unions);
                match g.borrow_mut().check(&sql) {
                    Decision::Rewrite(out) => prop_assert!(!out.is_empty()),
                    Decision::Deny(e) => {
                        refused.set(refused.get() + 1);
                        // Too deep, or PostgreSQL would not accept it either (types, syntax).
                        prop_assert!(
                            ["54001", "42601", "42501", "42883"].contains(&e.code.as_str()),
                            "{} {}",
                            e.code,
                            e.message
                        );
                    }
                    Decision::Pass => prop_assert!(false, "guarded SQL passed unchecked"),
                }
                Ok(())
            },
        )
        .unwrap();
    assert!(
        refused.get() > 0,
        "some random statements are deep enough to be refused"
    );
}

// ---- quoting and encodings --------------------------------------------------------------------

/// Characters that matter to lexers: quotes, backslashes, dollar signs, controls, and UTF-8
/// characters whose second or third byte is 0x5C (`\`) or that are multibyte in SJIS/GBK/BIG5.
fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        Just('\''),
        Just('\\'),
        Just('"'),
        Just('$'),
        Just('\n'),
        Just('\t'),
        Just('\u{7f}'),
        Just('ぁ'),
        Just('ソ'),
        Just('表'),
        Just('能'),
        Just('é'),
        Just('😀'),
        Just('-'),
        Just('/'),
        Just('*'),
        proptest::char::range('a', 'z'),
        proptest::char::range('\u{80}', '\u{7ff}'),
        proptest::char::range('\u{3000}', '\u{9fff}'),
    ]
}

#[derive(Debug, Clone, Copy)]
enum Form {
    Plain,
    Escaped,
    Dollar,
    Unicode,
}

/// `s` written as a literal of `form` (as a client would write it).
fn literal(s: &str, form: Form) -> String {
    match form {
        Form::Plain => format!("'{}'", s.replace('\'', "''")),
        Form::Escaped => {
            let mut o = String::from("E'");
            for c in s.chars() {
                match c {
                    '\'' => o.push_str("\\'"),
                    '\\' => o.push_str("\\\\"),
                    '\n' => o.push_str("\\n"),
                    c => o.push(c),
                }
            }
            o.push('\'');
            o
        }
        Form::Dollar => format!("$q${s}$q$"),
        Form::Unicode => {
            let mut o = String::from("U&'");
            for c in s.chars() {
                match c {
                    '\'' => o.push_str("''"),
                    c if c.is_ascii_alphanumeric() => o.push(c),
                    c => o.push_str(&format!("\\+{:06X}", c as u32)),
                }
            }
            o.push('\'');
            o
        }
    }
}

fn form() -> impl Strategy<Value = Form> {
    prop_oneof![
        Just(Form::Plain),
        Just(Form::Escaped),
        Just(Form::Dollar),
        Just(Form::Unicode)
    ]
}

fn value() -> impl Strategy<Value = String> {
    proptest::collection::vec(tricky_char(), 0..12).prop_map(|v| v.into_iter().collect::<String>())
}

/// Whether `sql` (as the guard prints it) is ASCII but inside double-quoted identifiers.
fn ascii_but_identifiers(sql: &str) -> bool {
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

#[test]
fn printed_literals_mean_the_same_under_any_setting() {
    let g = std::cell::RefCell::new(common::guard::alice_guard("k"));
    let samples = std::cell::RefCell::new(Vec::new());
    runner(2)
        .run(
            &(proptest::collection::vec((value(), form()), 1..4), value()),
            |(lits, ident)| {
                let cols: Vec<String> = lits
                    .iter()
                    .enumerate()
                    .map(|(i, (v, f))| format!("md5({}) AS c{i}", literal(v, *f)))
                    .collect();
                let ident = match ident.replace('\0', "") {
                    i if i.is_empty() => "x".to_string(),
                    i => i,
                };
                let sql = format!(
                    "SELECT {}, name AS \"{}\" FROM retail.stores WHERE name <> {}",
                    cols.join(", "),
                    ident.replace('"', "\"\""),
                    literal(&lits[0].0, lits[0].1)
                );
                let out = match g.borrow_mut().check(&sql) {
                    Decision::Rewrite(out) => out,
                    // An identifier holding a double quote may not print faithfully: refused.
                    Decision::Deny(e) if e.code == "0A000" && ident.contains('"') => return Ok(()),
                    Decision::Deny(e) => {
                        return Err(TestCaseError::fail(format!(
                            "{sql}: {} {}",
                            e.code, e.message
                        )))
                    }
                    Decision::Pass => return Err(TestCaseError::fail("passed unchecked")),
                };
                prop_assert!(
                    ascii_but_identifiers(&out),
                    "non-ASCII outside identifiers: {out}"
                );
                let mut reparsed = sqlparser::parser::Parser::parse_sql(
                    &sqlparser::dialect::PostgreSqlDialect {},
                    &out,
                )
                .map_err(|e| TestCaseError::fail(format!("{out}: {e}")))?;
                print::plain_strings(&mut reparsed);
                let again = print::statements(&mut reparsed.clone()).unwrap();
                prop_assert_eq!(&again, &out, "printing is stable");
                for t in sqlparser::tokenizer::Tokenizer::new(
                    &sqlparser::dialect::PostgreSqlDialect {},
                    &out,
                )
                .tokenize()
                .unwrap()
                {
                    if let sqlparser::tokenizer::Token::SingleQuotedString(s) = &t {
                        prop_assert!(!s.contains('\\'), "a backslash in a '...' string: {out}");
                    }
                }
                // For PostgreSQL below: the same literals with an ASCII alias (a non-ASCII
                // identifier is an invalid byte sequence in GBK, refused, not misread).
                let plain = format!("SELECT {} FROM retail.stores", cols.join(", "));
                if let Decision::Rewrite(out) = g.borrow_mut().check(&plain) {
                    samples
                        .borrow_mut()
                        .push((lits.iter().map(|(v, _)| v.clone()).collect::<Vec<_>>(), out));
                }
                Ok(())
            },
        )
        .unwrap();
    // PostgreSQL, under each setting that changes lexing, computes the md5 of what the client
    // meant.
    let samples = samples.into_inner();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        common::retail::ensure_dataset().await;
        let dsn = common::retail::direct_dsn_db(common::retail::RETAIL_DB);
        let c = common::connect(&dsn).await.unwrap();
        let settings = [
            "SET standard_conforming_strings = on",
            "SET standard_conforming_strings = off",
            "SET client_encoding = 'SJIS'",
            "SET client_encoding = 'GBK'",
            "SET client_encoding = 'BIG5'",
        ];
        for (values, out) in samples.iter().take(64) {
            let mut want = Vec::new();
            for v in values {
                let row = c.query_one("SELECT md5($1::text)", &[v]).await.unwrap();
                want.push(row.get::<_, String>(0));
            }
            for set in settings {
                c.simple_query("RESET ALL").await.unwrap();
                c.simple_query(set).await.unwrap();
                let msgs = c
                    .simple_query(out)
                    .await
                    .unwrap_or_else(|e| panic!("under `{set}`: {out}: {e}"));
                let row = msgs
                    .iter()
                    .find_map(|m| match m {
                        tokio_postgres::SimpleQueryMessage::Row(r) => Some(r),
                        _ => None,
                    })
                    .expect("a row");
                for (i, w) in want.iter().enumerate() {
                    assert_eq!(row.get(i), Some(w.as_str()), "under `{set}`: {out}");
                }
            }
            c.simple_query("RESET ALL").await.unwrap();
        }
    });
}

// ---- setting names -------------------------------------------------------------------------------

fn spelled(name: &'static str) -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(any::<bool>(), name.len()),
        any::<bool>(),
    )
        .prop_map(move |(upper, quoted)| {
            let s: String = name
                .chars()
                .zip(upper)
                .map(|(c, u)| if u { c.to_ascii_uppercase() } else { c })
                .collect();
            if quoted {
                format!("\"{s}\"")
            } else {
                s
            }
        })
}

fn protected() -> impl Strategy<Value = (String, &'static str)> {
    prop_oneof![
        spelled("role").prop_map(|n| (n, "pg_read_all_data")),
        spelled("session_authorization").prop_map(|n| (n, "postgres")),
        spelled("default_transaction_read_only").prop_map(|n| (n, "off")),
        spelled("transaction_read_only").prop_map(|n| (n, "off")),
        spelled("statement_timeout").prop_map(|n| (n, "0")),
        spelled("standard_conforming_strings").prop_map(|n| (n, "off")),
        spelled("client_encoding").prop_map(|n| (n, "SJIS")),
        spelled("backslash_quote").prop_map(|n| (n, "on")),
        spelled("row_security").prop_map(|n| (n, "off")),
        spelled("session_replication_role").prop_map(|n| (n, "replica")),
        spelled("log_statement").prop_map(|n| (n, "none")),
        spelled("search_path").prop_map(|n| (n, "retail, pg_catalog")),
    ]
}

#[test]
fn protected_settings_are_refused_in_every_spelling() {
    let g = std::cell::RefCell::new(common::guard::alice_guard("k"));
    runner(3)
        .run(
            &(protected(), 0usize..7, any::<bool>()),
            |((name, value), form, quote_value)| {
                // A quoted search_path value is one schema name (harmless): quote others only.
                let v = if quote_value && !name.to_ascii_lowercase().contains("search_path") {
                    format!("'{value}'")
                } else {
                    value.to_string()
                };
                let bare = name.trim_matches('"').to_string();
                let sql = match form {
                    0 => format!("SET {name} = {v}"),
                    1 => format!("SET SESSION {name} TO {v}"),
                    2 => format!("SET LOCAL {name} = {v}"),
                    3 => format!("SET {name} TO DEFAULT"),
                    4 => format!("RESET {name}"),
                    5 => format!("SELECT set_config('{bare}', '{value}', false)"),
                    _ => format!("SELECT pg_catalog.set_config('{bare}', '{value}', true)"),
                };
                match g.borrow_mut().check(&sql) {
                    Decision::Deny(e) => prop_assert!(
                        e.code == "42501" || e.code == "42601",
                        "{sql}: {} {}",
                        e.code,
                        e.message
                    ),
                    other => prop_assert!(false, "{sql} was not refused: {other:?}"),
                }
                Ok(())
            },
        )
        .unwrap();
    for ok in [
        "SET work_mem = '64MB'",
        "SET SESSION \"Application_Name\" TO 'report'",
        "SET LOCAL enable_nestloop = off",
        "RESET work_mem",
        "SET client_encoding = 'UTF8'",
        "SET standard_conforming_strings = on",
        "SELECT set_config('DateStyle', 'ISO, MDY', false)",
    ] {
        assert!(
            matches!(g.borrow_mut().check(ok), Decision::Rewrite(_)),
            "{ok} is allowed"
        );
    }
}
