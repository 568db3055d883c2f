//! Shared planner-test helpers (relations as inference finds them, profiled values, schemas)
//! and the schemas of the stored-count tests (tests_counts.rs): `courses`, `flights` and
//! `academic`, hand-built with column descriptions as `COMMENT ON COLUMN` gives them and
//! relations as inference finds them; and the helpers that plan questions against them.

use super::compile::compile;
use super::plan::*;
use super::planner::plan;
use crate::catalog::store::Semantic;
use crate::catalog::tests::table;
use crate::catalog::ValueKind::*;
use crate::catalog::*;

pub(super) fn relate(c: &mut Catalog, from: &str, to: &str) {
    let inferred = RelationOrigin::Inferred("names + values included".into());
    crate::catalog::tests::relate(c, from, to, inferred);
}

pub(super) fn values(c: &mut Catalog, col: &str, vals: &[&str]) {
    let r = c.find_column(col).unwrap();
    c.tables[r.table as usize].columns[r.column as usize].profile = Some(Profile {
        distinct: Some(vals.len() as u64),
        values: Some(vals.iter().map(|v| v.to_string()).collect()),
        min: None,
        max: None,
        source: Some(ProfileSource::Scan),
    });
}

/// Sets a column's description (`COMMENT ON COLUMN`).
pub(super) fn comment(c: &mut Catalog, col: &str, text: &str) {
    let r = c.find_column(col).unwrap();
    c.tables[r.table as usize].columns[r.column as usize].comment = Some(text.into());
}

pub(super) fn schema(mut tables: Vec<Table>, name: &str) -> Catalog {
    for t in &mut tables {
        t.schema = name.into();
    }
    Catalog {
        database: name.into(),
        tables,
        ..Default::default()
    }
}

/// Relations (given) and display columns (inferred) as discovery has them, then sealed.
pub(super) fn finish(mut c: Catalog) -> Semantic {
    crate::catalog::infer::infer_labels(&mut c, &mut Default::default());
    c.seal();
    Semantic::new(c)
}

/// Courses with stored counts (`num_enrolled`, the tag counts of `course_tags`), students
/// with a stored credit total and a nullable major, and programs.
pub(super) fn courses() -> Semantic {
    let mut c = schema(
        vec![
            table(
                "course",
                &[
                    ("course_id", Integer),
                    ("name", Text),
                    ("num_enrolled", Integer),
                    ("num_reviews", Integer),
                    ("has_exams", Boolean),
                ],
            ),
            table(
                "course_tags",
                &[
                    ("course_id", Integer),
                    ("hilarious", Integer),
                    ("good_feedback", Integer),
                    ("clear_grading", Integer),
                ],
            ),
            table(
                "student",
                &[
                    ("student_id", Integer),
                    ("program_id", Integer),
                    ("total_credit", Integer),
                    ("declare_major", Text),
                ],
            ),
            table("program", &[("program_id", Integer), ("name", Text)]),
        ],
        "courses",
    );
    for (f, t) in [
        ("course_tags.course_id", "course.course_id"),
        ("student.program_id", "program.program_id"),
    ] {
        relate(&mut c, f, t);
    }
    for (col, text) in [
        (
            "course.num_enrolled",
            "The total number of students enrolled in the course.",
        ),
        (
            "course.num_reviews",
            "The total number of reviews/ratings for the course.",
        ),
        (
            "course_tags.hilarious",
            "Number of students who found the instructor to be hilarious.",
        ),
        (
            "course_tags.good_feedback",
            "Number of students who received good feedback from the instructor.",
        ),
        (
            "course_tags.clear_grading",
            "Number of students who found the grading criteria clear and easy to understand.",
        ),
        (
            "student.total_credit",
            "Total number of credits earned by the student",
        ),
    ] {
        comment(&mut c, col, text);
    }
    let major = c.find_column("student.declare_major").unwrap();
    c.tables[major.table as usize].columns[major.column as usize].nullable = true;
    finish(c)
}

/// Flights with count columns, fares through the `flight_fare` bridge (and an airline of
/// their own: a second way between flights and fares), airlines, aircraft and fare
/// restrictions; in schema `name`. Not yet sealed.
pub(super) fn flights_in(name: &str) -> Catalog {
    let mut fare_key = table(
        "flight_fare",
        &[("flight_id", Integer), ("fare_id", Integer)],
    );
    fare_key.primary_key.clear();
    let mut c = schema(
        vec![
            table(
                "flight",
                &[
                    ("flight_id", Integer),
                    ("airline_code", Text),
                    ("stops", Integer),
                    ("connections", Integer),
                ],
            ),
            table(
                "fare",
                &[
                    ("fare_id", Integer),
                    ("fare_airline", Text),
                    ("round_trip_cost", Integer),
                    ("round_trip_required", Text),
                ],
            ),
            fare_key,
            table("airline", &[("airline_code", Text), ("airline_name", Text)]),
            table(
                "aircraft",
                &[
                    ("aircraft_code", Text),
                    ("pay_load", Integer),
                    ("range_miles", Integer),
                ],
            ),
            // As in the ATIS schema: "purchase" and "required" also name restriction columns.
            table(
                "restriction",
                &[
                    ("restriction_code", Text),
                    ("advance_purchase", Integer),
                    ("saturday_stay_required", Text),
                ],
            ),
        ],
        name,
    );
    for (f, t) in [
        ("flight.airline_code", "airline.airline_code"),
        ("fare.fare_airline", "airline.airline_code"),
        ("flight_fare.flight_id", "flight.flight_id"),
        ("flight_fare.fare_id", "fare.fare_id"),
    ] {
        relate(&mut c, f, t);
    }
    for (col, text) in [
        ("flight.stops", "Number of stops during the flight"),
        (
            "flight.connections",
            "Number of connections during the flight",
        ),
        (
            "fare.round_trip_required",
            "Indicates whether a round-trip is required to purchase this fare. Either Yes or No.",
        ),
        (
            "fare.round_trip_cost",
            "The cost of a round-trip for this fare",
        ),
    ] {
        comment(&mut c, col, text);
    }
    values(&mut c, "fare.round_trip_required", &["Yes"]);
    c
}

pub(super) fn flights() -> Semantic {
    finish(flights_in("flights"))
}

/// Domains with their publications and keywords through two bridge tables.
pub(super) fn academic() -> Semantic {
    let bridge = |name: &str, a: &str, b: &str| {
        let mut t = table(name, &[(a, Integer), (b, Integer)]);
        t.primary_key.clear();
        t
    };
    let mut c = schema(
        vec![
            table("domain", &[("did", Integer), ("name", Text)]),
            table("keyword", &[("kid", Integer), ("keyword", Text)]),
            table("publication", &[("pid", Integer), ("title", Text)]),
            bridge("domain_keyword", "did", "kid"),
            bridge("domain_publication", "did", "pid"),
        ],
        "academic",
    );
    for (f, t) in [
        ("domain_keyword.did", "domain.did"),
        ("domain_keyword.kid", "keyword.kid"),
        ("domain_publication.did", "domain.did"),
        ("domain_publication.pid", "publication.pid"),
    ] {
        relate(&mut c, f, t);
    }
    finish(c)
}

pub(super) fn col(s: &Semantic, name: &str) -> ColRef {
    s.catalog.find_column(name).unwrap()
}

pub(super) fn tid(s: &Semantic, name: &str) -> TableId {
    s.catalog.find_table(name).unwrap()
}

pub(super) fn sum(s: &Semantic, name: &str) -> Measure {
    Measure::Aggregate {
        agg: Agg::Sum,
        column: col(s, name),
    }
}

pub(super) fn p(s: &Semantic, q: &str) -> AnalysisPlan {
    match plan(s, q) {
        Ok(p) => p.plan,
        Err(d) => panic!("{q:?} declined: {} ({})", d.message, d.hint),
    }
}

pub(super) fn sql(s: &Semantic, q: &str) -> String {
    compile(s, &p(s, q)).unwrap_or_else(|e| panic!("{q:?}: {}", e.message))
}

pub(super) fn dims(plan: &AnalysisPlan) -> Vec<ColRef> {
    plan.dimensions.iter().map(|d| d.column).collect()
}

/// The filters at `at` (indexes into `plan.filters`; all when `None`) as (column, op, values).
pub(super) fn picked(plan: &AnalysisPlan, at: Option<&[usize]>) -> Vec<(ColRef, Op, Vec<Value>)> {
    let all: Vec<usize> = (0..plan.filters.len()).collect();
    at.unwrap_or(&all)
        .iter()
        .map(|k| {
            let f = &plan.filters[*k];
            (f.column, f.op, f.values.clone())
        })
        .collect()
}
