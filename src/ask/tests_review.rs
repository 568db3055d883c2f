//! Planner tests of the silent wrong answers an outside reviewer found on schemas of their own
//! (bench/review): each question below ran and answered another question before the fix. The
//! schemas are cut-down copies of the reviewer's clinic and library.

use super::plan::*;
use super::tests_count_schemas::*;
use crate::catalog::store::Semantic;
use crate::catalog::tests::table;
use crate::catalog::ValueKind::*;

/// A clinic: departments, doctors, patients, appointments (status, a 'Y' follow-up flag) and
/// medicines with a 'Yes'/'No' prescription flag.
fn clinic() -> Semantic {
    let mut c = schema(
        vec![
            table(
                "departments",
                &[
                    ("department_id", Integer),
                    ("dept_name", Text),
                    ("floor_number", Integer),
                ],
            ),
            table(
                "doctors",
                &[
                    ("doctor_id", Integer),
                    ("first_name", Text),
                    ("department_id", Integer),
                ],
            ),
            table(
                "patients",
                &[
                    ("patient_id", Integer),
                    ("full_name", Text),
                    ("gender", Text),
                ],
            ),
            table(
                "appointments",
                &[
                    ("appointment_id", Integer),
                    ("patient_id", Integer),
                    ("doctor_id", Integer),
                    ("status", Text),
                    ("fee", Decimal),
                    ("follow_up_needed", Text),
                ],
            ),
            table(
                "medications",
                &[
                    ("medication_id", Integer),
                    ("med_name", Text),
                    ("requires_prescription", Text),
                ],
            ),
        ],
        "clinic",
    );
    relate(&mut c, "doctors.department_id", "departments.department_id");
    relate(&mut c, "appointments.patient_id", "patients.patient_id");
    relate(&mut c, "appointments.doctor_id", "doctors.doctor_id");
    values(
        &mut c,
        "appointments.status",
        &["Cancelled", "Completed", "No-show"],
    );
    values(&mut c, "appointments.follow_up_needed", &["Y"]);
    values(&mut c, "medications.requires_prescription", &["No", "Yes"]);
    values(&mut c, "patients.gender", &["F", "M"]);
    finish(c)
}

/// A library with run-together names: authors, books and the bridge between them.
fn library() -> Semantic {
    let mut bridge = table(
        "lib_bookauthors",
        &[("bookid", Integer), ("authorid", Integer)],
    );
    bridge.primary_key.clear();
    let mut c = schema(
        vec![
            table(
                "lib_authors",
                &[
                    ("authorid", Integer),
                    ("authname", Text),
                    ("birthcountry", Text),
                ],
            ),
            table(
                "lib_books",
                &[("bookid", Integer), ("title", Text), ("genre", Text)],
            ),
            bridge,
        ],
        "library",
    );
    relate(&mut c, "lib_bookauthors.bookid", "lib_books.bookid");
    relate(&mut c, "lib_bookauthors.authorid", "lib_authors.authorid");
    values(&mut c, "lib_authors.birthcountry", &["UK", "USA", "Japan"]);
    finish(c)
}

/// "no" is never the stored value 'No' of some yes/no column ("patients with no appointments"
/// counted patients given non-prescription medicines).
#[test]
fn no_is_not_a_stored_no() {
    let s = clinic();
    let plan = p(&s, "How many patients have no appointments?");
    assert_eq!(plan.without, Some(tid(&s, "clinic.appointments")));
    assert!(plan.filters.is_empty(), "{:?}", plan.filters);
}

/// Keys are never added up or ranked by ("which author wrote the most books" ranked books by
/// the sum of their author ids).
#[test]
fn ids_are_never_measures() {
    let s = library();
    let c = &s.catalog;
    for q in [
        "Which author wrote the most books?",
        "Which books have the most authors?",
    ] {
        if let Ok(planned) = super::planner::plan(&s, q) {
            for m in &planned.plan.measures {
                if let Measure::Aggregate { column, .. } = m {
                    assert!(
                        !c.column(*column).name.ends_with("id"),
                        "{q}: aggregates {}",
                        c.column(*column).name
                    );
                }
            }
            if let Some(Order {
                column: Some(col), ..
            }) = planned.plan.order
            {
                assert!(!c.column(col).name.ends_with("id"), "{q}: sorted by an id");
            }
        }
    }
}

/// "which birth country has the most authors" counts authors per country (it returned the
/// author with the highest id).
#[test]
fn which_value_has_the_most_rows() {
    let s = library();
    let plan = p(&s, "Which birth country has the most authors?");
    assert_eq!(
        plan.measures,
        vec![Measure::Count(tid(&s, "library.lib_authors"))]
    );
    assert_eq!(
        plan.dimensions.iter().map(|d| d.column).collect::<Vec<_>>(),
        vec![col(&s, "lib_authors.birthcountry")]
    );
    assert_eq!(plan.limit, Some(1));
    let s = clinic();
    let plan = p(&s, "Which floor number has the most departments?");
    assert_eq!(
        plan.measures,
        vec![Measure::Count(tid(&s, "clinic.departments"))]
    );
}

/// "what share of appointments were cancelled in each department" is the rate within each
/// department (it was each department's part of all cancellations).
#[test]
fn share_said_of_the_rows_is_within_each_group() {
    let s = clinic();
    let plan = p(
        &s,
        "What share of appointments were cancelled in each department?",
    );
    assert_eq!(plan.intent, Intent::Ratio);
    assert!(plan.percent);
    let part: Vec<&Filter> = plan.part.iter().map(|i| &plan.filters[*i]).collect();
    assert_eq!(part.len(), 1);
    assert_eq!(part[0].column, col(&s, "appointments.status"));
    assert_eq!(part[0].values, vec![Value::Text("Cancelled".into())]);
    // Spread across the groups when the part qualifies the rows before them.
    let plan = p(&s, "What share of cancelled appointments by department?");
    assert_eq!(plan.intent, Intent::Share);
}

/// "... with follow up needed by department": "needed" ends a column's name, so "by
/// department" is a grouping (it was dropped, giving one total).
#[test]
fn by_after_a_column_name_groups() {
    let s = clinic();
    let plan = p(
        &s,
        "Number of appointments with follow up needed by department",
    );
    assert_eq!(
        plan.dimensions.iter().map(|d| d.column).collect::<Vec<_>>(),
        vec![col(&s, "departments.dept_name")]
    );
}

/// "top 5 employees by salary": a number column after "top N ... by" ranks the rows by it (it
/// grouped by each salary and counted).
#[test]
fn top_n_by_a_number_column_ranks_rows() {
    let s = clinic();
    let plan = p(&s, "Top 3 appointments by fee");
    assert_eq!(plan.intent, Intent::List);
    assert_eq!(plan.limit, Some(3));
    assert_eq!(
        plan.order,
        Some(Order {
            descending: true,
            column: Some(col(&s, "appointments.fee"))
        })
    );
}

/// "top home city by number of loans" names one: LIMIT 1 (it listed ten); "top cities" ten.
#[test]
fn top_without_a_number_follows_the_noun() {
    let s = library();
    let plan = p(&s, "Top birth country by number of authors");
    assert_eq!(plan.limit, Some(1));
    let plan = p(&s, "Top genres by number of books");
    assert_eq!(plan.limit, Some(10));
}
