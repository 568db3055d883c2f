//! The shape of the answer: what the rows are about when ranking ("top 5 customers"),
//! differences ("how much more ... than ..."), comparisons ("online vs in-store"), the part of
//! a share, and where a numeric condition applies.

use super::super::draft::Draft;
use super::super::grammar::display;
use super::super::Declined;
use crate::ask::plan::*;
use crate::catalog::ValueKind;

/// "top 5 customers by spend", "which stores had more than 300 orders": the entity named (or
/// a text column such as brand) is what the rows are about.
pub(in super::super) fn ranked_entity(d: &mut Draft) -> Result<(), Declined> {
    let ranking = d.order.is_some() || d.condition.is_some() || d.limit.is_some();
    if d.intent == Intent::List {
        return Ok(());
    }
    let Some(first) = d.first().cloned() else {
        return Ok(());
    };
    if !d.dimensions.is_empty() || !ranking {
        return Ok(());
    }
    let c = d.r.c;
    let measured = crate::ask::compile::measure_tables(c, &first);
    let entity = d
        .entities
        .iter()
        .filter(|(t, _)| {
            Some(*t) != d.counted
                && !(measured.len() == 1 && measured[0] == *t && matches!(first, Measure::Count(_)))
        })
        .filter_map(|(t, at)| display(c, *t).map(|col| (col, *at)));
    let text_col = d
        .columns
        .iter()
        .filter(|(col, _)| c.column(*col).kind == ValueKind::Text)
        .map(|(col, at)| (*col, *at));
    if let Some((col, _)) = entity.chain(text_col).min_by_key(|(_, at)| *at) {
        d.dimensions.push(Dimension {
            column: col,
            grain: None,
        });
    }
    Ok(())
}

/// "revenue per square foot" is a ratio, not a breakdown by each size.
pub(in super::super) fn no_numeric_groups(d: &mut Draft) -> Result<(), Declined> {
    let c = d.r.c;
    if d.intent == Intent::List {
        return Ok(());
    }
    let key = |col: crate::catalog::ColRef| {
        c.table(col.table).primary_key.contains(&col.column)
            || c.relations
                .iter()
                .any(|r| r.from == col.table && r.from_columns == [col.column])
    };
    if let Some(dim) = d.dimensions.iter().find(|dim| {
        dim.grain.is_none() && {
            let col = c.column(dim.column);
            col.kind.is_numeric()
                && !col.name.ends_with("id")
                && !super::super::grammar::year_like(c, dim.column)
                && !key(dim.column)
        }
    }) {
        return Err(Declined {
            message: format!(
                "ASK cannot compute a ratio per {} yet",
                c.column(dim.column).name
            ),
            hint: "ask for the measure and the column separately".into(),
        });
    }
    Ok(())
}

/// "how much more revenue did East make than West": the two values, each a part.
pub(in super::super) fn difference(d: &mut Draft) -> Result<(), Declined> {
    let r = &d.r;
    if r.has(&["than"]).is_none() || r.has(&["how"]).is_none() || r.has(&["more", "less"]).is_none()
    {
        return Ok(());
    }
    let Some(k) = d
        .filters
        .iter()
        .position(|f| f.values.len() == 2 && f.op == Op::Eq)
    else {
        return Ok(());
    };
    let f = d.filters.remove(k);
    for v in f.values {
        d.part.push(d.filters.len());
        d.filters.push(Filter {
            column: f.column,
            op: Op::Eq,
            values: vec![v],
        });
    }
    d.intent = Intent::Difference;
    for w in ["more", "less", "than", "much"] {
        if let Some(i) = d.r.has(&[w]) {
            d.r.eat(i);
        }
    }
    Ok(())
}

/// Numeric conditions: on the measure per group (HAVING) when there are groups or an entity
/// is counted, else on a numeric column.
pub(in super::super) fn place_condition(d: &mut Draft) -> Result<(), Declined> {
    let Some((op, v, _)) = d.condition else {
        return Ok(());
    };
    if !d.dimensions.is_empty() && d.intent != Intent::List {
        d.having = Some(Having {
            op,
            value: v,
            count_groups: d.count_groups,
        });
        return Ok(());
    }
    let c = d.r.c;
    match d
        .columns
        .iter()
        .find(|(col, _)| c.column(*col).kind.is_numeric())
    {
        Some((col, _)) => {
            d.filters.push(Filter {
                column: *col,
                op,
                values: vec![Value::Number(v)],
            });
            Ok(())
        }
        None => Err(Declined {
            message: format!("ASK did not understand what the number {v} applies to"),
            hint: "name the groups it is about, e.g. \"stores with more than 300 orders\"".into(),
        }),
    }
}

/// Comparisons: "online vs in-store" → one row per value.
pub(in super::super) fn versus(d: &mut Draft) -> Result<(), Declined> {
    if d.r.has(&["vs", "versus", "compared", "compare"]).is_none() {
        return Ok(());
    }
    let many: Vec<_> = d
        .filters
        .iter()
        .filter(|f| f.values.len() > 1)
        .map(|f| f.column)
        .collect();
    for column in many {
        if !d.dimensions.iter().any(|dim| dim.column == column) {
            d.dimensions.push(Dimension {
                column,
                grain: None,
            });
        }
    }
    Ok(())
}

/// A share's part is its last value filter.
pub(in super::super) fn share_part(d: &mut Draft) -> Result<(), Declined> {
    if d.intent == Intent::Share {
        d.part = d.filters.len().checked_sub(1).into_iter().collect();
    }
    Ok(())
}
