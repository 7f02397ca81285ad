//! `review`: the quarterly trend review (the regulation's Appendix 2, section 5) from stored
//! results (a file sink's directory or ClickHouse), as Markdown or JSON, and optionally the
//! proposed standards revision as TOML. The method is in `crate::review` and docs/methodology.md.

use crate::cli::{ReviewArgs, ReviewFormat};
use crate::config::ConfigFile;
use crate::norms::Settings;
use crate::results::{self, FinalCell, Selection};
use crate::review::{self, Quarter, Review};
use crate::sink::clickhouse::ClickHouseSettings;
use anyhow::{bail, Context, Result};
use chrono::{Duration, NaiveDate};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Loads the quarter's final rows, builds the review, writes it and the proposal.
pub fn run(config: Option<&Path>, args: ReviewArgs) -> Result<()> {
    let file = ConfigFile::load(config)?;
    let tz = file.engine_config(args.timezone.as_deref(), None)?.timezone;
    let quarter: Quarter = args.quarter.parse()?;
    let settings = Settings { pass_rate: args.pass_rate, min_sample: args.min_sample, min_cells: args.min_cells as usize };
    settings.validate().map_err(anyhow::Error::msg)?;
    let store = match &args.from {
        Some(from) => Store::Dir(PathBuf::from(from.strip_prefix("file:").unwrap_or(from))),
        None => Store::ClickHouse(super::clickhouse_settings(&file, &args.clickhouse)),
    };
    // The quarter's first week may start in the quarter before (its Thursday is in this one).
    let first = quarter.weeks().first().map_or(quarter.first_day(), |w| w.monday().min(quarter.first_day()));
    let selection = Selection { cadences: review::cadences(), starts: Some(first.to_string()..quarter.end().to_string()) };
    let cells = store.load(&selection)?;
    // Judged against the version in force at the quarter's end: the one the proposal revises.
    let last = quality_engine::window::LocalDate::parse(&quarter.last_day().to_string()).context("the quarter's last day")?;
    let review = Review::build(quarter, tz, &cells, &file.standards()?.at(last.0).standards, &settings);
    if review.sellers == 0 {
        bail!("no final rows of {quarter} in {}; {}", store.name(), store.available()?);
    }
    tracing::info!(quarter = %quarter, cells = cells.len(), sellers = review.sellers, "read final cells");
    let text = match args.format {
        ReviewFormat::Md => review::render_markdown(&review, args.top),
        ReviewFormat::Json => review::render_json(&review),
    };
    match &args.out {
        Some(path) => std::fs::write(path, &text).with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    if let Some(path) = &args.propose {
        std::fs::write(path, review::render_toml(&review)).with_context(|| format!("cannot write {}", path.display()))?;
        tracing::info!(out = %path.display(), revision = %review.revision.id, "proposed standards revision written");
    }
    Ok(())
}

/// Where the results are stored.
enum Store {
    /// A file sink's directory.
    Dir(PathBuf),
    /// ClickHouse.
    ClickHouse(ClickHouseSettings),
}

impl Store {
    fn load(&self, selection: &Selection) -> Result<Vec<FinalCell>> {
        match self {
            Store::Dir(dir) => results::from_dir(dir, selection),
            Store::ClickHouse(settings) => super::runtime()?.block_on(results::from_clickhouse(settings, selection)),
        }
    }

    fn name(&self) -> String {
        match self {
            Store::Dir(dir) => dir.display().to_string(),
            Store::ClickHouse(settings) => format!("ClickHouse database {}", settings.database),
        }
    }

    /// The quarters that do have final weekly rows (a week's is the quarter of its Thursday), for the error message.
    fn available(&self) -> Result<String> {
        let weeks = self.load(&Selection::cadence("week"))?;
        let quarters: BTreeSet<String> = weeks
            .iter()
            .filter_map(|c| NaiveDate::parse_from_str(&c.period_start, "%Y-%m-%d").ok())
            .map(|monday| Quarter::from(monday + Duration::days(3)).to_string())
            .collect();
        Ok(if quarters.is_empty() {
            "it has no final weekly row at all: run the pipeline over the quarter's events first (run --sink file:DIR or clickhouse)".into()
        } else {
            format!("quarters with final weekly rows: {} (pick one with --quarter)", quarters.into_iter().collect::<Vec<_>>().join(", "))
        })
    }
}
