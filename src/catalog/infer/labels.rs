//! Display and time columns of tables that annotations leave without: the column that names a
//! row (`name`, `title`, `<table>_name`, …) and the column that dates it (the only date or
//! timestamp, or the one named like a creation date). Runs after annotations, so an annotated
//! choice always wins and personal data (`pii`) is never chosen.

use super::super::model::{Catalog, Column, Table, ValueKind};
use super::super::suggest::looks_personal;
use super::names::singular;
use super::{col_name, Inference};

/// Label-like names, best first (after the table's own `<table>_name`).
const LABELS: &[&str] = &["name", "title", "full_name", "display_name", "label"];

/// Words of date columns that do not date the row itself.
const NOT_WHEN: &[&str] = &[
    "updated", "modified", "deleted", "changed", "end", "ended", "closed", "expires", "expiry",
    "until", "birth", "dob",
];

/// Sets `notes.display_column` and `notes.time_column` of every table of `catalog` that has
/// none, recording them in `inference`.
pub fn infer_labels(catalog: &mut Catalog, inference: &mut Inference) {
    for t in &mut catalog.tables {
        if t.notes.display_column.is_none() {
            if let Some(c) = display_column(t) {
                t.notes.display_column = Some(c);
                inference.display_columns.push(col_name(t, c));
            }
        }
        if t.notes.time_column.is_none() {
            if let Some(c) = time_column(t) {
                t.notes.time_column = Some(c);
                inference.time_columns.push(col_name(t, c));
            }
        }
    }
}

fn usable_label(c: &Column) -> bool {
    c.kind == ValueKind::Text && !c.notes.pii && !looks_personal(&c.name)
}

/// The column that names a row of `t`, if one is named like a label.
pub fn display_column(t: &Table) -> Option<u32> {
    let own = [
        format!("{}_name", t.name.to_ascii_lowercase()),
        format!("{}_name", singular(&t.name)),
    ];
    let find = |pred: &dyn Fn(&str) -> bool| {
        t.columns
            .iter()
            .position(|c| usable_label(c) && pred(&c.name.to_ascii_lowercase()))
            .map(|i| i as u32)
    };
    let first_two = LABELS[..2].iter();
    first_two
        .map(|l| find(&|n| n == *l))
        .chain([find(&|n| own.iter().any(|o| o == n))])
        .chain(LABELS[2..].iter().map(|l| find(&|n| n == *l)))
        .chain([
            find(&|n| n.ends_with("_name")),
            // `authname`, `deptname`, `sbcustname`: a name written as one word.
            find(&|n| {
                n.len() > 6
                    && n.ends_with("name")
                    && ![
                        "file", "first", "last", "middle", "sur", "user", "host", "nick",
                    ]
                    .iter()
                    .any(|p| n.ends_with(&format!("{p}name")))
            }),
            find(&|n| n == "description"),
        ])
        .flatten()
        .next()
}

/// The column that dates a row of `t`: its only date or timestamp column, or among several the
/// one named like a creation or event date (`created_at`, `date`, `order_date`, `*_at`), never
/// one named like an update, end or birth date.
pub fn time_column(t: &Table) -> Option<u32> {
    let temporal: Vec<(u32, String)> = t
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.kind.is_temporal() && !c.notes.pii)
        .map(|(i, c)| (i as u32, c.name.to_ascii_lowercase()))
        .collect();
    if let [(only, _)] = temporal.as_slice() {
        return Some(*only);
    }
    let dated = |n: &str| !n.split('_').any(|w| NOT_WHEN.contains(&w));
    let rules: [&dyn Fn(&str) -> bool; 5] = [
        &|n| n == "created_at" || n == "created" || n == "created_on",
        &|n| n == "date" || n.starts_with("date_") || n.contains("created"),
        &|n| n.ends_with("_date") || n.ends_with("date"),
        &|n| n.ends_with("_at") || n.ends_with("_on"),
        &|n| n.ends_with("_dt") || n.ends_with("_time") || n.ends_with("_ts"),
    ];
    rules.iter().find_map(|rule| {
        temporal
            .iter()
            .find(|(_, n)| dated(n) && rule(n))
            .map(|(i, _)| *i)
    })
}

#[cfg(test)]
mod tests {
    use super::super::super::model::{Column, ColumnNotes, TableKind, TableNotes};
    use super::*;

    fn table(name: &str, cols: &[(&str, ValueKind)]) -> Table {
        Table {
            schema: "s".into(),
            name: name.into(),
            kind: TableKind::Table,
            comment: None,
            row_estimate: None,
            columns: cols
                .iter()
                .map(|(n, k)| Column {
                    name: n.to_string(),
                    data_type: String::new(),
                    kind: *k,
                    nullable: true,
                    comment: None,
                    profile: None,
                    notes: ColumnNotes::default(),
                })
                .collect(),
            primary_key: Vec::new(),
            notes: TableNotes::default(),
        }
    }

    use ValueKind::{Date, Integer, Text, Timestamp};

    #[test]
    fn display_columns() {
        let t = table("airport", &[("airport_code", Text), ("airport_name", Text)]);
        assert_eq!(display_column(&t), Some(1));
        let t = table(
            "plans",
            &[("code", Text), ("title", Text), ("plan_name", Text)],
        );
        assert_eq!(display_column(&t), Some(1));
        let t = table("patients", &[("email", Text), ("full_name", Text)]);
        assert_eq!(display_column(&t), Some(1));
        let t = table("hr_department", &[("deptcode", Text), ("deptname", Text)]);
        assert_eq!(display_column(&t), Some(1));
        let t = table("student", &[("lastname", Text), ("firstname", Text)]);
        assert_eq!(display_column(&t), None);
        let t = table("x", &[("description", Text), ("city_name", Text)]);
        assert_eq!(display_column(&t), Some(1));
        let t = table("x", &[("id", Integer), ("description", Text)]);
        assert_eq!(display_column(&t), Some(1));
        let mut t = table("x", &[("name", Text)]);
        t.columns[0].notes.pii = true;
        assert_eq!(display_column(&t), None);
    }

    #[test]
    fn time_columns() {
        let t = table("x", &[("id", Integer), ("updated_at", Timestamp)]);
        assert_eq!(time_column(&t), Some(1), "the only one");
        let t = table("x", &[("updated_at", Timestamp), ("created_at", Timestamp)]);
        assert_eq!(time_column(&t), Some(1));
        let t = table("x", &[("start_dt", Date), ("end_dt", Date)]);
        assert_eq!(time_column(&t), Some(0));
        let t = table("x", &[("closed_at", Timestamp), ("opened_at", Timestamp)]);
        assert_eq!(time_column(&t), Some(1));
        let t = table(
            "x",
            &[("date_of_birth", Date), ("date_of_registration", Date)],
        );
        assert_eq!(time_column(&t), Some(1));
        let t = table("x", &[("name", Text)]);
        assert_eq!(time_column(&t), None);
    }
}
