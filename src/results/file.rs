//! Final cells from a file sink's directory: `windows.ndjson` holds upserts, so the highest
//! `version` of every `(entity, department_id, seller_id, cadence, period_start)` is the
//! window's current row.

use super::{passed, FinalCell, Selection};
use crate::sink::WINDOWS_FILE;
use anyhow::{Context, Result};
use quality_engine::methodology::EntityKind;
use quality_engine::window::{Cadence, LocalDate};
use quality_engine::WindowRow;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::Arc;

/// The latest version of every window row in `dir/windows.ndjson` (of `cadences` only, when
/// given) that `keep` selects, ordered by cadence, period start, seller (entity, department).
pub fn latest_rows(dir: &Path, cadences: Option<&[String]>, keep: impl Fn(&WindowRow) -> bool) -> Result<Vec<WindowRow>> {
    let path = dir.join(WINDOWS_FILE);
    let f = std::fs::File::open(&path)
        .with_context(|| format!("cannot read {}; --from takes the directory of a file sink (run --sink file:DIR)", path.display()))?;
    // Rows of other cadences are skipped before parsing: the sink writes them as serde_json does.
    let needles: Option<Vec<String>> = cadences.map(|cs| cs.iter().map(|c| format!("\"cadence\":{}", serde_json::Value::from(c.as_str()))).collect());
    type Key = (EntityKind, Option<Arc<str>>, Arc<str>, Cadence, LocalDate);
    let mut latest: HashMap<Key, WindowRow> = HashMap::new();
    for (i, line) in BufReader::new(f).lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        if line.trim().is_empty() || needles.as_ref().is_some_and(|n| !n.iter().any(|n| line.contains(n.as_str()))) {
            continue;
        }
        let row: WindowRow = serde_json::from_str(&line).with_context(|| format!("{}:{}: not a window row", path.display(), i + 1))?;
        if !keep(&row) {
            continue;
        }
        let key = (row.entity, row.department_id.clone(), row.seller_id.clone(), row.cadence, row.period_start);
        if latest.get(&key).is_none_or(|old| row.version >= old.version) {
            latest.insert(key, row);
        }
    }
    let mut rows: Vec<WindowRow> = latest.into_values().collect();
    rows.sort_by(|a, b| {
        (a.cadence, a.period_start, &a.seller_id, a.entity, &a.department_id).cmp(&(
            b.cadence,
            b.period_start,
            &b.seller_id,
            b.entity,
            &b.department_id,
        ))
    });
    Ok(rows)
}

/// The selected final cells of the individuals (sellers, or a service company's performers, not their
/// roll-ups) in the file sink in `dir` (`run --sink file:DIR`).
pub fn from_dir(dir: &Path, selection: &Selection) -> Result<Vec<FinalCell>> {
    let rows = latest_rows(dir, Some(&selection.cadences), |r| {
        matches!(r.entity, EntityKind::Seller | EntityKind::Performer) && selection.keeps(r.cadence.as_str(), &r.period_start.to_string())
    })?;
    let mut cells = Vec::new();
    for row in rows.into_iter().filter(|r| r.is_final) {
        let period_start = row.period_start.to_string();
        for c in row.metrics {
            let Some(value) = c.value else { continue };
            cells.push(FinalCell {
                seller_id: row.seller_id.to_string(),
                cadence: row.cadence.as_str().to_owned(),
                period_start: period_start.clone(),
                metric: c.metric,
                numerator: c.numerator,
                denominator: c.denominator,
                value,
                target: c.target,
                passed: passed(c.status).with_context(|| format!("{} {period_start} of {}", row.cadence, row.seller_id))?,
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
            "metrics": [{"metric": "csi", "numerator": 9.0, "denominator": 2, "value": value, "target": 4.5, "overdue": 0,
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
