//! `run`: a source, the engine, a sink.

use crate::cli::RunArgs;
use crate::config::ConfigFile;
use crate::pipeline::{replay, ReplayOptions, ReplaySummary};
use crate::sink::clickhouse::{migrate, ClickHouseSink};
use crate::sink::FileSink;
use crate::source::{parse_sink, parse_source, FileSource, SinkSpec, SourceSpec};
use anyhow::Result;
use quality_engine::Engine;
use std::path::Path;

/// Runs the pipeline described by `--source` and `--sink`.
pub fn run(config: Option<&Path>, args: RunArgs) -> Result<()> {
    let file = ConfigFile::load(config)?;
    let engine_config = file.engine_config(args.timezone.as_deref(), args.allowed_lateness.as_deref())?;
    let SourceSpec::File(input) = parse_source(&args.source)?;
    let sink = parse_sink(&args.sink)?;
    let mut source = FileSource::open(&input)?;
    let mut engine = Engine::new(engine_config);
    let opts = ReplayOptions { provisional_every: args.provisional_every, commit_every: args.commit_every, ..ReplayOptions::default() };
    let rt = super::runtime()?;
    let (summary, target) = match sink {
        SinkSpec::File(dir) => {
            let mut sink = FileSink::create(&dir)?;
            (rt.block_on(replay(&mut source, &mut engine, &mut sink, opts))?, dir.display().to_string())
        }
        SinkSpec::ClickHouse => {
            let settings = super::clickhouse_settings(&file, &args.clickhouse);
            rt.block_on(async {
                if settings.migrate_on_start {
                    migrate(&settings).await?;
                } else {
                    settings.check_reachable().await?;
                }
                let mut sink = ClickHouseSink::new(&settings);
                replay(&mut source, &mut engine, &mut sink, opts).await
            })
            .map(|s| (s, format!("{} database {}", settings.url, settings.database)))?
        }
    };
    log_summary(source.name(), &target, &summary);
    Ok(())
}

fn log_summary(source: &str, sink: &str, s: &ReplaySummary) {
    tracing::info!(
        source,
        sink,
        lines = s.lines,
        accepted = s.stats.accepted_total(),
        duplicates = s.stats.duplicates_total(),
        rejected = s.stats.rejected_total(),
        rows = s.stats.rows_emitted,
        seconds = s.elapsed.as_secs_f64(),
        "done"
    );
    for (reason, n) in s.stats.rejected_by_reason() {
        tracing::info!(reason = reason.as_str(), count = n, "rejected events (see the dead letters)");
    }
}
