//! The regulation's methodology: which metrics exist, their targets, and how a window is judged.
//!
//! `docs/methodology.md` is the business-facing version of this module; each formula there
//! names the function here that implements it, and `tests/methodology.rs` checks examples.

mod composite;
mod drivers;
mod duration;
mod evaluate;
mod metric;
mod profile;
mod rejudge;
mod rollup;
mod standards;
mod versions;

pub use composite::{composite_score, explain, metric_score, rank, Component, VOLUME};
pub use drivers::{key_drivers, CoMoments, Driver, DRIVER_MIN_SAMPLE};
pub use duration::{format_duration_ms, parse_duration_ms};
pub use evaluate::{evaluate, Status};
pub use metric::{Direction, Group, MetricId, Unit, METRIC_COUNT};
pub use profile::{EntityKind, Profile};
pub use rejudge::{rejudge, rerank_month};
pub(crate) use rollup::{cells, composite, questions};
pub use rollup::{company_rows, drivers, row_sums};
pub use standards::{Standard, Standards, Volume};
pub use versions::{StandardsBook, StandardsVersion, VersionedStandards, FIRST_VERSION};
