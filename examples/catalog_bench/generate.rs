//! The generated catalog and questions: a seeded random generator, the catalog of tables,
//! columns, values, relations and metrics, and questions built around one element each.

use crate::words::*;
use querent::catalog::link::Element;
use querent::catalog::{
    Catalog, ColRef, Column, ColumnNotes, Metric, Profile, ProfileSource, Relation, RelationOrigin,
    Table, TableKind, TableNotes, ValueKind,
};
use std::collections::HashSet;

/// SplitMix64.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub(crate) fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
    pub(crate) fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    pub(crate) fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// A made-up brand or product word ("Kalora", "Venmirtex").
pub(crate) fn pseudo_word(rng: &mut Rng) -> String {
    let mut w = String::new();
    for _ in 0..rng.range(2, 4) {
        let syllable: &&str = rng.pick(SYLLABLES);
        w.push_str(syllable);
    }
    let mut c = w.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

pub(crate) fn plural(w: &str) -> String {
    if let Some(stem) = w.strip_suffix('y') {
        if !stem.ends_with(['a', 'e', 'o', 'u']) {
            return format!("{stem}ies");
        }
    }
    if w.ends_with('s') || w.ends_with('x') || w.ends_with("ch") || w.ends_with("sh") {
        return format!("{w}es");
    }
    format!("{w}s")
}

pub(crate) fn kind_of(col: &str, rng: &mut Rng) -> ValueKind {
    let has = |s: &str| col.contains(s);
    if has("_id") || col == "id" || has("count") || has("quantity") || has("number") {
        ValueKind::Integer
    } else if has("amount")
        || has("price")
        || has("cost")
        || has("balance")
        || has("revenue")
        || has("profit")
        || has("fee")
        || has("tax")
        || has("margin")
        || has("total")
    {
        ValueKind::Decimal
    } else if has("rate") || has("ratio") || has("percent") || has("score") || has("weight") {
        ValueKind::Float
    } else if has("date") || has("_on") {
        ValueKind::Date
    } else if has("_at") {
        ValueKind::Timestamp
    } else if col.starts_with("is_") || has("flag") {
        ValueKind::Boolean
    } else if has("latitude") || has("longitude") || has("version") {
        *rng.pick(&[ValueKind::Float, ValueKind::Other])
    } else {
        ValueKind::Text
    }
}

pub(crate) fn column(name: String, kind: ValueKind) -> Column {
    Column {
        data_type: format!("{kind:?}").to_lowercase(),
        name,
        kind,
        nullable: true,
        comment: None,
        profile: None,
        notes: ColumnNotes::default(),
    }
}

pub(crate) fn synonyms_of(word: &str) -> &'static [&'static str] {
    SYNONYMS
        .iter()
        .find(|(w, _)| *w == word)
        .map_or(&[], |(_, s)| s)
}

pub(crate) fn values(rng: &mut Rng) -> Vec<String> {
    let n = rng.range(5, 50);
    let made_up = rng.chance(40);
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    while out.len() < n {
        let v = match rng.below(10) {
            _ if made_up => match rng.below(3) {
                0 => pseudo_word(rng),
                1 => format!("{} {}", pseudo_word(rng), pseudo_word(rng)),
                _ => format!("{} {}", pseudo_word(rng), rng.range(100, 9999)),
            },
            0..=5 => rng.pick(VALUE_WORDS).to_string(),
            6..=8 => format!("{} {}", rng.pick(VALUE_WORDS), rng.pick(VALUE_WORDS)),
            _ => format!("{}-{}", rng.pick(VALUE_WORDS), rng.range(1, 999)),
        };
        if seen.insert(v.clone()) {
            out.push(v);
        }
    }
    out
}

/// The generated catalog.
pub(crate) fn generate(n_tables: usize, rng: &mut Rng) -> Catalog {
    let mut names = HashSet::new();
    let mut tables: Vec<(Table, &str)> = Vec::with_capacity(n_tables);
    while tables.len() < n_tables {
        let entity = *rng.pick(ENTITIES);
        let name = match rng.below(4) {
            0 => plural(entity),
            1 | 2 => format!("{}_{}", rng.pick(QUALIFIERS), plural(entity)),
            _ => format!(
                "{}_{}_{}",
                rng.pick(QUALIFIERS),
                rng.pick(ENTITIES),
                plural(entity)
            ),
        };
        let schema = *rng.pick(SCHEMAS);
        if !names.insert((schema, name.clone())) {
            continue;
        }
        let mut notes = TableNotes::default();
        if rng.chance(30) {
            let syn = synonyms_of(entity);
            if !syn.is_empty() {
                notes.synonyms.push(rng.pick(syn).to_string());
            }
        }
        let table = Table {
            schema: schema.into(),
            name,
            kind: if rng.chance(10) {
                TableKind::View
            } else {
                TableKind::Table
            },
            comment: None,
            row_estimate: Some(rng.below(10_000_000) as u64),
            columns: Vec::new(),
            primary_key: vec![0],
            notes,
        };
        tables.push((table, entity));
    }
    tables.sort_by(|a, b| (&a.0.schema, &a.0.name).cmp(&(&b.0.schema, &b.0.name)));
    let entities: Vec<&str> = tables.iter().map(|t| t.1).collect();
    let mut relations = Vec::new();
    let mut out: Vec<Table> = Vec::with_capacity(n_tables);
    for (t, (mut table, entity)) in tables.into_iter().enumerate() {
        let mut cols: Vec<String> = vec![format!("{entity}_id")];
        // Many-to-one references to other tables.
        for _ in 0..rng.range(1, 3) {
            let to = rng.below(n_tables);
            let c = format!("{}_id", entities[to]);
            if to != t && !cols.contains(&c) {
                relations.push(Relation {
                    from: t as u32,
                    from_columns: vec![cols.len() as u32],
                    to: to as u32,
                    to_columns: vec![0],
                    one_to_one: false,
                    preferred: false,
                    origin: RelationOrigin::ForeignKey(format!("fk_{t}_{}", cols.len())),
                });
                cols.push(c);
            }
        }
        for common in ["name", "status", "created_at"] {
            if rng.chance(50) {
                cols.push(common.into());
            }
        }
        while cols.len() < 20 {
            let attr = *rng.pick(ATTRIBUTES);
            let c = match rng.below(3) {
                0 => attr.to_string(),
                _ => format!("{}_{attr}", rng.pick(QUALIFIERS)),
            };
            if !cols.contains(&c) {
                cols.push(c);
            }
        }
        for name in cols {
            let kind = kind_of(&name, rng);
            let mut c = column(name, kind);
            let last = c.name.rsplit('_').next().unwrap_or_default().to_string();
            if rng.chance(5) {
                if let Some(s) = synonyms_of(&c.name).first().or(synonyms_of(&last).first()) {
                    c.notes.synonyms.push(s.to_string());
                }
            }
            let personal = ["email", "phone", "address"].contains(&last.as_str());
            c.notes.pii = personal;
            if kind == ValueKind::Text && (personal || rng.chance(10)) {
                let vs = if personal {
                    (0..20).map(|i| format!("person{i}@example.com")).collect()
                } else {
                    values(rng)
                };
                if !personal && rng.chance(20) {
                    c.notes.value_synonyms.push((
                        rng.pick(VALUE_SYNONYMS).to_string(),
                        vs[rng.below(vs.len())].clone(),
                    ));
                }
                c.profile = Some(Profile {
                    distinct: Some(vs.len() as u64),
                    values: Some(vs),
                    min: None,
                    max: None,
                    source: Some(ProfileSource::Stats),
                });
            } else {
                c.profile = Some(Profile {
                    distinct: Some(rng.below(1_000_000) as u64),
                    source: Some(ProfileSource::Stats),
                    ..Profile::default()
                });
            }
            table.columns.push(c);
        }
        out.push(table);
    }
    let mut metrics = Vec::new();
    let mut metric_names = HashSet::new();
    while metrics.len() < 200 {
        let name = format!("{} {}", rng.pick(QUALIFIERS), rng.pick(METRIC_NAMES));
        if !metric_names.insert(name.clone()) {
            continue;
        }
        let t = rng.below(n_tables) as u32;
        let mut synonyms = Vec::new();
        if rng.chance(50) {
            let base = name.rsplit(' ').next().unwrap_or_default();
            if let Some(s) = synonyms_of(base).first() {
                synonyms.push(format!(
                    "{} {s}",
                    name.split(' ').next().unwrap_or_default()
                ));
            }
        }
        metrics.push(Metric {
            name,
            description: None,
            synonyms,
            sql: "SUM(x)".into(),
            tables: vec![t],
            columns: vec![ColRef {
                table: t,
                column: 0,
            }],
            filters: Vec::new(),
            time_column: None,
            unit: None,
            format: None,
        });
    }
    let mut c = Catalog {
        database: "bench".into(),
        tables: out,
        relations,
        metrics,
        ..Catalog::default()
    };
    c.seal();
    c
}

/// One random edit (swap, delete, substitute, insert) in a word of 5+ letters.
pub(crate) fn typo(w: &str, rng: &mut Rng) -> String {
    let mut c: Vec<char> = w.chars().collect();
    if c.len() < 5 {
        return w.to_string();
    }
    let i = rng.range(1, c.len() - 2);
    let letter = (b'a' + rng.below(26) as u8) as char;
    match rng.below(4) {
        0 => c.swap(i, i + 1),
        1 => {
            c.remove(i);
        }
        2 => c[i] = letter,
        _ => c.insert(i, letter),
    }
    c.into_iter().collect()
}

/// A question and the element it was built around.
pub(crate) struct Question {
    pub(crate) text: String,
    pub(crate) target: Option<Element>,
}

pub(crate) fn question(c: &Catalog, rng: &mut Rng) -> Question {
    let mut parts: Vec<String> = vec![rng.pick(FILLERS).to_string()];
    let t = rng.below(c.tables.len());
    let table = &c.tables[t];
    let mut target = None;
    let words = |s: &str| s.replace('_', " ");
    match rng.below(8) {
        0 => {
            let m = rng.below(c.metrics.len());
            let metric = &c.metrics[m];
            parts.push(match metric.synonyms.first() {
                Some(s) if rng.chance(50) => s.clone(),
                _ => metric.name.clone(),
            });
            parts.push("by".into());
            parts.push(words(&table.name));
            target = Some(Element::Metric(m as u32));
        }
        1 => {
            let w = words(&table.name);
            let mut ws: Vec<String> = w.split(' ').map(String::from).collect();
            let k = rng.below(ws.len());
            ws[k] = typo(&ws[k], rng);
            parts.push(ws.join(" "));
            target = Some(Element::Table(t as u32));
        }
        2 => {
            let col = rng.below(table.columns.len());
            parts.push(words(&table.columns[col].name));
            parts.push("of".into());
            parts.push(words(&table.name));
            target = Some(Element::Column(ColRef {
                table: t as u32,
                column: col as u32,
            }));
        }
        3 | 4 => {
            let with_values: Vec<(usize, &Vec<String>)> = table
                .columns
                .iter()
                .enumerate()
                .filter(|(_, col)| !col.notes.pii)
                .filter_map(|(i, col)| Some((i, col.profile.as_ref()?.values.as_ref()?)))
                .collect();
            if let Some(&(col, vs)) = with_values.first() {
                let v = &vs[rng.below(vs.len())];
                let typed = match rng.below(4) {
                    0 => v
                        .split(' ')
                        .map(|w| typo(w, rng))
                        .collect::<Vec<_>>()
                        .join(" "),
                    1 => v.clone(),
                    _ => v.to_lowercase(),
                };
                parts.push(typed);
                parts.push(words(&table.name));
                target = Some(Element::Value {
                    column: ColRef {
                        table: t as u32,
                        column: col as u32,
                    },
                    value: v.clone(),
                });
            } else {
                parts.push(words(&table.name));
                target = Some(Element::Table(t as u32));
            }
        }
        5 => {
            if let Some(s) = table.notes.synonyms.first() {
                parts.push(plural(s));
            } else {
                parts.push(rng.pick(ENTITIES).to_string());
            }
            target = table
                .notes
                .synonyms
                .first()
                .map(|_| Element::Table(t as u32));
        }
        6 => {
            parts.push(rng.pick(UNRELATED).to_string());
            parts.push(rng.pick(UNRELATED).to_string());
        }
        _ => {
            let m = rng.below(c.metrics.len());
            parts.push(typo(&c.metrics[m].name, rng));
            parts.push("per".into());
            parts.push(rng.pick(ATTRIBUTES).replace('_', " "));
        }
    }
    if rng.chance(30) {
        parts.push(rng.pick(FILLERS).to_string());
        parts.push(rng.pick(UNRELATED).to_string());
    }
    Question {
        text: parts.join(" "),
        target,
    }
}
