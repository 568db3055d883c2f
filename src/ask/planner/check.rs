//! The planner's last check: every content word, number and negation of the question, and
//! every linked column or table, must be used by the plan — otherwise ASK declines.

use super::grammar::{element_stems, norm, Reader, FILLER};
use crate::ask::plan::{AnalysisPlan, Measure};
use crate::catalog::link::Linking;
use crate::catalog::store::Semantic;
use crate::catalog::{ColRef, TableId};

/// Words of linked columns and tables the plan does not use: the question said something about
/// them that the plan would ignore ("customers who joined in 2023" when the dates are orders').
/// A table is fine when the measured rows belong to one row of it anyway ("refunds to
/// customers").
pub(super) fn unused_elements(
    s: &Semantic,
    plan: &AnalysisPlan,
    columns: &[(ColRef, usize)],
    entities: &[(TableId, usize)],
    counted: Option<TableId>,
    linking: &Linking,
    used: &[usize],
) -> Vec<String> {
    let c = &s.catalog;
    let mut cols: Vec<ColRef> = plan.dimensions.iter().map(|d| d.column).collect();
    cols.extend(plan.filters.iter().map(|f| f.column));
    cols.extend(plan.order.and_then(|o| o.column));
    let mut tables: Vec<TableId> = cols.iter().map(|c| c.table).collect();
    for m in &plan.measures {
        match m {
            Measure::Aggregate { column, .. } => cols.push(*column),
            // "outstanding amount": the metric reads the amount column.
            Measure::Metric(i) => cols.extend(c.metrics[*i as usize].columns.iter().copied()),
            Measure::Count(_) => {}
        }
        tables.extend(crate::ask::compile::measure_tables(c, m));
    }
    tables.extend(counted);
    tables.extend(plan.without);
    if plan.time.is_some() {
        // The date a range filters on is used.
        for m in &plan.measures {
            cols.extend(crate::ask::compile::measure_time(c, m));
        }
        cols.extend(plan.time.as_ref().and_then(|t| t.column));
    }
    let grain = plan
        .measures
        .first()
        .and_then(|m| s.graph.grain(&crate::ask::compile::measure_tables(c, m)));
    let mut out = Vec::new();
    let words_at = |start: usize| {
        used.iter()
            .map(|i| &linking.candidates[*i])
            .find(|cand| cand.span.0 == start)
            .map(|cand| cand.words.clone())
    };
    // Words that repeat a used column's name ("range in miles" for `range_miles`).
    let used_stems: Vec<String> = cols
        .iter()
        .flat_map(|col| crate::catalog::text::split_identifier(&c.column(*col).name))
        .chain(
            tables
                .iter()
                .flat_map(|t| crate::catalog::text::split_identifier(&c.table(*t).name)),
        )
        .map(|w| crate::catalog::text::stem(&w))
        .collect();
    let repeats = |words: &str| {
        crate::catalog::text::phrase_words(words)
            .iter()
            .all(|w| used_stems.contains(&crate::catalog::text::stem(w)))
    };
    for (col, start) in columns {
        if !cols.contains(col) {
            out.extend(words_at(*start).filter(|w| !repeats(w)));
        }
    }
    for (t, start) in entities {
        let belongs = grain.is_some_and(|g| s.graph.grain(&[g, *t]) == Some(g));
        if !tables.contains(t) && !belongs {
            out.extend(words_at(*start));
        }
    }
    out
}

/// The columns a plan reads: groupings, conditions, sort keys and aggregated columns.
pub(super) fn plan_columns(c: &crate::catalog::Catalog, plan: &AnalysisPlan) -> Vec<ColRef> {
    let mut cols: Vec<ColRef> = plan.dimensions.iter().map(|d| d.column).collect();
    cols.extend(plan.filters.iter().map(|f| f.column));
    cols.extend(plan.order.and_then(|o| o.column));
    for m in &plan.measures {
        match m {
            Measure::Aggregate { column, .. } => cols.push(*column),
            Measure::Metric(i) => cols.extend(c.metrics[*i as usize].columns.iter().copied()),
            Measure::Count(_) => {}
        }
        if plan.time.is_some() {
            cols.extend(crate::ask::compile::measure_time(c, m));
        }
    }
    cols.extend(plan.time.as_ref().and_then(|t| t.column));
    cols.sort_unstable_by_key(|c| (c.table, c.column));
    cols.dedup();
    cols
}

/// Words that turn a condition around; never ignored.
const NEGATIONS: &[&str] = &[
    "other",
    "but",
    "except",
    "excluding",
    "not",
    "nor",
    "neither",
    "no",
    "never",
    "without",
    "than",
    "before",
    "after",
    "until",
    "besides",
    "outside",
];

/// Words only the grammar may account for: negations and numbers.
pub(super) fn must_read(word: &str) -> bool {
    let w = word.to_lowercase();
    NEGATIONS.contains(&w.as_str()) || w.chars().any(|c| c.is_ascii_digit())
}

/// Content words neither the grammar nor a used element explains.
pub(super) fn unexplained(r: &Reader, linking: &Linking, used: &[usize]) -> Vec<String> {
    let known: Vec<String> = used
        .iter()
        .flat_map(|i| element_stems(r.c, &linking.candidates[*i].element))
        .collect();
    r.toks
        .iter()
        .enumerate()
        .filter(|(i, t)| {
            // Words that change the meaning ("other than", "except", "not") and numbers
            // must have been read by the grammar.
            let must_read = t.number || NEGATIONS.contains(&norm(t));
            !r.used_tok[*i]
                && (must_read
                    || (!t.stop
                        && !FILLER.contains(&norm(t))
                        && !known.iter().any(|k| akin(k, &t.stem))))
        })
        .map(|(_, t)| t.text.clone())
        .collect()
}

/// The same word in another form: equal stems, or a long shared beginning ("enrollment" of
/// `num_enrolled`, "participants" of "participated actively").
pub(super) fn akin(known: &str, word: &str) -> bool {
    if known == word {
        return true;
    }
    let shared = known
        .chars()
        .zip(word.chars())
        .take_while(|(a, b)| a == b)
        .count();
    let shorter = known.chars().count().min(word.chars().count());
    shared >= 6 && shared * 4 >= shorter * 3
}

/// Verbs that only say how two things relate ("papers *written by*", "courses each
/// department *offers*", "keyphrases *associated with*"): the join path between the entities
/// carries their meaning, so they are explained when the plan joins two or more tables.
#[rustfmt::skip]
const RELATION_VERBS: &[&str] = &[
    "write", "written", "wrote", "writes", "author", "authored", "publish", "published",
    "present", "presented", "offer", "offered", "offers", "serve", "served", "serves", "teach",
    "taught", "teaches", "take", "taken", "took", "takes", "enroll", "enrolled", "enrolls",
    "associate", "associated", "belong", "belonged", "contain", "contained", "include",
    "included", "cite", "cited", "attend", "attended", "assign", "assigned", "link", "linked",
    "relate", "related", "involve", "involved", "appear", "appeared", "participate",
    "participated", "work", "worked", "works", "hold", "held", "own", "owned", "host", "hosted",
    "operate", "operated", "run", "ran", "visit", "visited", "submit", "submitted", "tag",
    "tagged", "list", "listed", "issue", "issued", "sent", "send", "bill", "billed",
];

/// Whether `word` is a relation verb (any inflection the stemmer folds).
pub(super) fn relation_verb(word: &str) -> bool {
    let s = crate::catalog::text::stem(word);
    RELATION_VERBS
        .iter()
        .any(|v| *v == word || crate::catalog::text::stem(v) == s)
}

/// Tables a plan reads: measures, dimensions, filters and the "never" table.
pub(super) fn plan_tables(s: &Semantic, plan: &AnalysisPlan) -> Vec<TableId> {
    let c = &s.catalog;
    let mut t: Vec<TableId> = plan.dimensions.iter().map(|d| d.column.table).collect();
    t.extend(plan.filters.iter().map(|f| f.column.table));
    for m in &plan.measures {
        t.extend(crate::ask::compile::measure_tables(c, m));
    }
    t.extend(plan.without);
    // "publications presented in conferences": the table a set reference points at.
    for f in plan
        .filters
        .iter()
        .filter(|f| f.op == crate::ask::plan::Op::NotNull)
    {
        t.extend(
            c.relations
                .iter()
                .filter(|r| r.from == f.column.table && r.from_columns == [f.column.column])
                .map(|r| r.to),
        );
    }
    t.sort_unstable();
    t.dedup();
    t
}
