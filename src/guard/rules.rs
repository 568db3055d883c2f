//! Statement and function rules: what a guarded role may run at all. Small pure functions over
//! the AST; the rewrite handles what a statement reads.

use super::denied;
use super::rewrite::{norm, quote, Env};
use super::settings;
use crate::error::PgError;
use sqlparser::ast::{
    CopySource, CopyTarget, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, ObjectName,
    ObjectNamePart, Query, Set, SetExpr, Statement, TransactionAccessMode, TransactionMode, Value,
    VisitMut, VisitorMut,
};

/// Functions that read files, other tables by text, other sessions or the server itself.
const DENIED_FUNCTIONS: &[&str] = &[
    "pg_read_file",
    "pg_read_binary_file",
    "pg_ls_dir",
    "pg_ls_logdir",
    "pg_ls_waldir",
    "pg_ls_tmpdir",
    "pg_ls_archive_statusdir",
    "pg_ls_logicalsnapdir",
    "pg_ls_logicalmapdir",
    "pg_ls_replslotdir",
    "pg_stat_file",
    "loread",
    "lowrite",
    "query_to_xml",
    "query_to_xmlschema",
    "query_to_xml_and_xmlschema",
    "table_to_xml",
    "table_to_xmlschema",
    "table_to_xml_and_xmlschema",
    "cursor_to_xml",
    "cursor_to_xmlschema",
    "schema_to_xml",
    "schema_to_xmlschema",
    "schema_to_xml_and_xmlschema",
    "database_to_xml",
    "database_to_xmlschema",
    "database_to_xml_and_xmlschema",
    "ts_stat",
    "ts_rewrite",
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_promote",
    "pg_switch_wal",
    "pg_create_restore_point",
    "pg_backup_start",
    "pg_backup_stop",
    "pg_logical_emit_message",
    "pg_current_logfile",
    "pg_config",
    "pg_show_all_file_settings",
    "pg_hba_file_rules",
    "pg_ident_file_mappings",
    "pg_import_system_collations",
    "pg_stat_reset",
    "pg_stat_reset_shared",
    "pg_stat_reset_single_table_counters",
    "pg_stat_reset_single_function_counters",
    "pg_stat_reset_slru",
    "pg_stat_reset_replication_slot",
    "pg_stat_reset_subscription_stats",
    "pg_log_backend_memory_contexts",
    "pg_get_backend_memory_contexts",
    "pg_drop_replication_slot",
    "nextval",
    "setval",
    "pg_advisory_xact_lock",
    "pg_advisory_lock",
    "txid_current",
    "pg_current_xact_id",
    "pg_notify",
    "current_query",
    "pg_sequence_last_value",
];
const DENIED_PREFIXES: &[&str] = &[
    // Per-table and per-session counters: true row counts of row-filtered tables, other
    // sessions' activity.
    "pg_stat_get_",
    "lo_",
    "dblink",
    "pg_replication_",
    "pg_create_",
    "pg_copy_",
    "pg_file_",
    "pg_wal_replay_",
];

/// Names PostgreSQL parses as syntax that sqlparser reports as function calls.
const SYNTAX_FUNCTIONS: &[&str] = &[
    "coalesce",
    "nullif",
    "greatest",
    "least",
    "current_date",
    "current_time",
    "current_timestamp",
    "localtime",
    "localtimestamp",
    "current_user",
    "current_role",
    "session_user",
    "user",
    "current_catalog",
    "current_schema",
    "grouping",
    "row",
    "array",
    "exists",
    "any",
    "all",
    "some",
    "extract",
    "xmlelement",
    "xmlforest",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmlconcat",
    "xmlexists",
    "position",
    "substring",
    "trim",
    "overlay",
    "normalize",
    "collation for",
    "json_object",
    "json_array",
    "json_objectagg",
    "json_arrayagg",
    "merge_action",
];

fn literal_string(arg: &FunctionArg) -> Option<String> {
    match arg {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v))) => match &v.value {
            Value::SingleQuotedString(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    }
}

fn literal_number(arg: &FunctionArg) -> Option<f64> {
    match arg {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v))) => match &v.value {
            Value::Number(n, _) => n.parse().ok(),
            Value::SingleQuotedString(s) => s.parse().ok(),
            _ => None,
        },
        _ => None,
    }
}

/// Checks a function name: only built-in functions, none of the denied ones.
pub fn check_function_name(env: &Env, name: &ObjectName) -> Result<(), PgError> {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => norm(i),
            ObjectNamePart::Function(_) => String::new(),
        })
        .collect();
    let (schema, f) = match parts.as_slice() {
        [f] => (None, f.as_str()),
        [s, f] => (Some(s.as_str()), f.as_str()),
        _ => {
            return Err(denied(format!(
                "function {name} is not allowed for guarded roles"
            )))
        }
    };
    // information_schema's own helpers (_pg_expandarray, _pg_truetypid, ...) are built in too.
    if schema == Some("information_schema") && f.starts_with("_pg_") {
        return Ok(());
    }
    if schema.is_some_and(|s| s != "pg_catalog") {
        return Err(denied(format!(
            "function {name} is not allowed for role(s) {}: only built-in functions may be called",
            env.eff.roles.join(", ")
        ))
        .with_hint("functions outside pg_catalog could read tables around the policy"));
    }
    if DENIED_FUNCTIONS.contains(&f) || DENIED_PREFIXES.iter().any(|p| f.starts_with(p)) {
        return Err(denied(format!(
            "function {f} is not allowed for role(s) {}",
            env.eff.roles.join(", ")
        ))
        .with_hint("it reads files, other tables by name, other sessions or changes the server"));
    }
    let explicit_catalog = env.search_path.iter().position(|s| s == "pg_catalog");
    let shadowable = schema.is_none() && explicit_catalog.is_some_and(|i| i > 0);
    if !env.snap.builtin_functions.contains(f) && !SYNTAX_FUNCTIONS.contains(&f) || shadowable {
        return Err(denied(format!(
            "function {f} is not allowed for role(s) {}: only built-in functions may be called",
            env.eff.roles.join(", ")
        )));
    }
    Ok(())
}

/// `set_config(name, value, is_local)`: the name must be a literal; the change follows the
/// same rules as `SET` (see [`settings`]), except search_path, which only `SET` may change
/// (the guard follows it there).
fn check_set_config(env: &Env, args: &[FunctionArg]) -> Result<(), PgError> {
    let roles = env.eff.roles.join(", ");
    let Some(name) = args.first().and_then(literal_string) else {
        return Err(denied(format!(
            "set_config with a computed setting name is not allowed for role(s) {roles}"
        ))
        .with_hint("name the setting as a literal: set_config('work_mem', '64MB', false)"));
    };
    let value = match args.get(1).map(literal_string) {
        Some(Some(v)) => v,
        _ => {
            return Err(denied(format!(
                "set_config with a computed value is not allowed for role(s) {roles}"
            ))
            .with_hint("give the value as a literal"))
        }
    };
    match settings::check(
        &env.snap.settings,
        &name,
        settings::Value::Text(&value),
        &roles,
    )? {
        settings::Change::Allowed => Ok(()),
        settings::Change::SearchPath(_) => Err(denied(format!(
            "set_config of search_path is not allowed for role(s) {roles}"
        ))
        .with_hint("use SET search_path TO ..., which the guard follows")),
    }
}

/// Checks one expression node (called bottom-up for every expression).
pub fn check_expr(env: &Env, expr: &Expr) -> Result<(), PgError> {
    let Expr::Function(f) = expr else {
        return Ok(());
    };
    check_function_name(env, &f.name)?;
    let args: &[FunctionArg] = match &f.args {
        FunctionArguments::List(l) => &l.args,
        _ => &[],
    };
    let fname = f
        .name
        .0
        .last()
        .map(|p| p.to_string().to_lowercase())
        .unwrap_or_default();
    if matches!(
        fname.as_str(),
        "set_config" | "pg_sleep" | "pg_sleep_for" | "pg_sleep_until"
    ) {
        env.inspected.set(true);
    }
    match fname.as_str() {
        "set_config" => check_set_config(env, args),
        "pg_sleep" | "pg_sleep_for" | "pg_sleep_until" => {
            let limit = env
                .eff
                .statement_timeout
                .unwrap_or(std::time::Duration::from_secs(30))
                .as_secs_f64();
            match args.first().and_then(literal_number) {
                Some(s) if fname == "pg_sleep" && s <= limit => Ok(()),
                _ => Err(denied(format!(
                    "pg_sleep beyond {limit} s is not allowed for role(s) {}",
                    env.eff.roles.join(", ")
                ))),
            }
        }
        _ => Ok(()),
    }
}

/// Functions giving a relation's size, which tells how many rows a row-filtered table holds.
const SIZE_FUNCTIONS: &[&str] = &[
    "pg_relation_size",
    "pg_table_size",
    "pg_total_relation_size",
    "pg_indexes_size",
];

struct Bind<'a> {
    arg: &'a Expr,
    call: &'a Expr,
}

impl VisitorMut for Bind<'_> {
    type Break = ();
    fn post_visit_expr(&mut self, e: &mut Expr) -> std::ops::ControlFlow<()> {
        if let Expr::Identifier(i) = e {
            match i.value.as_str() {
                "__querent_arg" => *e = Expr::Nested(Box::new(self.arg.clone())),
                "__querent_call" => *e = self.call.clone(),
                _ => {}
            }
        }
        std::ops::ControlFlow::Continue(())
    }
}

/// `pg_relation_size(rel, ...)` and the other size functions become NULL for row-filtered
/// tables and their indexes (`filtered_rels`: the `ARRAY(...)` of their oids):
/// `CASE WHEN (rel)::regclass::oid = ANY(filtered_rels) THEN NULL ELSE pg_relation_size(rel, ...) END`.
/// Returns whether `expr` was such a call.
pub fn hide_size(expr: &mut Expr, filtered_rels: &str) -> Result<bool, PgError> {
    let Expr::Function(f) = &*expr else {
        return Ok(false);
    };
    let name = f
        .name
        .0
        .last()
        .and_then(|p| p.as_ident())
        .map(norm)
        .unwrap_or_default();
    if !SIZE_FUNCTIONS.contains(&name.as_str()) {
        return Ok(false);
    }
    let arg = match &f.args {
        FunctionArguments::List(l) => match l.args.first() {
            Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(e))) => e.clone(),
            _ => return Ok(false),
        },
        _ => return Ok(false),
    };
    let tpl = format!(
        "CASE WHEN (__querent_arg)::pg_catalog.regclass::pg_catalog.oid = ANY({filtered_rels}) THEN NULL ELSE __querent_call END"
    );
    let mut case = sqlparser::parser::Parser::new(&sqlparser::dialect::PostgreSqlDialect {})
        .try_with_sql(&tpl)
        .and_then(|mut p| p.parse_expr())
        .map_err(|e| PgError::error("XX000", format!("internal guard error: {e}")))?;
    let call = expr.clone();
    let _ = VisitMut::visit(
        &mut case,
        &mut Bind {
            arg: &arg,
            call: &call,
        },
    );
    *expr = Expr::Nested(Box::new(case));
    Ok(true)
}

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
        || options
            .iter()
            .flatten()
            .any(|o| o.name.value.eq_ignore_ascii_case("analyze") && option_on(&o.arg));
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
    let max_expr = Expr::Value(Value::Number(max.to_string(), false).into());
    let over = |e: Option<&Expr>| e.and_then(literal_limit).is_none_or(|n| n > max);
    if let Some(f) = q.fetch.as_mut() {
        if over(f.quantity.as_ref()) || f.percent {
            f.quantity = Some(max_expr);
            f.percent = false;
        }
        return true;
    }
    match q.limit_clause.as_mut() {
        None => {
            q.limit_clause = Some(LimitClause::LimitOffset {
                limit: Some(max_expr),
                offset: None,
                limit_by: vec![],
            });
            false
        }
        Some(LimitClause::LimitOffset { limit, .. }) => {
            if over(limit.as_ref()) {
                *limit = Some(max_expr);
            }
            true
        }
        Some(LimitClause::OffsetCommaLimit { limit, .. }) => {
            if over(Some(&*limit)) {
                *limit = max_expr;
            }
            true
        }
    }
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

fn set_value(values: &[Expr]) -> Option<String> {
    let one = |v: &Expr| match v {
        Expr::Identifier(i) => Some(if i.quote_style.is_some() {
            super::rewrite::quote(&i.value)
        } else {
            i.value.clone()
        }),
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) => Some(if values.len() > 1 {
                super::rewrite::quote(s)
            } else {
                s.clone()
            }),
            Value::Number(n, _) => Some(n.clone()),
            Value::Boolean(b) => Some(b.to_string()),
            _ => None,
        },
        Expr::UnaryOp { op, expr } if op.to_string() == "-" => match &**expr {
            Expr::Value(v) => match &v.value {
                Value::Number(n, _) => Some(format!("-{n}")),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    };
    let parts: Option<Vec<String>> = values.iter().map(one).collect();
    Some(parts?.join(", "))
}

/// A setting's name as written, parts joined by dots; PostgreSQL folds it whatever its quotes
/// ([`settings::canonical`]).
fn setting_name(name: &ObjectName) -> String {
    name.0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => i.value.clone(),
            ObjectNamePart::Function(_) => String::new(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn is_default(values: &[Expr]) -> bool {
    matches!(values, [Expr::Identifier(i)] if i.quote_style.is_none() && i.value.eq_ignore_ascii_case("default"))
}

/// `SET name = value` in every form the parser knows, by the rules of [`settings`].
fn check_set(
    env: &Env,
    set: &Set,
    new_search_path: &mut Option<Vec<String>>,
    roles: &str,
) -> Result<(), PgError> {
    let refuse = |what: &str| {
        Err(denied(format!("{what} is not allowed for role(s) {roles}"))
            .with_hint("the policy fixes the role, the session user and read-only mode"))
    };
    let change = |name: &str, value: settings::Value| {
        settings::check(&env.snap.settings, name, value, roles)
    };
    let outcome = match set {
        Set::SetRole { .. } => return refuse("SET ROLE"),
        Set::SetSessionAuthorization(_) => return refuse("SET SESSION AUTHORIZATION"),
        Set::SingleAssignment {
            variable, values, ..
        } => {
            let name = setting_name(variable);
            if is_default(values) {
                change(&name, settings::Value::Default)?
            } else if settings::canonical(&name) == "search_path" {
                let mut path = Vec::new();
                for v in values {
                    match v {
                        Expr::Identifier(i) => path.push(norm(i)),
                        Expr::Value(v) => match &v.value {
                            // A string is one schema name, as PostgreSQL reads it.
                            Value::SingleQuotedString(s) => path.push(s.clone()),
                            _ => return refuse("this SET search_path value"),
                        },
                        _ => return refuse("this SET search_path value"),
                    }
                }
                settings::check_search_path(path, roles)?
            } else {
                let Some(text) = set_value(values) else {
                    return refuse(&format!("this value for SET {name}"));
                };
                change(&name, settings::Value::Text(&text))?
            }
        }
        Set::SetTimeZone { .. } => change("timezone", settings::Value::Text("x"))?,
        Set::SetNames { charset_name, .. } => change(
            "client_encoding",
            settings::Value::Text(&charset_name.value),
        )?,
        Set::SetNamesDefault { .. } => change("client_encoding", settings::Value::Default)?,
        Set::SetTransaction {
            modes, snapshot, ..
        } => {
            let read_write = modes.iter().any(|m| {
                matches!(
                    m,
                    TransactionMode::AccessMode(TransactionAccessMode::ReadWrite)
                )
            });
            if read_write && env.eff.read_only {
                return refuse("a READ WRITE transaction");
            }
            if snapshot.is_some() {
                return refuse("SET TRANSACTION SNAPSHOT");
            }
            settings::Change::Allowed
        }
        _ => return refuse("this SET form"),
    };
    if let settings::Change::SearchPath(p) = outcome {
        *new_search_path = Some(p);
    }
    Ok(())
}

/// `RESET name` follows the rules of `SET name TO DEFAULT`; `RESET ALL` would undo what
/// Querent set for the session.
fn check_reset(
    env: &Env,
    reset: &sqlparser::ast::ResetStatement,
    roles: &str,
) -> Result<(), PgError> {
    use sqlparser::ast::Reset;
    match &reset.reset {
        Reset::ALL => Err(
            denied(format!("RESET ALL is not allowed for role(s) {roles}")).with_hint(
                "it would undo the settings the policy fixes; reset settings one by one",
            ),
        ),
        Reset::SessionAuthorization => Err(denied(format!(
            "RESET SESSION AUTHORIZATION is not allowed for role(s) {roles}"
        ))),
        Reset::ConfigurationParameter(name) => settings::check(
            &env.snap.settings,
            &setting_name(name),
            settings::Value::Default,
            roles,
        )
        .map(|_| ()),
    }
}
