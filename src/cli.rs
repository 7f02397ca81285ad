//! Command-line definition (clap derive). Each subcommand maps to one module in `commands/`.

use crate::telemetry::LogFormat;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Service-quality standards of a marketplace, per seller, from an event stream.
#[derive(Debug, Parser)]
#[command(name = "quality-pipeline", version, about, long_about = None, after_help = EXAMPLES)]
pub struct Cli {
    /// TOML config file (engine settings and standards); defaults to the regulation's values.
    #[arg(long, global = true, env = "QP_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Log format on stderr (`QP_LOG` sets the level, e.g. `debug`).
    #[arg(long, global = true, env = "QP_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

const EXAMPLES: &str = "\
Examples:
  quality-pipeline demo                                   # synthetic marketplace, weekly breach table
  quality-pipeline generate --sellers 200 --days 35 > events.ndjson
  quality-pipeline generate --profile service --departments 6 --days 35 > service.ndjson
  quality-pipeline run --source file:events.ndjson --sink file:out/
  quality-pipeline topics --partitions 12 --brokers 127.0.0.1:9092
  quality-pipeline produce --input events.ndjson --brokers 127.0.0.1:9092
  quality-pipeline run --source kafka --sink clickhouse --brokers 127.0.0.1:9092 --clickhouse-url http://127.0.0.1:8123
  quality-pipeline norms --from file:out/ --pass-rate 0.9 --out norms.toml   # targets from history
  quality-pipeline report --seller seller-0001 --week 2026-W45 --from out/ --format html --out report.html
  quality-pipeline review --quarter 2025-Q1 --from out/ --propose revision.toml   # quarterly trends, standards revision
  quality-pipeline incentives --clickhouse --publish      # incentive tier changes, into ClickHouse and Kafka
  quality-pipeline --config quality.toml backfill --from file:out/ --standards-version 2025-Q2 --since 2025-04-01 --dry-run
  quality-pipeline bench --sellers 10000 --days 90        # throughput and memory figures
  quality-pipeline import olist tests/data/olist --out olist.ndjson   # real data as events
  quality-pipeline demo --olist tests/data/olist  # real data: the worst sellers of a month";

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate a realistic synthetic event stream (NDJSON on stdout or to a file).
    #[command(after_help = "Examples:
  quality-pipeline generate --sellers 50 --days 28 --seed 7 --out events.ndjson
  quality-pipeline generate --profile service --departments 6 --performers 8 --out service.ndjson
  quality-pipeline generate --profile service --days 56 --driver quality --clean > service.ndjson

The marketplace profile (default) simulates sellers and their orders, messages, reviews, NPS
answers and complaints; --sellers, --orders-per-day and --trends shape it. The service profile
simulates a facility-management company: departments of performers close the service requests
of clients at sites (request.created/reassigned/closed/reopened), clients answer surveys with
several questions (one of them, the planted key driver, drives the overall score; --driver
picks it, else the seed does), NPS answers about a request, site managers follow critics up and
some disputed surveys are excluded; every event is keyed by the department owning the request.
--departments, --performers, --sites and --requests-per-day shape it. Both profiles share
--days, --start, --start-days-ago, --seed, --timezone and --clean (which also leaves out the
service profile's broken surveys).")]
    Generate(GenerateArgs),
    /// Run the pipeline: read events from a source, write window rows and dead letters to a sink.
    #[command(after_help = "Examples:
  quality-pipeline run --source file:events.ndjson --sink file:out/
  quality-pipeline generate | quality-pipeline run --source file:- --sink file:out/
  quality-pipeline generate --profile service | quality-pipeline run --profile service --source file:- --sink file:out/
  quality-pipeline run --source kafka --sink clickhouse --brokers k1:9092 --group-id quality --clickhouse-url http://ch:8123
  quality-pipeline run --source kafka --sink clickhouse --backfill --stop-when-idle   # load history, then exit")]
    Run(Box<RunArgs>),
    /// Create the input and output topics (the inputs co-partitioned: the same partition count).
    #[command(after_help = "Example:\n  quality-pipeline topics --partitions 12 --brokers 127.0.0.1:9092")]
    Topics(TopicsArgs),
    /// Publish NDJSON events to the input topics, each on its family's topic, keyed by seller_id.
    #[command(after_help = "Example:\n  quality-pipeline generate --sellers 100 | quality-pipeline produce --input - --brokers 127.0.0.1:9092")]
    Produce(ProduceArgs),
    /// Generate a synthetic marketplace, run it, and print this week's breaches (no servers needed).
    #[command(
        after_help = "Examples:\n  quality-pipeline demo --sellers 100 --seed 3\n  quality-pipeline demo --profile service --seed 3   # a service company: ratings, CSAT and NPS goals, key drivers\n  quality-pipeline demo --olist tests/data/olist --month 2018-01"
    )]
    Demo(DemoArgs),
    /// Create or upgrade the ClickHouse schema (idempotent; `run` also does it at start).
    #[command(after_help = "Example:\n  quality-pipeline migrate --clickhouse-url http://127.0.0.1:8123")]
    Migrate(MigrateArgs),
    /// Norms from history: each standard's distribution over stored results and the target a chosen share of sellers meets.
    #[command(after_help = "Examples:
  quality-pipeline norms --from file:out/                 # monthly cells, 90 % pass rate
  quality-pipeline norms --from file:out/ --pass-rate 0.8 --min-sample 30 --out norms.toml
  quality-pipeline --config norms.toml run --source file:events.ndjson --sink file:out2/
  quality-pipeline norms --from clickhouse --clickhouse-url http://127.0.0.1:8123 --cadence week

A cell is one seller's final row of one period with at least --min-sample observations (the
metric's denominator). Percentiles are nearest-rank; the suggested target is the value of the
ceil(pass_rate x cells)-th best cell, so at least that share of cells meets it (docs/methodology.md,
\"Norms from history\").")]
    Norms(NormsArgs),
    /// Measure engine throughput (events/s on one core) and peak memory.
    #[command(after_help = "Examples:\n  quality-pipeline bench --sellers 10000 --days 90\n  \
                            quality-pipeline bench --profile service --throughput-only --requests-per-day 12\n  \
                            quality-pipeline bench --compare-profiles --rounds 5 --throughput-sellers 1000,10000\n  \
                            quality-pipeline bench --compare-profiles --throughput-sellers 10000 --min-days 0   # 3 M events: the first week")]
    Bench(BenchArgs),
    /// Measure end-to-end throughput, Kafka to ClickHouse, beside the bare consume rate (needs both servers).
    #[command(
        after_help = "Example (scripts/bench-stream.sh starts the test servers and runs this):\n  quality-pipeline bench-stream --events 1000000 --brokers 127.0.0.1:9092 --clickhouse-url http://127.0.0.1:8123"
    )]
    BenchStream(BenchStreamArgs),
    /// Import public marketplace data as contract events (NDJSON), with a summary of rejected rows.
    #[command(after_help = "Examples:
  quality-pipeline import olist tests/data/olist --out olist.ndjson
  quality-pipeline run --source file:olist.ndjson --sink file:out/ --timezone America/Sao_Paulo")]
    Import(ImportArgs),
    /// The weekly seller report of one seller and ISO week, or a performer's explained monthly rating, from stored results.
    #[command(after_help = "Examples:
  quality-pipeline report --seller seller-0001 --week 2026-W45 --from out/              # Markdown on stdout
  quality-pipeline report --performer perf-001 --month 2026-10 --from out/ --format html --out rating.html
  quality-pipeline report --department dept-02 --month 2026-10 --from out/
  quality-pipeline report --seller seller-0001 --week 2026-W45 --from out/ --format html --out report.html
  quality-pipeline report --seller seller-0001 --week 2026-W45 --clickhouse --clickhouse-url http://127.0.0.1:8123 --format json
  quality-pipeline --config quality.toml report --seller seller-0001 --week 2026-W45 --from out/

The week is an ISO week (YYYY-Www, Monday to Sunday in the config's time zone) whose final
weekly row exists. The report shows the base, operational and communication standards (target,
actual, deviation, dynamics, status), the main reasons for negative reviews, the critical
incidents of the week, the escalation stage and a recommendation per failed standard
(docs/methodology.md, section 11). A running `run --sink clickhouse` also serves the HTML at
/reports/{seller}/{week} on its --metrics-addr.

With --performer (or --department) and --month (service profile), the report is the monthly rating
with its explanation: every component's value, norm, weight and points (they add up to the
rating), the standards, the survey questions against the department's, and how to dispute a
client's rating (docs/methodology.md, section 15).")]
    Report(ReportArgs),
    /// Judge stored window rows again under one standards version (history otherwise keeps the version it was judged by).
    #[command(after_help = "Examples:
  quality-pipeline --config quality.toml backfill --from file:out/ --standards-version 2025-Q2 --since 2025-01-01 --dry-run
  quality-pipeline --config quality.toml backfill --from file:out/ --standards-version 2025-Q2 --since 2025-01-01
  quality-pipeline --config quality.toml backfill --from clickhouse --clickhouse-url http://127.0.0.1:8123 --standards-version 2025-Q2

Every window is judged by the standards version in force on its first day, and keeps it. This
command is the explicit exception: the final rows whose window starts in [--since, --until) get
the chosen version's targets, statuses and (monthly) composite as a new row version that replaces
the stored one; values, numerators, denominators and overdue counts stay. It prints every
standard whose target or statuses changed (docs/methodology.md, section 14). Escalations, leaders
and tiers already decided are not revisited.")]
    Backfill(BackfillArgs),
    /// The quarterly trend review (regulation, Appendix 2, section 5): trends per seller and standard, platform pass shares, proposed targets.
    #[command(after_help = "Examples:
  quality-pipeline review --quarter 2025-Q1 --from out/                          # Markdown on stdout
  quality-pipeline review --quarter 2025-Q1 --from out/ --propose revision.toml  # and the proposed standards revision
  quality-pipeline review --quarter 2025-Q1 --from out/ --format json --out review.json
  quality-pipeline review --quarter 2025-Q1 --clickhouse --clickhouse-url http://127.0.0.1:8123
  quality-pipeline --config quality.toml review --quarter 2018-Q1 --from out/ --timezone America/Sao_Paulo

Quarters are calendar quarters (Q1 = January to March) of the config's time zone; an ISO week
belongs to the quarter holding its Thursday. From final rows only: per seller and standard the
quarter's value, the weeks failed and the least-squares slope of the weekly values with its 95 %
band (improving / stable / declining; insufficient below 4 weekly values); per week the share of
judged sellers passing; and a proposed target per standard by the norms method over the quarter's
weekly (daily for daily standards) rows, which --propose writes as a [[standards.revisions]]
entry effective from the next quarter (docs/methodology.md, section 13).")]
    Review(ReviewArgs),
    /// Incentive tiers: decide every closed month's tier changes over all sellers in ClickHouse, record them, and publish them once.
    #[command(after_help = "Examples:
  quality-pipeline incentives --clickhouse --clickhouse-url http://127.0.0.1:8123
  quality-pipeline incentives --clickhouse --publish --brokers 127.0.0.1:9092 --group-id quality

Tiers, their entry and exit rules and minimum stays are `[actions.incentives.<tier>]` in the
config (defaults: leader, quality_leader, tariff). Changes are decided from an empty start over
every month closed in every partition (the checkpoints of --group-id; all final months of a
database loaded by a file run), written to the `incentives` table and, with --publish, to the
topic `quality.incentives`: a change already on the topic is not published again, so run it as
often as you like, one run at a time (docs/methodology.md, section 10.6). A file sink writes the
same changes to incentives.ndjson by itself.")]
    Incentives(IncentivesArgs),
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
    /// Start this many days before today instead (a live demo: history, then events as they happen with `produce --pace`).
    #[arg(long, value_name = "DAYS", conflicts_with = "start")]
    pub start_days_ago: Option<u32>,
    /// Seed of the random stream: the same seed gives the same bytes.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Mean orders per seller per day.
    #[arg(long, default_value_t = 6.0)]
    pub orders_per_day: f64,
    /// Leave out malformed, duplicate, out-of-order and too-late events (and the service profile's broken surveys).
    #[arg(long)]
    pub clean: bool,
    /// Add two sellers whose quality drifts over the days, a planted trend for `review`: seller
    /// N+1 improves from the failing to the excellent tier, seller N+2 declines (N = --sellers).
    #[arg(long)]
    pub trends: bool,
}

/// Which business: the engine's profile, and what a synthetic stream simulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProfileArg {
    /// A marketplace: sellers, orders, messages, reviews, NPS, complaints.
    Marketplace,
    /// A service company: departments, performers, service requests, surveys, NPS.
    Service,
}

/// `generate` arguments.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Which business to simulate.
    #[arg(long, value_enum, default_value_t = ProfileArg::Marketplace)]
    pub profile: ProfileArg,
    /// The stream.
    #[command(flatten)]
    pub stream: StreamArgs,
    /// Service profile: number of departments (the events' key) [default: 4].
    #[arg(long, value_name = "N", conflicts_with_all = MARKETPLACE_ONLY)]
    pub departments: Option<u32>,
    /// Service profile: performers per department [default: 6].
    #[arg(long, value_name = "N", conflicts_with_all = MARKETPLACE_ONLY)]
    pub performers: Option<u32>,
    /// Service profile: number of sites, one manager each [default: 8].
    #[arg(long, value_name = "N", conflicts_with_all = MARKETPLACE_ONLY)]
    pub sites: Option<u32>,
    /// Service profile: mean requests per performer and weekday [default: 4].
    #[arg(long, value_name = "N", conflicts_with_all = MARKETPLACE_ONLY)]
    pub requests_per_day: Option<f64>,
    /// Service profile: the survey question planted as the key driver of the overall score [default: drawn from the seed].
    #[arg(long, value_name = "QUESTION", value_parser = ["timeliness", "quality", "politeness", "cleanliness"], conflicts_with_all = MARKETPLACE_ONLY)]
    pub driver: Option<String>,
    /// Time zone of the generated local times (defaults to the config's).
    #[arg(long)]
    pub timezone: Option<String>,
    /// Output file; stdout if absent.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

impl From<ProfileArg> for quality_engine::methodology::Profile {
    fn from(p: ProfileArg) -> Self {
        match p {
            ProfileArg::Marketplace => quality_engine::methodology::Profile::Marketplace,
            ProfileArg::Service => quality_engine::methodology::Profile::Service,
        }
    }
}

/// The flags of the marketplace profile, which the service profile's flags exclude.
const MARKETPLACE_ONLY: [&str; 3] = ["sellers", "orders_per_day", "trends"];

/// `run` arguments.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Event source: `file:PATH` (NDJSON; `file:-` for stdin) or `kafka` (see --brokers).
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
    /// Override the config's profile (`[engine] profile`): marketplace or service.
    #[arg(long, value_enum)]
    pub profile: Option<ProfileArg>,
    /// Also emit provisional rows of changed open windows every N events (file source).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub provisional_every: Option<u64>,
    /// File source: before the end, let the clock run on quietly until TIME (RFC 3339), as a
    /// stream would; gives the rows a Kafka run has once its clock passed TIME.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Kafka connection and consumer group, for `--source kafka`.
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// Kafka source: results become durable and offsets are committed this often (e.g. 5s).
    #[arg(long, value_name = "DURATION")]
    pub commit_interval: Option<String>,
    /// Kafka source: a partition with no record for this long stops holding event time back.
    #[arg(long, value_name = "DURATION")]
    pub idle_timeout: Option<String>,
    /// Kafka source: historical data; event time never follows the wall clock.
    #[arg(long)]
    pub backfill: bool,
    /// Kafka source: also write provisional rows of changed open windows at every commit.
    #[arg(long)]
    pub provisional: bool,
    /// Kafka source: exit once every assigned partition is idle and its results are durable.
    #[arg(long)]
    pub stop_when_idle: bool,
    /// Serve /metrics, /healthz and /readyz here (`off` to disable); default 127.0.0.1:9464 for
    /// the Kafka source, off for files.
    #[arg(long, env = "QP_METRICS_ADDR", value_name = "ADDR")]
    pub metrics_addr: Option<String>,
    /// Also export the value of the N worst sellers per cadence and standard (0: none; bounds
    /// the per-seller series to 5 x 10 x N).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub worst_sellers: usize,
    /// Kafka source: /readyz answers 200 only while the total lag is at most this many records.
    #[arg(long, default_value_t = 100_000, value_name = "RECORDS")]
    pub ready_max_lag: i64,
    /// Bearer token for /reports/{seller}/{week} (served with `--sink clickhouse`); required when
    /// --metrics-addr is not a loopback address, enforced on loopback when set.
    #[arg(long, env = "QP_REPORTS_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub reports_token: Option<String>,
}

/// Kafka connection flags; the config's `[kafka]` section gives the defaults.
#[derive(Debug, Clone, Args)]
pub struct KafkaArgs {
    /// Bootstrap servers, host:port[,host:port].
    #[arg(long, env = "QP_KAFKA_BROKERS", value_name = "HOSTS")]
    pub brokers: Option<String>,
    /// Consumer group; instances in one group split the partitions.
    #[arg(long, env = "QP_KAFKA_GROUP_ID", value_name = "NAME")]
    pub group_id: Option<String>,
    /// A librdkafka property KEY=VALUE (repeatable), e.g. security.protocol=SASL_SSL.
    #[arg(long = "kafka-property", short = 'X', value_name = "KEY=VALUE")]
    pub properties: Vec<String>,
}

/// `topics` arguments.
#[derive(Debug, Args)]
pub struct TopicsArgs {
    /// The connection.
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// Partitions of every topic (the unit of parallelism: at most this many busy instances).
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(i32).range(1..))]
    pub partitions: i32,
    /// Replication factor.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..))]
    pub replication: i32,
}

/// `produce` arguments.
#[derive(Debug, Args)]
pub struct ProduceArgs {
    /// The connection.
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// NDJSON events; `-` for stdin.
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Publish each event when the wall clock reaches its occurred_at (past events at once): a live stream.
    #[arg(long)]
    pub pace: bool,
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

/// `norms` arguments.
#[derive(Debug, Args)]
pub struct NormsArgs {
    /// Stored results: `file:DIR` (a file sink's directory, its windows.ndjson) or `clickhouse` (the `standards` view).
    #[arg(long, value_name = "SOURCE")]
    pub from: String,
    /// ClickHouse connection, for `--from clickhouse`.
    #[command(flatten)]
    pub clickhouse: ClickHouseArgs,
    /// Cadence of the rows to learn from.
    #[arg(long, default_value = "month", value_parser = ["day", "week", "month", "quarter", "rolling_7d", "rolling_30d"])]
    pub cadence: String,
    /// Share of cells that must meet the suggested target, in (0, 1].
    #[arg(long, default_value_t = 0.9, value_name = "SHARE")]
    pub pass_rate: f64,
    /// Least observations (orders, reviews, messages: the metric's denominator) for a cell to count.
    #[arg(long, default_value_t = 20, value_name = "N", value_parser = clap::value_parser!(i64).range(1..))]
    pub min_sample: i64,
    /// Least cells for a suggestion; a standard with fewer is listed as skipped.
    #[arg(long, default_value_t = 10, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub min_cells: u64,
    /// Write the TOML snippet here instead of printing it after the table.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `backfill` arguments.
#[derive(Debug, Args)]
pub struct BackfillArgs {
    /// Stored results: `file:DIR` (a file sink's directory; new versions are appended) or `clickhouse`.
    #[arg(long, value_name = "SOURCE")]
    pub from: String,
    /// ClickHouse connection, for `--from clickhouse`.
    #[command(flatten)]
    pub clickhouse: ClickHouseArgs,
    /// The id of the standards version to apply (the config's `[standards] id` or a `[[standards.revisions]]` id).
    #[arg(long, value_name = "ID")]
    pub standards_version: String,
    /// First window start to judge again (YYYY-MM-DD); all history when omitted.
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// First window start not to judge again (YYYY-MM-DD); no end when omitted.
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// Print what would change without writing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `demo` arguments.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Which business: a marketplace (default) or a service company (performers, departments, requests).
    #[arg(long, value_enum, default_value_t = ProfileArg::Marketplace, conflicts_with = "olist")]
    pub profile: ProfileArg,
    /// The stream.
    #[command(flatten)]
    pub stream: StreamArgs,
    /// Override the config's time zone.
    #[arg(long)]
    pub timezone: Option<String>,
    /// How many breaching sellers to list.
    #[arg(long, default_value_t = 15)]
    pub top: usize,
    /// Run on the Olist dataset in DIR instead of a synthetic marketplace (America/Sao_Paulo).
    #[arg(long, value_name = "DIR")]
    pub olist: Option<PathBuf>,
    /// With --olist: the month to report (YYYY-MM); default: the month with most orders.
    #[arg(long, value_name = "YYYY-MM", requires = "olist")]
    pub month: Option<String>,
    /// Where to write the weekly report (HTML) of the worst seller of the last week.
    #[arg(long, value_name = "FILE", default_value = "quality-pipeline-demo-report.html")]
    pub report_html: PathBuf,
}

/// `import` arguments.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The dataset.
    #[command(subcommand)]
    pub source: ImportSource,
}

/// Datasets `import` reads.
#[derive(Debug, Subcommand)]
pub enum ImportSource {
    /// The Olist Brazilian e-commerce dataset (orders, items, reviews CSV); see docs/olist.md.
    #[command(after_help = "Example:\n  quality-pipeline import olist tests/data/olist --out olist.ndjson")]
    Olist {
        /// Directory holding olist_orders_dataset.csv, olist_order_items_dataset.csv and olist_order_reviews_dataset.csv.
        dir: PathBuf,
        /// Output file; stdout if absent.
        #[arg(long, short, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

/// `bench` arguments.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Which profile's stream and engine (service: the seller counts are performers, 20 per department).
    #[arg(long, value_enum, default_value_t = ProfileArg::Marketplace)]
    pub profile: ProfileArg,
    /// Sellers in the memory run.
    #[arg(long, default_value_t = 10_000)]
    pub sellers: u32,
    /// Service profile: mean requests per performer and weekday (the generator's default is 4;
    /// --compare-profiles matches the marketplace stream's events per entity-day unless given).
    #[arg(long, value_name = "N")]
    pub requests_per_day: Option<f64>,
    /// Days of the generated streams (the memory run takes them all).
    #[arg(long, default_value_t = 90)]
    pub days: u32,
    /// Events held in memory for each throughput run (at least; see --min-days).
    #[arg(long, default_value_t = 3_000_000)]
    pub events: usize,
    /// Days of event time each throughput stream covers at least, beyond --events (default: 0,
    /// or 28 with --compare-profiles, so that both profiles' lifecycles run in full: deliveries,
    /// survey decisions, 7-day reopen and 14-day complaint windows).
    #[arg(long, value_name = "DAYS")]
    pub min_days: Option<u32>,
    /// Seller counts of the throughput runs (the state they need decides how much of it stays in cache).
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    pub throughput_sellers: Vec<u32>,
    /// Seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Skip the (long) memory run.
    #[arg(long)]
    pub throughput_only: bool,
    /// Instead of one profile: the service profile's engine throughput as a share of the
    /// marketplace's, from the two engines taking their streams in turn, 65,536 events at a
    /// time (a slow spell of a shared machine then slows both); no memory run.
    #[arg(long, conflicts_with_all = ["profile", "throughput_only"])]
    pub compare_profiles: bool,
    /// Rounds of --compare-profiles, each with fresh engines over the whole streams (the median share is reported).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub rounds: u32,
}

/// `bench-stream` arguments.
#[derive(Debug, Args)]
pub struct BenchStreamArgs {
    /// Kafka connection (fresh topics named bench-<time>.* are created).
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// ClickHouse connection (a fresh database bench_<time> is created).
    #[command(flatten)]
    pub clickhouse: ClickHouseArgs,
    /// Events to pre-fill the topics with.
    #[arg(long, default_value_t = 1_000_000)]
    pub events: u64,
    /// Sellers in the generated stream (200 sellers give about 4 months for 1 M events).
    #[arg(long, default_value_t = 200)]
    pub sellers: u32,
    /// Mean orders per seller per day.
    #[arg(long, default_value_t = 6.0)]
    pub orders_per_day: f64,
    /// Partitions per topic.
    #[arg(long, default_value_t = 4)]
    pub partitions: i32,
    /// Idle timeout of the run (the last windows close this long after the last record).
    #[arg(long, default_value = "200ms")]
    pub idle_timeout: String,
    /// Commit interval of the run.
    #[arg(long, default_value = "1s")]
    pub commit_interval: String,
    /// Seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// `report` arguments.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The seller id (the weekly seller report).
    #[arg(long, value_name = "SELLER", required_unless_present_any = ["performer", "department"], requires = "week")]
    pub seller: Option<String>,
    /// The ISO week, YYYY-Www (e.g. 2025-W10).
    #[arg(long, value_name = "YYYY-Www", requires = "seller")]
    pub week: Option<String>,
    /// A performer id (service profile): the monthly rating with its explanation instead.
    #[arg(long, value_name = "PERFORMER", conflicts_with = "seller", requires = "month")]
    pub performer: Option<String>,
    /// The month of the performer's or the department's rating, YYYY-MM.
    #[arg(long, value_name = "YYYY-MM")]
    pub month: Option<String>,
    /// A department (service profile): its explained monthly rating; with --performer, the
    /// performer's department when they worked for several.
    #[arg(long, value_name = "DEPARTMENT", conflicts_with = "seller", requires = "month")]
    pub department: Option<String>,
    /// A file sink's directory (`run --sink file:DIR`; `file:DIR` works too).
    #[arg(long, value_name = "DIR", required_unless_present = "use_clickhouse", conflicts_with = "use_clickhouse")]
    pub from: Option<String>,
    /// Read the results from ClickHouse instead (see --clickhouse-url).
    #[arg(long = "clickhouse")]
    pub use_clickhouse: bool,
    /// ClickHouse connection, for --clickhouse.
    #[command(flatten)]
    pub clickhouse: ClickHouseArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Md)]
    pub format: ReportFormat,
    /// Write the report here instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Override the config's time zone (it decides which critics were received in the week).
    #[arg(long)]
    pub timezone: Option<String>,
}

/// `review` arguments.
#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// The calendar quarter, YYYY-Qn (e.g. 2025-Q1, January to March).
    #[arg(long, value_name = "YYYY-Qn")]
    pub quarter: String,
    /// A file sink's directory (`run --sink file:DIR`; `file:DIR` works too).
    #[arg(long, value_name = "DIR", required_unless_present = "use_clickhouse", conflicts_with = "use_clickhouse")]
    pub from: Option<String>,
    /// Read the results from ClickHouse instead (the `standards` view; see --clickhouse-url).
    #[arg(long = "clickhouse")]
    pub use_clickhouse: bool,
    /// ClickHouse connection, for --clickhouse.
    #[command(flatten)]
    pub clickhouse: ClickHouseArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReviewFormat::Md)]
    pub format: ReviewFormat,
    /// Write the review here instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Also write the proposed standards revision (TOML, a [[standards.revisions]] entry) here.
    #[arg(long, value_name = "FILE")]
    pub propose: Option<PathBuf>,
    /// Share of the quarter's cells a proposed target must pass, in (0, 1].
    #[arg(long, default_value_t = 0.9, value_name = "SHARE")]
    pub pass_rate: f64,
    /// Least observations (the metric's denominator) for a weekly or daily cell to count in the proposal.
    #[arg(long, default_value_t = 10, value_name = "N", value_parser = clap::value_parser!(i64).range(1..))]
    pub min_sample: i64,
    /// Least cells for a proposal; a standard with fewer gets none.
    #[arg(long, default_value_t = 10, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub min_cells: u64,
    /// Sellers listed per standard among those declining the most.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub top: usize,
    /// Override the config's time zone (the calendar of the stored rows, named in the review).
    #[arg(long)]
    pub timezone: Option<String>,
}

/// Formats of the quarterly review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReviewFormat {
    /// Markdown.
    Md,
    /// JSON (the review's data model, every seller included).
    Json,
}

/// `incentives` arguments.
#[derive(Debug, Args)]
pub struct IncentivesArgs {
    /// Read the month rows and escalations from ClickHouse and write the changes to its `incentives` table (see --clickhouse-url); required.
    #[arg(long = "clickhouse")]
    pub use_clickhouse: bool,
    /// ClickHouse connection.
    #[command(flatten)]
    pub clickhouse: ClickHouseArgs,
    /// Also publish each change to the incentive topic (`[kafka] incentive_topic`), once.
    #[arg(long)]
    pub publish: bool,
    /// Kafka connection for --publish; --group-id also names the run whose checkpoints say which months are closed.
    #[command(flatten)]
    pub kafka: KafkaArgs,
}

/// Formats of the weekly report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Markdown.
    Md,
    /// A self-contained HTML page.
    Html,
    /// JSON (the report's data model).
    Json,
}
