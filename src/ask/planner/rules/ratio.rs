//! Ratios of two measures: "ratio of publications to authors", "the ratio of the maximum
//! range to the maximum payload for each aircraft", "ratio of helpfulness scores to clarity
//! scores for each course". Each side is a count of an entity, an aggregate of a numeric
//! column (SUM unless an aggregate word says otherwise), or a metric.

use super::super::draft::Draft;
use super::super::grammar::{agg_word, FILLER};
use super::super::Declined;
use crate::ask::plan::*;
use crate::catalog::link::Element;

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
    let Some(to) = (at + 1..n).find(|&i| matches!(d.r.w(i), "to" | "versus" | "vs" | "over"))
    else {
        return Ok(());
    };
    let end = (to + 1..n)
        .find(|&i| {
            SIDE_END.contains(&d.r.w(i))
                && d.linking
                    .candidates
                    .iter()
                    .any(|c| c.span.0 > to && c.span.1 <= i)
        })
        .unwrap_or(n);
    let top = side(d, at + 1, to)?;
    let bottom = side(d, to + 1, end)?;
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

/// The measure one side of a ratio names, taking its words out of the draft's entities and
/// columns.
fn side(d: &mut Draft, from: usize, to: usize) -> Result<Measure, Declined> {
    let within = |at: usize| at >= from && at < to;
    let agg = (from..to).find_map(|i| agg_word(d.r.w(i)).map(|a| (a, i)));
    let picked: Vec<Element> = d
        .picked
        .iter()
        .map(|i| &d.linking.candidates[*i])
        .filter(|c| within(c.span.0))
        .map(|c| c.element.clone())
        .collect();
    // "total invoice amount": the table's name qualifies its column.
    let c = d.r.c;
    let column_tables: Vec<crate::catalog::TableId> = picked
        .iter()
        .filter_map(|e| match e {
            Element::Column(col) => Some(col.table),
            _ => None,
        })
        .collect();
    let picked: Vec<Element> = picked
        .into_iter()
        .filter(|e| !matches!(e, Element::Table(t) if column_tables.contains(t)))
        .collect();
    if picked.len() > 1 {
        let words: Vec<&str> = (from..to).map(|i| d.r.toks[i].text.as_str()).collect();
        return Err(Declined {
            message: format!(
                "ASK cannot restrict one side of a ratio yet (\"{}\")",
                words.join(" ")
            ),
            hint: "ask for each count separately, e.g. \"how many publications have a conference\""
                .into(),
        });
    }
    let numeric = picked.iter().find_map(|e| match e {
        Element::Column(col) if c.column(*col).kind.is_numeric() => Some(*col),
        _ => None,
    });
    let measure = match (picked.iter().find_map(metric), numeric, agg) {
        (Some(m), _, _) => Some(Measure::Metric(m)),
        (None, Some(column), agg) => {
            if let Some((_, i)) = agg {
                d.r.eat(i);
            }
            Some(Measure::Aggregate {
                agg: agg.map(|(a, _)| a).unwrap_or(Agg::Sum),
                column,
            })
        }
        (None, None, _) => picked.iter().find_map(|e| match e {
            Element::Table(t) => Some(Measure::Count(*t)),
            _ => None,
        }),
    };
    let Some(measure) = measure else {
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
    d.entities.retain(|(_, at)| !within(*at));
    d.columns.retain(|(_, at)| !within(*at));
    d.measures.clear();
    Ok(measure)
}

fn metric(e: &Element) -> Option<u32> {
    match e {
        Element::Metric(m) => Some(*m),
        _ => None,
    }
}
