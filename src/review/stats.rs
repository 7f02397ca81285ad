//! The statistics of the review: an ordinary least-squares line through a series and the
//! confidence band of its slope from Student's t distribution (no statistics crate needed).

use std::f64::consts::PI;

/// Two-sided confidence of the slope's band.
pub const CONFIDENCE: f64 = 0.95;

/// A straight line `y = intercept + slope x` fitted by ordinary least squares, with the
/// [`CONFIDENCE`] band of its slope.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    /// Points fitted.
    pub n: usize,
    /// Change of `y` per unit of `x`.
    pub slope: f64,
    /// `y` at `x = 0`.
    pub intercept: f64,
    /// Standard error of the slope: `sqrt(SSE / (n - 2) / Sxx)`.
    pub std_error: f64,
    /// Lower end of the band: `slope - t * std_error`, `t` the quantile of `1 - (1 - CONFIDENCE) / 2` with `n - 2` degrees of freedom.
    pub low: f64,
    /// Upper end of the band: `slope + t * std_error`.
    pub high: f64,
}

/// The least-squares line through `points` (`(x, y)`); `None` with fewer than 3 points (no
/// degree of freedom left for the error) or when every `x` is the same.
pub fn fit(points: &[(f64, f64)]) -> Option<Fit> {
    let n = points.len();
    if n < 3 {
        return None;
    }
    let nf = n as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / nf;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / nf;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let intercept = mean_y - slope * mean_x;
    let sse: f64 = points.iter().map(|p| (p.1 - intercept - slope * p.0).powi(2)).sum();
    let std_error = (sse / (nf - 2.0) / sxx).sqrt();
    let t = t_quantile(1.0 - (1.0 - CONFIDENCE) / 2.0, (n - 2) as u32);
    Some(Fit { n, slope, intercept, std_error, low: slope - t * std_error, high: slope + t * std_error })
}

/// The `p`-quantile of Student's t distribution with `df` degrees of freedom, for `p` in
/// (0.5, 1) and `df >= 1` (NaN otherwise): the `t` with `P(T <= t) = p`, found by bisection on
/// the exact distribution function [`t_central`] to the precision of an `f64`.
pub fn t_quantile(p: f64, df: u32) -> f64 {
    if !(p > 0.5 && p < 1.0) || df == 0 {
        return f64::NAN;
    }
    let central = 2.0 * p - 1.0;
    let (mut lo, mut hi) = (0.0, 1.0);
    while t_central(hi, df) < central && hi < f64::MAX / 2.0 {
        (lo, hi) = (hi, hi * 2.0);
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if t_central(mid, df) < central {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// `P(|T| < t)` for Student's t with `df >= 1` degrees of freedom and `t >= 0`, by the finite
/// series of Abramowitz and Stegun 26.7.3 and 26.7.4, with `theta = atan(t / sqrt(df))`:
/// odd `df`: `2/pi (theta + sin theta (cos theta + 2/3 cos^3 theta + ... + (2 4 ... (df-3)) / (1 3 ... (df-2)) cos^(df-2) theta))`
/// (just `2 theta / pi` for `df = 1`); even `df`:
/// `sin theta (1 + 1/2 cos^2 theta + 1 3 / (2 4) cos^4 theta + ... + (1 3 ... (df-3)) / (2 4 ... (df-2)) cos^(df-2) theta)`.
pub fn t_central(t: f64, df: u32) -> f64 {
    let theta = (t / f64::from(df).sqrt()).atan();
    let (sin, cos) = theta.sin_cos();
    let cos2 = cos * cos;
    if df % 2 == 0 {
        let (mut term, mut sum) = (1.0, 1.0);
        for k in 1..=(df - 2) / 2 {
            term *= f64::from(2 * k - 1) / f64::from(2 * k) * cos2;
            sum += term;
        }
        sin * sum
    } else if df == 1 {
        2.0 * theta / PI
    } else {
        let (mut term, mut sum) = (cos, cos);
        for k in 1..=(df - 3) / 2 {
            term *= f64::from(2 * k) / f64::from(2 * k + 1) * cos2;
            sum += term;
        }
        2.0 / PI * (theta + sin * sum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn t_quantiles_match_the_printed_tables() {
        // 0.975 quantiles (two-sided 95 %), to the three decimals of the usual tables.
        let table = [
            (1, 12.706),
            (2, 4.303),
            (3, 3.182),
            (4, 2.776),
            (5, 2.571),
            (6, 2.447),
            (7, 2.365),
            (8, 2.306),
            (9, 2.262),
            (10, 2.228),
            (11, 2.201),
            (12, 2.179),
            (13, 2.160),
            (20, 2.086),
            (30, 2.042),
            (60, 2.000),
            (120, 1.980),
        ];
        for (df, want) in table {
            let got = t_quantile(0.975, df);
            assert!(close(got, want, 0.0005), "df {df}: {got} vs {want}");
        }
        // One-sided 95 % and 99.5 %.
        assert!(close(t_quantile(0.95, 10), 1.812, 0.0005));
        assert!(close(t_quantile(0.995, 5), 4.032, 0.0005));
        // Towards the normal distribution: z(0.975) = 1.959964.
        assert!(close(t_quantile(0.975, 100_000), 1.959985, 0.000005));
    }

    #[test]
    fn t_quantiles_equal_the_closed_forms_of_one_and_two_degrees_of_freedom() {
        for p in [0.6, 0.9, 0.975, 0.999] {
            // df = 1 (Cauchy): tan(pi (p - 1/2)); df = 2: (2p - 1) sqrt(2 / (1 - (2p - 1)^2)).
            let one = (PI * (p - 0.5)).tan();
            let a = 2.0 * p - 1.0;
            let two = a * (2.0 / (1.0 - a * a)).sqrt();
            assert!(close(t_quantile(p, 1), one, 1e-9 * one), "{p}");
            assert!(close(t_quantile(p, 2), two, 1e-9 * two), "{p}");
        }
        assert!(t_quantile(0.5, 3).is_nan() && t_quantile(1.0, 3).is_nan() && t_quantile(0.975, 0).is_nan());
        assert_eq!(t_central(0.0, 7), 0.0);
        assert!(close(t_central(1e300, 8), 1.0, 1e-15));
    }

    #[test]
    fn slope_and_band_by_hand() {
        // x = 0..3, y = 1, 3, 2, 5: means 1.5 and 2.75, Sxx = 5, Sxy = 5.5, slope 1.1,
        // intercept 1.1; residuals -0.1, 0.8, -1.3, 0.6, SSE = 2.7; SE = sqrt(2.7 / 2 / 5) =
        // sqrt(0.27); t(0.975, 2) = 4.302653 (0.95 sqrt(2 / 0.0975)).
        let f = fit(&[(0.0, 1.0), (1.0, 3.0), (2.0, 2.0), (3.0, 5.0)]).unwrap();
        let t = 0.95 * (2.0f64 / 0.0975).sqrt();
        assert_eq!(f.n, 4);
        assert!(close(f.slope, 1.1, 1e-12) && close(f.intercept, 1.1, 1e-12));
        assert!(close(f.std_error, 0.27f64.sqrt(), 1e-12));
        assert!(close(f.low, 1.1 - t * 0.27f64.sqrt(), 1e-9) && close(f.high, 1.1 + t * 0.27f64.sqrt(), 1e-9));
        assert!(close(f.low, -1.135724, 1e-6) && close(f.high, 3.335724, 1e-6));
        // Gaps in x: weeks 0, 2, 3, 5 with y = 10, 8, 8, 5: means 2.5 and 7.75, Sxx = 13,
        // Sxy = -5.625 - 0.125 + 0.125 - 6.875 = -12.5.
        let f = fit(&[(0.0, 10.0), (2.0, 8.0), (3.0, 8.0), (5.0, 5.0)]).unwrap();
        assert!(close(f.slope, -12.5 / 13.0, 1e-12), "{}", f.slope);
        // A perfect line has no error: the band is the slope itself.
        let f = fit(&[(1.0, 3.0), (2.0, 5.0), (3.0, 7.0), (4.0, 9.0), (5.0, 11.0)]).unwrap();
        assert_eq!((f.slope, f.intercept, f.std_error, f.low, f.high), (2.0, 1.0, 0.0, 2.0, 2.0));
        assert_eq!(fit(&[(0.0, 1.0), (1.0, 2.0)]), None);
        assert_eq!(fit(&[(2.0, 1.0), (2.0, 2.0), (2.0, 4.0)]), None);
    }
}
