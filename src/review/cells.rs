//! The quarter's final cells, indexed the way the review reads them: weekly cells by week of
//! the quarter, daily cells for the proposal, and the quarter cell of each seller and standard.

use super::quarter::Quarter;
use crate::norms::passes;
use crate::results::FinalCell;
use quality_engine::methodology::{MetricId, Unit};
use quality_engine::window::Cadence;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The cadence ids the review reads.
pub fn cadences() -> Vec<String> {
    [Cadence::Day, Cadence::Week, Cadence::Month, Cadence::Quarter].map(Cadence::as_str).map(String::from).to_vec()
}

/// Where a quarter value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The seller's final quarter row.
    QuarterRow,
    /// No quarter row: the sum of this many final month rows of the quarter (1 to 3).
    MonthRows(usize),
}

/// One seller's value of one standard over the quarter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuarterCell {
    /// Sum in the metric's unit, as rows write numerators.
    pub numerator: f64,
    /// Observations.
    pub denominator: i64,
    /// `numerator / denominator` (x100 for NPS).
    pub value: f64,
    /// The target that applied (the quarter row's, else the latest month row's).
    pub target: f64,
    /// Whether the value meets that target (the engine's rule).
    pub passed: bool,
    /// The rows it was computed from.
    pub basis: Basis,
}

/// The final cells of one quarter, indexed.
#[derive(Debug)]
pub struct QuarterCells<'a> {
    weeks: usize,
    /// Per standard and seller, one slot per week of the quarter.
    weekly: BTreeMap<(MetricId, &'a str), Vec<Option<&'a FinalCell>>>,
    /// Per standard, the daily cells of the quarter's days.
    daily: HashMap<MetricId, Vec<&'a FinalCell>>,
    /// Per standard and seller, the final month rows of the quarter's months.
    months: HashMap<(MetricId, &'a str), Vec<&'a FinalCell>>,
    /// Per standard and seller, the final quarter row.
    quarters: HashMap<(MetricId, &'a str), &'a FinalCell>,
    /// Every seller with a cell of the quarter.
    sellers: BTreeSet<&'a str>,
}

impl<'a> QuarterCells<'a> {
    /// Sorts the cells of `quarter` out of `cells`; cells of other periods are ignored.
    pub fn index(quarter: Quarter, cells: &'a [FinalCell]) -> QuarterCells<'a> {
        let weeks: HashMap<String, usize> = quarter.weeks().iter().enumerate().map(|(i, w)| (w.monday().to_string(), i)).collect();
        let months: Vec<String> = quarter.months().iter().map(|d| d.to_string()).collect();
        let (first, end) = (quarter.first_day().to_string(), quarter.end().to_string());
        let mut index = QuarterCells {
            weeks: weeks.len(),
            weekly: BTreeMap::new(),
            daily: HashMap::new(),
            months: HashMap::new(),
            quarters: HashMap::new(),
            sellers: BTreeSet::new(),
        };
        for c in cells {
            let key = (c.metric, c.seller_id.as_str());
            let kept = match c.cadence.as_str() {
                "week" => match weeks.get(&c.period_start) {
                    Some(&i) => {
                        index.weekly.entry(key).or_insert_with(|| vec![None; weeks.len()])[i] = Some(c);
                        true
                    }
                    None => false,
                },
                "day" if first <= c.period_start && c.period_start < end => {
                    index.daily.entry(c.metric).or_default().push(c);
                    true
                }
                "month" if months.contains(&c.period_start) => {
                    index.months.entry(key).or_default().push(c);
                    true
                }
                "quarter" if c.period_start == first => {
                    index.quarters.insert(key, c);
                    true
                }
                _ => false,
            };
            if kept {
                index.sellers.insert(&c.seller_id);
            }
        }
        index
    }

    /// Sellers with any final cell in the quarter.
    pub fn sellers(&self) -> usize {
        self.sellers.len()
    }

    /// Sellers with a weekly or quarter value of `metric`, in id order.
    pub fn sellers_of(&self, metric: MetricId) -> BTreeSet<&'a str> {
        let weekly = self.weekly.keys().filter(|k| k.0 == metric).map(|k| k.1);
        let quarterly = self.quarters.keys().chain(self.months.keys()).filter(|k| k.0 == metric).map(|k| k.1);
        weekly.chain(quarterly).collect()
    }

    /// The seller's weekly cells of `metric`, one slot per week of the quarter.
    pub fn weekly(&self, metric: MetricId, seller: &str) -> Vec<Option<&'a FinalCell>> {
        self.weekly.get(&(metric, seller)).cloned().unwrap_or_else(|| vec![None; self.weeks])
    }

    /// Every seller's weekly cells of `metric` in the quarter's weeks.
    pub fn weekly_cells(&self, metric: MetricId) -> impl Iterator<Item = &'a FinalCell> + '_ {
        self.weekly.range((metric, "")..).take_while(move |(k, _)| k.0 == metric).flat_map(|(_, slots)| slots.iter().flatten().copied())
    }

    /// Every seller's daily cells of `metric` in the quarter's days.
    pub fn daily_cells(&self, metric: MetricId) -> impl Iterator<Item = &'a FinalCell> + '_ {
        self.daily.get(&metric).into_iter().flatten().copied()
    }

    /// The seller's value of `metric` over the quarter: its quarter row's cell when there is
    /// one, else the same computed exactly from its month rows (sum of numerators over sum of
    /// denominators, in the engine's integer units, through [`MetricId::value`]); `None`
    /// without either.
    pub fn quarter_cell(&self, metric: MetricId, seller: &str) -> Option<QuarterCell> {
        if let Some(c) = self.quarters.get(&(metric, seller)) {
            return Some(QuarterCell {
                numerator: c.numerator,
                denominator: c.denominator,
                value: c.value,
                target: c.target,
                passed: c.passed,
                basis: Basis::QuarterRow,
            });
        }
        let months = self.months.get(&(metric, seller))?;
        let latest = months.iter().max_by(|a, b| a.period_start.cmp(&b.period_start))?;
        let numerator: i64 = months.iter().map(|c| integer_numerator(metric, c.numerator)).sum();
        let denominator: i64 = months.iter().map(|c| c.denominator).sum();
        let value = metric.value(numerator, denominator)?;
        Some(QuarterCell {
            numerator: metric.numerator(numerator),
            denominator,
            value,
            target: latest.target,
            passed: passes(metric.direction(), value, latest.target),
            basis: Basis::MonthRows(months.len()),
        })
    }
}

/// A stored numerator back in the engine's integer units: milliseconds for durations, counts
/// (or promoters minus detractors, or rating points) otherwise.
fn integer_numerator(metric: MetricId, numerator: f64) -> i64 {
    match metric.unit() {
        Unit::Seconds => (numerator * 1000.0).round() as i64,
        _ => numerator.round() as i64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(seller: &str, cadence: &str, start: &str, metric: MetricId, numerator: f64, denominator: i64, target: f64) -> FinalCell {
        let value = metric.value(integer_numerator(metric, numerator), denominator).unwrap();
        FinalCell {
            seller_id: seller.into(),
            cadence: cadence.into(),
            period_start: start.into(),
            metric,
            numerator,
            denominator,
            value,
            target,
            passed: passes(metric.direction(), value, target),
        }
    }

    #[test]
    fn the_quarter_cell_sums_the_months_exactly_without_a_quarter_row() {
        let q: Quarter = "2025-Q1".parse().unwrap();
        let cells = vec![
            // NPS: promoters minus detractors over answers, x100: (3 + 1 - 2) / (10 + 5 + 5) = 10.
            cell("a", "month", "2025-01-01", MetricId::Nps, 3.0, 10, 60.0),
            cell("a", "month", "2025-02-01", MetricId::Nps, 1.0, 5, 60.0),
            cell("a", "month", "2025-03-01", MetricId::Nps, -2.0, 5, 50.0),
            cell("a", "month", "2025-04-01", MetricId::Nps, 9.0, 9, 50.0), // next quarter
            // Durations: stored in seconds, summed in milliseconds: (0.001 + 7200.002) / 3.
            cell("a", "month", "2025-01-01", MetricId::ResponseTimeAvg, 0.001, 1, 1800.0),
            cell("a", "month", "2025-03-01", MetricId::ResponseTimeAvg, 7200.002, 2, 1800.0),
            // A quarter row wins over month rows.
            cell("b", "month", "2025-01-01", MetricId::Csi, 9.0, 2, 4.5),
            cell("b", Cadence::Quarter.as_str(), "2025-01-01", MetricId::Csi, 45.0, 10, 4.5),
        ];
        let index = QuarterCells::index(q, &cells);
        assert_eq!(index.sellers(), 2);
        let nps = index.quarter_cell(MetricId::Nps, "a").unwrap();
        assert_eq!(nps, QuarterCell { numerator: 2.0, denominator: 20, value: 10.0, target: 50.0, passed: false, basis: Basis::MonthRows(3) });
        let rt = index.quarter_cell(MetricId::ResponseTimeAvg, "a").unwrap();
        assert_eq!((rt.numerator, rt.denominator, rt.basis), (7200.003, 3, Basis::MonthRows(2)));
        assert_eq!(rt.value, MetricId::ResponseTimeAvg.value(7_200_003, 3).unwrap());
        assert!(!rt.passed);
        let csi = index.quarter_cell(MetricId::Csi, "b").unwrap();
        assert_eq!((csi.value, csi.basis, csi.passed), (4.5, Basis::QuarterRow, true));
        assert_eq!(index.quarter_cell(MetricId::Csi, "a"), None);
    }

    #[test]
    fn weekly_and_daily_cells_are_those_of_the_quarters_weeks_and_days() {
        let q: Quarter = "2025-Q1".parse().unwrap();
        let cells = vec![
            cell("a", "week", "2024-12-30", MetricId::Csi, 9.0, 2, 4.5), // W01: Thursday 2025-01-02
            cell("a", "week", "2025-03-24", MetricId::Csi, 8.0, 2, 4.5), // W13
            cell("a", "week", "2025-03-31", MetricId::Csi, 5.0, 1, 4.5), // W14 is Q2's
            cell("b", "week", "2025-01-06", MetricId::Csi, 4.0, 1, 4.5),
            cell("a", "day", "2024-12-31", MetricId::ResponseTimeAvg, 60.0, 1, 1800.0),
            cell("a", "day", "2025-03-31", MetricId::ResponseTimeAvg, 60.0, 1, 1800.0),
            cell("a", "rolling_7d", "2025-03-25", MetricId::ResponseTimeAvg, 60.0, 1, 1800.0),
        ];
        let index = QuarterCells::index(q, &cells);
        let slots = index.weekly(MetricId::Csi, "a");
        assert_eq!(slots.len(), 13);
        assert_eq!((slots[0].map(|c| c.value), slots[12].map(|c| c.value)), (Some(4.5), Some(4.0)));
        assert_eq!(slots.iter().flatten().count(), 2);
        assert_eq!(index.weekly(MetricId::Csi, "c"), vec![None; 13]);
        assert_eq!(index.weekly_cells(MetricId::Csi).count(), 3);
        assert_eq!(index.weekly_cells(MetricId::Nps).count(), 0);
        let days: Vec<&str> = index.daily_cells(MetricId::ResponseTimeAvg).map(|c| c.period_start.as_str()).collect();
        assert_eq!(days, ["2025-03-31"]);
        assert_eq!(index.sellers_of(MetricId::Csi).into_iter().collect::<Vec<_>>(), ["a", "b"]);
    }
}
