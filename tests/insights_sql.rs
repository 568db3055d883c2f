//! The insight agent against the real PostgreSQL: every figure every insight states is
//! recomputed in SQL from the same rows (percent changes, shares, top-k share and Pareto
//! count by window sums, Theil-Sen as `percentile_cont(0.5)` over pairwise slopes,
//! Mann-Kendall S by a self-join and its p-value, Pearson by `corr()`, Spearman by the
//! correlation of average ranks, medians and MADs by `percentile_cont`, the best split by
//! its residual sum of squares) and must agree to 1e-6 relative; a figure name with no SQL
//! counterpart fails the test. The text must state each figure as rounded for people.

use querent::ask::frame::{Context, Frame};
use querent::ask::insights::{insights, Insight};
use querent::ask::plan::Grain;
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

async fn connect() -> Client {
    let (client, conn) =
        tokio_postgres::connect("host=127.0.0.1 port=5432 user=root dbname=test", NoTls)
            .await
            .expect("connect to the local PostgreSQL");
    tokio::spawn(conn);
    client
}

/// A linear congruential generator: deterministic noise in -1..1.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

/// Runs `sql` and reads its rows into a frame of at most `limit` rows, as the session does:
/// type OIDs from the statement's description, values from the text protocol.
async fn frame(client: &Client, sql: &str, limit: usize) -> Frame {
    let stmt = client.prepare(sql).await.expect("prepare");
    let cols: Vec<(String, u32)> = stmt
        .columns()
        .iter()
        .map(|c| (c.name().to_string(), c.type_().oid()))
        .collect();
    let mut f = Frame::new(&cols, limit);
    for msg in client.simple_query(sql).await.expect("query") {
        if let SimpleQueryMessage::Row(row) = msg {
            let values: Vec<Option<&[u8]>> = (0..cols.len())
                .map(|i| row.get(i).map(str::as_bytes))
                .collect();
            f.push_text(&values);
        }
    }
    f
}

async fn one(client: &Client, sql: &str) -> f64 {
    let row = client
        .query_one(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}: {sql}"));
    row.get::<_, f64>(0)
}

async fn setup(client: &Client, schema: &str) {
    let mut rng = Lcg(42);
    let mut sql = format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};
         CREATE TABLE {schema}.sales (day date, amount numeric(12,2));
         CREATE TABLE {schema}.steps (month date, visits numeric(10,1));
         CREATE TABLE {schema}.regions (region text, revenue numeric(12,2), orders int);
         CREATE FUNCTION {schema}.phi(x float8) RETURNS float8 LANGUAGE sql IMMUTABLE AS $$
           SELECT 0.5 * (1 + sign(x) * (1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741
             + t * (-1.453152027 + t * 1.061405429)))) * exp(-(x * x) / 2))) FROM (SELECT 1.0
             / (1.0 + 0.3275911 * abs(x) / sqrt(2.0::float8)) AS t) q $$;\n"
    );
    // 48 months (2020-01 .. 2023-12), 2 to 6 sales a month, a rising level, one spike.
    for m in 0..48 {
        let k = 2 + (m * 7) % 5;
        let spike = if m == 39 { 6_000.0 } else { 0.0 };
        let base = 10_000.0 + 250.0 * m as f64 + 800.0 * rng.next() + spike;
        for j in 0..k {
            let day = format!("{}-{:02}-{:02}", 2020 + m / 12, m % 12 + 1, 1 + 5 * j);
            sql.push_str(&format!(
                "INSERT INTO {schema}.sales VALUES ('{day}', {:.2});\n",
                base / k as f64
            ));
        }
    }
    // A level shift at the 19th month.
    for m in 0..30 {
        let v = if m < 18 { 500.0 } else { 800.0 } + 20.0 * rng.next();
        let month = format!("{}-{:02}-01", 2021 + m / 12, m % 12 + 1);
        sql.push_str(&format!(
            "INSERT INTO {schema}.steps VALUES ('{month}', {v:.1});\n"
        ));
    }
    // Twelve regions: one dominant, one tiny, orders following revenue.
    let names = [
        "Alps",
        "Baltic",
        "Coast",
        "Delta",
        "East",
        "Fjord",
        "Gulf",
        "Highlands",
        "Isles",
        "Jura",
        "Karst",
        "Lakes",
    ];
    for (i, name) in names.iter().enumerate() {
        let revenue = match i {
            4 => 50_000.0,
            9 => 500.0,
            _ => 5_000.0 + 1_000.0 * rng.next(),
        };
        let orders = (revenue / 40.0 + 10.0 * rng.next()).round();
        sql.push_str(&format!(
            "INSERT INTO {schema}.regions VALUES ('{name}', {revenue:.2}, {orders});\n"
        ));
    }
    client.batch_execute(&sql).await.expect("setup");
}

/// Where an insight's figures come from: the rows (as SQL) the frame was read from.
struct Source<'a> {
    /// The test's schema (for its `phi`, the normal distribution function).
    schema: &'a str,
    /// The rows, as a subquery.
    rows: String,
    /// The time column, for a series.
    time: Option<&'a str>,
    /// The previous period's rows, for `previous_period`.
    previous: Option<String>,
    /// The unrestricted rows, for `rows_total`.
    all: String,
    /// The frame's row limit.
    limit: usize,
}

/// The series `pts(i, t, y)` of measure `m` and its Theil-Sen line `line(slope, icpt)`.
fn series_ctes(src: &Source, m: &str) -> String {
    let t = src.time.expect("a series has a time column");
    format!(
        "pts AS (SELECT (row_number() OVER (ORDER BY {t}) - 1)::float8 AS i, {t} AS t,
                        {m}::float8 AS y FROM ({rows}) q WHERE {m} IS NOT NULL),
         nn AS (SELECT count(*)::float8 AS n FROM pts),
         fit AS (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY (b.y - a.y) / (b.i - a.i))
                 AS slope FROM pts a JOIN pts b ON b.i > a.i),
         line AS (SELECT slope, (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY y - slope * i)
                  FROM pts) AS icpt FROM fit),
         res AS (SELECT i, t, y, y - (icpt + slope * i) AS r, icpt + slope * i AS e
                 FROM pts, line),
         rmed AS (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY r) AS med FROM res),
         rmad AS (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(r - med)) AS mad
                  FROM res, rmed),
         mk AS (SELECT sum(sign(b.y - a.y)) AS s FROM pts a JOIN pts b ON b.i > a.i),
         ties AS (SELECT coalesce(sum(c * (c - 1) * (2 * c + 5)), 0) AS tt
                  FROM (SELECT count(*)::float8 AS c FROM pts GROUP BY y) g),
         mkz AS (SELECT (s - sign(s)) / sqrt((n * (n - 1) * (2 * n + 5) - tt) / 18) AS z
                 FROM mk, nn, ties),
         splits AS (SELECT k, avg(y) FILTER (WHERE i < k) AS before,
                           avg(y) FILTER (WHERE i >= k) AS after
                    FROM pts, generate_series(3, (SELECT n FROM nn)::int - 3) k GROUP BY k),
         best AS (SELECT s.k, s.before, s.after FROM splits s JOIN pts p ON true
                  GROUP BY s.k, s.before, s.after
                  ORDER BY sum(CASE WHEN p.i < s.k THEN (p.y - s.before) ^ 2
                                    ELSE (p.y - s.after) ^ 2 END), s.k LIMIT 1)",
        rows = src.rows
    )
}

/// The label an outlier's text begins with, and the row it names.
fn lead_label<'a>(ins: &'a Insight, until: &str) -> &'a str {
    let text = match ins.text.split_once(" rows.) ") {
        Some((note, rest)) if note.starts_with("(Based on") => rest,
        _ => &ins.text,
    };
    text.split(until).next().expect("a label")
}

/// The SQL that computes figure `name` of `ins`.
fn figure_sql(src: &Source, ins: &Insight, name: &str) -> String {
    let measure = ins.columns.last().expect("a measure column").as_str();
    let series = |expr: &str| format!("WITH {} {expr}", series_ctes(src, measure));
    let breakdown = |expr: &str| {
        let c = &ins.columns[0];
        format!(
            "WITH b AS (SELECT {c}::text AS label, {measure}::float8 AS y FROM ({rows}) q
                        WHERE {measure} IS NOT NULL),
                  med AS (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY y) AS med,
                                 sum(y) AS total, count(*)::float8 AS n FROM b),
                  mad AS (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(y - med)) AS mad
                          FROM b, med),
                  ranked AS (SELECT y, row_number() OVER (ORDER BY y DESC) AS rk,
                                    sum(y) OVER (ORDER BY y DESC ROWS UNBOUNDED PRECEDING) AS run
                             FROM b)
             {expr}",
            rows = src.rows
        )
    };
    let lead = |until: &str| lead_label(ins, until).replace('\'', "''");
    let pct = |new: &str, old: &str| format!("({new} - {old}) / {old} * 100");
    match (ins.kind, name) {
        (_, "rows_read") => format!(
            "SELECT least(count(*), {})::float8 FROM ({}) q",
            src.limit, src.all
        ),
        (_, "rows_total") => format!("SELECT count(*)::float8 FROM ({}) q", src.all),
        ("trend", "slope") => series("SELECT slope FROM line"),
        ("trend", "fit_first") => series("SELECT icpt FROM line"),
        ("trend", "fit_last") => series("SELECT icpt + slope * (n - 1) FROM line, nn"),
        ("trend", "change_pct") => series(&format!(
            "SELECT {} FROM line, nn",
            pct("(icpt + slope * (n - 1))", "icpt")
        )),
        ("trend", "s") => series("SELECT s FROM mk"),
        ("trend", "p") => series(&format!(
            "SELECT 2 * (1 - {}.phi(abs(z))) FROM mkz",
            src.schema
        )),
        ("change_point", "mean_before") => series("SELECT before FROM best"),
        ("change_point", "mean_after") => series("SELECT after FROM best"),
        ("change_point", "shift_pct") => {
            series(&format!("SELECT {} FROM best", pct("after", "before")))
        }
        ("outlier_period", "value") => series(&format!(
            "SELECT y FROM res WHERE to_char(t, 'YYYY-MM') = '{}'",
            lead(" stands out")
        )),
        ("outlier_period", "expected") => series(&format!(
            "SELECT e FROM res WHERE to_char(t, 'YYYY-MM') = '{}'",
            lead(" stands out")
        )),
        ("outlier_period", "z") => series(&format!(
            "SELECT (r - med) / (1.4826 * mad) FROM res, rmed, rmad
             WHERE to_char(t, 'YYYY-MM') = '{}'",
            lead(" stands out")
        )),
        ("period_change", "last") => series("SELECT y FROM pts, nn WHERE i = n - 1"),
        ("period_change", "previous") => series("SELECT y FROM pts, nn WHERE i = n - 2"),
        ("period_change", "change_pct") => series(&format!(
            "SELECT {} FROM pts a, pts b, nn WHERE a.i = n - 1 AND b.i = n - 2",
            pct("a.y", "b.y")
        )),
        ("previous_period", "total") => {
            format!("SELECT sum({measure})::float8 FROM ({}) q", src.rows)
        }
        ("previous_period", "previous_total") => format!(
            "SELECT sum({measure})::float8 FROM ({}) q",
            src.previous.as_deref().expect("previous rows")
        ),
        ("previous_period", "change_pct") => format!(
            "SELECT {} FROM (SELECT sum({measure})::float8 AS now FROM ({}) q) a,
                            (SELECT sum({measure})::float8 AS before FROM ({}) q) b",
            pct("now", "before"),
            src.rows,
            src.previous.as_deref().expect("previous rows")
        ),
        ("leader" | "laggard", "value") => breakdown(&extreme(ins.kind, "y")),
        ("leader" | "laggard", "share_pct") => {
            breakdown(&extreme(ins.kind, "y / (SELECT total FROM med) * 100"))
        }
        ("leader", "ratio_to_median") => breakdown(&extreme(ins.kind, "y / (SELECT med FROM med)")),
        ("laggard", "median_pct") => {
            breakdown(&extreme(ins.kind, "y / (SELECT med FROM med) * 100"))
        }
        ("leader" | "laggard" | "outlier_category", "median") => breakdown("SELECT med FROM med"),
        ("concentration", "categories") => breakdown("SELECT n FROM med"),
        ("concentration", "top_k") => breakdown("SELECT least(3, floor(n / 2))::float8 FROM med"),
        ("concentration", "top_k_share_pct") => breakdown(
            "SELECT sum(y) / (SELECT total FROM med) * 100 FROM ranked
             WHERE rk <= (SELECT least(3, floor(n / 2)) FROM med)",
        ),
        ("concentration", "pareto_count") => breakdown(
            "SELECT min(rk)::float8 FROM ranked WHERE run >= 0.8 * (SELECT total FROM med)",
        ),
        ("outlier_category", "value") => breakdown(&format!(
            "SELECT y FROM b WHERE label = '{}'",
            lead(" is far")
        )),
        ("outlier_category", "z") => breakdown(&format!(
            "SELECT (y - med) / (1.4826 * mad) FROM b, med, mad WHERE label = '{}'",
            lead(" is far")
        )),
        ("correlation", _) => correlation_sql(src, ins, name),
        (kind, name) => panic!(
            "no SQL counterpart for figure {name} of {kind}: {}",
            ins.text
        ),
    }
}

/// `SELECT expr` at the leader's (largest) or laggard's (smallest) row.
fn extreme(kind: &str, expr: &str) -> String {
    let order = if kind == "leader" { "DESC" } else { "ASC" };
    format!("SELECT {expr} FROM b ORDER BY y {order} LIMIT 1")
}

fn correlation_sql(src: &Source, ins: &Insight, name: &str) -> String {
    let (a, b) = (&ins.columns[0], &ins.columns[1]);
    let schema = src.schema;
    let base = format!(
        "WITH p AS (SELECT {a}::float8 AS x, {b}::float8 AS y FROM ({rows}) q
                    WHERE {a} IS NOT NULL AND {b} IS NOT NULL),
              rk AS (SELECT rank() OVER (ORDER BY x) + (count(*) OVER (PARTITION BY x) - 1) / 2.0
                            AS rx,
                            rank() OVER (ORDER BY y) + (count(*) OVER (PARTITION BY y) - 1) / 2.0
                            AS ry FROM p)",
        rows = src.rows
    );
    let expr = match name {
        "n" => "SELECT count(*)::float8 FROM p".to_string(),
        "r" => "SELECT corr(x, y) FROM p".to_string(),
        "p" => format!(
            "SELECT 2 * (1 - {schema}.phi(abs(atanh(corr(x, y)) * sqrt(count(*) - 3)))) FROM p"
        ),
        "rho" => "SELECT corr(rx::float8, ry::float8) FROM rk".to_string(),
        other => panic!(
            "no SQL counterpart for figure {other} of correlation: {}",
            ins.text
        ),
    };
    format!("{base} {expr}")
}

/// `x` with `decimals` decimals and thousands separators, written again here so the test
/// does not check the agent's formatting with itself.
fn people(x: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, x.abs());
    let (int, frac) = match s.find('.') {
        Some(dot) => (&s[..dot], &s[dot..]),
        None => (s.as_str(), ""),
    };
    let digits: Vec<char> = int.chars().collect();
    let mut out = String::new();
    for (i, d) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(*d);
    }
    out + frac
}

/// How the text shows figure `name` (without its sign: verbs carry the direction).
fn shown(name: &str, v: f64) -> String {
    match name {
        "p" if v < 0.001 => "p < 0.001".into(),
        "p" => format!("p = {v:.3}"),
        "r" | "rho" => people(v, 2),
        "z" => people(v, 1),
        "ratio_to_median" => format!("{}×", people(v, 1)),
        "s" | "n" | "top_k" | "categories" | "pareto_count" | "rows_read" | "rows_total"
        | "periods_read" | "periods_total" => people(v, 0),
        _ if name.ends_with("_pct") => format!("{} %", people(v, 1)),
        _ if v.fract() == 0.0 => people(v, 0),
        _ if v.abs() >= 1_000.0 => people(v, 0),
        _ if v.abs() >= 10.0 => people(v, 1),
        _ => people(v, 2),
    }
}

fn same(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()) + 1e-12
}

/// Checks every figure of `found` in SQL and in the text; returns the kinds seen.
async fn check(client: &Client, src: &Source<'_>, found: &[Insight]) -> Vec<&'static str> {
    let mut checked = 0;
    for ins in found {
        assert!(!ins.figures.is_empty(), "no figures: {ins:?}");
        for f in &ins.figures {
            let sql = figure_sql(src, ins, &f.name);
            let want = one(client, &sql).await;
            assert!(
                same(f.value, want),
                "{} {}: agent {} vs SQL {want}\n{}\n{sql}",
                ins.kind,
                f.name,
                f.value,
                ins.text
            );
            let text = shown(&f.name, f.value);
            assert!(
                ins.text.contains(&text),
                "{} {} = {}: {text:?} not in {:?}",
                ins.kind,
                f.name,
                f.value,
                ins.text
            );
            checked += 1;
        }
    }
    eprintln!("checked {checked} figures of {} insights", found.len());
    found.iter().map(|i| i.kind).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_figure_agrees_with_sql() {
    let client = connect().await;
    let schema = format!("insights_sql_{}", std::process::id());
    setup(&client, &schema).await;

    let monthly = |from: &str, to: &str| {
        format!(
            "SELECT date_trunc('month', day)::date AS month, sum(amount) AS total_revenue,
                    count(*) AS orders
             FROM {schema}.sales WHERE day >= '{from}' AND day < '{to}' GROUP BY 1 ORDER BY 1"
        )
    };
    let now = monthly("2022-01-01", "2024-01-01");
    let before = monthly("2020-01-01", "2022-01-01");
    let current = frame(&client, &now, 1_000).await;
    let previous = frame(&client, &before, 1_000).await;
    let ctx = Context {
        grain: Some(Grain::Month),
        ..Context::default()
    };
    let found = insights(&current, &ctx, Some(&previous), 100);
    for i in &found {
        eprintln!("[{} {:.3}] {}", i.kind, i.score, i.text);
    }
    let src = Source {
        schema: &schema,
        rows: now.clone(),
        time: Some("month"),
        previous: Some(before),
        all: now.clone(),
        limit: 1_000,
    };
    let kinds = check(&client, &src, &found).await;
    for k in [
        "trend",
        "outlier_period",
        "period_change",
        "previous_period",
    ] {
        assert!(kinds.contains(&k), "no {k} in {kinds:?}");
    }

    let steps = format!("SELECT month, visits FROM {schema}.steps ORDER BY month");
    let found = insights(
        &frame(&client, &steps, 1_000).await,
        &Context::default(),
        None,
        100,
    );
    for i in &found {
        eprintln!("[{} {:.3}] {}", i.kind, i.score, i.text);
    }
    let src = Source {
        schema: &schema,
        rows: steps.clone(),
        time: Some("month"),
        previous: None,
        all: steps.clone(),
        limit: 1_000,
    };
    assert!(check(&client, &src, &found).await.contains(&"change_point"));
    let cp = found
        .iter()
        .find(|i| i.kind == "change_point")
        .expect("a change point");
    assert!(cp.text.contains("shifted at 2022-07"), "{}", cp.text);

    let regions = format!("SELECT region, revenue, orders FROM {schema}.regions ORDER BY region");
    let found = insights(
        &frame(&client, &regions, 1_000).await,
        &Context::default(),
        None,
        100,
    );
    for i in &found {
        eprintln!("[{} {:.3}] {}", i.kind, i.score, i.text);
    }
    let src = Source {
        schema: &schema,
        rows: regions.clone(),
        time: None,
        previous: None,
        all: regions.clone(),
        limit: 1_000,
    };
    let kinds = check(&client, &src, &found).await;
    for k in [
        "leader",
        "laggard",
        "concentration",
        "outlier_category",
        "correlation",
    ] {
        assert!(kinds.contains(&k), "no {k} in {kinds:?}");
    }

    // Truncated: the agent reads the first 8 regions and says so.
    let found = insights(
        &frame(&client, &regions, 8).await,
        &Context::default(),
        None,
        3,
    );
    let src = Source {
        schema: &schema,
        rows: format!("{regions} LIMIT 8"),
        time: None,
        previous: None,
        all: regions.clone(),
        limit: 8,
    };
    check(&client, &src, &found).await;
    assert!(
        found[0]
            .text
            .starts_with("(Based on the first 8 of 12 rows.)"),
        "{found:?}"
    );

    client
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .expect("drop the schema");
}
