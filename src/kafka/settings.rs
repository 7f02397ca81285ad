//! The `[kafka]` config section and the librdkafka client configurations built from it.

use anyhow::{bail, Result};
use quality_engine::methodology::parse_duration_ms;
use rdkafka::ClientConfig;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// Where the topics are and how the consumer group behaves; flags and `QP_KAFKA_*` override it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaSettings {
    /// Bootstrap servers, `host:port[,host:port]`.
    pub brokers: String,
    /// Consumer group: instances with the same group split the partitions.
    pub group_id: String,
    /// Topic of `order.*` events.
    pub orders_topic: String,
    /// Topic of `message.*`, `inquiry.resolved` and `answer.audited` events.
    pub messages_topic: String,
    /// Topic of `review.submitted` and `nps.submitted` events.
    pub feedback_topic: String,
    /// Topic of rejected events (reason and original payload).
    pub dead_letter_topic: String,
    /// How often results are made durable and offsets committed, e.g. `5s`.
    pub commit_interval: String,
    /// A partition with no record for this long stops holding event time back, e.g. `30s`.
    pub idle_timeout: String,
    /// When every partition is idle, event time follows the wall clock (off for backfills).
    pub wall_clock: bool,
    /// Extra librdkafka properties (security, tuning), applied to every client.
    pub properties: BTreeMap<String, String>,
}

impl Default for KafkaSettings {
    fn default() -> Self {
        KafkaSettings {
            brokers: "127.0.0.1:9092".into(),
            group_id: "quality-pipeline".into(),
            orders_topic: "orders".into(),
            messages_topic: "messages".into(),
            feedback_topic: "feedback".into(),
            dead_letter_topic: "quality.dead_letter".into(),
            commit_interval: "5s".into(),
            idle_timeout: "30s".into(),
            wall_clock: true,
            properties: BTreeMap::new(),
        }
    }
}

impl KafkaSettings {
    /// Applies `QP_KAFKA_BROKERS` and `QP_KAFKA_GROUP_ID` on top of the file's values.
    pub fn with_env(mut self) -> Self {
        for (var, field) in [("QP_KAFKA_BROKERS", &mut self.brokers), ("QP_KAFKA_GROUP_ID", &mut self.group_id)] {
            if let Ok(v) = std::env::var(var) {
                *field = v;
            }
        }
        self
    }

    /// Adds `KEY=VALUE` librdkafka properties given on the command line.
    pub fn with_properties(mut self, pairs: &[String]) -> Result<Self> {
        for pair in pairs {
            let Some((k, v)) = pair.split_once('=') else { bail!("--kafka-property {pair:?} must be KEY=VALUE, e.g. security.protocol=SASL_SSL") };
            self.properties.insert(k.trim().to_owned(), v.trim().to_owned());
        }
        Ok(self)
    }

    /// The settings for the startup log line, with secrets (passwords, keys, tokens) masked.
    pub fn redacted(&self) -> String {
        let properties: Vec<String> = self.properties.iter().map(|(k, v)| format!("{k}={}", if is_secret(k) { "***" } else { v })).collect();
        format!(
            "brokers={} group_id={} topics={},{},{} dead_letter_topic={} commit_interval={} idle_timeout={} wall_clock={} properties=[{}]",
            self.brokers,
            self.group_id,
            self.orders_topic,
            self.messages_topic,
            self.feedback_topic,
            self.dead_letter_topic,
            self.commit_interval,
            self.idle_timeout,
            self.wall_clock,
            properties.join(",")
        )
    }

    /// The input topics in input order (orders, messages, feedback).
    pub fn input_topics(&self) -> [&str; 3] {
        [&self.orders_topic, &self.messages_topic, &self.feedback_topic]
    }

    /// The commit interval.
    pub fn commit_interval(&self) -> Result<Duration> {
        duration("kafka.commit_interval", &self.commit_interval)
    }

    /// The idle timeout.
    pub fn idle_timeout(&self) -> Result<Duration> {
        duration("kafka.idle_timeout", &self.idle_timeout)
    }

    /// Settings every client shares: brokers, then the user's properties.
    fn base(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.brokers);
        for (k, v) in &self.properties {
            c.set(k, v);
        }
        c
    }

    /// The group consumer: manual commits, classic protocol, range assignment (co-partitioning).
    pub fn consumer_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("group.id", &self.group_id)
            .set("group.protocol", "classic")
            .set("partition.assignment.strategy", "range")
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("fetch.wait.max.ms", "50")
            .set("session.timeout.ms", "10000")
            .set("heartbeat.interval.ms", "500")
            .set("max.poll.interval.ms", "600000")
            .set("queued.max.messages.kbytes", "262144");
        self.layer(c)
    }

    /// A plain consumer for reading one partition without joining the group.
    pub fn reader_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("group.id", format!("{}.reader", self.group_id))
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true")
            .set("fetch.wait.max.ms", "50");
        self.layer(c)
    }

    /// An idempotent producer (no duplicates from its own retries).
    pub fn producer_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("enable.idempotence", "true").set("linger.ms", "5").set("message.timeout.ms", "0");
        self.layer(c)
    }

    /// Puts the shared settings and the user's properties over a client's defaults.
    fn layer(&self, mut c: ClientConfig) -> ClientConfig {
        for (k, v) in self.base().config_map() {
            c.set(k, v);
        }
        c
    }
}

/// Whether a librdkafka property holds a secret.
fn is_secret(key: &str) -> bool {
    ["password", "secret", "key.pem", "keystore", "oauthbearer.config", "token"].iter().any(|s| key.contains(s))
}

fn duration(key: &str, text: &str) -> Result<Duration> {
    let ms = parse_duration_ms(text).map_err(|e| anyhow::anyhow!("{key} = {text:?}: {e}"))?;
    if ms <= 0 {
        bail!("{key} = {text:?} must be positive, e.g. \"5s\"");
    }
    Ok(Duration::from_millis(ms as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_properties_win_over_defaults() {
        let s = KafkaSettings::default().with_properties(&["fetch.wait.max.ms=10".into(), "security.protocol = SASL_SSL".into()]).unwrap();
        let c = s.consumer_config();
        assert_eq!(c.get("fetch.wait.max.ms"), Some("10"));
        assert_eq!(c.get("security.protocol"), Some("SASL_SSL"));
        assert_eq!(c.get("enable.auto.commit"), Some("false"));
        assert!(KafkaSettings::default().with_properties(&["novalue".into()]).is_err());
    }

    #[test]
    fn secrets_never_reach_the_log_line() {
        let s = KafkaSettings::default()
            .with_properties(&["sasl.password=hunter2".into(), "ssl.key.password=k3y".into(), "sasl.username=svc".into()])
            .unwrap();
        let line = s.redacted();
        assert!(!line.contains("hunter2") && !line.contains("k3y"), "{line}");
        assert!(line.contains("sasl.username=svc") && line.contains("sasl.password=***"), "{line}");
    }

    #[test]
    fn durations_are_checked() {
        let s = KafkaSettings { commit_interval: "0s".into(), ..KafkaSettings::default() };
        assert!(s.commit_interval().unwrap_err().to_string().contains("kafka.commit_interval"));
        assert_eq!(KafkaSettings::default().idle_timeout().unwrap(), Duration::from_secs(30));
    }
}
