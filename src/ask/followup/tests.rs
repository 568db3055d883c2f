//! Follow-ups on the retail catalog (schemas/retail.toml), by kind of refinement: the previous
//! plan and a follow-up → the plan changed in exactly the way asked and the line that says
//! so, checked against the view and compiled to one SELECT.

use super::*;
use crate::ask::compile::compile;
use crate::ask::plan::*;
use crate::ask::plan_check::check_plan;
use crate::ask::tests::retail;
use crate::ask::tests_count_schemas::{col, p, tid};

pub(super) fn before(s: &Semantic, q: &str) -> Previous {
    Previous {
        question: q.into(),
        plan: p(s, q),
    }
}

/// The refined plan, what it says and its SQL; fails when `text` is no follow-up.
pub(super) fn refined(s: &Semantic, prev: &Previous, text: &str) -> (AnalysisPlan, String, String) {
    let FollowUp::Refined { plan, said } = refine(s, prev, text) else {
        panic!("{text:?} after {:?} is no follow-up", prev.question);
    };
    check_plan(&s.catalog, &plan).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    let sql = compile(s, &plan).unwrap_or_else(|e| panic!("{text:?}: {}", e.message));
    let parsed =
        sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::PostgreSqlDialect {}, &sql)
            .unwrap_or_else(|e| panic!("{text:?}: {e}: {sql}"));
    assert!(
        matches!(parsed.as_slice(), [sqlparser::ast::Statement::Query(_)]),
        "{sql}"
    );
    (plan, said, sql)
}

/// `prev`'s plan with `f` applied: the plan a follow-up must give (confidence aside).
pub(super) fn changed(prev: &Previous, f: impl FnOnce(&mut AnalysisPlan)) -> AnalysisPlan {
    let mut plan = prev.plan.clone();
    f(&mut plan);
    plan
}

/// Asserts the follow-up gives `expected` (any confidence) and says `said`; returns its SQL.
pub(super) fn gives(
    s: &Semantic,
    prev: &Previous,
    text: &str,
    expected: AnalysisPlan,
    said: &str,
) -> String {
    let (mut plan, line, sql) = refined(s, prev, text);
    assert!(plan.confidence > 0.0 && plan.confidence <= prev.plan.confidence);
    plan.confidence = expected.confidence;
    assert_eq!(plan, expected, "{text:?} after {:?}", prev.question);
    assert_eq!(line, said, "{text:?}");
    sql
}

pub(super) fn declined(s: &Semantic, prev: &Previous, text: &str) {
    assert_eq!(
        refine(s, prev, text),
        FollowUp::NotAFollowUp,
        "{text:?} after {:?}",
        prev.question
    );
}

pub(super) fn dim(column: ColRef, grain: Option<Grain>) -> Dimension {
    Dimension { column, grain }
}

pub(super) fn metric(s: &Semantic, name: &str) -> Measure {
    let m = s.catalog.metrics.iter().position(|m| m.name == name);
    Measure::Metric(m.unwrap_or_else(|| panic!("no metric {name}")) as u32)
}

pub(super) fn eq(column: ColRef, value: &str) -> Filter {
    Filter {
        column,
        op: Op::Eq,
        values: vec![Value::Text(value.into())],
    }
}

pub(super) fn year(y: i32, words: &str) -> TimeRange {
    TimeRange {
        clock: None,
        column: None,
        start: format!("{y}-01-01"),
        end: format!("{}-01-01", y + 1),
        words: words.into(),
    }
}

#[test]
fn followup_grains_replace_or_add_the_time_bucket() {
    let s = retail();
    let date = col(&s, "orders.order_date");
    let prev = before(&s, "total revenue by region in 2024");
    let sql = gives(
        &s,
        &prev,
        "now by month",
        changed(&prev, |p| {
            p.dimensions = vec![dim(date, Some(Grain::Month))]
        }),
        "by month instead of by region",
    );
    assert!(
        sql.contains("'month'") && sql.contains("2024-01-01"),
        "{sql}"
    );
    gives(
        &s,
        &prev,
        "also by month",
        changed(&prev, |p| p.dimensions.push(dim(date, Some(Grain::Month)))),
        "also by month",
    );
    let monthly = before(&s, "revenue by month in 2024");
    gives(
        &s,
        &monthly,
        "by quarter instead",
        changed(&monthly, |p| p.dimensions[0].grain = Some(Grain::Quarter)),
        "by quarter instead of by month",
    );
    gives(
        &s,
        &monthly,
        "weekly",
        changed(&monthly, |p| p.dimensions[0].grain = Some(Grain::Week)),
        "by week instead of by month",
    );
    // The same grain again changes nothing: no follow-up.
    declined(&s, &monthly, "by month");
}

#[test]
fn followup_values_filter_with_catalog_values() {
    let s = retail();
    let region = col(&s, "regions.name");
    let prev = before(&s, "revenue by month in 2024");
    let sql = gives(
        &s,
        &prev,
        "only the West region",
        changed(&prev, |p| p.filters.push(eq(region, "West"))),
        "only West",
    );
    assert!(sql.contains("= 'West'"), "{sql}");
    // Chained: the refined plan is the next one's previous.
    let west = Previous {
        question: "only the West region".into(),
        plan: refined(&s, &prev, "only the West region").0,
    };
    gives(
        &s,
        &west,
        "what about East?",
        changed(&prev, |p| p.filters.push(eq(region, "East"))),
        "only East instead of West",
    );
    gives(
        &s,
        &west,
        "and Central too",
        changed(&west, |p| {
            p.filters[0].values.push(Value::Text("Central".into()))
        }),
        "also Central",
    );
    let sql = gives(
        &s,
        &prev,
        "just for Electronics",
        changed(&prev, |p| {
            p.filters
                .push(eq(col(&s, "categories.name"), "Electronics"))
        }),
        "only Electronics",
    );
    assert!(sql.contains("\"categories\""), "{sql}");
    gives(
        &s,
        &prev,
        "excluding web orders",
        changed(&prev, |p| {
            p.filters.push(Filter {
                op: Op::Ne,
                ..eq(col(&s, "orders.channel"), "Online")
            })
        }),
        "excluding Online",
    );
    gives(
        &s,
        &prev,
        "Electronics and Beauty only",
        changed(&prev, |p| {
            let mut f = eq(col(&s, "categories.name"), "Electronics");
            f.values.push(Value::Text("Beauty".into()));
            p.filters.push(f)
        }),
        "only Electronics/Beauty",
    );
    for text in ["not West", "other than West"] {
        gives(
            &s,
            &prev,
            text,
            changed(&prev, |p| {
                p.filters.push(Filter {
                    op: Op::Ne,
                    ..eq(region, "West")
                })
            }),
            "excluding West",
        );
    }
    gives(
        &s,
        &prev,
        "in the West",
        changed(&prev, |p| p.filters.push(eq(region, "West"))),
        "only West",
    );
    // A value the catalog does not hold is not turned into a filter.
    declined(&s, &prev, "only the Atlantis region");
}

#[test]
fn followup_periods_replace_the_date_range() {
    let s = retail();
    let prev = before(&s, "total revenue by region in 2024");
    gives(
        &s,
        &prev,
        "and for 2023?",
        changed(&prev, |p| p.time = Some(year(2023, "2023"))),
        "2023 instead of 2024",
    );
    let q4 = TimeRange {
        start: "2023-10-01".into(),
        end: "2024-01-01".into(),
        ..year(2023, "Q4 2023")
    };
    gives(
        &s,
        &prev,
        "in Q4 2023 instead",
        changed(&prev, |p| p.time = Some(q4)),
        "Q4 2023 instead of 2024",
    );
    // "last 3 months" counts back from the last order date (2024-12-31).
    let (plan, ..) = refined(&s, &prev, "last 3 months");
    let t = plan.time.unwrap_or_else(|| panic!("no range"));
    assert_eq!(
        (t.start.as_str(), t.end.as_str()),
        ("2024-10-01", "2025-01-01")
    );
    let total = before(&s, "total revenue");
    gives(
        &s,
        &total,
        "in 2022",
        changed(&total, |p| p.time = Some(year(2022, "2022"))),
        "in 2022",
    );
    // A growth compares the new period with the one before it.
    let growth = before(&s, "revenue growth in 2024");
    gives(
        &s,
        &growth,
        "and in 2023?",
        changed(&growth, |p| {
            p.time = Some(year(2023, "2023"));
            p.previous = Some(year(2022, "2023"));
        }),
        "2023 instead of 2024",
    );
    let clock = TimeRange {
        clock: Some(ClockPeriod {
            unit: Grain::Month,
            offset: 0,
        }),
        start: String::new(),
        end: String::new(),
        ..year(2024, "this month")
    };
    let sql = gives(
        &s,
        &prev,
        "this month",
        changed(&prev, |p| p.time = Some(clock)),
        "this month instead of 2024",
    );
    assert!(sql.contains("CURRENT_DATE"), "{sql}");
    // Growth per time bucket is not supported, as in the planner.
    declined(&s, &growth, "by month");
    gives(
        &s,
        &prev,
        "for all time",
        changed(&prev, |p| p.time = None),
        "for all time instead of 2024",
    );
}

#[test]
fn followup_limits_and_order() {
    let s = retail();
    let prev = before(&s, "top 5 stores by revenue");
    assert_eq!(prev.plan.limit, Some(5));
    gives(
        &s,
        &prev,
        "top 10 instead",
        changed(&prev, |p| p.limit = Some(10)),
        "top 10 instead of top 5",
    );
    let sql = gives(
        &s,
        &prev,
        "bottom 3",
        changed(&prev, |p| {
            p.limit = Some(3);
            p.order = Some(Order::by_measure(false));
        }),
        "bottom 3 instead of top 5",
    );
    assert!(sql.contains(" ASC") && sql.ends_with("LIMIT 3"), "{sql}");
    gives(
        &s,
        &prev,
        "sorted ascending",
        changed(&prev, |p| p.order = Some(Order::by_measure(false))),
        "sorted ascending",
    );
    gives(
        &s,
        &prev,
        "reversed",
        changed(&prev, |p| p.order = Some(Order::by_measure(false))),
        "sorted ascending",
    );
    gives(
        &s,
        &prev,
        "top 3 regions",
        changed(&prev, |p| {
            p.dimensions = vec![dim(col(&s, "regions.name"), None)];
            p.limit = Some(3);
        }),
        "by region instead of by store, top 3 instead of top 5",
    );
    let by_region = before(&s, "total revenue by region in 2024");
    gives(
        &s,
        &by_region,
        "highest first",
        changed(&by_region, |p| p.order = Some(Order::by_measure(true))),
        "sorted descending",
    );
    // Ranking names the groups: by customer, then the first 10.
    let total = before(&s, "total revenue in 2024");
    gives(
        &s,
        &total,
        "top 10 customers instead",
        changed(&total, |p| {
            p.dimensions = vec![dim(col(&s, "customers.name"), None)];
            p.order = Some(Order::by_measure(true));
            p.limit = Some(10);
        }),
        "by customer, top 10",
    );
    gives(
        &s,
        &total,
        "as a share by region",
        changed(&total, |p| {
            p.dimensions = vec![dim(col(&s, "regions.name"), None)];
            p.intent = Intent::Share;
        }),
        "by region, as a share of the total",
    );
    // One number has no top 10.
    declined(&s, &before(&s, "total revenue in 2024"), "top 10");
}

#[test]
fn followup_entities_and_breakdowns() {
    let s = retail();
    let prev = before(&s, "top 5 stores by revenue");
    let sql = gives(
        &s,
        &prev,
        "same for customers",
        changed(&prev, |p| {
            p.dimensions = vec![dim(col(&s, "customers.name"), None)]
        }),
        "by customer instead of by store",
    );
    assert!(sql.contains("\"customers\".\"name\""), "{sql}");
    gives(
        &s,
        &prev,
        "what about products",
        changed(&prev, |p| {
            p.dimensions = vec![dim(col(&s, "products.name"), None)]
        }),
        "by product instead of by store",
    );
    // No grouping to swap: the count of the other entity, over its own dates.
    let signups = before(&s, "how many customers signed up in 2023");
    let sql = gives(
        &s,
        &signups,
        "what about employees?",
        changed(&signups, |p| {
            p.measures = vec![Measure::Count(tid(&s, "employees"))]
        }),
        "employees count instead of customers count",
    );
    assert!(sql.contains("hire_date"), "{sql}");
    let total = before(&s, "total revenue in 2024");
    gives(
        &s,
        &total,
        "by category",
        changed(&total, |p| {
            p.dimensions = vec![dim(col(&s, "categories.name"), None)]
        }),
        "by category",
    );
    let by_region = before(&s, "total revenue by region in 2024");
    gives(
        &s,
        &by_region,
        "break it down by store",
        changed(&by_region, |p| {
            p.dimensions.push(dim(col(&s, "stores.name"), None))
        }),
        "also by store",
    );
    gives(
        &s,
        &by_region,
        "by sales channel instead",
        changed(&by_region, |p| {
            p.dimensions = vec![dim(col(&s, "orders.channel"), None)]
        }),
        "by channel instead of by region",
    );
    gives(
        &s,
        &by_region,
        "by category and month",
        changed(&by_region, |p| {
            p.dimensions = vec![
                dim(col(&s, "categories.name"), None),
                dim(col(&s, "orders.order_date"), Some(Grain::Month)),
            ]
        }),
        "by category and month instead of by region",
    );
}

#[test]
fn followup_drops_filters_shares_and_swaps_metrics() {
    let s = retail();
    let west = before(&s, "revenue by month in the West region in 2024");
    assert_eq!(west.plan.filters, [eq(col(&s, "regions.name"), "West")]);
    for text in [
        "without the filter",
        "for all regions",
        "drop the region filter",
    ] {
        gives(
            &s,
            &west,
            text,
            changed(&west, |p| p.filters.clear()),
            "without the filter on name = West",
        );
    }
    declined(&s, &west, "for all channels");
    declined(&s, &west, "drop the zorble filter");
    let two = before(
        &s,
        "revenue by month in the West region through the web channel in 2024",
    );
    assert_eq!(two.plan.filters.len(), 2);
    gives(
        &s,
        &two,
        "drop the region and channel filters",
        changed(&two, |p| p.filters.clear()),
        "without the filter on name = West, without the filter on channel = Online",
    );
    let prev = before(&s, "total revenue by region in 2024");
    let sql = gives(
        &s,
        &prev,
        "as a share",
        changed(&prev, |p| p.intent = Intent::Share),
        "as a share of the total",
    );
    assert!(sql.contains("share_pct"), "{sql}");
    // With no grouping, the share of the part the value picks.
    let total_west = before(&s, "total revenue in the West region in 2024");
    gives(
        &s,
        &total_west,
        "as a percentage",
        changed(&total_west, |p| {
            p.intent = Intent::Share;
            p.part = vec![0];
        }),
        "as a share of the total",
    );
    gives(
        &s,
        &prev,
        "what about profit?",
        changed(&prev, |p| p.measures = vec![metric(&s, "gross_margin")]),
        "gross margin instead of revenue",
    );
    gives(
        &s,
        &prev,
        "same for units sold",
        changed(&prev, |p| p.measures = vec![metric(&s, "units_sold")]),
        "units sold instead of revenue",
    );
}
