//! Final cells from ClickHouse's `standards` view (the latest version of every window), of
//! sellers only (as [`super::from_dir`]).

use super::{metric, passed, status, FinalCell, Selection};
use crate::sink::clickhouse::ClickHouseSettings;
use anyhow::{Context, Result};
use serde::Deserialize;

/// One row of the `standards` view.
#[derive(clickhouse::Row, Deserialize)]
struct ViewCell {
    seller_id: String,
    cadence: String,
    period_start: String,
    metric: String,
    numerator: f64,
    denominator: i64,
    value: Option<f64>,
    target: f64,
    status: String,
}

/// The selected final cells of the individuals (sellers, performers) in the database `settings` names.
pub async fn from_clickhouse(settings: &ClickHouseSettings, selection: &Selection) -> Result<Vec<FinalCell>> {
    settings.check_reachable().await?;
    let mut sql = String::from(
        "SELECT seller_id, cadence, toString(period_start) AS period_start, metric, numerator, denominator, value, target, status \
         FROM standards WHERE entity IN ('seller', 'performer') AND has(?, cadence) AND is_final AND value IS NOT NULL",
    );
    if selection.starts.is_some() {
        // `period_start` is the `YYYY-MM-DD` alias here: ISO dates compare as strings.
        sql += " AND period_start >= ? AND period_start < ?";
    }
    let mut query = settings.client().query(&sql).bind(&selection.cadences);
    if let Some(r) = &selection.starts {
        query = query.bind(r.start.as_str()).bind(r.end.as_str());
    }
    let rows: Vec<ViewCell> = query.fetch_all().await.with_context(|| {
        format!("reading the standards view of database {} (run `quality-pipeline migrate` and load results first)", settings.database)
    })?;
    let mut cells = Vec::with_capacity(rows.len());
    for r in rows {
        let Some(value) = r.value else { continue };
        cells.push(FinalCell {
            metric: metric(&r.metric)?,
            passed: passed(status(&r.status)?)?,
            seller_id: r.seller_id,
            cadence: r.cadence,
            period_start: r.period_start,
            numerator: r.numerator,
            denominator: r.denominator,
            value,
            target: r.target,
        });
    }
    Ok(cells)
}
