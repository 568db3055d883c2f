//! Compiles an [`AnalysisPlan`] to PostgreSQL through a small typed builder: identifiers are
//! always quoted, values are always escaped literals, and the only SQL text taken as written is
//! an annotation's metric and filter expressions (written by whoever runs Querent), which are
//! parsed and re-qualified to the query's table aliases. Joins come from the catalog's join
//! tree; a tree that fans out counts distinct keys or is refused, never double-counts.

use super::plan::*;
use crate::catalog::graph::JoinTree;
use crate::catalog::store::Semantic;
use crate::catalog::{Catalog, ColRef, TableId};
use sqlparser::ast::{Expr, Ident, VisitMut, VisitorMut};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use std::collections::BTreeSet;
use std::ops::ControlFlow;

/// Why a plan cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    /// What went wrong.
    pub message: String,
    /// What to try instead.
    pub hint: String,
}

fn err(message: impl Into<String>, hint: impl Into<String>) -> CompileError {
    CompileError {
        message: message.into(),
        hint: hint.into(),
    }
}

/// `"name"` with inner quotes doubled.
pub fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// `'text'` with inner quotes doubled (standard_conforming_strings on: no backslash escapes).
pub fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

fn value_sql(v: &Value) -> String {
    match v {
        Value::Text(s) => literal(s),
        Value::Number(n) => number(*n),
    }
}

/// Table aliases of one query: the bare table name where unique.
struct Aliases<'a> {
    catalog: &'a Catalog,
}

impl Aliases<'_> {
    fn of(&self, t: TableId) -> String {
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
    fn col(&self, c: ColRef) -> String {
        format!(
            "{}.{}",
            ident(&self.of(c.table)),
            ident(&self.catalog.column(c).name)
        )
    }
}

/// Re-qualifies `table.column` / `schema.table.column` of an annotation expression.
struct Requalify<'a> {
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

fn annotation_sql(aliases: &Aliases, sql: &str) -> Result<String, CompileError> {
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

/// Output name of a measure.
pub fn measure_name(c: &Catalog, m: &Measure) -> String {
    match m {
        Measure::Metric(i) => c.metrics[*i as usize].name.clone(),
        Measure::Count(t) => format!("{}_count", c.table(*t).name),
        Measure::Aggregate { agg, column } => {
            let f = match agg {
                Agg::Sum => "total",
                Agg::Avg => "avg",
                Agg::Min => "min",
                Agg::Max => "max",
                Agg::Median => "median",
                Agg::CountDistinct => "distinct",
            };
            format!("{f}_{}", c.column(*column).name)
        }
    }
}

/// Tables a measure reads.
pub fn measure_tables(c: &Catalog, m: &Measure) -> Vec<TableId> {
    match m {
        Measure::Metric(i) => c.metrics[*i as usize].tables.clone(),
        Measure::Count(t) => vec![*t],
        Measure::Aggregate { column, .. } => vec![column.table],
    }
}

/// The measure's date column: the metric's, else the measured table's annotated one.
pub fn measure_time(c: &Catalog, m: &Measure) -> Option<ColRef> {
    match m {
        Measure::Metric(i) => c.metrics[*i as usize].time_column,
        Measure::Count(t) => {
            let tc = c.table(*t).notes.time_column?;
            Some(ColRef {
                table: *t,
                column: tc,
            })
        }
        Measure::Aggregate { column, .. } => {
            let tc = c.table(column.table).notes.time_column?;
            Some(ColRef {
                table: column.table,
                column: tc,
            })
        }
    }
}

fn rounded(expr: String, format: Option<&str>, agg_avg: bool) -> String {
    match format {
        Some("money" | "percent" | "decimal") => format!("ROUND(({expr})::numeric, 2)"),
        _ if agg_avg => format!("ROUND(({expr})::numeric, 2)"),
        _ => expr,
    }
}

/// One aggregate query: the pieces every intent is built from.
struct Parts {
    select: Vec<String>,
    from: String,
    conds: Vec<String>,
    group: Vec<String>,
    dim_names: Vec<String>,
    measure: String,
    raw: String,
}

fn op_sql(op: Op) -> &'static str {
    match op {
        Op::Eq => "=",
        Op::Ne => "<>",
        Op::Gt => ">",
        Op::Ge => ">=",
        Op::Lt => "<",
        Op::Le => "<=",
    }
}

fn filter_sql(a: &Aliases, f: &Filter) -> String {
    let col = a.col(f.column);
    match (f.op, f.values.as_slice()) {
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

fn time_sql(a: &Aliases, col: ColRef, r: &TimeRange) -> String {
    let c = a.col(col);
    format!(
        "{c} >= DATE {} AND {c} < DATE {}",
        literal(&r.start),
        literal(&r.end)
    )
}

fn join_sql(s: &Semantic, a: &Aliases, tree: &JoinTree) -> String {
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
fn dim_sql(c: &Catalog, a: &Aliases, d: &Dimension) -> (String, String, Vec<String>) {
    let col = a.col(d.column);
    let name = &c.column(d.column).name;
    match d.grain {
        Some(Grain::Year) => {
            let e = format!("EXTRACT(YEAR FROM {col})::int");
            (e.clone(), "year".into(), vec![e])
        }
        Some(g) => {
            let e = format!("date_trunc({}, {col})::date", literal(g.unit()));
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

/// Builds the measured query for `measure` under `filters` and `time`.
fn parts(
    s: &Semantic,
    plan: &AnalysisPlan,
    filters: &[&Filter],
    time: Option<&TimeRange>,
) -> Result<Parts, CompileError> {
    let c = &s.catalog;
    let a = Aliases { catalog: c };
    let m = plan
        .measures
        .first()
        .ok_or_else(|| err("no measure", "say what to measure"))?;
    let mtables = measure_tables(c, m);
    let root = s
        .graph
        .grain(&mtables)
        .or_else(|| mtables.first().copied())
        .ok_or_else(|| err("the measure reads no table", "check the annotation"))?;
    let time_col = match time {
        Some(r) => Some(r.column.or_else(|| measure_time(c, m)).ok_or_else(|| {
            err(
                format!(
                    "{} has no date to filter by {:?}",
                    measure_name(c, m),
                    r.words
                ),
                "set time_column for the table or metric in the annotations",
            )
        })?),
        None => None,
    };
    let mut needed: BTreeSet<TableId> = mtables.iter().copied().collect();
    needed.extend(plan.dimensions.iter().map(|d| d.column.table));
    needed.extend(filters.iter().map(|f| f.column.table));
    needed.extend(time_col.map(|t| t.table));
    let needed: Vec<TableId> = needed.into_iter().collect();
    let tree = s.graph.join_tree(c, root, &needed).map_err(|e| {
        err(
            format!("these tables do not join: {e}"),
            "declare the relationship in schemas/*.toml, or ask about one table at a time",
        )
    })?;
    let (measure, format, is_avg) = match m {
        Measure::Metric(i) => {
            let metric = &c.metrics[*i as usize];
            if tree.fans_out {
                return Err(err(
                    format!(
                        "{} cannot be broken down that way without counting rows twice",
                        metric.name
                    ),
                    "ask for a breakdown by something each row has one of",
                ));
            }
            (
                annotation_sql(&a, &metric.sql)?,
                metric.format.clone(),
                false,
            )
        }
        Measure::Count(t) => {
            let table = c.table(*t);
            let e = match (tree.fans_out, table.primary_key.as_slice()) {
                (false, _) => "COUNT(*)".to_string(),
                (true, []) => {
                    return Err(err(
                        format!("{} has no key to count distinct rows by", table.name),
                        "ask without the breakdown that multiplies rows",
                    ))
                }
                (true, keys) => {
                    let cols: Vec<String> = keys
                        .iter()
                        .map(|k| {
                            a.col(ColRef {
                                table: *t,
                                column: *k,
                            })
                        })
                        .collect();
                    format!("COUNT(DISTINCT ({}))", cols.join(", "))
                }
            };
            (e, None, false)
        }
        Measure::Aggregate { agg, column } => {
            let col = a.col(*column);
            if tree.fans_out && !matches!(agg, Agg::CountDistinct | Agg::Min | Agg::Max) {
                return Err(err(
                    format!(
                        "{} cannot be aggregated over that breakdown without counting rows twice",
                        c.column(*column).name
                    ),
                    "ask for a breakdown by something each row has one of",
                ));
            }
            let e = match agg {
                Agg::Sum => format!("SUM({col})"),
                Agg::Avg => format!("AVG({col})"),
                Agg::Min => format!("MIN({col})"),
                Agg::Max => format!("MAX({col})"),
                Agg::Median => format!("percentile_cont(0.5) WITHIN GROUP (ORDER BY {col})"),
                Agg::CountDistinct => format!("COUNT(DISTINCT {col})"),
            };
            let fmt = c.column(*column).notes.format.clone();
            (e, fmt, matches!(agg, Agg::Avg | Agg::Median))
        }
    };
    let mut conds = Vec::new();
    if let Measure::Metric(i) = m {
        for f in &c.metrics[*i as usize].filters {
            conds.push(annotation_sql(&a, f)?);
        }
    }
    conds.extend(filters.iter().map(|f| filter_sql(&a, f)));
    if let (Some(col), Some(r)) = (time_col, time) {
        conds.push(time_sql(&a, col, r));
    }
    if let Some(other) = plan.without {
        conds.push(not_exists(s, &a, root, other)?);
    }
    let mut select = Vec::new();
    let mut group = Vec::new();
    let mut dim_names = Vec::new();
    for d in &plan.dimensions {
        let (e, name, g) = dim_sql(c, &a, d);
        select.push(format!("{e} AS {}", ident(&name)));
        dim_names.push(name);
        group.extend(g);
    }
    Ok(Parts {
        select,
        from: join_sql(s, &a, &tree),
        conds,
        group,
        dim_names,
        measure: rounded(measure.clone(), format.as_deref(), is_avg),
        raw: measure,
    })
}

fn not_exists(
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

fn assemble(p: &Parts, measure_alias: &str, extra: &[String]) -> String {
    let mut items = p.select.clone();
    items.push(format!("{} AS {}", p.measure, ident(measure_alias)));
    items.extend(extra.iter().cloned());
    let mut sql = format!("SELECT {} FROM {}", items.join(", "), p.from);
    if !p.conds.is_empty() {
        sql.push_str(&format!(" WHERE {}", p.conds.join(" AND ")));
    }
    if !p.group.is_empty() {
        sql.push_str(&format!(" GROUP BY {}", p.group.join(", ")));
    }
    sql
}

/// The SQL of `plan` against the role's catalog view `s`.
pub fn compile(s: &Semantic, plan: &AnalysisPlan) -> Result<String, CompileError> {
    let c = &s.catalog;
    let m = plan
        .measures
        .first()
        .ok_or_else(|| err("no measure", "say what to measure"))?;
    let name = measure_name(c, m);
    let all: Vec<&Filter> = plan.filters.iter().collect();
    let whole: Vec<&Filter> = plan
        .filters
        .iter()
        .enumerate()
        .filter(|(i, _)| !plan.part.contains(i))
        .map(|(_, f)| f)
        .collect();
    let mut sql = match plan.intent {
        Intent::Aggregate | Intent::List => {
            let p = parts(s, plan, &all, plan.time.as_ref())?;
            let mut sql = if plan.intent == Intent::List {
                format!(
                    "SELECT DISTINCT {} FROM {}{}",
                    p.select
                        .iter()
                        .map(|x| x.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                    p.from,
                    if p.conds.is_empty() {
                        String::new()
                    } else {
                        format!(" WHERE {}", p.conds.join(" AND "))
                    }
                )
            } else {
                assemble(&p, &name, &[])
            };
            if let Some(h) = &plan.having {
                sql.push_str(&format!(
                    " HAVING {} {} {}",
                    p.measure,
                    op_sql(h.op),
                    number(h.value)
                ));
                if h.count_groups {
                    return Ok(format!(
                        "SELECT COUNT(*) AS \"count\" FROM ({sql}) AS groups"
                    ));
                }
            }
            sql.push_str(&order(plan, &p.dim_names, &name));
            sql
        }
        Intent::Share if !plan.dimensions.is_empty() => {
            let p = parts(s, plan, &all, plan.time.as_ref())?;
            let mut items = p.select.clone();
            items.push(format!(
                "ROUND((100.0 * {m} / NULLIF(SUM({m}) OVER (), 0))::numeric, 2) AS \"share_pct\"",
                m = p.raw
            ));
            let mut sql = format!("SELECT {} FROM {}", items.join(", "), p.from);
            if !p.conds.is_empty() {
                sql.push_str(&format!(" WHERE {}", p.conds.join(" AND ")));
            }
            sql.push_str(&format!(" GROUP BY {}", p.group.join(", ")));
            sql.push_str(&order(plan, &p.dim_names, "share_pct"));
            sql
        }
        Intent::Share => {
            let part = parts(s, plan, &all, plan.time.as_ref())?;
            let total = parts(s, plan, &whole, plan.time.as_ref())?;
            format!(
                "SELECT ROUND((100.0 * part.m / NULLIF(whole.m, 0))::numeric, 2) AS \"share_pct\" FROM ({}) AS part CROSS JOIN ({}) AS whole",
                assemble(&part, "m", &[]),
                assemble(&total, "m", &[])
            )
        }
        Intent::Growth => {
            let prev = plan.previous.as_ref().ok_or_else(|| {
                err(
                    "growth needs two periods",
                    "say which year, e.g. \"growth in 2024\"",
                )
            })?;
            let cur = parts(s, plan, &all, plan.time.as_ref())?;
            let before = parts(s, plan, &all, Some(prev))?;
            let on: Vec<String> = cur
                .dim_names
                .iter()
                .map(|d| format!("cur.{0} = prev.{0}", ident(d)))
                .collect();
            let dims: Vec<String> = cur
                .dim_names
                .iter()
                .map(|d| format!("cur.{}", ident(d)))
                .collect();
            let mut items = dims.clone();
            items.push(
                "ROUND((100.0 * (cur.m - prev.m) / NULLIF(prev.m, 0))::numeric, 2) AS \"growth_pct\""
                    .into(),
            );
            let join = if on.is_empty() {
                "CROSS JOIN".to_string()
            } else {
                "JOIN".to_string()
            };
            let mut sql = format!(
                "SELECT {} FROM ({}) AS cur {join} ({}) AS prev",
                items.join(", "),
                assemble(&cur, "m", &[]),
                assemble(&before, "m", &[])
            );
            if !on.is_empty() {
                sql.push_str(&format!(" ON {}", on.join(" AND ")));
                sql.push_str(&format!(" ORDER BY {}", dims.join(", ")));
            }
            sql
        }
        Intent::Difference => {
            let [first, second] = plan.part.as_slice() else {
                return Err(err(
                    "a difference needs two values to compare",
                    "name both, e.g. \"East than West\"",
                ));
            };
            let mut one = whole.clone();
            one.push(&plan.filters[*first]);
            let mut two = whole.clone();
            two.push(&plan.filters[*second]);
            let a = parts(s, plan, &one, plan.time.as_ref())?;
            let b = parts(s, plan, &two, plan.time.as_ref())?;
            format!(
                "SELECT a.m - b.m AS {} FROM ({}) AS a CROSS JOIN ({}) AS b",
                ident(&format!("{name}_difference")),
                assemble(&a, "m", &[]),
                assemble(&b, "m", &[])
            )
        }
    };
    if let Some(n) = plan.limit {
        sql.push_str(&format!(" LIMIT {n}"));
    }
    Ok(sql)
}

fn order(plan: &AnalysisPlan, dims: &[String], measure: &str) -> String {
    let mut keys = Vec::new();
    if let Some(o) = plan.order {
        keys.push(format!(
            "{} {}",
            ident(measure),
            if o.descending { "DESC" } else { "ASC" }
        ));
    }
    keys.extend(dims.iter().map(|d| ident(d)));
    if keys.is_empty() {
        String::new()
    } else {
        format!(" ORDER BY {}", keys.join(", "))
    }
}
