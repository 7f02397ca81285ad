//! The `[kafka]` config section and the librdkafka client configurations built from it,
//! including `[kafka.security]` (SASL and TLS) with its credentials from the environment.

use anyhow::{bail, Result};
use quality_engine::methodology::parse_duration_ms;
use rdkafka::ClientConfig;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the topics are and how the consumer group behaves; flags and `QP_KAFKA_*` override it.
/// `Debug` masks secrets, like [`KafkaSettings::redacted`].
#[derive(Clone, Deserialize)]
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
    /// Topic of escalation-ladder transitions (keyed by seller).
    pub escalation_topic: String,
    /// Topic of survey requests (keyed by customer).
    pub survey_topic: String,
    /// Topic of incentive tier changes (keyed by seller), published by `quality-pipeline incentives --publish`.
    pub incentive_topic: String,
    /// How often results are made durable and offsets committed, e.g. `5s`.
    pub commit_interval: String,
    /// A partition with no record for this long stops holding event time back, e.g. `30s`.
    pub idle_timeout: String,
    /// When every partition is idle, event time follows the wall clock (off for backfills).
    pub wall_clock: bool,
    /// `[kafka.security]`: SASL authentication and TLS, applied to every client.
    pub security: KafkaSecurity,
    /// Extra librdkafka properties (tuning, other mechanisms), applied to every client, last.
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
            escalation_topic: "quality.escalations".into(),
            survey_topic: "quality.survey_requests".into(),
            incentive_topic: "quality.incentives".into(),
            commit_interval: "5s".into(),
            idle_timeout: "30s".into(),
            wall_clock: true,
            security: KafkaSecurity::default(),
            properties: BTreeMap::new(),
        }
    }
}

impl KafkaSettings {
    /// Applies `QP_KAFKA_BROKERS`, `QP_KAFKA_GROUP_ID`, `QP_KAFKA_USERNAME` and `QP_KAFKA_PASSWORD`
    /// on top of the file's values: the environment wins, so that secrets can stay out of files
    /// (a secret store or orchestrator injects them) while the file holds everything else.
    pub fn with_env(self) -> Self {
        self.with_env_from(|var| std::env::var(var).ok())
    }

    /// [`KafkaSettings::with_env`] with the variables looked up by `get` (tests pass a map).
    pub fn with_env_from(mut self, get: impl Fn(&str) -> Option<String>) -> Self {
        for (var, field) in [("QP_KAFKA_BROKERS", &mut self.brokers), ("QP_KAFKA_GROUP_ID", &mut self.group_id)] {
            if let Some(v) = get(var) {
                *field = v;
            }
        }
        for (var, field) in [("QP_KAFKA_USERNAME", &mut self.security.username), ("QP_KAFKA_PASSWORD", &mut self.security.password)] {
            if let Some(v) = get(var) {
                *field = Some(v);
            }
        }
        self
    }

    /// Adds `KEY=VALUE` librdkafka properties given on the command line, then checks the whole
    /// settings ([`KafkaSettings::validate`]): this is the last step of assembling them from the
    /// file, the environment and the flags, which every Kafka command goes through.
    pub fn with_properties(mut self, pairs: &[String]) -> Result<Self> {
        for pair in pairs {
            let Some((k, v)) = pair.split_once('=') else { bail!("--kafka-property {pair:?} must be KEY=VALUE, e.g. fetch.wait.max.ms=10") };
            self.properties.insert(k.trim().to_owned(), v.trim().to_owned());
        }
        self.validate()?;
        Ok(self)
    }

    /// Checks `[kafka.security]` (see [`KafkaSecurity::validate`]) and that no librdkafka property
    /// it sets is also given in `[kafka.properties]` or with `-X`.
    pub fn validate(&self) -> Result<()> {
        self.security.validate()?;
        for (key, _) in self.security.properties() {
            if self.properties.contains_key(key) {
                bail!("{key} is set both by [kafka.security] and by [kafka.properties] / -X {key}=...; set it in one place (preferably [kafka.security])");
            }
        }
        Ok(())
    }

    /// The settings for the startup log line, with secrets (passwords, keys, tokens) masked.
    pub fn redacted(&self) -> String {
        let properties: Vec<String> = self.properties.iter().map(|(k, v)| format!("{k}={}", mask(k, v))).collect();
        format!(
            "brokers={} group_id={} topics={},{},{} output_topics={} incentive_topic={} commit_interval={} idle_timeout={} wall_clock={} security=[{}] properties=[{}]",
            self.brokers,
            self.group_id,
            self.orders_topic,
            self.messages_topic,
            self.feedback_topic,
            self.output_topics().join(","),
            self.incentive_topic,
            self.commit_interval,
            self.idle_timeout,
            self.wall_clock,
            self.security.redacted(),
            properties.join(",")
        )
    }

    /// The input topics in input order (orders, messages, feedback).
    pub fn input_topics(&self) -> [&str; 3] {
        [&self.orders_topic, &self.messages_topic, &self.feedback_topic]
    }

    /// The topics the pipeline publishes to: dead letters, escalations, survey requests.
    pub fn output_topics(&self) -> [&str; 3] {
        [&self.dead_letter_topic, &self.escalation_topic, &self.survey_topic]
    }

    /// Every topic `quality-pipeline topics` creates: the inputs, the run's outputs, the incentive topic.
    pub fn all_topics(&self) -> Vec<&str> {
        self.input_topics().into_iter().chain(self.output_topics()).chain([self.incentive_topic.as_str()]).collect()
    }

    /// The commit interval.
    pub fn commit_interval(&self) -> Result<Duration> {
        duration("kafka.commit_interval", &self.commit_interval)
    }

    /// The idle timeout.
    pub fn idle_timeout(&self) -> Result<Duration> {
        duration("kafka.idle_timeout", &self.idle_timeout)
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

    /// Puts the settings every client shares over a client's defaults: brokers, security, then
    /// the user's properties. (Not copied through `ClientConfig::config_map`, which replaces the
    /// values of secret keys such as `sasl.password` with a placeholder.)
    fn layer(&self, mut c: ClientConfig) -> ClientConfig {
        c.set("bootstrap.servers", &self.brokers);
        for (k, v) in self.security.properties() {
            c.set(k, v);
        }
        for (k, v) in &self.properties {
            c.set(k, v);
        }
        c
    }
}

impl fmt::Debug for KafkaSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let properties: BTreeMap<&str, &str> = self.properties.iter().map(|(k, v)| (k.as_str(), mask(k, v))).collect();
        f.debug_struct("KafkaSettings")
            .field("brokers", &self.brokers)
            .field("group_id", &self.group_id)
            .field("orders_topic", &self.orders_topic)
            .field("messages_topic", &self.messages_topic)
            .field("feedback_topic", &self.feedback_topic)
            .field("dead_letter_topic", &self.dead_letter_topic)
            .field("escalation_topic", &self.escalation_topic)
            .field("survey_topic", &self.survey_topic)
            .field("incentive_topic", &self.incentive_topic)
            .field("commit_interval", &self.commit_interval)
            .field("idle_timeout", &self.idle_timeout)
            .field("wall_clock", &self.wall_clock)
            .field("security", &self.security)
            .field("properties", &properties)
            .finish()
    }
}

/// `security.protocol`: whether clients authenticate with SASL and whether they use TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(try_from = "String")]
pub enum Protocol {
    /// Neither (librdkafka's default).
    #[default]
    Plaintext,
    /// TLS, optionally with a client certificate.
    Ssl,
    /// SASL over an unencrypted connection (PLAIN then sends the password in clear).
    SaslPlaintext,
    /// SASL over TLS.
    SaslSsl,
}

impl Protocol {
    /// The value of librdkafka's `security.protocol`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Plaintext => "plaintext",
            Protocol::Ssl => "ssl",
            Protocol::SaslPlaintext => "sasl_plaintext",
            Protocol::SaslSsl => "sasl_ssl",
        }
    }

    /// Whether clients authenticate with SASL.
    pub fn uses_sasl(self) -> bool {
        matches!(self, Protocol::SaslPlaintext | Protocol::SaslSsl)
    }

    /// Whether connections are encrypted with TLS.
    pub fn uses_tls(self) -> bool {
        matches!(self, Protocol::Ssl | Protocol::SaslSsl)
    }
}

impl TryFrom<String> for Protocol {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "plaintext" => Ok(Protocol::Plaintext),
            "ssl" => Ok(Protocol::Ssl),
            "sasl_plaintext" => Ok(Protocol::SaslPlaintext),
            "sasl_ssl" => Ok(Protocol::SaslSsl),
            _ => Err(format!("unknown kafka.security.protocol {s:?}; use \"plaintext\", \"ssl\", \"sasl_plaintext\" or \"sasl_ssl\"")),
        }
    }
}

/// `sasl.mechanism`: how SASL clients prove who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum SaslMechanism {
    /// User name and password as they are (use it over TLS only).
    Plain,
    /// Salted challenge-response, SHA-256.
    ScramSha256,
    /// Salted challenge-response, SHA-512.
    ScramSha512,
}

impl SaslMechanism {
    /// The value of librdkafka's `sasl.mechanism`.
    pub fn as_str(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "PLAIN",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

impl TryFrom<String> for SaslMechanism {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        match s.to_ascii_uppercase().replace('_', "-").as_str() {
            "PLAIN" => Ok(SaslMechanism::Plain),
            "SCRAM-SHA-256" => Ok(SaslMechanism::ScramSha256),
            "SCRAM-SHA-512" => Ok(SaslMechanism::ScramSha512),
            _ => Err(format!(
                "unknown kafka.security.sasl_mechanism {s:?}; use \"PLAIN\", \"SCRAM-SHA-256\" or \"SCRAM-SHA-512\" (GSSAPI/Kerberos is not built in)"
            )),
        }
    }
}

/// The `[kafka.security]` table: SASL credentials and TLS files for every client (consumer,
/// producer, admin). `QP_KAFKA_USERNAME` and `QP_KAFKA_PASSWORD` override the file's credentials.
/// Paths are relative to the working directory. `Debug` masks the passwords.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaSecurity {
    /// `plaintext` (default), `ssl`, `sasl_plaintext` or `sasl_ssl`.
    pub protocol: Protocol,
    /// `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`; required with a `sasl_*` protocol.
    pub sasl_mechanism: Option<SaslMechanism>,
    /// SASL user name (or `QP_KAFKA_USERNAME`).
    pub username: Option<String>,
    /// SASL password (prefer `QP_KAFKA_PASSWORD` to writing it in a file).
    pub password: Option<String>,
    /// PEM file (or directory) of the CA that signed the brokers' certificates; default: the system's.
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate, for brokers that authenticate clients by certificate (mutual TLS).
    pub cert_file: Option<PathBuf>,
    /// PEM private key of the client certificate.
    pub key_file: Option<PathBuf>,
    /// Password of an encrypted `key_file`.
    pub key_password: Option<String>,
    /// Check that a broker's certificate names the host connected to (default true; turn off
    /// only for brokers reached by an address their certificate does not name).
    pub verify_hostname: bool,
}

impl Default for KafkaSecurity {
    fn default() -> Self {
        KafkaSecurity {
            protocol: Protocol::Plaintext,
            sasl_mechanism: None,
            username: None,
            password: None,
            ca_file: None,
            cert_file: None,
            key_file: None,
            key_password: None,
            verify_hostname: true,
        }
    }
}

impl KafkaSecurity {
    /// The librdkafka properties this table stands for; none for `plaintext` (librdkafka's default).
    pub fn properties(&self) -> Vec<(&'static str, String)> {
        let mut p = Vec::new();
        if self.protocol == Protocol::Plaintext {
            return p;
        }
        p.push(("security.protocol", self.protocol.as_str().to_owned()));
        if self.protocol.uses_sasl() {
            if let Some(m) = self.sasl_mechanism {
                p.push(("sasl.mechanism", m.as_str().to_owned()));
            }
            if let Some(u) = &self.username {
                p.push(("sasl.username", u.clone()));
            }
            if let Some(pw) = &self.password {
                p.push(("sasl.password", pw.clone()));
            }
        }
        if self.protocol.uses_tls() {
            for (key, path) in
                [("ssl.ca.location", &self.ca_file), ("ssl.certificate.location", &self.cert_file), ("ssl.key.location", &self.key_file)]
            {
                if let Some(path) = path {
                    p.push((key, path.display().to_string()));
                }
            }
            if let Some(pw) = &self.key_password {
                p.push(("ssl.key.password", pw.clone()));
            }
            p.push(("ssl.endpoint.identification.algorithm", if self.verify_hostname { "https" } else { "none" }.to_owned()));
        }
        p
    }

    /// Checks that the table is complete and consistent and that its files can be read; the
    /// errors say which key to set or remove.
    pub fn validate(&self) -> Result<()> {
        let protocol = self.protocol.as_str();
        let blank = |v: &Option<String>| v.as_deref().is_none_or(|v| v.trim().is_empty());
        if self.protocol.uses_sasl() {
            if self.sasl_mechanism.is_none() {
                bail!(
                    "kafka.security.protocol = {protocol:?} needs kafka.security.sasl_mechanism: \"PLAIN\", \"SCRAM-SHA-256\" or \"SCRAM-SHA-512\", as the brokers' listener expects"
                );
            }
            if blank(&self.username) {
                bail!("kafka.security.protocol = {protocol:?} needs a user name: set QP_KAFKA_USERNAME or kafka.security.username");
            }
            if blank(&self.password) {
                bail!("kafka.security.protocol = {protocol:?} needs a password: set QP_KAFKA_PASSWORD (or kafka.security.password)");
            }
        } else {
            let set: Vec<&str> =
                [("sasl_mechanism", self.sasl_mechanism.is_some()), ("username", self.username.is_some()), ("password", self.password.is_some())]
                    .into_iter()
                    .filter_map(|(k, on)| on.then_some(k))
                    .collect();
            if !set.is_empty() {
                bail!(
                    "kafka.security.{} set, but protocol = {protocol:?} does not use SASL; set protocol = \"sasl_ssl\" (or \"sasl_plaintext\"), or remove them (QP_KAFKA_USERNAME and QP_KAFKA_PASSWORD count too)",
                    set.join(", ")
                );
            }
        }
        let files = [("ca_file", &self.ca_file), ("cert_file", &self.cert_file), ("key_file", &self.key_file)];
        if !self.protocol.uses_tls() {
            let set: Vec<&str> =
                files.iter().filter(|(_, p)| p.is_some()).map(|(k, _)| *k).chain(self.key_password.as_ref().map(|_| "key_password")).collect();
            if !set.is_empty() {
                bail!(
                    "kafka.security.{} set, but protocol = {protocol:?} does not use TLS; set protocol = \"ssl\" (or \"sasl_ssl\"), or remove them",
                    set.join(", ")
                );
            }
            return Ok(());
        }
        if self.cert_file.is_some() != self.key_file.is_some() {
            bail!(
                "kafka.security.cert_file and kafka.security.key_file go together (the client certificate and its private key); set both or neither"
            );
        }
        if self.key_password.is_some() && self.key_file.is_none() {
            bail!("kafka.security.key_password is set without kafka.security.key_file; remove it or set the key file it decrypts");
        }
        for (key, path) in files {
            if let Some(path) = path {
                check_readable(key, path)?;
            }
        }
        Ok(())
    }

    /// The table for the startup log line: passwords masked, unset keys left out.
    pub fn redacted(&self) -> String {
        let mut parts = vec![format!("protocol={}", self.protocol.as_str())];
        if let Some(m) = self.sasl_mechanism {
            parts.push(format!("sasl_mechanism={}", m.as_str()));
        }
        if let Some(u) = &self.username {
            parts.push(format!("username={u}"));
        }
        if self.password.is_some() {
            parts.push("password=***".into());
        }
        for (key, path) in [("ca_file", &self.ca_file), ("cert_file", &self.cert_file), ("key_file", &self.key_file)] {
            if let Some(path) = path {
                parts.push(format!("{key}={}", path.display()));
            }
        }
        if self.key_password.is_some() {
            parts.push("key_password=***".into());
        }
        if self.protocol.uses_tls() {
            parts.push(format!("verify_hostname={}", self.verify_hostname));
        }
        parts.join(" ")
    }
}

impl fmt::Debug for KafkaSecurity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = |v: &Option<String>| v.as_ref().map(|_| "***");
        f.debug_struct("KafkaSecurity")
            .field("protocol", &self.protocol)
            .field("sasl_mechanism", &self.sasl_mechanism)
            .field("username", &self.username)
            .field("password", &hidden(&self.password))
            .field("ca_file", &self.ca_file)
            .field("cert_file", &self.cert_file)
            .field("key_file", &self.key_file)
            .field("key_password", &hidden(&self.key_password))
            .field("verify_hostname", &self.verify_hostname)
            .finish()
    }
}

/// Fails, naming the key, when a TLS file (or the CA directory) cannot be read.
fn check_readable(key: &str, path: &Path) -> Result<()> {
    let what = match key {
        "ca_file" => "the PEM certificate (or directory of certificates) of the CA that signed the brokers' certificates",
        "cert_file" => "the PEM client certificate",
        _ => "the PEM private key of the client certificate",
    };
    let readable = match std::fs::metadata(path) {
        Ok(m) if m.is_dir() && key == "ca_file" => std::fs::read_dir(path).map(|_| ()),
        Ok(m) if m.is_dir() => Err(std::io::Error::other("it is a directory")),
        Ok(_) => std::fs::File::open(path).map(|_| ()),
        Err(e) => Err(e),
    };
    readable.map_err(|e| anyhow::anyhow!("kafka.security.{key} = {:?} cannot be read ({e}); give {what}", path.display().to_string()))
}

/// Whether a librdkafka property holds a secret.
fn is_secret(key: &str) -> bool {
    ["password", "secret", "key.pem", "keystore", "oauthbearer.config", "token"].iter().any(|s| key.contains(s))
}

/// A property's value as it may be shown: `***` for secrets.
fn mask<'a>(key: &str, value: &'a str) -> &'a str {
    if is_secret(key) {
        "***"
    } else {
        value
    }
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
        // Secret values reach the clients as they are, not as rdkafka's masked placeholder.
        let s = KafkaSettings::default().with_properties(&["sasl.password=hunter2".into(), "ssl.key.password=k3y".into()]).unwrap();
        for c in [s.consumer_config(), s.reader_config(), s.producer_config()] {
            assert_eq!((c.get("sasl.password"), c.get("ssl.key.password")), (Some("hunter2"), Some("k3y")));
        }
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

    fn sasl_ssl(dir: &Path) -> KafkaSecurity {
        let ca = dir.join("ca.pem");
        std::fs::write(&ca, "not parsed here").unwrap();
        KafkaSecurity {
            protocol: Protocol::SaslSsl,
            sasl_mechanism: Some(SaslMechanism::ScramSha512),
            username: Some("svc".into()),
            password: Some("hunter2".into()),
            ca_file: Some(ca),
            ..KafkaSecurity::default()
        }
    }

    /// A client's properties with their real values (`config_map` masks secrets).
    fn props(c: &ClientConfig) -> BTreeMap<String, String> {
        c.config_map().keys().map(|k| (k.to_string(), c.get(k).unwrap_or_default().to_owned())).collect()
    }

    #[test]
    fn each_protocol_maps_to_its_properties() {
        let dir = tempfile::tempdir().unwrap();
        let plain = KafkaSettings::default();
        assert!(plain.security.properties().is_empty());
        assert!(props(&plain.consumer_config()).keys().all(|k| !k.starts_with("security.") && !k.starts_with("sasl.") && !k.starts_with("ssl.")));

        let full = KafkaSettings { security: sasl_ssl(dir.path()), ..KafkaSettings::default() };
        full.validate().unwrap();
        let ca = dir.path().join("ca.pem").display().to_string();
        for c in [full.consumer_config(), full.reader_config(), full.producer_config()] {
            let p = props(&c);
            assert_eq!(p["security.protocol"], "sasl_ssl");
            assert_eq!(p["sasl.mechanism"], "SCRAM-SHA-512");
            assert_eq!((p["sasl.username"].as_str(), p["sasl.password"].as_str()), ("svc", "hunter2"));
            assert_eq!(p["ssl.ca.location"], ca);
            assert_eq!(p["ssl.endpoint.identification.algorithm"], "https");
            assert!(!p.contains_key("ssl.certificate.location") && !p.contains_key("ssl.key.location"), "{p:?}");
        }

        let sasl_plain = KafkaSecurity {
            protocol: Protocol::SaslPlaintext,
            sasl_mechanism: Some(SaslMechanism::ScramSha256),
            username: Some("u".into()),
            password: Some("p".into()),
            ..KafkaSecurity::default()
        };
        sasl_plain.validate().unwrap();
        let p: BTreeMap<_, _> = sasl_plain.properties().into_iter().collect();
        assert_eq!(p["security.protocol"], "sasl_plaintext");
        assert_eq!(p["sasl.mechanism"], "SCRAM-SHA-256");
        assert!(p.keys().all(|k| !k.starts_with("ssl.")), "no TLS settings without TLS: {p:?}");

        let (cert, key) = (dir.path().join("client.pem"), dir.path().join("client.key"));
        std::fs::write(&cert, "c").unwrap();
        std::fs::write(&key, "k").unwrap();
        let mtls = KafkaSecurity {
            protocol: Protocol::Ssl,
            cert_file: Some(cert.clone()),
            key_file: Some(key.clone()),
            key_password: Some("k3y".into()),
            verify_hostname: false,
            ..KafkaSecurity::default()
        };
        mtls.validate().unwrap();
        let p: BTreeMap<_, _> = mtls.properties().into_iter().collect();
        assert_eq!(p["security.protocol"], "ssl");
        assert_eq!(p["ssl.certificate.location"], cert.display().to_string());
        assert_eq!(p["ssl.key.location"], key.display().to_string());
        assert_eq!(p["ssl.key.password"], "k3y");
        assert_eq!(p["ssl.endpoint.identification.algorithm"], "none");
        assert!(p.keys().all(|k| !k.starts_with("sasl.")) && !p.contains_key("ssl.ca.location"), "{p:?}");
    }

    #[test]
    fn the_security_table_parses_and_bad_names_list_the_valid_ones() {
        let s: KafkaSettings =
            toml::from_str("[security]\nprotocol = \"SASL_SSL\"\nsasl_mechanism = \"scram-sha-256\"\nusername = \"svc\"\nverify_hostname = false\n")
                .unwrap();
        assert_eq!((s.security.protocol, s.security.sasl_mechanism), (Protocol::SaslSsl, Some(SaslMechanism::ScramSha256)));
        assert!(!s.security.verify_hostname && s.security.password.is_none());
        assert!(KafkaSettings::default().security.verify_hostname, "hostnames are verified unless turned off");
        let e = toml::from_str::<KafkaSettings>("[security]\nprotocol = \"tls\"\n").unwrap_err().to_string();
        assert!(e.contains("\"tls\"") && e.contains("sasl_ssl"), "{e}");
        let e = toml::from_str::<KafkaSettings>("[security]\nsasl_mechanism = \"GSSAPI\"\n").unwrap_err().to_string();
        assert!(e.contains("GSSAPI") && e.contains("SCRAM-SHA-512"), "{e}");
        let e = toml::from_str::<KafkaSettings>("[security]\nca = \"x\"\n").unwrap_err().to_string();
        assert!(e.contains("ca_file"), "unknown keys name the valid ones: {e}");
    }

    #[test]
    fn validation_says_what_to_fix() {
        let dir = tempfile::tempdir().unwrap();
        let good = sasl_ssl(dir.path());
        let err = |s: KafkaSecurity| KafkaSettings { security: s, ..KafkaSettings::default() }.validate().unwrap_err().to_string();
        let e = err(KafkaSecurity { sasl_mechanism: None, ..good.clone() });
        assert!(e.contains("sasl_mechanism") && e.contains("SCRAM-SHA-256"), "{e}");
        let e = err(KafkaSecurity { username: None, ..good.clone() });
        assert!(e.contains("QP_KAFKA_USERNAME") && e.contains("kafka.security.username"), "{e}");
        let e = err(KafkaSecurity { password: Some(" ".into()), ..good.clone() });
        assert!(e.contains("QP_KAFKA_PASSWORD") && e.contains("needs a password"), "{e}");
        let e = err(KafkaSecurity { protocol: Protocol::Ssl, ..good.clone() });
        assert!(e.contains("sasl_mechanism, username, password") && e.contains("does not use SASL"), "{e}");
        let e = err(KafkaSecurity { protocol: Protocol::SaslPlaintext, ..good.clone() });
        assert!(e.contains("ca_file") && e.contains("does not use TLS"), "{e}");
        let missing = dir.path().join("nope.pem");
        let e = err(KafkaSecurity { ca_file: Some(missing.clone()), ..good.clone() });
        assert!(e.contains("kafka.security.ca_file") && e.contains("nope.pem") && e.contains("CA that signed"), "{e}");
        let e = err(KafkaSecurity { cert_file: good.ca_file.clone(), ..good.clone() });
        assert!(e.contains("cert_file and kafka.security.key_file go together"), "{e}");
        let e = err(KafkaSecurity { key_password: Some("x".into()), ..good.clone() });
        assert!(e.contains("key_password is set without"), "{e}");
        let e = err(KafkaSecurity { cert_file: Some(dir.path().to_owned()), key_file: good.ca_file.clone(), ..good.clone() });
        assert!(e.contains("cert_file") && e.contains("directory"), "{e}");
        // A directory of CA certificates is what librdkafka accepts for ssl.ca.location too.
        KafkaSecurity { ca_file: Some(dir.path().to_owned()), ..good.clone() }.validate().unwrap();
        // The same property from two places is ambiguous.
        let e =
            KafkaSettings { security: good, ..KafkaSettings::default() }.with_properties(&["sasl.mechanism=PLAIN".into()]).unwrap_err().to_string();
        assert!(e.contains("sasl.mechanism is set both"), "{e}");
    }

    #[test]
    fn the_environment_wins_over_the_file_for_credentials() {
        let dir = tempfile::tempdir().unwrap();
        let file = KafkaSettings { security: sasl_ssl(dir.path()), ..KafkaSettings::default() };
        let env = |vars: &'static [(&'static str, &'static str)]| move |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string());
        let s = file.clone().with_env_from(env(&[("QP_KAFKA_USERNAME", "from-env"), ("QP_KAFKA_PASSWORD", "env-pw")]));
        assert_eq!((s.security.username.as_deref(), s.security.password.as_deref()), (Some("from-env"), Some("env-pw")));
        let p = props(&s.producer_config());
        assert_eq!((p["sasl.username"].as_str(), p["sasl.password"].as_str()), ("from-env", "env-pw"));
        let s = file.clone().with_env_from(env(&[]));
        assert_eq!(
            (s.security.username.as_deref(), s.security.password.as_deref()),
            (Some("svc"), Some("hunter2")),
            "unset variables keep the file's values"
        );
        let only_pw = KafkaSettings { security: KafkaSecurity { password: None, ..file.security.clone() }, ..file };
        assert!(only_pw.validate().is_err());
        only_pw.with_env_from(env(&[("QP_KAFKA_PASSWORD", "env-pw")])).validate().expect("the password may come from the environment alone");
    }

    #[test]
    fn security_secrets_are_masked_in_the_log_line_and_debug() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("client.key");
        std::fs::write(&key, "k").unwrap();
        let mut security = sasl_ssl(dir.path());
        security.cert_file = security.ca_file.clone();
        security.key_file = Some(key);
        security.key_password = Some("k3y-pass".into());
        let s = KafkaSettings { security, ..KafkaSettings::default() }.with_properties(&["sasl.oauthbearer.client.secret=t0ken".into()]).unwrap();
        for text in [s.redacted(), format!("{s:?}"), format!("{s:#?}"), format!("{:?}", s.security)] {
            for secret in ["hunter2", "k3y-pass", "t0ken"] {
                assert!(!text.contains(secret), "{secret} in {text}");
            }
        }
        let line = s.redacted();
        assert!(line.contains("protocol=sasl_ssl sasl_mechanism=SCRAM-SHA-512 username=svc password=***"), "{line}");
        assert!(line.contains("key_password=***") && line.contains("verify_hostname=true"), "{line}");
        assert!(format!("{s:?}").contains("username: Some(\"svc\")"), "{s:?}");
    }

    #[test]
    fn durations_are_checked() {
        let s = KafkaSettings { commit_interval: "0s".into(), ..KafkaSettings::default() };
        assert!(s.commit_interval().unwrap_err().to_string().contains("kafka.commit_interval"));
        assert_eq!(KafkaSettings::default().idle_timeout().unwrap(), Duration::from_secs(30));
    }
}
