//! The data side of inference: whether a column is unique and never null (a key), and whether
//! the values of one column are all among those of another (a reference). Every statement is
//! bounded (a row limit, the profiling statement timeout, its own read-only transaction that
//! cannot wait on locks for long), and the whole run by a [`Budget`].

use super::super::model::Table;
use super::super::profile::{in_transaction, quote_ident};
use std::time::Instant;
use tokio_postgres::Client;

/// Rows read to decide whether a column is unique; a bigger table is judged by `pg_stats`.
pub(super) const KEY_SCAN_ROWS: i64 = 200_000;

/// Rows of the referencing column read for an inclusion check.
pub(super) const INCLUSION_SAMPLE_ROWS: i64 = 100_000;

/// How many statements one inference run may spend, and until when.
#[derive(Debug)]
pub(super) struct Budget {
    deadline: Instant,
    left: usize,
    /// Statements run.
    pub(super) spent: usize,
    /// Checks not run because the budget was exhausted.
    pub(super) skipped: usize,
}

impl Budget {
    /// At most `statements` more statements, until `deadline`.
    pub(super) fn new(statements: usize, deadline: Instant) -> Budget {
        Budget {
            deadline,
            left: statements,
            spent: 0,
            skipped: 0,
        }
    }

    /// Takes one statement from the budget; `false` (and counted as skipped) when it is spent.
    pub(super) fn take(&mut self) -> bool {
        if self.left == 0 || Instant::now() >= self.deadline {
            self.skipped += 1;
            return false;
        }
        self.left -= 1;
        self.spent += 1;
        true
    }
}

fn qualified(t: &Table) -> String {
    format!("{}.{}", quote_ident(&t.schema), quote_ident(&t.name))
}

/// The first of `candidates` (column indexes of `t`, in order of preference) that is never null
/// and unique in the data, read from at most [`KEY_SCAN_ROWS`] rows; for a bigger table, from
/// `pg_stats` (`null_frac = 0`, `n_distinct = -1`). `None` for an empty table.
pub(super) async fn unique_column(
    client: &Client,
    t: &Table,
    candidates: &[u32],
    timeout_ms: u64,
) -> Result<Option<u32>, tokio_postgres::Error> {
    let names: Vec<String> = candidates
        .iter()
        .map(|c| quote_ident(&t.columns[*c as usize].name))
        .collect();
    let aggregates: Vec<String> = names
        .iter()
        .map(|n| format!("count({n}), count(DISTINCT {n})"))
        .collect();
    let sql = format!(
        "SELECT count(*), {} FROM (SELECT {} FROM {} LIMIT {}) s",
        aggregates.join(", "),
        names.join(", "),
        qualified(t),
        KEY_SCAN_ROWS + 1
    );
    let rows = in_transaction(client, timeout_ms, &sql, &[]).await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let total: i64 = row.try_get(0)?;
    if total == 0 {
        return Ok(None);
    }
    if total > KEY_SCAN_ROWS {
        return unique_by_stats(client, t, candidates, timeout_ms).await;
    }
    for (i, c) in candidates.iter().enumerate() {
        let (present, distinct): (i64, i64) = (row.try_get(1 + 2 * i)?, row.try_get(2 + 2 * i)?);
        if present == total && distinct == total {
            return Ok(Some(*c));
        }
    }
    Ok(None)
}

async fn unique_by_stats(
    client: &Client,
    t: &Table,
    candidates: &[u32],
    timeout_ms: u64,
) -> Result<Option<u32>, tokio_postgres::Error> {
    let rows = in_transaction(
        client,
        timeout_ms,
        "SELECT attname::text FROM pg_catalog.pg_stats \
         WHERE schemaname = $1 AND tablename = $2 AND null_frac = 0 AND n_distinct = -1",
        &[&t.schema, &t.name],
    )
    .await?;
    let unique: Vec<String> = rows.iter().filter_map(|r| r.try_get(0).ok()).collect();
    Ok(candidates
        .iter()
        .copied()
        .find(|c| unique.contains(&t.columns[*c as usize].name)))
}

/// What an inclusion check found: distinct non-null values of the referencing column (in the
/// sample) and how many of them the referenced key lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Inclusion {
    /// Distinct non-null values read.
    pub(super) values: i64,
    /// Of those, values not found in the key.
    pub(super) missing: i64,
}

impl Inclusion {
    /// Every value found, and there was at least one.
    pub(super) fn holds(self) -> bool {
        self.values > 0 && self.missing == 0
    }
}

/// Whether the distinct non-null values of `from.columns[col]` (among its first
/// [`INCLUSION_SAMPLE_ROWS`] non-null rows) are all in `to.columns[key]`.
pub(super) async fn inclusion(
    client: &Client,
    (from, col): (&Table, u32),
    (to, key): (&Table, u32),
    timeout_ms: u64,
) -> Result<Inclusion, tokio_postgres::Error> {
    let c = quote_ident(&from.columns[col as usize].name);
    let k = quote_ident(&to.columns[key as usize].name);
    let sql = format!(
        "SELECT count(*), count(*) FILTER (WHERE NOT EXISTS \
           (SELECT 1 FROM {to} t WHERE t.{k} = v.val)) \
         FROM (SELECT DISTINCT s.val FROM \
           (SELECT {c} AS val FROM {from} WHERE {c} IS NOT NULL LIMIT {INCLUSION_SAMPLE_ROWS}) s) v",
        to = qualified(to),
        from = qualified(from),
    );
    let rows = in_transaction(client, timeout_ms, &sql, &[]).await?;
    let Some(row) = rows.first() else {
        return Ok(Inclusion {
            values: 0,
            missing: 0,
        });
    };
    Ok(Inclusion {
        values: row.try_get(0)?,
        missing: row.try_get(1)?,
    })
}
