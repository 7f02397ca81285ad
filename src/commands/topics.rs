//! `topics`: create the co-partitioned input topics and the output topics (dead letters,
//! escalations, survey requests, incentive tier changes).

use crate::cli::TopicsArgs;
use crate::config::ConfigFile;
use crate::kafka::create_topics;
use anyhow::Result;
use std::path::Path;

/// Creates the topics that do not exist yet and says which.
pub fn run(config: Option<&Path>, args: TopicsArgs) -> Result<()> {
    let file = ConfigFile::load(config)?;
    let settings = super::kafka_settings(&file, &args.kafka)?;
    let created = super::runtime()?.block_on(create_topics(&settings, args.partitions, args.replication))?;
    for name in settings.all_topics() {
        let state = if created.iter().any(|c| c == name) { "created" } else { "exists" };
        println!("{name}\t{state}");
    }
    Ok(())
}
