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
}
