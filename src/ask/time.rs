//! Date ranges and time grains in a question: "in 2023", "Q4 2024", "last quarter of 2024",
//! "first half of 2023", "in March 2024", "since July 2023", "between March and June 2023",
//! "from November 24 to 26" (year from the question), "last 3 months" (relative to an anchor
//! date: the latest date in the data), and grains "monthly", "by quarter", "per year", ...
//! Ranges are half-open `[start, end)` with both named ends included.

use super::plan::Grain;
use crate::catalog::text::Token;

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    /// Year.
    pub y: i32,
    /// Month 1..=12.
    pub m: u32,
    /// Day 1..=31.
    pub d: u32,
}

impl Date {
    /// `YYYY-MM-DD`.
    pub fn iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.y, self.m, self.d)
    }
    /// Parses the date part of `YYYY-MM-DD...`.
    pub fn parse(s: &str) -> Option<Date> {
        let y = s.get(0..4)?.parse().ok()?;
        let m = s.get(5..7)?.parse().ok()?;
        let d = s.get(8..10)?.parse().ok()?;
        ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some(Date { y, m, d })
    }
    fn month_start(y: i32, m: i32) -> Date {
        // m may be outside 1..=12: normalise.
        let idx = y * 12 + (m - 1);
        Date {
            y: idx.div_euclid(12),
            m: (idx.rem_euclid(12) + 1) as u32,
            d: 1,
        }
    }
    fn days_in_month(self) -> u32 {
        match self.m {
            2 if (self.y % 4 == 0 && self.y % 100 != 0) || self.y % 400 == 0 => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }
    /// The next day.
    pub fn next_day(self) -> Date {
        if self.d < self.days_in_month() {
            Date {
                d: self.d + 1,
                ..self
            }
        } else {
            Date::month_start(self.y, self.m as i32 + 1)
        }
    }
}

/// A recognised range: `[start, end)`, and the token indices it used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    /// First day.
    pub start: Date,
    /// First day after.
    pub end: Date,
    /// Tokens consumed.
    pub tokens: Vec<usize>,
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn month(word: &str) -> Option<u32> {
    let w = word.to_ascii_lowercase();
    MONTHS
        .iter()
        .position(|m| *m == w || (w.len() >= 3 && w != "may" && m.starts_with(&w) && w.len() <= 4))
        .or_else(|| (w == "may").then_some(4))
        .map(|i| i as u32 + 1)
}

fn year(t: &Token) -> Option<i32> {
    let y: i32 = t.norm.parse().ok()?;
    (t.number && (1900..=2100).contains(&y)).then_some(y)
}

fn day(t: &Token) -> Option<u32> {
    let n = t.norm.trim_end_matches(['s', 't', 'n', 'd', 'r', 'h']);
    let d: u32 = n.parse().ok()?;
    (1..=31).contains(&d).then_some(d)
}

/// "2023-04-01" (or with slashes) as the tokens `2023`, `04`, `01` written one character
/// apart.
fn iso_date(toks: &[Token], i: usize) -> Option<Date> {
    let [y, m, d] = [toks.get(i)?, toks.get(i + 1)?, toks.get(i + 2)?];
    let tight = |a: &Token, b: &Token| b.start == a.end + 1;
    if !(tight(y, m) && tight(m, d) && m.norm.len() == 2 && d.norm.len() == 2) {
        return None;
    }
    let date = Date {
        y: year(y)?,
        m: m.norm.parse().ok().filter(|m| (1..=12).contains(m))?,
        d: d.norm.parse().ok()?,
    };
    (date.d >= 1 && date.d <= date.days_in_month()).then_some(date)
}

fn quarter(word: &str) -> Option<u32> {
    let w = word.to_ascii_lowercase();
    let q: u32 = w.strip_prefix('q')?.parse().ok()?;
    (1..=4).contains(&q).then_some(q)
}

fn ordinal(word: &str) -> Option<u32> {
    Some(match word {
        "first" | "1st" => 1,
        "second" | "2nd" => 2,
        "third" | "3rd" => 3,
        "fourth" | "4th" | "last" | "final" => 4,
        _ => return None,
    })
}

/// A period named by one or more tokens at `i`: (start, end, tokens used).
fn period(toks: &[Token], i: usize, default_year: Option<i32>) -> Option<(Date, Date, usize)> {
    let w = |k: usize| toks.get(k).map(|t| t.norm.as_str()).unwrap_or("");
    let year_at = |k: usize| toks.get(k).and_then(year);
    // "2023-04-01", "2023/04/01": one day.
    if let Some(day) = iso_date(toks, i) {
        return Some((day, day.next_day(), 3));
    }
    // "2023"
    if let Some(y) = year_at(i) {
        return Some((Date::month_start(y, 1), Date::month_start(y + 1, 1), 1));
    }
    // "Q4 2024", "Q4"
    if let Some(q) = quarter(w(i)) {
        let (y, n) = match year_at(i + 1) {
            Some(y) => (y, 2),
            None => (default_year?, 1),
        };
        let s = Date::month_start(y, (q as i32 - 1) * 3 + 1);
        return Some((s, Date::month_start(y, (q as i32) * 3 + 1), n));
    }
    // "last quarter of 2024", "first half of 2023", "second quarter"
    if let Some(o) = ordinal(w(i)) {
        let unit = w(i + 1);
        let (len, max) = match unit {
            "quarter" => (3, 4),
            "half" => (6, 2),
            _ => return None,
        };
        let o = if matches!(w(i), "last" | "final") {
            max
        } else {
            o
        };
        if o > max {
            return None;
        }
        let (y, n) = if w(i + 2) == "of" && year_at(i + 3).is_some() {
            (year_at(i + 3)?, 4)
        } else if let Some(y) = year_at(i + 2) {
            (y, 3)
        } else {
            (default_year?, 2)
        };
        let s = Date::month_start(y, (o as i32 - 1) * len + 1);
        return Some((s, Date::month_start(y, o as i32 * len + 1), n));
    }
    // "March 2024", "March", "November 24"
    if let Some(m) = month(w(i)) {
        if let Some(d) = toks
            .get(i + 1)
            .and_then(day)
            .filter(|_| year_at(i + 1).is_none())
        {
            let (y, n) = match year_at(i + 2) {
                Some(y) => (y, 3),
                None => (default_year?, 2),
            };
            let s = Date { y, m, d };
            return Some((s, s.next_day(), n));
        }
        let (y, n) = match year_at(i + 1) {
            Some(y) => (y, 2),
            None => (default_year?, 1),
        };
        return Some((
            Date::month_start(y, m as i32),
            Date::month_start(y, m as i32 + 1),
            n,
        ));
    }
    None
}

/// The date range of a question, if it names one. `anchor` is the last day of the data, for
/// "last 3 months" and "since ..." (to the end of the data).
pub fn range(toks: &[Token], anchor: Option<Date>) -> Option<Range> {
    let years: Vec<i32> = toks.iter().filter_map(year).collect();
    let default_year = years.last().copied();
    let w = |k: usize| toks.get(k).map(|t| t.norm.as_str()).unwrap_or("");
    for i in 0..toks.len() {
        match w(i) {
            // "between March and June 2023", "from November 24 to 26", "from 2022 to 2023"
            "between" | "from" => {
                let Some((s, _, n1)) = period(toks, i + 1, default_year) else {
                    continue;
                };
                let j = i + 1 + n1;
                if !matches!(w(j), "and" | "to" | "through" | "until" | "till") {
                    continue;
                }
                // "to 26": a bare day in the start's month.
                let end = match period(toks, j + 1, default_year) {
                    Some((_, e, n2)) => Some((e, n2)),
                    None => toks
                        .get(j + 1)
                        .and_then(day)
                        .map(|d| (Date { y: s.y, m: s.m, d }.next_day(), 1)),
                };
                let Some((e, n2)) = end else { continue };
                if e <= s {
                    continue;
                }
                return Some(Range {
                    start: s,
                    end: e,
                    tokens: (i..j + 1 + n2).collect(),
                });
            }
            "since" | "after" => {
                let Some((s, e0, n)) = period(toks, i + 1, default_year) else {
                    continue;
                };
                let start = if w(i) == "after" { e0 } else { s };
                let end = anchor
                    .map(|a| a.next_day())
                    .unwrap_or(Date::month_start(9999, 1));
                return Some(Range {
                    start,
                    end,
                    tokens: (i..i + 1 + n).collect(),
                });
            }
            "before" | "until" => {
                let Some((s, _, n)) = period(toks, i + 1, default_year) else {
                    continue;
                };
                return Some(Range {
                    start: Date::month_start(1, 1),
                    end: s,
                    tokens: (i..i + 1 + n).collect(),
                });
            }
            // "last 3 months", "past 12 weeks", "last year" (relative to the anchor)
            "last" | "past" | "previous" => {
                let Some(a) = anchor else { continue };
                let (n, unit_at) = match toks.get(i + 1).and_then(|t| t.norm.parse::<i32>().ok()) {
                    Some(n) if n > 0 && n < 1000 => (n, i + 2),
                    _ => (1, i + 1),
                };
                let end = a.next_day();
                let start = match crate::catalog::text::stem(w(unit_at)).as_str() {
                    "day" => back_days(end, n),
                    "week" => back_days(end, 7 * n),
                    "month" => Date::month_start(a.y, a.m as i32 - n + 1),
                    "quarter" => Date::month_start(a.y, a.m as i32 - 3 * n + 1),
                    "year" => Date::month_start(a.y - n + 1, 1),
                    _ => continue,
                };
                if w(unit_at + 1) == "of" {
                    continue; // "last quarter of 2024" is a period, handled below
                }
                return Some(Range {
                    start,
                    end,
                    tokens: (i..=unit_at).collect(),
                });
            }
            _ => {}
        }
    }
    // A single named period: "in 2023", "Q4 2024", "in March 2024", "last quarter of 2024".
    for i in 0..toks.len() {
        if let Some((s, e, n)) = period(toks, i, default_year) {
            // A bare month/ordinal needs a year somewhere in the question.
            return Some(Range {
                start: s,
                end: e,
                tokens: (i..i + n).collect(),
            });
        }
    }
    None
}

fn back_days(end: Date, n: i32) -> Date {
    // Walk back day by day (n is small); good enough and obviously right.
    let mut d = end;
    for _ in 0..n {
        d = if d.d > 1 {
            Date { d: d.d - 1, ..d }
        } else {
            let p = Date::month_start(d.y, d.m as i32 - 1);
            Date {
                d: p.days_in_month(),
                ..p
            }
        };
    }
    d
}

/// A time grain named at token `i` ("monthly", "month" after by/per/each), with tokens used.
pub fn grain_word(word: &str) -> Option<Grain> {
    Some(match word {
        "daily" | "day" | "days" | "date" => Grain::Day,
        "weekly" | "week" | "weeks" => Grain::Week,
        "monthly" | "month" | "months" => Grain::Month,
        "quarterly" | "quarter" | "quarters" => Grain::Quarter,
        "yearly" | "year" | "years" | "annually" | "annual" => Grain::Year,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::text::tokenize;

    fn r(q: &str) -> Option<(String, String)> {
        let anchor = Date::parse("2024-12-31");
        range(&tokenize(q), anchor).map(|r| (r.start.iso(), r.end.iso()))
    }

    fn p(a: &str, b: &str) -> Option<(String, String)> {
        Some((a.into(), b.into()))
    }

    #[test]
    fn named_periods() {
        assert_eq!(r("revenue in 2023"), p("2023-01-01", "2024-01-01"));
        assert_eq!(r("orders in Q4 2024"), p("2024-10-01", "2025-01-01"));
        assert_eq!(
            r("orders in the last quarter of 2024"),
            p("2024-10-01", "2025-01-01")
        );
        assert_eq!(
            r("sales in the first half of 2023"),
            p("2023-01-01", "2023-07-01")
        );
        assert_eq!(r("revenue in March 2024"), p("2024-03-01", "2024-04-01"));
        assert_eq!(r("revenue in Sept 2024"), p("2024-09-01", "2024-10-01"));
        assert_eq!(
            r("revenue between March and June 2023"),
            p("2023-03-01", "2023-07-01")
        );
        assert_eq!(
            r("orders over the Black Friday weekend of 2023, from November 24 to 26"),
            p("2023-11-24", "2023-11-27")
        );
        assert_eq!(r("from 2022 to 2023"), p("2022-01-01", "2024-01-01"));
        assert_eq!(r("revenue since July 2023"), p("2023-07-01", "2025-01-01"));
        assert_eq!(r("revenue by region"), None);
        assert_eq!(r("top 5 products"), None);
    }

    #[test]
    fn relative_periods_use_the_anchor() {
        assert_eq!(
            r("revenue in the last 3 months"),
            p("2024-10-01", "2025-01-01")
        );
        assert_eq!(
            r("orders in the past 7 days"),
            p("2024-12-25", "2025-01-01")
        );
        assert_eq!(r("revenue last year"), p("2024-01-01", "2025-01-01"));
        assert_eq!(range(&tokenize("last 3 months"), None), None);
    }

    #[test]
    fn dates_roll_over() {
        let d = Date::parse("2024-02-29").unwrap();
        assert_eq!(d.next_day().iso(), "2024-03-01");
        assert_eq!(
            Date::parse("2023-12-31").unwrap().next_day().iso(),
            "2024-01-01"
        );
        assert_eq!(Date::parse("2023-13-01"), None);
    }
}
