//! `bench`: engine throughput on one core from in-memory NDJSON, and peak memory of a long stream.
//!
//! Throughput counts parse + validate + window + aggregate, nothing else: the events are
//! generated into memory first and row emission happens as windows close, as in production.

use crate::cli::{BenchArgs, ProfileArg};
use crate::config::ConfigFile;
use crate::generate::{generate, service, GeneratorConfig, ServiceConfig};
use anyhow::Result;
use quality_engine::contract::{decode, DAY_MS};
use quality_engine::{Engine, EngineConfig, Output};
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

/// What a benchmark streams: a marketplace of N sellers, or a service company of N performers.
#[derive(Debug, Clone)]
enum Stream {
    Marketplace(GeneratorConfig),
    Service(ServiceConfig),
}

/// Performers per department in the service profile's benchmark streams.
const PERFORMERS_PER_DEPARTMENT: u32 = 20;

/// Days of event time `--compare-profiles` streams cover at least unless `--min-days` says
/// otherwise: four weeks, so that the marketplace's deliveries, survey decisions and 14-day
/// complaint windows run as they do in a long-lived engine, not only its first week's steps.
const COMPARE_MIN_DAYS: u32 = 28;

/// Requests a performer-day of the small service stream that `--compare-profiles` measures the
/// service density on, and its performers.
const PROBE_REQUESTS_PER_DAY: f64 = 12.0;
const PROBE_PERFORMERS: u32 = 100;

impl Stream {
    fn new(args: &BenchArgs, profile: ProfileArg, entities: u32, timezone: chrono_tz::Tz) -> Stream {
        Stream::with_requests(args, profile, entities, timezone, args.requests_per_day)
    }

    /// A stream whose service requests a performer-day are `requests_per_day` (the generator's default if `None`).
    fn with_requests(args: &BenchArgs, profile: ProfileArg, entities: u32, timezone: chrono_tz::Tz, requests_per_day: Option<f64>) -> Stream {
        let (days, seed) = (args.days, args.seed);
        let defaults = ServiceConfig::default();
        match profile {
            ProfileArg::Marketplace => Stream::Marketplace(GeneratorConfig { sellers: entities, days, seed, timezone, ..GeneratorConfig::default() }),
            ProfileArg::Service => Stream::Service(ServiceConfig {
                departments: entities.div_ceil(PERFORMERS_PER_DEPARTMENT).max(1),
                performers_per_department: entities.clamp(1, PERFORMERS_PER_DEPARTMENT),
                days,
                seed,
                timezone,
                requests_per_performer_day: requests_per_day.unwrap_or(defaults.requests_per_performer_day),
                ..defaults
            }),
        }
    }

    /// The entities whose events these are: sellers, or performers.
    fn entities(&self) -> u32 {
        match self {
            Stream::Marketplace(c) => c.sellers,
            Stream::Service(c) => c.departments * c.performers_per_department,
        }
    }

    fn lines(&self) -> Box<dyn Iterator<Item = String>> {
        match self {
            Stream::Marketplace(c) => Box::new(generate(c)),
            Stream::Service(c) => Box::new(service::generate(c)),
        }
    }

    fn describe(&self) -> String {
        match self {
            Stream::Marketplace(c) => format!("{} sellers x {} days", c.sellers, c.days),
            Stream::Service(c) => format!(
                "{} performers in {} departments x {} days, {} requests a performer-day",
                c.departments * c.performers_per_department,
                c.departments,
                c.days,
                c.requests_per_performer_day
            ),
        }
    }
}

/// Runs the memory run (unless skipped), then the throughput runs, and prints the figures.
pub fn run(config: Option<&Path>, args: BenchArgs) -> Result<()> {
    let engine_config = |profile: ProfileArg| {
        let mut file = ConfigFile::load(config)?;
        file.engine.profile = profile.into();
        file.engine_config(None, None)
    };
    if args.compare_profiles {
        let (service, marketplace) = (engine_config(ProfileArg::Service)?, engine_config(ProfileArg::Marketplace)?);
        for &n in &args.throughput_sellers {
            compare_run(&args, n, &service, &marketplace);
        }
        return Ok(());
    }
    let engine_config = engine_config(args.profile)?;
    let tz = engine_config.timezone;
    if !args.throughput_only {
        memory_run(&Stream::new(&args, args.profile, args.sellers, tz), &engine_config);
    }
    for &n in &args.throughput_sellers {
        throughput_run(&Stream::new(&args, args.profile, n, tz), &engine_config, args.events, args.min_days.unwrap_or(0));
    }
    Ok(())
}

fn memory_run(stream: &Stream, config: &EngineConfig) {
    println!("memory: streaming {} through the engine ...", stream.describe());
    let started = Instant::now();
    let mut engine = Engine::new(config.clone());
    let mut out = Vec::new();
    let (mut events, mut rows) = (0u64, 0u64);
    let mut peak_state = engine.state_sizes();
    for line in stream.lines() {
        engine.ingest(line.as_bytes());
        events += 1;
        if events % 100_000 == 0 {
            engine.drain(&mut out);
            rows += out.len() as u64;
            out.clear();
            let s = engine.state_sizes();
            if s.seller_days + s.open_orders > peak_state.seller_days + peak_state.open_orders {
                peak_state = s;
            }
        }
    }
    let taken = Instant::now();
    let checkpoint = engine.checkpoint(&mut out);
    let (save_ms, size) = (taken.elapsed().as_secs_f64() * 1000.0, checkpoint.len());
    let taken = Instant::now();
    let restored = Engine::restore(config.clone(), &checkpoint).map(|_| taken.elapsed().as_secs_f64() * 1000.0);
    println!(
        "checkpoint at the end: {:.1} MiB, saved in {save_ms:.0} ms, restored in {}",
        size as f64 / 1048576.0,
        restored.map_or_else(|e| format!("error: {e}"), |ms| format!("{ms:.0} ms"))
    );
    engine.finish(&mut out);
    rows += out.len() as u64;
    println!(
        "memory: {events} events, {rows} rows in {:.1}s; peak RSS {} MiB (process high-water mark)",
        started.elapsed().as_secs_f64(),
        peak_rss_mib().map_or("unknown".into(), |m| m.to_string())
    );
    println!("memory: largest state seen: {}", serde_json::to_string(&peak_state).unwrap_or_default());
}

fn throughput_run(stream: &Stream, config: &EngineConfig, n: usize, min_days: u32) {
    let events = Events::load(stream, n, min_days);
    println!("throughput, {}: {}, best of 3 runs", stream.describe(), events.describe(stream.entities(), min_days));
    let best = |f: &dyn Fn() -> f64| (0..3).map(|_| f()).fold(0.0f64, f64::max);
    let decode_rate = best(&|| events.decode_rate());
    let engine_rate = best(&|| events.engine_rate(config));
    println!("  decode + validate only: {:.3} M events/s", decode_rate / 1e6);
    println!("  full engine (decode, validate, dedup, join, window, aggregate, emit): {:.3} M events/s on one core", engine_rate / 1e6);
}

/// `--compare-profiles`: both profiles' streams for `n` entities, their engine runs taken in
/// turn, and the service profile's throughput as a share of the marketplace's (the median of
/// the rounds' shares, each round's two runs being close in time).
///
/// Unless `--requests-per-day` says otherwise, the service stream gets the marketplace stream's
/// events per entity-day, so that as many events share each entity-day's window rows.
fn compare_run(args: &BenchArgs, n: u32, service: &EngineConfig, marketplace: &EngineConfig) {
    let tz = marketplace.timezone;
    let min_days = args.min_days.unwrap_or(COMPARE_MIN_DAYS);
    let market_stream = Stream::new(args, ProfileArg::Marketplace, n, tz);
    let market_events = Events::load(&market_stream, args.events, min_days);
    let requests_per_day = args.requests_per_day.unwrap_or_else(|| {
        let probe = Stream::with_requests(args, ProfileArg::Service, PROBE_PERFORMERS, tz, Some(PROBE_REQUESTS_PER_DAY));
        let probe_density = Events::load(&probe, args.events, min_days).density(PROBE_PERFORMERS);
        let matched = (PROBE_REQUESTS_PER_DAY * market_events.density(n) / probe_density * 10.0).round() / 10.0;
        println!("service stream at {matched} requests a performer-day: the marketplace stream's events per entity-day");
        matched
    });
    let service_stream = Stream::with_requests(args, ProfileArg::Service, n, tz, Some(requests_per_day));
    let service_events = Events::load(&service_stream, args.events, min_days);
    let runs = [(&service_stream, service_events, service), (&market_stream, market_events, marketplace)].map(|(stream, events, config)| {
        println!("{}: {}", stream.describe(), events.describe(stream.entities(), min_days));
        (events, config)
    });
    let mut best = [0.0f64; 2];
    let mut shares = Vec::new();
    for round in 1..=args.rounds {
        let rates = interleaved_rates(&runs);
        for (b, r) in best.iter_mut().zip(rates) {
            *b = b.max(r);
        }
        shares.push(rates[0] / rates[1]);
        println!(
            "  round {round}/{}: service {:.3}, marketplace {:.3} M events/s, share {:.0} %",
            args.rounds,
            rates[0] / 1e6,
            rates[1] / 1e6,
            100.0 * rates[0] / rates[1]
        );
    }
    shares.sort_by(f64::total_cmp);
    println!(
        "  service profile at {:.0} % of the marketplace's engine throughput (median of {} rounds, each running the two engines in turn, {SLICE} events at a time; best rounds {:.3} and {:.3} M events/s, {:.0} %)",
        100.0 * shares[shares.len() / 2],
        args.rounds,
        best[0] / 1e6,
        best[1] / 1e6,
        100.0 * best[0] / best[1]
    );
}

/// A stream's first events as NDJSON in memory, so that runs time the engine alone.
struct Events {
    buf: Vec<u8>,
    ends: Vec<usize>,
    /// Days from the earliest to the latest event time (of the events that decode).
    span_days: f64,
}

impl Events {
    /// The stream's first `n` events, and more while they span less than `min_days` of event
    /// time (the stream's end stops both).
    fn load(stream: &Stream, n: usize, min_days: u32) -> Events {
        let mut buf = Vec::with_capacity(n * 280);
        let mut ends = Vec::with_capacity(n);
        let (mut first, mut last) = (i64::MAX, i64::MIN);
        let wanted = i64::from(min_days) * DAY_MS;
        for line in stream.lines() {
            if ends.len() >= n && (wanted == 0 || last.saturating_sub(first) >= wanted) {
                break;
            }
            if let Ok(e) = decode(line.as_bytes()) {
                (first, last) = (first.min(e.occurred_at.0), last.max(e.occurred_at.0));
            }
            buf.extend_from_slice(line.as_bytes());
            ends.push(buf.len());
        }
        let span_days = if first <= last { (last - first) as f64 / DAY_MS as f64 } else { 0.0 };
        Events { buf, ends, span_days }
    }

    /// Events per entity and day, for `entities` entities.
    fn density(&self, entities: u32) -> f64 {
        self.ends.len() as f64 / (f64::from(entities.max(1)) * self.span_days.max(1.0))
    }

    fn describe(&self, entities: u32, min_days: u32) -> String {
        let short = if self.span_days < f64::from(min_days) {
            format!("; the stream ends before --min-days {min_days} (a longer one: --days)")
        } else {
            String::new()
        };
        format!(
            "{} events ({:.0} MiB of NDJSON, {:.0} bytes/event, {:.1} events per entity-day over {:.0} days) in memory{short}",
            self.ends.len(),
            self.buf.len() as f64 / 1048576.0,
            self.buf.len() as f64 / self.ends.len() as f64,
            self.density(entities),
            self.span_days
        )
    }

    fn lines(&self) -> impl Iterator<Item = &[u8]> {
        self.ends.iter().scan(0usize, |start, &end| Some(&self.buf[std::mem::replace(start, end)..end]))
    }

    /// Events per second of decoding and validating alone.
    fn decode_rate(&self) -> f64 {
        let t = Instant::now();
        for line in self.lines() {
            let _ = black_box(decode(black_box(line)));
        }
        self.ends.len() as f64 / t.elapsed().as_secs_f64()
    }

    /// Events per second of a fresh engine taking every event, rows emitted as windows close.
    fn engine_rate(&self, config: &EngineConfig) -> f64 {
        let mut run = EngineRun::new(self, config);
        while run.slice() {}
        run.rate()
    }
}

/// Events an engine takes between drains of its output, and, with `--compare-profiles`,
/// before the other engine takes its turn.
const SLICE: usize = 65_536;

/// A fresh engine taking a stream's events a slice at a time, with the time it spent.
struct EngineRun<'a> {
    engine: Engine,
    lines: Box<dyn Iterator<Item = &'a [u8]> + 'a>,
    /// Events taken so far.
    taken: usize,
    out: Vec<Output>,
    spent: Duration,
}

impl<'a> EngineRun<'a> {
    fn new(events: &'a Events, config: &EngineConfig) -> EngineRun<'a> {
        EngineRun { engine: Engine::new(config.clone()), lines: Box::new(events.lines()), taken: 0, out: Vec::new(), spent: Duration::ZERO }
    }

    /// Takes the next [`SLICE`] events and drains what is ready; `false` once the stream has ended.
    fn slice(&mut self) -> bool {
        let t = Instant::now();
        let mut taken = 0;
        for line in self.lines.by_ref().take(SLICE) {
            black_box(self.engine.ingest(line));
            taken += 1;
        }
        self.engine.drain(&mut self.out);
        self.out.clear();
        self.spent += t.elapsed();
        self.taken += taken;
        taken == SLICE
    }

    /// Events per second of engine time.
    fn rate(&self) -> f64 {
        self.taken as f64 / self.spent.as_secs_f64()
    }
}

/// Both engines' rates from one pass in which they take their streams in turn, a slice each,
/// so that the two meet the same spells of a shared machine's varying speed.
fn interleaved_rates(runs: &[(Events, &EngineConfig); 2]) -> [f64; 2] {
    let mut engines = runs.each_ref().map(|(events, config)| EngineRun::new(events, config));
    let mut more = [true; 2];
    while more.iter().any(|m| *m) {
        for (run, more) in engines.iter_mut().zip(more.iter_mut()) {
            *more = *more && run.slice();
        }
    }
    engines.each_ref().map(EngineRun::rate)
}

/// The process's peak resident set size in MiB, from /proc (Linux).
fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(sellers: u32, days: u32) -> Stream {
        Stream::Marketplace(GeneratorConfig { sellers, days, ..GeneratorConfig::default() })
    }

    #[test]
    fn a_stream_holds_its_events_or_its_days_whichever_is_more() {
        let by_count = Events::load(&stream(20, 30), 500, 0);
        assert_eq!(by_count.ends.len(), 500);
        assert!(by_count.span_days < 10.0, "500 events of 20 sellers cover days, not weeks: {}", by_count.span_days);
        let by_days = Events::load(&stream(20, 30), 500, 10);
        assert!(by_days.ends.len() > 500 && by_days.span_days >= 10.0, "{} events over {} days", by_days.ends.len(), by_days.span_days);
        assert_eq!(by_days.lines().next(), by_count.lines().next(), "the same stream from its start");
        let whole = Events::load(&stream(20, 5), 10, 28);
        assert!(whole.span_days < 5.0 && whole.describe(20, 28).contains("ends before --min-days 28"), "{}", whole.describe(20, 28));
    }
}
