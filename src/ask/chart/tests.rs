//! Golden chart choices: a plan's intent and a frame's shape → the mark and the key encodings,
//! one case per rule of the module (the `None` cases too); and every golden spec checked
//! against the real Vega-Lite v5 JSON schema (fixtures/vega-lite-v5.schema.json.gz, from the
//! vega-lite 5.23.0 npm package).

use super::*;
use crate::ask::frame::{Context, Frame};
use crate::ask::plan::{AnalysisPlan, Grain, Intent, Measure, Order};
use serde_json::{json, Value};
use std::sync::OnceLock;

pub(super) const DATE: u32 = 1082;
pub(super) const TS: u32 = 1114;
pub(super) const TEXT: u32 = 25;
pub(super) const NUM: u32 = 1700;
pub(super) const INT: u32 = 20;

/// A frame of `cols` and text rows (`"NULL"` is SQL NULL).
pub(super) fn frame(cols: &[(&str, u32)], rows: &[&[&str]]) -> Frame {
    let cols: Vec<(String, u32)> = cols.iter().map(|(n, o)| (n.to_string(), *o)).collect();
    let mut f = Frame::new(&cols, 1_000);
    for r in rows {
        let vals: Vec<Option<&[u8]>> = r
            .iter()
            .map(|v| (*v != "NULL").then_some(v.as_bytes()))
            .collect();
        f.push_text(&vals);
    }
    f
}

pub(super) fn plan(intent: Intent) -> AnalysisPlan {
    AnalysisPlan {
        intent,
        measures: vec![Measure::Count(0)],
        dimensions: vec![],
        filters: vec![],
        time: None,
        having: None,
        order: None,
        limit: None,
        previous: None,
        without: None,
        part: vec![],
        via: vec![],
        denominator_part: vec![],
        percent: false,
        confidence: 1.0,
    }
}

pub(super) fn ctx(question: &str, intent: Option<Intent>) -> Context {
    Context {
        question: question.into(),
        plan: intent.map(plan),
        grain: None,
        range: None,
    }
}

fn ordered(intent: Intent, order: Order) -> Context {
    let mut c = ctx("ordered", Some(intent));
    if let Some(p) = c.plan.as_mut() {
        p.order = Some(order);
    }
    c
}

pub(super) fn regions() -> Frame {
    frame(
        &[("region", TEXT), ("revenue", NUM)],
        &[
            &["West", "1200"],
            &["East", "5400.5"],
            &["North", "300"],
            &["South", "980"],
        ],
    )
}

pub(super) fn months() -> Frame {
    frame(
        &[("month", TS), ("region", TEXT), ("revenue", NUM)],
        &[
            &["2024-01-01 00:00:00", "West", "10"],
            &["2024-02-01 00:00:00", "West", "12"],
            &["2024-03-01 00:00:00", "West", "NULL"],
            &["2024-01-01 00:00:00", "East", "7"],
            &["2024-02-01 00:00:00", "East", "9.5"],
        ],
    )
}

fn many(n: usize, label: &str) -> Frame {
    let rows: Vec<Vec<String>> = (0..n)
        .map(|i| vec![format!("{label}{i}"), format!("{}", 10 * i + 1)])
        .collect();
    let refs: Vec<Vec<&str>> = rows
        .iter()
        .map(|r| r.iter().map(String::as_str).collect())
        .collect();
    let slices: Vec<&[&str]> = refs.iter().map(Vec::as_slice).collect();
    frame(&[("product", TEXT), ("units", INT)], &slices)
}

fn shares(values: &[&str]) -> Frame {
    let names = ["a", "b", "c", "d", "e", "f", "g", "h"];
    let rows: Vec<Vec<&str>> = values
        .iter()
        .zip(names)
        .map(|(v, n)| vec![n, "1", *v])
        .collect();
    let slices: Vec<&[&str]> = rows.iter().map(Vec::as_slice).collect();
    frame(
        &[("segment", TEXT), ("revenue", NUM), ("share_pct", NUM)],
        &slices,
    )
}

/// A golden case: its name, the chart chosen, and what it must have.
struct Golden {
    name: &'static str,
    chart: Option<Chart>,
    expect: Option<Value>,
}

/// Whether every member of `want` is in `got` (objects recursively; other values equal).
fn contains(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => w
            .iter()
            .all(|(k, wv)| g.get(k).is_some_and(|gv| contains(gv, wv))),
        _ => got == want,
    }
}

fn goldens() -> Vec<Golden> {
    let monthly = Context {
        grain: Some(Grain::Month),
        ..ctx("revenue by month and region", Some(Intent::Aggregate))
    };
    let one_series = frame(
        &[("day", DATE), ("orders", INT)],
        &[&["2024-01-01", "3"], &["2024-01-02", "5"]],
    );
    let two_dims = frame(
        &[("region", TEXT), ("channel", TEXT), ("revenue", NUM)],
        &[
            &["West", "web", "1"],
            &["West", "store", "2"],
            &["East", "web", "3"],
            &["East", "store", "4"],
        ],
    );
    let agg = Some(Intent::Aggregate);
    let share = Some(Intent::Share);
    let cases: Vec<(&'static str, Frame, Context, Option<Value>)> = vec![
        (
            "line over time",
            one_series,
            ctx("orders per day", agg),
            Some(json!({
                "mark": {"type": "line"},
                "encoding": {"x": {"field": "day", "type": "temporal"}, "y": {"field": "orders", "type": "quantitative"}},
            })),
        ),
        (
            "coloured lines",
            months(),
            monthly,
            Some(json!({
                "mark": {"type": "line"},
                "encoding": {"x": {"type": "temporal", "timeUnit": "yearmonth"}, "color": {"field": "region", "type": "nominal"}, "y": {"field": "revenue"}},
            })),
        ),
        (
            "bars by measure",
            regions(),
            ctx("revenue by region", agg),
            Some(json!({
                "mark": {"type": "bar"},
                "encoding": {"x": {"field": "region", "type": "nominal", "sort": "-y"}, "y": {"field": "revenue", "type": "quantitative", "title": "Revenue"}},
            })),
        ),
        (
            "bars smallest first",
            regions(),
            ordered(Intent::Aggregate, Order::by_measure(false)),
            Some(json!({
                "encoding": {"x": {"sort": "y"}},
            })),
        ),
        (
            "bars in row order",
            regions(),
            ordered(
                Intent::Aggregate,
                Order {
                    descending: false,
                    column: Some(crate::catalog::ColRef {
                        table: 0,
                        column: 1,
                    }),
                },
            ),
            Some(json!({
                "encoding": {"x": {"sort": null}},
            })),
        ),
        (
            "long labels lie down",
            many(3, "A product with a long name #"),
            ctx("units by product", agg),
            Some(json!({
                "encoding": {"y": {"field": "product", "type": "nominal", "sort": "-x"}, "x": {"field": "units", "type": "quantitative"}},
            })),
        ),
        (
            "many labels lie down",
            many(20, "p"),
            ctx("units by product", agg),
            Some(json!({
                "encoding": {"y": {"field": "product"}, "x": {"field": "units"}},
            })),
        ),
        (
            "side by side",
            two_dims.clone(),
            ctx("revenue by region and channel", agg),
            Some(json!({
                "mark": {"type": "bar"},
                "encoding": {"x": {"field": "region"}, "xOffset": {"field": "channel"}, "color": {"field": "channel"}},
            })),
        ),
        (
            "stacked share",
            two_dims,
            ctx("share of revenue by region and channel", share),
            Some(json!({
                "mark": {"type": "bar"},
                "encoding": {"x": {"field": "region"}, "color": {"field": "channel"}},
            })),
        ),
        (
            "one number",
            frame(&[("total_revenue", NUM)], &[&["1234567.5"]]),
            ctx("total revenue", agg),
            Some(json!({
                "mark": {"type": "text"},
                "encoding": {"text": {"field": "total_revenue", "type": "quantitative", "title": "Total revenue"}},
            })),
        ),
        (
            "pie of shares",
            shares(&["50", "30", "20"]),
            ctx("share of revenue by segment", share),
            Some(json!({
                "mark": {"type": "arc"},
                "encoding": {"theta": {"field": "share_pct", "type": "quantitative"}, "color": {"field": "segment", "type": "nominal"}},
            })),
        ),
        (
            "pie by shape",
            frame(
                &[("segment", TEXT), ("percent_of_total", NUM)],
                &[&["a", "60"], &["b", "40"]],
            ),
            ctx("", None),
            Some(json!({
                "mark": {"type": "arc"},
            })),
        ),
        (
            "too many parts for a pie",
            shares(&["10", "10", "10", "10", "10", "10", "20", "20"]),
            ctx("share", share),
            Some(json!({
                "mark": {"type": "bar"},
                "encoding": {"x": {"field": "segment"}, "y": {"field": "share_pct"}},
            })),
        ),
        (
            "no pie with a negative part",
            shares(&["120", "-20"]),
            ctx("share", share),
            Some(json!({
                "mark": {"type": "bar"},
                "encoding": {"y": {"field": "share_pct"}},
            })),
        ),
        (
            "first of several measures",
            frame(
                &[("region", TEXT), ("revenue", NUM), ("orders", INT)],
                &[&["W", "1", "2"], &["E", "3", "4"]],
            ),
            ctx("revenue and orders by region", agg),
            Some(json!({
                "encoding": {"x": {"field": "region"}, "y": {"field": "revenue"}},
            })),
        ),
        (
            "dotted and repeated names",
            frame(
                &[("o.region", TEXT), ("count", INT), ("count", INT)],
                &[&["W", "1", "2"], &["E", "3", "4"]],
            ),
            ctx("orders by region", agg),
            Some(json!({
                "encoding": {"x": {"field": "o_region", "title": "O.region"}, "y": {"field": "count"}},
            })),
        ),
        (
            "no rows",
            frame(&[("region", TEXT), ("revenue", NUM)], &[]),
            ctx("revenue by region", agg),
            None,
        ),
        (
            "no measure",
            frame(
                &[("name", TEXT), ("city", TEXT)],
                &[&["a", "b"], &["c", "d"]],
            ),
            ctx("stores", None),
            None,
        ),
        (
            "a list of text columns",
            frame(
                &[("name", TEXT), ("city", TEXT), ("opened", INT)],
                &[&["a", "b", "1"], &["c", "d", "2"]],
            ),
            ctx("which stores opened", Some(Intent::List)),
            None,
        ),
        (
            "two time columns",
            frame(
                &[("a", DATE), ("b", DATE), ("n", INT)],
                &[
                    &["2024-01-01", "2024-01-02", "1"],
                    &["2024-01-03", "2024-01-04", "2"],
                ],
            ),
            ctx("", agg),
            None,
        ),
        (
            "rows of bare numbers",
            frame(&[("n", INT)], &[&["1"], &["2"]]),
            ctx("", agg),
            None,
        ),
    ];
    cases
        .into_iter()
        .map(|(name, f, c, expect)| Golden {
            name,
            chart: choose(&f, &c),
            expect,
        })
        .collect()
}

#[test]
fn golden_choices() {
    for g in goldens() {
        match (&g.chart, &g.expect) {
            (None, None) => {}
            (Some(c), Some(want)) => assert!(
                contains(&c.spec, want),
                "{}: spec {} lacks {want}",
                g.name,
                c.spec
            ),
            (got, want) => panic!(
                "{}: chose {:?}, expected {want:?}",
                g.name,
                got.as_ref().map(|c| c.mark)
            ),
        }
    }
}

#[test]
fn choices_carry_the_encoding() {
    let c = choose(&months(), &ctx("by month", Some(Intent::Aggregate))).expect("a chart");
    assert_eq!(
        (c.mark, c.encoding.axis, c.encoding.color, c.encoding.value),
        (Mark::Line, Some(0), Some(1), 2)
    );
    let c = choose(&regions(), &ctx("q", None)).expect("a chart");
    assert_eq!(
        (c.mark, c.encoding.sort, c.encoding.horizontal),
        (Mark::Bar, Sort::Descending, false)
    );
    let g = choose(&shares(&["10", "90"]), &ctx("share", Some(Intent::Share))).expect("a chart");
    assert_eq!(
        (g.mark, g.encoding.value, g.encoding.color),
        (Mark::Arc, 2, Some(0))
    );
}

#[test]
fn spec_names_schema_title_and_data() {
    let c = choose(&months(), &ctx("Revenue <by> month", None)).expect("a chart");
    assert_eq!(c.spec["$schema"], spec::SCHEMA);
    assert_eq!(c.spec["title"], "Revenue <by> month");
    let values = c.spec["data"]["values"].as_array().expect("values");
    assert_eq!(values.len(), 5);
    assert_eq!(
        values[0],
        json!({"month": "2024-01-01", "region": "West", "revenue": 10.0})
    );
    assert_eq!(values[2]["revenue"], Value::Null);
    let big = many(MAX_VALUES + 40, "p");
    let c = choose(&big, &ctx("q", None)).expect("a chart");
    assert_eq!(
        c.spec["data"]["values"].as_array().map(Vec::len),
        Some(MAX_VALUES)
    );
}

/// The Vega-Lite v5 schema, compiled once.
fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/vega-lite-v5.schema.json.gz"
        );
        let gz = std::fs::File::open(path).expect("the Vega-Lite schema fixture");
        let mut schema: Value =
            serde_json::from_reader(flate2::read::GzDecoder::new(gz)).expect("schema JSON");
        encode_refs(&mut schema);
        jsonschema::draft7::new(&schema).expect("the schema compiles")
    })
}

/// Percent-encodes the characters a URI may not hold in the schema's `$ref`s
/// (`#/definitions/MarkPropDef<(Gradient|string|null)>`): the draft-07 meta-schema requires
/// `$ref` to be a `uri-reference`, and a fragment is percent-decoded before it is resolved, so
/// the references still name the same definitions.
fn encode_refs(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                match x {
                    Value::String(r) if k == "$ref" => {
                        *r = r
                            .chars()
                            .map(|c| {
                                if c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@/?#%".contains(c)
                                {
                                    c.to_string()
                                } else {
                                    format!("%{:02X}", c as u32)
                                }
                            })
                            .collect();
                    }
                    x => encode_refs(x),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(encode_refs),
        _ => {}
    }
}

fn errors(spec: &Value) -> Vec<String> {
    validator()
        .iter_errors(spec)
        .map(|e| e.to_string())
        .take(5)
        .collect()
}

#[test]
fn golden_specs_are_valid_vega_lite() {
    let mut checked = 0;
    for g in goldens() {
        if let Some(c) = &g.chart {
            assert_eq!(
                errors(&c.spec),
                Vec::<String>::new(),
                "{}: {}",
                g.name,
                c.spec
            );
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} specs checked");
}

#[test]
fn broken_specs_are_invalid_vega_lite() {
    let c = choose(&regions(), &ctx("q", None)).expect("a chart");
    let mut bad_mark = c.spec.clone();
    bad_mark["mark"]["type"] = json!("barr");
    assert!(!errors(&bad_mark).is_empty());
    let mut bad_type = c.spec.clone();
    bad_type["encoding"]["y"]["type"] = json!("numeric");
    assert!(!errors(&bad_type).is_empty());
    let mut bad_sort = c.spec;
    bad_sort["encoding"]["x"]["sort"] = json!(42);
    assert!(!errors(&bad_sort).is_empty());
}
