//! The vocabulary of the link index (every distinct stem of an indexed phrase, with an id, and
//! the spellings it was seen in: "pend" ← "pending") and its typo index over the spellings, in
//! the symmetric-delete (SymSpell) style: every spelling is stored under the hashes of all the
//! strings obtained by deleting up to its allowed number of chars, in one sorted array searched
//! by binary search; a misspelt word generates its own deletes, and the spellings found are
//! verified with the real distance ([`super::text::distance`]). Matching spellings rather than
//! stems keeps "pendsng" one edit from "pending" (three from its stem "pend").
//!
//! Allowed edits ([`max_typo_distance`]): none below 4 chars, 1 for 4–7 chars, 2 from 8 to
//! [`MAX_TYPO_CHARS`] chars, none above (a word of n chars has about n²/2 two-char deletes, so
//! a very long word would cost quadratic time and memory); between two words the smaller
//! allowance applies. Numbers never match by typo.

use super::text::distance;
use std::collections::HashMap;

/// Words longer than this are never typo-corrected, nor corrected to (in the question and in
/// the index alike).
pub const MAX_TYPO_CHARS: usize = 24;

/// Edits a word of `chars` chars may be away from a term: 0 below 4 chars, 1 up to 7, then 2
/// up to [`MAX_TYPO_CHARS`], 0 above.
pub fn max_typo_distance(chars: usize) -> u8 {
    match chars {
        0..=3 => 0,
        4..=7 => 1,
        8..=MAX_TYPO_CHARS => 2,
        _ => 0,
    }
}

fn typo_eligible(word: &str) -> Option<(Vec<char>, u8)> {
    if word.len() > 4 * MAX_TYPO_CHARS {
        return None; // too long whatever its chars; do not even collect them
    }
    let chars: Vec<char> = word.chars().collect();
    let d = max_typo_distance(chars.len());
    if d == 0 || chars.iter().any(|c| c.is_ascii_digit()) {
        return None;
    }
    Some((chars, d))
}

const SEED: u64 = 0xcbf2_9ce4_8422_2325;

fn mix(h: u64, c: char) -> u64 {
    (h ^ u64::from(c)).wrapping_mul(0x0100_0000_01b3)
}

fn finish(h: u64) -> u64 {
    let h = (h ^ (h >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

/// Hashes of `chars` with up to `d` (at most 2) chars deleted, deduplicated.
fn delete_hashes(chars: &[char], d: u8, out: &mut Vec<u64>) {
    out.clear();
    let n = chars.len();
    let hash_without = |skip: &[usize]| {
        let mut h = SEED;
        for (i, &c) in chars.iter().enumerate() {
            if !skip.contains(&i) {
                h = mix(h, c);
            }
        }
        finish(h)
    };
    out.push(hash_without(&[]));
    if d >= 1 {
        for i in 0..n {
            out.push(hash_without(&[i]));
        }
    }
    if d >= 2 {
        for i in 0..n {
            for j in i + 1..n {
                out.push(hash_without(&[i, j]));
            }
        }
    }
    out.sort_unstable();
    out.dedup();
}

/// Collects the terms of a vocabulary while phrases are indexed; [`VocabularyBuilder::finish`]
/// builds the typo index.
#[derive(Debug, Default)]
pub struct VocabularyBuilder {
    terms: Vec<Box<str>>,
    ids: HashMap<Box<str>, u32>,
    weights: Vec<u32>,
    /// Spellings other than the terms themselves: (spelling, term).
    spellings: HashMap<Box<str>, u32>,
}

impl VocabularyBuilder {
    /// An empty vocabulary.
    pub fn new() -> VocabularyBuilder {
        VocabularyBuilder::default()
    }

    /// The id of `term`, added if new; counts one more use of it.
    pub fn intern(&mut self, term: &str) -> u32 {
        let id = match self.ids.get(term) {
            Some(&id) => id,
            None => {
                let id = self.terms.len() as u32;
                self.terms.push(term.into());
                self.ids.insert(term.into(), id);
                self.weights.push(0);
                id
            }
        };
        self.weights[id as usize] = self.weights[id as usize].saturating_add(1);
        id
    }

    /// Counts one more use of term `id`.
    pub fn count(&mut self, id: u32) {
        if let Some(w) = self.weights.get_mut(id as usize) {
            *w = w.saturating_add(1);
        }
    }

    /// Records `spelling` as a way of writing term `id` (a word whose stem it is).
    pub fn spell(&mut self, spelling: &str, id: u32) {
        if self
            .terms
            .get(id as usize)
            .is_some_and(|t| **t != *spelling)
            && !self.spellings.contains_key(spelling)
        {
            self.spellings.insert(spelling.into(), id);
        }
    }

    /// The vocabulary with its typo index.
    pub fn finish(self) -> Vocabulary {
        let mut spellings: Vec<(Box<str>, u32)> = self
            .terms
            .iter()
            .enumerate()
            .map(|(id, t)| (t.clone(), id as u32))
            .chain(self.spellings)
            .filter(|(s, _)| typo_eligible(s).is_some())
            .collect();
        spellings.sort_unstable();
        let mut pairs: Vec<(u64, u32)> = Vec::new();
        let mut buf = Vec::new();
        for (k, (spelling, _)) in spellings.iter().enumerate() {
            if let Some((chars, d)) = typo_eligible(spelling) {
                delete_hashes(&chars, d, &mut buf);
                pairs.extend(buf.iter().map(|&h| (h, k as u32)));
            }
        }
        pairs.sort_unstable();
        let (hashes, owners) = pairs.into_iter().unzip();
        Vocabulary {
            terms: self.terms,
            ids: self.ids,
            weights: self.weights,
            spellings,
            hashes,
            owners,
        }
    }
}

/// Interned terms (ids in insertion order) and the typo index over them.
#[derive(Debug, Default)]
pub struct Vocabulary {
    terms: Vec<Box<str>>,
    ids: HashMap<Box<str>, u32>,
    weights: Vec<u32>,
    /// Spellings the typo index covers, with their terms.
    spellings: Vec<(Box<str>, u32)>,
    /// Delete-variant hashes, sorted; `owners[i]` is the spelling of `hashes[i]`.
    hashes: Vec<u64>,
    owners: Vec<u32>,
}

impl Vocabulary {
    /// The id of `term`.
    pub fn id(&self, term: &str) -> Option<u32> {
        self.ids.get(term).copied()
    }

    /// The text of term `id` (empty for an unknown id).
    pub fn term(&self, id: u32) -> &str {
        self.terms.get(id as usize).map_or("", |t| t)
    }

    /// How many indexed phrases use term `id`.
    pub fn weight(&self, id: u32) -> u32 {
        self.weights.get(id as usize).copied().unwrap_or(0)
    }

    /// Number of terms.
    pub fn len(&self) -> usize {
        self.terms.len()
    }

    /// No terms.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Number of spellings in the typo index (terms and other forms of them).
    pub fn spellings(&self) -> usize {
        self.spellings.len()
    }

    /// Number of (delete-variant hash, spelling) entries in the typo index.
    pub fn delete_entries(&self) -> usize {
        self.hashes.len()
    }

    /// Terms with a spelling 1 or more edits from `word` (within the allowance of both),
    /// closest first, then the most used, at most `limit`. A word that is a spelling itself
    /// finds no correction.
    pub fn corrections(&self, word: &str, limit: usize) -> Vec<(u32, u8)> {
        let mut out: Vec<(u32, u8)> = Vec::new();
        let Some((chars, d)) = typo_eligible(word) else {
            return out;
        };
        let mut buf = Vec::new();
        delete_hashes(&chars, d, &mut buf);
        let mut seen: Vec<u32> = Vec::new();
        for h in &buf {
            let lo = self.hashes.partition_point(|x| x < h);
            for (&hx, &id) in self.hashes[lo..].iter().zip(&self.owners[lo..]) {
                if hx != *h {
                    break;
                }
                seen.push(id);
            }
        }
        seen.sort_unstable();
        seen.dedup();
        for k in seen {
            let Some((spelling, id)) = self.spellings.get(k as usize) else {
                continue;
            };
            let allowed = d.min(max_typo_distance(spelling.chars().count()));
            match distance(word, spelling, usize::from(allowed)) {
                Some(0) => return Vec::new(),
                Some(dist) => match out.iter_mut().find(|x| x.0 == *id) {
                    Some(x) => x.1 = x.1.min(dist as u8),
                    None => out.push((*id, dist as u8)),
                },
                None => {}
            }
        }
        out.sort_by(|a, b| {
            (a.1, std::cmp::Reverse(self.weight(a.0)), a.0).cmp(&(
                b.1,
                std::cmp::Reverse(self.weight(b.0)),
                b.0,
            ))
        });
        out.truncate(limit);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab(terms: &[&str]) -> Vocabulary {
        let mut b = VocabularyBuilder::new();
        for t in terms {
            b.intern(t);
        }
        b.finish()
    }

    fn fix(v: &Vocabulary, w: &str) -> Vec<(String, u8)> {
        v.corrections(w, 8)
            .into_iter()
            .map(|(id, d)| (v.term(id).to_string(), d))
            .collect()
    }

    #[test]
    fn allowances() {
        assert_eq!(max_typo_distance(3), 0);
        assert_eq!(max_typo_distance(4), 1);
        assert_eq!(max_typo_distance(7), 1);
        assert_eq!(max_typo_distance(8), 2);
        assert_eq!(max_typo_distance(MAX_TYPO_CHARS), 2);
        assert_eq!(max_typo_distance(MAX_TYPO_CHARS + 1), 0);
    }

    #[test]
    fn long_words_get_no_typo_work() {
        // 24 chars: corrected as usual.
        let ok = "abcdefghijklmnopqrstuvwx";
        let v = vocab(&[ok]);
        assert!(v.delete_entries() > 0);
        assert_eq!(fix(&v, "abcdefghijklmnopqrstuvwz"), [(ok.into(), 1)]);
        // 25 chars and more: no deletes indexed, none generated for a question word.
        // (A word of n chars has 1 + n + n(n-1)/2 deletes: 20,000 chars would be 2·10⁸.)
        let long = "abcdefghijklmnopqrstuvwxy";
        let v = vocab(&[long]);
        assert_eq!((v.delete_entries(), v.spellings()), (0, 0));
        assert!(typo_eligible(long).is_none());
        assert!(typo_eligible(&"e".repeat(20_000)).is_none());
        let v = vocab(&[ok]);
        assert!(
            fix(&v, long).is_empty(),
            "a long question word is not corrected"
        );
    }

    #[test]
    fn finds_typos_within_allowance() {
        let v = vocab(&[
            "revenue",
            "customer",
            "west",
            "cat",
            "2024",
            "region",
            "warehouse",
            "order",
        ]);
        assert_eq!(fix(&v, "reveune"), [("revenue".into(), 1)]);
        assert_eq!(fix(&v, "custmer"), [("customer".into(), 1)]);
        assert_eq!(fix(&v, "cstmer"), Vec::<(String, u8)>::new()); // 6 chars: 1 edit only
        assert_eq!(fix(&v, "wharehose"), [("warehouse".into(), 2)]);
        assert_eq!(fix(&v, "wset"), [("west".into(), 1)]);
        assert!(fix(&v, "cta").is_empty()); // too short
        assert!(fix(&v, "caat").is_empty()); // "cat" is too short to be a typo target
        assert!(fix(&v, "2025").is_empty()); // numbers never
        assert!(fix(&v, "revenue").is_empty()); // the term itself is no correction
        assert_eq!(fix(&v, "ordr"), [("order".into(), 1)]);
        assert!(v.delete_entries() > 0 && v.len() == 8);
        assert_eq!(v.id("west"), Some(2));
        assert_eq!(v.term(99), "");
    }

    #[test]
    fn prefers_closer_then_more_used() {
        let mut b = VocabularyBuilder::new();
        b.intern("stores");
        for _ in 0..3 {
            b.intern("stored");
        }
        b.intern("storm");
        let v = b.finish();
        let f = fix(&v, "storex");
        assert_eq!(f[0].0, "stored");
        assert_eq!(f[1].0, "stores");
        assert!(!v.is_empty() && v.weight(1) == 3);
    }

    #[test]
    fn matches_spellings_of_stems() {
        let mut b = VocabularyBuilder::new();
        let pend = b.intern("pend");
        b.spell("pending", pend);
        b.spell("pend", pend);
        let line = b.intern("line");
        b.spell("lines", line);
        let v = b.finish();
        assert_eq!(v.spellings(), 4);
        assert_eq!(v.corrections("pendsng", 3), [(pend, 1)]);
        assert_eq!(v.corrections("lnes", 3), [(line, 1)]);
        assert!(v.corrections("pending", 3).is_empty());
    }

    #[test]
    fn unicode_words() {
        let v = vocab(&["größe", "café"]);
        assert!(fix(&v, "grösse").is_empty()); // ß → ss is 2 edits, 1 allowed
        assert_eq!(fix(&v, "größr"), [("größe".into(), 1)]);
        assert_eq!(fix(&v, "cafè"), [("café".into(), 1)]);
    }
}
