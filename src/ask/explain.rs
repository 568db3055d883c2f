//! `EXPLAIN ASK`: what was linked (with the words that matched), the AnalysisPlan as JSON, the
//! SQL before and after the guard, the planner and its confidence — as rows of a VALUES list
//! the upstream returns, so every client and both protocols see an ordinary result.

use super::compile::{literal, measure_name};
use super::llm::ModelMade;
use super::plan::{AnalysisPlan, Intent};
use super::planner::Planned;
use crate::catalog::report::element_name;
use crate::catalog::store::Semantic;
use crate::catalog::Catalog;

/// A one-line description of what the plan computes.
pub fn summary(c: &Catalog, plan: &AnalysisPlan) -> String {
    let mut s = plan
        .measures
        .iter()
        .map(|m| measure_name(c, m).replace('_', " "))
        .collect::<Vec<_>>()
        .join(", ");
    s = match plan.intent {
        Intent::Share => format!("share of {s} (%)"),
        Intent::Growth => format!("growth of {s} (%)"),
        Intent::List => plan
            .dimensions
            .first()
            .map(|d| format!("list of {}", c.table(d.column.table).name))
            .unwrap_or(s),
        Intent::Difference => format!("difference in {s}"),
        Intent::Ratio => format!("ratio of {}", s.replace(", ", " to ")),
        Intent::Aggregate => s,
    };
    let dims: Vec<String> = plan
        .dimensions
        .iter()
        .filter(|_| plan.intent != Intent::List)
        .map(|d| dimension_name(c, d, false))
        .collect();
    if !dims.is_empty() {
        s.push_str(&format!(" by {}", dims.join(" and ")));
    }
    for f in &plan.filters {
        let vals: Vec<String> = f
            .values
            .iter()
            .map(|v| match v {
                super::plan::Value::Text(t) => t.clone(),
                super::plan::Value::Number(n) => n.to_string(),
                super::plan::Value::Bool(b) => b.to_string(),
            })
            .collect();
        let op = match f.op {
            super::plan::Op::Eq if f.values.len() > 1 => "in",
            super::plan::Op::Eq => "=",
            super::plan::Op::Ne => "<>",
            super::plan::Op::Gt => ">",
            super::plan::Op::Ge => ">=",
            super::plan::Op::Lt => "<",
            super::plan::Op::Le => "<=",
            super::plan::Op::Contains => "contains",
            super::plan::Op::StartsWith => "starts with",
            super::plan::Op::EndsWith => "ends with",
            super::plan::Op::IsNull => "is null",
            super::plan::Op::NotNull => "is not null",
        };
        s.push_str(&format!(
            ", {}.{} {op} {}",
            c.table(f.column.table).name,
            c.column(f.column).name,
            vals.join("/")
        ));
    }
    if let Some(t) = &plan.time {
        match t.clock {
            Some(_) => s.push_str(&format!(", {} (by the database's clock)", t.words)),
            None => s.push_str(&format!(", from {} to before {}", t.start, t.end)),
        }
    }
    if let (Some(o), Some(n)) = (plan.order, plan.limit) {
        s.push_str(&format!(
            ", {} {n}",
            if o.descending { "top" } else { "bottom" }
        ));
    }
    s
}

/// How a grouping is named: its grain ("month"), its entity ("store") or its column (with
/// spaces for underscores when `spaced`).
pub fn dimension_name(c: &Catalog, d: &super::plan::Dimension, spaced: bool) -> String {
    match d.grain {
        Some(g) => g.unit().to_string(),
        None => {
            let t = c.table(d.column.table);
            if t.notes.display_column == Some(d.column.column) {
                crate::catalog::text::stem(&t.name)
            } else if spaced {
                c.column(d.column).name.replace('_', " ")
            } else {
                c.column(d.column).name.clone()
            }
        }
    }
}

/// The NOTICE line of a model's answer: model, form, repairs, tokens, time.
pub fn model_line(model: &str, m: &ModelMade) -> String {
    let form = if m.plan.is_some() { "a plan" } else { "SQL" };
    let cached = if m.cached { ", from the cache" } else { "" };
    format!(
        "answered by the language model {model} ({form}; {} repair(s); {} prompt + {} answer tokens; model {:.1} ms, Querent {:.1} ms{cached})",
        m.repairs,
        m.prompt_tokens,
        m.completion_tokens,
        m.model_time.as_secs_f64() * 1000.0,
        m.own_time.as_secs_f64() * 1000.0
    )
}

/// The EXPLAIN ASK rows of a model's answer: the prompt's catalog part, every raw answer,
/// the plan (if any), the SQL before and after the guard, model, tokens, repairs and time.
pub fn model_rows_sql(
    s: &Semantic,
    question: &str,
    model: &str,
    m: &ModelMade,
    guarded: &str,
) -> String {
    let mut rows: Vec<(String, String)> = vec![("question".into(), question.into())];
    rows.push(("planner".into(), "model".into()));
    rows.push(("model".into(), model.into()));
    rows.push(("prompt_catalog".into(), m.catalog.clone()));
    for (i, raw) in m.raw.iter().enumerate() {
        rows.push((format!("model_output_{}", i + 1), raw.clone()));
    }
    if let Some(plan) = &m.plan {
        rows.push((
            "plan".into(),
            serde_json::to_string(plan).unwrap_or_default(),
        ));
        rows.push(("summary".into(), summary(&s.catalog, plan)));
    }
    rows.push(("sql".into(), m.sql.clone()));
    rows.push(("guarded_sql".into(), guarded.into()));
    rows.push(("repairs".into(), m.repairs.to_string()));
    rows.push((
        "tokens".into(),
        format!(
            "{} prompt + {} answer",
            m.prompt_tokens, m.completion_tokens
        ),
    ));
    rows.push((
        "latency".into(),
        format!(
            "model {} ms, Querent {} ms",
            m.model_time.as_millis(),
            m.own_time.as_millis()
        ),
    ));
    rows.push(("cached".into(), m.cached.to_string()));
    values_sql(&rows)
}

/// The EXPLAIN ASK rows of a follow-up: what it refined, the plan and the SQL.
pub fn follow_up_rows_sql(
    s: &Semantic,
    question: &str,
    line: &str,
    plan: &AnalysisPlan,
    sql: &str,
    guarded: &str,
) -> String {
    values_sql(&[
        ("question".into(), question.into()),
        ("follow_up".into(), line.into()),
        (
            "plan".into(),
            serde_json::to_string(plan).unwrap_or_default(),
        ),
        ("summary".into(), summary(&s.catalog, plan)),
        ("sql".into(), sql.into()),
        ("guarded_sql".into(), guarded.into()),
        ("planner".into(), "follow-up".into()),
    ])
}

fn values_sql(rows: &[(String, String)]) -> String {
    let values: Vec<String> = rows
        .iter()
        .map(|(a, b)| format!("({}, {})", literal(a), literal(b)))
        .collect();
    format!(
        "SELECT item, detail FROM (VALUES {}) AS explain_ask(item, detail)",
        values.join(", ")
    )
}

/// The SQL whose rows are the EXPLAIN ASK output: (item, detail).
pub fn rows_sql(s: &Semantic, question: &str, p: &Planned, sql: &str, guarded: &str) -> String {
    let mut rows: Vec<(String, String)> = vec![("question".into(), question.into())];
    for i in &p.used {
        let c = &p.linking.candidates[*i];
        rows.push((
            "linked".into(),
            format!(
                "\"{}\" -> {} ({:?}, score {:.2}, matched \"{}\")",
                c.words,
                element_name(&s.catalog, &c.element),
                c.how,
                c.score,
                c.phrase
            ),
        ));
    }
    rows.push((
        "plan".into(),
        serde_json::to_string(&p.plan).unwrap_or_default(),
    ));
    rows.push(("summary".into(), summary(&s.catalog, &p.plan)));
    rows.push(("sql".into(), sql.into()));
    rows.push(("guarded_sql".into(), guarded.into()));
    rows.push(("planner".into(), "deterministic".into()));
    rows.push(("confidence".into(), format!("{:.2}", p.plan.confidence)));
    values_sql(&rows)
}
