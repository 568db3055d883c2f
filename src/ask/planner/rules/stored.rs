//! Stored counts: numeric columns that already hold a count of something, found by their
//! description ("Number of students who found the instructor to be hilarious" on
//! `hilarious`, "The total number of students enrolled in the course" on `num_enrolled`) or
//! by their name (`num_enrolled`). "the number of students who found the instructor to be
//! hilarious" names that column, not a count of the students table; "the number of students"
//! alone still counts students.

use super::super::draft::Draft;
use super::super::grammar::FILLER;
use super::super::Declined;
use crate::catalog::link::Element;
use crate::catalog::text::{phrase_words, split_identifier, stem};
use crate::catalog::{Catalog, ColRef, TableId};

/// Leading words of a count description before "number of".
const LEAD: &[&str] = &[
    "the",
    "a",
    "total",
    "overall",
    "cumulative",
    "current",
    "actual",
];

/// Name parts that say a column holds a count (`num_enrolled`, `count_visits`).
const COUNT_PARTS: &[&str] = &["num", "number", "count", "cnt", "n", "nbr", "no"];

/// Words that end the phrase after "number of": a grouping or an ordering follows.
const ENDS: &[&str] = &[
    "each", "every", "per", "ordered", "order", "sorted", "sort", "versus", "vs", "compared",
    "than", "across",
];

/// A column that stores a count: the thing counted (when the description says) and the
/// words that describe it.
struct Stored {
    column: ColRef,
    noun: Option<String>,
    words: Vec<String>,
    /// Stems of the name's telling words (`enroll` of `num_enrolled`).
    named: Vec<String>,
    /// A table is named like the counted thing: "number of reviews" may count its rows.
    table_named: bool,
}

/// Reads "number of <what a stored count describes>" (and a side of a ratio: "the ratio of
/// enrolled students to ...") as that column.
pub(in super::super) fn stored_counts(d: &mut Draft) -> Result<(), Declined> {
    let mut columns: Option<Vec<Stored>> = None;
    let mut next = 0;
    for (from, start) in triggers(d) {
        if from < next {
            continue;
        }
        let all = columns.get_or_insert_with(|| stored_columns(d.r.c, &linked_tables(d)));
        let Some((column, end)) = best(d, all, start) else {
            continue;
        };
        for k in from..end {
            d.r.eat(k);
        }
        let inside = |at: &usize| (start..end).contains(at);
        d.entities.retain(|(_, at)| !inside(at));
        d.columns.retain(|(_, at)| !inside(at));
        if !d.columns.iter().any(|(c, _)| *c == column) {
            let at = d.columns.partition_point(|(_, s)| *s < start);
            d.columns.insert(at, (column, start));
        }
        d.stored.push((column, start, end));
        next = end;
    }
    Ok(())
}

/// Where a stored count may be named: after "number of", and at the start of each side of a
/// ratio; with the first token the reading accounts for.
fn triggers(d: &Draft) -> Vec<(usize, usize)> {
    let n = d.r.toks.len();
    let mut out: Vec<(usize, usize)> = (0..n.saturating_sub(2))
        .filter(|&i| matches!(d.r.w(i), "number" | "count" | "numbers") && d.r.w(i + 1) == "of")
        .map(|i| (i, i + 2))
        .collect();
    if let Some(at) = d.r.has(&["ratio", "ratios"]) {
        let sides = (at + 1..n).filter(|&i| {
            (i == at + 1 && d.r.w(i) == "of") || matches!(d.r.w(i), "to" | "versus" | "vs")
        });
        for i in sides {
            let start = if d.r.w(i + 1) == "the" { i + 2 } else { i + 1 };
            if !matches!(d.r.w(start), "number" | "count" | "total") {
                out.push((start, start));
            }
        }
    }
    out.sort_unstable();
    out
}

/// The stored count whose words the question repeats from `start`, and where they end;
/// none when two fit equally well.
fn best(d: &Draft, all: &[Stored], start: usize) -> Option<(ColRef, usize)> {
    // A count named again ("... and the total number of credits") is the same one.
    let again = |col: ColRef| usize::from(d.stored.iter().any(|(c, ..)| *c == col));
    let mut found: Vec<((usize, usize), ColRef, usize)> = all
        .iter()
        .filter_map(|s| {
            walk(d, s, start).map(|(hits, end)| ((hits, again(s.column)), s.column, end))
        })
        .collect();
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    match found.as_slice() {
        [] => None,
        [(_, col, end)] => Some((*col, *end)),
        [(h, col, end), (h2, ..), ..] => (h > h2).then_some((*col, *end)),
    }
}

/// How many content words from `start` on the stored count describes, and the token after
/// the last; none unless the counted thing and at least one more word are among them.
fn walk(d: &Draft, s: &Stored, start: usize) -> Option<(usize, usize)> {
    let toks = d.r.toks;
    let (mut hits, mut end, mut noun) = (0, start, s.noun.is_none());
    for (k, tok) in toks.iter().enumerate().skip(start) {
        let w = d.r.w(k);
        if ENDS.contains(&w)
            || tok.number
            || (matches!(w, "by" | "for" | "in") && matches!(d.r.w(k + 1), "each" | "every"))
            || (matches!(w, "number" | "count" | "numbers") && d.r.w(k + 1) == "of")
        {
            break;
        }
        let st = &tok.stem;
        if s.words.iter().any(|x| x == st) {
            hits += 1;
            end = k + 1;
            noun |= s.noun.as_ref() == Some(st);
        } else if !(tok.stop || FILLER.contains(&w)) {
            break;
        }
    }
    let again = d.stored.iter().any(|(c, ..)| *c == s.column);
    let fits = match &s.noun {
        // "number of reviews" for `num_reviews`, when no table holds the reviews.
        Some(n) => {
            noun && (hits >= 2 || (hits == 1 && (again || (s.named.contains(n) && !s.table_named))))
        }
        // `num_enrolled`: every telling word of the name.
        None => hits >= s.named.len() && !s.table_named,
    };
    fits.then_some((hits, end))
}

/// The tables linking found anything of (a table, a column or a value): a stored count is
/// named by the question's words, so its table is among them, as is a table named like what
/// it counts.
fn linked_tables(d: &Draft) -> Vec<TableId> {
    let mut out: Vec<TableId> = d
        .linking
        .candidates
        .iter()
        .filter_map(|cand| match &cand.element {
            Element::Table(t) => Some(*t),
            Element::Column(col) | Element::Value { column: col, .. } => Some(col.table),
            Element::Metric(_) => None,
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The numeric non-key columns of `tables` that store a count.
fn stored_columns(c: &Catalog, in_play: &[TableId]) -> Vec<Stored> {
    let mut out = Vec::new();
    let tables: Vec<String> = in_play
        .iter()
        .filter_map(|t| split_identifier(&c.table(*t).name).last().map(|w| stem(w)))
        .collect();
    for &t in in_play {
        let table = c.table(t);
        for (k, col) in table.columns.iter().enumerate() {
            if !col.kind.is_numeric() || table.primary_key.contains(&(k as u32)) {
                continue;
            }
            let column = ColRef {
                table: t,
                column: k as u32,
            };
            let parts = split_identifier(&col.name);
            let named: Vec<String> = parts
                .iter()
                .filter(|p| !COUNT_PARTS.contains(&p.as_str()) && p.as_str() != "total")
                .map(|p| stem(p))
                .collect();
            if let Some((noun, mut words)) = col.comment.as_deref().and_then(described) {
                words.extend(named.iter().cloned());
                let table_named = tables.contains(&noun);
                out.push(Stored {
                    column,
                    noun: Some(noun),
                    words,
                    named,
                    table_named,
                });
            } else if count_named(&parts) && !named.is_empty() && named.iter().all(|w| !key_like(w))
            {
                let table_named = named.iter().any(|w| tables.contains(w));
                out.push(Stored {
                    column,
                    noun: None,
                    words: named.clone(),
                    named,
                    table_named,
                });
            }
        }
    }
    out
}

/// Whether `col` stores a count of something: described as "number of ...", or named
/// like `num_stops`, `citation_num`.
pub(in super::super) fn is_count(c: &Catalog, col: ColRef) -> bool {
    let column = c.column(col);
    if !column.kind.is_numeric() || c.table(col.table).primary_key.contains(&col.column) {
        return false;
    }
    column.comment.as_deref().and_then(described).is_some()
        || count_named(&split_identifier(&column.name))
}

/// A name of several parts that starts or ends with a count word (`num_enrolled`,
/// `citation_num`).
fn count_named(parts: &[String]) -> bool {
    parts.len() > 1
        && [parts.first(), parts.last()]
            .into_iter()
            .flatten()
            .any(|p| COUNT_PARTS.contains(&p.as_str()))
}

fn key_like(w: &str) -> bool {
    matches!(w, "id" | "key" | "code")
}

/// "(The) (total) number of students enrolled in the course": the counted noun and the
/// content words of the description (without "number" and "total").
fn described(comment: &str) -> Option<(String, Vec<String>)> {
    let words = phrase_words(comment);
    let at = words.iter().position(|w| !LEAD.contains(&w.as_str()))?;
    if words.get(at).map(String::as_str) != Some("number") || words.get(at + 1)? != "of" {
        return None;
    }
    let noun = words
        .iter()
        .skip(at + 2)
        .find(|w| !crate::catalog::text::is_stopword(w))?;
    let content = words
        .iter()
        .filter(|w| {
            !crate::catalog::text::is_stopword(w) && !matches!(w.as_str(), "number" | "total")
        })
        .map(|w| stem(w))
        .collect();
    Some((stem(noun), content))
}

#[cfg(test)]
mod tests {
    use super::described;

    #[test]
    fn descriptions_of_counts_name_what_is_counted() {
        let (noun, words) =
            described("The total number of students enrolled in the course.").unwrap();
        assert_eq!(noun, "student");
        assert_eq!(words, ["student", "enroll", "course"]);
        let (noun, _) =
            described("Number of students who found the instructor to be hilarious.").unwrap();
        assert_eq!(noun, "student");
        assert!(described("The cost of a one-way trip for this fare").is_none());
        assert!(described("The name of the number of the beast").is_none());
    }
}
