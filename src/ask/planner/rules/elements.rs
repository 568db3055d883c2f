//! Linked elements → parts of the plan: metrics become measures, values filters, tables
//! entities (or groupings after "by"), columns groupings or named columns.

use super::super::draft::Draft;
use super::super::grammar::{dimension_cue, display, pick};
use super::super::Declined;
use crate::ask::plan::*;
use crate::catalog::link::{Candidate, Element};
use crate::catalog::text::stem;
use crate::catalog::{ColRef, TableId};

/// Picks one candidate per span and files each under its role.
pub(in super::super) fn elements(d: &mut Draft) -> Result<(), Declined> {
    d.picked = pick(&d.r, d.linking);
    let mut last_was_dim = false;
    for i in d.picked.clone() {
        let cand: &Candidate = &d.linking.candidates[i];
        let (start, end) = cand.span;
        d.used.push(i);
        for k in start..end {
            d.r.eat(k);
        }
        if super::ordering::order_cue(d, start) {
            if let Element::Column(col) = &cand.element {
                // "ordered by signup date": the sort key, not a grouping.
                d.order_column = Some(*col);
                d.columns.push((*col, start));
                continue;
            }
        }
        if let Element::Column(col) = &cand.element {
            match ambiguous(d, i, *col) {
                Ambiguity::None => {}
                Ambiguity::Choose(other) => {
                    d.columns.push((other, start));
                    continue;
                }
                Ambiguity::Repeat => continue,
                Ambiguity::Open(names) => {
                    return Err(Declined {
                        message: format!("\"{}\" could mean {}", cand.words, names.join(" or ")),
                        hint: "name the column, e.g. with the word before it".into(),
                    })
                }
            }
        }
        let after_and = start > 0 && d.r.w(start - 1) == "and";
        let dim = dimension_cue(&d.r, start)
            || (after_and
                && last_was_dim
                && matches!(cand.element, Element::Column(_) | Element::Table(_)));
        last_was_dim = dim && matches!(cand.element, Element::Column(_) | Element::Table(_));
        match &cand.element {
            Element::Metric(m) => metric(d, *m, &cand.words),
            Element::Value { column, value } => {
                let op = if negated(d, start) { Op::Ne } else { Op::Eq };
                value_filter(d, *column, value, op)
            }
            Element::Table(t) if dim => {
                let col = entity_display(d, *t)?;
                d.dimensions.push(Dimension {
                    column: col,
                    grain: None,
                })
            }
            Element::Table(t) => d.entities.push((*t, start)),
            Element::Column(col) if dim => {
                let column = referenced_display(d, *col);
                d.dimensions.push(Dimension {
                    column,
                    grain: None,
                })
            }
            Element::Column(col) => d.columns.push((*col, start)),
        }
    }
    Ok(())
}

fn metric(d: &mut Draft, m: u32, words: &str) {
    d.measures.push(Measure::Metric(m));
    let w = stem(&words.to_lowercase());
    if let Some(t) = d.r.c.tables.iter().position(|t| stem(&t.name) == w) {
        d.table_worded.push((Measure::Metric(m), t as TableId));
    }
}

fn value_filter(d: &mut Draft, column: ColRef, value: &str, op: Op) {
    match d
        .filters
        .iter_mut()
        .find(|f| f.column == column && f.op == op)
    {
        Some(f) => f.values.push(Value::Text(value.to_string())),
        None => d.filters.push(Filter {
            column,
            op,
            values: vec![Value::Text(value.to_string())],
        }),
    }
}

/// "not closed", "excluding Online", "other than East", "non-Enterprise": the words before a
/// value that exclude it (eaten here).
fn negated(d: &mut Draft, start: usize) -> bool {
    let back = |k: usize| start.checked_sub(k).map(|i| d.r.w(i)).unwrap_or("");
    let n = match (back(2), back(1)) {
        ("other", "than") => 2,
        (_, "not" | "excluding" | "except" | "besides" | "non" | "but") => 1,
        ("not", "in" | "from" | "a" | "an" | "the") => 2,
        _ => return false,
    };
    for k in 1..=n {
        d.r.eat(start - k);
    }
    true
}

/// The column that shows an entity, or a decline naming the table.
pub(in super::super) fn entity_display(d: &Draft, t: TableId) -> Result<ColRef, Declined> {
    let table = d.r.c.table(t);
    // Without a name, an entity is shown by its key ("each airline" → airline_code).
    let key = match table.primary_key.as_slice() {
        [k] => Some(ColRef {
            table: t,
            column: *k,
        }),
        _ => None,
    };
    display(d.r.c, t).or(key).ok_or_else(|| {
        let name = &d.r.c.table(t).name;
        Declined {
            message: format!("cannot show {name} by name: it has no display column"),
            hint: format!("set display_column for {name} in schemas/*.toml"),
        }
    })
}

/// "by region_id" means by region: the referenced entity's display column.
fn referenced_display(d: &Draft, col: ColRef) -> ColRef {
    let c = d.r.c;
    if !c.column(col).name.ends_with("_id") {
        return col;
    }
    c.relations
        .iter()
        .find(|rel| rel.from == col.table && rel.from_columns == [col.column])
        .and_then(|rel| display(c, rel.to))
        .unwrap_or(col)
}

enum Ambiguity {
    None,
    /// The words repeat a column named elsewhere ("easiness scores ... courses and scores").
    Repeat,
    /// Several columns fit equally well.
    Open(Vec<String>),
    /// One of them has every word of its name in the question ("cost" of "round-trip fares"
    /// is `round_trip_cost`).
    Choose(ColRef),
}

/// Whether the words of candidate `i` fit other columns as well as `col`.
fn ambiguous(d: &Draft, i: usize, col: ColRef) -> Ambiguity {
    let cands = &d.linking.candidates;
    let me = &cands[i];
    let rivals: Vec<ColRef> = cands
        .iter()
        .filter(|c| c.span == me.span && (c.score - me.score).abs() < 1e-4)
        .filter_map(|c| match c.element {
            // The same name in two tables is one thing seen from both ends of a join.
            Element::Column(x) if x != col && d.r.c.column(x).name != d.r.c.column(col).name => {
                Some(x)
            }
            _ => None,
        })
        .collect();
    if rivals.is_empty() {
        return Ambiguity::None;
    }
    let mut all = rivals;
    all.push(col);
    let stems: Vec<&str> = d.r.toks.iter().map(|t| t.stem.as_str()).collect();
    let whole: Vec<ColRef> = all
        .iter()
        .copied()
        .filter(|x| {
            crate::catalog::text::split_identifier(&d.r.c.column(*x).name)
                .iter()
                .all(|w| stems.contains(&stem(w).as_str()))
        })
        .collect();
    if let [one] = whole.as_slice() {
        return Ambiguity::Choose(*one);
    }
    // Named elsewhere in full: "easiness scores ... scores" means that one again.
    let mine: Vec<String> = crate::catalog::text::phrase_words(&me.words)
        .iter()
        .map(|w| stem(w))
        .collect();
    let named_elsewhere = d.picked.iter().any(|&j| {
        let c = &cands[j];
        let Element::Column(x) = c.element else {
            return false;
        };
        let theirs: Vec<String> = crate::catalog::text::split_identifier(&d.r.c.column(x).name)
            .iter()
            .map(|w| stem(w))
            .collect();
        c.span != me.span && mine.iter().all(|w| theirs.contains(w))
    });
    if named_elsewhere {
        return Ambiguity::Repeat;
    }
    let mut names: Vec<String> = all.iter().map(|x| d.r.c.column(*x).name.clone()).collect();
    names.sort();
    names.dedup();
    Ambiguity::Open(names)
}
