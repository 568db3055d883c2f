//! `querent schema suggest`: a first draft of an annotation file from a live catalog, for a
//! person to edit. It fills in what the catalog can tell (comments, display and time columns,
//! personal data, low-cardinality values, formats, relationships guessed from column names when
//! there are no foreign keys) and leaves commented-out drafts of metrics to check.

use super::model::{Catalog, Column, RelationOrigin, Table, TableId, ValueKind};
use std::fmt::Write;

/// A TOML string on one line, whatever `s` holds: database contents (comments, names,
/// values) go into comment lines, where a line break would turn the rest into live TOML.
fn quote(s: &str) -> String {
    let t = toml::Value::String(s.to_string()).to_string();
    if !t.chars().any(|c| c.is_control() && c != '\t') {
        return t;
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn key(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        s.to_string()
    } else {
        quote(s)
    }
}

fn list(items: &[String]) -> String {
    let q: Vec<String> = items.iter().map(|s| quote(s)).collect();
    format!("[{}]", q.join(", "))
}

const PII_WORDS: &[&str] = &[
    "email",
    "e_mail",
    "phone",
    "mobile",
    "ssn",
    "social_security",
    "passport",
    "address",
    "street",
    "birth",
    "dob",
    "iban",
    "card_number",
    "credit_card",
    "tax_id",
    "ip_address",
    "password",
];
const MONEY_WORDS: &[&str] = &[
    "price", "amount", "cost", "revenue", "salary", "fee", "total", "paid", "refund", "usd", "eur",
    "balance", "income", "spend", "wage",
];
const DISPLAY_NAMES: &[&str] = &["name", "title", "label", "full_name", "display_name"];
const TIME_HINTS: &[&str] = &["created", "date", "_at", "_on", "time", "day"];

/// Whether a column name looks like personal data.
pub fn looks_personal(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    PII_WORDS.iter().any(|w| n.contains(w))
}

fn looks_money(c: &Column) -> bool {
    let n = c.name.to_ascii_lowercase();
    matches!(c.kind, ValueKind::Decimal | ValueKind::Float)
        && MONEY_WORDS.iter().any(|w| n.contains(w))
}

fn singular(name: &str) -> String {
    if let Some(s) = name.strip_suffix("ies") {
        format!("{s}y")
    } else if let Some(s) = name.strip_suffix("ses") {
        format!("{s}s")
    } else if let Some(s) = name.strip_suffix('s') {
        s.to_string()
    } else {
        name.to_string()
    }
}

fn display_column(t: &Table) -> Option<&Column> {
    let own = format!("{}_name", singular(&t.name));
    t.columns
        .iter()
        .filter(|c| c.kind == ValueKind::Text && !looks_personal(&c.name))
        .find(|c| DISPLAY_NAMES.contains(&c.name.as_str()) || c.name == own)
}

fn time_column(t: &Table) -> Option<&Column> {
    let temporal: Vec<&Column> = t.columns.iter().filter(|c| c.kind.is_temporal()).collect();
    if temporal.len() == 1 {
        return temporal.first().copied();
    }
    TIME_HINTS
        .iter()
        .find_map(|h| temporal.iter().find(|c| c.name.contains(h)).copied())
}

fn is_key(t: &Table, c: &Column) -> bool {
    let n = c.name.to_ascii_lowercase();
    n == "id"
        || n.ends_with("_id")
        || t.primary_key
            .iter()
            .any(|k| t.columns[*k as usize].name == c.name)
}

/// A guessed relationship: `from.column` → `to.pk` by naming (`customer_id` → `customers`).
fn guess_target(catalog: &Catalog, from: TableId, c: &Column) -> Option<(TableId, String)> {
    let n = c.name.to_ascii_lowercase();
    let stem = n.strip_suffix("_id").or_else(|| n.strip_suffix("id"))?;
    if stem.is_empty() {
        return None;
    }
    let schema = &catalog.table(from).schema;
    let names = [
        stem.to_string(),
        format!("{stem}s"),
        format!("{stem}es"),
        stem.strip_suffix('y')
            .map(|s| format!("{s}ies"))
            .unwrap_or_default(),
    ];
    catalog.tables.iter().enumerate().find_map(|(i, t)| {
        let pk = match t.primary_key.as_slice() {
            [one] => &t.columns[*one as usize],
            _ => return None,
        };
        (i as TableId != from && &t.schema == schema && names.contains(&t.name))
            .then(|| (i as TableId, pk.name.clone()))
    })
}

/// Drafts an annotation file for `catalog`.
pub fn suggest(catalog: &Catalog) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Draft annotations for database {}, written by `querent schema suggest`.\n\
         # Check every line: add synonyms people use, value words, metrics with their filters.\n\
         # Format: docs/CATALOG.md.\n",
        quote(&catalog.database)
    );
    let mut schemas: Vec<&str> = catalog.tables.iter().map(|t| t.schema.as_str()).collect();
    schemas.dedup();
    let single = schemas.len() == 1;
    if let [s] = schemas.as_slice() {
        let _ = writeln!(out, "schema = {}\n", quote(s));
    }
    let name_of = |t: &Table| {
        if single {
            t.name.clone()
        } else {
            t.qualified()
        }
    };
    for t in &catalog.tables {
        let tkey = format!("tables.{}", key(&name_of(t)));
        let _ = writeln!(out, "[{tkey}]");
        match &t.comment {
            Some(c) => {
                let _ = writeln!(out, "description = {}", quote(c));
            }
            None => {
                let _ = writeln!(out, "# description = \"\"");
            }
        }
        let _ = writeln!(out, "synonyms = []");
        if let Some(c) = display_column(t) {
            let _ = writeln!(out, "display_column = {}", quote(&c.name));
        }
        if let Some(c) = time_column(t) {
            let _ = writeln!(out, "time_column = {}", quote(&c.name));
        }
        out.push('\n');
        for c in &t.columns {
            let mut lines = Vec::new();
            if let Some(comment) = &c.comment {
                lines.push(format!("description = {}", quote(comment)));
            }
            if looks_personal(&c.name) {
                lines.push("pii = true".into());
            } else if let Some(values) = c
                .profile
                .as_ref()
                .and_then(|p| p.values.as_ref())
                .filter(|_| c.kind == ValueKind::Text)
            {
                if !values.is_empty() && values.len() <= 30 {
                    lines.push(format!("# values seen: {}", list(values)));
                    lines.push("# values = { \"word people use\" = \"value as stored\" }".into());
                }
            }
            if looks_money(c) {
                lines.push("format = \"money\"".into());
            }
            if !lines.is_empty() {
                let _ = writeln!(
                    out,
                    "[{tkey}.columns.{}]\n{}\n",
                    key(&c.name),
                    lines.join("\n")
                );
            }
        }
    }
    relationships(catalog, &name_of, &mut out);
    inferred(catalog, &name_of, &mut out);
    metrics(catalog, &name_of, &mut out);
    out
}

fn relationships(catalog: &Catalog, name_of: &dyn Fn(&Table) -> String, out: &mut String) {
    let has_fk = |t: TableId, c: u32| {
        catalog
            .relations
            .iter()
            .any(|r| r.from == t && r.from_columns.contains(&c))
    };
    let mut wrote_header = false;
    for (ti, t) in catalog.tables.iter().enumerate() {
        let ti = ti as TableId;
        for (ci, c) in t.columns.iter().enumerate() {
            if has_fk(ti, ci as u32) || t.primary_key == [ci as u32] {
                continue;
            }
            let Some((to, pk)) = guess_target(catalog, ti, c) else {
                continue;
            };
            if !wrote_header {
                out.push_str(
                    "# Relationships guessed from column names (no foreign key says so):\n",
                );
                wrote_header = true;
            }
            let _ = writeln!(
                out,
                "[[relationships]]\nfrom = {}\nto = {}\n",
                quote(&format!("{}.{}", name_of(t), c.name)),
                quote(&format!("{}.{}", name_of(catalog.table(to)), pk))
            );
        }
    }
    let fks = catalog
        .relations
        .iter()
        .filter(|r| matches!(r.origin, RelationOrigin::ForeignKey(_)))
        .count();
    if fks > 0 {
        let _ = writeln!(
            out,
            "# {fks} foreign keys are known and need no declaration.\n"
        );
    }
}

/// Relations inferred from names and data, written out so that a person can confirm them (a
/// declared relation stays when the data changes; an inferred one is checked again).
fn inferred(catalog: &Catalog, name_of: &dyn Fn(&Table) -> String, out: &mut String) {
    let side = |t: TableId, cols: &[u32]| {
        let t = catalog.table(t);
        let names: Vec<String> = cols
            .iter()
            .map(|c| format!("{}.{}", name_of(t), t.columns[*c as usize].name))
            .collect();
        match names.as_slice() {
            [one] => quote(one),
            _ => list(&names),
        }
    };
    for r in &catalog.relations {
        let RelationOrigin::Inferred(why) = &r.origin else {
            continue;
        };
        let _ = writeln!(
            out,
            "# Inferred: {why}\n[[relationships]]\nfrom = {}\nto = {}\n",
            side(r.from, &r.from_columns),
            side(r.to, &r.to_columns)
        );
    }
}

fn metrics(catalog: &Catalog, name_of: &dyn Fn(&Table) -> String, out: &mut String) {
    out.push_str("# Metric drafts: uncomment, rename, add synonyms and filters.\n");
    for t in &catalog.tables {
        let tname = name_of(t);
        for c in &t.columns {
            if !c.kind.is_numeric() || is_key(t, c) {
                continue;
            }
            let time = time_column(t)
                .map(|tc| {
                    format!(
                        "\n# time_column = {}",
                        quote(&format!("{tname}.{}", tc.name))
                    )
                })
                .unwrap_or_default();
            let format = if looks_money(c) {
                "\n# format = \"money\""
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "# [metrics.{}]\n# sql = {}{time}{format}\n",
                key(&format!("total_{}", c.name)),
                quote(&format!("SUM({tname}.{})", c.name))
            );
        }
    }
}
