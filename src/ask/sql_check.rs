//! What SQL written by a language model must be before anything else looks at it: one
//! read-only query. Checked for every session, guarded or not, before the guard: no second
//! statement, no data-modifying CTE, no `SELECT INTO`, no row locks, no function that writes,
//! sleeps, changes settings, reads files or other sessions, and no function outside
//! `pg_catalog` named by schema. A guarded session's guard then applies the role's policy on
//! top. Parsing goes through the guard's bounded parser, so depth and size are limited too.

use crate::error::PgError;
use crate::guard::depth;
use sqlparser::ast::{
    Expr, ObjectName, ObjectNamePart, Query, SetExpr, Statement, TableFactor, Visit, Visitor,
};
use std::ops::ControlFlow;

/// SQLSTATE of model SQL that is not one read-only query.
pub const NOT_READ_ONLY: &str = "25006";

/// Functions with side effects the guard allows with limits, refused outright here.
const SIDE_EFFECTS: &[&str] = &["pg_sleep", "pg_sleep_for", "pg_sleep_until", "set_config"];

fn refuse(what: String) -> PgError {
    PgError::error(
        NOT_READ_ONLY,
        format!("ASK runs only one read-only query: {what}"),
    )
    .with_hint("write a single SELECT that reads tables of the catalog")
}

/// Checks that `sql` is one read-only query; the text to send when it is, printed once from
/// the parse by the guard's printer, which PostgreSQL reads back as the same statement under
/// any session settings (sqlparser's own printing is not faithful: `- -1` prints as `--1`, a
/// comment). A statement that does not print faithfully is refused.
pub fn read_only(sql: &str) -> Result<String, PgError> {
    let stmt = read_only_statement(sql)?;
    crate::guard::print::statements(&mut [stmt])
        .map_err(|e| refuse(format!("it does not print back as itself: {}", e.message)))
}

/// The parsed statement of [`read_only`], unprinted.
pub fn read_only_statement(sql: &str) -> Result<Statement, PgError> {
    let mut stmts = depth::with_stack(|| depth::parse(sql))?;
    if stmts.len() != 1 {
        return Err(refuse(format!("the SQL holds {} statements", stmts.len())));
    }
    let stmt = stmts.remove(0);
    if !matches!(stmt, Statement::Query(_)) {
        let word = stmt.to_string();
        let first = word.split_whitespace().next().unwrap_or("").to_uppercase();
        return Err(refuse(format!("{first} is not a query")));
    }
    let mut v = Check;
    if let ControlFlow::Break(e) = depth::with_stack(|| stmt.visit(&mut v)) {
        return Err(*e);
    }
    Ok(stmt)
}

struct Check;

fn last_name(name: &ObjectName) -> (Option<String>, String) {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => crate::guard::rewrite::norm(i),
            ObjectNamePart::Function(f) => f.name.value.to_lowercase(),
        })
        .collect();
    match parts.as_slice() {
        [] => (None, String::new()),
        [f] => (None, f.clone()),
        [.., s, f] => (Some(s.clone()), f.clone()),
    }
}

fn check_function(name: &ObjectName) -> Result<(), Box<PgError>> {
    let (schema, f) = last_name(name);
    if schema.as_deref().is_some_and(|s| s != "pg_catalog") {
        return Err(Box::new(refuse(format!(
            "function {name} is outside pg_catalog"
        ))));
    }
    if crate::guard::functions::is_denied(&f) || SIDE_EFFECTS.contains(&f.as_str()) {
        return Err(Box::new(refuse(format!(
            "function {f} writes, waits, changes settings or reads outside the tables"
        ))));
    }
    Ok(())
}

impl Visitor for Check {
    type Break = Box<PgError>;

    fn pre_visit_statement(&mut self, s: &Statement) -> ControlFlow<Self::Break> {
        match s {
            Statement::Query(_) => ControlFlow::Continue(()),
            other => {
                let text = other.to_string();
                let first = text.split_whitespace().next().unwrap_or("").to_uppercase();
                ControlFlow::Break(Box::new(refuse(format!(
                    "a {first} statement inside the query"
                ))))
            }
        }
    }

    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<Self::Break> {
        if !q.locks.is_empty() {
            return ControlFlow::Break(Box::new(refuse("it locks rows (FOR UPDATE/SHARE)".into())));
        }
        if let SetExpr::Select(s) = q.body.as_ref() {
            if s.into.is_some() {
                return ControlFlow::Break(Box::new(refuse("SELECT INTO creates a table".into())));
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, t: &TableFactor) -> ControlFlow<Self::Break> {
        let name = match t {
            TableFactor::Table {
                name,
                args: Some(_),
                ..
            } => Some(name),
            TableFactor::Function { name, .. } => Some(name),
            _ => None,
        };
        match name.map(check_function) {
            Some(Err(e)) => ControlFlow::Break(e),
            _ => ControlFlow::Continue(()),
        }
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<Self::Break> {
        match e {
            Expr::Function(f) => match check_function(&f.name) {
                Err(e) => ControlFlow::Break(e),
                Ok(()) => ControlFlow::Continue(()),
            },
            _ => ControlFlow::Continue(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_read_only_query_passes() {
        for ok in [
            "SELECT 1",
            "WITH t AS (SELECT a FROM x) SELECT count(*) FROM t JOIN y USING (a)",
            "SELECT a FROM x UNION ALL SELECT b FROM y ORDER BY 1 LIMIT 5",
            "SELECT date_trunc('month', d), sum(v) FROM s GROUP BY 1",
            "SELECT * FROM generate_series(1, 3)",
            "SELECT pg_catalog.lower(name) FROM t",
        ] {
            read_only(ok).unwrap_or_else(|e| panic!("{ok}: {e:?}"));
        }
        // Printed faithfully: what PostgreSQL reads is what was checked.
        let printed = read_only("SELECT - -1 AS x, 'a\n; DELETE FROM t; --' AS y").unwrap();
        assert!(!printed.contains("--1"), "{printed}");
        let again = depth::parse(&printed).unwrap();
        assert_eq!(again.len(), 1, "{printed}");
        let printed = read_only("SELECT 'a\\' AS x, ' ; DELETE FROM t; --' AS y").unwrap();
        assert!(printed.contains("E'"), "{printed}");
        read_only("SELECT 1").unwrap();
        for bad in [
            "SELECT 1; SELECT 2",
            "DELETE FROM x",
            "UPDATE x SET a = 1",
            "WITH d AS (DELETE FROM x RETURNING *) SELECT * FROM d",
            "WITH i AS (INSERT INTO x VALUES (1) RETURNING *) SELECT * FROM i",
            "SELECT * INTO copy FROM x",
            "SELECT * FROM x FOR UPDATE",
            "SELECT a FROM (SELECT a FROM x FOR SHARE) s",
            "SELECT pg_read_file('/etc/passwd')",
            "SELECT nextval('s')",
            "SELECT pg_sleep(10)",
            "SELECT set_config('search_path', 'evil', false)",
            "SELECT * FROM dblink('host=x', 'select 1') AS t(a int)",
            "SELECT public.do_something()",
            "SELECT lo_import('/etc/passwd')",
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity",
            "COPY x TO '/tmp/x'",
            "SET ROLE postgres",
            "",
        ] {
            let e = read_only(bad).expect_err(bad);
            assert!(!e.message.is_empty(), "{bad}");
        }
    }
}
