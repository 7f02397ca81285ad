//! `demo`: the embedded default. Generates a marketplace, runs the engine in memory, prints
//! this week's breaches. Needs no servers and no files.

use crate::cli::DemoArgs;
use crate::config::ConfigFile;
use crate::generate::generate;
use crate::report::breach_table;
use anyhow::Result;
use quality_engine::window::Cadence;
use quality_engine::{Engine, Output, WindowRow};
use std::path::Path;

/// Runs the demo and prints the table to stdout.
pub fn run(config: Option<&Path>, args: DemoArgs) -> Result<()> {
    let engine_config = ConfigFile::load(config)?.engine_config(args.timezone.as_deref(), None)?;
    let gen = super::generator_config(&args.stream, engine_config.timezone);
    let mut engine = Engine::new(engine_config);
    let mut out = Vec::new();
    let mut weeks: Vec<WindowRow> = Vec::new();
    let mut keep_weeks = |out: &mut Vec<Output>| {
        weeks.extend(out.drain(..).filter_map(|o| match o {
            Output::Row(r) if r.cadence == Cadence::Week => Some(r),
            _ => None,
        }))
    };
    let started = std::time::Instant::now();
    for line in generate(&gen) {
        // Rejections are counted in the engine's stats; `run` also writes them to dead_letter.ndjson.
        engine.ingest(line.as_bytes());
        engine.drain(&mut out);
        keep_weeks(&mut out);
    }
    engine.finish(&mut out);
    keep_weeks(&mut out);
    let stats = engine.stats();

    let last_week = weeks.iter().map(|r| r.period_start).max();
    let this_week: Vec<&WindowRow> = weeks.iter().filter(|r| Some(r.period_start) == last_week).collect();
    println!("quality-pipeline demo: {} sellers, {} days from {} ({}), seed {}", gen.sellers, gen.days, gen.start, gen.timezone, gen.seed);
    let rejected: Vec<String> = stats.rejected_by_reason().map(|(r, n)| format!("{r} {n}")).collect();
    println!(
        "events: {} accepted, {} duplicates, {} rejected ({}) in {:.2}s\n",
        stats.accepted_total(),
        stats.duplicates_total(),
        stats.rejected_total(),
        rejected.join(", "),
        started.elapsed().as_secs_f64()
    );
    print!("{}", breach_table(&this_week, args.top));
    println!(
        "All rows and dead letters: quality-pipeline generate > events.ndjson && quality-pipeline run --source file:events.ndjson --sink file:out/"
    );
    Ok(())
}
