//! Integer accumulators: sums and counts that merge exactly across days, weeks and months.

use serde::{Deserialize, Serialize};

use crate::methodology::{CoMoments, METRIC_COUNT};

/// Numerator, denominator and overdue count of one metric.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acc {
    /// Sum (milliseconds for durations, promoters minus detractors for NPS, hits for shares).
    pub num: i64,
    /// Count of observations.
    pub den: i64,
    /// Items whose deadline fell here and passed without the step.
    pub overdue: i64,
}

/// Every metric of one seller on one local day, plus bookkeeping for emission.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayAccs {
    /// One accumulator per metric, in catalogue order.
    pub metrics: [Acc; METRIC_COUNT],
    /// Survey questions (service profile): each question's scores against the main question's,
    /// by interned question number ([`crate::state::InternedIds`]), sorted.
    pub questions: Vec<(u32, CoMoments)>,
    /// Feedback given on the day and excluded by an accepted dispute.
    pub excluded_feedback: i64,
    /// How many updates touched the day: the basis of provisional row versions.
    pub changes: u64,
    /// Changed since the last provisional flush.
    pub dirty: bool,
}

impl Acc {
    /// Adds an observation's numerator and denominator (negative to withdraw one).
    pub fn add(&mut self, num: i64, den: i64) {
        self.num += num;
        self.den += den;
    }
}

impl DayAccs {
    /// Whether nothing is counted: every numerator, denominator and overdue count is zero.
    pub fn is_empty(&self) -> bool {
        self.metrics.iter().all(|a| *a == Acc::default()) && self.questions.iter().all(|(_, m)| m.n == 0) && self.excluded_feedback == 0
    }

    /// The co-moments of one question, created empty on first use (kept sorted by number).
    pub fn question(&mut self, id: u32) -> &mut CoMoments {
        let i = match self.questions.binary_search_by_key(&id, |(q, _)| *q) {
            Ok(i) => i,
            Err(i) => {
                self.questions.insert(i, (id, CoMoments::default()));
                i
            }
        };
        &mut self.questions[i].1
    }

    /// Adds another day's sums of the metrics at `metrics` (indexes; the profile's, the others
    /// being always zero) into this one (days merge into weeks, months, rolling windows).
    pub fn merge(&mut self, other: &DayAccs, metrics: &[usize]) {
        self.merge_signed(other, metrics, 1);
    }

    /// Takes another day's sums away again (a rolling window sliding past its first day).
    pub fn withdraw(&mut self, other: &DayAccs, metrics: &[usize]) {
        self.merge_signed(other, metrics, -1);
    }

    fn merge_signed(&mut self, other: &DayAccs, metrics: &[usize], sign: i64) {
        for &i in metrics {
            let (a, b) = (&mut self.metrics[i], &other.metrics[i]);
            a.num += sign * b.num;
            a.den += sign * b.den;
            a.overdue += sign * b.overdue;
        }
        self.excluded_feedback += sign * other.excluded_feedback;
        let same_questions = || self.questions.len() == other.questions.len() && self.questions.iter().zip(&other.questions).all(|(a, b)| a.0 == b.0);
        if self.questions.is_empty() && sign > 0 {
            self.questions.clone_from(&other.questions);
        } else if same_questions() {
            for ((_, a), (_, b)) in self.questions.iter_mut().zip(&other.questions) {
                a.merge_signed(b, sign);
            }
        } else {
            for (q, m) in &other.questions {
                self.question(*q).merge_signed(m, sign);
            }
        }
        self.changes = if sign > 0 { self.changes + other.changes } else { self.changes - other.changes };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(num: i64, question: u32, score: u8) -> DayAccs {
        let mut d = DayAccs::default();
        d.metrics[1] = Acc { num, den: 2, overdue: 1 };
        d.question(question).add(score, 4);
        d.excluded_feedback = 1;
        d.changes = 3;
        d
    }

    #[test]
    fn a_window_slid_by_a_day_equals_the_sum_of_its_days() {
        let metrics = [0, 1];
        let days = [day(5, 2, 3), day(7, 1, 5), day(-2, 2, 1), day(4, 3, 2)];
        let sum = |range: &[DayAccs]| {
            let mut t = DayAccs::default();
            range.iter().for_each(|d| t.merge(d, &metrics));
            t
        };
        let mut slid = sum(&days[0..3]);
        slid.merge(&days[3], &metrics);
        slid.withdraw(&days[0], &metrics);
        let whole = sum(&days[1..4]);
        assert_eq!((slid.metrics, slid.excluded_feedback, slid.changes), (whole.metrics, whole.excluded_feedback, whole.changes));
        let live = |d: &DayAccs| d.questions.iter().filter(|(_, m)| m.n != 0).copied().collect::<Vec<_>>();
        assert_eq!(live(&slid), live(&whole), "the same questions, a withdrawn one left with nothing");
        assert!(slid.questions.iter().any(|(q, m)| *q == 2 && m.n == 1), "question 2 keeps the third day's answer");
    }
}
