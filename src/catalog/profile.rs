//! Profiling: cheap statistics of each column (distinct count, the values of low-cardinality
//! text columns, min and max of numbers and dates), for linking words of a question to columns
//! and values.
//!
//! Profiling must never block the application. Every statement runs in its own short
//! `READ ONLY` transaction with `lock_timeout = 200ms` and a statement timeout (never
//! unbounded: 0 means the default 5 s), so the `ACCESS SHARE` lock it takes on a table is held
//! for one statement at most — a migration's `ACCESS EXCLUSIVE` request, and the application
//! queued behind it, wait no longer than that. A table locked by the application, a slow view
//! or a missing permission only leaves that table unprofiled (or profiled from `pg_stats`
//! alone), with a warning.
//!
//! Where figures come from:
//! - `pg_stats` (read once for every table, see `pgstats`): `n_distinct`, the most common
//!   values when they cover the whole column, the histogram bounds and common values for
//!   min/max.
//! - Tables with at most `full_scan_rows` estimated rows are read exactly: one aggregate query
//!   (`count(DISTINCT ..)`, `min`, `max` of every relevant column) plus one
//!   `SELECT DISTINCT .. LIMIT threshold+1` per low-cardinality text column.
//! - Bigger tables are read through `TABLESAMPLE SYSTEM (pct) REPEATABLE (0)`, with `pct` chosen
//!   for about `sample_rows` rows; views, foreign tables and tables of unknown size are first
//!   counted up to `full_scan_rows + 1` rows, and when bigger, their first `sample_rows` rows
//!   are read. These profiles are marked [`ProfileSource::Sample`].
//! - When a table cannot be read, columns with `pg_stats` entries get profiles from them alone
//!   ([`ProfileSource::Stats`]).
//!
//! Every identifier is quoted ([`quote_ident`]), and the transactions pin `search_path` to
//! `pg_catalog`, so user objects cannot shadow the functions used.

use super::introspect::{describe, IntrospectOptions};
use super::model::{Catalog, Profile, ProfileSource, Table, TableKind, ValueKind};
use super::pgstats::{read_stats, ColStats};
use std::cmp::Ordering;
use std::collections::HashMap;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Row};

/// Values longer than this (in characters) are left out of value lists.
pub const MAX_VALUE_CHARS: usize = 200;

/// A column whose `pg_stats` estimate exceeds this many times the value threshold is not
/// `count(DISTINCT)`-ed (the estimate is used): sorting millions of unique values is the
/// costly part of a profile, and the exact figure matters only near the threshold.
const STATS_TRUST_FACTOR: u64 = 10;

/// The statement timeout of profiling when `catalog.statement_timeout` is 0.
const DEFAULT_STATEMENT_TIMEOUT_MS: u64 = 5000;

/// Columns per aggregate query (Postgres allows at most 1664 result columns).
const COLUMNS_PER_QUERY: usize = 200;

/// What a profiling run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileSummary {
    /// Tables profiled by reading them.
    pub profiled: usize,
    /// Tables that could not be read (`schema.name`), left with `pg_stats` profiles at most.
    pub failed: Vec<String>,
}

/// Quotes an identifier for SQL: double quotes around it, inner double quotes doubled.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Profiles every column of `catalog` (replacing earlier profiles), table by table, each
/// statement in its own read-only transaction. Never fails: problems are logged and leave
/// tables without profiles. The client must be idle (not inside a transaction).
pub async fn profile_catalog(
    client: &Client,
    catalog: &mut Catalog,
    opts: &IntrospectOptions,
) -> ProfileSummary {
    let mut summary = ProfileSummary::default();
    let stats = match read_stats(client, catalog, opts).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %describe(&e), "reading pg_stats failed; profiling without it");
            HashMap::new()
        }
    };
    let none = HashMap::new();
    for table in &mut catalog.tables {
        let st = stats
            .get(&(table.schema.clone(), table.name.clone()))
            .unwrap_or(&none);
        let profiles = match profile_table(client, table, st, opts).await {
            Ok(p) => {
                summary.profiled += 1;
                p
            }
            Err(e) => {
                tracing::warn!(
                    table = %table.qualified(),
                    error = %describe(&e),
                    "profiling skipped; the table stays unprofiled (pg_stats figures at most)"
                );
                summary.failed.push(table.qualified());
                stats_only(table, st, opts)
            }
        };
        for (c, p) in table.columns.iter_mut().zip(profiles) {
            c.profile = p;
        }
    }
    summary
}

/// The statement timeout of profiling, in milliseconds: `catalog.statement_timeout`, with 0
/// (which would mean none) read as the default 5 s.
pub(super) fn statement_timeout(opts: &IntrospectOptions) -> u64 {
    match opts.statement_timeout_ms {
        0 => DEFAULT_STATEMENT_TIMEOUT_MS,
        ms => ms,
    }
}

/// Runs one statement in a transaction of its own that cannot wait on locks for long nor run
/// for longer than `timeout_ms`, so that whatever it locks is released as soon as it is done.
pub(super) async fn in_transaction(
    client: &Client,
    timeout_ms: u64,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Row>, tokio_postgres::Error> {
    begin(client, timeout_ms).await?;
    let rows = client.query(sql, params).await;
    end(client, rows.is_ok()).await?;
    rows
}

/// [`in_transaction`] for a statement that returns exactly one row.
async fn one_row(
    client: &Client,
    timeout_ms: u64,
    sql: &str,
) -> Result<Row, tokio_postgres::Error> {
    begin(client, timeout_ms).await?;
    let row = client.query_one(sql, &[]).await;
    end(client, row.is_ok()).await?;
    row
}

/// Opens a read-only transaction that cannot wait on locks for long.
async fn begin(client: &Client, timeout_ms: u64) -> Result<(), tokio_postgres::Error> {
    client
        .batch_execute(&format!(
            "BEGIN READ ONLY; \
             SET LOCAL lock_timeout = '200ms'; \
             SET LOCAL statement_timeout = {timeout_ms}; \
             SET LOCAL search_path = pg_catalog, pg_temp; \
             SET LOCAL datestyle = 'ISO, YMD'"
        ))
        .await
}

async fn end(client: &Client, ok: bool) -> Result<(), tokio_postgres::Error> {
    client
        .batch_execute(if ok { "COMMIT" } else { "ROLLBACK" })
        .await
}

/// Orders two values of a column as Postgres would (numbers numerically, ISO dates and
/// timestamps as text with `-infinity`/`infinity` at the ends).
pub(super) fn compare(kind: ValueKind, a: &str, b: &str) -> Ordering {
    if kind.is_numeric() {
        if let (Ok(x), Ok(y)) = (a.parse::<f64>(), b.parse::<f64>()) {
            return x.total_cmp(&y);
        }
    }
    let rank = |s: &str| match s {
        "-infinity" => 0,
        "infinity" => 2,
        _ => 1,
    };
    rank(a).cmp(&rank(b)).then_with(|| a.cmp(b))
}

/// A value list: long values left out, sorted, without duplicates.
pub(super) fn clean_values(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = values
        .filter(|s| s.chars().count() <= MAX_VALUE_CHARS)
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Profiles from `pg_stats` alone (for tables that cannot be read, and columns of other types).
fn stats_only(
    table: &Table,
    stats: &HashMap<String, ColStats>,
    opts: &IntrospectOptions,
) -> Vec<Option<Profile>> {
    table
        .columns
        .iter()
        .map(|c| {
            stats
                .get(&c.name)
                .map(|st| stats_profile(c.kind, st, table.row_estimate, opts))
        })
        .collect()
}

fn stats_profile(
    kind: ValueKind,
    st: &ColStats,
    rows: Option<u64>,
    opts: &IntrospectOptions,
) -> Profile {
    let distinct = st.distinct(rows);
    let (min, max) = if kind.is_numeric() || kind.is_temporal() {
        st.min_max(kind)
    } else {
        (None, None)
    };
    let values = (kind == ValueKind::Text)
        .then(|| st.all_values(opts.value_threshold))
        .flatten();
    Profile {
        distinct,
        values,
        min,
        max,
        source: Some(ProfileSource::Stats),
    }
}

/// How a table is read.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Read {
    /// All rows.
    Scan,
    /// `TABLESAMPLE SYSTEM (pct)`.
    Sample { pct: f64 },
    /// The first `rows` rows (views, foreign tables, tables of unknown size).
    Head { rows: u64 },
}

/// What to compute for one column.
struct Plan<'a> {
    index: usize,
    name: String,
    kind: ValueKind,
    stats: Option<&'a ColStats>,
    count_distinct: bool,
    min_max: bool,
}

/// Figures read for one column.
#[derive(Default)]
struct Read1 {
    distinct: Option<u64>,
    non_null: u64,
    min: Option<String>,
    max: Option<String>,
}

async fn profile_table(
    client: &Client,
    table: &Table,
    stats: &HashMap<String, ColStats>,
    opts: &IntrospectOptions,
) -> Result<Vec<Option<Profile>>, tokio_postgres::Error> {
    let limit = STATS_TRUST_FACTOR.saturating_mul(opts.value_threshold);
    let plans: Vec<Plan> = table
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            c.kind.is_numeric()
                || c.kind.is_temporal()
                || matches!(c.kind, ValueKind::Text | ValueKind::Boolean)
        })
        .map(|(index, c)| {
            let st = stats.get(&c.name);
            let known_high = st
                .and_then(|s| s.distinct(table.row_estimate))
                .is_some_and(|d| d > limit);
            Plan {
                index,
                name: quote_ident(&c.name),
                kind: c.kind,
                stats: st,
                count_distinct: !known_high,
                min_max: c.kind.is_numeric() || c.kind.is_temporal(),
            }
        })
        .collect();
    let mut out = stats_only(table, stats, opts);
    if plans.is_empty() {
        return Ok(out);
    }
    for (plan, profile) in plans
        .iter()
        .zip(read_table(client, table, &plans, opts).await?)
    {
        out[plan.index] = profile;
    }
    Ok(out)
}

/// Reads the profiles of the planned columns, each statement in its own transaction.
async fn read_table(
    client: &Client,
    table: &Table,
    plans: &[Plan<'_>],
    opts: &IntrospectOptions,
) -> Result<Vec<Option<Profile>>, tokio_postgres::Error> {
    let rel = format!(
        "{}.{}",
        quote_ident(&table.schema),
        quote_ident(&table.name)
    );
    let read = choose_read(client, table, &rel, opts).await?;
    let from = match read {
        Read::Scan => rel.clone(),
        Read::Sample { pct } => format!("{rel} TABLESAMPLE SYSTEM ({pct:.6}) REPEATABLE (0)"),
        Read::Head { rows } => {
            let cols: Vec<&str> = plans.iter().map(|p| p.name.as_str()).collect();
            format!("(SELECT {} FROM {rel} LIMIT {rows}) AS s", cols.join(", "))
        }
    };

    // One aggregate query per chunk of columns: count(*), then per column
    // [count(DISTINCT c), count(c)] [min(c)::text, max(c)::text].
    let mut figures: Vec<Read1> = Vec::with_capacity(plans.len());
    let mut rows_read: u64 = 0;
    for chunk in plans.chunks(COLUMNS_PER_QUERY) {
        let mut select = vec!["count(*)".to_string()];
        for p in chunk {
            if p.count_distinct {
                select.push(format!("count(DISTINCT {0}), count({0})", p.name));
            }
            if p.min_max {
                select.push(format!("min({0})::text, max({0})::text", p.name));
            }
        }
        let sql = format!("SELECT {} FROM {from}", select.join(", "));
        let row = one_row(client, statement_timeout(opts), &sql).await?;
        rows_read = count(row.try_get(0)?);
        let mut i = 1;
        for p in chunk {
            let mut f = Read1::default();
            if p.count_distinct {
                f.distinct = Some(count(row.try_get(i)?));
                f.non_null = count(row.try_get(i + 1)?);
                i += 2;
            }
            if p.min_max {
                f.min = row.try_get(i)?;
                f.max = row.try_get(i + 1)?;
                i += 2;
            }
            figures.push(f);
        }
    }

    if read != Read::Scan && rows_read == 0 {
        // An empty sample says nothing about the table: pg_stats figures at most.
        let stats_of = |p: &Plan| {
            p.stats
                .map(|st| stats_profile(p.kind, st, table.row_estimate, opts))
        };
        return Ok(plans.iter().map(stats_of).collect());
    }
    let source = match read {
        Read::Scan => ProfileSource::Scan,
        _ => ProfileSource::Sample,
    };
    let mut profiles = Vec::with_capacity(plans.len());
    for (p, f) in plans.iter().zip(figures) {
        let stats_distinct = p.stats.and_then(|s| {
            s.distinct(match read {
                Read::Scan => Some(rows_read),
                _ => table.row_estimate,
            })
        });
        let distinct = match read {
            Read::Scan => f.distinct.or(stats_distinct),
            Read::Sample { .. } => stats_distinct.or_else(|| {
                let total = table.row_estimate.unwrap_or(rows_read);
                f.distinct
                    .map(|d| scale_distinct(d, f.non_null, rows_read, total))
            }),
            Read::Head { .. } => stats_distinct.max(f.distinct),
        };
        let mut profile = Profile {
            distinct,
            values: None,
            min: f.min,
            max: f.max,
            source: Some(source),
        };
        if read != Read::Scan && p.min_max {
            if let Some(st) = p.stats {
                widen(p.kind, &mut profile, st.min_max(p.kind));
            }
        }
        let low = distinct.is_some_and(|d| d <= opts.value_threshold);
        if p.kind == ValueKind::Text && low {
            let from_stats = match read {
                Read::Scan => None,
                _ => p.stats.and_then(|s| s.all_values(opts.value_threshold)),
            };
            profile.values = match from_stats {
                Some(v) => Some(v),
                None if f.distinct.is_some_and(|d| d <= opts.value_threshold) => {
                    distinct_values(client, &from, &p.name, opts).await?
                }
                None => None,
            };
        }
        profiles.push(Some(profile));
    }
    Ok(profiles)
}

/// Decides how to read a table: by its row estimate, or (views, foreign tables, tables never
/// analyzed) by counting at most `full_scan_rows + 1` of its rows; what is too big for a scan
/// is sampled when `TABLESAMPLE` applies and its size is known, else read up to `sample_rows`.
async fn choose_read(
    client: &Client,
    table: &Table,
    rel: &str,
    opts: &IntrospectOptions,
) -> Result<Read, tokio_postgres::Error> {
    let rows = match table.row_estimate {
        Some(rows) => rows,
        None => {
            let cap = opts.full_scan_rows.saturating_add(1);
            let sql = format!("SELECT count(*) FROM (SELECT 1 FROM {rel} LIMIT {cap}) AS s");
            count(
                one_row(client, statement_timeout(opts), &sql)
                    .await?
                    .try_get(0)?,
            )
        }
    };
    let pct = 100.0 * opts.sample_rows as f64 / rows.max(1) as f64;
    let known = table.row_estimate.is_some();
    let samplable = matches!(table.kind, TableKind::Table | TableKind::MaterializedView);
    Ok(if rows <= opts.full_scan_rows || (known && pct >= 100.0) {
        Read::Scan
    } else if samplable && known {
        Read::Sample {
            pct: pct.max(0.000_001),
        }
    } else {
        Read::Head {
            rows: opts.sample_rows,
        }
    })
}

/// The distinct non-NULL values of column `col` (quoted) of `from`; `None` when there are more
/// than `catalog.value_threshold`.
async fn distinct_values(
    client: &Client,
    from: &str,
    col: &str,
    opts: &IntrospectOptions,
) -> Result<Option<Vec<String>>, tokio_postgres::Error> {
    let threshold = opts.value_threshold;
    let sql = format!(
        "SELECT DISTINCT {col}::text FROM {from} \
         WHERE {col} IS NOT NULL AND length({col}::text) <= {MAX_VALUE_CHARS} LIMIT {}",
        threshold.saturating_add(1)
    );
    let rows = in_transaction(client, statement_timeout(opts), &sql, &[]).await?;
    if rows.len() as u64 > threshold {
        return Ok(None);
    }
    let mut values = Vec::with_capacity(rows.len());
    for r in rows {
        values.push(r.try_get::<_, String>(0)?);
    }
    Ok(Some(clean_values(values.into_iter())))
}

/// Widens a sample's min/max with the statistics' (which saw another sample).
fn widen(kind: ValueKind, p: &mut Profile, (min, max): (Option<String>, Option<String>)) {
    let pick = |a: Option<String>, b: Option<String>, want: Ordering| match (a, b) {
        (Some(a), Some(b)) => Some(if compare(kind, &b, &a) == want { b } else { a }),
        (a, b) => a.or(b),
    };
    p.min = pick(p.min.take(), min, Ordering::Less);
    p.max = pick(p.max.take(), max, Ordering::Greater);
}

/// Distinct values of a whole table from a sample's: a column nearly unique in the sample is
/// taken to grow with the table; otherwise the sample is taken to have seen every value.
fn scale_distinct(d: u64, non_null: u64, sampled: u64, total: u64) -> u64 {
    if non_null == 0 || sampled == 0 || total <= sampled {
        return d;
    }
    if d as f64 >= 0.9 * non_null as f64 {
        (d as f64 * total as f64 / sampled as f64).round() as u64
    } else {
        d
    }
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_ordering() {
        assert_eq!(quote_ident(r#"we"ird"#), r#""we""ird""#);
        assert_eq!(compare(ValueKind::Decimal, "9.5", "10"), Ordering::Less);
        assert_eq!(
            compare(ValueKind::Date, "-infinity", "2020-01-01"),
            Ordering::Less
        );
        assert_eq!(scale_distinct(950, 1000, 1000, 10_000), 9500);
        assert_eq!(scale_distinct(3, 1000, 1000, 10_000), 3);
    }
}
