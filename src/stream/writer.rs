//! The commit cycle's slow half, on the async runtime: rows and dead letters into ClickHouse,
//! dead letters onto their topic, then the checkpoints; only then are offsets acknowledged
//! for commit. One cycle at a time, in order.

use super::checkpoints::{CheckpointRow, CheckpointStore};
use super::dead_letters::DeadLetterPublisher;
use super::shard::ShardCycle;
use crate::sink::clickhouse::ClickHouseSink;
use crate::sink::Sink;
use crate::telemetry::{metrics, QualityBoard};
use anyhow::{Context, Result};
use quality_engine::{DeadLetter, Output};
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
    /// Per partition: the next offset of each input (-1: nothing read) and the dead-letter position.
    pub shards: Vec<(i32, Vec<i64>, i64)>,
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
    dead_letters: DeadLetterPublisher,
    board: Arc<Mutex<QualityBoard>>,
) -> Result<()> {
    let m = metrics();
    let mut checkpoint_bytes: BTreeMap<i32, usize> = BTreeMap::new();
    let mut positions: BTreeMap<i32, i64> = BTreeMap::new();
    while let Some(cycle) = cycles.recv().await {
        let start = Instant::now();
        let mut outputs = 0;
        let mut letters: Vec<(i32, DeadLetter)> = Vec::new();
        for s in &cycle.shards {
            sink.write(&s.outputs).await?;
            outputs += s.outputs.len();
            letters.extend(s.publish.iter().map(|d| (s.partition, d.clone())));
        }
        sink.commit().await.context("writing results to ClickHouse")?;
        let flush = Instant::now();
        let published = dead_letters.publish(&letters).await.context("publishing dead letters")?;
        if !letters.is_empty() {
            m.sink_batches.with_label_values(&["dead_letter_topic"]).inc();
            m.sink_rows.with_label_values(&["dead_letter_topic", "dead_letters"]).inc_by(letters.len() as u64);
            m.sink_flush.with_label_values(&["dead_letter_topic"]).observe(flush.elapsed().as_secs_f64());
        }
        let mut rows: Vec<CheckpointRow> = Vec::with_capacity(cycle.shards.len());
        let mut shards = Vec::with_capacity(cycle.shards.len());
        let mut cycle_outputs = Vec::with_capacity(cycle.shards.len());
        for s in cycle.shards {
            cycle_outputs.push(s.outputs);
            let mut row = s.checkpoint;
            let position = positions.entry(s.partition).or_insert(row.dead_letter_position);
            *position = (*position).max(row.dead_letter_position).max(published.get(&s.partition).copied().unwrap_or(0));
            row.dead_letter_position = *position;
            shards.push((s.partition, row.offsets.clone(), row.dead_letter_position));
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
