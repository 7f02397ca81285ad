//! `backfill`: judge stored window rows again under one standards version, on purpose.

use crate::backfill::{self, rejudge_rows, Scope};
use crate::cli::BackfillArgs;
use crate::config::ConfigFile;
use anyhow::{bail, Context, Result};
use quality_engine::window::LocalDate;
use std::path::Path;

/// Loads the rows in scope, judges them again, prints what changed and (unless `--dry-run`) writes them.
pub fn run(config: Option<&Path>, args: BackfillArgs) -> Result<()> {
    let file = ConfigFile::load(config)?;
    let standards = &file.standards()?;
    let version = standards.get(&args.standards_version).with_context(|| {
        let ids: Vec<&str> = standards.versions().iter().map(|v| &*v.id).collect();
        format!("no standards version {:?} in the config; its versions are: {}", args.standards_version, ids.join(", "))
    })?;
    let date = |s: &Option<String>, flag: &str| -> Result<Option<i64>> {
        s.as_deref()
            .map(|d| LocalDate::parse(d).map(|d| d.0).with_context(|| format!("--{flag} {d:?} is not a date; write it as YYYY-MM-DD")))
            .transpose()
    };
    let scope = Scope { since: date(&args.since, "since")?, until: date(&args.until, "until")? };
    let (stored, target) = if let Some(dir) = args.from.strip_prefix("file:") {
        (crate::results::latest_rows(Path::new(dir), None, |r| scope.contains(r.period_start.0))?, Target::File(dir))
    } else if args.from == "clickhouse" {
        let ch = super::clickhouse_settings(&file, &args.clickhouse);
        (super::runtime()?.block_on(backfill::clickhouse::latest_rows(&ch, scope))?, Target::ClickHouse(ch))
    } else {
        bail!("unknown --from {:?}; use file:DIR (a file sink's directory) or clickhouse", args.from);
    };
    let (rows, changes) = rejudge_rows(&stored, version, scope);
    print!("{changes}");
    for ((cadence, metric), c) in &changes.standards {
        if c.pass_to_fail + c.fail_to_pass > 0 {
            tracing::info!(%cadence, %metric, targets_before = ?c.targets_before, target_after = %c.target_after, c.pass_to_fail, c.fail_to_pass, "statuses changed");
        }
    }
    if args.dry_run {
        println!("Dry run: nothing written.");
        return Ok(());
    }
    match target {
        Target::File(dir) => backfill::file::append_rows(Path::new(dir), &rows)?,
        Target::ClickHouse(ch) => super::runtime()?.block_on(backfill::clickhouse::insert_rows(&ch, &rows))?,
    }
    println!("Wrote {} new row versions to {}.", rows.len(), args.from);
    Ok(())
}

enum Target<'a> {
    File(&'a str),
    ClickHouse(crate::sink::clickhouse::ClickHouseSettings),
}
