//! Tests of annotations, join trees and role views on a hand-built copy of the retail
//! structure (the same tables, keys and foreign keys as ../shared/bench/retail), annotated with
//! the real `schemas/retail.toml`. Introspection against Postgres is tested in
//! tests/catalog_introspect.rs.

use super::annotations;
use super::graph::JoinGraph;
use super::model::*;
use super::view;
use crate::auth::Principal;
use crate::policy::{Effective, Policies};
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

fn table(name: &str, cols: &[(&str, ValueKind)]) -> Table {
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
        let (f, t) = (c.find_column(from).unwrap(), c.find_column(to).unwrap());
        c.relations.push(Relation {
            from: f.table,
            from_columns: vec![f.column],
            to: t.table,
            to_columns: vec![t.column],
            one_to_one: from == "returns.order_id",
            preferred: false,
            origin: RelationOrigin::ForeignKey(format!("{}_fkey", from.replace('.', "_"))),
        });
    }
    c.seal();
    c
}

fn annotated() -> Catalog {
    let mut c = retail();
    let files = annotations::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas"))
        .expect("schemas/*.toml parse");
    let problems = annotations::apply(&mut c, &files);
    assert!(problems.is_empty(), "{problems:#?}");
    c
}

fn id(c: &Catalog, t: &str) -> TableId {
    c.find_table(t).unwrap()
}

fn names(c: &Catalog, ids: &[TableId]) -> Vec<String> {
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

#[test]
fn region_of_an_order_goes_through_its_store() {
    let c = annotated();
    let g = JoinGraph::build(&c);
    let tree = g
        .join_tree(
            &c,
            id(&c, "order_items"),
            &[id(&c, "orders"), id(&c, "regions")],
        )
        .unwrap();
    assert_eq!(
        names(&c, &tree.tables()),
        ["order_items", "orders", "stores", "regions"]
    );
    assert!(!tree.fans_out);
    assert!(tree.ambiguous.is_empty(), "{tree:?}");
    // Without the preference, the two paths tie and the tree says so.
    let plain = retail();
    let g = JoinGraph::build(&plain);
    let tree = g
        .join_tree(&plain, id(&plain, "orders"), &[id(&plain, "regions")])
        .unwrap();
    assert_eq!(tree.ambiguous, [id(&plain, "regions")]);
    // Naming customers makes the customer's region the nearest.
    let c = annotated();
    let g = JoinGraph::build(&c);
    let tree = g
        .join_tree(
            &c,
            id(&c, "customers"),
            &[id(&c, "regions"), id(&c, "customers")],
        )
        .unwrap();
    assert_eq!(names(&c, &tree.tables()), ["customers", "regions"]);
}

#[test]
fn two_foreign_keys_between_the_same_tables_are_ambiguous() {
    use ValueKind::*;
    let mut c = Catalog {
        database: "shop".into(),
        tables: vec![
            table("addresses", &[("address_id", Integer), ("city", Text)]),
            table(
                "orders",
                &[
                    ("order_id", Integer),
                    ("billing_address_id", Integer),
                    ("shipping_address_id", Integer),
                ],
            ),
        ],
        ..Default::default()
    };
    for from in ["orders.billing_address_id", "orders.shipping_address_id"] {
        let (f, t) = (
            c.find_column(from).unwrap(),
            c.find_column("addresses.address_id"),
        );
        c.relations.push(Relation {
            from: f.table,
            from_columns: vec![f.column],
            to: t.unwrap().table,
            to_columns: vec![0],
            one_to_one: false,
            preferred: false,
            origin: RelationOrigin::ForeignKey(from.into()),
        });
    }
    let (orders, addresses) = (id(&c, "orders"), id(&c, "addresses"));
    let tree = JoinGraph::build(&c)
        .join_tree(&c, orders, &[addresses])
        .unwrap();
    assert_eq!(tree.ambiguous, [addresses], "{tree:?}");
    // Marking one preferred decides.
    c.relations[1].preferred = true;
    let tree = JoinGraph::build(&c)
        .join_tree(&c, orders, &[addresses])
        .unwrap();
    assert!(tree.ambiguous.is_empty(), "{tree:?}");
    assert_eq!(tree.steps[0].relation, 1);
}

#[test]
fn join_trees_are_minimal_and_never_fan_out_when_avoidable() {
    let c = annotated();
    let g = JoinGraph::build(&c);
    // Revenue by category: order lines → products → categories, and orders for the filter.
    let tree = g
        .join_tree(
            &c,
            id(&c, "order_items"),
            &[id(&c, "categories"), id(&c, "orders")],
        )
        .unwrap();
    let mut t = names(&c, &tree.tables());
    t.sort();
    assert_eq!(t, ["categories", "order_items", "orders", "products"]);
    assert!(!tree.fans_out);
    // Orders by region must not pass through order_items or returns (one-to-many).
    let tree = g
        .join_tree(&c, id(&c, "orders"), &[id(&c, "regions")])
        .unwrap();
    assert_eq!(names(&c, &tree.tables()), ["orders", "stores", "regions"]);
    // Orders by category has to fan out (orders → order_items), and says so.
    let tree = g
        .join_tree(&c, id(&c, "orders"), &[id(&c, "categories")])
        .unwrap();
    assert!(tree.fans_out);
    assert_eq!(
        names(&c, &tree.tables()),
        ["orders", "order_items", "products", "categories"]
    );
    assert!(tree.steps[0].fans_out && !tree.steps[1].fans_out);
}

#[test]
fn grain_is_the_table_everything_else_hangs_off() {
    let c = annotated();
    let g = JoinGraph::build(&c);
    let revenue = c.metrics.iter().find(|m| m.name == "revenue").unwrap();
    assert_eq!(g.grain(&revenue.tables), Some(id(&c, "order_items")));
    let payroll = c.metrics.iter().find(|m| m.name == "payroll").unwrap();
    assert_eq!(g.grain(&payroll.tables), Some(id(&c, "employees")));
    assert_eq!(g.grain(&[id(&c, "stores"), id(&c, "customers")]), None);
}

#[test]
fn unreachable_tables_are_named() {
    let mut c = retail();
    c.relations
        .retain(|r| c.tables[r.to as usize].name != "categories");
    let g = JoinGraph::build(&c);
    let e = g
        .join_tree(&c, id(&c, "order_items"), &[id(&c, "categories")])
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "no join path from retail.order_items to retail.categories"
    );
}

fn effective(policy: &str, attrs: &[(&str, &str)]) -> Effective {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "querent-view-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("p.toml"), policy).unwrap();
    let policies: Policies = crate::policy::load_dir(&dir).unwrap();
    let principal = Principal {
        user: "u".into(),
        roles: vec!["analyst".into()],
        attributes: attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    };
    Effective::new(&policies, &principal)
}

fn with_values(mut c: Catalog) -> Catalog {
    for t in &mut c.tables {
        for col in &mut t.columns {
            col.profile = Some(Profile {
                distinct: Some(3),
                values: Some(vec!["a".into(), "b".into()]),
                min: Some("a".into()),
                max: Some("b".into()),
                source: Some(ProfileSource::Scan),
            });
        }
    }
    c
}

#[test]
fn a_role_sees_only_what_its_policy_allows() {
    let c = with_values(annotated());
    let eff = effective(
        r#"
[role.analyst]
tables = ["retail.orders", "retail.order_items", "retail.products", "retail.categories",
          "retail.stores", "retail.regions", "retail.customers"]
deny_columns = ["retail.products.unit_cost", "retail.customers.phone"]
mask = { "retail.customers.name" = "hash" }
row_filter = { "retail.stores" = "region_id = ${user.region}" }
"#,
        &[("region", "4")],
    );
    let v = view::for_role(&c, &eff);
    let tables: Vec<&str> = v.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        tables,
        [
            "categories",
            "customers",
            "order_items",
            "orders",
            "products",
            "regions",
            "stores"
        ]
    );
    // Denied columns are gone, and metrics reading them too (cost and margins read unit_cost).
    let products = v.table(v.find_table("products").unwrap());
    assert!(products.column("unit_cost").is_none());
    let metrics: Vec<&str> = v.metrics.iter().map(|m| m.name.as_str()).collect();
    assert!(metrics.contains(&"revenue"));
    for hidden in ["cost", "gross_margin", "refunds", "payroll", "headcount"] {
        assert!(!metrics.contains(&hidden), "{hidden} in {metrics:?}");
    }
    // Relations to hidden tables are gone; the rest is remapped and still joins.
    assert!(v
        .relations
        .iter()
        .all(|r| r.from_columns.len() == 1 && (r.from as usize) < v.tables.len()));
    let g = JoinGraph::build(&v);
    let tree = g
        .join_tree(
            &v,
            v.find_table("order_items").unwrap(),
            &[v.find_table("regions").unwrap()],
        )
        .unwrap();
    assert_eq!(
        names(&v, &tree.tables()),
        ["order_items", "orders", "stores", "regions"]
    );
    // Masked, pii and row-filtered columns keep no values; others do.
    let customers = v.table(v.find_table("customers").unwrap());
    let prof = |t: &Table, name: &str| t.columns[t.column(name).unwrap() as usize].profile.clone();
    assert_eq!(prof(customers, "name").unwrap().values, None);
    assert_eq!(prof(customers, "email").unwrap().values, None);
    assert!(prof(customers, "segment").unwrap().values.is_some());
    let stores = v.table(v.find_table("stores").unwrap());
    assert_eq!(prof(stores, "city").unwrap().values, None);
    assert_eq!(prof(stores, "opened_on").unwrap().max, None);
    assert_eq!(stores.notes.display_column, stores.column("name"));
}

#[test]
fn row_filtered_tables_keep_no_counts_and_masked_columns_keep_theirs() {
    let c = with_values(annotated());
    let eff = effective(
        r#"
[role.analyst]
tables = ["retail.stores", "retail.customers", "retail.regions"]
mask = { "retail.customers.name" = "hash" }
row_filter = { "retail.stores" = "region_id = ${user.region}" }
"#,
        &[("region", "4")],
    );
    let v = view::for_role(&c, &eff);
    let stores = v.table(v.find_table("stores").unwrap());
    assert_eq!(stores.row_estimate, None, "a whole-table figure");
    for col in &stores.columns {
        assert_eq!(col.profile.as_ref().unwrap().distinct, None, "{}", col.name);
    }
    let customers = v.table(v.find_table("customers").unwrap());
    assert_eq!(customers.row_estimate, Some(100));
    let name = &customers.columns[customers.column("name").unwrap() as usize];
    let p = name.profile.as_ref().unwrap();
    assert_eq!((p.distinct, p.values.as_ref()), (Some(3), None), "masked");
}

#[test]
fn a_denied_key_column_clears_the_whole_key() {
    let mut c = retail();
    let items = id(&c, "order_items");
    let t = &mut c.tables[items as usize];
    t.primary_key = vec![
        t.column("order_id").unwrap(),
        t.column("product_id").unwrap(),
    ];
    let eff = |deny: &str| {
        effective(
            &format!(
                "[role.analyst]\ntables = [\"retail.order_items\"]\ndeny_columns = [{deny}]\n"
            ),
            &[],
        )
    };
    let v = view::for_role(&c, &eff("\"retail.order_items.product_id\""));
    let t = v.table(v.find_table("order_items").unwrap());
    assert!(t.primary_key.is_empty(), "{:?}", t.primary_key);
    // Denying another column only renumbers the key.
    let v = view::for_role(&c, &eff("\"retail.order_items.order_item_id\""));
    let t = v.table(v.find_table("order_items").unwrap());
    assert_eq!(
        t.primary_key,
        [
            t.column("order_id").unwrap(),
            t.column("product_id").unwrap()
        ]
    );
}

#[test]
fn a_missing_attribute_hides_the_table() {
    let c = annotated();
    let eff = effective(
        r#"
[role.analyst]
tables = ["retail.*"]
row_filter = { "retail.orders" = "store_id = ${user.store}" }
"#,
        &[],
    );
    let v = view::for_role(&c, &eff);
    assert!(v.find_table("orders").is_none());
    assert!(v.find_table("order_items").is_some());
    assert!(!v.metrics.iter().any(|m| m.name == "revenue"));
}

#[test]
fn suggested_annotations_parse_apply_and_guess_relationships() {
    let mut c = with_values(retail());
    c.tables[1].comment = Some("People who \"buy\" things".into());
    let draft = super::suggest::suggest(&c);
    assert!(
        draft.contains("description = 'People who \"buy\" things'"),
        "{draft}"
    );
    assert!(
        draft.contains("[tables.customers.columns.email]\npii = true"),
        "{draft}"
    );
    assert!(draft.contains("display_column = \"name\""));
    assert!(draft.contains("time_column = \"order_date\""));
    assert!(draft.contains("# [metrics.total_salary]\n# sql = \"SUM(employees.salary)\""));
    let f = annotations::parse(Path::new("draft.toml"), draft.clone()).unwrap();
    let mut applied = c.clone();
    assert!(annotations::apply(&mut applied, &[f]).is_empty());
    // With foreign keys there is nothing to guess.
    assert!(!draft.contains("[[relationships]]"), "{draft}");
    // Without them, the nine links are guessed from the column names.
    let mut bare = c.clone();
    bare.relations.clear();
    let draft = super::suggest::suggest(&bare);
    let f = annotations::parse(Path::new("draft.toml"), draft.clone()).unwrap();
    assert!(annotations::apply(&mut bare, &[f]).is_empty());
    let mut got: Vec<(String, String)> = bare
        .relations
        .iter()
        .map(|r| {
            (
                bare.table(r.from).name.clone(),
                bare.table(r.to).name.clone(),
            )
        })
        .collect();
    got.sort();
    let mut want: Vec<(String, String)> = c
        .relations
        .iter()
        .map(|r| (c.table(r.from).name.clone(), c.table(r.to).name.clone()))
        .collect();
    want.sort();
    assert_eq!(got, want, "{draft}");
}

#[test]
fn database_contents_never_become_live_annotations() {
    let mut c = with_values(retail());
    let inject = "\n[[relationships]]\nfrom = \"orders.customer_id\"\nto = \"customers.customer_id\"\npreferred = true\n";
    let orders = id(&c, "orders");
    let t = &mut c.tables[orders as usize];
    let channel = t.column("channel").unwrap() as usize;
    t.columns[channel].profile.as_mut().unwrap().values =
        Some(vec![format!("Online{inject}"), "Phone\u{7f}\u{85}".into()]);
    t.comment = Some(format!("Orders.{inject}"));
    // A numeric column whose name carries a line break: its metric draft is a comment.
    let items = id(&c, "order_items");
    c.tables[items as usize].columns[3].name = format!("quantity{inject}");
    let draft = super::suggest::suggest(&c);
    for line in draft.lines() {
        assert!(
            !line.starts_with("[[relationships]]")
                && !line.starts_with("from")
                && !line.starts_with("preferred"),
            "{line:?} in:\n{draft}"
        );
    }
    assert!(
        draft.contains("# values seen: [\"Online\\n[[relationships]]"),
        "{draft}"
    );
    let f = annotations::parse(Path::new("draft.toml"), draft.clone())
        .unwrap_or_else(|e| panic!("{e}\n{draft}"));
    let mut applied = c.clone();
    assert!(annotations::apply(&mut applied, &[f]).is_empty());
    assert_eq!(
        applied.relations, c.relations,
        "no relationship was declared"
    );
    assert!(applied.relations.iter().all(|r| !r.preferred));
    // The description is the comment, line break included.
    assert_eq!(
        applied.table(orders).notes.description.as_deref(),
        Some(format!("Orders.{inject}").as_str())
    );
}
