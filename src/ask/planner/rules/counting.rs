//! Counting entities through the rows that reference them: "customers who never placed an
//! order", "how many customers have more than 20 orders", "how many distinct customers
//! bought".

use super::super::draft::Draft;
use super::super::grammar::{count_cue, display};
use super::super::Declined;
use crate::ask::plan::*;
use crate::catalog::{ColRef, Relation, TableId};

/// The relation by which rows of `from` point at `to`.
pub(in super::super) fn references(d: &Draft, from: TableId, to: TableId) -> Option<Relation> {
    d.r.c
        .relations
        .iter()
        .find(|rel| rel.from == from && rel.to == to)
        .cloned()
}

/// Tables named besides the counted one, by entity or by a metric ("orders").
fn others(d: &Draft) -> Vec<TableId> {
    d.entities
        .iter()
        .map(|(t, _)| *t)
        .chain(d.measures.iter().flat_map(|m| {
            let ts = crate::ask::compile::measure_tables(d.r.c, m);
            d.r.s.graph.grain(&ts).into_iter().collect::<Vec<_>>()
        }))
        .filter(|t| Some(*t) != d.counted)
        .collect()
}

/// The entity a count cue names ("how many customers").
pub(in super::super) fn counted(d: &mut Draft) -> Result<(), Declined> {
    d.counted = d
        .entities
        .iter()
        .find(|(_, start)| count_cue(&d.r, *start))
        .map(|(t, _)| *t);
    let Some(t) = d.counted else { return Ok(()) };
    let others = others(d);
    if d.without.is_some() {
        // "customers who never placed an order": counted where no row points at them.
        d.measures = vec![Measure::Count(t)];
    } else if !d.conditions.is_empty() {
        // "how many customers have placed more than 20 orders": count the groups that pass.
        let m = d.measures.first().cloned().or_else(|| {
            others
                .iter()
                .find(|e| references(d, **e, t).is_some())
                .map(|e| Measure::Count(*e))
        });
        if let (Some(m), Some(col)) = (m, display(d.r.c, t)) {
            d.measures = vec![m];
            d.dimensions.insert(
                0,
                Dimension {
                    column: col,
                    grain: None,
                },
            );
            d.count_groups = true;
        }
    } else {
        // "how many distinct customers made a purchase": count the references.
        let event = others
            .iter()
            .find_map(|e| references(d, *e, t).map(|rel| (*e, rel)));
        if let Some((e, rel)) = event {
            if let [col] = rel.from_columns.as_slice() {
                d.measures = vec![Measure::Aggregate {
                    agg: Agg::CountDistinct,
                    column: ColRef {
                        table: e,
                        column: *col,
                    },
                }];
                if let Some(i) = d.r.has(&["distinct", "different", "unique"]) {
                    d.r.eat(i);
                }
            }
        }
    }
    Ok(())
}
