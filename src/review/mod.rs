//! The quarterly trend review of the regulation's Appendix 2, section 5: for each seller and
//! standard, the quarter's value, the weeks it failed and the trend of its weekly values (a
//! least-squares slope with a 95 % band: improving, stable or declining); the platform's pass
//! share of each standard week by week; and a proposed revision of the targets by the norms
//! method, as a `[[standards.revisions]]` TOML entry for the next quarter.
//!
//! Built from stored final rows (`crate::results`: a file sink or ClickHouse) into a
//! [`Review`], rendered as Markdown, JSON or the proposal's TOML. Rules: docs/methodology.md,
//! section 13.

mod cells;
mod markdown;
mod model;
mod propose;
mod quarter;
mod stats;
mod trend;

pub use cells::{cadences, Basis, QuarterCell};
pub use markdown::render_markdown;
pub use model::{Method, Period, QuarterCounts, Review, Revision, SellerReview, StandardReview, TrendCounts, WeekShare};
pub use propose::{render_toml, Proposal};
pub use quarter::{BadQuarter, Quarter};
pub use stats::CONFIDENCE;
pub use trend::{Trend, Verdict, MIN_WEEKS};

/// The review as pretty-printed JSON (the serde form of [`Review`]).
pub fn render_json(r: &Review) -> String {
    let mut s = serde_json::to_string_pretty(r).unwrap_or_default();
    s.push('\n');
    s
}
