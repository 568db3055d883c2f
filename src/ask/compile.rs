//! Compiles an [`AnalysisPlan`] to PostgreSQL through a small typed builder: identifiers are
//! always quoted, values are always escaped literals, and the only SQL text taken as written is
//! an annotation's metric and filter expressions (written by whoever runs Querent), which are
//! parsed and re-qualified to the query's table aliases. Joins come from the catalog's join
//! tree; a tree that fans out counts distinct keys or is refused, never double-counts.

mod shapes;
mod sql;

use super::plan::*;
use crate::catalog::store::Semantic;
use crate::catalog::{Catalog, ColRef, TableId};
use shapes::{list_sql, pair_sql, ratio_sql};
use sql::{
    annotation_sql, dim_sql, filter_sql, join_sql, not_exists, number, op_sql, time_sql, Aliases,
};
pub use sql::{ident, literal};
use std::collections::BTreeSet;

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

/// One aggregate query: the pieces every intent is built from.
struct Parts {
    select: Vec<String>,
    from: String,
    conds: Vec<String>,
    group: Vec<String>,
    dim_names: Vec<String>,
    measure: String,
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
    let mut root = s
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
    needed.extend(plan.order.and_then(|o| o.column).map(|c| c.table));
    needed.extend(filters.iter().map(|f| f.column.table));
    needed.extend(time_col.map(|t| t.table));
    // A table a verb named, next to one the plan reads (or one step further: across a bridge
    // table), is the way between them.
    let near = |t: TableId, to: &dyn Fn(TableId) -> bool| {
        c.relations
            .iter()
            .any(|r| (r.from == t && to(r.to)) || (r.to == t && to(r.from)))
    };
    let adjacent = |t: TableId| near(t, &|x| needed.contains(&x));
    let close = |t: TableId| adjacent(t) || near(t, &|x| adjacent(x));
    // Only as a way between tables: alone it would just repeat rows.
    let via: Vec<TableId> = match needed.len() {
        0 | 1 => Vec::new(),
        _ => plan
            .via
            .iter()
            .copied()
            .filter(|t| !needed.contains(t) && close(*t))
            .collect(),
    };
    needed.extend(via.iter().copied());
    let needed: Vec<TableId> = needed.into_iter().collect();
    // "monthly fees of active accounts per country": a value looked up per row of another
    // table (each account's plan fee) is summed over that table's rows, when every table
    // needed is reached from it by many-to-one steps.
    if let Measure::Aggregate {
        agg: Agg::Sum | Agg::Avg | Agg::Median,
        ..
    } = m
    {
        if let Some(g) = s.graph.grain(&needed) {
            root = g;
        }
    }
    let tree = s
        .graph
        .join_tree_through(c, root, &via, &needed)
        .map_err(|e| {
            err(
                format!("these tables do not join: {e}"),
                "declare the relationship in schemas/*.toml, or ask about one table at a time",
            )
        })?;
    if let Some(t) = tree.ambiguous.first() {
        // Two equally short ways to reach a table (a fare's origin and destination airport):
        // picking one would answer a question that was not asked.
        return Err(err(
            format!(
                "{} is reached in more than one way from {}, and the question does not say which",
                c.table(*t).name,
                c.table(root).name
            ),
            "name the role (e.g. \"from\" or \"to\"), or mark one relationship preferred = true in schemas/*.toml",
        ));
    }
    let mut dedup: Option<(Vec<String>, String)> = None;
    let measure = if plan.intent == Intent::List {
        String::from("1")
    } else {
        match m {
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
                annotation_sql(&a, &metric.sql)?
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
                e
            }
            Measure::Aggregate { agg, column } => {
                let mut col = a.col(*column);
                if tree.fans_out && !matches!(agg, Agg::CountDistinct | Agg::Min | Agg::Max) {
                    // Each measured row once per group: aggregate over the distinct (group,
                    // row) pairs, found by the measured table's key.
                    let keys = &c.table(root).primary_key;
                    if keys.is_empty() || column.table != root {
                        return Err(err(
                            format!(
                                "{} cannot be aggregated over that breakdown without counting rows twice",
                                c.column(*column).name
                            ),
                            "ask for a breakdown by something each row has one of",
                        ));
                    }
                    dedup = Some((
                        keys.iter()
                            .map(|k| {
                                a.col(ColRef {
                                    table: root,
                                    column: *k,
                                })
                            })
                            .collect::<Vec<_>>(),
                        col.clone(),
                    ));
                    col = "rows.\"v\"".to_string();
                }
                let e = match agg {
                    Agg::Sum => format!("SUM({col})"),
                    Agg::Avg => format!("AVG({col})"),
                    Agg::Min => format!("MIN({col})"),
                    Agg::Max => format!("MAX({col})"),
                    Agg::Median => format!("percentile_cont(0.5) WITHIN GROUP (ORDER BY {col})"),
                    Agg::CountDistinct => format!("COUNT(DISTINCT {col})"),
                };
                e
            }
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
    let mut dim_names: Vec<String> = Vec::new();
    for d in &plan.dimensions {
        let (e, name, g) = dim_sql(c, &a, d);
        select.push(format!("{e} AS {}", ident(&name)));
        dim_names.push(name);
        group.extend(g);
    }
    let mut from = join_sql(s, &a, &tree);
    if let Some((keys, value)) = dedup {
        (select, group, from) = distinct_rows(
            &plan.dimensions,
            c,
            &a,
            &dim_names,
            from,
            &conds,
            keys,
            value,
        );
        conds.clear();
    }
    Ok(Parts {
        select,
        from,
        conds,
        group,
        dim_names,
        measure,
    })
}

/// The distinct (group, measured row) pairs of a join that repeats measured rows ("total
/// citations per author" through the writes bridge): an inner `SELECT DISTINCT` of the
/// grouping expressions, the measured table's key and the value, aggregated outside as
/// `rows`.
#[allow(clippy::too_many_arguments)]
fn distinct_rows(
    dims: &[crate::ask::plan::Dimension],
    c: &Catalog,
    a: &Aliases,
    names: &[String],
    from: String,
    conds: &[String],
    keys: Vec<String>,
    value: String,
) -> (Vec<String>, Vec<String>, String) {
    let mut inner = Vec::new();
    let mut select = Vec::new();
    let mut group = Vec::new();
    for (i, d) in dims.iter().enumerate() {
        let (e, _, g) = dim_sql(c, a, d);
        inner.push(format!("{e} AS \"d{i}\""));
        select.push(format!("rows.\"d{i}\" AS {}", ident(&names[i])));
        group.push(format!("rows.\"d{i}\""));
        for (j, x) in g.iter().enumerate().filter(|(_, x)| **x != e) {
            inner.push(format!("{x} AS \"g{i}_{j}\""));
            group.push(format!("rows.\"g{i}_{j}\""));
        }
    }
    for (k, key) in keys.iter().enumerate() {
        inner.push(format!("{key} AS \"k{k}\""));
    }
    inner.push(format!("{value} AS \"v\""));
    let mut sql = format!("SELECT DISTINCT {} FROM {from}", inner.join(", "));
    if !conds.is_empty() {
        sql.push_str(&format!(" WHERE {}", conds.join(" AND ")));
    }
    (select, group, format!("({sql}) AS rows"))
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
        Intent::List => {
            let p = parts(s, plan, &all, plan.time.as_ref())?;
            list_sql(s, plan, &p)
        }
        Intent::Ratio => ratio_sql(s, plan)?,
        Intent::Aggregate => {
            let p = parts(s, plan, &all, plan.time.as_ref())?;
            let mut sql = assemble(&p, &name, &[]);
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
                "100.0 * {m} / NULLIF(SUM({m}) OVER (), 0) AS \"share_pct\"",
                m = p.measure
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
                "SELECT 100.0 * part.m / NULLIF(whole.m, 0) AS \"share_pct\" FROM ({}) AS part CROSS JOIN ({}) AS whole",
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
            items.push("100.0 * (cur.m - prev.m) / NULLIF(prev.m, 0) AS \"growth_pct\"".into());
            let mut sql = pair_sql(
                &items,
                (&assemble(&cur, "m", &[]), "cur"),
                (&assemble(&before, "m", &[]), "prev"),
                &on,
            );
            if !on.is_empty() {
                let mut keys = Vec::new();
                if let Some(o) = plan.order {
                    // "the 3 stores with the highest growth": rank by growth; new ones last.
                    keys.push(format!(
                        "\"growth_pct\" {} NULLS LAST",
                        if o.descending { "DESC" } else { "ASC" }
                    ));
                }
                keys.extend(dims.iter().cloned());
                sql.push_str(&format!(" ORDER BY {}", keys.join(", ")));
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
