//! The metric catalogue: stable ids, units and directions, shared by config, storage and dashboards.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How many metrics the catalogue has; accumulators are fixed-size arrays of this length.
pub const METRIC_COUNT: usize = 18;

/// A standard of the regulation, by its stable id (used in config, storage, labels, dashboards).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricId {
    /// Customer satisfaction index: mean rating 1..5.
    Csi,
    /// Net promoter score: % promoters (9-10) minus % detractors (0-6).
    Nps,
    /// Share of reviews rated 4 or 5.
    PositiveReviewShare,
    /// Mean time from order creation to confirmation, seconds.
    ConfirmationTimeAvg,
    /// Mean time from confirmation to end of assembly, seconds.
    AssemblyTimeAvg,
    /// Share of shipped orders handed over to delivery by `ship_by`.
    OnTimeHandoverShare,
    /// Orders cancelled by the seller / orders created.
    SellerCancellationShare,
    /// Mean time from a customer message to the seller's first reply, seconds.
    ResponseTimeAvg,
    /// Share of audited answers judged complete.
    AnswerCompletenessShare,
    /// Share of resolved inquiries resolved at the first contact.
    FirstContactResolutionShare,
    /// Share of critics (negative feedback with a comment) followed up within the SLA.
    CriticFollowupShare,
    /// Share of eligible delivered orders that got a review or a survey request.
    SurveyCoverageShare,
    /// Share of delivered orders without a complaint of a wrong or missing item within the complaint window.
    AssemblyAccuracyShare,
    /// Share of main-question survey answers of 4 or 5 (service profile).
    CsatSatisfiedShare,
    /// Mean main-question survey score 1..5 (service profile).
    CsatAvg,
    /// Share of closed requests closed by their `due_by` (service profile).
    OnTimeClosureShare,
    /// Mean time from a request's creation to its closure, seconds (service profile).
    ClosureTimeAvg,
    /// Share of closed requests reopened within the reopen window (service profile).
    ReopenShare,
}

/// The unit a metric's value is expressed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A mean rating on the 1..5 scale.
    Rating,
    /// NPS points, -100..100.
    NpsPoints,
    /// A ratio 0..1 (shown as % in reports).
    Ratio,
    /// Seconds (a mean duration).
    Seconds,
}

/// Whether a larger value is better; decides how a target is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The value must be at least the target.
    HigherIsBetter,
    /// The value must be at most the target.
    LowerIsBetter,
}

/// The regulation's grouping, which decides the cadences a metric is monitored at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// Customer satisfaction: monitored weekly.
    Base,
    /// Order processing: monitored daily.
    Operational,
    /// Communication with customers: monitored daily.
    Communication,
    /// The satisfaction programme's own duty (surveying customers): monitored daily, never escalated against a seller.
    Programme,
}

impl MetricId {
    /// Every metric, in catalogue order (the order of cells in a window row).
    pub const ALL: [MetricId; METRIC_COUNT] = [
        MetricId::Csi,
        MetricId::Nps,
        MetricId::PositiveReviewShare,
        MetricId::ConfirmationTimeAvg,
        MetricId::AssemblyTimeAvg,
        MetricId::OnTimeHandoverShare,
        MetricId::SellerCancellationShare,
        MetricId::ResponseTimeAvg,
        MetricId::AnswerCompletenessShare,
        MetricId::FirstContactResolutionShare,
        MetricId::CriticFollowupShare,
        MetricId::SurveyCoverageShare,
        MetricId::AssemblyAccuracyShare,
        MetricId::CsatSatisfiedShare,
        MetricId::CsatAvg,
        MetricId::OnTimeClosureShare,
        MetricId::ClosureTimeAvg,
        MetricId::ReopenShare,
    ];

    /// Position in [`MetricId::ALL`], the index into accumulator arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The stable id, e.g. `confirmation_time_avg`.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricId::Csi => "csi",
            MetricId::Nps => "nps",
            MetricId::PositiveReviewShare => "positive_review_share",
            MetricId::ConfirmationTimeAvg => "confirmation_time_avg",
            MetricId::AssemblyTimeAvg => "assembly_time_avg",
            MetricId::OnTimeHandoverShare => "on_time_handover_share",
            MetricId::SellerCancellationShare => "seller_cancellation_share",
            MetricId::ResponseTimeAvg => "response_time_avg",
            MetricId::AnswerCompletenessShare => "answer_completeness_share",
            MetricId::FirstContactResolutionShare => "first_contact_resolution_share",
            MetricId::CriticFollowupShare => "critic_followup_share",
            MetricId::SurveyCoverageShare => "survey_coverage_share",
            MetricId::AssemblyAccuracyShare => "assembly_accuracy_share",
            MetricId::CsatSatisfiedShare => "csat_satisfied_share",
            MetricId::CsatAvg => "csat_avg",
            MetricId::OnTimeClosureShare => "on_time_closure_share",
            MetricId::ClosureTimeAvg => "closure_time_avg",
            MetricId::ReopenShare => "reopen_share",
        }
    }

    /// The metric for a stable id.
    pub fn from_id(s: &str) -> Option<MetricId> {
        MetricId::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// A short human name for tables and dashboards.
    pub fn label(self) -> &'static str {
        match self {
            MetricId::Csi => "CSI",
            MetricId::Nps => "NPS",
            MetricId::PositiveReviewShare => "Positive reviews",
            MetricId::ConfirmationTimeAvg => "Time to confirm",
            MetricId::AssemblyTimeAvg => "Time to assemble",
            MetricId::OnTimeHandoverShare => "On-time handover",
            MetricId::SellerCancellationShare => "Seller cancellations",
            MetricId::ResponseTimeAvg => "Response time",
            MetricId::AnswerCompletenessShare => "Complete answers",
            MetricId::FirstContactResolutionShare => "First-contact resolution",
            MetricId::CriticFollowupShare => "Critics followed up",
            MetricId::SurveyCoverageShare => "Survey coverage",
            MetricId::AssemblyAccuracyShare => "Assembly accuracy",
            MetricId::CsatSatisfiedShare => "Satisfied clients",
            MetricId::CsatAvg => "CSAT",
            MetricId::OnTimeClosureShare => "On-time closure",
            MetricId::ClosureTimeAvg => "Time to close",
            MetricId::ReopenShare => "Reopened requests",
        }
    }

    /// The unit of the metric's value.
    pub fn unit(self) -> Unit {
        match self {
            MetricId::Csi | MetricId::CsatAvg => Unit::Rating,
            MetricId::Nps => Unit::NpsPoints,
            MetricId::ConfirmationTimeAvg | MetricId::AssemblyTimeAvg | MetricId::ResponseTimeAvg | MetricId::ClosureTimeAvg => Unit::Seconds,
            _ => Unit::Ratio,
        }
    }

    /// Whether larger values are better.
    pub fn direction(self) -> Direction {
        match self {
            MetricId::ConfirmationTimeAvg
            | MetricId::AssemblyTimeAvg
            | MetricId::ResponseTimeAvg
            | MetricId::SellerCancellationShare
            | MetricId::ClosureTimeAvg
            | MetricId::ReopenShare => Direction::LowerIsBetter,
            _ => Direction::HigherIsBetter,
        }
    }

    /// The regulation's group of the metric.
    pub fn group(self) -> Group {
        match self {
            MetricId::Csi | MetricId::Nps | MetricId::PositiveReviewShare | MetricId::CsatSatisfiedShare | MetricId::CsatAvg => Group::Base,
            MetricId::ResponseTimeAvg | MetricId::AnswerCompletenessShare | MetricId::FirstContactResolutionShare | MetricId::CriticFollowupShare => {
                Group::Communication
            }
            MetricId::SurveyCoverageShare => Group::Programme,
            _ => Group::Operational,
        }
    }

    /// Whether the metric tracks a deadline, so that open items past it are counted as `overdue`.
    pub fn has_deadline(self) -> bool {
        matches!(
            self,
            MetricId::ConfirmationTimeAvg
                | MetricId::AssemblyTimeAvg
                | MetricId::OnTimeHandoverShare
                | MetricId::ResponseTimeAvg
                | MetricId::CriticFollowupShare
                | MetricId::OnTimeClosureShare
        )
    }

    /// The value from an accumulator's integer numerator and denominator; `None` when empty.
    ///
    /// Durations are accumulated in milliseconds and NPS as promoters minus detractors.
    pub fn value(self, num: i64, den: i64) -> Option<f64> {
        if den == 0 {
            return None;
        }
        Some(self.numerator(num) / den as f64 * if self == MetricId::Nps { 100.0 } else { 1.0 })
    }

    /// The numerator in the metric's unit (seconds for durations), as written in rows.
    pub fn numerator(self, num: i64) -> f64 {
        match self.unit() {
            Unit::Seconds => num as f64 / 1000.0,
            _ => num as f64,
        }
    }

    /// The accumulator's integer numerator back from a row's (inverse of [`MetricId::numerator`]),
    /// so that stored rows can be judged again exactly.
    pub fn raw_numerator(self, numerator: f64) -> i64 {
        match self.unit() {
            Unit::Seconds => (numerator * 1000.0).round() as i64,
            _ => numerator.round() as i64,
        }
    }
}

impl fmt::Display for MetricId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
