//! The small pieces both the spec and the SVG need: nice axis ticks (steps of 1, 2 or 5 times
//! a power of ten), numbers as people read them (`1,234.5`, `12k`, `3.4M`), readable titles
//! from column names, ISO dates from day counts, and XML escaping.

/// Ticks covering `[lo, hi]` in steps of 1, 2 or 5 × 10ⁿ, about `target` of them; the first
/// is ≤ `lo` and the last ≥ `hi`. An empty or non-finite range gets `[0, 1]` or a step around
/// its one value.
pub fn nice_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    if !lo.is_finite() || !hi.is_finite() {
        return vec![0.0, 1.0];
    }
    let (mut lo, mut hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    if hi == lo {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() / 2.0 };
        if lo >= 0.0 && lo - pad < 0.0 {
            lo = 0.0;
        } else {
            lo -= pad;
        }
        hi += pad;
    }
    let raw = (hi - lo) / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = match raw / mag {
        n if n <= 1.0 => 1.0,
        n if n <= 2.0 => 2.0,
        n if n <= 5.0 => 5.0,
        _ => 10.0,
    } * mag;
    let first = (lo / step).floor();
    let last = (hi / step).ceil();
    let n = ((last - first) as usize).min(100);
    (0..=n)
        .map(|i| tidy((first + i as f64) * step, step))
        .collect()
}

/// `x` rounded to the precision of `step` (0.30000000000000004 → 0.3).
fn tidy(x: f64, step: f64) -> f64 {
    let digits = (-step.log10().floor()).max(0.0) as i32 + 1;
    let p = 10f64.powi(digits.min(12));
    (x * p).round() / p
}

/// A number in full with thousands separators and at most two decimals: `-1,234,567.89`.
pub fn full(x: f64) -> String {
    if !x.is_finite() {
        return String::new();
    }
    let s = format!("{:.2}", x.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let frac = frac.trim_end_matches('0');
    let mut grouped = String::with_capacity(int.len() + int.len() / 3);
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    let sign = if x < 0.0 && (int != "0" || !frac.is_empty()) {
        "-"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

/// A number short enough for an axis: `12k`, `3.4M`, `1.25B`; below 10,000 in full.
pub fn compact(x: f64) -> String {
    let a = x.abs();
    let (div, suffix) = if a >= 1e12 {
        (1e12, "T")
    } else if a >= 1e9 {
        (1e9, "B")
    } else if a >= 1e6 {
        (1e6, "M")
    } else if a >= 1e4 {
        (1e3, "k")
    } else {
        return full(x);
    };
    format!("{}{suffix}", full(x / div))
}

/// A column name as a title: `total_revenue` → `Total revenue`, `share_pct` → `Share (%)`.
pub fn readable(name: &str) -> String {
    let words: Vec<String> = name
        .split(|c: char| c == '_' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .map(|w| match w.to_ascii_lowercase().as_str() {
            "pct" | "percent" => "(%)".to_string(),
            _ => w.to_string(),
        })
        .collect();
    let joined = words.join(" ");
    let mut chars = joined.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => name.to_string(),
    }
}

/// `s` cut to `max` characters, with an ellipsis when cut.
pub fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Days since 1970-01-01 as an ISO date, with the time of day when it has one
/// (`2024-01-01`, `2024-01-01T12:00:00`): the form every Vega-Lite runtime parses alike.
pub fn iso(days: f64) -> String {
    let whole = days.floor();
    let z = whole as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let secs = ((days - whole) * 86_400.0).round() as i64;
    if secs == 0 {
        format!("{y:04}-{m:02}-{d:02}")
    } else {
        let (h, mi, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}")
    }
}

/// Text safe inside an XML element or attribute: `& < > " '` escaped, and the control
/// characters XML 1.0 forbids dropped.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_step_by_one_two_five() {
        assert_eq!(
            nice_ticks(0.0, 95.0, 5),
            vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
        );
        assert_eq!(nice_ticks(0.0, 1.0, 5), vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(
            nice_ticks(-30.0, 40.0, 5),
            vec![-40.0, -20.0, 0.0, 20.0, 40.0]
        );
        assert_eq!(
            nice_ticks(1200.0, 4800.0, 4),
            vec![1000.0, 2000.0, 3000.0, 4000.0, 5000.0]
        );
        assert_eq!(nice_ticks(0.0, 0.0, 5), vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(nice_ticks(f64::NAN, 1.0, 5), vec![0.0, 1.0]);
        let t = nice_ticks(7.0, 7.0, 5);
        assert!(t[0] <= 7.0 && *t.last().unwrap() >= 7.0 && t.len() > 2);
    }

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(full(1_234_567.891), "1,234,567.89");
        assert_eq!(full(-0.5), "-0.5");
        assert_eq!(full(999.0), "999");
        assert_eq!(full(-0.001), "0");
        assert_eq!(compact(15_000.0), "15k");
        assert_eq!(compact(1_250_000.0), "1.25M");
        assert_eq!(compact(-3_400_000_000.0), "-3.4B");
        assert_eq!(compact(2_500.0), "2,500");
    }

    #[test]
    fn titles_dates_and_escapes() {
        assert_eq!(readable("total_revenue"), "Total revenue");
        assert_eq!(readable("share_pct"), "Share (%)");
        assert_eq!(readable("__"), "__");
        assert_eq!(iso(0.0), "1970-01-01");
        assert_eq!(iso(19_723.5), "2024-01-01T12:00:00");
        assert_eq!(iso(11_017.0), "2000-03-01");
        assert_eq!(
            esc("<a & \"b\" 'c'>\u{1}"),
            "&lt;a &amp; &quot;b&quot; &apos;c&apos;&gt;"
        );
        assert_eq!(short("abcdef", 4), "abc…");
    }
}
