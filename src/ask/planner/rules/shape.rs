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
    let ranking = d.order.is_some() || !d.conditions.is_empty() || d.limit.is_some();
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
        .filter_map(|(t, at)| {
            let key = match c.table(*t).primary_key.as_slice() {
                [k] => Some(crate::catalog::ColRef {
                    table: *t,
                    column: *k,
                }),
                _ => None,
            };
            display(c, *t).or(key).map(|col| (col, *at))
        });
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

/// "revenue per square foot" is a ratio, not a breakdown by each size (a number column after
/// "per"; "by floor number", "which floor number has the most" are breakdowns).
pub(in super::super) fn no_numeric_groups(d: &mut Draft) -> Result<(), Declined> {
    let per = |col: crate::catalog::ColRef| {
        d.picked.iter().any(|k| {
            let cand = &d.linking.candidates[*k];
            matches!(cand.element, crate::catalog::link::Element::Column(x) if x == col)
                && cand.span.0 > 0
                && d.r.w(cand.span.0 - 1) == "per"
        })
    };
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
                && per(dim.column)
                && !col.name.ends_with("id")
                && !super::super::grammar::year_like(c, dim.column)
                && !key(dim.column)
        }
    }) {
        return Err(Declined {
            message: format!(
                "ASK cannot divide by {} yet (\"per\" a number column is a rate per unit)",
                c.column(dim.column).name
            ),
            hint: "ask for the measure per row (e.g. per store) and the column separately".into(),
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
/// is counted, else on the numeric column they are about.
pub(in super::super) fn place_condition(d: &mut Draft) -> Result<(), Declined> {
    if d.conditions.is_empty() {
        return Ok(());
    }
    if !d.dimensions.is_empty() && d.intent != Intent::List {
        let [(op, v, _)] = d.conditions.as_slice() else {
            return Err(Declined {
                message: "ASK cannot apply a range to a measure per group yet".into(),
                hint: "ask with one bound, e.g. \"with more than 20 orders\"".into(),
            });
        };
        d.having = Some(Having {
            op: *op,
            value: *v,
            count_groups: d.count_groups,
        });
        return Ok(());
    }
    for (op, v, at) in d.conditions.clone() {
        let Some(col) = condition_column(d, at) else {
            return Err(Declined {
                message: format!("ASK did not understand what the number {v} applies to"),
                hint: "name the column or the groups it is about, e.g. \"amount over 1000\" or \"stores with more than 300 orders\"".into(),
            });
        };
        d.filters.push(Filter {
            column: col,
            op,
            values: vec![Value::Number(v)],
        });
    }
    Ok(())
}

/// The numeric column a condition whose number is token `at` is about: the numeric column
/// named nearest before it (or right after), else, for an amount of money, the one money
/// column of the tables in play.
fn condition_column(d: &mut Draft, at: usize) -> Option<crate::catalog::ColRef> {
    let c = d.r.c;
    let numeric: Vec<(crate::catalog::ColRef, usize)> = d
        .columns
        .iter()
        .copied()
        .filter(|(col, _)| c.column(*col).kind.is_numeric())
        .collect();
    if let Some((col, _)) = numeric
        .iter()
        .filter(|(_, s)| *s < at)
        .max_by_key(|(_, s)| *s)
        .or_else(|| numeric.iter().min_by_key(|(_, s)| *s))
    {
        return Some(*col);
    }
    // "over 1000 dollars", "between 500 and 2000 usd": a unit after any bound.
    let positions: Vec<usize> = d
        .conditions
        .iter()
        .map(|(_, _, p)| *p)
        .chain([at])
        .collect();
    let unit = positions.iter().any(|p| {
        super::super::grammar::MONEY_UNITS.contains(&d.r.w(p + 1))
            || d.r.toks[*p].text.starts_with('$')
    });
    if !unit {
        return None;
    }
    for p in positions {
        if super::super::grammar::MONEY_UNITS.contains(&d.r.w(p + 1)) {
            d.r.eat(p + 1);
        }
    }
    let mut tables: Vec<_> = d.entities.iter().map(|(t, _)| *t).collect();
    tables.extend(
        d.measures
            .iter()
            .flat_map(|m| crate::ask::compile::measure_tables(c, m)),
    );
    tables.sort_unstable();
    tables.dedup();
    super::super::grammar::money_column(c, &tables)
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

/// A share's part is its last value filter. "flights with stops out of all flights for each
/// airline": with the whole named and a grouping, the share is taken within each group (a
/// ratio of the part to the whole), not across the groups.
pub(in super::super) fn share_part(d: &mut Draft) -> Result<(), Declined> {
    if d.intent != Intent::Share {
        return Ok(());
    }
    d.part = d.filters.len().checked_sub(1).into_iter().collect();
    let n = d.r.toks.len();
    let whole_named = (0..n).any(|i| {
        (d.r.w(i) == "out" && d.r.w(i + 1) == "of")
            || (matches!(d.r.w(i), "of" | "among") && d.r.w(i + 1) == "all")
    });
    if (whole_named || predicated(d))
        && !d.dimensions.is_empty()
        && !d.part.is_empty()
        && d.measures.len() == 1
    {
        d.intent = Intent::Ratio;
        d.measures.push(d.measures[0].clone());
        d.percent =
            d.r.has(&["share", "percent", "percentage", "percentages", "pct"])
                .is_some();
    }
    Ok(())
}

/// "what share of appointments were cancelled in each department": the part is said of the
/// rows ("were cancelled", "that are open"), so it is taken within each group; "the share of
/// cancelled appointments by department" spreads the part across the groups.
fn predicated(d: &Draft) -> bool {
    let Some(f) = d.part.first().and_then(|i| d.filters.get(*i)) else {
        return false;
    };
    d.picked.iter().any(|k| {
        let cand = &d.linking.candidates[*k];
        let said = |back: usize| {
            cand.span
                .0
                .checked_sub(back)
                .is_some_and(|i| matches!(d.r.w(i), "is" | "are" | "was" | "were" | "been" | "that" | "which" | "who"))
        };
        matches!(cand.element, crate::catalog::link::Element::Value { column, .. } if column == f.column)
            && (said(1) || said(2))
    })
}
