//! `report`: the weekly seller report (the regulation's Appendix 1) of one seller and ISO
//! week, from stored results (a file sink's directory or ClickHouse), as Markdown, HTML or JSON.

use crate::cli::{ReportArgs, ReportFormat};
use crate::config::ConfigFile;
use crate::report::weekly::{self, IsoWeek};
use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;

/// Loads the results, builds the report and writes it to `--out` or stdout.
pub fn run(config: Option<&Path>, args: ReportArgs) -> Result<()> {
    let file = ConfigFile::load(config)?;
    let tz = file.engine_config(args.timezone.as_deref(), None)?.timezone;
    let week: IsoWeek = args.week.parse()?;
    let report = match &args.from {
        Some(from) => {
            let dir = from.strip_prefix("file:").unwrap_or(from);
            weekly::from_dir(Path::new(dir), &args.seller, week, tz)?
        }
        None => {
            let settings = super::clickhouse_settings(&file, &args.clickhouse);
            super::runtime()?.block_on(async {
                settings.check_reachable().await?;
                weekly::load_clickhouse(&settings, &args.seller, week, tz).await
            })?
        }
    };
    let text = match args.format {
        ReportFormat::Md => weekly::render_markdown(&report),
        ReportFormat::Html => weekly::render_html(&report),
        ReportFormat::Json => weekly::render_json(&report),
    };
    match &args.out {
        Some(path) => {
            std::fs::write(path, &text).with_context(|| format!("cannot write {}", path.display()))?;
            tracing::info!(seller = %args.seller, week = %week, out = %path.display(), "report written");
        }
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(())
}
