//! The catalog's data model: what Querent knows about one upstream database. Introspection
//! fills the structure and profiles, annotations (`schemas/*.toml`) add the business meaning,
//! and a role's view is a filtered copy (see `view`).

use serde::Serialize;
use std::hash::{Hash, Hasher};

/// Index of a table in [`Catalog::tables`].
pub type TableId = u32;

/// A column: its table and its index in [`Table::columns`].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
pub struct ColRef {
    /// The table.
    pub table: TableId,
    /// The column within the table.
    pub column: u32,
}

/// A version of the catalog's structure and annotations; caches key on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct SchemaVersion(pub u64);

impl std::fmt::Display for SchemaVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// What a relation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TableKind {
    /// An ordinary or partitioned table.
    Table,
    /// A view.
    View,
    /// A materialized view.
    MaterializedView,
    /// A foreign table.
    Foreign,
}

/// The broad class of a column's type, as linking and planning need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    /// text, varchar, char, citext, enums.
    Text,
    /// smallint, integer, bigint.
    Integer,
    /// numeric / decimal.
    Decimal,
    /// real, double precision.
    Float,
    /// date.
    Date,
    /// timestamp with or without time zone.
    Timestamp,
    /// boolean.
    Boolean,
    /// Anything else (json, uuid, arrays, ...).
    Other,
}

impl ValueKind {
    /// Numbers (integers, decimals, floats).
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            ValueKind::Integer | ValueKind::Decimal | ValueKind::Float
        )
    }
    /// Dates and timestamps.
    pub fn is_temporal(self) -> bool {
        matches!(self, ValueKind::Date | ValueKind::Timestamp)
    }
}

/// Where a profile's figures came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileSource {
    /// A full scan of a small table.
    Scan,
    /// A `TABLESAMPLE` of a big table (figures are estimates).
    Sample,
    /// The planner statistics in `pg_stats`.
    Stats,
}

/// Cheap statistics of one column.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Profile {
    /// Estimated number of distinct values.
    pub distinct: Option<u64>,
    /// Every distinct value, when there are at most `catalog.value_threshold` (text columns).
    pub values: Option<Vec<String>>,
    /// Smallest value, as text (numbers and dates).
    pub min: Option<String>,
    /// Largest value, as text (numbers and dates).
    pub max: Option<String>,
    /// How the figures were obtained.
    pub source: Option<ProfileSource>,
}

/// Business meaning of a column, from annotations.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ColumnNotes {
    /// Description for people and prompts.
    pub description: Option<String>,
    /// Other words for the column ("turnover").
    pub synonyms: Vec<String>,
    /// Other words for values: (word, value as stored), e.g. ("web", "Online").
    pub value_synonyms: Vec<(String, String)>,
    /// Unit, e.g. "USD", "sqft".
    pub unit: Option<String>,
    /// Display format, e.g. "money", "percent", "integer".
    pub format: Option<String>,
    /// Personal data: values are never indexed or shown to a planner.
    pub pii: bool,
}

/// Business meaning of a table, from annotations.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TableNotes {
    /// Description for people and prompts.
    pub description: Option<String>,
    /// Other words for the table ("clients").
    pub synonyms: Vec<String>,
    /// The column that dates a row (the default for time filters and series).
    pub time_column: Option<u32>,
    /// The column that names an entity (show product names, not ids).
    pub display_column: Option<u32>,
}

/// One column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Column {
    /// Name as stored.
    pub name: String,
    /// Type as Postgres prints it (`numeric(10,2)`).
    pub data_type: String,
    /// Broad class of the type.
    pub kind: ValueKind,
    /// NULLs allowed.
    pub nullable: bool,
    /// `COMMENT ON COLUMN`.
    pub comment: Option<String>,
    /// Statistics, when profiled.
    pub profile: Option<Profile>,
    /// Annotations.
    pub notes: ColumnNotes,
}

/// One table, view or materialized view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// Schema (namespace).
    pub schema: String,
    /// Name.
    pub name: String,
    /// Kind of relation.
    pub kind: TableKind,
    /// `COMMENT ON TABLE`.
    pub comment: Option<String>,
    /// Planner's row estimate (`pg_class.reltuples`), `None` if never analyzed.
    pub row_estimate: Option<u64>,
    /// Columns in ordinal order.
    pub columns: Vec<Column>,
    /// Primary key columns (indexes into `columns`).
    pub primary_key: Vec<u32>,
    /// Annotations.
    pub notes: TableNotes,
}

impl Table {
    /// `schema.name`.
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }
    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<u32> {
        self.columns
            .iter()
            .position(|c| c.name == name)
            .map(|i| i as u32)
    }
}

/// Where a relationship between two tables comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationOrigin {
    /// A foreign-key constraint (its name).
    ForeignKey(String),
    /// Declared in an annotation file.
    Declared,
    /// Inferred from names and data, without a constraint (the evidence, e.g. "same name as
    /// the key + values included (40 of 40)"). See `catalog::infer`.
    Inferred(String),
}

/// A many-to-one (or one-to-one) link: rows of `from` point at one row of `to`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Relation {
    /// The referencing table (the "many" side).
    pub from: TableId,
    /// Referencing columns.
    pub from_columns: Vec<u32>,
    /// The referenced table (the "one" side).
    pub to: TableId,
    /// Referenced columns.
    pub to_columns: Vec<u32>,
    /// At most one `from` row per `to` row too.
    pub one_to_one: bool,
    /// Preferred when two join paths are otherwise equal (annotations).
    pub preferred: bool,
    /// Foreign key, declared or inferred.
    pub origin: RelationOrigin,
}

/// A named business measure from annotations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metric {
    /// Name (`revenue`).
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Other words for it (`sales`, `turnover`).
    pub synonyms: Vec<String>,
    /// The aggregate expression, with table-qualified column names.
    pub sql: String,
    /// Tables the expression and filters need.
    pub tables: Vec<TableId>,
    /// Columns the expression and filters read (resolved from their `table.column` names).
    pub columns: Vec<ColRef>,
    /// Conditions always applied (`orders.status = 'completed'`).
    pub filters: Vec<String>,
    /// The column that dates it (for "in 2024", "by month").
    pub time_column: Option<ColRef>,
    /// Unit, e.g. "USD".
    pub unit: Option<String>,
    /// Display format.
    pub format: Option<String>,
}

/// Everything known about one upstream database.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Catalog {
    /// Database name.
    pub database: String,
    /// Version of structure + annotations (see [`Catalog::seal`]).
    pub version: SchemaVersion,
    /// Tables, views and materialized views, sorted by (schema, name).
    pub tables: Vec<Table>,
    /// Foreign keys and declared relationships.
    pub relations: Vec<Relation>,
    /// Named metrics.
    pub metrics: Vec<Metric>,
}

impl Catalog {
    /// Finds a table by `name` or `schema.name` (a bare name must be unambiguous).
    pub fn find_table(&self, name: &str) -> Option<TableId> {
        match name.split_once('.') {
            Some((s, n)) => self
                .tables
                .iter()
                .position(|t| t.schema == s && t.name == n),
            None => {
                let mut hits = self
                    .tables
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| t.name == name);
                let first = hits.next()?;
                hits.next().is_none().then_some(first.0)
            }
        }
        .map(|i| i as TableId)
    }

    /// Finds `table.column` or `schema.table.column`.
    pub fn find_column(&self, name: &str) -> Option<ColRef> {
        let (table, column) = name.rsplit_once('.')?;
        let t = self.find_table(table)?;
        let c = self.tables[t as usize].column(column)?;
        Some(ColRef {
            table: t,
            column: c,
        })
    }

    /// The table of `id`.
    pub fn table(&self, id: TableId) -> &Table {
        &self.tables[id as usize]
    }

    /// The column `r`.
    pub fn column(&self, r: ColRef) -> &Column {
        &self.tables[r.table as usize].columns[r.column as usize]
    }

    /// Number of columns over all tables.
    pub fn column_count(&self) -> usize {
        self.tables.iter().map(|t| t.columns.len()).sum()
    }

    /// Sets [`Catalog::version`] from the structure and annotations (not from profiles, which
    /// change with the data).
    pub fn seal(&mut self) {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.database.hash(&mut h);
        for t in &self.tables {
            (&t.schema, &t.name, t.kind, &t.comment, &t.primary_key).hash(&mut h);
            format!("{:?}", t.notes).hash(&mut h);
            for c in &t.columns {
                (&c.name, &c.data_type, c.nullable, &c.comment).hash(&mut h);
                format!("{:?}", c.notes).hash(&mut h);
            }
        }
        for r in &self.relations {
            format!("{r:?}").hash(&mut h);
        }
        for m in &self.metrics {
            format!("{m:?}").hash(&mut h);
        }
        self.version = SchemaVersion(h.finish());
    }
}
