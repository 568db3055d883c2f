//! Insights on a breakdown (a category column and a measure) and between measures:
//! leader, laggard, concentration, outlier categories, correlation (see the module doc
//! of `insights`).

use super::series::{OUTLIER_ALPHA, OUTLIER_Z};
use super::stats::{median, outlier_p, pearson, robust_z, spearman, top_k_share};
use super::text::{amount, count, grouped, p_value, percent, plural, ratio, sentence, words};
use super::{figures, Insight};
use crate::ask::frame::{Cell, Frame};

/// Smallest |r| reported.
const MIN_R: f64 = 0.5;
/// Fewest rows a correlation reads.
const MIN_PAIRS: usize = 5;
/// Leaders at least this many times the median; laggards at most its inverse.
const LEAD_RATIO: f64 = 1.5;
/// Smallest excess of the top-k share over an even split, (share − k/n)/(1 − k/n).
const MIN_EXCESS: f64 = 0.3;

/// A breakdown: labels, values, names.
struct Breakdown {
    items: Vec<(String, f64)>,
    category: String,
    measure: String,
    columns: Vec<String>,
}

/// Every breakdown insight of measure `m` by category column `c`; nothing when labels
/// repeat or fewer than 3 categories have a value.
pub fn analyse(frame: &Frame, c: usize, m: usize) -> Vec<Insight> {
    let (Some(cc), Some(mc)) = (frame.columns.get(c), frame.columns.get(m)) else {
        return Vec::new();
    };
    let items: Vec<(String, f64)> = frame
        .rows
        .iter()
        // A NULL group is no category to lead or lag.
        .filter(|r| !matches!(r.get(c), Some(Cell::Null)))
        .filter_map(|r| Some((r.get(c)?.label(), r.get(m)?.num()?)))
        .filter(|(_, v)| v.is_finite())
        .collect();
    let mut labels: Vec<&str> = items.iter().map(|i| i.0.as_str()).collect();
    labels.sort_unstable();
    labels.dedup();
    if items.len() < 3 || labels.len() != items.len() {
        return Vec::new();
    }
    let b = Breakdown {
        items,
        category: cc.name.clone(),
        measure: words(&mc.name),
        columns: vec![cc.name.clone(), mc.name.clone()],
    };
    let mut out = outlier_categories(&b);
    let values: Vec<f64> = b.items.iter().map(|i| i.1).collect();
    let total: f64 = values.iter().sum();
    if total <= 0.0 || values.iter().any(|v| *v < 0.0) {
        return out;
    }
    let Some(med) = median(&mut values.clone()) else {
        return out;
    };
    out.extend(leader(&b, total, med));
    out.extend(laggard(&b, total, med));
    out.extend(concentration(&b, &values));
    out
}

/// `leader`: the largest value, when at least [`LEAD_RATIO`] times the median.
fn leader(b: &Breakdown, total: f64, med: f64) -> Option<Insight> {
    let (label, value) = b.items.iter().max_by(|x, y| x.1.total_cmp(&y.1))?;
    if med <= 0.0 || value / med < LEAD_RATIO {
        return None;
    }
    let (share, r) = (value / total, value / med);
    Some(Insight {
        kind: "leader",
        text: format!(
            "{label} leads with {} {}, {} of the total and {} the median {} ({}).",
            amount(*value),
            b.measure,
            percent(share * 100.0),
            ratio(r),
            words(&b.category),
            amount(med)
        ),
        score: (1.0 - 1.0 / r) * share,
        columns: b.columns.clone(),
        figures: figures(&[
            ("value", *value),
            ("share_pct", share * 100.0),
            ("ratio_to_median", r),
            ("median", med),
        ]),
    })
}

/// `laggard`: the smallest value, when at most half the median.
fn laggard(b: &Breakdown, total: f64, med: f64) -> Option<Insight> {
    let (label, value) = b.items.iter().min_by(|x, y| x.1.total_cmp(&y.1))?;
    if med <= 0.0 || value / med > 0.5 {
        return None;
    }
    let (share, r) = (value / total, value / med);
    Some(Insight {
        kind: "laggard",
        text: format!(
            "{label} trails with {} {}, {} of the total and {} of the median {} ({}).",
            amount(*value),
            b.measure,
            percent(share * 100.0),
            percent(r * 100.0),
            words(&b.category),
            amount(med)
        ),
        score: (1.0 - r) * ((med - value) / total).min(1.0),
        columns: b.columns.clone(),
        figures: figures(&[
            ("value", *value),
            ("share_pct", share * 100.0),
            ("median_pct", r * 100.0),
            ("median", med),
        ]),
    })
}

/// `concentration`: the top-k share (k = min(3, n/2)) and how many categories make 80 %,
/// when the top k hold clearly more than an even split (4 categories or more).
fn concentration(b: &Breakdown, values: &[f64]) -> Option<Insight> {
    let n = values.len();
    let k = (n / 2).min(3);
    if n < 4 || k == 0 {
        return None;
    }
    let share = top_k_share(values, k)?;
    let even = k as f64 / n as f64;
    let excess = (share - even) / (1.0 - even);
    if excess < MIN_EXCESS {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let total: f64 = sorted.iter().sum();
    let mut run = 0.0;
    let pareto = sorted
        .iter()
        .position(|v| {
            run += v;
            run >= 0.8 * total
        })
        .map_or(n, |i| i + 1);
    Some(Insight {
        kind: "concentration",
        text: format!(
            "The top {} of {} {} make {} of {}; {} of them make four fifths of it.",
            count(k),
            count(n),
            plural(&b.category),
            percent(share * 100.0),
            b.measure,
            count(pareto)
        ),
        score: excess * share,
        columns: b.columns.clone(),
        figures: figures(&[
            ("top_k", k as f64),
            ("categories", n as f64),
            ("top_k_share_pct", share * 100.0),
            ("pareto_count", pareto as f64),
        ]),
    })
}

/// `outlier_category`: values with a robust z above [`OUTLIER_Z`] that pass [`outlier_p`]
/// at [`OUTLIER_ALPHA`] (at most 2, largest first).
fn outlier_categories(b: &Breakdown) -> Vec<Insight> {
    let values: Vec<f64> = b.items.iter().map(|i| i.1).collect();
    let (Some(z), Some(med)) = (robust_z(&values), median(&mut values.clone())) else {
        return Vec::new();
    };
    let abs_total: f64 = values.iter().map(|v| v.abs()).sum();
    let mut idx: Vec<(usize, f64)> = (0..values.len())
        .filter(|&i| z[i].abs() > OUTLIER_Z)
        .filter_map(|i| Some((i, outlier_p(&values, i)?)))
        .filter(|&(_, p)| p < OUTLIER_ALPHA)
        .collect();
    idx.sort_by(|&(x, _), &(y, _)| z[y].abs().total_cmp(&z[x].abs()));
    idx.into_iter()
        .take(2)
        .map(|(i, p)| {
            let (label, value) = &b.items[i];
            let side = if z[i] > 0.0 { "above" } else { "below" };
            Insight {
                kind: "outlier_category",
                text: format!(
                    "{label} is far {side} the other {}: {} {} against a median of {} \
                     (robust z = {}).",
                    plural(&b.category),
                    amount(*value),
                    b.measure,
                    amount(med),
                    grouped(z[i], 1)
                ),
                score: (1.0 - p)
                    * if abs_total > 0.0 {
                        value.abs() / abs_total
                    } else {
                        0.0
                    },
                columns: b.columns.clone(),
                figures: figures(&[("value", *value), ("median", med), ("z", z[i])]),
            }
        })
        .collect()
}

/// `correlation`: each pair of `measures` over the rows where both have a number.
pub fn correlations(frame: &Frame, measures: &[usize]) -> Vec<Insight> {
    let mut out = Vec::new();
    for (i, &a) in measures.iter().enumerate() {
        for &b in &measures[i + 1..] {
            out.extend(correlation(frame, a, b));
        }
    }
    out
}

fn correlation(frame: &Frame, a: usize, b: usize) -> Option<Insight> {
    let pairs: Vec<(f64, f64)> = frame
        .rows
        .iter()
        .filter_map(|r| Some((r.get(a).and_then(Cell::num)?, r.get(b).and_then(Cell::num)?)))
        .collect();
    if pairs.len() < MIN_PAIRS {
        return None;
    }
    let (r, p) = pearson(&pairs)?;
    let rho = spearman(&pairs)?;
    if r.abs() < MIN_R || p >= 0.05 {
        return None;
    }
    let (na, nb) = (&frame.columns[a].name, &frame.columns[b].name);
    let how = if r > 0.0 {
        "move together"
    } else {
        "move in opposite directions"
    };
    Some(Insight {
        kind: "correlation",
        text: format!(
            "{} and {} {how} across {} rows: Pearson r = {} ({}), Spearman ρ = {}.",
            sentence(&words(na)),
            words(nb),
            count(pairs.len()),
            grouped(r, 2),
            p_value(p),
            grouped(rho, 2)
        ),
        score: (1.0 - p) * r.abs(),
        columns: vec![na.clone(), nb.clone()],
        figures: figures(&[("n", pairs.len() as f64), ("r", r), ("p", p), ("rho", rho)]),
    })
}
