//! Grammar words: ranking ("top 5", "most", "the 3"), share and growth words, numeric
//! comparisons ("more than 20") and grain words ("monthly", "by year").

use super::super::draft::Draft;
use super::super::grammar::{comparison, norm, number};
use super::super::Declined;
use crate::ask::plan::*;
use crate::ask::time;

/// A whole number from 1 at token `i`.
fn count_at(d: &Draft, i: usize) -> Option<u64> {
    d.r.toks
        .get(i)
        .and_then(number)
        .filter(|n| *n >= 1.0 && n.fract() == 0.0 && *n < 1e9)
        .map(|n| n as u64)
}

/// "top 5", "bottom 3", "most", "least", "the 5 stores", "which 3 regions".
pub(in super::super) fn ranking(d: &mut Draft) -> Result<(), Declined> {
    for i in 0..d.r.toks.len() {
        if d.r.used_tok[i] {
            continue; // read as ordering ("from highest to lowest")
        }
        let w = d.r.w(i).to_string();
        let before = d.r.w(i.wrapping_sub(1)).to_string();
        match w.as_str() {
            "top" | "bottom" | "best" | "worst" => {
                d.r.eat(i);
                d.order
                    .get_or_insert(Order::by_measure(matches!(w.as_str(), "top" | "best")));
                match count_at(d, i + 1) {
                    Some(n) => {
                        d.limit = Some(n);
                        d.r.eat(i + 1);
                    }
                    // "top home city by loans": one; "top cities", "top customers": ten.
                    None => d.limit = Some(if singular_after(d, i + 1) { 1 } else { 10 }),
                }
            }
            "most" | "highest" | "largest" | "biggest" | "greatest" if before != "at" => {
                d.r.eat(i);
                often(d, i);
                d.order.get_or_insert(Order::by_measure(true));
                superlative(d);
            }
            "shortest" | "cheapest" | "earliest" | "oldest" | "slowest" => {
                d.r.eat(i);
                d.order.get_or_insert(Order::by_measure(false));
                superlative(d);
            }
            "longest" | "latest" | "newest" | "fastest" | "priciest" => {
                d.r.eat(i);
                d.order.get_or_insert(Order::by_measure(true));
                superlative(d);
            }
            "least" | "fewest" | "lowest" | "smallest" if before != "at" => {
                d.r.eat(i);
                often(d, i);
                d.order.get_or_insert(Order::by_measure(false));
                superlative(d);
            }
            "the" | "which" | "what" => {
                // "the 5 stores with the most revenue", "which 3 regions"
                if let Some(n) = count_at(d, i + 1).filter(|n| w != "the" || *n < 1000) {
                    d.limit = Some(n);
                    d.r.eat(i + 1);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether the entity or value named from token `i` is singular ("top home city by loans"):
/// the last word of the linked phrase there is its own stem and does not end in "s".
fn singular_after(d: &Draft, i: usize) -> bool {
    let Some(c) = d
        .picked
        .iter()
        .map(|k| &d.linking.candidates[*k])
        .find(|c| c.span.0 == i)
    else {
        return false;
    };
    let last = &d.r.toks[c.span.1 - 1];
    !last.quoted && last.norm == last.stem && !last.norm.ends_with('s')
}

/// "the most common reasons", "the least frequent": ranked by how often, the count.
fn often(d: &mut Draft, i: usize) {
    if super::ordering::OFTEN.contains(&d.r.w(i + 1)) {
        d.r.eat(i + 1);
        d.by_frequency = true;
    }
}

/// "the most", "the shortest": the first row, unless the question asks for a sorted list
/// ("which airports have the shortest connect time, sorted in ascending order").
fn superlative(d: &mut Draft) {
    if !d.ordered {
        d.limit.get_or_insert(1);
    }
}

/// "share", "percentage" → a share; "growth", "increase" → a growth.
pub(in super::super) fn intent_words(d: &mut Draft) -> Result<(), Declined> {
    if d.intent == Intent::Ratio {
        return Ok(());
    }
    for i in 0..d.r.toks.len() {
        match d.r.w(i) {
            "share" | "percentage" | "percent" | "proportion" | "fraction" | "%"
                if !d.r.used_tok[i] =>
            {
                d.r.eat(i);
                d.intent = Intent::Share;
            }
            "growth" | "grow" | "grew" | "increase" | "change" => {
                d.r.eat(i);
                d.intent = Intent::Growth;
            }
            _ => {}
        }
    }
    if d.intent == Intent::Growth && d.r.has(&["year"]).is_some() && d.r.has(&["over"]).is_some() {
        // "year-over-year": words used.
        for i in 0..d.r.toks.len() {
            if matches!(norm(&d.r.toks[i]), "year" | "over") {
                d.r.eat(i);
            }
        }
    }
    Ok(())
}

/// Units written after a number in a condition.
const UNITS: &[&str] = &[
    "mph", "kmh", "kph", "km", "kms", "miles", "mi", "kg", "kgs", "lb", "lbs", "tons", "hours",
    "hrs", "hour", "minutes", "mins", "minute", "seconds", "secs", "percent", "pct", "points",
    "stars", "feet", "ft", "meters", "m", "gb", "mb", "tb", "units", "items", "pieces",
];

/// "more than 20", "over 4.5", "at least 3", "between 5 and 10": conditions, placed later.
pub(in super::super) fn conditions(d: &mut Draft) -> Result<(), Declined> {
    for i in 0..d.r.toks.len() {
        if d.r.w(i) == "between" && d.r.w(i + 2) == "and" {
            let lo = d.r.toks.get(i + 1).and_then(number);
            let hi = d.r.toks.get(i + 3).and_then(number);
            let year = |v: Option<f64>| {
                v.is_some_and(|v| v.fract() == 0.0 && (1900.0..=2100.0).contains(&v))
            };
            if let (Some(lo), Some(hi), false) = (lo, hi, year(lo) && year(hi)) {
                for k in i..=i + 3 {
                    d.r.eat(k);
                }
                d.conditions.push((Op::Ge, lo.min(hi), i + 1));
                d.conditions.push((Op::Le, lo.max(hi), i + 3));
                continue;
            }
        }
        let (w, next) = (d.r.w(i).to_string(), d.r.w(i + 1).to_string());
        let Some((op, n)) = comparison(&w, &next) else {
            continue;
        };
        let at = i + n;
        if let Some(v) = d.r.toks.get(at).and_then(number) {
            for k in i..=at {
                d.r.eat(k);
            }
            if UNITS.contains(&d.r.w(at + 1)) {
                d.r.eat(at + 1); // "over 200 mph": the column's unit
            }
            d.conditions.push((op, v, at));
        }
    }
    Ok(())
}

/// "monthly", "by quarter", "each year": the time grain asked for.
pub(in super::super) fn grain_words(d: &mut Draft) -> Result<(), Declined> {
    for i in 0..d.r.toks.len() {
        let w = d.r.w(i).to_string();
        if d.r.used_tok[i] {
            continue; // part of a name ("monthly fee")
        }
        let Some(g) = time::grain_word(&w) else {
            continue;
        };
        let adjective = matches!(
            w.as_str(),
            "daily" | "weekly" | "monthly" | "quarterly" | "yearly" | "annually" | "annual"
        );
        if adjective && super::super::grammar::agg_word(d.r.w(i.wrapping_sub(1))).is_some() {
            // "average daily api calls": the average of the daily rows, not a series.
            d.r.eat(i);
            continue;
        }
        if adjective || matches!(d.r.w(i.wrapping_sub(1)), "by" | "per" | "each" | "every") {
            d.grain = Some(g);
            d.r.eat(i);
        }
    }
    Ok(())
}
