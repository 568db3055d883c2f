//! `SET` and `RESET` in every form the parser knows, checked by the rules of
//! [`super::settings`]; `SET search_path` is followed.

use super::denied;
use super::rewrite::{norm, Env};
use super::settings;
use crate::error::PgError;
use sqlparser::ast::{
    Expr, ObjectName, ObjectNamePart, Set, TransactionAccessMode, TransactionMode, Value,
};

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
pub fn check_set(
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
pub fn check_reset(
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
