//! The stages after an answer's rows: insights (`insights`), the chart (`chart`), and the
//! inputs they share — the [`Context`] of the question and, for a question with a date
//! range, the plan of the previous equal period (`previous_plan`), whose total the
//! `previous_period` insight compares with.

use super::chart::{self, Chart};
use super::frame::{days, Context, Frame};
use super::insights::{self, Insight};
use super::plan::{Agg, AnalysisPlan, Intent, Measure, TimeRange};
use super::About;
use crate::catalog::Catalog;

/// What the analysis stages made of a result.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The best insights, ranked.
    pub insights: Vec<Insight>,
    /// The chart, when one fits the result.
    pub chart: Option<Chart>,
}

/// The context of an answer made from `about` for `question`.
pub fn context(question: &str, about: &About) -> Context {
    let plan = about.plan.clone();
    let grain = plan
        .as_ref()
        .and_then(|p| p.dimensions.iter().find_map(|d| d.grain));
    let range = plan
        .as_ref()
        .and_then(|p| p.time.as_ref())
        .map(|t| (t.start.clone(), t.end.clone()));
    Context {
        question: question.to_string(),
        plan,
        grain,
        range,
    }
}

/// Insights (at most `max`) and the chart of `frame`.
pub fn analyse(frame: &Frame, ctx: &Context, previous: Option<&Frame>, max: usize) -> Analysis {
    Analysis {
        insights: insights::insights(frame, ctx, previous, max),
        chart: chart::choose(frame, ctx),
    }
}

/// Whether totals of `m` over rows add up to the total of the whole: sums and counts (a
/// metric whose SQL is one SUM or COUNT without a division), not averages, shares, ratios or
/// distinct counts (a customer of two stores is counted by each).
fn additive(c: &Catalog, m: &Measure) -> bool {
    match m {
        Measure::Count(_) => true,
        Measure::Aggregate { agg, .. } => *agg == Agg::Sum,
        Measure::Metric(i) => c.metrics.get(*i as usize).is_some_and(|metric| {
            let sql = metric.sql.trim().to_ascii_lowercase();
            let distinct = sql.replace(' ', "").starts_with("count(distinct");
            (sql.starts_with("sum(") || sql.starts_with("count("))
                && !sql.contains('/')
                && !distinct
        }),
    }
}

/// `plan` over the period of the same length just before its date range: a year before a
/// year, the months before a run of whole months, else as many days before. `None` when the
/// plan has no fixed range (none, or one relative to the database's clock), compares periods
/// already, or measures what does not add up over rows (an average, a share, a ratio: the
/// `previous_period` insight compares totals).
pub fn previous_plan(c: &Catalog, plan: &AnalysisPlan) -> Option<AnalysisPlan> {
    let t = plan.time.as_ref()?;
    if t.clock.is_some()
        || plan.previous.is_some()
        || plan.intent != Intent::Aggregate
        || plan.percent
        // A top N is another set of rows in the period before: its total compares nothing.
        || plan.limit.is_some()
        || !plan.measures.iter().all(|m| additive(c, m))
    {
        return None;
    }
    let (start, end) = shift(&t.start, &t.end)?;
    let mut p = plan.clone();
    p.time = Some(TimeRange {
        start,
        end,
        words: format!("the period before {}", t.words),
        ..t.clone()
    });
    Some(p)
}

fn ymd(s: &str) -> Option<(i32, u32, u32)> {
    let d = super::time::Date::parse(s)?;
    Some((d.y, d.m, d.d))
}

/// `[start, end)` moved back by its own length.
fn shift(start: &str, end: &str) -> Option<(String, String)> {
    let (sy, sm, sd) = ymd(start)?;
    let (ey, em, ed) = ymd(end)?;
    if sd == 1 && ed == 1 {
        let months = (ey * 12 + em as i32) - (sy * 12 + sm as i32);
        if months <= 0 {
            return None;
        }
        let idx = sy * 12 + (sm as i32 - 1) - months;
        let (y, m) = (idx.div_euclid(12), idx.rem_euclid(12) + 1);
        return Some((format!("{y:04}-{m:02}-01"), start.get(..10)?.to_string()));
    }
    let (a, b) = (days(start)?, days(end)?);
    let len = (b - a).round() as i64;
    if len <= 0 {
        return None;
    }
    Some((iso(a as i64 - len), start.get(..10)?.to_string()))
}

/// The ISO date of `z` days since 1970-01-01 (Howard Hinnant's civil_from_days).
pub fn iso(z: i64) -> String {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previous_periods() {
        let s = |a: &str, b: &str| shift(a, b).map(|(x, y)| format!("{x}..{y}"));
        assert_eq!(
            s("2024-01-01", "2025-01-01").as_deref(),
            Some("2023-01-01..2024-01-01")
        );
        assert_eq!(
            s("2024-10-01", "2025-01-01").as_deref(),
            Some("2024-07-01..2024-10-01")
        );
        assert_eq!(
            s("2024-03-01", "2024-04-01").as_deref(),
            Some("2024-02-01..2024-03-01")
        );
        assert_eq!(
            s("2024-01-01", "2024-03-01").as_deref(),
            Some("2023-11-01..2024-01-01")
        );
        assert_eq!(
            s("2024-11-24", "2024-11-27").as_deref(),
            Some("2024-11-21..2024-11-24")
        );
        assert_eq!(
            s("2024-03-01", "2024-03-05").as_deref(),
            Some("2024-02-26..2024-03-01")
        );
        assert_eq!(s("2024-03-01", "2024-03-01"), None);
        assert_eq!(iso(0), "1970-01-01");
        // Only totals that add up are compared with the period before.
        let view = super::super::tests::retail();
        let plan = |q: &str| {
            super::super::cache::plan_and_compile(&view, q)
                .unwrap()
                .planned
                .plan
        };
        let c = &view.catalog;
        assert!(previous_plan(c, &plan("revenue by region in 2024")).is_some());
        assert!(previous_plan(c, &plan("revenue by month in 2023")).is_some());
        for q in [
            "average order value by region in 2024",
            "top 5 customers by revenue in 2024",
            "active customers by store in 2024",
            "what percentage of revenue did each store contribute in 2024",
            "revenue by region",
        ] {
            assert!(previous_plan(c, &plan(q)).is_none(), "{q}");
        }
        assert_eq!(iso(19_723), "2024-01-01");
    }
}
