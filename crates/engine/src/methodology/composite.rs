//! The monthly performer rating: a weighted score of every standard, shrunk against small samples.

use super::metric::MetricId;
use super::standards::Standards;
use crate::output::WindowRow;

/// Score 0..1 of one metric from its numerator and denominator.
///
/// The value is first shrunk toward the target by `prior_weight` pseudo-observations,
/// `(n*v + k*target) / (n + k)`, so that a seller with 2 reviews sits near the target and
/// cannot outrank a seller with 2,000 on luck. It is then placed linearly between `floor`
/// (score 0) and `ideal` (score 1) and clamped.
pub fn metric_score(m: MetricId, num: i64, den: i64, standards: &Standards) -> f64 {
    let s = standards.get(m);
    let n = den as f64;
    let shrunk = match m.value(num, den) {
        Some(v) if n + s.prior_weight > 0.0 => (n * v + s.prior_weight * s.target) / (n + s.prior_weight),
        _ => s.target,
    };
    ((shrunk - s.floor) / (s.ideal - s.floor)).clamp(0.0, 1.0)
}

/// The composite 0..100 from `(num, den)` of every metric in catalogue order.
pub fn composite_score(accs: &[(i64, i64)], standards: &Standards) -> f64 {
    let (mut total, mut weights) = (0.0, 0.0);
    for (m, &(num, den)) in MetricId::ALL.into_iter().zip(accs) {
        let w = standards.get(m).weight;
        total += w * metric_score(m, num, den, standards);
        weights += w;
    }
    100.0 * total / weights
}

/// Competition ranking by composite score of the rows at `ranked`, best first: equal scores
/// share a rank (1, 2, 2, 4). Other rows (published windows left empty) get no rank.
pub fn rank(rows: &mut [WindowRow], ranked: &[usize]) {
    let score = |r: &WindowRow| r.composite.as_ref().map_or(0.0, |c| c.score);
    let mut order: Vec<usize> = ranked.to_vec();
    order.sort_by(|&a, &b| score(&rows[b]).total_cmp(&score(&rows[a])).then_with(|| rows[a].seller_id.cmp(&rows[b].seller_id)));
    let n = ranked.len() as u32;
    let mut prev: Option<(f64, u32)> = None;
    for (pos, &i) in order.iter().enumerate() {
        let s = score(&rows[i]);
        let r = match prev {
            Some((ps, pr)) if ps == s => pr,
            _ => pos as u32 + 1,
        };
        prev = Some((s, r));
        if let Some(c) = rows[i].composite.as_mut() {
            c.rank = Some(r);
            c.ranked_sellers = Some(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_samples_stay_near_the_target() {
        let s = Standards::default();
        let lucky = metric_score(MetricId::Csi, 10, 2, &s);
        let proven = metric_score(MetricId::Csi, 2000 * 49 / 10, 2000, &s);
        assert!(proven > lucky, "2000 reviews at 4.9 ({proven}) must beat 2 reviews at 5.0 ({lucky})");
        assert_eq!(metric_score(MetricId::Csi, 0, 0, &s), (4.5 - 3.0) / 2.0);
    }

    #[test]
    fn lower_is_better_scores_invert() {
        let s = Standards::default();
        let fast = metric_score(MetricId::ResponseTimeAvg, 100 * 60_000, 100, &s);
        let slow = metric_score(MetricId::ResponseTimeAvg, 100 * 3_600_000, 100, &s);
        assert!(fast > slow);
        assert!((0.0..=1.0).contains(&fast) && (0.0..=1.0).contains(&slow));
    }

    #[test]
    fn composite_is_a_weighted_mean_in_percent() {
        let s = Standards::default();
        let empty = [(0, 0); crate::methodology::METRIC_COUNT];
        let c = composite_score(&empty, &s);
        let expected: f64 = MetricId::ALL.iter().map(|m| s.get(*m).weight * metric_score(*m, 0, 0, &s)).sum::<f64>() * 100.0;
        assert!((c - expected).abs() < 1e-9);
    }
}
