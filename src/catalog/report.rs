//! What `querent catalog` prints: tables, keys, the join graph, metrics, value index sizes,
//! annotation problems, and optionally how a question links.

use super::infer::Inference;
use super::link::{Element, Linking, MatchKind};
use super::model::{Catalog, RelationOrigin, Table};
use super::store::{Loaded, Semantic};
use std::fmt::Write;

fn columns_of(t: &Table, ids: &[u32]) -> String {
    ids.iter()
        .map(|c| t.columns[*c as usize].name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Names an element of a catalog the way people read it.
pub fn element_name(c: &Catalog, e: &Element) -> String {
    match e {
        Element::Table(t) => format!("table {}", c.table(*t).qualified()),
        Element::Column(r) => format!(
            "column {}.{}",
            c.table(r.table).qualified(),
            c.column(*r).name
        ),
        Element::Value { column, value } => format!(
            "value {}.{} = '{}'",
            c.table(column.table).qualified(),
            c.column(*column).name,
            value
        ),
        Element::Metric(m) => format!("metric {}", c.metrics[*m as usize].name),
    }
}

fn how(m: &MatchKind) -> String {
    match m {
        MatchKind::Exact => "exact".into(),
        MatchKind::Stemmed => "stemmed".into(),
        MatchKind::Synonym => "synonym".into(),
        MatchKind::Typo { distance } => format!("typo (distance {distance})"),
    }
}

/// Renders `view` (a role's view, or the whole catalog) of `loaded`. With a role, only the
/// view is described: no figure of the whole catalog, no annotation problems (they name
/// tables and columns the role may not see).
pub fn render(loaded: &Loaded, view: &Semantic, role: Option<&str>) -> String {
    let mut out = String::new();
    let c = &view.catalog;
    let _ = writeln!(
        out,
        "database {} · schema version {} · read in {} ms",
        c.database,
        c.version,
        loaded.took.as_millis()
    );
    if let Some(r) = role {
        let _ = writeln!(
            out,
            "role {r}: {} tables, {} columns, {} metrics visible",
            c.tables.len(),
            c.column_count(),
            c.metrics.len(),
        );
    }
    let _ = writeln!(
        out,
        "\nTABLES ({} tables, {} columns)",
        c.tables.len(),
        c.column_count()
    );
    for t in &c.tables {
        let rows = t
            .row_estimate
            .map_or("rows unknown".to_string(), |r| format!("~{r} rows"));
        let _ = write!(out, "  {:<32} {:?} {rows}", t.qualified(), t.kind);
        let inferred = |list: &[String], c: u32| {
            let name = format!("{}.{}", t.qualified(), t.columns[c as usize].name);
            if list.contains(&name) {
                " (inferred)"
            } else {
                ""
            }
        };
        let inf = &loaded.inference;
        if !t.primary_key.is_empty() {
            let how = inferred(&inf.primary_keys, t.primary_key[0]);
            let _ = write!(out, "  pk({}){how}", columns_of(t, &t.primary_key));
        }
        if let Some(tc) = t.notes.time_column {
            let how = inferred(&inf.time_columns, tc);
            let _ = write!(out, "  time: {}{how}", t.columns[tc as usize].name);
        }
        if let Some(dc) = t.notes.display_column {
            let how = inferred(&inf.display_columns, dc);
            let _ = write!(out, "  shown by: {}{how}", t.columns[dc as usize].name);
        }
        out.push('\n');
        if let Some(d) = t.notes.description.as_ref().or(t.comment.as_ref()) {
            let _ = writeln!(out, "      {d}");
        }
        if !t.notes.synonyms.is_empty() {
            let _ = writeln!(out, "      also called: {}", t.notes.synonyms.join(", "));
        }
        for col in &t.columns {
            let _ = write!(out, "      {:<24} {}", col.name, col.data_type);
            if let Some(p) = &col.profile {
                if let Some(d) = p.distinct {
                    let _ = write!(out, "  ~{d} distinct");
                }
                if let Some(v) = &p.values {
                    let shown: Vec<&str> = v.iter().take(6).map(String::as_str).collect();
                    let more = if v.len() > 6 { ", ..." } else { "" };
                    let _ = write!(out, "  values: {}{more}", shown.join(", "));
                }
                if let (Some(lo), Some(hi)) = (&p.min, &p.max) {
                    let _ = write!(out, "  range: {lo} .. {hi}");
                }
            }
            if col.notes.pii {
                out.push_str("  [pii]");
            }
            if !col.notes.synonyms.is_empty() {
                let _ = write!(out, "  also: {}", col.notes.synonyms.join(", "));
            }
            out.push('\n');
        }
    }
    let _ = writeln!(out, "\nJOIN GRAPH ({} relations)", c.relations.len());
    for r in &c.relations {
        let (from, to) = (c.table(r.from), c.table(r.to));
        let origin = match &r.origin {
            RelationOrigin::ForeignKey(n) => format!("foreign key {n}"),
            RelationOrigin::Declared => "declared in annotations".into(),
            RelationOrigin::Inferred(why) => format!("inferred: {why}"),
        };
        let _ = writeln!(
            out,
            "  {}({}) -> {}({})  {}  {origin}{}",
            from.qualified(),
            columns_of(from, &r.from_columns),
            to.qualified(),
            columns_of(to, &r.to_columns),
            if r.one_to_one {
                "one-to-one"
            } else {
                "many-to-one"
            },
            if r.preferred { "  (preferred)" } else { "" }
        );
    }
    let _ = writeln!(out, "\nMETRICS ({})", c.metrics.len());
    for m in &c.metrics {
        let tables: Vec<String> = m.tables.iter().map(|t| c.table(*t).name.clone()).collect();
        let _ = writeln!(out, "  {} = {}", m.name, m.sql);
        let _ = write!(out, "      tables: {}", tables.join(", "));
        if !m.filters.is_empty() {
            let _ = write!(out, "; where {}", m.filters.join(" AND "));
        }
        if let Some(tc) = m.time_column {
            let _ = write!(
                out,
                "; dated by {}.{}",
                c.table(tc.table).name,
                c.column(tc).name
            );
        }
        if let Some(g) = view.graph.grain(&m.tables) {
            let _ = write!(out, "; counts rows of {}", c.table(g).name);
        }
        out.push('\n');
        if !m.synonyms.is_empty() {
            let _ = writeln!(out, "      also called: {}", m.synonyms.join(", "));
        }
    }
    examples(loaded, view, &mut out);
    let s = view.index.stats();
    let with_values = c
        .tables
        .iter()
        .flat_map(|t| &t.columns)
        .filter(|col| col.profile.as_ref().is_some_and(|p| p.values.is_some()))
        .count();
    let _ = writeln!(
        out,
        "\nVALUE INDEX\n  {} phrases, {} terms, {} values from {with_values} columns, {} typo-index entries",
        s.phrases, s.terms, s.values, s.delete_entries
    );
    if role.is_none() {
        inference(&loaded.inference, &mut out);
    }
    if role.is_none() && !loaded.problems.is_empty() {
        let _ = writeln!(out, "\nANNOTATION PROBLEMS ({})", loaded.problems.len());
        for p in &loaded.problems {
            let _ = writeln!(out, "  {p}");
        }
    }
    out
}

/// The pinned examples (`[[examples]]`) whose every table is in `view`, with those tables.
fn examples(loaded: &Loaded, view: &Semantic, out: &mut String) {
    let shown: Vec<_> = loaded
        .examples
        .iter()
        .filter_map(|e| {
            let tables = crate::history::tables_read(&e.sql)?;
            let names: Option<Vec<String>> = tables
                .iter()
                .map(|t| {
                    view.catalog
                        .find_table(t)
                        .map(|id| view.catalog.table(id).qualified())
                })
                .collect();
            Some((e, names?))
        })
        .collect();
    let _ = writeln!(out, "\nEXAMPLES ({})", shown.len());
    for (e, tables) in shown {
        let _ = writeln!(out, "  {:?}", e.question);
        let _ = writeln!(out, "      tables: {}", tables.join(", "));
    }
}

/// The cost of inference and the columns that fit several keys (whole catalog only: they name
/// tables a role may not see).
fn inference(inf: &Inference, out: &mut String) {
    let _ = writeln!(
        out,
        "\nINFERENCE ({} keys, {} relations, {} display and {} time columns; {} candidates, \
         {} statements, {} skipped, {} failed, {} ms)",
        inf.primary_keys.len(),
        inf.relations,
        inf.display_columns.len(),
        inf.time_columns.len(),
        inf.candidates,
        inf.statements,
        inf.skipped,
        inf.failed,
        inf.took_ms
    );
    for a in &inf.ambiguous {
        let _ = writeln!(
            out,
            "  ambiguous: {} fits {} (no relation made; declare one in schemas/*.toml)",
            a.column,
            a.targets.join(", ")
        );
    }
}

/// Renders how `question` links against `view`.
pub fn render_link(view: &Semantic, question: &str, linking: &Linking) -> String {
    let c = &view.catalog;
    let mut out = format!("LINKING \"{question}\"\n");
    for cand in &linking.candidates {
        let _ = writeln!(
            out,
            "  {:.2}  {:<48} \"{}\" {} \"{}\"",
            cand.score,
            element_name(c, &cand.element),
            cand.words,
            how(&cand.how),
            cand.phrase
        );
    }
    let unlinked: Vec<&str> = linking
        .unlinked
        .iter()
        .filter_map(|i| linking.tokens.get(*i))
        .map(|t| t.text.as_str())
        .collect();
    let _ = writeln!(
        out,
        "  unlinked words: {}",
        if unlinked.is_empty() {
            "none".to_string()
        } else {
            unlinked.join(", ")
        }
    );
    out
}
