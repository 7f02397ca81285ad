//! One module per subcommand; each takes parsed arguments and returns `anyhow::Result`.

pub mod backfill;
pub mod bench;
pub mod bench_stream;
pub mod demo;
mod demo_service;
pub mod generate;
pub mod import;
pub mod incentives;
pub mod migrate;
pub mod norms;
pub mod produce;
pub mod report;
pub mod review;
pub mod run;
pub mod topics;

use crate::cli::{ClickHouseArgs, KafkaArgs, StreamArgs};
use crate::config::ConfigFile;
use crate::generate::{Anomalies, GeneratorConfig};
use crate::kafka::KafkaSettings;
use crate::sink::clickhouse::ClickHouseSettings;
use chrono_tz::Tz;

/// The generator configuration for command-line stream arguments.
fn generator_config(stream: &StreamArgs, timezone: Tz) -> GeneratorConfig {
    let defaults = GeneratorConfig::default();
    GeneratorConfig {
        sellers: stream.sellers,
        days: stream.days,
        start: stream.start.or_else(|| stream.start_days_ago.map(days_ago)).unwrap_or(defaults.start),
        timezone,
        seed: stream.seed,
        orders_per_seller_day: stream.orders_per_day,
        anomalies: if stream.clean { Anomalies::none() } else { Anomalies::default() },
        trends: stream.trends,
    }
}

/// The UTC date `n` days before today.
fn days_ago(n: u32) -> chrono::NaiveDate {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let today = chrono::DateTime::from_timestamp(now, 0).unwrap_or_default().date_naive();
    today - chrono::Duration::days(i64::from(n))
}

/// ClickHouse settings: the config file's, then `QP_CLICKHOUSE_*` variables, then flags.
fn clickhouse_settings(file: &ConfigFile, args: &ClickHouseArgs) -> ClickHouseSettings {
    let mut s = file.clickhouse.clone().with_env();
    if let Some(url) = &args.clickhouse_url {
        s.url = url.clone();
    }
    if let Some(db) = &args.clickhouse_database {
        s.database = db.clone();
    }
    if args.no_migrate {
        s.migrate_on_start = false;
    }
    s
}

/// Kafka settings: the config file's, then `QP_KAFKA_*` variables, then flags.
fn kafka_settings(file: &ConfigFile, args: &KafkaArgs) -> anyhow::Result<KafkaSettings> {
    let mut s = file.kafka.clone().with_env().with_properties(&args.properties)?;
    if let Some(b) = &args.brokers {
        s.brokers = b.clone();
    }
    if let Some(g) = &args.group_id {
        s.group_id = g.clone();
    }
    Ok(s)
}

/// Applies migrations (or checks the server) as configured.
async fn prepare(settings: &ClickHouseSettings) -> anyhow::Result<()> {
    if settings.migrate_on_start {
        crate::sink::clickhouse::migrate(settings).await.map(|_| ())
    } else {
        settings.check_reachable().await
    }
}

/// A tokio runtime for the commands that talk to servers.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}
