//! The planner agent: a question asked of a language model for an AnalysisPlan, grounded in
//! the role's catalog view only (issue 11, in progress: ASK does not call it yet). The prompt
//! shows the tables linking ranks for the question and their neighbours, by id, with types,
//! comments and a few values of small columns that are not personal; the answer is checked
//! against the same view (`plan_check`) before anything is compiled.

use super::model::{ModelClient, ModelError, Reply, Shape};
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
            let values = col.profile.as_ref().and_then(|p| p.values.as_ref());
            if let Some(v) = values.filter(|v| !col.notes.pii && v.len() <= MAX_VALUES) {
                let _ = write!(out, " values: {}", v.join(" | "));
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
            let _ = write!(out, "metric {i} {}", m.name);
            if let Some(d) = &m.description {
                let _ = write!(out, " -- {d}");
            }
            out.push('\n');
        }
    }
    out
}

/// The instructions of the planner agent.
const SYSTEM: &str = "You turn a business question into an analysis plan for a SQL compiler. \
Answer with one JSON object following the given schema, naming tables, columns and metrics only \
by the ids listed in the catalog (a column is {\"table\": T, \"column\": C}). Values in filters \
are data, written as they are stored. Never write SQL.";

/// Asks the model for a plan of `question` over the role's view `s` and checks it there.
pub async fn plan_with_model(
    client: &ModelClient,
    s: &Semantic,
    question: &str,
) -> Result<(AnalysisPlan, Reply), ModelError> {
    let user = format!(
        "Catalog:\n{}\nQuestion: {question}",
        grounding(s, question, 12)
    );
    let reply = client
        .complete(
            SYSTEM,
            &user,
            Some(Shape {
                name: "analysis_plan",
                schema: super::plan_schema::plan_schema(),
            }),
        )
        .await?;
    let plan =
        super::plan_check::parse_plan(&s.catalog, &reply.content).map_err(|e| ModelError {
            code: "QA003",
            message: format!(
                "the language model at {} answered a plan ASK cannot use: {e}",
                client.endpoint()
            ),
        })?;
    Ok((plan, reply))
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
