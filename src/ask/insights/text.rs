//! How the insight agent writes numbers, names and periods for people: thousands
//! separators, one decimal for percents, measure names from column names, period labels
//! from the time text at the question's grain.

use crate::ask::frame::days;
use crate::ask::plan::Grain;

/// An amount: no decimals for whole numbers or from 1,000 up, one from 10, two below;
/// thousands separators.
pub fn amount(x: f64) -> String {
    let decimals = if x.abs() >= 1_000.0 || x.fract() == 0.0 {
        0
    } else if x.abs() >= 10.0 {
        1
    } else {
        2
    };
    grouped(x, decimals)
}

/// A percent of `x` (already ×100) without its sign: `18.4 %`.
pub fn percent(x: f64) -> String {
    format!("{} %", grouped(x.abs(), 1))
}

/// A count: `1,234`.
pub fn count(n: usize) -> String {
    grouped(n as f64, 0)
}

/// A ratio with one decimal: `3.2×`.
pub fn ratio(x: f64) -> String {
    format!("{}×", grouped(x, 1))
}

/// A p-value as a paper states it: `p < 0.001`, else `p = 0.012`.
pub fn p_value(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".into()
    } else {
        format!("p = {p:.3}")
    }
}

/// `x` with `decimals` decimals and commas between thousands (`-1,234.5`).
pub fn grouped(x: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, x.abs());
    let (int, frac) = s.split_once('.').map_or((s.as_str(), ""), |(i, f)| (i, f));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    let negative = x < 0.0 && out.chars().any(|c| c.is_ascii_digit() && c != '0');
    if negative {
        format!("-{out}")
    } else {
        out
    }
}

/// A column name as words: `total_revenue` → `total revenue`; a count of things is the
/// things (`customers_count` → `customers`).
pub fn words(column: &str) -> String {
    let w = column
        .split(|c: char| c == '_' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    match w.strip_suffix(" count") {
        Some(things) if !things.is_empty() => things.to_string(),
        _ => w,
    }
}

/// The plural of a category column's words (`region` → `regions`, `country` → `countries`).
pub fn plural(column: &str) -> String {
    let w = words(column);
    if w.ends_with('s') {
        w
    } else if let Some(stem) = w
        .strip_suffix('y')
        .filter(|s| !s.ends_with(['a', 'e', 'o', 'u']))
    {
        format!("{stem}ies")
    } else {
        format!("{w}s")
    }
}

/// `s` with its first letter in upper case.
pub fn sentence(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

/// The grain of a series' time texts when the question did not say: month when every time
/// is a first of the month (year or quarter when they all fall on those), else day.
pub fn infer_grain(times: &[&str]) -> Grain {
    let parts: Vec<(u32, u32)> = times
        .iter()
        .filter_map(|t| Some((t.get(5..7)?.parse().ok()?, t.get(8..10)?.parse().ok()?)))
        .collect();
    let midnight = times
        .iter()
        .all(|t| t.get(11..).is_none_or(|h| h.starts_with("00:00:00")));
    if parts.len() != times.len() || !midnight || parts.iter().any(|&(_, d)| d != 1) {
        return Grain::Day;
    }
    if parts.iter().all(|&(m, _)| m == 1) {
        Grain::Year
    } else if parts.iter().all(|&(m, _)| m % 3 == 1) && spaced(times, 85.0) {
        Grain::Quarter
    } else {
        Grain::Month
    }
}

fn spaced(times: &[&str], min_days: f64) -> bool {
    let ds: Vec<f64> = times.iter().filter_map(|t| days(t)).collect();
    ds.windows(2).all(|w| (w[1] - w[0]).abs() >= min_days)
}

/// A period's label from its time text: `2023-03` (month), `2023-Q1`, `2023`, else the date.
pub fn period(text: &str, grain: Grain) -> String {
    let date = text.get(..10).unwrap_or(text);
    match grain {
        Grain::Month => date.get(..7).unwrap_or(date).to_string(),
        Grain::Year => date.get(..4).unwrap_or(date).to_string(),
        Grain::Quarter => match (
            date.get(..4),
            date.get(5..7).and_then(|m| m.parse::<u32>().ok()),
        ) {
            (Some(y), Some(m)) => format!("{y}-Q{}", m.div_ceil(3)),
            _ => date.to_string(),
        },
        Grain::Day | Grain::Week => date.to_string(),
    }
}

/// The unit of a slope: `a month`.
pub fn per(grain: Grain) -> &'static str {
    match grain {
        Grain::Day => "a day",
        Grain::Week => "a week",
        Grain::Month => "a month",
        Grain::Quarter => "a quarter",
        Grain::Year => "a year",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_for_people() {
        assert_eq!(amount(1_234_567.89), "1,234,568");
        assert_eq!(amount(-12_345.0), "-12,345");
        assert_eq!(amount(123.456), "123.5");
        assert_eq!(amount(97.0), "97");
        assert_eq!(amount(0.1234), "0.12");
        assert_eq!(amount(-0.001), "0.00");
        assert_eq!(percent(-18.44), "18.4 %");
        assert_eq!(percent(1234.56), "1,234.6 %");
        assert_eq!(count(1000), "1,000");
        assert_eq!(ratio(3.24), "3.2×");
        assert_eq!(p_value(0.0004), "p < 0.001");
        assert_eq!(p_value(0.0123), "p = 0.012");
    }

    #[test]
    fn names_and_periods() {
        assert_eq!(words("total_revenue"), "total revenue");
        assert_eq!(words("customers_count"), "customers");
        assert_eq!(words("count"), "count");
        assert_eq!(plural("region"), "regions");
        assert_eq!(plural("country"), "countries");
        assert_eq!(plural("day"), "days");
        assert_eq!(sentence("total revenue"), "Total revenue");
        assert_eq!(period("2023-03-01 00:00:00", Grain::Month), "2023-03");
        assert_eq!(period("2023-04-01", Grain::Quarter), "2023-Q2");
        assert_eq!(period("2023-01-01", Grain::Year), "2023");
        assert_eq!(infer_grain(&["2023-01-01", "2023-02-01"]), Grain::Month);
        assert_eq!(infer_grain(&["2023-01-01", "2023-04-01"]), Grain::Quarter);
        assert_eq!(infer_grain(&["2022-01-01", "2023-01-01"]), Grain::Year);
        assert_eq!(infer_grain(&["2023-01-01", "2023-01-02"]), Grain::Day);
    }
}
