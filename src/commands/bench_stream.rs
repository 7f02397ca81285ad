//! `bench-stream`: end-to-end throughput of the production path (Kafka topics pre-filled with
//! generated events -> every window durable in ClickHouse), beside the bare consume rate of
//! the same topics with the same client settings, in one run.

use crate::cli::BenchStreamArgs;
use crate::config::ConfigFile;
use crate::generate::{generate, GeneratorConfig};
use crate::kafka::{create_topics, produce_lines, KafkaSettings};
use crate::sink::clickhouse::migrate;
use crate::source::FileSource;
use crate::stream::{run_stream, Quiet, StreamOptions};
use anyhow::{Context, Result};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::Message;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Fills fresh topics, measures the bare consume rate, then the pipeline, and prints both.
pub fn run(config: Option<&Path>, args: BenchStreamArgs) -> Result<()> {
    let file = ConfigFile::load(config)?;
    let engine_config = file.engine_config(None, None)?;
    let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let base = super::kafka_settings(&file, &args.kafka)?;
    let kafka = KafkaSettings {
        group_id: format!("bench-{stamp}"),
        orders_topic: format!("bench-{stamp}.orders"),
        messages_topic: format!("bench-{stamp}.messages"),
        feedback_topic: format!("bench-{stamp}.feedback"),
        dead_letter_topic: format!("bench-{stamp}.dead_letter"),
        escalation_topic: format!("bench-{stamp}.escalations"),
        survey_topic: format!("bench-{stamp}.survey_requests"),
        commit_interval: args.commit_interval.clone(),
        idle_timeout: args.idle_timeout.clone(),
        wall_clock: true,
        ..base
    };
    let mut clickhouse = super::clickhouse_settings(&file, &args.clickhouse);
    clickhouse.database = format!("bench_{stamp}");
    let rt = super::runtime()?;

    let dir = std::env::temp_dir().join(format!("quality-bench-{stamp}"));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let events = dir.join("events.ndjson");
    let stream = GeneratorConfig {
        sellers: args.sellers,
        days: 400,
        seed: args.seed,
        orders_per_seller_day: args.orders_per_day,
        timezone: engine_config.timezone,
        ..GeneratorConfig::default()
    };
    let mut out = BufWriter::new(std::fs::File::create(&events)?);
    for line in generate(&stream).take(args.events as usize) {
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    drop(out);

    rt.block_on(create_topics(&kafka, args.partitions, 1))?;
    let started = Instant::now();
    let produced = produce_lines(&kafka, &mut FileSource::open(&events)?, false)?;
    let total: u64 = produced.per_topic.iter().sum();
    let produce_rate = total as f64 / started.elapsed().as_secs_f64();
    std::fs::remove_dir_all(&dir).ok();
    println!("topics filled: {total} events over {} partitions per topic ({produce_rate:.0} events/s to produce)", args.partitions);

    let bare = bare_consume(&kafka, total)?;
    println!(
        "bare consume ({} partitions, same client settings): {total} records in {:.2} s = {:.0} records/s",
        args.partitions,
        bare.as_secs_f64(),
        total as f64 / bare.as_secs_f64()
    );

    rt.block_on(migrate(&clickhouse))?;
    let options = StreamOptions {
        commit_interval: kafka.commit_interval()?,
        quiet: Quiet { idle_timeout: kafka.idle_timeout()?, wall_clock: true },
        provisional: false,
        stop_when_idle: true,
        ready_max_lag: 0,
        worst_sellers: 0,
    };
    let summary = run_stream(&kafka, &clickhouse, engine_config, options, &rt, Default::default())?;
    let e2e = summary.busy.as_secs_f64();
    let consumed = summary.consumed.as_secs_f64();
    println!(
        "consume + engine (every record processed, results not yet durable): {} records in {consumed:.2} s = {:.0} events/s",
        summary.records,
        summary.records as f64 / consumed
    );
    println!(
        "end to end (consume, engine, every window, dead letter and checkpoint durable in ClickHouse): {} records in {e2e:.2} s = {:.0} events/s ({} window rows and dead letters, {} commit cycles; includes the {} idle timeout before the last windows close)",
        summary.records,
        summary.records as f64 / e2e,
        summary.outputs,
        summary.cycles,
        args.idle_timeout
    );
    println!("ratio end-to-end / bare consume: {:.2} (target: at least 0.5)", bare.as_secs_f64() / e2e);
    println!("(database {} and topics bench-{stamp}.* are left for inspection)", clickhouse.database);
    Ok(())
}

/// Reads every record of the input topics once, doing nothing with them.
fn bare_consume(kafka: &KafkaSettings, expected: u64) -> Result<Duration> {
    let mut config = kafka.consumer_config();
    config.set("group.id", format!("{}-bare", kafka.group_id));
    let consumer: BaseConsumer = config.create().context("cannot create the bare consumer")?;
    consumer.subscribe(&kafka.input_topics())?;
    let mut seen = 0u64;
    let mut bytes = 0usize;
    let mut first: Option<Instant> = None;
    let deadline = Instant::now() + Duration::from_secs(600);
    while seen < expected {
        anyhow::ensure!(Instant::now() < deadline, "bare consume saw only {seen} of {expected} records in 10 minutes");
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            first.get_or_insert_with(Instant::now);
            bytes += m.payload().map_or(0, <[u8]>::len);
            seen += 1;
        }
    }
    std::hint::black_box(bytes);
    Ok(first.map_or(Duration::ZERO, |f| f.elapsed()))
}
