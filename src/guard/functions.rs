//! Function rules: only built-in functions, none of the dangerous ones (files, other
//! sessions, the server, per-table counters), `set_config` by the rules of `SET`, `pg_sleep`
//! within the timeout, and the size functions hidden for row-filtered tables.

use super::denied;
use super::rewrite::{norm, Env};
use super::settings;
use crate::error::PgError;
use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, ObjectName, ObjectNamePart, Value,
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
    // The functions behind pg_prepared_statements and pg_cursors: the views are filtered.
    "pg_prepared_statement",
    "pg_cursor",
    // Checked for superuser inside, not by privileges: open to a superuser upstream login.
    "pg_read_file_old",
    "pg_rotate_logfile_old",
    "pg_nextoid",
    "pg_stop_making_pinned_objects",
    // Tuple ids by relation name: page counts of row-filtered tables.
    "currtid",
    "currtid2",
];
const DENIED_PREFIXES: &[&str] = &[
    // Per-table and per-session counters: true row counts of row-filtered tables, other
    // sessions' activity.
    "pg_stat_get_",
    "lo_",
    "binary_upgrade_",
    "pg_logical_",
    "pg_advisory_",
    "pg_try_advisory_",
    "dblink",
    "pg_replication_",
    "pg_create_",
    "pg_copy_",
    "pg_file_",
    "pg_wal_replay_",
];

/// Whether the built-in function `f` (lower case, no schema) is one no guarded role may call:
/// it reads files, other tables by name, other sessions, or changes the server or sequences.
pub fn is_denied(f: &str) -> bool {
    DENIED_FUNCTIONS.contains(&f) || DENIED_PREFIXES.iter().any(|p| f.starts_with(p))
}

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
    if is_denied(f) {
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
    let args: &[FunctionArg] = match &f.args {
        FunctionArguments::List(l) => &l.args,
        _ => &[],
    };
    check_call(env, &f.name, args)
}

/// The folded name of a function (its last part), as PostgreSQL looks it up.
fn function_name(name: &ObjectName) -> String {
    match name.0.last() {
        Some(ObjectNamePart::Identifier(i)) => norm(i),
        _ => String::new(),
    }
}

/// Checks a call of function `name` with `args`, wherever it stands (an expression, or a
/// table function in FROM): only allowed built-ins, `set_config` by the rules of `SET`,
/// `pg_sleep` within the timeout.
pub fn check_call(env: &Env, name: &ObjectName, args: &[FunctionArg]) -> Result<(), PgError> {
    check_function_name(env, name)?;
    let fname = function_name(name);
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

/// Checks a table function in FROM (`SELECT * FROM f(...)`): the same rules as a call in an
/// expression; and a size function there is refused for roles with row filters (in an
/// expression the guard hides the size of row-filtered tables, see [`hide_size`]).
pub fn check_table_function(
    env: &Env,
    name: &ObjectName,
    args: &[FunctionArg],
) -> Result<(), PgError> {
    check_call(env, name, args)?;
    let fname = function_name(name);
    if env.eff.has_row_filters() && SIZE_FUNCTIONS.contains(&fname.as_str()) {
        return Err(denied(format!(
            "{fname} in FROM is not allowed for role(s) {}",
            env.eff.roles.join(", ")
        ))
        .with_hint(format!("call it in the select list: SELECT {fname}(...)")));
    }
    Ok(())
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
