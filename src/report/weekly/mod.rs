//! The weekly seller report of the regulation's Appendix 1: period and seller, base,
//! operational and communication standards (target, actual, deviation, dynamics, status or
//! compliance), the main reasons for negative reviews, the critical incidents of the week, the
//! escalation stage, the incentive tiers held and a recommendation for each failed standard.
//!
//! Built from stored results (a file sink's directory, ClickHouse, or outputs held in memory)
//! into a [`WeeklyReport`], then rendered as Markdown, HTML or JSON. Rules and definitions:
//! docs/methodology.md, section 11.

mod clickhouse;
mod file;
pub mod format;
mod html;
mod http;
mod markdown;
mod model;
mod recommend;
mod stored;
mod week;

pub use html::{esc, render_html};
pub use http::{Reply, ReportService};
pub use markdown::render_markdown;
pub use model::{
    rule_label, stage_label, CriticCounts, CriticLine, Dynamics, EscalationState, HeldTier, Incidents, NegativeReviews, Period, ReasonLine,
    Recommendation, StandardLine, Summary, Transition, WeeklyReport, TOP_REASONS,
};
pub use recommend::{recommendation, rule};
pub use stored::NoFinalRow;
pub use week::{BadWeek, IsoWeek};

use crate::sink::clickhouse::ClickHouseSettings;
use anyhow::Result;
use quality_engine::actions::ActionPolicy;
use quality_engine::Output;
use std::path::Path;

/// The report of `seller` for `week` from a file sink's directory (`run --sink file:DIR`).
/// `tz` is the engine's time zone (the config's `[engine] timezone`): it decides which
/// critics were received in the week. A missing final weekly row is a [`NoFinalRow`] error.
pub fn from_dir(dir: &Path, seller: &str, week: IsoWeek, tz: chrono_tz::Tz) -> Result<WeeklyReport> {
    let stored = file::load(dir, seller, week, tz)?;
    Ok(WeeklyReport::build(seller, week, tz, stored))
}

/// The report from ClickHouse (the tables `run --sink clickhouse` writes).
pub async fn load_clickhouse(settings: &ClickHouseSettings, seller: &str, week: IsoWeek, tz: chrono_tz::Tz) -> Result<WeeklyReport> {
    let stored = clickhouse::load(settings, seller, week, tz).await?;
    Ok(WeeklyReport::build(seller, week, tz, stored))
}

/// The report from engine outputs held in memory (every output of a run, in emission order);
/// `actions` decides the incentive tiers, as the file sink does with the run's settings.
pub fn from_outputs(outputs: &[Output], seller: &str, week: IsoWeek, tz: chrono_tz::Tz, actions: &ActionPolicy) -> Result<WeeklyReport, NoFinalRow> {
    let stored = stored::from_outputs(outputs, seller, week, tz, actions)?;
    Ok(WeeklyReport::build(seller, week, tz, stored))
}

/// The report as pretty-printed JSON (the serde form of [`WeeklyReport`]).
pub fn render_json(r: &WeeklyReport) -> String {
    let mut s = serde_json::to_string_pretty(r).unwrap_or_default();
    s.push('\n');
    s
}
