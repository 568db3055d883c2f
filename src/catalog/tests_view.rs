//! Tests of role views and suggested annotations on the retail catalog of `tests` (the
//! fixtures live there).

use super::annotations;
use super::graph::JoinGraph;
use super::model::*;
use super::tests::{annotated, id, names, retail};
use super::view;
use crate::auth::Principal;
use crate::policy::{Effective, Policies};
use std::path::Path;

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
    let email = c.find_column("customers.email").unwrap();
    c.tables[email.table as usize].columns[email.column as usize].profile = Some(Profile {
        values: Some(vec!["ann@example.com".into()]),
        ..Default::default()
    });
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
    // Without them, the nine links are guessed from the column names, as drafts to accept.
    let mut bare = c.clone();
    bare.relations.clear();
    let draft = super::suggest::suggest(&bare);
    assert!(!draft.contains("\n[[relationships]]"), "{draft}");
    let draft = super::suggest::tests::uncomment(&draft);
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
