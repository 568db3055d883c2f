//! Schema linking on the real retail database: the catalog is introspected and profiled from
//! Postgres and annotated with schemas/retail.toml, then questions with typos, synonyms and
//! values are linked. A role whose policy hides a table never gets it back from linking.

mod common;

use querent::auth::Principal;
use querent::catalog::link::{Element, MatchKind};
use querent::catalog::report::element_name;
use querent::catalog::store::{self, Semantic};
use querent::upstream::UpstreamTarget;
use std::sync::Arc;

async fn retail() -> Arc<Semantic> {
    common::retail::ensure_dataset().await;
    let target = UpstreamTarget::parse("postgres://root@127.0.0.1:5432/querent_retail").unwrap();
    let files =
        store::read_annotations(Some(&common::repo().join("schemas"))).expect("annotations load");
    let cfg = querent::config::Config::default();
    let loaded = store::discover(&target, "querent_retail", &store::options(&cfg), &files)
        .await
        .unwrap();
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    loaded.full.clone()
}

/// (element name, how it matched) of every candidate, and the unlinked words.
fn link(s: &Semantic, q: &str) -> (Vec<(String, String)>, Vec<String>) {
    let l = s.index.link(&s.catalog, q);
    let cands = l
        .candidates
        .iter()
        .map(|c| {
            let how = match c.how {
                MatchKind::Exact => "exact".to_string(),
                MatchKind::Stemmed => "stemmed".into(),
                MatchKind::Synonym => "synonym".into(),
                MatchKind::Typo { distance } => format!("typo{distance}"),
            };
            (element_name(&s.catalog, &c.element), how)
        })
        .collect();
    let unlinked = l
        .unlinked
        .iter()
        .map(|i| l.tokens[*i].text.clone())
        .collect();
    (cands, unlinked)
}

fn has(cands: &[(String, String)], name: &str, how: &str) -> bool {
    cands.iter().any(|(n, h)| n == name && h == how)
}

#[tokio::test]
async fn typos_synonyms_and_values_link_on_the_real_catalog() {
    let s = retail().await;
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [&'a str]);
    let cases: &[Case] = &[
        (
            "reveune by shop in the west",
            &[
                ("metric revenue", "typo1"),
                ("table retail.stores", "synonym"),
                ("value retail.regions.name = 'West'", "exact"),
            ],
            &[],
        ),
        (
            "how many custmers are Small Business",
            &[
                ("table retail.customers", "typo1"),
                ("value retail.customers.segment = 'Small Business'", "exact"),
            ],
            &[],
        ),
        (
            "turnover for Electronics in 2024",
            &[
                ("metric revenue", "synonym"),
                ("value retail.categories.name = 'Electronics'", "exact"),
            ],
            &[],
        ),
        (
            "web sales by payment method",
            &[
                ("value retail.orders.channel = 'Online'", "synonym"),
                ("metric revenue", "synonym"),
                ("column retail.orders.payment_method", "exact"),
            ],
            &[],
        ),
        (
            "orders paid by gift card",
            &[
                ("table retail.orders", "exact"),
                ("value retail.orders.payment_method = 'Gift Card'", "exact"),
            ],
            &[],
        ),
        (
            "average basket of Platinum members",
            &[
                ("metric average_order_value", "synonym"),
                ("value retail.customers.loyalty_tier = 'Platinum'", "exact"),
            ],
            &["members"],
        ),
        (
            "clients per loyalty tier",
            &[
                ("table retail.customers", "synonym"),
                ("column retail.customers.loyalty_tier", "exact"),
            ],
            &[],
        ),
        (
            "refunds for defective products",
            &[
                ("metric refunds", "exact"),
                ("value retail.returns.reason = 'Defective'", "exact"),
                ("table retail.products", "exact"),
            ],
            &[],
        ),
        ("inventory by warehouse", &[], &["inventory", "warehouse"]),
    ];
    for (q, want, unlinked) in cases {
        let (cands, left) = link(&s, q);
        for (name, how) in *want {
            assert!(
                has(&cands, name, how),
                "{q:?}: missing {name} ({how}) in {cands:#?}"
            );
        }
        assert_eq!(
            &left, unlinked,
            "{q:?}: unlinked words; candidates {cands:#?}"
        );
    }
}

#[tokio::test]
async fn personal_data_never_links() {
    let s = retail().await;
    // A real customer's e-mail address and phone number from the data.
    let client = common::connect("host=127.0.0.1 port=5432 user=root dbname=querent_retail")
        .await
        .unwrap();
    let row = client
        .query_one(
            "SELECT email, phone FROM retail.customers WHERE phone IS NOT NULL ORDER BY customer_id LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    let (email, phone): (String, String) = (row.get(0), row.get(1));
    for q in [
        format!("orders of {email}"),
        format!("customer with phone {phone}"),
    ] {
        let l = s.index.link(&s.catalog, &q);
        assert!(
            l.candidates.iter().all(|c| !matches!(
                &c.element,
                Element::Value { column, .. } if s.catalog.column(*column).notes.pii
            )),
            "{q}: {:?}",
            l.candidates
        );
    }
}

#[tokio::test]
async fn a_hidden_table_is_absent_from_linking() {
    let s = retail().await;
    let dir = std::env::temp_dir().join(format!("querent-linking-policy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("p.toml"),
        r#"
[role.analyst]
tables = ["retail.*"]
deny_columns = ["retail.employees.salary"]

[role.cashier]
tables = ["retail.orders", "retail.stores", "retail.regions"]
"#,
    )
    .unwrap();
    let policies = querent::policy::load_dir(&dir).unwrap();
    let view = |role: &str| {
        let p = Principal {
            user: "u".into(),
            roles: vec![role.into()],
            attributes: Default::default(),
        };
        let eff = querent::policy::Effective::new(&policies, &p);
        Semantic::new(querent::catalog::view::for_role(&s.catalog, &eff))
    };
    let q = "headcount and payroll by store for Electronics";
    let (full, _) = link(&s, q);
    assert!(has(&full, "metric headcount", "exact"), "{full:#?}");
    assert!(has(&full, "metric payroll", "exact"), "{full:#?}");
    // analyst: employees visible but salary denied, so payroll (which reads it) is gone.
    let analyst = view("analyst");
    let (cands, left) = link(&analyst, q);
    assert!(has(&cands, "metric headcount", "exact"), "{cands:#?}");
    assert!(!cands
        .iter()
        .any(|(n, _)| n.contains("payroll") || n.contains("salary")));
    assert_eq!(left, ["payroll"]);
    // cashier: no employees, no products, no categories: their words stay unlinked.
    let cashier = view("cashier");
    let (cands, left) = link(&cashier, q);
    for (name, _) in &cands {
        for hidden in [
            "employees",
            "headcount",
            "payroll",
            "categories",
            "products",
        ] {
            assert!(
                !name.contains(hidden),
                "{name} leaked to cashier: {cands:#?}"
            );
        }
    }
    assert!(has(&cands, "table retail.stores", "stemmed"), "{cands:#?}");
    assert_eq!(left, ["headcount", "payroll", "Electronics"]);
}
