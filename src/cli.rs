//! Command-line definition (clap derive). Each subcommand maps to one module in `commands/`.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Service-quality standards of a marketplace, per seller, from an event stream.
#[derive(Debug, Parser)]
#[command(name = "quality-pipeline", version, about, long_about = None, after_help = EXAMPLES)]
pub struct Cli {
    /// TOML config file (engine settings and standards); defaults to the regulation's values.
    #[arg(long, global = true, env = "QP_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

const EXAMPLES: &str = "\
Examples:
  quality-pipeline demo                                   # synthetic marketplace, weekly breach table
  quality-pipeline generate --sellers 200 --days 35 > events.ndjson
  quality-pipeline run --source file:events.ndjson --sink file:out/
  quality-pipeline bench --sellers 10000 --days 90        # throughput and memory figures";

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate a realistic synthetic event stream (NDJSON on stdout or to a file).
    #[command(after_help = "Example:\n  quality-pipeline generate --sellers 50 --days 28 --seed 7 --out events.ndjson")]
    Generate(GenerateArgs),
    /// Run the pipeline: read events from a source, write window rows and dead letters to a sink.
    #[command(
        after_help = "Examples:\n  quality-pipeline run --source file:events.ndjson --sink file:out/\n  quality-pipeline generate | quality-pipeline run --source file:- --sink file:out/"
    )]
    Run(RunArgs),
    /// Generate a synthetic marketplace, run it, and print this week's breaches (no servers needed).
    #[command(after_help = "Example:\n  quality-pipeline demo --sellers 100 --seed 3")]
    Demo(DemoArgs),
    /// Create or upgrade the ClickHouse schema (idempotent; `run` also does it at start).
    #[command(after_help = "Example:\n  quality-pipeline migrate --clickhouse-url http://127.0.0.1:8123")]
    Migrate(MigrateArgs),
    /// Measure engine throughput (events/s on one core) and peak memory.
    #[command(after_help = "Example:\n  quality-pipeline bench --sellers 10000 --days 90")]
    Bench(BenchArgs),
}

/// Shape of a synthetic stream.
#[derive(Debug, Clone, Args)]
pub struct StreamArgs {
    /// Number of sellers.
    #[arg(long, default_value_t = 40)]
    pub sellers: u32,
    /// Number of days of activity.
    #[arg(long, default_value_t = 28)]
    pub days: u32,
    /// First local day (YYYY-MM-DD); defaults to 2026-10-26, a Monday.
    #[arg(long, value_name = "DATE")]
    pub start: Option<chrono::NaiveDate>,
    /// Seed of the random stream: the same seed gives the same bytes.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Mean orders per seller per day.
    #[arg(long, default_value_t = 6.0)]
    pub orders_per_day: f64,
    /// Leave out malformed, duplicate, out-of-order and too-late events.
    #[arg(long)]
    pub clean: bool,
}

/// `generate` arguments.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The stream.
    #[command(flatten)]
    pub stream: StreamArgs,
    /// Time zone of the generated local times (defaults to the config's).
    #[arg(long)]
    pub timezone: Option<String>,
    /// Output file; stdout if absent.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `run` arguments.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Event source: `file:PATH` (NDJSON; `file:-` for stdin).
    #[arg(long, value_name = "SOURCE")]
    pub source: String,
    /// Result sink: `file:DIR` (one NDJSON file per table) or `clickhouse` (see --clickhouse-url).
    #[arg(long, value_name = "SINK")]
    pub sink: String,
    /// ClickHouse connection, for `--sink clickhouse`.
    #[command(flatten)]
    pub clickhouse: ClickHouseArgs,
    /// Make the sink durable every N events (and at the end).
    #[arg(long, value_name = "N", default_value_t = 1_048_576, value_parser = clap::value_parser!(u64).range(1..))]
    pub commit_every: u64,
    /// Override the config's time zone.
    #[arg(long)]
    pub timezone: Option<String>,
    /// Override the config's allowed lateness (e.g. 48h).
    #[arg(long)]
    pub allowed_lateness: Option<String>,
    /// Also emit provisional rows of changed open windows every N events.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub provisional_every: Option<u64>,
}

/// ClickHouse connection flags; the config's `[clickhouse]` section gives the defaults.
#[derive(Debug, Clone, Args)]
pub struct ClickHouseArgs {
    /// ClickHouse HTTP URL.
    #[arg(long, env = "QP_CLICKHOUSE_URL", value_name = "URL")]
    pub clickhouse_url: Option<String>,
    /// ClickHouse database.
    #[arg(long, env = "QP_CLICKHOUSE_DATABASE", value_name = "NAME")]
    pub clickhouse_database: Option<String>,
    /// Do not apply schema migrations at start.
    #[arg(long)]
    pub no_migrate: bool,
}

/// `migrate` arguments.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The connection.
    #[command(flatten)]
    pub clickhouse: ClickHouseArgs,
}

/// `demo` arguments.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The stream.
    #[command(flatten)]
    pub stream: StreamArgs,
    /// Override the config's time zone.
    #[arg(long)]
    pub timezone: Option<String>,
    /// How many breaching sellers to list.
    #[arg(long, default_value_t = 15)]
    pub top: usize,
}

/// `bench` arguments.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Sellers in the memory run.
    #[arg(long, default_value_t = 10_000)]
    pub sellers: u32,
    /// Days in the memory run.
    #[arg(long, default_value_t = 90)]
    pub days: u32,
    /// Events held in memory for each throughput run.
    #[arg(long, default_value_t = 3_000_000)]
    pub events: usize,
    /// Seller counts of the throughput runs (the state they need decides how much of it stays in cache).
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    pub throughput_sellers: Vec<u32>,
    /// Seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Skip the (long) memory run.
    #[arg(long)]
    pub throughput_only: bool,
}
