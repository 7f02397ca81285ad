//! Engine outputs as ClickHouse rows.

use clickhouse::Row;
use quality_engine::actions::{CriticRecord, Escalation, SurveyRequest, TierChange, WeekReasons};
use quality_engine::methodology::{EntityKind, MetricId, Status};
use quality_engine::output::{DeadLetter, MetricCell, WindowRow};
use serde::{Deserialize, Serialize};

/// One metric of one window (tables `window_<cadence>`): the window's key and version, and
/// the fields of a [`quality_engine::output::MetricCell`] (documented there), dates as days
/// since 1970-01-01 (ClickHouse `Date`). Fields in the tables' column order.
#[derive(Debug, Clone, PartialEq, Row, Serialize, Deserialize)]
pub struct MetricRow {
    pub seller_id: String,
    /// What `seller_id` names: `seller`, `department` or `performer` ([`EntityKind::as_str`]).
    pub entity: String,
    /// A performer's department; empty for sellers and departments.
    pub department_id: String,
    pub period_start: u16,
    pub period_end: u16,
    pub metric: String,
    pub numerator: f64,
    pub denominator: i64,
    pub value: Option<f64>,
    pub target: f64,
    pub deviation: Option<f64>,
    pub previous: Option<f64>,
    pub change: Option<f64>,
    pub status: String,
    pub overdue: i64,
    pub is_final: bool,
    pub version: u64,
    pub standards_version: String,
}

/// The monthly rating of one seller, department or performer (table `composite_month`): the
/// window's key and version and the fields of a [`quality_engine::output::Composite`].
#[derive(Debug, Clone, PartialEq, Row, Serialize, Deserialize)]
pub struct CompositeRow {
    pub seller_id: String,
    /// As in [`MetricRow::entity`].
    pub entity: String,
    /// As in [`MetricRow::department_id`].
    pub department_id: String,
    pub period_start: u16,
    pub period_end: u16,
    pub score: f64,
    pub rank: Option<u32>,
    pub ranked_sellers: Option<u32>,
    pub is_final: bool,
    pub version: u64,
    pub standards_version: String,
}

/// A rejected event (table `dead_letters`): the fields of a [`quality_engine::output::DeadLetter`].
#[derive(Debug, Clone, PartialEq, Row, Serialize, Deserialize)]
pub struct DeadLetterRow {
    pub source: String,
    pub reason: String,
    pub field: Option<String>,
    pub detail: String,
    pub payload: Option<String>,
    pub payload_hex: Option<String>,
}

fn date(d: quality_engine::window::LocalDate) -> u16 {
    d.0.clamp(0, u16::MAX as i64) as u16
}

/// The stored entity of a row.
pub(crate) fn entity_of(id: &str) -> anyhow::Result<EntityKind> {
    use anyhow::Context;
    serde_json::from_value(serde_json::Value::String(id.to_owned())).with_context(|| format!("unknown entity {id:?} in the stored rows"))
}

/// A stored department id: `None` when empty (sellers and departments).
pub(crate) fn department_of(id: &str) -> Option<std::sync::Arc<str>> {
    (!id.is_empty()).then(|| id.into())
}

fn department(r: &WindowRow) -> String {
    r.department_id.as_deref().unwrap_or_default().to_owned()
}

fn status(s: Status) -> &'static str {
    match s {
        Status::Pass => "pass",
        Status::Fail => "fail",
        Status::NoData => "no_data",
    }
}

impl MetricRow {
    /// The metric rows of a window row.
    pub fn from_window(r: &WindowRow) -> impl Iterator<Item = MetricRow> + '_ {
        r.metrics.iter().map(move |c| MetricRow {
            seller_id: r.seller_id.to_string(),
            entity: r.entity.as_str().to_owned(),
            department_id: department(r),
            period_start: date(r.period_start),
            period_end: date(r.period_end),
            metric: c.metric.as_str().to_owned(),
            numerator: c.numerator,
            denominator: c.denominator,
            value: c.value,
            target: c.target,
            deviation: c.deviation,
            previous: c.previous,
            change: c.change,
            status: status(c.status).to_owned(),
            overdue: c.overdue,
            is_final: r.is_final,
            version: r.version,
            standards_version: r.standards_version.to_string(),
        })
    }

    /// The engine's cell back from a stored row (reports and the backfill read ClickHouse this way).
    pub fn cell(&self) -> anyhow::Result<MetricCell> {
        use anyhow::Context;
        Ok(MetricCell {
            metric: MetricId::from_id(&self.metric).with_context(|| format!("unknown metric {:?} in the stored rows", self.metric))?,
            numerator: self.numerator,
            denominator: self.denominator,
            value: self.value,
            target: self.target,
            deviation: self.deviation,
            previous: self.previous,
            change: self.change,
            status: serde_json::from_value(serde_json::Value::String(self.status.clone()))
                .with_context(|| format!("unknown status {:?} in the stored rows", self.status))?,
            overdue: self.overdue,
        })
    }
}

impl CompositeRow {
    /// The rating row of a monthly window row, if it has one.
    pub fn from_window(r: &WindowRow) -> Option<CompositeRow> {
        r.composite.as_ref().map(|c| CompositeRow {
            seller_id: r.seller_id.to_string(),
            entity: r.entity.as_str().to_owned(),
            department_id: department(r),
            period_start: date(r.period_start),
            period_end: date(r.period_end),
            score: c.score,
            rank: c.rank,
            ranked_sellers: c.ranked_sellers,
            is_final: r.is_final,
            version: r.version,
            standards_version: r.standards_version.to_string(),
        })
    }
}

impl From<&DeadLetter> for DeadLetterRow {
    fn from(d: &DeadLetter) -> Self {
        DeadLetterRow {
            source: d.source.clone(),
            reason: d.reason.as_str().to_owned(),
            field: d.field.map(str::to_owned),
            detail: d.detail.clone(),
            payload: d.payload.clone(),
            payload_hex: d.payload_hex.clone(),
        }
    }
}

/// A transition on the escalation ladder (table `escalations`): the fields of a
/// [`quality_engine::actions::Escalation`], its evidence as parallel arrays.
#[derive(Debug, Clone, PartialEq, Row, Serialize, Deserialize)]
pub struct EscalationRow {
    pub escalation_id: String,
    pub seller_id: String,
    pub week_start: u16,
    pub from_stage: String,
    pub to_stage: String,
    pub rule: String,
    pub standards: Vec<String>,
    pub evidence_metric: Vec<String>,
    pub evidence_value: Vec<Option<f64>>,
    pub evidence_target: Vec<f64>,
    pub evidence_status: Vec<String>,
    pub failed_weeks: u32,
    pub deadline: Option<u16>,
}

/// A survey request (table `survey_requests`), times in UTC milliseconds.
#[derive(Debug, Clone, PartialEq, Row, Serialize, Deserialize)]
pub struct SurveyRow {
    pub survey_id: String,
    pub seller_id: String,
    pub order_id: String,
    pub customer_id: String,
    pub delivered_at: i64,
    pub requested_at: i64,
}

/// A critic's state (table `critics`), times in UTC milliseconds.
#[derive(Debug, Clone, PartialEq, Row, Serialize, Deserialize)]
pub struct CriticRow {
    pub critic_id: String,
    pub seller_id: String,
    pub source: String,
    pub customer_id: String,
    pub score: u8,
    pub created_at: i64,
    pub due_at: i64,
    pub followed_up_at: Option<i64>,
    pub status: String,
    pub version: u64,
}

/// One reason of a week's negative reviews (table `negative_reasons`).
#[derive(Debug, Clone, PartialEq, Row, Serialize, Deserialize)]
pub struct ReasonRow {
    pub seller_id: String,
    pub week_start: u16,
    pub reason: String,
    pub count: u32,
    pub share: f64,
    pub negative_reviews: u32,
}

impl From<&Escalation> for EscalationRow {
    fn from(e: &Escalation) -> Self {
        EscalationRow {
            escalation_id: e.escalation_id.clone(),
            seller_id: e.seller_id.to_string(),
            week_start: date(e.week_start),
            from_stage: e.from.as_str().to_owned(),
            to_stage: e.to.as_str().to_owned(),
            rule: text(&e.rule),
            standards: e.standards.iter().map(|m| m.as_str().to_owned()).collect(),
            evidence_metric: e.evidence.iter().map(|x| x.metric.as_str().to_owned()).collect(),
            evidence_value: e.evidence.iter().map(|x| x.value).collect(),
            evidence_target: e.evidence.iter().map(|x| x.target).collect(),
            evidence_status: e.evidence.iter().map(|x| status(x.status).to_owned()).collect(),
            failed_weeks: e.failed_weeks,
            deadline: e.deadline.map(date),
        }
    }
}

impl From<&SurveyRequest> for SurveyRow {
    fn from(s: &SurveyRequest) -> Self {
        SurveyRow {
            survey_id: s.survey_id.clone(),
            seller_id: s.seller_id.to_string(),
            order_id: s.order_id.clone(),
            customer_id: s.customer_id.clone(),
            delivered_at: s.delivered_at.0,
            requested_at: s.requested_at.0,
        }
    }
}

impl From<&CriticRecord> for CriticRow {
    fn from(c: &CriticRecord) -> Self {
        CriticRow {
            critic_id: c.critic_id.clone(),
            seller_id: c.seller_id.to_string(),
            source: c.source.as_str().to_owned(),
            customer_id: c.customer_id.clone(),
            score: c.score,
            created_at: c.created_at.0,
            due_at: c.due_at.0,
            followed_up_at: c.followed_up_at.map(|t| t.0),
            status: c.status.as_str().to_owned(),
            version: c.version,
        }
    }
}

impl ReasonRow {
    /// One row per reason of a week.
    pub fn from_week(w: &WeekReasons) -> impl Iterator<Item = ReasonRow> + '_ {
        w.reasons.iter().map(move |r| ReasonRow {
            seller_id: w.seller_id.to_string(),
            week_start: date(w.week_start),
            reason: r.reason.clone(),
            count: r.count,
            share: r.share,
            negative_reviews: w.negative_reviews,
        })
    }
}

/// A change of incentive tier (table `incentives`): the fields of a
/// [`quality_engine::actions::TierChange`], the month as days since 1970-01-01.
#[derive(Debug, Clone, PartialEq, Row, Serialize, Deserialize)]
pub struct IncentiveRow {
    pub change_id: String,
    pub seller_id: String,
    pub tier: String,
    pub change: String,
    pub month_start: u16,
    pub rule: String,
    pub score: Option<f64>,
    pub percentile: Option<f64>,
    pub rank: Option<u32>,
    pub eligible_sellers: u32,
    pub orders: i64,
    pub stage: String,
    pub months_in_tier: u32,
}

impl From<&TierChange> for IncentiveRow {
    fn from(c: &TierChange) -> Self {
        IncentiveRow {
            change_id: c.change_id.clone(),
            seller_id: c.seller_id.to_string(),
            tier: c.tier.clone(),
            change: c.change.as_str().to_owned(),
            month_start: date(c.month_start),
            rule: c.rule.as_str().to_owned(),
            score: c.score,
            percentile: c.percentile,
            rank: c.rank,
            eligible_sellers: c.eligible_sellers,
            orders: c.orders,
            stage: c.stage.as_str().to_owned(),
            months_in_tier: c.months_in_tier,
        }
    }
}

/// A unit enum's serde name.
fn text<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}
