//! Join paths. Tables are nodes; every relation (foreign key or declared) is an edge that is
//! many-to-one in one direction and one-to-many in the other. A join tree for a question starts
//! at the table whose rows are being measured (its *root*, e.g. `order_items` for revenue) and
//! adds the smallest set of edges that reaches every table the question needs.
//!
//! Fan-out: following an edge from the one side to the many side multiplies the root's rows, so
//! a measure summed after such a join is double-counted. Such edges cost far more than
//! many-to-one edges, so a tree uses one only when no other path exists, and then says so in
//! [`JoinTree::fans_out`] for the compiler to aggregate before joining. Tables that are not
//! needed are never joined.

use super::model::{Catalog, TableId};
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Cost of a many-to-one (or one-to-one) step.
const TO_ONE: u32 = 100;
/// Cost of a one-to-many step (fans out the rows).
const TO_MANY: u32 = 10_000;
/// Discount for a relation marked `preferred`.
const PREFERRED: u32 = 1;
/// Extra cost of a to-many step right after a to-one step (a fan trap through a parent).
const CHASM: u32 = 10;

/// One edge as seen from a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Edge {
    /// Index in [`Catalog::relations`].
    pub relation: u32,
    /// The table at the other end.
    pub to: TableId,
    /// Following it multiplies rows (one-to-many).
    pub fans_out: bool,
}

/// Adjacency lists over a catalog's relations.
#[derive(Debug, Clone, Default)]
pub struct JoinGraph {
    adj: Vec<Vec<Edge>>,
    weights: Vec<u32>,
}

/// One join: `to` is joined to `from` (already in the tree) through `relation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JoinStep {
    /// Index in [`Catalog::relations`].
    pub relation: u32,
    /// A table already in the tree.
    pub from: TableId,
    /// The table this step adds.
    pub to: TableId,
    /// This step goes from the one side to the many side.
    pub fans_out: bool,
}

/// The tables a question needs, joined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JoinTree {
    /// The table whose rows are measured.
    pub root: TableId,
    /// Joins in order; each step's `from` is the root or an earlier step's `to`.
    pub steps: Vec<JoinStep>,
    /// Some step fans out: a measure of the root must be aggregated before that join.
    pub fans_out: bool,
    /// Tables reached by two different paths of the same cost (the choice was arbitrary;
    /// mark one relation `preferred` in an annotation to decide).
    pub ambiguous: Vec<TableId>,
}

impl JoinTree {
    /// Every table in the tree, root first.
    pub fn tables(&self) -> Vec<TableId> {
        std::iter::once(self.root)
            .chain(self.steps.iter().map(|s| s.to))
            .collect()
    }
}

/// Why no join tree exists.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no join path from {root} to {}", unreachable.join(", "))]
pub struct NoPath {
    /// The root table's qualified name.
    pub root: String,
    /// Qualified names of the tables that cannot be reached.
    pub unreachable: Vec<String>,
}

#[derive(PartialEq, Eq)]
struct Item {
    cost: u32,
    table: TableId,
}

impl Ord for Item {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .cost
            .cmp(&self.cost)
            .then_with(|| other.table.cmp(&self.table))
    }
}

impl PartialOrd for Item {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl JoinGraph {
    /// Builds the graph of `catalog`'s relations.
    pub fn build(catalog: &Catalog) -> JoinGraph {
        let mut adj = vec![Vec::new(); catalog.tables.len()];
        let mut weights = Vec::with_capacity(catalog.relations.len());
        for (i, r) in catalog.relations.iter().enumerate() {
            let i = i as u32;
            weights.push(if r.preferred {
                TO_ONE - PREFERRED
            } else {
                TO_ONE
            });
            if r.from == r.to {
                continue; // self references (parent_id) never help to connect tables
            }
            adj[r.from as usize].push(Edge {
                relation: i,
                to: r.to,
                fans_out: false,
            });
            adj[r.to as usize].push(Edge {
                relation: i,
                to: r.from,
                fans_out: !r.one_to_one,
            });
        }
        JoinGraph { adj, weights }
    }

    /// Edges of `table`.
    pub fn edges(&self, table: TableId) -> &[Edge] {
        self.adj.get(table as usize).map_or(&[], |v| v.as_slice())
    }

    fn cost(&self, e: &Edge) -> u32 {
        let base = self.weights[e.relation as usize];
        if e.fans_out {
            TO_MANY - (TO_ONE - base)
        } else {
            base
        }
    }

    /// The smallest join tree from `root` that reaches every table in `needed` (greedy
    /// shortest-path Steiner tree: repeatedly join the nearest missing table).
    pub fn join_tree(
        &self,
        catalog: &Catalog,
        root: TableId,
        needed: &[TableId],
    ) -> Result<JoinTree, NoPath> {
        self.join_tree_through(catalog, root, &[], needed)
    }

    /// [`Self::join_tree`], reaching the `through` tables first and the rest from them where
    /// they can ("authors who wrote publications in the domain X": author → publication →
    /// domain, not author → domain directly).
    pub fn join_tree_through(
        &self,
        catalog: &Catalog,
        root: TableId,
        through: &[TableId],
        needed: &[TableId],
    ) -> Result<JoinTree, NoPath> {
        let mut tree = JoinTree {
            root,
            steps: Vec::new(),
            fans_out: false,
            ambiguous: Vec::new(),
        };
        let mut in_tree = vec![false; self.adj.len()];
        in_tree[root as usize] = true;
        let mut behind = vec![false; self.adj.len()];
        if through.iter().any(|t| *t != root) {
            self.grow(catalog, &mut tree, &mut in_tree, &behind, through)?;
            // What the way to the last of `through` passed is behind it: the rest is reached
            // from there ("organizations with authors who wrote publications in domain X":
            // the domain from the publications).
            let last = through.last().copied();
            behind[root as usize] = true;
            for step in &tree.steps {
                if Some(step.to) != last {
                    behind[step.to as usize] = true;
                }
            }
        }
        self.grow(catalog, &mut tree, &mut in_tree, &behind, needed)?;
        Ok(tree)
    }

    /// Adds the shortest ways from the tree to every table of `needed`, nearest first.
    fn grow(
        &self,
        catalog: &Catalog,
        tree: &mut JoinTree,
        in_tree: &mut [bool],
        behind: &[bool],
        needed: &[TableId],
    ) -> Result<(), NoPath> {
        let root = tree.root;
        let mut missing: Vec<TableId> = needed
            .iter()
            .copied()
            .filter(|t| !in_tree[*t as usize])
            .collect();
        missing.sort_unstable();
        missing.dedup();
        while !missing.is_empty() {
            let (dist, prev, tied) = self.search(in_tree, behind, &missing);
            let nearest = missing
                .iter()
                .copied()
                .filter(|t| dist[*t as usize] != u32::MAX)
                .min_by_key(|t| (dist[*t as usize], *t));
            let Some(target) = nearest else {
                return Err(NoPath {
                    root: catalog.table(root).qualified(),
                    unreachable: missing
                        .iter()
                        .map(|t| catalog.table(*t).qualified())
                        .collect(),
                });
            };
            // Walk back to the tree, then add the steps outward.
            let mut path = Vec::new();
            let mut at = target;
            while !in_tree[at as usize] {
                let Some((from, edge)) = prev[at as usize] else {
                    break; // cannot happen: every reached table outside the tree has one
                };
                if tied[at as usize] && !tree.ambiguous.contains(&at) {
                    tree.ambiguous.push(at);
                }
                path.push(JoinStep {
                    relation: edge.relation,
                    from,
                    to: at,
                    fans_out: edge.fans_out,
                });
                at = from;
            }
            for step in path.into_iter().rev() {
                in_tree[step.to as usize] = true;
                tree.fans_out |= step.fans_out;
                tree.steps.push(step);
            }
            missing.retain(|t| !in_tree[*t as usize]);
        }
        Ok(())
    }

    /// Dijkstra from every table in the tree at once, until the nearest of `targets` is
    /// settled (tables settle in order of distance, so that one is the nearest).
    #[allow(clippy::type_complexity)]
    fn search(
        &self,
        in_tree: &[bool],
        behind: &[bool],
        targets: &[TableId],
    ) -> (Vec<u32>, Vec<Option<(TableId, Edge)>>, Vec<bool>) {
        let n = self.adj.len();
        let mut dist = vec![u32::MAX; n];
        let mut prev: Vec<Option<(TableId, Edge)>> = vec![None; n];
        let mut tied = vec![false; n];
        let mut heap = BinaryHeap::new();
        for (t, inside) in in_tree.iter().enumerate() {
            if *inside {
                // Tables behind a waypoint start a step late: reached from them only when the
                // waypoint's side has no way.
                let cost = if behind[t] { TO_MANY } else { 0 };
                dist[t] = cost;
                heap.push(Item {
                    cost,
                    table: t as TableId,
                });
            }
        }
        while let Some(Item { cost, table }) = heap.pop() {
            if cost > dist[table as usize] {
                continue;
            }
            if targets.contains(&table) {
                // Settle every target at this same distance too, so ties stay deterministic.
                if heap.peek().is_none_or(|next| next.cost > cost) {
                    break;
                }
            }
            // Up to a shared parent and down again (flights and fares of the same airline) is
            // a weaker link than down to a bridge and up (flight_fare): it costs a little more.
            let arrived_up = prev[table as usize].is_some_and(|(_, pe)| !pe.fans_out);
            for e in &self.adj[table as usize] {
                let chasm = if arrived_up && e.fans_out { CHASM } else { 0 };
                let next = cost.saturating_add(self.cost(e)).saturating_add(chasm);
                let slot = e.to as usize;
                match next.cmp(&dist[slot]) {
                    Ordering::Less => {
                        dist[slot] = next;
                        prev[slot] = Some((table, *e));
                        tied[slot] = tied[table as usize];
                        heap.push(Item {
                            cost: next,
                            table: e.to,
                        });
                    }
                    // Another path of the same cost: through another table, or through
                    // another relation from the same table (billing and shipping address).
                    Ordering::Equal
                        if !in_tree[slot]
                            && prev[slot]
                                .is_some_and(|(p, pe)| (p, pe.relation) != (table, e.relation)) =>
                    {
                        tied[slot] = true;
                    }
                    _ => {}
                }
            }
        }
        (dist, prev, tied)
    }

    /// The table a measure over `tables` counts rows of: the one from which every other is
    /// reached by many-to-one steps only (`order_items` for a measure over order_items and
    /// orders). `None` when no such table exists.
    pub fn grain(&self, tables: &[TableId]) -> Option<TableId> {
        tables.iter().copied().find(|&t| {
            let reach = self.to_one_closure(t);
            tables.iter().all(|o| reach[*o as usize])
        })
    }

    fn to_one_closure(&self, start: TableId) -> Vec<bool> {
        let mut seen = vec![false; self.adj.len()];
        let mut stack = vec![start];
        seen[start as usize] = true;
        while let Some(t) = stack.pop() {
            for e in &self.adj[t as usize] {
                if !e.fans_out && !seen[e.to as usize] {
                    seen[e.to as usize] = true;
                    stack.push(e.to);
                }
            }
        }
        seen
    }
}
