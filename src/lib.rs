//! `quality-pipeline`: adapters (sources, sinks), commands and tooling around the pure
//! [`quality_engine`]. The engine decides every number; this crate moves bytes.

pub mod backfill;
pub mod cli;
pub mod commands;
pub mod config;
pub mod generate;
pub mod import;
pub mod incentives;
pub mod kafka;
pub mod norms;
pub mod pipeline;
pub mod report;
pub mod results;
pub mod review;
pub mod sink;
pub mod source;
pub mod stream;
pub mod telemetry;
