//! [`tables_read`]: the relations one read-only SQL query reads, so a caller can check that a
//! role's catalog view holds every one of them before showing the query as an example.

use crate::guard::depth;
use crate::guard::rewrite::norm;
use sqlparser::ast::{ObjectName, ObjectNamePart, Query, SetExpr, Statement, TableFactor, Visit};
use sqlparser::ast::{Visitor, With};
use std::collections::BTreeSet;
use std::ops::ControlFlow;

/// The tables and views `sql` reads, as written and folded as PostgreSQL folds them (unquoted
/// names lowercased): `retail.orders`, or `orders` when the SQL does not qualify it. Names of
/// the query's own CTEs are left out where they are in scope; table functions
/// (`generate_series(..)`) are not relations. Sorted, without duplicates.
///
/// `None` unless `sql` is exactly one query that only reads: it does not parse (with the
/// guard's size and depth limits), holds several statements, is not a query, writes
/// (`INSERT`/`UPDATE`/`DELETE`/`MERGE` in a CTE, `SELECT INTO`) or locks rows (`FOR UPDATE`).
/// This is not the guard: functions, columns and row filters are its business.
///
/// ```
/// use querent::history::tables_read;
/// let sql = "WITH big AS (SELECT * FROM retail.orders WHERE total > 100) \
///            SELECT c.name FROM big JOIN Customers c USING (customer_id)";
/// assert_eq!(tables_read(sql).unwrap(), ["customers", "retail.orders"]);
/// assert_eq!(tables_read("DELETE FROM orders"), None);
/// ```
pub fn tables_read(sql: &str) -> Option<Vec<String>> {
    let statements = depth::parse(sql).ok()?;
    let [Statement::Query(query)] = statements.as_slice() else {
        return None;
    };
    depth::with_stack(|| {
        let mut reads = Reads::default();
        match query.visit(&mut reads) {
            ControlFlow::Continue(()) => Some(reads.tables.into_iter().collect()),
            ControlFlow::Break(()) => None,
        }
    })
}

/// The CTE names one `WITH` defines, and how far its definitions have been walked.
struct Frame {
    /// Nesting depth of the query that holds the `WITH`.
    level: usize,
    names: Vec<String>,
    recursive: bool,
    /// CTEs fully walked.
    done: usize,
    /// The CTE whose definition is being walked.
    current: Option<usize>,
}

#[derive(Default)]
struct Reads {
    frames: Vec<Frame>,
    depth: usize,
    tables: BTreeSet<String>,
}

impl Reads {
    /// Whether a bare `name` is a CTE in scope (as in the guard's rewriter: a CTE sees the
    /// ones before it, or all of them under `WITH RECURSIVE`; the body sees all).
    fn cte_visible(&self, name: &str) -> bool {
        self.frames.iter().rev().any(|f| {
            let visible = match f.current {
                Some(i) if !f.recursive => &f.names[..i],
                _ => &f.names[..],
            };
            visible.iter().any(|n| n == name)
        })
    }

    fn read(&mut self, name: &ObjectName) {
        let parts: Vec<String> = name
            .0
            .iter()
            .map(|p| match p {
                ObjectNamePart::Identifier(i) => norm(i),
                other => other.to_string(),
            })
            .collect();
        if parts.len() == 1 && self.cte_visible(&parts[0]) {
            return;
        }
        self.tables.insert(parts.join("."));
    }

    /// Refuses writes in a query body and notes `TABLE t` (which is no table factor).
    fn body(&mut self, body: &SetExpr) -> ControlFlow<()> {
        match body {
            SetExpr::Select(s) if s.into.is_some() => ControlFlow::Break(()),
            SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => {
                ControlFlow::Break(())
            }
            SetExpr::SetOperation { left, right, .. } => {
                self.body(left)?;
                self.body(right)
            }
            SetExpr::Table(t) => {
                if let Some(table) = &t.table_name {
                    let name = match &t.schema_name {
                        Some(s) => format!("{s}.{table}"),
                        None => table.clone(),
                    };
                    let name = name.to_lowercase();
                    if name.contains('.') || !self.cte_visible(&name) {
                        self.tables.insert(name);
                    }
                }
                ControlFlow::Continue(())
            }
            _ => ControlFlow::Continue(()),
        }
    }

    fn push_frame(&mut self, with: &With) {
        self.frames.push(Frame {
            level: self.depth,
            names: with
                .cte_tables
                .iter()
                .map(|c| norm(&c.alias.name))
                .collect(),
            recursive: with.recursive,
            done: 0,
            current: None,
        });
    }
}

impl Visitor for Reads {
    type Break = ();

    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        self.depth += 1;
        let d = self.depth;
        if let Some(top) = self.frames.last_mut() {
            if top.level + 1 == d && top.current.is_none() && top.done < top.names.len() {
                top.current = Some(top.done);
            }
        }
        if !q.locks.is_empty() {
            return ControlFlow::Break(());
        }
        if let Some(w) = &q.with {
            self.push_frame(w);
        }
        self.body(&q.body)
    }

    fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
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

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        if let TableFactor::Table {
            name, args: None, ..
        } = factor
        {
            self.read(name);
        }
        ControlFlow::Continue(())
    }
}
