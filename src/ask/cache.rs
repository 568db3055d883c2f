//! Plans cached per (database, normalized question, policy version, schema version, roles and
//! attribute names): the same question from the same kind of principal is planned once until
//! the catalog or the policies change. The guard still checks every run (its own cache holds
//! per-session decisions).

use super::planner::{self, Declined, Planned};
use crate::auth::Principal;
use crate::catalog::store::Semantic;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Most entries before the cache starts over.
const CAPACITY: usize = 10_000;

/// A plan and its SQL (before the guard).
#[derive(Debug)]
pub struct Made {
    /// The plan with its linking.
    pub planned: Planned,
    /// Compiled SQL.
    pub sql: String,
}

/// What a cache entry holds: a plan, or why the question is declined.
pub type Outcome = Arc<Result<Made, Declined>>;

/// The cache key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    database: String,
    schema_version: u64,
    policy_version: Option<u64>,
    principal: String,
    question: String,
}

impl Key {
    /// The key of `question` asked by `principal` against `view`.
    pub fn new(
        database: &str,
        view: &Semantic,
        policy_version: Option<u64>,
        principal: &Principal,
        question: &str,
    ) -> Key {
        Key {
            database: database.to_string(),
            schema_version: view.catalog.version.0,
            policy_version,
            principal: kind(principal),
            question: normalize(question),
        }
    }
}

/// What the cache keys tell principals apart by: their roles and attribute names (the guard
/// applies attribute values to every run).
pub fn kind(principal: &Principal) -> String {
    let mut roles = principal.roles.clone();
    roles.sort();
    let mut attrs: Vec<&String> = principal.attributes.keys().collect();
    attrs.sort();
    format!("{roles:?}{attrs:?}")
}

/// Lowercase, single spaces, no trailing punctuation.
pub fn normalize(q: &str) -> String {
    let words: Vec<&str> = q.split_whitespace().collect();
    words
        .join(" ")
        .trim_end_matches(['?', '.', '!', ';'])
        .to_lowercase()
}

/// Plans and compiles, mapping a compile error to a decline.
pub fn plan_and_compile(view: &Semantic, question: &str) -> Result<Made, Declined> {
    let planned = planner::plan(view, question)?;
    let sql = super::compile::compile(view, &planned.plan).map_err(|e| Declined {
        message: e.message,
        hint: e.hint,
    })?;
    Ok(Made { planned, sql })
}

/// The server's plan cache.
#[derive(Default)]
pub struct PlanCache {
    map: Mutex<HashMap<Key, Outcome>>,
}

impl PlanCache {
    /// The cached outcome of `key`, or `make()`'s, cached.
    pub fn get_or_plan(&self, key: Key, make: impl FnOnce() -> Result<Made, Declined>) -> Outcome {
        if let Some(hit) = self.lock().get(&key) {
            return hit.clone();
        }
        let made = Arc::new(make());
        let mut map = self.lock();
        if map.len() >= CAPACITY {
            map.clear();
        }
        map.insert(key, made.clone());
        made
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// No entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Outcome>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_normalize() {
        assert_eq!(normalize("  Revenue   by Region? "), "revenue by region");
        assert_eq!(normalize("revenue by region"), "revenue by region");
    }
}
