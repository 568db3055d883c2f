//! Statement rules: what a guarded role may run at all, EXPLAIN's limits and the row cap.
//! Small pure functions over the AST; the rewrite handles what a statement reads, `functions`
//! the functions it calls and `set` the settings it changes.

use super::denied;
use super::rewrite::{norm, quote, Env};
use super::set::{check_reset, check_set};
use crate::error::PgError;
use sqlparser::ast::{
    CopySource, CopyTarget, Expr, Query, SetExpr, Statement, TransactionAccessMode,
    TransactionMode, Value,
};

fn statement_name(stmt: &Statement) -> String {
    let text = stmt.to_string();
    text.split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}

fn check_body(env: &Env, body: &SetExpr) -> Result<(), PgError> {
    let roles = env.eff.roles.join(", ");
    match body {
        SetExpr::Select(s) if s.into.is_some() => {
            Err(denied(format!("SELECT INTO is not allowed for role(s) {roles}")).with_hint("it creates a table; select the rows instead"))
        }
        SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => {
            Err(denied(format!("data-modifying statements in WITH or subqueries are not allowed for role(s) {roles}")))
        }
        SetExpr::SetOperation { left, right, .. } => check_body(env, left).and_then(|()| check_body(env, right)),
        _ => Ok(()),
    }
}

/// Checks one query node: no SELECT INTO, no data-modifying CTEs, no row locks for read-only
/// roles (called for every query, nested ones included).
pub fn check_query(env: &Env, q: &Query) -> Result<(), PgError> {
    check_body(env, &q.body)?;
    if env.eff.read_only && !q.locks.is_empty() {
        return Err(denied(format!(
            "row locks (FOR UPDATE/SHARE) are not allowed for read-only role(s) {}",
            env.eff.roles.join(", ")
        )));
    }
    Ok(())
}

fn literal_limit(e: &Expr) -> Option<u64> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse().ok(),
            _ => None,
        },
        _ => None,
    }
}

fn option_on(arg: &Option<Expr>) -> bool {
    match arg {
        None => true,
        Some(Expr::Value(v)) => match &v.value {
            Value::Boolean(b) => *b,
            Value::Number(n, _) => n != "0",
            Value::SingleQuotedString(s) => {
                !matches!(s.to_lowercase().as_str(), "off" | "false" | "0" | "no")
            }
            _ => true,
        },
        Some(Expr::Identifier(i)) => {
            !matches!(i.value.to_lowercase().as_str(), "off" | "false" | "no")
        }
        Some(_) => true,
    }
}

/// EXPLAIN of a statement that holds the hash mask's key would show it, and `EXPLAIN
/// ANALYZE` over a row-filtered table counts the rows the filter removed; both are refused.
pub fn check_explain(
    stmt: &Statement,
    keyed: bool,
    filtered: bool,
    roles: &[String],
) -> Result<(), PgError> {
    let Statement::Explain {
        statement,
        analyze,
        options,
        ..
    } = stmt
    else {
        return Ok(());
    };
    let roles = roles.join(", ");
    if keyed || matches!(**statement, Statement::Execute { .. }) {
        return Err(denied(format!(
            "EXPLAIN of this statement is not allowed for role(s) {roles}: its plan would show the hash mask's key"
        ))
        .with_hint("run the query itself, or EXPLAIN a query without hash-masked columns"));
    }
    let analyzes = *analyze
        || options.iter().flatten().any(|o| {
            (o.name.value.eq_ignore_ascii_case("analyze")
                || o.name.value.eq_ignore_ascii_case("analyse"))
                && option_on(&o.arg)
        });
    if analyzes && filtered {
        return Err(denied(format!(
            "EXPLAIN ANALYZE of a row-filtered table is not allowed for role(s) {roles}: its row counts would tell how many rows the filter hides"
        ))
        .with_hint("EXPLAIN without ANALYZE shows the plan; run the query to see its rows"));
    }
    Ok(())
}

/// Caps a query's row count at `max` (the policy's `max_rows`): a missing or larger LIMIT
/// becomes `LIMIT max`; a smaller literal LIMIT stays; FETCH FIRST is capped likewise.
/// Returns `true` when a LIMIT or FETCH the client wrote was compared with the cap.
pub fn cap_rows(q: &mut Query, max: u64) -> bool {
    use sqlparser::ast::LimitClause;
    let max_expr = || Expr::Value(Value::Number(max.to_string(), false).into());
    // A literal over the cap becomes the cap; an expression or a parameter (`LIMIT $1`)
    // becomes `LEAST(expr, max)`, which keeps the parameter the client binds (LEAST ignores a
    // NULL, so `LIMIT NULL` is capped too).
    let capped = |e: Option<Expr>| -> Expr {
        match e.as_ref().map(|x| (x, literal_limit(x))) {
            None => max_expr(), // LIMIT ALL
            Some((_, Some(n))) if n <= max => e.unwrap_or_else(max_expr),
            Some((_, Some(_))) => max_expr(),
            Some((x, None)) => least(x.clone(), max),
        }
    };
    if let Some(f) = q.fetch.as_mut() {
        let literal = f
            .quantity
            .as_ref()
            .is_none_or(|x| literal_limit(x).is_some());
        if literal || f.percent || f.with_ties {
            // A literal count (or one that cannot be kept: PERCENT, WITH TIES) is capped.
            let over = f
                .quantity
                .as_ref()
                .and_then(literal_limit)
                .is_none_or(|n| n > max);
            if over || f.percent {
                f.quantity = Some(max_expr());
                f.percent = false;
            }
            return true;
        }
        // `FETCH FIRST $1 ROWS ONLY` means `LIMIT $1`, which can hold `LEAST($1, max)`.
        let count = f.quantity.take();
        q.fetch = None;
        let offset = match q.limit_clause.take() {
            Some(LimitClause::LimitOffset { offset, .. }) => offset,
            _ => None,
        };
        q.limit_clause = Some(LimitClause::LimitOffset {
            limit: Some(capped(count)),
            offset,
            limit_by: vec![],
        });
        return true;
    }
    match q.limit_clause.as_mut() {
        None => {
            q.limit_clause = Some(LimitClause::LimitOffset {
                limit: Some(max_expr()),
                offset: None,
                limit_by: vec![],
            });
            false
        }
        Some(LimitClause::LimitOffset { limit, .. }) => {
            *limit = Some(capped(limit.take()));
            true
        }
        Some(LimitClause::OffsetCommaLimit { limit, .. }) => {
            *limit = capped(Some(std::mem::replace(limit, max_expr())));
            true
        }
    }
}

/// `LEAST(e, max)` (in brackets, so it stands wherever a LIMIT or FETCH count may).
fn least(e: Expr, max: u64) -> Expr {
    let text = format!("(LEAST(__querent_limit, {max}))");
    let mut out = sqlparser::parser::Parser::new(&sqlparser::dialect::PostgreSqlDialect {})
        .try_with_sql(&text)
        .and_then(|mut p| p.parse_expr())
        .unwrap_or_else(|_| Expr::Value(Value::Number(max.to_string(), false).into()));
    struct Put(Option<Expr>);
    impl sqlparser::ast::VisitorMut for Put {
        type Break = ();
        fn post_visit_expr(&mut self, x: &mut Expr) -> std::ops::ControlFlow<()> {
            if matches!(x, Expr::Identifier(i) if i.value == "__querent_limit") {
                if let Some(e) = self.0.take() {
                    *x = e;
                }
            }
            std::ops::ControlFlow::Continue(())
        }
    }
    let _ = sqlparser::ast::VisitMut::visit(&mut out, &mut Put(Some(e)));
    out
}

/// Applies `max_rows` to the queries of a statement whose rows reach the client; `true` when
/// a LIMIT or FETCH the client wrote was compared with the cap.
pub fn cap_statement(stmt: &mut Statement, max: u64) -> bool {
    match stmt {
        Statement::Query(q) => cap_rows(q, max),
        Statement::Copy {
            source: CopySource::Query(q),
            ..
        } => cap_rows(q, max),
        Statement::Declare { stmts } => stmts
            .iter_mut()
            .filter_map(|d| d.for_query.as_mut())
            .fold(false, |acc, q| cap_rows(q, max) | acc),
        Statement::Prepare { statement, .. } => cap_statement(statement, max),
        _ => false,
    }
}

/// Prepared statement names starting with `querent_` belong to the plan cache.
pub fn reserved_name(name: &str, roles: &str) -> Result<(), PgError> {
    if name
        .trim_matches('"')
        .to_ascii_lowercase()
        .starts_with("querent_")
    {
        return Err(denied(format!(
            "prepared statement name \"{name}\" is reserved for Querent (role(s) {roles})"
        ))
        .with_hint("choose a name that does not start with querent_"));
    }
    Ok(())
}

/// Checks a statement's kind, and turns `COPY table TO STDOUT` into `COPY (SELECT ...) TO
/// STDOUT` so its rows go through the rewrite. Tracks `SET search_path` into `search_path`.
pub fn check_statement(
    env: &Env,
    stmt: &mut Statement,
    new_search_path: &mut Option<Vec<String>>,
) -> Result<(), PgError> {
    let roles = env.eff.roles.join(", ");
    let refuse = |what: String| {
        Err(denied(format!("{what} is not allowed for role(s) {roles}"))
            .with_hint(if env.eff.read_only { "the role is read-only: only queries, SHOW, SET and transaction control are allowed" } else { "DDL, COPY FROM and session-changing statements are refused through the guard" }))
    };
    match stmt {
        Statement::Query(_)
        | Statement::ShowVariable { .. }
        | Statement::ShowVariables { .. }
        | Statement::Commit { .. }
        | Statement::Rollback { .. }
        | Statement::Savepoint { .. }
        | Statement::ReleaseSavepoint { .. }
        | Statement::Fetch { .. }
        | Statement::Close { .. } => Ok(()),
        Statement::Deallocate { name, .. } => reserved_name(&norm(name), &roles),
        Statement::Execute { name, .. } => match name {
            Some(n) => reserved_name(&n.to_string().to_ascii_lowercase(), &roles),
            None => Ok(()),
        },
        Statement::Explain { statement, .. } => check_statement(env, statement, new_search_path),
        Statement::Prepare {
            name, statement, ..
        } => {
            reserved_name(&norm(name), &roles)?;
            check_statement(env, statement, new_search_path)
        }
        Statement::Declare { stmts } => {
            if stmts.iter().all(|d| d.for_query.is_some()) {
                Ok(())
            } else {
                refuse("DECLARE without a query".into())
            }
        }
        Statement::StartTransaction { modes, .. } => {
            if modes.iter().any(|m| {
                matches!(
                    m,
                    TransactionMode::AccessMode(TransactionAccessMode::ReadWrite)
                )
            }) && env.eff.read_only
            {
                refuse("a READ WRITE transaction".into())
            } else {
                Ok(())
            }
        }
        Statement::Set(set) => check_set(env, set, new_search_path, &roles),
        Statement::Reset(reset) => check_reset(env, reset, &roles),
        Statement::Copy {
            source, to, target, ..
        } => {
            if !*to || !matches!(target, CopyTarget::Stdout) {
                return refuse("COPY FROM, COPY to a file and COPY ... PROGRAM".into());
            }
            if let CopySource::Table {
                table_name,
                columns,
            } = source
            {
                let cols = if columns.is_empty() {
                    "*".to_string()
                } else {
                    columns
                        .iter()
                        .map(|c| quote(&norm(c)))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let sql = format!("SELECT {cols} FROM {table_name}");
                let q = sqlparser::parser::Parser::new(&sqlparser::dialect::PostgreSqlDialect {})
                    .try_with_sql(&sql)
                    .and_then(|mut p| p.parse_query())
                    .map_err(|e| PgError::error("42601", e.to_string()))?;
                *source = CopySource::Query(q);
            }
            Ok(())
        }
        Statement::Insert(_)
        | Statement::Update { .. }
        | Statement::Delete(_)
        | Statement::Merge { .. } => refuse(format!(
            "{} (writes through the guard)",
            statement_name(stmt)
        )),
        other => refuse(statement_name(other)),
    }
}
