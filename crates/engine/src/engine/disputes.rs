//! Disputes of marketplace feedback (reviews, and NPS answers about no request): the engine
//! remembers each one's contribution for the state TTL, so that an accepted dispute
//! (`feedback.excluded`) removes it exactly from the day it counted on, before or after it
//! arrives. Service feedback is disputed through its request (`requests.rs`).

use super::requests::{EarlyExclusion, FeedbackId};
use super::Engine;
use crate::contract::{RejectReason, Rejection, Timestamp};
use crate::methodology::MetricId;
use serde::{Deserialize, Serialize};

/// A review or NPS answer that a dispute may still exclude.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Disputable {
    seller: u32,
    at: i64,
    /// The rating 1..5 of a review, or the NPS score 0..10.
    score: u8,
    review: bool,
    excluded: bool,
}

impl Engine {
    /// A review or NPS answer arrived: it is remembered for disputes, and counts (in the
    /// caller) unless a dispute already excluded it, which this reports by returning `true`.
    pub(super) fn note_disputable(&mut self, seller: u32, feedback: FeedbackId<'_>, score: u8, t: i64) -> bool {
        let key = self.fingerprints.of(&(seller, feedback));
        let excluded = self.early_exclusions.remove(&key).is_some();
        if excluded {
            self.day_accs(seller, t).excluded_feedback += 1;
        }
        let review = matches!(feedback, FeedbackId::Review(_));
        self.disputable.entry(key).or_insert(Disputable { seller, at: t, score, review, excluded });
        excluded
    }

    /// `feedback.excluded` of marketplace feedback: its figures are withdrawn from its day; a
    /// dispute of feedback not seen yet waits for it (and is dead-lettered if it never comes).
    pub(super) fn exclude_disputable(&mut self, seller: u32, feedback: FeedbackId<'_>, t: i64) -> Result<(), Rejection> {
        let key = self.fingerprints.of(&(seller, feedback));
        let Some(d) = self.disputable.get(&key).copied() else {
            self.early_exclusions.entry(key).or_insert_with(|| EarlyExclusion::new(seller, feedback.id(), t));
            return Ok(());
        };
        if !self.is_open(d.at) {
            return Err(too_late(d.at));
        }
        if d.excluded {
            return Ok(());
        }
        let s = i64::from(d.score);
        if d.review {
            self.add(seller, d.at, MetricId::Csi, -s, -1);
            self.add(seller, d.at, MetricId::PositiveReviewShare, -((d.score >= 4) as i64), -1);
        } else {
            self.add(seller, d.at, MetricId::Nps, -super::requests::nps_points(d.score), -1);
        }
        self.day_accs(seller, d.at).excluded_feedback += 1;
        if let Some(d) = self.disputable.get_mut(&key) {
            d.excluded = true;
        }
        Ok(())
    }

    /// Forgets feedback the state TTL has passed.
    pub(super) fn sweep_disputable(&mut self, watermark: i64) {
        let ttl = self.config.state_ttl_ms;
        self.disputable.retain(|_, d| d.at.saturating_add(ttl) > watermark);
    }
}

/// The refusal of a dispute whose feedback's day is already final (kept in the dead letters).
pub(super) fn too_late(at: i64) -> Rejection {
    Rejection::new(
        RejectReason::TooLate,
        Some("occurred_at"),
        format!(
            "the excluded feedback was given at {}, whose day is final: the dispute came later than the allowed lateness; correct the figures by a backfill if it must count",
            Timestamp(at)
        ),
    )
}
