//! The dead-letter topic: every rejected event published exactly once, even across crashes.
//!
//! A crash between publishing a cycle's dead letters and writing its checkpoint makes the
//! replay reject the same events again. So before a partition resumes, the records it
//! published after its checkpoint's `dead_letter_position` are read back, and their
//! identities are suppressed once when the replay meets them again.

use crate::kafka::KafkaSettings;
use anyhow::{bail, Context, Result};
use quality_engine::DeadLetter;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Headers, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{ClientContext, Message, Offset, TopicPartitionList};
use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

/// Header naming the input partition whose engine rejected the event.
const PARTITION_HEADER: &str = "qp-partition";
/// Header naming the consumer group, so that two deployments sharing a topic stay apart.
const GROUP_HEADER: &str = "qp-group";

/// A dead letter's identity: where it came from and what it held (stable across processes).
pub fn identity(source: &str, payload: Option<&str>, payload_hex: Option<&str>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [source, "\n", payload.unwrap_or(""), "\n", payload_hex.unwrap_or("")] {
        for b in part.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// The identity of an engine dead letter.
pub fn identity_of(d: &DeadLetter) -> u64 {
    identity(&d.source, d.payload.as_deref(), d.payload_hex.as_deref())
}

/// Publishes dead letters to the dead-letter topic.
pub struct DeadLetterPublisher {
    producer: FutureProducer,
    topic: String,
    partitions: i32,
    group: String,
}

impl DeadLetterPublisher {
    /// A publisher on the configured topic with `partitions` partitions.
    pub fn new(settings: &KafkaSettings, partitions: i32) -> Result<DeadLetterPublisher> {
        let producer = settings.producer_config().create().context("cannot create the dead-letter producer")?;
        Ok(DeadLetterPublisher { producer, topic: settings.dead_letter_topic.clone(), partitions, group: settings.group_id.clone() })
    }

    /// The dead-letter partition of an input partition.
    pub fn partition_of(&self, input_partition: i32) -> i32 {
        input_partition % self.partitions
    }

    /// Publishes the dead letters of input partitions and waits for every acknowledgement;
    /// returns, per input partition, the offset after its last record.
    pub async fn publish(&self, letters: &[(i32, DeadLetter)]) -> Result<BTreeMap<i32, i64>> {
        let mut pending = Vec::with_capacity(letters.len());
        for (input_partition, letter) in letters {
            let value = serde_json::to_vec(letter).expect("a dead letter always serializes");
            let shard = input_partition.to_string();
            let headers = OwnedHeaders::new()
                .insert(Header { key: PARTITION_HEADER, value: Some(shard.as_str()) })
                .insert(Header { key: GROUP_HEADER, value: Some(self.group.as_str()) });
            let record =
                FutureRecord::to(&self.topic).partition(self.partition_of(*input_partition)).key(&letter.source).payload(&value).headers(headers);
            let delivery = self.producer.send_result(record).map_err(|(e, _)| e).context("cannot queue a dead letter")?;
            pending.push((*input_partition, delivery));
        }
        let mut positions = BTreeMap::new();
        for (input_partition, delivery) in pending {
            match delivery.await {
                Ok(Ok(d)) => {
                    let end = positions.entry(input_partition).or_insert(0);
                    *end = (*end).max(d.offset + 1);
                }
                Ok(Err((e, _))) => return Err(e).context("a dead letter was not delivered"),
                Err(_) => bail!("the dead-letter producer was shut down before delivering"),
            }
        }
        self.producer.flush(Duration::from_secs(60)).context("flushing the dead-letter producer")?;
        Ok(positions)
    }
}

/// Where to read back one input partition's dead letters: its dead-letter partition and the
/// position its checkpoint recorded.
#[derive(Debug, Clone, Copy)]
pub struct ReadBack {
    /// The input partition.
    pub input_partition: i32,
    /// Its dead-letter partition.
    pub dead_letter_partition: i32,
    /// The offset after its last record known to be covered by its checkpoint.
    pub from: i64,
}

/// A reader that treats reaching the end of a partition as news, not as an error to log.
struct EndIsNews;

impl ClientContext for EndIsNews {
    fn error(&self, error: KafkaError, reason: &str) {
        if error.rdkafka_error_code() != Some(RDKafkaErrorCode::PartitionEOF) {
            tracing::warn!(error = %error, reason, "dead-letter reader");
        }
    }
}

impl ConsumerContext for EndIsNews {}

/// What each input partition already published after its position: the identities, and the
/// position after everything read (a batch boundary, where the next read may start).
pub fn published_since(settings: &KafkaSettings, wanted: &[ReadBack]) -> Result<BTreeMap<i32, (HashSet<u64>, i64)>> {
    let mut result: BTreeMap<i32, (HashSet<u64>, i64)> = wanted.iter().map(|w| (w.input_partition, (HashSet::new(), w.from.max(0)))).collect();
    let mut starts: BTreeMap<i32, i64> = BTreeMap::new();
    for w in wanted {
        let s = starts.entry(w.dead_letter_partition).or_insert(w.from);
        *s = (*s).min(w.from);
    }
    if starts.is_empty() {
        return Ok(result);
    }
    let topic = settings.dead_letter_topic.as_str();
    let reader: BaseConsumer<EndIsNews> = settings.reader_config().create_with_context(EndIsNews).context("cannot create a dead-letter reader")?;
    let mut tpl = TopicPartitionList::new();
    for (partition, from) in &starts {
        tpl.add_partition_offset(topic, *partition, if *from > 0 { Offset::Offset(*from) } else { Offset::Beginning })
            .context("dead-letter partition")?;
    }
    reader.assign(&tpl).with_context(|| format!("cannot read back topic {topic:?}"))?;
    let mut open: HashSet<i32> = starts.keys().copied().collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !open.is_empty() {
        if Instant::now() > deadline {
            bail!("reading back the dead-letter topic {topic:?} took over 2 minutes; check the broker");
        }
        match reader.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                let header = |key: &str| m.headers().and_then(|h| h.iter().find(|x| x.key == key).and_then(|x| x.value));
                let owner = header(PARTITION_HEADER).and_then(|v| std::str::from_utf8(v).ok()).and_then(|v| v.parse::<i32>().ok());
                for w in wanted.iter().filter(|w| w.dead_letter_partition == m.partition()) {
                    let (seen, end) = result.get_mut(&w.input_partition).expect("every wanted partition has an entry");
                    *end = (*end).max(m.offset() + 1);
                    if owner != Some(w.input_partition) || header(GROUP_HEADER) != Some(settings.group_id.as_bytes()) || m.offset() < w.from {
                        continue;
                    }
                    let letter: serde_json::Value = m.payload().and_then(|p| serde_json::from_slice(p).ok()).unwrap_or_default();
                    let field = |k: &str| letter.get(k).and_then(|v| v.as_str());
                    seen.insert(identity(field("source").unwrap_or(""), field("payload"), field("payload_hex")));
                }
            }
            Some(Err(KafkaError::PartitionEOF(p))) => {
                open.remove(&p);
            }
            Some(Err(e)) => tracing::warn!(error = %e, topic, "while reading back dead letters; retrying"),
            None => {}
        }
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::identity;

    #[test]
    fn identity_separates_source_and_payload() {
        assert_eq!(identity("orders/1@5", Some("x"), None), identity("orders/1@5", Some("x"), None));
        assert_ne!(identity("orders/1@5", Some("x"), None), identity("orders/1@6", Some("x"), None));
        assert_ne!(identity("a", Some("b"), None), identity("a", None, Some("b")));
    }
}
