//! Scoring what a question matched, and turning the best into [`Candidate`]s.

use super::{
    Candidate, Elem, Element, FxBuild, LinkIndex, MatchKind, Source, Token, MAX_CANDIDATES,
    PER_PHRASE,
};
use crate::catalog::model::{Catalog, ColRef};
use std::collections::HashMap;

/// A phrase found in the question: tokens `[start, end)`, entries `[lo, hi)`, `dist` edits
/// in the tokens of `typos` (bit `k` for token `start + k`).
#[derive(Debug, Clone, Copy)]
pub(super) struct GroupHit {
    pub(super) start: u32,
    pub(super) end: u32,
    pub(super) lo: u32,
    pub(super) hi: u32,
    pub(super) dist: u8,
    pub(super) typos: u8,
    /// One of its elements is a table, a metric or in a table the question names.
    pub(super) supported: bool,
    /// Covered by a longer phrase (see [`GroupHit::covers`]): 0 no, 1 only by unsupported
    /// ones, 2 by a supported one.
    pub(super) sub: u8,
}

impl GroupHit {
    /// The match factor: a phrase with some words misspelt loses the typo penalty in
    /// proportion to the share of its words that are.
    pub(super) fn quality(&self) -> f32 {
        let share = self.typos.count_ones() as f32 / (self.end - self.start).max(1) as f32;
        1.0 - (1.0 - typo_factor(self.dist)) * share.min(1.0)
    }

    /// Whether `self` is a longer phrase that explains the words of `h` at least as well.
    pub(super) fn covers(&self, h: &GroupHit) -> bool {
        let (len, hlen) = (self.end - self.start, h.end - h.start);
        if self.start > h.start || self.end < h.end || len <= hlen {
            return false;
        }
        let inside = (u32::from(self.typos) >> (h.start - self.start)) & ((1u32 << hlen) - 1);
        inside == 0 || self.dist <= h.dist
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Hit {
    score: f32,
    entry: u32,
    start: u32,
    end: u32,
    how: MatchKind,
}

pub(super) fn typo_factor(d: u8) -> f32 {
    match d {
        0 => 1.0,
        1 => 0.78,
        2 => 0.62,
        _ => 0.5,
    }
}

/// Whether `phrase` is the tokens' normalised words joined by spaces.
fn same_words(phrase: &str, tokens: &[Token]) -> bool {
    let mut rest = phrase;
    for (k, t) in tokens.iter().enumerate() {
        if k > 0 {
            match rest.strip_prefix(' ') {
                Some(r) => rest = r,
                None => return false,
            }
        }
        match rest.strip_prefix(t.norm.as_str()) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    rest.is_empty()
}

impl LinkIndex {
    /// Scores the entries of every phrase found, at most [`PER_PHRASE`] per phrase.
    pub(super) fn score(&self, tokens: &[Token], ghits: &[GroupHit], context: &[u32]) -> Vec<Hit> {
        let mut hits = Vec::new();
        let mut scratch: Vec<Hit> = Vec::new();
        let ambiguity = |n: u32| (1.0 - 0.04 * (n.max(1) as f32).ln()).max(0.6);
        let in_context = |e: Elem| {
            e.column_table()
                .is_some_and(|t| context.binary_search(&t).is_ok())
        };
        for g in ghits {
            let entries = &self.entries[g.lo as usize..g.hi as usize];
            let all = ambiguity(g.hi - g.lo);
            let named = if context.is_empty() {
                1.0
            } else {
                ambiguity(entries.iter().filter(|e| in_context(e.elem)).count() as u32)
            };
            let words = &tokens[g.start as usize..g.end as usize];
            let mut cached: Option<(u32, bool)> = None;
            scratch.clear();
            for idx in g.lo..g.hi {
                let e = self.entries[idx as usize];
                let exact = match cached {
                    Some((p, x)) if p == e.phrase => x,
                    _ => {
                        let phrase = self.phrases.get(e.phrase as usize).map_or("", |p| p);
                        let x = g.dist == 0 && same_words(phrase, words);
                        cached = Some((e.phrase, x));
                        x
                    }
                };
                let (how, m) = if g.dist > 0 {
                    (MatchKind::Typo { distance: g.dist }, g.quality())
                } else {
                    let m = if exact { 1.0 } else { 0.92 };
                    match (e.source, exact) {
                        (Source::Synonym, _) => (MatchKind::Synonym, m),
                        (_, true) => (MatchKind::Exact, m),
                        (_, false) => (MatchKind::Stemmed, m),
                    }
                };
                // Ambiguity among the elements of named tables for those, among all for the
                // rest; a column or value of a named table gives way only to a longer phrase
                // that is itself supported by the context.
                let (ambiguity, ctx, sub) = match (e.elem.column_table(), in_context(e.elem)) {
                    (Some(_), true) => (named, 1.0, g.sub >= 2),
                    (Some(_), false) => (all, 0.85, g.sub >= 1),
                    (None, _) => (all, 1.0, g.sub >= 1),
                };
                let sub = if sub { 0.75 } else { 1.0 };
                scratch.push(Hit {
                    score: e.source.weight() * m * ambiguity * ctx * sub,
                    entry: idx,
                    start: g.start,
                    end: g.end,
                    how,
                });
            }
            if scratch.len() > PER_PHRASE {
                scratch.select_nth_unstable_by(PER_PHRASE - 1, |a, b| {
                    b.score.total_cmp(&a.score).then(a.entry.cmp(&b.entry))
                });
                scratch.truncate(PER_PHRASE);
            }
            hits.extend_from_slice(&scratch);
        }
        hits
    }

    /// The best hit per element, best first, as candidates.
    pub(super) fn candidates(
        &self,
        catalog: &Catalog,
        question: &str,
        tokens: &[Token],
        hits: Vec<Hit>,
    ) -> Vec<Candidate> {
        let mut best: HashMap<Elem, Hit, FxBuild> = HashMap::default();
        for h in hits {
            let elem = self.entries[h.entry as usize].elem;
            let better = |old: &Hit| {
                (h.score, h.end - h.start, std::cmp::Reverse(h.start))
                    > (old.score, old.end - old.start, std::cmp::Reverse(old.start))
            };
            match best.get_mut(&elem) {
                Some(old) if !better(old) => {}
                Some(old) => *old = h,
                None => {
                    best.insert(elem, h);
                }
            }
        }
        let mut ranked: Vec<(Elem, Hit)> = best.into_iter().collect();
        ranked.sort_by(|(ea, a), (eb, b)| {
            b.score
                .total_cmp(&a.score)
                .then((b.end - b.start).cmp(&(a.end - a.start)))
                .then(a.start.cmp(&b.start))
                .then(ea.cmp(eb))
        });
        ranked
            .into_iter()
            .filter_map(|(elem, h)| {
                let element = self.element(catalog, elem)?;
                let (s, e) = (h.start as usize, h.end as usize);
                let words = question.get(tokens[s].start..tokens[e - 1].end)?;
                let entry = self.entries[h.entry as usize];
                Some(Candidate {
                    element,
                    score: h.score,
                    span: (s, e),
                    words: words.to_string(),
                    phrase: self
                        .phrases
                        .get(entry.phrase as usize)
                        .map_or_else(String::new, |p| p.to_string()),
                    how: h.how,
                })
            })
            .take(MAX_CANDIDATES)
            .collect()
    }

    fn element(&self, catalog: &Catalog, e: Elem) -> Option<Element> {
        let column = |c: ColRef| {
            catalog
                .tables
                .get(c.table as usize)?
                .columns
                .get(c.column as usize)
        };
        Some(match e {
            Elem::Table(t) => {
                catalog.tables.get(t as usize)?;
                Element::Table(t)
            }
            Elem::Metric(m) => {
                catalog.metrics.get(m as usize)?;
                Element::Metric(m)
            }
            Elem::Column(c) => {
                column(c)?;
                Element::Column(c)
            }
            Elem::Value(c, i) => {
                let values = column(c)?.profile.as_ref()?.values.as_ref()?;
                Element::Value {
                    column: c,
                    value: values.get(i as usize)?.clone(),
                }
            }
            Elem::ExtraValue(c, k) => {
                column(c)?;
                Element::Value {
                    column: c,
                    value: self.extra_values.get(k as usize)?.to_string(),
                }
            }
        })
    }
}
