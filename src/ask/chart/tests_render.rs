//! The SVG (well-formed XML, data escaped, no URL but the namespace, one mark per row), the
//! store (ids, bounds) and the admin port serving stored charts.

use super::tests::{ctx, frame, months, regions, NUM, TEXT};
use super::*;
use crate::ask::plan::Intent;
use std::time::Duration;

/// The SVG of `f`'s chart, checked to parse as XML.
fn drawn(f: &Frame, c: &Context) -> (Chart, String) {
    let chart = choose(f, c).expect("a chart");
    let s = svg(&chart, f);
    if let Err(e) = roxmltree::Document::parse(&s) {
        panic!("not well-formed XML ({e}):\n{s}");
    }
    (chart, s)
}

fn count_class(svg: &str, class: &str) -> usize {
    let doc = roxmltree::Document::parse(svg).expect("XML");
    doc.descendants()
        .filter(|n| n.attribute("class") == Some(class))
        .count()
}

fn no_urls(svg: &str) {
    assert_eq!(svg.matches("http").count(), 1, "{svg}");
    assert!(svg.contains("xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(!svg.contains("<script") && !svg.contains("href"));
}

#[test]
fn bars_one_per_row_labels_escaped() {
    let hostile = frame(
        &[("name", TEXT), ("revenue", NUM)],
        &[
            &["<b>Bold & \"quoted\" 'x'</b>", "12000"],
            &["plain", "3000"],
            &["ctrl\u{1}char", "-500"],
        ],
    );
    let (chart, s) = drawn(&hostile, &ctx("revenue by <name> & \"more\"", None));
    assert_eq!(chart.mark, Mark::Bar);
    assert_eq!(count_class(&s, "bar"), 3);
    assert!(s.contains("&lt;b&gt;Bold &amp; &quot;quoted&quot; &apos;x&apos;&lt;/b&gt;"));
    assert!(!s.contains("<b>"));
    assert!(s.contains("revenue by &lt;name&gt; &amp; &quot;more&quot;"));
    assert!(s.contains(": 12,000<") && s.contains(">10k<"), "{s}");
    no_urls(&s);
    let doc = roxmltree::Document::parse(&s).expect("XML");
    let titles: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("title"))
        .filter_map(|n| n.text())
        .collect();
    assert!(
        titles.contains(&"<b>Bold & \"quoted\" 'x'</b>: 12,000"),
        "{titles:?}"
    );
}

#[test]
fn grouped_and_stacked_bars_and_horizontal_ones() {
    let f = frame(
        &[("region", TEXT), ("channel", TEXT), ("revenue", NUM)],
        &[
            &["West", "web", "1"],
            &["West", "store", "2"],
            &["East", "web", "3"],
            &["East", "NULL", "4"],
            &["North", "web", "NULL"],
        ],
    );
    let (_, side) = drawn(&f, &ctx("q", Some(Intent::Aggregate)));
    assert_eq!(count_class(&side, "bar"), 4);
    assert_eq!(count_class(&side, "swatch"), 3);
    let (chart, stack) = drawn(&f, &ctx("q", Some(Intent::Share)));
    assert_eq!(chart.encoding.group, Group::Stack);
    assert_eq!(count_class(&stack, "bar"), 4);
    let long = frame(
        &[("product", TEXT), ("units", NUM)],
        &[&["An extremely long product name", "5"], &["Short", "7"]],
    );
    let (chart, s) = drawn(&long, &ctx("q", None));
    assert!(chart.encoding.horizontal);
    assert_eq!(count_class(&s, "bar"), 2);
    no_urls(&s);
}

#[test]
fn lines_one_point_per_valued_row() {
    let (chart, s) = drawn(&months(), &ctx("revenue by month", None));
    assert_eq!(chart.mark, Mark::Line);
    assert_eq!(
        count_class(&s, "point"),
        4,
        "the NULL revenue is not a point"
    );
    assert_eq!(count_class(&s, "line"), 2);
    assert_eq!(count_class(&s, "swatch"), 2);
    no_urls(&s);
}

#[test]
fn pie_slices_and_number() {
    let f = frame(
        &[("segment", TEXT), ("share_pct", NUM)],
        &[&["a", "50"], &["b", "30"], &["c", "20"]],
    );
    let (chart, s) = drawn(&f, &ctx("share by segment", Some(Intent::Share)));
    assert_eq!(chart.mark, Mark::Arc);
    assert_eq!(count_class(&s, "slice"), 3);
    assert!(s.contains("a (50.0%)"));
    let whole = frame(
        &[("segment", TEXT), ("share_pct", NUM)],
        &[&["a", "100"], &["b", "0"]],
    );
    let (_, s) = drawn(&whole, &ctx("share", Some(Intent::Share)));
    assert_eq!(count_class(&s, "slice"), 2);
    let one = frame(&[("total_revenue", NUM)], &[&["1234567.891"]]);
    let (chart, s) = drawn(&one, &ctx("total revenue", None));
    assert_eq!(chart.mark, Mark::Text);
    assert!(s.contains(">1,234,567.89</text>"), "{s}");
    no_urls(&s);
}

#[test]
fn svg_size_is_bounded() {
    let rows: Vec<Vec<String>> = (0..2_000)
        .map(|i| vec![format!("product {i}"), format!("{i}")])
        .collect();
    let refs: Vec<Vec<&str>> = rows
        .iter()
        .map(|r| r.iter().map(String::as_str).collect())
        .collect();
    let slices: Vec<&[&str]> = refs.iter().map(Vec::as_slice).collect();
    let f = frame(&[("product", TEXT), ("units", NUM)], &slices);
    let (_, s) = drawn(&f, &ctx("units by product", None));
    assert_eq!(count_class(&s, "bar"), MAX_VALUES);
    assert!(s.len() < 400_000, "{} bytes", s.len());
    let doc = roxmltree::Document::parse(&s).expect("XML");
    let height: f64 = doc
        .root_element()
        .attribute("height")
        .and_then(|h| h.parse().ok())
        .unwrap_or(0.0);
    assert!(height <= 1_800.0, "height {height}");
}

#[test]
fn store_ids_and_bounds() {
    let charts = Charts::new(2, Duration::from_secs(60));
    let f = regions();
    let chart = choose(&f, &ctx("q", None)).expect("a chart");
    let id = charts.put_chart(&chart, &f);
    assert_eq!(id.as_str().len(), 32);
    assert_eq!(
        ChartId::parse(&id.as_str().to_uppercase()),
        Some(id.clone())
    );
    assert_ne!(ChartId::random(), ChartId::random());
    for bad in [
        "",
        "xyz",
        &"g".repeat(32),
        &"a".repeat(31),
        &"a".repeat(33),
        "../etc/passwd",
    ] {
        assert_eq!(ChartId::parse(bad), None, "{bad}");
    }
    let stored = charts.get(&id).expect("kept");
    assert!(stored.svg.starts_with("<svg"));
    let spec: serde_json::Value = serde_json::from_str(&stored.spec).expect("JSON");
    assert_eq!(spec, chart.spec);
    for _ in 0..50 {
        charts.put(&serde_json::json!({}), String::new());
    }
    assert!(charts.entry_count() <= 2);
    let brief = Charts::new(10, Duration::from_millis(50));
    let id = brief.put(&serde_json::json!({}), String::new());
    std::thread::sleep(Duration::from_millis(120));
    assert!(brief.get(&id).is_none(), "expired");
}

/// One owner putting many charts drops its own oldest, never another owner's.
#[test]
fn an_owner_cannot_push_out_the_charts_of_others() {
    use super::store::PER_OWNER;
    let charts = Charts::new(10 * PER_OWNER as u64, Duration::from_secs(60));
    let f = regions();
    let chart = choose(&f, &ctx("q", None)).expect("a chart");
    let alices = charts.put_owned("alice", &chart, &f);
    let first = charts.put_owned("mallory", &chart, &f);
    let mut last = first.clone();
    for _ in 0..3 * PER_OWNER {
        last = charts.put_owned("mallory", &chart, &f);
    }
    assert!(
        charts.get(&alices).is_some(),
        "alice's chart was pushed out"
    );
    assert!(charts.get(&first).is_none(), "mallory's oldest is dropped");
    assert!(charts.get(&last).is_some());
    assert!(charts.entry_count() <= PER_OWNER as u64 + 1);
}

#[test]
fn route_serves_svg_json_and_404s() {
    let charts = Charts::default();
    let f = regions();
    let chart = choose(&f, &ctx("q", None)).expect("a chart");
    let id = charts.put_chart(&chart, &f);
    let (status, ctype, body) = route(&format!("/v1/charts/{id}.svg"), Some(&charts));
    assert_eq!((status, ctype), ("200 OK", "image/svg+xml"));
    assert!(body.starts_with("<svg"));
    let (status, ctype, body) = route(&format!("/v1/charts/{id}.json"), Some(&charts));
    assert_eq!((status, ctype), ("200 OK", "application/json"));
    assert!(body.contains("vega-lite/v5.json"));
    let unknown = ChartId::random();
    for path in [
        format!("/v1/charts/{unknown}.svg"),
        format!("/v1/charts/{id}.png"),
        "/v1/charts/not-hex.svg".to_string(),
        "/v1/charts/".to_string(),
        format!("/v1/charts/{id}/.svg"),
    ] {
        let (status, ctype, body) = route(&path, Some(&charts));
        assert_eq!(
            (status, ctype),
            ("404 Not Found", "application/json"),
            "{path}"
        );
        let err: serde_json::Value = serde_json::from_str(&body).expect("a JSON error");
        assert!(err["error"].is_string(), "{path}: {body}");
    }
    assert_eq!(
        route(&format!("/v1/charts/{id}.svg"), None).0,
        "404 Not Found"
    );
}

/// GET `path` from the admin port at `addr`: (status line, content type, body).
async fn get(addr: std::net::SocketAddr, path: &str) -> (String, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
    tcp.write_all(req.as_bytes()).await.expect("write");
    let mut raw = String::new();
    tcp.read_to_string(&mut raw).await.expect("read");
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head.lines().next().unwrap_or_default().to_string();
    let ctype = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Type: "))
        .unwrap_or_default()
        .to_string();
    (status, ctype, body.to_string())
}

#[tokio::test]
async fn admin_port_serves_charts() {
    let config = crate::config::Config::default();
    let target = crate::upstream::UpstreamTarget::parse("postgres://nobody@127.0.0.1:1/none")
        .expect("target");
    let catalog = crate::catalog::store::CatalogStore::new(&config, target).expect("catalog");
    let charts = std::sync::Arc::new(Charts::default());
    let (_tx, shutdown) = tokio::sync::watch::channel(false);
    let state = crate::admin::AdminState {
        api: None,
        shutdown,
        catalog: std::sync::Arc::new(catalog),
        default_db: "none".into(),
        charts: Some(charts.clone()),
    };
    let addr = crate::admin::start("127.0.0.1:0".parse().expect("addr"), state)
        .await
        .expect("admin port");
    let f = months();
    let chart = choose(&f, &ctx("revenue by month", None)).expect("a chart");
    let id = charts.put_chart(&chart, &f);
    let (status, ctype, body) = get(addr, &format!("/v1/charts/{id}.svg")).await;
    assert_eq!(
        (status.as_str(), ctype.as_str()),
        ("HTTP/1.1 200 OK", "image/svg+xml")
    );
    assert_eq!(count_class(&body, "point"), 4);
    let (status, ctype, body) = get(addr, &format!("/v1/charts/{id}.json")).await;
    assert_eq!(
        (status.as_str(), ctype.as_str()),
        ("HTTP/1.1 200 OK", "application/json")
    );
    let spec: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(spec, chart.spec);
    let (status, _, body) = get(addr, &format!("/v1/charts/{}.json", ChartId::random())).await;
    assert_eq!(status, "HTTP/1.1 404 Not Found");
    assert!(body.contains("\"error\""));
    let (status, _, _) = get(addr, "/healthz").await;
    assert_eq!(status, "HTTP/1.1 200 OK", "the other routes still answer");
}

#[test]
fn a_chart_drawn_from_another_frame_does_not_panic() {
    let empty = Frame::default();
    for f in [months(), regions()] {
        let chart = choose(&f, &ctx("q", None)).expect("a chart");
        let s = svg(&chart, &empty);
        assert!(roxmltree::Document::parse(&s).is_ok(), "{s}");
    }
}
