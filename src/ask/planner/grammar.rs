//! The grammar words the planner reads (cues, aggregates, comparisons, filler) and its
//! helpers: the token reader, the candidate pick, confidence and the decline message.

use super::Declined;
use crate::ask::plan::{Agg, Op};
use crate::ask::time::Date;
use crate::catalog::link::{Element, Linking};
use crate::catalog::store::Semantic;
use crate::catalog::text::Token;
use crate::catalog::{Catalog, ColRef, TableId, ValueKind};

/// Words that carry no meaning for the plan beyond what the grammar reads around them.
#[rustfmt::skip]
pub(super) const FILLER: &[&str] = &[
    "break", "broken", "down", "split", "grouped", "group", "show", "give", "list", "find",
    "tell", "display", "return", "made", "make", "placed", "place", "generate", "generated",
    "bring", "brought", "came", "come", "contribute", "contributed", "belong", "belongs", "live",
    "lives", "located", "based", "get", "got", "receive", "received", "had", "have", "has",
    "overall", "all", "total", "number", "amount", "much", "many", "count", "value", "figure",
    "figures", "ever", "altogether", "combined", "respectively", "along",
    "together", "versus", "vs", "compared", "compare", "comparison", "against", "happen",
    "happened", "record", "recorded", "registered", "occur", "occurred", "exist", "existing",
    "did", "do", "does", "done", "each", "every", "per", "by", "for", "in", "of", "from",
    "over", "across", "within", "during", "what", "which", "who", "how", "show", "me", "our",
    "we", "us", "is", "are", "was", "were", "the", "a", "an", "one", "at", "least", "any",
    "money", "spend", "and", "or", "data", "records", "entries", "rows", "details", "info",
    "information", "there", "comes", "coming", "corresponding", "respective", "relevant",
    "results", "result", "well", "numbers", "amounts", "counts",
];

pub(super) fn norm(t: &Token) -> &str {
    t.norm.as_str()
}

pub(super) fn number(t: &Token) -> Option<f64> {
    if !t.number {
        return None;
    }
    t.norm.replace(',', "").trim_start_matches('$').parse().ok()
}

pub(super) struct Reader<'a> {
    pub(super) s: &'a Semantic,
    pub(super) c: &'a Catalog,
    pub(super) toks: &'a [Token],
    pub(super) used_tok: Vec<bool>,
}

impl Reader<'_> {
    pub(super) fn w(&self, i: usize) -> &str {
        self.toks.get(i).map(norm).unwrap_or("")
    }
    pub(super) fn has(&self, words: &[&str]) -> Option<usize> {
        self.toks.iter().position(|t| words.contains(&norm(t)))
    }
    pub(super) fn eat(&mut self, i: usize) {
        if let Some(u) = self.used_tok.get_mut(i) {
            *u = true;
        }
    }
}

/// The role of a span, read from the words before it.
pub(super) fn dimension_cue(r: &Reader, start: usize) -> bool {
    // "across different courses", "by individual store": the cue before the adjective.
    if start > 1 && matches!(r.w(start - 1), "different" | "various" | "individual") {
        return dimension_cue(r, start - 1);
    }
    let back = |k: usize| start.checked_sub(k).map(|i| r.w(i)).unwrap_or("");
    // "citations received by publications", "papers written by authors": an agent, not a
    // grouping (unless "each" follows: "received by each author").
    let agent =
        |verb: &str| (verb.len() > 4 && verb.ends_with("ed")) || super::check::relation_verb(verb);
    if back(1) == "by" && agent(back(2)) {
        return false;
    }
    if matches!(back(1), "the" | "a" | "an") && back(2) == "by" && agent(back(3)) {
        return false; // "offered by the department of ..."
    }
    matches!(back(1), "by" | "per" | "each" | "every" | "across")
        || (back(1) == "each" || back(2) == "each" && back(1) != "of")
        || (matches!(back(2), "by" | "per" | "each")
            && !r.toks[start - 1].number
            && matches!(back(1), "the" | "a" | "an" | "their" | "its"))
}

pub(super) fn count_cue(r: &Reader, start: usize) -> bool {
    let back = |k: usize| start.checked_sub(k).map(|i| r.w(i)).unwrap_or("");
    (back(1) == "many" && back(2) == "how")
        || (back(2) == "many" && back(3) == "how")
        || (back(1) == "of" && back(2) == "number")
        || (back(2) == "of" && back(3) == "number")
        || matches!(back(1), "count" | "distinct" | "different" | "unique")
}

/// Picks one candidate per span, preferring the role the words around it call for.
pub(super) fn pick(r: &Reader, l: &Linking) -> Vec<usize> {
    // A grammar word that only resembles a catalog word ("came" ~ "name") is not a reference.
    let noise = |c: &crate::catalog::link::Candidate| {
        let (s, e) = c.span;
        // "the number of students": grammar, even where a column is called `number`.
        let quantity = e == s + 1 && matches!(r.w(s), "number" | "count") && r.w(e) == "of";
        // "offered" is not `offering_id`, "cited" is not the table `cite`: a verb matched to
        // a noun by its stem.
        let verb = e == s + 1
            && ((r.w(s).ends_with("ed")
                && (c.phrase.split_whitespace().any(|p| p.ends_with("ing"))
                    || super::check::relation_verb(r.w(s))))
                || (super::check::relation_verb(r.w(s))
                    && !r.w(s).ends_with("ing")
                    && c.phrase.split_whitespace().any(|p| p.ends_with("ing"))));
        // "the last 10 years", "past 7 days": a time unit of a range, not a column `year`.
        let unit = e == s + 1
            && matches!(
                r.w(s),
                "year"
                    | "years"
                    | "month"
                    | "months"
                    | "day"
                    | "days"
                    | "week"
                    | "weeks"
                    | "quarter"
                    | "quarters"
            )
            && s > 0
            && (r.toks[s - 1].number
                || matches!(r.w(s - 1), "last" | "past" | "next" | "previous"));
        // "average rating": the aggregate, not a stored value 'Average' (unless quoted).
        let agg_value = e == s + 1
            && matches!(c.element, Element::Value { .. })
            && !r.toks[s].quoted
            && agg_word(r.w(s)).is_some();
        // "the maximum range": the aggregate of what follows, not the part "maximum" of
        // `maximum_stay`.
        let agg_part = e == s + 1
            && matches!(c.element, Element::Column(_))
            && agg_word(r.w(s)).is_some()
            && l.candidates.iter().any(|o| {
                o.span.0 == e && matches!(o.element, Element::Column(_) | Element::Table(_))
            });
        // "patients with no appointments" is not the value 'No' of some yes/no column: a
        // negation or a bare yes/no word names a stored value only when quoted.
        let answer_word = e == s + 1
            && matches!(c.element, Element::Value { .. })
            && !r.toks[s].quoted
            && matches!(
                r.w(s),
                "no" | "not" | "none" | "never" | "without" | "yes" | "y" | "n"
            );
        // "does" is not the value 'Doe': grammar words never link by stem or typo.
        let grammar = matches!(c.element, Element::Value { .. })
            && !matches!(c.how, crate::catalog::link::MatchKind::Exact)
            && (s..e).all(|k| FILLER.contains(&r.w(k)) || r.toks[k].stop);
        // "courses offered" is not `course_offering` either.
        let verb_phrase = c
            .words
            .split_whitespace()
            .zip(c.phrase.split_whitespace())
            .any(|(q, p)| q.to_lowercase().ends_with("ed") && p.ends_with("ing"));
        quantity
            || verb
            || verb_phrase
            || unit
            || grammar
            || agg_value
            || agg_part
            || answer_word
            || (matches!(c.how, crate::catalog::link::MatchKind::Typo { .. })
                && (s..e).all(|k| FILLER.contains(&r.w(k))))
    };
    let mut order: Vec<usize> = (0..l.candidates.len())
        .filter(|i| !noise(&l.candidates[*i]))
        .collect();
    // "top 5 clients by billings": after "by" comes what is ranked by, a measure.
    let ranking = r
        .has(&[
            "top", "bottom", "best", "worst", "most", "least", "highest", "lowest", "fewest",
        ])
        .is_some();
    let in_play = |t: TableId, span: (usize, usize)| {
        l.candidates.iter().any(|o| {
            let apart = o.span.1 <= span.0 || o.span.0 >= span.1;
            let table = match o.element {
                Element::Table(x) => Some(x),
                Element::Column(col) => Some(col.table),
                _ => None,
            };
            apart && o.score >= 0.8 && table == Some(t)
        })
    };
    let weight = |i: usize| {
        let c = &l.candidates[i];
        let dim = dimension_cue(r, c.span.0);
        let count = count_cue(r, c.span.0);
        let len = (c.span.1 - c.span.0) as f32;
        let role = match (&c.element, dim, count) {
            (Element::Column(_) | Element::Table(_), true, _) => 0.3,
            (Element::Metric(_), true, _) if ranking => 0.35,
            (Element::Metric(_), true, _) => -0.3,
            (Element::Table(_), _, true) => 0.15,
            (Element::Metric(_), _, _) => 0.1,
            (Element::Value { .. }, _, _) => 0.05,
            _ => 0.0,
        };
        // "courses offered" is not `course_offering`: a verb matched to a noun by its stem.
        let verb_for_noun = c
            .words
            .split_whitespace()
            .zip(c.phrase.split_whitespace())
            .any(|(q, p)| q.to_lowercase().ends_with("ed") && p.ends_with("ing"));
        let penalty = if verb_for_noun { 0.5 } else { 0.0 };
        // 'First Class' of the meals' compartment when the question names the meals: a value
        // of a table the question talks about elsewhere.
        let in_play = match c.element {
            Element::Value { column, .. } if in_play(column.table, c.span) => 0.1,
            _ => 0.0,
        };
        c.score + role + 0.2 * (len - 1.0) - penalty + in_play
    };
    // Each weight once (it scans the candidates), not per comparison.
    let weights: Vec<f32> = (0..l.candidates.len()).map(weight).collect();
    order.sort_by(|a, b| weights[*b].total_cmp(&weights[*a]));
    let mut taken = vec![false; r.toks.len()];
    let mut out = Vec::new();
    for i in order {
        let (s, e) = l.candidates[i].span;
        if (s..e).any(|k| taken[k]) {
            continue;
        }
        for t in taken.iter_mut().take(e).skip(s) {
            *t = true;
        }
        out.push(i);
    }
    out.sort_by_key(|i| l.candidates[*i].span.0);
    out
}

/// The column that shows an entity's rows by name: the annotated display column, else a
/// column called `name` or `title`.
pub fn display(c: &Catalog, t: TableId) -> Option<ColRef> {
    let table = c.table(t);
    let col = table.notes.display_column.or_else(|| {
        table
            .columns
            .iter()
            .position(|c| c.name == "name" || c.name == "title")
            .map(|i| i as u32)
    })?;
    Some(ColRef {
        table: t,
        column: col,
    })
}

/// The last date of the data in `col` (its profile's maximum): what "last 3 months" counts
/// back from.
pub fn anchor(c: &Catalog, col: Option<ColRef>) -> Option<Date> {
    let col = col?;
    let max = c.column(col).profile.as_ref()?.max.as_ref()?;
    Date::parse(max)
}

pub(super) fn agg_word(w: &str) -> Option<Agg> {
    Some(match w {
        "total" | "sum" => Agg::Sum,
        "average" | "avg" | "mean" => Agg::Avg,
        "median" => Agg::Median,
        "minimum" | "min" => Agg::Min,
        "maximum" | "max" => Agg::Max,
        _ => return None,
    })
}

pub(super) fn comparison(w: &str, next: &str) -> Option<(Op, usize)> {
    Some(match (w, next) {
        ("more" | "greater" | "higher", "than") => (Op::Gt, 2),
        ("over" | "above" | "exceeding", _) => (Op::Gt, 1),
        ("fewer" | "less" | "lower", "than") => (Op::Lt, 2),
        ("under" | "below", _) => (Op::Lt, 1),
        ("at", "least") => (Op::Ge, 2),
        ("at", "most") => (Op::Le, 2),
        _ => return None,
    })
}

pub(super) fn confidence(l: &Linking, used: &[usize]) -> f32 {
    used.iter()
        .map(|i| l.candidates[*i].score)
        .fold(1.0_f32, |a, s| a.min(s))
}

/// Why a question was declined: the words not understood, and the words that matched the
/// catalog but that the plan could not use. The hint lists only what was understood *and*
/// used, and suggests a question in the schema's own words about what the question named.
pub(super) fn declined(
    r: &Reader,
    l: &Linking,
    used: &[usize],
    unknown: &[String],
    unused: &[String],
    what: &str,
) -> Declined {
    let quote = |ws: &[String]| {
        ws.iter()
            .map(|w| format!("\"{w}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let left: Vec<&String> = unknown.iter().chain(unused).collect();
    let understood: Vec<String> = used
        .iter()
        .map(|i| &l.candidates[*i])
        .filter(|c| !left.iter().any(|w| **w == c.words))
        .map(|c| {
            format!(
                "\"{}\" = {}",
                c.words,
                crate::catalog::report::element_name(r.c, &c.element)
            )
        })
        .collect();
    let mut message = match (unknown.is_empty(), unused.is_empty()) {
        (false, _) => format!("ASK did not understand {}", quote(unknown)),
        (true, false) => String::new(),
        (true, true) => format!("ASK did not understand {what}"),
    };
    if !unused.is_empty() {
        let part = format!(
            "{} matched the database, but ASK could not fit {} into the answer",
            quote(unused),
            if unused.len() == 1 { "it" } else { "them" }
        );
        message = if message.is_empty() {
            format!("ASK cannot answer: {part}")
        } else {
            format!("{message}; {part}")
        };
    } else if !unknown.is_empty() && !what.is_empty() {
        message = format!("{message}, so not {what}");
    }
    let example = example(r, l, used);
    let hint = if understood.is_empty() {
        format!("nothing else in the question matched this database; try a question like {example}")
    } else {
        format!(
            "it understood {}; try a question like {example}",
            understood.join(", ")
        )
    };
    let _ = ValueKind::Text;
    Declined { message, hint }
}

/// A question ASK can answer, in the schema's own words, about what the question named.
fn example(r: &Reader, l: &Linking, used: &[usize]) -> String {
    let c = r.c;
    let named = used.iter().find_map(|i| match l.candidates[*i].element {
        Element::Table(t) => Some(t),
        Element::Column(col) | Element::Value { column: col, .. } => Some(col.table),
        Element::Metric(_) => None,
    });
    if let Some(m) = c.metrics.first().filter(|_| named.is_none()) {
        return format!("\"{} by month\"", m.name.replace('_', " "));
    }
    let Some(t) = named.or((!c.tables.is_empty()).then_some(0)) else {
        return "\"how many rows\"".into();
    };
    let words = table_words(c, t);
    // The text column with the fewest distinct values makes a good breakdown.
    let table = c.table(t);
    let by = table
        .columns
        .iter()
        .enumerate()
        .filter(|(k, col)| {
            col.kind == ValueKind::Text
                && !col.notes.pii
                && !table.primary_key.contains(&(*k as u32))
                && !c
                    .relations
                    .iter()
                    .any(|r| r.from == t && r.from_columns == [*k as u32])
        })
        .filter_map(|(_, col)| {
            let n = col.profile.as_ref()?.values.as_ref()?.len();
            (n > 1).then_some((n, col))
        })
        .min_by_key(|(n, _)| *n)
        .map(|(_, col)| col);
    match by {
        Some(col) => {
            let names: Vec<&str> = table.columns.iter().map(|x| x.name.as_str()).collect();
            format!(
                "\"how many {words} per {}\"",
                without_shared_prefix(&names, &col.name)
            )
        }
        None => format!("\"how many {words}\""),
    }
}

/// A table's name as words, without a prefix every table of its schema shares
/// (`sbCustomer` → "customer" when all tables start with `sb`).
pub(super) fn table_words(c: &Catalog, t: TableId) -> String {
    let table = c.table(t);
    let names: Vec<&str> = c
        .tables
        .iter()
        .filter(|x| x.schema == table.schema)
        .map(|x| x.name.as_str())
        .collect();
    without_shared_prefix(&names, &table.name)
}

/// `name` as words, without a prefix all of `names` share (at least 2 characters).
fn without_shared_prefix(names: &[&str], name: &str) -> String {
    let prefix = crate::catalog::text::shared_prefix(names);
    crate::catalog::text::split_identifier(crate::catalog::text::strip_prefix(name, prefix))
        .join(" ")
}

/// Words of a description that say what a table or column holds ("The overall clarity score
/// of the course as rated by students" → clarity, score, rated, ...), without the words
/// descriptions use for keys and storage.
fn comment_words(comment: Option<&str>) -> Vec<String> {
    const GENERIC: &[&str] = &[
        "unique",
        "identifier",
        "foreign",
        "key",
        "primary",
        "referencing",
        "references",
        "table",
        "column",
        "id",
        "ids",
        "each",
        "record",
        "row",
        "value",
        "field",
        "indicates",
        "whether",
        "name",
        "names",
    ];
    let Some(text) = comment else {
        return Vec::new();
    };
    crate::catalog::text::phrase_words(text)
        .into_iter()
        .filter(|w| !GENERIC.contains(&w.as_str()))
        .take(12)
        .collect()
}

/// Stems of the words that name an element (names, synonyms, value words).
pub(super) fn element_stems(c: &Catalog, e: &Element) -> Vec<String> {
    use crate::catalog::text::{phrase_words, split_identifier, stem};
    let mut phrases: Vec<String> = Vec::new();
    match e {
        Element::Table(t) => {
            let t = c.table(*t);
            phrases.extend(split_identifier(&t.name));
            phrases.extend(t.notes.synonyms.iter().cloned());
            phrases.extend(comment_words(t.comment.as_deref()));
        }
        Element::Column(col) | Element::Value { column: col, .. } => {
            let column = c.column(*col);
            phrases.extend(split_identifier(&column.name));
            phrases.extend(column.notes.synonyms.iter().cloned());
            if matches!(e, Element::Column(_)) {
                phrases.extend(comment_words(column.comment.as_deref()));
            }
            phrases.extend(split_identifier(&c.table(col.table).name));
            if let Element::Value { value, .. } = e {
                phrases.push(value.clone());
                phrases.extend(
                    column
                        .notes
                        .value_synonyms
                        .iter()
                        .filter(|(_, v)| v == value)
                        .map(|(w, _)| w.clone()),
                );
            }
        }
        Element::Metric(m) => {
            let m = &c.metrics[*m as usize];
            phrases.extend(split_identifier(&m.name));
            phrases.extend(m.synonyms.iter().cloned());
        }
    }
    phrases
        .iter()
        .flat_map(|p| phrase_words(p))
        .map(|w| stem(&w))
        .collect()
}

/// Whether a column holds calendar years as numbers (`year`, `fiscal_year`, `yr`).
pub fn year_like(c: &Catalog, col: ColRef) -> bool {
    let column = c.column(col);
    let name = column.name.to_lowercase();
    column.kind.is_numeric()
        && (name == "year"
            || name == "yr"
            || name.ends_with("_year")
            || name.starts_with("year_")
            || name.ends_with("_yr"))
}

/// The measured table's year column, for tables dated by a year rather than a date.
pub(super) fn year_column(c: &Catalog, t: TableId) -> Option<ColRef> {
    let table = c.table(t);
    let mut years = (0..table.columns.len() as u32)
        .map(|column| ColRef { table: t, column })
        .filter(|col| year_like(c, *col));
    let first = years.next()?;
    years.next().is_none().then_some(first)
}

/// The columns that show an entity's rows: its display column, else its columns in order
/// (at most 12, personal data left out).
pub(super) fn shown_columns(c: &Catalog, t: TableId) -> Vec<ColRef> {
    if let Some(col) = display(c, t) {
        return vec![col];
    }
    c.table(t)
        .columns
        .iter()
        .enumerate()
        .filter(|(_, col)| !col.notes.pii)
        .take(12)
        .map(|(k, _)| ColRef {
            table: t,
            column: k as u32,
        })
        .collect()
}

/// Name parts of columns that hold money.
pub(super) const MONEY_PARTS: &[&str] = &[
    "amount", "price", "cost", "fee", "revenue", "total", "usd", "paid", "value", "sales", "spend",
    "salary", "income", "balance", "charge", "fare",
];

/// Whether a numeric column holds money (by its name).
pub(super) fn money(c: &Catalog, col: ColRef) -> bool {
    let column = c.column(col);
    column.kind.is_numeric()
        && crate::catalog::text::split_identifier(&column.name)
            .iter()
            .any(|p| MONEY_PARTS.contains(&p.as_str()))
}

/// Words of money after a number or for a money column ("1000 dollars", "invoice dollars").
pub(super) const MONEY_UNITS: &[&str] = &[
    "dollars", "dollar", "usd", "eur", "euros", "euro", "gbp", "pounds", "bucks",
];

/// The money columns (not keys) of `tables`.
pub(super) fn money_columns(c: &Catalog, tables: &[TableId]) -> Vec<ColRef> {
    tables
        .iter()
        .flat_map(|&t| {
            (0..c.table(t).columns.len() as u32).map(move |column| ColRef { table: t, column })
        })
        .filter(|col| money(c, *col) && !c.table(col.table).primary_key.contains(&col.column))
        .collect()
}

/// The one money column of `tables`, if there is exactly one.
pub(super) fn money_column(c: &Catalog, tables: &[TableId]) -> Option<ColRef> {
    match money_columns(c, tables).as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

/// Whether a column identifies rows: its table's key, or either end of a relationship.
pub(super) fn key_column(c: &Catalog, col: ColRef) -> bool {
    c.table(col.table).primary_key.contains(&col.column)
        || c.relations.iter().any(|r| {
            (r.from == col.table && r.from_columns.contains(&col.column))
                || (r.to == col.table && r.to_columns.contains(&col.column))
        })
}
