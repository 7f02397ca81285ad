//! The quarterly review as data: what the Markdown summary shows and `--format json` prints.

use super::cells::{QuarterCell, QuarterCells};
use super::propose::Proposal;
use super::quarter::Quarter;
use super::stats::CONFIDENCE;
use super::trend::{Trend, Verdict, MIN_WEEKS};
use crate::norms::Settings;
use crate::results::FinalCell;
use quality_engine::methodology::{Direction, Group, MetricId, Standards};
use quality_engine::window::Cadence;
use serde::Serialize;

/// Every seller's trend on every standard over one quarter, the platform's weekly pass shares,
/// and a proposed revision of the targets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Review {
    /// The quarter, `2025-Q1`.
    pub quarter: String,
    /// Its days.
    pub period: Period,
    /// Its ISO weeks (`2025-W01` ...): the weeks whose Thursday falls in it.
    pub weeks: Vec<String>,
    /// Sellers with any final row in the quarter.
    pub sellers: usize,
    /// The parameters of the statistics and of the proposal.
    pub method: Method,
    /// The revision the proposal would be.
    pub revision: Revision,
    /// One review per standard, in catalogue order (survey coverage, the platform's own duty, is left out).
    pub standards: Vec<StandardReview>,
}

/// The quarter's days in the configured zone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Period {
    /// First day, `YYYY-MM-DD`.
    pub start: String,
    /// Last day (inclusive), `YYYY-MM-DD`.
    pub end: String,
    /// The IANA zone of the calendar.
    pub timezone: String,
}

/// The parameters the figures depend on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Method {
    /// Two-sided confidence of the slope's band.
    pub confidence: f64,
    /// Least weekly values for a trend verdict.
    pub min_weeks: usize,
    /// Share of cells the proposed target must pass.
    pub pass_rate: f64,
    /// Least observations of a cell for the proposal.
    pub min_sample: i64,
    /// Least cells for a proposal.
    pub min_cells: usize,
}

/// The standards revision the proposal is written as.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Revision {
    /// The next quarter, `2025-Q2`.
    pub id: String,
    /// Its first day, from which the revision applies.
    pub effective_from: String,
}

/// One standard over the quarter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StandardReview {
    /// The standard.
    pub metric: MetricId,
    /// Its name.
    pub name: &'static str,
    /// Whether a larger value is better.
    pub direction: Direction,
    /// The current target (the config's).
    pub target: f64,
    /// Sellers with a quarter value, and how many of them met their target over the quarter.
    pub quarter: QuarterCounts,
    /// Sellers per trend verdict.
    pub trends: TrendCounts,
    /// The platform's pass share in each week of the quarter.
    pub weeks: Vec<WeekShare>,
    /// Every seller with a weekly or quarter value, in id order.
    pub sellers: Vec<SellerReview>,
    /// The proposed target.
    pub proposal: Proposal,
}

/// Sellers with a quarter value of a standard, and those meeting their target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QuarterCounts {
    /// Sellers with a quarter value.
    pub sellers: usize,
    /// Of them, those whose quarter value meets the target.
    pub passing: usize,
}

/// Sellers per trend verdict on one standard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct TrendCounts {
    /// Band above 0 in the better direction.
    pub improving: usize,
    /// Band includes 0.
    pub stable: usize,
    /// Band beyond 0 in the worse direction.
    pub declining: usize,
    /// Fewer than `min_weeks` weekly values.
    pub insufficient: usize,
}

impl TrendCounts {
    /// The count of one verdict.
    pub fn count(&self, v: Verdict) -> usize {
        match v {
            Verdict::Improving => self.improving,
            Verdict::Stable => self.stable,
            Verdict::Declining => self.declining,
            Verdict::Insufficient => self.insufficient,
        }
    }

    fn add(&mut self, v: Verdict) {
        match v {
            Verdict::Improving => self.improving += 1,
            Verdict::Stable => self.stable += 1,
            Verdict::Declining => self.declining += 1,
            Verdict::Insufficient => self.insufficient += 1,
        }
    }
}

/// The platform's pass share of a standard in one week.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeekShare {
    /// The ISO week.
    pub week: String,
    /// Sellers with a final weekly row judging the standard (a value).
    pub judged: usize,
    /// Of them, those passing it.
    pub passing: usize,
    /// `passing / judged` (null when none is judged).
    pub share: Option<f64>,
}

/// One seller on one standard over the quarter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SellerReview {
    /// The seller.
    pub seller_id: String,
    /// The quarter's value (null without a quarter or month row with a value).
    pub quarter: Option<QuarterCell>,
    /// The value of each week of the quarter (null without a final weekly value).
    pub weekly: Vec<Option<f64>>,
    /// Weeks judged (with a value).
    pub weeks_judged: usize,
    /// Weeks whose final weekly row failed the standard.
    pub weeks_failed: usize,
    /// The trend of the weekly values.
    pub trend: Trend,
}

impl Review {
    /// The review of `quarter` from final cells (any cadence and period; the quarter's are
    /// picked), judged against the config's `standards`, with proposals by `settings`.
    pub fn build(quarter: Quarter, timezone: chrono_tz::Tz, cells: &[FinalCell], standards: &Standards, settings: &Settings) -> Review {
        let index = QuarterCells::index(quarter, cells);
        let weeks: Vec<String> = quarter.weeks().iter().map(|w| w.to_string()).collect();
        let reviewed = standards.metrics().filter(|m| m.group() != Group::Programme);
        let standards = reviewed.map(|m| standard(&index, &weeks, m, standards, settings)).collect();
        Review {
            quarter: quarter.to_string(),
            period: Period { start: quarter.first_day().to_string(), end: quarter.last_day().to_string(), timezone: timezone.name().to_owned() },
            weeks,
            sellers: index.sellers(),
            method: Method {
                confidence: CONFIDENCE,
                min_weeks: MIN_WEEKS,
                pass_rate: settings.pass_rate,
                min_sample: settings.min_sample,
                min_cells: settings.min_cells,
            },
            revision: Revision { id: quarter.next().to_string(), effective_from: quarter.end().to_string() },
            standards,
        }
    }
}

fn standard(index: &QuarterCells, weeks: &[String], metric: MetricId, standards: &Standards, settings: &Settings) -> StandardReview {
    let direction = metric.direction();
    let mut trends = TrendCounts::default();
    let mut quarter = QuarterCounts { sellers: 0, passing: 0 };
    let mut shares: Vec<(usize, usize)> = vec![(0, 0); weeks.len()];
    let mut sellers = Vec::new();
    for seller in index.sellers_of(metric) {
        let slots = index.weekly(metric, seller);
        for (share, cell) in shares.iter_mut().zip(&slots) {
            if let Some(c) = cell {
                share.0 += 1;
                share.1 += usize::from(c.passed);
            }
        }
        let points: Vec<(f64, f64)> = slots.iter().enumerate().filter_map(|(i, c)| c.map(|c| (i as f64, c.value))).collect();
        let trend = Trend::of(direction, &points);
        trends.add(trend.verdict);
        let cell = index.quarter_cell(metric, seller);
        if let Some(c) = &cell {
            quarter.sellers += 1;
            quarter.passing += usize::from(c.passed);
        }
        sellers.push(SellerReview {
            seller_id: seller.to_owned(),
            quarter: cell,
            weekly: slots.iter().map(|c| c.map(|c| c.value)).collect(),
            weeks_judged: points.len(),
            weeks_failed: slots.iter().flatten().filter(|c| !c.passed).count(),
            trend,
        });
    }
    let weeks = weeks
        .iter()
        .zip(shares)
        .map(|(week, (judged, passing))| WeekShare {
            week: week.clone(),
            judged,
            passing,
            share: (judged > 0).then(|| passing as f64 / judged as f64),
        })
        .collect();
    let target = standards.get(metric).target;
    let proposal = if standards.get(metric).cadences.contains(&Cadence::Day) {
        Proposal::from_cells(metric, Cadence::Day.as_str(), index.daily_cells(metric), target, settings)
    } else {
        Proposal::from_cells(metric, Cadence::Week.as_str(), index.weekly_cells(metric), target, settings)
    };
    StandardReview { metric, name: metric.label(), direction, target, quarter, trends, weeks, sellers, proposal }
}
