//! Rows rather than aggregates: "what are the titles of all publications ordered
//! alphabetically", "the 3 publications with the highest number of citations", "show all
//! plans with their monthly fees". When the question names an entity (or columns of one
//! table), asks to list, rank or sort, and no aggregate, count or grouping applies, the answer
//! is the entity's rows: the columns it names (or its display column), sorted.

use super::super::draft::Draft;
use super::super::grammar::{agg_word, count_cue, display, norm, shown_columns};
use super::super::Declined;
use crate::ask::plan::*;
use crate::catalog::{ColRef, TableId};

/// Words that ask for rows.
const LIST_WORDS: &[&str] = &[
    "which", "what", "list", "show", "give", "return", "display", "find", "name", "names",
];

/// Turns a listing question into a List plan.
pub(in super::super) fn rows(d: &mut Draft) -> Result<(), Declined> {
    if !d.measures.is_empty()
        || d.by_frequency
        || !d.dimensions.is_empty()
        || d.counted.is_some()
        || d.intent != Intent::Aggregate
    {
        return Ok(());
    }
    let toks = d.r.toks;
    let aggregate = toks
        .iter()
        .enumerate()
        .any(|(i, t)| !d.r.used_tok[i] && agg_word(norm(t)).is_some());
    let counting = (0..=toks.len()).any(|i| count_cue(&d.r, i) && d.r.w(i) != "of");
    let entity_counted = d.entities.iter().any(|(_, at)| count_cue(&d.r, *at));
    // "plans with more than 100 accounts": a count per plan, not rows.
    let count_condition = d
        .conditions
        .iter()
        .any(|(_, _, at)| d.entities.iter().any(|(_, s)| *s == at + 1));
    if aggregate || entity_counted || count_condition || (counting && d.columns.is_empty()) {
        return Ok(());
    }
    // "which floor number has the most departments": a count of the rows named after the
    // superlative, per value; not the rows ranked by the column.
    let counted_after = d.entities.iter().any(|(_, at)| {
        at.checked_sub(1)
            .is_some_and(|i| matches!(d.r.w(i), "most" | "fewest" | "least"))
    });
    if counted_after {
        return Ok(());
    }
    let listing = toks.iter().any(|t| LIST_WORDS.contains(&norm(t))) || d.ordered;
    let Some(table) = row_table(d) else {
        return Ok(());
    };
    let c = d.r.c;
    // Columns named, of the row table or of tables joined to it ("flights ... meal
    // description").
    let own: Vec<ColRef> = d.columns.iter().map(|(col, _)| *col).collect();
    // Keys are not ranked by ("which author ... the most": not the highest author id).
    let numeric: Vec<ColRef> = own
        .iter()
        .copied()
        .filter(|col| {
            c.column(*col).kind.is_numeric()
                && Some(*col) != d.order_column
                && !super::super::grammar::key_column(c, *col)
        })
        .collect();
    // Ranked by what: the sort column named, or the one number named with "highest", "top".
    let ranked = d.order.is_some_and(|o| o.column.is_none()) && !d.alphabetical;
    let key = match (d.order_column, ranked) {
        (Some(col), _) => Some(col),
        (None, true) => match numeric.as_slice() {
            [one] => Some(*one),
            // "top 5 domains with the most authors": a count, not a column.
            _ => return Ok(()),
        },
        (None, false) => None,
    };
    if !listing && key.is_none() {
        return Ok(());
    }
    if key.is_some_and(|k| k.table != table && ranked) {
        // "accounts with the fewest api calls": a total per account, not rows.
        return Ok(());
    }
    let mut shown: Vec<ColRef> = own
        .iter()
        .copied()
        .filter(|col| d.conditions.is_empty() || numeric.first() != Some(col))
        .collect();
    // "Show both courses and scores": the entity named is shown by name too.
    let named = d.entities.iter().any(|(t, _)| *t == table) || named_in_phrase(d, table);
    // Dates named with the entity are usually its condition ("accounts signed up in May").
    let only_dates = shown.iter().all(|col| c.column(*col).kind.is_temporal());
    if shown.is_empty()
        || (named && (display(c, table).is_some() || only_dates))
        || shown.iter().all(|col| c.column(*col).kind.is_numeric())
    {
        let whole = match display(c, table) {
            Some(name) if !shown.is_empty() => vec![name],
            _ => shown_columns(c, table),
        };
        shown.retain(|col| !whole.contains(col));
        shown.splice(0..0, whole);
    }
    if shown.is_empty() {
        return Ok(());
    }
    let key = key.or_else(|| d.alphabetical.then(|| shown[0]));
    let descending = d.order.map(|o| o.descending).unwrap_or(false);
    d.order = key
        .map(|col| Order {
            descending: if d.alphabetical && d.order_column.is_none() {
                descending && d.ordered
            } else {
                descending
            },
            column: Some(col),
        })
        .or(d.order);
    d.intent = Intent::List;
    d.dimensions = shown
        .into_iter()
        .map(|column| Dimension {
            column,
            grain: None,
        })
        .collect();
    d.measures = vec![Measure::Count(table)];
    Ok(())
}

/// The table the rows come from: the one entity named, or the one table of the columns named.
fn row_table(d: &Draft) -> Option<TableId> {
    // "which airlines offer flights ...": the entity right after the list word.
    let subject = d.entities.iter().find(|(_, at)| {
        let back = |k: usize| at.checked_sub(k).map(|i| d.r.w(i)).unwrap_or("");
        let counted = |k: usize| {
            at.checked_sub(k)
                .and_then(|i| d.r.toks.get(i))
                .is_some_and(|t| t.number)
        };
        LIST_WORDS.contains(&back(1))
            || (LIST_WORDS.contains(&back(2))
                && (matches!(back(1), "the" | "all" | "me") || counted(1)))
            || (LIST_WORDS.contains(&back(3)) && back(2) == "the" && counted(1))
    });
    if let Some((t, _)) = subject {
        return Some(*t);
    }
    let mut tables: Vec<TableId> = d.entities.iter().map(|(t, _)| *t).collect();
    tables.dedup();
    match tables.as_slice() {
        [one] => return Some(*one),
        [_, _, ..] => {
            // "titles of publications by authors": the entity whose columns are named.
            let named: Vec<TableId> = d.columns.iter().map(|(c, _)| c.table).collect();
            return tables.iter().copied().find(|t| named.contains(t));
        }
        [] => {}
    }
    let mut named: Vec<TableId> = d.columns.iter().map(|(c, _)| c.table).collect();
    named.sort_unstable();
    named.dedup();
    match named.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

/// "accounts signed up": a column phrase that starts with its table's name names the entity.
fn named_in_phrase(d: &Draft, table: TableId) -> bool {
    let name = crate::catalog::text::split_identifier(&d.r.c.table(table).name);
    let Some(first) = name.last().map(|w| crate::catalog::text::stem(w)) else {
        return false;
    };
    d.picked.iter().map(|k| &d.linking.candidates[*k]).any(|c| {
        matches!(c.element, crate::catalog::link::Element::Column(col) if col.table == table)
            && crate::catalog::text::phrase_words(&c.words)
                .first()
                .is_some_and(|w| crate::catalog::text::stem(w) == first)
    })
}
