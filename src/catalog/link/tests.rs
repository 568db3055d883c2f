//! Linking questions against a small hand-built retail catalog.

use super::*;
use crate::catalog::model::*;

fn col(name: &str, kind: ValueKind) -> Column {
    Column {
        name: name.into(),
        data_type: "text".into(),
        kind,
        nullable: false,
        comment: None,
        profile: None,
        notes: ColumnNotes::default(),
    }
}

fn with_values(mut c: Column, values: &[&str]) -> Column {
    c.profile = Some(Profile {
        distinct: Some(values.len() as u64),
        values: Some(values.iter().map(|v| v.to_string()).collect()),
        ..Profile::default()
    });
    c
}

fn table(name: &str, synonyms: &[&str], columns: Vec<Column>) -> Table {
    Table {
        schema: "retail".into(),
        name: name.into(),
        kind: TableKind::Table,
        comment: None,
        row_estimate: Some(100),
        columns,
        primary_key: vec![0],
        notes: TableNotes {
            synonyms: synonyms.iter().map(|s| s.to_string()).collect(),
            ..TableNotes::default()
        },
    }
}

fn retail() -> Catalog {
    use ValueKind::*;
    let mut email = with_values(
        col("email", Text),
        &["alice@example.com", "bob.smith@example.org"],
    );
    email.notes.pii = true;
    email.notes.value_synonyms = vec![("alicia".into(), "alice@example.com".into())];
    let mut segment = with_values(
        col("segment", Text),
        &["Consumer", "Corporate", "Small Business"],
    );
    segment.notes.value_synonyms = vec![("smb".into(), "Small Business".into())];
    let mut channel = with_values(col("channel", Text), &["Online", "In-store", "Phone"]);
    channel.notes.value_synonyms = vec![
        ("web".into(), "Online".into()),
        ("telephone".into(), "Phone".into()),
        ("mail order".into(), "Mail".into()),
    ];
    channel.notes.synonyms = vec!["sales channel".into()];
    let mut c = Catalog {
        database: "bench".into(),
        tables: vec![
            table(
                "categories",
                &["department"],
                vec![
                    col("category_id", Integer),
                    with_values(
                        col("name", Text),
                        &["Electronics", "Garden", "Toys", "2024"],
                    ),
                ],
            ),
            table(
                "customers",
                &["clients"],
                vec![
                    col("customer_id", Integer),
                    col("name", Text),
                    email,
                    segment,
                    col("region_id", Integer),
                ],
            ),
            table(
                "order_items",
                &[],
                vec![
                    col("order_id", Integer),
                    col("product_id", Integer),
                    col("quantity", Integer),
                    col("unit_price", Decimal),
                ],
            ),
            table(
                "orders",
                &[],
                vec![
                    col("order_id", Integer),
                    col("customer_id", Integer),
                    col("store_id", Integer),
                    channel,
                    with_values(col("payment_method", Text), &["Card", "Gift Card", "Cash"]),
                    col("order_date", Date),
                ],
            ),
            table(
                "products",
                &[],
                vec![
                    col("product_id", Integer),
                    col("name", Text),
                    col("category_id", Integer),
                ],
            ),
            table(
                "regions",
                &[],
                vec![
                    col("region_id", Integer),
                    with_values(
                        col("name", Text),
                        &["North", "South", "East", "West", "Central"],
                    ),
                ],
            ),
            table(
                "stores",
                &["shops"],
                vec![
                    col("store_id", Integer),
                    col("name", Text),
                    col("region_id", Integer),
                ],
            ),
        ],
        relations: vec![],
        metrics: vec![Metric {
            name: "revenue".into(),
            description: None,
            synonyms: vec!["sales".into(), "turnover".into()],
            sql: "SUM(order_items.quantity * order_items.unit_price)".into(),
            tables: vec![2, 3],
            columns: vec![],
            filters: vec![],
            time_column: None,
            unit: None,
            format: None,
        }],
        ..Catalog::default()
    };
    c.seal();
    c
}

struct Fixture {
    catalog: Catalog,
    index: LinkIndex,
}

impl Fixture {
    fn new() -> Fixture {
        let catalog = retail();
        let index = LinkIndex::build(&catalog);
        Fixture { catalog, index }
    }
    fn link(&self, q: &str) -> Linking {
        self.index.link(&self.catalog, q)
    }
    fn table(&self, name: &str) -> Element {
        Element::Table(self.catalog.find_table(name).expect("table"))
    }
    fn column(&self, name: &str) -> Element {
        Element::Column(self.catalog.find_column(name).expect("column"))
    }
    fn value(&self, column: &str, value: &str) -> Element {
        Element::Value {
            column: self.catalog.find_column(column).expect("column"),
            value: value.into(),
        }
    }
}

fn find<'a>(l: &'a Linking, e: &Element) -> Option<&'a Candidate> {
    l.candidates.iter().find(|c| &c.element == e)
}

fn has(l: &Linking, e: &Element, how: MatchKind) -> Candidate {
    let c = find(l, e).unwrap_or_else(|| panic!("{e:?} not in {:#?}", l.candidates));
    assert_eq!(c.how, how, "{c:#?}");
    assert!(c.score > 0.0 && c.score <= 1.0);
    c.clone()
}

fn unlinked(l: &Linking) -> Vec<&str> {
    l.unlinked
        .iter()
        .map(|&i| l.tokens[i].text.as_str())
        .collect()
}

#[test]
fn typo_metric_value_and_table() {
    let f = Fixture::new();
    let l = f.link("reveune in the West region");
    let m = has(&l, &Element::Metric(0), MatchKind::Typo { distance: 1 });
    assert_eq!(
        (m.words.as_str(), m.phrase.as_str(), m.span),
        ("reveune", "revenue", (0, 1))
    );
    let west = has(&l, &f.value("regions.name", "West"), MatchKind::Exact);
    assert_eq!(west.words, "West");
    has(&l, &f.table("regions"), MatchKind::Stemmed);
    assert!(west.score > m.score);
    assert!(l.unlinked.is_empty(), "{:?}", unlinked(&l));
    // Without the region named, the value is still found, with less confidence.
    let alone = f.link("West");
    let w = find(&alone, &f.value("regions.name", "West")).expect("value");
    assert!(w.score < west.score);
}

#[test]
fn typo_synonym_and_stemmed_synonym() {
    let f = Fixture::new();
    has(
        &f.link("custmers"),
        &f.table("customers"),
        MatchKind::Typo { distance: 1 },
    );
    has(
        &f.link("top 5 customres by revenue"),
        &f.table("customers"),
        MatchKind::Typo { distance: 1 },
    );
    let c = has(
        &f.link("clients"),
        &f.table("customers"),
        MatchKind::Synonym,
    );
    assert_eq!(c.phrase, "clients");
    has(&f.link("client"), &f.table("customers"), MatchKind::Synonym);
    let l = f.link("turnover by shop");
    has(&l, &Element::Metric(0), MatchKind::Synonym);
    has(&l, &f.table("stores"), MatchKind::Synonym);
    has(&f.link("sales"), &Element::Metric(0), MatchKind::Synonym);
    // Exact beats stemmed.
    let exact = has(
        &f.link("clients"),
        &f.table("customers"),
        MatchKind::Synonym,
    )
    .score;
    let stemmed = has(&f.link("client"), &f.table("customers"), MatchKind::Synonym).score;
    assert!(exact > stemmed);
    assert!(
        has(
            &f.link("customers"),
            &f.table("customers"),
            MatchKind::Exact
        )
        .score
            > exact
    );
}

#[test]
fn values_single_multi_word_and_hyphenated() {
    let f = Fixture::new();
    let l = f.link("online orders");
    let v = has(&l, &f.value("orders.channel", "Online"), MatchKind::Exact);
    has(&l, &f.table("orders"), MatchKind::Exact);
    assert!(v.score >= 0.99, "{v:?}");
    let l = f.link("in-store");
    let v = has(&l, &f.value("orders.channel", "In-store"), MatchKind::Exact);
    assert_eq!((v.words.as_str(), v.span), ("in-store", (0, 2)));
    assert_eq!(l.candidates[0].element, v.element);
    let l = f.link("Small Business customers");
    let v = has(
        &l,
        &f.value("customers.segment", "Small Business"),
        MatchKind::Exact,
    );
    assert_eq!(v.span, (0, 2));
    assert_eq!(l.candidates[0].element, v.element);
    has(&l, &f.table("customers"), MatchKind::Exact);
    let l = f.link("orders paid by 'gift card'");
    has(
        &l,
        &f.value("orders.payment_method", "Gift Card"),
        MatchKind::Exact,
    );
    // Words for values.
    has(
        &f.link("web orders"),
        &f.value("orders.channel", "Online"),
        MatchKind::Synonym,
    );
    has(
        &f.link("SMB"),
        &f.value("customers.segment", "Small Business"),
        MatchKind::Synonym,
    );
    has(
        &f.link("mail order"),
        &f.value("orders.channel", "Mail"),
        MatchKind::Synonym,
    );
    // Typo in a value.
    has(
        &f.link("Nroth"),
        &f.value("regions.name", "North"),
        MatchKind::Typo { distance: 1 },
    );
    // Purely numeric values are not indexed.
    assert!(f.link("2024").candidates.is_empty());
}

#[test]
fn columns_and_derived_names() {
    let f = Fixture::new();
    let l = f.link("customer name");
    let c = &l.candidates[0];
    assert_eq!(c.element, f.column("customers.name"));
    assert_eq!((c.how, c.span), (MatchKind::Exact, (0, 2)));
    let l = f.link("unit price of order items");
    has(&l, &f.column("order_items.unit_price"), MatchKind::Exact);
    let t = has(&l, &f.table("order_items"), MatchKind::Exact);
    assert_eq!(t.span, (3, 5));
    // "orders" inside "order items" ranks below it.
    if let Some(o) = find(&l, &f.table("orders")) {
        assert!(o.score < t.score);
    }
    // Context: the name column of the table the question names comes first.
    let l = f.link("names of stores");
    let names: Vec<&Candidate> = l
        .candidates
        .iter()
        .filter(|c| matches!(c.element, Element::Column(_)))
        .collect();
    assert_eq!(names[0].element, f.column("stores.name"));
    assert!(names[0].score > names[1].score);
    has(
        &f.link("sales channel"),
        &f.column("orders.channel"),
        MatchKind::Synonym,
    );
}

#[test]
fn unlinked_words_stopwords_and_query_words() {
    let f = Fixture::new();
    let l = f.link("inventory by warehouse");
    assert_eq!(unlinked(&l), ["inventory", "warehouse"]);
    let l = f.link("What is the total revenue per month in 2024 for the top 10 stores?");
    assert!(l.unlinked.is_empty(), "{:?}", unlinked(&l));
    has(&l, &Element::Metric(0), MatchKind::Exact);
    has(&l, &f.table("stores"), MatchKind::Exact);
    assert!(l.tokens.iter().filter(|t| t.stop).count() >= 5);
    let l = f.link("of the and in");
    assert!(l.candidates.is_empty() && l.unlinked.is_empty());
    // Short words never match by typo, nor do words a planner interprets ("last" ≠ "east").
    assert!(f.link("wst").candidates.is_empty());
    assert!(f
        .link("revenue last year")
        .candidates
        .iter()
        .all(|c| c.element == Element::Metric(0)));
}

#[test]
fn a_very_long_word_links_quickly() {
    let f = Fixture::new();
    let started = std::time::Instant::now();
    let word = "reveune".repeat(3000); // 21,000 letters
    let l = f.link(&format!("{word} by region"));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    has(&l, &f.table("regions"), MatchKind::Stemmed);
    // A huge catalog word costs the index nothing either.
    let mut c = retail();
    c.tables[0].notes.synonyms = vec!["x".repeat(20_000)];
    let started = std::time::Instant::now();
    let index = LinkIndex::build(&c);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(index.link(&c, &"x".repeat(20_001)).candidates.is_empty());
}

#[test]
fn pii_values_never_indexed() {
    let f = Fixture::new();
    for q in [
        "alice",
        "alice@example.com",
        "bob smith",
        "alicia",
        "example",
    ] {
        let l = f.link(q);
        assert!(
            l.candidates.iter().all(|c| !matches!(&c.element, Element::Value { column, .. } if f.catalog.column(*column).notes.pii)),
            "{q}: {:?}",
            l.candidates
        );
    }
    // The column itself links.
    has(
        &f.link("email"),
        &f.column("customers.email"),
        MatchKind::Exact,
    );
}

#[test]
fn phrases_do_not_cross_punctuation() {
    let f = Fixture::new();
    let l = f.link("customer, name");
    assert!(find(&l, &f.column("customers.name")).is_none_or(|c| c.span != (0, 2)));
}

#[test]
fn odd_input_does_not_panic() {
    let f = Fixture::new();
    let long = "revenue custmers west ".repeat(2000);
    for q in [
        "",
        "   ",
        "😀🎉",
        "the of and",
        "\"",
        "'''",
        "«»“”",
        "Größe über ñandú 東京 العربية",
        "reveune😀west",
        "-- ; DROP TABLE orders; --",
        "1,000.50 2024-01-05",
        long.as_str(),
    ] {
        let l = f.link(q);
        assert!(l.candidates.len() <= MAX_CANDIDATES);
        for c in &l.candidates {
            assert!(c.span.0 < c.span.1 && c.span.1 <= l.tokens.len());
            assert!((0.0..=1.0).contains(&c.score));
        }
        for t in &l.tokens {
            assert_eq!(&q[t.start..t.end], t.text);
        }
    }
    let l = f.link(&long);
    assert!(find(&l, &Element::Metric(0)).is_some());
}

#[test]
fn stats_and_serialization() {
    let f = Fixture::new();
    let s = f.index.stats();
    // 3 + 3 + 3 + 3 + 5 (categories, segment, channel, payment, regions): not the number
    // 2024, not the emails.
    assert_eq!(s.values, 17);
    assert!(s.phrases > 30 && s.terms > 20 && s.delete_entries > s.terms && s.entries > s.phrases);
    let json = serde_json::to_string(&f.link("reveune in-store")).expect("json");
    assert!(json.contains("\"typo\":{\"distance\":1}"), "{json}");
    assert!(format!("{:?}", f.index).contains("phrases"));
}

#[test]
fn empty_catalog() {
    let c = Catalog::default();
    let idx = LinkIndex::build(&c);
    let l = idx.link(&c, "revenue by region");
    assert!(l.candidates.is_empty());
    assert_eq!(l.unlinked, [0, 2]);
    assert_eq!(idx.stats(), IndexStats::default());
}
