//! Inference of keys, relationships, display and time columns for databases without
//! constraints, against the real PostgreSQL through `store::discover` (the path a server and
//! `querent catalog` take): fixtures/catalog/infer.sql in a scratch schema, and the saas demo
//! (fixtures/catalog/saas.sql: primary keys, no foreign keys) with and without its annotations.

mod catalog_common;
mod common;

use catalog_common::*;
use querent::catalog::annotations::AnnotationFile;
use querent::catalog::introspect::IntrospectOptions;
use querent::catalog::store::{self, Loaded};
use querent::catalog::{Catalog, RelationOrigin};
use querent::upstream::UpstreamTarget;

async fn discover(db: &str, schema: &str, files: &[AnnotationFile]) -> Loaded {
    let target = UpstreamTarget::parse(&format!(
        "postgres://{}@{}:{}/{db}",
        common::PG_USER,
        common::PG_HOST,
        common::PG_PORT
    ))
    .expect("upstream URL");
    let opts = IntrospectOptions {
        schemas: vec![schema.to_string()],
        ..IntrospectOptions::default()
    };
    store::discover(&target, db, &opts, files)
        .await
        .unwrap_or_else(|e| panic!("discovery failed: {e}"))
}

/// Every relation as `from.col -> to.col (origin)`, sorted; `origin` is `fk`, `declared` or
/// `inferred`.
fn relations(cat: &Catalog) -> Vec<String> {
    let name = |t: u32, c: &[u32]| end_name(cat, t, c);
    let mut out: Vec<String> = cat
        .relations
        .iter()
        .map(|r| {
            let origin = match &r.origin {
                RelationOrigin::ForeignKey(_) => "fk",
                RelationOrigin::Declared => "declared",
                RelationOrigin::Inferred(why) => {
                    assert!(why.contains("values included"), "evidence: {why}");
                    "inferred"
                }
            };
            format!(
                "{} -> {} ({origin})",
                name(r.from, &r.from_columns),
                name(r.to, &r.to_columns)
            )
        })
        .collect();
    out.sort();
    out
}

fn pk(cat: &Catalog, table: &str) -> Vec<String> {
    let t = table_of(cat, table);
    t.primary_key
        .iter()
        .map(|c| t.columns[*c as usize].name.clone())
        .collect()
}

fn table_of<'a>(cat: &'a Catalog, name: &str) -> &'a querent::catalog::Table {
    table(cat, name)
}

fn noted(cat: &Catalog, table: &str, which: Option<u32>) -> Option<String> {
    which.map(|c| table_of(cat, table).columns[c as usize].name.clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn infers_keys_relations_and_labels_without_constraints() {
    let client = connect(common::PG_DB).await;
    let sql = std::fs::read_to_string(common::repo().join("fixtures/catalog/infer.sql"))
        .expect("fixture");
    let s = Scratch::create(&client, common::PG_DB, "infer", &sql).await;
    let loaded = discover(common::PG_DB, &s.name, &[]).await;
    let cat = &loaded.full.catalog;

    for (table, key) in [
        ("airport", "airport_code"),
        ("airline", "airline_code"),
        ("flight", "flight_id"),
        ("passenger", "passenger_id"),
        ("lounge", "lounge_id"),
        ("category", "category_id"),
        ("badge", "ref"),
        ("voucher", "ref"),
        ("assignment", "assignment_id"),
    ] {
        assert_eq!(pk(cat, table), vec![key], "key of {table}");
    }
    assert!(pk(cat, "booking").is_empty(), "a bridge table has no key");

    assert_eq!(
        relations(cat),
        vec![
            "booking.flight_id -> flight.flight_id (inferred)",
            "booking.passenger_id -> passenger.passenger_id (inferred)",
            "category.parent_category_id -> category.category_id (inferred)",
            "flight.carrier_airline -> airline.airline_code (inferred)",
            "flight.from_airport -> airport.airport_code (inferred)",
            "flight.to_airport -> airport.airport_code (inferred)",
        ]
    );
    // The decoy: named like airport's key, but 'ZZZ' is no airport.
    assert!(!relations(cat).iter().any(|r| r.starts_with("lounge.")));

    let inf = &loaded.inference;
    assert_eq!(inf.relations, 6);
    assert_eq!(inf.ambiguous.len(), 1, "{:?}", inf.ambiguous);
    let amb = &inf.ambiguous[0];
    assert_eq!(amb.column, format!("{}.assignment.ref", s.name));
    let mut targets = amb.targets.clone();
    targets.sort();
    assert_eq!(
        targets,
        vec![
            format!("{}.badge.ref", s.name),
            format!("{}.voucher.ref", s.name)
        ]
    );
    assert!(inf.statements > 0 && inf.skipped == 0 && inf.failed == 0);

    // Inferred relations join like foreign keys.
    let (flight, airport) = (
        cat.find_table("flight").expect("flight"),
        cat.find_table("airport").expect("airport"),
    );
    let tree = loaded
        .full
        .graph
        .join_tree(cat, flight, &[airport])
        .expect("flight joins airport");
    assert_eq!(tree.steps.len(), 1, "{tree:?}");

    let labels = |t: &str| {
        let n = &table_of(cat, t).notes;
        (
            noted(cat, t, n.display_column),
            noted(cat, t, n.time_column),
        )
    };
    assert_eq!(labels("airport"), (Some("airport_name".into()), None));
    assert_eq!(
        labels("passenger"),
        (Some("full_name".into()), None),
        "never the e-mail"
    );
    assert_eq!(labels("flight"), (None, Some("created_at".into())));
    assert_eq!(labels("booking"), (None, Some("booked_at".into())));

    let report = querent::catalog::report::render(&loaded, &loaded.full, None);
    assert!(report.contains("inferred: "), "{report}");
    assert!(report.contains("ambiguous: "), "{report}");
    drop(s);
}

#[tokio::test(flavor = "multi_thread")]
async fn saas_relations_are_inferred_and_annotations_win() {
    common::saas::ensure().await;
    let db = common::saas::SAAS_DB;
    let loaded = discover(db, "saas", &[]).await;
    let cat = &loaded.full.catalog;
    let rels = relations(cat);
    for want in [
        "accounts.plan -> plans.code (inferred)",
        "invoices.acct -> accounts.acct (inferred)",
        "tickets.acct -> accounts.acct (inferred)",
    ] {
        assert!(
            rels.iter().any(|r| r == want),
            "{want} missing from {rels:?}"
        );
    }
    assert!(
        loaded.inference.primary_keys.is_empty(),
        "saas declares its keys"
    );
    let plans = &table_of(cat, "plans").notes;
    assert_eq!(
        noted(cat, "plans", plans.display_column).as_deref(),
        Some("title")
    );

    // With schemas/saas.toml, the annotated relations win over the inferred ones, and the
    // annotated display column over the inferred one.
    let files = store::read_annotations(Some(&common::repo().join("schemas"))).expect("schemas");
    let loaded = discover(db, "saas", &files).await;
    let cat = &loaded.full.catalog;
    let rels = relations(cat);
    assert!(
        rels.contains(&"accounts.plan -> plans.code (declared)".to_string()),
        "{rels:?}"
    );
    assert!(
        rels.contains(&"invoices.acct -> accounts.acct (declared)".to_string()),
        "{rels:?}"
    );
    assert!(!rels
        .iter()
        .any(|r| r.starts_with("accounts.plan") && r.ends_with("(inferred)")));
    let accounts = &table_of(cat, "accounts").notes;
    assert_eq!(
        noted(cat, "accounts", accounts.display_column).as_deref(),
        Some("company")
    );
}
