//! `report`: the weekly seller report (the regulation's Appendix 1) of one seller and ISO
//! week, from stored results (a file sink's directory or ClickHouse), as Markdown, HTML or JSON.

use crate::cli::{ReportArgs, ReportFormat};
use crate::config::ConfigFile;
use crate::report::rating::{self, RatingReport, Subject};
use crate::report::weekly::{self, IsoWeek};
use anyhow::{bail, Context, Result};
use quality_engine::window::{Cadence, LocalDate};
use std::io::Write;
use std::path::Path;

/// Loads the results, builds the report and writes it to `--out` or stdout.
pub fn run(config: Option<&Path>, args: ReportArgs) -> Result<()> {
    let file = ConfigFile::load(config)?;
    let subject = match (&args.performer, &args.department) {
        (Some(p), d) => Some(Subject::Performer(p, d.as_deref())),
        (None, Some(d)) => Some(Subject::Department(d)),
        (None, None) => None,
    };
    if let Some(subject) = subject {
        return rating_report(&file, subject, &args);
    }
    let tz = file.engine_config(args.timezone.as_deref(), None)?.timezone;
    let week: IsoWeek = args.week.as_deref().unwrap_or_default().parse()?;
    let seller = args.seller.as_deref().unwrap_or_default();
    let report = match &args.from {
        Some(from) => {
            let dir = from.strip_prefix("file:").unwrap_or(from);
            weekly::from_dir(Path::new(dir), seller, week, tz)?
        }
        None => {
            let settings = super::clickhouse_settings(&file, &args.clickhouse);
            super::runtime()?.block_on(async {
                settings.check_reachable().await?;
                weekly::load_clickhouse(&settings, seller, week, tz).await
            })?
        }
    };
    let text = match args.format {
        ReportFormat::Md => weekly::render_markdown(&report),
        ReportFormat::Html => weekly::render_html(&report),
        ReportFormat::Json => weekly::render_json(&report),
    };
    write(&args, &text)
}

/// Writes a report to `--out` or stdout.
fn write(args: &ReportArgs, text: &str) -> Result<()> {
    match &args.out {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
            tracing::info!(out = %path.display(), "report written");
        }
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(())
}

/// `report --performer P | --department D --month YYYY-MM`: the explained monthly rating.
fn rating_report(file: &ConfigFile, subject: Subject<'_>, args: &ReportArgs) -> Result<()> {
    let month_arg = args.month.as_deref().unwrap_or_default();
    let month = LocalDate::parse(&format!("{month_arg}-01")).with_context(|| format!("--month {month_arg:?} is not a month; write it as YYYY-MM"))?;
    let rows = match &args.from {
        Some(from) => {
            let dir = from.strip_prefix("file:").unwrap_or(from);
            crate::results::latest_rows(Path::new(dir), Some(&["month".to_owned()]), |r| r.period_start == month)?
        }
        None => {
            let settings = super::clickhouse_settings(file, &args.clickhouse);
            let scope = crate::backfill::Scope { since: Some(month.0), until: Some(month.0 + 1) };
            let mut rows = super::runtime()?.block_on(crate::backfill::clickhouse::latest_rows(&settings, scope))?;
            rows.retain(|r| r.cadence == Cadence::Month);
            explain_stored(file, &mut rows)?;
            rows
        }
    };
    let report = RatingReport::build(&rows, subject, month)?;
    let text = match args.format {
        ReportFormat::Md => rating::render_markdown(&report),
        ReportFormat::Html => rating::render_html(&report),
        ReportFormat::Json => rating::render_json(&report),
    };
    write(args, &text)
}

/// Rows read back from ClickHouse keep their rating but not its components: they are derived
/// again from the stored sums and the standards version the month was judged against.
fn explain_stored(file: &ConfigFile, rows: &mut [quality_engine::WindowRow]) -> Result<()> {
    let standards = file.standards()?;
    for r in rows.iter_mut() {
        let Some(version) = standards.get(&r.standards_version) else {
            bail!(
                "the stored month was judged against standards version {:?}, which the config no longer has; add it back to explain the rating",
                r.standards_version
            )
        };
        let components = quality_engine::methodology::explain(&quality_engine::methodology::row_sums(r), &version.standards);
        if let Some(c) = r.composite.as_mut() {
            c.components = components;
        }
    }
    Ok(())
}
