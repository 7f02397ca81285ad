//! Kafka adapters: settings, topic layout and co-partitioning checks, and the event producer.
//! The consuming side lives in `stream/`.

mod produce;
mod settings;
mod topics;

pub use produce::{produce_lines, ProduceSummary};
pub use settings::{KafkaSecurity, KafkaSettings, Protocol, SaslMechanism};
pub use topics::{check_copartitioned, create_topics, partition_count, topic_for, Layout};
