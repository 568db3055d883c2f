//! Schema linking: which tables, columns, values and metrics a question speaks of.
//!
//! [`LinkIndex::build`] indexes every phrase of a catalog under the stems of its words: table
//! names (split: `order_items` → "order items"), table synonyms, column names, "<table
//! singular> <column>" ("customer name"), column synonyms, metric names and synonyms, the
//! profiled values of low-cardinality text columns and the words annotations give for them
//! (never values of `pii` columns). [`LinkIndex::link`] looks up every run of question words
//! (exactly, by stem, and with typos for words nothing matched), scores the hits and returns
//! the best candidates first. See [`Candidate`] for the scoring.

mod build;
mod score;
#[cfg(test)]
mod tests;

use super::fuzzy::Vocabulary;
use super::model::{Catalog, ColRef, TableId};
pub use super::text::Token;
use super::text::{is_query_word, tokenize};
use score::GroupHit;
use serde::Serialize;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

/// Candidates returned at most.
pub const MAX_CANDIDATES: usize = 64;
/// Candidates one matched phrase contributes at most ("name" may name thousands of columns).
pub const PER_PHRASE: usize = 16;
/// Longest phrase indexed, in words.
pub const MAX_PHRASE_WORDS: usize = 6;
/// Typo corrections tried per question word.
const TYPO_ALTERNATIVES: usize = 3;
/// Most edits over all the words of one phrase.
const MAX_TYPO_TOTAL: u8 = 3;
/// Phrase lookups with typos from one start word.
const TYPO_BUDGET: usize = 256;

/// A catalog element a question may speak of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Element {
    /// A table.
    Table(TableId),
    /// A column.
    Column(ColRef),
    /// A value of a column.
    Value {
        /// The column.
        column: ColRef,
        /// The value as stored.
        value: String,
    },
    /// A metric (index into [`Catalog::metrics`]).
    Metric(u32),
}

/// How the question's words matched the catalog phrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// The same words (case-insensitive).
    Exact,
    /// The same stems ("shops" for "shop").
    Stemmed,
    /// A synonym from annotations, exactly or by stem.
    Synonym,
    /// Misspelt: `distance` edits over all the phrase's words.
    Typo {
        /// Total edit distance.
        distance: u8,
    },
}

/// One thing the question may speak of.
///
/// `score` (0..=1) is the product of: the phrase's source (a name or value 1.0, a derived name
/// such as "customer name" for `customers.name` 0.95, a synonym 0.9); the match (exact 1.0,
/// stemmed 0.92, misspelt `1 − (1 − t)·m/w` with `m` of its `w` words misspelt and `t` 0.78
/// for one edit in all, 0.62 for two, 0.5 for three); ambiguity (`1 − 0.04·ln n` for a phrase
/// naming `n` elements, at least 0.6; for a column or value of a table the question names,
/// `n` counts only those of named tables); context (a column or value whose table the
/// question does not name, directly or through a metric, 0.85); and 0.75 when a longer phrase
/// covers the same words and matches them at least as well (none of them misspelt, or no more
/// edits in all) — for a column or value of a named table, only a longer phrase with an
/// element that is a table, a metric or of a named table counts. Typo corrections are only
/// tried for words no phrase matched exactly or by stem.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    /// What was matched.
    pub element: Element,
    /// 0..=1, higher is better.
    pub score: f32,
    /// Token range `[start, end)` into [`Linking::tokens`].
    pub span: (usize, usize),
    /// The question's words as typed.
    pub words: String,
    /// The catalog phrase it matched (normalised words).
    pub phrase: String,
    /// How it matched.
    pub how: MatchKind,
}

/// How a question links to a catalog.
#[derive(Debug, Clone, Serialize)]
pub struct Linking {
    /// The question's tokens.
    pub tokens: Vec<Token>,
    /// Candidates, best first, at most [`MAX_CANDIDATES`], one per element.
    pub candidates: Vec<Candidate>,
    /// Indices of tokens that are not stopwords, numbers or words a planner interprets itself
    /// (see [`super::text::is_query_word`]) and that no phrase matched.
    pub unlinked: Vec<usize>,
}

/// Sizes of a [`LinkIndex`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct IndexStats {
    /// Distinct phrases indexed.
    pub phrases: usize,
    /// Distinct terms (word stems) in them.
    pub terms: usize,
    /// Column values indexed.
    pub values: usize,
    /// Entries in the typo index.
    pub delete_entries: usize,
    /// (phrase, element) pairs.
    pub entries: usize,
}

/// A compact element (the index stores these, candidates get [`Element`]s). Variant order
/// matters: entries of a phrase are sorted so that tables and metrics come first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Elem {
    Table(u32),
    Metric(u32),
    Column(ColRef),
    /// (column, index into its profile's values)
    Value(ColRef, u32),
    /// (column, index into `LinkIndex::extra_values`): a value an annotation names that the
    /// profile does not hold.
    ExtraValue(ColRef, u32),
}

impl Elem {
    fn column_table(self) -> Option<u32> {
        match self {
            Elem::Column(c) | Elem::Value(c, _) | Elem::ExtraValue(c, _) => Some(c.table),
            Elem::Table(_) | Elem::Metric(_) => None,
        }
    }
}

/// Where a phrase comes from; the order is the preference when one element has several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    /// A name or a value.
    Name,
    /// Derived from names ("customer name", a name without its `dim_` prefix).
    Derived,
    /// An annotation's synonym or word for a value.
    Synonym,
    /// The telling part of a column's name ("city" for `city_name`, "citation" for
    /// `citation_num`, "active" for `is_active`).
    Part,
}

impl Source {
    fn weight(self) -> f32 {
        match self {
            Source::Name => 1.0,
            Source::Derived => 0.95,
            Source::Synonym => 0.9,
            Source::Part => 0.85,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    elem: Elem,
    phrase: u32,
    source: Source,
}

/// A fast hasher for the term-id keys (not DoS-resistant; keys come from the catalog).
#[derive(Debug, Clone, Copy, Default)]
struct FxBuild;

struct Fx(u64);

impl Fx {
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(b));
        }
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

impl BuildHasher for FxBuild {
    type Hasher = Fx;
    fn build_hasher(&self) -> Fx {
        Fx(0)
    }
}

/// The schema-linking index of one catalog. It refers to the catalog by position, so
/// [`LinkIndex::link`] must be given the catalog it was built from.
pub struct LinkIndex {
    vocab: Vocabulary,
    /// Stem-id sequence → range of `entries`; proper prefixes of phrases are keys too, with
    /// an empty range, so a lookup tells whether a longer phrase may follow.
    groups: HashMap<Box<[u32]>, (u32, u32), FxBuild>,
    entries: Vec<Entry>,
    phrases: Vec<Box<str>>,
    extra_values: Vec<Box<str>>,
    max_words: usize,
    values: usize,
}

impl std::fmt::Debug for LinkIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkIndex")
            .field("stats", &self.stats())
            .finish()
    }
}

/// The question's words as term ids, per token.
struct Words {
    ids: Vec<Option<u32>>,
    /// Per token, its range in `ids` (a quoted string has several words).
    off: Vec<(usize, usize)>,
    /// Per token, whether punctuation separates it from the previous one.
    brk: Vec<bool>,
    /// Per token, typo corrections (term, edits).
    alts: Vec<Vec<(u32, u8)>>,
}

impl Words {
    fn own(&self, j: usize) -> Option<&[Option<u32>]> {
        let (a, b) = self.off[j];
        let w = &self.ids[a..b];
        w.iter().all(Option::is_some).then_some(w)
    }
}

impl LinkIndex {
    /// Indexes `catalog`.
    pub fn build(catalog: &Catalog) -> LinkIndex {
        build::build(catalog)
    }

    /// Sizes of the index.
    pub fn stats(&self) -> IndexStats {
        IndexStats {
            phrases: self.phrases.len(),
            terms: self.vocab.len(),
            values: self.values,
            delete_entries: self.vocab.delete_entries(),
            entries: self.entries.len(),
        }
    }

    fn lookup(&self, key: &[u32]) -> Option<(u32, u32)> {
        self.groups.get(key).copied()
    }

    /// Links `question` to `catalog` (the catalog this index was built from).
    pub fn link(&self, catalog: &Catalog, question: &str) -> Linking {
        let tokens = tokenize(question);
        let n = tokens.len();
        let mut w = Words {
            ids: Vec::with_capacity(n),
            off: Vec::with_capacity(n),
            brk: Vec::with_capacity(n),
            alts: vec![Vec::new(); n],
        };
        let mut prev_end = 0;
        for t in &tokens {
            let a = w.ids.len();
            w.ids.extend(t.stem.split(' ').map(|s| self.vocab.id(s)));
            w.off.push((a, w.ids.len()));
            let gap = question.get(prev_end..t.start).unwrap_or("");
            w.brk
                .push(gap.contains([',', ';', ':', '.', '!', '?', '(', ')', '[', ']']));
            prev_end = t.end;
        }

        // Exact and stemmed phrases.
        let mut ghits: Vec<GroupHit> = Vec::new();
        let mut key: Vec<u32> = Vec::new();
        for i in 0..n {
            key.clear();
            for j in i..n {
                if j > i && w.brk[j] {
                    break;
                }
                let Some(own) = w.own(j) else { break };
                key.extend(own.iter().flatten());
                let Some((lo, hi)) = self.lookup(&key) else {
                    break;
                };
                if hi > lo {
                    ghits.push(GroupHit {
                        start: i as u32,
                        end: j as u32 + 1,
                        lo,
                        hi,
                        dist: 0,
                        typos: 0,
                        supported: false,
                        sub: 0,
                    });
                }
            }
        }
        let mut covered = vec![false; n];
        let cover = |covered: &mut Vec<bool>, hits: &[GroupHit]| {
            for g in hits {
                for c in &mut covered[g.start as usize..g.end as usize] {
                    *c = true;
                }
            }
        };
        cover(&mut covered, &ghits);

        // Typos, for words nothing matched.
        let mut any_alt = false;
        for (k, t) in tokens.iter().enumerate() {
            let (a, b) = w.off[k];
            let planner = is_query_word(&t.norm) || is_query_word(&t.stem);
            if covered[k] || t.stop || t.number || planner || b - a != 1 {
                continue;
            }
            let mut alts = self.vocab.corrections(&t.stem, TYPO_ALTERNATIVES);
            if t.norm != t.stem {
                for (id, d) in self.vocab.corrections(&t.norm, TYPO_ALTERNATIVES) {
                    match alts.iter_mut().find(|x| x.0 == id) {
                        Some(x) => x.1 = x.1.min(d),
                        None => alts.push((id, d)),
                    }
                }
                alts.sort_by_key(|&(id, d)| (d, std::cmp::Reverse(self.vocab.weight(id)), id));
                alts.truncate(TYPO_ALTERNATIVES);
            }
            any_alt |= !alts.is_empty();
            w.alts[k] = alts;
        }
        if any_alt {
            let first = ghits.len();
            for i in 0..n {
                let reach = (i + self.max_words).min(n);
                if w.alts[i..reach].iter().all(Vec::is_empty) {
                    continue;
                }
                let mut budget = TYPO_BUDGET;
                key.clear();
                self.walk(&w, i, i, (0, 0), &mut key, &mut budget, &mut ghits);
            }
            cover(&mut covered, &ghits[first..]);
        }

        // Tables the question names, directly or through a metric.
        let mut context: Vec<u32> = Vec::new();
        for g in &ghits {
            for e in &self.entries[g.lo as usize..g.hi as usize] {
                match e.elem {
                    Elem::Table(t) => context.push(t),
                    Elem::Metric(m) => {
                        if let Some(m) = catalog.metrics.get(m as usize) {
                            context.extend(&m.tables);
                        }
                    }
                    _ => break,
                }
            }
        }
        context.sort_unstable();
        context.dedup();
        let in_context = |e: Elem| {
            e.column_table()
                .is_some_and(|t| context.binary_search(&t).is_ok())
        };
        for g in &mut ghits {
            g.supported = self.entries[g.lo as usize..g.hi as usize]
                .iter()
                .any(|e| e.elem.column_table().is_none() || in_context(e.elem));
        }

        // Longer phrases beat the phrases inside them.
        ghits.sort_by_key(|g| (g.start, g.end, g.dist));
        let mw = self.max_words as u32;
        for k in 0..ghits.len() {
            let h = ghits[k];
            let from = ghits.partition_point(|g| g.start + mw < h.end);
            ghits[k].sub = ghits[from..]
                .iter()
                .take_while(|g| g.start <= h.start)
                .filter(|g| g.covers(&h))
                .map(|g| if g.supported { 2 } else { 1 })
                .max()
                .unwrap_or(0);
        }

        let hits = self.score(&tokens, &ghits, &context);
        let candidates = self.candidates(catalog, question, &tokens, hits);
        let unlinked = tokens
            .iter()
            .enumerate()
            .filter(|(k, t)| {
                !covered[*k]
                    && !t.stop
                    && !t.number
                    && !is_query_word(&t.norm)
                    && !is_query_word(&t.stem)
            })
            .map(|(k, _)| k)
            .collect();
        Linking {
            tokens,
            candidates,
            unlinked,
        }
    }

    /// Looks up every phrase starting at token `start` that uses a typo correction for at
    /// least one word; `j` is the next token, `(dist, typos)` the edits so far and the tokens
    /// they are in.
    #[allow(clippy::too_many_arguments)]
    fn walk(
        &self,
        w: &Words,
        start: usize,
        j: usize,
        (dist, typos): (u8, u8),
        key: &mut Vec<u32>,
        budget: &mut usize,
        out: &mut Vec<GroupHit>,
    ) {
        if j >= w.off.len() || (j > start && w.brk[j]) {
            return;
        }
        let own = w.own(j);
        let skip = usize::from(own.is_some());
        for k in 0..skip + w.alts[j].len() {
            if *budget == 0 {
                return;
            }
            let (id, d) = match k.checked_sub(skip) {
                Some(a) => (Some(w.alts[j][a].0), w.alts[j][a].1),
                None => (None, 0),
            };
            let total = dist + d;
            if total > MAX_TYPO_TOTAL || j - start >= 8 {
                continue;
            }
            let typos = if d > 0 {
                typos | 1 << (j - start)
            } else {
                typos
            };
            let len = key.len();
            match (id, own) {
                (Some(id), _) => key.push(id),
                (None, Some(ids)) => key.extend(ids.iter().flatten()),
                (None, None) => continue,
            }
            *budget -= 1;
            if let Some((lo, hi)) = self.lookup(key) {
                if hi > lo && total > 0 {
                    out.push(GroupHit {
                        start: start as u32,
                        end: j as u32 + 1,
                        lo,
                        hi,
                        dist: total,
                        typos,
                        supported: false,
                        sub: 0,
                    });
                }
                self.walk(w, start, j + 1, (total, typos), key, budget, out);
            }
            key.truncate(len);
        }
    }
}
