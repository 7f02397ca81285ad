//! Final cells from a file sink's directory: `windows.ndjson` holds upserts, so the highest
//! `version` of every `(seller_id, cadence, period_start)` is the window's current row.

use super::{metric, passed, FinalCell, Selection};
use crate::sink::WINDOWS_FILE;
use anyhow::{Context, Result};
use serde::Deserialize;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

#[derive(Deserialize)]
struct Row {
    seller_id: String,
    cadence: String,
    period_start: String,
    is_final: bool,
    version: u64,
    metrics: Vec<Cell>,
}

#[derive(Deserialize)]
struct Cell {
    metric: String,
    numerator: f64,
    denominator: i64,
    value: Option<f64>,
    target: f64,
    status: String,
}

/// The selected final cells of the file sink in `dir` (`run --sink file:DIR`).
pub fn from_dir(dir: &Path, selection: &Selection) -> Result<Vec<FinalCell>> {
    let path = dir.join(WINDOWS_FILE);
    let f = std::fs::File::open(&path)
        .with_context(|| format!("cannot read {}; --from takes the directory of a file sink (run --sink file:DIR)", path.display()))?;
    // Rows of other cadences are skipped before parsing: the sink writes them as serde_json does.
    let needles: Vec<String> = selection.cadences.iter().map(|c| format!("\"cadence\":{}", serde_json::Value::from(c.as_str()))).collect();
    let mut latest: HashMap<(String, String, String), Row> = HashMap::new();
    for (i, line) in BufReader::new(f).lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        if !needles.iter().any(|n| line.contains(n.as_str())) {
            continue;
        }
        let row: Row = serde_json::from_str(&line).with_context(|| format!("{}:{}: not a window row", path.display(), i + 1))?;
        if !selection.keeps(&row.cadence, &row.period_start) {
            continue;
        }
        let key = (row.seller_id.clone(), row.cadence.clone(), row.period_start.clone());
        if latest.get(&key).is_none_or(|old| row.version >= old.version) {
            latest.insert(key, row);
        }
    }
    let mut cells = Vec::new();
    for row in latest.into_values().filter(|r| r.is_final) {
        for c in row.metrics {
            let Some(value) = c.value else { continue };
            cells.push(FinalCell {
                seller_id: row.seller_id.clone(),
                cadence: row.cadence.clone(),
                period_start: row.period_start.clone(),
                metric: metric(&c.metric)?,
                numerator: c.numerator,
                denominator: c.denominator,
                value,
                target: c.target,
                passed: passed(&c.status)
                    .with_context(|| format!("{}: {} {} of {}", path.display(), row.cadence, row.period_start, row.seller_id))?,
            });
        }
    }
    Ok(cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seller: &str, cadence: &str, start: &str, is_final: bool, version: u64, value: Option<f64>) -> String {
        serde_json::json!({
            "seller_id": seller, "cadence": cadence, "period_start": start, "period_end": start, "is_final": is_final, "version": version,
            "metrics": [{"metric": "csi", "numerator": 9.0, "denominator": 2, "value": value, "target": 4.5,
                         "status": if value.is_some() { "pass" } else { "no_data" }}]
        })
        .to_string()
    }

    #[test]
    fn the_latest_version_counts_only_when_final() {
        let dir = tempfile::tempdir().unwrap();
        let lines = [
            row("a", "week", "2025-01-06", false, 1, Some(4.0)),
            row("a", "week", "2025-01-06", true, 9, Some(4.5)),
            row("b", "week", "2025-01-06", true, 9, Some(4.5)),
            row("b", "week", "2025-01-06", false, 10, Some(3.0)), // a newer provisional version: not final
            row("c", "week", "2025-01-13", true, 9, None),        // no data
            row("a", "month", "2025-01-01", true, 9, Some(4.5)),  // another cadence
            row("a", "week", "2025-04-07", true, 9, Some(4.5)),   // outside the periods
        ];
        std::fs::write(dir.path().join(WINDOWS_FILE), lines.join("\n") + "\n\n").unwrap();
        let selection = Selection { cadences: vec!["week".into()], starts: Some("2025-01-01".into().."2025-04-01".into()) };
        let cells = from_dir(dir.path(), &selection).unwrap();
        assert_eq!(cells.len(), 1);
        let c = &cells[0];
        assert_eq!((c.seller_id.as_str(), c.cadence.as_str(), c.period_start.as_str()), ("a", "week", "2025-01-06"));
        assert_eq!((c.numerator, c.denominator, c.value, c.target, c.passed), (9.0, 2, 4.5, 4.5, true));
        let e = from_dir(&dir.path().join("nowhere"), &selection).unwrap_err().to_string();
        assert!(e.contains("windows.ndjson") && e.contains("run --sink file:DIR"), "{e}");
    }
}
