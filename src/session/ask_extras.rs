//! What follows an answer besides its rows: the follow-up questions (`ask_followups()` and
//! the NOTICEs after an ASK's rows) and the insights (`ask_insights()`), as rows of a VALUES
//! list the upstream returns, so every client sees an ordinary result.

use super::ask::Ctx;
use crate::ask::next::{self, Suggestion};
use crate::ask::About;
use crate::error::PgError;
use crate::guard::print::string_literal;

/// The follow-up suggestions for an answer made from `about` (none for a model's SQL
/// without a plan), each planned and accepted by the session's guard.
pub async fn suggestions(ctx: &mut Ctx<'_>, about: &About) -> Vec<Suggestion> {
    let Some(plan) = about.plan.as_ref() else {
        return Vec::new();
    };
    let policies = ctx.shared.guard.as_ref().map(|g| g.policies());
    let Ok(view) = ctx
        .shared
        .catalog
        .view(ctx.database, policies, ctx.principal)
        .await
    else {
        return Vec::new();
    };
    if view.catalog.version.0 != about.version {
        return Vec::new();
    }
    let mut session = ctx.intercept.as_deref_mut().map(|ic| &mut ic.guard);
    next::suggest(&view, plan, |made| match session.as_deref_mut() {
        Some(s) => !matches!(s.check(&made.sql), crate::guard::Decision::Deny(_)),
        None => true,
    })
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
    let rows: Vec<Vec<String>> = suggestions(ctx, about)
        .await
        .into_iter()
        .map(|s| vec![string_literal(&s.question), string_literal(s.kind)])
        .collect();
    Ok(values_sql(&[("question", "text"), ("kind", "text")], &rows))
}

/// `ask_insights()`: rows (kind, text, score, columns) of the answer `sql` (after the guard).
pub async fn insight_rows(
    _ctx: &mut Ctx<'_>,
    _question: &str,
    _sql: &str,
    _about: &About,
) -> Result<String, PgError> {
    Err(PgError::error("0A000", "ask_insights() is not available yet").with_hint("use ask()"))
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
