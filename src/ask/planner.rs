//! The deterministic planner: from a linked question to an [`AnalysisPlan`]. It reads a small,
//! closed grammar of analytics English (aggregates, "by/per/each", top/bottom N, shares,
//! growth, comparisons, numeric conditions, "never", time ranges and grains) and takes every
//! other word from schema linking. Every word must be accounted for: a content word that
//! neither the grammar nor linking explains makes it decline, never guess.

mod check;
mod grammar;

use super::plan::*;
use super::time::{self, Date};
use crate::catalog::link::{Candidate, Element, Linking};
use crate::catalog::store::Semantic;
use crate::catalog::text::Token;
use crate::catalog::{ColRef, TableId, ValueKind};
use check::{unexplained, unused_elements};
use grammar::{
    agg_word, anchor, comparison, confidence, count_cue, declined, dimension_cue, display, norm,
    number, pick, Reader,
};

/// Why a question was declined, with what was understood.
#[derive(Debug, Clone, PartialEq)]
pub struct Declined {
    /// What was not understood.
    pub message: String,
    /// What was understood and a question it could answer.
    pub hint: String,
}

/// A plan with the linking it came from and the candidates it used.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The plan.
    pub plan: AnalysisPlan,
    /// Linking of the question.
    pub linking: Linking,
    /// Indexes in `linking.candidates` the plan used.
    pub used: Vec<usize>,
}

/// Plans `question` against the role's catalog view.
pub fn plan(s: &Semantic, question: &str) -> Result<Planned, Declined> {
    let linking = s.index.link(&s.catalog, question);
    let toks = &linking.tokens;
    let mut r = Reader {
        s,
        c: &s.catalog,
        toks,
        used_tok: vec![false; toks.len()],
    };
    let picked = pick(&r, &linking);
    let mut measures: Vec<Measure> = Vec::new();
    // Metrics named by a word that is also a table's name ("orders"): that word may just name
    // the rows ("online orders") when another measure is asked for.
    let mut table_worded: Vec<(Measure, TableId)> = Vec::new();
    let mut dimensions: Vec<Dimension> = Vec::new();
    let mut filters: Vec<Filter> = Vec::new();
    let mut entities: Vec<(TableId, usize)> = Vec::new();
    let mut columns: Vec<(ColRef, usize)> = Vec::new();
    let mut used = Vec::new();
    let mut last_was_dim = false;
    for &i in &picked {
        let cand: &Candidate = &linking.candidates[i];
        let (start, end) = cand.span;
        used.push(i);
        for k in start..end {
            r.eat(k);
        }
        let after_and = start > 0 && r.w(start - 1) == "and";
        let dim = dimension_cue(&r, start)
            || (after_and
                && last_was_dim
                && matches!(cand.element, Element::Column(_) | Element::Table(_)));
        last_was_dim = dim && matches!(cand.element, Element::Column(_) | Element::Table(_));
        match &cand.element {
            Element::Metric(m) => {
                measures.push(Measure::Metric(*m));
                let w = crate::catalog::text::stem(&cand.words.to_lowercase());
                if let Some(t) =
                    r.c.tables
                        .iter()
                        .position(|t| crate::catalog::text::stem(&t.name) == w)
                {
                    table_worded.push((Measure::Metric(*m), t as TableId));
                }
            }
            Element::Value { column, value } => {
                match filters
                    .iter_mut()
                    .find(|f| f.column == *column && f.op == Op::Eq)
                {
                    Some(f) => f.values.push(Value::Text(value.clone())),
                    None => filters.push(Filter {
                        column: *column,
                        op: Op::Eq,
                        values: vec![Value::Text(value.clone())],
                    }),
                }
            }
            Element::Table(t) if dim => match display(r.c, *t) {
                Some(col) => dimensions.push(Dimension {
                    column: col,
                    grain: None,
                }),
                None => {
                    return Err(Declined {
                        message: format!(
                            "cannot show {} by name: it has no display column",
                            r.c.table(*t).name
                        ),
                        hint: format!(
                            "set display_column for {} in schemas/*.toml",
                            r.c.table(*t).name
                        ),
                    })
                }
            },
            Element::Table(t) => entities.push((*t, start)),
            Element::Column(col) if dim => {
                let target = match r.c.column(*col).name.ends_with("_id") {
                    // "by region_id" means by region: show the referenced entity's name.
                    true => {
                        r.c.relations
                            .iter()
                            .find(|rel| rel.from == col.table && rel.from_columns == [col.column])
                            .and_then(|rel| display(r.c, rel.to))
                            .unwrap_or(*col)
                    }
                    false => *col,
                };
                dimensions.push(Dimension {
                    column: target,
                    grain: None,
                })
            }
            Element::Column(col) => columns.push((*col, start)),
        }
    }
    // Grammar words.
    let mut limit = None;
    let mut order = None;
    let mut intent = Intent::Aggregate;
    let mut having = None;
    let mut grain = None;
    let mut count_groups = false;
    for i in 0..toks.len() {
        let w = r.w(i).to_string();
        let next = r.w(i + 1).to_string();
        match w.as_str() {
            "top" | "bottom" | "best" | "worst" => {
                r.eat(i);
                order = Some(Order {
                    descending: matches!(w.as_str(), "top" | "best"),
                });
                match toks.get(i + 1).and_then(number) {
                    Some(n) if n >= 1.0 && n.fract() == 0.0 => {
                        limit = Some(n as u64);
                        r.eat(i + 1);
                    }
                    _ => limit = Some(10),
                }
            }
            "most" | "highest" | "largest" | "biggest" | "greatest"
                if r.w(i.wrapping_sub(1)) != "at" =>
            {
                r.eat(i);
                order = Some(Order { descending: true });
                limit.get_or_insert(1);
            }
            "least" | "fewest" | "lowest" | "smallest" if r.w(i.wrapping_sub(1)) != "at" => {
                r.eat(i);
                order = Some(Order { descending: false });
                limit.get_or_insert(1);
            }
            "the"
                if toks
                    .get(i + 1)
                    .and_then(number)
                    .is_some_and(|n| n >= 1.0 && n.fract() == 0.0 && n < 1000.0) =>
            {
                // "the 5 stores with the most revenue"
                if let Some(n) = toks.get(i + 1).and_then(number) {
                    limit = Some(n as u64);
                    r.eat(i + 1);
                }
            }
            "which" | "what" => {
                if let Some(n) = toks
                    .get(i + 1)
                    .and_then(number)
                    .filter(|n| *n >= 1.0 && n.fract() == 0.0)
                {
                    limit = Some(n as u64);
                    r.eat(i + 1);
                }
            }
            "share" | "percentage" | "percent" | "proportion" | "fraction" | "%"
                if !r.used_tok[i] =>
            {
                r.eat(i);
                intent = Intent::Share;
            }
            "growth" | "grow" | "grew" | "increase" | "change" => {
                r.eat(i);
                intent = Intent::Growth;
            }
            _ => {}
        }
        if let Some((op, n)) = comparison(&w, &next) {
            let at = i + n;
            let val = toks.get(at).and_then(number);
            if let Some(v) = val {
                for k in i..=at {
                    r.eat(k);
                }
                having = Some((op, v, at));
            }
        }
        if let Some(g) = time::grain_word(&w) {
            let before = r.w(i.wrapping_sub(1));
            let adjective = matches!(
                w.as_str(),
                "daily" | "weekly" | "monthly" | "quarterly" | "yearly" | "annually"
            );
            if adjective || matches!(before, "by" | "per" | "each" | "every") {
                grain = Some(g);
                r.eat(i);
            }
        }
    }
    if r.has(&["year"]).is_some() && r.has(&["over"]).is_some() && intent == Intent::Growth {
        // "year-over-year": words used.
        for (i, t) in toks.iter().enumerate() {
            if matches!(norm(t), "year" | "over") {
                r.eat(i);
            }
        }
    }
    // The entity a count cue names ("how many customers").
    let counted: Option<TableId> = entities
        .iter()
        .find(|(_, start)| count_cue(&r, *start))
        .map(|(t, _)| *t);
    let references = |from: TableId, to: TableId| {
        r.c.relations
            .iter()
            .find(|rel| rel.from == from && rel.to == to)
            .cloned()
    };
    // Tables named besides the counted one, by entity or by a metric ("orders").
    let others: Vec<TableId> = entities
        .iter()
        .map(|(t, _)| *t)
        .chain(measures.iter().flat_map(|m| {
            let ts = super::compile::measure_tables(r.c, m);
            s.graph.grain(&ts).into_iter().collect::<Vec<_>>()
        }))
        .filter(|t| Some(*t) != counted)
        .collect();
    let mut without = None;
    if let (Some(t), Some(i)) = (counted, r.has(&["never", "no", "without"])) {
        // "customers who never placed an order": no row of the other table points at them.
        if let Some(e) = others.iter().find(|e| references(**e, t).is_some()) {
            r.eat(i);
            without = Some(*e);
            measures = vec![Measure::Count(t)];
        }
    } else if let (Some(t), Some(_)) = (counted, having.as_ref()) {
        // "how many customers have placed more than 20 orders": count the groups that pass.
        if let Some(m) = measures.first().cloned().or_else(|| {
            others
                .iter()
                .find(|e| references(**e, t).is_some())
                .map(|e| Measure::Count(*e))
        }) {
            if let Some(col) = display(r.c, t) {
                measures = vec![m];
                dimensions.insert(
                    0,
                    Dimension {
                        column: col,
                        grain: None,
                    },
                );
                count_groups = true;
            }
        }
    } else if let Some(t) = counted {
        // "how many distinct customers made a purchase": count the references.
        let event = others
            .iter()
            .find_map(|e| references(*e, t).map(|rel| (*e, rel)));
        if let Some((e, rel)) = event {
            if let [col] = rel.from_columns.as_slice() {
                measures = vec![Measure::Aggregate {
                    agg: Agg::CountDistinct,
                    column: ColRef {
                        table: e,
                        column: *col,
                    },
                }];
                if let Some(i) = r.has(&["distinct", "different", "unique"]) {
                    r.eat(i);
                }
            }
        }
    }
    // The measure.
    if measures.is_empty() {
        let count = toks
            .iter()
            .enumerate()
            .any(|(i, _)| count_cue(&r, i + 1) || count_cue(&r, i));
        let agg = toks
            .iter()
            .enumerate()
            .find_map(|(i, t)| agg_word(norm(t)).map(|a| (a, i)));
        let numeric = columns
            .iter()
            .find(|(c, _)| r.c.column(*c).kind.is_numeric());
        match (agg, numeric, entities.first()) {
            (Some((a, i)), Some((col, _)), _) => {
                r.eat(i);
                measures.push(Measure::Aggregate {
                    agg: a,
                    column: *col,
                });
            }
            (_, _, Some((t, _))) if count => {
                let distinct = r.has(&["distinct", "different", "unique"]);
                measures.push(Measure::Count(*t));
                if let Some(i) = distinct {
                    r.eat(i);
                }
            }
            (_, _, Some((t, _))) if intent == Intent::Share => {
                measures.push(Measure::Count(*t));
            }
            (_, _, Some((t, _))) if r.has(&["which", "what", "list"]).is_some() => {
                intent = Intent::List;
                if let Some(col) = display(r.c, *t) {
                    dimensions.insert(
                        0,
                        Dimension {
                            column: col,
                            grain: None,
                        },
                    );
                }
                measures.push(Measure::Count(*t));
            }
            _ => {}
        }
    }
    let Some(first) = measures.first().cloned() else {
        let left = unexplained(&r, &linking, &used);
        let what = if left.is_empty() {
            "what to measure".to_string()
        } else {
            format!("\"{}\", so not what to measure", left.join("\", \""))
        };
        return Err(declined(&r, &linking, &used, &what));
    };
    if measures.len() > 1 {
        for (m, t) in &table_worded {
            if measures.len() > 1 {
                measures.retain(|x| x != m);
                entities.push((*t, 0));
            }
        }
    }
    let first = measures.first().cloned().unwrap_or(first);
    if measures.len() > 1 {
        // One measure per question: a second would otherwise be silently ignored.
        let names: Vec<String> = measures
            .iter()
            .map(|m| super::compile::measure_name(r.c, m))
            .collect();
        return Err(Declined {
            message: format!(
                "ASK answers one measure at a time, and this question names {}",
                names.join(" and ")
            ),
            hint: format!("ask for {} first, then the others", names[0]),
        });
    }
    // "top 5 customers by spend", "which stores had more than 300 orders": the entity named
    // (or a text column such as brand) is what the rows are about.
    if dimensions.is_empty() && (order.is_some() || having.is_some() || limit.is_some()) {
        let measured = super::compile::measure_tables(r.c, &first);
        let entity = entities
            .iter()
            .filter(|(t, _)| {
                Some(*t) != counted
                    && !(measured.len() == 1
                        && measured[0] == *t
                        && matches!(first, Measure::Count(_)))
            })
            .filter_map(|(t, at)| display(r.c, *t).map(|c| (c, *at)));
        let text_col = columns
            .iter()
            .filter(|(c, _)| r.c.column(*c).kind == ValueKind::Text)
            .map(|(c, at)| (*c, *at));
        if let Some((col, _)) = entity.chain(text_col).min_by_key(|(_, at)| *at) {
            dimensions.push(Dimension {
                column: col,
                grain: None,
            });
        }
    }
    // "revenue per square foot" is a ratio, not a breakdown by each size.
    if let Some(d) = dimensions.iter().find(|d| {
        d.grain.is_none() && {
            let col = r.c.column(d.column);
            col.kind.is_numeric() && !col.name.ends_with("id")
        }
    }) {
        return Err(Declined {
            message: format!(
                "ASK cannot compute a ratio per {} yet",
                r.c.column(d.column).name
            ),
            hint: "ask for the measure and the column separately".into(),
        });
    }
    // "how much more revenue did East make than West": the two values, each a part.
    let mut part = Vec::new();
    if r.has(&["than"]).is_some() && r.has(&["how"]).is_some() && r.has(&["more", "less"]).is_some()
    {
        if let Some(k) = filters
            .iter()
            .position(|f| f.values.len() == 2 && f.op == Op::Eq)
        {
            let f = filters.remove(k);
            for v in f.values {
                part.push(filters.len());
                filters.push(Filter {
                    column: f.column,
                    op: Op::Eq,
                    values: vec![v],
                });
            }
            intent = Intent::Difference;
            for w in ["more", "less", "than", "much"] {
                if let Some(i) = r.has(&[w]) {
                    r.eat(i);
                }
            }
        }
    }
    // Time range, anchored to the end of the data.
    let time_col = super::compile::measure_time(r.c, &first);
    // Numbers already read (top 5, more than 2000) are not years.
    let free: Vec<Token> = toks
        .iter()
        .enumerate()
        .map(|(i, t)| {
            if r.used_tok[i] && t.number {
                Token {
                    norm: String::new(),
                    number: false,
                    ..t.clone()
                }
            } else {
                t.clone()
            }
        })
        .collect();
    let range = time::range(&free, anchor(r.c, time_col));
    let mut time = None;
    if let Some(rg) = &range {
        for k in &rg.tokens {
            r.eat(*k);
        }
        time = Some(TimeRange {
            column: None,
            start: rg.start.iso(),
            end: rg.end.iso(),
            words: rg
                .tokens
                .iter()
                .map(|k| toks[*k].text.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        });
    }
    if let Some(g) = grain {
        let col = time_col.ok_or_else(|| Declined {
            message: format!(
                "{} has no date to group by",
                super::compile::measure_name(r.c, &first)
            ),
            hint: "set time_column in schemas/*.toml".into(),
        })?;
        dimensions.push(Dimension {
            column: col,
            grain: Some(g),
        });
    }
    // Growth compares with the period before.
    let mut previous = None;
    if intent == Intent::Growth && dimensions.iter().any(|d| d.grain.is_some()) {
        return Err(Declined {
            message: "ASK cannot compute growth per time bucket yet".into(),
            hint: "ask for the growth of one period, e.g. \"revenue growth in 2024\", or for the monthly values".into(),
        });
    }
    if without.is_some() && (!filters.is_empty() || time.is_some()) {
        return Err(Declined {
            message: "ASK cannot combine \"never\" with other conditions yet".into(),
            hint:
                "ask \"how many customers have never placed an order\" without further conditions"
                    .into(),
        });
    }
    if intent == Intent::Growth {
        let t = time.clone().ok_or_else(|| Declined {
            message: "growth needs a period".into(),
            hint: "say which one, e.g. \"revenue growth in 2024\"".into(),
        })?;
        if let (Some(s), Some(e)) = (Date::parse(&t.start), Date::parse(&t.end)) {
            let years = e.y - s.y;
            if years >= 2 && s.m == 1 && e.m == 1 {
                // "from 2023 to 2024": the last year against the first.
                previous = Some(TimeRange {
                    start: format!("{:04}-01-01", s.y),
                    end: format!("{:04}-01-01", s.y + 1),
                    ..t.clone()
                });
                time = Some(TimeRange {
                    start: format!("{:04}-01-01", e.y - 1),
                    ..t.clone()
                });
            } else {
                let months = (e.y - s.y) * 12 + e.m as i32 - s.m as i32;
                let back = |d: Date| {
                    let idx = d.y * 12 + d.m as i32 - 1 - months;
                    format!("{:04}-{:02}-01", idx.div_euclid(12), idx.rem_euclid(12) + 1)
                };
                previous = Some(TimeRange {
                    start: back(s),
                    end: back(e),
                    ..t.clone()
                });
            }
        }
    }
    // Numeric conditions: on the measure per group (HAVING) when there are groups or an
    // entity is counted, else on a numeric column.
    let mut plan_having = None;
    if let Some((op, v, _)) = having {
        if !dimensions.is_empty() {
            plan_having = Some(Having {
                op,
                value: v,
                count_groups,
            });
        } else if let Some((col, _)) = columns
            .iter()
            .find(|(c, _)| r.c.column(*c).kind.is_numeric())
        {
            filters.push(Filter {
                column: *col,
                op,
                values: vec![Value::Number(v)],
            });
        } else {
            return Err(Declined {
                message: format!("ASK did not understand what the number {v} applies to"),
                hint: "name the groups it is about, e.g. \"stores with more than 300 orders\""
                    .into(),
            });
        }
    }
    // Comparisons: "online vs in-store" → one row per value.
    if r.has(&["vs", "versus", "compared", "compare"]).is_some() {
        for f in &filters {
            if f.values.len() > 1 && !dimensions.iter().any(|d| d.column == f.column) {
                dimensions.push(Dimension {
                    column: f.column,
                    grain: None,
                });
            }
        }
    }
    if intent == Intent::Share {
        part = filters.len().checked_sub(1).into_iter().collect();
    }
    let plan = AnalysisPlan {
        intent,
        measures,
        dimensions,
        filters,
        time,
        having: plan_having,
        order,
        limit,
        previous,
        without,
        part,
        confidence: 0.0,
    };
    // Every content word must be accounted for; a word repeating an element already used
    // ("region" in "the East region ... the West region") is.
    let mut left = unexplained(&r, &linking, &used);
    left.extend(unused_elements(
        s, &plan, &columns, &entities, counted, &linking, &used,
    ));
    if !left.is_empty() {
        return Err(declined(
            &r,
            &linking,
            &used,
            &format!("\"{}\"", left.join("\", \"")),
        ));
    }
    let mut plan = plan;
    plan.confidence = confidence(&linking, &used);
    Ok(Planned {
        plan,
        linking,
        used,
    })
}
