//! Building a [`LinkIndex`] from a catalog.

use super::{Elem, Entry, FxBuild, LinkIndex, Source, MAX_PHRASE_WORDS};
use crate::catalog::fuzzy::VocabularyBuilder;
use crate::catalog::model::{Catalog, ColRef};
use crate::catalog::text::{
    is_stopword, phrase_words, shared_prefix, split_identifier, stem, strip_prefix,
};
use std::collections::HashMap;

/// Parts of column names that say how a value is stored, not what it is: dropped to index
/// the telling rest ("citation" for `citation_num`, "amount" for `amount_usd`).
const STORAGE_PARTS: &[&str] = &[
    "id", "ids", "key", "pk", "fk", "no", "num", "nbr", "cnt", "count", "code", "flag", "is",
    "has", "at", "on", "usd", "eur", "gbp", "pct", "amt", "qty", "val", "txt", "str", "dt", "ts",
    "total", "number",
];

/// Names a word may be part of and still be indexed alone as a part of each.
const MAX_PART_USES: u32 = 8;

/// Words too general to name a column on their own ("name" of `first_name`).
const GENERIC_WORDS: &[&str] = &[
    "name",
    "daily",
    "weekly",
    "monthly",
    "quarterly",
    "yearly",
    "annual",
    "annually",
    "day",
    "week",
    "month",
    "quarter",
    "year",
    "date",
    "time",
    "type",
    "status",
    "value",
    "first",
    "last",
    "start",
    "end",
    "min",
    "max",
    "avg",
    "per",
    "from",
    "to",
    "of",
    "the",
    "and",
    "in",
    "by",
    "for",
    "with",
    "new",
    "old",
    "level",
    "kind",
    "class",
    "group",
    "description",
    "desc",
    "text",
    "info",
];

/// Common last words of names written as one lowercase word (`joindate`, `postalcode`,
/// `tickersymbol`, what `sbCustJoinDate` becomes when created unquoted).
const JOINED_TAILS: &[&str] = &[
    "date", "time", "name", "code", "type", "status", "amount", "price", "number", "email",
    "phone", "city", "state", "country", "address", "total", "count", "symbol", "value", "rate",
    "score", "level", "size", "day", "year", "month", "cost", "fee", "title", "id",
];

/// `joindate` → `join date`: a long one-word name split before a common last word, to be
/// indexed as well (a wrong split such as `candi date` only adds a phrase nobody types).
fn split_joined(words: &[String]) -> Option<Vec<String>> {
    let mut out = Vec::with_capacity(words.len() + 1);
    let mut split = false;
    for w in words {
        let tail = JOINED_TAILS
            .iter()
            .filter(|t| w.len() >= t.len() + 3 && w.ends_with(*t))
            .max_by_key(|t| t.len());
        match tail {
            Some(t) if w.chars().all(|c| c.is_ascii_lowercase()) => {
                out.push(w[..w.len() - t.len()].to_string());
                out.push((*t).to_string());
                split = true;
            }
            _ => out.push(w.clone()),
        }
    }
    split.then_some(out)
}

/// The telling part of a multi-word column name, when it differs from the whole.
fn telling_part(words: &[String]) -> Option<Vec<String>> {
    if words.len() < 2 {
        return None;
    }
    let rest: Vec<String> = words
        .iter()
        .filter(|w| !STORAGE_PARTS.contains(&w.as_str()))
        .cloned()
        .collect();
    (!rest.is_empty() && rest.len() < words.len()).then_some(rest)
}

/// Everyday words for the same kind of thing: a table named by one is found by the others
/// ("customers" for `accounts`), below its own names.
const KINDS: &[&[&str]] = &[
    &["customer", "client", "account", "buyer", "patron"],
    &["user", "member", "subscriber"],
    &["employee", "staff", "worker", "personnel"],
    &["product", "item", "article", "sku"],
    &["order", "purchase"],
    &["ticket", "case", "request", "incident"],
    &["invoice", "bill"],
    &["supplier", "vendor"],
    &["shop", "store", "outlet"],
];

/// Name prefixes of warehouse-style tables (`dim_customer`): the rest is indexed too.
const TABLE_PREFIXES: &[&str] = &["dim", "fact", "fct", "stg", "tbl", "vw"];

fn numeric(w: &str) -> bool {
    w.chars().all(|c| c.is_ascii_digit() || c == '.') && w.chars().any(|c| c.is_ascii_digit())
}

#[derive(Default)]
struct Builder {
    vocab: VocabularyBuilder,
    keys: HashMap<Box<[u32]>, u32, FxBuild>,
    raw: Vec<(u32, Entry)>,
    phrase_ids: HashMap<Box<str>, u32, FxBuild>,
    phrases: Vec<Box<str>>,
    extra_ids: HashMap<(ColRef, Box<str>), u32, FxBuild>,
    extra_values: Vec<Box<str>>,
    max_words: usize,
    key: Vec<u32>,
    /// Normalised word → the id of its stem.
    word_ids: HashMap<Box<str>, u32, FxBuild>,
}

impl Builder {
    /// Indexes the phrase of normalised `words` for `elem`; false when it is not indexable
    /// (empty, too long, only stopwords, only numbers).
    fn add<S: AsRef<str>>(&mut self, words: &[S], elem: Elem, source: Source) -> bool {
        if words.is_empty()
            || words.len() > MAX_PHRASE_WORDS
            || words.iter().all(|w| is_stopword(w.as_ref()))
            || words.iter().all(|w| numeric(w.as_ref()))
        {
            return false;
        }
        self.key.clear();
        let mut text = String::new();
        for (k, w) in words.iter().enumerate() {
            let w = w.as_ref();
            if k > 0 {
                text.push(' ');
            }
            text.push_str(w);
            let id = self.term(w);
            self.key.push(id);
        }
        let phrase = match self.phrase_ids.get(text.as_str()) {
            Some(&p) => p,
            None => {
                let p = self.phrases.len() as u32;
                let text: Box<str> = text.into();
                self.phrases.push(text.clone());
                self.phrase_ids.insert(text, p);
                p
            }
        };
        let group = match self.keys.get(self.key.as_slice()) {
            Some(&g) => g,
            None => {
                let g = self.keys.len() as u32;
                self.keys.insert(self.key.as_slice().into(), g);
                g
            }
        };
        self.max_words = self.max_words.max(words.len());
        self.raw.push((
            group,
            Entry {
                elem,
                phrase,
                source,
            },
        ));
        true
    }

    /// The term id of normalised word `w` (its stem), counting one more use.
    fn term(&mut self, w: &str) -> u32 {
        if let Some(&id) = self.word_ids.get(w) {
            self.vocab.count(id);
            return id;
        }
        let id = self.vocab.intern(&stem(w));
        self.vocab.spell(w, id);
        self.word_ids.insert(w.into(), id);
        id
    }

    fn add_english(&mut self, s: &str, elem: Elem, source: Source) -> bool {
        let words = phrase_words(s);
        self.add(&words, elem, source)
    }

    fn extra_value(&mut self, column: ColRef, value: &str) -> u32 {
        let k = (column, Box::<str>::from(value));
        if let Some(&i) = self.extra_ids.get(&k) {
            return i;
        }
        let i = self.extra_values.len() as u32;
        self.extra_values.push(value.into());
        self.extra_ids.insert(k, i);
        i
    }

    fn finish(mut self, values: usize) -> LinkIndex {
        // Proper prefixes of phrases are keys too (with no entries).
        let phrase_keys: Vec<Box<[u32]>> =
            self.keys.keys().filter(|k| k.len() > 1).cloned().collect();
        for k in phrase_keys {
            for l in 1..k.len() {
                if !self.keys.contains_key(&k[..l]) {
                    let g = self.keys.len() as u32;
                    self.keys.insert(k[..l].into(), g);
                }
            }
        }
        let mut raw = std::mem::take(&mut self.raw);
        raw.sort_unstable_by(|(ga, a), (gb, b)| {
            (ga, a.elem, a.source, a.phrase).cmp(&(gb, b.elem, b.source, b.phrase))
        });
        raw.dedup_by(|(gb, b), (ga, a)| ga == gb && a.elem == b.elem);
        let mut ranges = vec![(0u32, 0u32); self.keys.len()];
        let mut entries = Vec::with_capacity(raw.len());
        for (g, e) in raw {
            let r = &mut ranges[g as usize];
            if r.0 == r.1 {
                r.0 = entries.len() as u32;
            }
            entries.push(e);
            r.1 = entries.len() as u32;
        }
        let mut groups = HashMap::with_capacity_and_hasher(self.keys.len(), FxBuild);
        for (k, g) in self.keys {
            groups.insert(k, ranges[g as usize]);
        }
        let mut phrases = self.phrases;
        phrases.shrink_to_fit();
        LinkIndex {
            vocab: self.vocab.finish(),
            groups,
            entries,
            phrases,
            extra_values: self.extra_values,
            max_words: self.max_words,
            values,
        }
    }
}

/// The name prefix every table of each schema shares (`sb` of `sbcustomer`, `sbticker`).
fn schema_prefixes(catalog: &Catalog) -> HashMap<&str, &str> {
    let mut by_schema: HashMap<&str, Vec<&str>> = HashMap::new();
    for t in &catalog.tables {
        by_schema
            .entry(t.schema.as_str())
            .or_default()
            .push(t.name.as_str());
    }
    by_schema
        .into_iter()
        .map(|(schema, names)| (schema, shared_prefix(&names)))
        .collect()
}

pub(super) fn build(catalog: &Catalog) -> LinkIndex {
    let mut b = Builder::default();
    let mut values = 0usize;
    let prefixes = schema_prefixes(catalog);
    let table_words: std::collections::HashSet<String> = catalog
        .tables
        .iter()
        .flat_map(|t| split_identifier(&t.name))
        .map(|w| stem(&w))
        .collect();
    // A word of many names says little on its own: parts are indexed only for rare words, so
    // a catalog of thousands of tables does not drown its names in parts.
    let mut uses: HashMap<String, u32> = HashMap::new();
    for t in &catalog.tables {
        for w in split_identifier(&t.name) {
            *uses.entry(format!("t:{}", stem(&w))).or_default() += 1;
        }
        for c in &t.columns {
            for w in split_identifier(&c.name) {
                *uses.entry(format!("c:{}", stem(&w))).or_default() += 1;
            }
        }
    }
    let rare = |kind: &str, w: &str| {
        uses.get(&format!("{kind}:{}", stem(w)))
            .copied()
            .unwrap_or(0)
            <= MAX_PART_USES
    };
    for (t, table) in catalog.tables.iter().enumerate() {
        let t = t as u32;
        // "transaction" for `sbtransaction` when every table of its schema starts with `sb`.
        let prefix = prefixes.get(table.schema.as_str()).copied().unwrap_or("");
        let short = strip_prefix(&table.name, prefix);
        let mut tw = split_identifier(short);
        b.add(&split_identifier(&table.name), Elem::Table(t), Source::Name);
        if short != table.name {
            b.add(&tw, Elem::Table(t), Source::Derived);
        }
        if tw.len() > 1 && TABLE_PREFIXES.contains(&tw[0].as_str()) {
            tw.remove(0);
            b.add(&tw, Elem::Table(t), Source::Derived);
        }
        // "customers" for `accounts`: everyday words of the same kind.
        if let Some(last) = tw.last().map(|w| stem(w)) {
            for kind in KINDS.iter().filter(|k| k.iter().any(|w| stem(w) == last)) {
                for w in kind.iter().filter(|w| stem(w) != last) {
                    b.add(&[*w], Elem::Table(t), Source::Part);
                }
            }
        }
        // "usage" for `usage_daily`: each telling word of a short table name.
        if (2..=3).contains(&tw.len()) {
            for w in tw.iter().filter(|w| {
                !STORAGE_PARTS.contains(&w.as_str())
                    && !GENERIC_WORDS.contains(&w.as_str())
                    && rare("t", w)
            }) {
                b.add(std::slice::from_ref(w), Elem::Table(t), Source::Part);
            }
        }
        for s in &table.notes.synonyms {
            b.add_english(s, Elem::Table(t), Source::Synonym);
        }
        // "<table singular> <column>": the table's words by stem.
        let singular: Vec<String> = tw.iter().map(|w| stem(w)).collect();
        // "price" for `sbtxprice` when every column of the table starts with `sbtx`.
        let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        let col_prefix = shared_prefix(&names);
        for (c, col) in table.columns.iter().enumerate() {
            let r = ColRef {
                table: t,
                column: c as u32,
            };
            let full = split_identifier(&col.name);
            b.add(&full, Elem::Column(r), Source::Name);
            let mut cw = split_identifier(strip_prefix(&col.name, col_prefix));
            if cw != full {
                b.add(&cw, Elem::Column(r), Source::Derived);
            }
            if let Some(split) = split_joined(&cw) {
                b.add(&split, Elem::Column(r), Source::Derived);
                cw = split;
            }
            // "payload" for `pay_load`, "firstname" for `first_name`: two parts written as one.
            if let [a, z] = cw.as_slice() {
                let plain =
                    |w: &String| w.len() > 1 && !numeric(w) && !STORAGE_PARTS.contains(&w.as_str());
                if plain(a) && plain(z) {
                    b.add(&[format!("{a}{z}")], Elem::Column(r), Source::Derived);
                }
            }
            if let Some(part) = telling_part(&cw) {
                b.add(&part, Elem::Column(r), Source::Part);
            }
            // Each telling word of a short name: "range" and "miles" for `range_miles` (not a
            // word that names a table: "customer" of `customer_name` means the customers).
            if (2..=3).contains(&cw.len()) {
                for w in cw.iter().filter(|w| {
                    !STORAGE_PARTS.contains(&w.as_str())
                        && !GENERIC_WORDS.contains(&w.as_str())
                        && !table_words.contains(&stem(w))
                        && rare("c", w)
                }) {
                    b.add(std::slice::from_ref(w), Elem::Column(r), Source::Part);
                }
            }
            let prefixed =
                cw.len() >= singular.len() && cw.iter().zip(&singular).all(|(w, s)| stem(w) == *s);
            if !cw.is_empty() && !singular.is_empty() && !prefixed {
                let mut combo = singular.clone();
                combo.extend(cw.iter().cloned());
                b.add(&combo, Elem::Column(r), Source::Derived);
            }
            for s in &col.notes.synonyms {
                b.add_english(s, Elem::Column(r), Source::Synonym);
            }
            if col.notes.pii {
                continue;
            }
            let stored = col.profile.as_ref().and_then(|p| p.values.as_ref());
            for (i, v) in stored.into_iter().flatten().enumerate() {
                if b.add_english(v, Elem::Value(r, i as u32), Source::Name) {
                    values += 1;
                }
            }
            for (word, value) in &col.notes.value_synonyms {
                let found = stored.and_then(|vs| {
                    vs.iter().position(|x| x == value).or_else(|| {
                        vs.iter()
                            .position(|x| x.to_lowercase() == value.to_lowercase())
                    })
                });
                let elem = match found {
                    Some(i) => Elem::Value(r, i as u32),
                    None => Elem::ExtraValue(r, b.extra_value(r, value)),
                };
                b.add_english(word, elem, Source::Synonym);
            }
        }
    }
    for (m, metric) in catalog.metrics.iter().enumerate() {
        let m = m as u32;
        b.add(
            &split_identifier(&metric.name),
            Elem::Metric(m),
            Source::Name,
        );
        for s in &metric.synonyms {
            b.add_english(s, Elem::Metric(m), Source::Synonym);
        }
    }
    b.finish(values)
}
