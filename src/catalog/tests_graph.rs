//! Tests of join trees on the retail catalog of `tests` (the fixtures live there).

use super::graph::JoinGraph;
use super::model::*;
use super::tests::{annotated, id, names, retail, table};

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
