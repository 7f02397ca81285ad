//! One module per subcommand; each takes parsed arguments and returns `anyhow::Result`.

pub mod bench;
pub mod demo;
pub mod generate;
pub mod run;

use crate::cli::StreamArgs;
use crate::generate::{Anomalies, GeneratorConfig};
use chrono_tz::Tz;

/// The generator configuration for command-line stream arguments.
fn generator_config(stream: &StreamArgs, timezone: Tz) -> GeneratorConfig {
    let defaults = GeneratorConfig::default();
    GeneratorConfig {
        sellers: stream.sellers,
        days: stream.days,
        start: stream.start.unwrap_or(defaults.start),
        timezone,
        seed: stream.seed,
        orders_per_seller_day: stream.orders_per_day,
        anomalies: if stream.clean { Anomalies::none() } else { Anomalies::default() },
    }
}
