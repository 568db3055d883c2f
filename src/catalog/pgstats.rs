//! What profiling reads from `pg_stats`, the planner statistics (read once for every table):
//! `n_distinct`, the most common values when they cover the whole column, the histogram bounds
//! and common values for min/max. See [`super::profile`].

use super::introspect::IntrospectOptions;
use super::model::{Catalog, ValueKind};
use super::profile::{clean_values, compare, in_transaction, statement_timeout};
use std::collections::HashMap;
use tokio_postgres::Client;

/// One column's row of `pg_stats`.
#[derive(Debug, Clone, Default)]
pub(super) struct ColStats {
    null_frac: f64,
    n_distinct: f64,
    /// Most common values (text) when fetched: for low-cardinality columns, and numbers and
    /// dates (for min/max).
    mcv: Option<Vec<Option<String>>>,
    /// Their frequencies (low-cardinality columns only).
    mcf: Option<Vec<f64>>,
    /// Histogram bounds (numbers and dates only).
    histogram: Option<Vec<Option<String>>>,
}

impl ColStats {
    /// Distinct values, given the table's row count (`n_distinct` < 0 is a fraction of rows).
    pub(super) fn distinct(&self, rows: Option<u64>) -> Option<u64> {
        if self.n_distinct > 0.0 {
            Some(self.n_distinct.round() as u64)
        } else if self.n_distinct < 0.0 {
            rows.map(|r| (-self.n_distinct * r as f64).round() as u64)
        } else if self.null_frac >= 1.0 {
            Some(0)
        } else {
            None
        }
    }

    /// Every value, when the most common values cover the whole column.
    pub(super) fn all_values(&self, threshold: u64) -> Option<Vec<String>> {
        let (mcv, mcf) = (self.mcv.as_ref()?, self.mcf.as_ref()?);
        let covered = self.null_frac + mcf.iter().sum::<f64>() >= 0.999;
        let n = self.n_distinct;
        (n > 0.0 && n <= threshold as f64 && mcv.len() as f64 == n.round() && covered)
            .then(|| clean_values(mcv.iter().flatten().cloned()))
    }

    /// Smallest and largest of the histogram bounds and common values.
    pub(super) fn min_max(&self, kind: ValueKind) -> (Option<String>, Option<String>) {
        let all = self
            .histogram
            .iter()
            .chain(self.mcv.iter())
            .flatten()
            .flatten();
        let min = all.clone().min_by(|a, b| compare(kind, a, b)).cloned();
        let max = all.max_by(|a, b| compare(kind, a, b)).cloned();
        (min, max)
    }
}

/// `pg_stats` rows of the schemas in the catalog. `$1`: schemas, `$2`: value threshold.
const STATS_SQL: &str = "
SELECT s.schemaname::text, s.tablename::text, s.attname::text, s.inherited,
       s.null_frac::float8, s.n_distinct::float8,
       CASE WHEN (s.n_distinct > 0 AND s.n_distinct <= $2::float8) OR ty.typcategory IN ('N', 'D')
            THEN s.most_common_vals::text END,
       CASE WHEN s.n_distinct > 0 AND s.n_distinct <= $2::float8 THEN s.most_common_freqs::float8[] END,
       CASE WHEN ty.typcategory IN ('N', 'D') THEN s.histogram_bounds::text END
FROM pg_catalog.pg_stats s
JOIN pg_catalog.pg_namespace n ON n.nspname = s.schemaname
JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = s.tablename
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = s.attname
JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
WHERE s.schemaname = ANY($1::text[])";

/// (schema, table) -> column -> stats.
pub(super) type StatsMap = HashMap<(String, String), HashMap<String, ColStats>>;

pub(super) async fn read_stats(
    client: &Client,
    catalog: &Catalog,
    opts: &IntrospectOptions,
) -> Result<StatsMap, tokio_postgres::Error> {
    let mut schemas: Vec<&str> = catalog.tables.iter().map(|t| t.schema.as_str()).collect();
    schemas.sort_unstable();
    schemas.dedup();
    let mut map = StatsMap::new();
    if schemas.is_empty() {
        return Ok(map);
    }
    let threshold = opts.value_threshold as f64;
    let timeout = statement_timeout(opts).max(30_000);
    let rows = in_transaction(client, timeout, STATS_SQL, &[&schemas, &threshold]).await;
    // (stats, inherited): a parent's stats over its whole hierarchy (inherited = true) win,
    // since queries on the parent read the children too.
    let mut seen: HashMap<(String, String, String), bool> = HashMap::new();
    for row in rows? {
        let key: (String, String, String) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        let inherited: bool = row.try_get(3)?;
        if seen.get(&key).is_some_and(|prev| *prev && !inherited) {
            continue;
        }
        let text_array = |i: usize| -> Result<_, tokio_postgres::Error> {
            let s: Option<String> = row.try_get(i)?;
            Ok(s.as_deref().and_then(parse_array))
        };
        let st = ColStats {
            null_frac: row.try_get::<_, Option<f64>>(4)?.unwrap_or(0.0),
            n_distinct: row.try_get::<_, Option<f64>>(5)?.unwrap_or(0.0),
            mcv: text_array(6)?,
            mcf: row.try_get(7)?,
            histogram: text_array(8)?,
        };
        seen.insert(key.clone(), inherited);
        let (schema, table, column) = key;
        map.entry((schema, table)).or_default().insert(column, st);
    }
    Ok(map)
}

/// Parses a one-dimensional array literal (`{a,"b c",NULL}`) as Postgres prints it. `None` for
/// anything else (multi-dimensional arrays, explicit bounds).
fn parse_array(s: &str) -> Option<Vec<Option<String>>> {
    let inner = s.strip_prefix('{')?.strip_suffix('}')?;
    let mut out = Vec::new();
    if inner.is_empty() {
        return Some(out);
    }
    let mut chars = inner.chars().peekable();
    loop {
        if chars.peek() == Some(&'"') {
            chars.next();
            let mut v = String::new();
            loop {
                match chars.next()? {
                    '\\' => v.push(chars.next()?),
                    '"' => break,
                    c => v.push(c),
                }
            }
            out.push(Some(v));
        } else {
            let mut v = String::new();
            while let Some(&c) = chars.peek() {
                match c {
                    ',' => break,
                    '{' | '}' | '"' | '\\' => return None,
                    _ => v.push(c),
                }
                chars.next();
            }
            out.push((v != "NULL").then_some(v));
        }
        match chars.next() {
            None => return Some(out),
            Some(',') => {}
            Some(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_literals() {
        assert_eq!(
            parse_array(r#"{North,"In-store","a \"q\" b",NULL,"NULL"}"#),
            Some(vec![
                Some("North".into()),
                Some("In-store".into()),
                Some(r#"a "q" b"#.into()),
                None,
                Some("NULL".into()),
            ])
        );
        assert_eq!(parse_array("{}"), Some(vec![]));
        assert_eq!(parse_array("{{1,2},{3,4}}"), None);
        assert_eq!(parse_array("[0:1]={1,2}"), None);
    }
}
