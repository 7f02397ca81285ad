//! `run`: a source, the engine, a sink.

use crate::cli::RunArgs;
use crate::config::ConfigFile;
use crate::kafka::KafkaSettings;
use crate::pipeline::{replay, ReplayOptions, ReplaySummary};
use crate::report::weekly::ReportService;
use crate::sink::clickhouse::ClickHouseSink;
use crate::sink::FileSink;
use crate::source::{parse_sink, parse_source, FileSource, SinkSpec, SourceSpec};
use crate::stream::{run_stream, StreamOptions, StreamSummary};
use crate::telemetry::{serve_with_reports, Health};
use anyhow::{bail, Context, Result};
use quality_engine::contract::Timestamp;
use quality_engine::{Engine, EngineConfig};
use std::path::Path;
use std::sync::Arc;

/// Runs the pipeline described by `--source` and `--sink`.
pub fn run(config: Option<&Path>, args: RunArgs) -> Result<()> {
    let mut file = ConfigFile::load(config)?;
    if let Some(p) = args.profile {
        file.engine.profile = p.into();
    }
    let engine_config = file.engine_config(args.timezone.as_deref(), args.allowed_lateness.as_deref())?;
    let sink = parse_sink(&args.sink)?;
    match parse_source(&args.source)? {
        SourceSpec::File(input) => run_file(&file, engine_config, &input, sink, &args),
        SourceSpec::Kafka => {
            if sink != SinkSpec::ClickHouse {
                bail!("--source kafka writes to ClickHouse only (it keeps its checkpoints there); use --sink clickhouse");
            }
            run_kafka(&file, engine_config, &args)
        }
    }
}

fn run_file(file: &ConfigFile, engine_config: EngineConfig, input: &Path, sink: SinkSpec, args: &RunArgs) -> Result<()> {
    let until = match &args.until {
        Some(t) => Some(Timestamp::parse_rfc3339(t).with_context(|| format!("--until {t:?} is not an RFC 3339 time such as 2026-12-31T00:00:00Z"))?),
        None => None,
    };
    let mut source = FileSource::open(input)?;
    let actions = engine_config.actions.clone();
    let mut engine = Engine::new(engine_config);
    let opts = ReplayOptions {
        provisional_every: args.provisional_every,
        commit_every: args.commit_every,
        until,
        worst_sellers: args.worst_sellers,
        ..ReplayOptions::default()
    };
    let rt = super::runtime()?;
    if let Some(addr) = &args.metrics_addr {
        serve_metrics(&rt, addr, reports(file, args, sink == SinkSpec::ClickHouse)?)?.set_ready(true);
    }
    let (summary, target) = match sink {
        SinkSpec::File(dir) => {
            let mut sink = FileSink::create(&dir, actions)?;
            (rt.block_on(replay(&mut source, &mut engine, &mut sink, opts))?, dir.display().to_string())
        }
        SinkSpec::ClickHouse => {
            let settings = super::clickhouse_settings(file, &args.clickhouse);
            rt.block_on(async {
                super::prepare(&settings).await?;
                let mut sink = ClickHouseSink::new(&settings);
                replay(&mut source, &mut engine, &mut sink, opts).await
            })
            .map(|s| (s, format!("{} database {}", settings.redacted_url(), settings.database)))?
        }
    };
    log_summary(source.name(), &target, &summary);
    Ok(())
}

fn run_kafka(file: &ConfigFile, engine_config: EngineConfig, args: &RunArgs) -> Result<()> {
    let mut kafka = super::kafka_settings(file, &args.kafka)?;
    if let Some(c) = &args.commit_interval {
        kafka.commit_interval = c.clone();
    }
    if let Some(i) = &args.idle_timeout {
        kafka.idle_timeout = i.clone();
    }
    if args.backfill {
        kafka.wall_clock = false;
    }
    let options = stream_options(&kafka, args)?;
    let settings = super::clickhouse_settings(file, &args.clickhouse);
    tracing::info!(kafka = %kafka.redacted(), clickhouse = %settings.redacted(), "effective configuration");
    let rt = super::runtime()?;
    rt.block_on(super::prepare(&settings))?;
    let health = serve_metrics(&rt, args.metrics_addr.as_deref().unwrap_or(DEFAULT_METRICS_ADDR), reports(file, args, true)?)?;
    let summary = run_stream(&kafka, &settings, engine_config, options, &rt, health)?;
    log_stream_summary(&kafka, &summary);
    Ok(())
}

fn stream_options(kafka: &KafkaSettings, args: &RunArgs) -> Result<StreamOptions> {
    Ok(StreamOptions {
        commit_interval: kafka.commit_interval()?,
        quiet: crate::stream::Quiet { idle_timeout: kafka.idle_timeout()?, wall_clock: kafka.wall_clock },
        provisional: args.provisional,
        stop_when_idle: args.stop_when_idle,
        ready_max_lag: args.ready_max_lag,
        worst_sellers: args.worst_sellers,
    })
}

/// Where a Kafka run serves its endpoints unless told otherwise.
const DEFAULT_METRICS_ADDR: &str = "127.0.0.1:9464";

/// Starts the metrics endpoint unless `addr` is `off`; returns the readiness it reports.
fn serve_metrics(rt: &tokio::runtime::Runtime, addr: &str, reports: Option<Arc<ReportService>>) -> Result<Arc<Health>> {
    let health = Arc::new(Health::default());
    if addr != "off" {
        rt.block_on(serve_with_reports(addr, health.clone(), reports))?;
    }
    Ok(health)
}

/// What serves `/reports/{seller}/{week}`: the ClickHouse the run writes to (none for other sinks).
fn reports(file: &ConfigFile, args: &RunArgs, clickhouse: bool) -> Result<Option<Arc<ReportService>>> {
    if !clickhouse {
        return Ok(None);
    }
    let tz = file.engine_config(args.timezone.as_deref(), args.allowed_lateness.as_deref())?.timezone;
    Ok(Some(Arc::new(ReportService::new(super::clickhouse_settings(file, &args.clickhouse), tz, args.reports_token.clone()))))
}

fn log_stream_summary(kafka: &KafkaSettings, s: &StreamSummary) {
    tracing::info!(
        group = %kafka.group_id,
        records = s.records,
        outputs = s.outputs,
        cycles = s.cycles,
        busy_seconds = s.busy.as_secs_f64(),
        "stopped; everything consumed is durable and committed"
    );
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
