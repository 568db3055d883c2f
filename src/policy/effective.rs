//! The union of a principal's roles: which tables it may read, with which row filter, masks and
//! denied columns. Attribute values are bound into row filters as SQL literals in the AST, so
//! an attribute can never inject SQL.

use super::{Policies, Role};
use crate::auth::Principal;
use sqlparser::ast::{Expr, Ident, Value, VisitMut, VisitorMut};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;
use std::time::Duration;

/// How a column is masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskKind {
    /// A stable hash (hex SHA-256 of the text value).
    Hash,
    /// Keep the last 4 characters, the rest `*`.
    Partial,
    /// `'***'`.
    Redact,
    /// NULL.
    Null,
}

impl MaskKind {
    /// Parses a mask name from a policy file.
    pub fn parse(s: &str) -> Option<MaskKind> {
        match s {
            "hash" => Some(MaskKind::Hash),
            "partial" => Some(MaskKind::Partial),
            "redact" => Some(MaskKind::Redact),
            "null" => Some(MaskKind::Null),
            _ => None,
        }
    }

    /// The SQL expression that replaces column `col` (an already quoted identifier). `key`
    /// keys the hash, so nobody can confirm a guessed value by hashing it.
    pub fn sql(self, col: &str, key: &str) -> String {
        match self {
            MaskKind::Hash => format!(
                "pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to('{}' || {col}::text, 'UTF8')), 'hex')",
                key.replace('\'', "''")
            ),
            MaskKind::Partial => format!(
                "CASE WHEN {col} IS NULL THEN NULL ELSE pg_catalog.repeat('*', GREATEST(pg_catalog.length({col}::text) - 4, 0)) || pg_catalog.right({col}::text, 4) END"
            ),
            MaskKind::Redact => format!("CASE WHEN {col} IS NULL THEN NULL ELSE '***' END"),
            MaskKind::Null => "NULL::text".to_string(),
        }
    }
}

/// What a principal may see of one table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableRule {
    /// Row filter (attributes bound); `None` = all rows.
    pub filter: Option<Expr>,
    /// Masked columns.
    pub masks: BTreeMap<String, MaskKind>,
    /// Columns left out entirely.
    pub denied: BTreeSet<String>,
}

impl TableRule {
    /// Whether the table can be read as it is.
    pub fn is_plain(&self) -> bool {
        self.filter.is_none() && self.masks.is_empty() && self.denied.is_empty()
    }
}

struct BindAttrs<'a> {
    values: &'a [Option<String>],
    missing: Option<String>,
}

impl VisitorMut for BindAttrs<'_> {
    type Break = ();
    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Expr::Identifier(Ident {
            value,
            quote_style: None,
            ..
        }) = expr
        {
            if let Some(n) = value
                .strip_prefix("__querent_attr_")
                .and_then(|n| n.parse::<usize>().ok())
            {
                match self.values.get(n) {
                    Some(Some(v)) => {
                        *expr = Expr::Value(Value::SingleQuotedString(v.clone()).into())
                    }
                    _ => self.missing = Some(n.to_string()),
                }
            }
        }
        ControlFlow::Continue(())
    }
}

/// Parses a row-filter template, binding `${user.NAME}` to the attribute as a string literal.
/// With `check_only`, missing attributes are fine (policy check time).
pub fn parse_filter(
    template: &str,
    attrs: &BTreeMap<String, String>,
    check_only: bool,
) -> Result<Expr, String> {
    let mut sql = String::with_capacity(template.len());
    let mut values = Vec::new();
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(at) = rest.find("${") {
        sql.push_str(&rest[..at]);
        let end = rest[at..].find('}').ok_or("unclosed ${ in row filter")? + at;
        let name = rest[at + 2..end].trim();
        let attr = name
            .strip_prefix("user.")
            .filter(|a| !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .ok_or_else(|| format!("placeholder ${{{name}}}: expected ${{user.ATTRIBUTE}}"))?;
        sql.push_str(&format!(" __querent_attr_{} ", values.len()));
        values.push(
            attrs
                .get(attr)
                .cloned()
                .or_else(|| check_only.then(|| "0".to_string())),
        );
        names.push(attr.to_string());
        rest = &rest[end + 1..];
    }
    sql.push_str(rest);
    let mut expr = Parser::new(&PostgreSqlDialect {})
        .try_with_sql(&sql)
        .and_then(|mut p| {
            let e = p.parse_expr()?;
            p.expect_token(&sqlparser::tokenizer::Token::EOF)?;
            Ok(e)
        })
        .map_err(|e| format!("row filter is not a valid SQL expression: {e}"))?;
    let mut bind = BindAttrs {
        values: &values,
        missing: None,
    };
    let _ = VisitMut::visit(&mut expr, &mut bind);
    if let Some(n) = bind.missing {
        let attr = n
            .parse::<usize>()
            .ok()
            .and_then(|i| names.get(i))
            .cloned()
            .unwrap_or(n);
        return Err(format!(
            "the row filter needs the user attribute \"{attr}\", which this user does not have"
        ));
    }
    Ok(expr)
}

/// A principal's combined policy.
#[derive(Debug, Clone, Default)]
pub struct Effective {
    /// Role names that have a policy.
    pub roles: Vec<String>,
    /// Bypasses the guard.
    pub trusted: bool,
    /// Writes and session changes refused.
    pub read_only: bool,
    /// Most rows per statement (`None` = no limit).
    pub max_rows: Option<u64>,
    /// Statement time limit.
    pub statement_timeout: Option<Duration>,
    policy_roles: Vec<Role>,
    attributes: BTreeMap<String, String>,
}

fn glob(pattern: &str, value: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == value,
        Some((pre, post)) => {
            value.len() >= pre.len() + post.len()
                && value.starts_with(pre)
                && glob_rest(post, &value[pre.len()..])
        }
    }
}

fn glob_rest(post: &str, value: &str) -> bool {
    if !post.contains('*') {
        return value.ends_with(post);
    }
    (0..=value.len())
        .filter(|&i| value.is_char_boundary(i))
        .any(|i| glob(post, &value[i..]))
}

impl Effective {
    /// Combines the principal's roles that the policies define.
    pub fn new(policies: &Policies, principal: &Principal) -> Effective {
        let policy_roles: Vec<Role> = principal
            .roles
            .iter()
            .filter_map(|r| policies.roles.get(r).cloned())
            .collect();
        let any_none = |f: &dyn Fn(&Role) -> bool| policy_roles.iter().any(f);
        Effective {
            roles: policy_roles.iter().map(|r| r.name.clone()).collect(),
            trusted: policy_roles.iter().any(|r| r.trusted),
            read_only: policy_roles.is_empty() || policy_roles.iter().all(|r| r.read_only),
            max_rows: if any_none(&|r| r.max_rows.is_none()) {
                None
            } else {
                policy_roles.iter().filter_map(|r| r.max_rows).max()
            },
            statement_timeout: if any_none(&|r| r.statement_timeout.is_none()) {
                None
            } else {
                policy_roles
                    .iter()
                    .filter_map(|r| r.statement_timeout)
                    .max()
            },
            policy_roles,
            attributes: principal.attributes.clone(),
        }
    }

    /// Whether some role has a row filter.
    pub fn has_row_filters(&self) -> bool {
        self.policy_roles.iter().any(|r| !r.row_filters.is_empty())
    }

    /// Whether some role names `schema.table` without a wildcard (views must be listed so).
    pub fn lists_exactly(&self, schema: &str, table: &str) -> bool {
        let full = format!("{schema}.{table}");
        self.policy_roles.iter().any(|r| r.tables.contains(&full))
    }

    /// The rule for `schema.table`; `Ok(None)` when no role allows it; `Err` when a filter
    /// cannot be bound (missing attribute): the table is then unreadable.
    pub fn table_rule(&self, schema: &str, table: &str) -> Result<Option<TableRule>, String> {
        let full = format!("{schema}.{table}");
        let allowing: Vec<&Role> = self
            .policy_roles
            .iter()
            .filter(|r| r.tables.iter().any(|p| glob(p, &full)))
            .collect();
        if allowing.is_empty() {
            return Ok(None);
        }
        let mut rule = TableRule::default();
        // Rows: unfiltered if any allowing role has no filter, else the OR of the filters.
        if allowing.iter().all(|r| r.row_filters.contains_key(&full)) {
            let mut parts = Vec::new();
            for r in &allowing {
                parts.push(
                    parse_filter(&r.row_filters[&full], &self.attributes, false)
                        .map_err(|e| format!("{full}: {e}"))?,
                );
            }
            rule.filter = parts.into_iter().reduce(|a, b| Expr::BinaryOp {
                left: Box::new(Expr::Nested(Box::new(a))),
                op: sqlparser::ast::BinaryOperator::Or,
                right: Box::new(Expr::Nested(Box::new(b))),
            });
        }
        // Columns: raw if any allowing role shows it raw; masked if some role masks it; else denied.
        let prefix = format!("{full}.");
        let mut mentioned = BTreeSet::new();
        for r in &allowing {
            mentioned.extend(
                r.deny_columns
                    .iter()
                    .filter_map(|c| c.strip_prefix(&prefix))
                    .map(str::to_string),
            );
            mentioned.extend(
                r.masks
                    .keys()
                    .filter_map(|c| c.strip_prefix(&prefix))
                    .map(str::to_string),
            );
        }
        for col in mentioned {
            let key = format!("{prefix}{col}");
            let shown_raw = allowing
                .iter()
                .any(|r| !r.deny_columns.contains(&key) && !r.masks.contains_key(&key));
            if shown_raw {
                continue;
            }
            match allowing.iter().find_map(|r| r.masks.get(&key)) {
                Some(m) => {
                    rule.masks.insert(col, *m);
                }
                None => {
                    rule.denied.insert(col);
                }
            }
        }
        Ok(Some(rule))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_literals_never_sql() {
        let mut attrs = BTreeMap::new();
        attrs.insert("region_id".to_string(), "3 OR 1=1".to_string());
        let e = parse_filter("region_id = ${user.region_id}", &attrs, false).unwrap();
        assert_eq!(e.to_string(), "region_id = '3 OR 1=1'");
        attrs.insert("region_id".to_string(), "x'; DROP TABLE t; --".to_string());
        let e = parse_filter("region_id = ${user.region_id}", &attrs, false).unwrap();
        assert_eq!(e.to_string(), "region_id = 'x''; DROP TABLE t; --'");
        assert!(parse_filter("region_id = ${user.nope}", &attrs, false)
            .unwrap_err()
            .contains("nope"));
        assert!(parse_filter("region_id = ${region}", &attrs, true).is_err());
    }

    #[test]
    fn globs() {
        assert!(glob("retail.*", "retail.orders"));
        assert!(!glob("retail.*", "retail2.orders"));
        assert!(glob("*.orders", "x.orders"));
        assert!(glob("retail.ord*s", "retail.orders"));
        assert!(!glob("retail.orders", "retail.order"));
    }

    fn role(name: &str, tables: &[&str]) -> Role {
        Role {
            name: name.into(),
            read_only: true,
            trusted: false,
            tables: tables.iter().map(|s| s.to_string()).collect(),
            deny_columns: vec![],
            max_rows: None,
            statement_timeout: None,
            masks: BTreeMap::new(),
            row_filters: BTreeMap::new(),
        }
    }

    #[test]
    fn union_of_roles() {
        let mut a = role("a", &["s.*"]);
        a.row_filters.insert("s.t".into(), "r = ${user.r}".into());
        a.masks.insert("s.t.email".into(), MaskKind::Hash);
        a.deny_columns.push("s.t.salary".into());
        let mut b = role("b", &["s.t"]);
        b.row_filters
            .insert("s.t".into(), "owner = ${user.user_id}".into());
        b.deny_columns.push("s.t.salary".into());
        let mut pol = Policies::default();
        pol.roles.insert("a".into(), a);
        pol.roles.insert("b".into(), b);
        let p = Principal {
            user: "u".into(),
            roles: vec!["a".into(), "b".into(), "unknown".into()],
            attributes: [
                ("r".to_string(), "3".to_string()),
                ("user_id".to_string(), "9".to_string()),
            ]
            .into(),
        };
        let e = Effective::new(&pol, &p);
        let rule = e.table_rule("s", "t").unwrap().unwrap();
        assert_eq!(
            rule.filter.unwrap().to_string(),
            "(r = '3') OR (owner = '9')"
        );
        assert!(
            rule.masks.is_empty(),
            "b shows email raw, so the union does too"
        );
        assert!(rule.denied.contains("salary"));
        assert!(e
            .table_rule("s", "other")
            .unwrap()
            .unwrap()
            .filter
            .is_none());
        assert!(e.table_rule("x", "t").unwrap().is_none());
    }
}
