//! Catalog introspection against the real PostgreSQL: the retail dataset
//! (`../shared/bench/retail`, loaded into `querent_retail`) and scratch schemas each test
//! creates under a unique name and drops afterwards. Profiling is tested in
//! tests/catalog_profile.rs.

mod catalog_common;
mod common;

use catalog_common::*;
use common::retail::RETAIL_DB;
use querent::catalog::introspect::{introspect, IntrospectOptions};
use querent::catalog::{Catalog, ProfileSource, RelationOrigin, Table};
use querent::catalog::{TableKind, ValueKind};
use std::time::{Duration, Instant};

/// Every relation from a table of `schema`, as `from.cols -> to.cols (constraint)`, with ` 1:1`
/// appended for one-to-one ones; sorted.
fn fk_pairs(cat: &Catalog, schema: &str) -> Vec<String> {
    let name = |t: u32, c: &[u32]| end_name(cat, t, c);
    let mut out: Vec<String> = cat
        .relations
        .iter()
        .filter(|r| cat.table(r.from).schema == schema)
        .map(|r| {
            let RelationOrigin::ForeignKey(fk) = &r.origin else {
                panic!("introspection declared a relation: {r:?}");
            };
            assert!(!r.preferred);
            let one = if r.one_to_one { " 1:1" } else { "" };
            format!(
                "{} -> {} ({fk}){one}",
                name(r.from, &r.from_columns),
                name(r.to, &r.to_columns)
            )
        })
        .collect();
    out.sort();
    out
}

const RETAIL_TABLES: &str =
    "categories customers employees order_items orders products regions returns stores";

#[tokio::test]
async fn retail_tables_columns_and_comments() {
    let client = retail().await;
    let opts = IntrospectOptions {
        profile: false,
        ..retail_opts()
    };
    let cat = catalog_of(&client, &opts).await;
    assert_eq!(cat.database, RETAIL_DB);
    assert_ne!(cat.version.0, 0, "catalog sealed");
    assert!(cat.metrics.is_empty());
    let names: Vec<&str> = cat.tables.iter().map(|t| t.name.as_str()).collect();
    for t in RETAIL_TABLES.split(' ') {
        assert!(names.contains(&t), "retail.{t} missing from {names:?}");
    }
    let keys: Vec<(&str, &str)> = cat
        .tables
        .iter()
        .map(|t| (t.schema.as_str(), t.name.as_str()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "tables sorted by (schema, name)");
    for t in &cat.tables {
        assert_eq!(t.schema, "retail");
        assert_eq!(t.kind, TableKind::Table, "{}", t.name);
        assert!(t.columns.iter().all(|c| c.profile.is_none()), "profile off");
        let rows = t
            .row_estimate
            .unwrap_or_else(|| panic!("{} estimate", t.name));
        assert!(rows > 0, "{} has rows", t.name);
    }
    let orders = table(&cat, "retail.orders");
    assert!(starts(&orders.comment, "One row per order (all statuses)."));
    assert!((50_000..70_000).contains(&orders.row_estimate.unwrap_or(0)));
    let cols: Vec<&str> = orders.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        cols,
        [
            "order_id",
            "customer_id",
            "store_id",
            "order_date",
            "channel",
            "status",
            "payment_method"
        ]
    );
    assert_eq!(
        column(&cat, "order_items.discount").comment.as_deref(),
        Some("Fractional discount applied to the line, e.g. 0.15 = 15% off.")
    );
    assert_eq!(column(&cat, "order_items.order_id").comment, None);

    let date = column(&cat, "orders.order_date");
    assert_eq!(date.kind, ValueKind::Timestamp);
    assert_eq!(date.data_type, "timestamp(0) without time zone");
    assert!(!date.nullable);
    let price = column(&cat, "order_items.unit_price");
    assert_eq!(
        (price.kind, price.data_type.as_str()),
        (ValueKind::Decimal, "numeric(10,2)")
    );
    assert_eq!(column(&cat, "regions.region_id").kind, ValueKind::Integer);
    assert_eq!(column(&cat, "orders.channel").kind, ValueKind::Text);
    assert_eq!(column(&cat, "stores.opened_on").kind, ValueKind::Date);
    assert!(column(&cat, "customers.phone").nullable);
}

#[tokio::test]
async fn retail_keys_and_foreign_keys() {
    let client = retail().await;
    let opts = IntrospectOptions {
        profile: false,
        ..retail_opts()
    };
    let cat = catalog_of(&client, &opts).await;
    for (t, pk) in [
        ("regions", "region_id"),
        ("orders", "order_id"),
        ("order_items", "order_item_id"),
        ("returns", "return_id"),
    ] {
        let tab = table(&cat, t);
        assert_eq!(tab.primary_key, vec![tab.column(pk).unwrap()], "{t}");
    }
    assert_eq!(
        fk_pairs(&cat, "retail"),
        [
            "customers.region_id -> regions.region_id (customers_region_id_fkey)",
            "employees.store_id -> stores.store_id (employees_store_id_fkey)",
            "order_items.order_id -> orders.order_id (order_items_order_id_fkey)",
            "order_items.product_id -> products.product_id (order_items_product_id_fkey)",
            "orders.customer_id -> customers.customer_id (orders_customer_id_fkey)",
            "orders.store_id -> stores.store_id (orders_store_id_fkey)",
            "products.category_id -> categories.category_id (products_category_id_fkey)",
            // returns.order_id is UNIQUE: at most one return per order.
            "returns.order_id -> orders.order_id (returns_order_id_fkey) 1:1",
            "stores.region_id -> regions.region_id (stores_region_id_fkey)",
        ]
    );
}

#[tokio::test]
async fn schema_without_foreign_keys() {
    let client = connect(common::PG_DB).await;
    let s = Scratch::create(
        &client,
        common::PG_DB,
        "nofk",
        "CREATE TABLE $S.accounts (acct int PRIMARY KEY, plan text NOT NULL);
         INSERT INTO $S.accounts SELECT i, (ARRAY['FREE','TEAM','BIZ'])[1 + i % 3] FROM generate_series(1, 50) i;
         CREATE TABLE $S.events (acct int, at date, kind text);
         INSERT INTO $S.events SELECT i % 50, DATE '2024-01-01' + i, 'login' FROM generate_series(0, 9) i;
         CREATE VIEW $S.busy_accounts AS SELECT acct, count(*) AS n FROM $S.events GROUP BY acct;",
    )
    .await;
    let opts = IntrospectOptions {
        schemas: vec![s.name.clone()],
        ..IntrospectOptions::default()
    };
    let cat = catalog_of(&client, &opts).await;
    let names: Vec<&str> = cat.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["accounts", "busy_accounts", "events"]);
    assert!(cat.relations.is_empty(), "{:?}", cat.relations);
    assert_eq!(table(&cat, "accounts").primary_key, vec![0]);
    assert!(table(&cat, "events").primary_key.is_empty());
    assert_eq!(table(&cat, "events").row_estimate, None, "never analyzed");
    let view = table(&cat, "busy_accounts");
    assert_eq!((view.kind, view.row_estimate), (TableKind::View, None));
    assert_eq!(
        values(&cat, "accounts.plan"),
        strs(&["BIZ", "FREE", "TEAM"])
    );
    assert_eq!(values(&cat, "events.kind"), strs(&["login"]));
    let at = profile(&cat, "events.at");
    assert_eq!(
        (at.min.as_deref(), at.max.as_deref(), at.source),
        (
            Some("2024-01-01"),
            Some("2024-01-10"),
            Some(ProfileSource::Scan)
        )
    );
    let n = profile(&cat, "busy_accounts.n");
    assert_eq!(
        (n.distinct, n.min.as_deref()),
        (Some(1), Some("1")),
        "views are profiled"
    );
}

#[tokio::test]
async fn types_partitions_views_and_odd_names() {
    let client = connect(common::PG_DB).await;
    let s = Scratch::create(
        &client,
        common::PG_DB,
        "types",
        r#"CREATE TYPE $S.mood AS ENUM ('sad', 'ok', 'happy');
         CREATE DOMAIN $S.money2 AS numeric(12,2);
         CREATE DOMAIN $S.money3 AS $S.money2 CHECK (VALUE >= 0);
         CREATE TABLE $S.people (
             country char(2), id int, "Full ""Name""" varchar(40), mood $S.mood, cash $S.money3,
             score float8, active boolean, seen timestamptz, doc jsonb, big bigint,
             PRIMARY KEY (country, id));
         COMMENT ON TABLE $S.people IS 'People, by country.';
         INSERT INTO $S.people SELECT CASE WHEN i % 2 = 0 THEN 'DE' ELSE 'FR' END, i, 'P ' || i,
             (ARRAY['sad','ok','happy'])[1 + i % 3]::$S.mood, i * 1.5, i / 4.0, i % 2 = 0,
             TIMESTAMPTZ '2024-01-01 00:00:00+00' + i * INTERVAL '1 day', '{}', i
             FROM generate_series(1, 20) i;
         CREATE TABLE $S.passports (country char(2), person int, no text, PRIMARY KEY (country, person),
             FOREIGN KEY (country, person) REFERENCES $S.people (country, id));
         CREATE TABLE $S.visits (id int, country char(2), person int, day date NOT NULL,
             PRIMARY KEY (id, day),
             CONSTRAINT visits_person FOREIGN KEY (person, country) REFERENCES $S.people (id, country))
             PARTITION BY RANGE (day);
         CREATE TABLE $S.visits_2023 PARTITION OF $S.visits FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
         CREATE TABLE $S.visits_2024 PARTITION OF $S.visits FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
         INSERT INTO $S.visits SELECT i, 'DE', 2, DATE '2023-06-01' + i * 3 FROM generate_series(1, 100) i;
         ANALYZE $S.visits_2023, $S.visits_2024, $S.people;
         CREATE TABLE $S.visit_notes (visit int, day date, note text,
             FOREIGN KEY (visit, day) REFERENCES $S.visits (id, day));
         CREATE TABLE $S."odd ""quoted"" table" ("select" text, "x y" int);
         INSERT INTO $S."odd ""quoted"" table" VALUES ('a"b', 1), ('c''d', 2);
         CREATE MATERIALIZED VIEW $S.moods AS SELECT mood, count(*) AS n FROM $S.people GROUP BY mood;
         CREATE VIEW $S.de AS SELECT * FROM $S.people WHERE country = 'DE';
         COMMENT ON COLUMN $S.de.score IS 'Score of Germans.';"#,
    )
    .await;
    let opts = IntrospectOptions {
        schemas: vec![s.name.clone()],
        ..IntrospectOptions::default()
    };
    let cat = catalog_of(&client, &opts).await;
    let names: Vec<&str> = cat.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names.join(", "),
        "de, moods, odd \"quoted\" table, passports, people, visit_notes, visits",
        "partitions are left out"
    );
    let people = table(&cat, "people");
    assert_eq!(people.comment.as_deref(), Some("People, by country."));
    assert_eq!(people.primary_key, vec![0, 1]);
    let kinds: Vec<String> = people
        .columns
        .iter()
        .map(|c| format!("{}:{:?}", c.name, c.kind))
        .collect();
    assert_eq!(
        kinds.join(" "),
        "country:Text id:Integer Full \"Name\":Text mood:Text cash:Decimal score:Float \
         active:Boolean seen:Timestamp doc:Other big:Integer"
    );
    assert_eq!(people.columns[2].data_type, "character varying(40)");
    assert_eq!(values(&cat, "people.mood"), strs(&["happy", "ok", "sad"]));
    assert_eq!(values(&cat, "people.country"), strs(&["DE", "FR"]));
    let cash = profile(&cat, "people.cash");
    assert_eq!(
        (cash.min.as_deref(), cash.max.as_deref()),
        (Some("1.50"), Some("30.00"))
    );
    let active = profile(&cat, "people.active");
    assert_eq!((active.distinct, active.values.as_ref()), (Some(2), None));

    let visits = table(&cat, "visits");
    assert_eq!(visits.kind, TableKind::Table);
    assert_eq!(
        visits.row_estimate,
        Some(100),
        "the sum of its analyzed partitions"
    );
    assert_eq!(
        profile(&cat, "visits.day").min.as_deref(),
        Some("2023-06-04")
    );
    assert_eq!(table(&cat, "moods").kind, TableKind::MaterializedView);
    assert_eq!(table(&cat, "de").kind, TableKind::View);
    assert_eq!(
        column(&cat, "de.score").comment.as_deref(),
        Some("Score of Germans.")
    );
    assert_eq!(values(&cat, "de.country"), strs(&["DE"]));

    let odd = table(&cat, "odd \"quoted\" table");
    assert_eq!(
        values(&cat, "odd \"quoted\" table.select"),
        strs(&["a\"b", "c'd"])
    );
    assert_eq!(
        odd.columns[1].profile.as_ref().unwrap().max.as_deref(),
        Some("2")
    );

    assert_eq!(
        fk_pairs(&cat, &s.name),
        [
            "passports.country+person -> people.country+id (passports_country_person_fkey) 1:1",
            "visit_notes.visit+day -> visits.id+day (visit_notes_visit_day_fkey)",
            "visits.person+country -> people.id+country (visits_person)",
        ]
    );
}

#[tokio::test]
async fn schemas_option_restricts_and_empty_means_all() {
    let client = retail().await;
    let s = Scratch::create(
        &client,
        RETAIL_DB,
        "only",
        "CREATE TABLE $S.solo (id int PRIMARY KEY, name text);
         CREATE TABLE $S.other (id int);",
    )
    .await;
    let only = IntrospectOptions {
        schemas: vec![s.name.clone()],
        profile: false,
        ..IntrospectOptions::default()
    };
    let cat = catalog_of(&client, &only).await;
    let names: Vec<String> = cat.tables.iter().map(Table::qualified).collect();
    assert_eq!(
        names,
        [format!("{}.other", s.name), format!("{}.solo", s.name)]
    );
    assert!(cat.relations.is_empty());

    let all = IntrospectOptions {
        profile: false,
        ..IntrospectOptions::default()
    };
    let cat = catalog_of(&client, &all).await;
    let schemas: std::collections::BTreeSet<&str> =
        cat.tables.iter().map(|t| t.schema.as_str()).collect();
    assert!(
        schemas.contains("retail") && schemas.contains(s.name.as_str()),
        "{schemas:?}"
    );
    assert!(
        schemas
            .iter()
            .all(|n| *n != "pg_catalog" && *n != "information_schema" && !n.starts_with("pg_")),
        "{schemas:?}"
    );
    assert!(cat.find_table("retail.orders").is_some());
    assert_eq!(fk_pairs(&cat, "retail").len(), 9);

    let none = IntrospectOptions {
        schemas: vec!["no_such_schema_anywhere".into()],
        ..IntrospectOptions::default()
    };
    let cat = catalog_of(&client, &none).await;
    assert!(cat.tables.is_empty() && cat.relations.is_empty());
}

#[tokio::test]
async fn unreadable_tables_are_left_out() {
    let client = connect(common::PG_DB).await;
    let role = format!("qi_reader_{}", std::process::id());
    let s = Scratch::create(
        &client,
        common::PG_DB,
        "priv",
        &format!(
            "CREATE TABLE $S.open (id int PRIMARY KEY, tag text);
             INSERT INTO $S.open VALUES (1, 'x');
             CREATE TABLE $S.closed (id int PRIMARY KEY, open_id int REFERENCES $S.open);
             DROP ROLE IF EXISTS {role}; CREATE ROLE {role};
             GRANT USAGE ON SCHEMA $S TO {role}; GRANT SELECT ON $S.open TO {role};"
        ),
    )
    .await;
    client
        .batch_execute(&format!("SET ROLE {role}"))
        .await
        .unwrap();
    let opts = IntrospectOptions {
        schemas: vec![s.name.clone()],
        ..IntrospectOptions::default()
    };
    let cat = catalog_of(&client, &opts).await;
    client.batch_execute("RESET ROLE").await.unwrap();
    let names: Vec<&str> = cat.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["open"]);
    assert!(
        cat.relations.is_empty(),
        "the FK from an unreadable table is dropped"
    );
    assert_eq!(values(&cat, "open.tag"), strs(&["x"]));
    drop(s);
    client
        .batch_execute(&format!("DROP ROLE IF EXISTS {role}"))
        .await
        .unwrap();
}

#[tokio::test]
async fn errors_name_what_failed() {
    let client = connect(common::PG_DB).await;
    // A connection stuck in a failed transaction cannot start introspection's own.
    let _ = client.batch_execute("BEGIN; SELECT 1/0").await;
    let err = introspect(&client, &IntrospectOptions::default())
        .await
        .expect_err("introspection in a failed transaction");
    let text = err.to_string();
    assert!(
        text.contains("starting the catalog transaction") && text.contains("25P02"),
        "{text}"
    );
}

/// Scale: 5,000 small tables (5 columns each, a foreign key to the previous table) in a scratch
/// database. Ignored by default (it takes about a minute):
/// `cargo nextest run --test catalog_introspect --run-ignored only`.
#[tokio::test]
#[ignore]
async fn five_thousand_tables() {
    let admin = connect("postgres").await;
    let db = format!("qi_scale_{}", std::process::id());
    for sql in [
        format!("DROP DATABASE IF EXISTS {db}"),
        format!("CREATE DATABASE {db}"),
    ] {
        admin.batch_execute(&sql).await.unwrap();
    }
    let client = connect(&db).await;
    // In batches: one transaction cannot lock 5,000 new tables and their indexes.
    for batch in 0..50 {
        client
            .batch_execute(&format!(
                "DO $$ BEGIN FOR i IN {}..{} LOOP
                   EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, kind text,
                     amount numeric, at date, prev int %s)', i,
                     CASE WHEN i > 1 THEN format('REFERENCES t%s', i - 1) ELSE '' END);
                   EXECUTE format('INSERT INTO t%s SELECT g, ''k'' || g %% 4, g,
                     DATE ''2024-01-01'' + g, NULL FROM generate_series(1, 20) g', i);
                 END LOOP; END $$",
                batch * 100 + 1,
                batch * 100 + 100
            ))
            .await
            .unwrap();
    }
    client.batch_execute("ANALYZE").await.unwrap();
    for profile in [false, true] {
        let opts = IntrospectOptions {
            profile,
            ..IntrospectOptions::default()
        };
        let started = Instant::now();
        let cat = catalog_of(&client, &opts).await;
        let took = started.elapsed();
        eprintln!("5,000 tables, profile {profile}: {took:?}");
        let limit = Duration::from_secs(if profile { 120 } else { 20 });
        assert!(took < limit, "5,000 tables took {took:?}");
        assert_eq!((cat.tables.len(), cat.relations.len()), (5000, 4999));
        let kind = column(&cat, "t4999.kind");
        match profile {
            true => assert_eq!(values(&cat, "t4999.kind").map(|v| v.len()), Some(4)),
            false => assert_eq!(kind.profile, None),
        }
    }
    drop(client);
    admin
        .batch_execute(&format!("DROP DATABASE {db} WITH (FORCE)"))
        .await
        .unwrap();
}
