//! What the engine emits: window rows (upserts) and dead letters, plus its counters.

use crate::actions::{CriticRecord, Escalation, SurveyRequest, WeekReasons};
use crate::contract::{EventType, RejectReason, Rejection};
use crate::methodology::{CoMoments, Component, Driver, EntityKind, MetricId, Status};
use crate::window::{Cadence, LocalDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Version of every final row: higher than any provisional version, equal on every path.
pub const FINAL_VERSION: u64 = 1 << 62;

/// One entity's window: every metric of its cadence, judged, with the change since the previous period.
///
/// Rows are upserts keyed by `(entity, department_id, seller_id, cadence, period_start)`: the highest `version` wins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowRow {
    /// The entity's id: the seller, department or performer.
    pub seller_id: Arc<str>,
    /// What `seller_id` names; left out for the marketplace's sellers.
    #[serde(default, skip_serializing_if = "EntityKind::is_seller")]
    pub entity: EntityKind,
    /// A performer's department (performer rows only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department_id: Option<Arc<str>>,
    /// The cadence.
    pub cadence: Cadence,
    /// First local day of the window, `YYYY-MM-DD`.
    pub period_start: LocalDate,
    /// First local day after the window, `YYYY-MM-DD`.
    pub period_end: LocalDate,
    /// Whether the watermark has passed the window's end, so that it can no longer change.
    pub is_final: bool,
    /// Upsert version: grows with every change; [`FINAL_VERSION`] once final.
    pub version: u64,
    /// The id of the standards version the window was judged against (in force on its first day);
    /// empty in rows stored before standards had versions.
    #[serde(default)]
    pub standards_version: Arc<str>,
    /// One cell per metric the cadence carries, in catalogue order.
    pub metrics: Vec<MetricCell>,
    /// The performer rating, on monthly rows only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub composite: Option<Composite>,
    /// Survey questions answered in the window (service profile), by question id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub questions: Vec<QuestionCell>,
    /// Feedback given in the window that accepted disputes excluded from every figure (service profile).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub excluded_feedback: i64,
    /// The key drivers of the overall impression, strongest first (service profile, monthly rows).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drivers: Vec<Driver>,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// One survey question in one window: its average score, and the integer sums against the main
/// question from which correlations follow exactly for any roll-up (company-wide drivers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionCell {
    /// The question (`overall` is the main question).
    pub question_id: Arc<str>,
    /// Surveys that answered it.
    pub surveys: i64,
    /// Its mean score 1..5.
    pub average: Option<f64>,
    /// Sums of (its score, the overall score) pairs.
    pub moments: CoMoments,
}

/// One metric in one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricCell {
    /// The metric.
    pub metric: MetricId,
    /// Sum in the metric's unit (seconds for durations; promoters minus detractors for NPS).
    pub numerator: f64,
    /// Count of observations.
    pub denominator: i64,
    /// `numerator / denominator` in the metric's unit (x100 for NPS); null when the denominator is 0.
    pub value: Option<f64>,
    /// The standard's target.
    pub target: f64,
    /// `value - target`.
    pub deviation: Option<f64>,
    /// The value in the previous period of the same cadence.
    pub previous: Option<f64>,
    /// `value - previous`: the report's dynamics arrow.
    pub change: Option<f64>,
    /// Pass, fail or no data.
    pub status: Status,
    /// Open items whose deadline fell in this window and passed without the step (deadline metrics only).
    pub overdue: i64,
}

/// The monthly performer rating.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Composite {
    /// Weighted, shrunk score of every standard, 0..100.
    pub score: f64,
    /// 1 = best among the sellers active in the month (performers: in their department; ties share a
    /// rank); null until the month is final.
    pub rank: Option<u32>,
    /// How many were ranked; null until the month is final.
    pub ranked_sellers: Option<u32>,
    /// Why: every weighted component with its value, norm, weight and points (they add up to `score`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<Component>,
}

/// An event that did not count, kept with its reason and payload so that nothing is lost silently.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadLetter {
    /// The reason code.
    pub reason: RejectReason,
    /// The field at fault, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
    /// What to fix.
    pub detail: String,
    /// Where it came from, e.g. `events.ndjson:42` or `orders/3@1200`.
    pub source: String,
    /// The original payload, when it is UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// The original payload in hex, when it is not UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_hex: Option<String>,
}

impl DeadLetter {
    /// A dead letter for a rejected payload.
    pub fn new(rejection: Rejection, payload: &[u8], source: String) -> DeadLetter {
        let (payload, payload_hex) = match std::str::from_utf8(payload) {
            Ok(s) => (Some(s.to_owned()), None),
            Err(_) => (None, Some(payload.iter().map(|b| format!("{b:02x}")).collect())),
        };
        DeadLetter { reason: rejection.reason, field: rejection.field, detail: rejection.detail, source, payload, payload_hex }
    }
}

/// What became of one ingested payload.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Counted.
    Accepted(EventType),
    /// Same `event_id` as an event already counted: counted once, this copy ignored.
    Duplicate(EventType),
    /// Not counted; the caller dead-letters the payload with this reason.
    Rejected(Rejection),
}

/// Something the engine emits for the sinks.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// An upsert of a window row.
    Row(WindowRow),
    /// State the engine had to give up on (e.g. order steps whose creation never came).
    DeadLetter(DeadLetter),
    /// A seller moved on the escalation ladder (once per seller and week at most).
    Escalation(Escalation),
    /// A customer is to be surveyed about a delivered order.
    SurveyRequest(SurveyRequest),
    /// A critic's state changed (upsert by `critic_id`).
    Critic(CriticRecord),
    /// The reasons for negative reviews of a closed week.
    Reasons(WeekReasons),
}

/// Counters of everything the engine saw, for logs, telemetry and tests (arrays: no lookups on the hot path).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub(crate) accepted: [u64; EventType::ALL.len()],
    pub(crate) duplicates: [u64; EventType::ALL.len()],
    pub(crate) rejected: [u64; RejectReason::ALL.len()],
    /// Window rows emitted.
    pub rows_emitted: u64,
}

impl Stats {
    /// Counts a verdict.
    pub fn count(&mut self, v: &Verdict) {
        match v {
            Verdict::Accepted(t) => self.accepted[*t as usize] += 1,
            Verdict::Duplicate(t) => self.duplicates[*t as usize] += 1,
            Verdict::Rejected(r) => self.count_rejection(r.reason),
        }
    }

    /// Counts a rejection found outside `ingest` (state given up at expiry).
    pub fn count_rejection(&mut self, reason: RejectReason) {
        self.rejected[reason as usize] += 1;
    }

    /// Accepted events of one type.
    pub fn accepted(&self, t: EventType) -> u64 {
        self.accepted[t as usize]
    }

    /// Duplicates of one type.
    pub fn duplicates(&self, t: EventType) -> u64 {
        self.duplicates[t as usize]
    }

    /// Rejections for one reason.
    pub fn rejected(&self, r: RejectReason) -> u64 {
        self.rejected[r as usize]
    }

    /// Non-zero rejection counts, by reason.
    pub fn rejected_by_reason(&self) -> impl Iterator<Item = (RejectReason, u64)> + '_ {
        RejectReason::ALL.into_iter().map(|r| (r, self.rejected(r))).filter(|(_, n)| *n > 0)
    }

    /// Total events counted as accepted.
    pub fn accepted_total(&self) -> u64 {
        self.accepted.iter().sum()
    }

    /// Total rejections.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.iter().sum()
    }

    /// Total duplicates.
    pub fn duplicates_total(&self) -> u64 {
        self.duplicates.iter().sum()
    }
}

impl Serialize for Stats {
    /// As maps keyed by type and reason, zero counts left out.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let by_type = |a: &[u64]| -> BTreeMap<&'static str, u64> {
            EventType::ALL.into_iter().map(|t| (t.as_str(), a[t as usize])).filter(|(_, n)| *n > 0).collect()
        };
        let rejected: BTreeMap<&'static str, u64> = self.rejected_by_reason().map(|(r, n)| (r.as_str(), n)).collect();
        serde_json::json!({
            "accepted": by_type(&self.accepted),
            "duplicates": by_type(&self.duplicates),
            "rejected": rejected,
            "rows_emitted": self.rows_emitted,
        })
        .serialize(s)
    }
}
