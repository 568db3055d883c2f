//! The AnalysisPlan: the contract between the planner and the SQL compiler, shown by
//! `EXPLAIN ASK` and tested on its own. It names catalog elements by id and never carries SQL
//! written from the question's words: values are data, compiled as literals.

use crate::catalog::{ColRef, TableId};
use serde::{Deserialize, Serialize};

/// An aggregate function over a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Agg {
    /// SUM.
    Sum,
    /// AVG.
    Avg,
    /// MIN.
    Min,
    /// MAX.
    Max,
    /// percentile_cont(0.5).
    Median,
    /// COUNT(DISTINCT column).
    CountDistinct,
}

/// What is measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// A metric from the annotations.
    Metric(u32),
    /// An aggregate of one column.
    Aggregate {
        /// Function.
        agg: Agg,
        /// Column.
        column: ColRef,
    },
    /// Number of rows of a table (entities: customers, orders).
    Count(TableId),
}

/// Time buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grain {
    /// Day.
    Day,
    /// ISO week (Monday).
    Week,
    /// Calendar month.
    Month,
    /// Calendar quarter.
    Quarter,
    /// Calendar year.
    Year,
}

impl Grain {
    /// The `date_trunc` unit.
    pub fn unit(self) -> &'static str {
        match self {
            Grain::Day => "day",
            Grain::Week => "week",
            Grain::Month => "month",
            Grain::Quarter => "quarter",
            Grain::Year => "year",
        }
    }
}

/// A grouping column; a time column with a grain is bucketed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dimension {
    /// The column shown (an entity's display column, not its id).
    pub column: ColRef,
    /// Bucket of a date/time column.
    pub grain: Option<Grain>,
}

/// A comparison operator of a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// `=` (or IN for several values).
    Eq,
    /// `<>` (or NOT IN).
    Ne,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// Text containing the value, case-insensitively (`ILIKE '%v%'`, wildcards escaped).
    Contains,
    /// Text starting with the value, case-insensitively.
    StartsWith,
    /// Text ending with the value, case-insensitively.
    EndsWith,
    /// No value (`IS NULL`; no values).
    IsNull,
    /// Some value (`IS NOT NULL`; no values): "publications presented in conferences".
    NotNull,
}

/// A literal value as data (compiled as a typed literal, never spliced).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    /// Text.
    Text(String),
    /// A number, as written.
    Number(f64),
    /// A yes/no flag ("active accounts", "courses without exams").
    Bool(bool),
}

/// A row condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    /// Column compared.
    pub column: ColRef,
    /// Operator.
    pub op: Op,
    /// One or more values (several = IN).
    pub values: Vec<Value>,
}

/// A period relative to the wall clock ("today", "this month"): the `unit` containing
/// `CURRENT_DATE`, moved by `offset` units ("yesterday" is day −1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockPeriod {
    /// Day, week, month, quarter or year.
    pub unit: Grain,
    /// Periods from the current one.
    pub offset: i32,
}

/// A half-open date range `[start, end)` on a time column, ISO dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    /// Relative to the wall clock at run time (then `start`/`end` are empty): "today", "this
    /// month". Other relative ranges ("last 3 months") are anchored to the end of the data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock: Option<ClockPeriod>,
    /// Column filtered (`None` = the measure's own time column).
    pub column: Option<ColRef>,
    /// First day included (`YYYY-MM-DD`).
    pub start: String,
    /// First day excluded.
    pub end: String,
    /// The words it came from ("Q4 2024").
    #[serde(default)]
    pub words: String,
}

/// What kind of answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// One number (or one per group).
    Aggregate,
    /// Share of the total, in percent.
    Share,
    /// Growth in percent between two periods.
    Growth,
    /// The entities themselves ("which stores opened in 2025").
    List,
    /// The first value-filtered part minus the second ("how much more ... than ...").
    Difference,
    /// The first measure divided by the second ("ratio of publications to authors").
    Ratio,
}

/// Sort order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// Largest first.
    pub descending: bool,
    /// Sort by this column ("ordered by signup date", "alphabetically") instead of the
    /// measure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<ColRef>,
}

impl Order {
    /// By the measure.
    pub fn by_measure(descending: bool) -> Order {
        Order {
            descending,
            column: None,
        }
    }
}

/// A condition on the measure per group ("with more than 20 orders").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Having {
    /// Operator on the first measure.
    pub op: Op,
    /// Threshold.
    pub value: f64,
    /// Count the groups that pass instead of listing them ("how many customers have ...").
    pub count_groups: bool,
}

/// The plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisPlan {
    /// Kind of answer.
    pub intent: Intent,
    /// Measures (at least one).
    pub measures: Vec<Measure>,
    /// Groupings, in order.
    #[serde(default)]
    pub dimensions: Vec<Dimension>,
    /// Row conditions.
    #[serde(default)]
    pub filters: Vec<Filter>,
    /// Date range.
    pub time: Option<TimeRange>,
    /// Per-group condition.
    pub having: Option<Having>,
    /// Sort by the first measure.
    pub order: Option<Order>,
    /// Most rows.
    pub limit: Option<u64>,
    /// For growth: the earlier period.
    pub previous: Option<TimeRange>,
    /// Only rows of the measured table that no row of this table references ("never").
    pub without: Option<TableId>,
    /// Share and difference: the filters (indexes in `filters`) that pick the part; the
    /// others apply to the whole.
    #[serde(default)]
    pub part: Vec<usize>,
    /// Tables a verb names as the way between the others ("courses *offered* each semester"
    /// goes through `course_offering`); joined when next to a table the plan reads.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub via: Vec<TableId>,
    /// Ratio: the filters (indexes in `filters`) only the second measure gets; `part` are
    /// the first's ("courses with projects to courses with exams").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub denominator_part: Vec<usize>,
    /// Ratio: as a percentage ("what share of appointments were cancelled in each
    /// department": 100 × part / whole within each group).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub percent: bool,
    /// How sure the planner is, 0..1.
    #[serde(default)]
    pub confidence: f32,
}
