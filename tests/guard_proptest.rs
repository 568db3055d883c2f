//! Property test of the guard: random SELECTs over the retail schema (tables joined on their
//! foreign keys, projections with masked, filtered and denied columns and `*`, WHERE
//! predicates with OR/AND/NOT and subqueries, UNIONs with the raw tables, scalar subqueries)
//! run through the proxy as alice. Each must be refused (42501/42601) or return rows that
//! respect the row filters and masks and contain no forbidden value; a query that names
//! `salary` must be refused. 64 cases from a fixed seed.

mod common;
mod leak;

use leak::{Entry, Env, Mode};
use proptest::collection::vec;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

#[derive(Clone, Copy, PartialEq)]
enum K {
    Plain,
    Int,
    Text,
    StoreF,
    OrderF,
    RegionF,
    Email,
    Phone,
    CName,
    Salary,
}

const TABLES: &[(&str, &[(&str, K)])] = &[
    (
        "stores",
        &[
            ("store_id", K::StoreF),
            ("name", K::Text),
            ("city", K::Text),
            ("region_id", K::RegionF),
            ("opened_on", K::Plain),
            ("size_sqft", K::Int),
        ],
    ),
    (
        "customers",
        &[
            ("customer_id", K::Int),
            ("name", K::CName),
            ("email", K::Email),
            ("phone", K::Phone),
            ("segment", K::Text),
            ("signup_date", K::Plain),
            ("city", K::Text),
            ("region_id", K::Int),
            ("loyalty_tier", K::Text),
        ],
    ),
    (
        "orders",
        &[
            ("order_id", K::OrderF),
            ("customer_id", K::Int),
            ("store_id", K::StoreF),
            ("order_date", K::Plain),
            ("channel", K::Text),
            ("status", K::Text),
            ("payment_method", K::Text),
        ],
    ),
    (
        "order_items",
        &[
            ("order_item_id", K::Int),
            ("order_id", K::Int),
            ("product_id", K::Int),
            ("quantity", K::Int),
            ("unit_price", K::Plain),
            ("discount", K::Plain),
        ],
    ),
    (
        "employees",
        &[
            ("employee_id", K::Int),
            ("store_id", K::Int),
            ("name", K::Text),
            ("title", K::Text),
            ("hire_date", K::Plain),
            ("salary", K::Salary),
        ],
    ),
    (
        "products",
        &[
            ("product_id", K::Int),
            ("name", K::Text),
            ("category_id", K::Int),
            ("brand", K::Text),
            ("unit_price", K::Plain),
        ],
    ),
    ("regions", &[("region_id", K::Int), ("name", K::Text)]),
    (
        "returns",
        &[
            ("return_id", K::Int),
            ("order_id", K::Int),
            ("reason", K::Text),
            ("refund_amount", K::Plain),
        ],
    ),
];

/// Foreign keys: (table, column, referenced table, column).
const EDGES: &[(&str, &str, &str, &str)] = &[
    ("orders", "customer_id", "customers", "customer_id"),
    ("orders", "store_id", "stores", "store_id"),
    ("order_items", "order_id", "orders", "order_id"),
    ("order_items", "product_id", "products", "product_id"),
    ("employees", "store_id", "stores", "store_id"),
    ("stores", "region_id", "regions", "region_id"),
    ("returns", "order_id", "orders", "order_id"),
];

fn cols(table: &str) -> &'static [(&'static str, K)] {
    TABLES.iter().find(|t| t.0 == table).unwrap().1
}

/// Consumes the random "tape"; 0 is always the simplest choice, so shrinking simplifies.
struct Tape<'a> {
    t: &'a [u32],
    i: usize,
}

impl Tape<'_> {
    fn pick(&mut self, n: usize) -> usize {
        let v = self.t.get(self.i).copied().unwrap_or(0) as usize;
        self.i += 1;
        v % n.max(1)
    }
}

struct Query {
    sql: String,
    checks: Vec<String>,
    names_salary: bool,
    derived_star: bool,
}

fn check_for(col: &str, k: K) -> Option<String> {
    match k {
        K::StoreF => Some(format!("{col} in stores")),
        K::OrderF => Some(format!("{col} in orders")),
        K::RegionF => Some(format!("{col} in regions")),
        K::Email => Some(format!("{col} is hash")),
        K::Phone => Some(format!("{col} is partial")),
        K::CName => Some(format!("{col} is redact")),
        _ => None,
    }
}

fn leaf(tape: &mut Tape, from: &[(&'static str, String)], q: &mut Query) -> String {
    let (table, alias) = &from[tape.pick(from.len())];
    let cs = cols(table);
    let (c, k) = cs[tape.pick(cs.len())];
    match tape.pick(9) {
        0 => "TRUE".into(),
        1 => "1 = 1".into(),
        2 => "EXISTS (SELECT 1 FROM retail.stores s WHERE s.region_id <> 3)".into(),
        3 => "EXISTS (SELECT 1 FROM retail.orders o WHERE o.store_id IN (1, 2, 9, 12))".into(),
        _ => match k {
            K::Int | K::StoreF | K::OrderF | K::RegionF => match tape.pick(3) {
                0 => format!("{alias}.{c} > {}", tape.pick(50)),
                1 => format!("{alias}.{c} <> 3"),
                _ => format!(
                    "{alias}.{c} IN (SELECT store_id FROM retail.stores WHERE region_id = {})",
                    1 + tape.pick(5)
                ),
            },
            K::Salary => {
                q.names_salary = true;
                format!("{alias}.{c} > 40000")
            }
            K::Plain => format!("{alias}.{c} IS NOT NULL"),
            K::Email => format!("{alias}.{c} LIKE '%@%'"),
            K::Phone => format!("{alias}.{c} LIKE '(%'"),
            K::CName | K::Text => format!("{alias}.{c} LIKE '%a%'"),
        },
    }
}

fn pred(tape: &mut Tape, from: &[(&'static str, String)], q: &mut Query, depth: u32) -> String {
    if depth >= 2 {
        return leaf(tape, from, q);
    }
    match tape.pick(5) {
        0 | 1 => leaf(tape, from, q),
        2 => format!(
            "({} OR {})",
            pred(tape, from, q, depth + 1),
            pred(tape, from, q, depth + 1)
        ),
        3 => format!(
            "({} AND {})",
            pred(tape, from, q, depth + 1),
            pred(tape, from, q, depth + 1)
        ),
        _ => format!("NOT ({})", pred(tape, from, q, depth + 1)),
    }
}

fn build(t: &[u32], truth: &leak::Truth) -> Query {
    let mut tape = Tape { t, i: 0 };
    let mut q = Query {
        sql: String::new(),
        checks: Vec::new(),
        names_salary: false,
        derived_star: false,
    };
    // FROM: a root table and up to two more joined on foreign keys.
    let root = TABLES[tape.pick(TABLES.len())].0;
    let mut from: Vec<(&'static str, String)> = vec![(root, "t0".into())];
    let mut from_sql = if tape.pick(4) == 0 {
        q.derived_star = true;
        format!("(SELECT * FROM retail.{root}) t0")
    } else {
        format!("retail.{root} t0")
    };
    for _ in 0..tape.pick(3) {
        let cands: Vec<(&str, &str, &str, &str, String)> = EDGES
            .iter()
            .flat_map(|&(a, ac, b, bc)| {
                let mut v = Vec::new();
                for (tbl, alias) in &from {
                    if *tbl == a && !from.iter().any(|f| f.0 == b) {
                        v.push((b, bc, a, ac, alias.clone()));
                    }
                    if *tbl == b && !from.iter().any(|f| f.0 == a) {
                        v.push((a, ac, b, bc, alias.clone()));
                    }
                }
                v
            })
            .collect();
        if cands.is_empty() {
            break;
        }
        let (new, new_col, _old, old_col, old_alias) = cands[tape.pick(cands.len())].clone();
        let alias = format!("t{}", from.len());
        let join = ["JOIN", "LEFT JOIN"][tape.pick(2)];
        from_sql.push_str(&format!(
            " {join} retail.{new} {alias} ON {alias}.{new_col} = {old_alias}.{old_col}"
        ));
        from.push((new, alias));
    }
    // Projection: one table's *, or a few columns, plus maybe a scalar subquery.
    let mut proj = Vec::new();
    if tape.pick(4) == 0 {
        let (table, alias) = &from[tape.pick(from.len())];
        proj.push(format!("{alias}.*"));
        for &(c, k) in cols(table) {
            q.checks.extend(check_for(c, k));
        }
    } else {
        for i in 0..1 + tape.pick(4) {
            let (table, alias) = &from[tape.pick(from.len())];
            let cs = cols(table);
            let (c, k) = cs[tape.pick(cs.len())];
            if k == K::Salary {
                q.names_salary = true;
            }
            proj.push(format!("{alias}.{c} AS c{i}"));
            q.checks.extend(check_for(&format!("c{i}"), k));
        }
    }
    match tape.pick(6) {
        1 => {
            proj.push("(SELECT count(*) FROM retail.stores) AS sq".into());
            q.checks.push(format!("sq = {}", truth.stores.len()));
        }
        2 => {
            proj.push("(SELECT count(*) FROM retail.orders WHERE true) AS sq".into());
            q.checks.push(format!("sq = {}", truth.orders.len()));
        }
        3 => {
            proj.push("(SELECT max(email) FROM retail.customers) AS sq".into());
            q.checks.push("sq is hash".into());
        }
        4 => {
            proj.push(
                "(SELECT min(store_id) FROM retail.stores WHERE region_id <> 3) AS sq".into(),
            );
            q.checks.push("sq in stores".into());
        }
        5 => {
            proj.push("(SELECT max(salary) FROM retail.employees) AS sq".into());
            q.names_salary = true;
        }
        _ => {}
    }
    let proj = proj.join(", ");
    let mut sql = format!("SELECT {proj} FROM {from_sql}");
    if tape.pick(3) != 0 {
        sql.push_str(&format!(" WHERE {}", pred(&mut tape, &from, &mut q, 0)));
    }
    if tape.pick(3) == 0 {
        // The same projection again over the raw tables, unfiltered.
        let raw_from = from_sql.replace(
            &format!("(SELECT * FROM retail.{root}) t0"),
            &format!("retail.{root} t0"),
        );
        let op = ["UNION", "UNION ALL", "INTERSECT", "EXCEPT"][tape.pick(4)];
        sql = format!("({sql}) {op} (SELECT {proj} FROM {raw_from})");
    }
    sql.push_str(" LIMIT 300");
    q.sql = sql;
    q
}

#[test]
fn random_selects_never_leak() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let env = rt.block_on(Env::start());
    let truth = env.truth.clone();
    let port = env.proxy.port;
    let config = Config {
        cases: 64,
        failure_persistence: None,
        max_shrink_iters: 256,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &[0x51u8; 32]),
    );
    let stats = std::sync::Mutex::new((0usize, 0usize));
    let result = runner.run(&vec(0u32..1024, 64), |tape| {
        let q = build(&tape, &truth);
        let mut refuse = vec!["42501".to_string(), "42601".to_string()];
        if q.names_salary && q.derived_star {
            // salary through `(SELECT * FROM retail.employees) t0`: the derived table lacks it.
            refuse.push("42703".into());
        }
        let entry = Entry {
            file: "guard_proptest".into(),
            line: 0,
            name: "random".into(),
            category: "random".into(),
            sql: q.sql.clone(),
            refuse,
            must_refuse: q.names_salary,
            checks: q.checks.clone(),
            setup: Vec::new(),
            forbid: Vec::new(),
            modes: Vec::new(),
            params: Vec::new(),
            options: None,
        };
        let mode = if tape.first().copied().unwrap_or(0) % 2 == 0 {
            Mode::Simple
        } else {
            Mode::Extended
        };
        match rt.block_on(leak::run_entry(port, &truth, &entry, mode)) {
            Ok(summary) => {
                let mut s = stats.lock().unwrap();
                if summary.starts_with("refused") {
                    s.1 += 1;
                } else {
                    s.0 += 1;
                }
                Ok(())
            }
            Err(why) => Err(TestCaseError::fail(format!(
                "{why}\n  [{}] {}",
                mode.name(),
                q.sql
            ))),
        }
    });
    let (answered, refused) = *stats.lock().unwrap();
    println!("random queries: {answered} answered within policy, {refused} refused");
    if let Err(e) = result {
        panic!("the guard leaked on a random query (shrunk):\n{e}");
    }
}
