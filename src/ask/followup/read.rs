//! Reading a follow-up: its words → the [`Change`]s it asks for. Grammar words are read first
//! (top/bottom N, sort direction, "as a share", dropped filters, the date range, grains), then
//! the linked catalog elements by the word before them ("by" a breakdown, "all" a dropped
//! filter, "excluding" a negated value, nothing: a value kept, an entity or measure swapped).
//! Every word must be accounted for, as in the planner; otherwise it is no follow-up.

use crate::ask::plan::{ClockPeriod, Grain, Op};
use crate::ask::time::{self, Date};
use crate::catalog::link::{Candidate, Element, Linking, MatchKind};
use crate::catalog::store::Semantic;
use crate::catalog::text::Token;
use crate::catalog::{ColRef, TableId};

/// One refinement a follow-up asks for.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Change {
    /// "by month", "monthly": a time bucket of the measure's date.
    Grain(Grain),
    /// "by category", "break it down by store": a grouping column (already the shown one).
    Breakdown(ColRef),
    /// "same for customers", "what about stores": the same answer for another entity.
    Entity(TableId),
    /// "only the West region", "excluding Online": a stored value of a column.
    Keep {
        /// Column.
        column: ColRef,
        /// The value as stored (from the catalog's value index).
        value: String,
        /// `Eq` or `Ne`.
        op: Op,
    },
    /// "for 2023", "in Q4 2024 instead", "last 3 months".
    Period {
        /// First day.
        start: Date,
        /// First day after.
        end: Date,
        /// The words.
        words: String,
    },
    /// "this month", "today": a period of the wall clock.
    Clock(ClockPeriod, String),
    /// "without the filter", "for all regions", "for all time".
    Unfilter(Scope),
    /// "top 10", "bottom 3" (`None`: no number given).
    Limit {
        /// Rows.
        n: Option<u64>,
        /// Largest first.
        descending: bool,
    },
    /// "sorted ascending", "highest first".
    Sort {
        /// Largest first.
        descending: bool,
    },
    /// "reversed".
    Reverse,
    /// "as a share", "as a percentage".
    Share,
    /// "what about profit": another metric, same shape.
    Metric(u32),
}

/// Which filters a dropped-filter change removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    /// Every row condition (not the date range).
    Filters,
    /// Conditions on columns of this table.
    Table(TableId),
    /// Conditions on this column.
    Column(ColRef),
    /// The date range.
    Time,
}

/// What a follow-up says.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Reading {
    /// The changes, in the order of the words.
    pub changes: Vec<Change>,
    /// "also", "too", "as well", "break it down": add to the breakdown and values instead of
    /// replacing them.
    pub additive: bool,
    /// Starts with or contains words that point back ("same", "what about", "instead").
    pub refers_back: bool,
    /// Lowest score of the candidates used (1 when none).
    pub confidence: f32,
}

/// Words that carry no meaning of their own in a follow-up: the cues that point back and the
/// filler around them. Stopwords are accounted for too.
#[rustfmt::skip]
const FILLER: &[&str] = &[
    "now", "and", "also", "but", "then", "ok", "okay", "so", "same", "what", "how", "about",
    "instead", "just", "only", "too", "as", "well", "again", "please", "show", "me", "it",
    "that", "this", "them", "those", "the", "a", "an", "for", "in", "of", "with", "break",
    "broken", "down", "split", "drill", "group", "grouped", "give", "let", "see", "look",
    "thing", "things", "one", "ones", "rather", "numbers", "figures", "results", "if", "do",
    "can", "you", "total", "answer", "question", "query", "data", "plus", "additionally",
    "further", "by", "per", "each", "every", "across", "all", "any",
];

/// Words that point back at the previous answer wherever they stand.
const BACK: &[&str] = &["same", "instead", "now", "also", "too", "again", "rather"];

/// Words that make a breakdown or value add to the previous ones.
const ADDITIVE: &[&str] = &["also", "too", "additionally", "plus", "further", "drill"];

/// Changes with the token where their words start.
type Changes = Vec<(usize, Change)>;

/// The token reader.
struct Reader<'a> {
    toks: &'a [Token],
    used: Vec<bool>,
}

impl Reader<'_> {
    fn w(&self, i: usize) -> &str {
        self.toks.get(i).map(|t| t.norm.as_str()).unwrap_or("")
    }
    fn eat(&mut self, i: usize) {
        if let Some(u) = self.used.get_mut(i) {
            *u = true;
        }
    }
    fn free(&self, i: usize) -> bool {
        i < self.toks.len() && !self.used[i]
    }
    /// The word `k` places before `i`, or "".
    fn back(&self, i: usize, k: usize) -> &str {
        i.checked_sub(k).map(|j| self.w(j)).unwrap_or("")
    }
}

/// Reads `linking` (of the follow-up's text) into changes; `None` when a word is left that no
/// refinement explains. `time_col` is the date the previous plan filters on (for "last 3
/// months", counted back from its last date).
pub(super) fn read(s: &Semantic, linking: &Linking, time_col: Option<ColRef>) -> Option<Reading> {
    let toks = &linking.tokens;
    let mut r = Reader {
        toks,
        used: vec![false; toks.len()],
    };
    let mut changes = Vec::new();
    limits(&mut r, &mut changes);
    sorting(&mut r, &mut changes);
    share(&mut r, &mut changes);
    dropped(&mut r, linking, &mut changes);
    period(s, &mut r, time_col, &mut changes);
    grains(&mut r, &mut changes);
    let confidence = elements(s, &mut r, linking, &mut changes)?;
    let additive = toks.iter().enumerate().any(|(i, t)| {
        ADDITIVE.contains(&t.norm.as_str())
            || (t.norm == "well" && r.back(i, 1) == "as")
            || (t.norm == "down" && matches!(r.back(i, 1), "it" | "break" | "split"))
            || (t.norm == "down" && matches!(r.back(i, 2), "break" | "split"))
    });
    let refers_back = toks.iter().any(|t| BACK.contains(&t.norm.as_str()))
        || matches!(
            (r.w(0), r.w(1)),
            ("what" | "how", "about") | ("and", _) | ("but", _) | ("only" | "just", _)
        );
    let left = (0..toks.len()).any(|i| {
        !r.used[i] && (toks[i].number || !(toks[i].stop || FILLER.contains(&toks[i].norm.as_str())))
    });
    if left || changes.is_empty() {
        return None;
    }
    changes.sort_by_key(|(at, _)| *at);
    Some(Reading {
        changes: changes.into_iter().map(|(_, c)| c).collect(),
        additive,
        refers_back,
        confidence,
    })
}

/// "top 10", "bottom 3", "the best 5".
fn limits(r: &mut Reader, out: &mut Changes) {
    for i in 0..r.toks.len() {
        let descending = match r.w(i) {
            "top" | "best" => true,
            "bottom" | "worst" => false,
            _ => continue,
        };
        r.eat(i);
        let n = r
            .toks
            .get(i + 1)
            .filter(|t| t.number)
            .and_then(|t| t.norm.parse::<u64>().ok())
            .filter(|n| *n >= 1);
        if n.is_some() {
            r.eat(i + 1);
        }
        out.push((i, Change::Limit { n, descending }));
    }
}

/// "sorted ascending", "in descending order", "highest first", "reversed".
fn sorting(r: &mut Reader, out: &mut Changes) {
    for i in 0..r.toks.len() {
        let change = match r.w(i) {
            "ascending" | "asc" | "increasing" => Change::Sort { descending: false },
            "descending" | "desc" | "decreasing" => Change::Sort { descending: true },
            "reverse" | "reversed" => Change::Reverse,
            "first" | "last" => {
                let high = matches!(
                    r.back(i, 1),
                    "highest" | "largest" | "biggest" | "most" | "top"
                );
                let low = matches!(r.back(i, 1), "lowest" | "smallest" | "least" | "fewest");
                if !(high || low) {
                    continue;
                }
                r.eat(i - 1);
                Change::Sort {
                    descending: high == (r.w(i) == "first"),
                }
            }
            _ => continue,
        };
        r.eat(i);
        // "sorted ascending", "in ascending order", "sort it descending".
        for k in [i.wrapping_sub(1), i.wrapping_sub(2), i + 1] {
            if matches!(r.w(k), "sorted" | "sort" | "ordered" | "order") {
                r.eat(k);
            }
        }
        out.push((i, change));
    }
}

/// "as a share", "as a percentage of the total".
fn share(r: &mut Reader, out: &mut Changes) {
    for i in 0..r.toks.len() {
        if matches!(
            r.w(i),
            "share" | "percentage" | "percent" | "proportion" | "fraction"
        ) {
            r.eat(i);
            out.push((i, Change::Share));
            return;
        }
    }
}

/// Words that drop a condition ("without the filter", "remove the region filter").
const DROP: &[&str] = &[
    "without", "no", "remove", "drop", "clear", "ignore", "ignoring", "lose", "minus",
];

/// "without the filter", "drop the region filter", "unfiltered", "for all time".
fn dropped(r: &mut Reader, l: &Linking, out: &mut Changes) {
    for i in 0..r.toks.len() {
        match r.w(i) {
            "unfiltered" => {
                r.eat(i);
                out.push((i, Change::Unfilter(Scope::Filters)));
            }
            "filter" | "filters" | "condition" | "conditions" | "restriction" | "restrictions" => {
                let Some(d) = (1..=6)
                    .map(|k| i.wrapping_sub(k))
                    .find(|k| DROP.contains(&r.w(*k)))
                else {
                    continue;
                };
                // "the region filter", "the West and channel filters": what the dropped
                // filters are on, the best element of each span in between; words between
                // that name nothing are left for the final check.
                let named: Vec<&Candidate> = pick(r, l)
                    .into_iter()
                    .map(|k| &l.candidates[k])
                    .filter(|c| c.span.0 > d && c.span.1 <= i)
                    .collect();
                let scopes: Option<Vec<Scope>> = named
                    .iter()
                    .map(|c| match &c.element {
                        Element::Table(t) => Some(Scope::Table(*t)),
                        Element::Column(col) | Element::Value { column: col, .. } => {
                            Some(Scope::Column(*col))
                        }
                        Element::Metric(_) => None,
                    })
                    .collect();
                let Some(mut scopes) = scopes else { continue };
                scopes.dedup();
                if scopes.is_empty() {
                    scopes.push(Scope::Filters);
                }
                r.eat(d);
                r.eat(i);
                for c in &named {
                    (c.span.0..c.span.1).for_each(|k| r.eat(k));
                }
                out.extend(scopes.into_iter().map(|sc| (d, Change::Unfilter(sc))));
            }
            // "for all time", "over any time", "all dates", "all years", "ever".
            "time" | "dates" | "years" | "periods" if matches!(r.back(i, 1), "all" | "any") => {
                r.eat(i);
                r.eat(i - 1);
                out.push((i, Change::Unfilter(Scope::Time)));
            }
            "ever" | "alltime" => {
                r.eat(i);
                out.push((i, Change::Unfilter(Scope::Time)));
            }
            _ => {}
        }
    }
}

/// "for 2023", "in Q4 2024", "last 3 months", "this month": the date range.
fn period(s: &Semantic, r: &mut Reader, time_col: Option<ColRef>, out: &mut Changes) {
    let words = |r: &Reader, at: &[usize]| {
        at.iter()
            .map(|k| r.toks[*k].text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    if let Some((clock, at)) = crate::ask::planner::clock_period(r.toks, &r.used) {
        let w = words(r, &at);
        for k in &at {
            r.eat(*k);
        }
        out.push((at.first().copied().unwrap_or(0), Change::Clock(clock, w)));
        return;
    }
    // Numbers already read ("top 10") are not years.
    let free: Vec<Token> = r
        .toks
        .iter()
        .enumerate()
        .map(|(i, t)| {
            if r.used[i] {
                Token {
                    norm: String::new(),
                    number: false,
                    ..t.clone()
                }
            } else {
                t.clone()
            }
        })
        .collect();
    let anchor = crate::ask::planner::anchor(&s.catalog, time_col);
    let Some(rg) = time::range(&free, anchor) else {
        return;
    };
    let w = words(r, &rg.tokens);
    for k in &rg.tokens {
        r.eat(*k);
    }
    out.push((
        rg.tokens.first().copied().unwrap_or(0),
        Change::Period {
            start: rg.start,
            end: rg.end,
            words: w,
        },
    ));
}

/// "by month", "monthly", "per quarter", "each year".
fn grains(r: &mut Reader, out: &mut Changes) {
    for i in 0..r.toks.len() {
        if !r.free(i) {
            continue;
        }
        let Some(g) = time::grain_word(r.w(i)) else {
            continue;
        };
        let adjective = r.w(i).ends_with("ly") || r.w(i) == "annual";
        let cued = matches!(r.back(i, 1), "by" | "per" | "each" | "every" | "a")
            || (r.back(i, 1) == "and" && grouped_before(r, i));
        if adjective || cued {
            r.eat(i);
            if cued {
                r.eat(i - 1);
            }
            out.push((i, Change::Grain(g)));
        }
    }
}

/// Whether a candidate is worth reading: on free tokens, and not a grammar word that only
/// resembles a catalog word.
fn usable(r: &Reader, c: &Candidate) -> bool {
    let (s, e) = c.span;
    let free = (s..e).all(|k| r.free(k));
    let grammar = (s..e).all(|k| r.toks[k].stop || FILLER.contains(&r.w(k)));
    let typo_of_grammar = matches!(c.how, MatchKind::Typo { .. })
        && (s..e).any(|k| crate::catalog::text::is_query_word(r.w(k)));
    free && !grammar && !typo_of_grammar && c.score >= 0.5
}

/// One candidate per span: the best, longer spans first, a column or table after "by".
fn pick(r: &Reader, l: &Linking) -> Vec<usize> {
    let weight = |c: &Candidate| {
        let dim = matches!(grouping_cue(r, c.span.0), Some(Cue::By));
        let role = match (&c.element, dim) {
            (Element::Column(_) | Element::Table(_), true) => 0.3,
            (Element::Value { .. }, false) => 0.05,
            _ => 0.0,
        };
        c.score + role + 0.2 * (c.span.1 - c.span.0) as f32
    };
    let mut order: Vec<usize> = (0..l.candidates.len())
        .filter(|i| usable(r, &l.candidates[*i]))
        .collect();
    let weights: Vec<f32> = l.candidates.iter().map(weight).collect();
    order.sort_by(|a, b| weights[*b].total_cmp(&weights[*a]));
    let mut taken = vec![false; r.toks.len()];
    let mut out = Vec::new();
    for i in order {
        let (s, e) = l.candidates[i].span;
        if (s..e).any(|k| taken[k]) {
            continue;
        }
        taken[s..e].iter_mut().for_each(|t| *t = true);
        out.push(i);
    }
    out.sort_by_key(|i| l.candidates[*i].span.0);
    out
}

/// What the words before an element make of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cue {
    /// "by", "per", "across", "each": a breakdown.
    By,
    /// "all", "any": every value of it (a dropped filter).
    All,
    /// "excluding", "not", "other than": a negated value.
    Not,
}

/// The cue before the span starting at `start`, and how many words it takes.
fn cue_at(r: &Reader, start: usize) -> Option<(Cue, usize)> {
    let mut k = start;
    while k > 0
        && matches!(
            r.w(k - 1),
            "the" | "a" | "an" | "their" | "its" | "different"
        )
    {
        k -= 1;
    }
    let skipped = start - k;
    let back = |n: usize| r.back(k, n);
    let (cue, n) = match (back(2), back(1)) {
        ("other", "than") => (Cue::Not, 2),
        (_, "by" | "per" | "across" | "each" | "every") => (Cue::By, 1),
        // "top 10 customers": the groups ranked.
        (_, "top" | "bottom" | "best" | "worst") => (Cue::By, 1),
        ("top" | "bottom" | "best" | "worst", _)
            if r.toks.get(k.wrapping_sub(1)).is_some_and(|t| t.number) =>
        {
            (Cue::By, 2)
        }
        // "by category and month": the second of a breakdown.
        (_, "and") if grouped_before(r, k) => (Cue::By, 1),
        (_, "all" | "any") => (Cue::All, 1),
        (_, "excluding" | "except" | "not" | "non" | "without" | "minus") => (Cue::Not, 1),
        _ => return None,
    };
    Some((cue, n + skipped))
}

/// Whether a breakdown word ("by", "per") comes before token `i`.
fn grouped_before(r: &Reader, i: usize) -> bool {
    (0..i).any(|k| matches!(r.w(k), "by" | "per"))
}

fn grouping_cue(r: &Reader, start: usize) -> Option<Cue> {
    cue_at(r, start).map(|(c, _)| c)
}

/// Whether candidate `c` only names the table or column of an adjacent value ("the West
/// region", "Online orders", "category Electronics"): it says nothing more.
pub(super) fn names_value(s: &Semantic, c: &Candidate, values: &[&Candidate]) -> bool {
    values.iter().any(|v| {
        let Element::Value { column, .. } = &v.element else {
            return false;
        };
        let next_to = c.span.0 == v.span.1 || c.span.1 == v.span.0;
        next_to
            && match &c.element {
                Element::Table(t) => *t == column.table,
                Element::Column(x) => x == column,
                // "Online orders" linked to the metric `order_count` (synonym "orders").
                Element::Metric(m) => {
                    c.span.0 == v.span.1
                        && s.catalog.metrics[*m as usize]
                            .tables
                            .contains(&column.table)
                }
                Element::Value { .. } => false,
            }
    })
}

/// The linked elements, read by their cue. `None` when one cannot be a refinement ("by" a
/// value, "all" of a metric). Returns the lowest score used.
fn elements(s: &Semantic, r: &mut Reader, l: &Linking, out: &mut Changes) -> Option<f32> {
    let c = &s.catalog;
    let picked: Vec<&Candidate> = pick(r, l).into_iter().map(|i| &l.candidates[i]).collect();
    let values: Vec<&Candidate> = picked
        .iter()
        .copied()
        .filter(|x| matches!(x.element, Element::Value { .. }))
        .collect();
    let mut confidence = 1.0_f32;
    for cand in &picked {
        let (start, end) = cand.span;
        (start..end).for_each(|k| r.eat(k));
        if names_value(s, cand, &values) {
            continue;
        }
        confidence = confidence.min(cand.score);
        let cue = cue_at(r, start);
        if let Some((_, n)) = cue {
            (start - n..start).for_each(|k| r.eat(k));
        }
        let change = match (&cand.element, cue.map(|(cue, _)| cue)) {
            (Element::Table(t), Some(Cue::By)) => Change::Breakdown(super::shown(c, *t)?),
            (Element::Column(col), Some(Cue::By) | None) => Change::Breakdown(
                crate::ask::planner::referenced_display(c, *col, &cand.words),
            ),
            (Element::Table(t), Some(Cue::All)) => Change::Unfilter(Scope::Table(*t)),
            (Element::Column(col), Some(Cue::All)) => Change::Unfilter(Scope::Column(*col)),
            (Element::Value { column, value }, None | Some(Cue::Not)) => Change::Keep {
                column: *column,
                value: value.clone(),
                op: if cue.is_some() { Op::Ne } else { Op::Eq },
            },
            (Element::Table(t), None) => Change::Entity(*t),
            (Element::Metric(m), None) => Change::Metric(*m),
            _ => return None,
        };
        out.push((start, change));
    }
    Some(confidence)
}
