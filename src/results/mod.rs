//! Final window rows read back from where `run` stored them: a file sink's `windows.ndjson`
//! or ClickHouse's `standards` view. `norms` and `review` learn from these cells.
//!
//! Only the latest version of every window counts, and only when it is final; cells without a
//! value (no data) are left out, and so are the service profile's department and performer
//! rows: `norms` and `review` learn from marketplace sellers.

mod clickhouse;
mod file;

pub use clickhouse::from_clickhouse;
pub use file::{from_dir, latest_rows};

use anyhow::{bail, Context, Result};
use quality_engine::methodology::{MetricId, Status};
use std::ops::Range;

/// Which final cells to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// Cadence ids (`week`, `month`, ... as rows carry them); rows of other cadences are skipped.
    pub cadences: Vec<String>,
    /// First local days `YYYY-MM-DD` of the periods to keep; all periods when `None`.
    pub starts: Option<Range<String>>,
}

impl Selection {
    /// Every period of one cadence.
    pub fn cadence(cadence: &str) -> Selection {
        Selection { cadences: vec![cadence.to_owned()], starts: None }
    }

    /// Whether a row of this cadence and period start is selected.
    fn keeps(&self, cadence: &str, period_start: &str) -> bool {
        self.cadences.iter().any(|c| c == cadence)
            && self.starts.as_ref().is_none_or(|r| r.start.as_str() <= period_start && period_start < r.end.as_str())
    }
}

/// One standard of one seller's final row of one period, with a value.
#[derive(Debug, Clone, PartialEq)]
pub struct FinalCell {
    /// The seller.
    pub seller_id: String,
    /// The row's cadence id.
    pub cadence: String,
    /// First local day of the period, `YYYY-MM-DD`.
    pub period_start: String,
    /// The standard.
    pub metric: MetricId,
    /// The row's numerator, in the metric's unit (seconds for durations, promoters minus
    /// detractors for NPS).
    pub numerator: f64,
    /// Observations behind the value.
    pub denominator: i64,
    /// The value, in the metric's unit.
    pub value: f64,
    /// The target that applied.
    pub target: f64,
    /// Whether the value met the target (the row's status).
    pub passed: bool,
}

/// Parses a stored metric id.
fn metric(id: &str) -> Result<MetricId> {
    MetricId::from_id(id).with_context(|| format!("unknown metric {id:?} in the stored rows"))
}

/// Whether a cell with a value passed: its status is `pass` or `fail`, never `no_data`.
fn passed(status: Status) -> Result<bool> {
    match status {
        Status::Pass => Ok(true),
        Status::Fail => Ok(false),
        Status::NoData => bail!("status no_data of a cell with a value in the stored rows; expected pass or fail"),
    }
}

/// Parses a stored status id.
fn status(id: &str) -> Result<Status> {
    serde_json::from_value(serde_json::Value::String(id.to_owned())).with_context(|| format!("unknown status {id:?} in the stored rows"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selection_keeps_its_cadences_and_period_starts() {
        let all = Selection::cadence("month");
        assert!(all.keeps("month", "1999-01-01") && !all.keeps("week", "2025-01-06"));
        let q1 = Selection { cadences: vec!["week".into(), "day".into()], starts: Some("2024-12-30".into().."2025-04-01".into()) };
        assert!(q1.keeps("week", "2024-12-30") && q1.keeps("day", "2025-03-31"));
        assert!(!q1.keeps("day", "2025-04-01") && !q1.keeps("day", "2024-12-29") && !q1.keeps("month", "2025-01-01"));
    }

    #[test]
    fn statuses_of_cells_with_a_value_are_pass_or_fail() {
        assert!(passed(status("pass").unwrap()).unwrap());
        assert!(!passed(status("fail").unwrap()).unwrap());
        assert!(passed(status("no_data").unwrap()).unwrap_err().to_string().contains("expected pass or fail"));
        assert!(status("passed").unwrap_err().to_string().contains("unknown status"));
        assert!(metric("csat").unwrap_err().to_string().contains("unknown metric \"csat\""));
    }
}
