//! Applying the [`Change`]s of a follow-up to the previous plan, each a small function that
//! edits the plan and says in a few words what it changed ("by month instead of by region").
//! A change that does not fit the plan (a breakdown of a list, "top 10" of a single number, a
//! filter to drop that is not there) makes the whole follow-up decline.

use super::read::{Change, Reading, Scope};
use crate::ask::compile::{measure_name, measure_time};
use crate::ask::plan::*;
use crate::catalog::store::Semantic;
use crate::catalog::{Catalog, ColRef, TableId};

/// The plan being refined, with what has been said about it.
struct Refining<'a> {
    c: &'a Catalog,
    plan: AnalysisPlan,
    said: Vec<String>,
    additive: bool,
    /// The breakdown has been replaced (or added to) by this follow-up already: further
    /// groupings in the same words add to it ("by category and month").
    grouped: bool,
    /// Where in `said` the breakdown change is told.
    dims_said_at: usize,
    /// Filters these words set: (index in `plan.filters`, index in `said`, what follows the
    /// values there).
    kept: Vec<(usize, usize, String)>,
}

/// Applies `reading` to `prev`: the refined plan and one line of what changed, or `None`.
pub(super) fn apply(
    s: &Semantic,
    prev: &AnalysisPlan,
    reading: &Reading,
) -> Option<(AnalysisPlan, String)> {
    let mut r = Refining {
        c: &s.catalog,
        plan: prev.clone(),
        said: Vec::new(),
        additive: reading.additive,
        grouped: false,
        dims_said_at: 0,
        kept: Vec::new(),
    };
    // The breakdown first, then shares of it, then the order of its rows ("top 10
    // customers": by customer, then the first 10).
    let mut changes: Vec<&Change> = reading.changes.iter().collect();
    changes.sort_by_key(|c| match c {
        Change::Share => 1,
        Change::Limit { .. } | Change::Sort { .. } | Change::Reverse => 2,
        _ => 0,
    });
    for change in changes {
        one(&mut r, change)?;
    }
    if r.plan == *prev {
        return None; // nothing changed: not a refinement
    }
    if r.grouped {
        let line = dims_said(r.c, &prev.dimensions, &r.plan.dimensions);
        r.said.insert(r.dims_said_at.min(r.said.len()), line);
    }
    r.plan.confidence = prev.confidence.min(reading.confidence);
    Some((r.plan, r.said.join(", ")))
}

/// Applies one change.
fn one(r: &mut Refining, change: &Change) -> Option<()> {
    let range = |r: &Refining, clock, start: String, end: String, words: &str| TimeRange {
        clock,
        column: r.plan.time.as_ref().and_then(|t| t.column),
        start,
        end,
        words: words.to_string(),
    };
    match change {
        Change::Grain(g) => grain(r, *g),
        Change::Breakdown(column) => regroup(
            r,
            Dimension {
                column: *column,
                grain: None,
            },
        ),
        Change::Entity(t) => entity(r, *t),
        Change::Keep { column, value, op } => keep(r, *column, value, *op),
        Change::Period { start, end, words } => {
            let t = range(r, None, start.iso(), end.iso(), words);
            period(r, t)
        }
        Change::Clock(clock, words) => {
            let t = range(r, Some(*clock), String::new(), String::new(), words);
            period(r, t)
        }
        Change::Unfilter(scope) => unfilter(r, *scope),
        Change::Limit { n, descending } => limit(r, *n, *descending),
        Change::Sort { descending } => sort(r, *descending),
        Change::Reverse => {
            let descending = !r.plan.order.is_some_and(|o| o.descending);
            sort(r, descending)
        }
        Change::Share => share(r),
        Change::Metric(m) => metric(r, *m),
    }
}

/// How a grouping is named: its grain ("month"), its entity ("store") or its column.
fn dim_name(c: &Catalog, d: &Dimension) -> String {
    crate::ask::explain::dimension_name(c, d, true)
}

fn dims_name(c: &Catalog, dims: &[Dimension]) -> String {
    dims.iter()
        .map(|d| dim_name(c, d))
        .collect::<Vec<_>>()
        .join(" and ")
}

/// Whether the plan's shape takes a (different) breakdown.
fn groups(plan: &AnalysisPlan) -> bool {
    matches!(
        plan.intent,
        Intent::Aggregate | Intent::Share | Intent::Growth | Intent::Ratio
    )
}

/// Puts `dim` into the breakdown: the first grouping of a follow-up replaces the previous
/// breakdown, unless the words add ("also by store"); a new grain replaces the old grain.
fn regroup(r: &mut Refining, dim: Dimension) -> Option<()> {
    if !groups(&r.plan) || r.plan.dimensions.contains(&dim) {
        return None;
    }
    let grain_at = dim
        .grain
        .and_then(|_| r.plan.dimensions.iter().position(|d| d.grain.is_some()));
    match (r.grouped || r.additive, grain_at) {
        (true, Some(k)) => r.plan.dimensions[k] = dim,
        (true, None) => r.plan.dimensions.push(dim),
        (false, _) => r.plan.dimensions = vec![dim],
    }
    regrouped(r);
    Some(())
}

/// Notes that the breakdown changed: said once, where it first changed.
fn regrouped(r: &mut Refining) {
    if !r.grouped {
        r.grouped = true;
        r.dims_said_at = r.said.len();
    }
}

/// What the breakdown change says: "by month instead of by region", "also by store", "by
/// month".
fn dims_said(c: &Catalog, before: &[Dimension], after: &[Dimension]) -> String {
    if before.is_empty() {
        return format!("by {}", dims_name(c, after));
    }
    if after.len() > before.len() && after.starts_with(before) {
        return format!("also by {}", dims_name(c, &after[before.len()..]));
    }
    format!(
        "by {} instead of by {}",
        dims_name(c, after),
        dims_name(c, before)
    )
}

/// The date the plan's measure is dated by: the range's own column, else the measure's.
fn time_column(plan: &AnalysisPlan, c: &Catalog) -> Option<ColRef> {
    plan.time
        .as_ref()
        .and_then(|t| t.column)
        .or_else(|| measure_time(c, plan.measures.first()?))
}

/// "by month": the measure's date, bucketed.
fn grain(r: &mut Refining, g: Grain) -> Option<()> {
    if r.plan.intent == Intent::Growth {
        return None; // growth per time bucket is not supported (as in the planner)
    }
    let column = time_column(&r.plan, r.c)?;
    regroup(
        r,
        Dimension {
            column,
            grain: Some(g),
        },
    )
}

/// "same for customers": the entity grouping swapped for `t`'s; with no entity grouping, the
/// count of `t` instead of the count measured.
fn entity(r: &mut Refining, t: TableId) -> Option<()> {
    let shown = super::shown(r.c, t)?;
    if !groups(&r.plan) {
        return None;
    }
    if let Some(k) = r.plan.dimensions.iter().position(|d| d.grain.is_none()) {
        if r.plan.dimensions[k].column.table == t {
            return None;
        }
        r.plan.dimensions[k] = Dimension {
            column: shown,
            grain: None,
        };
        regrouped(r);
        return Some(());
    }
    match r.plan.measures.as_mut_slice() {
        [m @ Measure::Count(_)] if *m != Measure::Count(t) => {
            let old = measure_name(r.c, m).replace('_', " ");
            *m = Measure::Count(t);
            r.said.push(format!(
                "{} instead of {old}",
                measure_name(r.c, m).replace('_', " ")
            ));
            Some(())
        }
        _ => None,
    }
}

/// The value kept ("only West"), replacing the values of the same column unless the words
/// add ("also East"); `Ne` for an excluded value. Several values of one column in the same
/// words are one list ("Electronics and Beauty only").
fn keep(r: &mut Refining, column: ColRef, value: &str, op: Op) -> Option<()> {
    let v = Value::Text(value.to_string());
    let found = r
        .plan
        .filters
        .iter()
        .position(|f| f.column == column && f.op == op);
    let what = if op == Op::Ne { "excluding" } else { "only" };
    let told = found.and_then(|k| r.kept.iter().find(|x| x.0 == k).cloned());
    if let (Some(k), Some((_, at, suffix))) = (found, told) {
        // Said already in these words: one more value of the list.
        let values = &mut r.plan.filters[k].values;
        if !values.contains(&v) {
            values.push(v);
        }
        let line = format!("{what} {}{suffix}", values_text(values));
        *r.said.get_mut(at)? = line;
        return Some(());
    }
    let (k, suffix) = match found {
        Some(k) if r.additive => {
            let values = &mut r.plan.filters[k].values;
            if values.contains(&v) {
                return None;
            }
            values.push(v);
            r.said.push(format!("also {value}"));
            return Some(());
        }
        Some(k) if r.plan.filters[k].values == [v.clone()] => return None,
        Some(k) => {
            let old = values_text(&r.plan.filters[k].values);
            r.plan.filters[k].values = vec![v];
            (k, format!(" instead of {old}"))
        }
        None => {
            r.plan.filters.push(Filter {
                column,
                op,
                values: vec![v],
            });
            (r.plan.filters.len() - 1, String::new())
        }
    };
    r.kept.push((k, r.said.len(), suffix.clone()));
    r.said.push(format!("{what} {value}{suffix}"));
    Some(())
}

fn values_text(vals: &[Value]) -> String {
    vals.iter()
        .map(|v| match v {
            Value::Text(t) => t.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A filter in a few words: "name = West", "channel <> Online", "declare major".
fn filter_text(c: &Catalog, f: &Filter) -> String {
    let name = c.column(f.column).name.replace('_', " ");
    let op = match f.op {
        Op::Eq => "=",
        Op::Ne => "<>",
        _ => return name,
    };
    format!("{name} {op} {}", values_text(&f.values))
}

/// The year filters (`year >= 2021 AND year < 2022`) of a table dated by a year number.
fn year_filters(c: &Catalog, plan: &AnalysisPlan) -> Vec<usize> {
    plan.filters
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            matches!(f.op, Op::Ge | Op::Lt)
                && crate::ask::planner::year_like(c, f.column)
                && matches!(f.values.as_slice(), [Value::Number(_)])
        })
        .map(|(k, _)| k)
        .collect()
}

/// "for 2023", "in Q4 2024 instead": the date range replaced (a growth compares it with the
/// period before, as the planner does; a table dated by year numbers gets year filters).
fn period(r: &mut Refining, range: TimeRange) -> Option<()> {
    let old = r.plan.time.as_ref().map(|t| t.words.clone());
    let years = year_filters(r.c, &r.plan);
    if r.plan.time.is_none() && years.len() == 2 {
        let (s, e) = (
            crate::ask::time::Date::parse(&range.start)?,
            crate::ask::time::Date::parse(&range.end)?,
        );
        if (s.m, s.d, e.m, e.d) != (1, 1, 1, 1) {
            return None; // dated by year only
        }
        let column = r.plan.filters[years[0]].column;
        let old = years_text(r, &years);
        for (k, y) in years.iter().zip([s.y, e.y]) {
            r.plan.filters[*k] = Filter {
                column,
                op: r.plan.filters[*k].op,
                values: vec![Value::Number(y as f64)],
            };
        }
        r.said.push(format!("{} instead of {old}", range.words));
        return Some(());
    }
    if r.plan.intent == Intent::Growth {
        if range.clock.is_some() {
            return None;
        }
        let (time, previous) = crate::ask::planner::growth_periods(range.clone());
        r.plan.time = Some(time);
        r.plan.previous = Some(previous?);
    } else {
        r.plan.time = Some(range.clone());
    }
    r.said.push(match old {
        Some(old) if old == range.words => return None,
        Some(old) => format!("{} instead of {old}", range.words),
        None => format!("in {}", range.words),
    });
    Some(())
}

fn years_text(r: &Refining, years: &[usize]) -> String {
    let y = |k: usize| match r.plan.filters[k].values.first() {
        Some(Value::Number(n)) => *n as i64,
        _ => 0,
    };
    match years {
        [a, b] if y(*b) - y(*a) == 1 => y(*a).to_string(),
        [a, b] => format!("{} to {}", y(*a), y(*b) - 1),
        _ => String::new(),
    }
}

/// "without the filter", "for all regions", "for all time": conditions dropped (not those
/// that pick the part of a share, difference or ratio). Part indexes are renumbered.
fn unfilter(r: &mut Refining, scope: Scope) -> Option<()> {
    // Filter indexes move: values kept earlier in these words are not extended after this.
    r.kept.clear();
    if scope == Scope::Time {
        let old = r.plan.time.take();
        let years = year_filters(r.c, &r.plan);
        if r.plan.intent == Intent::Growth || (old.is_none() && years.is_empty()) {
            return None;
        }
        r.plan.previous = None;
        let words = match old {
            Some(t) => t.words,
            None => years_text(r, &years),
        };
        remove_filters(&mut r.plan, &years);
        r.said.push(format!("for all time instead of {words}"));
        return Some(());
    }
    let plan = &r.plan;
    let dropped: Vec<usize> = (0..plan.filters.len())
        .filter(|k| !plan.part.contains(k) && !plan.denominator_part.contains(k))
        .filter(|k| !year_filters(r.c, plan).contains(k))
        .filter(|k| {
            let col = plan.filters[*k].column;
            match scope {
                Scope::Filters | Scope::Time => true,
                Scope::Table(t) => col.table == t,
                Scope::Column(x) => col == x,
            }
        })
        .collect();
    if dropped.is_empty() {
        return None;
    }
    let what: Vec<String> = dropped
        .iter()
        .map(|k| filter_text(r.c, &plan.filters[*k]))
        .collect();
    remove_filters(&mut r.plan, &dropped);
    r.said
        .push(format!("without the filter on {}", what.join(", ")));
    Some(())
}

/// Removes the filters at `gone`, renumbering the part indexes that point at the others.
fn remove_filters(plan: &mut AnalysisPlan, gone: &[usize]) {
    let renumber = |idx: &[usize]| -> Vec<usize> {
        idx.iter()
            .filter(|i| !gone.contains(i))
            .map(|i| i - gone.iter().filter(|g| *g < i).count())
            .collect()
    };
    plan.part = renumber(&plan.part);
    plan.denominator_part = renumber(&plan.denominator_part);
    let mut k = 0;
    plan.filters.retain(|_| {
        k += 1;
        !gone.contains(&(k - 1))
    });
}

/// "top 10 instead", "bottom 3": rank the groups (or the listed rows) by the measure.
fn limit(r: &mut Refining, n: Option<u64>, descending: bool) -> Option<()> {
    let listed = r.plan.intent == Intent::List;
    if !listed && (r.plan.dimensions.is_empty() || !groups(&r.plan)) {
        return None; // one number has no top 10
    }
    let n = n.or(r.plan.limit).unwrap_or(10);
    let word = |d: bool| if d { "top" } else { "bottom" };
    let old = match (r.plan.order, r.plan.limit) {
        (Some(o), Some(k)) => Some(format!("{} {k}", word(o.descending))),
        (None, Some(k)) => Some(format!("first {k}")),
        _ => None,
    };
    let order = if listed {
        r.plan.order // a list keeps its sort; only fewer rows
    } else {
        Some(Order::by_measure(descending))
    };
    if order == r.plan.order && Some(n) == r.plan.limit {
        return Some(()); // "top customers" after the top 5 stores: still 5
    }
    r.plan.order = order;
    r.plan.limit = Some(n);
    let now = match (listed, order) {
        (true, None) => format!("first {n}"),
        (_, o) => format!("{} {n}", word(o.is_some_and(|o| o.descending))),
    };
    r.said.push(match old {
        Some(old) => format!("{now} instead of {old}"),
        None => now,
    });
    Some(())
}

/// "sorted ascending", "highest first": the direction of the order.
fn sort(r: &mut Refining, descending: bool) -> Option<()> {
    if r.plan.dimensions.is_empty() {
        return None;
    }
    let column = r.plan.order.and_then(|o| o.column);
    let order = Some(Order { descending, column });
    if order == r.plan.order {
        return Some(());
    }
    r.plan.order = order;
    r.said.push(
        if descending {
            "sorted descending"
        } else {
            "sorted ascending"
        }
        .into(),
    );
    Some(())
}

/// "as a share": each group's share of the total, or with no grouping the share of the part
/// the value filters pick.
fn share(r: &mut Refining) -> Option<()> {
    if r.plan.intent != Intent::Aggregate || r.plan.measures.len() != 1 || r.plan.having.is_some() {
        return None;
    }
    if r.plan.dimensions.is_empty() {
        let years = year_filters(r.c, &r.plan);
        let part: Vec<usize> = (0..r.plan.filters.len())
            .filter(|k| !years.contains(k) && r.plan.filters[*k].op == Op::Eq)
            .collect();
        if part.is_empty() {
            return None;
        }
        r.plan.part = part;
    }
    r.plan.intent = Intent::Share;
    r.said.push("as a share of the total".into());
    Some(())
}

/// "what about profit": another metric in the same shape.
fn metric(r: &mut Refining, m: u32) -> Option<()> {
    let new = Measure::Metric(m);
    let ok = matches!(
        r.plan.intent,
        Intent::Aggregate | Intent::Share | Intent::Growth | Intent::Difference
    );
    match r.plan.measures.as_mut_slice() {
        [first] if ok && *first != new => {
            let old = measure_name(r.c, first).replace('_', " ");
            *first = new;
            r.said.push(format!(
                "{} instead of {old}",
                measure_name(r.c, first).replace('_', " ")
            ));
            Some(())
        }
        _ => None,
    }
}
