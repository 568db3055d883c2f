//! The plan being drafted: what the rules have read so far. Each rule reads the question's
//! tokens and linked candidates through the [`Reader`], marks the words it accounts for, and
//! fills in part of the draft; [`Draft::finish`] turns it into an [`AnalysisPlan`].

use super::grammar::Reader;
use crate::ask::plan::*;
use crate::catalog::link::Linking;
use crate::catalog::store::Semantic;
use crate::catalog::{ColRef, TableId};

/// A numeric condition read from the words ("more than 20"): operator, value, token index.
pub(super) type Condition = (Op, f64, usize);

/// What the rules have read so far.
pub(super) struct Draft<'a> {
    /// The question as asked (for punctuation between tokens).
    pub question: &'a str,
    /// The question's tokens and which are accounted for.
    pub r: Reader<'a>,
    /// The linking of the question.
    pub linking: &'a Linking,
    /// Candidates picked, one per span, in question order.
    pub picked: Vec<usize>,
    /// Candidates the plan used.
    pub used: Vec<usize>,
    /// Measures named.
    pub measures: Vec<Measure>,
    /// Metrics named by a word that is also a table's name ("orders").
    pub table_worded: Vec<(Measure, TableId)>,
    /// Groupings.
    pub dimensions: Vec<Dimension>,
    /// Row conditions.
    pub filters: Vec<Filter>,
    /// Tables named as entities, with the token where they start.
    pub entities: Vec<(TableId, usize)>,
    /// Columns named (not as a grouping), with the token where they start.
    pub columns: Vec<(ColRef, usize)>,
    /// Most rows.
    pub limit: Option<u64>,
    /// Sort order.
    pub order: Option<Order>,
    /// The column an order verb sorts by ("ordered by signup date").
    pub order_column: Option<ColRef>,
    /// An ordering was asked for in words ("sorted", "descending").
    pub ordered: bool,
    /// "most common", "least frequent": ranked by how often, a count.
    pub by_frequency: bool,
    /// "alphabetically": by the displayed text.
    pub alphabetical: bool,
    /// Kind of answer.
    pub intent: Intent,
    /// Numeric conditions, not yet placed ("between 5 and 10" gives two).
    pub conditions: Vec<Condition>,
    /// The grain words asked for ("monthly", "by year").
    pub grain: Option<Grain>,
    /// Count the groups passing the condition.
    pub count_groups: bool,
    /// The entity a count cue names ("how many customers").
    pub counted: Option<TableId>,
    /// Rows no row of this table references ("never").
    pub without: Option<TableId>,
    /// Filters that pick the part (share, difference).
    pub part: Vec<usize>,
    /// The date range.
    pub time: Option<TimeRange>,
    /// The earlier period of a growth.
    pub previous: Option<TimeRange>,
    /// The per-group condition.
    pub having: Option<Having>,
    /// Tables verbs name as the way between the others.
    pub via: Vec<TableId>,
    /// Ratio: filters only the second measure gets.
    pub denominator_part: Vec<usize>,
    /// Ratio as a percentage.
    pub percent: bool,
    /// Columns that store a count, named by the words from the first to the second token.
    pub stored: Vec<(ColRef, usize, usize)>,
}

impl<'a> Draft<'a> {
    /// An empty draft over `linking`.
    pub fn new(s: &'a Semantic, linking: &'a Linking, question: &'a str) -> Draft<'a> {
        let toks = &linking.tokens;
        Draft {
            question,
            r: Reader {
                s,
                c: &s.catalog,
                toks,
                used_tok: vec![false; toks.len()],
            },
            linking,
            picked: Vec::new(),
            used: Vec::new(),
            measures: Vec::new(),
            table_worded: Vec::new(),
            dimensions: Vec::new(),
            filters: Vec::new(),
            entities: Vec::new(),
            columns: Vec::new(),
            limit: None,
            order: None,
            order_column: None,
            ordered: false,
            by_frequency: false,
            alphabetical: false,
            intent: Intent::Aggregate,
            conditions: Vec::new(),
            grain: None,
            count_groups: false,
            counted: None,
            without: None,
            part: Vec::new(),
            time: None,
            previous: None,
            having: None,
            via: Vec::new(),
            denominator_part: Vec::new(),
            stored: Vec::new(),
            percent: false,
        }
    }

    /// Whether the text between tokens `a` and `b` (a < b) holds `c` ("Chicago (ORD)").
    pub fn between_has(&self, a: usize, b: usize, c: char) -> bool {
        let (Some(x), Some(y)) = (self.r.toks.get(a), self.r.toks.get(b)) else {
            return false;
        };
        self.question
            .get(x.end..y.start)
            .is_some_and(|gap| gap.contains(c))
    }

    /// The first measure, once one is known.
    pub fn first(&self) -> Option<&Measure> {
        self.measures.first()
    }

    /// The plan drafted (confidence still 0).
    pub fn plan(&self) -> AnalysisPlan {
        AnalysisPlan {
            intent: self.intent,
            measures: self.measures.clone(),
            dimensions: self.dimensions.clone(),
            filters: self.filters.clone(),
            time: self.time.clone(),
            having: self.having.clone(),
            order: self.order,
            limit: self.limit,
            previous: self.previous.clone(),
            without: self.without,
            part: self.part.clone(),
            via: self.via.clone(),
            denominator_part: self.denominator_part.clone(),
            percent: self.percent,
            confidence: 0.0,
        }
    }
}
