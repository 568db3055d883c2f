//! What the HTTP API and `ask_insights()` share: the stages that need the server — the
//! rows of the previous equal period (run on the proxy's own read-only connection, after
//! the principal's guard) and follow-up suggestions checked by that guard.

use crate::ask::analyse;
use crate::ask::frame::Frame;
use crate::auth::Principal;
use crate::server::Shared;

/// The follow-up suggestions, each planned and accepted by the principal's guard, none
/// grouping by a column the principal's policy masks (its groups would all read `***`).
pub async fn followups(
    shared: &Shared,
    database: &str,
    principal: &Principal,
    mut session: Option<&mut crate::guard::SessionGuard>,
    about: &crate::ask::About,
) -> Vec<crate::ask::next::Suggestion> {
    let Some(plan) = about.plan.as_ref() else {
        return Vec::new();
    };
    let policies = shared.guard.as_ref().map(|g| g.policies());
    let Ok(view) = shared.catalog.view(database, policies, principal).await else {
        return Vec::new();
    };
    let guarded = session.is_some();
    let effective = policies
        .filter(|_| guarded)
        .map(|p| crate::policy::Effective::new(p, principal));
    let masked = |col: crate::catalog::ColRef| {
        let Some(eff) = effective.as_ref() else {
            return false;
        };
        let t = view.catalog.table(col.table);
        let name = &view.catalog.column(col).name;
        match eff.table_rule(&t.schema, &t.name) {
            Ok(Some(rule)) => rule.masks.contains_key(name),
            _ => false,
        }
    };
    crate::ask::next::suggest(&view, plan, |made| {
        if made
            .planned
            .plan
            .dimensions
            .iter()
            .any(|d| masked(d.column))
        {
            return false;
        }
        match session.as_deref_mut() {
            Some(s) => !matches!(s.check(&made.sql), crate::guard::Decision::Deny(_)),
            None => true,
        }
    })
}

/// The SQL (after the principal's guard) of the same plan over the previous equal period,
/// for the `previous_period` insight: `None` when the plan has no such period or a step fails.
pub async fn previous_sql(
    shared: &Shared,
    database: &str,
    principal: &Principal,
    session: Option<&mut crate::guard::SessionGuard>,
    about: &crate::ask::About,
) -> Option<String> {
    let asked = about.plan.as_ref()?;
    let policies = shared.guard.as_ref().map(|g| g.policies());
    let view = shared
        .catalog
        .view(database, policies, principal)
        .await
        .ok()?;
    let plan = analyse::previous_plan(&view.catalog, asked)?;
    let sql = crate::ask::compile::compile(&view, &plan).ok()?;
    match (shared.guard.as_ref(), session) {
        (Some(g), Some(s)) => g.check(s, &sql).await.into_sql(&sql).ok(),
        _ => Some(sql),
    }
}

/// The rows of the same plan over the previous equal period (see [`previous_sql`]).
pub async fn previous_frame(
    shared: &Shared,
    database: &str,
    principal: &Principal,
    session: Option<&mut crate::guard::SessionGuard>,
    about: &crate::ask::About,
    read: usize,
) -> Option<Frame> {
    let sql = previous_sql(shared, database, principal, session, about).await?;
    shared.runner.rows(database, &sql, read).await.ok()
}
