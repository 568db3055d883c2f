//! The chart agent: from an answer's shape (its [`Frame`]) and what was asked (its
//! [`Context`]), a Vega-Lite v5 spec, an SVG drawn here in Rust (no browser, no script, no
//! external fonts or URLs), and a bounded store the admin port serves them from
//! (`GET /v1/charts/<id>.svg`, `GET /v1/charts/<id>.json`).
//!
//! The rules [`choose`] follows, in order:
//!
//! - No chart for zero rows, for a result without a measure (a number column), for a `List`
//!   plan of two or more text columns, or for a shape none of the rules below fits (two time
//!   columns, three text columns, several rows of bare numbers).
//! - One row: the number itself (`text` mark, big), of the first measure.
//! - A time column and a measure: a line over time (`line`, temporal x with the plan's grain as
//!   its time unit); with a text column too, one coloured line per value of it.
//! - A text column and a measure: bars (`bar`) sorted by the measure, largest first, unless the
//!   plan orders by the measure the other way (then smallest first) or by a column (then as the
//!   rows came). Bars lie horizontal when a label is longer than 12 characters or there are
//!   more than 12 of them. A pie (`arc`) instead only for a share of a total (a `Share` plan, or
//!   a column named like `share`/`pct`/`percent` whose values add up to 100) of at most 6 parts,
//!   all of them ≥ 0.
//! - Two text columns and a measure: bars of the first, one per value of the second side by
//!   side (`xOffset`), or stacked when the plan asks for a share.
//! - Several measures: the chart draws the first (for a share, the share column); the others
//!   stay in the data and the tooltip. Measures are not folded into one axis because they
//!   rarely share a unit (revenue and order count).
//!
//! The spec and the SVG carry at most [`MAX_VALUES`] rows.

mod scale;
mod spec;
mod store;
mod svg;
mod svg_bars;
mod svg_line;

pub use store::{route, ChartId, Charts, Reply, StoredChart, CAPACITY, PREFIX};
pub use svg::svg;

use super::frame::{Cell, Context, Frame, Kind};
use super::plan::Intent;

/// Most rows a chart's data (and its SVG) carries.
pub const MAX_VALUES: usize = 500;
/// Most parts a pie has; more become bars.
pub const MAX_SLICES: usize = 6;
/// Bars lie horizontal past this many bars or this many characters in a label.
const HORIZONTAL_PAST: usize = 12;

/// The Vega-Lite mark a chart is drawn with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Lines over time.
    Line,
    /// Bars (single, side by side, or stacked).
    Bar,
    /// A pie.
    Arc,
    /// One big number.
    Text,
}

impl Mark {
    /// The Vega-Lite name.
    pub fn name(self) -> &'static str {
        match self {
            Mark::Line => "line",
            Mark::Bar => "bar",
            Mark::Arc => "arc",
            Mark::Text => "text",
        }
    }
}

/// How bars of two text columns share a band.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// One bar per band (or no bars).
    None,
    /// Side by side (`xOffset`).
    Side,
    /// Stacked.
    Stack,
}

/// In which order bars stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// As the rows came (the plan ordered by a column).
    Rows,
    /// Largest value first.
    Descending,
    /// Smallest value first.
    Ascending,
}

/// Which frame column plays which part (indexes into `Frame::columns`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoding {
    /// The time or label axis (`None` for a pie or a number).
    pub axis: Option<usize>,
    /// The measure drawn.
    pub value: usize,
    /// Lines, bar groups or pie slices by this column's values.
    pub color: Option<usize>,
    /// How grouped bars share a band.
    pub group: Group,
    /// Bars along the y axis (labels on the left).
    pub horizontal: bool,
    /// Bar order.
    pub sort: Sort,
}

/// A chart of one answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// The mark.
    pub mark: Mark,
    /// Which column plays which part.
    pub encoding: Encoding,
    /// The full Vega-Lite v5 spec, data inline.
    pub spec: serde_json::Value,
}

/// The chart for `frame` as `ctx` asked it, or `None` when no chart says more than the table
/// (see the module's rules).
pub fn choose(frame: &Frame, ctx: &Context) -> Option<Chart> {
    let (mark, encoding) = shape(frame, ctx)?;
    let spec = spec::build(frame, ctx, mark, &encoding);
    Some(Chart {
        mark,
        encoding,
        spec,
    })
}

/// The mark and encoding the rules give, before any spec is written.
fn shape(frame: &Frame, ctx: &Context) -> Option<(Mark, Encoding)> {
    let measures = frame.of_kind(Kind::Measure);
    if frame.rows.is_empty() || measures.is_empty() {
        return None;
    }
    let times = frame.of_kind(Kind::Time);
    let texts = frame.of_kind(Kind::Category);
    let intent = ctx.plan.as_ref().map(|p| p.intent);
    if intent == Some(Intent::List) && texts.len() >= 2 {
        return None;
    }
    let share = intent == Some(Intent::Share);
    let value = share_column(frame, &measures).filter(|_| share);
    let value = value.unwrap_or(measures[0]);
    let mut enc = Encoding {
        axis: None,
        value,
        color: None,
        group: Group::None,
        horizontal: false,
        sort: sort_of(ctx),
    };
    if frame.rows.len() == 1 {
        enc.value = measures[0];
        return Some((Mark::Text, enc));
    }
    match (times.as_slice(), texts.as_slice()) {
        ([t], rest) if rest.len() <= 1 => {
            enc.axis = Some(*t);
            enc.color = rest.first().copied();
            enc.sort = Sort::Rows;
            Some((Mark::Line, enc))
        }
        ([], [c]) => {
            let pie =
                share || share_column(frame, &measures).is_some_and(|m| sums_to_100(frame, m));
            if pie {
                if let Some(m) = share_column(frame, &measures) {
                    enc.value = m;
                }
                if pie_fits(frame, enc.value) {
                    enc.color = Some(*c);
                    return Some((Mark::Arc, enc));
                }
            }
            enc.axis = Some(*c);
            enc.horizontal = long_labels(frame, *c);
            Some((Mark::Bar, enc))
        }
        ([], [a, b]) => {
            enc.axis = Some(*a);
            enc.color = Some(*b);
            enc.group = if share { Group::Stack } else { Group::Side };
            enc.horizontal = long_labels(frame, *a);
            Some((Mark::Bar, enc))
        }
        _ => None,
    }
}

/// The bar order the plan asks for: by the measure (largest first unless it says otherwise),
/// or as the rows came when it orders by a column.
fn sort_of(ctx: &Context) -> Sort {
    match ctx.plan.as_ref().and_then(|p| p.order) {
        Some(o) if o.column.is_some() => Sort::Rows,
        Some(o) if !o.descending => Sort::Ascending,
        _ => Sort::Descending,
    }
}

/// A measure column named as a percentage of a total (`share_pct`, `percent_of_sales`).
fn share_column(frame: &Frame, measures: &[usize]) -> Option<usize> {
    measures.iter().copied().find(|&i| {
        let n = frame.columns[i].name.to_ascii_lowercase();
        n.contains("share") || n.contains("pct") || n.contains("percent")
    })
}

fn values(frame: &Frame, col: usize) -> impl Iterator<Item = Option<f64>> + '_ {
    frame
        .rows
        .iter()
        .take(MAX_VALUES)
        .map(move |r| r.get(col).and_then(Cell::num))
}

/// Whether the column's values add up to 100 (within rounding): the parts of a whole.
fn sums_to_100(frame: &Frame, col: usize) -> bool {
    let sum: f64 = values(frame, col).map(|v| v.unwrap_or(0.0)).sum();
    (sum - 100.0).abs() <= 1.0
}

/// A pie needs few parts, every one a number ≥ 0, and something to divide.
fn pie_fits(frame: &Frame, col: usize) -> bool {
    let vals: Vec<Option<f64>> = values(frame, col).collect();
    vals.len() <= MAX_SLICES
        && !frame.truncated()
        && vals.iter().all(|v| v.is_some_and(|x| x >= 0.0))
        && vals.iter().flatten().sum::<f64>() > 0.0
}

/// Whether labels of `col` are too long or too many to stand under vertical bars.
fn long_labels(frame: &Frame, col: usize) -> bool {
    let rows = frame.rows.iter().take(MAX_VALUES);
    let mut labels: Vec<String> = rows.filter_map(|r| r.get(col).map(Cell::label)).collect();
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    labels.sort();
    labels.dedup();
    longest > HORIZONTAL_PAST || labels.len() > HORIZONTAL_PAST
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_render;
