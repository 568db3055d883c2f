//! The statistics the insight agent (issue 12) states about an answer's rows, each small
//! enough to check by hand: the Mann-Kendall trend test (with the tie correction and the
//! normal approximation), the Theil-Sen slope, robust z-scores (median and MAD) and top-k
//! concentration. Inputs are bounded by the caller (`ask.insight_rows`); Theil-Sen is
//! quadratic, so it takes at most [`MAX_THEIL_SEN`] points.

/// Most points the Theil-Sen slope reads (the first ones beyond).
pub const MAX_THEIL_SEN: usize = 2_000;

/// The Mann-Kendall test of a monotonic trend.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannKendall {
    /// S: concordant minus discordant pairs.
    pub s: f64,
    /// Variance of S under no trend, corrected for ties.
    pub variance: f64,
    /// The continuity-corrected normal score.
    pub z: f64,
    /// Two-sided p-value.
    pub p: f64,
}

/// Mann-Kendall on `ys` in order; `None` for fewer than 3 values or no variance (all tied).
pub fn mann_kendall(ys: &[f64]) -> Option<MannKendall> {
    let n = ys.len();
    if n < 3 || ys.iter().any(|y| !y.is_finite()) {
        return None;
    }
    let mut s = 0f64;
    for i in 0..n {
        for j in i + 1..n {
            s += sign(ys[j] - ys[i]);
        }
    }
    let nf = n as f64;
    let mut sorted = ys.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut ties = 0f64;
    let mut run = 1usize;
    for k in 1..=n {
        if k < n && sorted[k] == sorted[k - 1] {
            run += 1;
        } else {
            let t = run as f64;
            ties += t * (t - 1.0) * (2.0 * t + 5.0);
            run = 1;
        }
    }
    let variance = (nf * (nf - 1.0) * (2.0 * nf + 5.0) - ties) / 18.0;
    if variance <= 0.0 {
        return None;
    }
    let z = if s > 0.0 {
        (s - 1.0) / variance.sqrt()
    } else if s < 0.0 {
        (s + 1.0) / variance.sqrt()
    } else {
        0.0
    };
    let p = (2.0 * (1.0 - normal_cdf(z.abs()))).clamp(0.0, 1.0);
    Some(MannKendall { s, variance, z, p })
}

fn sign(d: f64) -> f64 {
    if d > 0.0 {
        1.0
    } else if d < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// The standard normal distribution function (Abramowitz and Stegun 7.1.26, |error| < 1.5e-7).
pub fn normal_cdf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs() / std::f64::consts::SQRT_2);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-(x * x) / 2.0).exp();
    if x >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

/// The median of the slopes between every pair of points with distinct `x` (at most
/// [`MAX_THEIL_SEN`] points); `None` without such a pair.
pub fn theil_sen(points: &[(f64, f64)]) -> Option<f64> {
    let pts = &points[..points.len().min(MAX_THEIL_SEN)];
    let mut slopes = Vec::new();
    for i in 0..pts.len() {
        for j in i + 1..pts.len() {
            let dx = pts[j].0 - pts[i].0;
            if dx != 0.0 && dx.is_finite() {
                let m = (pts[j].1 - pts[i].1) / dx;
                if m.is_finite() {
                    slopes.push(m);
                }
            }
        }
    }
    median(&mut slopes)
}

/// The median (sorts `v`); `None` when empty.
pub fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Robust z-scores: (x - median) / (1.4826 × MAD); `None` when the MAD is 0.
pub fn robust_z(xs: &[f64]) -> Option<Vec<f64>> {
    let med = median(&mut xs.to_vec())?;
    let mut dev: Vec<f64> = xs.iter().map(|x| (x - med).abs()).collect();
    let mad = median(&mut dev)?;
    if mad == 0.0 {
        return None;
    }
    Some(xs.iter().map(|x| (x - med) / (1.482_6 * mad)).collect())
}

/// The share of the total held by the `k` largest values (0..=1); `None` for a total that is
/// not positive or a negative value.
pub fn top_k_share(xs: &[f64], k: usize) -> Option<f64> {
    if xs.iter().any(|x| *x < 0.0 || !x.is_finite()) {
        return None;
    }
    let total: f64 = xs.iter().sum();
    if total <= 0.0 {
        return None;
    }
    let mut sorted = xs.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    Some(sorted.iter().take(k).sum::<f64>() / total)
}

/// Pearson's r of `(x, y)` pairs with its two-sided p-value from Fisher's z
/// (`atanh(r)·√(n-3)` against the normal); `None` for fewer than 4 pairs or no variance.
pub fn pearson(pairs: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = pairs.len();
    if n < 4 || pairs.iter().any(|(x, y)| !x.is_finite() || !y.is_finite()) {
        return None;
    }
    let nf = n as f64;
    let mx = pairs.iter().map(|p| p.0).sum::<f64>() / nf;
    let my = pairs.iter().map(|p| p.1).sum::<f64>() / nf;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return None;
    }
    let r = (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0);
    Some((r, fisher_p(r, n)))
}

/// The two-sided p-value of a correlation `r` over `n` pairs by Fisher's z transform.
pub fn fisher_p(r: f64, n: usize) -> f64 {
    if r.abs() >= 1.0 {
        return 0.0;
    }
    let z = r.atanh() * (n as f64 - 3.0).max(0.0).sqrt();
    (2.0 * (1.0 - normal_cdf(z.abs()))).clamp(0.0, 1.0)
}

/// Spearman's ρ: Pearson's r of the ranks (ties get their average rank).
pub fn spearman(pairs: &[(f64, f64)]) -> Option<f64> {
    let xs = ranks(&pairs.iter().map(|p| p.0).collect::<Vec<_>>());
    let ys = ranks(&pairs.iter().map(|p| p.1).collect::<Vec<_>>());
    let ranked: Vec<(f64, f64)> = xs.into_iter().zip(ys).collect();
    pearson(&ranked).map(|(r, _)| r)
}

/// Ranks from 1, ties sharing the average of the ranks they span.
pub fn ranks(xs: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..xs.len()).collect();
    order.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
    let mut out = vec![0.0; xs.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && xs[order[j + 1]] == xs[order[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            out[k] = avg;
        }
        i = j + 1;
    }
    out
}

/// A level shift: the series split where the two segment means differ most.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Split {
    /// The first index of the second segment.
    pub at: usize,
    /// Mean before `at`.
    pub before: f64,
    /// Mean from `at` on.
    pub after: f64,
    /// The pooled two-sample t statistic at `at`.
    pub t: f64,
    /// Bonferroni bound on the p-value over every candidate split (conservative: the
    /// candidates are correlated), `min(1, candidates × p(t))`.
    pub p: f64,
    /// Residual sum of squares of the two-means model.
    pub sse: f64,
}

/// Fewest points on either side of a split.
pub const MIN_SEGMENT: usize = 3;

/// The best split of `ys` by the largest pooled t statistic (the same split as the smallest
/// two-means residual sum of squares), each side at least [`MIN_SEGMENT`] long; `None` for
/// a series too short or without variance inside the segments.
pub fn best_split(ys: &[f64]) -> Option<Split> {
    let n = ys.len();
    if n < 2 * MIN_SEGMENT || ys.iter().any(|y| !y.is_finite()) {
        return None;
    }
    let total: f64 = ys.iter().sum();
    let total_sq: f64 = ys.iter().map(|y| y * y).sum();
    let mut best: Option<Split> = None;
    let mut left = 0.0;
    let mut left_sq = 0.0;
    for at in 1..n {
        left += ys[at - 1];
        left_sq += ys[at - 1] * ys[at - 1];
        if at < MIN_SEGMENT || n - at < MIN_SEGMENT {
            continue;
        }
        let (a, b) = (at as f64, (n - at) as f64);
        let (before, after) = (left / a, (total - left) / b);
        let sse = (left_sq - a * before * before) + (total_sq - left_sq - b * after * after);
        if best.is_none_or(|s| sse < s.sse) {
            best = Some(Split {
                at,
                before,
                after,
                t: 0.0,
                p: 1.0,
                sse,
            });
        }
    }
    let mut s = best?;
    let df = n as f64 - 2.0;
    let pooled = s.sse.max(0.0) / df;
    if pooled <= 0.0 {
        return None;
    }
    let (a, b) = (s.at as f64, (n - s.at) as f64);
    s.t = (s.after - s.before) / (pooled * (1.0 / a + 1.0 / b)).sqrt();
    let candidates = (n + 1 - 2 * MIN_SEGMENT) as f64;
    s.p = (candidates * student_t_p(s.t, df)).min(1.0);
    Some(s)
}

/// Residual sum of squares of the least-squares line through `(i, ys[i])`.
pub fn line_sse(ys: &[f64]) -> f64 {
    let n = ys.len() as f64;
    let mx = (n - 1.0) / 2.0;
    let my = ys.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (i, y) in ys.iter().enumerate() {
        let dx = i as f64 - mx;
        sxy += dx * (y - my);
        sxx += dx * dx;
        syy += (y - my) * (y - my);
    }
    if sxx == 0.0 {
        return syy;
    }
    (syy - sxy * sxy / sxx).max(0.0)
}

/// How unlikely `xs[i]` is next to the others if all were drawn from one normal
/// population: the prediction t statistic |x − mean| / (sd·√(1 + 1/m)) of the m other values
/// (m − 1 degrees of freedom), its two-sided p-value times n (Bonferroni over the values, as
/// the most extreme one is the one asked about); `None` for fewer than 4 values or others
/// without spread.
pub fn outlier_p(xs: &[f64], i: usize) -> Option<f64> {
    let x = *xs.get(i)?;
    let others: Vec<f64> = (0..xs.len()).filter(|&j| j != i).map(|j| xs[j]).collect();
    let m = others.len() as f64;
    if others.len() < 3 {
        return None;
    }
    let mean = others.iter().sum::<f64>() / m;
    let var = others.iter().map(|o| (o - mean) * (o - mean)).sum::<f64>() / (m - 1.0);
    if var <= 0.0 || !var.is_finite() {
        return None;
    }
    let t = (x - mean).abs() / (var * (1.0 + 1.0 / m)).sqrt();
    Some((xs.len() as f64 * student_t_p(t, m - 1.0)).min(1.0))
}

/// Two-sided p-value of Student's t with `df` degrees of freedom.
pub fn student_t_p(t: f64, df: f64) -> f64 {
    if !t.is_finite() {
        return 0.0;
    }
    incomplete_beta(df / 2.0, 0.5, df / (df + t * t)).clamp(0.0, 1.0)
}

/// The regularized incomplete beta function I_x(a, b) (continued fraction, Numerical
/// Recipes §6.4).
fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_fraction(b, a, 1.0 - x) / b
    }
}

fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..300 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        for aa in [
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ] {
            d = 1.0 + aa * d;
            if d.abs() < TINY {
                d = TINY;
            }
            c = 1.0 + aa / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            h *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-14 {
            break;
        }
    }
    h
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    let x = x - 1.0;
    let mut acc = G[0];
    for (i, g) in G.iter().enumerate().skip(1) {
        acc += g / (x + i as f64);
    }
    let t = x + 7.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + acc.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn mann_kendall_matches_the_hand_computation() {
        // 1..10 rising: S = 45, Var = 10*9*25/18 = 125, z = 44/sqrt(125) = 3.9355, p = 8.30e-5.
        let up: Vec<f64> = (1..=10).map(f64::from).collect();
        let mk = mann_kendall(&up).unwrap();
        assert_eq!(mk.s, 45.0);
        assert!(close(mk.variance, 125.0, 1e-9));
        assert!(close(mk.z, 3.935_5, 1e-4), "{mk:?}");
        assert!(close(mk.p, 8.30e-5, 2e-6), "{mk:?}");
        // Falling is the mirror image.
        let down: Vec<f64> = up.iter().rev().copied().collect();
        let md = mann_kendall(&down).unwrap();
        assert_eq!(md.s, -45.0);
        assert!(close(md.p, mk.p, 1e-12));
        // Ties: [1, 2, 2, 3]: S = 5 (pairs: +1 +1 +1 0 +1 +1), Var = (4*3*13 - 2*1*9)/18 = 7.6667.
        let tied = mann_kendall(&[1.0, 2.0, 2.0, 3.0]).unwrap();
        assert_eq!(tied.s, 5.0);
        assert!(close(tied.variance, 138.0 / 18.0, 1e-9));
        // No trend in an alternating series; nothing to say about constants or 2 points.
        let flat = mann_kendall(&[1.0, 3.0, 1.0, 3.0, 1.0, 3.0]).unwrap();
        assert!(flat.p > 0.5, "{flat:?}");
        assert!(mann_kendall(&[2.0; 6]).is_none());
        assert!(mann_kendall(&[1.0, 2.0]).is_none());
        assert!(mann_kendall(&[1.0, f64::NAN, 3.0]).is_none());
    }

    #[test]
    fn normal_cdf_is_accurate() {
        assert!(close(normal_cdf(0.0), 0.5, 1e-7));
        assert!(close(normal_cdf(1.959_964), 0.975, 1e-6));
        assert!(close(normal_cdf(-1.0), 0.158_655_3, 1e-6));
    }

    #[test]
    fn theil_sen_ignores_an_outlier() {
        let mut pts: Vec<(f64, f64)> = (0..20).map(|x| (x as f64, 2.0 * x as f64 + 1.0)).collect();
        assert!(close(theil_sen(&pts).unwrap(), 2.0, 1e-12));
        pts[7].1 = 1000.0;
        assert!(close(theil_sen(&pts).unwrap(), 2.0, 1e-12));
        assert!(theil_sen(&[(1.0, 1.0), (1.0, 5.0)]).is_none());
    }

    #[test]
    fn robust_z_and_concentration() {
        let xs = [10.0, 11.0, 9.0, 10.0, 10.5, 9.5, 40.0];
        let z = robust_z(&xs).unwrap();
        // median 10, MAD 0.5: 40 is (40-10)/(1.4826*0.5) = 40.47 MADs out.
        assert!(close(z[6], 30.0 / (1.482_6 * 0.5), 1e-9), "{z:?}");
        assert!(z[..6].iter().all(|v| v.abs() < 2.0));
        assert!(robust_z(&[3.0; 5]).is_none());
        assert!(close(
            top_k_share(&[50.0, 30.0, 10.0, 10.0], 2).unwrap(),
            0.8,
            1e-12
        ));
        assert!(top_k_share(&[0.0, 0.0], 1).is_none());
        assert!(top_k_share(&[5.0, -1.0], 1).is_none());
    }

    #[test]
    fn student_t_matches_tables() {
        // t = 2.228 with 10 df is the 0.05 two-sided critical value; 1 df is Cauchy.
        assert!(close(student_t_p(2.228_139, 10.0), 0.05, 1e-5));
        assert!(close(student_t_p(1.0, 1.0), 0.5, 1e-9));
        assert!(close(student_t_p(0.0, 5.0), 1.0, 1e-12));
        assert!(close(ln_gamma(5.0), 24f64.ln(), 1e-12));
    }

    #[test]
    fn correlations_and_ranks() {
        assert_eq!(ranks(&[10.0, 30.0, 20.0, 20.0]), vec![1.0, 4.0, 2.5, 2.5]);
        let pairs: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, (i * i) as f64)).collect();
        let (r, p) = pearson(&pairs).unwrap();
        assert!(r > 0.9 && r < 1.0 && p < 0.001, "{r} {p}");
        assert!(close(spearman(&pairs).unwrap(), 1.0, 1e-12));
        // r = 0.5 over 28 pairs: z = atanh(0.5)·5 = 2.7465, p = 0.00602.
        assert!(close(fisher_p(0.5, 28), 0.006_02, 2e-5));
        assert!(pearson(&[(1.0, 2.0); 5]).is_none());
    }

    #[test]
    fn best_split_finds_a_step() {
        let ys = [1.0, 2.0, 1.0, 2.0, 1.0, 9.0, 10.0, 9.0, 10.0, 9.0];
        let s = best_split(&ys).unwrap();
        assert_eq!(s.at, 5);
        assert!(close(s.before, 1.4, 1e-12) && close(s.after, 9.4, 1e-12));
        assert!(s.p < 0.001, "{s:?}");
        assert!(s.sse < line_sse(&ys));
        assert!(best_split(&[1.0, 2.0, 3.0]).is_none());
        assert!(close(line_sse(&[1.0, 2.0, 3.0, 4.0]), 0.0, 1e-12));
    }

    #[test]
    fn outlier_p_by_prediction_t() {
        // Others 1, 2, 3: mean 2, sd 1; x = 10: t = 8/sqrt(4/3) = 6.9282 with 2 df.
        let p = outlier_p(&[1.0, 2.0, 3.0, 10.0], 3).unwrap();
        assert!(close(
            p,
            4.0 * student_t_p(8.0 / (4.0f64 / 3.0).sqrt(), 2.0),
            1e-12
        ));
        assert!(p < 0.1, "{p}");
        assert!(outlier_p(&[1.0, 2.0, 3.0, 10.0], 0).unwrap() > 0.5);
        assert!(outlier_p(&[5.0, 5.0, 5.0, 9.0], 3).is_none());
        assert!(outlier_p(&[1.0, 2.0, 3.0], 0).is_none());
    }
}
