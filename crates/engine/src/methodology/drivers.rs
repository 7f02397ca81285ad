//! Key drivers of satisfaction: how strongly each survey question's score moves with the main
//! question's (the overall impression), and which questions to fix first.
//!
//! The method is Pearson's correlation between a question's score and the overall score over
//! the surveys that answered both. It is computed from integer co-moment sums, which add up
//! exactly across days, performers and departments, so a department's drivers are never an
//! average of its performers' and a replay in any order gives the same figures.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Integer sums over `(question score x, overall score y)` pairs from which the correlation follows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoMoments {
    /// Surveys that answered both questions.
    pub n: i64,
    /// Sum of x.
    pub sx: i64,
    /// Sum of y.
    pub sy: i64,
    /// Sum of x squared.
    pub sxx: i64,
    /// Sum of y squared.
    pub syy: i64,
    /// Sum of x times y.
    pub sxy: i64,
}

impl CoMoments {
    /// Adds one survey's pair of scores.
    pub fn add(&mut self, x: u8, y: u8) {
        self.add_signed(x, y, 1);
    }

    /// Adds (`sign` 1) or withdraws (`sign` -1) one survey's pair of scores.
    pub fn add_signed(&mut self, x: u8, y: u8, sign: i64) {
        let (x, y) = (i64::from(x), i64::from(y));
        self.n += sign;
        self.sx += sign * x;
        self.sy += sign * y;
        self.sxx += sign * x * x;
        self.syy += sign * y * y;
        self.sxy += sign * x * y;
    }

    /// Adds another set of sums (a roll-up or a longer window).
    pub fn merge(&mut self, o: &CoMoments) {
        self.merge_signed(o, 1);
    }

    /// Adds (`sign` 1) or takes away (`sign` -1) another set of sums (a window sliding by a day).
    pub fn merge_signed(&mut self, o: &CoMoments, sign: i64) {
        self.n += sign * o.n;
        self.sx += sign * o.sx;
        self.sy += sign * o.sy;
        self.sxx += sign * o.sxx;
        self.syy += sign * o.syy;
        self.sxy += sign * o.sxy;
    }

    /// The question's mean score; `None` without answers.
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sx as f64 / self.n as f64)
    }

    /// Pearson's r; `None` with fewer than 2 surveys or when either score never varies.
    pub fn correlation(&self) -> Option<f64> {
        let n = self.n as i128;
        let cov = n * self.sxy as i128 - self.sx as i128 * self.sy as i128;
        let vx = n * self.sxx as i128 - (self.sx as i128).pow(2);
        let vy = n * self.syy as i128 - (self.sy as i128).pow(2);
        (self.n >= 2 && vx > 0 && vy > 0).then(|| cov as f64 / ((vx as f64).sqrt() * (vy as f64).sqrt()))
    }
}

/// Surveys a question needs in a group before its correlation is ranked (below, it is shown but flagged).
pub const DRIVER_MIN_SAMPLE: i64 = 30;

/// One question's place among the drivers of a department (or the company) in a month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Driver {
    /// The survey question.
    pub question_id: Arc<str>,
    /// Surveys that answered it and the main question.
    pub sample: i64,
    /// Its mean score, 1..5.
    pub mean_score: Option<f64>,
    /// Correlation of its score with the overall impression, -1..1.
    pub correlation: Option<f64>,
    /// 1 = the strongest driver among the questions with enough surveys; `None` below `min_sample`.
    pub rank: Option<u32>,
    /// Whether the sample reaches `min_sample` (otherwise the figures are shown but not ranked).
    pub reliable: bool,
    /// Important (correlation at least the median of the ranked questions) and weak (mean score
    /// below their median): where improvement moves the overall impression most.
    pub fix_first: bool,
}

/// The drivers of one group of surveys, strongest first (unranked questions last, by id).
///
/// `questions` pairs each question other than the main one with its co-moments against it.
pub fn key_drivers(questions: &[(Arc<str>, CoMoments)], min_sample: i64) -> Vec<Driver> {
    let mut out: Vec<Driver> = questions
        .iter()
        .map(|(q, m)| Driver {
            question_id: q.clone(),
            sample: m.n,
            mean_score: m.mean(),
            correlation: m.correlation(),
            rank: None,
            reliable: m.n >= min_sample && m.correlation().is_some(),
            fix_first: false,
        })
        .collect();
    out.sort_by(|a, b| {
        let key = |d: &Driver| if d.reliable { d.correlation.unwrap_or(f64::NEG_INFINITY) } else { f64::NEG_INFINITY };
        key(b).total_cmp(&key(a)).then_with(|| a.question_id.cmp(&b.question_id))
    });
    let ranked: Vec<usize> = (0..out.len()).filter(|&i| out[i].reliable).collect();
    for (pos, &i) in ranked.iter().enumerate() {
        out[i].rank = Some(pos as u32 + 1);
    }
    let median = |mut v: Vec<f64>| -> Option<f64> {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        (n > 0).then(|| if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 })
    };
    let r_median = median(ranked.iter().filter_map(|&i| out[i].correlation).collect());
    let mean_median = median(ranked.iter().filter_map(|&i| out[i].mean_score).collect());
    if let (Some(r_median), Some(mean_median)) = (r_median, mean_median) {
        for &i in &ranked {
            let d = &mut out[i];
            d.fix_first = d.correlation.is_some_and(|r| r >= r_median) && d.mean_score.is_some_and(|m| m < mean_median);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moments(pairs: &[(u8, u8)]) -> CoMoments {
        let mut m = CoMoments::default();
        pairs.iter().for_each(|&(x, y)| m.add(x, y));
        m
    }

    #[test]
    fn correlation_matches_the_textbook_formula_and_sums_merge_exactly() {
        let pairs = [(1, 2), (2, 2), (3, 4), (4, 4), (5, 5), (2, 1)];
        let m = moments(&pairs);
        let n = pairs.len() as f64;
        let (mx, my) = (pairs.iter().map(|p| p.0 as f64).sum::<f64>() / n, pairs.iter().map(|p| p.1 as f64).sum::<f64>() / n);
        let cov: f64 = pairs.iter().map(|p| (p.0 as f64 - mx) * (p.1 as f64 - my)).sum();
        let vx: f64 = pairs.iter().map(|p| (p.0 as f64 - mx).powi(2)).sum();
        let vy: f64 = pairs.iter().map(|p| (p.1 as f64 - my).powi(2)).sum();
        assert!((m.correlation().unwrap() - cov / (vx * vy).sqrt()).abs() < 1e-12);
        let mut split = moments(&pairs[..2]);
        split.merge(&moments(&pairs[2..]));
        assert_eq!(split, m);
        assert_eq!(moments(&[(3, 1), (3, 5)]).correlation(), None, "a constant score explains nothing");
        assert_eq!(moments(&[(3, 1)]).correlation(), None);
        assert_eq!(moments(&[]).mean(), None);
    }

    #[test]
    fn the_strongest_reliable_driver_ranks_first_and_weak_important_ones_are_fixed_first() {
        let q = |id: &str, pairs: Vec<(u8, u8)>| (Arc::<str>::from(id), moments(&pairs));
        let strong: Vec<(u8, u8)> = (0..40).map(|i| ((i % 3 + 1) as u8, (i % 3 + 2) as u8)).collect();
        let weak: Vec<(u8, u8)> = (0..40).map(|i| ((i % 5 + 1) as u8, ((i / 5) % 5 + 1) as u8)).collect();
        let medium: Vec<(u8, u8)> = (0..40).map(|i| ((4 + i % 2) as u8, (if i % 4 == 0 { 3 } else { 4 + i % 2 }) as u8)).collect();
        let tiny: Vec<(u8, u8)> = vec![(1, 1), (5, 5), (3, 3)];
        let d = key_drivers(&[q("wait", weak), q("tiny", tiny), q("politeness", medium), q("speed", strong)], 30);
        let order: Vec<(&str, Option<u32>)> = d.iter().map(|d| (&*d.question_id, d.rank)).collect();
        assert_eq!(order, [("speed", Some(1)), ("politeness", Some(2)), ("wait", Some(3)), ("tiny", None)]);
        assert!(!d[3].reliable && d[3].correlation.is_some_and(|r| r > 0.99), "shown, not ranked");
        let fix: Vec<&str> = d.iter().filter(|d| d.fix_first).map(|d| &*d.question_id).collect();
        assert_eq!(fix, ["speed"], "important (r >= median) and below the median mean score");
    }
}
