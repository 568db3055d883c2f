//! Planner tests of stored counts and the conditions and ratios around them, on three
//! hand-built schemas with column descriptions as `COMMENT ON COLUMN` gives them: `courses`
//! (courses, their tag counts, students, programs), `flights` (flights, fares through a
//! bridge table, airlines, aircraft) and `academic` (domains, publications, keywords through
//! bridge tables). Relations are declared as inference finds them.

use super::compile::compile;
use super::plan::*;
use super::tests_count_schemas::*;

/// "number of <what a stored count's description says>" is that column, summed (or sorted
/// by), not a count of the rows of the table the description names; "number of students"
/// alone still counts students.
#[test]
fn stored_counts_are_read_not_counted() {
    let s = courses();
    let plan = p(
        &s,
        "What is the total number of students who found the instructor to be hilarious per course id?",
    );
    assert_eq!(plan.intent, Intent::Aggregate);
    assert_eq!(plan.measures, vec![sum(&s, "course_tags.hilarious")]);
    assert_eq!(dims(&plan), vec![col(&s, "course.course_id")]);
    let top = Some(Order {
        descending: true,
        column: Some(col(&s, "course.num_enrolled")),
    });
    for q in [
        "Which course has the highest number of enrolled students?",
        "Which course has the highest number of enrolled students, and what is the enrollment number?",
    ] {
        let plan = p(&s, q);
        assert_eq!((plan.order, plan.limit), (top, Some(1)), "{q}");
        assert!(plan.filters.is_empty(), "{q}: {:?}", plan.filters);
    }
    let plan = p(
        &s,
        "What is the total number of students enrolled in each course?",
    );
    assert_eq!(plan.measures, vec![sum(&s, "course.num_enrolled")]);
    assert_eq!(dims(&plan), vec![col(&s, "course.name")]);
    let plan = p(
        &s,
        "What is the total number of credits earned by each student?",
    );
    assert_eq!(plan.measures, vec![sum(&s, "student.total_credit")]);
    assert_eq!(dims(&plan), vec![col(&s, "student.student_id")]);
    // Regression guard: no stored count describes students per program.
    let plan = p(&s, "What is the number of students per program?");
    assert_eq!(
        plan.measures,
        vec![Measure::Count(tid(&s, "courses.student"))]
    );
    assert_eq!(dims(&plan), vec![col(&s, "program.name")]);
}

/// Each side of a ratio may be a stored count ("the number of students who found the grading
/// criteria clear and easy to understand", whose "to" is not the ratio's), summed per group;
/// the same stored count on both sides, each with its own yes/no condition.
#[test]
fn stored_counts_are_ratio_sides() {
    let s = courses();
    let plan = p(
        &s,
        "What is the ratio of the number of students who found the grading criteria clear and easy to understand to the number of students who received good feedback from the instructor for each course id?",
    );
    assert_eq!(plan.intent, Intent::Ratio);
    assert_eq!(
        plan.measures,
        vec![
            sum(&s, "course_tags.clear_grading"),
            sum(&s, "course_tags.good_feedback")
        ]
    );
    assert_eq!(dims(&plan), vec![col(&s, "course.course_id")]);
    assert!(plan.filters.is_empty(), "{:?}", plan.filters);
    let plan = p(
        &s,
        "What is the ratio of the total number of students enrolled in courses with exams to the total number of students enrolled in courses without exams?",
    );
    assert_eq!(plan.intent, Intent::Ratio);
    let enrolled = sum(&s, "course.num_enrolled");
    assert_eq!(plan.measures, vec![enrolled.clone(), enrolled]);
    assert!(plan.dimensions.is_empty());
    let exams = col(&s, "course.has_exams");
    assert_eq!(
        picked(&plan, Some(&plan.part)),
        vec![(exams, Op::Eq, vec![Value::Bool(true)])]
    );
    assert_eq!(
        picked(&plan, Some(&plan.denominator_part)),
        vec![(exams, Op::Eq, vec![Value::Bool(false)])]
    );
}

/// "within each domain ID": the key word after a grouping makes the entity's key the
/// grouping, not its display name; a repeated "Show all domain IDs" adds nothing.
#[test]
fn key_words_after_a_grouping_group_by_the_key() {
    let s = academic();
    let counts = vec![
        Measure::Count(tid(&s, "academic.publication")),
        Measure::Count(tid(&s, "academic.keyword")),
    ];
    for q in [
        "What is the ratio of the total number of publications to the total number of keywords within each domain ID? Show all domain IDs.",
        "What is the ratio of the number of publications to the number of keywords within each domain ID?",
    ] {
        let plan = p(&s, q);
        assert_eq!(plan.intent, Intent::Ratio, "{q}");
        assert_eq!(plan.measures, counts, "{q}");
        assert_eq!(dims(&plan), vec![col(&s, "domain.did")], "{q}");
    }
    let plan = p(&s, "How many publications are there in each domain ID?");
    assert_eq!(dims(&plan), vec![col(&s, "domain.did")]);
    // Without the key word the domain is shown by its name.
    let plan = p(
        &s,
        "What is the ratio of the number of publications to the number of keywords within each domain?",
    );
    assert_eq!(dims(&plan), vec![col(&s, "domain.name")]);
}

/// `pay_load` is named by "payload", its two parts written as one word; "maximum range" is
/// the maximum of `range_miles`, not a part of another column's name.
#[test]
fn two_part_names_written_as_one_word() {
    let s = flights();
    let plan = p(
        &s,
        "What is the ratio of the maximum range to the maximum payload for each aircraft?",
    );
    assert_eq!(plan.intent, Intent::Ratio);
    let max = |name: &str| Measure::Aggregate {
        agg: Agg::Max,
        column: col(&s, name),
    };
    assert_eq!(
        plan.measures,
        vec![max("aircraft.range_miles"), max("aircraft.pay_load")]
    );
    assert_eq!(dims(&plan), vec![col(&s, "aircraft.aircraft_code")]);
    let plan = p(&s, "What is the maximum payload of each aircraft?");
    assert_eq!(plan.measures, vec![max("aircraft.pay_load")]);
}

/// A column that stores a count is a condition when rows are "with" or "without" it:
/// "flights with stops" is stops > 0 (and "out of all flights for each airline code" a ratio
/// of that part to all flights within each group); "without stops" and "excluding flights
/// with connections" are = 0.
#[test]
fn count_columns_are_conditions() {
    let s = flights();
    let flight = Measure::Count(tid(&s, "flights.flight"));
    let plan = p(
        &s,
        "What is the proportion of flights with stops out of all flights for each airline code?",
    );
    assert_eq!(plan.intent, Intent::Ratio);
    assert_eq!(plan.measures, vec![flight.clone(), flight.clone()]);
    assert_eq!(dims(&plan), vec![col(&s, "flight.airline_code")]);
    let stops = col(&s, "flight.stops");
    let zero = vec![Value::Number(0.0)];
    assert_eq!(
        picked(&plan, None),
        vec![(stops, Op::Gt, zero.clone())],
        "only the part is restricted"
    );
    assert_eq!(plan.part, vec![0]);
    assert!(plan.denominator_part.is_empty());
    let plan = p(&s, "How many flights are there without stops?");
    assert_eq!(plan.measures, vec![flight.clone()]);
    assert_eq!(picked(&plan, None), vec![(stops, Op::Eq, zero.clone())]);
    let plan = p(
        &s,
        "How many flights are there excluding flights with connections?",
    );
    assert_eq!(plan.measures, vec![flight]);
    assert_eq!(
        picked(&plan, None),
        vec![(col(&s, "flight.connections"), Op::Eq, zero)]
    );
}

/// A text column holding only 'Yes' is a flag when the question says every word of its name
/// ("require a round-trip" for `round_trip_required`): = 'Yes', reached from flights through
/// the `flight_fare` bridge, not through the airline flights and fares share. "round-trip
/// fares" alone names the cost, not the flag.
#[test]
fn yes_no_text_columns_are_flags() {
    let s = flights();
    let q = "How many flights require a round-trip to purchase the fare?";
    let plan = p(&s, q);
    assert_eq!(
        plan.measures,
        vec![Measure::Count(tid(&s, "flights.flight"))]
    );
    assert_eq!(
        picked(&plan, None),
        vec![(
            col(&s, "fare.round_trip_required"),
            Op::Eq,
            vec![Value::Text("Yes".into())]
        )]
    );
    let sql = sql(&s, q);
    assert!(sql.contains("JOIN \"flights\".\"flight_fare\""), "{sql}");
    assert!(sql.contains("JOIN \"flights\".\"fare\""), "{sql}");
    assert!(!sql.contains("\"airline\""), "{sql}");
    let plan = p(
        &s,
        "What is the total cost of round-trip fares for each airline code?",
    );
    assert_eq!(plan.measures, vec![sum(&s, "fare.round_trip_cost")]);
    assert!(plan.filters.is_empty(), "{:?}", plan.filters);
}

/// "students who have declared a major": a nullable column named after "have" and a verb is
/// set (IS NOT NULL).
#[test]
fn declared_values_are_not_null() {
    let s = courses();
    let plan = p(
        &s,
        "How many students have declared a major in each program?",
    );
    assert_eq!(
        plan.measures,
        vec![Measure::Count(tid(&s, "courses.student"))]
    );
    assert_eq!(dims(&plan), vec![col(&s, "program.name")]);
    assert_eq!(
        picked(&plan, None),
        vec![(col(&s, "student.declare_major"), Op::NotNull, Vec::new())]
    );
}

async fn connect(db: &str) -> tokio_postgres::Client {
    let dsn = format!("host=127.0.0.1 port=5432 user=root dbname={db}");
    let (client, conn) = tokio_postgres::connect(&dsn, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL on 127.0.0.1:5432, database {db}: {e}"));
    tokio::spawn(async move {
        let _ = conn.await;
    });
    client
}

/// A grouped ratio of counts (airlines shown by name), compiled and run on PostgreSQL
/// (database `test`, a schema made and rolled back in one transaction): every group of either
/// side is a row, an airline with fares but no flights has ratio 0 (not no row), and two
/// airlines of the same name stay two rows (the sides are joined on the hidden key too).
#[tokio::test]
async fn grouped_ratios_keep_every_group_on_postgres() {
    // Database `test` as the other tests use it; an error here means it exists already.
    let _ = connect("postgres")
        .await
        .batch_execute("CREATE DATABASE test")
        .await;
    let name = format!("qa_counts_{}", std::process::id());
    let s = finish(flights_in(&name));
    let plan = p(
        &s,
        "What is the ratio of flights to fares for each airline?",
    );
    assert_eq!(plan.intent, Intent::Ratio);
    let count = |t: &str| Measure::Count(tid(&s, &format!("{name}.{t}")));
    assert_eq!(plan.measures, vec![count("flight"), count("fare")]);
    assert_eq!(dims(&plan), vec![col(&s, "airline.airline_name")]);
    let sql = compile(&s, &plan).unwrap_or_else(|e| panic!("{}", e.message));
    let db = connect("test").await;
    db.batch_execute(&format!(
        "BEGIN;
         CREATE SCHEMA {name};
         CREATE TABLE {name}.airline (airline_code text PRIMARY KEY, airline_name text);
         CREATE TABLE {name}.flight (flight_id int PRIMARY KEY, airline_code text, stops int,
             connections int);
         CREATE TABLE {name}.fare (fare_id int PRIMARY KEY, fare_airline text,
             round_trip_cost int, round_trip_required text);
         INSERT INTO {name}.airline VALUES ('AA', 'Alpha'), ('AB', 'Alpha'), ('GG', 'Gamma');
         INSERT INTO {name}.flight VALUES (1, 'AA', 0, 0), (2, 'AA', 1, 0), (3, 'AB', 0, 0);
         INSERT INTO {name}.fare VALUES (1, 'AA', 100, 'Yes'), (2, 'AB', 100, 'Yes'),
             (3, 'AB', 200, 'No'), (4, 'GG', 100, 'Yes'), (5, 'GG', 300, 'No');"
    ))
    .await
    .unwrap();
    // (airline, ratio, flights, fares) as PostgreSQL prints them.
    let mut rows: Vec<String> = db
        .simple_query(&sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => Some(
                (0..r.len())
                    .map(|i| r.get(i).unwrap_or("NULL"))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            _ => None,
        })
        .collect();
    db.batch_execute("ROLLBACK").await.unwrap();
    rows.sort();
    assert_eq!(
        rows,
        ["Alpha 0.5 1 2", "Alpha 2 2 1", "Gamma 0 0 2"],
        "{sql}"
    );
}

/// "the number of <stored count words>" without "total" is the stored count too, summed.
#[test]
fn stored_count_without_total() {
    let s = courses();
    let plan = p(&s, "What is the number of credits earned by each student?");
    assert_eq!(plan.measures, vec![sum(&s, "student.total_credit")]);
    assert_eq!(dims(&plan), vec![col(&s, "student.student_id")]);
    let plan = p(
        &s,
        "What is the number of students who found the instructor to be hilarious per course id?",
    );
    assert_eq!(plan.measures, vec![sum(&s, "course_tags.hilarious")]);
}

/// Bare table words as ratio sides with a key grouping ("ratio of publications to keywords
/// within each domain ID"): "keywords" links best to the column `keyword.keyword`, named like
/// its table, which on a ratio side means the table's rows.
#[test]
fn ratio_of_bare_table_words_by_key() {
    let s = academic();
    let plan = p(
        &s,
        "What is the ratio of publications to keywords within each domain ID?",
    );
    assert_eq!(plan.intent, Intent::Ratio);
    assert_eq!(
        plan.measures,
        vec![
            Measure::Count(tid(&s, "academic.publication")),
            Measure::Count(tid(&s, "academic.keyword"))
        ]
    );
    assert_eq!(dims(&plan), vec![col(&s, "domain.did")]);
}

/// Without a restriction table (whose `advance_purchase` and `saturday_stay_required` would
/// link "purchase" and "require"), the words of the flag's own name and description
/// ("required to purchase this fare") still account for the question's words.
#[test]
fn yes_no_flag_words_need_no_other_column() {
    let mut c = flights_in("flights");
    c.tables.retain(|t| t.name != "restriction");
    let s = finish(c);
    let plan = p(
        &s,
        "How many flights require a round-trip to purchase the fare?",
    );
    assert_eq!(
        picked(&plan, None),
        vec![(
            col(&s, "fare.round_trip_required"),
            Op::Eq,
            vec![Value::Text("Yes".into())]
        )]
    );
}
