//! The streaming runner: a Kafka consumer group in, ClickHouse and the dead-letter topic out.
//!
//! Each assigned partition number gets its own engine (a [`shard::Shard`]) fed by that
//! partition of the three input topics. Every commit interval the shards' outputs and
//! checkpoints go to the [`writer`], which makes them durable in order: rows, dead letters,
//! checkpoints; only then are the input offsets committed. A partition that moves to this
//! instance resumes from its checkpoint, so a restart never replays whole topics.
//! `docs/architecture.md` explains the design and its costs.

mod checkpoints;
mod outbox;
mod shard;
mod writer;

pub use checkpoints::{CheckpointRow, CheckpointStore};
pub use outbox::read_to_end;
pub use shard::Quiet;

use crate::kafka::{check_copartitioned, KafkaSettings};
use crate::sink::clickhouse::{ClickHouseSettings, ClickHouseSink};
use crate::telemetry::{metrics, EventCounters, Health, QualityBoard};
use anyhow::{anyhow, bail, Context, Result};
use outbox::{published_since, Publisher, OUTPUTS};
use quality_engine::contract::Timestamp;
use quality_engine::engine::Clock;
use quality_engine::{Engine, EngineConfig};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext};
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{ClientContext, Message, Offset, TopicPartitionList};
use shard::{Shard, INPUTS};
use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::ffi::{CStr, CString};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use writer::{Ack, Cycle};

/// How the streaming runner behaves.
#[derive(Debug, Clone, Copy)]
pub struct StreamOptions {
    /// How often results become durable and offsets are committed.
    pub commit_interval: Duration,
    /// Quiet inputs and the wall clock.
    pub quiet: Quiet,
    /// Also write provisional rows of changed open windows at every commit.
    pub provisional: bool,
    /// Exit once every assigned input has been idle for the idle timeout (backfills, benchmarks).
    pub stop_when_idle: bool,
    /// Ready (`/readyz`) only while the total lag is at most this many records.
    pub ready_max_lag: i64,
    /// Worst sellers per cadence and standard exported as their own series.
    pub worst_sellers: usize,
}

/// What a streaming run did.
#[derive(Debug, Clone, Default)]
pub struct StreamSummary {
    /// Records consumed.
    pub records: u64,
    /// Rows and dead letters made durable.
    pub outputs: u64,
    /// Commit cycles made durable.
    pub cycles: u64,
    /// From the first record until the last record was processed.
    pub consumed: Duration,
    /// From the first record until the last record's results were durable.
    pub busy: Duration,
}

/// State shared between the poll loop and the rebalance callbacks (both on the poll thread).
struct Processor {
    kafka: KafkaSettings,
    engine_config: EngineConfig,
    options: StreamOptions,
    store: CheckpointStore,
    handle: tokio::runtime::Handle,
    output_partitions: [i32; OUTPUTS],
    shards: Vec<Option<Shard>>,
    cycles: tokio::sync::mpsc::Sender<Cycle>,
    acks: std::sync::mpsc::Receiver<Ack>,
    in_flight: u64,
    next_cycle: u64,
    fatal: Option<anyhow::Error>,
    summary: StreamSummary,
    started: Instant,
    first_record: Option<Instant>,
    counters: Vec<EventCounters>,
    state_counters: EventCounters,
    board: Arc<Mutex<QualityBoard>>,
    health: Arc<Health>,
    sent: VecDeque<(u64, Instant)>,
    last_state_report: Instant,
    /// The input topics as C strings, for librdkafka's cached watermarks.
    topics_c: [CString; INPUTS],
}

/// The consumer's context: rebalances go through the processor.
struct Callbacks {
    processor: Mutex<Processor>,
}

impl ClientContext for Callbacks {}

impl ConsumerContext for Callbacks {
    fn rebalance(&self, consumer: &BaseConsumer<Self>, err: RDKafkaRespErr, tpl: &mut TopicPartitionList) {
        let mut p = self.processor.lock().unwrap_or_else(|e| e.into_inner());
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                if let Err(e) = p.assign(tpl) {
                    p.fatal = Some(e);
                }
                if let Err(e) = consumer.assign(tpl) {
                    p.fatal.get_or_insert(anyhow!(e).context("assigning partitions"));
                }
            }
            _ => {
                let lost = err != RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS || consumer.assignment_lost();
                if let Err(e) = p.revoke(consumer, lost) {
                    p.fatal.get_or_insert(e);
                }
                if let Err(e) = consumer.unassign() {
                    tracing::warn!(error = %e, "unassigning partitions");
                }
            }
        }
    }
}

impl Processor {
    /// Restores (or creates) the shard of every newly assigned partition number and sets
    /// each input partition's start offset from its checkpoint.
    fn assign(&mut self, tpl: &mut TopicPartitionList) -> Result<()> {
        let begun = Instant::now();
        let partitions: BTreeSet<i32> = tpl.elements().iter().map(|e| e.partition()).collect();
        let topics = self.kafka.input_topics();
        let mut restored = Vec::new();
        for p in partitions {
            for t in topics {
                if tpl.find_partition(t, p).is_none() {
                    bail!("partition {p} of {t:?} was not assigned with the other topics' partition {p}: the consumer must use partition.assignment.strategy=range and the topics must be co-partitioned");
                }
            }
            let checkpoint = self.handle.block_on(self.store.load(p, &topics))?;
            let engine = match &checkpoint {
                Some(c) => Engine::restore(self.engine_config.clone(), &c.state)
                    .map_err(|e| anyhow!("{e}"))
                    .with_context(|| format!("restoring partition {p} from its checkpoint"))?,
                None => Engine::new(self.engine_config.clone()),
            };
            restored.push((p, engine, checkpoint));
        }
        let mut seen: BTreeMap<i32, (HashSet<u64>, [i64; OUTPUTS])> = BTreeMap::new();
        for topic in 0..OUTPUTS {
            let wanted: Vec<(i32, i64)> =
                restored.iter().map(|(p, _, c)| (*p, c.as_ref().and_then(|c| c.output_positions.get(topic).copied()).unwrap_or(0))).collect();
            for (p, (ids, end)) in published_since(&self.kafka, topic, self.output_partitions[topic], &wanted)? {
                let entry = seen.entry(p).or_default();
                entry.0.extend(ids);
                entry.1[topic] = end;
            }
        }
        for (p, engine, checkpoint) in restored {
            let (published, positions) = seen.remove(&p).unwrap_or_default();
            let shard = Shard::new(p, engine, checkpoint.as_ref(), published, positions, Instant::now());
            for (t, next) in topics.iter().zip(shard.next) {
                let offset = if next >= 0 { Offset::Offset(next) } else { Offset::Beginning };
                tpl.set_partition_offset(t, p, offset).with_context(|| format!("setting the start offset of {t}/{p}"))?;
            }
            tracing::info!(partition = p, from_checkpoint = checkpoint.is_some(), offsets = ?shard.next, "partition assigned");
            let slot = p as usize;
            if self.shards.len() <= slot {
                self.shards.resize_with(slot + 1, || None);
            }
            self.shards[slot] = Some(shard);
        }
        tracing::info!(seconds = begun.elapsed().as_secs_f64(), "assignment restored");
        metrics().rebalances.with_label_values(&["assign"]).inc();
        metrics().assigned_partitions.set(self.shards.iter().flatten().count() as i64);
        self.excuse(begun);
        Ok(())
    }

    /// Quiet time starts over after the poll loop was held up since `begun` (restoring
    /// partitions, waiting for the writer): no record could arrive then.
    fn excuse(&mut self, begun: Instant) {
        let blocked = begun.elapsed();
        for s in self.shards.iter_mut().flatten() {
            s.excuse(blocked);
        }
    }

    /// Makes the revoked shards durable and commits them (unless the assignment was lost,
    /// when another member may already own them), then drops them.
    fn revoke(&mut self, consumer: &BaseConsumer<Callbacks>, lost: bool) -> Result<()> {
        if !lost {
            self.send_cycle()?;
            self.wait_all(consumer)?;
        }
        let revoked: Vec<i32> = self.shards.iter().flatten().map(|s| s.partition).collect();
        self.shards.clear();
        let m = metrics();
        m.rebalances.with_label_values(&[if lost { "lost" } else { "revoke" }]).inc();
        m.assigned_partitions.set(0);
        m.lag.reset();
        m.watermark.reset();
        m.watermark_delay.reset();
        self.health.set_ready(false);
        tracing::info!(partitions = ?revoked, lost, "partitions revoked");
        Ok(())
    }

    /// Hands every changed shard's outputs and checkpoint to the writer (waits while the
    /// previous cycle is still being written: that is the backpressure).
    fn send_cycle(&mut self) -> Result<()> {
        let (group, topics) = (&self.kafka.group_id, self.kafka.input_topics());
        let (provisional, state) = (self.options.provisional, &self.state_counters);
        let shards: Vec<_> = self.shards.iter_mut().flatten().filter_map(|s| s.cycle(provisional, group, &topics, state)).collect();
        if shards.is_empty() {
            return Ok(());
        }
        self.next_cycle += 1;
        let begun = Instant::now();
        self.cycles.blocking_send(Cycle { id: self.next_cycle, shards }).map_err(|_| anyhow!("the result writer stopped (see the error above)"))?;
        self.excuse(begun);
        self.in_flight += 1;
        self.sent.push_back((self.next_cycle, begun));
        Ok(())
    }

    /// Commits the offsets of a durable cycle.
    fn on_ack(&mut self, consumer: &BaseConsumer<Callbacks>, ack: Ack) {
        self.in_flight -= 1;
        self.summary.cycles += 1;
        self.summary.outputs += ack.outputs as u64;
        if let Some(first) = self.first_record {
            self.summary.busy = first.elapsed();
        }
        let mut tpl = TopicPartitionList::new();
        for (p, offsets, positions) in &ack.shards {
            if let Some(Some(s)) = self.shards.get_mut(*p as usize) {
                s.positions.iter_mut().zip(positions).for_each(|(s, a)| *s = (*s).max(*a));
            }
            for (t, o) in self.kafka.input_topics().iter().zip(offsets) {
                if *o >= 0 {
                    let _ = tpl.add_partition_offset(t, *p, Offset::Offset(*o));
                }
            }
        }
        tracing::debug!(cycle = ack.id, outputs = ack.outputs, seconds = ack.seconds, "cycle durable");
        if tpl.count() > 0 {
            if let Err(e) = consumer.commit(&tpl, CommitMode::Sync) {
                tracing::warn!(error = %e, "committing offsets failed; the checkpoint already covers them, so nothing is lost");
            }
        }
        while let Some((id, at)) = self.sent.pop_front() {
            if id == ack.id {
                metrics().commit_seconds.observe(at.elapsed().as_secs_f64());
                break;
            }
        }
        metrics().commits.inc();
    }

    /// Takes the acknowledgements that arrived, without waiting.
    fn poll_acks(&mut self, consumer: &BaseConsumer<Callbacks>) {
        while let Ok(ack) = self.acks.try_recv() {
            self.on_ack(consumer, ack);
        }
    }

    /// Waits until every cycle sent is durable.
    fn wait_all(&mut self, consumer: &BaseConsumer<Callbacks>) -> Result<()> {
        let begun = Instant::now();
        while self.in_flight > 0 {
            let ack = self.acks.recv().map_err(|_| anyhow!("the result writer stopped (see the error above)"))?;
            self.on_ack(consumer, ack);
        }
        self.excuse(begun);
        Ok(())
    }

    fn tick(&mut self, consumer: &BaseConsumer<Callbacks>, now: Instant) {
        let wall = Timestamp(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64));
        let quiet = self.options.quiet;
        let names = self.kafka.input_topics();
        let m = metrics();
        let mut total_lag = 0i64;
        let mut min_watermark: Option<Timestamp> = None;
        for s in self.shards.iter_mut().flatten() {
            let high = std::array::from_fn(|i| cached_high_watermark(consumer, &self.topics_c[i], s.partition));
            s.tick(now, wall, quiet, high);
            let partition = s.partition.to_string();
            for (topic, lag) in names.iter().zip(s.lag(high)) {
                let lag = lag.unwrap_or(0);
                total_lag += lag;
                m.lag.with_label_values(&[*topic, partition.as_str()]).set(lag);
            }
            if let Some(w) = s.engine.watermark() {
                m.watermark.with_label_values(&[partition.as_str()]).set(w.0 as f64 / 1000.0);
                m.watermark_delay.with_label_values(&[partition.as_str()]).set((wall.0 - w.0) as f64 / 1000.0);
            }
            min_watermark = match (min_watermark, s.engine.watermark()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        let assigned = self.shards.iter().flatten().count();
        self.health.set_ready(assigned > 0 && total_lag <= self.options.ready_max_lag);
        self.board.lock().unwrap_or_else(|e| e.into_inner()).publish(min_watermark, m);
        if now.duration_since(self.last_state_report) >= Duration::from_secs(5) {
            self.last_state_report = now;
            let mut total = quality_engine::StateSizes::default();
            for s in self.shards.iter().flatten() {
                total += s.engine.state_sizes();
            }
            publish_state(&total);
        }
    }

    fn all_idle(&self, now: Instant) -> bool {
        let mut shards = self.shards.iter().flatten().peekable();
        shards.peek().is_some() && shards.all(|s| s.all_idle(now, self.options.quiet))
    }
}

/// Sets the state gauges.
pub fn publish_state(s: &quality_engine::StateSizes) {
    let m = metrics();
    for (kind, n) in [
        ("sellers", s.sellers),
        ("seller_days", s.seller_days),
        ("open_orders", s.open_orders),
        ("open_messages", s.open_messages),
        ("event_ids", s.event_ids),
        ("timers", s.timers),
        ("acting", s.acting),
        ("awaiting_complaints", s.awaiting_complaints),
    ] {
        m.state_items.with_label_values(&[kind]).set(n as i64);
    }
}

/// The high watermark of a partition as last reported to the consumer by a fetch (no
/// broker round trip; `None` until the first fetch).
fn cached_high_watermark(consumer: &BaseConsumer<Callbacks>, topic: &CStr, partition: i32) -> Option<i64> {
    let (mut low, mut high) = (-1i64, -1i64);
    // SAFETY: the client pointer is valid while `consumer` lives, `topic` is NUL-terminated,
    // and the call only reads librdkafka's cached offsets into the two locals.
    let err =
        unsafe { rdkafka::bindings::rd_kafka_get_watermark_offsets(consumer.client().native_ptr(), topic.as_ptr(), partition, &mut low, &mut high) };
    (err == RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR && high >= 0).then_some(high)
}

/// Consumes the input topics in the configured group until stopped (SIGINT/SIGTERM) or,
/// with `stop_when_idle`, until every assigned input is idle and its results durable.
pub fn run_stream(
    kafka: &KafkaSettings,
    clickhouse: &ClickHouseSettings,
    mut engine_config: EngineConfig,
    options: StreamOptions,
    runtime: &tokio::runtime::Runtime,
    health: Arc<Health>,
) -> Result<StreamSummary> {
    engine_config.clock = Clock::Driven;
    let board = Arc::new(Mutex::new(QualityBoard::new(
        quality_engine::window::Calendar::new(engine_config.timezone),
        options.worst_sellers,
        &engine_config.standards.latest().standards,
        metrics(),
    )));
    let store = CheckpointStore::new(clickhouse, &kafka.group_id);
    let (cycle_tx, cycle_rx) = tokio::sync::mpsc::channel(1);
    let (ack_tx, ack_rx) = std::sync::mpsc::channel();
    let processor = Processor {
        kafka: kafka.clone(),
        engine_config,
        options,
        store: store.clone(),
        handle: runtime.handle().clone(),
        output_partitions: [1; OUTPUTS],
        shards: Vec::new(),
        cycles: cycle_tx,
        acks: ack_rx,
        in_flight: 0,
        next_cycle: 0,
        fatal: None,
        summary: StreamSummary::default(),
        started: Instant::now(),
        first_record: None,
        counters: kafka.input_topics().iter().map(|t| EventCounters::new(t)).collect(),
        state_counters: EventCounters::new("state"),
        board: board.clone(),
        health,
        sent: VecDeque::new(),
        last_state_report: Instant::now(),
        topics_c: kafka.input_topics().map(|t| CString::new(t).unwrap_or_default()),
    };
    let consumer: BaseConsumer<Callbacks> = kafka
        .consumer_config()
        .create_with_context(Callbacks { processor: Mutex::new(processor) })
        .context("cannot create the Kafka consumer; check --brokers and --kafka-property")?;
    let layout = check_copartitioned(&consumer, kafka)?;
    let publisher = Publisher::new(kafka, layout.output_partitions)?;
    lock(&consumer).output_partitions = layout.output_partitions;
    let writer = runtime.spawn(writer::write_cycles(cycle_rx, ack_tx, ClickHouseSink::new(clickhouse), store, publisher, board));
    let stop = Arc::new(AtomicBool::new(false));
    runtime.spawn(stop_on_signal(stop.clone()));
    consumer.subscribe(&kafka.input_topics()).context("subscribing to the input topics")?;
    tracing::info!(brokers = %kafka.brokers, group = %kafka.group_id, topics = ?kafka.input_topics(), partitions = layout.partitions, "consuming");

    let result = poll_loop(&consumer, &stop);
    let finished = result.and_then(|()| {
        let mut p = lock(&consumer);
        p.send_cycle()?;
        p.wait_all(&consumer)
    });
    let summary = lock(&consumer).summary.clone();
    drop(consumer);
    if writer.is_finished() {
        if let Ok(Err(e)) = runtime.block_on(writer) {
            return Err(e);
        }
    }
    finished.map(|()| summary)
}

fn lock(consumer: &BaseConsumer<Callbacks>) -> std::sync::MutexGuard<'_, Processor> {
    consumer.context().processor.lock().unwrap_or_else(|e| e.into_inner())
}

/// Polls records into the shards; ticks clocks and commits on schedule.
fn poll_loop(consumer: &BaseConsumer<Callbacks>, stop: &AtomicBool) -> Result<()> {
    let topics: Vec<String> = lock(consumer).kafka.input_topics().iter().map(|t| t.to_string()).collect();
    let (commit_interval, stop_when_idle) = {
        let p = lock(consumer);
        (p.options.commit_interval, p.options.stop_when_idle)
    };
    let mut last_commit = Instant::now();
    let mut last_tick = Instant::now();
    let mut last_log = Instant::now();
    let mut since_check = 0u32;
    loop {
        let polled = consumer.poll(Duration::from_millis(100));
        let mut p = lock(consumer);
        if let Some(e) = p.fatal.take() {
            return Err(e);
        }
        let got_record = match polled {
            Some(Ok(m)) => {
                let input = topics.iter().position(|t| t == m.topic()).unwrap_or(0);
                let Processor { shards, counters, .. } = &mut *p;
                match shards.get_mut(m.partition() as usize) {
                    Some(Some(shard)) => shard.ingest(input, m.topic(), m.offset(), m.payload().unwrap_or_default(), &counters[input]),
                    _ => tracing::warn!(
                        topic = m.topic(),
                        partition = m.partition(),
                        "record of a partition not assigned here; skipped (it is re-read by its owner)"
                    ),
                }
                p.summary.records += 1;
                true
            }
            Some(Err(e)) => {
                tracing::warn!(error = %e, "Kafka consumer error; librdkafka retries by itself");
                false
            }
            None => false,
        };
        since_check += 1;
        if got_record && since_check < 1024 {
            continue;
        }
        since_check = 0;
        let now = Instant::now();
        if got_record {
            let first = *p.first_record.get_or_insert(now);
            p.summary.consumed = now.duration_since(first);
        }
        p.poll_acks(consumer);
        if now.duration_since(last_tick) >= Duration::from_millis(100) {
            last_tick = now;
            p.tick(consumer, now);
        }
        if now.duration_since(last_commit) >= commit_interval {
            last_commit = now;
            p.send_cycle()?;
        }
        if now.duration_since(last_log) >= Duration::from_secs(5) {
            last_log = now;
            let rate = p.summary.records as f64 / p.started.elapsed().as_secs_f64();
            let watermark = p.shards.iter().flatten().filter_map(|s| s.engine.watermark()).min();
            tracing::info!(records = p.summary.records, records_per_second = rate as u64, partitions = p.shards.iter().flatten().count(), watermark = ?watermark.map(|w| w.to_string()), "consuming");
        }
        if stop.load(Ordering::Relaxed) {
            tracing::info!("stopping: making the results durable and committing");
            return Ok(());
        }
        if stop_when_idle && p.all_idle(now) {
            p.tick(consumer, now);
            p.send_cycle()?;
            p.wait_all(consumer)?;
            if p.all_idle(Instant::now()) {
                tracing::info!("every input is idle; stopping (--stop-when-idle)");
                return Ok(());
            }
        }
    }
}

/// Sets `stop` on SIGINT or SIGTERM.
async fn stop_on_signal(stop: Arc<AtomicBool>) {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
    stop.store(true, Ordering::Relaxed);
}
