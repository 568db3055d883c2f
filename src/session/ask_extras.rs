//! What follows an answer besides its rows: the follow-up questions (`ask_followups()` and
//! the NOTICEs after an ASK's rows) and the insights (`ask_insights()`), as rows of a VALUES
//! list the upstream returns, so every client sees an ordinary result.

use super::ask::Ctx;
use super::tap::Finish;
use crate::ask::analyse;
use crate::ask::frame::{Context, Frame};
use crate::ask::next::Suggestion;
use crate::ask::About;
use crate::error::PgError;
use crate::guard::print::string_literal;
use crate::server::Shared;

/// What makes the NOTICEs sent after an ASK's rows: its insights (`ask.insights`), the link
/// to its chart (when the admin port serves charts), and the follow-up questions `next`.
pub fn after_rows(
    shared: &Shared,
    owner: String,
    context: Context,
    next: Vec<Suggestion>,
) -> Finish {
    let charts = shared.charts.clone();
    let base = chart_base(&shared.config);
    let max = shared.config.ask.insights;
    Box::new(move |frame: &Frame| {
        let a = analyse::analyse(frame, &context, None, max);
        let mut out: Vec<String> = a
            .insights
            .iter()
            .take(max)
            .map(|i| format!("ASK insight: {}", i.text))
            .collect();
        if let (Some(c), Some(base)) = (a.chart, base) {
            let id = charts.put_owned(&owner, &c, frame);
            out.push(format!("ASK chart: {base}/v1/charts/{id}.svg"));
        }
        out.extend(next.iter().map(|s| format!("ASK next: {}", s.question)));
        out
    })
}

/// Where links to charts point: `ask.public_url`, else the admin port's address; `None`
/// without an admin port.
pub fn chart_base(config: &crate::config::Config) -> Option<String> {
    let url = config.ask.public_url.trim_end_matches('/');
    if !url.is_empty() {
        return Some(url.to_string());
    }
    let addr = config.admin_addr().ok()??;
    Some(format!("http://{addr}"))
}

/// `SELECT ... FROM (VALUES ...)` with `columns` typed as given; no rows when `rows` is empty.
pub fn values_sql(columns: &[(&str, &str)], rows: &[Vec<String>]) -> String {
    if rows.is_empty() {
        let cols: Vec<String> = columns
            .iter()
            .map(|(n, t)| format!("NULL::{t} AS {n}"))
            .collect();
        return format!("SELECT {} WHERE false", cols.join(", "));
    }
    let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
    let casts: Vec<String> = columns
        .iter()
        .map(|(n, t)| format!("{n}::{t} AS {n}"))
        .collect();
    let values: Vec<String> = rows.iter().map(|r| format!("({})", r.join(", "))).collect();
    format!(
        "SELECT {} FROM (VALUES {}) AS ask_values({})",
        casts.join(", "),
        values.join(", "),
        names.join(", ")
    )
}

/// `ask_followups()`: rows (question, kind).
pub async fn followup_rows(ctx: &mut Ctx<'_>, about: &About) -> Result<String, PgError> {
    let session = ctx.intercept.as_deref_mut().map(|ic| &mut ic.guard);
    let rows: Vec<Vec<String>> =
        crate::api::run::followups(ctx.shared, ctx.database, ctx.principal, session, about)
            .await
            .into_iter()
            .map(|s| vec![string_literal(&s.question), string_literal(s.kind)])
            .collect();
    Ok(values_sql(&[("question", "text"), ("kind", "text")], &rows))
}

/// `ask_insights()`: rows (kind, text, score, columns) of the answer `sql` (after the guard),
/// run on the proxy's own read-only connection; with the previous equal period's total when
/// the question has a date range.
pub async fn insight_rows(
    ctx: &mut Ctx<'_>,
    question: &str,
    sql: &str,
    about: &About,
) -> Result<String, PgError> {
    let shared = ctx.shared;
    let read = shared.config.ask.insight_rows.max(1);
    let frame = shared
        .runner
        .rows(ctx.database, sql, read)
        .await
        .map_err(|f| {
            PgError::error(
                if f.upstream { "08006" } else { "XX000" },
                format!("ask_insights() could not run the answer: {}", f.message),
            )
            .with_hint("the same question in ask() shows the error the database gives")
        })?;
    let session = ctx.intercept.as_deref_mut().map(|ic| &mut ic.guard);
    let previous =
        crate::api::run::previous_frame(shared, ctx.database, ctx.principal, session, about, read)
            .await;
    let context = analyse::context(question, about);
    let found = crate::ask::insights::insights(
        &frame,
        &context,
        previous.as_ref(),
        shared.config.ask.insights.max(1),
    );
    let rows: Vec<Vec<String>> = found
        .iter()
        .map(|i| {
            vec![
                string_literal(i.kind),
                string_literal(&i.text),
                format!("{:.6}", i.score),
                string_literal(&i.columns.join(", ")),
            ]
        })
        .collect();
    Ok(values_sql(
        &[
            ("kind", "text"),
            ("text", "text"),
            ("score", "float8"),
            ("columns", "text"),
        ],
        &rows,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_lists_parse_and_type() {
        let cols = [("question", "text"), ("score", "float8")];
        let sql = values_sql(
            &cols,
            &[
                vec![string_literal("it's"), "0.5".into()],
                vec![string_literal("b"), "1".into()],
            ],
        );
        assert!(crate::ask::relation::query_of(&sql).is_ok(), "{sql}");
        let empty = values_sql(&cols, &[]);
        assert_eq!(
            empty,
            "SELECT NULL::text AS question, NULL::float8 AS score WHERE false"
        );
    }
}
