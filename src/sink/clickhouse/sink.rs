//! Buffers engine outputs per table and inserts them on `commit`, retrying until acknowledged.

use super::rows::{CompositeRow, CriticRow, DeadLetterRow, EscalationRow, MetricRow, QuestionRow, ReasonRow, SurveyRow};
use super::ClickHouseSettings;
use crate::sink::Sink;
use crate::telemetry::metrics;
use anyhow::Result;
use clickhouse::{Client, Row, RowWrite};
use quality_engine::window::Cadence;
use quality_engine::Output;
use serde::Serialize;
use std::time::Duration;

/// First and longest wait between attempts while ClickHouse does not acknowledge an insert.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(200), Duration::from_secs(10));

/// Writes window rows, ratings and dead letters to ClickHouse.
pub struct ClickHouseSink {
    client: Client,
    /// The server, credentials masked, for logs.
    url: String,
    /// Metric rows per cadence, in [`Cadence::ALL`] order.
    windows: [Vec<MetricRow>; Cadence::ALL.len()],
    composites: Vec<CompositeRow>,
    /// Survey-question sums of the window rows (service profile), every cadence in one table.
    questions: Vec<QuestionRow>,
    dead: Vec<DeadLetterRow>,
    escalations: Vec<EscalationRow>,
    surveys: Vec<SurveyRow>,
    critics: Vec<CriticRow>,
    reasons: Vec<ReasonRow>,
}

impl ClickHouseSink {
    /// A sink on the configured database (apply migrations first).
    pub fn new(settings: &ClickHouseSettings) -> ClickHouseSink {
        ClickHouseSink {
            client: settings.client(),
            url: settings.redacted_url(),
            windows: Default::default(),
            composites: Vec::new(),
            questions: Vec::new(),
            dead: Vec::new(),
            escalations: Vec::new(),
            surveys: Vec::new(),
            critics: Vec::new(),
            reasons: Vec::new(),
        }
    }
}

/// The table of a cadence's window rows.
pub(crate) fn window_table(c: Cadence) -> &'static str {
    match c {
        Cadence::Day => "window_day",
        Cadence::Week => "window_week",
        Cadence::Month => "window_month",
        Cadence::Quarter => "window_quarter",
        Cadence::Rolling7d => "window_rolling_7d",
        Cadence::Rolling30d => "window_rolling_30d",
    }
}

/// Inserts `rows` into `table`, retrying with backoff until the server acknowledges them.
pub(crate) async fn insert_all<T>(client: &Client, url: &str, table: &str, rows: &[T]) -> Result<()>
where
    T: Row + RowWrite + Serialize + for<'a> Row<Value<'a> = T>,
{
    if rows.is_empty() {
        return Ok(());
    }
    let mut wait = BACKOFF.0;
    let mut attempt = 1u32;
    let started = std::time::Instant::now();
    loop {
        let result = async {
            let mut insert = client.insert::<T>(table).await?;
            for row in rows {
                insert.write(row).await?;
            }
            insert.end().await
        }
        .await;
        match result {
            Ok(()) => {
                let m = metrics();
                m.sink_batches.with_label_values(&["clickhouse"]).inc();
                m.sink_rows.with_label_values(&["clickhouse", table]).inc_by(rows.len() as u64);
                m.sink_flush.with_label_values(&["clickhouse"]).observe(started.elapsed().as_secs_f64());
                return Ok(());
            }
            Err(e) => {
                metrics().sink_errors.with_label_values(&["clickhouse"]).inc();
                tracing::warn!(table, rows = rows.len(), attempt, error = %e, url, "ClickHouse insert failed; retrying (the pipeline waits, nothing is dropped)");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(BACKOFF.1);
                attempt += 1;
            }
        }
    }
}

impl Sink for ClickHouseSink {
    async fn write(&mut self, batch: &[Output]) -> Result<()> {
        for o in batch {
            match o {
                Output::Row(r) => {
                    let i = Cadence::ALL.iter().position(|c| *c == r.cadence).unwrap_or(0);
                    self.windows[i].extend(MetricRow::from_window(r));
                    self.composites.extend(CompositeRow::from_window(r));
                    self.questions.extend(QuestionRow::from_window(r));
                }
                Output::DeadLetter(d) => self.dead.push(d.into()),
                Output::Escalation(e) => self.escalations.push(e.into()),
                Output::SurveyRequest(s) => self.surveys.push(s.into()),
                Output::Critic(c) => self.critics.push(c.into()),
                Output::Reasons(w) => self.reasons.extend(ReasonRow::from_week(w)),
            }
        }
        Ok(())
    }

    async fn commit(&mut self) -> Result<()> {
        for (cadence, rows) in Cadence::ALL.iter().zip(self.windows.iter_mut()) {
            insert_all(&self.client, &self.url, window_table(*cadence), rows).await?;
            rows.clear();
        }
        insert_all(&self.client, &self.url, "composite_month", &self.composites).await?;
        self.composites.clear();
        insert_all(&self.client, &self.url, "survey_questions", &self.questions).await?;
        self.questions.clear();
        insert_all(&self.client, &self.url, "dead_letters", &self.dead).await?;
        self.dead.clear();
        insert_all(&self.client, &self.url, "escalations", &self.escalations).await?;
        self.escalations.clear();
        insert_all(&self.client, &self.url, "survey_requests", &self.surveys).await?;
        self.surveys.clear();
        insert_all(&self.client, &self.url, "critics", &self.critics).await?;
        self.critics.clear();
        insert_all(&self.client, &self.url, "negative_reasons", &self.reasons).await?;
        self.reasons.clear();
        Ok(())
    }
}
