//! `migrate`: create or upgrade the ClickHouse schema.

use crate::cli::MigrateArgs;
use crate::config::ConfigFile;
use crate::sink::clickhouse::migrate;
use anyhow::Result;
use std::path::Path;

/// Applies pending migrations and says how many ran.
pub fn run(config: Option<&Path>, args: MigrateArgs) -> Result<()> {
    let file = ConfigFile::load(config)?;
    let settings = super::clickhouse_settings(&file, &args.clickhouse);
    let ran = super::runtime()?.block_on(migrate(&settings))?;
    tracing::info!(applied = ran, database = %settings.database, url = %settings.redacted_url(), "schema up to date");
    Ok(())
}
