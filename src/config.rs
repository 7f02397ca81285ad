//! The TOML configuration file: engine settings and standards, with the regulation's defaults.
//!
//! ```toml
//! [engine]
//! timezone = "Europe/Moscow"   # IANA zone of the calendar windows
//! allowed_lateness = "48h"     # events older than max event time minus this are too late
//! state_ttl = "30d"            # orders/conversations that never complete are given up after this
//!
//! [standards.confirmation_time_avg]
//! target = "90m"               # durations as "30m", "2h"; other metrics as numbers
//!
//! [clickhouse]
//! url = "http://127.0.0.1:8123"  # or QP_CLICKHOUSE_URL
//! database = "quality"
//!
//! [kafka]
//! brokers = "127.0.0.1:9092"     # or QP_KAFKA_BROKERS
//! group_id = "quality-pipeline"  # or QP_KAFKA_GROUP_ID
//! idle_timeout = "30s"           # a quiet partition stops holding event time back
//! wall_clock = true              # false for backfills
//! [kafka.properties]             # any librdkafka property
//! "security.protocol" = "SASL_SSL"
//! ```

use crate::kafka::KafkaSettings;
use crate::sink::clickhouse::ClickHouseSettings;
use anyhow::{Context, Result};
use quality_engine::methodology::{parse_duration_ms, Standards};
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
    /// `[standards.<metric>]`: overrides of the regulation's targets and composite weights.
    #[serde(default)]
    pub standards: Standards,
    /// `[clickhouse]`: where the ClickHouse sink writes.
    #[serde(default)]
    pub clickhouse: ClickHouseSettings,
    /// `[kafka]`: brokers, topics and the consumer group.
    #[serde(default)]
    pub kafka: KafkaSettings,
}

/// The `[engine]` section; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSection {
    /// IANA time zone, e.g. `Europe/Moscow`.
    pub timezone: Option<String>,
    /// Allowed lateness, e.g. `48h`.
    pub allowed_lateness: Option<String>,
    /// Lifetime of incomplete orders and conversations, e.g. `30d`.
    pub state_ttl: Option<String>,
}

impl ConfigFile {
    /// Reads a config file, or the defaults when `path` is `None`.
    pub fn load(path: Option<&Path>) -> Result<ConfigFile> {
        let Some(path) = path else { return Ok(ConfigFile::default()) };
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("invalid config file {}; see README.md#configuration for the keys", path.display()))
    }

    /// The engine configuration, with command-line overrides applied.
    pub fn engine_config(&self, timezone: Option<&str>, allowed_lateness: Option<&str>) -> Result<EngineConfig> {
        let mut c = EngineConfig { standards: self.standards.clone(), ..EngineConfig::default() };
        if let Some(tz) = timezone.or(self.engine.timezone.as_deref()) {
            c.timezone = parse_timezone(tz)?;
        }
        if let Some(l) = allowed_lateness.or(self.engine.allowed_lateness.as_deref()) {
            c.allowed_lateness_ms = parse_duration_ms(l).map_err(anyhow::Error::msg).context("engine.allowed_lateness")?;
        }
        if let Some(t) = self.engine.state_ttl.as_deref() {
            c.state_ttl_ms = parse_duration_ms(t).map_err(anyhow::Error::msg).context("engine.state_ttl")?;
        }
        Ok(c)
    }
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
        assert_eq!(c.standards.get(MetricId::ResponseTimeAvg).target, 900.0);
        let c = f.engine_config(Some("UTC"), Some("1h")).unwrap();
        assert_eq!((c.timezone, c.allowed_lateness_ms), (chrono_tz::UTC, 3_600_000));
    }

    #[test]
    fn errors_name_the_problem() {
        let e = toml::from_str::<ConfigFile>("[engin]\n").unwrap_err().to_string();
        assert!(e.contains("engin"), "{e}");
        let e = ConfigFile::default().engine_config(Some("Mars/Olympus"), None).unwrap_err().to_string();
        assert!(e.contains("IANA"), "{e}");
    }
}
