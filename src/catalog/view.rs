//! A role's view of the catalog: only what its policy lets it read. This is the only catalog a
//! planner or a prompt ever sees for that role, so nothing hidden can be linked, suggested or
//! echoed back.
//!
//! - Tables no role of the principal allows (or whose row filter cannot be bound) are gone,
//!   and with them their relations and every metric that reads them.
//! - Denied columns are gone, with the relations and metrics that read them.
//! - Masked columns stay (they can be selected, masked) but keep no values, min or max.
//! - A table with a row filter keeps no row estimate, and no distinct count, values, min or
//!   max in any column: they were profiled over all rows, including rows this role cannot see.
//! - A primary key with a denied column is no key of what is left: it is cleared.
//! - Columns annotated `pii = true` keep no values for anyone.

use super::model::{Catalog, ColRef, Profile, TableId};
use crate::policy::Effective;

/// Clears what a profile could reveal about individual rows, keeping only the count.
fn blind(profile: &mut Option<Profile>) {
    if let Some(p) = profile {
        p.values = None;
        p.min = None;
        p.max = None;
    }
}

/// The part of `catalog` that a principal with policy `eff` may read.
pub fn for_role(catalog: &Catalog, eff: &Effective) -> Catalog {
    if eff.trusted {
        let mut all = catalog.clone();
        strip_pii(&mut all);
        return all;
    }
    // new_ids[t][c] = Some(new column index), per kept table.
    let mut table_map: Vec<Option<TableId>> = vec![None; catalog.tables.len()];
    let mut column_map: Vec<Vec<Option<u32>>> = Vec::with_capacity(catalog.tables.len());
    let mut out = Catalog {
        database: catalog.database.clone(),
        version: catalog.version,
        ..Default::default()
    };
    for (ti, table) in catalog.tables.iter().enumerate() {
        let rule = match eff.table_rule(&table.schema, &table.name) {
            Ok(Some(rule)) => rule,
            _ => {
                column_map.push(Vec::new());
                continue;
            }
        };
        let mut t = table.clone();
        let mut map = Vec::with_capacity(table.columns.len());
        let mut kept = Vec::with_capacity(table.columns.len());
        for c in table.columns.iter() {
            if rule.denied.contains(&c.name) {
                map.push(None);
                continue;
            }
            let mut c = c.clone();
            if rule.filter.is_some() || rule.masks.contains_key(&c.name) {
                blind(&mut c.profile);
            }
            if rule.filter.is_some() {
                if let Some(p) = &mut c.profile {
                    p.distinct = None;
                }
            }
            map.push(Some(kept.len() as u32));
            kept.push(c);
        }
        t.columns = kept;
        if rule.filter.is_some() {
            t.row_estimate = None;
        }
        let remap = |c: u32| map.get(c as usize).copied().flatten();
        // Part of a key is not a key: a denied key column clears the whole key.
        t.primary_key = t
            .primary_key
            .iter()
            .map(|c| remap(*c))
            .collect::<Option<Vec<u32>>>()
            .unwrap_or_default();
        t.notes.time_column = t.notes.time_column.and_then(remap);
        t.notes.display_column = t.notes.display_column.and_then(remap);
        table_map[ti] = Some(out.tables.len() as TableId);
        column_map.push(map);
        out.tables.push(t);
    }
    let col = |r: ColRef| -> Option<ColRef> {
        let table = table_map[r.table as usize]?;
        let column = column_map[r.table as usize]
            .get(r.column as usize)
            .copied()
            .flatten()?;
        Some(ColRef { table, column })
    };
    for r in &catalog.relations {
        let from: Option<Vec<u32>> = r
            .from_columns
            .iter()
            .map(|c| {
                col(ColRef {
                    table: r.from,
                    column: *c,
                })
                .map(|x| x.column)
            })
            .collect();
        let to: Option<Vec<u32>> = r
            .to_columns
            .iter()
            .map(|c| {
                col(ColRef {
                    table: r.to,
                    column: *c,
                })
                .map(|x| x.column)
            })
            .collect();
        if let (Some(from_columns), Some(to_columns), Some(f), Some(t)) = (
            from,
            to,
            table_map[r.from as usize],
            table_map[r.to as usize],
        ) {
            let mut rel = r.clone();
            rel.from = f;
            rel.to = t;
            rel.from_columns = from_columns;
            rel.to_columns = to_columns;
            out.relations.push(rel);
        }
    }
    for m in &catalog.metrics {
        let columns: Option<Vec<ColRef>> = m.columns.iter().map(|c| col(*c)).collect();
        let tables: Option<Vec<TableId>> =
            m.tables.iter().map(|t| table_map[*t as usize]).collect();
        let time = match m.time_column {
            Some(c) => col(c).map(Some),
            None => Some(None),
        };
        if let (Some(columns), Some(tables), Some(time_column)) = (columns, tables, time) {
            let mut metric = m.clone();
            metric.columns = columns;
            metric.tables = tables;
            metric.time_column = time_column;
            out.metrics.push(metric);
        }
    }
    strip_pii(&mut out);
    out
}

/// Drops values, min and max of columns annotated as personal data.
pub fn strip_pii(catalog: &mut Catalog) {
    for t in &mut catalog.tables {
        for c in &mut t.columns {
            if c.notes.pii {
                blind(&mut c.profile);
            }
        }
    }
}
