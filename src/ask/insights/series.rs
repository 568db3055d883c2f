//! Insights on a time series: trend, change point, outlier periods, the last period's
//! change, and the total against the previous period (see the module doc of `insights`).

use super::stats::{best_split, line_sse, mann_kendall, median, outlier_p, robust_z, theil_sen};
use super::text::{amount, count, grouped, infer_grain, p_value, per, percent, period, sentence};
use super::{figures, Insight, MAX_SERIES};
use crate::ask::frame::{Cell, Context, Frame};
use crate::ask::plan::Grain;

/// Significance level of the trend and change-point tests.
const ALPHA: f64 = 0.05;
/// Largest ratio of the two-means residual sum of squares to the line's for a change point.
pub const STEP_OVER_LINE: f64 = 0.5;
/// Robust z beyond which a period or category is an outlier.
pub const OUTLIER_Z: f64 = 3.5;
/// Significance level of an outlier's prediction-t test ([`outlier_p`]): a robust z above
/// [`OUTLIER_Z`] alone fires on about 1 noise series in 10 at 12–36 periods (the MAD of so few
/// values is itself noisy), so an outlier must also pass this.
pub const OUTLIER_ALPHA: f64 = 0.01;
/// Most outlier periods reported per series.
const MAX_OUTLIERS: usize = 3;

/// One measure over time, sorted, at most [`MAX_SERIES`] periods (the last ones).
pub struct Series {
    /// The measure's column name.
    pub column: String,
    /// The measure in words.
    pub measure: String,
    /// Period labels.
    pub labels: Vec<String>,
    /// Values.
    pub ys: Vec<f64>,
    /// The grain the labels are at.
    pub grain: Grain,
    /// Periods before the cap, when the series was longer than [`MAX_SERIES`].
    pub capped: Option<usize>,
}

impl Series {
    /// The series of measure `m` over time column `t` in `rows`; `None` when fewer than
    /// 2 points remain or two rows share a time.
    pub fn from_rows<'a>(
        frame: &Frame,
        ctx: &Context,
        rows: impl Iterator<Item = &'a Vec<Cell>>,
        t: usize,
        m: usize,
    ) -> Option<Series> {
        let mut pts: Vec<(f64, &str, f64)> = rows
            .filter_map(|r| match (r.get(t)?, r.get(m)?.num()) {
                (Cell::Time { days, text }, Some(y)) if y.is_finite() && days.is_finite() => {
                    Some((*days, text.as_str(), y))
                }
                _ => None,
            })
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        if pts.len() < 2 || pts.windows(2).any(|w| w[0].0 == w[1].0) {
            return None;
        }
        let capped = (pts.len() > MAX_SERIES).then_some(pts.len());
        let pts = &pts[pts.len().saturating_sub(MAX_SERIES)..];
        let texts: Vec<&str> = pts.iter().map(|p| p.1).collect();
        let grain = ctx.grain.unwrap_or_else(|| infer_grain(&texts));
        let column = frame.columns.get(m)?.name.clone();
        Some(Series {
            measure: super::text::words(&column),
            column,
            labels: texts.iter().map(|t| period(t, grain)).collect(),
            ys: pts.iter().map(|p| p.2).collect(),
            grain,
            capped,
        })
    }

    fn capped_note(&self, insight: &mut Insight) {
        if let Some(total) = self.capped {
            insight.text.push_str(&format!(
                " (Read over the last {} of {} periods.)",
                count(self.ys.len()),
                count(total)
            ));
            insight.figures.extend(figures(&[
                ("periods_read", self.ys.len() as f64),
                ("periods_total", total as f64),
            ]));
        }
    }
}

/// Every series insight of measure `m` over time column `t`.
pub fn analyse(frame: &Frame, ctx: &Context, t: usize, m: usize) -> Vec<Insight> {
    let Some(s) = Series::from_rows(frame, ctx, frame.rows.iter(), t, m) else {
        return Vec::new();
    };
    let mut out: Vec<Insight> = trend(&s, "").into_iter().collect();
    out.extend(change_point(&s));
    out.extend(outlier_periods(&s));
    out.extend(period_change(&s));
    for i in &mut out {
        s.capped_note(i);
    }
    out
}

/// The Theil-Sen line `(intercept, slope)` over `(index, y)`, intercept the median of
/// `y - slope·i`.
pub fn line(ys: &[f64]) -> Option<(f64, f64)> {
    let pts: Vec<(f64, f64)> = ys.iter().enumerate().map(|(i, y)| (i as f64, *y)).collect();
    let slope = theil_sen(&pts)?;
    let mut rest: Vec<f64> = pts.iter().map(|(x, y)| y - slope * x).collect();
    Some((median(&mut rest)?, slope))
}

/// `trend`: a significant Mann-Kendall trend with the Theil-Sen line's change; `lead`
/// begins the text (for the strongest of several series).
pub fn trend(s: &Series, lead: &str) -> Option<Insight> {
    let mk = mann_kendall(&s.ys)?;
    let (intercept, slope) = line(&s.ys)?;
    if mk.p >= ALPHA || slope == 0.0 || (slope > 0.0) != (mk.s > 0.0) {
        return None;
    }
    let n = s.ys.len();
    let first = intercept;
    let last = intercept + slope * (n - 1) as f64;
    let verb = if slope > 0.0 { "rose" } else { "fell" };
    let (from, to) = (&s.labels[0], &s.labels[n - 1]);
    let mut figs = vec![("fit_first", first), ("fit_last", last), ("slope", slope)];
    let change = if first > 0.0 {
        let pct = (last - first) / first * 100.0;
        figs.push(("change_pct", pct));
        format!("{verb} {} from {from} to {to}", percent(pct))
    } else {
        format!("{verb} from {from} to {to}")
    };
    figs.extend([("s", mk.s), ("p", mk.p)]);
    let text = format!(
        "{lead}{} {change} along its trend line ({} → {}, {}{} {}); the trend is significant \
         (Mann-Kendall S = {}, {}).",
        if lead.is_empty() {
            sentence(&s.measure)
        } else {
            s.measure.clone()
        },
        amount(first),
        amount(last),
        if slope > 0.0 { "+" } else { "" },
        amount(slope),
        per(s.grain),
        grouped(mk.s, 0),
        p_value(mk.p),
    );
    let impact = relative(first, last);
    Some(Insight {
        kind: "trend",
        text,
        score: (1.0 - mk.p) * impact,
        columns: vec![s.column.clone()],
        figures: figures(&figs),
    })
}

/// |b − a| relative to the larger of |a| and |b|, at most 1 (0 when both are 0).
fn relative(a: f64, b: f64) -> f64 {
    let scale = a.abs().max(b.abs());
    if scale > 0.0 {
        ((b - a).abs() / scale).min(1.0)
    } else {
        0.0
    }
}

/// `change_point`: a level shift that two means explain at least twice as well as a line
/// (residual sum of squares at most [`STEP_OVER_LINE`] of the line's), so a trend with a
/// spike is not called a shift.
pub fn change_point(s: &Series) -> Option<Insight> {
    let sp = best_split(&s.ys)?;
    if sp.p >= ALPHA || sp.sse > STEP_OVER_LINE * line_sse(&s.ys) || sp.before == sp.after {
        return None;
    }
    let label = &s.labels[sp.at];
    let mut figs = vec![("mean_before", sp.before), ("mean_after", sp.after)];
    let mut text = format!(
        "{} shifted at {label}: it averaged {} before and {} from then on",
        sentence(&s.measure),
        amount(sp.before),
        amount(sp.after)
    );
    if sp.before > 0.0 {
        let pct = (sp.after - sp.before) / sp.before * 100.0;
        figs.push(("shift_pct", pct));
        let dir = if pct > 0.0 { "up" } else { "down" };
        text.push_str(&format!(" ({dir} {})", percent(pct)));
    }
    text.push('.');
    Some(Insight {
        kind: "change_point",
        text,
        score: (1.0 - sp.p) * relative(sp.before, sp.after),
        columns: vec![s.column.clone()],
        figures: figures(&figs),
    })
}

/// `outlier_period`: periods whose residual from the Theil-Sen line has a robust z above
/// [`OUTLIER_Z`] and that pass [`outlier_p`] at [`OUTLIER_ALPHA`] (at most [`MAX_OUTLIERS`],
/// largest first; series of 6 periods or more).
pub fn outlier_periods(s: &Series) -> Vec<Insight> {
    let n = s.ys.len();
    let Some((intercept, slope)) = line(&s.ys).filter(|_| n >= 6) else {
        return Vec::new();
    };
    let expected: Vec<f64> = (0..n).map(|i| intercept + slope * i as f64).collect();
    let resid: Vec<f64> = s.ys.iter().zip(&expected).map(|(y, e)| y - e).collect();
    let Some(z) = robust_z(&resid) else {
        return Vec::new();
    };
    let mean_abs = s.ys.iter().map(|y| y.abs()).sum::<f64>() / n as f64;
    let mut idx: Vec<(usize, f64)> = (0..n)
        .filter(|&i| z[i].abs() > OUTLIER_Z)
        .filter_map(|i| Some((i, outlier_p(&resid, i)?)))
        .filter(|&(_, p)| p < OUTLIER_ALPHA)
        .collect();
    idx.sort_by(|&(a, _), &(b, _)| z[b].abs().total_cmp(&z[a].abs()));
    idx.into_iter()
        .take(MAX_OUTLIERS)
        .map(|(i, p)| {
            let side = if z[i] > 0.0 { "above" } else { "below" };
            let text = format!(
                "{} stands out: {} was {}, far {side} the {} expected from the trend \
                 (robust z = {}).",
                s.labels[i],
                s.measure,
                amount(s.ys[i]),
                amount(expected[i]),
                grouped(z[i], 1)
            );
            let scale = expected[i].abs().max(mean_abs);
            let impact = if scale > 0.0 {
                (resid[i].abs() / scale).min(1.0)
            } else {
                0.0
            };
            Insight {
                kind: "outlier_period",
                text,
                score: (1.0 - p) * impact,
                columns: vec![s.column.clone()],
                figures: figures(&[("value", s.ys[i]), ("expected", expected[i]), ("z", z[i])]),
            }
        })
        .collect()
}

/// `period_change`: the last period against the one before (a positive base only).
pub fn period_change(s: &Series) -> Option<Insight> {
    let n = s.ys.len();
    let (prev, last) = (*s.ys.get(n.checked_sub(2)?)?, *s.ys.last()?);
    if prev <= 0.0 || last == prev {
        return None;
    }
    let pct = (last - prev) / prev * 100.0;
    let verb = if pct > 0.0 { "rose" } else { "fell" };
    let text = format!(
        "{} {verb} {} in {} from {} ({} against {}).",
        sentence(&s.measure),
        percent(pct),
        s.labels[n - 1],
        s.labels[n - 2],
        amount(last),
        amount(prev)
    );
    let diffs: Vec<f64> = s.ys.windows(2).map(|w| w[1] - w[0]).collect();
    let significance = match robust_z(&diffs).and_then(|z| z.last().copied()) {
        Some(z) if diffs.len() >= 3 => 1.0 - (-z.abs() / OUTLIER_Z).exp(),
        _ => 0.5,
    };
    Some(Insight {
        kind: "period_change",
        text,
        score: significance * (pct.abs() / 100.0).min(1.0),
        columns: vec![s.column.clone()],
        figures: figures(&[("last", last), ("previous", prev), ("change_pct", pct)]),
    })
}

/// Long format (time × category): the strongest per-category trend, when it survives
/// Bonferroni over the categories.
pub fn strongest_trend(
    frame: &Frame,
    ctx: &Context,
    t: usize,
    c: usize,
    m: usize,
) -> Option<Insight> {
    let mut labels: Vec<&str> = frame
        .rows
        .iter()
        .filter_map(|r| match r.get(c)? {
            Cell::Text(s) => Some(s.as_str()),
            _ => None,
        })
        .collect();
    labels.sort_unstable();
    labels.dedup();
    let cats = labels.len();
    let mut best: Option<(f64, Insight)> = None;
    for label in labels {
        let rows = frame
            .rows
            .iter()
            .filter(|r| matches!(r.get(c), Some(Cell::Text(s)) if s == label));
        let Some(s) = Series::from_rows(frame, ctx, rows, t, m) else {
            continue;
        };
        let Some(p) = mann_kendall(&s.ys).map(|mk| mk.p) else {
            continue;
        };
        if p * cats as f64 >= ALPHA || best.as_ref().is_some_and(|(bp, _)| *bp <= p) {
            continue;
        }
        let lead = if cats == 1 {
            format!("{label}: its ")
        } else {
            format!(
                "Of {} {}, {label} has the strongest trend: its ",
                count(cats),
                super::text::plural(&frame.columns[c].name)
            )
        };
        if let Some(mut i) = trend(&s, &lead) {
            i.figures.extend(figures(&[("categories", cats as f64)]));
            i.columns.insert(0, frame.columns[c].name.clone());
            s.capped_note(&mut i);
            best = Some((p, i));
        }
    }
    best.map(|(_, i)| i)
}

/// `previous_period`: each measure's total against the same column's total in `previous`.
pub fn previous_period(frame: &Frame, previous: &Frame, measures: &[usize]) -> Vec<Insight> {
    if frame.truncated() || previous.truncated() {
        return Vec::new();
    }
    measures
        .iter()
        .filter_map(|&m| {
            let column = &frame.columns.get(m)?.name;
            let pm = previous.columns.iter().position(|c| &c.name == column)?;
            let total = column_total(frame, m)?;
            let before = column_total(previous, pm)?;
            if before <= 0.0 || total == before {
                return None;
            }
            let pct = (total - before) / before * 100.0;
            // Below what the text can show (0.0 %): nothing to say.
            if pct.abs() < 0.05 {
                return None;
            }
            let dir = if pct > 0.0 { "up" } else { "down" };
            let text = format!(
                "{} came to {} in total, {dir} {} from {} in the previous period.",
                sentence(&super::text::words(column)),
                amount(total),
                percent(pct),
                amount(before)
            );
            Some(Insight {
                kind: "previous_period",
                text,
                score: 0.5 * (pct.abs() / 100.0).min(1.0),
                columns: vec![column.clone()],
                figures: figures(&[
                    ("total", total),
                    ("previous_total", before),
                    ("change_pct", pct),
                ]),
            })
        })
        .collect()
}

/// The sum of column `m`'s numbers; `None` when it has none.
fn column_total(frame: &Frame, m: usize) -> Option<f64> {
    let nums: Vec<f64> = frame.rows.iter().filter_map(|r| r.get(m)?.num()).collect();
    (!nums.is_empty()).then(|| nums.iter().sum())
}
