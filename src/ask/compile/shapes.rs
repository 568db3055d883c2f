//! The SQL of the answer shapes beyond one aggregate query: lists of rows, ratios of two
//! measures, and two measured queries side by side (ratio, growth).

use super::sql::{ident, Aliases};
use super::{assemble, err, measure_name, parts, CompileError, Parts};
use crate::ask::plan::*;
use crate::catalog::store::Semantic;
use crate::catalog::TableId;
use std::collections::BTreeSet;

/// A ratio of two measures, each computed on its own (so neither counts rows twice), joined
/// on the groupings: the ratio, then both measures.
pub(super) fn ratio_sql(s: &Semantic, plan: &AnalysisPlan) -> Result<String, CompileError> {
    let c = &s.catalog;
    let [top, bottom] = plan.measures.as_slice() else {
        return Err(err(
            "a ratio needs two measures",
            "name both, e.g. \"ratio of orders to customers\"",
        ));
    };
    // Filters of both sides, then each side's own ("courses with projects").
    let filters_of = |own: &[usize]| -> Vec<&Filter> {
        plan.filters
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                own.contains(i) || !(plan.part.contains(i) || plan.denominator_part.contains(i))
            })
            .map(|(_, f)| f)
            .collect()
    };
    let side = |m: &Measure, own: &[usize]| -> Result<Parts, CompileError> {
        let filters = filters_of(own);
        let sub = AnalysisPlan {
            intent: Intent::Aggregate,
            measures: vec![m.clone()],
            order: None,
            limit: None,
            having: None,
            ..plan.clone()
        };
        parts(s, &sub, &filters, plan.time.as_ref())
    };
    let (a, b) = (
        side(top, &plan.part)?,
        side(bottom, &plan.denominator_part)?,
    );
    let (mut na, mut nb) = (measure_name(c, top), measure_name(c, bottom));
    if na == nb {
        // "publications in conferences to publications in journals": named by their side.
        (na, nb) = (format!("numerator_{na}"), format!("denominator_{nb}"));
    }
    // Every group of either side; a side with no rows in a group counts 0.
    let grouped = !a.dim_names.is_empty();
    let value = |side: &str, m: &Measure| match m {
        Measure::Count(_) if grouped => format!("COALESCE({side}.m, 0)"),
        _ => format!("{side}.m"),
    };
    let (va, vb) = (value("a", top), value("b", bottom));
    let mut items: Vec<String> = a
        .dim_names
        .iter()
        .map(|d| format!("g.{}", ident(d)))
        .collect();
    if plan.percent {
        items.push(format!(
            "100.0 * CAST({va} AS double precision) / NULLIF({vb}, 0) AS \"share_pct\""
        ));
    } else {
        items.push(format!(
            "CAST({va} AS double precision) / NULLIF({vb}, 0) AS \"ratio\""
        ));
    }
    items.push(format!("{va} AS {}", ident(&na)));
    items.push(format!("{vb} AS {}", ident(&nb)));
    let mut sql = if grouped {
        grouped_pair(&items, &a, &b)
    } else {
        pair_sql(
            &items,
            (&assemble(&a, "m", &[]), "a"),
            (&assemble(&b, "m", &[]), "b"),
            &[],
        )
    };
    let mut keys = Vec::new();
    if let Some(o) = plan.order {
        keys.push(format!(
            "{} {} NULLS LAST",
            if plan.percent {
                "\"share_pct\""
            } else {
                "\"ratio\""
            },
            if o.descending { "DESC" } else { "ASC" }
        ));
    }
    keys.extend((1..=a.dim_names.len()).map(|i| i.to_string()));
    if !keys.is_empty() {
        sql.push_str(&format!(" ORDER BY {}", keys.join(", ")));
    }
    Ok(sql)
}

/// Two grouped measures side by side over the groups of either (`g`): joined on every
/// grouping key, the hidden ones too, so two courses of the same name stay two rows.
fn grouped_pair(items: &[String], a: &Parts, b: &Parts) -> String {
    let keyed = a.group.len() > a.dim_names.len() && a.group.len() == b.group.len();
    let keys_of = |p: &Parts| -> Vec<String> {
        if !keyed {
            return Vec::new();
        }
        p.group
            .iter()
            .enumerate()
            .map(|(i, g)| format!("{g} AS {}", ident(&format!("_k{i}"))))
            .collect()
    };
    let mut cols: Vec<String> = a.dim_names.iter().map(|d| ident(d)).collect();
    if keyed {
        cols.extend((0..a.group.len()).map(|i| ident(&format!("_k{i}"))));
    }
    let on = |side: &str| -> String {
        cols.iter()
            .map(|c| format!("g.{c} IS NOT DISTINCT FROM {side}.{c}"))
            .collect::<Vec<_>>()
            .join(" AND ")
    };
    let list = cols.join(", ");
    format!(
        "WITH a AS ({}), b AS ({}) SELECT {} FROM (SELECT {list} FROM a UNION SELECT {list} FROM b) AS g LEFT JOIN a ON {} LEFT JOIN b ON {}",
        assemble(a, "m", &keys_of(a)),
        assemble(b, "m", &keys_of(b)),
        items.join(", "),
        on("a"),
        on("b"),
    )
}

/// Two measured queries side by side: joined on the groupings (`on`), or one row each.
pub(super) fn pair_sql(
    items: &[String],
    left: (&str, &str),
    right: (&str, &str),
    on: &[String],
) -> String {
    let join = if on.is_empty() {
        "CROSS JOIN"
    } else {
        "LEFT JOIN"
    };
    let mut sql = format!(
        "SELECT {} FROM ({}) AS {} {join} ({}) AS {}",
        items.join(", "),
        left.0,
        left.1,
        right.0,
        right.1
    );
    if !on.is_empty() {
        sql.push_str(&format!(" ON {}", on.join(" AND ")));
    }
    sql
}

/// The rows themselves ("which stores opened in 2025", "titles of all publications ordered
/// alphabetically", "the 3 publications with the most citations"): distinct values of the
/// columns shown, sorted by the order column (added to the columns when not shown).
pub(super) fn list_sql(s: &Semantic, plan: &AnalysisPlan, p: &Parts) -> String {
    let a = Aliases {
        catalog: &s.catalog,
    };
    let mut items = p.select.clone();
    let mut names = p.dim_names.clone();
    let mut first = None;
    if let Some(o) = plan.order {
        let at = match o.column {
            Some(col) => match plan.dimensions.iter().position(|d| d.column == col) {
                Some(i) => i,
                None => {
                    let name = s.catalog.column(col).name.clone();
                    items.push(format!("{} AS {}", a.col(col), ident(&name)));
                    names.push(name);
                    items.len() - 1
                }
            },
            None => 0,
        };
        first = Some((at, if o.descending { " DESC" } else { " ASC" }));
    }
    // Sort keys by output name where it is unambiguous (readers and tools see what is
    // sorted), by position otherwise.
    let key = |i: usize| match names.get(i) {
        Some(n) if names.iter().filter(|x| *x == n).count() == 1 => ident(n),
        _ => (i + 1).to_string(),
    };
    let mut keys: Vec<String> = first
        .iter()
        .map(|(i, dir)| format!("{}{dir}", key(*i)))
        .collect();
    keys.extend(
        (0..p.select.len())
            .filter(|i| first.is_none_or(|(f, _)| f != *i))
            .map(key),
    );
    // One row per distinct entity; with columns of several tables, one per joined row
    // ("airlines and the stops of each flight").
    // Rows of one table are shown as they are; one table's rows reached through a join
    // ("airlines with flights from LAX") are shown once each.
    let shown: BTreeSet<TableId> = plan.dimensions.iter().map(|d| d.column.table).collect();
    let mut read = shown.clone();
    read.extend(plan.filters.iter().map(|f| f.column.table));
    read.extend(plan.order.and_then(|o| o.column).map(|c| c.table));
    read.extend(plan.without);
    let distinct = if shown.len() == 1 && read.len() > 1 {
        "DISTINCT "
    } else {
        ""
    };
    let mut sql = format!("SELECT {distinct}{} FROM {}", items.join(", "), p.from);
    if !p.conds.is_empty() {
        sql.push_str(&format!(" WHERE {}", p.conds.join(" AND ")));
    }
    if !keys.is_empty() {
        sql.push_str(&format!(" ORDER BY {}", keys.join(", ")));
    }
    sql
}
