//! Where results go. A sink takes engine outputs in batches and makes them durable on `commit`.

pub mod clickhouse;
mod file;

pub use file::{FileSink, CRITICS_FILE, ESCALATIONS_FILE, INCENTIVES_FILE, REASONS_FILE, WINDOWS_FILE};

use anyhow::Result;
use quality_engine::Output;
use std::future::Future;

/// A destination for window rows and dead letters.
pub trait Sink {
    /// Queues a batch of outputs.
    fn write(&mut self, batch: &[Output]) -> impl Future<Output = Result<()>> + Send;
    /// Makes everything written so far durable; returns once it is.
    fn commit(&mut self) -> impl Future<Output = Result<()>> + Send;
}
