//! `[[examples]]`: questions with SQL a person wrote or checked, pinned in an annotation file
//! and shown to the model as examples when they are similar to a question (see
//! `crate::history`).
//!
//! ```toml
//! [[examples]]
//! question = "revenue by region in 2024"
//! sql = "SELECT r.name, SUM(o.total) FROM orders o JOIN regions r USING (region_id) GROUP BY 1"
//! ```

use super::{AnnotationFile, Resolver};
use crate::catalog::model::Catalog;
use crate::guard::depth;
use crate::history::{tables_read, Example, Source};
use crate::policy::Diagnostic;
use serde::Deserialize;
use toml::Spanned;

/// One `[[examples]]` entry as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ExampleSpec {
    question: Spanned<String>,
    sql: Spanned<String>,
}

/// The pinned examples of `files` that apply to `catalog`, and what is wrong with the others.
///
/// A file's examples apply where the file does (one of its tables or metrics is in the
/// database) or, for a file of examples only, where one of its examples reads only tables of
/// the database. In a file that applies, an example is reported and skipped when its question
/// is empty, its SQL is not exactly one read-only query (`SELECT`, `WITH ... SELECT`), or it
/// reads a table the database does not have.
pub fn examples(catalog: &Catalog, files: &[AnnotationFile]) -> (Vec<Example>, Vec<Diagnostic>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for file in files {
        if file.spec.examples.is_empty() {
            continue;
        }
        let mut r = Resolver {
            catalog,
            file,
            problems: Vec::new(),
        };
        let applies = r.applies()
            || file
                .spec
                .examples
                .iter()
                .any(|e| tables_of(&r, e.sql.get_ref()).is_ok());
        if !applies {
            continue;
        }
        for (i, e) in file.spec.examples.iter().enumerate() {
            if let Some(ex) = check(&mut r, i, e) {
                out.push(ex);
            }
        }
        problems.append(&mut r.problems);
    }
    (out, problems)
}

fn check(r: &mut Resolver, i: usize, e: &ExampleSpec) -> Option<Example> {
    let key = format!("examples[{i}]");
    let question = e.question.get_ref().trim();
    if question.is_empty() {
        r.report(
            Some(e.question.span()),
            &format!("{key}.question"),
            "empty question: write the question the SQL answers".into(),
        );
        return None;
    }
    if let Err(why) = tables_of(r, e.sql.get_ref()) {
        r.report(Some(e.sql.span()), &format!("{key}.sql"), why);
        return None;
    }
    Some(Example {
        question: question.to_string(),
        sql: e.sql.get_ref().trim().to_string(),
        source: Source::Pinned,
    })
}

/// Checks that `sql` is one read-only query whose tables are all in the catalog.
fn tables_of(r: &Resolver, sql: &str) -> Result<(), String> {
    let statements = depth::parse(sql).map_err(|e| format!("not valid SQL: {}", e.message))?;
    if statements.len() != 1 {
        return Err(format!(
            "holds {} statements; an example is exactly one query",
            statements.len()
        ));
    }
    let tables = tables_read(sql).ok_or_else(|| {
        "not a read-only query: an example is one SELECT (or WITH ... SELECT) that writes and locks nothing".to_string()
    })?;
    match tables.iter().find(|t| r.table(t).is_none()) {
        Some(t) => Err(format!(
            "reads table \"{t}\", which is not in this database"
        )),
        None => Ok(()),
    }
}
