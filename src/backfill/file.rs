//! Backfill over a file sink's directory: `windows.ndjson` is an upsert log, so the new row
//! versions are appended and every reader keeps the highest version of each window.

use crate::sink::WINDOWS_FILE;
use anyhow::{Context, Result};
use quality_engine::window::{Cadence, LocalDate};
use quality_engine::WindowRow;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

/// The latest version of every window row in `dir/windows.ndjson`, ordered by cadence, start and seller.
pub fn latest_rows(dir: &Path) -> Result<Vec<WindowRow>> {
    let path = dir.join(WINDOWS_FILE);
    let file = std::fs::File::open(&path).with_context(|| format!("cannot open {} (is it a file sink's directory?)", path.display()))?;
    let mut latest: HashMap<(Arc<str>, Cadence, LocalDate), WindowRow> = HashMap::new();
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let row: WindowRow = serde_json::from_str(&line).with_context(|| format!("{}:{}: not a window row", path.display(), n + 1))?;
        let key = (row.seller_id.clone(), row.cadence, row.period_start);
        if latest.get(&key).is_none_or(|r| r.version <= row.version) {
            latest.insert(key, row);
        }
    }
    let mut rows: Vec<WindowRow> = latest.into_values().collect();
    rows.sort_by(|a, b| (a.cadence, a.period_start, &a.seller_id).cmp(&(b.cadence, b.period_start, &b.seller_id)));
    Ok(rows)
}

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
