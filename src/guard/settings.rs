//! Which settings a guarded role may change, by any spelling: `SET [SESSION|LOCAL]`, `SET ...
//! TO DEFAULT`, `RESET`, `SET NAMES`, `set_config()` and startup parameters or `options`.
//!
//! PostgreSQL compares setting names case-insensitively, whatever the quoting, so every check
//! here starts from [`canonical`]. The upstream login is usually privileged, so a guarded role
//! may only change settings PostgreSQL lets any user change (`context = 'user'` in
//! `pg_settings`); of those, some are fixed by Querent:
//!
//! - **protected**: the role, the session user, read-only mode, the policy's timeout, row
//!   security and replication role (refused whatever the value);
//! - **pinned**: settings that change how PostgreSQL reads the SQL the guard prints
//!   (`standard_conforming_strings` stays on, `client_encoding` stays UTF8 or SQL_ASCII, the
//!   encodings in which the guard's reading of the client's bytes is PostgreSQL's);
//! - **tracked**: `search_path`, which the guard follows to resolve names as PostgreSQL will;
//!   `pg_catalog` must stay first, so no schema can shadow a built-in function, operator or
//!   type.

use super::denied;
use crate::error::PgError;
use std::collections::HashMap;

/// Settings no guarded role may change.
const PROTECTED: &[&str] = &[
    "role",
    "session_authorization",
    "default_transaction_read_only",
    "transaction_read_only",
    "statement_timeout",
    "session_replication_role",
    "row_security",
    "backslash_quote",
];

/// A setting's canonical name: PostgreSQL folds names to lower case even when quoted.
pub fn canonical(name: &str) -> String {
    name.trim().to_ascii_lowercase()
}

/// What a change to a setting does to the guard.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// The change may go upstream as it is.
    Allowed,
    /// A new search_path the guard must follow (schema names in order).
    SearchPath(Vec<String>),
}

/// The value a change sets: a text, or the setting's default (`DEFAULT`, `RESET`).
#[derive(Debug, Clone, Copy)]
pub enum Value<'a> {
    /// `SET name = value` (for lists, the raw list text PostgreSQL would store).
    Text(&'a str),
    /// `SET name TO DEFAULT` or `RESET name`.
    Default,
}

fn is_on(v: &str) -> bool {
    let v = v.trim().to_ascii_lowercase();
    matches!(v.as_str(), "on" | "1")
        || (!v.is_empty() && ("true".starts_with(&v) || "yes".starts_with(&v)))
}

/// Whether a `client_encoding` value names UTF8 or SQL_ASCII (PostgreSQL ignores case and
/// punctuation in encoding names, and knows UTF8 also as UNICODE).
pub fn guard_encoding(v: &str) -> bool {
    let clean: String = v
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    matches!(clean.as_str(), "utf8" | "unicode" | "sqlascii")
}

/// Splits a list setting's text as PostgreSQL does (`SplitIdentifierString`): comma-separated
/// names, double-quoted ones kept as written, others trimmed and lower-cased (ASCII).
pub fn split_identifier_list(s: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut name = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        name.push('"');
                    }
                    '"' => break,
                    c => name.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                name.push(c);
                chars.next();
            }
            name = name.trim_end().to_ascii_lowercase();
            if name.is_empty() && out.is_empty() && chars.peek().is_none() {
                return Some(out); // an empty list
            }
            if name.is_empty() {
                return None;
            }
        }
        out.push(name);
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            None => return Some(out),
            Some(',') => continue,
            Some(_) => return None,
        }
    }
}

/// Checks a search_path: `pg_catalog`, when named, must come first.
pub fn check_search_path(path: Vec<String>, roles: &str) -> Result<Change, PgError> {
    if path.iter().skip(1).any(|s| s == "pg_catalog") {
        return Err(denied(format!(
            "a search_path with pg_catalog after other schemas is not allowed for role(s) {roles}"
        ))
        .with_hint("leave pg_catalog out of the search_path, or put it first: built-in functions and operators must not be shadowed"));
    }
    Ok(Change::SearchPath(path))
}

/// Checks a change of setting `name` (any spelling) to `value` for a guarded role.
/// `contexts` maps canonical names to their `pg_settings.context`.
pub fn check(
    contexts: &HashMap<String, String>,
    name: &str,
    value: Value,
    roles: &str,
) -> Result<Change, PgError> {
    let name = canonical(name);
    let refuse = |why: &str, hint: &str| {
        Err(denied(format!(
            "changing setting \"{name}\" is not allowed for role(s) {roles}: {why}"
        ))
        .with_hint(hint.to_string()))
    };
    // debug_print_* and trace_* send parse trees (the hash mask's key among their constants),
    // plans and sort statistics to the client at client_min_messages = log.
    if name.starts_with("debug_") || name.starts_with("trace_") {
        return refuse(
            "it reports the server's internals (query trees, plans, sorts)",
            "debugging settings are for trusted roles",
        );
    }
    if name == "client_min_messages" {
        let level = match value {
            Value::Text(v) => v.trim().to_ascii_lowercase(),
            Value::Default => "notice".into(),
        };
        if !matches!(level.as_str(), "notice" | "warning" | "error") {
            return refuse(
                "guarded roles see NOTICE, WARNING and ERROR messages",
                "set client_min_messages to notice, warning or error",
            );
        }
    }
    if PROTECTED.contains(&name.as_str()) {
        return refuse(
            "the policy fixes it",
            "the role, the session user, read-only mode and the statement timeout come from the policy",
        );
    }
    match (name.as_str(), value) {
        ("search_path", Value::Text(v)) => {
            let Some(path) = split_identifier_list(v) else {
                return refuse(
                    "the value is not a list of schema names",
                    "write SET search_path TO schema1, schema2",
                );
            };
            return check_search_path(path, roles);
        }
        ("search_path", Value::Default) => {
            return refuse(
                "the guard cannot know the default",
                "set it explicitly: SET search_path TO schema1, schema2",
            )
        }
        ("standard_conforming_strings", Value::Text(v)) if is_on(v) => return Ok(Change::Allowed),
        ("standard_conforming_strings", _) => {
            return refuse(
                "it stays on, so PostgreSQL reads strings as the guard does",
                "write backslash escapes as E'...' strings",
            )
        }
        ("client_encoding", Value::Text(v)) if guard_encoding(v) => return Ok(Change::Allowed),
        ("client_encoding", _) => {
            return refuse(
                "guarded sessions use UTF8 (or SQL_ASCII), the encoding the guard reads",
                "connect with client_encoding=UTF8 (PGCLIENTENCODING=UTF8)",
            )
        }
        _ => {}
    }
    match contexts.get(&name).map(String::as_str) {
        Some("user") => Ok(Change::Allowed),
        Some(_) => refuse(
            "only settings any user may change are allowed through the guard (this one needs more privileges, or cannot change in a session)",
            "ask an administrator; Querent's upstream login may be privileged, so the guard allows only user-level settings",
        ),
        None if name.contains('.') => refuse(
            "custom settings are not allowed through the guard",
            "a row filter or function could read a custom setting; ask for a trusted role",
        ),
        None => refuse("PostgreSQL has no such setting", "check the name in pg_settings"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contexts() -> HashMap<String, String> {
        [
            ("application_name", "user"),
            ("work_mem", "user"),
            ("timezone", "user"),
            ("log_statement", "superuser"),
            ("shared_buffers", "postmaster"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
    }

    fn ok(name: &str, v: Value) -> bool {
        check(&contexts(), name, v, "r").is_ok()
    }

    #[test]
    fn names_are_compared_canonically() {
        use Value::*;
        for n in [
            "Standard_Conforming_Strings",
            " standard_conforming_strings",
            "STANDARD_CONFORMING_STRINGS",
        ] {
            assert!(!ok(n, Text("off")), "{n}");
            assert!(ok(n, Text("on")) && ok(n, Text("TRUE")) && ok(n, Text("1")));
            assert!(!ok(n, Default));
        }
        for n in [
            "ROLE",
            "Session_Authorization",
            "default_transaction_read_only",
            "Statement_Timeout",
            "row_security",
        ] {
            assert!(!ok(n, Text("x")), "{n}");
        }
        assert!(ok("Application_Name", Text("psql")));
        assert!(
            !ok("log_statement", Text("none")),
            "superuser-only settings"
        );
        assert!(!ok("shared_buffers", Text("1GB")));
        assert!(!ok("myapp.tenant", Text("1")), "custom settings");
        assert!(!ok("no_such_thing", Text("1")));
        assert!(!ok("debug_print_parse", Text("on")) && !ok("Trace_Sort", Text("on")));
    }

    #[test]
    fn encodings() {
        for v in ["UTF8", "utf-8", "Unicode", "SQL_ASCII", "sql-ascii"] {
            assert!(ok("client_encoding", Value::Text(v)), "{v}");
        }
        for v in ["SJIS", "GBK", "BIG5", "LATIN1", "GB18030", "WIN1252"] {
            assert!(!ok("CLIENT_ENCODING", Value::Text(v)), "{v}");
        }
    }

    #[test]
    fn search_paths() {
        let p = |s: &str| split_identifier_list(s);
        assert_eq!(
            p("a, B ,\"C d\""),
            Some(vec!["a".into(), "b".into(), "C d".into()])
        );
        assert_eq!(p("\"a,b\""), Some(vec!["a,b".into()]));
        assert_eq!(
            p("\"$user\", public"),
            Some(vec!["$user".into(), "public".into()])
        );
        assert_eq!(p(""), Some(vec![]));
        assert_eq!(p("a,,b"), None);
        assert_eq!(p("\"a"), None);
        assert!(matches!(
            check(&contexts(), "Search_Path", Value::Text("retail, public"), "r"),
            Ok(Change::SearchPath(v)) if v == ["retail", "public"]
        ));
        assert!(!ok("search_path", Value::Text("evil, pg_catalog")));
        assert!(ok("search_path", Value::Text("pg_catalog, retail")));
        assert!(!ok("search_path", Value::Default));
    }
}
