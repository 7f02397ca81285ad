//! The output topics: dead letters, escalations and survey requests, each published exactly
//! once, even across crashes.
//!
//! A crash between publishing a cycle's records and writing its checkpoint makes the replay
//! produce the same records again. So before a partition resumes, the records it published
//! after its checkpoint's positions are read back, and their identities are suppressed once
//! when the replay produces them again. Every record names the input partition that made it
//! and the consumer group in headers, so that partitions and deployments sharing a topic
//! stay apart.

use crate::kafka::KafkaSettings;
use anyhow::{bail, Context, Result};
use quality_engine::{DeadLetter, Output};
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Header, Headers, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{ClientContext, Message, Offset, TopicPartitionList};
use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

/// Header naming the input partition whose engine made the record.
const PARTITION_HEADER: &str = "qp-partition";
/// Header naming the consumer group.
const GROUP_HEADER: &str = "qp-group";

/// The output topics, in [`KafkaSettings::output_topics`] order.
pub const OUTPUTS: usize = 3;

/// A stable 64-bit identity of some text parts (FNV-1a), the same in every process.
fn fnv(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            h = (h ^ u64::from(b'\n')).wrapping_mul(0x0100_0000_01b3);
        }
        for b in part.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// A dead letter's identity: where it came from and what it held.
pub fn identity(source: &str, payload: Option<&str>, payload_hex: Option<&str>) -> u64 {
    fnv(&[source, payload.unwrap_or(""), payload_hex.unwrap_or("")])
}

/// The identity of a record as read back from output topic `topic`.
fn identity_of_json(topic: usize, v: &serde_json::Value) -> u64 {
    let field = |k: &str| v.get(k).and_then(|v| v.as_str());
    match topic {
        0 => identity(field("source").unwrap_or(""), field("payload"), field("payload_hex")),
        1 => fnv(&["escalation", field("escalation_id").unwrap_or("")]),
        _ => fnv(&["survey", field("survey_id").unwrap_or("")]),
    }
}

/// One record for an output topic.
pub struct Outgoing {
    /// Index into the output topics.
    pub topic: usize,
    /// The record key (ordering within a partition of the output topic).
    pub key: String,
    /// The JSON payload.
    pub payload: Vec<u8>,
    /// Its identity, for suppression after a crash.
    pub identity: u64,
}

impl Outgoing {
    /// The record an output becomes, if it is published (rows and critics are not).
    pub fn of(o: &Output) -> Option<Outgoing> {
        match o {
            Output::DeadLetter(d) => Some(Outgoing { topic: 0, key: d.source.clone(), payload: json(d), identity: dead_letter_identity(d) }),
            Output::Escalation(e) => {
                Some(Outgoing { topic: 1, key: e.seller_id.to_string(), payload: json(e), identity: fnv(&["escalation", &e.escalation_id]) })
            }
            Output::SurveyRequest(s) => {
                Some(Outgoing { topic: 2, key: s.customer_id.to_string(), payload: json(s), identity: fnv(&["survey", &s.survey_id]) })
            }
            _ => None,
        }
    }
}

/// An output as a JSON payload.
fn json<T: serde::Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("engine outputs always serialize")
}

/// The identity of an engine dead letter.
pub fn dead_letter_identity(d: &DeadLetter) -> u64 {
    identity(&d.source, d.payload.as_deref(), d.payload_hex.as_deref())
}

/// Publishes records to the output topics.
pub struct Publisher {
    producer: FutureProducer,
    topics: [String; OUTPUTS],
    partitions: [i32; OUTPUTS],
    group: String,
}

impl Publisher {
    /// A publisher on the configured output topics with their partition counts.
    pub fn new(settings: &KafkaSettings, partitions: [i32; OUTPUTS]) -> Result<Publisher> {
        let producer = settings.producer_config().create().context("cannot create the output-topic producer")?;
        Ok(Publisher { producer, topics: settings.output_topics().map(str::to_owned), partitions, group: settings.group_id.clone() })
    }

    /// Publishes the records of input partitions and waits for every acknowledgement;
    /// returns, per input partition and output topic, the offset after its last record.
    pub async fn publish(&self, records: &[(i32, Outgoing)]) -> Result<BTreeMap<(i32, usize), i64>> {
        let mut pending = Vec::with_capacity(records.len());
        for (input_partition, r) in records {
            let shard = input_partition.to_string();
            let headers = OwnedHeaders::new()
                .insert(Header { key: PARTITION_HEADER, value: Some(shard.as_str()) })
                .insert(Header { key: GROUP_HEADER, value: Some(self.group.as_str()) });
            let record = FutureRecord::to(&self.topics[r.topic])
                .partition(input_partition % self.partitions[r.topic])
                .key(&r.key)
                .payload(&r.payload)
                .headers(headers);
            let delivery = self
                .producer
                .send_result(record)
                .map_err(|(e, _)| e)
                .with_context(|| format!("cannot queue a record for {}", self.topics[r.topic]))?;
            pending.push(((*input_partition, r.topic), delivery));
        }
        let mut positions = BTreeMap::new();
        for (at, delivery) in pending {
            match delivery.await {
                Ok(Ok(d)) => {
                    let end = positions.entry(at).or_insert(0);
                    *end = (*end).max(d.offset + 1);
                }
                Ok(Err((e, _))) => return Err(e).with_context(|| format!("a record for {} was not delivered", self.topics[at.1])),
                Err(_) => bail!("the output-topic producer was shut down before delivering"),
            }
        }
        self.producer.flush(Duration::from_secs(60)).context("flushing the output-topic producer")?;
        Ok(positions)
    }
}

/// A reader that treats reaching the end of a partition as news, not as an error to log.
struct EndIsNews;

impl ClientContext for EndIsNews {
    fn error(&self, error: KafkaError, reason: &str) {
        if error.rdkafka_error_code() != Some(RDKafkaErrorCode::PartitionEOF) {
            tracing::warn!(error = %error, reason, "output-topic reader");
        }
    }
}

impl ConsumerContext for EndIsNews {}

/// What each input partition already published to output topic `topic` after its position
/// `from`: the identities, and the position after everything read.
pub fn published_since(settings: &KafkaSettings, topic: usize, partitions: i32, wanted: &[(i32, i64)]) -> Result<BTreeMap<i32, (HashSet<u64>, i64)>> {
    let mut result: BTreeMap<i32, (HashSet<u64>, i64)> = wanted.iter().map(|(p, from)| (*p, (HashSet::new(), (*from).max(0)))).collect();
    let mut starts: BTreeMap<i32, i64> = BTreeMap::new();
    for (p, from) in wanted {
        let s = starts.entry(p % partitions).or_insert(*from);
        *s = (*s).min(*from);
    }
    read_to_end(settings, settings.output_topics()[topic], &starts, |m| {
        let header = |key: &str| m.headers().and_then(|h| h.iter().find(|x| x.key == key).and_then(|x| x.value));
        let owner = header(PARTITION_HEADER).and_then(|v| std::str::from_utf8(v).ok()).and_then(|v| v.parse::<i32>().ok());
        for (p, from) in wanted.iter().filter(|(p, _)| p % partitions == m.partition()) {
            let (seen, end) = result.get_mut(p).expect("every wanted partition has an entry");
            *end = (*end).max(m.offset() + 1);
            if owner != Some(*p) || header(GROUP_HEADER) != Some(settings.group_id.as_bytes()) || m.offset() < *from {
                continue;
            }
            let value: serde_json::Value = m.payload().and_then(|p| serde_json::from_slice(p).ok()).unwrap_or_default();
            seen.insert(identity_of_json(topic, &value));
        }
    })?;
    Ok(result)
}

/// Reads partitions of topic `name`, each from its offset in `starts` (0 or less: the
/// beginning) to its end at the time of reading, and hands every record to `each`.
pub fn read_to_end(settings: &KafkaSettings, name: &str, starts: &BTreeMap<i32, i64>, mut each: impl FnMut(&BorrowedMessage<'_>)) -> Result<()> {
    if starts.is_empty() {
        return Ok(());
    }
    let reader: BaseConsumer<EndIsNews> = settings.reader_config().create_with_context(EndIsNews).context("cannot create an output-topic reader")?;
    let mut tpl = TopicPartitionList::new();
    for (partition, from) in starts {
        tpl.add_partition_offset(name, *partition, if *from > 0 { Offset::Offset(*from) } else { Offset::Beginning }).context("output partition")?;
    }
    reader.assign(&tpl).with_context(|| format!("cannot read back topic {name:?}"))?;
    let mut open: HashSet<i32> = starts.keys().copied().collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !open.is_empty() {
        if Instant::now() > deadline {
            bail!("reading back topic {name:?} took over 2 minutes; check the broker");
        }
        match reader.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => each(&m),
            Some(Err(KafkaError::PartitionEOF(p))) => {
                open.remove(&p);
            }
            Some(Err(e)) => tracing::warn!(error = %e, topic = name, "while reading back published records; retrying"),
            None => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_separates_source_and_payload() {
        assert_eq!(identity("orders/1@5", Some("x"), None), identity("orders/1@5", Some("x"), None));
        assert_ne!(identity("orders/1@5", Some("x"), None), identity("orders/1@6", Some("x"), None));
        assert_ne!(identity("a", Some("b"), None), identity("a", None, Some("b")));
    }

    #[test]
    fn a_record_read_back_has_the_identity_it_was_published_with() {
        let d = DeadLetter {
            reason: quality_engine::contract::RejectReason::InvalidJson,
            field: None,
            detail: "x".into(),
            source: "orders/0@1".into(),
            payload: Some("{".into()),
            payload_hex: None,
        };
        let survey = quality_engine::actions::SurveyRequest {
            survey_id: "s1/o1".into(),
            seller_id: "s1".into(),
            order_id: "o1".into(),
            customer_id: "c1".into(),
            delivered_at: quality_engine::contract::Timestamp(0),
            requested_at: quality_engine::contract::Timestamp(1),
        };
        for o in [Output::DeadLetter(d), Output::SurveyRequest(survey)] {
            let out = Outgoing::of(&o).unwrap();
            let back: serde_json::Value = serde_json::from_slice(&out.payload).unwrap();
            assert_eq!(identity_of_json(out.topic, &back), out.identity);
        }
    }
}
