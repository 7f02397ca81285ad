//! Engine outputs as ClickHouse rows.

use clickhouse::Row;
use quality_engine::methodology::Status;
use quality_engine::output::{DeadLetter, WindowRow};
use serde::{Deserialize, Serialize};

/// One metric of one window (tables `window_<cadence>`).
#[derive(Debug, Clone, PartialEq, Row, Serialize, Deserialize)]
pub struct MetricRow {
    /// Seller.
    pub seller_id: String,
    /// First local day, as days since 1970-01-01 (ClickHouse `Date`).
    pub period_start: u16,
    /// First local day after the window.
    pub period_end: u16,
    /// Metric id.
    pub metric: String,
    /// Numerator in the metric's unit.
    pub numerator: f64,
    /// Denominator.
    pub denominator: i64,
    /// Value, null without data.
    pub value: Option<f64>,
    /// Target.
    pub target: f64,
    /// Value minus target.
    pub deviation: Option<f64>,
    /// Previous period's value.
    pub previous: Option<f64>,
    /// Value minus previous.
    pub change: Option<f64>,
    /// `pass`, `fail` or `no_data`.
    pub status: String,
    /// Open items past their deadline.
    pub overdue: i64,
    /// Whether the window is closed.
    pub is_final: bool,
    /// Upsert version.
    pub version: u64,
}

/// The monthly rating of one seller (table `composite_month`).
#[derive(Debug, Clone, PartialEq, Row, Serialize, Deserialize)]
pub struct CompositeRow {
    /// Seller.
    pub seller_id: String,
    /// First day of the month.
    pub period_start: u16,
    /// First day of the next month.
    pub period_end: u16,
    /// Composite 0..100.
    pub score: f64,
    /// Rank, once final.
    pub rank: Option<u32>,
    /// Sellers ranked, once final.
    pub ranked_sellers: Option<u32>,
    /// Whether the month is closed.
    pub is_final: bool,
    /// Upsert version.
    pub version: u64,
}

/// A rejected event (table `dead_letters`).
#[derive(Debug, Clone, PartialEq, Row, Serialize, Deserialize)]
pub struct DeadLetterRow {
    /// Where it came from.
    pub source: String,
    /// Reason code.
    pub reason: String,
    /// Field at fault.
    pub field: Option<String>,
    /// What to fix.
    pub detail: String,
    /// Original payload, when UTF-8.
    pub payload: Option<String>,
    /// Original payload in hex, otherwise.
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
