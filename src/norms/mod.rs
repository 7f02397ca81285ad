//! Norms from history: the distribution of each standard across (seller, period) cells of
//! stored results, and the threshold that a chosen share of those cells meets.
//!
//! Pure functions only; `commands::norms` reads the rows (file sink or ClickHouse) and prints.
//! The method is documented in `docs/methodology.md`, section "Norms from history":
//!
//! - A **cell** is one seller's final row of one period of the chosen cadence, for one standard,
//!   with a value and at least `min_sample` observations (its denominator).
//! - **Percentiles** use the nearest rank: with the `n` values sorted ascending, the
//!   q-quantile is the value at 1-based position `ceil(q * n)` (at least 1). It is always one
//!   of the observed values.
//! - The **suggested threshold** for a pass rate `p` is the value of the `ceil(p * n)`-th best
//!   cell (nearest rank counted from the best end: descending for higher-is-better standards,
//!   ascending for lower-is-better ones). At least `ceil(p * n)` cells meet it, and fewer than
//!   `ceil(p * n)` cells are strictly better than it, so without ties exactly `ceil(p * n)` pass.

mod render;

pub use render::{render_table, render_toml, render_value, toml_target};

use quality_engine::methodology::{Direction, MetricId, Standards, Unit};
use quality_engine::window::Cadence;

/// The percentiles shown for each standard.
pub const PERCENTILES: [f64; 5] = [0.10, 0.25, 0.50, 0.75, 0.90];

/// Relative tolerance of pass/fail, as the engine judges (`methodology::evaluate`).
const TOLERANCE: f64 = 1e-9;

/// Which cells count and what share of them the suggestion should pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Share of cells that must meet the suggested threshold, in (0, 1].
    pub pass_rate: f64,
    /// Least denominator (orders, reviews, messages...) for a cell to count.
    pub min_sample: i64,
    /// Least number of cells for a suggestion; fewer and the standard is skipped.
    pub min_cells: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { pass_rate: 0.9, min_sample: 20, min_cells: 10 }
    }
}

impl Settings {
    /// Checks the ranges; the error says which flag to fix.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.pass_rate > 0.0 && self.pass_rate <= 1.0) {
            return Err(format!("--pass-rate must be in (0, 1], e.g. 0.9; got {}", self.pass_rate));
        }
        if self.min_sample < 1 || self.min_cells < 1 {
            return Err("--min-sample and --min-cells must be at least 1".into());
        }
        Ok(())
    }
}

/// One standard of one seller's final row of one period.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// The standard.
    pub metric: MetricId,
    /// The seller.
    pub seller_id: String,
    /// First local day of the period, `YYYY-MM-DD`.
    pub period_start: String,
    /// Observations behind the value (the metric's denominator).
    pub denominator: i64,
    /// The value, in the metric's unit (seconds for durations).
    pub value: f64,
}

/// The distribution of one standard and the suggested threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Norm {
    /// The standard.
    pub metric: MetricId,
    /// Eligible cells.
    pub cells: usize,
    /// Nearest-rank percentiles at [`PERCENTILES`].
    pub percentiles: [f64; 5],
    /// The current target (from the config, or the regulation's).
    pub target: f64,
    /// Cells meeting the current target.
    pub passing_target: usize,
    /// The suggested target, as the config will read it (durations rounded to the millisecond,
    /// towards passing).
    pub suggested: f64,
    /// Cells meeting the suggested target.
    pub passing_suggested: usize,
    /// `ceil(pass_rate * cells)`: the rank of the suggestion, counted from the best cell.
    pub rank: usize,
}

/// What `norms` says about one standard.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Enough cells: the distribution and a suggestion.
    Suggested(Norm),
    /// Too few cells for a suggestion.
    Skipped {
        /// The standard.
        metric: MetricId,
        /// Eligible cells found.
        cells: usize,
        /// Why, in words.
        reason: String,
    },
}

impl Outcome {
    /// The standard this outcome is about.
    pub fn metric(&self) -> MetricId {
        match self {
            Outcome::Suggested(n) => n.metric,
            Outcome::Skipped { metric, .. } => *metric,
        }
    }
}

/// Every standard's outcome, in catalogue order, and what they were computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct Norms {
    /// The cadence of the rows.
    pub cadence: Cadence,
    /// The settings used.
    pub settings: Settings,
    /// First and last period start among the eligible cells.
    pub periods: Option<(String, String)>,
    /// One outcome per standard.
    pub outcomes: Vec<Outcome>,
}

/// The 1-based nearest rank `ceil(q * n)`, clamped to `1..=n` (`n > 0`).
///
/// `q * n` is rounded up after removing floating-point noise, so that `0.9 * 60` gives 54,
/// not 55.
pub fn nearest_rank(q: f64, n: usize) -> usize {
    let x = q * n as f64;
    let r = (x - 1e-9 * x.abs().max(1.0)).ceil();
    (r.max(1.0) as usize).min(n.max(1))
}

/// The nearest-rank q-quantile of values sorted ascending; `None` when empty.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    (!sorted.is_empty()).then(|| sorted[nearest_rank(q, sorted.len()) - 1])
}

/// Whether `value` meets `target` for a standard of this direction (the engine's rule and tolerance).
pub fn passes(direction: Direction, value: f64, target: f64) -> bool {
    let slack = TOLERANCE * target.abs().max(1.0);
    match direction {
        Direction::HigherIsBetter => value >= target - slack,
        Direction::LowerIsBetter => value <= target + slack,
    }
}

/// The threshold that at least `pass_rate` of `values` meet: the value of the
/// `ceil(pass_rate * n)`-th best one. `None` when empty.
///
/// For higher-is-better standards this is the ascending position `n + 1 - ceil(p * n)`, the
/// largest observed value that at least `p * n` values reach; for lower-is-better standards it is
/// the nearest-rank `p`-quantile.
pub fn suggest(values: &[f64], direction: Direction, pass_rate: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut best_first = values.to_vec();
    match direction {
        Direction::HigherIsBetter => best_first.sort_by(|a, b| b.total_cmp(a)),
        Direction::LowerIsBetter => best_first.sort_by(|a, b| a.total_cmp(b)),
    }
    Some(best_first[nearest_rank(pass_rate, values.len()) - 1])
}

/// A threshold as the config can hold it: durations are read in whole milliseconds, so a
/// duration is rounded to the millisecond towards passing (up for lower-is-better), which
/// keeps every cell that meets the exact threshold passing. Other values are unchanged.
pub fn config_value(metric: MetricId, value: f64) -> f64 {
    if metric.unit() != Unit::Seconds {
        return value;
    }
    let ms = value * 1000.0;
    let ms = match metric.direction() {
        Direction::LowerIsBetter => (ms - 1e-6).ceil(),
        Direction::HigherIsBetter => (ms + 1e-6).floor(),
    };
    ms / 1000.0
}

/// The outcome for one standard from the values of its eligible cells.
pub fn analyse(metric: MetricId, values: &[f64], target: f64, settings: &Settings) -> Outcome {
    let n = values.len();
    if n < settings.min_cells {
        let reason = format!(
            "{n} cell{} with at least {} observations; a suggestion needs at least {} (--min-cells)",
            if n == 1 { "" } else { "s" },
            settings.min_sample,
            settings.min_cells
        );
        return Outcome::Skipped { metric, cells: n, reason };
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let percentiles = PERCENTILES.map(|q| sorted[nearest_rank(q, n) - 1]);
    let direction = metric.direction();
    let count = |t: f64| values.iter().filter(|v| passes(direction, **v, t)).count();
    let exact = suggest(values, direction, settings.pass_rate).unwrap_or(f64::NAN);
    let suggested = config_value(metric, exact);
    Outcome::Suggested(Norm {
        metric,
        cells: n,
        percentiles,
        target,
        passing_target: count(target),
        suggested,
        passing_suggested: count(suggested),
        rank: nearest_rank(settings.pass_rate, n),
    })
}

/// Every standard's outcome from the cells of one cadence; cells below `min_sample` are left out.
pub fn compute(cells: &[Cell], standards: &Standards, cadence: Cadence, settings: &Settings) -> Norms {
    let eligible: Vec<&Cell> = cells.iter().filter(|c| c.denominator >= settings.min_sample && c.value.is_finite()).collect();
    let periods = match (eligible.iter().map(|c| &c.period_start).min(), eligible.iter().map(|c| &c.period_start).max()) {
        (Some(a), Some(b)) => Some((a.clone(), b.clone())),
        _ => None,
    };
    let outcomes = standards
        .metrics()
        .map(|m| {
            let values: Vec<f64> = eligible.iter().filter(|c| c.metric == m).map(|c| c.value).collect();
            analyse(m, &values, standards.get(m).target, settings)
        })
        .collect();
    Norms { cadence, settings: *settings, periods, outcomes }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HI: Direction = Direction::HigherIsBetter;
    const LO: Direction = Direction::LowerIsBetter;

    #[test]
    fn nearest_rank_rounds_up_without_float_noise() {
        assert_eq!(nearest_rank(0.9, 60), 54); // 0.9 * 60 = 54 exactly, not 55
        assert_eq!(nearest_rank(0.9, 10), 9);
        assert_eq!(nearest_rank(0.9, 11), 10); // 9.9 -> 10
        assert_eq!(nearest_rank(0.1, 10), 1);
        assert_eq!(nearest_rank(0.7, 10), 7);
        assert_eq!(nearest_rank(0.25, 5), 2); // 1.25 -> 2
        assert_eq!(nearest_rank(0.01, 5), 1); // never 0
        assert_eq!(nearest_rank(1.0, 7), 7);
        for n in 1..500 {
            for pct in 1..=100u32 {
                let q = f64::from(pct) / 100.0;
                let exact = (pct as usize * n).div_ceil(100); // ceil(pct * n / 100) in integers
                assert_eq!(nearest_rank(q, n), exact.max(1), "q={q} n={n}");
            }
        }
    }

    #[test]
    fn quantiles_are_observed_values_by_nearest_rank() {
        let sorted = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        assert_eq!(quantile(&sorted, 0.10), Some(1.0));
        assert_eq!(quantile(&sorted, 0.25), Some(3.0)); // ceil(2.5) = 3
        assert_eq!(quantile(&sorted, 0.50), Some(5.0));
        assert_eq!(quantile(&sorted, 0.75), Some(8.0)); // ceil(7.5) = 8
        assert_eq!(quantile(&sorted, 0.90), Some(9.0));
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[4.2], 0.1), Some(4.2));
    }

    #[test]
    fn higher_is_better_takes_the_kth_best_from_the_top() {
        // 10 values, p = 0.9: the 9th best = 2nd lowest; 9 of 10 pass.
        let v = [5.0, 1.0, 4.0, 2.0, 3.0, 10.0, 9.0, 8.0, 7.0, 6.0];
        assert_eq!(suggest(&v, HI, 0.9), Some(2.0));
        assert_eq!(v.iter().filter(|x| passes(HI, **x, 2.0)).count(), 9);
        // 11 values, p = 0.9: ceil(9.9) = 10th best = 2nd lowest; 10 of 11 (90.9 %) pass.
        let v11: Vec<f64> = (1..=11).map(f64::from).collect();
        assert_eq!(suggest(&v11, HI, 0.9), Some(2.0));
        assert_eq!(suggest(&v11, HI, 0.5), Some(6.0)); // ceil(5.5) = 6th best of 11..1 = 6
        assert_eq!(suggest(&v11, HI, 1.0), Some(1.0)); // everyone passes: the worst
        assert_eq!(suggest(&v11, HI, 0.01), Some(11.0)); // the best
    }

    #[test]
    fn lower_is_better_takes_the_kth_best_from_the_bottom() {
        // Durations in seconds; p = 0.9 of 10: the 9th smallest.
        let v = [600.0, 60.0, 300.0, 120.0, 7200.0, 180.0, 240.0, 900.0, 3600.0, 1800.0];
        assert_eq!(suggest(&v, LO, 0.9), Some(3600.0));
        assert_eq!(v.iter().filter(|x| passes(LO, **x, 3600.0)).count(), 9);
        assert_eq!(suggest(&v, LO, 0.5), Some(300.0)); // 5th smallest
        assert_eq!(suggest(&[], LO, 0.5), None);
    }

    #[test]
    fn ties_pass_together() {
        // Six cells at 1.0 and four below: for p = 0.5 the 5th best is 1.0 and all six pass.
        let v = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.9, 0.8, 0.8, 0.5];
        assert_eq!(suggest(&v, HI, 0.5), Some(1.0));
        // p = 0.9: the 9th best is 0.8 (tied with the 8th); nine pass.
        assert_eq!(suggest(&v, HI, 0.9), Some(0.8));
        assert_eq!(v.iter().filter(|x| passes(HI, **x, 0.8)).count(), 9);
        // p = 0.75 of 10: ceil(7.5) = 8th best = 0.8, so nine pass (ties), more than 75 %.
        assert_eq!(suggest(&v, HI, 0.75), Some(0.8));
        let cancellations = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.05, 0.1];
        assert_eq!(suggest(&cancellations, LO, 0.8), Some(0.0));
        assert_eq!(suggest(&cancellations, LO, 0.9), Some(0.05));
    }

    #[test]
    fn durations_round_to_the_millisecond_towards_passing() {
        assert_eq!(config_value(MetricId::ResponseTimeAvg, 1234.5671), 1234.568);
        assert_eq!(config_value(MetricId::ResponseTimeAvg, 7200.0), 7200.0);
        assert_eq!(config_value(MetricId::ConfirmationTimeAvg, 47416.11442553191), 47416.115);
        assert_eq!(config_value(MetricId::Csi, 4.123456789), 4.123456789);
        assert!(passes(LO, 1234.5671, config_value(MetricId::ResponseTimeAvg, 1234.5671)));
    }

    #[test]
    fn too_few_cells_are_skipped_with_the_reason() {
        let s = Settings { pass_rate: 0.9, min_sample: 20, min_cells: 3 };
        match analyse(MetricId::Nps, &[50.0, 70.0], 60.0, &s) {
            Outcome::Skipped { metric, cells, reason } => {
                assert_eq!((metric, cells), (MetricId::Nps, 2));
                assert_eq!(reason, "2 cells with at least 20 observations; a suggestion needs at least 3 (--min-cells)");
            }
            o => panic!("{o:?}"),
        }
        assert!(matches!(analyse(MetricId::Nps, &[], 60.0, &s), Outcome::Skipped { cells: 0, .. }));
        assert!(matches!(analyse(MetricId::Nps, &[1.0, 2.0, 3.0], 60.0, &s), Outcome::Suggested(_)));
    }

    #[test]
    fn analyse_gives_the_distribution_and_both_pass_counts() {
        let s = Settings { pass_rate: 0.9, min_sample: 1, min_cells: 1 };
        let v: Vec<f64> = (1..=20).map(|i| f64::from(i) * 0.05).collect(); // 0.05 .. 1.00
        let Outcome::Suggested(n) = analyse(MetricId::OnTimeHandoverShare, &v, 0.95, &s) else { panic!() };
        assert_eq!(n.cells, 20);
        // p10 = 2nd, p25 = 5th, p50 = 10th, p75 = 15th, p90 = 18th smallest.
        let want = [0.10, 0.25, 0.50, 0.75, 0.90];
        for (got, want) in n.percentiles.iter().zip(want) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
        assert_eq!(n.passing_target, 2); // 0.95 and 1.00
        assert_eq!(n.rank, 18);
        assert!((n.suggested - 0.15).abs() < 1e-12); // the 18th best = the 3rd smallest
        assert_eq!(n.passing_suggested, 18);
    }

    #[test]
    fn compute_filters_by_sample_and_keeps_catalogue_order() {
        let cell = |m: MetricId, seller: &str, period: &str, den: i64, value: f64| Cell {
            metric: m,
            seller_id: seller.into(),
            period_start: period.into(),
            denominator: den,
            value,
        };
        let cells = vec![
            cell(MetricId::Csi, "a", "2025-02-01", 25, 4.0),
            cell(MetricId::Csi, "b", "2025-01-01", 20, 4.8),
            cell(MetricId::Csi, "c", "2025-03-01", 19, 1.0), // too small a sample
            cell(MetricId::ResponseTimeAvg, "a", "2025-01-01", 40, 900.0),
        ];
        let s = Settings { pass_rate: 0.5, min_sample: 20, min_cells: 2 };
        let norms = compute(&cells, &Standards::default(), Cadence::Month, &s);
        assert_eq!(norms.outcomes.len(), 13, "the marketplace profile's standards");
        assert_eq!(norms.periods, Some(("2025-01-01".into(), "2025-02-01".into())));
        let Outcome::Suggested(csi) = &norms.outcomes[0] else { panic!("{:?}", norms.outcomes[0]) };
        assert_eq!((csi.cells, csi.suggested, csi.passing_target, csi.passing_suggested), (2, 4.8, 1, 1));
        assert!(matches!(&norms.outcomes[MetricId::ResponseTimeAvg.index()], Outcome::Skipped { cells: 1, .. }));
        assert!(norms.outcomes.iter().zip(Standards::default().metrics()).all(|(o, m)| o.metric() == m));
    }
}
