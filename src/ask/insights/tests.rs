//! The insight agent on constructed frames: each kind fires where it should, and rarely on
//! noise.

use super::*;
use crate::ask::frame::{Context, Frame};

/// xorshift64* with Box-Muller normals: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let u = self.uniform().max(1e-300);
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
    fn below(&mut self, n: usize) -> usize {
        (self.uniform() * n as f64) as usize % n
    }
}

fn month(i: usize) -> String {
    format!("{}-{:02}-01", 2020 + i / 12, i % 12 + 1)
}

/// A monthly series frame `(month date, revenue float8)`.
fn monthly(ys: &[f64]) -> Frame {
    let mut f = Frame::new(
        &[("month".into(), 1082), ("total_revenue".into(), 701)],
        10_000,
    );
    // Pushed in reverse: the agent sorts by time itself.
    for (i, y) in ys.iter().enumerate().rev() {
        f.push_text(&[Some(month(i).as_bytes()), Some(y.to_string().as_bytes())]);
    }
    f
}

/// A breakdown frame `(region text, revenue, orders)`.
fn regions(rows: &[(f64, f64)]) -> Frame {
    let cols = [
        ("region".into(), 25),
        ("revenue".into(), 1700),
        ("orders".into(), 20),
    ];
    let mut f = Frame::new(&cols, 10_000);
    for (i, (rev, ord)) in rows.iter().enumerate() {
        f.push_text(&[
            Some(format!("R{i:02}").as_bytes()),
            Some(rev.to_string().as_bytes()),
            Some(ord.to_string().as_bytes()),
        ]);
    }
    f
}

fn kinds(found: &[Insight], kind: &str) -> Vec<Insight> {
    found.iter().filter(|i| i.kind == kind).cloned().collect()
}

fn all(f: &Frame) -> Vec<Insight> {
    insights(f, &Context::default(), None, 100)
}

#[test]
fn a_linear_trend_has_its_direction() {
    let mut rng = Rng(7);
    for slope in [5.0, -5.0] {
        let ys: Vec<f64> = (0..24)
            .map(|i| 500.0 + slope * i as f64 + 6.0 * rng.normal())
            .collect();
        let found = all(&monthly(&ys));
        let t = kinds(&found, "trend");
        assert_eq!(t.len(), 1, "{found:#?}");
        let got = t[0].figure("slope").unwrap_or(0.0);
        assert!((got - slope).abs() < 1.5, "{t:#?}");
        assert!(t[0].figure("p").is_some_and(|p| p < 0.001));
        let verb = if slope > 0.0 { "rose" } else { "fell" };
        assert!(
            t[0].text.starts_with(&format!("Total revenue {verb} ")),
            "{}",
            t[0].text
        );
        assert!(
            t[0].text.contains("from 2020-01 to 2021-12"),
            "{}",
            t[0].text
        );
        // A straight line is not a level shift.
        assert!(kinds(&found, "change_point").is_empty(), "{found:#?}");
    }
}

#[test]
fn a_step_is_a_change_point_at_its_index() {
    let mut rng = Rng(11);
    let ys: Vec<f64> = (0..30)
        .map(|i| if i < 17 { 1_000.0 } else { 1_300.0 } + 25.0 * rng.normal())
        .collect();
    let found = all(&monthly(&ys));
    let c = kinds(&found, "change_point");
    assert_eq!(c.len(), 1, "{found:#?}");
    assert!(
        c[0].text
            .contains(&format!("shifted at {}", &month(17)[..7])),
        "{}",
        c[0].text
    );
    let before = ys[..17].iter().sum::<f64>() / 17.0;
    let after = ys[17..].iter().sum::<f64>() / 13.0;
    assert!((c[0].figure("mean_before").unwrap_or(0.0) - before).abs() < 1e-9);
    assert!((c[0].figure("mean_after").unwrap_or(0.0) - after).abs() < 1e-9);
    assert!(c[0].text.contains("up "), "{}", c[0].text);
}

#[test]
fn a_spike_is_an_outlier_period() {
    let mut rng = Rng(3);
    let mut ys: Vec<f64> = (0..24)
        .map(|i| 200.0 + 2.0 * i as f64 + 3.0 * rng.normal())
        .collect();
    ys[9] += 80.0;
    let found = all(&monthly(&ys));
    let o = kinds(&found, "outlier_period");
    assert_eq!(o.len(), 1, "{found:#?}");
    assert!(o[0].text.starts_with(&month(9)[..7]), "{}", o[0].text);
    assert_eq!(o[0].figure("value"), Some(ys[9]));
    assert!(o[0].figure("z").is_some_and(|z| z > 3.5));
    assert!(o[0].text.contains("above"));
    // A trend with a spike is not a level shift.
    assert!(kinds(&found, "change_point").is_empty(), "{found:#?}");
}

#[test]
fn a_dominant_category_leads_and_concentrates() {
    let mut rng = Rng(5);
    let mut rows: Vec<(f64, f64)> = (0..12)
        .map(|_| (100.0 + 10.0 * rng.normal(), 1.0))
        .collect();
    rows[4].0 = 2_000.0;
    let found = all(&regions(&rows));
    let l = kinds(&found, "leader");
    assert_eq!(l.len(), 1, "{found:#?}");
    assert!(
        l[0].text.starts_with("R04 leads with 2,000 revenue"),
        "{}",
        l[0].text
    );
    let total: f64 = rows.iter().map(|r| r.0).sum();
    assert!((l[0].figure("share_pct").unwrap_or(0.0) - 2_000.0 / total * 100.0).abs() < 1e-9);
    let c = kinds(&found, "concentration");
    assert_eq!(c.len(), 1, "{found:#?}");
    assert!(
        c[0].text.starts_with("The top 3 of 12 regions make "),
        "{}",
        c[0].text
    );
    assert_eq!(kinds(&found, "outlier_category").len(), 1, "{found:#?}");
    assert!(kinds(&found, "laggard").is_empty());
    // Even values: nothing to say about leaders or concentration.
    let even = all(&regions(&[
        (100.0, 1.0),
        (101.0, 1.0),
        (99.0, 1.0),
        (100.5, 1.0),
    ]));
    assert!(
        even.iter()
            .all(|i| i.kind != "leader" && i.kind != "concentration"),
        "{even:#?}"
    );
}

#[test]
fn correlated_measures_correlate() {
    let mut rng = Rng(9);
    let rows: Vec<(f64, f64)> = (0..20)
        .map(|_| {
            let orders = (50.0 + 20.0 * rng.normal()).round();
            (orders * 30.0 + 100.0 * rng.normal(), orders)
        })
        .collect();
    let found = all(&regions(&rows));
    let c = kinds(&found, "correlation");
    assert_eq!(c.len(), 1, "{found:#?}");
    assert!(c[0].figure("r").is_some_and(|r| r > 0.9), "{c:#?}");
    assert!(c[0]
        .text
        .starts_with("Revenue and orders move together across 20 rows"));
    // Independent measures do not.
    let rows: Vec<(f64, f64)> = (0..20).map(|_| (rng.normal(), rng.normal())).collect();
    assert!(kinds(&all(&regions(&rows)), "correlation").is_empty());
}

#[test]
fn degenerate_frames_say_nothing_and_do_not_panic() {
    let ctx = Context::default();
    assert!(insights(&Frame::default(), &ctx, None, 5).is_empty());
    assert!(all(&monthly(&[42.0])).is_empty());
    assert!(all(&monthly(&[])).is_empty());
    assert!(all(&regions(&[(5.0, 1.0)])).is_empty());
    let mut nulls = Frame::new(&[("month".into(), 1082), ("v".into(), 701)], 100);
    for i in 0..10 {
        nulls.push_text(&[Some(month(i).as_bytes()), None]);
        nulls.push_text(&[None, Some(b"NaN")]);
    }
    assert!(all(&nulls).is_empty());
    assert!(all(&monthly(&[0.0; 12])).is_empty());
    let zero_sum = all(&regions(&[(-5.0, 1.0), (5.0, 1.0), (0.0, 1.0), (0.0, 1.0)]));
    assert!(zero_sum
        .iter()
        .all(|i| i.kind != "leader" && i.kind != "concentration"));
    let negative: Vec<f64> = (0..12).map(|i| -100.0 - 10.0 * i as f64).collect();
    let found = all(&monthly(&negative));
    assert!(found
        .iter()
        .all(|i| i.score.is_finite() && (0.0..=1.0).contains(&i.score)));
    assert!(kinds(&found, "period_change").is_empty());
    assert_eq!(kinds(&found, "trend").len(), 1);
    assert!(insights(&monthly(&negative), &ctx, None, 0).is_empty());
}

#[test]
fn ranked_bounded_and_truncation_noted() {
    let ys: Vec<f64> = (0..30).map(|i| 100.0 + i as f64 + (i % 3) as f64).collect();
    let mut f = Frame::new(&[("month".into(), 1082), ("total_revenue".into(), 701)], 20);
    for (i, y) in ys.iter().enumerate() {
        f.push_text(&[Some(month(i).as_bytes()), Some(y.to_string().as_bytes())]);
    }
    let found = insights(&f, &Context::default(), None, 2);
    assert!(!found.is_empty() && found.len() <= 2, "{found:#?}");
    assert!(found.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(
        found[0]
            .text
            .starts_with("(Based on the first 20 of 30 rows.)"),
        "{}",
        found[0].text
    );
    assert_eq!(found[0].figure("rows_read"), Some(20.0));
}

#[test]
fn previous_period_and_long_format() {
    let ys: Vec<f64> = (0..12).map(|i| 100.0 + (i % 2) as f64).collect();
    let prev: Vec<f64> = (0..12).map(|_| 80.0).collect();
    let found = insights(
        &monthly(&ys),
        &Context::default(),
        Some(&monthly(&prev)),
        10,
    );
    let p = kinds(&found, "previous_period");
    assert_eq!(p.len(), 1, "{found:#?}");
    assert_eq!(p[0].figure("total"), Some(1_206.0));
    assert!((p[0].figure("change_pct").unwrap_or(0.0) - 25.625).abs() < 1e-9);
    assert!(p[0].text.contains("up 25.6 % from 960"), "{}", p[0].text);

    // Month × region: West rises, the others are flat noise.
    let mut rng = Rng(21);
    let cols = [
        ("month".into(), 1082),
        ("region".into(), 25),
        ("revenue".into(), 701),
    ];
    let mut f = Frame::new(&cols, 1_000);
    for i in 0..24 {
        for (r, slope) in [("East", 0.0), ("West", 4.0), ("North", 0.0)] {
            let y = 100.0 + slope * i as f64 + 3.0 * rng.normal();
            f.push_text(&[
                Some(month(i).as_bytes()),
                Some(r.as_bytes()),
                Some(y.to_string().as_bytes()),
            ]);
        }
    }
    let t = kinds(&all(&f), "trend");
    assert_eq!(t.len(), 1, "{t:#?}");
    assert!(
        t[0].text
            .starts_with("Of 3 regions, West has the strongest trend"),
        "{}",
        t[0].text
    );
}

/// How often each series kind fires on i.i.d. normal noise (1,000 series of 12–36 periods).
#[test]
fn noise_rarely_looks_like_a_finding() {
    let mut rng = Rng(0x5eed);
    let runs = 1_000;
    let (mut trend, mut change, mut outlier) = (0, 0, 0);
    for _ in 0..runs {
        let n = 12 + rng.below(25);
        let ys: Vec<f64> = (0..n).map(|_| 1_000.0 + 50.0 * rng.normal()).collect();
        let found = all(&monthly(&ys));
        trend += usize::from(found.iter().any(|i| i.kind == "trend"));
        change += usize::from(found.iter().any(|i| i.kind == "change_point"));
        outlier += usize::from(found.iter().any(|i| i.kind == "outlier_period"));
    }
    let rate = |k: usize| k as f64 / runs as f64;
    eprintln!(
        "false positives over {runs} noise series: trend {:.1} %, change_point {:.1} %, \
         outlier_period {:.1} %",
        100.0 * rate(trend),
        100.0 * rate(change),
        100.0 * rate(outlier)
    );
    assert!(rate(trend) <= 0.07, "trend {}", rate(trend));
    assert!(rate(change) <= 0.05, "change_point {}", rate(change));
    assert!(rate(outlier) <= 0.05, "outlier_period {}", rate(outlier));
}

#[test]
fn long_series_are_capped_and_say_so() {
    let ys: Vec<f64> = (0..2_100)
        .map(|i| 10.0 + i as f64 + (i % 7) as f64)
        .collect();
    let mut f = Frame::new(&[("day".into(), 1082), ("visits".into(), 701)], 10_000);
    for (i, y) in ys.iter().enumerate() {
        // 2015-01-01 is day 16,436 since the epoch.
        let text = chrono_like(16_436 + i as i64);
        f.push_text(&[Some(text.as_bytes()), Some(y.to_string().as_bytes())]);
    }
    let t = kinds(&all(&f), "trend");
    assert_eq!(t.len(), 1);
    assert!(
        t[0].text
            .ends_with("(Read over the last 2,000 of 2,100 periods.)"),
        "{}",
        t[0].text
    );
    assert_eq!(t[0].figure("periods_read"), Some(2_000.0));
}

/// `YYYY-MM-DD` of days since 1970-01-01 (Howard Hinnant's civil_from_days).
fn chrono_like(z: i64) -> String {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y}-{m:02}-{d:02}")
}
