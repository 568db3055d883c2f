//! Inference of what a database without constraints does not declare: single-column primary
//! keys, many-to-one relationships ([`RelationOrigin::Inferred`]), and (see `labels`) display
//! and time columns. It runs after introspection and before annotations, which add to it and
//! win over it (an annotated relation between the same columns, an annotated display or time
//! column).
//!
//! Names propose, data decides: a column becomes a key when it is unique and never null in the
//! data, a column references a key when its name suggests it (see `names`) and every one of its
//! values is found in the key (see `verify`). A column that verifies against several keys
//! equally well relates to none and is listed as ambiguous.
//!
//! The run is bounded: at most [`MAX_STATEMENTS`] statements and [`MAX_DURATION`], each
//! statement with the profiling statement timeout; key checks may use at most half of either,
//! so that relations are still checked in a database with thousands of tables. Its cost is
//! logged per database.

mod labels;
pub mod names;
mod verify;

pub use labels::infer_labels;

use super::introspect::{describe, IntrospectOptions};
use super::model::{Catalog, Relation, RelationOrigin, Table, TableId, TableKind, ValueKind};
use super::profile::statement_timeout;
use names::{key_order, name_score, TableNames};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};
use tokio_postgres::Client;
use verify::{inclusion, unique_column, Budget, Inclusion};

/// Statements one inference run may spend (key checks plus inclusion checks).
pub const MAX_STATEMENTS: usize = 10_000;

/// Wall time one inference run may spend; checks not run by then are skipped (and counted).
pub const MAX_DURATION: Duration = Duration::from_secs(20);

/// Key columns tried per table in one statement.
const KEY_CANDIDATES: usize = 6;

/// A column whose values fit the keys of several tables equally well: no relation was made.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Ambiguous {
    /// `schema.table.column`.
    pub column: String,
    /// The keys it fits, `schema.table.column`.
    pub targets: Vec<String>,
}

/// What one inference run found and what it cost.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Inference {
    /// Inferred primary keys, `schema.table.column`.
    pub primary_keys: Vec<String>,
    /// Number of relations inferred.
    pub relations: usize,
    /// Columns that fit several keys equally well.
    pub ambiguous: Vec<Ambiguous>,
    /// Tables given an inferred display column, `schema.table.column`.
    pub display_columns: Vec<String>,
    /// Tables given an inferred time column, `schema.table.column`.
    pub time_columns: Vec<String>,
    /// Candidate relations whose names matched (before the data was checked).
    pub candidates: usize,
    /// Statements run against the database.
    pub statements: usize,
    /// Checks not run because the budget was spent.
    pub skipped: usize,
    /// Checks that failed (timeout, permission): treated as not holding.
    pub failed: usize,
    /// Time spent, in milliseconds.
    pub took_ms: u64,
}

impl Inference {
    /// Whether `schema.table.column` is an inferred primary key.
    pub fn is_inferred_key(&self, t: &Table, column: u32) -> bool {
        let name = col_name(t, column);
        self.primary_keys.contains(&name)
    }
}

fn col_name(t: &Table, column: u32) -> String {
    format!("{}.{}", t.qualified(), t.columns[column as usize].name)
}

/// A relation the names suggest, before the data is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Candidate {
    from: TableId,
    column: u32,
    to: TableId,
    key: u32,
    score: u8,
}

/// Infers primary keys and relationships of `catalog` from its names and data (reading the
/// data through `client`, which must be idle). Never fails: a check that cannot run counts as
/// not holding.
pub async fn infer_structure(
    client: &Client,
    catalog: &mut Catalog,
    opts: &IntrospectOptions,
) -> Inference {
    let started = Instant::now();
    let timeout = statement_timeout(opts);
    let mut out = Inference::default();
    let schemas = by_schema(catalog);
    let mut keys = Budget::new(MAX_STATEMENTS / 2, started + MAX_DURATION / 2);
    for (ids, names) in &schemas {
        infer_keys(client, catalog, ids, names, timeout, &mut keys, &mut out).await;
    }
    let mut budget = Budget::new(MAX_STATEMENTS - keys.spent, started + MAX_DURATION);
    (budget.spent, budget.skipped) = (keys.spent, keys.skipped);
    for (ids, names) in &schemas {
        let cands = candidates(catalog, ids, names);
        out.candidates += cands.len();
        infer_relations(client, catalog, cands, timeout, &mut budget, &mut out).await;
    }
    out.statements = budget.spent;
    out.skipped = budget.skipped;
    out.took_ms = started.elapsed().as_millis() as u64;
    tracing::info!(
        database = %catalog.database,
        tables = catalog.tables.len(),
        primary_keys = out.primary_keys.len(),
        relations = out.relations,
        ambiguous = out.ambiguous.len(),
        candidates = out.candidates,
        statements = out.statements,
        skipped = out.skipped,
        failed = out.failed,
        ms = out.took_ms,
        "catalog keys and relationships inferred"
    );
    out
}

/// The tables of each schema, with their names indexed.
fn by_schema(catalog: &Catalog) -> Vec<(Vec<TableId>, TableNames)> {
    let mut groups: BTreeMap<&str, Vec<TableId>> = BTreeMap::new();
    for (i, t) in catalog.tables.iter().enumerate() {
        groups
            .entry(t.schema.as_str())
            .or_default()
            .push(i as TableId);
    }
    groups
        .into_values()
        .map(|ids| {
            let names: Vec<&str> = ids
                .iter()
                .map(|t| catalog.table(*t).name.as_str())
                .collect();
            let index = TableNames::new(&names);
            (ids, index)
        })
        .collect()
}

/// Whether a column of this type can be an inferred key: integers, text and uuids.
fn keyable(kind: ValueKind, data_type: &str) -> bool {
    matches!(kind, ValueKind::Integer | ValueKind::Text) || data_type == "uuid"
}

/// Whether the data is read at all: tables and materialized views (not views or foreign tables,
/// whose reads may cost anything).
fn readable(t: &Table) -> bool {
    matches!(t.kind, TableKind::Table | TableKind::MaterializedView)
}

async fn infer_keys(
    client: &Client,
    catalog: &mut Catalog,
    ids: &[TableId],
    names: &TableNames,
    timeout: u64,
    budget: &mut Budget,
    out: &mut Inference,
) {
    for (local, id) in ids.iter().enumerate() {
        let t = catalog.table(*id);
        if !t.primary_key.is_empty() || !readable(t) {
            continue;
        }
        let cols: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        let order: Vec<u32> = key_order(local, &cols, names)
            .into_iter()
            .map(|c| c as u32)
            .filter(|c| {
                let col = &t.columns[*c as usize];
                keyable(col.kind, &col.data_type)
            })
            .take(KEY_CANDIDATES)
            .collect();
        if order.is_empty() || !budget.take() {
            continue;
        }
        match unique_column(client, t, &order, timeout).await {
            Ok(Some(c)) => {
                out.primary_keys.push(col_name(t, c));
                catalog.tables[*id as usize].primary_key = vec![c];
            }
            Ok(None) => {}
            Err(e) => {
                out.failed += 1;
                tracing::debug!(table = %t.qualified(), error = %describe(&e), "key check failed");
            }
        }
    }
}

/// The single-column key of `t`, if it has one.
fn single_key(t: &Table) -> Option<u32> {
    match t.primary_key.as_slice() {
        [k] => Some(*k),
        _ => None,
    }
}

/// Relations the names of the tables `ids` (one schema) suggest, for columns not already
/// covered by a foreign key.
fn candidates(catalog: &Catalog, ids: &[TableId], names: &TableNames) -> Vec<Candidate> {
    let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
    for (local, id) in ids.iter().enumerate() {
        let t = catalog.table(*id);
        if let (Some(k), true) = (single_key(t), readable(t)) {
            let name = t.columns[k as usize].name.to_ascii_lowercase();
            by_key.entry(name).or_default().push(local);
        }
    }
    // Prefixed naming (`sbcustomer.sbcustid`, `sbtransaction.sbtxcustid`): keys without the
    // prefix all columns share (`custid`), referencing columns without their table's own
    // (`sbtx`).
    let all: Vec<&str> = ids
        .iter()
        .flat_map(|t| catalog.table(*t).columns.iter().map(|c| c.name.as_str()))
        .collect();
    let shared = crate::catalog::text::shared_prefix(&all);
    let mut by_short_key: HashMap<String, Vec<usize>> = HashMap::new();
    if !shared.is_empty() {
        for (name, locals) in &by_key {
            let short = crate::catalog::text::strip_prefix(name, shared);
            if short.len() != name.len() {
                by_short_key
                    .entry(short.to_string())
                    .or_default()
                    .extend(locals);
            }
        }
    }
    let related = |t: TableId, c: u32| {
        catalog
            .relations
            .iter()
            .any(|r| r.from == t && r.from_columns == [c])
    };
    let mut out = Vec::new();
    for (la, a) in ids.iter().enumerate() {
        if !readable(catalog.table(*a)) {
            continue;
        }
        let own: Vec<&str> = catalog
            .table(*a)
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        let own_prefix = crate::catalog::text::shared_prefix(&own);
        for ci in 0..catalog.table(*a).columns.len() as u32 {
            let col = &catalog.table(*a).columns[ci as usize];
            if related(*a, ci) || !keyable(col.kind, &col.data_type) {
                continue;
            }
            let lower = col.name.to_ascii_lowercase();
            let mut targets = names.named_by(&lower);
            targets.extend(by_key.get(&lower).into_iter().flatten());
            for (i, _) in lower.match_indices('_') {
                targets.extend(by_key.get(&lower[i + 1..]).into_iter().flatten());
            }
            targets.sort_unstable();
            targets.dedup();
            out.extend(
                targets
                    .into_iter()
                    .filter_map(|lb| candidate(catalog, (*a, ci), ids[lb], la == lb, None)),
            );
            let short = crate::catalog::text::strip_prefix(&lower, own_prefix);
            if short.len() != lower.len() {
                let prefixed = by_short_key.get(short).into_iter().flatten();
                out.extend(
                    prefixed
                        .filter(|lb| **lb != la)
                        .filter_map(|lb| candidate(catalog, (*a, ci), ids[*lb], false, Some(2))),
                );
            }
        }
    }
    out
}

/// Column `column` of table `a` as a reference to the single-column key of table `b`, when
/// the types agree and the names suggest it.
fn candidate(
    catalog: &Catalog,
    (a, ci): (TableId, u32),
    b: TableId,
    same: bool,
    prefixed: Option<u8>,
) -> Option<Candidate> {
    let (ta, tb) = (catalog.table(a), catalog.table(b));
    let col = &ta.columns[ci as usize];
    let k = single_key(tb).filter(|_| readable(tb))?;
    let key = &tb.columns[k as usize];
    // A table refers to itself only through another column (`parent_category_id`).
    if same && (ci == k || col.name.eq_ignore_ascii_case(&key.name)) {
        return None;
    }
    if col.kind != key.kind || (col.kind == ValueKind::Other && col.data_type != key.data_type) {
        return None;
    }
    let score = name_score(&col.name, &tb.name, &key.name).or(prefixed)?;
    // A table's own key refers elsewhere only when its name says so.
    if single_key(ta) == Some(ci) && score < 3 {
        return None;
    }
    Some(Candidate {
        from: a,
        column: ci,
        to: b,
        key: k,
        score,
    })
}

/// What a name score means, for the evidence of an inferred relation.
fn rule(score: u8) -> &'static str {
    match score {
        4 => "same name as the key, naming its table",
        3 => "named after the table and its key",
        2 => "same name as the key",
        _ => "names the table",
    }
}

async fn infer_relations(
    client: &Client,
    catalog: &mut Catalog,
    mut cands: Vec<Candidate>,
    timeout: u64,
    budget: &mut Budget,
    out: &mut Inference,
) {
    cands.sort_by_key(|c| (c.from, c.column, std::cmp::Reverse(c.score), c.to));
    let mut i = 0;
    while i < cands.len() {
        let (from, column) = (cands[i].from, cands[i].column);
        let end = i + cands[i..]
            .iter()
            .take_while(|c| (c.from, c.column) == (from, column))
            .count();
        let mut fits: Vec<(Candidate, Inclusion)> = Vec::new();
        for c in &cands[i..end] {
            if fits.first().is_some_and(|(f, _)| c.score < f.score) || !budget.take() {
                break;
            }
            let (ta, tb) = (catalog.table(c.from), catalog.table(c.to));
            match inclusion(client, (ta, c.column), (tb, c.key), timeout).await {
                Ok(inc) if inc.holds() => fits.push((*c, inc)),
                Ok(_) => {}
                Err(e) => {
                    out.failed += 1;
                    tracing::debug!(
                        column = %col_name(ta, c.column),
                        error = %describe(&e),
                        "inclusion check failed"
                    );
                }
            }
        }
        match fits.as_slice() {
            [(c, inc)] => {
                let rel = relation(catalog, c, *inc);
                catalog.relations.push(rel);
                out.relations += 1;
            }
            [] => {}
            many => out.ambiguous.push(Ambiguous {
                column: col_name(catalog.table(from), column),
                targets: many
                    .iter()
                    .map(|(c, _)| col_name(catalog.table(c.to), c.key))
                    .collect(),
            }),
        }
        i = end;
    }
}

fn relation(catalog: &Catalog, c: &Candidate, inc: Inclusion) -> Relation {
    let evidence = format!(
        "{} + values included ({} of {})",
        rule(c.score),
        inc.values - inc.missing,
        inc.values
    );
    Relation {
        from: c.from,
        from_columns: vec![c.column],
        to: c.to,
        to_columns: vec![c.key],
        one_to_one: single_key(catalog.table(c.from)) == Some(c.column),
        preferred: false,
        origin: RelationOrigin::Inferred(evidence),
    }
}
