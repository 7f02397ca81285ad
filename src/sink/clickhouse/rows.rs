//! Engine outputs as ClickHouse rows.

use clickhouse::Row;
use quality_engine::actions::{CriticRecord, Escalation, SurveyRequest, TierChange, WeekReasons};
use quality_engine::methodology::{CoMoments, EntityKind, MetricId, Status};
use quality_engine::output::{DeadLetter, MetricCell, WindowRow};
use quality_engine::QuestionCell;
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
    /// Feedback of the window excluded by accepted disputes: the window's count, on each of its metric rows.
    pub excluded_feedback: i64,
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

/// One survey question of one window (table `survey_questions`, service profile): the window's
/// key and version, and the question's integer sums against the main question (a
/// [`quality_engine::methodology::CoMoments`]: n, Σx, Σy, Σx², Σy², Σxy). Fields in the table's
/// column order.
#[derive(Debug, Clone, PartialEq, Row, Serialize, Deserialize)]
pub struct QuestionRow {
    pub seller_id: String,
    /// As in [`MetricRow::entity`].
    pub entity: String,
    /// As in [`MetricRow::department_id`].
    pub department_id: String,
    /// The window's cadence ([`Cadence::as_str`](quality_engine::window::Cadence)).
    pub cadence: String,
    pub period_start: u16,
    pub period_end: u16,
    pub question_id: String,
    /// Surveys that answered the question (n).
    pub surveys: i64,
    /// Σx: the question's scores.
    pub sum_score: i64,
    /// Σy: the overall scores of the same surveys.
    pub sum_overall: i64,
    /// Σx².
    pub sum_score_sq: i64,
    /// Σy².
    pub sum_overall_sq: i64,
    /// Σxy.
    pub sum_cross: i64,
    pub is_final: bool,
    pub version: u64,
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
            excluded_feedback: r.excluded_feedback,
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

impl QuestionRow {
    /// The question rows of a window row (none for the marketplace's rows).
    pub fn from_window(r: &WindowRow) -> impl Iterator<Item = QuestionRow> + '_ {
        r.questions.iter().map(move |q| QuestionRow {
            seller_id: r.seller_id.to_string(),
            entity: r.entity.as_str().to_owned(),
            department_id: department(r),
            cadence: r.cadence.as_str().to_owned(),
            period_start: date(r.period_start),
            period_end: date(r.period_end),
            question_id: q.question_id.to_string(),
            surveys: q.moments.n,
            sum_score: q.moments.sx,
            sum_overall: q.moments.sy,
            sum_score_sq: q.moments.sxx,
            sum_overall_sq: q.moments.syy,
            sum_cross: q.moments.sxy,
            is_final: r.is_final,
            version: r.version,
        })
    }

    /// The engine's cell back from a stored row (the backfill reads ClickHouse this way).
    pub fn cell(&self) -> QuestionCell {
        let moments = CoMoments {
            n: self.surveys,
            sx: self.sum_score,
            sy: self.sum_overall,
            sxx: self.sum_score_sq,
            syy: self.sum_overall_sq,
            sxy: self.sum_cross,
        };
        QuestionCell { question_id: self.question_id.as_str().into(), surveys: moments.n, average: moments.mean(), moments }
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
    /// The request's site (service profile); empty for the marketplace.
    pub site_id: String,
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
            survey_id: s.survey_id.to_string(),
            seller_id: s.seller_id.to_string(),
            order_id: s.order_id.to_string(),
            customer_id: s.customer_id.to_string(),
            delivered_at: s.delivered_at.0,
            requested_at: s.requested_at.0,
        }
    }
}

impl From<&CriticRecord> for CriticRow {
    fn from(c: &CriticRecord) -> Self {
        CriticRow {
            critic_id: c.critic_id.to_string(),
            seller_id: c.seller_id.to_string(),
            site_id: c.site_id.as_deref().unwrap_or_default().to_owned(),
            source: c.source.as_str().to_owned(),
            customer_id: c.customer_id.to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use quality_engine::window::{Cadence, LocalDate};

    #[test]
    fn question_rows_carry_the_windows_key_version_and_sums_and_read_back_as_cells() {
        let mut m = CoMoments::default();
        for (x, y) in [(2, 3), (5, 5), (4, 4)] {
            m.add(x, y);
        }
        let cell = QuestionCell { question_id: "cleanliness".into(), surveys: 3, average: m.mean(), moments: m };
        let row = WindowRow {
            seller_id: "perf-001".into(),
            entity: EntityKind::Performer,
            department_id: Some("dept-02".into()),
            cadence: Cadence::Rolling7d,
            period_start: LocalDate::parse("2026-11-04").unwrap(),
            period_end: LocalDate::parse("2026-11-11").unwrap(),
            is_final: false,
            version: 7,
            standards_version: "v1".into(),
            metrics: Vec::new(),
            composite: None,
            questions: vec![cell.clone()],
            drivers: Vec::new(),
            excluded_feedback: 0,
        };
        let rows: Vec<QuestionRow> = QuestionRow::from_window(&row).collect();
        assert_eq!(rows.len(), 1);
        let q = &rows[0];
        assert_eq!(
            (q.seller_id.as_str(), q.entity.as_str(), q.department_id.as_str(), q.cadence.as_str()),
            ("perf-001", "performer", "dept-02", "rolling_7d")
        );
        assert_eq!((q.period_start, q.period_end, q.is_final, q.version), (date(row.period_start), date(row.period_end), false, 7));
        assert_eq!((q.surveys, q.sum_score, q.sum_overall, q.sum_score_sq, q.sum_overall_sq, q.sum_cross), (3, 11, 12, 45, 50, 47));
        assert_eq!(q.cell(), cell);
        let marketplace = WindowRow { entity: EntityKind::Seller, department_id: None, questions: Vec::new(), ..row };
        assert_eq!(QuestionRow::from_window(&marketplace).count(), 0, "a marketplace row has no questions");
    }
}
