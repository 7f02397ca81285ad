//! `produce`: publish NDJSON events to the input topics, keyed by seller.

use crate::cli::ProduceArgs;
use crate::config::ConfigFile;
use crate::kafka::produce_lines;
use crate::source::FileSource;
use anyhow::Result;
use std::path::Path;
use std::time::Instant;

/// Publishes the input and reports how many records went to each topic.
pub fn run(config: Option<&Path>, args: ProduceArgs) -> Result<()> {
    let file = ConfigFile::load(config)?;
    let settings = super::kafka_settings(&file, &args.kafka)?;
    let mut source = FileSource::open(&args.input)?;
    let start = Instant::now();
    let summary = produce_lines(&settings, &mut source, args.pace)?;
    let total: u64 = summary.per_topic.iter().sum();
    for (topic, n) in settings.input_topics().iter().zip(summary.per_topic) {
        tracing::info!(topic, records = n, "published");
    }
    tracing::info!(
        records = total,
        unparsable = summary.unparsable,
        records_per_second = (total as f64 / start.elapsed().as_secs_f64()) as u64,
        "every record acknowledged"
    );
    Ok(())
}
