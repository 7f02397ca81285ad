//! A small seeded PRNG (xoshiro256** seeded by SplitMix64) and the distributions the generator draws from.
//!
//! Written here rather than taken from a crate so that output stays byte-identical across
//! dependency upgrades: the stream of numbers for a seed is part of the generator's contract.

/// One independent stream of pseudo-random numbers (xoshiro256**).
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

/// One SplitMix64 step: advances `state` and returns a well-mixed output (also used for hashing ids).
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// The stream number `stream` of `seed`: distinct streams are statistically independent.
    pub fn new(seed: u64, stream: u64) -> Rng {
        let mut sm = seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03);
        // SplitMix64 never yields four zero words in a row, so the xoshiro state is valid.
        Rng { s: [splitmix64(&mut sm), splitmix64(&mut sm), splitmix64(&mut sm), splitmix64(&mut sm)] }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in [0, n); 0 when `n` is 0.
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform integer in [lo, hi); `lo` when the range is empty.
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below(hi.abs_diff(lo)) as i64
    }

    /// True with probability `p` (never for `p <= 0` or NaN, always for `p >= 1`).
    pub fn bernoulli(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// Exponentially distributed with the given mean.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.uniform()).ln()
    }

    /// Standard normal (Box-Muller, one value per call).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Log-normally distributed with the given median and log-space spread: skewed durations.
    pub fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }

    /// Log-uniform in [lo, hi): as many values per decade, for delays spanning seconds to hours.
    pub fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo * (hi / lo).powf(self.uniform())
    }

    /// Poisson-distributed count with mean `lambda` (normal approximation above 30); 0 for `lambda <= 0` or NaN.
    pub fn poisson(&mut self, lambda: f64) -> u32 {
        if lambda.is_nan() || lambda <= 0.0 {
            return 0;
        }
        if lambda >= 30.0 {
            let x = lambda + lambda.sqrt() * self.normal();
            return x.round().clamp(0.0, u32::MAX as f64) as u32;
        }
        let limit = (-lambda).exp();
        let mut k = 0;
        let mut p = self.uniform();
        while p > limit {
            k += 1;
            p *= self.uniform();
        }
        k
    }

    /// An index drawn with probability proportional to `weights`; the last index if all are zero.
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.uniform() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len().saturating_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean(n: usize, mut f: impl FnMut() -> f64) -> f64 {
        (0..n).map(|_| f()).sum::<f64>() / n as f64
    }

    #[test]
    fn same_seed_same_stream_and_streams_differ() {
        let a: Vec<u64> = (0..8).scan(Rng::new(7, 1), |r, _| Some(r.next_u64())).collect();
        let b: Vec<u64> = (0..8).scan(Rng::new(7, 1), |r, _| Some(r.next_u64())).collect();
        let c: Vec<u64> = (0..8).scan(Rng::new(7, 2), |r, _| Some(r.next_u64())).collect();
        let d: Vec<u64> = (0..8).scan(Rng::new(8, 1), |r, _| Some(r.next_u64())).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn distributions_have_the_right_moments() {
        let mut r = Rng::new(1, 0);
        let n = 200_000;
        assert!((mean(n, || r.uniform()) - 0.5).abs() < 0.01);
        assert!((mean(n, || r.exponential(3.0)) - 3.0).abs() < 0.05);
        assert!(mean(n, || r.normal()).abs() < 0.01);
        assert!((mean(n, || r.normal().powi(2)) - 1.0).abs() < 0.02);
        assert!((mean(n, || r.bernoulli(0.2) as u8 as f64) - 0.2).abs() < 0.01);
        assert!((mean(n, || r.poisson(4.0) as f64) - 4.0).abs() < 0.05);
        assert!((mean(n, || r.poisson(80.0) as f64) - 80.0).abs() < 0.2);
        let mut logs: Vec<f64> = (0..n).map(|_| r.lognormal(10.0, 0.8)).collect();
        logs.sort_by(f64::total_cmp);
        assert!((logs[n / 2] - 10.0).abs() < 0.3, "median {}", logs[n / 2]);
        assert!((0..n).all(|_| (0..10).contains(&r.below(10))));
        assert!((0..n).map(|_| r.log_uniform(1.0, 100.0)).all(|x| (1.0..100.0).contains(&x)));
        let picks = (0..n).filter(|_| r.weighted(&[1.0, 3.0]) == 1).count() as f64 / n as f64;
        assert!((picks - 0.75).abs() < 0.01);
        assert_eq!(r.poisson(f64::NAN), 0);
        assert_eq!(r.between(5, 5), 5);
    }
}
