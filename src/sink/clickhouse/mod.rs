//! The ClickHouse sink: window rows into one table per cadence (a row per metric; rows of
//! sellers, or of departments and performers in the service profile), their survey-question
//! sums (service profile, one table for every cadence), the monthly rating, dead letters and the
//! acting-on-quality tables; schema migrations from `clickhouse/*.sql`.
//!
//! Inserts are idempotent upserts (ReplacingMergeTree by version), so a batch can be retried
//! or replayed after a crash without counting anything twice. `commit` returns only once
//! every buffered row is acknowledged by the server; while ClickHouse is unreachable it
//! retries with backoff, which pauses the pipeline instead of losing data.

mod config;
mod rows;
mod schema;
mod sink;

pub use config::ClickHouseSettings;
pub(crate) use rows::{department_of, entity_of};
pub use rows::{CompositeRow, CriticRow, DeadLetterRow, EscalationRow, IncentiveRow, MetricRow, QuestionRow, ReasonRow, SurveyRow};
pub use schema::{migrate, MIGRATIONS};
pub use sink::ClickHouseSink;
pub(crate) use sink::{insert_all, window_table};
