//! Tests of annotations, join trees and role views on a hand-built copy of the retail
//! structure (the same tables, keys and foreign keys as ../shared/bench/retail), annotated with
//! the real `schemas/retail.toml`. Introspection against Postgres is tested in
//! tests/catalog_introspect.rs.

use super::annotations;
use super::model::*;
use std::path::Path;

fn col(name: &str, kind: ValueKind) -> Column {
    let data_type = match kind {
        ValueKind::Text => "text",
        ValueKind::Integer => "integer",
        ValueKind::Decimal => "numeric(10,2)",
        ValueKind::Date => "date",
        ValueKind::Timestamp => "timestamp(0) without time zone",
        _ => "boolean",
    };
    Column {
        name: name.into(),
        data_type: data_type.into(),
        kind,
        nullable: false,
        comment: None,
        profile: None,
        notes: ColumnNotes::default(),
    }
}

pub(crate) fn table(name: &str, cols: &[(&str, ValueKind)]) -> Table {
    Table {
        schema: "retail".into(),
        name: name.into(),
        kind: TableKind::Table,
        comment: None,
        row_estimate: Some(100),
        columns: cols.iter().map(|(n, k)| col(n, *k)).collect(),
        primary_key: vec![0],
        notes: TableNotes::default(),
    }
}

/// Adds a many-to-one relation `from` → `to` ("table.column" names) of the given origin.
pub(crate) fn relate(c: &mut Catalog, from: &str, to: &str, origin: RelationOrigin) {
    let (f, t) = (c.find_column(from).unwrap(), c.find_column(to).unwrap());
    c.relations.push(Relation {
        from: f.table,
        from_columns: vec![f.column],
        to: t.table,
        to_columns: vec![t.column],
        one_to_one: false,
        preferred: false,
        origin,
    });
}

/// The retail structure with its nine foreign keys.
pub(crate) fn retail() -> Catalog {
    use ValueKind::*;
    let mut c = Catalog {
        database: "bench".into(),
        tables: vec![
            table("categories", &[("category_id", Integer), ("name", Text)]),
            table(
                "customers",
                &[
                    ("customer_id", Integer),
                    ("name", Text),
                    ("email", Text),
                    ("phone", Text),
                    ("segment", Text),
                    ("signup_date", Date),
                    ("city", Text),
                    ("region_id", Integer),
                    ("loyalty_tier", Text),
                ],
            ),
            table(
                "employees",
                &[
                    ("employee_id", Integer),
                    ("store_id", Integer),
                    ("name", Text),
                    ("title", Text),
                    ("hire_date", Date),
                    ("salary", Decimal),
                ],
            ),
            table(
                "order_items",
                &[
                    ("order_item_id", Integer),
                    ("order_id", Integer),
                    ("product_id", Integer),
                    ("quantity", Integer),
                    ("unit_price", Decimal),
                    ("discount", Decimal),
                ],
            ),
            table(
                "orders",
                &[
                    ("order_id", Integer),
                    ("customer_id", Integer),
                    ("store_id", Integer),
                    ("order_date", Timestamp),
                    ("channel", Text),
                    ("status", Text),
                    ("payment_method", Text),
                ],
            ),
            table(
                "products",
                &[
                    ("product_id", Integer),
                    ("name", Text),
                    ("category_id", Integer),
                    ("brand", Text),
                    ("unit_price", Decimal),
                    ("unit_cost", Decimal),
                    ("launched_on", Date),
                ],
            ),
            table("regions", &[("region_id", Integer), ("name", Text)]),
            table(
                "returns",
                &[
                    ("return_id", Integer),
                    ("order_id", Integer),
                    ("reason", Text),
                    ("refund_amount", Decimal),
                    ("returned_on", Date),
                ],
            ),
            table(
                "stores",
                &[
                    ("store_id", Integer),
                    ("name", Text),
                    ("city", Text),
                    ("region_id", Integer),
                    ("opened_on", Date),
                    ("size_sqft", Integer),
                ],
            ),
        ],
        ..Default::default()
    };
    for (from, to) in [
        ("stores.region_id", "regions.region_id"),
        ("customers.region_id", "regions.region_id"),
        ("products.category_id", "categories.category_id"),
        ("orders.customer_id", "customers.customer_id"),
        ("orders.store_id", "stores.store_id"),
        ("order_items.order_id", "orders.order_id"),
        ("order_items.product_id", "products.product_id"),
        ("employees.store_id", "stores.store_id"),
        ("returns.order_id", "orders.order_id"),
    ] {
        let fkey = RelationOrigin::ForeignKey(format!("{}_fkey", from.replace('.', "_")));
        relate(&mut c, from, to, fkey);
        if from == "returns.order_id" {
            if let Some(r) = c.relations.last_mut() {
                r.one_to_one = true;
            }
        }
    }
    c.seal();
    c
}

pub(super) fn annotated() -> Catalog {
    let mut c = retail();
    let files = annotations::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas"))
        .expect("schemas/*.toml parse");
    let problems = annotations::apply(&mut c, &files);
    assert!(problems.is_empty(), "{problems:#?}");
    c
}

pub(super) fn id(c: &Catalog, t: &str) -> TableId {
    c.find_table(t).unwrap()
}

pub(super) fn names(c: &Catalog, ids: &[TableId]) -> Vec<String> {
    ids.iter().map(|t| c.table(*t).name.clone()).collect()
}

#[test]
fn retail_annotations_apply_cleanly_and_change_the_version() {
    let plain = retail();
    let c = annotated();
    assert_ne!(plain.version, c.version);
    let customers = c.table(id(&c, "customers"));
    assert!(customers.notes.synonyms.contains(&"client".to_string()));
    assert_eq!(customers.notes.display_column, customers.column("name"));
    let orders = c.table(id(&c, "orders"));
    assert_eq!(orders.notes.time_column, orders.column("order_date"));
    let channel = &orders.columns[orders.column("channel").unwrap() as usize];
    assert!(channel
        .notes
        .value_synonyms
        .contains(&("web".into(), "Online".into())));
    let revenue = c.metrics.iter().find(|m| m.name == "revenue").unwrap();
    assert_eq!(names(&c, &revenue.tables), ["order_items", "orders"]);
    assert_eq!(revenue.filters, ["orders.status = 'completed'"]);
    assert_eq!(revenue.time_column, c.find_column("orders.order_date"));
    assert_eq!(revenue.format.as_deref(), Some("money"));
    let margin = c.metrics.iter().find(|m| m.name == "gross_margin").unwrap();
    assert_eq!(
        names(&c, &margin.tables),
        ["order_items", "products", "orders"]
    );
    // Declaring an existing foreign key only marks it preferred.
    assert_eq!(c.relations.len(), 9);
    let preferred: Vec<&Relation> = c.relations.iter().filter(|r| r.preferred).collect();
    assert_eq!(preferred.len(), 1);
    assert_eq!(
        preferred[0].origin,
        RelationOrigin::ForeignKey("orders_store_id_fkey".into())
    );
}

#[test]
fn annotation_errors_name_file_line_and_key() {
    let text = r#"
schema = "retail"
[tables.orders]
time_column = "channel"
[tables.orders.columns.nope]
synonyms = ["x"]
[tables.warehouses]
description = "not here"
[[relationships]]
from = "orders.store_id"
to = "shops.store_id"
[metrics.bad]
sql = "SUM(quantity)"
[metrics.fmt]
sql = "SUM(order_items.quantity)"
format = "dollars"
"#;
    let f = annotations::parse(Path::new("x.toml"), text.into()).unwrap();
    let mut c = retail();
    let problems: Vec<String> = annotations::apply(&mut c, &[f])
        .iter()
        .map(|d| d.to_string())
        .collect();
    let want = [
        "x.toml:4: tables.orders.time_column: column \"channel\" is text, not a date or timestamp",
        "x.toml: tables.orders.columns.nope: table \"orders\" has no column \"nope\"",
        "x.toml: tables.warehouses: no table \"warehouses\" in this database",
        "x.toml:11: relationships[0].to: no table \"shops\" in this database",
        "x.toml:13: metrics.bad.sql: write column \"quantity\" as table.column",
        "x.toml:16: metrics.fmt.format: unknown format \"dollars\"",
    ];
    for w in want {
        assert!(
            problems.iter().any(|p| p.starts_with(w)),
            "missing {w:?} in {problems:#?}"
        );
    }
    // What resolved still applies; what did not is skipped.
    assert!(c.metrics.iter().any(|m| m.name == "fmt"));
    assert!(!c.metrics.iter().any(|m| m.name == "bad"));
}

#[test]
fn syntax_errors_and_unknown_keys_are_reported_with_lines() {
    let e = annotations::parse(
        Path::new("y.toml"),
        "[tables.orders]\nsynonym = [\"x\"]\n".into(),
    )
    .unwrap_err();
    assert_eq!(e.line, Some(2), "{e}");
    assert!(e.message.contains("unknown field `synonym`"), "{e}");
    let e = annotations::parse(Path::new("y.toml"), "[metrics.x\nsql=1".into()).unwrap_err();
    assert_eq!(e.line, Some(1), "{e}");
}

#[test]
fn a_file_for_another_database_is_skipped() {
    let f = annotations::parse(
        Path::new("other.toml"),
        "schema = \"crm\"\n[tables.orders]\nsynonyms = [\"deals\"]\n".into(),
    )
    .unwrap();
    let mut c = retail();
    assert!(annotations::apply(&mut c, &[f]).is_empty());
    assert!(c.tables.iter().all(|t| t.notes.synonyms.is_empty()));
}

/// Applies one annotation file to the plain retail catalog; returns the catalog and problems.
fn apply_text(text: &str) -> (Catalog, Vec<String>) {
    // The table entry makes the file apply to this database even when its metric is refused.
    let text = format!("[tables.\"retail.orders\"]\n{text}");
    let f = annotations::parse(Path::new("m.toml"), text).unwrap();
    let mut c = retail();
    let problems = annotations::apply(&mut c, &[f])
        .iter()
        .map(|d| d.to_string())
        .collect();
    (c, problems)
}

#[test]
fn metric_sql_is_one_expression_reading_no_table() {
    for (field, sql, why) in [
        // Text after the expression: closing the filter's parenthesis and adding a condition.
        (
            "filters",
            "orders.status='completed') OR (1=1",
            "not a single SQL expression",
        ),
        (
            "sql",
            "SUM(order_items.quantity) FROM retail.employees",
            "not a single SQL expression",
        ),
        (
            "sql",
            "SUM(order_items.quantity); DROP TABLE x",
            "not a single",
        ),
        // A query as a function argument, or anywhere else.
        (
            "sql",
            "SUM(order_items.quantity) + ARRAY(SELECT count(*) FROM retail.employees)",
            "subqueries are not allowed",
        ),
        (
            "sql",
            "SUM(order_items.quantity) + (SELECT max(employees.salary) FROM retail.employees)",
            "subqueries are not allowed",
        ),
        (
            "filters",
            "orders.store_id IN (SELECT employees.store_id FROM retail.employees)",
            "subqueries are not allowed",
        ),
        (
            "sql",
            "SUM(order_items.quantity) + array_length(ARRAY(SELECT 1), 1)",
            "subqueries are not allowed",
        ),
        // Names that are neither table.column nor schema.table.column.
        (
            "sql",
            "SUM(bench.retail.order_items.quantity)",
            "write column \"bench.retail.order_items.quantity\" as table.column",
        ),
        (
            "sql",
            "SUM(quantity)",
            "write column \"quantity\" as table.column",
        ),
    ] {
        let text = match field {
            "sql" => format!("[metrics.m]\nsql = {sql:?}\n"),
            _ => format!("[metrics.m]\nsql = \"SUM(order_items.quantity)\"\nfilters = [{sql:?}]\n"),
        };
        let (c, problems) = apply_text(&text);
        assert!(
            problems
                .iter()
                .any(|p| p.contains(&format!("metrics.m.{field}")) && p.contains(why)),
            "{sql}: {problems:#?}"
        );
        assert!(c.metrics.is_empty(), "{sql}: the metric is skipped");
    }
    // What is kept is the parsed expression, printed again.
    let (c, problems) = apply_text(
        "[metrics.m]\nsql = \"sum( order_items.quantity )  \"\nfilters = [\"orders.status='completed'\"]\n",
    );
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(c.metrics[0].sql, "sum(order_items.quantity)");
    assert_eq!(c.metrics[0].filters, ["orders.status = 'completed'"]);
    // schema.table.column is fine.
    let (c, problems) = apply_text("[metrics.m]\nsql = \"SUM(retail.order_items.quantity)\"\n");
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(names(&c, &c.metrics[0].tables), ["order_items"]);
}

#[test]
fn notes_of_several_files_are_merged() {
    let first = annotations::parse(
        Path::new("a.toml"),
        r#"
schema = "retail"
[tables.customers]
description = "Customers."
synonyms = ["client"]
display_column = "name"
[tables.customers.columns.segment]
description = "Market segment."
synonyms = ["customer type"]
values = { smb = "Small Business", corp = "Corporate" }
unit = "segment"
pii = true
"#
        .into(),
    )
    .unwrap();
    let second = annotations::parse(
        Path::new("b.toml"),
        r#"
schema = "retail"
[tables.customers]
synonyms = ["buyer", "client"]
time_column = "signup_date"
[tables.customers.columns.segment]
synonyms = ["kind"]
values = { corp = "Corporate ", consumers = "Consumer" }
format = "text"
"#
        .into(),
    )
    .unwrap();
    let mut c = retail();
    assert!(annotations::apply(&mut c, &[first, second]).is_empty());
    let t = c.table(id(&c, "customers"));
    assert_eq!(t.notes.description.as_deref(), Some("Customers."));
    assert_eq!(t.notes.synonyms, ["client", "buyer"]);
    assert_eq!(t.notes.display_column, t.column("name"));
    assert_eq!(t.notes.time_column, t.column("signup_date"));
    let seg = &t.columns[t.column("segment").unwrap() as usize].notes;
    assert_eq!(seg.description.as_deref(), Some("Market segment."));
    assert_eq!(seg.synonyms, ["customer type", "kind"]);
    assert_eq!(
        seg.value_synonyms,
        [
            ("smb".to_string(), "Small Business".to_string()),
            ("consumers".into(), "Consumer".into()),
            ("corp".into(), "Corporate ".into()),
        ]
    );
    assert_eq!(
        (seg.unit.as_deref(), seg.format.as_deref()),
        (Some("segment"), Some("text"))
    );
    assert!(seg.pii, "pii from the first file stays");
}
