//! `schemas/*.toml`: the business meaning of a database that its catalog cannot tell —
//! descriptions, synonyms, value words, named metrics, declared relationships, time and display
//! columns, units and formats. The format is documented in docs/CATALOG.md.
//!
//! Loading is two steps: [`load_dir`] parses the files (syntax and unknown keys are errors,
//! reported with file, line and key); [`apply`] resolves them against a live catalog. A file
//! none of whose tables exist in the database is for another database and is skipped; in a file
//! that applies, a name that does not resolve is reported and that entry is skipped.

mod examples;
mod expr;

use super::model::{Catalog, ColRef, Metric, Relation, RelationOrigin, TableId};
use crate::policy::Diagnostic;
pub use examples::examples;
use expr::checked_expr;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Display formats an annotation may name.
pub const FORMATS: &[&str] = &[
    "money", "percent", "integer", "decimal", "number", "date", "text",
];

/// One parsed annotation file.
#[derive(Debug, Clone)]
pub struct AnnotationFile {
    /// Where it came from.
    pub path: PathBuf,
    text: String,
    spec: FileSpec,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    /// Schema of bare table names.
    schema: Option<String>,
    #[serde(default)]
    tables: BTreeMap<String, TableSpec>,
    #[serde(default)]
    relationships: Vec<RelSpec>,
    #[serde(default)]
    metrics: BTreeMap<String, MetricSpec>,
    #[serde(default)]
    examples: Vec<examples::ExampleSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableSpec {
    description: Option<String>,
    #[serde(default)]
    synonyms: Vec<String>,
    time_column: Option<Spanned<String>>,
    display_column: Option<Spanned<String>>,
    #[serde(default)]
    columns: BTreeMap<String, ColumnSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ColumnSpec {
    description: Option<String>,
    #[serde(default)]
    synonyms: Vec<String>,
    /// word → value as stored.
    #[serde(default)]
    values: BTreeMap<String, String>,
    unit: Option<String>,
    format: Option<Spanned<String>>,
    #[serde(default)]
    pii: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Columns {
    One(String),
    Many(Vec<String>),
}

impl Columns {
    fn list(&self) -> Vec<&str> {
        match self {
            Columns::One(s) => vec![s.as_str()],
            Columns::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RelSpec {
    from: Spanned<Columns>,
    to: Spanned<Columns>,
    #[serde(default)]
    one_to_one: bool,
    #[serde(default)]
    preferred: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct MetricSpec {
    description: Option<String>,
    #[serde(default)]
    synonyms: Vec<String>,
    sql: Spanned<String>,
    #[serde(default)]
    filters: Vec<Spanned<String>>,
    #[serde(default)]
    tables: Vec<Spanned<String>>,
    time_column: Option<Spanned<String>>,
    unit: Option<String>,
    format: Option<Spanned<String>>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}

/// Parses every `*.toml` in `dir` (sorted by name); all problems are reported.
pub fn load_dir(dir: &Path) -> Result<Vec<AnnotationFile>, Vec<Diagnostic>> {
    let mut paths: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect(),
        Err(e) => {
            return Err(vec![Diagnostic {
                file: dir.to_path_buf(),
                line: None,
                key: "schemas".into(),
                message: format!("cannot read the annotation directory: {e}"),
            }])
        }
    };
    paths.sort();
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        match std::fs::read_to_string(&path) {
            Ok(text) => match parse(&path, text) {
                Ok(f) => files.push(f),
                Err(d) => problems.push(d),
            },
            Err(e) => problems.push(Diagnostic {
                file: path,
                line: None,
                key: "-".into(),
                message: format!("cannot read: {e}"),
            }),
        }
    }
    if problems.is_empty() {
        Ok(files)
    } else {
        Err(problems)
    }
}

/// Parses one annotation file's text.
pub fn parse(path: &Path, text: String) -> Result<AnnotationFile, Diagnostic> {
    match toml::from_str::<FileSpec>(&text) {
        Ok(spec) => Ok(AnnotationFile {
            path: path.to_path_buf(),
            text,
            spec,
        }),
        Err(e) => Err(Diagnostic {
            file: path.to_path_buf(),
            line: e.span().map(|s| line_of(&text, s.start)),
            key: "-".into(),
            message: e.message().to_string(),
        }),
    }
}

/// Resolves names of one file against a catalog and reports problems.
struct Resolver<'a> {
    catalog: &'a Catalog,
    file: &'a AnnotationFile,
    problems: Vec<Diagnostic>,
}

impl Resolver<'_> {
    /// Whether the file is for this database: one of its tables or metrics resolves.
    fn applies(&self) -> bool {
        let spec = &self.file.spec;
        spec.tables.keys().any(|t| self.table(t).is_some())
            || spec
                .metrics
                .values()
                .any(|m| self.expr_columns(m.sql.get_ref()).is_ok())
    }

    fn report(&mut self, span: Option<std::ops::Range<usize>>, key: &str, message: String) {
        self.problems.push(Diagnostic {
            file: self.file.path.clone(),
            line: span.map(|s| line_of(&self.file.text, s.start)),
            key: key.to_string(),
            message,
        });
    }

    fn table(&self, name: &str) -> Option<TableId> {
        match (&self.file.spec.schema, name.contains('.')) {
            (Some(s), false) => self.catalog.find_table(&format!("{s}.{name}")),
            _ => self.catalog.find_table(name),
        }
    }

    fn column(&self, name: &str) -> Result<ColRef, String> {
        let Some((t, c)) = name.rsplit_once('.') else {
            return Err(format!("\"{name}\" must be table.column"));
        };
        let table = self
            .table(t)
            .ok_or_else(|| format!("no table \"{t}\" in this database"))?;
        let col = self
            .catalog
            .table(table)
            .column(c)
            .ok_or_else(|| format!("table \"{t}\" has no column \"{c}\""))?;
        Ok(ColRef { table, column: col })
    }

    /// Columns an expression reads; every column must be written `table.column`.
    fn expr_columns(&self, sql: &str) -> Result<Vec<ColRef>, String> {
        Ok(self.expr(sql)?.1)
    }

    /// The expression as Querent will use it (parsed and printed again, so that nothing after
    /// it survives) and the columns it reads.
    fn expr(&self, sql: &str) -> Result<(String, Vec<ColRef>), String> {
        let (printed, names) = checked_expr(sql)?;
        let mut out = Vec::new();
        for n in names {
            let r = self.column(&n)?;
            if !out.contains(&r) {
                out.push(r);
            }
        }
        Ok((printed, out))
    }
}

fn check_format(r: &mut Resolver, f: &Option<Spanned<String>>, key: &str) -> Option<String> {
    let f = f.as_ref()?;
    if FORMATS.contains(&f.get_ref().as_str()) {
        return Some(f.get_ref().clone());
    }
    r.report(
        Some(f.span()),
        key,
        format!(
            "unknown format \"{}\"; use one of {}",
            f.get_ref(),
            FORMATS.join(", ")
        ),
    );
    None
}

/// Applies `files` to `catalog` (which is then re-sealed) and returns what did not resolve.
pub fn apply(catalog: &mut Catalog, files: &[AnnotationFile]) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    for file in files {
        let mut r = Resolver {
            catalog,
            file,
            problems: Vec::new(),
        };
        if !r.applies() {
            continue;
        }
        let edits = resolve_file(&mut r);
        problems.append(&mut r.problems);
        edits.apply(catalog);
    }
    catalog.seal();
    problems
}

/// Everything one file changes, resolved before the catalog is mutated.
#[derive(Default)]
struct Edits {
    tables: Vec<(TableId, super::model::TableNotes)>,
    columns: Vec<(ColRef, super::model::ColumnNotes)>,
    relations: Vec<Relation>,
    metrics: Vec<Metric>,
}

impl Edits {
    fn apply(self, catalog: &mut Catalog) {
        // Several files may annotate the same table or column: their notes are merged (lists
        // united, `pii` from any file, a later file's value winning over an earlier one's).
        for (t, notes) in self.tables {
            let to = &mut catalog.tables[t as usize].notes;
            merge(&mut to.description, notes.description);
            unite(&mut to.synonyms, notes.synonyms);
            merge(&mut to.time_column, notes.time_column);
            merge(&mut to.display_column, notes.display_column);
        }
        for (c, notes) in self.columns {
            let to = &mut catalog.tables[c.table as usize].columns[c.column as usize].notes;
            merge(&mut to.description, notes.description);
            unite(&mut to.synonyms, notes.synonyms);
            for (word, value) in notes.value_synonyms {
                // A word stands for one value: a later file's choice replaces an earlier one.
                to.value_synonyms.retain(|(w, _)| *w != word);
                to.value_synonyms.push((word, value));
            }
            merge(&mut to.unit, notes.unit);
            merge(&mut to.format, notes.format);
            to.pii |= notes.pii;
        }
        for rel in self.relations {
            // Declaring a foreign key again only adds its flags; declaring an inferred relation
            // makes it a declared one.
            let same = catalog.relations.iter_mut().find(|r| {
                (r.from, &r.from_columns, r.to, &r.to_columns)
                    == (rel.from, &rel.from_columns, rel.to, &rel.to_columns)
            });
            match same {
                Some(r) => {
                    if matches!(r.origin, RelationOrigin::Inferred(_)) {
                        r.origin = RelationOrigin::Declared;
                    }
                    r.preferred |= rel.preferred;
                    r.one_to_one |= rel.one_to_one;
                }
                None => catalog.relations.push(rel),
            }
        }
        for m in self.metrics {
            catalog.metrics.retain(|x| x.name != m.name);
            catalog.metrics.push(m);
        }
    }
}

/// A later annotation's value replaces an earlier one; no value keeps it.
fn merge<T>(to: &mut Option<T>, later: Option<T>) {
    if later.is_some() {
        *to = later;
    }
}

/// Adds the items of `later` that `to` does not have yet.
fn unite(to: &mut Vec<String>, later: Vec<String>) {
    for s in later {
        if !to.contains(&s) {
            to.push(s);
        }
    }
}

fn resolve_file(r: &mut Resolver) -> Edits {
    let mut edits = Edits::default();
    let spec = r.file.spec.clone();
    for (tname, t) in &spec.tables {
        let key = format!("tables.{tname}");
        let Some(tid) = r.table(tname) else {
            r.report(None, &key, format!("no table \"{tname}\" in this database"));
            continue;
        };
        let table = r.catalog.table(tid);
        let mut notes = super::model::TableNotes {
            description: t.description.clone(),
            synonyms: t.synonyms.clone(),
            ..Default::default()
        };
        for (field, value, slot) in [
            ("time_column", &t.time_column, &mut notes.time_column),
            (
                "display_column",
                &t.display_column,
                &mut notes.display_column,
            ),
        ] {
            if let Some(v) = value {
                match table.column(v.get_ref()) {
                    Some(c) => *slot = Some(c),
                    None => r.report(
                        Some(v.span()),
                        &format!("{key}.{field}"),
                        format!("table \"{tname}\" has no column \"{}\"", v.get_ref()),
                    ),
                }
            }
        }
        if let Some(c) = notes.time_column {
            if !table.columns[c as usize].kind.is_temporal() {
                r.report(
                    t.time_column.as_ref().map(|v| v.span()),
                    &format!("{key}.time_column"),
                    format!(
                        "column \"{}\" is {}, not a date or timestamp",
                        table.columns[c as usize].name, table.columns[c as usize].data_type
                    ),
                );
                notes.time_column = None;
            }
        }
        edits.tables.push((tid, notes));
        for (cname, c) in &t.columns {
            let ckey = format!("{key}.columns.{cname}");
            let Some(cid) = r.catalog.table(tid).column(cname) else {
                r.report(
                    None,
                    &ckey,
                    format!("table \"{tname}\" has no column \"{cname}\""),
                );
                continue;
            };
            let format = check_format(r, &c.format, &format!("{ckey}.format"));
            edits.columns.push((
                ColRef {
                    table: tid,
                    column: cid,
                },
                super::model::ColumnNotes {
                    description: c.description.clone(),
                    synonyms: c.synonyms.clone(),
                    value_synonyms: c
                        .values
                        .iter()
                        .map(|(w, v)| (w.clone(), v.clone()))
                        .collect(),
                    unit: c.unit.clone(),
                    format,
                    pii: c.pii,
                },
            ));
        }
    }
    for (i, rel) in spec.relationships.iter().enumerate() {
        if let Some(rel) = resolve_relation(r, rel, i) {
            edits.relations.push(rel);
        }
    }
    for (name, m) in &spec.metrics {
        if let Some(m) = resolve_metric(r, name, m) {
            edits.metrics.push(m);
        }
    }
    edits
}

fn resolve_relation(r: &mut Resolver, rel: &RelSpec, i: usize) -> Option<Relation> {
    let key = format!("relationships[{i}]");
    let mut sides = Vec::new();
    for (field, cols) in [("from", &rel.from), ("to", &rel.to)] {
        let mut refs = Vec::new();
        for c in cols.get_ref().list() {
            match r.column(c) {
                Ok(cr) => refs.push(cr),
                Err(e) => {
                    r.report(Some(cols.span()), &format!("{key}.{field}"), e);
                    return None;
                }
            }
        }
        let table = refs.first().map(|c| c.table)?;
        if refs.iter().any(|c| c.table != table) {
            r.report(
                Some(cols.span()),
                &format!("{key}.{field}"),
                "all columns of one side must be in the same table".into(),
            );
            return None;
        }
        sides.push((table, refs.iter().map(|c| c.column).collect::<Vec<_>>()));
    }
    let (to, to_columns) = sides.pop()?;
    let (from, from_columns) = sides.pop()?;
    if from_columns.len() != to_columns.len() {
        r.report(
            Some(rel.to.span()),
            &key,
            "from and to must name the same number of columns".into(),
        );
        return None;
    }
    Some(Relation {
        from,
        from_columns,
        to,
        to_columns,
        one_to_one: rel.one_to_one,
        preferred: rel.preferred,
        origin: RelationOrigin::Declared,
    })
}

fn resolve_metric(r: &mut Resolver, name: &str, m: &MetricSpec) -> Option<Metric> {
    let key = format!("metrics.{name}");
    let mut columns = Vec::new();
    let mut ok = true;
    let exprs = std::iter::once((&m.sql, "sql".to_string())).chain(
        m.filters
            .iter()
            .enumerate()
            .map(|(i, f)| (f, format!("filters[{i}]"))),
    );
    // What is kept is the parsed expression printed back, never the raw text.
    let mut printed = Vec::new();
    for (sql, field) in exprs {
        match r.expr(sql.get_ref()) {
            Ok((text, cols)) => {
                printed.push(text);
                for c in cols {
                    if !columns.contains(&c) {
                        columns.push(c);
                    }
                }
            }
            Err(e) => {
                r.report(Some(sql.span()), &format!("{key}.{field}"), e);
                ok = false;
            }
        }
    }
    let mut tables: Vec<TableId> = Vec::new();
    for c in &columns {
        if !tables.contains(&c.table) {
            tables.push(c.table);
        }
    }
    for t in &m.tables {
        match r.table(t.get_ref()) {
            Some(id) if !tables.contains(&id) => tables.push(id),
            Some(_) => {}
            None => {
                r.report(
                    Some(t.span()),
                    &format!("{key}.tables"),
                    format!("no table \"{}\" in this database", t.get_ref()),
                );
                ok = false;
            }
        }
    }
    let time_column = match &m.time_column {
        None => None,
        Some(tc) => match r.column(tc.get_ref()) {
            Ok(c) if r.catalog.column(c).kind.is_temporal() => {
                if !tables.contains(&c.table) {
                    tables.push(c.table);
                }
                Some(c)
            }
            Ok(c) => {
                let col = r.catalog.column(c);
                r.report(
                    Some(tc.span()),
                    &format!("{key}.time_column"),
                    format!(
                        "column \"{}\" is {}, not a date or timestamp",
                        col.name, col.data_type
                    ),
                );
                None
            }
            Err(e) => {
                r.report(Some(tc.span()), &format!("{key}.time_column"), e);
                None
            }
        },
    };
    let format = check_format(r, &m.format, &format!("{key}.format"));
    if !ok {
        return None;
    }
    let mut printed = printed.into_iter();
    Some(Metric {
        name: name.to_string(),
        description: m.description.clone(),
        synonyms: m.synonyms.clone(),
        sql: printed.next()?,
        tables,
        columns,
        filters: printed.collect(),
        time_column,
        unit: m.unit.clone(),
        format,
    })
}
