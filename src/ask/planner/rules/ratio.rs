//! Ratios of two measures: "ratio of publications to authors", "the ratio of the maximum
//! range to the maximum payload for each aircraft", "ratio of helpfulness scores to clarity
//! scores for each course". Each side is a count of an entity, an aggregate of a numeric
//! column (SUM unless an aggregate word says otherwise), or a metric.

use super::super::draft::Draft;
use super::super::grammar::{agg_word, FILLER};
use super::super::Declined;
use crate::ask::plan::*;
use crate::catalog::link::Element;
use crate::catalog::ColRef;

/// Words that end the second side: what follows is grouping or conditions.
const SIDE_END: &[&str] = &[
    "for", "by", "per", "in", "across", "among", "within", "over", "each", "during", "of", "where",
    "with", "among",
];

/// Words that only say how a ratio is looked at ("how does the ratio ... vary by").
const RATIO_FILLER: &[&str] = &[
    "vary",
    "varies",
    "differ",
    "differs",
    "change",
    "changes",
    "calculate",
    "compute",
    "database",
    "data",
    "different",
    "difference",
];

/// Reads "ratio of X to Y" into two measures.
pub(in super::super) fn ratio(d: &mut Draft) -> Result<(), Declined> {
    let Some(at) = d.r.has(&["ratio", "ratios"]) else {
        return Ok(());
    };
    let n = d.r.toks.len();
    // A "to" inside a stored count's words ("clear and easy to understand") is not the one.
    let Some(to) = (at + 1..n)
        .find(|&i| !d.r.used_tok[i] && matches!(d.r.w(i), "to" | "versus" | "vs" | "over"))
    else {
        return Ok(());
    };
    let end = (to + 1..n)
        .find(|&i| {
            SIDE_END.contains(&d.r.w(i))
                && !d.r.used_tok[i]
                && d.linking
                    .candidates
                    .iter()
                    .any(|c| c.span.0 > to && c.span.1 <= i)
        })
        .unwrap_or(n);
    let (top, top_own) = side(d, at + 1, to)?;
    let (bottom, bottom_own) = side(d, to + 1, end)?;
    for f in top_own {
        d.part.push(d.filters.len());
        d.filters.push(f);
    }
    for f in bottom_own {
        d.denominator_part.push(d.filters.len());
        d.filters.push(f);
    }
    for i in [at, to] {
        d.r.eat(i);
    }
    if d.r.w(at + 1) == "of" {
        d.r.eat(at + 1);
    }
    for i in 0..n {
        if RATIO_FILLER.contains(&d.r.w(i)) {
            d.r.eat(i);
        }
    }
    d.measures = vec![top, bottom];
    d.intent = Intent::Ratio;
    Ok(())
}

/// The measure one side of a ratio names, and the conditions only that side has ("courses
/// with projects", "publications presented in conferences", "online orders"), taking their
/// words out of the draft's entities and columns.
fn side(d: &mut Draft, from: usize, to: usize) -> Result<(Measure, Vec<Filter>), Declined> {
    let within = |at: usize| at >= from && at < to;
    let agg = (from..to).find_map(|i| agg_word(d.r.w(i)).map(|a| (a, i)));
    // "the number of students who found the grading clear": a column that stores the count.
    let stored = d.stored.iter().copied().find(|(_, s, _)| within(*s));
    let in_stored = |at: usize| stored.is_some_and(|(_, s, e)| (s..e).contains(&at));
    let picked: Vec<(Element, usize)> = d
        .picked
        .iter()
        .map(|i| &d.linking.candidates[*i])
        .filter(|c| within(c.span.0) && !in_stored(c.span.0))
        .map(|c| (c.element.clone(), c.span.0))
        .collect();
    let c = d.r.c;
    // A table named again ("publications ... to publications published in journals") has no
    // candidate of its own: its name words still count.
    let mut picked = picked;
    for k in from..to {
        if d.r.used_tok[k] || picked.iter().any(|(_, at)| *at == k) {
            continue;
        }
        let st = d.r.toks[k].stem.clone();
        let again = d
            .picked
            .iter()
            .find_map(|i| match d.linking.candidates[*i].element {
                Element::Table(t) if crate::catalog::text::stem(&c.table(t).name) == st => Some(t),
                _ => None,
            });
        if let Some(t) = again {
            d.r.eat(k);
            picked.push((Element::Table(t), k));
            continue;
        }
        // A yes/no column named again ("courses with exams to courses without exams").
        let flag = d.picked.iter().find_map(|i| {
            let cand = &d.linking.candidates[*i];
            match cand.element {
                Element::Column(col)
                    if is_flag(c, col)
                        && cand.span.1 == cand.span.0 + 1
                        && d.r.toks[cand.span.0].stem == st =>
                {
                    Some(col)
                }
                _ => None,
            }
        });
        if let Some(col) = flag {
            d.r.eat(k);
            picked.push((Element::Column(col), k));
        }
    }
    picked.sort_by_key(|(_, at)| *at);
    // "publications to keywords": `keyword.keyword` named like its table is the table's rows.
    for (e, _) in picked.iter_mut() {
        if let Element::Column(col) = *e {
            let column = c.column(col);
            let own = crate::catalog::text::stem(&column.name)
                == crate::catalog::text::stem(&c.table(col.table).name);
            if own && !column.kind.is_numeric() {
                *e = Element::Table(col.table);
            }
        }
    }
    // "total invoice amount": the table's name qualifies its column.
    let column_tables: Vec<crate::catalog::TableId> = picked
        .iter()
        .filter_map(|(e, _)| match e {
            Element::Column(col) if !is_flag(c, *col) => Some(col.table),
            _ => None,
        })
        .collect();
    let mut rest: Vec<(Element, usize)> = picked
        .into_iter()
        .filter(|(e, _)| !matches!(e, Element::Table(t) if column_tables.contains(t)))
        .collect();
    let numeric = rest
        .iter()
        .position(|(e, _)| matches!(e, Element::Column(col) if c.column(*col).kind.is_numeric()));
    let table = rest
        .iter()
        .position(|(e, _)| matches!(e, Element::Table(_)));
    let metric_at = rest.iter().position(|(e, _)| metric(e).is_some());
    if let Some((column, ..)) = stored {
        rest.push((Element::Column(column), from));
    }
    let numeric = match stored {
        Some(_) => Some(rest.len() - 1),
        None => numeric,
    };
    let (measure, used) = match (metric_at, numeric, table) {
        (Some(i), _, _) => (metric(&rest[i].0).map(Measure::Metric), Some(i)),
        (None, Some(i), _) => match rest[i].0 {
            Element::Column(column) => {
                if let Some((_, k)) = agg {
                    d.r.eat(k);
                }
                let agg = agg.map(|(a, _)| a).unwrap_or(Agg::Sum);
                (Some(Measure::Aggregate { agg, column }), Some(i))
            }
            _ => (None, None),
        },
        (None, None, Some(i)) => match rest[i].0 {
            Element::Table(t) => (Some(Measure::Count(t)), Some(i)),
            _ => (None, None),
        },
        (None, None, None) => (None, None),
    };
    let (Some(measure), Some(used)) = (measure, used) else {
        let words: Vec<&str> = (from..to)
            .map(|i| d.r.toks[i].text.as_str())
            .filter(|w| !FILLER.contains(&w.to_lowercase().as_str()))
            .collect();
        return Err(Declined {
            message: format!(
                "ASK did not understand what \"{}\" of the ratio measures",
                words.join(" ")
            ),
            hint: "name a count or an amount on each side, e.g. \"ratio of orders to customers\""
                .into(),
        });
    };
    rest.remove(used);
    let measured = crate::ask::compile::measure_tables(c, &measure);
    let mut own = Vec::new();
    for (e, at) in rest {
        match qualifier(d, &e, at, &measured) {
            Some(f) => own.push(f),
            None => {
                let words: Vec<&str> = (from..to).map(|i| d.r.toks[i].text.as_str()).collect();
                return Err(Declined {
                    message: format!(
                        "ASK cannot restrict one side of a ratio that way yet (\"{}\")",
                        words.join(" ")
                    ),
                    hint: "ask for each count separately".into(),
                });
            }
        }
    }
    d.entities.retain(|(_, at)| !within(*at));
    d.columns.retain(|(_, at)| !within(*at));
    d.measures.clear();
    Ok((measure, own))
}

fn is_flag(c: &crate::catalog::Catalog, col: ColRef) -> bool {
    c.column(col).kind == crate::catalog::ValueKind::Boolean
}

/// A condition of one side: a value of the measured rows, a yes/no column ("with projects",
/// "without exams"), or a table the measured rows refer to ("in conferences": the reference
/// is set).
fn qualifier(
    d: &mut Draft,
    e: &Element,
    at: usize,
    measured: &[crate::catalog::TableId],
) -> Option<Filter> {
    let c = d.r.c;
    match e {
        Element::Value { column, value } => {
            // Already read as a filter for the whole: it becomes this side's.
            let text = Value::Text(value.clone());
            if let Some(k) = d
                .filters
                .iter()
                .position(|f| f.column == *column && f.values.contains(&text))
            {
                d.filters.remove(k);
            }
            Some(Filter {
                column: *column,
                op: Op::Eq,
                values: vec![text],
            })
        }
        Element::Column(col) if is_flag(c, *col) => {
            let off = at > 0 && matches!(d.r.w(at - 1), "without" | "no" | "not");
            if off {
                d.r.eat(at - 1);
            }
            Some(Filter {
                column: *col,
                op: Op::Eq,
                values: vec![Value::Bool(!off)],
            })
        }
        Element::Table(t) => measured.iter().find_map(|m| {
            let rel = c.relations.iter().find(|r| r.from == *m && r.to == *t)?;
            let [from] = rel.from_columns.as_slice() else {
                return None;
            };
            Some(Filter {
                column: ColRef {
                    table: *m,
                    column: *from,
                },
                op: Op::NotNull,
                values: Vec::new(),
            })
        }),
        _ => None,
    }
}

fn metric(e: &Element) -> Option<u32> {
    match e {
        Element::Metric(m) => Some(*m),
        _ => None,
    }
}
