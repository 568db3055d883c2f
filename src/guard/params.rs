//! Templated statements as prepared statements (the guard's plan cache).
//!
//! A guarded statement costs PostgreSQL more to plan than the client's own (derived tables,
//! fences), and a simple-protocol client sends every value inline, so each statement is new
//! text planned from scratch. When a statement's template (see `template`) has every literal
//! in a place where a typed parameter means exactly what the literal means, the session can
//! run it as a prepared statement instead: `PREPARE`d once upstream, then bound with the
//! literals as parameters, so PostgreSQL plans the shape once.
//!
//! A literal may become a parameter only as an operand of a comparison (`= <> < <= > >=`,
//! `IN (...)`, `BETWEEN`) whose other operand is a column: there a parameter typed as the
//! literal would be (`int4`, `int8` or `numeric` for a number, by its value; unspecified for a
//! string, which PostgreSQL then types from the column, as it types a string literal) picks
//! the same operator and gives the same result. Anywhere else (a select list, `LIMIT`,
//! `ORDER BY 1`, a function argument) a parameter could change a type or a meaning, so a
//! statement with a literal there keeps its inline form.

use super::template::{Template, MARK};
use sqlparser::ast::{BinaryOperator, Expr, Statement, UnaryOperator, Value, Visit, Visitor};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use std::ops::ControlFlow;

/// PostgreSQL type OIDs of number literals.
const INT4: u32 = 23;
const INT8: u32 = 20;
const NUMERIC: u32 = 1700;

/// One literal of a statement, as the client wrote it (numbers normalized).
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A number literal.
    Number(String),
    /// A string literal's value.
    Text(String),
}

/// A template whose slots can be bound as parameters.
#[derive(Debug, Clone)]
pub struct ParamTemplate {
    /// The SQL with `$1`, `$2`, ... in place of the slots.
    sql: String,
    /// Slots under a sign (`-$1`): only numbers may fill them.
    signed: Vec<bool>,
}

/// A statement ready to run prepared: its parameterized SQL, the parameter types (0 =
/// unspecified) and the values in text format.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanForm {
    /// SQL with `$n` parameters.
    pub sql: String,
    /// Parameter type OIDs.
    pub types: Vec<u32>,
    /// Parameter values (text format).
    pub values: Vec<String>,
}

/// The type PostgreSQL gives a number literal.
pub fn number_type(n: &str) -> u32 {
    if n.contains(['.', 'e', 'E']) {
        NUMERIC
    } else if n.parse::<i32>().is_ok() {
        INT4
    } else if n.parse::<i64>().is_ok() {
        INT8
    } else {
        NUMERIC
    }
}

fn mark_index(e: &Expr) -> Option<(usize, bool)> {
    match e {
        Expr::Nested(inner) => mark_index(inner),
        Expr::Value(v) => match &v.value {
            Value::Placeholder(p) => p.strip_prefix(MARK)?.parse().ok().map(|i| (i, false)),
            _ => None,
        },
        Expr::UnaryOp {
            op: UnaryOperator::Minus | UnaryOperator::Plus,
            expr,
        } => match &**expr {
            Expr::Value(_) => mark_index(expr).map(|(i, _)| (i, true)),
            _ => None,
        },
        _ => None,
    }
}

fn is_column(e: &Expr) -> bool {
    match e {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => true,
        Expr::Nested(inner) => is_column(inner),
        _ => false,
    }
}

#[derive(Default)]
struct Slots {
    /// Per slot: (occurrences, occurrences in a comparison with a column, under a sign).
    seen: Vec<(usize, usize, bool)>,
    other_placeholder: bool,
}

impl Slots {
    fn at(&mut self, i: usize) -> &mut (usize, usize, bool) {
        if self.seen.len() <= i {
            self.seen.resize(i + 1, (0, 0, false));
        }
        &mut self.seen[i]
    }

    fn comparable(&mut self, e: &Expr) {
        if let Some((i, signed)) = mark_index(e) {
            let s = self.at(i);
            s.1 += 1;
            s.2 |= signed;
        }
    }
}

impl Visitor for Slots {
    type Break = ();

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        use BinaryOperator::*;
        match e {
            Expr::BinaryOp {
                left,
                op: Eq | NotEq | Lt | LtEq | Gt | GtEq,
                right,
            } => {
                if is_column(left) {
                    self.comparable(right);
                }
                if is_column(right) {
                    self.comparable(left);
                }
            }
            Expr::InList { expr, list, .. } if is_column(expr) => {
                for item in list {
                    self.comparable(item);
                }
            }
            Expr::Between {
                expr, low, high, ..
            } if is_column(expr) => {
                self.comparable(low);
                self.comparable(high);
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_value(&mut self, v: &sqlparser::ast::ValueWithSpan) -> ControlFlow<()> {
        if let Value::Placeholder(p) = &v.value {
            match p.strip_prefix(MARK).and_then(|d| d.parse::<usize>().ok()) {
                Some(i) => self.at(i).0 += 1,
                None => self.other_placeholder = true,
            }
        }
        ControlFlow::Continue(())
    }
}

/// The parameterized form of a template made from `marked_output` (the guard's SQL with slot
/// marks), when it is one query and every slot stands in a comparison with a column.
pub fn param_template(marked_output: &str, slots: usize) -> Option<ParamTemplate> {
    let stmts = Parser::new(&PostgreSqlDialect {})
        .with_recursion_limit(super::depth::PARSER_RECURSION_LIMIT)
        .try_with_sql(marked_output)
        .and_then(|mut p| p.parse_statements())
        .ok()?;
    let [Statement::Query(_)] = stmts.as_slice() else {
        return None;
    };
    let mut found = Slots::default();
    let _ = Visit::visit(&stmts, &mut found);
    if found.other_placeholder || found.seen.len() != slots || slots == 0 {
        return None;
    }
    if found.seen.iter().any(|(n, ok, _)| *n == 0 || ok != n) {
        return None;
    }
    let names: Vec<String> = (1..=slots).map(|k| format!("${k}")).collect();
    let sql = Template::from_marked(marked_output, slots)?.render(&names)?;
    Some(ParamTemplate {
        sql,
        signed: found.seen.iter().map(|(_, _, s)| *s).collect(),
    })
}

impl ParamTemplate {
    /// The statement for these literals, or `None` when a string stands under a sign.
    pub fn form(&self, literals: &[Literal]) -> Option<PlanForm> {
        if literals.len() != self.signed.len() {
            return None;
        }
        let mut types = Vec::with_capacity(literals.len());
        let mut values = Vec::with_capacity(literals.len());
        for (lit, signed) in literals.iter().zip(&self.signed) {
            match lit {
                Literal::Number(n) => {
                    types.push(number_type(n));
                    values.push(n.clone());
                }
                Literal::Text(_) if *signed => return None,
                Literal::Text(s) => {
                    types.push(0);
                    values.push(s.clone());
                }
            }
        }
        Some(PlanForm {
            sql: self.sql.clone(),
            types,
            values,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(sql: &str) -> String {
        sql.replace("#0", &format!("{MARK}0"))
            .replace("#1", &format!("{MARK}1"))
    }

    #[test]
    fn only_comparisons_with_columns_become_parameters() {
        let ok = [
            "SELECT a FROM t WHERE id = #0",
            "SELECT a FROM (SELECT a, id FROM t WHERE (f) AND \"id\" = #0 OFFSET 0) AS t WHERE id = #0",
            "SELECT a FROM t WHERE id IN (#0, #1)",
            "SELECT a FROM t WHERE id BETWEEN #0 AND #1",
            "SELECT a FROM t WHERE #0 < t.id AND name = #1",
            "SELECT a FROM t WHERE id = -#0",
        ];
        for sql in ok {
            let slots = if sql.contains("#1") { 2 } else { 1 };
            assert!(param_template(&marked(sql), slots).is_some(), "{sql}");
        }
        let inline = [
            "SELECT #0 FROM t",
            "SELECT a FROM t WHERE id = #0 + 1",
            "SELECT a FROM t WHERE id = #0 LIMIT #1",
            "SELECT a FROM t ORDER BY #0",
            "SELECT a FROM t WHERE lower(name) = #0",
            "SELECT a FROM t WHERE name LIKE #0",
            "SELECT a FROM t WHERE id = $1 AND b = #0",
            "SET work_mem = #0",
            "SELECT a FROM t WHERE #0 = #1",
        ];
        for sql in inline {
            let slots = if sql.contains("#1") { 2 } else { 1 };
            assert!(param_template(&marked(sql), slots).is_none(), "{sql}");
        }
    }

    #[test]
    fn literals_keep_their_types() {
        let t = param_template(&marked("SELECT a FROM t WHERE id = #0 AND name = #1"), 2).unwrap();
        assert_eq!(t.sql, "SELECT a FROM t WHERE id = $1 AND name = $2");
        let f = t
            .form(&[
                Literal::Number("5".into()),
                Literal::Text("O'Brien\\".into()),
            ])
            .unwrap();
        assert_eq!(f.types, vec![INT4, 0]);
        assert_eq!(f.values, vec!["5".to_string(), "O'Brien\\".to_string()]);
        assert_eq!(number_type("3000000000"), INT8);
        assert_eq!(number_type("99999999999999999999"), NUMERIC);
        assert_eq!(number_type("1.5"), NUMERIC);
        assert_eq!(number_type("1e3"), NUMERIC);
        let signed = param_template(&marked("SELECT a FROM t WHERE id = -#0"), 1).unwrap();
        assert!(signed.form(&[Literal::Text("5".into())]).is_none());
        assert!(signed.form(&[Literal::Number("5".into())]).is_some());
    }
}
