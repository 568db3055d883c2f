//! The SVG of a chart, drawn here: a self-contained document (no script, no external font, no
//! URL but the SVG namespace) of bounded size. Every text that comes from the data or the
//! question is escaped ([`esc`]) and cut to a readable length; the full label and value are in
//! each mark's `<title>` (a tooltip in browsers). Bars are `<rect class="bar">`, line points
//! `<circle class="point">`, pie slices `<path class="slice">` (a whole pie is a
//! `<circle class="slice">`): one per row that has a value.

use super::scale::{esc, full, readable, short};
use super::{svg_bars, svg_line, Chart, Mark, MAX_VALUES};
use crate::ask::frame::{Cell, Frame};
use std::fmt::Write;

/// Width of every chart but the pie and the number.
pub(super) const WIDTH: f64 = 720.0;
/// Top of the plot (below the title).
pub(super) const TOP: f64 = 52.0;
/// Width given to the colour legend.
pub(super) const LEGEND: f64 = 170.0;
/// Most legend entries shown (the rest are counted).
const LEGEND_MAX: usize = 16;
/// Colours of series, groups and slices (Vega's `tableau10`, so the SVG and a Vega-Lite
/// rendering of the spec agree).
pub(super) const PALETTE: [&str; 10] = [
    "#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#ff9da6",
    "#9d755d", "#bab0ac",
];
/// Axis and label text colour.
pub(super) const INK: &str = "#444444";

/// A drawn chart body: its size and its elements.
pub(super) struct Part {
    pub width: f64,
    pub height: f64,
    pub body: String,
}

/// The SVG document of `chart`, drawn from `frame`'s first [`MAX_VALUES`] rows.
pub fn svg(chart: &Chart, frame: &Frame) -> String {
    let rows: Vec<&Vec<Cell>> = frame.rows.iter().take(MAX_VALUES).collect();
    let part = match chart.mark {
        Mark::Text => number(frame, &rows, chart.encoding.value),
        Mark::Arc => pie(frame, &rows, &chart.encoding),
        Mark::Line => svg_line::draw(frame, &rows, &chart.encoding, time_unit(chart)),
        Mark::Bar => svg_bars::draw(frame, &rows, &chart.encoding),
    };
    let title = chart
        .spec
        .get("title")
        .and_then(|t| t.as_str())
        .unwrap_or_default();
    let (w, h) = (part.width, part.height);
    let mut out = String::with_capacity(part.body.len() + 512);
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" role=\"img\">\
         <title>{}</title><rect width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>",
        esc(title)
    );
    let _ = write!(
        out,
        "<text x=\"16\" y=\"28\" font-size=\"16\" font-weight=\"bold\" fill=\"#222222\">{}</text>",
        esc(&short(title, (w / 9.0) as usize))
    );
    out.push_str(&part.body);
    out.push_str("</svg>\n");
    out
}

/// The time unit the spec's x axis uses, if any.
fn time_unit(chart: &Chart) -> Option<&str> {
    chart.spec.pointer("/encoding/x/timeUnit")?.as_str()
}

/// A coordinate with one decimal.
pub(super) fn px(x: f64) -> String {
    let r = (x * 10.0).round() / 10.0;
    format!("{r}")
}

/// The colour of the `i`th series.
pub(super) fn color(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// The distinct labels of column `col`, in the order they first appear.
pub(super) fn distinct(rows: &[&Vec<Cell>], col: usize) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    rows.iter()
        .map(|r| r.get(col).map(Cell::label).unwrap_or_default())
        .filter(|l| seen.insert(l.clone()))
        .collect()
}

/// The readable name of column `i` (empty when `frame` has no such column: a chart drawn from
/// another frame than its own does not panic).
pub(super) fn column_title(frame: &Frame, i: usize) -> String {
    frame
        .columns
        .get(i)
        .map(|c| readable(&c.name))
        .unwrap_or_default()
}

/// A `<text>` element (`anchor`: start, middle or end).
pub(super) fn text(out: &mut String, x: f64, y: f64, anchor: &str, size: u32, s: &str) {
    let _ = write!(
        out,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\" font-size=\"{size}\" fill=\"{INK}\">{}</text>",
        px(x),
        px(y),
        esc(s)
    );
}

/// A line segment.
pub(super) fn rule(out: &mut String, (x1, y1): (f64, f64), (x2, y2): (f64, f64), stroke: &str) {
    let _ = write!(
        out,
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{stroke}\" stroke-width=\"1\"/>",
        px(x1),
        px(y1),
        px(x2),
        px(y2)
    );
}

/// A colour legend at `(x, y)`: a titled list of swatches, at most [`LEGEND_MAX`] entries.
pub(super) fn legend(out: &mut String, x: f64, y: f64, title: &str, labels: &[String]) {
    text(out, x, y, "start", 12, &short(title, 22));
    for (i, l) in labels.iter().take(LEGEND_MAX).enumerate() {
        let yy = y + 18.0 + 18.0 * i as f64;
        let _ = write!(
            out,
            "<rect class=\"swatch\" x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/>",
            px(x),
            px(yy - 10.0),
            color(i)
        );
        text(out, x + 18.0, yy, "start", 11, &short(l, 22));
    }
    if labels.len() > LEGEND_MAX {
        let yy = y + 18.0 + 18.0 * LEGEND_MAX as f64;
        text(
            out,
            x,
            yy,
            "start",
            11,
            &format!("+{} more", labels.len() - LEGEND_MAX),
        );
    }
}

/// One big number with the measure's name under it.
fn number(frame: &Frame, rows: &[&Vec<Cell>], col: usize) -> Part {
    let value = rows.first().and_then(|r| r.get(col)).and_then(Cell::num);
    let shown = value.map_or_else(|| "–".to_string(), full);
    let mut body = String::new();
    let _ = write!(
        body,
        "<text class=\"number\" x=\"240\" y=\"118\" text-anchor=\"middle\" font-size=\"56\" font-weight=\"bold\" fill=\"#222222\">{}</text>",
        esc(&shown)
    );
    let name = frame.columns.get(col).map(|c| readable(&c.name));
    text(
        &mut body,
        240.0,
        156.0,
        "middle",
        14,
        &name.unwrap_or_default(),
    );
    Part {
        width: 480.0,
        height: 190.0,
        body,
    }
}

/// A pie: one slice per row, clockwise from twelve o'clock, with a legend of labels and
/// percentages.
fn pie(frame: &Frame, rows: &[&Vec<Cell>], enc: &super::Encoding) -> Part {
    let (cx, cy, r) = (180.0, 210.0, 140.0);
    let label_of = |row: &Vec<Cell>| {
        enc.color
            .and_then(|c| row.get(c))
            .map(Cell::label)
            .unwrap_or_default()
    };
    let vals: Vec<f64> = rows
        .iter()
        .map(|row| {
            row.get(enc.value)
                .and_then(Cell::num)
                .unwrap_or(0.0)
                .max(0.0)
        })
        .collect();
    let total: f64 = vals.iter().sum();
    let mut body = String::new();
    let mut angle = 0.0f64;
    let mut labels = Vec::with_capacity(rows.len());
    for (i, (row, v)) in rows.iter().zip(&vals).enumerate() {
        let frac = if total > 0.0 { v / total } else { 0.0 };
        let label = label_of(row);
        let tip = esc(&format!("{label}: {} ({:.1}%)", full(*v), frac * 100.0));
        labels.push(format!("{} ({:.1}%)", short(&label, 14), frac * 100.0));
        if frac >= 0.9999 {
            let _ = write!(
                body,
                "<circle class=\"slice\" cx=\"{cx}\" cy=\"{cy}\" r=\"{r}\" fill=\"{}\"><title>{tip}</title></circle>",
                color(i)
            );
        } else {
            let a0 = angle;
            let a1 = angle + frac * std::f64::consts::TAU;
            let at = |a: f64| (cx + r * a.sin(), cy - r * a.cos());
            let ((x0, y0), (x1, y1)) = (at(a0), at(a1));
            let large = i32::from(a1 - a0 > std::f64::consts::PI);
            let _ = write!(
                body,
                "<path class=\"slice\" d=\"M{cx} {cy} L{} {} A{r} {r} 0 {large} 1 {} {} Z\" fill=\"{}\" stroke=\"#ffffff\"><title>{tip}</title></path>",
                px(x0),
                px(y0),
                px(x1),
                px(y1),
                color(i)
            );
        }
        angle += frac * std::f64::consts::TAU;
    }
    let title = enc
        .color
        .and_then(|c| frame.columns.get(c))
        .map(|c| readable(&c.name))
        .unwrap_or_default();
    legend(&mut body, 350.0, 90.0, &title, &labels);
    Part {
        width: 560.0,
        height: 380.0,
        body,
    }
}

/// A linear map from the value domain `[d0, d1]` to pixels `[r0, r1]`.
pub(super) struct Linear {
    pub d0: f64,
    pub d1: f64,
    pub r0: f64,
    pub r1: f64,
}

impl Linear {
    /// The pixel of `v`.
    pub fn at(&self, v: f64) -> f64 {
        if self.d1 == self.d0 {
            return (self.r0 + self.r1) / 2.0;
        }
        self.r0 + (v - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0)
    }
}
