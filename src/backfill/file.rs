//! Backfill over a file sink's directory: `windows.ndjson` is an upsert log (read with
//! [`crate::results::latest_rows`]), so the new row versions are appended and every reader keeps
//! the highest version of each window.

use crate::sink::WINDOWS_FILE;
use anyhow::{Context, Result};
use quality_engine::WindowRow;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Appends new row versions to `dir/windows.ndjson`.
pub fn append_rows(dir: &Path, rows: &[WindowRow]) -> Result<()> {
    let path = dir.join(WINDOWS_FILE);
    let file = std::fs::OpenOptions::new().append(true).open(&path).with_context(|| format!("cannot append to {}", path.display()))?;
    let mut w = BufWriter::new(file);
    for row in rows {
        serde_json::to_writer(&mut w, row)?;
        w.write_all(b"\n")?;
    }
    w.flush().with_context(|| format!("writing {}", path.display()))
}
