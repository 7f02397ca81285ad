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
        for &i in metrics {
            let (a, b) = (&mut self.metrics[i], &other.metrics[i]);
            a.num += b.num;
            a.den += b.den;
            a.overdue += b.overdue;
        }
        self.excluded_feedback += other.excluded_feedback;
        if self.questions.is_empty() {
            self.questions.clone_from(&other.questions);
        } else {
            for (q, m) in &other.questions {
                self.question(*q).merge(m);
            }
        }
        self.changes += other.changes;
    }
}
