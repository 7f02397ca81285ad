//! `generate`: write a synthetic event stream as NDJSON.

use crate::cli::GenerateArgs;
use crate::config::{parse_timezone, ConfigFile};
use crate::generate::generate;
use anyhow::{Context, Result};
use std::io::{BufWriter, Write};
use std::path::Path;

/// Writes the stream to `--out` or stdout.
pub fn run(config: Option<&Path>, args: GenerateArgs) -> Result<()> {
    let file = ConfigFile::load(config)?;
    let tz = match args.timezone.as_deref().or(file.engine.timezone.as_deref()) {
        Some(name) => parse_timezone(name)?,
        None => quality_engine::EngineConfig::default().timezone,
    };
    let cfg = super::generator_config(&args.stream, tz);
    let out: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = BufWriter::with_capacity(1 << 20, out);
    let mut lines = 0u64;
    for line in generate(&cfg) {
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
        lines += 1;
    }
    out.flush()?;
    tracing::info!(lines, sellers = cfg.sellers, days = cfg.days, seed = cfg.seed, "generated");
    Ok(())
}
