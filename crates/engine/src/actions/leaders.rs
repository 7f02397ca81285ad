//! Quality leaders of a month: the top share of eligible sellers by composite score, flagged
//! for the ranking boost. Computed over all sellers at once (a file run's month rows, or
//! ClickHouse's `leaders` view in a partitioned run), never per partition.

use super::policy::LeaderPolicy;
use crate::methodology::MetricId;
use crate::window::{Cadence, LocalDate};
use crate::WindowRow;
use serde::Serialize;
use std::sync::Arc;

/// A seller flagged as a leader of a month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Leader {
    /// The seller.
    pub seller_id: Arc<str>,
    /// First day of the month.
    pub month_start: LocalDate,
    /// Composite score, 0..100.
    pub score: f64,
    /// Rank among eligible sellers (1 = best; ties share a rank).
    pub rank: u32,
    /// Sellers with enough orders to be ranked.
    pub eligible_sellers: u32,
}

/// Orders a month row counts (its seller-cancellation denominator: orders created).
pub(crate) fn orders(r: &WindowRow) -> i64 {
    r.metrics.iter().find(|c| c.metric == MetricId::SellerCancellationShare).map_or(0, |c| c.denominator)
}

/// The leaders among final month rows of one month (other rows are ignored), best first.
pub fn leaders(rows: &[&WindowRow], policy: &LeaderPolicy) -> Vec<Leader> {
    let mut eligible: Vec<(&WindowRow, f64)> = rows
        .iter()
        .filter(|r| r.cadence == Cadence::Month && r.is_final && orders(r) >= policy.min_orders)
        .filter_map(|r| r.composite.as_ref().map(|c| (*r, c.score)))
        .collect();
    eligible.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.seller_id.cmp(&b.0.seller_id)));
    let n = eligible.len();
    let cut = ((n as f64 * policy.top_share).ceil() as usize).min(n);
    let mut out: Vec<Leader> = Vec::new();
    for (pos, (r, score)) in eligible.iter().enumerate() {
        let rank = match out.last() {
            Some(l) if l.score == *score => l.rank,
            _ => pos as u32 + 1,
        };
        if rank as usize > cut {
            break;
        }
        out.push(Leader { seller_id: r.seller_id.clone(), month_start: r.period_start, score: *score, rank, eligible_sellers: n as u32 });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::methodology::Status;
    use crate::output::{Composite, MetricCell};
    use crate::window::Day;

    fn month(seller: &str, score: f64, orders: i64) -> WindowRow {
        let cell = MetricCell {
            metric: MetricId::SellerCancellationShare,
            numerator: 0.0,
            denominator: orders,
            value: Some(0.0),
            target: 0.02,
            deviation: Some(-0.02),
            previous: None,
            change: None,
            status: Status::Pass,
            overdue: 0,
        };
        let start: Day = 20_393;
        WindowRow {
            seller_id: seller.into(),
            entity: Default::default(),
            department_id: None,
            cadence: Cadence::Month,
            period_start: LocalDate(start),
            period_end: LocalDate(start + 31),
            is_final: true,
            version: crate::output::FINAL_VERSION,
            standards_version: crate::methodology::FIRST_VERSION.into(),
            metrics: vec![cell],
            composite: Some(Composite { score, rank: None, ranked_sellers: None, components: Vec::new() }),
            questions: Vec::new(),
            drivers: Vec::new(),
            excluded_feedback: 0,
        }
    }

    #[test]
    fn the_top_decile_of_eligible_sellers_with_ties_at_the_cut() {
        let mut rows: Vec<WindowRow> = (0..19).map(|i| month(&format!("s{i:02}"), 50.0 + i as f64, 30)).collect();
        rows.push(month("small", 99.0, 29));
        rows.push(month("tied", 67.0, 40));
        let refs: Vec<&WindowRow> = rows.iter().collect();
        let got: Vec<(String, u32, u32)> =
            leaders(&refs, &LeaderPolicy::default()).iter().map(|l| (l.seller_id.to_string(), l.rank, l.eligible_sellers)).collect();
        // 20 eligible (29 orders is too few): the top 10 % is 2 sellers, and a tie at rank 2 joins.
        assert_eq!(got, [("s18".to_string(), 1, 20), ("s17".to_string(), 2, 20), ("tied".to_string(), 2, 20)]);
    }
}
