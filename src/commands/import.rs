//! `import olist DIR`: public marketplace data to contract events (NDJSON), with a summary of
//! what could not become an event on stderr.

use crate::cli::{ImportArgs, ImportSource};
use crate::import::olist;
use anyhow::{Context, Result};
use std::io::{BufWriter, Write};
use std::path::Path;

/// Writes the imported events to `--out` or stdout and logs the summary.
pub fn run(_config: Option<&Path>, args: ImportArgs) -> Result<()> {
    let (lines, summary, out) = match args.source {
        ImportSource::Olist { dir, out } => {
            let (lines, summary) = olist::import(&dir)?;
            (lines, summary, out)
        }
    };
    let sink: Box<dyn Write> = match &out {
        Some(p) => Box::new(std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut sink = BufWriter::with_capacity(1 << 20, sink);
    for line in &lines {
        sink.write_all(line.as_bytes())?;
        sink.write_all(b"\n")?;
    }
    sink.flush()?;
    summary.log();
    Ok(())
}
