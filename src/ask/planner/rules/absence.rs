//! Absence: "customers who never placed an order", "accounts with no usage data", "which
//! accounts have never been invoiced", "authors not part of any organization". The entity is
//! kept when no row of the other table refers to it (NOT EXISTS), or, when the entity itself
//! refers to the other, when its reference is empty (IS NULL).

use super::super::draft::Draft;
use super::super::Declined;
use super::counting::references;
use crate::ask::plan::*;
use crate::catalog::{ColRef, TableId};

/// Words that say something is absent.
const ABSENT: &[&str] = &["never", "no", "without", "not", "none"];

/// Reads an absence between the entity and another table named after the negation.
pub(in super::super) fn absence(d: &mut Draft) -> Result<(), Declined> {
    let Some(neg) = (0..d.r.toks.len()).find(|&i| ABSENT.contains(&d.r.w(i)) && !d.r.used_tok[i])
    else {
        return Ok(());
    };
    let before: Vec<(TableId, usize)> = d
        .entities
        .iter()
        .copied()
        .filter(|(_, at)| *at < neg)
        .collect();
    let Some(&(subject, _)) = before.first() else {
        return Ok(());
    };
    // The other side: an entity named after the negation, or the table a verb names
    // ("never been invoiced" → invoices).
    let mut after: Vec<TableId> = d
        .entities
        .iter()
        .filter(|(t, at)| *at > neg && *t != subject)
        .map(|(t, _)| *t)
        .collect();
    // A column of another table named after it ("never had a ticket", where `ticket` is
    // the tickets' key) stands for its table.
    let cols: Vec<TableId> = d
        .columns
        .iter()
        .filter(|(col, at)| *at > neg && col.table != subject)
        .map(|(col, _)| col.table)
        .collect();
    for t in cols {
        if !after.contains(&t) {
            after.push(t);
        }
    }
    // A metric named after it counts rows of its table ("never placed an order").
    let c = d.r.c;
    for m in d.picked.iter().map(|k| &d.linking.candidates[*k]) {
        if let (crate::catalog::link::Element::Metric(x), true) = (&m.element, m.span.0 > neg) {
            let tables = crate::ask::compile::measure_tables(c, &Measure::Metric(*x));
            if let Some(g) = d.r.s.graph.grain(&tables) {
                if g != subject {
                    after.push(g);
                }
            }
        }
    }
    if after.is_empty() {
        after.extend(verb_table(d, neg, subject));
    }
    for other in after {
        if references(d, other, subject).is_some() {
            d.r.eat(neg);
            eat_any(d, neg);
            d.without = Some(other);
            d.entities.retain(|(t, _)| *t != other);
            d.columns.retain(|(col, _)| col.table != other);
            d.measures
                .retain(|m| !crate::ask::compile::measure_tables(c, m).contains(&other));
            return Ok(());
        }
        if let Some(rel) = references(d, subject, other) {
            if let [col] = rel.from_columns.as_slice() {
                d.r.eat(neg);
                eat_any(d, neg);
                d.entities.retain(|(t, _)| *t != other);
                d.filters.push(Filter {
                    column: ColRef {
                        table: subject,
                        column: *col,
                    },
                    op: Op::IsNull,
                    values: Vec::new(),
                });
                return Ok(());
            }
        }
    }
    Ok(())
}

/// "any", "a", "part of any": the words between the negation and the other table.
fn eat_any(d: &mut Draft, neg: usize) {
    for k in neg + 1..(neg + 4).min(d.r.toks.len()) {
        if matches!(
            d.r.w(k),
            "any" | "a" | "an" | "part" | "of" | "been" | "ever" | "single"
        ) {
            d.r.eat(k);
        } else {
            break;
        }
    }
}

/// "never been invoiced", "never ordered": a table whose name the word after the negation
/// (or after "been") stems to.
fn verb_table(d: &mut Draft, neg: usize, subject: TableId) -> Option<TableId> {
    let c = d.r.c;
    let mut k = neg + 1;
    while matches!(d.r.w(k), "been" | "ever" | "yet" | "once") {
        k += 1;
    }
    let word = d.r.toks.get(k)?;
    if d.r.used_tok[k] {
        return None;
    }
    let w = crate::catalog::text::stem(&word.norm);
    let w = w
        .strip_suffix('d')
        .filter(|_| w.ends_with("ed"))
        .unwrap_or(&w)
        .to_string();
    let found = c.tables.iter().enumerate().find_map(|(t, table)| {
        let name = crate::catalog::text::stem(&table.name);
        (t as TableId != subject && (name == w || name.strip_suffix('e') == Some(w.as_str())))
            .then_some(t as TableId)
    })?;
    d.r.eat(k);
    Some(found)
}
