//! Which columns a draft offers as metrics, with what aggregate and under which name.
//!
//! A measure is a numeric column that is not a key: never a primary key, never a column of a
//! relationship (a foreign key, a declared or an inferred one, on either side), never named like
//! a year or another part of a date (`year`, `fiscal_year`, `yr`, `month`), like an identifier or
//! code (`id`, `*_id`, `aid`, `*_code`, `*_no`, `*_number`, `*_key`, `zip`, `postal`, `phone`),
//! like an ordinal (`rank`, `position`) or a clock time (`departure_time`), like a coordinate or
//! an epoch, never personal, and never described by its comment as an identifier or a key. A
//! boolean is not numeric.
//!
//! Rates, scores, prices and physical sizes are averaged (`average_<column>`); everything else
//! is summed (`total_<column>`). When two drafts would share a name, each takes its table's name
//! (`total_fare_round_trip_cost`), then its schema's, then a number, so that every name in the
//! file is unique.

use super::super::model::{Catalog, Column, Table, TableId};
use super::pii::personal;
use std::collections::HashMap;

/// Whole name parts of dates, ordinals and identifiers.
const NOT_MEASURE_PARTS: &[&str] = &[
    "year",
    "yr",
    "yyyy",
    "month",
    "quarter",
    "qtr",
    "week",
    "day",
    "dow",
    "hour",
    "id",
    "code",
    "no",
    "nr",
    "nbr",
    "number",
    "key",
    "ref",
    "sku",
    "isbn",
    "ean",
    "upc",
    "zip",
    "rank",
    "position",
    "seq",
    "sequence",
    "ordinal",
    "lat",
    "lon",
    "lng",
    "latitude",
    "longitude",
    "gmt",
    "utc",
];

/// Name words, anywhere in the name, of identifiers, codes and epochs.
const NOT_MEASURE_WORDS: &[&str] = &["postal", "postcode", "zipcode", "phone", "epoch"];

/// Three-letter names ending in `id` that are not identifiers.
const NOT_IDS: &[&str] = &["bid", "mid", "lid"];

/// Words before `time` that make a clock time rather than a duration.
const CLOCK: &[&str] = &[
    "departure",
    "depart",
    "arrival",
    "arrive",
    "begin",
    "start",
    "end",
    "open",
    "close",
];

/// Name words of quantities whose sum means nothing: they are averaged.
const AVERAGED: &[&str] = &[
    "score",
    "rating",
    "rate",
    "ratio",
    "pct",
    "percent",
    "percentage",
    "gpa",
    "avg",
    "average",
    "mean",
    "price",
    "height",
    "weight",
    "length",
    "width",
    "span",
    "speed",
    "age",
    "temperature",
    "temp",
    "min",
    "minimum",
    "max",
    "maximum",
    "freq",
    "frequency",
];

/// Words of a comment that say the column identifies or references something.
const KEY_COMMENT: &[&str] = &["id", "ids", "identifier", "identifiers"];

/// An aggregate a draft metric applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    /// `SUM`, named `total_…`.
    Sum,
    /// `AVG`, named `average_…`.
    Avg,
}

impl Aggregate {
    fn function(self) -> &'static str {
        match self {
            Aggregate::Sum => "SUM",
            Aggregate::Avg => "AVG",
        }
    }
    fn prefix(self) -> &'static str {
        match self {
            Aggregate::Sum => "total",
            Aggregate::Avg => "average",
        }
    }
}

/// One metric a draft offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricDraft {
    /// Unique within the draft.
    pub name: String,
    /// The table.
    pub table: TableId,
    /// The column measured.
    pub column: u32,
    /// How it is aggregated.
    pub aggregate: Aggregate,
}

impl MetricDraft {
    /// `SUM(table.column)`, with `table` as the draft names it.
    pub fn sql(&self, catalog: &Catalog, table_name: &str) -> String {
        let t = catalog.table(self.table);
        let column = ident(&t.columns[self.column as usize].name);
        let table: Vec<String> = table_name.split('.').map(ident).collect();
        format!(
            "{}({}.{column})",
            self.aggregate.function(),
            table.join(".")
        )
    }
}

/// `name` as a SQL identifier: bare when it is a plain lower-case name, quoted otherwise.
fn ident(name: &str) -> String {
    let plain = name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

fn parts(name: &str) -> Vec<String> {
    name.to_ascii_lowercase()
        .split('_')
        .map(str::to_string)
        .collect()
}

/// Whether a column name says identifier, code, date part, ordinal, clock time or coordinate.
pub fn named_like_key(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    let ps = parts(&n);
    let last = ps.last().map(String::as_str).unwrap_or_default();
    ps.iter().any(|p| NOT_MEASURE_PARTS.contains(&p.as_str()))
        || NOT_MEASURE_WORDS.iter().any(|w| n.contains(w))
        || n.ends_with("_id")
        || n.ends_with("year")
        || n.ends_with("code")
        || (n.len() == 3 && n.ends_with("id") && !NOT_IDS.contains(&n.as_str()))
        || (last == "time" && ps.iter().any(|p| CLOCK.contains(&p.as_str())))
}

/// Whether the column's comment calls it an identifier or a key.
fn described_as_key(c: &Column) -> bool {
    let Some(comment) = &c.comment else {
        return false;
    };
    let lower = comment.to_ascii_lowercase();
    lower.contains("foreign key")
        || lower.contains("primary key")
        || lower
            .split(|ch: char| !ch.is_ascii_alphanumeric())
            .any(|w| KEY_COMMENT.contains(&w))
}

/// Whether column `ci` of table `tid` is in a relationship of `catalog`, on either side.
fn related(catalog: &Catalog, tid: TableId, ci: u32) -> bool {
    catalog.relations.iter().any(|r| {
        (r.from == tid && r.from_columns.contains(&ci))
            || (r.to == tid && r.to_columns.contains(&ci))
    })
}

/// Whether column `ci` of table `tid` is a measure (see the module's rule).
pub fn is_measure(catalog: &Catalog, tid: TableId, ci: u32) -> bool {
    let t = catalog.table(tid);
    let c = &t.columns[ci as usize];
    c.kind.is_numeric()
        && !t.primary_key.contains(&ci)
        && !related(catalog, tid, ci)
        && !named_like_key(&c.name)
        && !described_as_key(c)
        && !personal(t, c)
}

/// Whether a name has a word of [`AVERAGED`]: a whole part, or the end of a part for words of
/// five letters or more (`sbtxprice`).
fn averaged(name: &str) -> bool {
    let ps = parts(name);
    AVERAGED.iter().any(|w| {
        ps.iter()
            .any(|p| p == w || (w.len() >= 5 && p.ends_with(w)))
    })
}

/// How a measure of table `t` is aggregated: averaged when the column or its table is named
/// like a rate, score, price or size (`daily_price.close`), summed otherwise.
pub fn aggregate(t: &Table, c: &Column) -> Aggregate {
    if averaged(&c.name) || averaged(&t.name) {
        Aggregate::Avg
    } else {
        Aggregate::Sum
    }
}

/// Candidate names of a draft, most to least plain.
fn names(t: &Table, c: &Column, agg: Aggregate) -> [String; 3] {
    let p = agg.prefix();
    // `total_credit` stays `total_credit`, not `total_total_credit`.
    let first = match c.name.strip_prefix(p).filter(|r| r.starts_with('_')) {
        Some(_) => c.name.clone(),
        None => format!("{p}_{}", c.name),
    };
    [
        first,
        format!("{p}_{}_{}", t.name, c.name),
        format!("{p}_{}_{}_{}", t.schema, t.name, c.name),
    ]
}

/// Every metric a draft of `catalog` offers, in table and column order, each with a name no
/// other one has.
pub fn drafts(catalog: &Catalog) -> Vec<MetricDraft> {
    let mut found = Vec::new();
    for (ti, t) in catalog.tables.iter().enumerate() {
        for (ci, c) in t.columns.iter().enumerate() {
            if is_measure(catalog, ti as TableId, ci as u32) {
                found.push((ti as TableId, ci as u32, aggregate(t, c)));
            }
        }
    }
    let candidates: Vec<[String; 3]> = found
        .iter()
        .map(|(t, c, agg)| {
            let t = catalog.table(*t);
            names(t, &t.columns[*c as usize], *agg)
        })
        .collect();
    // The plainest name that no other draft would take at the same or a plainer level.
    let mut taken: HashMap<String, usize> = HashMap::new();
    for names in &candidates {
        for n in names {
            *taken.entry(n.clone()).or_default() += 1;
        }
    }
    let out = found
        .into_iter()
        .zip(candidates)
        .map(|((table, column, aggregate), names)| {
            let plain = names.iter().find(|n| taken.get(*n) == Some(&1));
            MetricDraft {
                name: plain.unwrap_or(&names[2]).clone(),
                table,
                column,
                aggregate,
            }
        })
        .collect();
    unique(out)
}

/// Makes names unique whatever the table and column names were (a numbered name may equal
/// another draft's plain one): a later duplicate takes the next free number.
fn unique(mut drafts: Vec<MetricDraft>) -> Vec<MetricDraft> {
    let mut seen = std::collections::HashSet::new();
    for d in &mut drafts {
        let base = d.name.clone();
        let mut i = 2;
        while !seen.insert(d.name.clone()) {
            d.name = format!("{base}_{i}");
            i += 1;
        }
    }
    drafts
}
