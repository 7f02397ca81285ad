//! The `checkpoints` table: each partition's engine state with the input offsets it covers.

use crate::sink::clickhouse::{insert_all, ClickHouseSettings};
use anyhow::{bail, Result};
use clickhouse::{Client, Row};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// One partition's checkpoint, as stored.
#[derive(Debug, Clone, PartialEq, Row, Serialize, Deserialize)]
pub struct CheckpointRow {
    /// The consumer group that owns it.
    pub consumer_group: String,
    /// The partition number (the same in every input topic).
    pub partition: u32,
    /// Grows with every checkpoint of the partition: the latest wins.
    pub version: u64,
    /// The input topics, in input order.
    pub topics: Vec<String>,
    /// The next offset to read in each input topic.
    pub offsets: Vec<i64>,
    /// Per output topic (dead letters, escalations, survey requests): the offset after this
    /// partition's last published record.
    pub output_positions: Vec<i64>,
    /// Identities of records published before a crash and not yet met again on replay.
    pub suppressed: Vec<u64>,
    /// The engine state (`Engine::checkpoint`).
    #[serde(with = "serde_bytes")]
    pub state: Vec<u8>,
}

impl CheckpointRow {
    /// The version of a checkpoint covering `offsets`, the `seq`-th of its partition: the
    /// offsets' sum first, so that a checkpoint covering more input always wins.
    pub fn version_of(offsets: &[i64], seq: u64) -> u64 {
        let progress: i64 = offsets.iter().map(|o| o.max(&0)).sum();
        ((progress as u64) << 20) | (seq & 0xF_FFFF)
    }

    /// The per-partition sequence number inside [`CheckpointRow::version_of`].
    pub fn seq(&self) -> u64 {
        self.version & 0xF_FFFF
    }
}

/// Reads and writes checkpoints in the pipeline's ClickHouse database.
#[derive(Clone)]
pub struct CheckpointStore {
    client: Client,
    /// The server, credentials masked, for logs.
    url: String,
    group: String,
}

impl CheckpointStore {
    /// A store for one consumer group.
    pub fn new(settings: &ClickHouseSettings, group: &str) -> CheckpointStore {
        CheckpointStore { client: settings.client(), url: settings.redacted_url(), group: group.to_owned() }
    }

    /// The latest checkpoint of `partition`, checked against the current input topics;
    /// waits (retrying with backoff) while ClickHouse does not answer.
    pub async fn load(&self, partition: i32, topics: &[&str]) -> Result<Option<CheckpointRow>> {
        let mut wait = Duration::from_millis(200);
        let row = loop {
            let query = self
                .client
                .query("SELECT ?fields FROM checkpoints WHERE consumer_group = ? AND partition = ? ORDER BY version DESC LIMIT 1")
                .bind(&self.group)
                .bind(partition as u32);
            match query.fetch_optional::<CheckpointRow>().await {
                Ok(row) => break row,
                Err(e) => {
                    tracing::warn!(partition, error = %e, url = %self.url, "cannot read the checkpoint from ClickHouse; retrying (the partition waits)");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(10));
                }
            }
        };
        if let Some(r) = &row {
            if r.topics != topics {
                bail!(
                    "the checkpoint of partition {partition} for group {:?} was written for topics {:?}, not {:?}: use another --group-id for other topics, or delete it (ALTER TABLE checkpoints DELETE WHERE consumer_group = '{}') to rebuild from the start of the topics",
                    self.group,
                    r.topics,
                    topics,
                    self.group
                );
            }
        }
        Ok(row)
    }

    /// Writes checkpoints, retrying until ClickHouse acknowledges them.
    pub async fn save(&self, rows: &[CheckpointRow]) -> Result<()> {
        insert_all(&self.client, &self.url, "checkpoints", rows).await
    }
}

#[cfg(test)]
mod tests {
    use super::CheckpointRow;

    #[test]
    fn more_input_wins_then_the_later_checkpoint() {
        let a = CheckpointRow::version_of(&[10, 5, 0], 7);
        let b = CheckpointRow::version_of(&[10, 6, 0], 1);
        let c = CheckpointRow::version_of(&[10, 6, 0], 2);
        assert!(a < b && b < c);
        assert_eq!(c & 0xF_FFFF, 2);
        assert_eq!(CheckpointRow::version_of(&[-2, -2, -2], 0), 0);
    }
}
