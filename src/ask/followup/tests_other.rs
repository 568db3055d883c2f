//! Follow-ups on the courses, flights and academic schemas (built for the planner tests, not
//! for follow-ups), what is never a follow-up, and the cheap cue check.

use super::tests::{before, changed, declined, dim, gives, refined};
use super::*;
use crate::ask::plan::*;
use crate::ask::tests::retail;
use crate::ask::tests_count_schemas::{academic, col, courses, flights, p, tid};

#[test]
fn followup_declines_new_questions_and_unknown_words() {
    let s = retail();
    let prev = before(&s, "total revenue by region in 2024");
    for text in [
        "total revenue by region in 2023",
        "now total revenue by region in 2023",
        "and how many customers signed up in 2023?",
        "how many customers",
        "profit",
        "blorf wibble",
        "now blorf",
        "by zorbleflax",
        "by month and zorbleflax",
        "only the",
        "",
        "for all stores",
    ] {
        declined(&s, &prev, text);
    }
    // Full questions that read as refinements too: the planner's, not follow-ups.
    for text in [
        "now total profit by month in 2023",
        "and the average order value by store?",
        "for each store, the total profit in 2023",
    ] {
        let linking = s.index.link(&s.catalog, text);
        assert!(read::read(&s, &linking, None).is_some(), "{text:?}");
        assert!(full_question(&s, text), "{text:?}");
        declined(&s, &prev, text);
    }
    // A full question after a lead word is the planner's, without the lead.
    assert_eq!(
        question_part("now total revenue by region in 2023"),
        "total revenue by region in 2023"
    );
    assert_eq!(question_part("and, also: by month"), ": by month");
    p(&s, question_part("now total revenue by region in 2023"));
    // A list has no breakdown or measure to swap.
    let list = before(&s, "which stores opened in 2023");
    assert_eq!(list.plan.intent, Intent::List);
    declined(&s, &list, "by month");
    declined(&s, &list, "what about profit");
}

#[test]
fn followup_cues_are_cheap_and_strict() {
    for text in [
        "now by month",
        "by quarter instead",
        "only the West region",
        "just for Electronics",
        "and for 2023?",
        "in 2024 instead",
        "top 10 instead",
        "bottom 3",
        "same for customers",
        "What about stores?",
        "How about Q4",
        "break it down by store",
        "without the filter",
        "sorted ascending",
        "as a share",
        "West only",
        "Monthly",
    ] {
        assert!(looks_like_follow_up(text), "{text:?}");
    }
    for text in [
        "",
        "   ?",
        "total revenue by region in 2023",
        "What was the total revenue in 2023?",
        "how many customers",
        "now show me the total revenue for each region and each month of 2023 in the West",
    ] {
        assert!(!looks_like_follow_up(text), "{text:?}");
    }
}

#[test]
fn followup_on_courses_flights_and_academic() {
    let s = courses();
    let prev = before(
        &s,
        "How many students have declared a major in each program?",
    );
    gives(
        &s,
        &prev,
        "without the filter",
        changed(&prev, |p| p.filters.clear()),
        "without the filter on declare major",
    );
    gives(
        &s,
        &prev,
        "top 3 instead",
        changed(&prev, |p| {
            p.limit = Some(3);
            p.order = Some(Order::by_measure(true));
        }),
        "top 3",
    );
    declined(&s, &prev, "by semester");

    let s = flights();
    let prev = before(&s, "how many fares require a round-trip");
    let sql = gives(
        &s,
        &prev,
        "per airline",
        changed(&prev, |p| {
            p.dimensions = vec![dim(col(&s, "airline.airline_name"), None)]
        }),
        "by airline",
    );
    assert!(sql.contains("\"fare_airline\""), "{sql}");
    let per_airline = before(&s, "how many flights per airline");
    gives(
        &s,
        &per_airline,
        "bottom 3",
        changed(&per_airline, |p| {
            p.limit = Some(3);
            p.order = Some(Order::by_measure(false));
        }),
        "bottom 3",
    );

    let s = academic();
    let prev = before(&s, "how many publications in each domain");
    let (plan, said, sql) = refined(&s, &prev, "same for keywords");
    assert_eq!(plan.measures, prev.plan.measures);
    assert_eq!(plan.dimensions.len(), 1);
    assert_eq!(plan.dimensions[0].column.table, tid(&s, "keyword"));
    assert!(
        said.starts_with("by keyword instead of by domain"),
        "{said}"
    );
    // Through both bridges, each publication once per keyword.
    assert!(sql.contains("COUNT(DISTINCT"), "{sql}");
    declined(&s, &prev, "how many keywords per domain");
}
