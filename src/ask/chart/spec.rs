//! The Vega-Lite v5 spec of a chart: the question as its title, the rows inline as
//! `data.values` (at most [`MAX_VALUES`]), and encodings naming the fields, their types
//! (temporal, nominal, quantitative) and readable titles. Field names are the column names,
//! except that `.`, `[`, `]` and `\` (which Vega-Lite reads as paths) become `_` and a repeated
//! name gets a `_2`.

use super::scale::{iso, readable, short};
use super::{Encoding, Group, Mark, Sort, MAX_VALUES};
use crate::ask::frame::{Cell, Context, Frame, Kind};
use crate::ask::plan::Grain;
use serde_json::{json, Map, Value};

/// The schema every spec names.
pub const SCHEMA: &str = "https://vega.github.io/schema/vega-lite/v5.json";
/// Longest title, in characters.
const TITLE: usize = 120;

/// The spec of `mark` with `enc` over `frame`.
pub fn build(frame: &Frame, ctx: &Context, mark: Mark, enc: &Encoding) -> Value {
    let keys = keys(frame);
    let mut encoding = match mark {
        Mark::Text => text(frame, &keys, enc),
        Mark::Arc => arc(frame, &keys, enc),
        Mark::Line => line(frame, &keys, enc, ctx.grain),
        Mark::Bar => bar(frame, &keys, enc),
    };
    encoding.insert("tooltip".into(), tooltip(frame, &keys));
    let mark_def = match mark {
        Mark::Text => json!({"type": "text", "fontSize": 56, "fontWeight": "bold"}),
        Mark::Line => json!({"type": "line", "point": true}),
        Mark::Arc => json!({"type": "arc", "stroke": "#ffffff"}),
        Mark::Bar => json!({"type": "bar"}),
    };
    let (width, height) = match mark {
        Mark::Text => (320, 120),
        Mark::Arc => (320, 320),
        _ => (640, 360),
    };
    let title = if ctx.question.trim().is_empty() {
        readable(&frame.columns[enc.value].name)
    } else {
        short(ctx.question.trim(), TITLE)
    };
    json!({
        "$schema": SCHEMA,
        "title": title,
        "description": format!("{} chart made by Querent from the answer's {} rows", mark.name(), frame.rows.len().min(MAX_VALUES)),
        "width": width,
        "height": height,
        "data": {"values": values(frame, &keys)},
        "mark": mark_def,
        "encoding": Value::Object(encoding),
    })
}

/// One field name per column, safe for Vega-Lite's field paths and unique.
pub fn keys(frame: &Frame) -> Vec<String> {
    let mut keys: Vec<String> = Vec::with_capacity(frame.columns.len());
    for c in &frame.columns {
        let base: String = c
            .name
            .chars()
            .map(|ch| {
                if matches!(ch, '.' | '[' | ']' | '\\') {
                    '_'
                } else {
                    ch
                }
            })
            .collect();
        let base = if base.is_empty() {
            "column".to_string()
        } else {
            base
        };
        let mut key = base.clone();
        let mut n = 2;
        while keys.contains(&key) {
            key = format!("{base}_{n}");
            n += 1;
        }
        keys.push(key);
    }
    keys
}

fn cell(c: &Cell) -> Value {
    match c {
        Cell::Null => Value::Null,
        Cell::Num(x) => json!(x),
        Cell::Text(s) => json!(s),
        Cell::Time { days, .. } => json!(iso(*days)),
    }
}

fn values(frame: &Frame, keys: &[String]) -> Vec<Value> {
    frame
        .rows
        .iter()
        .take(MAX_VALUES)
        .map(|row| {
            let obj: Map<String, Value> = keys
                .iter()
                .zip(row.iter().map(cell).chain(std::iter::repeat(Value::Null)))
                .map(|(k, v)| (k.clone(), v))
                .collect();
            Value::Object(obj)
        })
        .collect()
}

fn vl_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Time => "temporal",
        Kind::Category => "nominal",
        Kind::Measure => "quantitative",
    }
}

/// `{"field", "type", "title"}` of column `i`.
fn field(frame: &Frame, keys: &[String], i: usize) -> Map<String, Value> {
    let c = &frame.columns[i];
    let mut m = Map::new();
    m.insert("field".into(), json!(keys[i]));
    m.insert("type".into(), json!(vl_type(c.kind)));
    m.insert("title".into(), json!(readable(&c.name)));
    m
}

/// The measure's field, with an axis format that suits its size (`~s` gives 12k and 3.4M).
fn measure(frame: &Frame, keys: &[String], i: usize) -> Value {
    let mut m = field(frame, keys, i);
    let big = frame
        .rows
        .iter()
        .take(MAX_VALUES)
        .filter_map(|r| r.get(i).and_then(Cell::num))
        .any(|x| x.abs() >= 10_000.0);
    let format = if big { "~s" } else { ",.2~f" };
    m.insert("axis".into(), json!({ "format": format }));
    Value::Object(m)
}

fn tooltip(frame: &Frame, keys: &[String]) -> Value {
    let fields: Vec<Value> = (0..frame.columns.len())
        .map(|i| {
            let mut m = field(frame, keys, i);
            if frame.columns[i].kind == Kind::Measure {
                m.insert("format".into(), json!(",.2~f"));
            }
            Value::Object(m)
        })
        .collect();
    Value::Array(fields)
}

fn text(frame: &Frame, keys: &[String], enc: &Encoding) -> Map<String, Value> {
    let mut t = field(frame, keys, enc.value);
    t.insert("format".into(), json!(",.2~f"));
    let mut m = Map::new();
    m.insert("text".into(), Value::Object(t));
    m
}

fn arc(frame: &Frame, keys: &[String], enc: &Encoding) -> Map<String, Value> {
    let mut m = Map::new();
    let mut theta = field(frame, keys, enc.value);
    theta.insert("stack".into(), json!(true));
    m.insert("theta".into(), Value::Object(theta));
    if let Some(c) = enc.color {
        let mut color = field(frame, keys, c);
        color.insert("sort".into(), Value::Null);
        m.insert("color".into(), Value::Object(color));
    }
    m
}

/// Vega-Lite's time unit for a plan's grain (weeks are shown by their first day).
fn time_unit(grain: Grain) -> &'static str {
    match grain {
        Grain::Day | Grain::Week => "yearmonthdate",
        Grain::Month => "yearmonth",
        Grain::Quarter => "yearquarter",
        Grain::Year => "year",
    }
}

fn line(
    frame: &Frame,
    keys: &[String],
    enc: &Encoding,
    grain: Option<Grain>,
) -> Map<String, Value> {
    let mut m = Map::new();
    if let Some(a) = enc.axis {
        let mut x = field(frame, keys, a);
        if let Some(g) = grain {
            x.insert("timeUnit".into(), json!(time_unit(g)));
        }
        m.insert("x".into(), Value::Object(x));
    }
    m.insert("y".into(), measure(frame, keys, enc.value));
    if let Some(c) = enc.color {
        m.insert("color".into(), Value::Object(field(frame, keys, c)));
    }
    m
}

fn bar(frame: &Frame, keys: &[String], enc: &Encoding) -> Map<String, Value> {
    let (band, value, offset) = if enc.horizontal {
        ("y", "x", "yOffset")
    } else {
        ("x", "y", "xOffset")
    };
    let mut m = Map::new();
    if let Some(a) = enc.axis {
        let mut f = field(frame, keys, a);
        let sort = match enc.sort {
            Sort::Rows => Value::Null,
            Sort::Descending => json!(format!("-{value}")),
            Sort::Ascending => json!(value),
        };
        f.insert("sort".into(), sort);
        f.insert("axis".into(), json!({"labelLimit": 180}));
        m.insert(band.into(), Value::Object(f));
    }
    m.insert(value.into(), measure(frame, keys, enc.value));
    if let Some(c) = enc.color {
        m.insert("color".into(), Value::Object(field(frame, keys, c)));
        if enc.group == Group::Side {
            m.insert(offset.into(), json!({"field": keys[c], "type": "nominal"}));
        }
    }
    m
}
