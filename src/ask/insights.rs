//! The insight agent (issue 12): deterministic statistics on an answer's rows, no model.
//! [`insights`] reads a [`Frame`] and returns the few findings worth a sentence, each with
//! every number its text states as a [`Figure`] (unrounded) so a test can recompute it.
//!
//! What it looks at, by the frame's shape (the first column of a kind is the one used;
//! at most [`MAX_MEASURES`] measures):
//!
//! - **A time series** (a time column, measures, unique times; rows sorted by time here):
//!   `trend` (Mann-Kendall, reported only when p < 0.05, with the Theil-Sen line's change
//!   from the first to the last period), `change_point` (the split with the largest pooled
//!   t statistic, each side at least 3 periods, reported when the Bonferroni bound over all
//!   candidate splits is below 0.05 *and* two means leave at most half the residual sum of
//!   squares a straight line leaves, so a plain trend, or a trend with a spike, is not
//!   called a shift), `outlier_period` (robust z > 3.5 of the residuals
//!   from the Theil-Sen line, confirmed by a prediction-t test against the other residuals,
//!   Bonferroni over the periods, p < 0.01), `period_change` (the last period against the one before).
//!   Mann-Kendall and Theil-Sen are quadratic: a series reads at most the last
//!   [`MAX_SERIES`] periods and its texts say so.
//! - **Time × category** (long format, e.g. month × region): each category's series is
//!   tested for a trend and only the strongest is reported, when it survives Bonferroni
//!   over the number of categories; the other series statistics are skipped (a per-category
//!   shift or outlier among many series is mostly noise).
//! - **A breakdown** (a category column with unique labels, at least 3): `leader` and
//!   `laggard` (share of the total; ratio to the median, as a percent for the laggard), `concentration` (top-k share,
//!   k = min(3, n/2), and how many categories make 80 %), `outlier_category` (robust z >
//!   3.5, confirmed as for periods). Shares need a positive total and no negative value.
//! - **Any frame of several rows**: `correlation` between two measures (Pearson r with
//!   Fisher's p, Spearman ρ; reported when |r| ≥ 0.5, p < 0.05, n ≥ 5).
//! - **With `previous`** (the same query over the previous period): `previous_period`,
//!   the total against the previous total (measures are summed over the rows; skipped when
//!   either frame was truncated or the previous total is not positive).
//!
//! A single row says nothing without `previous`. When the frame was truncated the first
//! insight's text begins with the rows it read.
//!
//! **Score** = significance × impact, each in 0..=1:
//!
//! | kind | significance | impact |
//! | --- | --- | --- |
//! | trend | 1 − p | \|line change\| / max(\|line start\|, \|line end\|) |
//! | change_point | 1 − Bonferroni p | \|after − before\| / max(\|before\|, \|after\|) |
//! | outlier_period, outlier_category | 1 − Bonferroni p of the prediction t | deviation / typical (period), share of Σ\|x\| (category) |
//! | period_change | 1 − e^(−\|z\|/3.5), z of the last change among all changes (0.5 without spread) | min(1, \|%\|/100) |
//! | previous_period | 0.5 (one comparison, no test) | min(1, \|%\|/100) |
//! | leader / laggard | 1 − median/value / 1 − value/median | share / (median − value)/total |
//! | concentration | (top-k share − k/n)/(1 − k/n) | top-k share |
//! | correlation | 1 − p | \|r\| |
//!
//! Every division by a total, a median or a base skips its insight when that is not
//! positive; NaN and NULL cells are left out; nothing here panics on an empty frame.

pub mod breakdown;
pub mod series;
pub mod stats;
pub mod text;

use super::frame::{Context, Frame, Kind};

/// Most measures read per frame.
pub const MAX_MEASURES: usize = 3;
/// Most periods a series reads (the last ones).
pub const MAX_SERIES: usize = stats::MAX_THEIL_SEN;

/// One number an insight's text states, unrounded.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// What it is (`change_pct`, `share_pct`, `p`, ...).
    pub name: String,
    /// Its value.
    pub value: f64,
}

/// A finding worth a sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct Insight {
    /// `trend`, `change_point`, `outlier_period`, `period_change`, `previous_period`,
    /// `leader`, `laggard`, `concentration`, `outlier_category` or `correlation`.
    pub kind: &'static str,
    /// The sentence.
    pub text: String,
    /// Significance × impact, 0..=1 (see the module doc).
    pub score: f64,
    /// The columns it is about.
    pub columns: Vec<String>,
    /// Every number `text` states.
    pub figures: Vec<Figure>,
}

impl Insight {
    /// The figure named `name`.
    pub fn figure(&self, name: &str) -> Option<f64> {
        self.figures
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.value)
    }
}

/// Figures from `(name, value)` pairs.
pub(crate) fn figures(pairs: &[(&str, f64)]) -> Vec<Figure> {
    pairs
        .iter()
        .map(|(name, value)| Figure {
            name: (*name).to_string(),
            value: *value,
        })
        .collect()
}

/// Best `max` insights of `frame`, ranked by significance × impact (score in 0..=1,
/// descending). `previous`: the same query over the previous equal period, when the
/// question had a date range (may be None).
pub fn insights(
    frame: &Frame,
    ctx: &Context,
    previous: Option<&Frame>,
    max: usize,
) -> Vec<Insight> {
    if max == 0 || frame.rows.is_empty() {
        return Vec::new();
    }
    let measures: Vec<usize> = frame
        .of_kind(Kind::Measure)
        .into_iter()
        .take(MAX_MEASURES)
        .collect();
    let time = frame.of_kind(Kind::Time).first().copied();
    let category = frame.of_kind(Kind::Category).first().copied();
    let mut out = Vec::new();
    if frame.rows.len() > 1 {
        for &m in &measures {
            match (time, category) {
                (Some(t), None) => out.extend(series::analyse(frame, ctx, t, m)),
                (Some(t), Some(c)) => out.extend(series::strongest_trend(frame, ctx, t, c, m)),
                (None, Some(c)) => out.extend(breakdown::analyse(frame, c, m)),
                (None, None) => {}
            }
        }
        out.extend(breakdown::correlations(frame, &measures));
    }
    if let Some(prev) = previous {
        out.extend(series::previous_period(frame, prev, &measures));
    }
    out.retain(|i| i.score.is_finite() && i.figures.iter().all(|f| f.value.is_finite()));
    for i in &mut out {
        i.score = i.score.clamp(0.0, 1.0);
    }
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out.truncate(max);
    if frame.truncated() {
        if let Some(first) = out.first_mut() {
            note_truncation(first, frame);
        }
    }
    out
}

/// Begins `first`'s text with the rows the agent read.
fn note_truncation(first: &mut Insight, frame: &Frame) {
    let read = frame.rows.len();
    first.text = format!(
        "(Based on the first {} of {} rows.) {}",
        text::count(read),
        text::grouped(frame.seen as f64, 0),
        first.text
    );
    first.figures.extend(figures(&[
        ("rows_read", read as f64),
        ("rows_total", frame.seen as f64),
    ]));
}

#[cfg(test)]
mod tests;
