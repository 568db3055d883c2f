//! The guard seen from real clients: psql's and pgjdbc's catalog introspection for a guarded
//! role (only readable tables and columns), and the audit trail of its statements.

mod common;
mod leak;

use common::Proxy;
use std::process::Command;

fn guarded_proxy(audit: &std::path::Path) -> Proxy {
    let users = leak::users_file();
    Proxy::start_env(
        &[
            "--policies",
            "policies",
            "--auth",
            "scram",
            "--users",
            users.to_str().unwrap(),
        ],
        &[
            ("QUERENT_AUDIT_FILE", audit.to_str().unwrap()),
            ("QUERENT_GUARD_MASK_SECRET", "audit-test-mask-secret"),
        ],
    )
}

fn psql(p: &Proxy, user: &str, cmd: &str) -> (String, String) {
    leak::psql(p.port, user, &[], cmd)
}

#[tokio::test]
async fn psql_catalog_shows_only_what_the_role_may_read() {
    leak::ensure_dataset().await;
    let audit = std::env::temp_dir().join(format!("querent-audit-{}.jsonl", std::process::id()));
    let p = guarded_proxy(&audit);
    let (dt, err) = psql(&p, "alice", "\\dt retail.*");
    assert!(
        dt.contains("retail|stores|table") && dt.contains("retail|employees|table"),
        "{dt}{err}"
    );
    let (d, err) = psql(&p, "alice", "\\d retail.employees");
    assert!(d.contains("hire_date") && !d.contains("salary"), "{d}{err}");
    let (cols, _) = psql(&p, "alice", "SELECT column_name FROM information_schema.columns WHERE table_name = 'employees' ORDER BY ordinal_position");
    assert_eq!(
        cols.lines().collect::<Vec<_>>(),
        ["employee_id", "store_id", "name", "title", "hire_date"]
    );
    let (tables, _) = psql(&p, "alice", "SELECT count(*) FROM pg_class WHERE relnamespace = 'retail'::regnamespace AND relkind = 'r'");
    assert_eq!(tables.trim(), "9");
    assert!(
        p.log_text().contains("the upstream login is a superuser"),
        "policies with a superuser upstream login are warned about at start"
    );
    let (admin_d, _) = psql(&p, "admin", "\\d retail.employees");
    assert!(
        admin_d.contains("salary"),
        "the trusted role sees everything: {admin_d}"
    );
}

#[tokio::test]
async fn audit_records_every_decision() {
    leak::ensure_dataset().await;
    let audit = std::env::temp_dir().join(format!("querent-audit-d-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&audit);
    let p = guarded_proxy(&audit);
    psql(&p, "alice", "SELECT count(*) FROM retail.stores");
    psql(&p, "alice", "SELECT salary FROM retail.employees");
    psql(&p, "admin", "SELECT 1");
    psql(&p, "alice", "SELECT email FROM retail.customers LIMIT 1");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let text = loop {
        let t = std::fs::read_to_string(&audit).unwrap_or_default();
        if t.lines().count() >= 4 || std::time::Instant::now() > deadline {
            break t;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let find = |sql: &str| {
        records
            .iter()
            .find(|r| r["original_sql"] == sql)
            .unwrap_or_else(|| panic!("no record for {sql}: {text}"))
    };
    let rewrite = find("SELECT count(*) FROM retail.stores");
    assert_eq!(rewrite["decision"], "rewrite");
    assert_eq!(rewrite["path"], "guarded");
    assert_eq!(rewrite["user"], "alice");
    assert_eq!(rewrite["rows"], 1);
    assert!(rewrite["rewritten_sql"]
        .as_str()
        .unwrap()
        .contains("region_id = '3'"));
    assert!(rewrite["client_addr"]
        .as_str()
        .unwrap()
        .starts_with("127.0.0.1:"));
    let deny = find("SELECT salary FROM retail.employees");
    assert_eq!(deny["decision"], "deny");
    assert_eq!(deny["sqlstate"], "42501");
    assert!(deny["reason"].as_str().unwrap().contains("salary"));
    let masked = find("SELECT email FROM retail.customers LIMIT 1");
    let rewritten = masked["rewritten_sql"].as_str().unwrap();
    assert!(
        rewritten.contains("<guard.mask_secret>") && !text.contains("audit-test-mask-secret"),
        "the audit log never holds the hash mask's key: {rewritten}"
    );
    let trusted = find("SELECT 1");
    assert_eq!(trusted["path"], "trusted");
    assert_eq!(trusted["decision"], "allow");
}

#[test]
fn pgjdbc_metadata_for_a_guarded_role() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(leak::ensure_dataset());
    let audit = std::env::temp_dir().join(format!("querent-audit-j-{}.jsonl", std::process::id()));
    let p = guarded_proxy(&audit);
    let out = Command::new("java")
        .args(["-cp", "/usr/share/java/postgresql.jar", "tests/clients/jdbc/GuardedMetadata.java"])
        .arg(format!("jdbc:postgresql://127.0.0.1:{}/querent_retail?user=alice&password={}&prepareThreshold=1", p.port, leak::ALICE_PW))
        .current_dir(common::repo())
        .output()
        .expect("java (scripts/install-test-deps.sh)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        p.log_text()
    );
    assert!(stdout.contains("tables: categories,customers,employees,order_items,orders,products,regions,returns,stores"), "{stdout}");
    assert!(
        stdout.contains("employees columns: employee_id,store_id,name,title,hire_date\n"),
        "{stdout}"
    );
    assert!(stdout.contains("stores rows: 8"), "{stdout}");
    assert!(
        stdout.contains("orders fks: customer_id->customers,store_id->stores"),
        "{stdout}"
    );
    assert!(stdout.contains("employees indexes: 2"), "{stdout}");
    assert!(stdout.contains("stores pk: store_id"), "{stdout}");
}

/// A user with no role in the policies is told so at login (a NOTICE) and by every refusal,
/// and ASK declines saying the user can read nothing (not that it misunderstood the words).
#[test]
fn a_user_without_a_role_is_told_so() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(leak::ensure_dataset());
    let dir = std::env::temp_dir().join(format!("querent-norole-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let users = dir.join("users.toml");
    let st = Command::new(env!("CARGO_BIN_EXE_querent"))
        .args(["user", "add", "nobody", "--users"])
        .arg(&users)
        .args(["--password", "pw"])
        .status()
        .unwrap();
    assert!(st.success());
    let p = Proxy::start(&[
        "--policies",
        "policies",
        "--auth",
        "scram",
        "--users",
        users.to_str().unwrap(),
    ]);
    let run = |sql: &str| {
        let out = Command::new("psql")
            .arg(format!(
                "host=127.0.0.1 port={} user=nobody dbname=querent_retail",
                p.port
            ))
            .args(["-XAt", "-c", sql])
            .env("PGPASSWORD", "pw")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = run("SELECT count(*) FROM retail.stores");
    assert!(
        err.contains("NOTICE:  user \"nobody\" has no role in the policies"),
        "{err}"
    );
    assert!(
        err.contains("the user has no role in the policies, so it can read no table"),
        "{err}"
    );
    let err = run("ASK 'how many stores are there'");
    assert!(
        err.contains("ASK cannot answer: user \"nobody\" has no role in the policies"),
        "{err}"
    );
}

/// SQLAlchemy 2 `inspect()` (schemas, tables, columns, keys, indexes) as a guarded user,
/// through psycopg2 and psycopg 3: its schema-qualified catalog columns
/// (`pg_catalog.pg_namespace.nspname`) must survive the catalog filters.
#[test]
fn sqlalchemy_reflection_for_a_guarded_role() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(leak::ensure_dataset());
    let audit = std::env::temp_dir().join(format!("querent-audit-sa-{}.jsonl", std::process::id()));
    let p = guarded_proxy(&audit);
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(python)
        .arg("tests/clients/python/sqlalchemy_reflection_test.py")
        .args([
            &p.port.to_string(),
            "alice",
            leak::ALICE_PW,
            "querent_retail",
        ])
        .current_dir(common::repo())
        .output()
        .expect("python3 with sqlalchemy (scripts/install-test-deps.sh)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        p.log_text()
    );
    assert_eq!(stdout.matches("\nok ").count(), 18, "{stdout}");
}

/// A role's `statement_timeout` cancels its statements upstream (57014), whatever the
/// proxy-wide timeout is.
#[tokio::test]
async fn policy_statement_timeout_cancels() {
    let dir = std::env::temp_dir().join(format!("querent-slow-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("policies")).unwrap();
    std::fs::write(
        dir.join("policies/slow.toml"),
        "[role.slow]\nread_only = true\ntables = [\"public.*\"]\nstatement_timeout = \"1s\"\n",
    )
    .unwrap();
    let users = dir.join("users.toml");
    let st = Command::new(env!("CARGO_BIN_EXE_querent"))
        .args(["user", "add", "sloth", "--users"])
        .arg(&users)
        .args(["--password", "x", "--role", "slow"])
        .status()
        .unwrap();
    assert!(st.success());
    let p = Proxy::start(&[
        "--policies",
        dir.join("policies").to_str().unwrap(),
        "--users",
        users.to_str().unwrap(),
    ]);
    let c = common::connect(&p.dsn("sloth")).await.unwrap();
    let t = std::time::Instant::now();
    let err = c
        .simple_query("SELECT count(*) FROM generate_series(1, 100000000000)")
        .await
        .expect_err("cancelled by the policy's statement_timeout");
    assert_eq!(
        err.as_db_error().map(|e| e.code().code()),
        Some("57014"),
        "{err:?}"
    );
    assert!(t.elapsed() < std::time::Duration::from_secs(20));
    let rows = c
        .simple_query("SELECT 1")
        .await
        .expect("the session goes on");
    assert!(rows
        .iter()
        .any(|m| matches!(m, tokio_postgres::SimpleQueryMessage::Row(_))));
}
