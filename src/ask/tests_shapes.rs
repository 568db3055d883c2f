//! Planner tests of the shapes ASK reads without annotations, on two hand-built schemas that
//! declare no keys: `papers` (authors, publications, a bridge table, a year column) and
//! `billing` (accounts, plans, invoices, tickets, transfers), with relations as inference
//! finds them. The retail schema's tests are in `tests.rs`; the same shapes run against real
//! databases in bench/saas and shared/bench/defog (scripts/bench-ask-sets.sh).

use super::compile::compile;
use super::plan::*;
use super::planner::{plan, Declined};
use crate::catalog::store::Semantic;
use crate::catalog::tests::table;
use crate::catalog::ValueKind::*;
use crate::catalog::*;

use super::tests_count_schemas::{relate, schema, values};

fn papers() -> Semantic {
    let mut writes = table("writes", &[("aid", Integer), ("pid", Integer)]);
    writes.primary_key.clear();
    let mut c = schema(
        vec![
            table(
                "author",
                &[("aid", Integer), ("name", Text), ("oid", Integer)],
            ),
            table("conference", &[("cid", Integer), ("name", Text)]),
            table("journal", &[("jid", Integer), ("name", Text)]),
            table(
                "organization",
                &[("oid", Integer), ("name", Text), ("continent", Text)],
            ),
            table(
                "publication",
                &[
                    ("pid", Integer),
                    ("title", Text),
                    ("year", Integer),
                    ("citation_num", Integer),
                    ("reference_num", Integer),
                    ("cid", Integer),
                    ("jid", Integer),
                ],
            ),
            writes,
        ],
        "papers",
    );
    for (f, t) in [
        ("author.oid", "organization.oid"),
        ("publication.cid", "conference.cid"),
        ("publication.jid", "journal.jid"),
        ("writes.aid", "author.aid"),
        ("writes.pid", "publication.pid"),
    ] {
        relate(&mut c, f, t);
    }
    let oid = c.find_column("author.oid").unwrap();
    c.tables[oid.table as usize].columns[oid.column as usize].nullable = true;
    values(&mut c, "organization.continent", &["Asia", "Europe"]);
    c.seal();
    Semantic::new(c)
}

fn billing() -> Semantic {
    let mut c = schema(
        vec![
            table(
                "accounts",
                &[
                    ("acct", Integer),
                    ("company", Text),
                    ("plan", Text),
                    ("country", Text),
                    ("signed_up", Date),
                    ("is_active", Boolean),
                ],
            ),
            table(
                "invoices",
                &[
                    ("invoice_no", Integer),
                    ("acct", Integer),
                    ("issued", Date),
                    ("amount_usd", Decimal),
                    ("state", Text),
                ],
            ),
            table(
                "plans",
                &[("code", Text), ("title", Text), ("monthly_fee", Decimal)],
            ),
            table(
                "reviews",
                &[("rid", Integer), ("rating", Decimal), ("label", Text)],
            ),
            table(
                "tickets",
                &[
                    ("id", Integer),
                    ("acct", Integer),
                    ("priority", Text),
                    ("opened_at", Timestamp),
                    ("closed_at", Timestamp),
                ],
            ),
            table(
                "transfers",
                &[
                    ("id", Integer),
                    ("from_country", Text),
                    ("to_country", Text),
                    ("amount", Decimal),
                ],
            ),
        ],
        "billing",
    );
    for (f, t) in [
        ("accounts.plan", "plans.code"),
        ("invoices.acct", "accounts.acct"),
        ("tickets.acct", "accounts.acct"),
    ] {
        relate(&mut c, f, t);
    }
    values(&mut c, "accounts.country", &["Germany", "Japan"]);
    values(&mut c, "invoices.state", &["open", "paid", "void"]);
    values(&mut c, "tickets.priority", &["high", "low", "urgent"]);
    values(&mut c, "reviews.label", &["Average", "Good", "Poor"]);
    values(&mut c, "transfers.from_country", &["Germany", "Japan"]);
    values(&mut c, "transfers.to_country", &["Germany", "Japan"]);
    let opened = c.find_column("tickets.opened_at").unwrap();
    c.tables[opened.table as usize].columns[opened.column as usize].profile = Some(Profile {
        min: Some("2022-01-03 09:00:00".into()),
        max: Some("2024-12-30 17:00:00".into()),
        ..Default::default()
    });
    let closed = c.find_column("tickets.closed_at").unwrap();
    c.tables[closed.table as usize].columns[closed.column as usize].nullable = true;
    for (t, col) in [("accounts", 4), ("invoices", 2), ("tickets", 3)] {
        let id = c.find_table(&format!("billing.{t}")).unwrap();
        c.tables[id as usize].notes.time_column = Some(col);
    }
    c.seal();
    Semantic::new(c)
}

fn col(s: &Semantic, name: &str) -> ColRef {
    s.catalog.find_column(name).unwrap()
}

fn p(s: &Semantic, q: &str) -> AnalysisPlan {
    match plan(s, q) {
        Ok(p) => p.plan,
        Err(d) => panic!("{q:?} declined: {} ({})", d.message, d.hint),
    }
}

fn sql(s: &Semantic, q: &str) -> String {
    compile(s, &p(s, q)).unwrap_or_else(|e| panic!("{q:?}: {}", e.message))
}

fn declined(s: &Semantic, q: &str) -> Declined {
    match plan(s, q) {
        Ok(p) => match compile(s, &p.plan) {
            Ok(sql) => panic!("{q:?} was answered: {sql}"),
            Err(e) => Declined {
                message: e.message,
                hint: e.hint,
            },
        },
        Err(d) => d,
    }
}

#[test]
fn rows_sorted_by_words() {
    let s = papers();
    let plan = p(
        &s,
        "What are the titles of all publications ordered alphabetically?",
    );
    assert_eq!(plan.intent, Intent::List);
    assert_eq!(plan.dimensions[0].column, col(&s, "publication.title"));
    let o = plan.order.expect("ordered");
    assert_eq!(
        (o.descending, o.column),
        (false, Some(col(&s, "publication.title")))
    );
    let plan = p(
        &s,
        "list the titles of publications sorted by year in descending order",
    );
    let o = plan.order.expect("ordered");
    assert_eq!(
        (o.descending, o.column),
        (true, Some(col(&s, "publication.year")))
    );
}

#[test]
fn rows_ranked_by_a_number_of_their_own() {
    let s = papers();
    let plan = p(
        &s,
        "What are the top 3 publications with the highest number of citations?",
    );
    assert_eq!(plan.intent, Intent::List);
    assert_eq!(plan.limit, Some(3));
    assert_eq!(
        plan.order,
        Some(Order {
            descending: true,
            column: Some(col(&s, "publication.citation_num"))
        })
    );
    assert!(sql(&s, "title of the publication with the most citations").ends_with("LIMIT 1"));
}

#[test]
fn integer_year_columns_are_time() {
    // Once "cannot compute a ratio per year".
    let s = papers();
    let plan = p(
        &s,
        "What is the total number of publications published in each year?",
    );
    assert_eq!(
        plan.measures,
        vec![Measure::Count(col(&s, "publication.pid").table)]
    );
    assert_eq!(plan.dimensions[0].column, col(&s, "publication.year"));
    let plan = p(&s, "how many publications in 2021");
    let f: Vec<(Op, Vec<Value>)> = plan
        .filters
        .iter()
        .map(|f| (f.op, f.values.clone()))
        .collect();
    assert_eq!(
        f,
        vec![
            (Op::Ge, vec![Value::Number(2021.0)]),
            (Op::Lt, vec![Value::Number(2022.0)])
        ]
    );
}

#[test]
fn relation_verbs_need_a_join() {
    let s = papers();
    let plan = p(&s, "how many publications were written by each author");
    assert_eq!(plan.dimensions[0].column, col(&s, "author.name"));
    // One table, no date: "written" says nothing the plan uses.
    assert!(declined(&s, "how many publications written")
        .message
        .contains("written"));
}

#[test]
fn sums_through_a_bridge_count_each_row_once_per_group() {
    let s = papers();
    let q = "What is the total number of citations received by each author?";
    let plan = p(&s, q);
    assert_eq!(
        plan.measures,
        vec![Measure::Aggregate {
            agg: Agg::Sum,
            column: col(&s, "publication.citation_num")
        }]
    );
    let sql = sql(&s, q);
    assert!(sql.contains("SELECT DISTINCT"), "{sql}");
    assert!(sql.contains("\"publication\".\"pid\""), "{sql}");
}

#[test]
fn ratios_of_two_measures() {
    let s = papers();
    let plan = p(&s, "What is the ratio of publications to authors?");
    assert_eq!(plan.intent, Intent::Ratio);
    let t = |n: &str| s.catalog.find_table(n).unwrap();
    assert_eq!(
        plan.measures,
        vec![
            Measure::Count(t("papers.publication")),
            Measure::Count(t("papers.author"))
        ]
    );
    let s = billing();
    let plan = p(
        &s,
        "ratio of total invoice amount to the number of tickets by country",
    );
    assert_eq!(plan.intent, Intent::Ratio);
    assert_eq!(plan.dimensions[0].column, col(&s, "accounts.country"));
    // Each side with its own condition: the reference it has is set.
    let s = papers();
    let plan = p(
        &s,
        "ratio of publications in conferences to publications in journals",
    );
    let own = |i: &[usize]| -> Vec<(ColRef, Op)> {
        i.iter()
            .map(|k| (plan.filters[*k].column, plan.filters[*k].op))
            .collect()
    };
    assert_eq!(
        own(&plan.part),
        vec![(col(&s, "publication.cid"), Op::NotNull)]
    );
    assert_eq!(
        own(&plan.denominator_part),
        vec![(col(&s, "publication.jid"), Op::NotNull)]
    );
    // A side it cannot restrict is declined, not half read.
    let d = declined(&s, "ratio of authors with publications to authors");
    assert!(d.message.contains("ratio"), "{}", d.message);
}

#[test]
fn absence_is_not_exists_or_null() {
    let s = papers();
    let plan = p(&s, "Which authors are not part of any organization?");
    assert_eq!(plan.filters[0].column, col(&s, "author.oid"));
    assert_eq!(plan.filters[0].op, Op::IsNull);
    let s = billing();
    let plan = p(&s, "how many accounts have never had a ticket");
    assert_eq!(plan.without, s.catalog.find_table("billing.tickets"));
    let plan = p(&s, "how many tickets are still not closed");
    assert_eq!(
        (plan.filters[0].column, plan.filters[0].op),
        (col(&s, "tickets.closed_at"), Op::IsNull)
    );
}

#[test]
fn flags_text_matches_and_ranges() {
    let s = billing();
    let plan = p(&s, "how many active accounts in Japan");
    assert!(plan
        .filters
        .iter()
        .any(|f| f.column == col(&s, "accounts.is_active") && f.values == [Value::Bool(true)]));
    let plan = p(&s, "list the inactive accounts");
    assert!(plan
        .filters
        .iter()
        .any(|f| f.values == [Value::Bool(false)]));
    let plan = p(&s, "how many accounts whose company starts with 'Acme'");
    assert_eq!(plan.filters[0].op, Op::StartsWith);
    assert!(sql(&s, "how many accounts whose company contains '50%'").contains(r"E'%50\\%%'"));
    let plan = p(&s, "number of invoices between 500 and 2000 dollars");
    assert_eq!(plan.filters[0].column, col(&s, "invoices.amount_usd"));
    assert_eq!(plan.filters.len(), 2);
    let plan = p(&s, "how many invoices for more than 1000 dollars");
    assert_eq!(plan.filters[0].column, col(&s, "invoices.amount_usd"));
}

#[test]
fn values_follow_their_direction() {
    let s = billing();
    let plan = p(&s, "total amount of transfers from Germany to Japan");
    let f: Vec<ColRef> = plan.filters.iter().map(|f| f.column).collect();
    assert_eq!(
        f,
        vec![
            col(&s, "transfers.from_country"),
            col(&s, "transfers.to_country")
        ]
    );
}

#[test]
fn counts_through_relationships() {
    let s = billing();
    let plan = p(&s, "Which plans have more than 100 accounts?");
    assert_eq!(
        plan.measures,
        vec![Measure::Count(col(&s, "accounts.acct").table)]
    );
    assert_eq!(plan.having.map(|h| h.value), Some(100.0));
    // Each account's plan fee, summed over accounts: not each plan once.
    let sql = sql(&s, "sum of monthly fees of active accounts per country");
    assert!(sql.contains("FROM \"billing\".\"accounts\""), "{sql}");
}

#[test]
fn no_silent_wrong_answers() {
    let s = billing();
    // "average" is the aggregate, not the stored label 'Average'.
    let plan = p(&s, "average rating of reviews");
    assert!(plan.filters.is_empty(), "{:?}", plan.filters);
    // Averages keep full precision.
    assert!(!sql(&s, "average invoice amount").contains("ROUND"));
    // A table named but not joinable is declined, never dropped.
    let mut c = s.catalog.clone();
    c.relations
        .retain(|r| c.tables[r.from as usize].name != "tickets");
    let cut = Semantic::new(c);
    declined(&cut, "top 3 accounts by number of tickets");
    // Two columns fit a word equally: declined, naming both.
    let mut c = s.catalog.clone();
    let t = c.find_table("billing.reviews").unwrap() as usize;
    let copy = c.tables[t].columns[1].clone();
    c.tables[t].columns.push(copy);
    c.tables[t].columns[1].name = "clarity_score".into();
    c.tables[t].columns[3].name = "easiness_score".into();
    let two = Semantic::new(c);
    let d = declined(&two, "average scores of reviews");
    assert!(
        d.message.contains("clarity_score") && d.message.contains("easiness_score"),
        "{}",
        d.message
    );
}

#[test]
fn declines_agree_with_their_hints() {
    let mut c = billing().catalog;
    for t in &mut c.tables {
        t.name = format!("sb{}", t.name);
    }
    let s = Semantic::new(c);
    let d = declined(&s, "how many sbaccounts did the weather affect");
    for w in ["weather", "affect"] {
        assert!(d.message.contains(w), "{}", d.message);
        assert!(!d.hint.contains(&format!("\"{w}\" =")), "{}", d.hint);
    }
    // The suggested question is in the schema's words, without its shared prefix.
    let example = d.hint.split("try a question like").nth(1).unwrap_or("");
    assert!(!example.contains("sbaccounts"), "{}", d.hint);
}

#[test]
fn clock_words_use_the_databases_clock() {
    let s = billing();
    let plan = p(&s, "how many tickets opened today");
    let t = plan.time.expect("a range");
    assert_eq!(
        t.clock,
        Some(ClockPeriod {
            unit: Grain::Day,
            offset: 0
        })
    );
    let sql = sql(&s, "total invoiced this month");
    assert!(sql.contains("date_trunc('month', CURRENT_DATE)"), "{sql}");
    // Data-anchored ranges stay data-anchored.
    let plan = p(&s, "how many tickets in the last 3 months");
    let t = plan.time.expect("a range");
    assert_eq!((t.clock, t.start.as_str()), (None, "2024-10-01"));
}

#[test]
fn superlatives_everyday_words_and_keys() {
    let s = billing();
    let plan = p(&s, "the 3 invoices with the largest amount");
    assert_eq!(plan.intent, Intent::List);
    assert_eq!(plan.limit, Some(3));
    // A superlative with explicit sort words lists every row, sorted.
    let plan = p(
        &s,
        "list invoices with the largest amount, sorted in descending order",
    );
    assert_eq!(plan.limit, None);
    // "customers" is an everyday word for accounts.
    let plan = p(&s, "how many customers in Japan");
    assert_eq!(
        plan.measures,
        vec![Measure::Count(col(&s, "accounts.acct").table)]
    );
    // "author IDs" is the author's key.
    let s = papers();
    let plan = p(&s, "show all author IDs");
    assert!(plan
        .dimensions
        .iter()
        .any(|d| d.column == col(&s, "author.aid")));
}

#[test]
fn prefixed_names_read_without_their_prefix() {
    let mut c = schema(
        vec![
            table(
                "sbcustomer",
                &[
                    ("sbcustid", Integer),
                    ("sbcustname", Text),
                    ("sbcustcountry", Text),
                ],
            ),
            table(
                "sbtransaction",
                &[
                    ("sbtxid", Integer),
                    ("sbtxcustid", Integer),
                    ("sbtxprice", Decimal),
                ],
            ),
        ],
        "broker",
    );
    relate(&mut c, "sbtransaction.sbtxcustid", "sbcustomer.sbcustid");
    values(&mut c, "sbcustomer.sbcustcountry", &["Canada", "USA"]);
    c.seal();
    let s = Semantic::new(c);
    let plan = p(&s, "average transaction price by country");
    assert_eq!(
        plan.measures,
        vec![Measure::Aggregate {
            agg: Agg::Avg,
            column: col(&s, "sbtransaction.sbtxprice")
        }]
    );
    let d = declined(&s, "how many customers did the weather affect");
    let example = d.hint.split("try a question like").nth(1).unwrap_or("");
    assert!(
        example.contains("customer") && !example.contains("sbcust"),
        "{}",
        d.hint
    );
}
