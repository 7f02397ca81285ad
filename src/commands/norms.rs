//! `norms`: reads stored results (the file sink's `windows.ndjson` or ClickHouse's `standards`
//! view), shows each standard's distribution across sellers and periods, and suggests targets
//! for a pass rate as a TOML snippet. The method is in `crate::norms` and docs/methodology.md.

use crate::cli::NormsArgs;
use crate::config::ConfigFile;
use crate::norms::{compute, render_table, render_toml, Cell, Settings};
use crate::results::{self, Selection};
use anyhow::{bail, Context, Result};
use quality_engine::window::Cadence;
use std::path::Path;

/// Reads the cells, prints the table, and writes or prints the snippet.
pub fn run(config: Option<&Path>, args: NormsArgs) -> Result<()> {
    let file = ConfigFile::load(config)?;
    let settings = Settings { pass_rate: args.pass_rate, min_sample: args.min_sample, min_cells: args.min_cells as usize };
    settings.validate().map_err(anyhow::Error::msg)?;
    let cadence = Cadence::ALL.into_iter().find(|c| c.as_str() == args.cadence).with_context(|| format!("unknown cadence {:?}", args.cadence))?;
    let selection = Selection::cadence(cadence.as_str());
    let stored = if let Some(dir) = args.from.strip_prefix("file:") {
        results::from_dir(Path::new(dir), &selection)?
    } else if args.from == "clickhouse" {
        let ch = super::clickhouse_settings(&file, &args.clickhouse);
        super::runtime()?.block_on(results::from_clickhouse(&ch, &selection))?
    } else {
        bail!("unknown --from {:?}; use file:DIR (a file sink's directory) or clickhouse", args.from);
    };
    let cells: Vec<Cell> = stored
        .into_iter()
        .map(|c| Cell { metric: c.metric, seller_id: c.seller_id, period_start: c.period_start, denominator: c.denominator, value: c.value })
        .collect();
    tracing::info!(from = %args.from, cadence = %cadence, cells = cells.len(), "read final cells");
    let norms = compute(&cells, &file.standards()?.latest().standards, cadence, &settings);
    print!("{}", render_table(&norms));
    let snippet = render_toml(&norms);
    match &args.out {
        Some(path) => {
            std::fs::write(path, &snippet).with_context(|| format!("cannot write {}", path.display()))?;
            println!("\nSuggested targets written to {} (use it as --config, or copy its tables into yours).", path.display());
        }
        None => print!("\n{snippet}"),
    }
    Ok(())
}
