//! The leak suite: adversarial SQL run through the proxy as `alice` (role `analyst_west` of
//! `policies/example.toml`, region 3) against the retail dataset. Every attack in
//! `tests/leak/*.leak` must be refused with its expected SQLSTATE or return only rows that
//! respect the row filters and hold no raw masked or denied value (see tests/leak/README.md).
//! The other tests check that the guard does not over-block and that `admin` (trusted) sees
//! raw data.

mod common;
mod leak;

use leak::{Env, Mode, RunOut, Truth};
use std::collections::{BTreeMap, HashMap, HashSet};
use tokio_postgres::SimpleQueryMessage;

async fn rows(c: &tokio_postgres::Client, sql: &str) -> Vec<Vec<Option<String>>> {
    let mut out = Vec::new();
    for m in c.simple_query(sql).await.unwrap_or_else(|e| {
        panic!(
            "`{sql}` was refused or failed: {}",
            leak::ErrInfo::from(&e).text
        )
    }) {
        if let SimpleQueryMessage::Row(r) = m {
            out.push((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect());
        }
    }
    out
}

async fn scalar(c: &tokio_postgres::Client, sql: &str) -> String {
    rows(c, sql).await[0][0].clone().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn leak_suite() {
    let env = Env::start().await;
    let entries = leak::load_entries(&common::repo().join("tests/leak"));
    assert!(
        entries.len() >= 60,
        "the suite must hold at least 60 attacks, found {}",
        entries.len()
    );
    let results = leak::run_all(env.proxy.port, env.truth.clone(), entries.clone()).await;

    let mut per_cat: BTreeMap<String, (HashSet<String>, usize, usize)> = BTreeMap::new();
    let mut classes: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for (e, mode, r) in &results {
        let cat = per_cat.entry(e.category.clone()).or_default();
        cat.0.insert(e.name.clone());
        match r {
            Ok(summary) => {
                cat.1 += 1;
                println!("ok   {:<40} [{}] {summary}", e.name, mode.name());
            }
            Err(why) => {
                cat.2 += 1;
                let class = why.split(':').next().unwrap_or("").to_string();
                *classes.entry(class).or_default() += 1;
                failures.push(format!(
                    "FAIL {:<40} [{}] ({}:{}) {why}",
                    e.name,
                    mode.name(),
                    e.file,
                    e.line
                ));
            }
        }
    }
    println!("\nper category: attacks / runs passed / runs failed");
    for (cat, (names, ok, bad)) in &per_cat {
        println!("  {cat:<12} {:>3} {:>4} {:>4}", names.len(), ok, bad);
    }
    if !failures.is_empty() {
        for f in &failures {
            println!("{f}");
        }
        panic!(
            "{} of {} runs ({} attacks) failed: {:?}\n{}",
            failures.len(),
            results.len(),
            entries.len(),
            classes,
            failures
                .iter()
                .take(40)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// The .leak files parse and every entry is well formed (no proxy needed).
#[test]
fn leak_files_parse() {
    let entries = leak::load_entries(&common::repo().join("tests/leak"));
    assert!(entries.len() >= 60);
    for e in &entries {
        assert!(!e.category.is_empty(), "{} has no category", e.name);
        if e.modes.contains(&Mode::Simple) {
            assert!(e.params.is_empty(), "{}: params need mode extended", e.name);
        }
    }
}

/// The judge catches what it should, on synthetic answers (no proxy needed).
#[tokio::test]
async fn judge_self_test() {
    leak::ensure_dataset().await;
    let truth = Truth::load().await;
    let e = &leak::parse_entries(
        "self",
        "=== t\ncategory: self\nrefuse: 42501\ncheck: store_id in stores\nSELECT 1\n",
    )[0];
    let set = |cols: &[&str], rows: Vec<Vec<&str>>| leak::ResultSet {
        columns: cols.iter().map(|c| c.to_string()).collect(),
        rows: rows
            .into_iter()
            .map(|r| r.into_iter().map(|c| Some(c.to_string())).collect())
            .collect(),
    };
    let out = |s: leak::ResultSet| RunOut {
        sets: vec![s],
        ..Default::default()
    };
    let c = &truth.customers[0];
    let other = truth.vars["other_store"].clone();
    let ok = truth.vars["allowed_store"].clone();
    assert!(leak::judge(&truth, e, &out(set(&["store_id"], vec![vec![&ok]])), None).is_ok());
    let bad = leak::judge(
        &truth,
        e,
        &out(set(&["store_id"], vec![vec![&other]])),
        None,
    );
    assert!(bad.unwrap_err().starts_with("ROW FILTER"));
    let leak_email = format!("x,{},y", c.email.to_uppercase());
    let r = leak::judge(&truth, e, &out(set(&["a"], vec![vec![&leak_email]])), None);
    assert!(
        r.unwrap_err().starts_with("LEAK"),
        "emails, case-insensitive"
    );
    let hex = format!(
        "\\x{}",
        c.email
            .bytes()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let r = leak::judge(&truth, e, &out(set(&["a"], vec![vec![&hex]])), None);
    assert!(r.unwrap_err().starts_with("LEAK"), "bytea hex");
    let sal = format!("(1,1,\"x\",{})", truth.salaries_by_employee[&1]);
    let r = leak::judge(&truth, e, &out(set(&["a"], vec![vec![&sal]])), None);
    assert!(r.unwrap_err().starts_with("LEAK"), "salary token");
    let mut o = RunOut {
        error: Some(leak::ErrInfo {
            code: "42501".into(),
            text: "ERROR: permission denied".into(),
        }),
        ..Default::default()
    };
    assert!(leak::judge(&truth, e, &o, None).is_ok());
    o.error.as_mut().unwrap().code = "42P01".into();
    assert!(leak::judge(&truth, e, &o, None)
        .unwrap_err()
        .starts_with("WRONG SQLSTATE"));
    // numeric binary decoding: 81400.00 = weight 1, digits [8, 1400], dscale 2
    let raw = [0u8, 2, 0, 1, 0, 0, 0, 2, 0, 8, 0x05, 0x78];
    assert_eq!(leak::numeric_text(&raw), "81400.00");
    assert_eq!(Truth::partial("(212) 555-8383"), "**********8383");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_filters_do_not_over_block() {
    let env = Env::start().await;
    let t = &env.truth;
    let a = env.alice(None).await.expect("alice logs in");
    assert_eq!(
        scalar(&a.client, "SELECT count(*) FROM retail.stores").await,
        t.stores.len().to_string(),
        "alice sees exactly the region-3 stores"
    );
    assert_eq!(
        scalar(&a.client, "SELECT count(*) FROM retail.orders").await,
        t.orders.len().to_string(),
        "alice sees exactly the orders of region-3 stores"
    );
    let ids: HashSet<i64> = rows(&a.client, "SELECT store_id FROM retail.stores")
        .await
        .into_iter()
        .map(|r| r[0].as_ref().unwrap().parse().unwrap())
        .collect();
    assert_eq!(ids, t.stores);
    // Unfiltered tables stay whole.
    assert_eq!(
        scalar(&a.client, "SELECT count(*) FROM retail.employees").await,
        t.total_employees.to_string()
    );
    // Unqualified names after SET search_path.
    rows(&a.client, "SET search_path = retail, public").await;
    assert_eq!(
        scalar(&a.client, "SELECT count(*) FROM stores").await,
        t.stores.len().to_string()
    );
    // Extended protocol with a parameter.
    let st = a
        .client
        .prepare("SELECT count(*) FROM retail.stores WHERE region_id = $1::int")
        .await
        .expect("prepare through the proxy");
    for (region, want) in [(3, t.stores.len() as i64), (1, 0)] {
        let n: i64 = a.client.query_one(&st, &[&region]).await.unwrap().get(0);
        assert_eq!(n, want, "region {region}");
    }
    let n: i64 = a
        .client
        .query_one("SELECT count(*) FROM retail.orders", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n as usize, t.orders.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn masks_are_applied_exactly() {
    let env = Env::start().await;
    let t = &env.truth;
    let raw: HashMap<i64, &leak::Customer> = t.customers.iter().map(|c| (c.id, c)).collect();
    let read = |rows: Vec<Vec<Option<String>>>| -> HashMap<i64, Vec<Option<String>>> {
        rows.into_iter()
            .map(|r| (r[0].as_ref().unwrap().parse().unwrap(), r[1..].to_vec()))
            .collect()
    };
    let a = env.alice(None).await.expect("alice logs in");
    let q = "SELECT customer_id, name, email, phone FROM retail.customers";
    let first = read(rows(&a.client, q).await);
    assert_eq!(
        first.len(),
        t.customers.len(),
        "customers are not row-filtered"
    );
    let mut hashes = HashSet::new();
    for (id, cells) in &first {
        let c = raw[id];
        assert_eq!(
            cells[0].as_deref(),
            Some("***"),
            "name of customer {id} is redacted"
        );
        let h = cells[1].as_deref().expect("email is not NULL");
        assert!(
            h.len() >= 16 && h.bytes().all(|b| b.is_ascii_hexdigit()),
            "email of customer {id} is a hex hash, got {h:?}"
        );
        assert!(!h.eq_ignore_ascii_case(&c.email));
        hashes.insert(h.to_string());
        match (&c.phone, &cells[2]) {
            (None, None) => {}
            (Some(p), Some(m)) => {
                assert_eq!(
                    *m,
                    Truth::partial(p),
                    "phone of customer {id}: last 4 kept, rest '*'"
                )
            }
            (p, m) => panic!("phone of customer {id}: raw {p:?}, masked {m:?}"),
        }
    }
    let distinct: HashSet<&str> = t.customers.iter().map(|c| c.email.as_str()).collect();
    assert_eq!(
        hashes.len(),
        distinct.len(),
        "distinct emails give distinct hashes"
    );
    // Stable: the same in another session, and over the extended protocol.
    let b = env.alice(None).await.unwrap();
    let second = read(rows(&b.client, q).await);
    for (id, cells) in &first {
        assert_eq!(cells[1], second[id][1], "hash of customer {id} is stable");
    }
    let id = t.customers[0].id as i32;
    let ext = b
        .client
        .query_one(
            "SELECT email, email FROM retail.customers WHERE customer_id = $1",
            &[&id],
        )
        .await
        .unwrap();
    let e1: String = ext.get(0);
    let e2: String = ext.get(1);
    assert_eq!(Some(&e1), first[&(id as i64)][1].as_ref());
    assert_eq!(e1, e2, "equal emails hash equally");
    // Equal emails give equal hashes across rows as well.
    let pair = rows(
        &b.client,
        &format!(
            "SELECT a.email, b.email FROM retail.customers a, retail.customers b \
             WHERE a.customer_id = {id} AND b.customer_id = {id}"
        ),
    )
    .await;
    assert_eq!(pair[0][0], pair[0][1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_column_is_hidden_not_the_table() {
    let env = Env::start().await;
    let t = &env.truth;
    let a = env.alice(None).await.expect("alice logs in");
    let mut cols = Vec::new();
    let mut n = 0;
    for m in a
        .client
        .simple_query("SELECT * FROM retail.employees")
        .await
        .expect("SELECT * FROM retail.employees works")
    {
        match m {
            SimpleQueryMessage::RowDescription(c) => {
                cols = c.iter().map(|c| c.name().to_string()).collect()
            }
            SimpleQueryMessage::Row(_) => n += 1,
            _ => {}
        }
    }
    assert_eq!(
        cols,
        ["employee_id", "store_id", "name", "title", "hire_date"],
        "every employees column but salary"
    );
    assert_eq!(n, t.total_employees);
    let st = a
        .client
        .prepare("SELECT * FROM retail.employees")
        .await
        .unwrap();
    assert!(st.columns().iter().all(|c| c.name() != "salary"));
    let e = a
        .client
        .simple_query("SELECT salary FROM retail.employees")
        .await
        .expect_err("an explicit salary reference is refused");
    assert_eq!(e.code().map(|c| c.code()), Some("42501"));
    // The catalogs stay usable: the readable columns are listed, salary is not.
    let listed: Vec<String> = rows(
        &a.client,
        "SELECT table_name || '.' || column_name FROM information_schema.columns \
         WHERE table_schema = 'retail' AND table_name IN ('employees', 'customers')",
    )
    .await
    .into_iter()
    .map(|r| r[0].clone().unwrap())
    .collect();
    for want in [
        "employees.employee_id",
        "employees.name",
        "customers.email",
        "customers.phone",
    ] {
        assert!(
            listed.iter().any(|l| l == want),
            "{want} listed: {listed:?}"
        );
    }
    assert!(!listed.iter().any(|l| l == "employees.salary"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trusted_admin_sees_raw_data() {
    let env = Env::start().await;
    let t = &env.truth;
    let a = env.admin().await.expect("admin logs in");
    let c = &t.customers[0];
    let got = rows(
        &a.client,
        &format!(
            "SELECT name, email, phone FROM retail.customers WHERE customer_id = {}",
            c.id
        ),
    )
    .await;
    assert_eq!(got[0][0].as_deref(), Some(c.name.as_str()));
    assert_eq!(got[0][1].as_deref(), Some(c.email.as_str()));
    assert_eq!(got[0][2], c.phone);
    assert_eq!(
        scalar(
            &a.client,
            "SELECT salary FROM retail.employees WHERE employee_id = 1"
        )
        .await,
        t.salaries_by_employee[&1]
    );
    assert_eq!(
        scalar(&a.client, "SELECT count(*) FROM retail.stores").await,
        t.total_stores.to_string()
    );
    assert_eq!(
        scalar(&a.client, "SELECT count(*) FROM retail.orders").await,
        t.total_orders.to_string()
    );
}
