//! What is measured when no metric was named: an aggregate word over a numeric column
//! ("average basket size"), a count of the entity ("how many stores"), or the entities
//! themselves ("which stores ..."). One measure per question.

use super::super::check::unexplained;
use super::super::draft::Draft;
use super::super::grammar::{
    agg_word, count_cue, declined, key_column, money, money_column, norm, shown_columns,
};
use super::super::Declined;
use crate::ask::plan::*;
use crate::catalog::suggest::is_measure;

/// Chooses the measure when the elements named none.
pub(in super::super) fn measure(d: &mut Draft) -> Result<(), Declined> {
    if d.measures.is_empty() {
        infer(d);
    }
    if d.measures.is_empty() {
        let left = unexplained(&d.r, d.linking, &d.used);
        return Err(declined(
            &d.r,
            d.linking,
            &d.used,
            &left,
            &[],
            "what to measure",
        ));
    }
    one_measure(d)
}

/// "the instructor who taught the most courses", "airlines with the fewest flights": the
/// entity right after a ranking word is what is counted, per the other entity.
fn ranked_count(d: &mut Draft) -> bool {
    let counted = d.entities.iter().copied().find(|(_, at)| {
        let back = |k: usize| at.checked_sub(k).map(|i| d.r.w(i)).unwrap_or("");
        let ranking = |w: &str| matches!(w, "most" | "fewest" | "least" | "more" | "fewer");
        ranking(back(1)) || (back(1) == "of" && back(2) == "number" && ranking(back(3)))
    });
    let Some((t, _)) = counted else {
        return false;
    };
    if d.entities.iter().all(|(e, _)| *e == t) {
        // "which birth country has the most authors": per value of the column asked about.
        let c = d.r.c;
        let asked = d
            .columns
            .iter()
            .map(|(col, _)| *col)
            .find(|col| col.table == t && !c.table(t).primary_key.contains(&col.column));
        let Some(column) = asked.filter(|_| d.dimensions.is_empty()) else {
            return false; // "which store has the most customers" needs another entity
        };
        d.columns.retain(|(col, _)| *col != column);
        d.dimensions.push(Dimension {
            column,
            grain: None,
        });
        d.measures.push(Measure::Count(t));
        d.entities.retain(|(e, _)| *e != t);
        return true;
    }
    d.measures.push(Measure::Count(t));
    d.entities.retain(|(e, _)| *e != t);
    true
}

/// "plans with more than 100 accounts": the entity after a condition's number is counted,
/// per the other entity.
fn conditioned_count(d: &mut Draft) -> bool {
    let Some(&(_, _, at)) = d.conditions.first() else {
        return false;
    };
    let Some(&(t, _)) = d.entities.iter().find(|(_, s)| *s == at + 1) else {
        return false;
    };
    if d.entities.iter().all(|(e, _)| *e == t) {
        return false;
    }
    d.measures.push(Measure::Count(t));
    d.entities.retain(|(e, _)| *e != t);
    true
}

/// "the most common payment method": how many rows have each value, the most first.
fn frequency(d: &mut Draft) -> bool {
    if !d.by_frequency {
        return false;
    }
    let c = d.r.c;
    let grouped = d.dimensions.first().map(|dim| dim.column).or_else(|| {
        d.columns
            .iter()
            .map(|(col, _)| *col)
            .find(|col| !c.column(*col).kind.is_numeric())
    });
    let Some(column) = grouped else {
        return false;
    };
    d.columns.retain(|(col, _)| *col != column);
    if d.dimensions.is_empty() {
        d.dimensions.push(Dimension {
            column,
            grain: None,
        });
    }
    d.measures.push(Measure::Count(column.table));
    true
}

/// The first aggregate word no element took ("minimum connect time" is a column's name), and
/// where it stands.
fn free_agg(d: &Draft) -> Option<(Agg, usize)> {
    d.r.toks
        .iter()
        .enumerate()
        .filter(|(i, _)| !d.r.used_tok[*i])
        .find_map(|(i, t)| agg_word(norm(t)).map(|a| (a, i)))
}

fn infer(d: &mut Draft) {
    if d.by_frequency {
        // "the least popular categories": popular by what is not said; declined below.
        frequency(d);
        return;
    }
    // "the number of credits earned by each student": the column that stores that count.
    if let Some((column, ..)) = d.stored.first().copied() {
        let agg = free_agg(d);
        if let Some((_, i)) = agg {
            d.r.eat(i);
        }
        d.measures.push(Measure::Aggregate {
            agg: agg.map(|(a, _)| a).unwrap_or(Agg::Sum),
            column,
        });
        return;
    }
    if d.order.is_some() && ranked_count(d) {
        return;
    }
    if conditioned_count(d) {
        return;
    }
    let toks = d.r.toks;
    let count = (0..toks.len()).any(|i| count_cue(&d.r, i + 1) || count_cue(&d.r, i));
    let agg = free_agg(d);
    // Never an identifier: "which author wrote the most books" does not add up author ids.
    let c = d.r.c;
    let named = d
        .columns
        .iter()
        .find(|(col, _)| c.column(*col).kind.is_numeric() && !key_column(c, *col))
        .copied();
    // Without an aggregate word, only a column that measures something is summed.
    let numeric = named.filter(|(col, _)| is_measure(c, col.table, col.column));
    match (agg, named, d.entities.first().copied()) {
        (Some((a, i)), Some((col, _)), _) => {
            d.r.eat(i);
            // "... sorted by average cost": the same word again names the same measure.
            for (k, t) in toks.iter().enumerate() {
                if agg_word(norm(t)) == Some(a) {
                    d.r.eat(k);
                }
            }
            d.measures.push(Measure::Aggregate {
                agg: a,
                column: col,
            });
        }
        (Some((a, i)), None, Some((t, _)))
            if a != Agg::CountDistinct && money_column(d.r.c, &[t]).is_some() =>
        {
            // "total invoiced", "average sale": the entity's one money column.
            if let Some(column) = money_column(d.r.c, &[t]) {
                d.r.eat(i);
                d.measures.push(Measure::Aggregate { agg: a, column });
            }
        }
        (None, Some(_), _)
            if numeric.is_some_and(|(col, _)| {
                !count && money(d.r.c, col) && (d.grain.is_some() || !d.dimensions.is_empty())
            }) =>
        {
            // "paid invoice amount by month": money adds up.
            if let Some((col, _)) = numeric {
                d.measures.push(Measure::Aggregate {
                    agg: Agg::Sum,
                    column: col,
                });
            }
        }
        (None, Some(_), _) if numeric.is_some() && d.order.is_some() && !count => {
            // "accounts with the fewest api calls": ranked by their total.
            if let Some((col, _)) = numeric {
                d.measures.push(Measure::Aggregate {
                    agg: Agg::Sum,
                    column: col,
                });
            }
        }
        (_, _, Some((first, _))) if count => {
            // The entity the count words name ("accounts by number of tickets": tickets).
            let t = d
                .entities
                .iter()
                .find(|(_, at)| count_cue(&d.r, *at))
                .map(|(t, _)| *t)
                .unwrap_or(first);
            let distinct = d.r.has(&["distinct", "different", "unique"]);
            d.measures.push(Measure::Count(t));
            if let Some(i) = distinct {
                d.r.eat(i);
            }
        }
        (None, _, None) if count && !d.columns.is_empty() => {
            // "how many accounts signed up this month": "accounts signed up" named a column
            // of the counted table.
            let t = d.columns[0].0.table;
            d.measures.push(Measure::Count(t));
        }
        (None, None, Some((t, _))) if !d.dimensions.is_empty() && d.intent == Intent::Aggregate => {
            // "urgent tickets by plan": how many, per plan.
            d.measures.push(Measure::Count(t));
        }
        (_, _, Some((t, _))) if d.intent == Intent::Share => {
            d.measures.push(Measure::Count(t));
        }
        (None, _, Some((t, _))) if d.r.has(&["which", "what", "list"]).is_some() => {
            d.intent = Intent::List;
            for (k, column) in shown_columns(d.r.c, t).into_iter().enumerate() {
                d.dimensions.insert(
                    k,
                    Dimension {
                        column,
                        grain: None,
                    },
                );
            }
            d.measures.push(Measure::Count(t));
        }
        _ => {}
    }
}

/// Metrics worded like a table ("orders") name rows when another measure is asked for; a
/// second real measure is declined rather than silently ignored.
fn one_measure(d: &mut Draft) -> Result<(), Declined> {
    if d.intent == Intent::Ratio {
        return Ok(());
    }
    if d.measures.len() > 1 {
        for (m, t) in d.table_worded.clone() {
            if d.measures.len() > 1 {
                d.measures.retain(|x| *x != m);
                d.entities.push((t, 0));
            }
        }
    }
    if d.measures.len() > 1 {
        let names: Vec<String> = d
            .measures
            .iter()
            .map(|m| crate::ask::compile::measure_name(d.r.c, m))
            .collect();
        return Err(Declined {
            message: format!(
                "ASK answers one measure at a time, and this question names {}",
                names.join(" and ")
            ),
            hint: format!("ask for {} first, then the others", names[0]),
        });
    }
    Ok(())
}
