#![deny(missing_docs)]
//! The pure heart of `quality-pipeline`.
//!
//! It turns a platform's order, message and feedback events into the quality standards of a
//! marketplace regulation, per seller and per day, ISO week, month and rolling 7/30 days, in
//! event time. It does no I/O and reads no clock, so that a file replay and a Kafka run of the
//! same events produce the same rows, and so that tests can drive it event by event.
//!
//! * [`contract`]: the event contract (serde types, decoding, rejection reasons).
//! * [`methodology`]: metric catalogue, standards and targets, composite rating.
//! * [`window`]: calendar days, ISO weeks, months and rolling windows in a time zone.
//! * [`state`]: per-day accumulators, open orders and conversations, dedup, timers.
//! * [`engine`]: ingest, watermark, window closing and row emission.
//! * [`output`]: window rows, dead letters, counters.
//! * [`actions`]: escalations, survey requests, critics' follow-ups, leaders, incentive tiers.
pub mod actions;
pub mod contract;
pub mod engine;
pub mod methodology;
pub mod output;
pub mod state;
pub mod window;

pub use engine::{CheckpointError, Clock, Engine, EngineConfig, StateSizes};
pub use output::{DeadLetter, Output, QuestionCell, Stats, Verdict, WindowRow};
