//! The file replay loop: source -> engine -> sink, with periodic flushes and progress logs.

use crate::sink::Sink;
use crate::source::FileSource;
use anyhow::Result;
use quality_engine::contract::Timestamp;
use quality_engine::{DeadLetter, Engine, Output, StateSizes, Stats, Verdict};
use std::time::{Duration, Instant};

/// How a replay flushes.
#[derive(Debug, Clone, Copy)]
pub struct ReplayOptions {
    /// Emit provisional rows for changed open windows every this many events (`None`: only final rows).
    pub provisional_every: Option<u64>,
    /// Hand outputs to the sink every this many events.
    pub batch: u64,
    /// Make the sink durable (commit) every this many events, besides at the end.
    pub commit_every: u64,
    /// Before finishing, let event time run on quietly to this instant (as a stream's clock would).
    pub until: Option<Timestamp>,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions { provisional_every: None, batch: 65_536, commit_every: 1_048_576, until: None }
    }
}

/// What a replay did.
#[derive(Debug, Clone)]
pub struct ReplaySummary {
    /// Engine counters.
    pub stats: Stats,
    /// State held at the end, before it was released.
    pub state: StateSizes,
    /// Lines read.
    pub lines: u64,
    /// Wall time.
    pub elapsed: Duration,
}

/// Replays a finite NDJSON source through the engine into a sink, closing every window at the end.
pub async fn replay<S: Sink>(source: &mut FileSource, engine: &mut Engine, sink: &mut S, opts: ReplayOptions) -> Result<ReplaySummary> {
    let start = Instant::now();
    let mut last_log = start;
    let mut out: Vec<Output> = Vec::new();
    let mut lines = 0u64;
    let name = source.name().to_owned();
    while let Some((number, line)) = source.next_line()? {
        lines += 1;
        if let Verdict::Rejected(r) = engine.ingest(line) {
            out.push(Output::DeadLetter(DeadLetter::new(r, line, format!("{name}:{number}"))));
        }
        if opts.provisional_every.is_some_and(|n| lines % n == 0) {
            engine.flush(&mut out);
        }
        if lines % opts.batch == 0 || lines % opts.commit_every == 0 {
            engine.drain(&mut out);
            sink.write(&out).await?;
            out.clear();
            if lines % opts.commit_every == 0 {
                sink.commit().await?;
            }
            if last_log.elapsed() >= Duration::from_secs(5) {
                last_log = Instant::now();
                let rate = lines as f64 / start.elapsed().as_secs_f64();
                tracing::info!(lines, events_per_second = rate as u64, watermark = ?engine.watermark().map(|w| w.to_string()), "replaying");
            }
        }
    }
    let state = engine.state_sizes();
    if let Some(t) = opts.until {
        engine.advance_clock(t);
    }
    engine.finish(&mut out);
    sink.write(&out).await?;
    sink.commit().await?;
    Ok(ReplaySummary { stats: engine.stats().clone(), state, lines, elapsed: start.elapsed() })
}
