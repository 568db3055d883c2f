//! Checking an annotation's SQL expression: exactly one expression, reading columns only as
//! `table.column`, with no subqueries or relations.

use sqlparser::ast::{Expr, ObjectName, Query, Visit, Visitor};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;
use std::ops::ControlFlow;

/// Parses `sql` as exactly one SQL expression (nothing may follow it) that reads no table
/// other than through `table.column` names: no subqueries, no relations. Returns the
/// expression printed back and the column names it uses.
pub(super) fn checked_expr(sql: &str) -> Result<(String, Vec<String>), String> {
    let mut parser = Parser::new(&PostgreSqlDialect {})
        .try_with_sql(sql)
        .map_err(|e| format!("not a SQL expression: {e}"))?;
    let expr = parser
        .parse_expr()
        .map_err(|e| format!("not a SQL expression: {e}"))?;
    let next = parser.peek_token();
    if next.token != Token::EOF {
        return Err(format!(
            "not a single SQL expression: unexpected {} after it",
            next.token
        ));
    }
    let mut names = NameCollector::default();
    let _ = Visit::visit(&expr, &mut names);
    if let Some(problem) = names.problem {
        return Err(problem);
    }
    Ok((expr.to_string(), names.names))
}

const QUALIFY: &str = "table.column, so that Querent knows which table it needs";

#[derive(Default)]
struct NameCollector {
    names: Vec<String>,
    problem: Option<String>,
}

const NO_SUBQUERY: &str = "subqueries are not allowed here; use columns of joined tables";

impl NameCollector {
    fn refuse(&mut self, problem: String) -> ControlFlow<()> {
        self.problem = Some(problem);
        ControlFlow::Break(())
    }
}

impl Visitor for NameCollector {
    type Break = ();

    // Any query anywhere in the expression (a subquery, `ARRAY(SELECT ..)`, `EXISTS`, `IN
    // (SELECT ..)`, a function argument) would read tables Querent does not know it needs.
    fn pre_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.refuse(NO_SUBQUERY.into())
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<()> {
        self.refuse(format!(
            "{NO_SUBQUERY} (the expression names table {relation})"
        ))
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        match expr {
            Expr::CompoundIdentifier(parts) if (2..=3).contains(&parts.len()) => self.names.push(
                parts
                    .iter()
                    .map(|p| p.value.as_str())
                    .collect::<Vec<_>>()
                    .join("."),
            ),
            Expr::CompoundIdentifier(parts) => {
                let name: Vec<&str> = parts.iter().map(|p| p.value.as_str()).collect();
                return self.refuse(format!(
                    "write column \"{}\" as {QUALIFY} (or schema.table.column)",
                    name.join(".")
                ));
            }
            Expr::Identifier(id) => {
                return self.refuse(format!("write column \"{}\" as {QUALIFY}", id.value))
            }
            Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => {
                return self.refuse(NO_SUBQUERY.into())
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}
