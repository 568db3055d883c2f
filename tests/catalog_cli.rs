//! The catalog as a user meets it: `querent catalog` (with roles and linking), `querent schema
//! suggest`, and a running server's `GET /catalog` and `POST /catalog/refresh` — against the
//! real Postgres with the retail dataset and the saas fixture (no foreign keys, no comments).

mod common;

use common::{repo, Proxy};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

const SAAS_DB: &str = "querent_saas";

fn psql_url(db: &str) -> String {
    format!("postgres://root@127.0.0.1:5432/{db}")
}

async fn ensure_saas() {
    common::saas::ensure().await;
}

fn querent(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_querent"))
        .args(args)
        .current_dir(repo())
        .env_remove("QUERENT_CONFIG")
        .output()
        .expect("run querent");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn catalog_report_of_the_retail_database() {
    common::retail::ensure_dataset().await;
    let url = psql_url("querent_retail");
    let (ok, out, err) = querent(&["catalog", "--upstream", &url, "--schemas", "schemas"]);
    assert!(ok, "{err}");
    for want in [
        "database querent_retail",
        "retail.orders",
        "pk(order_id)",
        "time: order_date",
        "shown by: name",
        "JOIN GRAPH (9 relations)",
        "retail.orders(customer_id) -> retail.customers(customer_id)  many-to-one  foreign key orders_customer_id_fkey",
        "foreign key orders_store_id_fkey  (preferred)",
        "revenue = SUM(order_items.quantity * order_items.unit_price * (1 - order_items.discount))",
        "; where orders.status = 'completed'; dated by orders.order_date; counts rows of order_items",
        "values: Central, East, North, South, West",
        "VALUE INDEX",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    // The saas annotations are for another database and are skipped without complaint.
    assert!(!out.contains("ANNOTATION PROBLEMS"), "{out}");
    // PII is never listed, even to the proxy's own report.
    let email = out
        .lines()
        .find(|l| l.trim_start().starts_with("email "))
        .unwrap();
    assert!(
        email.contains("[pii]") && !email.contains("values:"),
        "{email}"
    );
}

#[tokio::test]
async fn a_role_never_sees_or_links_a_hidden_table() {
    common::retail::ensure_dataset().await;
    let dir = std::env::temp_dir().join(format!("querent-catalog-policy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("p.toml"),
        r#"
[role.analyst]
tables = ["retail.orders", "retail.order_items", "retail.products", "retail.categories",
          "retail.stores", "retail.regions", "retail.customers"]
deny_columns = ["retail.customers.email"]
row_filter = { "retail.customers" = "region_id = ${user.region}" }
"#,
    )
    .unwrap();
    let url = psql_url("querent_retail");
    let base = [
        "catalog",
        "--upstream",
        &url,
        "--schemas",
        "schemas",
        "--link",
        "headcount and salary of staff per shop",
    ];
    // Without a role, employees are found by several words.
    let (ok, out, err) = querent(&base);
    assert!(ok, "{err}");
    let linking = out.split("LINKING").nth(1).unwrap();
    assert!(linking.contains("table retail.employees"), "{linking}");
    assert!(linking.contains("metric headcount"), "{linking}");
    // As analyst, employees and everything reading them are gone.
    let mut args = base.to_vec();
    let policies = dir.to_str().unwrap();
    args.extend([
        "--policies",
        policies,
        "--role",
        "analyst",
        "--attr",
        "region=2",
    ]);
    let (ok, out, err) = querent(&args);
    assert!(ok, "{err}");
    let report = out.split("LINKING").next().unwrap();
    // Only the view is described: no totals of the whole catalog.
    assert!(report.contains("role analyst: 7 tables, "), "{out}");
    assert!(
        !report.contains(" of 9") && !report.contains("TABLES (9"),
        "{report}"
    );
    // A row-filtered table shows no whole-table figures.
    let customers = report
        .lines()
        .find(|l| l.trim_start().starts_with("retail.customers "))
        .unwrap();
    assert!(customers.contains("rows unknown"), "{customers}");
    assert!(
        !report.contains("signup_date              date  ~"),
        "{report}"
    );
    for hidden in [
        "employees",
        "retail.returns",
        "headcount",
        "payroll",
        "email",
    ] {
        assert!(!report.contains(hidden), "{hidden} in {report}");
    }
    let linking = out.split("LINKING").nth(1).unwrap();
    assert!(linking.contains("table retail.stores"), "{linking}");
    let unlinked = linking.lines().last().unwrap();
    assert!(
        unlinked.contains("headcount") && unlinked.contains("staff"),
        "{unlinked}"
    );
    // The JSON form carries the same view.
    args.push("--json");
    let (ok, out, err) = querent(&args);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let tables: Vec<&str> = v["catalog"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(!tables.contains(&"employees"), "{tables:?}");
    let customers = v["catalog"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "customers")
        .unwrap();
    assert!(!customers.to_string().contains("\"email\""));
    assert_eq!(customers["row_estimate"], serde_json::Value::Null);
    for c in customers["columns"].as_array().unwrap() {
        assert_eq!(c["profile"]["distinct"], serde_json::Value::Null, "{c}");
    }
    // The summary is the view's.
    let summary = &v["summary"];
    assert_eq!(summary["tables"], 7, "{summary}");
    assert_eq!(
        summary["metrics"].as_u64(),
        Some(v["catalog"]["metrics"].as_array().unwrap().len() as u64),
        "{summary}"
    );
    let columns: usize = v["catalog"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["columns"].as_array().unwrap().len())
        .sum();
    assert_eq!(
        summary["columns"].as_u64(),
        Some(columns as u64),
        "{summary}"
    );
}

/// Values of a `pii` column are dropped when the catalog is read: the report and JSON of the
/// whole catalog (no role) never show them, and they never link. (email and phone have too many
/// values to be listed at all, so a low-cardinality column is marked here.)
#[tokio::test]
async fn pii_values_are_never_shown_even_without_a_role() {
    common::retail::ensure_dataset().await;
    let dir = std::env::temp_dir().join(format!("querent-catalog-pii-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("pii.toml"),
        "schema = \"retail\"\n[tables.customers.columns.segment]\npii = true\n",
    )
    .unwrap();
    let url = psql_url("querent_retail");
    let schemas = dir.to_str().unwrap();
    let args = [
        "catalog",
        "--upstream",
        &url,
        "--schemas",
        schemas,
        "--link",
        "Corporate customers",
    ];
    // Without the annotation the values are listed (so the check below means something).
    let (ok, out, err) = querent(&["catalog", "--upstream", &url]);
    assert!(ok, "{err}");
    assert!(out.contains("Consumer, Corporate, Small Business"), "{out}");
    let (ok, out, err) = querent(&args);
    assert!(ok, "{err}");
    let (report, linking) = out.split_once("LINKING").unwrap();
    let segment = report
        .lines()
        .find(|l| l.trim_start().starts_with("segment "))
        .unwrap();
    assert!(segment.contains("[pii]"), "{segment}");
    for value in ["Consumer", "Corporate", "Small Business"] {
        assert!(!report.contains(value), "{value} in {report}");
    }
    assert!(
        !linking.contains("value retail.customers.segment"),
        "{linking}"
    );
    assert!(linking.contains("unlinked words: Corporate"), "{linking}");
    let mut json = args.to_vec();
    json.push("--json");
    let (ok, out, err) = querent(&json);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let customers = v["catalog"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "customers")
        .unwrap();
    let segment = customers["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "segment")
        .unwrap();
    // (Its comment, written by a person, names the segments; the profile holds no value.)
    assert_eq!(
        segment["profile"]["values"],
        serde_json::Value::Null,
        "{segment}"
    );
    let profile = segment["profile"].to_string();
    for value in ["Consumer", "Corporate", "Small Business"] {
        assert!(!profile.contains(value), "{value} in {profile}");
    }
    assert!(
        !v["links"].to_string().contains("\"value\""),
        "{}",
        v["links"]
    );
}

#[tokio::test]
async fn saas_relationships_come_from_annotations() {
    ensure_saas().await;
    let url = psql_url(SAAS_DB);
    // Without annotations, no foreign key: the relations are inferred from names and values.
    let (ok, out, err) = querent(&["catalog", "--upstream", &url]);
    assert!(ok, "{err}");
    assert!(out.contains("JOIN GRAPH (4 relations)"), "{out}");
    assert!(
        out.contains("saas.accounts(plan) -> saas.plans(code)  many-to-one  inferred: "),
        "{out}"
    );
    let (ok, out, err) = querent(&[
        "catalog",
        "--upstream",
        &url,
        "--schemas",
        "schemas",
        "--link",
        "urgent tikets per plan for german clients",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("JOIN GRAPH (4 relations)"), "{out}");
    assert!(
        out.contains(
            "saas.tickets(acct) -> saas.accounts(acct)  many-to-one  declared in annotations"
        ),
        "{out}"
    );
    let linking = out.split("LINKING").nth(1).unwrap();
    for want in [
        "value saas.tickets.priority = 'urgent'",
        "metric ticket_count",
        "table saas.plans",
        "table saas.accounts",
    ] {
        assert!(linking.contains(want), "missing {want:?} in {linking}");
    }
}

/// The draft as a person accepting all of it would leave it: every `# ` line uncommented.
fn uncomment(draft: &str) -> String {
    draft
        .lines()
        .map(|l| l.strip_prefix("# ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn schema_suggest_drafts_a_file_that_loads() {
    ensure_saas().await;
    let dir = std::env::temp_dir().join(format!("querent-suggest-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // Into a directory, the draft is the database's own file.
    let (ok, _, err) = querent(&[
        "schema",
        "suggest",
        "--upstream",
        &psql_url(SAAS_DB),
        "--output",
        dir.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let out_file = dir.join(format!("{SAAS_DB}.toml"));
    let draft = std::fs::read_to_string(&out_file).unwrap();
    for want in [
        "## Draft annotations for database \"querent_saas\"",
        "## Save it as schemas/querent_saas.toml: one file per database.",
        "schema = \"saas\"",
        "[tables.tickets]",
        "time_column = \"opened_at\"",
        "display_column = \"title\"",
        "## values seen: [\"high\", \"low\", \"normal\", \"urgent\"]",
        "# [metrics.total_amount_usd]\n# sql = \"SUM(invoices.amount_usd)\"\n# time_column = \"invoices.issued\"\n# format = \"money\"",
    ] {
        assert!(draft.contains(want), "missing {want:?} in:\n{draft}");
    }
    // A second run never overwrites the file.
    let (ok, _, err) = querent(&[
        "schema",
        "suggest",
        "--upstream",
        &psql_url(SAAS_DB),
        "--output",
        dir.to_str().unwrap(),
    ]);
    assert!(!ok && err.contains("already exists"), "{err}");
    // Accepted whole (every draft line uncommented), it loads through the real loader with
    // no problem.
    std::fs::write(&out_file, uncomment(&draft)).unwrap();
    let (ok, out, err) = querent(&[
        "catalog",
        "--upstream",
        &psql_url(SAAS_DB),
        "--schemas",
        dir.to_str().unwrap(),
        "--json",
    ]);
    assert!(ok, "{err}\n{draft}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["annotation_problems"], serde_json::json!([]), "{draft}");
    let catalog = &v["catalog"];
    let tables = catalog["tables"].as_array().unwrap();
    let column = |c: &serde_json::Value| {
        let t = &tables[c["table"].as_u64().unwrap() as usize];
        let i = c["column"].as_u64().unwrap();
        (t, i, t["columns"][i as usize]["name"].as_str().unwrap())
    };
    let relations = catalog["relations"].as_array().unwrap();
    let in_relation = |c: &serde_json::Value| {
        relations.iter().any(|r| {
            [("from", "from_columns"), ("to", "to_columns")]
                .iter()
                .any(|(t, cols)| {
                    r[*t] == c["table"] && r[*cols].as_array().unwrap().contains(&c["column"])
                })
        })
    };
    // Metrics: unique names, none over a key, a relation column, an id or a year.
    let metrics = catalog["metrics"].as_array().unwrap();
    let drafted = draft.matches("# [metrics.").count();
    assert!(drafted >= 3, "{draft}");
    assert_eq!(
        metrics.len(),
        drafted,
        "every metric draft applies:\n{draft}"
    );
    let mut names: Vec<&str> = metrics
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), metrics.len(), "{names:?}");
    for m in metrics {
        for c in m["columns"].as_array().unwrap() {
            let (t, i, name) = column(c);
            let pk = t["primary_key"].as_array().unwrap();
            assert!(
                !pk.contains(&serde_json::json!(i)) && !in_relation(c),
                "metric {m} over a key"
            );
            assert!(
                !(name == "id" || name.ends_with("_id") || name.contains("year")),
                "metric {m} over {name}"
            );
        }
    }
    // The four inferred relationships, accepted, are declared ones.
    let rel = |r: &serde_json::Value| {
        let (from, fi, _) =
            column(&serde_json::json!({"table": r["from"], "column": r["from_columns"][0]}));
        let (to, ti, _) =
            column(&serde_json::json!({"table": r["to"], "column": r["to_columns"][0]}));
        format!(
            "{}.{} -> {}.{} {}",
            from["name"].as_str().unwrap(),
            from["columns"][fi as usize]["name"].as_str().unwrap(),
            to["name"].as_str().unwrap(),
            to["columns"][ti as usize]["name"].as_str().unwrap(),
            r["origin"]
        )
    };
    let mut got: Vec<String> = relations.iter().map(rel).collect();
    got.sort();
    assert_eq!(
        got,
        [
            "accounts.plan -> plans.code \"declared\"",
            "invoices.acct -> accounts.acct \"declared\"",
            "tickets.acct -> accounts.acct \"declared\"",
            "usage_daily.acct -> accounts.acct \"declared\"",
        ],
        "{draft}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn admin(port: u16, method: &str, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (head.lines().next().unwrap_or("").into(), body.into())
}

#[tokio::test]
async fn a_running_server_reads_and_refreshes_its_catalog() {
    ensure_saas().await;
    let db = format!("querent_cat_{}", std::process::id());
    let admin_db = common::connect(&common::direct_dsn()).await.unwrap();
    admin_db
        .batch_execute(&format!("DROP DATABASE IF EXISTS {db}"))
        .await
        .unwrap();
    admin_db
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .await
        .unwrap();
    let direct = common::connect(&format!("host=127.0.0.1 port=5432 user=root dbname={db}"))
        .await
        .unwrap();
    direct
        .batch_execute("CREATE TABLE shop_orders (id int PRIMARY KEY, channel text)")
        .await
        .unwrap();
    let schemas = std::env::temp_dir().join(format!("querent-refresh-schemas-{db}"));
    std::fs::create_dir_all(&schemas).unwrap();
    std::fs::write(
        schemas.join("a.toml"),
        "[tables.shop_orders]\nsynonyms = [\"purchases\"]\n",
    )
    .unwrap();
    let url = psql_url(&db);
    let proxy = Proxy::start(&["--upstream", &url, "--schemas", schemas.to_str().unwrap()]);
    // Read at start, in the background.
    let deadline = Instant::now() + Duration::from_secs(20);
    let first = loop {
        let (status, body) = admin(proxy.admin_port, "GET", "/catalog");
        assert_eq!(status, "HTTP/1.1 200 OK");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        if v["databases"][0]["tables"] == 1 {
            break v["databases"][0].clone();
        }
        assert!(Instant::now() < deadline, "{body}\n{}", proxy.log_text());
        std::thread::sleep(Duration::from_millis(50));
    };
    // Only the default database and databases already read can be refreshed: the port has no
    // authentication, and must not make the proxy read any database a caller names.
    let (status, body) = admin(
        proxy.admin_port,
        "POST",
        "/catalog/refresh?database=postgres",
    );
    assert_eq!(status, "HTTP/1.1 404 Not Found", "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["database"], "postgres", "{body}");
    assert!(
        v["error"].as_str().unwrap().contains("\"postgres\""),
        "{body}"
    );
    let addr = format!("127.0.0.1:{}", proxy.admin_port);
    let (ok, out, err) = querent(&[
        "catalog",
        "refresh",
        "--admin",
        &addr,
        "--database",
        "postgres",
    ]);
    assert!(!ok && err.contains("404"), "{out}{err}");
    let (_, body) = admin(proxy.admin_port, "GET", "/catalog");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["databases"].as_array().unwrap().len(), 1, "{body}");
    // The name is percent-decoded (every byte escaped here).
    let encoded: String = db.bytes().map(|b| format!("%{b:02X}")).collect();
    let (status, body) = admin(
        proxy.admin_port,
        "POST",
        &format!("/catalog/refresh?database={encoded}"),
    );
    assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (v["database"].as_str(), &v["tables"]),
        (Some(db.as_str()), &1.into())
    );
    // A new table appears after a refresh, with a new schema version.
    direct
        .batch_execute("CREATE TABLE shop_returns (id int PRIMARY KEY, order_id int REFERENCES shop_orders(id))")
        .await
        .unwrap();
    let (status, body) = admin(proxy.admin_port, "POST", "/catalog/refresh");
    assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["tables"], 2, "{body}");
    assert_eq!(v["relations"], 1, "{body}");
    assert_ne!(v["version"], first["version"]);
    // An edited annotation file is re-read by the refresh (the CLI form this time).
    std::fs::write(
        schemas.join("a.toml"),
        "[tables.shop_orders]\nsynonyms = [\"purchases\"]\n[tables.shop_ordrs]\n",
    )
    .unwrap();
    let (ok, out, err) = querent(&["catalog", "refresh", "--admin", &addr]);
    assert!(ok, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["annotation_problems"], 1, "{out}");
    // A broken file fails the refresh, names the problem, and keeps the catalog in force.
    std::fs::write(schemas.join("a.toml"), "[tables.shop_orders\n").unwrap();
    let (ok, out, err) = querent(&["catalog", "refresh", "--admin", &addr]);
    assert!(!ok);
    assert!(err.contains("refresh failed: HTTP/1.1 502"), "{err}");
    assert!(out.contains("a.toml:1"), "{out}");
    let (_, body) = admin(proxy.admin_port, "GET", "/catalog");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["databases"][0]["tables"], 2, "{body}");
    assert!(v["databases"][0]["error"]
        .as_str()
        .unwrap()
        .contains("a.toml:1"));
    drop(proxy);
    drop(direct);
    let _ = admin_db
        .batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        .await;
}
