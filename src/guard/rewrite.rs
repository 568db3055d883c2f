//! The rewrite: every reference to a table is resolved as PostgreSQL would resolve it and
//! pinned to its schema-qualified name; a table with a row filter, masks or denied columns is
//! replaced by a derived table `(SELECT <allowed, masked columns> FROM "s"."t" WHERE <filter>)`
//! under the same name, wherever it appears (FROM, JOIN, subqueries, CTEs, set operations,
//! LATERAL, `TABLE t`). Catalog relations follow `catalog_rules`. Function calls are checked
//! by `rules::check_function`.

use super::catalog::{Relation, Snapshot, SYSTEM_SCHEMAS};
use super::catalog_rules::{self, CatalogRule};
use super::pushdown::Fence;
use super::{denied, SessionView};
use super::{functions, rules};
use crate::error::PgError;
use crate::policy::Effective;
use sqlparser::ast::{
    Expr, Ident, ObjectName, ObjectNamePart, Query, SetExpr, TableFactor, VisitorMut,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::ControlFlow;
use std::sync::Arc;

/// Identifier as PostgreSQL folds it: unquoted names are lower-cased.
pub fn norm(i: &Ident) -> String {
    if i.quote_style.is_some() {
        i.value.clone()
    } else {
        i.value.to_lowercase()
    }
}

/// A double-quoted identifier.
pub fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// What a table reference becomes for a session.
#[derive(Debug, Clone)]
pub enum Resolution {
    /// Readable as is (only pinned to its schema).
    Plain,
    /// Replaced by this derived table; these columns are denied.
    Replace {
        /// The derived table.
        factor: Box<TableFactor>,
        /// Denied columns (for clear errors on explicit references).
        denied: BTreeSet<String>,
        /// Whether it holds the hash mask's key (a plan of it would show the key).
        keyed: bool,
        /// The security-barrier fence of a row-filtered table (see `pushdown`).
        fence: Option<Arc<Fence>>,
    },
    /// Refused.
    Refuse(PgError),
}

/// What a statement is checked against.
pub struct Env<'a> {
    /// The database's relations and built-in functions.
    pub snap: &'a Snapshot,
    /// The principal's combined policy.
    pub eff: &'a Effective,
    /// The session's search_path (schema names, `$user` already expanded).
    pub search_path: &'a [String],
    /// The database the session is connected to.
    pub db: &'a str,
    /// Per-session values for catalog filters.
    pub view: &'a SessionView,
    /// Key of the hash mask.
    pub mask_key: &'a str,
    /// Set when a decision looked at a literal's value (such decisions are never templated).
    pub inspected: std::cell::Cell<bool>,
}

fn name_parts(name: &ObjectName) -> Result<Vec<String>, PgError> {
    name.0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => Ok(norm(i)),
            ObjectNamePart::Function(_) => Err(denied(
                "computed object names are not allowed for guarded roles",
            )),
        })
        .collect()
}

/// Resolves a relation name as PostgreSQL would for this session: `pg_catalog` first unless
/// the search_path names it, then the search_path. `Ok(None)` when nothing matches.
pub fn resolve(env: &Env, name: &ObjectName) -> Result<Option<(String, String)>, PgError> {
    let parts = name_parts(name)?;
    let found = |s: &str, t: &str| {
        env.snap
            .relations
            .contains_key(&(s.to_string(), t.to_string()))
    };
    match parts.as_slice() {
        [t] => {
            let explicit = env.search_path.iter().any(|s| s == "pg_catalog");
            let implicit = (!explicit).then_some("pg_catalog");
            Ok(implicit
                .into_iter()
                .chain(env.search_path.iter().map(String::as_str))
                .find(|s| found(s, t))
                .map(|s| (s.to_string(), t.clone())))
        }
        [s, t] => Ok(found(s, t).then(|| (s.clone(), t.clone()))),
        [d, s, t] if d == env.db => Ok(found(s, t).then(|| (s.clone(), t.clone()))),
        [d, ..] => Err(PgError::error(
            "0A000",
            format!("cross-database references are not implemented: \"{d}\""),
        )),
        _ => Err(PgError::error(
            "42601",
            format!("improper relation name (too many dotted names): {name}"),
        )),
    }
}

struct Frame {
    level: usize,
    names: Vec<String>,
    recursive: bool,
    done: usize,
    current: Option<usize>,
}

/// The first pass over a statement.
pub struct Rewriter<'a, 'b> {
    env: &'a Env<'b>,
    frames: Vec<Frame>,
    depth: usize,
    derived: &'a mut HashMap<(String, String), Resolution>,
    /// Guarded tables that were replaced, with their denied columns.
    pub wrapped: BTreeMap<(String, String), BTreeSet<String>>,
    /// Whether the statement now holds the hash mask's key.
    pub keyed: bool,
    /// The fences (row-filtered tables) the statement now holds.
    pub fences: Vec<Arc<Fence>>,
}

fn parse_query(sql: &str) -> Result<Box<Query>, PgError> {
    Parser::new(&PostgreSqlDialect {})
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_query())
        .map_err(|e| PgError::error("XX000", format!("internal guard error building {sql}: {e}")))
}

/// `(SELECT ... ) AS "alias"` as a table factor, parsed from generated SQL.
fn derived_factor(subquery: &str, alias: &str) -> Result<TableFactor, PgError> {
    let q = parse_query(&format!("SELECT * FROM ({subquery}) AS {}", quote(alias)))?;
    match *q.body {
        SetExpr::Select(mut s) if !s.from.is_empty() => Ok(s.from.remove(0).relation),
        _ => Err(PgError::error(
            "XX000",
            "internal guard error: derived table",
        )),
    }
}

impl<'a, 'b> Rewriter<'a, 'b> {
    /// A rewriter for one statement; `derived` caches replacement tables per session.
    pub fn new(env: &'a Env<'b>, derived: &'a mut HashMap<(String, String), Resolution>) -> Self {
        Rewriter {
            env,
            frames: Vec::new(),
            depth: 0,
            derived,
            wrapped: BTreeMap::new(),
            keyed: false,
            fences: Vec::new(),
        }
    }

    fn cte_visible(&self, name: &str) -> bool {
        self.frames.iter().rev().any(|f| {
            let visible = match f.current {
                Some(i) if !f.recursive => &f.names[..i],
                _ => &f.names[..],
            };
            visible.iter().any(|n| n == name)
        })
    }

    /// `TABLE t` becomes `SELECT * FROM t`, so it is guarded like any other reference.
    fn convert_table_sets(&self, body: &mut SetExpr) -> Result<(), PgError> {
        match body {
            SetExpr::Table(t) => {
                let Some(table) = t.table_name.clone() else {
                    return Ok(());
                };
                let pick = |n: &str| {
                    let exact = self.env.snap.relations.keys().any(|(_, r)| r == n);
                    quote(&if exact {
                        n.to_string()
                    } else {
                        n.to_lowercase()
                    })
                };
                let name = match &t.schema_name {
                    Some(s) => format!("{}.{}", pick(s), pick(&table)),
                    None => pick(&table),
                };
                *body = *parse_query(&format!("SELECT * FROM {name}"))?.body;
            }
            SetExpr::SetOperation { left, right, .. } => {
                self.convert_table_sets(left)?;
                self.convert_table_sets(right)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// What a reference to `schema.table` becomes, computed once per session (the policy
    /// and the snapshot are fixed for a session guard).
    fn replacement(
        &mut self,
        schema: &str,
        table: &str,
        rel: &Relation,
    ) -> Result<Option<TableFactor>, PgError> {
        let key = (schema.to_string(), table.to_string());
        if !self.derived.contains_key(&key) {
            let r = self.resolve_table(schema, table, rel);
            self.derived.insert(key.clone(), r);
        }
        match &self.derived[&key] {
            Resolution::Plain => Ok(None),
            Resolution::Refuse(e) => Err(e.clone()),
            Resolution::Replace {
                factor,
                denied,
                keyed,
                fence,
            } => {
                self.keyed |= *keyed;
                if let Some(f) = fence {
                    if !self.fences.iter().any(|g| Arc::ptr_eq(f, g)) {
                        self.fences.push(f.clone());
                    }
                }
                // Catalog relations too: `pg_catalog.pg_namespace.nspname` (SQLAlchemy) must
                // become `pg_namespace.nspname` once pg_namespace is a derived table.
                self.wrapped.insert(key.clone(), denied.clone());
                Ok(Some((**factor).clone()))
            }
        }
    }

    fn resolve_table(&self, schema: &str, table: &str, rel: &Relation) -> Resolution {
        let roles = || {
            if self.env.eff.roles.is_empty() {
                "(none)".to_string()
            } else {
                self.env.eff.roles.join(", ")
            }
        };
        // `plain`: the fenced subquery's unmasked columns with their types (None: no fence).
        let built = |sql: String,
                     denied: BTreeSet<String>,
                     keyed: bool,
                     plain: Option<HashMap<String, String>>| {
            let factor = match derived_factor(&sql, table) {
                Ok(f) => f,
                Err(e) => return Resolution::Refuse(e),
            };
            let fence = match (&factor, plain) {
                (TableFactor::Derived { subquery, .. }, Some(plain)) => Some(Arc::new(Fence {
                    query: (**subquery).clone(),
                    plain,
                    columns: rel
                        .columns
                        .iter()
                        .filter(|c| !denied.contains(*c))
                        .cloned()
                        .collect(),
                })),
                _ => None,
            };
            Resolution::Replace {
                factor: Box::new(factor),
                denied,
                keyed,
                fence,
            }
        };
        let typed = |cols: &mut dyn Iterator<Item = &String>| -> HashMap<String, String> {
            cols.map(|c| (c.clone(), rel.type_of(c).unwrap_or("").to_string()))
                .collect()
        };
        if SYSTEM_SCHEMAS.contains(&schema) {
            return match catalog_rules::rule(schema, table) {
                CatalogRule::Open => Resolution::Plain,
                CatalogRule::Deny => Resolution::Refuse(
                    denied(format!("catalog relation {schema}.{table} is not readable by role(s) {}", roles()))
                        .with_hint("guarded roles see the catalog relations BI tools need, filtered to what they may read"),
                ),
                CatalogRule::Filter(tpl) => {
                    let filter = self.env.view.fill(tpl);
                    let over = catalog_rules::overrides(schema, table);
                    let shown = |c: &String| over.iter().find(|(o, _)| o == c).map(|(_, e)| self.env.view.fill(e));
                    let cols = if over.is_empty() {
                        "*".to_string()
                    } else {
                        rel.columns
                            .iter()
                            .map(|c| match shown(c) {
                                Some(e) => format!("({e}) AS {}", quote(c)),
                                None => quote(c),
                            })
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    let keyed = over.iter().any(|(_, e)| e.contains("{key}"));
                    let plain = typed(&mut rel.columns.iter().filter(|c| shown(c).is_none()));
                    built(
                        format!("SELECT {cols} FROM {}.{} WHERE {filter} OFFSET 0", quote(schema), quote(table)),
                        BTreeSet::new(),
                        keyed,
                        Some(plain),
                    )
                }
            };
        }
        let rule = match self.env.eff.table_rule(schema, table) {
            Ok(Some(r)) => r,
            Ok(None) if self.env.eff.roles.is_empty() => {
                return Resolution::Refuse(
                    denied(format!(
                        "table {schema}.{table} is not readable: the user has no role in the policies, so it can read no table"
                    ))
                    .with_hint("an administrator gives the user a role: querent user add NAME --role ROLE (or the JWT's roles claim)"),
                )
            }
            Ok(None) => {
                return Resolution::Refuse(
                    denied(format!(
                        "table {schema}.{table} is not readable by role(s) {}",
                        roles()
                    ))
                    .with_hint(
                        "ask for the table to be added to your role's `tables` in the policy",
                    ),
                )
            }
            Err(e) => {
                return Resolution::Refuse(
                    denied(e).with_hint("ask an administrator to set the attribute on your user"),
                )
            }
        };
        if matches!(rel.kind, 'v' | 'm') && !self.env.eff.lists_exactly(schema, table) {
            return Resolution::Refuse(denied(format!(
                "view {schema}.{table} is not readable by role(s) {}: views are read with the upstream's rights, so a policy must list them by name",
                roles()
            )));
        }
        if rule.is_plain() {
            return Resolution::Plain;
        }
        let cols: Vec<String> = rel
            .columns
            .iter()
            .filter(|c| !rule.denied.contains(*c))
            .map(|c| match rule.masks.get(c) {
                Some(m) => format!("{} AS {}", m.sql(&quote(c), self.env.mask_key), quote(c)),
                None => quote(c),
            })
            .collect();
        let mut sql = format!(
            "SELECT {} FROM {}.{}",
            cols.join(", "),
            quote(schema),
            quote(table)
        );
        let mut plain = None;
        if let Some(f) = &rule.filter {
            // OFFSET 0: a security barrier (see `pushdown`).
            sql.push_str(&format!(" WHERE {f} OFFSET 0"));
            plain = Some(typed(&mut rel.columns.iter().filter(|c| {
                !rule.denied.contains(*c) && !rule.masks.contains_key(*c)
            })));
        }
        let keyed = rule
            .masks
            .values()
            .any(|m| *m == crate::policy::MaskKind::Hash);
        built(sql, rule.denied, keyed, plain)
    }

    fn table(&mut self, factor: &mut TableFactor) -> Result<(), PgError> {
        let TableFactor::Table {
            name,
            alias,
            args,
            sample,
            ..
        } = factor
        else {
            if let TableFactor::Function { name, args, .. } = factor {
                functions::check_table_function(self.env, name, args)?;
            }
            return Ok(());
        };
        if let Some(a) = args {
            return functions::check_table_function(self.env, name, &a.args);
        }
        if let [ObjectNamePart::Identifier(i)] = name.0.as_slice() {
            if self.cte_visible(&norm(i)) {
                return Ok(());
            }
        }
        let (schema, table) = resolve(self.env, name)?.ok_or_else(|| {
            PgError::error("42P01", format!("relation {name} does not exist"))
                .with_hint("check the name and the search_path; guarded roles can only read tables Querent knows")
        })?;
        let env: &'a Env<'b> = self.env;
        let rel = &env.snap.relations[&(schema.clone(), table.clone())];
        match self.replacement(&schema, &table, rel)? {
            None => {
                *name = ObjectName::from(vec![
                    Ident::with_quote('"', schema),
                    Ident::with_quote('"', table),
                ]);
            }
            Some(_) if sample.is_some() => {
                return Err(denied(format!(
                    "TABLESAMPLE on {schema}.{table} is not supported for guarded roles"
                )))
            }
            Some(mut replacement) => {
                if let (
                    TableFactor::Derived {
                        alias: new_alias, ..
                    },
                    Some(user_alias),
                ) = (&mut replacement, alias.take())
                {
                    *new_alias = Some(user_alias);
                }
                *factor = replacement;
            }
        }
        Ok(())
    }
}

impl VisitorMut for Rewriter<'_, '_> {
    type Break = PgError;

    fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<PgError> {
        self.depth += 1;
        let d = self.depth;
        if let Some(top) = self.frames.last_mut() {
            if top.level + 1 == d && top.current.is_none() && top.done < top.names.len() {
                top.current = Some(top.done);
            }
        }
        if let Err(e) = self
            .convert_table_sets(&mut q.body)
            .and_then(|()| rules::check_query(self.env, q))
        {
            return ControlFlow::Break(e);
        }
        if let Some(w) = &q.with {
            self.frames.push(Frame {
                level: d,
                names: w.cte_tables.iter().map(|c| norm(&c.alias.name)).collect(),
                recursive: w.recursive,
                done: 0,
                current: None,
            });
        }
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _q: &mut Query) -> ControlFlow<PgError> {
        let d = self.depth;
        if self.frames.last().is_some_and(|f| f.level == d) {
            self.frames.pop();
        }
        if let Some(top) = self.frames.last_mut() {
            if top.level + 1 == d {
                if let Some(i) = top.current.take() {
                    top.done = i + 1;
                }
            }
        }
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn post_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<PgError> {
        match self.table(factor) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => ControlFlow::Break(e),
        }
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<PgError> {
        if let Err(e) = functions::check_expr(self.env, expr) {
            return ControlFlow::Break(e);
        }
        if self.env.eff.has_row_filters() {
            if let Err(e) = functions::hide_size(expr, &self.env.view.filtered_rels()) {
                return ControlFlow::Break(e);
            }
        }
        ControlFlow::Continue(())
    }
}

/// The second pass: `schema.table.column` references to a replaced table become
/// `table.column` (the derived table keeps the table's name), and explicit references to a
/// denied column are refused with a clear message.
pub struct Columns<'a> {
    /// From the first pass.
    pub wrapped: &'a BTreeMap<(String, String), BTreeSet<String>>,
    /// Role names for messages.
    pub roles: &'a [String],
}

impl VisitorMut for Columns<'_> {
    type Break = PgError;

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<PgError> {
        let last = match expr {
            Expr::Identifier(i) => Some(norm(i)),
            Expr::CompoundIdentifier(parts) => {
                if parts.len() >= 3 {
                    let n = parts.len();
                    let key = (norm(&parts[n - 3]), norm(&parts[n - 2]));
                    if self.wrapped.contains_key(&key) {
                        *parts = parts[n - 2..].to_vec();
                    }
                }
                parts.last().map(norm)
            }
            _ => None,
        };
        if let Some(col) = last {
            if let Some(((s, t), _)) = self.wrapped.iter().find(|(_, d)| d.contains(&col)) {
                return ControlFlow::Break(
                    denied(format!(
                        "column \"{col}\" of {s}.{t} is not readable by role(s) {}",
                        self.roles.join(", ")
                    ))
                    .with_hint("leave the column out; SELECT * shows every column you may read"),
                );
            }
        }
        ControlFlow::Continue(())
    }
}
