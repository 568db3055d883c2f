//! The leak-suite harness shared by `tests/leak_suite.rs` and `tests/guard_proptest.rs`:
//! loads the retail dataset, starts the proxy with `policies/`, computes the ground truth from
//! a direct connection, runs statements through the proxy (simple Query, extended Parse/Bind,
//! COPY TO STDOUT) and judges the answers: a refusal with an expected SQLSTATE, or rows that
//! respect the row filters and contain none of the forbidden values.
//!
//! The attacks themselves live in `tests/leak/*.leak` (format described in
//! `tests/leak/README.md`).
#![allow(dead_code)]

use crate::common::{self, Proxy};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_postgres::types::{Format, FromSql, IsNull, Kind, ToSql, Type};
use tokio_postgres::{AsyncMessage, Client, NoTls, SimpleQueryMessage};

/// The database the suite loads the retail dataset into.
pub const DB: &str = "querent_retail";
/// alice: role analyst_west, region 3.
pub const ALICE: &str = "alice";
pub const ALICE_PW: &str = "wonderland-leak";
/// admin: role admin (trusted).
pub const ADMIN: &str = "admin";
pub const ADMIN_PW: &str = "admin-leak-pw";
/// The region alice may see.
pub const REGION: i64 = 3;
/// How long one statement may take through the proxy before it counts as "not refused".
pub const STATEMENT_DEADLINE: Duration = Duration::from_secs(15);

// ---------------------------------------------------------------------------------------------
// Dataset and proxy
// ---------------------------------------------------------------------------------------------

fn direct_dsn_db(db: &str) -> String {
    format!(
        "host={} port={} user={} dbname={db}",
        common::PG_HOST,
        common::PG_PORT,
        common::PG_USER
    )
}

/// Loads `../shared/bench/retail/retail.sql` into `querent_retail` once. Concurrent test
/// processes serialize on a session advisory lock taken in database `postgres`.
pub async fn ensure_dataset() {
    let admin = common::connect(&direct_dsn_db("postgres"))
        .await
        .expect("direct connection to PostgreSQL (database postgres)");
    admin
        .simple_query("SELECT pg_advisory_lock(74656171)")
        .await
        .unwrap();
    let exists = !admin
        .simple_query(&format!("SELECT 1 FROM pg_database WHERE datname = '{DB}'"))
        .await
        .unwrap()
        .iter()
        .all(|m| !matches!(m, SimpleQueryMessage::Row(_)));
    if !exists {
        admin
            .simple_query(&format!("CREATE DATABASE {DB}"))
            .await
            .unwrap();
    }
    let db = common::connect(&direct_dsn_db(DB)).await.unwrap();
    // The file loads in one transaction (BEGIN ... COMMIT), so the last table existing means
    // the whole load committed.
    let loaded = first_cell(&db, "SELECT to_regclass('retail.returns') IS NOT NULL").await;
    if loaded.as_deref() != Some("t") {
        let sql = common::repo().join("../shared/bench/retail/retail.sql");
        let out = Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", common::PG_HOST])
            .args([
                "-p",
                &common::PG_PORT.to_string(),
                "-U",
                common::PG_USER,
                "-d",
                DB,
            ])
            .arg("-f")
            .arg(&sql)
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "loading {} failed: {}",
            sql.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // pg_stats must have something to leak for the statistics attacks to mean anything.
    let stats = first_cell(
        &db,
        "SELECT count(*) FROM pg_stats WHERE schemaname = 'retail' AND tablename = 'customers'",
    )
    .await;
    if stats.as_deref() == Some("0") {
        db.simple_query("ANALYZE retail.customers; ANALYZE retail.employees; ANALYZE retail.stores; ANALYZE retail.orders")
            .await
            .unwrap();
    }
    admin
        .simple_query("SELECT pg_advisory_unlock(74656171)")
        .await
        .unwrap();
}

async fn first_cell(c: &Client, sql: &str) -> Option<String> {
    for m in c.simple_query(sql).await.unwrap() {
        if let SimpleQueryMessage::Row(r) = m {
            return r.get(0).map(str::to_string);
        }
    }
    None
}

/// Creates a users file with alice (analyst_west, region_id=3) and admin (admin) through the
/// real `querent user add` command.
pub fn users_file() -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("querent-leak-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("users.toml");
    let _ = std::fs::remove_file(&path);
    let add = |args: &[&str]| {
        let st = Command::new(env!("CARGO_BIN_EXE_querent"))
            .args(["user", "add"])
            .args(&args[..1])
            .arg("--users")
            .arg(&path)
            .args(&args[1..])
            .status()
            .expect("run querent user add");
        assert!(st.success(), "querent user add {args:?} failed");
    };
    add(&[
        ALICE,
        "--password",
        ALICE_PW,
        "--role",
        "analyst_west",
        "--attr",
        "region_id=3",
    ]);
    add(&[ADMIN, "--password", ADMIN_PW, "--role", "admin"]);
    path
}

/// Everything a test needs: the running proxy and the ground truth.
pub struct Env {
    pub proxy: Proxy,
    pub users: PathBuf,
    pub truth: Arc<Truth>,
}

impl Env {
    pub async fn start() -> Env {
        ensure_dataset().await;
        let users = users_file();
        // LEAK_SUITE_POLICIES=<dir> runs the suite against other policies (e.g. a control run
        // where analyst_west is trusted, to see the suite catch leaks).
        let policies = std::env::var("LEAK_SUITE_POLICIES").unwrap_or_else(|_| "policies".into());
        let proxy = Proxy::start(&[
            "--policies",
            &policies,
            "--auth",
            "scram",
            "--users",
            users.to_str().unwrap(),
        ]);
        let truth = Arc::new(Truth::load().await);
        Env {
            proxy,
            users,
            truth,
        }
    }

    pub async fn alice(&self, options: Option<&str>) -> Result<Conn, tokio_postgres::Error> {
        connect_proxy(self.proxy.port, ALICE, ALICE_PW, options).await
    }

    pub async fn admin(&self) -> Result<Conn, tokio_postgres::Error> {
        connect_proxy(self.proxy.port, ADMIN, ADMIN_PW, None).await
    }
}

/// A client connection whose notices are kept (a notice can leak as well as a row).
pub struct Conn {
    pub client: Client,
    pub notices: Arc<Mutex<Vec<String>>>,
}

pub async fn connect_proxy(
    port: u16,
    user: &str,
    password: &str,
    options: Option<&str>,
) -> Result<Conn, tokio_postgres::Error> {
    let mut cfg = tokio_postgres::Config::new();
    cfg.host("127.0.0.1")
        .port(port)
        .user(user)
        .password(password)
        .dbname(DB)
        .connect_timeout(Duration::from_secs(10));
    if let Some(o) = options {
        cfg.options(o);
    }
    let (client, mut conn) = cfg.connect(NoTls).await?;
    let notices = Arc::new(Mutex::new(Vec::new()));
    let sink = notices.clone();
    tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| conn.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notice(n))) => sink.lock().unwrap().push(format!(
                    "{} {} {} {}",
                    n.message(),
                    n.detail().unwrap_or(""),
                    n.hint().unwrap_or(""),
                    n.where_().unwrap_or("")
                )),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break,
            }
        }
    });
    Ok(Conn { client, notices })
}

pub async fn direct() -> Client {
    common::connect(&direct_dsn_db(DB))
        .await
        .expect("direct connection")
}

/// All rows of `sql` on the direct connection, as text.
pub async fn direct_rows(c: &Client, sql: &str) -> Vec<Vec<Option<String>>> {
    let mut rows = Vec::new();
    for m in c
        .simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    {
        if let SimpleQueryMessage::Row(r) = m {
            rows.push((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect());
        }
    }
    rows
}

// ---------------------------------------------------------------------------------------------
// Ground truth
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
pub struct Customer {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
}

/// What alice may see and the values she must never see, read from a direct connection.
pub struct Truth {
    /// store_ids of region 3.
    pub stores: HashSet<i64>,
    /// order_ids of orders in region-3 stores.
    pub orders: HashSet<i64>,
    pub total_stores: usize,
    pub total_orders: usize,
    pub total_employees: usize,
    pub customers: Vec<Customer>,
    /// employee_id -> salary text.
    pub salaries_by_employee: HashMap<i64, String>,
    /// Salary values as PostgreSQL prints them ("81400.00").
    pub salaries: HashSet<String>,
    /// Forbidden strings found anywhere by substring (emails, full phones, phone local parts,
    /// customer names); `kinds[i]` says which.
    pub ac: AhoCorasick,
    pub kinds: Vec<(&'static str, String)>,
    /// Variables for `${...}` in the .leak files.
    pub vars: HashMap<String, String>,
}

impl Truth {
    pub async fn load() -> Truth {
        let c = direct().await;
        let ids = |rows: Vec<Vec<Option<String>>>| -> HashSet<i64> {
            rows.into_iter()
                .map(|r| r[0].as_ref().unwrap().parse().unwrap())
                .collect()
        };
        let stores = ids(direct_rows(
            &c,
            &format!("SELECT store_id FROM retail.stores WHERE region_id = {REGION}"),
        )
        .await);
        let orders = ids(direct_rows(&c, &format!("SELECT order_id FROM retail.orders WHERE store_id IN (SELECT store_id FROM retail.stores WHERE region_id = {REGION})")).await);
        let count = |rows: Vec<Vec<Option<String>>>| -> usize {
            rows[0][0].as_ref().unwrap().parse().unwrap()
        };
        let total_stores = count(direct_rows(&c, "SELECT count(*) FROM retail.stores").await);
        let total_orders = count(direct_rows(&c, "SELECT count(*) FROM retail.orders").await);
        let total_employees = count(direct_rows(&c, "SELECT count(*) FROM retail.employees").await);
        let customers: Vec<Customer> = direct_rows(
            &c,
            "SELECT customer_id, name, email, phone FROM retail.customers ORDER BY customer_id",
        )
        .await
        .into_iter()
        .map(|r| Customer {
            id: r[0].as_ref().unwrap().parse().unwrap(),
            name: r[1].clone().unwrap(),
            email: r[2].clone().unwrap(),
            phone: r[3].clone(),
        })
        .collect();
        let salaries_by_employee: HashMap<i64, String> =
            direct_rows(&c, "SELECT employee_id, salary FROM retail.employees")
                .await
                .into_iter()
                .map(|r| {
                    (
                        r[0].as_ref().unwrap().parse().unwrap(),
                        r[1].clone().unwrap(),
                    )
                })
                .collect();
        let salaries: HashSet<String> = salaries_by_employee.values().cloned().collect();

        // Text alice may legitimately see; a customer name that occurs in it (as a whole word
        // sequence) cannot be told apart from allowed data and is not used as a marker.
        let allowed_text: Vec<String> = direct_rows(
            &c,
            "SELECT name FROM retail.employees UNION SELECT title FROM retail.employees \
             UNION SELECT name FROM retail.stores UNION SELECT city FROM retail.stores \
             UNION SELECT name FROM retail.products UNION SELECT brand FROM retail.products \
             UNION SELECT name FROM retail.categories UNION SELECT name FROM retail.regions \
             UNION SELECT city FROM retail.customers UNION SELECT segment FROM retail.customers \
             UNION SELECT loyalty_tier FROM retail.customers UNION SELECT reason FROM retail.returns",
        )
        .await
        .into_iter()
        .filter_map(|r| r[0].clone())
        .collect();
        let mut names: Vec<String> = customers
            .iter()
            .map(|c| c.name.clone())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        names.sort();
        let name_ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .build(&names)
            .unwrap();
        let mut shadowed = HashSet::new();
        for t in &allowed_text {
            for m in name_ac.find_overlapping_iter(t.as_str()) {
                if word_bounded(t, m.start(), m.end()) {
                    shadowed.insert(m.pattern().as_usize());
                }
            }
        }
        let names: Vec<String> = names
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !shadowed.contains(i))
            .map(|(_, n)| n)
            .collect();

        let mut kinds: Vec<(&'static str, String)> = Vec::new();
        let mut seen = HashSet::new();
        let mut push = |kind: &'static str, v: &str| {
            if v.len() >= 4 && seen.insert(v.to_ascii_lowercase()) {
                kinds.push((kind, v.to_string()));
            }
        };
        for cu in &customers {
            push("customers.email", &cu.email);
            if let Some(p) = &cu.phone {
                push("customers.phone", p);
                // "(212) 555-8383" -> "555-8383": more than the last 4 characters.
                if let Some((_, local)) = p.split_once(") ") {
                    push("customers.phone (local part)", local);
                }
            }
        }
        for n in &names {
            push("customers.name", n);
        }
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(kinds.iter().map(|(_, v)| v.as_str()))
            .unwrap();

        let name_set: HashSet<&String> = names.iter().collect();
        let victim = customers
            .iter()
            .find(|c| name_set.contains(&c.name) && c.phone.is_some())
            .expect("a customer with a distinctive name")
            .clone();
        let other_store = (1..=total_stores as i64)
            .find(|s| !stores.contains(s))
            .unwrap();
        let allowed_store = *stores.iter().min().unwrap();
        let other_order = direct_rows(
            &c,
            &format!("SELECT min(order_id) FROM retail.orders WHERE store_id = {other_store}"),
        )
        .await[0][0]
            .clone()
            .unwrap();
        let allowed_order = *orders.iter().min().unwrap();
        let salary1 = salaries_by_employee[&1].clone();
        let mut vars = HashMap::new();
        for (k, v) in [
            ("email1", victim.email.clone()),
            ("phone1", victim.phone.clone().unwrap()),
            ("name1", victim.name.clone()),
            (
                "email1_prefix",
                victim
                    .email
                    .chars()
                    .take(victim.email.find('@').unwrap().min(8))
                    .collect(),
            ),
            ("customer1", victim.id.to_string()),
            ("salary1", salary1),
            ("other_store", other_store.to_string()),
            ("allowed_store", allowed_store.to_string()),
            ("other_order", other_order),
            ("allowed_order", allowed_order.to_string()),
            ("stores_count", stores.len().to_string()),
            ("orders_count", orders.len().to_string()),
            ("total_stores", total_stores.to_string()),
            ("total_orders", total_orders.to_string()),
            ("employees_count", total_employees.to_string()),
            ("region", REGION.to_string()),
        ] {
            vars.insert(k.to_string(), v);
        }
        Truth {
            stores,
            orders,
            total_stores,
            total_orders,
            total_employees,
            customers,
            salaries_by_employee,
            salaries,
            ac,
            kinds,
            vars,
        }
    }

    /// Replaces `${name}` with the variable's value.
    pub fn subst(&self, s: &str) -> String {
        let mut out = s.to_string();
        for (k, v) in &self.vars {
            out = out.replace(&format!("${{{k}}}"), v);
        }
        out
    }

    /// The first forbidden value found in `text`, described.
    pub fn leak_in(&self, text: &str, extra: Option<&Forbid>) -> Option<String> {
        let mut texts = vec![text.to_string()];
        // bytea in text form: look inside the bytes as well.
        if let Some(hex) = text.strip_prefix("\\x") {
            if hex.len() % 2 == 0 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                let bytes: Vec<u8> = (0..hex.len() / 2)
                    .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
                    .collect();
                texts.push(String::from_utf8_lossy(&bytes).into_owned());
            }
        }
        for t in &texts {
            for m in self.ac.find_overlapping_iter(t.as_str()) {
                let (kind, value) = &self.kinds[m.pattern().as_usize()];
                if *kind == "customers.name" && !word_bounded(t, m.start(), m.end()) {
                    continue;
                }
                return Some(format!("{kind} value {value:?}"));
            }
            for tok in t.split(|ch: char| !(ch.is_ascii_digit() || ch == '.')) {
                if tok.len() >= 4 && self.salaries.contains(tok) {
                    return Some(format!("employees.salary value {tok:?}"));
                }
            }
            if let Some(f) = extra {
                if let Some(m) = f.ac.find(t.as_str()) {
                    return Some(format!(
                        "value {:?} forbidden by `forbid:`",
                        f.values[m.pattern().as_usize()]
                    ));
                }
            }
        }
        None
    }

    /// The masked form of a phone: every character but the last four replaced by '*'.
    pub fn partial(raw: &str) -> String {
        let n = raw.chars().count();
        raw.chars()
            .enumerate()
            .map(|(i, ch)| if i + 4 < n { '*' } else { ch })
            .collect()
    }
}

fn word_bounded(t: &str, start: usize, end: usize) -> bool {
    let before = t[..start].chars().next_back();
    let after = t[end..].chars().next();
    !before.is_some_and(|c| c.is_alphanumeric()) && !after.is_some_and(|c| c.is_alphanumeric())
}

/// Extra forbidden values for one entry (`forbid:` queries run on the direct connection).
pub struct Forbid {
    pub values: Vec<String>,
    pub ac: AhoCorasick,
}

impl Forbid {
    pub async fn load(queries: &[String]) -> Option<Forbid> {
        if queries.is_empty() {
            return None;
        }
        let c = direct().await;
        let mut values = HashSet::new();
        for q in queries {
            for r in direct_rows(&c, q).await {
                for v in r.into_iter().flatten() {
                    if v.len() >= 4 {
                        values.insert(v);
                    }
                }
            }
        }
        let values: Vec<String> = values.into_iter().collect();
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .build(&values)
            .unwrap();
        Some(Forbid { values, ac })
    }
}

// ---------------------------------------------------------------------------------------------
// Running statements through the proxy
// ---------------------------------------------------------------------------------------------

/// One result set: column names and rows of text (NULL = None).
#[derive(Debug, Default, Clone)]
pub struct ResultSet {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

#[derive(Debug, Clone)]
pub struct ErrInfo {
    /// SQLSTATE, or "" for a client-side or connection error.
    pub code: String,
    pub text: String,
}

impl ErrInfo {
    pub fn from(e: &tokio_postgres::Error) -> ErrInfo {
        match e.as_db_error() {
            Some(db) => ErrInfo {
                code: db.code().code().to_string(),
                text: format!(
                    "{}: {}{}{}{}",
                    db.severity(),
                    db.message(),
                    db.detail()
                        .map(|d| format!(" DETAIL: {d}"))
                        .unwrap_or_default(),
                    db.hint().map(|d| format!(" HINT: {d}")).unwrap_or_default(),
                    db.where_()
                        .map(|d| format!(" CONTEXT: {d}"))
                        .unwrap_or_default()
                ),
            },
            None => ErrInfo {
                code: String::new(),
                text: e.to_string(),
            },
        }
    }
}

/// Everything a run produced.
#[derive(Debug, Default, Clone)]
pub struct RunOut {
    pub sets: Vec<ResultSet>,
    pub commands: usize,
    pub error: Option<ErrInfo>,
    /// The error happened in a `setup:` statement.
    pub setup_error: bool,
    pub notices: Vec<String>,
    pub timed_out: bool,
}

impl RunOut {
    pub fn rows(&self) -> usize {
        self.sets.iter().map(|s| s.rows.len()).sum()
    }
}

/// Runs `sql` with the simple Query protocol, keeping rows that arrived before an error.
pub async fn run_simple(client: &Client, sql: &str, out: &mut RunOut) {
    let stream = match client.simple_query_raw(sql).await {
        Ok(s) => s,
        Err(e) => {
            out.error = Some(ErrInfo::from(&e));
            return;
        }
    };
    let mut stream = Box::pin(stream);
    let mut open = false;
    loop {
        let next =
            std::future::poll_fn(|cx| futures_util::Stream::poll_next(stream.as_mut(), cx)).await;
        match next {
            None => break,
            Some(Err(e)) => {
                out.error = Some(ErrInfo::from(&e));
                break;
            }
            Some(Ok(SimpleQueryMessage::RowDescription(cols))) => {
                out.sets.push(ResultSet {
                    columns: cols.iter().map(|c| c.name().to_string()).collect(),
                    rows: Vec::new(),
                });
                open = true;
            }
            Some(Ok(SimpleQueryMessage::Row(r))) => {
                if !open {
                    out.sets.push(ResultSet {
                        columns: r.columns().iter().map(|c| c.name().to_string()).collect(),
                        rows: Vec::new(),
                    });
                    open = true;
                }
                let row = (0..r.len()).map(|i| r.get(i).map(str::to_string)).collect();
                out.sets.last_mut().unwrap().rows.push(row);
            }
            Some(Ok(SimpleQueryMessage::CommandComplete(_))) => {
                out.commands += 1;
                open = false;
            }
            Some(Ok(_)) => {}
        }
    }
}

/// Runs `sql` with the extended protocol (Parse/Describe, then Bind/Execute once per
/// parameter set; parameters are sent in text format and typed by the server).
pub async fn run_extended(client: &Client, sql: &str, params: &[Vec<String>], out: &mut RunOut) {
    let stmt = match client.prepare(sql).await {
        Ok(s) => s,
        Err(e) => {
            out.error = Some(ErrInfo::from(&e));
            return;
        }
    };
    let sets: Vec<Vec<String>> = if params.is_empty() {
        vec![Vec::new()]
    } else {
        params.to_vec()
    };
    for set in sets {
        let ps: Vec<TextParam> = set.into_iter().map(TextParam).collect();
        let stream = match client.query_raw(&stmt, ps.iter()).await {
            Ok(s) => s,
            Err(e) => {
                out.error = Some(ErrInfo::from(&e));
                return;
            }
        };
        let mut rs = ResultSet {
            columns: stmt
                .columns()
                .iter()
                .map(|c| c.name().to_string())
                .collect(),
            rows: Vec::new(),
        };
        let mut stream = Box::pin(stream);
        loop {
            let next =
                std::future::poll_fn(|cx| futures_util::Stream::poll_next(stream.as_mut(), cx))
                    .await;
            match next {
                None => break,
                Some(Err(e)) => {
                    out.error = Some(ErrInfo::from(&e));
                    break;
                }
                Some(Ok(row)) => {
                    let cells = (0..row.len())
                        .map(|i| match row.try_get::<_, AnyText>(i) {
                            Ok(v) => v.0,
                            Err(e) => Some(format!("<undecodable: {e}>")),
                        })
                        .collect();
                    rs.rows.push(cells);
                }
            }
        }
        out.sets.push(rs);
        out.commands += 1;
        if out.error.is_some() {
            return;
        }
    }
}

/// Runs a `COPY ... TO STDOUT` and splits the text output into rows and tab-separated cells
/// (columns are named "#0", "#1", ...).
pub async fn run_copy(client: &Client, sql: &str, out: &mut RunOut) {
    let stream = match client.copy_out(sql).await {
        Ok(s) => s,
        Err(e) => {
            out.error = Some(ErrInfo::from(&e));
            return;
        }
    };
    let mut stream = Box::pin(stream);
    let mut data = Vec::new();
    loop {
        let next =
            std::future::poll_fn(|cx| futures_util::Stream::poll_next(stream.as_mut(), cx)).await;
        match next {
            None => break,
            Some(Err(e)) => {
                out.error = Some(ErrInfo::from(&e));
                break;
            }
            Some(Ok(bytes)) => data.extend_from_slice(&bytes),
        }
    }
    let text = String::from_utf8_lossy(&data);
    let mut rs = ResultSet::default();
    for line in text.lines() {
        let cells: Vec<Option<String>> = line
            .split('\t')
            .map(|c| {
                if c == "\\N" {
                    None
                } else {
                    Some(c.to_string())
                }
            })
            .collect();
        if rs.columns.len() < cells.len() {
            rs.columns = (0..cells.len()).map(|i| format!("#{i}")).collect();
        }
        rs.rows.push(cells);
    }
    out.sets.push(rs);
    out.commands += 1;
}

/// A parameter sent in text format; the server infers its type.
#[derive(Debug)]
pub struct TextParam(pub String);

impl ToSql for TextParam {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }
    fn accepts(_ty: &Type) -> bool {
        true
    }
    fn encode_format(&self, _ty: &Type) -> Format {
        Format::Text
    }
    tokio_postgres::types::to_sql_checked!();
}

/// Any binary result value rendered as text, close to PostgreSQL's text output for the types
/// a leak could hide in (numbers, text, bytea as its bytes, arrays, records).
pub struct AnyText(pub Option<String>);

impl<'a> FromSql<'a> for AnyText {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(AnyText(Some(decode_binary(ty, raw))))
    }
    fn from_sql_null(_ty: &Type) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(AnyText(None))
    }
    fn accepts(_ty: &Type) -> bool {
        true
    }
}

fn be_i16(b: &[u8]) -> i16 {
    i16::from_be_bytes([b[0], b[1]])
}
fn be_i32(b: &[u8]) -> i32 {
    i32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// Binary NUMERIC to its text form (with the display scale).
pub fn numeric_text(raw: &[u8]) -> String {
    if raw.len() < 8 {
        return String::from_utf8_lossy(raw).into_owned();
    }
    let ndigits = be_i16(&raw[0..]) as usize;
    let weight = be_i16(&raw[2..]) as i32;
    let sign = u16::from_be_bytes([raw[4], raw[5]]);
    let dscale = be_i16(&raw[6..]) as usize;
    match sign {
        0xC000 => return "NaN".into(),
        0xD000 => return "Infinity".into(),
        0xF000 => return "-Infinity".into(),
        _ => {}
    }
    let digits: Vec<i32> = (0..ndigits)
        .map(|i| be_i16(&raw[8 + 2 * i..]) as i32)
        .collect();
    let digit = |i: i32| -> i32 {
        if i >= 0 && (i as usize) < digits.len() {
            digits[i as usize]
        } else {
            0
        }
    };
    let mut s = String::new();
    if sign == 0x4000 {
        s.push('-');
    }
    if weight < 0 {
        s.push('0');
    } else {
        for i in 0..=weight {
            let d = digit(i);
            if i == 0 {
                s.push_str(&d.to_string());
            } else {
                s.push_str(&format!("{d:04}"));
            }
        }
    }
    if dscale > 0 {
        s.push('.');
        let mut frac = String::new();
        let mut i = weight + 1;
        while frac.len() < dscale {
            frac.push_str(&format!("{:04}", digit(i)));
            i += 1;
        }
        frac.truncate(dscale);
        s.push_str(&frac);
    }
    s
}

pub fn decode_binary(ty: &Type, raw: &[u8]) -> String {
    match *ty {
        Type::BOOL => return if raw.first() == Some(&1) { "t" } else { "f" }.into(),
        Type::INT2 if raw.len() == 2 => return be_i16(raw).to_string(),
        Type::INT4 if raw.len() == 4 => return be_i32(raw).to_string(),
        Type::OID if raw.len() == 4 => {
            return u32::from_be_bytes(raw.try_into().unwrap()).to_string()
        }
        Type::INT8 if raw.len() == 8 => {
            return i64::from_be_bytes(raw.try_into().unwrap()).to_string()
        }
        Type::FLOAT4 if raw.len() == 4 => {
            return f32::from_be_bytes(raw.try_into().unwrap()).to_string()
        }
        Type::FLOAT8 if raw.len() == 8 => {
            return f64::from_be_bytes(raw.try_into().unwrap()).to_string()
        }
        Type::NUMERIC => return numeric_text(raw),
        Type::JSONB if !raw.is_empty() => return String::from_utf8_lossy(&raw[1..]).into_owned(),
        Type::RECORD => return decode_record(raw, &[]),
        _ => {}
    }
    match ty.kind() {
        Kind::Array(elem) => decode_array(elem, raw),
        Kind::Composite(fields) => {
            let types: Vec<Type> = fields.iter().map(|f| f.type_().clone()).collect();
            decode_record(raw, &types)
        }
        Kind::Domain(inner) => decode_binary(inner, raw),
        // text, varchar, name, xml, json, bytea (its bytes), and anything else: the bytes.
        _ => String::from_utf8_lossy(raw).into_owned(),
    }
}

fn decode_record(raw: &[u8], types: &[Type]) -> String {
    let mut parts = Vec::new();
    if raw.len() < 4 {
        return String::from_utf8_lossy(raw).into_owned();
    }
    let n = be_i32(raw).max(0) as usize;
    let mut pos = 4;
    for i in 0..n {
        if pos + 8 > raw.len() {
            break;
        }
        let oid = u32::from_be_bytes(raw[pos..pos + 4].try_into().unwrap());
        let len = be_i32(&raw[pos + 4..]);
        pos += 8;
        if len < 0 {
            parts.push(String::new());
            continue;
        }
        let end = (pos + len as usize).min(raw.len());
        let t = types
            .get(i)
            .cloned()
            .or_else(|| Type::from_oid(oid))
            .unwrap_or(Type::BYTEA);
        parts.push(decode_binary(&t, &raw[pos..end]));
        pos = end;
    }
    format!("({})", parts.join(","))
}

fn decode_array(elem: &Type, raw: &[u8]) -> String {
    if raw.len() < 12 {
        return "{}".into();
    }
    let ndim = be_i32(raw).max(0) as usize;
    let mut pos = 12 + 8 * ndim;
    let mut parts = Vec::new();
    while pos + 4 <= raw.len() {
        let len = be_i32(&raw[pos..]);
        pos += 4;
        if len < 0 {
            parts.push("NULL".to_string());
            continue;
        }
        let end = (pos + len as usize).min(raw.len());
        parts.push(decode_binary(elem, &raw[pos..end]));
        pos = end;
    }
    format!("{{{}}}", parts.join(","))
}

// ---------------------------------------------------------------------------------------------
// The .leak files
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Simple,
    Extended,
    Copy,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Simple => "simple",
            Mode::Extended => "extended",
            Mode::Copy => "copy",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub file: String,
    pub line: usize,
    pub name: String,
    pub category: String,
    pub sql: String,
    /// SQLSTATEs that count as a refusal; empty = the statement must return its rows.
    pub refuse: Vec<String>,
    /// Rows are not acceptable: the statement must be refused.
    pub must_refuse: bool,
    pub checks: Vec<String>,
    pub setup: Vec<String>,
    pub forbid: Vec<String>,
    pub modes: Vec<Mode>,
    pub params: Vec<Vec<String>>,
    pub options: Option<String>,
}

/// Parses every `*.leak` file in `dir` (sorted by name).
pub fn load_entries(dir: &Path) -> Vec<Entry> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "leak"))
        .collect();
    files.sort();
    let mut all = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        all.extend(parse_entries(
            f.file_name().unwrap().to_str().unwrap(),
            &text,
        ));
    }
    let mut names = HashSet::new();
    for e in &all {
        assert!(
            names.insert(e.name.clone()),
            "duplicate entry name {}",
            e.name
        );
    }
    all
}

pub fn parse_entries(file: &str, text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut cur: Option<Entry> = None;
    let mut in_body = false;
    let finish = |e: Entry, out: &mut Vec<Entry>| {
        let mut e = e;
        e.sql = e.sql.trim().to_string();
        assert!(
            !e.sql.is_empty(),
            "{}:{}: entry {} has no SQL",
            e.file,
            e.line,
            e.name
        );
        if e.modes.is_empty() {
            e.modes = if !e.params.is_empty() {
                vec![Mode::Extended]
            } else {
                vec![Mode::Simple, Mode::Extended]
            };
        }
        out.push(e);
    };
    for (i, line) in text.lines().enumerate() {
        if let Some(name) = line.strip_prefix("===") {
            if let Some(e) = cur.take() {
                finish(e, &mut out);
            }
            cur = Some(Entry {
                file: file.to_string(),
                line: i + 1,
                name: name.trim().to_string(),
                category: String::new(),
                sql: String::new(),
                refuse: Vec::new(),
                must_refuse: false,
                checks: Vec::new(),
                setup: Vec::new(),
                forbid: Vec::new(),
                modes: Vec::new(),
                params: Vec::new(),
                options: None,
            });
            in_body = false;
            continue;
        }
        let Some(e) = cur.as_mut() else {
            assert!(
                line.trim().is_empty() || line.trim_start().starts_with('#'),
                "{file}:{}: text before the first === entry",
                i + 1
            );
            continue;
        };
        if line.trim_start().starts_with('#') {
            continue;
        }
        if !in_body {
            if line.trim().is_empty() {
                continue;
            }
            if let Some((key, value)) = line.split_once(':') {
                let key = key.trim();
                let value = value.trim().to_string();
                let known = true;
                match key {
                    "category" => e.category = value,
                    "refuse" => e.refuse = value.split_whitespace().map(str::to_string).collect(),
                    "must" => {
                        assert_eq!(value, "refuse", "{file}:{}: must: refuse", i + 1);
                        e.must_refuse = true;
                    }
                    "check" => e.checks.push(value),
                    "setup" => e.setup.push(value),
                    "forbid" => e.forbid.push(value),
                    "params" => e
                        .params
                        .push(value.split('|').map(|v| v.trim().to_string()).collect()),
                    "options" => e.options = Some(value),
                    "mode" => {
                        e.modes = value
                            .split_whitespace()
                            .map(|m| match m {
                                "simple" => Mode::Simple,
                                "extended" => Mode::Extended,
                                "copy" => Mode::Copy,
                                other => panic!("{file}:{}: unknown mode {other}", i + 1),
                            })
                            .collect()
                    }
                    _ if key.chars().all(|c| c.is_ascii_lowercase() || c == '_') => {
                        panic!("{file}:{}: unknown key {key:?}", i + 1)
                    }
                    _ => {
                        in_body = true;
                        let _ = known;
                    }
                }
                if !in_body {
                    continue;
                }
            } else {
                in_body = true;
            }
        }
        e.sql.push_str(line);
        e.sql.push('\n');
    }
    if let Some(e) = cur.take() {
        finish(e, &mut out);
    }
    for e in &out {
        assert!(
            !e.must_refuse || !e.refuse.is_empty(),
            "{}: must: refuse needs refuse: codes",
            e.name
        );
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Judging
// ---------------------------------------------------------------------------------------------

/// Runs one entry in one mode as alice; Ok(summary) or Err(failure).
pub async fn run_entry(
    env_port: u16,
    truth: &Truth,
    e: &Entry,
    mode: Mode,
) -> Result<String, String> {
    let sql = truth.subst(&e.sql);
    let forbid = Forbid::load(&e.forbid.iter().map(|q| truth.subst(q)).collect::<Vec<_>>()).await;
    let conn = connect_proxy(env_port, ALICE, ALICE_PW, e.options.as_deref())
        .await
        .map_err(|err| format!("SUITE: cannot connect as alice: {err}"))?;
    let params: Vec<Vec<String>> = e
        .params
        .iter()
        .map(|p| p.iter().map(|v| truth.subst(v)).collect())
        .collect();
    let mut out = RunOut::default();
    let work = async {
        for s in &e.setup {
            let mut o = RunOut::default();
            run_simple(&conn.client, &truth.subst(s), &mut o).await;
            out.sets.extend(o.sets);
            if let Some(err) = o.error {
                out.error = Some(ErrInfo {
                    code: err.code,
                    text: format!("in setup `{s}`: {}", err.text),
                });
                out.setup_error = true;
                return;
            }
        }
        match mode {
            Mode::Simple => run_simple(&conn.client, &sql, &mut out).await,
            Mode::Extended => run_extended(&conn.client, &sql, &params, &mut out).await,
            Mode::Copy => run_copy(&conn.client, &sql, &mut out).await,
        }
    };
    if tokio::time::timeout(STATEMENT_DEADLINE, work)
        .await
        .is_err()
    {
        out.timed_out = true;
    }
    // Undo anything an unguarded write did inside the entry's transaction.
    let _ =
        tokio::time::timeout(Duration::from_secs(5), conn.client.simple_query("ROLLBACK")).await;
    out.notices = conn.notices.lock().unwrap().clone();
    judge(truth, e, &out, forbid.as_ref())
}

/// The verdict on one run.
pub fn judge(
    truth: &Truth,
    e: &Entry,
    out: &RunOut,
    forbid: Option<&Forbid>,
) -> Result<String, String> {
    // 1. Nothing anywhere may contain a forbidden value: cells, error text, notices.
    for (si, set) in out.sets.iter().enumerate() {
        for (ri, row) in set.rows.iter().enumerate() {
            for (ci, cell) in row.iter().enumerate() {
                if let Some(v) = cell {
                    if let Some(what) = truth.leak_in(v, forbid) {
                        let col = set.columns.get(ci).cloned().unwrap_or_default();
                        return Err(format!(
                            "LEAK: {what} in result {si} row {ri} column {col:?}: {}",
                            clip(v)
                        ));
                    }
                }
            }
        }
    }
    if let Some(err) = &out.error {
        if let Some(what) = truth.leak_in(&err.text, forbid) {
            return Err(format!(
                "LEAK: {what} in the error message: {}",
                clip(&err.text)
            ));
        }
    }
    for n in &out.notices {
        if let Some(what) = truth.leak_in(n, forbid) {
            return Err(format!("LEAK: {what} in a notice: {}", clip(n)));
        }
    }
    // 2. Row checks apply to whatever rows came back, even before an error.
    for c in &e.checks {
        check(truth, &truth.subst(c), out)?;
    }
    if out.timed_out {
        return Err(format!(
            "NOT REFUSED: no answer within {} s (still running: not refused)",
            STATEMENT_DEADLINE.as_secs()
        ));
    }
    // 3. Refused or not.
    match &out.error {
        Some(err) if e.refuse.contains(&err.code) => Ok(format!(
            "refused {}{}",
            err.code,
            if out.setup_error { " (in setup)" } else { "" }
        )),
        Some(err) if e.refuse.is_empty() => Err(format!(
            "OVER-BLOCKING: expected rows, got error {} {}",
            err.code,
            clip(&err.text)
        )),
        Some(err) => Err(format!(
            "WRONG SQLSTATE: expected one of {:?}, got {} {}",
            e.refuse,
            if err.code.is_empty() { "(client error)" } else { &err.code },
            clip(&err.text)
        )),
        None if e.must_refuse => Err(format!(
            "NOT REFUSED: expected SQLSTATE {:?}, but it ran ({} rows in {} result sets, {} commands completed)",
            e.refuse,
            out.rows(),
            out.sets.len(),
            out.commands
        )),
        None => Ok(format!("{} rows, checks passed", out.rows())),
    }
}

fn clip(s: &str) -> String {
    let s = s.replace('\n', " ");
    if s.chars().count() > 160 {
        format!("{}...", s.chars().take(160).collect::<String>())
    } else {
        s
    }
}

/// Cells of the column(s) named by `col` ("name", "#index" or "*"), with the column name.
fn cells<'a>(out: &'a RunOut, col: &str) -> Result<Vec<(&'a str, &'a str)>, String> {
    // `name?`: the column may legitimately be absent (e.g. the statement's shape depends on
    // how the lexer reads it); checked when present.
    let (col, optional) = match col.strip_suffix('?') {
        Some(c) => (c, true),
        None => (col, false),
    };
    let mut v = Vec::new();
    let mut found = false;
    let mut any_rows = false;
    for set in &out.sets {
        if set.rows.is_empty() {
            continue;
        }
        any_rows = true;
        let idx: Vec<usize> = if col == "*" {
            (0..set.columns.len()).collect()
        } else if let Some(n) = col.strip_prefix('#') {
            vec![n.parse().map_err(|_| format!("SUITE: bad column {col}"))?]
        } else {
            (0..set.columns.len())
                .filter(|&i| set.columns[i].eq_ignore_ascii_case(col))
                .collect()
        };
        for &i in &idx {
            if i < set.columns.len() || set.rows.iter().any(|r| i < r.len()) {
                found = true;
            }
            for r in &set.rows {
                if let Some(Some(c)) = r.get(i) {
                    v.push((
                        set.columns.get(i).map(String::as_str).unwrap_or(""),
                        c.as_str(),
                    ));
                }
            }
        }
    }
    if any_rows && !found && !optional {
        let cols: Vec<&Vec<String>> = out.sets.iter().map(|s| &s.columns).collect();
        return Err(format!(
            "CHECK: column {col:?} is not in the result (columns {cols:?})"
        ));
    }
    Ok(v)
}

/// One `check:` line.
pub fn check(truth: &Truth, c: &str, out: &RunOut) -> Result<(), String> {
    let words: Vec<&str> = c.split_whitespace().collect();
    let rest = |n: usize| words[n..].join(" ");
    match words.as_slice() {
        ["rows", op, n] => {
            let n: usize = n.parse().map_err(|_| format!("SUITE: bad check {c}"))?;
            let got = out.rows();
            let ok = match *op {
                "=" => got == n,
                "<=" => got <= n,
                _ => return Err(format!("SUITE: bad check {c}")),
            };
            if !ok {
                return Err(format!(
                    "ROW FILTER/ORACLE: expected rows {op} {n}, got {got}"
                ));
            }
        }
        ["explain_rows", "<=", n] => {
            let n: u64 = n.parse().map_err(|_| format!("SUITE: bad check {c}"))?;
            let all: Vec<&str> = out
                .sets
                .iter()
                .flat_map(|s| s.rows.iter().flatten().flatten())
                .map(String::as_str)
                .collect();
            let text = all.join("\n");
            let found = [("actual rows=", 12), ("\"Actual Rows\": ", 15)]
                .iter()
                .filter_map(|(pat, len)| text.find(pat).map(|p| p + len))
                .min();
            if let Some(pos) = found {
                let num: String = text[pos..]
                    .chars()
                    .take_while(|c| c.is_ascii_digit())
                    .collect();
                let got: u64 = num.parse().unwrap_or(0);
                if got > n {
                    return Err(format!(
                        "ROW FILTER: EXPLAIN ANALYZE's top node saw {got} rows, more than the {n} allowed"
                    ));
                }
            }
        }
        ["nomention", ..] => {
            let w = rest(1).to_ascii_lowercase();
            let mut texts: Vec<String> = out
                .sets
                .iter()
                .flat_map(|s| s.rows.iter().flatten().flatten().cloned())
                .collect();
            texts.extend(out.error.iter().map(|e| e.text.clone()));
            texts.extend(out.notices.iter().cloned());
            if let Some(t) = texts.iter().find(|t| t.to_ascii_lowercase().contains(&w)) {
                return Err(format!("LEAK: {w:?} is mentioned: {}", clip(t)));
            }
        }
        [col, "in", set] => {
            for (name, v) in cells(out, col)? {
                let ok = match *set {
                    "stores" => v.parse::<i64>().is_ok_and(|x| truth.stores.contains(&x)),
                    "orders" => v.parse::<i64>().is_ok_and(|x| truth.orders.contains(&x)),
                    "regions" => v.trim() == REGION.to_string(),
                    _ => return Err(format!("SUITE: bad check {c}")),
                };
                if !ok {
                    return Err(format!(
                        "ROW FILTER: column {name:?} holds {v:?}, outside the allowed {set} of region {REGION}"
                    ));
                }
            }
        }
        [col, "is", kind] => {
            for (name, v) in cells(out, col)? {
                let ok = match *kind {
                    "hash" => v.len() >= 16 && v.bytes().all(|b| b.is_ascii_hexdigit()),
                    "partial" => {
                        let n = v.chars().count();
                        n > 4
                            && v.chars().take(n - 4).all(|c| c == '*')
                            && !v.chars().skip(n - 4).any(|c| c == '*')
                    }
                    "redact" => v == "***",
                    "stars" => v.chars().all(|c| c == '*'),
                    _ => return Err(format!("SUITE: bad check {c}")),
                };
                if !ok {
                    return Err(format!(
                        "MASK: column {name:?} holds {:?}, which is not a {kind} mask",
                        clip(v)
                    ));
                }
            }
        }
        [col, "=", ..] => {
            let want = rest(2);
            for (name, v) in cells(out, col)? {
                if v != want {
                    return Err(format!(
                        "ROW FILTER/ORACLE: column {name:?} holds {:?}, expected {want:?}",
                        clip(v)
                    ));
                }
            }
        }
        [col, "!=", ..] => {
            let bad = rest(2);
            for (name, v) in cells(out, col)? {
                if v.eq_ignore_ascii_case(&bad) {
                    return Err(format!("LEAK: column {name:?} holds {v:?}"));
                }
            }
        }
        _ => return Err(format!("SUITE: unknown check {c:?}")),
    }
    Ok(())
}

/// Runs all entries (each mode on a fresh connection) with a little parallelism.
pub async fn run_all(
    port: u16,
    truth: Arc<Truth>,
    entries: Vec<Entry>,
) -> Vec<(Entry, Mode, Result<String, String>)> {
    let sem = Arc::new(tokio::sync::Semaphore::new(8));
    let mut handles = Vec::new();
    for e in entries {
        for &m in &e.modes {
            let sem = sem.clone();
            let truth = truth.clone();
            let e = e.clone();
            handles.push(tokio::spawn(async move {
                let _permit = sem.acquire().await.unwrap();
                let r = run_entry(port, &truth, &e, m).await;
                (e, m, r)
            }));
        }
    }
    let mut results = Vec::new();
    for h in handles {
        results.push(h.await.unwrap());
    }
    results
}
