//! Judging one metric of one window against its standard.

use super::metric::{Direction, MetricId};
use super::standards::Standard;
use serde::{Deserialize, Serialize};

/// The verdict on a standard in a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The value meets the target.
    Pass,
    /// The value misses the target.
    Fail,
    /// Nothing to judge: the denominator is 0.
    NoData,
}

/// Relative tolerance for comparing a value to its target (durations pass through two divisions).
const TOLERANCE: f64 = 1e-9;

/// Value, deviation from target (value - target) and status of a metric.
pub fn evaluate(m: MetricId, num: i64, den: i64, standard: &Standard) -> (Option<f64>, Option<f64>, Status) {
    let Some(v) = m.value(num, den) else {
        return (None, None, Status::NoData);
    };
    let slack = TOLERANCE * standard.target.abs().max(1.0);
    let pass = match m.direction() {
        Direction::HigherIsBetter => v >= standard.target - slack,
        Direction::LowerIsBetter => v <= standard.target + slack,
    };
    (Some(v), Some(v - standard.target), if pass { Status::Pass } else { Status::Fail })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::methodology::Standards;

    #[test]
    fn boundaries_pass() {
        let s = Standards::default();
        let share = s.get(MetricId::OnTimeHandoverShare);
        assert_eq!(evaluate(MetricId::OnTimeHandoverShare, 19, 20, share).2, Status::Pass);
        assert_eq!(evaluate(MetricId::OnTimeHandoverShare, 18, 20, share).2, Status::Fail);
        let conf = s.get(MetricId::ConfirmationTimeAvg);
        assert_eq!(evaluate(MetricId::ConfirmationTimeAvg, 3 * 7_200_000, 3, conf).2, Status::Pass);
        assert_eq!(evaluate(MetricId::ConfirmationTimeAvg, 3 * 7_200_000 + 3, 3, conf).2, Status::Fail);
        assert_eq!(evaluate(MetricId::Csi, 0, 0, s.get(MetricId::Csi)), (None, None, Status::NoData));
        let (v, d, st) = evaluate(MetricId::Nps, 3, 5, s.get(MetricId::Nps));
        assert_eq!((v, d, st), (Some(60.0), Some(0.0), Status::Pass));
    }
}
