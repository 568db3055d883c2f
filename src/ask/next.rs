//! The follow-up agent: two or three next questions for an answer — a drill-down by another
//! dimension, the trend over time, the top contributors, the same for the previous period —
//! written from the plan in the catalog's own words, and each **planned before it is
//! suggested**: a candidate is kept only when the deterministic planner answers it with a plan
//! other than the current one and the caller's check (the session's guard) accepts its SQL,
//! so every suggestion is one ASK can answer for this principal.

use super::cache::{plan_and_compile, Made};
use super::compile::measure_tables;
use super::plan::{Agg, AnalysisPlan, Intent, Measure};
use crate::catalog::model::ValueKind;
use crate::catalog::store::Semantic;
use crate::catalog::{Catalog, ColRef};

/// Most suggestions made.
pub const MAX: usize = 3;
/// Most distinct values a column may have to be offered as a drill-down.
const DRILL_MAX_DISTINCT: u64 = 50;

/// One suggested question.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Suggestion {
    /// The question, as a person would type it.
    pub question: String,
    /// Why: `drill_down`, `trend`, `top`, `previous_period`.
    pub kind: &'static str,
}

/// How a measure is said in a question.
fn measure_words(c: &Catalog, m: &Measure) -> String {
    match m {
        Measure::Metric(i) => c.metrics[*i as usize].name.replace('_', " "),
        Measure::Count(t) => format!("number of {}", c.table(*t).name.replace('_', " ")),
        Measure::Aggregate { agg, column } => {
            let col = c.column(*column).name.replace('_', " ");
            match agg {
                Agg::Sum => format!("total {col}"),
                Agg::Avg => format!("average {col}"),
                Agg::Min => format!("minimum {col}"),
                Agg::Max => format!("maximum {col}"),
                Agg::Median => format!("median {col}"),
                Agg::CountDistinct => format!("number of distinct {col}"),
            }
        }
    }
}

/// The name a grouping column is asked by: the entity for a display column, else the column.
fn column_words(c: &Catalog, col: ColRef) -> String {
    let t = c.table(col.table);
    if t.notes.display_column == Some(col.column) {
        crate::catalog::text::stem(&t.name).replace('_', " ")
    } else {
        c.column(col).name.replace('_', " ")
    }
}

/// Whether `m` counts the rows of table `t` (a COUNT, or a metric that is one COUNT over `t`).
fn counts(c: &Catalog, m: &Measure, t: u32) -> bool {
    match m {
        Measure::Count(ct) => *ct == t,
        Measure::Metric(i) => c.metrics.get(*i as usize).is_some_and(|metric| {
            metric.tables == [t] && metric.sql.trim().to_ascii_lowercase().starts_with("count(")
        }),
        Measure::Aggregate { agg, column } => *agg == Agg::CountDistinct && column.table == t,
    }
}

/// Columns to drill down by: text columns of the measure's tables and the tables they
/// reference, with few distinct values (or the entity's name), not grouped by already.
fn drill_columns(c: &Catalog, plan: &AnalysisPlan) -> Vec<ColRef> {
    let mut tables: Vec<u32> = plan
        .measures
        .iter()
        .flat_map(|m| measure_tables(c, m))
        .collect();
    let direct = tables.clone();
    for r in &c.relations {
        if direct.contains(&r.from) && !tables.contains(&r.to) {
            tables.push(r.to);
        }
    }
    let used: Vec<ColRef> = plan
        .dimensions
        .iter()
        .map(|d| d.column)
        .chain(plan.filters.iter().map(|f| f.column))
        .collect();
    let mut out: Vec<(u64, ColRef)> = Vec::new();
    for &t in &tables {
        let table = c.table(t);
        for (i, col) in table.columns.iter().enumerate() {
            let r = ColRef {
                table: t,
                column: i as u32,
            };
            // Counting stores by store says nothing: each group is one.
            let counted = plan.measures.iter().any(|m| counts(c, m, t));
            let display = table.notes.display_column == Some(i as u32);
            if col.kind != ValueKind::Text
                || col.notes.pii
                || used.contains(&r)
                || (counted && display)
            {
                continue;
            }
            let distinct = col.profile.as_ref().and_then(|p| p.distinct);
            match distinct {
                Some(d) if (2..=DRILL_MAX_DISTINCT).contains(&d) => out.push((d, r)),
                _ if display => out.push((DRILL_MAX_DISTINCT + 1, r)),
                _ => {}
            }
        }
    }
    out.sort_by_key(|(d, _)| *d);
    out.into_iter().map(|(_, r)| r).collect()
}

/// The question's time words for the previous period: "in 2024" → "in 2023" (a four-digit
/// year, once); `None` when the words name no year.
fn previous_year(words: &str) -> Option<String> {
    let bytes = words.as_bytes();
    let mut found = None;
    for i in 0..bytes.len().saturating_sub(3) {
        let is_year = bytes[i..i + 4].iter().all(u8::is_ascii_digit)
            && (i == 0 || !bytes[i - 1].is_ascii_digit())
            && bytes.get(i + 4).is_none_or(|b| !b.is_ascii_digit());
        if is_year {
            if found.is_some() {
                return None; // "from 2023 to 2024": not one period
            }
            found = Some(i);
        }
    }
    let i = found?;
    let year: i32 = words[i..i + 4].parse().ok()?;
    Some(format!("{}{}{}", &words[..i], year - 1, &words[i + 4..]))
}

/// "region" → "regions", "category" → "categories" (English's common cases).
fn plural(w: &str) -> String {
    if w.ends_with('s') {
        w.to_string()
    } else if let Some(stem) = w
        .strip_suffix('y')
        .filter(|s| !s.ends_with(['a', 'e', 'o', 'u']))
    {
        format!("{stem}ies")
    } else {
        format!("{w}s")
    }
}

/// Candidate questions for `plan`, best first (not yet planned).
pub fn candidates(c: &Catalog, plan: &AnalysisPlan) -> Vec<Suggestion> {
    // Shares, growth, differences and ratios would lose what they compute in these simpler
    // questions; lists have no measure to break down.
    if plan.measures.is_empty() || plan.intent != Intent::Aggregate || plan.percent {
        return Vec::new();
    }
    let m = plan
        .measures
        .iter()
        .map(|m| measure_words(c, m))
        .collect::<Vec<_>>()
        .join(" and ");
    let time = plan
        .time
        .as_ref()
        .map(|t| t.words.trim().to_string())
        .filter(|w| !w.is_empty())
        .map(|w| {
            // "2024" alone reads better as "in 2024".
            if w.bytes().all(|b| b.is_ascii_digit()) {
                format!("in {w}")
            } else {
                w
            }
        });
    let when = time.as_ref().map(|w| format!(" {w}")).unwrap_or_default();
    let by_time = plan.dimensions.iter().any(|d| d.grain.is_some());
    let categories: Vec<ColRef> = plan
        .dimensions
        .iter()
        .filter(|d| d.grain.is_none())
        .map(|d| d.column)
        .collect();
    // Grouped by the very entity it counts ("headcount by employee"): every group is one, so
    // neither its trend nor its top N says anything.
    let self_counted = categories.iter().any(|d| {
        c.table(d.table).notes.display_column == Some(d.column)
            && plan.measures.iter().any(|m| counts(c, m, d.table))
    });
    if self_counted {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut say = |question: String, kind| out.push(Suggestion { question, kind });
    for col in drill_columns(c, plan).into_iter().take(3) {
        say(
            format!("{m} by {}{when}", column_words(c, col)),
            "drill_down",
        );
    }
    if !by_time {
        let grain = if time.is_some() { "month" } else { "year" };
        let first = categories.first().map(|&d| column_words(c, d));
        match first {
            Some(d) => say(format!("{m} by {d} by {grain}{when}"), "trend"),
            None => say(format!("{m} by {grain}{when}"), "trend"),
        }
    }
    if let Some(prev) = time.as_deref().and_then(previous_year) {
        let dims: Vec<String> = plan
            .dimensions
            .iter()
            .map(|d| match d.grain {
                Some(g) => g.unit().to_string(),
                None => column_words(c, d.column),
            })
            .collect();
        let by = if dims.is_empty() {
            String::new()
        } else {
            format!(" by {}", dims.join(" and "))
        };
        say(format!("{m}{by} {prev}"), "previous_period");
    }
    if let (Some(&d), None) = (categories.first(), plan.limit) {
        let entity = plural(&column_words(c, d));
        say(format!("top 5 {entity} by {m}{when}"), "top");
    }
    out
}

/// At most [`MAX`] suggestions for `plan` that the planner answers with another plan and
/// `allowed` accepts (given the compiled SQL); one per kind first, then the rest.
pub fn suggest(
    view: &Semantic,
    plan: &AnalysisPlan,
    mut allowed: impl FnMut(&Made) -> bool,
) -> Vec<Suggestion> {
    let mut kept: Vec<(Suggestion, Made)> = Vec::new();
    for s in candidates(&view.catalog, plan) {
        if kept.len() >= MAX * 2 {
            break;
        }
        let Ok(made) = plan_and_compile(view, &s.question) else {
            continue;
        };
        let new = made.planned.plan != *plan
            && kept
                .iter()
                .all(|(_, k)| k.planned.plan != made.planned.plan);
        if new && allowed(&made) {
            kept.push((s, made));
        }
    }
    let mut out: Vec<Suggestion> = Vec::new();
    for (s, _) in &kept {
        if out.len() < MAX && out.iter().all(|o| o.kind != s.kind) {
            out.push(s.clone());
        }
    }
    for (s, _) in kept {
        if out.len() < MAX && !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previous_years() {
        assert_eq!(previous_year("in 2024").as_deref(), Some("in 2023"));
        assert_eq!(previous_year("Q4 2024").as_deref(), Some("Q4 2023"));
        assert_eq!(
            previous_year("in March 2000").as_deref(),
            Some("in March 1999")
        );
        assert_eq!(previous_year("from 2023 to 2024"), None);
        assert_eq!(previous_year("last 3 months"), None);
        assert_eq!(previous_year("12345"), None);
    }

    /// Every suggestion for a few questions plans, differs from the question's plan, and the
    /// kinds asked for appear.
    #[test]
    fn every_suggestion_answers() {
        let view = super::super::tests::retail();
        let mut kinds = std::collections::BTreeSet::new();
        for q in [
            "revenue by region in 2024",
            "total revenue in 2023",
            "revenue by month in 2024",
            "number of orders by channel",
        ] {
            let made = plan_and_compile(&view, q).unwrap();
            let got = suggest(&view, &made.planned.plan, |_| true);
            assert!(got.len() >= 2, "{q}: {got:?}");
            for s in &got {
                let again = plan_and_compile(&view, &s.question)
                    .unwrap_or_else(|d| panic!("{q} -> {}: {}", s.question, d.message));
                assert_ne!(again.planned.plan, made.planned.plan, "{}", s.question);
                kinds.insert(s.kind);
            }
            eprintln!("{q} -> {got:?}");
        }
        for k in ["drill_down", "trend", "top", "previous_period"] {
            assert!(kinds.contains(k), "no {k} suggestion: {kinds:?}");
        }
        // Never a grouping by the entity a measure counts: each group would be one.
        for q in ["headcount by store", "number of stores by region"] {
            let made = plan_and_compile(&view, q).unwrap();
            for s in suggest(&view, &made.planned.plan, |_| true) {
                assert!(
                    !s.question.contains("by employee") && !s.question.contains("by store"),
                    "{q} -> {s:?}"
                );
            }
        }
        let made = plan_and_compile(&view, "headcount by employee").unwrap();
        assert!(suggest(&view, &made.planned.plan, |_| true).is_empty());
        // The check decides: nothing allowed, nothing suggested.
        let made = plan_and_compile(&view, "revenue by region in 2024").unwrap();
        assert!(suggest(&view, &made.planned.plan, |_| false).is_empty());
    }
}
