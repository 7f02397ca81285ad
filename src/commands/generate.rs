//! `generate`: write a synthetic event stream as NDJSON.

use crate::cli::{GenerateArgs, ProfileArg};
use crate::config::{parse_timezone, ConfigFile};
use crate::generate::{generate, service, Anomalies, GeneratorConfig, Question, ServiceConfig};
use anyhow::{bail, Context, Result};
use std::io::{BufWriter, Write};
use std::path::Path;

/// Writes the stream to `--out` or stdout.
pub fn run(config: Option<&Path>, args: GenerateArgs) -> Result<()> {
    let file = ConfigFile::load(config)?;
    let tz = match args.timezone.as_deref().or(file.engine.timezone.as_deref()) {
        Some(name) => parse_timezone(name)?,
        None => quality_engine::EngineConfig::default().timezone,
    };
    let service_flags =
        [args.departments.is_some(), args.performers.is_some(), args.sites.is_some(), args.requests_per_day.is_some(), args.driver.is_some()];
    if args.profile == ProfileArg::Marketplace && service_flags.contains(&true) {
        bail!("--departments, --performers, --sites, --requests-per-day and --driver belong to the service profile: add --profile service");
    }
    // Clap cannot tell a default from a given value here: a marketplace flag given its default is harmless.
    let marketplace = GeneratorConfig::default();
    let shaped = args.stream.trends || args.stream.sellers != marketplace.sellers || args.stream.orders_per_day != marketplace.orders_per_seller_day;
    if args.profile == ProfileArg::Service && shaped {
        bail!("--sellers, --orders-per-day and --trends shape the marketplace profile; the service profile takes --departments, --performers, --sites and --requests-per-day");
    }
    let out: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = BufWriter::with_capacity(1 << 20, out);
    match args.profile {
        ProfileArg::Marketplace => {
            let cfg = super::generator_config(&args.stream, tz);
            let lines = write_lines(&mut out, generate(&cfg))?;
            tracing::info!(lines, sellers = cfg.sellers, days = cfg.days, seed = cfg.seed, "generated");
        }
        ProfileArg::Service => {
            let cfg = service_config(&args, tz);
            let g = service::generate(&cfg);
            let driver = g.planted_driver();
            let lines = write_lines(&mut out, g)?;
            tracing::info!(
                lines,
                departments = cfg.departments,
                performers = cfg.performers_per_department,
                days = cfg.days,
                seed = cfg.seed,
                driver,
                "generated"
            );
        }
    }
    Ok(())
}

/// Writes each line and a newline, then flushes; returns the number of lines.
fn write_lines(out: &mut impl Write, lines: impl Iterator<Item = String>) -> Result<u64> {
    let mut n = 0u64;
    for line in lines {
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
        n += 1;
    }
    out.flush()?;
    Ok(n)
}

/// The service generator's configuration for the command-line arguments.
fn service_config(args: &GenerateArgs, timezone: chrono_tz::Tz) -> ServiceConfig {
    let defaults = ServiceConfig::default();
    let stream = &args.stream;
    ServiceConfig {
        departments: args.departments.unwrap_or(defaults.departments),
        performers_per_department: args.performers.unwrap_or(defaults.performers_per_department),
        sites: args.sites.unwrap_or(defaults.sites),
        days: stream.days,
        start: stream.start.or_else(|| stream.start_days_ago.map(super::days_ago)).unwrap_or(defaults.start),
        timezone,
        seed: stream.seed,
        requests_per_performer_day: args.requests_per_day.unwrap_or(defaults.requests_per_performer_day),
        anomalies: if stream.clean { Anomalies::none() } else { defaults.anomalies },
        bad_surveys: if stream.clean { 0.0 } else { defaults.bad_surveys },
        driver: args.driver.as_deref().and_then(Question::from_id),
        ..defaults
    }
}
