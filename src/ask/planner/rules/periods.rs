//! Time: the date range ("in Q4 2024", "last 3 months", anchored to the end of the data), the
//! grain as a grouping ("by month"), and the two periods a growth compares.

use super::super::draft::Draft;
use super::super::grammar::{anchor, year_column, year_like};
use super::super::Declined;
use crate::ask::plan::*;
use crate::ask::time::{self, Date};
use crate::catalog::text::Token;

/// The date range the words name, on the measure's time column.
pub(in super::super) fn range(d: &mut Draft) -> Result<(), Declined> {
    let Some(first) = d.first().cloned() else {
        return Ok(());
    };
    // "accounts signed up in 2024", "students predicted to graduate in the last 10 years":
    // the date named is the one filtered.
    let named = d
        .columns
        .iter()
        .map(|(col, _)| *col)
        .find(|col| d.r.c.column(*col).kind.is_temporal());
    let time_col = named.or_else(|| crate::ask::compile::measure_time(d.r.c, &first));
    let years = match time_col {
        None => measured_year(d, &first),
        Some(_) => None,
    };
    // Numbers already read (top 5, more than 2000) are not years.
    let free: Vec<Token> =
        d.r.toks
            .iter()
            .enumerate()
            .map(|(i, t)| {
                if d.r.used_tok[i] && t.number {
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
    if let Some((clock, at)) = clock_period(d.r.toks, &d.r.used_tok) {
        for k in &at {
            d.r.eat(*k);
        }
        d.time = Some(TimeRange {
            clock: Some(clock),
            column: named,
            start: String::new(),
            end: String::new(),
            words: at
                .iter()
                .map(|k| d.r.toks[*k].text.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        });
        return Ok(());
    }
    let Some(rg) = time::range(&free, anchor(d.r.c, time_col)) else {
        return Ok(());
    };
    for k in &rg.tokens {
        d.r.eat(*k);
    }
    if let Some(col) = years {
        // A table dated by a year number: "in 2021" is `year >= 2021 AND year < 2022`.
        if rg.start.m != 1 || rg.start.d != 1 || rg.end.m != 1 || rg.end.d != 1 {
            return Err(Declined {
                message: format!(
                    "{} is dated by year only, so \"{}\" cannot be applied",
                    d.r.c.table(col.table).name,
                    rg.tokens
                        .iter()
                        .map(|k| d.r.toks[*k].text.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                hint: "ask about whole years, e.g. \"in 2021\"".into(),
            });
        }
        for (op, y) in [(Op::Ge, rg.start.y), (Op::Lt, rg.end.y)] {
            d.filters.push(Filter {
                column: col,
                op,
                values: vec![Value::Number(y as f64)],
            });
        }
        return Ok(());
    }
    d.time = Some(TimeRange {
        clock: None,
        column: named,
        start: rg.start.iso(),
        end: rg.end.iso(),
        words: rg
            .tokens
            .iter()
            .map(|k| d.r.toks[*k].text.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    });
    Ok(())
}

/// "today", "yesterday", "this month", "current quarter": a period of the wall clock, with
/// the tokens that name it; tokens marked in `used` are skipped.
pub fn clock_period(toks: &[Token], used: &[bool]) -> Option<(ClockPeriod, Vec<usize>)> {
    let w = |i: usize| toks.get(i).map(|t| t.norm.as_str()).unwrap_or("");
    for i in 0..toks.len() {
        if used.get(i).copied().unwrap_or(false) {
            continue;
        }
        match w(i) {
            "today" => {
                return Some((
                    ClockPeriod {
                        unit: Grain::Day,
                        offset: 0,
                    },
                    vec![i],
                ))
            }
            "yesterday" => {
                return Some((
                    ClockPeriod {
                        unit: Grain::Day,
                        offset: -1,
                    },
                    vec![i],
                ))
            }
            "this" | "current" => {
                let unit = match w(i + 1) {
                    "week" => Grain::Week,
                    "month" => Grain::Month,
                    "quarter" => Grain::Quarter,
                    "year" => Grain::Year,
                    _ => continue,
                };
                return Some((ClockPeriod { unit, offset: 0 }, vec![i, i + 1]));
            }
            _ => {}
        }
    }
    None
}

/// The year column of the measured table, when it has no date.
fn measured_year(d: &Draft, m: &Measure) -> Option<crate::catalog::ColRef> {
    let tables = crate::ask::compile::measure_tables(d.r.c, m);
    let t =
        d.r.s
            .graph
            .grain(&tables)
            .or_else(|| tables.first().copied())?;
    year_column(d.r.c, t)
}

/// "by month": the measure's time column, bucketed.
pub(in super::super) fn grain(d: &mut Draft) -> Result<(), Declined> {
    let (Some(g), Some(first)) = (d.grain, d.first().cloned()) else {
        return Ok(());
    };
    if d.dimensions.iter().any(|dim| year_like(d.r.c, dim.column)) {
        return Ok(()); // "in each year" named the year column itself
    }
    let time_col = crate::ask::compile::measure_time(d.r.c, &first);
    if let (None, Some(col), Grain::Year) = (time_col, measured_year(d, &first), g) {
        d.dimensions.push(Dimension {
            column: col,
            grain: None,
        });
        return Ok(());
    }
    let col = time_col.ok_or_else(|| Declined {
        message: format!(
            "{} has no date to group by",
            crate::ask::compile::measure_name(d.r.c, &first)
        ),
        hint: "set time_column in schemas/*.toml".into(),
    })?;
    d.dimensions.push(Dimension {
        column: col,
        grain: Some(g),
    });
    Ok(())
}

/// Combinations not supported yet are declined, not approximated.
pub(in super::super) fn unsupported(d: &mut Draft) -> Result<(), Declined> {
    if d.intent == Intent::Growth && d.dimensions.iter().any(|dim| dim.grain.is_some()) {
        return Err(Declined {
            message: "ASK cannot compute growth per time bucket yet".into(),
            hint: "ask for the growth of one period, e.g. \"revenue growth in 2024\", or for the monthly values".into(),
        });
    }
    // "authors with publications in both the domain X and the domain Y": each row has one
    // value, so both at once is a per-entity condition, not IN.
    if let Some(i) = d.r.has(&["both"]) {
        if d.filters.iter().any(|f| f.values.len() > 1) {
            d.r.eat(i);
            return Err(Declined {
                message: "ASK cannot require both values at once yet (\"both ... and ...\")".into(),
                hint: "ask for each value separately, or for either of them".into(),
            });
        }
    }
    if d.without.is_some() && (!d.filters.is_empty() || d.time.is_some()) {
        return Err(Declined {
            message: "ASK cannot combine \"never\" with other conditions yet".into(),
            hint:
                "ask \"how many customers have never placed an order\" without further conditions"
                    .into(),
        });
    }
    Ok(())
}

/// Growth compares the period asked for with the one before (or the first year of a span
/// with the last).
pub(in super::super) fn growth(d: &mut Draft) -> Result<(), Declined> {
    if d.intent != Intent::Growth {
        return Ok(());
    }
    let t = d.time.clone().ok_or_else(|| Declined {
        message: "growth needs a period".into(),
        hint: "say which one, e.g. \"revenue growth in 2024\"".into(),
    })?;
    if t.clock.is_some() {
        return Err(Declined {
            message: format!("ASK cannot compute growth for \"{}\" yet", t.words),
            hint: "name the period, e.g. \"revenue growth in 2024\"".into(),
        });
    }
    let (time, previous) = growth_periods(t);
    d.time = Some(time);
    d.previous = previous;
    Ok(())
}

/// The two periods a growth compares, from the range asked for: a span of years ("from 2023
/// to 2024") is its last year against its first; any other range is against the range of the
/// same length just before it. `None` for the earlier period when the range has no dates.
pub fn growth_periods(t: TimeRange) -> (TimeRange, Option<TimeRange>) {
    let (Some(s), Some(e)) = (Date::parse(&t.start), Date::parse(&t.end)) else {
        return (t, None);
    };
    if e.y - s.y >= 2 && s.m == 1 && e.m == 1 {
        // "from 2023 to 2024": the last year against the first.
        let previous = TimeRange {
            start: format!("{:04}-01-01", s.y),
            end: format!("{:04}-01-01", s.y + 1),
            ..t.clone()
        };
        let time = TimeRange {
            start: format!("{:04}-01-01", e.y - 1),
            ..t
        };
        return (time, Some(previous));
    }
    let months = (e.y - s.y) * 12 + e.m as i32 - s.m as i32;
    let back = |x: Date| {
        let idx = x.y * 12 + x.m as i32 - 1 - months;
        format!("{:04}-{:02}-01", idx.div_euclid(12), idx.rem_euclid(12) + 1)
    };
    let previous = TimeRange {
        start: back(s),
        end: back(e),
        ..t.clone()
    };
    (t, Some(previous))
}
