//! Yes/no columns as adjectives: "active accounts" (`is_active`), "courses with exams"
//! (`has_exams`), "inactive accounts", "courses without a final exam", "not active".

use super::super::draft::Draft;
use super::super::Declined;
use crate::ask::plan::*;
use crate::catalog::text::{split_identifier, stem};
use crate::catalog::{ColRef, TableId, ValueKind};

/// Words before a flag that turn it off.
const OFF: &[&str] = &[
    "not", "no", "without", "non", "never", "un", "isn't", "aren't",
];

/// Named boolean columns become `= TRUE` filters (`= FALSE` after a negation); words like
/// "inactive" or "unpaid" turn off the flag they contain.
pub(in super::super) fn flags(d: &mut Draft) -> Result<(), Declined> {
    let c = d.r.c;
    dates_not_set(d);
    let named: Vec<(ColRef, usize)> = d
        .columns
        .iter()
        .copied()
        .filter(|(col, _)| flag_values(c, *col).is_some() && worded(d, *col))
        .collect();
    for (col, at) in named {
        let mut on = true;
        for back in 1..=3 {
            let Some(i) = at.checked_sub(back) else { break };
            let w = d.r.w(i).to_string();
            if OFF.contains(&w.as_str()) {
                on = false;
                d.r.eat(i);
                break;
            }
            if matches!(w.as_str(), "currently" | "still") {
                d.r.eat(i);
                continue;
            }
            if !matches!(
                w.as_str(),
                "a" | "an"
                    | "the"
                    | "any"
                    | "have"
                    | "has"
                    | "are"
                    | "is"
                    | "with"
                    | "do"
                    | "does"
                    | "currently"
                    | "still"
            ) {
                break;
            }
        }
        set_flag(d, col, on);
        d.columns.retain(|(x, _)| *x != col);
    }
    negated_words(d);
    counts_present(d);
    values_present(d);
    Ok(())
}

/// "students who have declared a major", "tickets with an assignee", "customers without a
/// phone": a column that may be empty is set (or not).
fn values_present(d: &mut Draft) {
    let c = d.r.c;
    let named: Vec<(ColRef, usize)> = d
        .columns
        .iter()
        .copied()
        .filter(|(col, _)| {
            let column = c.column(*col);
            column.nullable
                && column.kind != ValueKind::Boolean
                && !column.kind.is_numeric()
                && !c.table(col.table).primary_key.contains(&col.column)
        })
        .collect();
    for (col, at) in named {
        // "declared a major": one verb may stand between the cue and the column.
        let Some((cue, set)) = having_cue(d, at, true) else {
            continue;
        };
        for i in cue..at {
            d.r.eat(i);
        }
        d.columns.retain(|(x, _)| *x != col);
        d.filters.push(Filter {
            column: col,
            op: if set { Op::NotNull } else { Op::IsNull },
            values: Vec::new(),
        });
    }
}

/// The "with"/"have" (true) or "without"/"no" (false) before the column named at `at`, over
/// "a", "an", "any" and, when `verb`, one unread "-ed" word ("have declared a major"): where it
/// stands and which it is.
fn having_cue(d: &Draft, at: usize, verb: bool) -> Option<(usize, bool)> {
    let mut k = at;
    while k > 0 && matches!(d.r.w(k - 1), "a" | "an" | "any") {
        k -= 1;
    }
    let verb_at = k
        .checked_sub(1)
        .filter(|&i| verb && !d.r.used_tok[i] && d.r.w(i).len() > 4 && d.r.w(i).ends_with("ed"));
    if let Some(i) = verb_at {
        k = i;
    }
    let cue = k.checked_sub(1)?;
    match d.r.w(cue) {
        "with" | "have" | "has" => Some((cue, true)),
        "without" | "no" => Some((cue, false)),
        _ => None,
    }
}

/// "flights with stops", "excluding flights with connections", "courses without reviews":
/// a column that stores a count is above zero, or zero.
fn counts_present(d: &mut Draft) {
    let c = d.r.c;
    let named: Vec<(ColRef, usize)> = d
        .columns
        .iter()
        .copied()
        .filter(|(col, _)| super::stored::is_count(c, *col))
        .collect();
    for (col, at) in named {
        let Some((cue, on)) = having_cue(d, at, false) else {
            continue;
        };
        // "excluding departures with connections": the rows left out have them.
        let excluded = (cue.saturating_sub(3)..cue)
            .find(|&i| matches!(d.r.w(i), "excluding" | "except"))
            .filter(|_| on);
        let on = match excluded {
            Some(i) => {
                d.r.eat(i);
                false
            }
            None => on,
        };
        if matches!(d.r.w(cue), "without" | "no") {
            d.r.eat(cue);
        }
        d.columns.retain(|(x, _)| *x != col);
        d.filters.push(Filter {
            column: col,
            op: if on { Op::Gt } else { Op::Eq },
            values: vec![Value::Number(0.0)],
        });
    }
}

fn set_flag(d: &mut Draft, column: ColRef, on: bool) {
    let Some((yes, no)) = flag_values(d.r.c, column) else {
        return;
    };
    d.filters.retain(|f| f.column != column);
    let (op, value) = match (on, no) {
        (true, _) => (Op::Eq, yes),
        (false, Some(no)) => (Op::Eq, no),
        (false, None) => (Op::Ne, yes),
    };
    d.filters.push(Filter {
        column,
        op,
        values: vec![value],
    });
}

/// Whether the question says every word of a yes/no text column's name ("require a
/// round-trip" for `round_trip_required`, not "round-trip fares"); a boolean's link is enough.
fn worded(d: &Draft, col: ColRef) -> bool {
    let column = d.r.c.column(col);
    column.kind == ValueKind::Boolean
        || split_identifier(&column.name).iter().all(|w| {
            let w = stem(w);
            d.r.toks
                .iter()
                .any(|t| super::super::check::akin(&t.stem, &w))
        })
}

/// The values of a yes/no column: a boolean, or text holding only yes and no ('Yes'/'No',
/// 'Y'/'N', 'true'/'false') as the profile saw it (a column seen holding only 'Yes' has no
/// "no" value: not yes is `<> 'Yes'`).
pub(in super::super) fn flag_values(
    c: &crate::catalog::Catalog,
    col: ColRef,
) -> Option<(Value, Option<Value>)> {
    let column = c.column(col);
    if column.kind == ValueKind::Boolean {
        return Some((Value::Bool(true), Some(Value::Bool(false))));
    }
    if column.kind != ValueKind::Text {
        return None;
    }
    let values = column.profile.as_ref()?.values.as_ref()?;
    let is = |v: &str, words: &[&str]| words.contains(&v.to_lowercase().as_str());
    let yes = values.iter().find(|v| is(v, &["yes", "y", "true", "t"]))?;
    let no = values.iter().find(|v| is(v, &["no", "n", "false", "f"]));
    let expected = if no.is_some() { 2 } else { 1 };
    (values.len() == expected)
        .then(|| (Value::Text(yes.clone()), no.map(|n| Value::Text(n.clone()))))
}

/// "inactive", "unpaid", "non-billable": a flag of a table in play, turned off.
fn negated_words(d: &mut Draft) {
    let c = d.r.c;
    let mut tables: Vec<TableId> = d.entities.iter().map(|(t, _)| *t).collect();
    tables.extend(d.columns.iter().map(|(col, _)| col.table));
    tables.extend(d.filters.iter().map(|f| f.column.table));
    tables.sort_unstable();
    tables.dedup();
    for i in 0..d.r.toks.len() {
        if d.r.used_tok[i] {
            continue;
        }
        let w = d.r.w(i).to_string();
        let rest = ["in", "un", "non"]
            .iter()
            .find_map(|p| w.strip_prefix(p).filter(|r| r.len() >= 4));
        let Some(rest) = rest else { continue };
        let target = stem(rest);
        let found = tables.iter().find_map(|t| {
            let table = c.table(*t);
            table.columns.iter().enumerate().find_map(|(k, col)| {
                let r = ColRef {
                    table: *t,
                    column: k as u32,
                };
                (flag_values(c, r).is_some()
                    && split_identifier(&col.name)
                        .iter()
                        .any(|p| stem(p) == target))
                .then_some(ColRef {
                    table: *t,
                    column: k as u32,
                })
            })
        });
        if let Some(col) = found {
            d.r.eat(i);
            set_flag(d, col, false);
        }
    }
}

/// "tickets not closed", "orders never shipped": the event's date column is empty.
fn dates_not_set(d: &mut Draft) {
    let c = d.r.c;
    let named: Vec<(ColRef, usize)> = d
        .columns
        .iter()
        .copied()
        .filter(|(col, _)| c.column(*col).kind.is_temporal() && c.column(*col).nullable)
        .collect();
    for (col, at) in named {
        let Some(i) = at.checked_sub(1) else { continue };
        if !matches!(d.r.w(i), "not" | "never" | "un" | "yet") {
            continue;
        }
        d.r.eat(i);
        if i > 0
            && matches!(
                d.r.w(i - 1),
                "still" | "been" | "are" | "is" | "were" | "was"
            )
        {
            d.r.eat(i - 1);
            if i > 1 && d.r.w(i - 2) == "still" {
                d.r.eat(i - 2);
            }
        }
        if d.r.w(at + 1) == "yet" {
            d.r.eat(at + 1);
        }
        d.columns.retain(|(x, _)| *x != col);
        d.filters.push(Filter {
            column: col,
            op: Op::IsNull,
            values: Vec::new(),
        });
    }
}
