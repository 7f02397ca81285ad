//! The commit cycle's slow half, on the async runtime: every output into ClickHouse, dead
//! letters, escalations and survey requests onto their topics, then the checkpoints; only then
//! are offsets acknowledged for commit. One cycle at a time, in order.

use super::checkpoints::{CheckpointRow, CheckpointStore};
use super::outbox::{Outgoing, Publisher, OUTPUTS};
use super::shard::ShardCycle;
use crate::sink::clickhouse::ClickHouseSink;
use crate::sink::Sink;
use crate::telemetry::{metrics, QualityBoard};
use anyhow::{Context, Result};
use quality_engine::Output;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Everything the shards produced since the last cycle.
pub struct Cycle {
    /// Sequence number (for logs).
    pub id: u64,
    /// The shards that changed.
    pub shards: Vec<ShardCycle>,
}

/// A cycle made durable: the offsets it covers may now be committed.
pub struct Ack {
    /// The cycle.
    pub id: u64,
    /// Per partition: the next offset of each input (-1: nothing read) and the output-topic positions.
    pub shards: Vec<(i32, Vec<i64>, Vec<i64>)>,
    /// Window rows and dead letters written.
    pub outputs: usize,
    /// How long the cycle took to become durable.
    pub seconds: f64,
}

/// Writes cycles until the channel closes; stops at the first error that retries cannot cure.
pub async fn write_cycles(
    mut cycles: tokio::sync::mpsc::Receiver<Cycle>,
    acks: std::sync::mpsc::Sender<Ack>,
    mut sink: ClickHouseSink,
    store: CheckpointStore,
    publisher: Publisher,
    board: Arc<Mutex<QualityBoard>>,
) -> Result<()> {
    let m = metrics();
    let mut checkpoint_bytes: BTreeMap<i32, usize> = BTreeMap::new();
    let mut positions: BTreeMap<i32, Vec<i64>> = BTreeMap::new();
    while let Some(mut cycle) = cycles.recv().await {
        let start = Instant::now();
        let mut outputs = 0;
        let mut records: Vec<(i32, Outgoing)> = Vec::new();
        for s in &mut cycle.shards {
            sink.write(&s.outputs).await?;
            outputs += s.outputs.len();
            records.extend(s.publish.drain(..).map(|r| (s.partition, r)));
        }
        sink.commit().await.context("writing results to ClickHouse")?;
        let flush = Instant::now();
        let published = publisher.publish(&records).await.context("publishing to the output topics")?;
        for (topic, name) in [(0, "dead_letters"), (1, "escalations"), (2, "survey_requests")] {
            let n = records.iter().filter(|(_, r)| r.topic == topic).count();
            if n > 0 {
                m.sink_batches.with_label_values(&["kafka"]).inc();
                m.sink_rows.with_label_values(&["kafka", name]).inc_by(n as u64);
            }
        }
        if !records.is_empty() {
            m.sink_flush.with_label_values(&["kafka"]).observe(flush.elapsed().as_secs_f64());
        }
        let mut rows: Vec<CheckpointRow> = Vec::with_capacity(cycle.shards.len());
        let mut shards = Vec::with_capacity(cycle.shards.len());
        let mut cycle_outputs = Vec::with_capacity(cycle.shards.len());
        for s in cycle.shards {
            cycle_outputs.push(s.outputs);
            let mut row = s.checkpoint;
            let known = positions.entry(s.partition).or_insert_with(|| row.output_positions.clone());
            known.resize(OUTPUTS, 0);
            for (topic, position) in known.iter_mut().enumerate() {
                let now = published.get(&(s.partition, topic)).copied().unwrap_or(0);
                *position = (*position).max(row.output_positions.get(topic).copied().unwrap_or(0)).max(now);
            }
            row.output_positions = known.clone();
            shards.push((s.partition, row.offsets.clone(), row.output_positions.clone()));
            checkpoint_bytes.insert(s.partition, row.state.len());
            rows.push(row);
        }
        store.save(&rows).await.context("writing checkpoints to ClickHouse")?;
        m.sink_rows.with_label_values(&["clickhouse", "checkpoints"]).inc_by(rows.len() as u64);
        m.checkpoint_bytes.set(checkpoint_bytes.values().sum::<usize>() as i64);
        let mut quality = board.lock().unwrap_or_else(|e| e.into_inner());
        for s in &cycle_outputs {
            for o in s {
                if let Output::Row(r) = o {
                    quality.observe(r);
                }
            }
        }
        drop(quality);
        let ack = Ack { id: cycle.id, shards, outputs, seconds: start.elapsed().as_secs_f64() };
        if acks.send(ack).is_err() {
            break;
        }
    }
    Ok(())
}
