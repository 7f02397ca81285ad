//! Backfill over ClickHouse: the final rows of every `window_<cadence>` table (and the monthly
//! ratings and survey-question sums) read `FINAL`, and the new versions inserted, which replace
//! them on merge and in every `FINAL` query and view. Rows of every entity (sellers; departments
//! and performers in the service profile) are judged again; their question sums are carried over.

use super::Scope;
use crate::sink::clickhouse::{department_of, entity_of, insert_all, window_table, ClickHouseSettings, CompositeRow, MetricRow, QuestionRow};
use anyhow::{Context, Result};
use quality_engine::window::{Cadence, LocalDate};
use quality_engine::WindowRow;
use std::collections::BTreeMap;

/// The latest final version of every window row in scope.
pub async fn latest_rows(settings: &ClickHouseSettings, scope: Scope) -> Result<Vec<WindowRow>> {
    let client = settings.client();
    let context =
        || format!("reading window rows of ClickHouse database {} (run `quality-pipeline migrate` and load results first)", settings.database);
    let since = LocalDate(scope.since.unwrap_or(0)).to_string();
    let until = LocalDate(scope.until.unwrap_or(i64::from(u16::MAX))).to_string();
    let range = "is_final AND period_start >= toDate(?) AND period_start < toDate(?)";
    let query = |sql: &str| client.query(sql).bind(&since).bind(&until);
    let composites: Vec<CompositeRow> =
        query(&format!("SELECT ?fields FROM composite_month FINAL WHERE {range}")).fetch_all().await.with_context(context)?;
    // A window is keyed by its entity and department too: a performer's row and a department's
    // row of the same id, or one performer's rows in two departments, are different windows.
    type Key = (u16, String, String, String);
    let key = |start: u16, seller: &str, entity: &str, department: &str| (start, seller.to_owned(), entity.to_owned(), department.to_owned());
    let mut composites: BTreeMap<Key, CompositeRow> =
        composites.into_iter().map(|c| (key(c.period_start, &c.seller_id, &c.entity, &c.department_id), c)).collect();
    let stored_questions: Vec<QuestionRow> =
        query(&format!("SELECT ?fields FROM survey_questions FINAL WHERE {range} ORDER BY cadence, period_start, seller_id, question_id"))
            .fetch_all()
            .await
            .with_context(context)?;
    let mut questions: BTreeMap<(String, Key), Vec<QuestionRow>> = BTreeMap::new();
    for q in stored_questions {
        questions.entry((q.cadence.clone(), key(q.period_start, &q.seller_id, &q.entity, &q.department_id))).or_default().push(q);
    }
    let mut out = Vec::new();
    for cadence in Cadence::ALL {
        let cells: Vec<MetricRow> = query(&format!(
            "SELECT ?fields FROM {} FINAL WHERE {range} ORDER BY period_start, seller_id, entity, department_id",
            window_table(cadence)
        ))
        .fetch_all()
        .await
        .with_context(context)?;
        let mut windows: BTreeMap<Key, Vec<MetricRow>> = BTreeMap::new();
        for c in cells {
            windows.entry(key(c.period_start, &c.seller_id, &c.entity, &c.department_id)).or_default().push(c);
        }
        for (k, cells) in windows {
            let first = &cells[0];
            let mut metrics = cells.iter().map(MetricRow::cell).collect::<Result<Vec<_>>>()?;
            metrics.sort_by_key(|c| c.metric.index());
            let composite = (cadence == Cadence::Month).then(|| composites.remove(&k)).flatten().map(|c| quality_engine::output::Composite {
                score: c.score,
                rank: c.rank,
                ranked_sellers: c.ranked_sellers,
                components: Vec::new(),
            });
            let questions = questions.remove(&(cadence.as_str().to_owned(), k.clone())).unwrap_or_default();
            let (start, seller, entity, department) = k;
            out.push(WindowRow {
                seller_id: seller.into(),
                entity: entity_of(&entity)?,
                department_id: department_of(&department),
                cadence,
                period_start: LocalDate(i64::from(start)),
                period_end: LocalDate(i64::from(first.period_end)),
                is_final: true,
                version: first.version,
                standards_version: first.standards_version.as_str().into(),
                metrics,
                composite,
                questions: questions.iter().map(QuestionRow::cell).collect(),
                drivers: Vec::new(),
                excluded_feedback: first.excluded_feedback,
            });
        }
    }
    Ok(out)
}

/// Inserts the new row versions (metric rows, monthly ratings and question sums).
pub async fn insert_rows(settings: &ClickHouseSettings, rows: &[WindowRow]) -> Result<()> {
    let client = settings.client();
    let url = settings.redacted_url();
    for cadence in Cadence::ALL {
        let cells: Vec<MetricRow> = rows.iter().filter(|r| r.cadence == cadence).flat_map(MetricRow::from_window).collect();
        insert_all(&client, &url, window_table(cadence), &cells).await?;
    }
    let composites: Vec<CompositeRow> = rows.iter().filter_map(CompositeRow::from_window).collect();
    insert_all(&client, &url, "composite_month", &composites).await?;
    let questions: Vec<QuestionRow> = rows.iter().flat_map(QuestionRow::from_window).collect();
    insert_all(&client, &url, "survey_questions", &questions).await
}
