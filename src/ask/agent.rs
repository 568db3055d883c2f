//! What the language model is asked and how its answer is read. The prompt holds only the
//! role's catalog view: the tables linking ranks for the question and their neighbours, by id,
//! with types, comments and a few values of small columns that are not personal; the answer
//! is a plan (checked against the same view by `plan_check`, then compiled) or one SELECT
//! (checked by `sql_check`, the guard and `verify`). The loop around it is `llm`.

use super::plan::AnalysisPlan;
use crate::catalog::link::Element;
use crate::catalog::store::Semantic;
use crate::catalog::TableId;
use std::fmt::Write;

/// Values shown per column at most (only columns with no more distinct values than this).
const MAX_VALUES: usize = 12;

/// The catalog part of a prompt: the tables linking ranks for `question` first, then the
/// tables they join to, at most `max_tables`; with their columns by id and the joins between
/// them. Only the role's view `s` is read, and never a value of a personal column.
pub fn grounding(s: &Semantic, question: &str, max_tables: usize) -> String {
    let c = &s.catalog;
    let linking = s.index.link(c, question);
    let mut tables: Vec<TableId> = Vec::new();
    let add = |t: TableId, tables: &mut Vec<TableId>| {
        if tables.len() < max_tables && !tables.contains(&t) {
            tables.push(t);
        }
    };
    for cand in &linking.candidates {
        match &cand.element {
            Element::Table(t) => add(*t, &mut tables),
            Element::Column(col) | Element::Value { column: col, .. } => {
                add(col.table, &mut tables)
            }
            Element::Metric(m) => {
                for t in &c.metrics[*m as usize].tables {
                    add(*t, &mut tables);
                }
            }
        }
    }
    let linked = tables.clone();
    for r in &c.relations {
        if linked.contains(&r.from) {
            add(r.to, &mut tables);
        } else if linked.contains(&r.to) {
            add(r.from, &mut tables);
        }
    }
    if tables.is_empty() {
        tables = (0..c.tables.len().min(max_tables) as u32).collect();
    }
    let mut out = String::new();
    for t in &tables {
        let table = c.table(*t);
        let _ = write!(out, "table {t} {}", table.qualified());
        if let Some(d) = table.notes.description.as_ref().or(table.comment.as_ref()) {
            let _ = write!(out, " -- {d}");
        }
        if !table.notes.synonyms.is_empty() {
            let _ = write!(out, " (also called: {})", table.notes.synonyms.join(", "));
        }
        out.push('\n');
        for (k, col) in table.columns.iter().enumerate() {
            let key = if table.primary_key.contains(&(k as u32)) {
                " key"
            } else {
                ""
            };
            let _ = write!(out, "  column {t}.{k} {} {}{key}", col.name, col.data_type);
            if let Some(d) = col.notes.description.as_ref().or(col.comment.as_ref()) {
                let _ = write!(out, " -- {d}");
            }
            if !col.notes.synonyms.is_empty() {
                let _ = write!(out, " (also called: {})", col.notes.synonyms.join(", "));
            }
            if let Some(u) = &col.notes.unit {
                let _ = write!(out, " unit: {u}");
            }
            // Values only where the role's view kept them (not personal, masked or filtered).
            let values = col.profile.as_ref().and_then(|p| p.values.as_ref());
            if let Some(v) = values.filter(|v| !col.notes.pii && v.len() <= MAX_VALUES) {
                let _ = write!(out, " values: {}", v.join(" | "));
            }
            if values.is_some() && !col.notes.pii && !col.notes.value_synonyms.is_empty() {
                let words: Vec<String> = col
                    .notes
                    .value_synonyms
                    .iter()
                    .map(|(w, v)| format!("\"{w}\" = {v}"))
                    .collect();
                let _ = write!(out, " value words: {}", words.join(", "));
            }
            out.push('\n');
        }
    }
    for r in &c.relations {
        if tables.contains(&r.from) && tables.contains(&r.to) {
            let cols = |t: TableId, cs: &[u32]| {
                cs.iter()
                    .map(|k| format!("{t}.{k}"))
                    .collect::<Vec<_>>()
                    .join(",")
            };
            let _ = writeln!(
                out,
                "join {} = {}",
                cols(r.from, &r.from_columns),
                cols(r.to, &r.to_columns)
            );
        }
    }
    for (i, m) in c.metrics.iter().enumerate() {
        if m.tables.iter().any(|t| tables.contains(t)) {
            let _ = write!(out, "metric {i} {} = {}", m.name, m.sql);
            if !m.filters.is_empty() {
                let _ = write!(out, " where {}", m.filters.join(" and "));
            }
            if let Some(d) = &m.description {
                let _ = write!(out, " -- {d}");
            }
            out.push('\n');
        }
    }
    out
}

/// Characters of catalog at most in one prompt (about 6,000 tokens).
const MAX_CATALOG_CHARS: usize = 24_000;

/// Version of the prompt, part of the model cache's key: bump it when the prompt changes.
pub const PROMPT_VERSION: u32 = 1;

/// The instructions of the agents.
pub const SYSTEM: &str = "You answer business questions about a PostgreSQL database for Querent, \
a SQL gateway. You are given the part of the catalog the asking user may read: tables and \
columns with ids, types, comments, some stored values, and the joins. Answer with one JSON \
object {\"plan\": ..., \"sql\": ...}.\n\
- plan: when the question asks for one or two measures (a count, a sum, an average, ...), \
optionally grouped, filtered, ranked, or over a time range, write an analysis plan naming \
tables, columns and metrics only by their ids (a column is {\"table\": T, \"column\": C}); \
values in filters are data, written as they are stored. Set sql to null.\n\
- sql: otherwise, write one PostgreSQL SELECT statement that reads only the tables and columns \
listed (by the names listed, qualified as listed), and set plan to null.\n\
Never write or change data, never read other tables, and call only standard functions. When an \
answer of yours fails, you are told why: answer again, corrected, in the same form.";

/// A usable answer of the model, before any check against the catalog or the guard.
#[derive(Debug, Clone, PartialEq)]
pub enum Candidate {
    /// A plan to check and compile.
    Plan(Box<AnalysisPlan>),
    /// SQL to check.
    Sql(String),
}

fn unfenced(text: &str) -> &str {
    let t = text.trim();
    let Some(rest) = t.strip_prefix("```") else {
        return t;
    };
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    rest.strip_suffix("```").unwrap_or(rest).trim()
}

/// Reads what the model answered: `{"plan": ..., "sql": ...}` (the schema), a bare plan, or —
/// from models that ignore the format — SQL on its own, in a code fence or not.
pub fn parse_answer(content: &str) -> Result<Candidate, String> {
    let text = unfenced(content);
    if let Ok(serde_json::Value::Object(o)) = serde_json::from_str::<serde_json::Value>(text) {
        if o.contains_key("intent") {
            return plan_of(serde_json::Value::Object(o));
        }
        if let Some(p) = o.get("plan").filter(|p| !p.is_null()) {
            return plan_of(p.clone());
        }
        return match o.get("sql").and_then(|s| s.as_str()) {
            Some(sql) if !sql.trim().is_empty() => Ok(Candidate::Sql(unfenced(sql).to_string())),
            _ => Err("the answer has neither a plan nor SQL".into()),
        };
    }
    let first = text
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if first == "select" || first == "with" || first.starts_with("select") {
        return Ok(Candidate::Sql(text.to_string()));
    }
    Err("the answer is not JSON with a plan or SQL".into())
}

fn plan_of(v: serde_json::Value) -> Result<Candidate, String> {
    serde_json::from_value(v)
        .map(|p| Candidate::Plan(Box::new(p)))
        .map_err(|e| format!("the plan does not follow the schema: {e}"))
}

/// The first message of a question: the catalog part, pinned or verified examples, the
/// previous question of the conversation, and the question.
pub fn user_prompt(
    catalog: &str,
    examples: &[(String, String)],
    previous: Option<(&str, &str)>,
    question: &str,
) -> String {
    let mut out = format!("Catalog:\n{catalog}\n");
    if !examples.is_empty() {
        out.push_str("Verified examples (question and SQL):\n");
        for (q, sql) in examples {
            let _ = writeln!(out, "Q: {q}\nSQL: {sql}");
        }
        out.push('\n');
    }
    if let Some((q, sql)) = previous {
        let _ = writeln!(
            out,
            "Previous question in this conversation: {q}\nIts SQL: {sql}\n"
        );
    }
    let _ = write!(out, "Question: {question}");
    out
}

/// The catalog part of the prompt for `question`: [`grounding`] with up to 12 tables, cut at
/// whole lines to stay within [`MAX_CATALOG_CHARS`].
pub fn catalog_prompt(s: &Semantic, question: &str) -> String {
    let full = grounding(s, question, 12);
    if full.len() <= MAX_CATALOG_CHARS {
        return full;
    }
    let mut out = String::new();
    for line in full.lines() {
        if out.len() + line.len() + 1 > MAX_CATALOG_CHARS {
            break;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ask::tests_count_schemas::courses;

    #[test]
    fn grounding_shows_the_linked_tables_by_id_and_no_personal_values() {
        let s = courses();
        let g = grounding(
            &s,
            "How many students have declared a major in each program?",
            12,
        );
        assert!(g.contains("table "), "{g}");
        assert!(g.contains("student"), "{g}");
        assert!(g.contains("program"), "{g}");
        assert!(g.contains("declare_major"), "{g}");
        assert!(g.lines().any(|l| l.starts_with("join ")), "{g}");
        // Values of small columns are shown, never those of a personal column.
        let mut c = s.catalog.clone();
        let major = c.find_column("student.declare_major").unwrap();
        let column = &mut c.tables[major.table as usize].columns[major.column as usize];
        column.profile = Some(crate::catalog::Profile {
            distinct: Some(2),
            values: Some(vec!["Zoology".into(), "Botany".into()]),
            min: None,
            max: None,
            source: None,
        });
        let shown = grounding(&Semantic::new(c.clone()), "students by declared major", 12);
        assert!(shown.contains("Zoology | Botany"), "{shown}");
        c.tables[major.table as usize].columns[major.column as usize]
            .notes
            .pii = true;
        let hidden = grounding(&Semantic::new(c), "students by declared major", 12);
        assert!(
            hidden.contains("declare_major") && !hidden.contains("Zoology"),
            "{hidden}"
        );
        // At most the asked number of tables.
        let one = grounding(
            &s,
            "How many students have declared a major in each program?",
            1,
        );
        assert_eq!(
            one.lines().filter(|l| l.starts_with("table ")).count(),
            1,
            "{one}"
        );
    }
}
