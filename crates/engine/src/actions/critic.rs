//! Closing the loop with critics: feedback rated low with a comment must be followed up
//! within the SLA.
//!
//! A critic counts once its fate is known: on the day of its follow-up when that comes by the
//! deadline (feedback time + SLA), or on the day of the deadline when event time passes it
//! without one (then also as `overdue`). So `critic_followup_share` is critics answered in
//! time / critics settled, per day; an in-time follow-up that turns up after the deadline was
//! counted moves the critic from missed to answered.

use crate::contract::Timestamp;
use crate::methodology::MetricId;
use crate::state::{Effect, TimerKind, NONE};
use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Where a critic's feedback came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CriticSource {
    /// A `review.submitted` rated low, with a comment.
    Review,
    /// An `nps.submitted` scored low, with a comment.
    Nps,
    /// A `survey.answered` whose main question is rated low, with a comment (service profile).
    Survey,
}

impl CriticSource {
    /// The prefix of critic ids: `review:<review_id>` or `nps:<response_id>`.
    pub fn as_str(self) -> &'static str {
        match self {
            CriticSource::Review => "review",
            CriticSource::Nps => "nps",
            CriticSource::Survey => "survey",
        }
    }

    /// The critic id of the feedback `id`: `<source>:<id>`, held inline when short.
    pub fn critic_id(self, id: &str) -> CompactString {
        let mut critic_id = CompactString::with_capacity(self.as_str().len() + 1 + id.len());
        critic_id.push_str(self.as_str());
        critic_id.push(':');
        critic_id.push_str(id);
        critic_id
    }
}

/// Where a critic stands; the order is the order of record versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CriticStatus {
    /// Waiting for a follow-up; the deadline has not passed.
    Open,
    /// The deadline passed without a follow-up.
    Overdue,
    /// Followed up after the deadline.
    AnsweredLate,
    /// Followed up by the deadline.
    AnsweredInTime,
}

impl CriticStatus {
    /// The stable id.
    pub fn as_str(self) -> &'static str {
        match self {
            CriticStatus::Open => "open",
            CriticStatus::Overdue => "overdue",
            CriticStatus::AnsweredLate => "answered_late",
            CriticStatus::AnsweredInTime => "answered_in_time",
        }
    }
}

/// What the engine holds of one critic (saved in checkpoints).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Critic {
    /// `review:<id>`, `nps:<id>` or `survey:<id>`.
    pub critic_id: CompactString,
    /// Index of the seller.
    pub seller: u32,
    /// Distinguishes this state from an earlier one with the same key (stale timers).
    pub generation: u32,
    /// Review or NPS.
    pub source: CriticSource,
    /// The customer who complained.
    pub customer_id: CompactString,
    /// The rating (1..5) or NPS score (0..10).
    pub score: u8,
    /// When the feedback was given.
    pub at: i64,
    /// The follow-up deadline.
    pub due: i64,
    /// The earliest follow-up, [`NONE`] until one arrives.
    pub followed_up: i64,
    /// Whether the deadline passed without a follow-up (counted as overdue).
    pub overdue: bool,
    /// The latest status emitted as a record.
    pub reported: Option<CriticStatus>,
    /// The site whose manager owes the follow-up (service profile), once its request is known.
    pub site_id: Option<Arc<str>>,
}

/// A critic's state as written to the `critics` table: an upsert keyed by `critic_id`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriticRecord {
    /// `review:<id>`, `nps:<id>` or `survey:<id>`.
    pub critic_id: CompactString,
    /// The seller who must follow up (service profile: the request's department).
    pub seller_id: Arc<str>,
    /// The site whose manager must follow up (service profile).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_id: Option<Arc<str>>,
    /// Review or NPS.
    pub source: CriticSource,
    /// The customer to contact.
    pub customer_id: CompactString,
    /// The rating or score given.
    pub score: u8,
    /// When the feedback was given.
    pub created_at: Timestamp,
    /// The follow-up deadline.
    pub due_at: Timestamp,
    /// The earliest follow-up, if any.
    pub followed_up_at: Option<Timestamp>,
    /// Where the critic stands.
    pub status: CriticStatus,
    /// Upsert version: the status's rank, so the latest state wins.
    pub version: u64,
}

impl Critic {
    /// The status from what is known.
    pub fn status(&self) -> CriticStatus {
        match self.followed_up {
            NONE if self.overdue => CriticStatus::Overdue,
            NONE => CriticStatus::Open,
            f if f <= self.due => CriticStatus::AnsweredInTime,
            _ => CriticStatus::AnsweredLate,
        }
    }

    fn in_time(&self) -> bool {
        self.followed_up != NONE && self.followed_up <= self.due
    }

    /// The critic arrived: a follow-up seen earlier, in time, settles it now; the deadline is armed.
    pub fn arrive(&self, fx: &mut Vec<Effect>) {
        if self.in_time() {
            fx.push(Effect::Add { at: self.followed_up, metric: MetricId::CriticFollowupShare, num: 1, den: 1 });
        }
        fx.push(Effect::Timer { due: self.due, kind: TimerKind::FollowUp });
    }

    /// A follow-up at `t`; only the earliest counts.
    pub fn follow_up(&mut self, t: i64, fx: &mut Vec<Effect>) {
        if self.followed_up != NONE && self.followed_up <= t {
            return;
        }
        let earlier = std::mem::replace(&mut self.followed_up, t);
        if !self.in_time() {
            return;
        }
        if earlier != NONE && earlier <= self.due {
            fx.push(Effect::Add { at: earlier, metric: MetricId::CriticFollowupShare, num: -1, den: -1 });
        }
        if self.overdue {
            self.overdue = false;
            fx.push(Effect::Overdue { at: self.due, metric: MetricId::CriticFollowupShare, delta: -1 });
            fx.push(Effect::Add { at: self.due, metric: MetricId::CriticFollowupShare, num: 0, den: -1 });
        }
        fx.push(Effect::Add { at: t, metric: MetricId::CriticFollowupShare, num: 1, den: 1 });
    }

    /// Event time reached the deadline: settled as missed (and overdue) unless followed up in time.
    pub fn fire(&mut self, fx: &mut Vec<Effect>) {
        if !self.overdue && !self.in_time() {
            self.overdue = true;
            fx.push(Effect::Overdue { at: self.due, metric: MetricId::CriticFollowupShare, delta: 1 });
            fx.push(Effect::Add { at: self.due, metric: MetricId::CriticFollowupShare, num: 0, den: 1 });
        }
    }

    /// A record if the status moved past the last one reported.
    pub fn record(&mut self, seller_id: &Arc<str>) -> Option<CriticRecord> {
        let status = self.status();
        if self.reported.is_some_and(|r| r >= status) {
            return None;
        }
        self.reported = Some(status);
        Some(CriticRecord {
            critic_id: self.critic_id.clone(),
            seller_id: seller_id.clone(),
            site_id: self.site_id.clone(),
            source: self.source,
            customer_id: self.customer_id.clone(),
            score: self.score,
            created_at: Timestamp(self.at),
            due_at: Timestamp(self.due),
            followed_up_at: (self.followed_up != NONE).then_some(Timestamp(self.followed_up)),
            status,
            version: status as u64 + 1,
        })
    }
}
