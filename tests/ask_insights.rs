//! What follows an ASK's rows on the wire, through the real proxy: insights with figures a
//! person can check, the chart's link (served by the admin port), and follow-up questions
//! that answer — in the simple protocol (psql) and the extended one (tokio-postgres), bounded
//! by `ask.insight_rows`; and `ask_insights()` for a guarded user computed on her rows only.

mod common;
mod leak;

use common::Proxy;

fn guarded() -> Proxy {
    leak::guarded_proxy()
}

fn psql(p: &Proxy, user: &str, cmd: &str) -> (String, String) {
    leak::psql(p.port, user, &[], cmd)
}

fn notices<'a>(err: &'a str, prefix: &str) -> Vec<&'a str> {
    err.lines()
        .filter_map(|l| l.strip_prefix("NOTICE:  "))
        .filter_map(|l| l.strip_prefix(prefix))
        .collect()
}

#[tokio::test]
async fn insights_chart_and_next_questions_follow_the_rows() {
    leak::ensure_dataset().await;
    let p = guarded();
    let (out, err) = psql(&p, leak::ADMIN, "ASK 'revenue by month in 2023'");
    assert_eq!(out.lines().count(), 12, "{out}{err}");
    let insights = notices(&err, "ASK insight: ");
    assert!(!insights.is_empty() && insights.len() <= 3, "{err}");
    // The monthly revenue of 2023 rises: the trend is found, with the first and last month.
    assert!(
        insights.iter().any(|i| i.starts_with("Revenue rose")
            && i.contains("2023-01")
            && i.contains("2023-12")),
        "{insights:?}"
    );
    // The last period's change, checked against the rows themselves.
    let last: Vec<f64> = out
        .lines()
        .rev()
        .take(2)
        .map(|l| l.split('|').nth(1).unwrap().parse().unwrap())
        .collect();
    let pct = (last[0] / last[1] - 1.0) * 100.0;
    let said = format!("{:.1} %", pct.abs());
    assert!(
        insights.iter().any(|i| i.contains(&said)),
        "{said} not in {insights:?}"
    );
    // The chart link is served.
    let chart = notices(&err, "ASK chart: ");
    assert_eq!(chart.len(), 1, "{err}");
    let path = chart[0]
        .split_once(&format!("127.0.0.1:{}", p.admin_port))
        .unwrap()
        .1;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", p.admin_port)).unwrap();
    use std::io::{Read, Write};
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut svg = String::new();
    s.read_to_string(&mut svg).unwrap();
    assert!(
        svg.starts_with("HTTP/1.1 200") && svg.contains("<svg"),
        "{}",
        &svg[..100.min(svg.len())]
    );
    // Each next question answers.
    let next = notices(&err, "ASK next: ");
    assert!((2..=3).contains(&next.len()), "{err}");
    for q in next {
        let (rows, e) = psql(&p, leak::ADMIN, &format!("ASK '{q}'"));
        assert!(!rows.is_empty() && !e.contains("ERROR"), "{q}: {e}");
    }
    // EXPLAIN ASK and a declined question get none of it.
    let (_, err) = psql(&p, leak::ADMIN, "EXPLAIN ASK 'revenue by month in 2023'");
    assert!(notices(&err, "ASK insight: ").is_empty(), "{err}");
}

#[tokio::test]
async fn the_extended_protocol_gets_them_too() {
    leak::ensure_dataset().await;
    let p = guarded();
    let c = leak::connect_proxy(p.port, leak::ADMIN, leak::ADMIN_PW, None)
        .await
        .unwrap();
    let rows = c
        .client
        .query("ASK 'revenue by month in 2023'", &[])
        .await
        .unwrap();
    assert_eq!(rows.len(), 12);
    // Binary results (tokio-postgres asks for them) are read too.
    let n = c.notices.lock().unwrap().clone();
    assert!(
        n.iter().any(|m| m.starts_with("ASK insight: Revenue rose")),
        "{n:?}"
    );
    assert!(n.iter().any(|m| m.starts_with("ASK next: ")), "{n:?}");
}

/// psycopg's prepare=True parses in one round trip and binds, describes and executes in the
/// next: the rows are still read.
#[tokio::test]
async fn a_question_prepared_first_and_run_next_gets_them_too() {
    leak::ensure_dataset().await;
    let p = Proxy::start(&["--schemas", "schemas"]);
    let script = format!(
        "import psycopg\n\
         c = psycopg.connect('host=127.0.0.1 port={} user=root dbname={}', autocommit=True)\n\
         seen = []\n\
         c.add_notice_handler(lambda d: seen.append(d.message_primary))\n\
         rows = c.execute(\"ASK 'revenue by month in 2023'\", prepare=True).fetchall()\n\
         print(len(rows))\n\
         print('\\n'.join(seen))\n",
        p.port,
        leak::DB
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("12\n"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("ASK insight: Revenue rose"), "{text}");
    assert!(text.contains("ASK next: "), "{text}");
}

#[tokio::test]
async fn insights_say_when_they_read_only_the_first_rows() {
    leak::ensure_dataset().await;
    let users = leak::users_file();
    let p = Proxy::start_env(
        &[
            "--schemas",
            "schemas",
            "--auth",
            "scram",
            "--users",
            users.to_str().unwrap(),
        ],
        &[("QUERENT_ASK_INSIGHT_ROWS", "6")],
    );
    let (out, err) = psql(&p, leak::ADMIN, "ASK 'revenue by month in 2023'");
    assert_eq!(
        out.lines().count(),
        12,
        "all rows still reach the client: {out}{err}"
    );
    let insights = notices(&err, "ASK insight: ");
    assert!(insights[0].contains("first 6 of 12 rows"), "{insights:?}");
}

#[tokio::test]
async fn ask_insights_of_a_guarded_user_use_her_rows_only() {
    leak::ensure_dataset().await;
    let p = guarded();
    let q = "SELECT kind, text FROM ask_insights('revenue by month in 2023')";
    let (all, err) = psql(&p, leak::ADMIN, q);
    assert!(all.contains("trend|Revenue rose"), "{all}{err}");
    let (mine, err) = psql(&p, leak::ALICE, q);
    assert!(!mine.is_empty(), "{err}");
    assert_ne!(all, mine);
    // Her figures are those of her rows: the totals she may see, never the whole's.
    let (rows, _) = psql(
        &p,
        leak::ALICE,
        "SELECT round(sum(revenue)) FROM ask('revenue by month in 2023')",
    );
    let (whole, _) = psql(
        &p,
        leak::ADMIN,
        "SELECT round(sum(revenue)) FROM ask('revenue by month in 2023')",
    );
    let fmt = |s: &str| {
        let n: i64 = s.trim().parse().unwrap();
        let d = n.to_string();
        let mut out = String::new();
        for (i, ch) in d.chars().enumerate() {
            if i > 0 && (d.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(ch);
        }
        out
    };
    assert!(!mine.contains(&fmt(&whole)), "{mine}");
    let (prev, _) = psql(
        &p,
        leak::ALICE,
        "SELECT text FROM ask_insights('revenue by month in 2023') WHERE kind = 'previous_period'",
    );
    if !prev.is_empty() {
        assert!(prev.contains(&fmt(&rows)), "{prev} / {rows}");
    }
    // Columns and types are stable for tools that describe first.
    let (cols, _) = psql(
        &p,
        leak::ALICE,
        "SELECT * FROM ask_insights('revenue by month in 2023') WHERE false",
    );
    assert!(cols.is_empty());
    let c = leak::connect_proxy(p.port, leak::ALICE, leak::ALICE_PW, None)
        .await
        .unwrap();
    let st = c
        .client
        .prepare("SELECT * FROM ask_insights('revenue by month in 2023')")
        .await
        .unwrap();
    let names: Vec<(&str, &str)> = st
        .columns()
        .iter()
        .map(|c| (c.name(), c.type_().name()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("kind", "text"),
            ("text", "text"),
            ("score", "float8"),
            ("columns", "text")
        ]
    );
}
