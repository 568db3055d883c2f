//! Ordering words: "ordered by the signup date", "sorted in descending order", "from highest
//! to lowest", "alphabetically", "newest first". They set the direction and, after "by", what
//! to sort by (a column, or the measure); the words are accounted for here.

use super::super::draft::Draft;
use super::super::Declined;
use crate::ask::plan::Order;

/// Verbs that introduce a sort key ("ordered by", "sort by", "ranked by").
pub(in super::super) const ORDER_VERBS: &[&str] = &[
    "order",
    "ordered",
    "sort",
    "sorted",
    "rank",
    "ranked",
    "arrange",
    "arranged",
    "organize",
    "organized",
    "organised",
];

const HIGH: &[&str] = &[
    "highest", "largest", "most", "biggest", "greatest", "high", "large", "big", "max", "top",
    "best", "newest", "latest", "recent",
];
const LOW: &[&str] = &[
    "lowest", "smallest", "least", "fewest", "low", "small", "min", "bottom", "worst", "oldest",
    "earliest",
];

/// Whether the span at `start` is what an order verb sorts by: "ordered by X",
/// "sorted by the X", "order by their X".
pub(in super::super) fn order_cue(d: &Draft, start: usize) -> bool {
    let back = |k: usize| start.checked_sub(k).map(|i| d.r.w(i)).unwrap_or("");
    // "units per order by channel", "revenue of each order by store": the noun, not the verb.
    let noun = |k: usize| matches!(back(k + 1), "per" | "each" | "every" | "an" | "one");
    let verb = |w: &str| ORDER_VERBS.contains(&w);
    (back(1) == "by" && verb(back(2)) && !noun(2))
        || (back(1) == "the" && verb(back(2)))
        || (matches!(back(1), "the" | "their" | "its" | "his" | "her")
            && back(2) == "by"
            && verb(back(3)))
}

/// Words that rank by how often something occurs ("most common", "least frequent").
pub(in super::super) const OFTEN: &[&str] = &["common", "frequent", "popular", "often"];

/// Reads the ordering words into `d.order`.
pub(in super::super) fn ordering(d: &mut Draft) -> Result<(), Declined> {
    let n = d.r.toks.len();
    let mut direction: Option<bool> = None;
    let mut asked = false;
    let mut alphabetical = false;
    for i in 0..n {
        let w = d.r.w(i).to_string();
        match w.as_str() {
            "descending" | "desc" | "decreasing" | "reverse" => {
                direction = Some(true);
                eat_order_phrase(d, i);
            }
            "ascending" | "asc" | "increasing" => {
                direction = Some(false);
                eat_order_phrase(d, i);
            }
            "alphabetically" | "alphabetical" => {
                direction = Some(false);
                alphabetical = true;
                eat_order_phrase(d, i);
            }
            w if ORDER_VERBS.contains(&w) && !d.r.used_tok[i] => {
                // "order" and "rank" are nouns too ("placed an order"): a verb only before "by"
                // or "the" ("order by date", "sort the codes"), or as "sorted"/"sort".
                let next = d.r.w(i + 1);
                let direction = |w: &str| {
                    matches!(
                        w,
                        "ascending"
                            | "descending"
                            | "alphabetical"
                            | "reverse"
                            | "order"
                            | "asc"
                            | "desc"
                    )
                };
                let verb = matches!(
                    next,
                    "by" | "the" | "them" | "it" | "results" | "rows" | "from" | "alphabetically"
                ) || direction(next)
                    || (next == "in" && direction(d.r.w(i + 2)))
                    || matches!(w, "sorted" | "sort" | "arranged" | "ranked")
                    || i == 0;
                if !verb {
                    continue;
                }
                asked = true;
                d.r.eat(i);
                if d.r.w(i + 1) == "by" {
                    d.r.eat(i + 1);
                }
                if d.order_column.is_none() {
                    d.order_column = repeated_column(d, i + 1);
                }
            }
            "first" | "last" if i > 0 => {
                // "newest first", "most expensive first", "oldest last"
                let before = d.r.w(i - 1).to_string();
                // "most frequent first", "least common first": by how often, i.e. the count.
                let often = i >= 2 && OFTEN.contains(&before.as_str());
                let high = HIGH.contains(&before.as_str())
                    || before == "expensive"
                    || (often && d.r.w(i - 2) == "most");
                let low = LOW.contains(&before.as_str())
                    || before == "cheapest"
                    || (often && d.r.w(i - 2) == "least");
                if high || low {
                    direction = Some(high == (w == "first"));
                    d.r.eat(i);
                    d.r.eat(i - 1);
                    if i >= 2 && matches!(d.r.w(i - 2), "most" | "least") {
                        d.r.eat(i - 2);
                    }
                }
            }
            "to" if i > 0 && i + 1 < n => {
                // "from highest to lowest", "high to low", "a to z"
                let (a, b) = (d.r.w(i - 1).to_string(), d.r.w(i + 1).to_string());
                let span = if d.r.w(i.wrapping_sub(2)) == "from" {
                    i - 2
                } else {
                    i - 1
                };
                let dir = if HIGH.contains(&a.as_str()) && LOW.contains(&b.as_str()) {
                    Some(true)
                } else if LOW.contains(&a.as_str()) && HIGH.contains(&b.as_str()) {
                    Some(false)
                } else if a == "a" && b == "z" {
                    alphabetical = true;
                    Some(false)
                } else if a == "z" && b == "a" {
                    alphabetical = true;
                    Some(true)
                } else {
                    None
                };
                if dir.is_some() {
                    direction = dir;
                    for k in span..=i + 1 {
                        d.r.eat(k);
                    }
                }
            }
            _ => {}
        }
    }
    if direction.is_none() && !asked {
        return Ok(());
    }
    d.ordered = true;
    d.alphabetical = alphabetical;
    let column = d.order_column;
    let descending = direction.unwrap_or_else(|| {
        // "ordered by signup date": ascending, as SQL; by a measure, largest first.
        column.is_none()
    });
    d.order = Some(Order { descending, column });
    Ok(())
}

/// "in descending order", "in alphabetical order", "in order": the words around a direction.
fn eat_order_phrase(d: &mut Draft, i: usize) {
    d.r.eat(i);
    // "ordered alphabetically", "sorted descending"
    if i > 0 && ORDER_VERBS.contains(&d.r.w(i - 1)) {
        d.r.eat(i - 1);
    }
    if d.r.w(i.wrapping_sub(1)) == "in" {
        d.r.eat(i - 1);
    }
    if ORDER_VERBS.contains(&d.r.w(i + 1)) {
        d.r.eat(i + 1);
    }
}

/// "sort the aircraft codes ...": words after an order verb that repeat a column already
/// named (a repeated mention has no candidate of its own), eaten.
fn repeated_column(d: &mut Draft, from: usize) -> Option<crate::catalog::ColRef> {
    let mut k = from;
    while matches!(d.r.w(k), "by" | "the" | "their" | "its") {
        k += 1;
    }
    let start = k;
    let mut words = Vec::new();
    // The words may have been eaten as a repeat of the column already ("sort the aircraft
    // codes"): they still say what to sort by.
    while k < d.r.toks.len() && words.len() < 3 && !d.r.toks[k].stop {
        words.push(d.r.toks[k].stem.clone());
        k += 1;
    }
    if words.is_empty() {
        return None;
    }
    let c = d.r.c;
    let mut named: Vec<crate::catalog::ColRef> = d.columns.iter().map(|(col, _)| *col).collect();
    named.extend(d.filters.iter().map(|f| f.column));
    named.extend(d.dimensions.iter().map(|dim| dim.column));
    let found = named.into_iter().find(|col| {
        let stems: Vec<String> = crate::catalog::text::split_identifier(&c.column(*col).name)
            .iter()
            .map(|w| crate::catalog::text::stem(w))
            .collect();
        words.iter().all(|w| stems.contains(w))
    })?;
    for j in start..k {
        d.r.eat(j);
    }
    Some(found)
}
