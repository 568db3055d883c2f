//! `[[examples]]` in annotation files: parsed, checked against the catalog, reported with file,
//! line and key when wrong, skipped for another database.

use super::annotations;
use super::tests::retail;
use crate::history::{Example, Source};
use std::path::Path;

fn examples_of(text: &str) -> (Vec<Example>, Vec<String>) {
    let f = annotations::parse(Path::new("ex.toml"), text.into()).unwrap();
    let (examples, problems) = annotations::examples(&retail(), &[f]);
    (examples, problems.iter().map(|d| d.to_string()).collect())
}

#[test]
fn pinned_examples_are_read_and_checked() {
    let (examples, problems) = examples_of(
        r#"
schema = "retail"
[tables.orders]
synonyms = ["purchases"]

[[examples]]
question = "  revenue by region  "
sql = """
WITH r AS (SELECT store_id, region_id FROM retail.stores)
SELECT regions.name, count(*) FROM orders JOIN r USING (store_id) JOIN regions USING (region_id)
GROUP BY 1
"""

[[examples]]
question = "orders with a return"
sql = "SELECT * FROM orders WHERE order_id IN (SELECT order_id FROM returns)"

[[examples]]
question = "not sql"
sql = "SELEKT 1"

[[examples]]
question = "a write"
sql = "DELETE FROM orders"

[[examples]]
question = "two"
sql = "SELECT 1 FROM orders; SELECT 2 FROM orders"

[[examples]]
question = "elsewhere"
sql = "SELECT * FROM warehouses"

[[examples]]
question = " "
sql = "SELECT 1 FROM orders"
"#,
    );
    let questions: Vec<&str> = examples.iter().map(|e| e.question.as_str()).collect();
    assert_eq!(questions, ["revenue by region", "orders with a return"]);
    assert!(examples.iter().all(|e| e.source == Source::Pinned));
    assert!(
        examples[0].sql.starts_with("WITH r AS"),
        "{}",
        examples[0].sql
    );
    let want = [
        "ex.toml:20: examples[2].sql: not valid SQL",
        "ex.toml:24: examples[3].sql: not a read-only query",
        "ex.toml:28: examples[4].sql: holds 2 statements",
        "ex.toml:32: examples[5].sql: reads table \"warehouses\", which is not in this database",
        "ex.toml:35: examples[6].question: empty question",
    ];
    assert_eq!(problems.len(), want.len(), "{problems:#?}");
    for (p, w) in problems.iter().zip(want) {
        assert!(p.starts_with(w), "{p:?} does not start with {w:?}");
    }
}

#[test]
fn a_file_of_examples_only_applies_where_its_tables_are() {
    let text = "[[examples]]\nquestion = \"stores per region\"\nsql = \"SELECT region_id, count(*) FROM retail.stores GROUP BY 1\"\n[[examples]]\nquestion = \"bad\"\nsql = \"SELECT * FROM nowhere\"\n";
    let (examples, problems) = examples_of(text);
    assert_eq!(examples.len(), 1);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("examples[1].sql: reads table \"nowhere\""));
    // Another database's file: skipped without a word.
    let other = "[[examples]]\nquestion = \"deals by stage\"\nsql = \"SELECT stage, count(*) FROM crm.deals GROUP BY 1\"\n";
    assert_eq!(examples_of(other), (vec![], vec![]));
}

#[test]
fn example_syntax_errors_stop_the_load() {
    let e = annotations::parse(
        Path::new("ex.toml"),
        "[[examples]]\nquestion = \"q\"\nquery = \"SELECT 1\"\n".into(),
    )
    .unwrap_err();
    assert_eq!(e.line, Some(3), "{e}");
    assert!(e.message.contains("unknown field `query`"), "{e}");
    let e = annotations::parse(
        Path::new("ex.toml"),
        "[[examples]]\nquestion = \"q\"\n".into(),
    )
    .unwrap_err();
    assert!(e.message.contains("missing field `sql`"), "{e}");
}
