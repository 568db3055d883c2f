//! `querent schema suggest`: a first draft of one database's annotation file from its live
//! catalog, for a person to edit. It fills in what the catalog can tell (comments, the display
//! and time columns inference chose, personal data (`pii`), low-cardinality values, formats,
//! the inferred relationships) and leaves commented-out drafts to check: relationships guessed
//! from names alone and metrics over measures (`measures`). Every line of it, uncommented,
//! loads without a diagnostic.

mod measures;
mod pii;

use super::infer;
use super::model::{Catalog, Column, RelationOrigin, Table, TableId, ValueKind};
pub use measures::{is_measure, named_like_key};
pub use pii::{looks_personal, personal};
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

/// `s` with every control character escaped, for a note line.
fn one_line(s: &str) -> String {
    if s.chars().any(char::is_control) {
        let q = quote(s);
        q[1..q.len() - 1].to_string()
    } else {
        s.to_string()
    }
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

const MONEY_WORDS: &[&str] = &[
    "price", "amount", "cost", "revenue", "salary", "fee", "total", "paid", "refund", "usd", "eur",
    "balance", "income", "spend", "wage",
];

fn looks_money(c: &Column) -> bool {
    let n = c.name.to_ascii_lowercase();
    matches!(c.kind, ValueKind::Decimal | ValueKind::Float)
        && MONEY_WORDS.iter().any(|w| n.contains(w))
}

/// A file name for the draft of `database`: `<database>.toml`, with anything but letters,
/// digits, `_`, `-` and `.` replaced by `_` (and never a hidden or empty name).
pub fn file_name(database: &str) -> String {
    let safe: String = database
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_-.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = safe.trim_start_matches('.');
    if safe.is_empty() {
        "database.toml".into()
    } else {
        format!("{safe}.toml")
    }
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

/// Drafts the annotation file of `catalog`'s database (one file per database; the header
/// says which and where to save it). Lines starting with `# ` are drafts to check and
/// uncomment; lines starting with `##` are notes that stay comments.
pub fn suggest(catalog: &Catalog) -> String {
    // Display and time columns as inference chose them; a catalog it has not run on (a
    // hand-built one) gets the same choice here.
    let mut catalog = catalog.clone();
    infer::infer_labels(&mut catalog, &mut infer::Inference::default());
    let catalog = &catalog;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Draft annotations for database {}, written by `querent schema suggest`.\n\
         ## Save it as schemas/{}: one file per database.\n\
         ## Check every line. Lines starting with \"# \" are drafts: uncomment those that are right.\n\
         ## Add synonyms people use, value words, metrics with their filters. Format: docs/CATALOG.md.\n",
        quote(&catalog.database),
        file_name(&catalog.database),
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
        table(t, &name_of, &mut out);
    }
    relationships(catalog, &name_of, &mut out);
    inferred(catalog, &name_of, &mut out);
    metrics(catalog, &name_of, &mut out);
    out
}

/// The `[tables.<name>]` section of `t` and its columns' sections.
fn table(t: &Table, name_of: &dyn Fn(&Table) -> String, out: &mut String) {
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
    let label = |c: Option<u32>| c.map(|c| &t.columns[c as usize]);
    if let Some(c) = label(t.notes.display_column).filter(|c| !personal(t, c)) {
        let _ = writeln!(out, "display_column = {}", quote(&c.name));
    }
    if let Some(c) = label(t.notes.time_column).filter(|c| !personal(t, c)) {
        let _ = writeln!(out, "time_column = {}", quote(&c.name));
    }
    out.push('\n');
    for c in &t.columns {
        let mut lines = Vec::new();
        if let Some(comment) = &c.comment {
            lines.push(format!("description = {}", quote(comment)));
        }
        if personal(t, c) {
            lines.push("pii = true".into());
        } else if let Some(values) = c
            .profile
            .as_ref()
            .and_then(|p| p.values.as_ref())
            .filter(|_| c.kind == ValueKind::Text)
        {
            if !values.is_empty() && values.len() <= 30 {
                lines.push(format!("## values seen: {}", list(values)));
                lines.push("## values = { \"word people use\" = \"value as stored\" }".into());
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

/// Relationships guessed from column names alone (`customer_id` → `customers`), for columns
/// that no foreign key or inferred relationship covers: the data did not confirm them
/// (inference did not run, could not check, or found values missing), so they are drafts.
fn relationships(catalog: &Catalog, name_of: &dyn Fn(&Table) -> String, out: &mut String) {
    let has_rel = |t: TableId, c: u32| {
        catalog
            .relations
            .iter()
            .any(|r| r.from == t && r.from_columns.contains(&c))
    };
    let mut wrote_header = false;
    for (ti, t) in catalog.tables.iter().enumerate() {
        let ti = ti as TableId;
        for (ci, c) in t.columns.iter().enumerate() {
            if has_rel(ti, ci as u32) || t.primary_key == [ci as u32] {
                continue;
            }
            let Some((to, pk)) = guess_target(catalog, ti, c) else {
                continue;
            };
            if !wrote_header {
                out.push_str(
                    "## Relationships guessed from column names only: the data did not confirm \
                     them (not checked, or values missing).\n",
                );
                wrote_header = true;
            }
            let _ = writeln!(
                out,
                "# [[relationships]]\n# from = {}\n# to = {}\n",
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
            "## {fks} foreign keys are known and need no declaration.\n"
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
            "## Inferred: {}\n[[relationships]]\nfrom = {}\nto = {}\n",
            one_line(why),
            side(r.from, &r.from_columns),
            side(r.to, &r.to_columns)
        );
    }
}

/// Commented drafts of the measures (see `measures`), each named uniquely.
fn metrics(catalog: &Catalog, name_of: &dyn Fn(&Table) -> String, out: &mut String) {
    out.push_str("## Metric drafts: uncomment, rename, add synonyms and filters.\n");
    for m in measures::drafts(catalog) {
        let t = catalog.table(m.table);
        let c = &t.columns[m.column as usize];
        let tname = name_of(t);
        let time = t
            .notes
            .time_column
            .map(|tc| &t.columns[tc as usize])
            .filter(|tc| !personal(t, tc))
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
            key(&m.name),
            quote(&m.sql(catalog, &tname))
        );
    }
}

#[cfg(test)]
pub(crate) mod tests;
