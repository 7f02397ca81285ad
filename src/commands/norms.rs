//! `norms`: reads stored results (the file sink's `windows.ndjson` or ClickHouse's `standards`
//! view), shows each standard's distribution across sellers and periods, and suggests targets
//! for a pass rate as a TOML snippet. The method is in `crate::norms` and docs/methodology.md.

use crate::cli::NormsArgs;
use crate::config::ConfigFile;
use crate::norms::{compute, render_table, render_toml, Cell, Settings};
use crate::sink::clickhouse::ClickHouseSettings;
use crate::sink::WINDOWS_FILE;
use anyhow::{bail, Context, Result};
use quality_engine::methodology::MetricId;
use quality_engine::window::Cadence;
use serde::Deserialize;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

/// Reads the cells, prints the table, and writes or prints the snippet.
pub fn run(config: Option<&Path>, args: NormsArgs) -> Result<()> {
    let file = ConfigFile::load(config)?;
    let settings = Settings { pass_rate: args.pass_rate, min_sample: args.min_sample, min_cells: args.min_cells as usize };
    settings.validate().map_err(anyhow::Error::msg)?;
    let cadence = Cadence::ALL.into_iter().find(|c| c.as_str() == args.cadence).with_context(|| format!("unknown cadence {:?}", args.cadence))?;
    let cells = if let Some(dir) = args.from.strip_prefix("file:") {
        from_file(&Path::new(dir).join(WINDOWS_FILE), cadence)?
    } else if args.from == "clickhouse" {
        let ch = super::clickhouse_settings(&file, &args.clickhouse);
        super::runtime()?.block_on(from_clickhouse(&ch, cadence))?
    } else {
        bail!("unknown --from {:?}; use file:DIR (a file sink's directory) or clickhouse", args.from);
    };
    tracing::info!(from = %args.from, cadence = %cadence, cells = cells.len(), "read final cells");
    let norms = compute(&cells, &file.standards.latest().standards, cadence, &settings);
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

#[derive(Deserialize)]
struct FileRow {
    seller_id: String,
    cadence: Cadence,
    period_start: String,
    is_final: bool,
    version: u64,
    metrics: Vec<FileCell>,
}

#[derive(Deserialize)]
struct FileCell {
    metric: String,
    denominator: i64,
    value: Option<f64>,
}

/// The cells of the latest version of every window of `cadence`, when that version is final.
fn from_file(path: &Path, cadence: Cadence) -> Result<Vec<Cell>> {
    let f =
        std::fs::File::open(path).with_context(|| format!("cannot read {}; --from file:DIR takes the directory of a file sink", path.display()))?;
    let mut latest: HashMap<(String, String), FileRow> = HashMap::new();
    for (i, line) in BufReader::new(f).lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let row: FileRow = serde_json::from_str(&line).with_context(|| format!("{}:{}: not a window row", path.display(), i + 1))?;
        if row.cadence != cadence {
            continue;
        }
        let key = (row.seller_id.clone(), row.period_start.clone());
        if latest.get(&key).is_none_or(|old| row.version >= old.version) {
            latest.insert(key, row);
        }
    }
    let mut cells = Vec::new();
    for row in latest.into_values().filter(|r| r.is_final) {
        for c in row.metrics {
            let Some(value) = c.value else { continue };
            cells.push(Cell {
                metric: metric(&c.metric)?,
                seller_id: row.seller_id.clone(),
                period_start: row.period_start.clone(),
                denominator: c.denominator,
                value,
            });
        }
    }
    Ok(cells)
}

fn metric(id: &str) -> Result<MetricId> {
    MetricId::from_id(id).with_context(|| format!("unknown metric {id:?} in the stored rows"))
}

/// One row of the `standards` view.
#[derive(clickhouse::Row, Deserialize)]
struct ViewCell {
    seller_id: String,
    period_start: String,
    metric: String,
    denominator: i64,
    value: Option<f64>,
}

/// The final cells of `cadence` from the `standards` view (latest version of every window).
async fn from_clickhouse(settings: &ClickHouseSettings, cadence: Cadence) -> Result<Vec<Cell>> {
    settings.check_reachable().await?;
    let rows: Vec<ViewCell> = settings
        .client()
        .query(
            "SELECT seller_id, toString(period_start) AS period_start, metric, denominator, value \
             FROM standards WHERE cadence = ? AND is_final AND value IS NOT NULL",
        )
        .bind(cadence.as_str())
        .fetch_all()
        .await
        .with_context(|| {
            format!("reading the standards view of database {} (run `quality-pipeline migrate` and load results first)", settings.database)
        })?;
    rows.into_iter()
        .map(|r| {
            let value = r.value.unwrap_or(f64::NAN);
            Ok(Cell { metric: metric(&r.metric)?, seller_id: r.seller_id, period_start: r.period_start, denominator: r.denominator, value })
        })
        .collect()
}
