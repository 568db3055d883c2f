//! Lines over time in SVG: x is the time column (by day count, so gaps stay gaps), y the
//! measure (from zero when no value is negative), one line and colour per value of the colour
//! column, a point per row with a value, and at most eight time labels written at the plan's
//! grain (`2024`, `2024 Q1`, `2024-03`, `2024-03-05`).

use super::scale::{compact, full, nice_ticks, short};
use super::svg::{
    color, column_title, distinct, legend, px, rule, text, Linear, Part, INK, LEGEND, TOP, WIDTH,
};
use super::Encoding;
use crate::ask::frame::{Cell, Frame};
use std::fmt::Write;

/// Height of the plot.
const PLOT_HEIGHT: f64 = 300.0;
/// Most time labels on the x axis.
const MAX_TIME_LABELS: usize = 8;

/// One point: its series, time (days), value and the time as sent.
struct Point {
    series: usize,
    days: f64,
    value: f64,
    text: String,
}

/// The lines of `rows` as `enc` places them; `unit` is the spec's Vega-Lite time unit.
pub(super) fn draw(frame: &Frame, rows: &[&Vec<Cell>], enc: &Encoding, unit: Option<&str>) -> Part {
    let series = enc.color.map(|c| distinct(rows, c)).unwrap_or_default();
    let points = points(rows, enc, &series);
    let legend_w = if series.is_empty() { 0.0 } else { LEGEND };
    let (left, top) = (64.0, TOP);
    let (width, height) = (WIDTH - left - 28.0 - legend_w, PLOT_HEIGHT);
    let (mut d0, mut d1) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for p in &points {
        (d0, d1) = (d0.min(p.days), d1.max(p.days));
        (lo, hi) = (lo.min(p.value), hi.max(p.value));
    }
    if points.is_empty() {
        (d0, d1, lo, hi) = (0.0, 1.0, 0.0, 1.0);
    }
    if lo >= 0.0 {
        lo = 0.0;
    }
    let ticks = nice_ticks(lo, hi, 5);
    let y = Linear {
        d0: ticks[0],
        d1: ticks[ticks.len() - 1],
        r0: top + height,
        r1: top,
    };
    let x = Linear {
        d0,
        d1,
        r0: left + 8.0,
        r1: left + width - 8.0,
    };
    let mut body = String::new();
    for &t in &ticks {
        let p = y.at(t);
        let stroke = if t == 0.0 { "#888888" } else { "#e6e6e6" };
        rule(&mut body, (left, p), (left + width, p), stroke);
        text(&mut body, left - 6.0, p + 4.0, "end", 11, &compact(t));
    }
    rule(
        &mut body,
        (left, top + height),
        (left + width, top + height),
        "#888888",
    );
    time_labels(&mut body, &points, &x, top + height + 18.0, unit);
    for s in 0..series.len().max(1) {
        line(&mut body, &points, s, &x, &y);
    }
    let value_title = column_title(frame, enc.value);
    let mid = top + height / 2.0;
    let _ = write!(
        body,
        "<text x=\"14\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\" fill=\"{INK}\" transform=\"rotate(-90 14 {})\">{}</text>",
        px(mid),
        px(mid),
        super::scale::esc(&value_title)
    );
    if let Some(axis) = enc.axis {
        let t = column_title(frame, axis);
        text(
            &mut body,
            left + width / 2.0,
            top + height + 42.0,
            "middle",
            12,
            &t,
        );
    }
    if let Some(c) = enc.color {
        let title = column_title(frame, c);
        legend(&mut body, WIDTH - LEGEND + 8.0, TOP + 10.0, &title, &series);
    }
    Part {
        width: WIDTH,
        height: top + height + 60.0,
        body,
    }
}

fn points(rows: &[&Vec<Cell>], enc: &Encoding, series: &[String]) -> Vec<Point> {
    let Some(axis) = enc.axis else {
        return Vec::new();
    };
    rows.iter()
        .filter_map(|row| {
            let Some(Cell::Time { days, text }) = row.get(axis) else {
                return None;
            };
            let value = row.get(enc.value).and_then(Cell::num)?;
            let label = enc.color.and_then(|c| row.get(c)).map(Cell::label);
            let series = label
                .and_then(|l| series.iter().position(|s| *s == l))
                .unwrap_or(0);
            Some(Point {
                series,
                days: *days,
                value,
                text: text.clone(),
            })
        })
        .collect()
}

/// One series: its path and its points, in time order.
fn line(out: &mut String, points: &[Point], series: usize, x: &Linear, y: &Linear) {
    let mut mine: Vec<&Point> = points.iter().filter(|p| p.series == series).collect();
    mine.sort_by(|a, b| a.days.total_cmp(&b.days));
    if mine.is_empty() {
        return;
    }
    let c = color(series);
    let d: Vec<String> = mine
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let cmd = if i == 0 { 'M' } else { 'L' };
            format!("{cmd}{} {}", px(x.at(p.days)), px(y.at(p.value)))
        })
        .collect();
    let _ = write!(
        out,
        "<path class=\"line\" d=\"{}\" fill=\"none\" stroke=\"{c}\" stroke-width=\"2\"/>",
        d.join(" ")
    );
    for p in mine {
        let tip = format!("{}: {}", p.text, full(p.value));
        let _ = write!(
            out,
            "<circle class=\"point\" cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{c}\"><title>{}</title></circle>",
            px(x.at(p.days)),
            px(y.at(p.value)),
            super::scale::esc(&tip)
        );
    }
}

/// Up to [`MAX_TIME_LABELS`] of the distinct times, every `step`-th from the first, the step
/// the smallest that keeps labels from touching (about 6.5 px per character at 11 px).
fn time_labels(out: &mut String, points: &[Point], x: &Linear, y: f64, unit: Option<&str>) {
    let mut times: Vec<(f64, &str)> = points.iter().map(|p| (p.days, p.text.as_str())).collect();
    times.sort_by(|a, b| a.0.total_cmp(&b.0));
    times.dedup_by(|a, b| a.0 == b.0);
    let n = times.len();
    if n == 0 {
        return;
    }
    let labels: Vec<String> = times
        .iter()
        .map(|(_, raw)| short(&at_grain(raw, unit), 16))
        .collect();
    let widest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0) as f64 * 6.5 + 10.0;
    let mut step = n.div_ceil(MAX_TIME_LABELS).max(1);
    while step < n {
        let tight = (step..n)
            .step_by(step)
            .any(|i| x.at(times[i].0) - x.at(times[i - step].0) < widest);
        if !tight {
            break;
        }
        step += 1;
    }
    for i in (0..n).step_by(step) {
        text(out, x.at(times[i].0), y, "middle", 11, &labels[i]);
    }
}

/// A time as its grain shows it: `2024` for years, `2024 Q2` for quarters, `2024-05` for
/// months, the date otherwise.
fn at_grain(raw: &str, unit: Option<&str>) -> String {
    let date = raw.get(..10).unwrap_or(raw);
    match unit {
        Some("year") => date.get(..4).unwrap_or(date).to_string(),
        Some("yearquarter") => {
            let month: u32 = date.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(1);
            format!("{} Q{}", date.get(..4).unwrap_or(date), month.div_ceil(3))
        }
        Some("yearmonth") => date.get(..7).unwrap_or(date).to_string(),
        _ => date.to_string(),
    }
}
