//! Row-filtered tables as security barriers, and the conditions that may cross the barrier.
//!
//! A row-filtered table becomes `(SELECT ... FROM t WHERE <filter> OFFSET 0)`: PostgreSQL
//! neither flattens a subquery with OFFSET nor pushes conditions into it, so a condition of
//! the client's that can fail or leak (`(name || 'x')::int = 0`, `1/(CASE ... END)`) only ever
//! sees rows the filter admitted — the guarantee of a `security_barrier` view, without creating
//! one upstream (so read replicas work).
//!
//! A fence also hides indexes from the client's conditions, so this pass copies the ones that
//! cannot fail or leak into the fenced subquery, where PostgreSQL can use them (a point lookup
//! by key stays an index scan), exactly as PostgreSQL pushes leakproof conditions into a
//! security-barrier view. A WHERE conjunct is copied when it is
//!
//! - `column OP constant` (OP one of `= <> < <= > >=`), `column [NOT] IN (constants)` or
//!   `column BETWEEN constant AND constant`, with the column a plain (unmasked) column of that
//!   fenced table at this level: qualified by its name, or unqualified when no other table of
//!   the FROM list has a column of that name;
//! - with constants PostgreSQL cannot fail to compare with the column whatever its rows hold:
//!   string and number literals (converted to the column's type, or refused, before any row is
//!   read), parameters only on columns whose type no parameter type can implicitly convert with
//!   a failure (not `numeric`, not dates and times), and typed constants (`DATE '...'`,
//!   `'...'::date`) of the column's own type or one that converts to it.
//!
//! Such a comparison rejects a row whose column is NULL, so copying it is correct even on the
//! nullable side of an outer join; the original stays where it was.

use super::catalog::Relation;
use super::rewrite::norm;
use sqlparser::ast::{
    BinaryOperator, CastKind, DataType, Expr, Ident, Query, Select, SetExpr, TableFactor, Value,
    VisitorMut,
};
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;

/// A fenced derived table: the subquery as the guard built it, and its plain columns with
/// their types (empty type = unknown).
#[derive(Debug)]
pub struct Fence {
    /// The fenced subquery (`SELECT ... WHERE filter OFFSET 0`).
    pub query: Query,
    /// Output columns that are the table's own values (not masks), with their types.
    pub plain: HashMap<String, String>,
    /// Every output column (masked ones too), for resolving unqualified names.
    pub columns: Vec<String>,
}

/// The pass: copies safe conjuncts into the fences of every SELECT of a statement.
pub struct Pushdown<'a> {
    /// Fences inserted in this statement.
    pub fences: &'a [Arc<Fence>],
    /// Columns of the database's relations, by (schema, name).
    pub relations: &'a HashMap<(String, String), Relation>,
}

/// What a FROM item at the current level is, for resolving column names.
enum Item {
    Fenced(usize),
    Known(Vec<String>),
    Opaque,
}

fn types_compatible(column: &str, constant: &str) -> bool {
    const INTS: &[&str] = &["smallint", "integer", "bigint"];
    const FLOATS: &[&str] = &["real", "double precision"];
    const TEXTS: &[&str] = &["text", "character varying", "character", "name"];
    let is = |set: &[&str], t: &str| set.contains(&t);
    column == constant
        || (is(INTS, column) || is(FLOATS, column)) && (is(INTS, constant) || constant == "numeric")
        || column == "numeric" && is(INTS, constant)
        || is(FLOATS, column) && is(FLOATS, constant)
        || is(TEXTS, column) && is(TEXTS, constant)
        || column.starts_with("timestamp") && constant == "date"
        || column == "timestamp with time zone" && constant == "timestamp without time zone"
}

/// PostgreSQL's name (`format_type`) for a cast target sqlparser parsed, when simple.
fn type_name(t: &DataType) -> Option<&'static str> {
    use DataType::*;
    Some(match t {
        SmallInt(_) | Int2(_) => "smallint",
        Int(_) | Integer(_) | Int4(_) => "integer",
        BigInt(_) | Int8(_) => "bigint",
        Numeric(_) | Decimal(_) => "numeric",
        Real | Float4 => "real",
        DoublePrecision | Float8 | Double(_) => "double precision",
        Text => "text",
        Varchar(_) | CharacterVarying(_) => "character varying",
        Date => "date",
        Timestamp(_, sqlparser::ast::TimezoneInfo::Tz)
        | Timestamp(_, sqlparser::ast::TimezoneInfo::WithTimeZone) => "timestamp with time zone",
        Timestamp(_, _) => "timestamp without time zone",
        Boolean | Bool => "boolean",
        Uuid => "uuid",
        _ => return None,
    })
}

/// A number literal, or the guard's slot mark standing for a literal while a template is made.
fn is_number(v: &Value) -> bool {
    match v {
        Value::Number(..) => true,
        Value::Placeholder(p) => p.starts_with(super::template::MARK),
        _ => false,
    }
}

/// Whether `e` is a constant that compares with a column of type `col_type` without any
/// row-dependent failure.
fn safe_constant(e: &Expr, col_type: &str) -> bool {
    match e {
        Expr::Nested(inner) => safe_constant(inner, col_type),
        Expr::Value(v) => match &v.value {
            Value::Number(..)
            | Value::SingleQuotedString(_)
            | Value::EscapedStringLiteral(_)
            | Value::UnicodeStringLiteral(_)
            | Value::DollarQuotedString(_) => true,
            // The guard's own literal slots (templates) stand for number and string literals.
            Value::Placeholder(p) if p.starts_with(super::template::MARK) => true,
            Value::Placeholder(p) if p.starts_with('$') => matches!(
                col_type,
                "smallint"
                    | "integer"
                    | "bigint"
                    | "real"
                    | "double precision"
                    | "text"
                    | "character varying"
                    | "character"
                    | "name"
                    | "uuid"
                    | "boolean"
                    | "oid"
            ),
            _ => false,
        },
        Expr::UnaryOp { op, expr } if op.to_string() == "-" || op.to_string() == "+" => {
            matches!(&**expr, Expr::Value(v) if is_number(&v.value))
        }
        Expr::TypedString(ts) => {
            type_name(&ts.data_type).is_some_and(|k| types_compatible(col_type, k))
        }
        Expr::Cast {
            kind: CastKind::Cast | CastKind::DoubleColon,
            expr,
            data_type,
            format: None,
        } => {
            matches!(&**expr, Expr::Value(v) if is_number(&v.value) || matches!(v.value, Value::SingleQuotedString(_)))
                && type_name(data_type).is_some_and(|k| types_compatible(col_type, k))
        }
        _ => false,
    }
}

/// The column an expression names: `(qualifier, column)`.
fn column_ref(e: &Expr) -> Option<(Option<String>, String)> {
    match e {
        Expr::Identifier(i) => Some((None, norm(i))),
        Expr::CompoundIdentifier(p) if p.len() == 2 => Some((Some(norm(&p[0])), norm(&p[1]))),
        Expr::Nested(inner) => column_ref(inner),
        _ => None,
    }
}

/// The column and constants of a conjunct of a pushable shape.
fn shape(e: &Expr) -> Option<(&Expr, Vec<&Expr>)> {
    use BinaryOperator::*;
    match e {
        Expr::Nested(inner) => shape(inner),
        Expr::BinaryOp {
            left,
            op: Eq | NotEq | Lt | LtEq | Gt | GtEq,
            right,
        } => {
            if column_ref(left).is_some() {
                Some((left, vec![right]))
            } else if column_ref(right).is_some() {
                Some((right, vec![left]))
            } else {
                None
            }
        }
        Expr::InList { expr, list, .. } if !list.is_empty() => Some((expr, list.iter().collect())),
        Expr::Between {
            expr, low, high, ..
        } => Some((expr, vec![low, high])),
        _ => None,
    }
}

fn conjuncts(e: &Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            conjuncts(left, out);
            conjuncts(right, out);
        }
        Expr::Nested(inner)
            if matches!(
                **inner,
                Expr::BinaryOp {
                    op: BinaryOperator::And,
                    ..
                }
            ) =>
        {
            conjuncts(inner, out)
        }
        other => out.push(other.clone()),
    }
}

/// Renames the column reference of a pushed conjunct to the bare column inside the fence.
fn rebind(e: &mut Expr, col: &str) {
    let bare = Expr::Identifier(Ident::with_quote('"', col));
    match e {
        Expr::Nested(inner) => rebind(inner, col),
        Expr::BinaryOp { left, right, .. } => {
            if column_ref(left).is_some() {
                **left = bare;
            } else {
                **right = bare;
            }
        }
        Expr::InList { expr, .. } | Expr::Between { expr, .. } => **expr = bare,
        _ => {}
    }
}

impl Pushdown<'_> {
    fn item(&self, factor: &TableFactor, out: &mut Vec<(Option<String>, Item)>) {
        match factor {
            TableFactor::Derived {
                subquery, alias, ..
            } => {
                let name = alias.as_ref().map(|a| norm(&a.name));
                let renamed = alias.as_ref().is_some_and(|a| !a.columns.is_empty());
                let fenced = self.fences.iter().position(|f| f.query == **subquery);
                out.push((
                    name,
                    match fenced {
                        Some(i) if !renamed => Item::Fenced(i),
                        _ => Item::Opaque,
                    },
                ));
            }
            TableFactor::Table {
                name, alias, args, ..
            } => {
                let parts: Vec<String> = name
                    .0
                    .iter()
                    .filter_map(|p| p.as_ident().map(norm))
                    .collect();
                let exposed = alias
                    .as_ref()
                    .map(|a| norm(&a.name))
                    .or_else(|| parts.last().cloned());
                let known = match (parts.as_slice(), args, alias) {
                    ([s, t], None, a) if a.as_ref().is_none_or(|a| a.columns.is_empty()) => self
                        .relations
                        .get(&(s.clone(), t.clone()))
                        .map(|r| Item::Known(r.columns.clone())),
                    _ => None,
                };
                out.push((exposed, known.unwrap_or(Item::Opaque)));
            }
            TableFactor::NestedJoin {
                table_with_joins,
                alias: None,
            } => {
                self.item(&table_with_joins.relation, out);
                for j in &table_with_joins.joins {
                    self.item(&j.relation, out);
                }
            }
            _ => out.push((None, Item::Opaque)),
        }
    }

    /// The FROM item (its index in `items`) a column reference names at this level, when it is
    /// a fenced table and the column a plain column of it.
    fn target(
        &self,
        items: &[(Option<String>, Item)],
        qualifier: Option<&str>,
        col: &str,
    ) -> Option<usize> {
        let slot = match qualifier {
            Some(q) => {
                let mut named = items
                    .iter()
                    .enumerate()
                    .filter(|(_, (n, _))| n.as_deref() == Some(q));
                match (named.next(), named.next()) {
                    (Some((slot, _)), None) => slot,
                    _ => return None,
                }
            }
            None => {
                let mut owner = None;
                for (slot, (_, item)) in items.iter().enumerate() {
                    let has = match item {
                        Item::Opaque => return None,
                        Item::Known(cols) => cols.iter().any(|c| c == col),
                        Item::Fenced(i) => self.fences[*i].columns.iter().any(|c| c == col),
                    };
                    if has {
                        if owner.is_some() {
                            return None;
                        }
                        owner = Some(slot);
                    }
                }
                owner?
            }
        };
        match &items[slot].1 {
            Item::Fenced(i) if self.fences[*i].plain.contains_key(col) => Some(slot),
            _ => None,
        }
    }

    fn select(&self, s: &mut Select) {
        let Some(selection) = &s.selection else {
            return;
        };
        let mut items = Vec::new();
        for twj in &s.from {
            self.item(&twj.relation, &mut items);
            for j in &twj.joins {
                self.item(&j.relation, &mut items);
            }
        }
        if !items.iter().any(|(_, i)| matches!(i, Item::Fenced(_))) {
            return;
        }
        let mut parts = Vec::new();
        conjuncts(selection, &mut parts);
        let mut pushed: HashMap<usize, Vec<Expr>> = HashMap::new();
        for c in parts {
            let Some((colref, constants)) = shape(&c) else {
                continue;
            };
            let Some((qualifier, col)) = column_ref(colref) else {
                continue;
            };
            let Some(slot) = self.target(&items, qualifier.as_deref(), &col) else {
                continue;
            };
            let Item::Fenced(f) = items[slot].1 else {
                continue;
            };
            let col_type = &self.fences[f].plain[&col];
            if constants.iter().all(|k| safe_constant(k, col_type)) {
                let mut copy = c.clone();
                rebind(&mut copy, &col);
                pushed.entry(slot).or_default().push(copy);
            }
        }
        if pushed.is_empty() {
            return;
        }
        // The same walk as `item`, so slots line up.
        let mut slot = 0;
        let mut visit = |factor: &mut TableFactor| {
            if let (TableFactor::Derived { subquery, .. }, Some(extra)) =
                (factor, pushed.remove(&slot))
            {
                add_conditions(subquery, extra);
            }
            slot += 1;
        };
        for twj in &mut s.from {
            each_factor(&mut twj.relation, &mut visit);
            for j in &mut twj.joins {
                each_factor(&mut j.relation, &mut visit);
            }
        }
    }
}

fn each_factor(f: &mut TableFactor, visit: &mut impl FnMut(&mut TableFactor)) {
    if let TableFactor::NestedJoin {
        table_with_joins,
        alias: None,
    } = f
    {
        each_factor(&mut table_with_joins.relation, visit);
        for j in &mut table_with_joins.joins {
            each_factor(&mut j.relation, visit);
        }
    } else {
        visit(f);
    }
}

/// `WHERE filter` of a fenced subquery becomes `WHERE (filter) AND c1 AND c2 ...`.
fn add_conditions(q: &mut Query, extra: Vec<Expr>) {
    let SetExpr::Select(s) = &mut *q.body else {
        return;
    };
    let mut cond = s.selection.take().map(|f| Expr::Nested(Box::new(f)));
    for e in extra {
        cond = Some(match cond {
            None => e,
            Some(c) => Expr::BinaryOp {
                left: Box::new(c),
                op: BinaryOperator::And,
                right: Box::new(e),
            },
        });
    }
    s.selection = cond;
}

fn bodies<'q>(body: &'q mut SetExpr, out: &mut Vec<&'q mut Select>) {
    match body {
        SetExpr::Select(s) => out.push(s),
        SetExpr::SetOperation { left, right, .. } => {
            bodies(left, out);
            bodies(right, out);
        }
        _ => {}
    }
}

impl VisitorMut for Pushdown<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
        let mut selects = Vec::new();
        bodies(&mut q.body, &mut selects);
        for s in selects {
            self.select(s);
        }
        ControlFlow::Continue(())
    }
}
