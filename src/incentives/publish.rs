//! Publishing tier changes to the incentive topic exactly once, across runs and crashes.
//!
//! Each change has a deterministic id (`change_id`, in its payload). Before publishing, the
//! whole topic is read back and only the changes whose id is not in it yet are sent, with the
//! idempotent producer (no duplicates from its own retries); a run that crashed part-way is
//! completed by the next one. Records are keyed by seller, so that a seller's changes stay in
//! order on one partition. One run at a time: two concurrent runs could both miss a change.

use crate::kafka::{partition_count, KafkaSettings};
use crate::stream::read_to_end;
use anyhow::{bail, Context, Result};
use quality_engine::actions::TierChange;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::Message;
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

/// The ids of the changes already on the incentive topic.
pub fn published_ids(settings: &KafkaSettings) -> Result<HashSet<String>> {
    let topic = settings.incentive_topic.as_str();
    let probe: BaseConsumer = settings.reader_config().create().context("cannot create a Kafka reader; check --brokers and --kafka-property")?;
    let partitions = partition_count(probe.client(), settings, topic)?;
    let starts: BTreeMap<i32, i64> = (0..partitions).map(|p| (p, 0)).collect();
    let mut ids = HashSet::new();
    read_to_end(settings, topic, &starts, |m| {
        let id =
            m.payload().and_then(|p| serde_json::from_slice::<serde_json::Value>(p).ok()).and_then(|v| v["change_id"].as_str().map(str::to_owned));
        match id {
            Some(id) => {
                ids.insert(id);
            }
            None => {
                tracing::warn!(topic, partition = m.partition(), offset = m.offset(), "a record without a change_id on the incentive topic; ignored")
            }
        }
    })?;
    Ok(ids)
}

/// Publishes `changes` in their order, keyed by seller, and waits until the broker has every one.
pub async fn publish(settings: &KafkaSettings, changes: &[&TierChange]) -> Result<()> {
    let topic = settings.incentive_topic.as_str();
    let producer: FutureProducer = settings.producer_config().create().context("cannot create the incentive-topic producer")?;
    let mut pending = Vec::with_capacity(changes.len());
    for c in changes {
        let payload = serde_json::to_vec(c).context("serializing a tier change")?;
        let record = FutureRecord::to(topic).key(&*c.seller_id).payload(&payload);
        let delivery = producer.send_result(record).map_err(|(e, _)| e).with_context(|| format!("cannot queue a record for {topic}"))?;
        pending.push(delivery);
    }
    for delivery in pending {
        match delivery.await {
            Ok(Ok(_)) => {}
            Ok(Err((e, _))) => {
                return Err(e).with_context(|| format!("a record for {topic} was not delivered; run the command again to publish what is missing"))
            }
            Err(_) => bail!("the incentive-topic producer was shut down before delivering; run the command again to publish what is missing"),
        }
    }
    producer.flush(Duration::from_secs(60)).with_context(|| format!("flushing the producer of {topic}"))
}
