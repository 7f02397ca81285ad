//! Where results go. A sink takes engine outputs in batches and makes them durable on `commit`.

mod file;

pub use file::FileSink;

use anyhow::Result;
use quality_engine::Output;

/// A destination for window rows and dead letters.
pub trait Sink {
    /// Queues a batch of outputs.
    fn write(&mut self, batch: &[Output]) -> Result<()>;
    /// Makes everything written so far durable.
    fn commit(&mut self) -> Result<()>;
}
