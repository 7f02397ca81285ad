//! The topic layout: which topic an event type belongs on, partition counts, and the
//! co-partitioning the pipeline needs (every input topic with the same partition count, keyed by `seller_id`).

use super::KafkaSettings;
use anyhow::{bail, Context, Result};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{Client, DefaultClientContext};
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::ClientContext;
use std::time::Duration;

/// What the pipeline found on the broker at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Partitions of each input topic (the same for all of them).
    pub partitions: i32,
    /// Partitions of each output topic, in [`KafkaSettings::output_topics`] order.
    pub output_partitions: [i32; 3],
}

/// The input (0 orders, 1 messages, 2 feedback) an event type is published on.
pub fn topic_for(event_type: &str) -> usize {
    match event_type.split_once('.').map(|(family, _)| family) {
        Some("message" | "inquiry" | "answer") => 1,
        Some("review" | "nps" | "critic" | "survey" | "feedback") => 2,
        _ => 0,
    }
}

/// The partition count of `topic`; an error that says how to create it when it does not exist.
pub fn partition_count<C: ClientContext>(client: &Client<C>, settings: &KafkaSettings, topic: &str) -> Result<i32> {
    let md = client
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .with_context(|| format!("cannot read metadata of topic {topic:?} from {}; check --brokers / QP_KAFKA_BROKERS", settings.brokers))?;
    let t = md.topics().first().filter(|t| t.error().is_none() && !t.partitions().is_empty());
    match t {
        Some(t) => Ok(t.partitions().len() as i32),
        None => bail!(
            "topic {topic:?} does not exist on {}; create the topics first (quality-pipeline topics --partitions N), the pipeline never auto-creates them",
            settings.brokers
        ),
    }
}

/// Checks that the input and output topics exist and the inputs are co-partitioned.
pub fn check_copartitioned<C: ConsumerContext>(consumer: &BaseConsumer<C>, settings: &KafkaSettings) -> Result<Layout> {
    let count = |topic: &str| partition_count(consumer.client(), settings, topic);
    let inputs = settings.input_topics();
    let counts: Vec<i32> = inputs.iter().map(|t| count(t)).collect::<Result<_>>()?;
    if counts.iter().any(|c| *c != counts[0]) {
        let listing: Vec<String> = inputs.iter().zip(&counts).map(|(t, c)| format!("{t}: {c}")).collect();
        bail!(
            "the input topics are not co-partitioned ({}): all of them need the same partition count, so that one seller's events share a partition number; recreate them or add partitions before any data is written",
            listing.join(", ")
        );
    }
    let [a, b, c] = settings.output_topics();
    Ok(Layout { partitions: counts[0], output_partitions: [count(a)?, count(b)?, count(c)?] })
}

/// Creates every topic ([`KafkaSettings::all_topics`]) with `partitions` partitions each; existing ones are kept.
pub async fn create_topics(settings: &KafkaSettings, partitions: i32, replication: i32) -> Result<Vec<String>> {
    let admin: AdminClient<DefaultClientContext> = settings.producer_config().create().context("cannot create a Kafka admin client")?;
    let names = settings.all_topics();
    let topics: Vec<NewTopic> = names.iter().map(|n| NewTopic::new(n, partitions, TopicReplication::Fixed(replication))).collect();
    let results = admin
        .create_topics(&topics, &AdminOptions::new().operation_timeout(Some(Duration::from_secs(30))))
        .await
        .with_context(|| format!("cannot create topics on {}; check --brokers", settings.brokers))?;
    let mut created = Vec::new();
    for r in results {
        match r {
            Ok(name) => created.push(name),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => bail!("cannot create topic {name:?}: {code}"),
        }
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::topic_for;

    #[test]
    fn event_families_map_to_their_topics() {
        assert_eq!(topic_for("order.created"), 0);
        assert_eq!(topic_for("message.replied"), 1);
        assert_eq!(topic_for("inquiry.resolved"), 1);
        assert_eq!(topic_for("answer.audited"), 1);
        assert_eq!(topic_for("review.submitted"), 2);
        assert_eq!(topic_for("nps.submitted"), 2);
        assert_eq!(topic_for("critic.followed_up"), 2);
        assert_eq!(topic_for("garbage"), 0);
    }
}
