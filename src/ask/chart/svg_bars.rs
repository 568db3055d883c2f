//! Bars in SVG: one band per label of the axis column, ordered as the encoding sorts them; in
//! a band one bar, bars side by side (one per group), or a stack (positive values up from zero,
//! negative ones down). Vertical bars have a value axis on the left; horizontal ones, for long
//! or many labels, have their labels on the left and the values below.

use super::scale::{compact, full, nice_ticks, short};
use super::svg::{
    color, column_title, distinct, legend, px, rule, text, Linear, Part, INK, LEGEND, TOP, WIDTH,
};
use super::{Encoding, Group, Sort};
use crate::ask::frame::{Cell, Frame};
use std::fmt::Write;

/// Height of a vertical chart's plot.
const PLOT_HEIGHT: f64 = 300.0;
/// Tallest a horizontal chart's plot grows.
const MAX_PLOT_HEIGHT: f64 = 1600.0;

/// One bar to draw.
struct Bar {
    band: usize,
    group: usize,
    value: f64,
    tip: String,
}

/// The bars of `rows` as `enc` places them.
pub(super) fn draw(frame: &Frame, rows: &[&Vec<Cell>], enc: &Encoding) -> Part {
    let Some(axis) = enc.axis else {
        return Part {
            width: WIDTH,
            height: TOP,
            body: String::new(),
        };
    };
    let labels = distinct(rows, axis);
    let groups = enc.color.map(|c| distinct(rows, c)).unwrap_or_default();
    let bars = bars(rows, enc, axis, &labels, &groups);
    let order = band_order(&labels, &bars, enc.sort);
    let (lo, hi) = domain(&bars, labels.len(), enc.group == Group::Stack);
    let ticks = nice_ticks(lo, hi, 5);
    let (t0, t1) = (ticks[0], ticks[ticks.len() - 1]);
    let legend_w = if groups.is_empty() { 0.0 } else { LEGEND };
    let n = labels.len().max(1) as f64;
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let mut body = String::new();
    let frame_part = if enc.horizontal {
        let left = (longest.min(28) as f64 * 6.6 + 14.0).max(60.0);
        let band = (MAX_PLOT_HEIGHT / n).min(28.0);
        let plot = Plot {
            left,
            top: TOP,
            width: WIDTH - left - 28.0 - legend_w,
            height: band * n,
        };
        let scale = Linear {
            d0: t0,
            d1: t1,
            r0: plot.left,
            r1: plot.left + plot.width,
        };
        value_axis(&mut body, &plot, &ticks, &scale, true);
        band_labels(&mut body, &plot, &labels, &order, true);
        (plot, scale)
    } else {
        let left = 64.0;
        let plot = Plot {
            left,
            top: TOP,
            width: WIDTH - left - 24.0 - legend_w,
            height: PLOT_HEIGHT,
        };
        let scale = Linear {
            d0: t0,
            d1: t1,
            r0: plot.top + plot.height,
            r1: plot.top,
        };
        value_axis(&mut body, &plot, &ticks, &scale, false);
        band_labels(&mut body, &plot, &labels, &order, false);
        (plot, scale)
    };
    let (plot, scale) = frame_part;
    rects(&mut body, &plot, &scale, &bars, &order, enc, groups.len());
    let bottom = if enc.horizontal { 44.0 } else { 96.0 };
    if let Some(c) = enc.color {
        let title = column_title(frame, c);
        legend(&mut body, WIDTH - LEGEND + 8.0, TOP + 10.0, &title, &groups);
    }
    let value_title = column_title(frame, enc.value);
    if enc.horizontal {
        let x = plot.left + plot.width / 2.0;
        text(
            &mut body,
            x,
            plot.top + plot.height + 38.0,
            "middle",
            12,
            &value_title,
        );
    } else {
        let _ = write!(
            body,
            "<text x=\"14\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\" fill=\"{INK}\" transform=\"rotate(-90 14 {})\">{}</text>",
            px(plot.top + plot.height / 2.0),
            px(plot.top + plot.height / 2.0),
            super::scale::esc(&value_title)
        );
    }
    Part {
        width: WIDTH,
        height: (plot.top + plot.height + bottom).max(160.0),
        body,
    }
}

/// Where the bars go.
struct Plot {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
}

fn bars(
    rows: &[&Vec<Cell>],
    enc: &Encoding,
    axis: usize,
    labels: &[String],
    groups: &[String],
) -> Vec<Bar> {
    rows.iter()
        .filter_map(|row| {
            let value = row.get(enc.value).and_then(Cell::num)?;
            let label = row.get(axis).map(Cell::label).unwrap_or_default();
            let band = labels.iter().position(|l| *l == label)?;
            let (group, tip) = match enc.color.and_then(|c| row.get(c)).map(Cell::label) {
                Some(g) => (
                    groups.iter().position(|x| *x == g).unwrap_or(0),
                    format!("{label} · {g}: {}", full(value)),
                ),
                None => (0, format!("{label}: {}", full(value))),
            };
            Some(Bar {
                band,
                group,
                value,
                tip,
            })
        })
        .collect()
}

/// The position of each label's band: `order[label] = slot`.
fn band_order(labels: &[String], bars: &[Bar], sort: Sort) -> Vec<usize> {
    let mut totals = vec![0.0; labels.len()];
    for b in bars {
        totals[b.band] += b.value;
    }
    let mut idx: Vec<usize> = (0..labels.len()).collect();
    match sort {
        Sort::Rows => {}
        Sort::Descending => idx.sort_by(|a, b| totals[*b].total_cmp(&totals[*a])),
        Sort::Ascending => idx.sort_by(|a, b| totals[*a].total_cmp(&totals[*b])),
    }
    let mut order = vec![0; labels.len()];
    for (slot, label) in idx.into_iter().enumerate() {
        order[label] = slot;
    }
    order
}

/// The value range the axis must cover, zero included (stacks by their sums).
fn domain(bars: &[Bar], bands: usize, stacked: bool) -> (f64, f64) {
    if stacked {
        let (mut pos, mut neg) = (vec![0.0f64; bands], vec![0.0f64; bands]);
        for b in bars {
            if b.value >= 0.0 {
                pos[b.band] += b.value;
            } else {
                neg[b.band] += b.value;
            }
        }
        let hi = pos.iter().copied().fold(0.0, f64::max);
        let lo = neg.iter().copied().fold(0.0, f64::min);
        return (lo, hi);
    }
    bars.iter().fold((0.0f64, 0.0f64), |(lo, hi), b| {
        (lo.min(b.value), hi.max(b.value))
    })
}

fn value_axis(out: &mut String, plot: &Plot, ticks: &[f64], scale: &Linear, horizontal: bool) {
    for &t in ticks {
        let p = scale.at(t);
        let stroke = if t == 0.0 { "#888888" } else { "#e6e6e6" };
        if horizontal {
            rule(out, (p, plot.top), (p, plot.top + plot.height), stroke);
            text(
                out,
                p,
                plot.top + plot.height + 16.0,
                "middle",
                11,
                &compact(t),
            );
        } else {
            rule(out, (plot.left, p), (plot.left + plot.width, p), stroke);
            text(out, plot.left - 6.0, p + 4.0, "end", 11, &compact(t));
        }
    }
}

/// The labels of the bands; when there are more than fit, every k-th.
fn band_labels(
    out: &mut String,
    plot: &Plot,
    labels: &[String],
    order: &[usize],
    horizontal: bool,
) {
    let n = labels.len().max(1);
    let extent = if horizontal { plot.height } else { plot.width };
    let band = extent / n as f64;
    let fit = ((extent / if horizontal { 12.0 } else { 14.0 }) as usize).max(1);
    let every = n.div_ceil(fit);
    for (i, label) in labels.iter().enumerate() {
        let slot = order[i];
        if !slot.is_multiple_of(every) {
            continue;
        }
        let mid = slot as f64 * band + band / 2.0;
        if horizontal {
            let y = plot.top + mid + 4.0;
            text(out, plot.left - 6.0, y, "end", 11, &short(label, 28));
        } else {
            let (x, y) = (plot.left + mid, plot.top + plot.height + 14.0);
            let _ = write!(
                out,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"11\" fill=\"{INK}\" transform=\"rotate(-40 {} {})\">{}</text>",
                px(x),
                px(y),
                px(x),
                px(y),
                super::scale::esc(&short(label, 14))
            );
        }
    }
}

fn rects(
    out: &mut String,
    plot: &Plot,
    scale: &Linear,
    bars: &[Bar],
    order: &[usize],
    enc: &Encoding,
    groups: usize,
) {
    let n = order.len().max(1) as f64;
    let extent = if enc.horizontal {
        plot.height
    } else {
        plot.width
    };
    let band = extent / n;
    let inner = band * 0.8;
    let side = enc.group == Group::Side && groups > 1;
    let thick = if side { inner / groups as f64 } else { inner };
    let (mut pos, mut neg) = (vec![0.0f64; order.len()], vec![0.0f64; order.len()]);
    for b in bars {
        let start = order[b.band] as f64 * band + band * 0.1;
        let offset = if side { b.group as f64 * thick } else { 0.0 };
        let base = if enc.group == Group::Stack {
            let acc = if b.value >= 0.0 {
                &mut pos[b.band]
            } else {
                &mut neg[b.band]
            };
            let base = *acc;
            *acc += b.value;
            base
        } else {
            0.0
        };
        let (v0, v1) = (scale.at(base), scale.at(base + b.value));
        let (lo, len) = (v0.min(v1), (v1 - v0).abs());
        let (x, y, w, h) = if enc.horizontal {
            (lo, plot.top + start + offset, len, thick)
        } else {
            (plot.left + start + offset, lo, thick, len)
        };
        let fill = if enc.color.is_some() {
            color(b.group)
        } else {
            color(0)
        };
        let _ = write!(
            out,
            "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{fill}\"><title>{}</title></rect>",
            px(x),
            px(y),
            px(w),
            px(h),
            super::scale::esc(&b.tip)
        );
    }
}
