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
    let ranked = d.r.has(&["top", "bottom"]).is_some();
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
        // "transactions by customers who joined in 2023": who did it, not a grouping.
        let agent = start > 0
            && d.r.w(start - 1) == "by"
            && matches!(d.r.w(end), "who" | "that" | "which" | "whose");
        // "top 5 employees by salary": what they are ranked by, not a grouping.
        let ranked_by = start > 0
            && d.r.w(start - 1) == "by"
            && ranked
            && matches!(cand.element, Element::Column(col)
                if d.r.c.column(col).kind.is_numeric()
                    && crate::catalog::suggest::is_measure(d.r.c, col.table, col.column));
        // "follow up needed by department": the word before "by" ends a column's name (a
        // span of several words), so it is no verb with an agent: a grouping.
        let named_before = start >= 2
            && d.r.w(start - 1) == "by"
            && d.picked.iter().any(|k| {
                let s = d.linking.candidates[*k].span;
                s.1 == start - 1 && s.1 - s.0 > 1
            });
        let dim = ((dimension_cue(&d.r, start) || named_before) && !agent && !ranked_by)
            || (after_and
                && last_was_dim
                && matches!(cand.element, Element::Column(_) | Element::Table(_)));
        last_was_dim = dim && matches!(cand.element, Element::Column(_) | Element::Table(_));
        match &cand.element {
            Element::Metric(m) => metric(d, *m, &cand.words),
            Element::Value { .. } if labels_code(d, i) => {}
            Element::Value { column, value } => {
                let op = if negated(d, start) { Op::Ne } else { Op::Eq };
                let column = directed(d, i, *column, value);
                value_filter(d, column, value, op)
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
                let column = referenced_display(d.r.c, *col, &cand.words);
                d.dimensions.push(Dimension {
                    column,
                    grain: None,
                })
            }
            Element::Column(col) => d.columns.push((*col, start)),
        }
    }
    eat_repeats(d);
    via_verbs(d);
    key_words(d);
    money_words(d);
    Ok(())
}

/// "student IDs", "the flight ids", "domain ID": the key of the entity just named. After a
/// grouping cue ("within each domain ID") the key becomes the grouping; a repeated mention
/// ("... Show all domain IDs") names what is already there.
fn key_words(d: &mut Draft) {
    for i in 0..d.r.toks.len() {
        if d.r.used_tok[i] || !matches!(d.r.w(i), "id" | "ids" | "identifier" | "identifiers") {
            continue;
        }
        let before = d
            .picked
            .iter()
            .copied()
            .chain(0..d.linking.candidates.len())
            .map(|k| &d.linking.candidates[k])
            .find(|c| c.span.1 == i && matches!(c.element, Element::Table(_)))
            .or_else(|| repeated_table(d, i))
            .map(|c| c.element.clone());
        let key = match before {
            Some(Element::Table(t)) => match d.r.c.table(t).primary_key.as_slice() {
                [k] => Some(ColRef {
                    table: t,
                    column: *k,
                }),
                _ => None,
            },
            _ => None,
        };
        let Some(col) = key else { continue };
        d.r.eat(i);
        if d.r.w(i + 1) == "s" {
            d.r.eat(i + 1); // "id's"
        }
        if d.dimensions.iter().any(|dim| dim.column == col)
            || d.columns.iter().any(|(c, _)| *c == col)
        {
            continue;
        }
        match d
            .dimensions
            .iter_mut()
            .find(|dim| dim.column.table == col.table && dim.grain.is_none())
        {
            Some(dim) => dim.column = col,
            None => d.columns.push((col, i)),
        }
    }
}

/// The table candidate whose words the token before `i` repeats ("... domain IDs" after "each
/// domain"): the linker keeps one candidate per element, so a second mention has none.
fn repeated_table<'a>(d: &'a Draft, i: usize) -> Option<&'a Candidate> {
    let prev = d.r.toks.get(i.checked_sub(1)?)?;
    d.picked
        .iter()
        .map(|k| &d.linking.candidates[*k])
        .find(|c| {
            matches!(c.element, Element::Table(_))
                && c.words
                    .split_whitespace()
                    .last()
                    .is_some_and(|w| stem(&w.to_lowercase()) == prev.stem)
        })
}

/// "paid invoice dollars", "invoiced dollars": the one money column of the tables named.
fn money_words(d: &mut Draft) {
    let c = d.r.c;
    if d.columns
        .iter()
        .any(|(col, _)| super::super::grammar::money(c, *col))
    {
        return;
    }
    for i in 0..d.r.toks.len() {
        if d.r.used_tok[i] || !super::super::grammar::MONEY_UNITS.contains(&d.r.w(i)) {
            continue;
        }
        let mut tables: Vec<TableId> = d.entities.iter().map(|(t, _)| *t).collect();
        tables.extend(d.filters.iter().map(|f| f.column.table));
        tables.sort_unstable();
        tables.dedup();
        if let Some(col) = super::super::grammar::money_column(c, &tables) {
            d.r.eat(i);
            d.columns.push((col, i));
        }
        return;
    }
}

/// "courses offered each semester": a verb whose stem is a word of a table's name
/// (`course_offering`) says the way goes through that table.
fn via_verbs(d: &mut Draft) {
    let c = d.r.c;
    for i in 0..d.r.toks.len() {
        let w = d.r.w(i).to_string();
        if d.r.used_tok[i] || w.len() < 5 || !(w.ends_with("ed") || w.ends_with("ing")) {
            continue;
        }
        let st = stem(&w);
        let found = c.tables.iter().position(|t| {
            crate::catalog::text::split_identifier(&t.name)
                .iter()
                .any(|p| p.len() >= 4 && stem(p) == st)
        });
        if let Some(t) = found {
            d.via.push(t as TableId);
        }
    }
}

/// A column named again in full ("... Show the minimum connect time.") has no candidate of
/// its own (one per element): its words are accounted for by the first mention.
fn eat_repeats(d: &mut Draft) {
    let c = d.r.c;
    let mut named: Vec<ColRef> = d.columns.iter().map(|(col, _)| *col).collect();
    named.extend(d.filters.iter().map(|f| f.column));
    named.extend(d.dimensions.iter().map(|dim| dim.column));
    for col in named {
        let words: Vec<String> = crate::catalog::text::split_identifier(&c.column(col).name)
            .iter()
            .map(|w| stem(w))
            .collect();
        if words.len() < 2 {
            continue;
        }
        let n = d.r.toks.len();
        for i in 0..n.saturating_sub(words.len() - 1) {
            let fits =
                (0..words.len()).all(|k| !d.r.used_tok[i + k] && d.r.toks[i + k].stem == words[k]);
            if fits {
                for k in 0..words.len() {
                    d.r.eat(i + k);
                }
            }
        }
    }
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

/// "by region_id" (or `authorid`, `deptcode`) means by region: the referenced entity's display
/// column.
pub fn referenced_display(c: &crate::catalog::Catalog, col: ColRef, words: &str) -> ColRef {
    // "each author" linked to `lib_authors.authorid`: the table's own key means its rows
    // (unless the words ask for the key: "per course id").
    let keyed = words.split_whitespace().last().is_some_and(|w| {
        matches!(
            w.to_lowercase().as_str(),
            "id" | "ids" | "code" | "key" | "number" | "no"
        )
    });
    if !keyed && c.table(col.table).primary_key == [col.column] {
        if let Some(shown) = display(c, col.table) {
            return shown;
        }
    }
    // "by region_id" said in the schema's words is the region; "each airline code" the code.
    let named_id = c.column(col).name.to_lowercase().ends_with("_id");
    if keyed && !named_id {
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
    // "name of the instructor": the column of the table named right after "of".
    let mut k = me.span.1;
    if d.r.w(k) == "of" {
        k += 1;
        while matches!(
            d.r.w(k),
            "the" | "a" | "an" | "each" | "all" | "every" | "their"
        ) {
            k += 1;
        }
        let owner = cands.iter().find_map(|c| match c.element {
            Element::Table(t) if c.span.0 == k => Some(t),
            _ => None,
        });
        let same_span =
            cands
                .iter()
                .filter(|c| c.span == me.span)
                .filter_map(|c| match c.element {
                    Element::Column(x) => Some(x),
                    _ => None,
                });
        let owned: Vec<ColRef> = match owner {
            Some(t) => same_span.filter(|x| x.table == t).collect(),
            None => Vec::new(),
        };
        if let [x] = owned.as_slice() {
            return if *x == col {
                Ambiguity::None
            } else {
                Ambiguity::Choose(*x)
            };
        }
    }
    let rivals: Vec<ColRef> = cands
        .iter()
        .filter(|c| c.span == me.span && (c.score - me.score).abs() < 1e-4)
        .filter_map(|c| match c.element {
            // The same name in two joined tables is one thing seen from both ends of a join.
            Element::Column(x) if x != col && !joined(d, x, col) => Some(x),
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
                .all(|w| {
                    let w = stem(w);
                    stems.iter().any(|s| super::super::check::akin(s, &w))
                })
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
    // Of columns named alike ("compartment" of food_service and of class_of_service), the
    // one of a table the question names elsewhere, or next to one.
    let in_play: Vec<crate::catalog::TableId> = d
        .picked
        .iter()
        .map(|&j| &cands[j])
        .filter(|c| c.span != me.span)
        .filter_map(|c| match c.element {
            Element::Table(t) => Some(t),
            Element::Column(x) | Element::Value { column: x, .. } => Some(x.table),
            Element::Metric(_) => None,
        })
        .collect();
    let near = |t: crate::catalog::TableId, hops: bool| {
        in_play.contains(&t)
            || (hops
                && d.r.c.relations.iter().any(|r| {
                    (r.from == t && in_play.contains(&r.to))
                        || (r.to == t && in_play.contains(&r.from))
                }))
    };
    for hops in [false, true] {
        let close: Vec<ColRef> = all
            .iter()
            .copied()
            .filter(|x| near(x.table, hops))
            .collect();
        if let [one] = close.as_slice() {
            return if *one == col {
                Ambiguity::None
            } else {
                Ambiguity::Choose(*one)
            };
        }
    }
    let mut names: Vec<String> = all
        .iter()
        .map(|x| format!("{}.{}", d.r.c.table(x.table).name, d.r.c.column(*x).name))
        .collect();
    names.sort();
    names.dedup();
    Ambiguity::Open(names)
}

/// Whether two columns are the two ends of one relation (`flight.airline_code` and
/// `airline.airline_code`).
fn joined(d: &Draft, a: ColRef, b: ColRef) -> bool {
    d.r.c.relations.iter().any(|r| {
        let ends = |x: ColRef, y: ColRef| {
            r.from == x.table
                && r.to == y.table
                && r.from_columns == [x.column]
                && r.to_columns == [y.column]
        };
        ends(a, b) || ends(b, a)
    })
}

/// Words that say which end of a trip or transfer a value is, and the name parts of the
/// columns that hold that end.
const DIRECTIONS: &[(&[&str], &[&str])] = &[
    (
        &["from", "out"],
        &[
            "from",
            "origin",
            "source",
            "departure",
            "depart",
            "src",
            "sender",
        ],
    ),
    (
        &["to", "into", "towards"],
        &[
            "to",
            "destination",
            "dest",
            "arrival",
            "arrive",
            "target",
            "recipient",
        ],
    ),
];

/// "from LAX to ORD": a value stored in both `from_airport` and `to_airport` goes to the one
/// whose name matches the preposition before it.
fn directed(d: &Draft, i: usize, column: ColRef, value: &str) -> ColRef {
    let cands = &d.linking.candidates;
    let me = &cands[i];
    let alternatives: Vec<ColRef> = cands
        .iter()
        .filter(|c| c.span == me.span)
        .filter_map(|c| match &c.element {
            Element::Value {
                column: x,
                value: v,
            } if v == value => Some(*x),
            _ => None,
        })
        .collect();
    if alternatives.len() < 2 {
        return column;
    }
    let before = (1..=4)
        .filter_map(|k| me.span.0.checked_sub(k))
        .map(|k| d.r.w(k));
    for w in before {
        let Some((_, parts)) = DIRECTIONS.iter().find(|(words, _)| words.contains(&w)) else {
            continue;
        };
        let fits: Vec<ColRef> = alternatives
            .iter()
            .copied()
            .filter(|x| {
                crate::catalog::text::split_identifier(&d.r.c.column(*x).name)
                    .iter()
                    .any(|p| parts.contains(&p.as_str()))
            })
            .collect();
        let same: Vec<ColRef> = fits
            .iter()
            .copied()
            .filter(|x| x.table == column.table)
            .collect();
        if let [one] = same.as_slice() {
            return *one;
        }
        if let [one] = fits.as_slice() {
            return *one;
        }
        break;
    }
    column
}

/// "Chicago (ORD)", "New York (JFK)": words followed by a value in parentheses are its label;
/// the value in parentheses is the condition.
fn labels_code(d: &Draft, i: usize) -> bool {
    let me = &d.linking.candidates[i];
    let next = d
        .picked
        .iter()
        .map(|k| &d.linking.candidates[*k])
        .find(|c| c.span.0 == me.span.1);
    matches!(next, Some(c) if matches!(c.element, Element::Value { .. }))
        && d.between_has(me.span.1 - 1, me.span.1, '(')
}
