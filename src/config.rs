//! The TOML configuration file: engine settings and standards, with the regulation's defaults.
//!
//! ```toml
//! [engine]
//! timezone = "Europe/Moscow"   # IANA zone of the calendar windows
//! allowed_lateness = "48h"     # events older than max event time minus this are too late
//! state_ttl = "30d"            # orders/conversations that never complete are given up after this
//! complaint_window = "14d"     # a wrong or missing item complained of this long after delivery counts
//! profile = "marketplace"      # or "service": performers, departments, service requests
//! reopen_window = "7d"         # service profile: a request reopened this long after closure counts
//!
//! [standards.confirmation_time_avg]
//! target = "90m"               # durations as "30m", "2h"; other metrics as numbers
//! [[standards.revisions]]       # a later version of the standards, inheriting the one before
//! id = "2025-Q2"
//! effective_from = "2025-04-01" # windows starting on or after this local date use it
//! [standards.revisions.csi]
//! target = 4.6
//!
//! [actions.escalation]
//! systematic_failures = 3      # N failed weeks of the last M make violations systematic
//! [actions.survey]
//! wait = "24h"                 # after delivery, then a customer without a review is surveyed
//!
//! [clickhouse]
//! url = "https://ch.example.com:8443"  # or QP_CLICKHOUSE_URL; https uses TLS
//! database = "quality"
//! user = "pipeline"              # or QP_CLICKHOUSE_USER; the password from QP_CLICKHOUSE_PASSWORD
//!
//! [kafka]
//! brokers = "127.0.0.1:9092"     # or QP_KAFKA_BROKERS
//! group_id = "quality-pipeline"  # or QP_KAFKA_GROUP_ID
//! idle_timeout = "30s"           # a quiet partition stops holding event time back
//! wall_clock = true              # false for backfills
//! [kafka.security]               # SASL and TLS for every Kafka client
//! protocol = "sasl_ssl"          # plaintext (default), ssl, sasl_plaintext, sasl_ssl
//! sasl_mechanism = "SCRAM-SHA-512"
//! username = "pipeline"          # or QP_KAFKA_USERNAME; the password from QP_KAFKA_PASSWORD
//! ca_file = "/etc/kafka/ca.pem"
//! [kafka.properties]             # any other librdkafka property
//! "fetch.wait.max.ms" = "10"
//! ```
//!
//! Parse errors in the `[kafka*]` and `[clickhouse]` sections do not echo the offending line
//! or value, which may be a password.

use crate::kafka::KafkaSettings;
use crate::sink::clickhouse::ClickHouseSettings;
use anyhow::{Context, Result};
use quality_engine::actions::ActionPolicy;
use quality_engine::methodology::{parse_duration_ms, Profile, StandardsBook, VersionedStandards};
use quality_engine::EngineConfig;
use serde::Deserialize;
use std::path::Path;

/// The whole configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// `[engine]`: windows and state.
    #[serde(default)]
    pub engine: EngineSection,
    /// `[standards.<metric>]`: overrides of the regulation's targets and composite weights;
    /// `[[standards.revisions]]`: later versions, each from its `effective_from` date.
    #[serde(default)]
    pub standards: StandardsBook,
    /// `[clickhouse]`: where the ClickHouse sink writes.
    #[serde(default)]
    pub clickhouse: ClickHouseSettings,
    /// `[kafka]`: brokers, topics and the consumer group.
    #[serde(default)]
    pub kafka: KafkaSettings,
    /// `[actions.*]`: escalation ladder, surveys, critics' follow-up and leaders.
    #[serde(default)]
    pub actions: ActionPolicy,
}

/// The `[engine]` section; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSection {
    /// Which business is measured: `marketplace` (default) or `service`.
    #[serde(default)]
    pub profile: Profile,
    /// IANA time zone, e.g. `Europe/Moscow`.
    pub timezone: Option<String>,
    /// Allowed lateness, e.g. `48h`.
    pub allowed_lateness: Option<String>,
    /// Lifetime of incomplete orders and conversations, e.g. `30d`.
    pub state_ttl: Option<String>,
    /// How long after delivery an assembly complaint counts against the order, e.g. `14d`.
    pub complaint_window: Option<String>,
    /// How long after its first closure a reopened request counts as reopened (service profile), e.g. `7d`.
    pub reopen_window: Option<String>,
}

impl ConfigFile {
    /// Reads a config file, or the defaults when `path` is `None`.
    pub fn load(path: Option<&Path>) -> Result<ConfigFile> {
        let Some(path) = path else { return Ok(ConfigFile::default()) };
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config file {}", path.display()))?;
        toml::from_str(&text).map_err(|e| {
            anyhow::anyhow!("{}", parse_error(&text, &e))
                .context(format!("invalid config file {}; see README.md#configuration for the keys", path.display()))
        })
    }

    /// The standards' versions of the configured profile.
    pub fn standards(&self) -> Result<VersionedStandards> {
        self.standards.resolve(self.engine.profile).map_err(anyhow::Error::msg).context("invalid [standards]; see README.md#configuration")
    }

    /// The engine configuration, with command-line overrides applied.
    pub fn engine_config(&self, timezone: Option<&str>, allowed_lateness: Option<&str>) -> Result<EngineConfig> {
        self.actions.validate().map_err(anyhow::Error::msg).context("invalid [actions] settings")?;
        let mut c = EngineConfig { standards: self.standards()?, actions: self.actions.clone(), ..EngineConfig::default() };
        if let Some(tz) = timezone.or(self.engine.timezone.as_deref()) {
            c.timezone = parse_timezone(tz)?;
        }
        if let Some(l) = allowed_lateness.or(self.engine.allowed_lateness.as_deref()) {
            c.allowed_lateness_ms = parse_duration_ms(l).map_err(anyhow::Error::msg).context("engine.allowed_lateness")?;
        }
        if let Some(t) = self.engine.state_ttl.as_deref() {
            c.state_ttl_ms = parse_duration_ms(t).map_err(anyhow::Error::msg).context("engine.state_ttl")?;
        }
        if let Some(w) = self.engine.complaint_window.as_deref() {
            c.complaint_window_ms = parse_duration_ms(w).map_err(anyhow::Error::msg).context("engine.complaint_window")?;
        }
        if let Some(w) = self.engine.reopen_window.as_deref() {
            c.reopen_window_ms = parse_duration_ms(w).map_err(anyhow::Error::msg).context("engine.reopen_window")?;
        }
        Ok(c)
    }
}

/// A parse error as shown to the user. In the sections that hold credentials (`[kafka...]`,
/// `[clickhouse]`) the offending line and value are left out: a misspelt `pasword = "..."` or a
/// password pasted under the wrong key must not end up in a terminal or a log.
fn parse_error(text: &str, e: &toml::de::Error) -> String {
    let Some(span) = e.span() else { return e.to_string() };
    let before = &text[..span.start.min(text.len())];
    let line_no = before.matches('\n').count() + 1;
    let line = text.lines().nth(line_no - 1).unwrap_or("").trim_start();
    let section = before.lines().rev().map(str::trim_start).find(|l| l.starts_with('[')).unwrap_or("");
    let holds_secrets = |l: &str| {
        let l = l.trim_start_matches('[').trim_start();
        l.starts_with("kafka") || l.starts_with("clickhouse")
    };
    if !holds_secrets(section) && !holds_secrets(line) {
        return e.to_string();
    }
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    let mut message = e.message().trim().to_owned();
    for kind in ["invalid type", "invalid value"] {
        if let Some((_, expected)) = message.strip_prefix(kind).and_then(|rest| rest.split_once(", expected ")) {
            message = format!("{kind} (value not shown), expected {expected}");
        }
    }
    format!("line {line_no}, column {column}: {message} (the line is not shown: this section may hold credentials)")
}

/// Parses an IANA zone name with an error that says what is expected.
pub fn parse_timezone(name: &str) -> Result<chrono_tz::Tz> {
    name.parse().map_err(|_| anyhow::anyhow!("unknown time zone {name:?}; use an IANA name such as Europe/Moscow or America/Sao_Paulo"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use quality_engine::methodology::MetricId;

    #[test]
    fn reads_sections_and_overrides() {
        let f: ConfigFile =
            toml::from_str("[engine]\ntimezone = \"Europe/Berlin\"\nallowed_lateness = \"6h\"\n[standards.response_time_avg]\ntarget = \"15m\"\n")
                .unwrap();
        let c = f.engine_config(None, None).unwrap();
        assert_eq!(c.timezone, chrono_tz::Europe::Berlin);
        assert_eq!(c.allowed_lateness_ms, 6 * 3_600_000);
        assert_eq!(c.standards.latest().standards.get(MetricId::ResponseTimeAvg).target, 900.0);
        let c = f.engine_config(Some("UTC"), Some("1h")).unwrap();
        assert_eq!((c.timezone, c.allowed_lateness_ms), (chrono_tz::UTC, 3_600_000));
        assert_eq!(c.complaint_window_ms, 14 * 86_400_000, "the default complaint window");
        let f: ConfigFile = toml::from_str("[engine]\ncomplaint_window = \"10d\"\n").unwrap();
        assert_eq!(f.engine_config(None, None).unwrap().complaint_window_ms, 10 * 86_400_000);
        let e = toml::from_str::<ConfigFile>("[engine]\ncomplaint_window = \"two weeks\"\n").unwrap().engine_config(None, None).unwrap_err();
        assert!(format!("{e:#}").contains("engine.complaint_window") && format!("{e:#}").contains("\"7d\""), "{e:#}");
    }

    #[test]
    fn errors_name_the_problem() {
        let e = toml::from_str::<ConfigFile>("[engin]\n").unwrap_err().to_string();
        assert!(e.contains("engin"), "{e}");
        let e = ConfigFile::default().engine_config(Some("Mars/Olympus"), None).unwrap_err().to_string();
        assert!(e.contains("IANA"), "{e}");
    }

    fn load_error(text: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qp.toml");
        std::fs::write(&path, text).unwrap();
        format!("{:#}", ConfigFile::load(Some(&path)).unwrap_err())
    }

    #[test]
    fn reads_the_kafka_security_and_clickhouse_credentials() {
        let f: ConfigFile = toml::from_str(
            "[clickhouse]\nurl = \"https://ch:8443\"\nuser = \"u\"\n[kafka.security]\nprotocol = \"sasl_ssl\"\nsasl_mechanism = \"PLAIN\"\nusername = \"svc\"\n",
        )
        .unwrap();
        assert_eq!(f.kafka.security.protocol, crate::kafka::Protocol::SaslSsl);
        assert_eq!(f.kafka.security.username.as_deref(), Some("svc"));
        assert_eq!((f.clickhouse.url.as_str(), f.clickhouse.user.as_str()), ("https://ch:8443", "u"));
    }

    #[test]
    fn config_errors_in_credential_sections_do_not_echo_secrets() {
        // A misspelt key: the error names the valid keys and the line number, not the line.
        let e = load_error("[kafka.security]\nprotocol = \"sasl_ssl\"\npasword = \"hunter2\"\n");
        assert!(!e.contains("hunter2"), "{e}");
        assert!(e.contains("line 3") && e.contains("pasword") && e.contains("password"), "{e}");
        // A password pasted under a key of another type: no value in the message either.
        let e = load_error("[clickhouse]\nmigrate_on_start = \"s3cret\"\n");
        assert!(!e.contains("s3cret") && e.contains("expected a boolean"), "{e}");
        let e = load_error("kafka.security.password = 12345678\n");
        assert!(!e.contains("12345678"), "{e}");
        // Other sections keep toml's full report with the offending line.
        let e = load_error("[engine]\ntimezon = \"Europe/Berlin\"\n");
        assert!(e.contains("timezon = \"Europe/Berlin\""), "{e}");
    }
}
