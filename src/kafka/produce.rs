//! Publishing NDJSON events to the input topics: each on its family's topic, keyed by seller.

use super::{topic_for, KafkaSettings};
use crate::source::FileSource;
use anyhow::{bail, Context, Result};
use quality_engine::contract::Timestamp;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::ClientContext;
use serde::Deserialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What a produce run did.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProduceSummary {
    /// Records acknowledged per input topic (orders, messages, feedback).
    pub per_topic: [u64; 3],
    /// Lines that were not events (they are published anyway, for the pipeline to dead-letter).
    pub unparsable: u64,
}

/// Counts failed deliveries; the idempotent producer retries everything else itself.
#[derive(Default)]
struct Deliveries {
    failed: AtomicU64,
}

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            self.failed.fetch_add(1, Ordering::Relaxed);
            tracing::error!(error = %e, "a record was not delivered");
        }
    }
}

/// The two fields routing needs.
#[derive(Deserialize)]
struct Head<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<&'a str>,
    #[serde(borrow)]
    seller_id: Option<&'a str>,
    #[serde(borrow)]
    occurred_at: Option<&'a str>,
}

/// Publishes every line (events and garbage alike) and waits until all are acknowledged.
/// With `pace`, an event is published only once the wall clock reaches its `occurred_at`.
pub fn produce_lines(settings: &KafkaSettings, source: &mut FileSource, pace: bool) -> Result<ProduceSummary> {
    let producer: BaseProducer<Deliveries> = settings
        .producer_config()
        .create_with_context(Deliveries::default())
        .context("cannot create a Kafka producer; check --brokers and --kafka-property")?;
    let topics = settings.input_topics();
    let mut summary = ProduceSummary::default();
    while let Some((_, line)) = source.next_line()? {
        let head: Option<Head> = serde_json::from_slice(line).ok();
        let (input, key) = match &head {
            Some(h) => (topic_for(h.kind.unwrap_or("")), h.seller_id),
            None => (0, None),
        };
        summary.unparsable += u64::from(head.is_none());
        if pace {
            if let Some(at) = head.as_ref().and_then(|h| h.occurred_at).and_then(Timestamp::parse_rfc3339) {
                wait_until(&producer, at);
            }
        }
        let mut record: BaseRecord<'_, str, [u8]> = BaseRecord::to(topics[input]).payload(line);
        if let Some(k) = key {
            record = record.key(k);
        }
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    record = r;
                    producer.poll(Duration::from_millis(5));
                }
                Err((e, _)) => return Err(e).with_context(|| format!("cannot publish to topic {:?}", topics[input])),
            }
        }
        summary.per_topic[input] += 1;
    }
    producer.flush(Duration::from_secs(300)).context("the broker did not acknowledge every record within 5 minutes")?;
    let failed = producer.context().failed.load(Ordering::Relaxed);
    if failed > 0 {
        bail!("{failed} records were not delivered (see the errors above); nothing was retried after that");
    }
    Ok(summary)
}

/// Serves delivery reports until the wall clock reaches `at`.
fn wait_until<C: ProducerContext>(producer: &BaseProducer<C>, at: Timestamp) {
    loop {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
        if now >= at.0 {
            return;
        }
        producer.poll(Duration::from_millis((at.0 - now).clamp(1, 1000) as u64));
    }
}
