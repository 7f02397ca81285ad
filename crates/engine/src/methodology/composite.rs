//! The monthly performer rating: a weighted score of every standard, shrunk against small samples.

use super::metric::MetricId;
use super::standards::Standards;
use crate::output::WindowRow;
use serde::{Deserialize, Serialize};

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
    explain(accs, standards).iter().map(|c| c.points).sum()
}

/// The rating's components: every weighted standard of the profile (and in the service profile
/// the volume of closed requests), with what each contributes. Their points add up to the
/// composite score.
pub fn explain(accs: &[(i64, i64)], standards: &Standards) -> Vec<Component> {
    let mut parts: Vec<Component> = standards
        .metrics()
        .filter(|m| standards.get(*m).weight > 0.0)
        .map(|m| {
            let (num, den) = accs[m.index()];
            let s = standards.get(m);
            Component {
                component: m.as_str().into(),
                value: m.value(num, den),
                sample: den,
                norm: s.target,
                weight: s.weight,
                score: metric_score(m, num, den, standards),
                points: 0.0,
            }
        })
        .collect();
    if let Some(v) = standards.volume().filter(|v| v.weight > 0.0) {
        let closed = accs[MetricId::OnTimeClosureShare.index()].1;
        parts.push(Component {
            component: VOLUME.into(),
            value: Some(closed as f64),
            sample: closed,
            norm: v.per_month,
            weight: v.weight,
            score: (closed as f64 / v.per_month).clamp(0.0, 1.0),
            points: 0.0,
        });
    }
    let total: f64 = parts.iter().map(|c| c.weight).sum();
    for c in &mut parts {
        c.weight /= total;
        c.points = 100.0 * c.weight * c.score;
    }
    parts
}

/// The id of the service rating's volume component.
pub const VOLUME: &str = "volume";

/// One component of a rating: why the rating is what it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Component {
    /// A metric id, or `volume` (closed requests in the month).
    pub component: String,
    /// The month's value in the metric's unit (for volume: requests closed); null without data.
    pub value: Option<f64>,
    /// Observations behind the value (its denominator).
    pub sample: i64,
    /// The norm: the standard's target (for volume: requests a month that earn the full score).
    pub norm: f64,
    /// Its share of the rating, 0..1 (weights normalised to add up to 1).
    pub weight: f64,
    /// Its score 0..1: shrunk towards the norm for small samples, then placed between floor and ideal.
    pub score: f64,
    /// Contribution in points: `100 x weight x score`; the components' points add up to the rating.
    pub points: f64,
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
    fn the_explanation_adds_up_to_the_rating() {
        let s = Standards::for_profile(crate::methodology::Profile::Service);
        let mut accs = [(0, 0); crate::methodology::METRIC_COUNT];
        accs[MetricId::CsatSatisfiedShare.index()] = (30, 40);
        accs[MetricId::OnTimeClosureShare.index()] = (27, 30);
        let parts = explain(&accs, &s);
        let ids: Vec<&str> = parts.iter().map(|c| c.component.as_str()).collect();
        assert_eq!(ids, ["nps", "csat_satisfied_share", "csat_avg", "on_time_closure_share", "closure_time_avg", "reopen_share", "volume"]);
        assert!((parts.iter().map(|c| c.weight).sum::<f64>() - 1.0).abs() < 1e-12);
        assert!((parts.iter().map(|c| c.points).sum::<f64>() - composite_score(&accs, &s)).abs() < 1e-9);
        let volume = parts.last().unwrap();
        assert_eq!((volume.value, volume.norm, volume.score), (Some(30.0), 60.0, 0.5), "30 closed of a 60 norm");
        assert!((volume.points - 100.0 * 0.10 * 0.5).abs() < 1e-9);
        let satisfied = &parts[1];
        assert_eq!((satisfied.value, satisfied.sample, satisfied.norm), (Some(0.75), 40, 0.60));
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
