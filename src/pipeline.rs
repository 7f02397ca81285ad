//! The file replay loop: source -> engine -> sink, with periodic flushes and progress logs.

use crate::sink::Sink;
use crate::source::FileSource;
use crate::stream::publish_state;
use crate::telemetry::{metrics, EventCounters, QualityBoard};
use anyhow::Result;
use quality_engine::contract::Timestamp;
use quality_engine::window::Calendar;
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
    /// Worst sellers per cadence and standard exported as their own series.
    pub worst_sellers: usize,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions { provisional_every: None, batch: 65_536, commit_every: 1_048_576, until: None, worst_sellers: 0 }
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
    let counters = EventCounters::new("file");
    let mut board =
        QualityBoard::new(Calendar::new(engine.config().timezone), opts.worst_sellers, &engine.config().standards.latest().standards, metrics());
    while let Some((number, line)) = source.next_line()? {
        lines += 1;
        let verdict = engine.ingest(line);
        counters.count(&verdict);
        if let Verdict::Rejected(r) = verdict {
            out.push(Output::DeadLetter(DeadLetter::new(r, line, format!("{name}:{number}"))));
        }
        if opts.provisional_every.is_some_and(|n| lines % n == 0) {
            engine.flush(&mut out);
        }
        if lines % opts.batch == 0 || lines % opts.commit_every == 0 {
            engine.drain(&mut out);
            observe(&mut board, &out);
            sink.write(&out).await?;
            out.clear();
            board.publish(engine.watermark(), metrics());
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
    publish_state(&state);
    engine.finish(&mut out);
    observe(&mut board, &out);
    sink.write(&out).await?;
    sink.commit().await?;
    board.publish_all(metrics());
    Ok(ReplaySummary { stats: engine.stats().clone(), state, lines, elapsed: start.elapsed() })
}

/// Feeds the final rows of a batch to the quality gauges.
fn observe(board: &mut QualityBoard, outputs: &[Output]) {
    for o in outputs {
        if let Output::Row(r) = o {
            board.observe(r);
        }
    }
}
