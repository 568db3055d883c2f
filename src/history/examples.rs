//! Verified examples (a question with SQL known to answer it) and [`similar`], which picks the
//! ones closest to a new question for a prompt.

use crate::catalog::text;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

/// Where an example comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Source {
    /// An `[[examples]]` entry of an annotation file (`schemas/*.toml`).
    Pinned,
    /// A history entry promoted with `querent history verify ID`; holds the entry's id.
    History(String),
}

impl std::fmt::Display for Source {
    /// `pinned` or `history:<id>`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Pinned => f.write_str("pinned"),
            Source::History(id) => write!(f, "history:{id}"),
        }
    }
}

impl Serialize for Source {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A question and SQL a person confirmed answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Example {
    /// The question, in plain English.
    pub question: String,
    /// One read-only query (see [`super::tables_read`]).
    pub sql: String,
    /// Pinned in an annotation file, or promoted from history.
    pub source: Source,
}

/// The words of a question that carry meaning: stems of its non-stopword tokens.
fn terms(question: &str) -> BTreeSet<String> {
    text::tokenize(question)
        .into_iter()
        .filter(|t| !t.stop)
        .map(|t| t.stem)
        .collect()
}

/// The `k` examples most similar to `question` that `readable` accepts, best first.
///
/// Similarity is the overlap of the questions' words after the catalog's own tokenizer,
/// stemmer and stopwords (`crate::catalog::text`), each shared word weighted by how rare it is
/// among `examples` (a word every example has says little), normalised by both questions'
/// lengths. Examples sharing no word are never returned; ties keep pinned examples first, then
/// the order of `examples`. `readable(sql)` is asked only of candidates, best first, until `k`
/// are found: it should check that the role may read every table the SQL reads (see
/// [`super::tables_read`]).
///
/// ```
/// use querent::history::{similar, Example, Source};
/// let ex = |q: &str, sql: &str| Example { question: q.into(), sql: sql.into(), source: Source::Pinned };
/// let examples = [
///     ex("revenue by region in 2024", "SELECT 1 FROM sales"),
///     ex("how many tickets are open", "SELECT 2 FROM tickets"),
///     ex("top customers by revenue", "SELECT 3 FROM customers"),
/// ];
/// let best = similar(&examples, "total revenue per region", 2, |sql| !sql.contains("customers"));
/// assert_eq!(best.len(), 1);
/// assert_eq!(best[0].question, "revenue by region in 2024");
/// ```
pub fn similar<'a>(
    examples: &'a [Example],
    question: &str,
    k: usize,
    readable: impl Fn(&str) -> bool,
) -> Vec<&'a Example> {
    if k == 0 || examples.is_empty() {
        return Vec::new();
    }
    let asked = terms(question);
    if asked.is_empty() {
        return Vec::new();
    }
    let sets: Vec<BTreeSet<String>> = examples.iter().map(|e| terms(&e.question)).collect();
    let mut df: HashMap<&str, usize> = HashMap::new();
    for set in &sets {
        for t in set {
            *df.entry(t.as_str()).or_default() += 1;
        }
    }
    let n = examples.len() as f64;
    let weight = |t: &str| (1.0 + n / (df.get(t).copied().unwrap_or(0) as f64 + 0.5)).ln();
    let asked_weight: f64 = asked.iter().map(|t| weight(t)).sum();
    let mut scored: Vec<(f64, usize)> = sets
        .iter()
        .enumerate()
        .filter_map(|(i, set)| {
            let shared: f64 = set.intersection(&asked).map(|t| weight(t)).sum();
            if shared <= 0.0 {
                return None;
            }
            let own: f64 = set.iter().map(|t| weight(t)).sum();
            Some((shared / (asked_weight * own).sqrt(), i))
        })
        .collect();
    let pinned = |i: usize| matches!(examples[i].source, Source::Pinned);
    scored.sort_by(|(sa, ia), (sb, ib)| {
        sb.total_cmp(sa)
            .then(pinned(*ib).cmp(&pinned(*ia)))
            .then(ia.cmp(ib))
    });
    scored
        .into_iter()
        .map(|(_, i)| &examples[i])
        .filter(|e| readable(&e.sql))
        .take(k)
        .collect()
}

/// Pinned examples first, then `more`, leaving out an example whose question (ignoring case,
/// spacing and punctuation) is already there.
pub fn merge(pinned: &[Example], more: Vec<Example>) -> Vec<Example> {
    let key = |q: &str| {
        text::tokenize(q)
            .into_iter()
            .map(|t| t.norm)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut seen: BTreeSet<String> = pinned.iter().map(|e| key(&e.question)).collect();
    let mut out = pinned.to_vec();
    for e in more {
        if seen.insert(key(&e.question)) {
            out.push(e);
        }
    }
    out
}
