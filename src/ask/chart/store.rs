//! The chart store: made charts (spec JSON and SVG) kept in memory for a while under an
//! unguessable id, so a client can fetch the picture of an answer from the admin port:
//! `GET /v1/charts/<id>.svg` (image/svg+xml) and `GET /v1/charts/<id>.json` (the Vega-Lite
//! spec). Bounded by count and by time to live; an id is 128 random bits in lowercase hex.

use super::{svg, Chart};
use crate::ask::frame::Frame;
use moka::sync::Cache;
use std::sync::Arc;
use std::time::Duration;

/// Where the admin port serves charts.
pub const PREFIX: &str = "/v1/charts/";

/// A chart's id: 32 lowercase hex digits (128 random bits).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChartId(String);

impl ChartId {
    /// A new random id.
    pub fn random() -> ChartId {
        let bits: u128 = rand::random();
        ChartId(format!("{bits:032x}"))
    }

    /// The id written as `s`, when it is one (exactly 32 hex digits, read in lowercase).
    pub fn parse(s: &str) -> Option<ChartId> {
        (s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| ChartId(s.to_ascii_lowercase()))
    }

    /// The hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ChartId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What is kept of one chart.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredChart {
    /// The Vega-Lite spec as JSON text.
    pub spec: String,
    /// The SVG document.
    pub svg: String,
}

/// Charts by id, at most `capacity` of them, each for at most `ttl` after it was put.
/// Each owner (user) keeps at most [`PER_OWNER`] charts: putting one more drops its oldest,
/// so no one user can push everyone else's charts out of the store.
#[derive(Clone)]
pub struct Charts {
    cache: Cache<ChartId, Arc<StoredChart>>,
    owners: Arc<
        std::sync::Mutex<std::collections::HashMap<String, std::collections::VecDeque<ChartId>>>,
    >,
}

/// Most charts one owner keeps.
pub const PER_OWNER: usize = 100;

/// Charts kept by default.
pub const CAPACITY: u64 = 1_000;

impl Default for Charts {
    /// 1,000 charts for an hour.
    fn default() -> Charts {
        Charts::new(CAPACITY, Duration::from_secs(3_600))
    }
}

impl std::fmt::Debug for Charts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Charts")
            .field("entries", &self.cache.entry_count())
            .finish()
    }
}

impl Charts {
    /// A store of at most `capacity` charts, each kept `ttl`.
    pub fn new(capacity: u64, ttl: Duration) -> Charts {
        Charts {
            cache: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .build(),
            owners: Arc::default(),
        }
    }

    /// Keeps the chart of `owner`'s answer (see [`PER_OWNER`]); returns the new id.
    pub fn put_owned(&self, owner: &str, chart: &Chart, frame: &Frame) -> ChartId {
        let id = self.put_chart(chart, frame);
        let mut owners = self.owners.lock().unwrap_or_else(|p| p.into_inner());
        // Owners whose charts are all gone are forgotten now and then (bounded map).
        if owners.len() > 10_000 {
            owners.retain(|_, ids| ids.iter().any(|i| self.cache.contains_key(i)));
        }
        let mine = owners.entry(owner.to_string()).or_default();
        mine.push_back(id.clone());
        while mine.len() > PER_OWNER {
            if let Some(old) = mine.pop_front() {
                self.cache.invalidate(&old);
            }
        }
        id
    }

    /// Keeps a spec and its SVG; returns the new id.
    pub fn put(&self, spec: &serde_json::Value, svg: String) -> ChartId {
        let id = ChartId::random();
        let stored = StoredChart {
            spec: spec.to_string(),
            svg,
        };
        self.cache.insert(id.clone(), Arc::new(stored));
        id
    }

    /// Draws `chart` from `frame` and keeps both; returns the new id.
    pub fn put_chart(&self, chart: &Chart, frame: &Frame) -> ChartId {
        self.put(&chart.spec, svg(chart, frame))
    }

    /// How many charts are kept now (after pending evictions).
    pub fn entry_count(&self) -> u64 {
        self.cache.run_pending_tasks();
        self.cache.entry_count()
    }

    /// The chart kept as `id`, unless it expired or was evicted.
    pub fn get(&self, id: &ChartId) -> Option<Arc<StoredChart>> {
        self.cache.get(id)
    }
}

/// An HTTP answer of the admin port: status line, content type, body.
pub type Reply = (&'static str, &'static str, String);

fn not_found(error: &str) -> Reply {
    let body = serde_json::json!({ "error": error });
    ("404 Not Found", "application/json", format!("{body}\n"))
}

/// `GET /v1/charts/<id>.svg` or `.json` from `charts` (`None`: the server keeps no charts).
/// Anything else under the prefix, an id that is not 32 hex digits, and an unknown or
/// expired id are a 404 with a JSON error.
pub fn route(path: &str, charts: Option<&Charts>) -> Reply {
    let Some(name) = path.strip_prefix(PREFIX) else {
        return not_found("no such chart path: charts are at /v1/charts/<id>.svg and .json");
    };
    let (id, svg) = if let Some(id) = name.strip_suffix(".svg") {
        (id, true)
    } else if let Some(id) = name.strip_suffix(".json") {
        (id, false)
    } else {
        return not_found("a chart is fetched as /v1/charts/<id>.svg or /v1/charts/<id>.json");
    };
    let Some(id) = ChartId::parse(id) else {
        return not_found("a chart id is 32 hex digits");
    };
    let Some(charts) = charts else {
        return not_found("this server keeps no charts");
    };
    match charts.get(&id) {
        Some(c) if svg => ("200 OK", "image/svg+xml", c.svg.clone()),
        Some(c) => ("200 OK", "application/json", format!("{}\n", c.spec)),
        None => not_found(&format!(
            "no chart {id}: it never existed, or it expired (charts are kept for a limited time)"
        )),
    }
}
