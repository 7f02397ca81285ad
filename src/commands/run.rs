//! `run`: a source, the engine, a sink.

use crate::cli::RunArgs;
use crate::config::ConfigFile;
use crate::pipeline::{replay, ReplayOptions};
use crate::sink::FileSink;
use crate::source::{parse_sink, parse_source, FileSource, SinkSpec, SourceSpec};
use anyhow::Result;
use quality_engine::Engine;
use std::path::Path;

/// Runs the pipeline described by `--source` and `--sink`.
pub fn run(config: Option<&Path>, args: RunArgs) -> Result<()> {
    let engine_config = ConfigFile::load(config)?.engine_config(args.timezone.as_deref(), args.allowed_lateness.as_deref())?;
    let SourceSpec::File(input) = parse_source(&args.source)?;
    let SinkSpec::File(dir) = parse_sink(&args.sink)?;
    let mut source = FileSource::open(&input)?;
    let mut sink = FileSink::create(&dir)?;
    let mut engine = Engine::new(engine_config);
    let opts = ReplayOptions { provisional_every: args.provisional_every, ..ReplayOptions::default() };
    let s = replay(&mut source, &mut engine, &mut sink, opts)?;
    tracing::info!(
        source = source.name(),
        sink = %sink.dir().display(),
        lines = s.lines,
        accepted = s.stats.accepted_total(),
        duplicates = s.stats.duplicates_total(),
        rejected = s.stats.rejected_total(),
        rows = s.stats.rows_emitted,
        seconds = s.elapsed.as_secs_f64(),
        "done"
    );
    for (reason, n) in s.stats.rejected_by_reason() {
        tracing::info!(reason = reason.as_str(), count = n, "rejected events (see dead_letter.ndjson)");
    }
    Ok(())
}
