//! The main reasons for negative reviews, per seller and ISO week, for the weekly report.

use crate::window::LocalDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Negative reviews (rated 1..3) of one seller-week and the reasons they named.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonTally {
    /// Negative reviews in the week.
    pub negative: u32,
    /// How many of them named each reason.
    pub reasons: BTreeMap<Box<str>, u32>,
}

impl ReasonTally {
    /// Counts one negative review.
    pub fn add<'a>(&mut self, reasons: impl Iterator<Item = &'a str>) {
        self.negative += 1;
        for r in reasons {
            match self.reasons.get_mut(r) {
                Some(n) => *n += 1,
                None => {
                    self.reasons.insert(r.into(), 1);
                }
            }
        }
    }
}

/// One reason's weight among a week's negative reviews.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReasonShare {
    /// The reason as producers send it (`reasons` of `review.submitted`).
    pub reason: String,
    /// Negative reviews that named it.
    pub count: u32,
    /// `count / negative_reviews`.
    pub share: f64,
}

/// The reasons of a closed week, emitted with its final weekly row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeekReasons {
    /// The seller.
    pub seller_id: Arc<str>,
    /// Monday of the week.
    pub week_start: LocalDate,
    /// Negative reviews (rated 1..3) in the week.
    pub negative_reviews: u32,
    /// Every reason named, most frequent first (ties by name).
    pub reasons: Vec<ReasonShare>,
}

impl WeekReasons {
    /// The week's reasons from its tally.
    pub fn new(seller_id: Arc<str>, week_start: LocalDate, tally: ReasonTally) -> WeekReasons {
        let n = tally.negative;
        let mut reasons: Vec<ReasonShare> =
            tally.reasons.into_iter().map(|(r, c)| ReasonShare { reason: r.into(), count: c, share: c as f64 / n.max(1) as f64 }).collect();
        reasons.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.reason.cmp(&b.reason)));
        WeekReasons { seller_id, week_start, negative_reviews: n, reasons }
    }
}
