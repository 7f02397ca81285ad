//! Engine outputs as ClickHouse rows.

use clickhouse::Row;
use quality_engine::methodology::Status;
use quality_engine::output::{DeadLetter, WindowRow};
use serde::{Deserialize, Serialize};

/// One metric of one window (tables `window_<cadence>`): the window's key and version, and
/// the fields of a [`quality_engine::output::MetricCell`] (documented there), dates as days
/// since 1970-01-01 (ClickHouse `Date`).
#[derive(Debug, Clone, PartialEq, Row, Serialize, Deserialize)]
pub struct MetricRow {
    pub seller_id: String,
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
}

/// The monthly rating of one seller (table `composite_month`): the window's key and version
/// and the fields of a [`quality_engine::output::Composite`].
#[derive(Debug, Clone, PartialEq, Row, Serialize, Deserialize)]
pub struct CompositeRow {
    pub seller_id: String,
    pub period_start: u16,
    pub period_end: u16,
    pub score: f64,
    pub rank: Option<u32>,
    pub ranked_sellers: Option<u32>,
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
        })
    }
}

impl CompositeRow {
    /// The rating row of a monthly window row, if it has one.
    pub fn from_window(r: &WindowRow) -> Option<CompositeRow> {
        r.composite.as_ref().map(|c| CompositeRow {
            seller_id: r.seller_id.to_string(),
            period_start: date(r.period_start),
            period_end: date(r.period_end),
            score: c.score,
            rank: c.rank,
            ranked_sellers: c.ranked_sellers,
            is_final: r.is_final,
            version: r.version,
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
