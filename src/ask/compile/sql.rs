//! SQL text for the compiler: quoted identifiers, escaped literals, table aliases, annotation
//! expressions re-qualified to those aliases, and the filter, time, join and dimension pieces.

use super::{err, CompileError};
use crate::ask::plan::*;
use crate::catalog::graph::JoinTree;
use crate::catalog::store::Semantic;
use crate::catalog::{Catalog, ColRef, TableId};
use sqlparser::ast::{Expr, Ident, VisitMut, VisitorMut};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use std::ops::ControlFlow;

/// `"name"` with inner quotes doubled.
pub fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// `'text'` with inner quotes doubled (standard_conforming_strings on: no backslash escapes).
pub fn literal(s: &str) -> String {
    // A backslash would mean something else in a session with standard_conforming_strings
    // off: such text is written as an E'' literal, which reads the same either way.
    let clean: String = s.chars().filter(|c| *c != '\0').collect();
    if clean.contains('\\') {
        format!("E'{}'", clean.replace('\\', "\\\\").replace('\'', "''"))
    } else {
        format!("'{}'", clean.replace('\'', "''"))
    }
}

pub(super) fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

pub(super) fn value_sql(v: &Value) -> String {
    match v {
        Value::Text(s) => literal(s),
        Value::Number(n) => number(*n),
        Value::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
    }
}

/// Table aliases of one query: the bare table name where unique.
pub(super) struct Aliases<'a> {
    pub(super) catalog: &'a Catalog,
}

impl Aliases<'_> {
    pub(super) fn of(&self, t: TableId) -> String {
        let table = self.catalog.table(t);
        let clash = self
            .catalog
            .tables
            .iter()
            .filter(|o| o.name == table.name)
            .count()
            > 1;
        if clash {
            format!("{}_{}", table.schema, table.name)
        } else {
            table.name.clone()
        }
    }
    pub(super) fn col(&self, c: ColRef) -> String {
        format!(
            "{}.{}",
            ident(&self.of(c.table)),
            ident(&self.catalog.column(c).name)
        )
    }
}

/// Re-qualifies `table.column` / `schema.table.column` of an annotation expression.
pub(super) struct Requalify<'a> {
    aliases: &'a Aliases<'a>,
    problem: Option<String>,
}

impl VisitorMut for Requalify<'_> {
    type Break = ();
    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Expr::CompoundIdentifier(parts) = expr {
            let name: Vec<&str> = parts.iter().map(|p| p.value.as_str()).collect();
            match self.aliases.catalog.find_column(&name.join(".")) {
                Some(c) => {
                    *parts = vec![
                        Ident::with_quote('"', self.aliases.of(c.table)),
                        Ident::with_quote('"', self.aliases.catalog.column(c).name.clone()),
                    ];
                }
                None => self.problem = Some(name.join(".")),
            }
        }
        ControlFlow::Continue(())
    }
}

pub(super) fn annotation_sql(aliases: &Aliases, sql: &str) -> Result<String, CompileError> {
    let mut expr = Parser::new(&PostgreSqlDialect {})
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_expr())
        .map_err(|e| {
            err(
                format!("annotation expression {sql:?} does not parse: {e}"),
                "fix the annotation file",
            )
        })?;
    let mut v = Requalify {
        aliases,
        problem: None,
    };
    let _ = VisitMut::visit(&mut expr, &mut v);
    match v.problem {
        Some(p) => Err(err(
            format!("annotation expression {sql:?} names {p}, which this role cannot read"),
            "ask about measures your role can see",
        )),
        None => Ok(expr.to_string()),
    }
}

pub(super) fn op_sql(op: Op) -> &'static str {
    match op {
        Op::Eq => "=",
        Op::Ne => "<>",
        Op::Gt => ">",
        Op::Ge => ">=",
        Op::Lt => "<",
        Op::Le => "<=",
        Op::Contains | Op::StartsWith | Op::EndsWith => "ILIKE",
        Op::IsNull => "IS NULL",
        Op::NotNull => "IS NOT NULL",
    }
}

/// The ILIKE pattern of a text match: the value's own `%`, `_` and `\` escaped.
fn pattern(op: Op, v: &Value) -> String {
    let text = match v {
        Value::Text(t) => t.clone(),
        Value::Number(n) => number(*n),
        Value::Bool(b) => b.to_string(),
    };
    let escaped: String = text
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    let p = match op {
        Op::StartsWith => format!("{escaped}%"),
        Op::EndsWith => format!("%{escaped}"),
        _ => format!("%{escaped}%"),
    };
    literal(&p)
}

pub(super) fn filter_sql(a: &Aliases, f: &Filter) -> String {
    let col = a.col(f.column);
    match (f.op, f.values.as_slice()) {
        (Op::IsNull, _) => format!("{col} IS NULL"),
        (Op::NotNull, _) => format!("{col} IS NOT NULL"),
        (op @ (Op::Contains | Op::StartsWith | Op::EndsWith), vals) => {
            let any: Vec<String> = vals
                .iter()
                .map(|v| format!("{col} ILIKE {}", pattern(op, v)))
                .collect();
            format!("({})", any.join(" OR "))
        }
        (op, [one]) => format!("{col} {} {}", op_sql(op), value_sql(one)),
        (Op::Ne, many) => format!(
            "{col} NOT IN ({})",
            many.iter().map(value_sql).collect::<Vec<_>>().join(", ")
        ),
        (_, many) => format!(
            "{col} IN ({})",
            many.iter().map(value_sql).collect::<Vec<_>>().join(", ")
        ),
    }
}

pub(super) fn time_sql(a: &Aliases, col: ColRef, r: &TimeRange) -> String {
    let c = a.col(col);
    if let Some(k) = r.clock {
        // Evaluated by the database at run time: CURRENT_DATE is its clock, not the plan's.
        let unit = literal(k.unit.unit());
        // i64: no offset overflows, whatever the plan says (the database bounds the dates).
        let at = |n: i64| match k.unit {
            Grain::Day => format!("(CURRENT_DATE + {n})"),
            Grain::Week => {
                format!("(date_trunc({unit}, CURRENT_DATE) + make_interval(weeks => {n}))")
            }
            Grain::Quarter => format!(
                "(date_trunc({unit}, CURRENT_DATE) + make_interval(months => {}))",
                3 * n
            ),
            Grain::Month => {
                format!("(date_trunc({unit}, CURRENT_DATE) + make_interval(months => {n}))")
            }
            Grain::Year => {
                format!("(date_trunc({unit}, CURRENT_DATE) + make_interval(years => {n}))")
            }
        };
        let n = i64::from(k.offset);
        return format!("{c} >= {} AND {c} < {}", at(n), at(n + 1));
    }
    format!(
        "{c} >= DATE {} AND {c} < DATE {}",
        literal(&r.start),
        literal(&r.end)
    )
}

pub(super) fn join_sql(s: &Semantic, a: &Aliases, tree: &JoinTree) -> String {
    let c = &s.catalog;
    let root = c.table(tree.root);
    let mut sql = format!(
        "{}.{} AS {}",
        ident(&root.schema),
        ident(&root.name),
        ident(&a.of(tree.root))
    );
    for step in &tree.steps {
        let r = &c.relations[step.relation as usize];
        let t = c.table(step.to);
        let on: Vec<String> = r
            .from_columns
            .iter()
            .zip(&r.to_columns)
            .map(|(f, to)| {
                format!(
                    "{} = {}",
                    a.col(ColRef {
                        table: r.from,
                        column: *f
                    }),
                    a.col(ColRef {
                        table: r.to,
                        column: *to
                    })
                )
            })
            .collect();
        sql.push_str(&format!(
            " JOIN {}.{} AS {} ON {}",
            ident(&t.schema),
            ident(&t.name),
            ident(&a.of(step.to)),
            on.join(" AND ")
        ));
    }
    sql
}

/// The column a dimension groups and shows, and its output name.
pub(super) fn dim_sql(c: &Catalog, a: &Aliases, d: &Dimension) -> (String, String, Vec<String>) {
    let col = a.col(d.column);
    let name = &c.column(d.column).name;
    match d.grain {
        Some(Grain::Year) => {
            let e = format!("EXTRACT(YEAR FROM {col})::int");
            (e.clone(), "year".into(), vec![e])
        }
        Some(g) => {
            // The start of the period, of the column's own type (a date stays a date).
            let cast = if c.column(d.column).kind == crate::catalog::ValueKind::Date {
                "::date"
            } else {
                ""
            };
            let e = format!("date_trunc({}, {col}){cast}", literal(g.unit()));
            (e.clone(), g.unit().into(), vec![e])
        }
        None => {
            // An entity's display column groups by its key too, so namesakes stay apart.
            let t = c.table(d.column.table);
            let mut group = vec![col.clone()];
            if t.notes.display_column == Some(d.column.column) {
                for k in &t.primary_key {
                    group.push(a.col(ColRef {
                        table: d.column.table,
                        column: *k,
                    }));
                }
            }
            let out = if t.notes.display_column == Some(d.column.column) {
                crate::catalog::text::stem(&t.name)
            } else {
                name.clone()
            };
            (col, out, group)
        }
    }
}

pub(super) fn not_exists(
    s: &Semantic,
    a: &Aliases,
    root: TableId,
    other: TableId,
) -> Result<String, CompileError> {
    let c = &s.catalog;
    let r = c
        .relations
        .iter()
        .find(|r| r.from == other && r.to == root)
        .ok_or_else(|| {
            err(
                format!(
                    "{} does not reference {}",
                    c.table(other).name,
                    c.table(root).name
                ),
                "declare the relationship in schemas/*.toml",
            )
        })?;
    let t = c.table(other);
    let on: Vec<String> = r
        .from_columns
        .iter()
        .zip(&r.to_columns)
        .map(|(f, to)| {
            format!(
                "x.{} = {}",
                ident(&t.columns[*f as usize].name),
                a.col(ColRef {
                    table: root,
                    column: *to
                })
            )
        })
        .collect();
    Ok(format!(
        "NOT EXISTS (SELECT 1 FROM {}.{} AS x WHERE {})",
        ident(&t.schema),
        ident(&t.name),
        on.join(" AND ")
    ))
}
