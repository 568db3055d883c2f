//! A plan from outside the planner (a language model's JSON) checked against the role's catalog
//! view before it is compiled: every table, column and metric id must exist in the view, every
//! index must point at a filter, dates must be dates, and aggregates other than counts must
//! read number columns. What passes is compiled by the same typed builder as the planner's
//! plans, so identifiers come from the catalog and values are escaped literals.

use super::plan::*;
use crate::catalog::{Catalog, ColRef, TableId};

/// Furthest a period relative to the database's clock may be from now, in its units.
const MAX_OFFSET: u32 = 10_000;

/// Most rows a plan may ask for.
const MAX_LIMIT: u64 = 10_000;

/// Parses a plan written as JSON and checks it against `c`.
pub fn parse_plan(c: &Catalog, json: &str) -> Result<AnalysisPlan, String> {
    let text = json.trim();
    // Models wrap JSON in a code fence now and then.
    let text = text
        .strip_prefix("```json")
        .or_else(|| text.strip_prefix("```"))
        .and_then(|t| t.strip_suffix("```"))
        .unwrap_or(text)
        .trim();
    let plan: AnalysisPlan =
        serde_json::from_str(text).map_err(|e| format!("the plan is not valid JSON: {e}"))?;
    check_plan(c, &plan)?;
    Ok(plan)
}

/// Whether every reference of `plan` exists in `c` and the plan is complete.
pub fn check_plan(c: &Catalog, plan: &AnalysisPlan) -> Result<(), String> {
    let table = |t: TableId| -> Result<(), String> {
        (t as usize)
            .lt(&c.tables.len())
            .then_some(())
            .ok_or_else(|| format!("table {t} is not in the catalog"))
    };
    let column = |col: ColRef| -> Result<(), String> {
        table(col.table)?;
        (col.column as usize)
            .lt(&c.table(col.table).columns.len())
            .then_some(())
            .ok_or_else(|| {
                format!(
                    "column {} of table {} does not exist",
                    col.column, col.table
                )
            })
    };
    if plan.measures.is_empty() {
        return Err("the plan has no measure".into());
    }
    let wanted = match plan.intent {
        Intent::Ratio => 2..=2,
        _ => 1..=2,
    };
    if !wanted.contains(&plan.measures.len()) {
        return Err(format!("{:?} takes {wanted:?} measures", plan.intent));
    }
    for m in &plan.measures {
        match m {
            Measure::Metric(i) if (*i as usize) >= c.metrics.len() => {
                return Err(format!("metric {i} is not in the catalog"))
            }
            Measure::Metric(_) => {}
            Measure::Count(t) => table(*t)?,
            Measure::Aggregate { agg, column: col } => {
                column(*col)?;
                let counted = matches!(agg, Agg::CountDistinct | Agg::Min | Agg::Max);
                if !counted && !c.column(*col).kind.is_numeric() {
                    return Err(format!(
                        "{agg:?} of {} needs a number column",
                        c.column(*col).name
                    ));
                }
            }
        }
    }
    for d in &plan.dimensions {
        column(d.column)?;
    }
    for f in &plan.filters {
        column(f.column)?;
        if f.values
            .iter()
            .any(|v| matches!(v, Value::Text(t) if t.contains('\0')))
        {
            return Err("a filter value holds a NUL character".into());
        }
        let needs_values = !matches!(f.op, Op::IsNull | Op::NotNull);
        if needs_values == f.values.is_empty() {
            return Err(format!(
                "the filter on {} has no values",
                c.column(f.column).name
            ));
        }
    }
    for i in plan.part.iter().chain(&plan.denominator_part) {
        if *i >= plan.filters.len() {
            return Err(format!("filter {i} does not exist"));
        }
    }
    for t in plan.via.iter().chain(&plan.without) {
        table(*t)?;
    }
    if let Some(col) = plan.order.and_then(|o| o.column) {
        column(col)?;
    }
    for r in plan.time.iter().chain(&plan.previous) {
        if let Some(col) = r.column {
            column(col)?;
        }
        if let Some(clock) = &r.clock {
            if clock.offset.unsigned_abs() > MAX_OFFSET {
                return Err(format!(
                    "a period offset must be within {MAX_OFFSET} units of now"
                ));
            }
        } else {
            for d in [&r.start, &r.end] {
                super::time::Date::parse(d)
                    .filter(|_| d.len() == 10)
                    .ok_or_else(|| format!("\"{d}\" is not a date"))?;
            }
        }
    }
    if plan.limit.is_some_and(|n| n == 0 || n > MAX_LIMIT) {
        return Err(format!("a limit must be between 1 and {MAX_LIMIT}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ask::tests_count_schemas::{col, courses, p, tid};

    #[test]
    fn planner_plans_round_trip_through_json() {
        let s = courses();
        for q in [
            "What is the total number of students who found the instructor to be hilarious per course id?",
            "How many students have declared a major in each program?",
            "What is the ratio of the total number of students enrolled in courses with exams to the total number of students enrolled in courses without exams?",
        ] {
            let plan = p(&s, q);
            let json = serde_json::to_string(&plan).unwrap();
            let fenced = format!("```json\n{json}\n```");
            assert_eq!(parse_plan(&s.catalog, &fenced).unwrap(), plan, "{q}");
        }
    }

    #[test]
    fn plans_naming_what_the_view_lacks_are_refused() {
        let s = courses();
        let c = &s.catalog;
        let good = p(
            &s,
            "How many students have declared a major in each program?",
        );
        let refused = |f: &dyn Fn(&mut AnalysisPlan)| {
            let mut plan = good.clone();
            f(&mut plan);
            check_plan(c, &plan).unwrap_err()
        };
        let n = c.tables.len() as u32;
        assert!(
            refused(&|p| p.measures = vec![Measure::Count(n + 5)]).contains("not in the catalog")
        );
        assert!(refused(&|p| p.dimensions[0].column.column = 999).contains("does not exist"));
        assert!(refused(&|p| p.part = vec![7]).contains("filter 7"));
        assert!(refused(&|p| p.measures.clear()).contains("no measure"));
        assert!(refused(&|p| p.limit = Some(0)).contains("limit"));
        assert!(refused(&|p| p.measures = vec![Measure::Metric(3)]).contains("metric 3"));
        let text = col(&s, "program.name");
        assert!(refused(&|p| p.measures = vec![Measure::Aggregate {
            agg: Agg::Sum,
            column: text
        }])
        .contains("number column"));
        assert!(refused(&|p| {
            p.time = Some(TimeRange {
                clock: None,
                column: None,
                start: "2024-01-01'; DROP TABLE x; --".into(),
                end: "2025-01-01".into(),
                words: String::new(),
            })
        })
        .contains("not a date"));
        // Periods far from now (an i32 that would overflow) and NUL in values are refused.
        assert!(refused(&|p| {
            p.time = Some(TimeRange {
                clock: Some(ClockPeriod {
                    unit: Grain::Quarter,
                    offset: i32::MIN,
                }),
                column: None,
                start: String::new(),
                end: String::new(),
                words: String::new(),
            })
        })
        .contains("offset"));
        assert!(refused(&|p| p.filters.push(Filter {
            column: text,
            op: Op::Contains,
            values: vec![Value::Text("a\0b".into())],
        }))
        .contains("NUL"));
        assert!(parse_plan(c, "{\"intent\": \"delete\"}")
            .unwrap_err()
            .contains("not valid JSON"));
    }

    #[test]
    fn sql_in_a_plans_strings_stays_a_literal() {
        let s = courses();
        let plan = AnalysisPlan {
            intent: Intent::Aggregate,
            measures: vec![Measure::Count(tid(&s, "courses.student"))],
            dimensions: Vec::new(),
            filters: vec![Filter {
                column: col(&s, "student.declare_major"),
                op: Op::Eq,
                values: vec![Value::Text("x'); DROP TABLE student; --".into())],
            }],
            time: None,
            having: None,
            order: None,
            limit: None,
            previous: None,
            without: None,
            part: Vec::new(),
            via: Vec::new(),
            denominator_part: Vec::new(),
            percent: false,
            confidence: 0.0,
        };
        let json = serde_json::to_string(&plan).unwrap();
        let plan = parse_plan(&s.catalog, &json).unwrap();
        let sql = crate::ask::compile::compile(&s, &plan).unwrap();
        let parsed =
            sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::PostgreSqlDialect {}, &sql)
                .unwrap();
        assert_eq!(parsed.len(), 1, "{sql}");
        assert!(
            matches!(parsed[0], sqlparser::ast::Statement::Query(_)),
            "{sql}"
        );
    }
}
