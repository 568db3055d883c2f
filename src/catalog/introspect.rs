//! Introspection: reads the structure of an upstream PostgreSQL database from `pg_catalog`
//! into a [`Catalog`] (tables, views, materialized views and foreign tables the connected user
//! can read, their columns, comments, primary keys and foreign keys), then optionally profiles
//! the columns (see [`super::profile`]).
//!
//! A handful of set-based queries read the whole catalog (one for relations, one for types,
//! one for columns, one for keys), so introspecting 5,000 tables costs a few round trips, not
//! thousands. They run in one `REPEATABLE READ READ ONLY` transaction, for a consistent picture,
//! and take no lock on the user tables themselves: a table locked by the application does not
//! delay them.

use super::model::{Catalog, Column, ColumnNotes, Relation, RelationOrigin, Table, TableId};
use super::model::{TableKind, TableNotes, ValueKind};
use super::profile;
use std::collections::{HashMap, HashSet};
use tokio_postgres::Client;

/// What to read and how much to profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntrospectOptions {
    /// Schemas to read; empty = every schema but the system ones (`pg_catalog`,
    /// `information_schema`, `pg_toast*`, `pg_temp*`).
    pub schemas: Vec<String>,
    /// Text columns with at most this many distinct values get their values listed.
    pub value_threshold: u64,
    /// Tables with at most this many (estimated) rows are profiled exactly; bigger ones from a
    /// `TABLESAMPLE SYSTEM` sample.
    pub full_scan_rows: u64,
    /// Target size of the sample of a big table, in rows.
    pub sample_rows: u64,
    /// Profile the columns (distinct counts, values, min/max).
    pub profile: bool,
    /// Time limit of each profiling statement, in milliseconds (0 = the default 5 s: profiling
    /// never runs unbounded).
    pub statement_timeout_ms: u64,
}

impl Default for IntrospectOptions {
    fn default() -> Self {
        IntrospectOptions {
            schemas: Vec::new(),
            value_threshold: 1000,
            full_scan_rows: 1_000_000,
            sample_rows: 100_000,
            profile: true,
            statement_timeout_ms: 5000,
        }
    }
}

/// Why introspection failed. Profiling never fails introspection: a table that cannot be
/// profiled is only left without profiles.
#[derive(Debug, thiserror::Error)]
pub enum IntrospectError {
    /// A statement against the upstream failed.
    #[error("catalog introspection failed while {step}: {message}")]
    Query {
        /// What was being read ("reading columns", ...).
        step: &'static str,
        /// The server's message (or the client's, for connection errors).
        message: String,
        /// The underlying error.
        #[source]
        source: tokio_postgres::Error,
    },
}

impl IntrospectError {
    fn query(step: &'static str) -> impl FnOnce(tokio_postgres::Error) -> IntrospectError {
        move |source| IntrospectError::Query {
            step,
            message: describe(&source),
            source,
        }
    }
}

/// A readable message for a client error: the server's message (with its SQLSTATE) when there
/// is one, since `tokio_postgres::Error`'s own text is only "db error".
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

/// Time limit of each catalog query (they read only `pg_catalog`, so it is generous).
const CATALOG_STATEMENT_TIMEOUT_MS: u64 = 60_000;

/// Reads the upstream's structure into a [`Catalog`], profiles it when `opts.profile`, and
/// seals it ([`Catalog::seal`]). `notes` are left empty and `metrics` too: annotations are
/// applied afterwards.
///
/// The client must be idle (not inside a transaction): introspection opens and ends its own
/// transactions on it, and must not be cancelled midway (a dropped future may leave one open).
pub async fn introspect(
    client: &Client,
    opts: &IntrospectOptions,
) -> Result<Catalog, IntrospectError> {
    client
        .batch_execute(&format!(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; \
             SET LOCAL statement_timeout = {CATALOG_STATEMENT_TIMEOUT_MS}; \
             SET LOCAL lock_timeout = '200ms'; \
             SET LOCAL search_path = pg_catalog, pg_temp"
        ))
        .await
        .map_err(IntrospectError::query("starting the catalog transaction"))?;
    let read = read_structure(client, opts).await;
    let end = if read.is_ok() { "COMMIT" } else { "ROLLBACK" };
    let ended = client
        .batch_execute(end)
        .await
        .map_err(IntrospectError::query("ending the catalog transaction"));
    let mut catalog = read?;
    ended?;
    if opts.profile {
        let summary = profile::profile_catalog(client, &mut catalog, opts).await;
        tracing::debug!(
            database = %catalog.database,
            profiled = summary.profiled,
            failed = summary.failed.len(),
            "catalog profiled"
        );
    }
    catalog.seal();
    Ok(catalog)
}

/// One relation as `pg_class` describes it.
struct RawTable {
    oid: u32,
    table: Table,
}

/// The relations of the selected schemas the user can read: not partitions (their parent
/// stands for them), not system schemas. `$1`: schemas (empty = all).
const TABLES_SQL: &str = "
WITH RECURSIVE parts(root, relid) AS (
    SELECT i.inhparent, i.inhrelid
    FROM pg_catalog.pg_inherits i
    JOIN pg_catalog.pg_class p ON p.oid = i.inhparent
    WHERE p.relkind = 'p' AND NOT p.relispartition
  UNION ALL
    SELECT parts.root, i.inhrelid
    FROM parts JOIN pg_catalog.pg_inherits i ON i.inhparent = parts.relid
), part_rows AS (
    SELECT parts.root, sum(c.reltuples)::float8 AS tuples
    FROM parts JOIN pg_catalog.pg_class c ON c.oid = parts.relid
    WHERE c.relkind <> 'p' AND c.reltuples >= 0
    GROUP BY parts.root
)
SELECT c.oid, n.nspname::text, c.relname::text, c.relkind::text,
       pg_catalog.obj_description(c.oid, 'pg_class'),
       c.reltuples::float8, pr.tuples
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN part_rows pr ON pr.root = c.oid
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp)'
  AND (cardinality($1::text[]) = 0 OR n.nspname = ANY($1::text[]))
  AND pg_catalog.has_schema_privilege(n.oid, 'USAGE')
  AND pg_catalog.has_table_privilege(c.oid, 'SELECT')
ORDER BY n.nspname, c.relname";

/// Domains, enums and `citext` (the types whose kind depends on more than their OID).
const TYPES_SQL: &str = "
SELECT t.oid, t.typtype::text, t.typbasetype, t.typname::text
FROM pg_catalog.pg_type t
WHERE t.typtype IN ('d', 'e') OR t.typname = 'citext'";

/// Columns of the given relations. `$1`: relation OIDs.
const COLUMNS_SQL: &str = "
SELECT a.attrelid, a.attnum::int4, a.attname::text,
       pg_catalog.format_type(a.atttypid, a.atttypmod), a.atttypid, a.attnotnull,
       pg_catalog.col_description(a.attrelid, a.attnum)
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum";

/// Primary keys, foreign keys (top-level ones only: a foreign key to a partitioned table also
/// has one internal child per partition) and unique, non-partial, valid indexes (which include
/// the primary key and unique constraints). `$1`: relation OIDs.
const KEYS_SQL: &str = "
SELECT con.contype::text, con.conname::text, con.conrelid, con.conkey::int2[],
       con.confrelid, con.confkey::int2[]
FROM pg_catalog.pg_constraint con
WHERE con.contype IN ('p', 'f') AND con.conparentid = 0 AND con.conrelid = ANY($1::oid[])
UNION ALL
SELECT 'u', ic.relname::text, i.indrelid, i.indkey::int2[], 0::oid, NULL::int2[]
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
WHERE i.indisunique AND i.indisvalid AND i.indpred IS NULL AND i.indrelid = ANY($1::oid[])
ORDER BY 3, 2";

async fn read_structure(
    client: &Client,
    opts: &IntrospectOptions,
) -> Result<Catalog, IntrospectError> {
    let database: String = client
        .query_one("SELECT current_database()::text", &[])
        .await
        .and_then(|r| r.try_get(0))
        .map_err(IntrospectError::query("reading the database name"))?;

    let mut raw = Vec::new();
    for row in client
        .query(TABLES_SQL, &[&opts.schemas])
        .await
        .map_err(IntrospectError::query("reading tables (pg_class)"))?
    {
        raw.push(table_of(&row).map_err(IntrospectError::query("decoding tables"))?);
    }
    raw.sort_by(|a, b| (&a.table.schema, &a.table.name).cmp(&(&b.table.schema, &b.table.name)));
    let oids: Vec<u32> = raw.iter().map(|t| t.oid).collect();
    let ids: HashMap<u32, TableId> = oids
        .iter()
        .enumerate()
        .map(|(i, oid)| (*oid, i as TableId))
        .collect();

    let types = TypeMap::read(client).await?;
    let mut tables: Vec<Table> = raw.into_iter().map(|r| r.table).collect();
    // (relation, attnum) -> index in the table's columns.
    let mut attnums: HashMap<(u32, i16), u32> = HashMap::new();
    for row in client
        .query(COLUMNS_SQL, &[&oids])
        .await
        .map_err(IntrospectError::query("reading columns (pg_attribute)"))?
    {
        let decode = || -> Result<_, tokio_postgres::Error> {
            let rel: u32 = row.try_get(0)?;
            let attnum: i32 = row.try_get(1)?;
            let type_oid: u32 = row.try_get(4)?;
            let not_null: bool = row.try_get(5)?;
            let column = Column {
                name: row.try_get(2)?,
                data_type: row.try_get(3)?,
                kind: types.kind(type_oid),
                nullable: !not_null,
                comment: row.try_get(6)?,
                profile: None,
                notes: ColumnNotes::default(),
            };
            Ok((rel, attnum, column))
        };
        let (rel, attnum, column) = decode().map_err(IntrospectError::query("decoding columns"))?;
        let (Some(&id), Ok(attnum)) = (ids.get(&rel), i16::try_from(attnum)) else {
            continue;
        };
        let columns = &mut tables[id as usize].columns;
        attnums.insert((rel, attnum), columns.len() as u32);
        columns.push(column);
    }

    let keys = read_keys(client, &oids).await?;
    let relations = resolve_keys(&keys, &ids, &attnums, &mut tables);
    Ok(Catalog {
        database,
        tables,
        relations,
        ..Catalog::default()
    })
}

fn table_of(row: &tokio_postgres::Row) -> Result<RawTable, tokio_postgres::Error> {
    let relkind: String = row.try_get(3)?;
    let kind = match relkind.as_str() {
        "v" => TableKind::View,
        "m" => TableKind::MaterializedView,
        "f" => TableKind::Foreign,
        _ => TableKind::Table,
    };
    let reltuples: f64 = row.try_get(5)?;
    let partitions: Option<f64> = row.try_get(6)?;
    // reltuples is -1 until the first VACUUM or ANALYZE; a partitioned table that was never
    // analyzed itself is as big as its analyzed partitions.
    let row_estimate = if reltuples >= 0.0 {
        Some(reltuples.round() as u64)
    } else {
        partitions.map(|p| p.max(0.0).round() as u64)
    };
    Ok(RawTable {
        oid: row.try_get(0)?,
        table: Table {
            schema: row.try_get(1)?,
            name: row.try_get(2)?,
            kind,
            comment: row.try_get(4)?,
            row_estimate,
            columns: Vec::new(),
            primary_key: Vec::new(),
            notes: TableNotes::default(),
        },
    })
}

/// The types whose [`ValueKind`] is not fixed by their OID: domains (by their base type),
/// enums (text) and `citext` (text; an extension, so its OID varies).
struct TypeMap {
    domains: HashMap<u32, u32>,
    texts: HashSet<u32>,
}

impl TypeMap {
    async fn read(client: &Client) -> Result<TypeMap, IntrospectError> {
        let mut map = TypeMap {
            domains: HashMap::new(),
            texts: HashSet::new(),
        };
        for row in client
            .query(TYPES_SQL, &[])
            .await
            .map_err(IntrospectError::query("reading types (pg_type)"))?
        {
            let decode = || -> Result<(u32, String, u32), tokio_postgres::Error> {
                Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
            };
            let (oid, typtype, base) =
                decode().map_err(IntrospectError::query("decoding types"))?;
            match typtype.as_str() {
                "d" => {
                    map.domains.insert(oid, base);
                }
                _ => {
                    map.texts.insert(oid);
                }
            }
        }
        Ok(map)
    }

    /// The kind of type `oid`, following domains down to their base type.
    fn kind(&self, mut oid: u32) -> ValueKind {
        for _ in 0..32 {
            match self.domains.get(&oid) {
                Some(base) => oid = *base,
                None => break,
            }
        }
        if self.texts.contains(&oid) {
            return ValueKind::Text;
        }
        builtin_kind(oid)
    }
}

/// The kind of a built-in type by its (fixed) OID.
fn builtin_kind(oid: u32) -> ValueKind {
    match oid {
        // name, text, bpchar, varchar
        19 | 25 | 1042 | 1043 => ValueKind::Text,
        // int8, int2, int4
        20 | 21 | 23 => ValueKind::Integer,
        // numeric
        1700 => ValueKind::Decimal,
        // float4, float8
        700 | 701 => ValueKind::Float,
        // date
        1082 => ValueKind::Date,
        // timestamp, timestamptz
        1114 | 1184 => ValueKind::Timestamp,
        // bool
        16 => ValueKind::Boolean,
        _ => ValueKind::Other,
    }
}

/// A key as `pg_constraint` / `pg_index` describe it.
struct RawKey {
    /// `p` primary key, `f` foreign key, `u` unique index.
    kind: String,
    name: String,
    rel: u32,
    columns: Vec<i16>,
    target: u32,
    target_columns: Vec<i16>,
}

async fn read_keys(client: &Client, oids: &[u32]) -> Result<Vec<RawKey>, IntrospectError> {
    let mut keys = Vec::new();
    for row in client
        .query(KEYS_SQL, &[&oids])
        .await
        .map_err(IntrospectError::query(
            "reading keys (pg_constraint, pg_index)",
        ))?
    {
        let decode = || -> Result<RawKey, tokio_postgres::Error> {
            let columns: Option<Vec<i16>> = row.try_get(3)?;
            let target_columns: Option<Vec<i16>> = row.try_get(5)?;
            Ok(RawKey {
                kind: row.try_get(0)?,
                name: row.try_get(1)?,
                rel: row.try_get(2)?,
                columns: columns.unwrap_or_default(),
                target: row.try_get(4)?,
                target_columns: target_columns.unwrap_or_default(),
            })
        };
        keys.push(decode().map_err(IntrospectError::query("decoding keys"))?);
    }
    Ok(keys)
}

/// Sets primary keys and turns foreign keys into relations (skipping those whose tables or
/// columns are not in the catalog, e.g. in another schema or not readable).
fn resolve_keys(
    keys: &[RawKey],
    ids: &HashMap<u32, TableId>,
    attnums: &HashMap<(u32, i16), u32>,
    tables: &mut [Table],
) -> Vec<Relation> {
    let columns_of = |rel: u32, nums: &[i16]| -> Option<Vec<u32>> {
        if nums.is_empty() {
            return None;
        }
        // attnum 0 marks an expression in an index: not a column key.
        nums.iter()
            .map(|n| attnums.get(&(rel, *n)).copied())
            .collect()
    };
    // Column sets that are unique in their table (primary keys and unique indexes).
    let mut unique: HashSet<(u32, Vec<u32>)> = HashSet::new();
    for k in keys.iter().filter(|k| k.kind != "f") {
        let (Some(id), Some(cols)) = (ids.get(&k.rel), columns_of(k.rel, &k.columns)) else {
            continue;
        };
        if k.kind == "p" {
            tables[*id as usize].primary_key = cols.clone();
        }
        let mut set = cols;
        set.sort_unstable();
        set.dedup();
        unique.insert((k.rel, set));
    }
    let mut relations = Vec::new();
    for k in keys.iter().filter(|k| k.kind == "f") {
        let (Some(from), Some(to)) = (ids.get(&k.rel), ids.get(&k.target)) else {
            continue;
        };
        let (Some(from_columns), Some(to_columns)) = (
            columns_of(k.rel, &k.columns),
            columns_of(k.target, &k.target_columns),
        ) else {
            continue;
        };
        if from_columns.len() != to_columns.len() {
            continue;
        }
        let mut set = from_columns.clone();
        set.sort_unstable();
        set.dedup();
        relations.push(Relation {
            from: *from,
            from_columns,
            to: *to,
            to_columns,
            one_to_one: unique.contains(&(k.rel, set)),
            preferred: false,
            origin: RelationOrigin::ForeignKey(k.name.clone()),
        });
    }
    let name = |r: &Relation| match &r.origin {
        RelationOrigin::ForeignKey(n) => n.clone(),
        RelationOrigin::Declared | RelationOrigin::Inferred(_) => String::new(),
    };
    relations.sort_by_cached_key(|r| (r.from, name(r), r.from_columns.clone()));
    relations
}
