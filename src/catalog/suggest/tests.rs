//! Tests of drafts on hand-built catalogs: what is offered as a metric and under which name,
//! what is marked personal, what inference chose, and that a fully accepted draft (every
//! commented line uncommented) goes through the real annotations loader without a diagnostic.

use super::super::annotations;
use super::super::model::*;
use super::super::tests::table;
use super::{personal, suggest};
use std::path::Path;
use ValueKind::{Boolean, Date, Decimal, Integer, Text};

/// `draft` as a person accepting all of it would leave it: every line starting with `# ` (a
/// draft) uncommented; `##` notes stay comments.
pub(crate) fn uncomment(draft: &str) -> String {
    draft
        .lines()
        .map(|l| l.strip_prefix("# ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Applies the fully accepted draft of `c` to a copy of it; panics on any diagnostic.
fn accept_all(c: &Catalog) -> (String, Catalog) {
    let draft = uncomment(&suggest(c));
    let file = annotations::parse(Path::new("draft.toml"), draft.clone())
        .unwrap_or_else(|d| panic!("{d}\n{draft}"));
    let mut applied = c.clone();
    let problems = annotations::apply(&mut applied, &[file]);
    assert!(problems.is_empty(), "{problems:?}\n{draft}");
    (draft, applied)
}

fn inferred(c: &mut Catalog, from: &str, to: &str) {
    let origin = RelationOrigin::Inferred("same name as the key + values included (3 of 3)".into());
    super::super::tests::relate(c, from, to, origin);
}

/// The academic papers database as inference leaves it: keys, no foreign keys, relations
/// inferred; a bridge table without a key.
fn papers() -> Catalog {
    let mut writes = table("writes", &[("aid", Integer), ("pid", Integer)]);
    writes.primary_key.clear();
    let mut c = Catalog {
        database: "defog_academic".into(),
        tables: vec![
            table(
                "author",
                &[("aid", Integer), ("name", Text), ("oid", Integer)],
            ),
            table(
                "organization",
                &[("oid", Integer), ("name", Text), ("zip", Integer)],
            ),
            table(
                "publication",
                &[
                    ("pid", Integer),
                    ("title", Text),
                    ("year", Integer),
                    ("citation_num", Integer),
                    ("jid", Integer),
                    ("fiscal_year", Integer),
                    ("yr", Integer),
                    ("venue_code", Integer),
                    ("order_no", Integer),
                    ("is_open", Boolean),
                    ("cited", Integer),
                    ("page_count", Decimal),
                ],
            ),
            table("journal", &[("jid", Integer), ("name", Text)]),
            writes,
        ],
        ..Default::default()
    };
    c.tables[2].columns[10].comment = Some("ID of the publication being cited".into());
    inferred(&mut c, "author.oid", "organization.oid");
    inferred(&mut c, "publication.jid", "journal.jid");
    inferred(&mut c, "writes.aid", "author.aid");
    inferred(&mut c, "writes.pid", "publication.pid");
    c
}

#[test]
fn metrics_never_aggregate_keys_relations_years_codes_or_flags() {
    let c = papers();
    let (draft, applied) = accept_all(&c);
    let mut got: Vec<&str> = applied.metrics.iter().map(|m| m.sql.as_str()).collect();
    got.sort();
    assert_eq!(
        got,
        [
            "SUM(publication.citation_num)",
            "SUM(publication.page_count)"
        ],
        "{draft}"
    );
    for m in &applied.metrics {
        for col in &m.columns {
            assert!(super::is_measure(&c, col.table, col.column), "{m:?}");
        }
    }
}

#[test]
fn rates_and_prices_are_averaged_and_names_never_collide() {
    let mut c = Catalog {
        database: "atis".into(),
        tables: vec![
            table(
                "fare",
                &[("fare_id", Integer), ("round_trip_cost", Decimal)],
            ),
            table(
                "ground_fare",
                &[("gid", Integer), ("round_trip_cost", Decimal)],
            ),
            table(
                "flight",
                &[
                    ("flight_id", Integer),
                    ("total_distance", Decimal),
                    ("departure_time", Integer),
                    ("stops", Integer),
                    ("ticket_price", Decimal),
                ],
            ),
        ],
        ..Default::default()
    };
    let (draft, applied) = accept_all(&c);
    let sql = |name: &str| {
        applied
            .metrics
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.sql.as_str())
    };
    assert_eq!(
        sql("total_fare_round_trip_cost"),
        Some("SUM(fare.round_trip_cost)"),
        "{draft}"
    );
    assert_eq!(
        sql("total_ground_fare_round_trip_cost"),
        Some("SUM(ground_fare.round_trip_cost)")
    );
    assert_eq!(sql("total_distance"), Some("SUM(flight.total_distance)"));
    assert_eq!(sql("total_stops"), Some("SUM(flight.stops)"));
    assert_eq!(
        sql("average_ticket_price"),
        Some("AVG(flight.ticket_price)")
    );
    assert_eq!(
        applied.metrics.len(),
        5,
        "a clock time is no measure: {draft}"
    );
    // Names that collide again once qualified (fare + round_trip_cost, fare_round +
    // trip_cost; a column named like another's draft) still come out unique.
    c.tables.push(table(
        "fare_round",
        &[("trip_id", Integer), ("trip_cost", Decimal)],
    ));
    c.tables.push(table(
        "misc",
        &[("misc_id", Integer), ("distance", Decimal)],
    ));
    let drafts = super::measures::drafts(&c);
    let mut names: Vec<&str> = drafts.iter().map(|d| d.name.as_str()).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(names.len(), before, "{drafts:?}");
    let (draft, applied) = accept_all(&c);
    assert_eq!(applied.metrics.len(), 7, "{draft}");
}

#[test]
fn personal_only_where_the_data_looks_personal() {
    let mut customers = table(
        "customers",
        &[
            ("customer_id", Integer),
            ("email", Text),
            ("phone", Text),
            ("first_name", Text),
            ("last_name", Text),
            ("address_line1", Text),
            ("birth_date", Date),
            ("email_verified", Boolean),
            ("segment", Text),
        ],
    );
    customers.columns[2].profile = Some(Profile {
        values: Some(vec!["+49 30 1234".into()]),
        ..Default::default()
    });
    let streets = table("streets", &[("street_id", Integer), ("street_name", Text)]);
    let airlines = table(
        "airline",
        &[
            ("code", Text),
            ("phone", Text),
            ("ssn", Text),
            ("email", Text),
        ],
    );
    let mut orders = table(
        "orders",
        &[("id", Integer), ("email", Text), ("customer_phone", Text)],
    );
    orders.columns[1].profile = Some(Profile {
        values: Some(vec!["yes".into(), "no".into()]),
        ..Default::default()
    });
    let flagged = |t: &Table| -> Vec<String> {
        t.columns
            .iter()
            .filter(|c| personal(t, c))
            .map(|c| c.name.clone())
            .collect()
    };
    assert_eq!(
        flagged(&customers),
        [
            "email",
            "phone",
            "first_name",
            "last_name",
            "address_line1",
            "birth_date"
        ]
    );
    assert!(flagged(&streets).is_empty());
    assert_eq!(flagged(&airlines), ["ssn", "email"]);
    assert_eq!(flagged(&orders), ["customer_phone"]);
    let c = Catalog {
        database: "shop".into(),
        tables: vec![customers, streets],
        ..Default::default()
    };
    let (draft, _) = accept_all(&c);
    assert!(
        !draft.contains("[tables.streets.columns.street_name]\npii"),
        "{draft}"
    );
    assert!(draft.contains("[tables.customers.columns.first_name]\npii = true"));
}

#[test]
fn inferred_relationships_display_and_time_columns_are_drafted() {
    let mut c = papers();
    let pubs = c.find_table("publication").unwrap() as usize;
    c.tables[pubs].columns.push(Column {
        name: "published_on".into(),
        data_type: "date".into(),
        kind: Date,
        nullable: true,
        comment: None,
        profile: None,
        notes: ColumnNotes::default(),
    });
    // What inference chose is drafted, whatever a name rule would say.
    c.tables[pubs].notes.display_column = Some(0);
    c.tables[pubs].notes.time_column = Some(12);
    let (draft, applied) = accept_all(&c);
    let t = applied.table(pubs as TableId);
    assert_eq!(t.notes.display_column, Some(0), "{draft}");
    assert_eq!(t.notes.time_column, Some(12), "{draft}");
    // The metric drafts of the table are dated by it too.
    assert!(suggest(&c).contains(
        "# [metrics.total_citation_num]\n# sql = \"SUM(publication.citation_num)\"\n\
         # time_column = \"publication.published_on\"\n"
    ));
    // The four inferred relations are drafted, and accepting them declares them.
    assert_eq!(applied.relations.len(), 4, "{draft}");
    assert!(applied
        .relations
        .iter()
        .all(|r| r.origin == RelationOrigin::Declared));
    assert!(draft.contains(
        "## Inferred: same name as the key + values included (3 of 3)\n[[relationships]]\nfrom = \"writes.aid\"\nto = \"author.aid\""
    ));
}

#[test]
fn one_file_per_database_with_several_schemas() {
    let mut c = papers();
    c.database = "defog academic".into();
    let mut other = table("author", &[("aid", Integer), ("h_index", Integer)]);
    other.schema = "archive".into();
    c.tables.insert(0, other);
    // Relations name tables by index: shift them past the inserted one.
    for r in &mut c.relations {
        r.from += 1;
        r.to += 1;
    }
    let draft = suggest(&c);
    assert!(draft.starts_with(
        "## Draft annotations for database \"defog academic\", written by `querent schema suggest`.\n\
         ## Save it as schemas/defog_academic.toml: one file per database.\n"
    ), "{draft}");
    assert!(!draft.contains("\nschema ="), "{draft}");
    assert!(draft.contains("[tables.\"retail.author\"]"), "{draft}");
    let (draft, applied) = accept_all(&c);
    let names: Vec<&str> = applied.metrics.iter().map(|m| m.name.as_str()).collect();
    assert!(names.contains(&"total_h_index"), "{draft}");
    assert!(applied
        .metrics
        .iter()
        .any(|m| m.sql == "SUM(retail.publication.citation_num)"));
}
