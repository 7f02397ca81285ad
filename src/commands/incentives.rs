//! `incentives`: decide the incentive tier changes of every closed month over all sellers in
//! ClickHouse, write them to the `incentives` table and, with `--publish`, to the incentive
//! topic, each once.

use crate::cli::IncentivesArgs;
use crate::config::ConfigFile;
use crate::incentives::{publish, store};
use anyhow::{bail, Context, Result};
use quality_engine::actions::{tier_changes, TierChange};
use quality_engine::window::LocalDate;
use std::collections::{BTreeSet, HashSet};
use std::path::Path;

/// Loads the inputs, decides the changes, records them and publishes the missing ones;
/// prints what it did, one `name<TAB>value` line each.
pub fn run(config: Option<&Path>, args: IncentivesArgs) -> Result<()> {
    if !args.use_clickhouse {
        bail!("incentives reads ClickHouse: add --clickhouse (a file sink writes the same changes to incentives.ndjson by itself at each commit)");
    }
    let file = ConfigFile::load(config)?;
    let actions = file.engine_config(None, None)?.actions;
    let settings = super::clickhouse_settings(&file, &args.clickhouse);
    let kafka = super::kafka_settings(&file, &args.kafka)?;
    let rt = super::runtime()?;
    let inputs = rt.block_on(async {
        super::prepare(&settings).await?;
        store::load(&settings, &kafka.group_id).await
    })?;
    if inputs.closed_until.is_none() {
        tracing::info!(
            group = %kafka.group_id,
            "no checkpoints of this consumer group: every final month counts, as in a database loaded by a file run (give the Kafka run's --group-id otherwise)"
        );
    }
    if inputs.held_back > 0 {
        tracing::info!(
            held_back_rows = inputs.held_back,
            closed_until = ?inputs.closed_until.map(LocalDate),
            group = %kafka.group_id,
            "final month rows of months some partition has not closed yet are left for a later run"
        );
    }
    let changes = tier_changes(&inputs.months, &inputs.stages, &actions.incentives, &actions.leaders);
    rt.block_on(store::record(&settings, &changes)).context("writing the tier changes to ClickHouse")?;
    let months: BTreeSet<LocalDate> = inputs.months.iter().map(|m| m.month_start).collect();
    println!("months\t{}", months.len());
    println!("changes\t{}", changes.len());
    if args.publish {
        let seen = publish::published_ids(&kafka)?;
        let missing: Vec<&TierChange> = changes.iter().filter(|c| !seen.contains(&c.change_id)).collect();
        let decided: HashSet<&str> = changes.iter().map(|c| c.change_id.as_str()).collect();
        let stale = seen.iter().filter(|id| !decided.contains(id.as_str())).count();
        if stale > 0 {
            tracing::warn!(
                stale,
                topic = %kafka.incentive_topic,
                "records on the topic are not among the changes decided now: the tiers' settings or the stored results changed after they were published (docs/methodology.md, section 10.6)"
            );
        }
        rt.block_on(publish::publish(&kafka, &missing))?;
        println!("published\t{}", missing.len());
        println!("already_published\t{}", changes.len() - missing.len());
    }
    tracing::info!(database = %settings.database, changes = changes.len(), "tier changes recorded");
    Ok(())
}
