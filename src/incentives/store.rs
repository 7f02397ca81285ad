//! The ClickHouse side of the tiers: every seller's final month rows (marketplace sellers only:
//! the service profile's departments and performers hold no tiers) and escalations, how far
//! months are closed in every partition, and the `incentives` table.
//!
//! In a partitioned Kafka run each partition's engine closes a month on its own; a month is
//! evaluated only once the latest checkpoint of every partition of the consumer group says
//! the month's days are final (checkpoints are written after the rows and escalations they
//! cover). A database without checkpoints of the group was loaded by a file run, where a
//! final month row means the month is closed for every seller.

use crate::sink::clickhouse::{insert_all, ClickHouseSettings, IncentiveRow};
use anyhow::{Context, Result};
use clickhouse::Row;
use quality_engine::actions::{SellerMonth, Stage, StageChange, TierChange};
use quality_engine::engine::checkpoint_open_from;
use quality_engine::window::{Cadence, Day, LocalDate};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;

/// Bytes of a checkpoint read to find its first open day (its head needs a few hundred).
const HEAD_BYTES: u32 = 4096;

/// What the tiers are decided from.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    /// Final month rows of the closed months.
    pub months: Vec<SellerMonth>,
    /// Every escalation.
    pub stages: Vec<StageChange>,
    /// Months ending on or before this day are closed in every partition; `None`: no
    /// checkpoints of the group (a file run's database), every final month is closed.
    pub closed_until: Option<Day>,
    /// Final seller-month rows left out because some partition has not closed their month yet.
    pub held_back: usize,
}

#[derive(Row, Deserialize)]
struct Score {
    seller_id: String,
    period_start: u16,
    score: f64,
}

#[derive(Row, Deserialize)]
struct Orders {
    seller_id: String,
    period_start: u16,
    denominator: i64,
}

#[derive(Row, Deserialize)]
struct Moved {
    seller_id: String,
    week_start: u16,
    to_stage: String,
}

#[derive(Clone, Row, Deserialize)]
struct Head {
    partition: u32,
    #[serde(with = "serde_bytes")]
    head: Vec<u8>,
}

/// Reads the inputs of the tiers: the final month rows of the closed months and every escalation.
pub async fn load(settings: &ClickHouseSettings, group: &str) -> Result<Inputs> {
    let client = settings.client();
    let context = || format!("reading ClickHouse database {} (run `quality-pipeline migrate` and load results first)", settings.database);
    let heads: Vec<Head> = client
        .query(&format!(
            "SELECT partition, substring(state, 1, {HEAD_BYTES}) AS head FROM checkpoints FINAL WHERE consumer_group = ? ORDER BY partition"
        ))
        .bind(group)
        .fetch_all()
        .await
        .with_context(context)?;
    let closed_until = closed_until(&heads, group)?;
    let orders: HashMap<(String, u16), i64> = client
        .query(
            "SELECT seller_id, period_start, denominator FROM window_month FINAL \
             WHERE entity = 'seller' AND is_final AND metric = 'seller_cancellation_share'",
        )
        .fetch_all::<Orders>()
        .await
        .with_context(context)?
        .into_iter()
        .map(|o| ((o.seller_id, o.period_start), o.denominator))
        .collect();
    let scores: Vec<Score> = client
        .query("SELECT seller_id, period_start, score FROM composite_month FINAL WHERE entity = 'seller' AND is_final")
        .fetch_all()
        .await
        .with_context(context)?;
    let mut months = Vec::with_capacity(scores.len());
    let mut held_back = 0;
    for s in scores {
        let start = Day::from(s.period_start);
        if !is_closed(start, closed_until) {
            held_back += 1;
            continue;
        }
        let orders = orders.get(&(s.seller_id.clone(), s.period_start)).copied().unwrap_or(0);
        months.push(SellerMonth { seller_id: Arc::from(s.seller_id), month_start: LocalDate(start), score: s.score, orders });
    }
    let moved: Vec<Moved> = client.query("SELECT seller_id, week_start, to_stage FROM escalations FINAL").fetch_all().await.with_context(context)?;
    let stages = moved
        .into_iter()
        .map(|m| {
            let to: Stage =
                serde_json::from_value(m.to_stage.clone().into()).with_context(|| format!("unknown stage {:?} in table escalations", m.to_stage))?;
            Ok(StageChange { seller_id: Arc::from(m.seller_id), week_start: LocalDate(Day::from(m.week_start)), to })
        })
        .collect::<Result<_>>()?;
    Ok(Inputs { months, stages, closed_until, held_back })
}

/// Whether the month starting on `start` is closed, given the first day some partition has not closed.
fn is_closed(start: Day, closed_until: Option<Day>) -> bool {
    closed_until.is_none_or(|until| Cadence::Month.period_of(start).end <= until)
}

/// The first day some partition has not closed yet (`None` without checkpoints).
fn closed_until(heads: &[Head], group: &str) -> Result<Option<Day>> {
    let mut until: Option<Day> = None;
    for h in heads {
        let open_from = checkpoint_open_from(&h.head)
            .with_context(|| format!("reading the checkpoint of partition {} of consumer group {group:?}", h.partition))?
            .unwrap_or(Day::MIN);
        until = Some(until.map_or(open_from, |u| u.min(open_from)));
    }
    Ok(until)
}

/// Inserts the changes into `incentives`; a change already there collapses with it (same key).
pub async fn record(settings: &ClickHouseSettings, changes: &[TierChange]) -> Result<()> {
    let rows: Vec<IncentiveRow> = changes.iter().map(IncentiveRow::from).collect();
    insert_all(&settings.client(), &settings.redacted_url(), "incentives", &rows).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use quality_engine::contract::days_from_civil;
    use quality_engine::{Engine, EngineConfig};

    /// The head of a checkpoint of an engine that saw one order on each of `days` (UTC noon).
    fn head(partition: u32, days: &[&str]) -> Head {
        let mut e = Engine::new(EngineConfig::default());
        for (i, d) in days.iter().enumerate() {
            let line = format!(
                r#"{{"event_id":"e{i}","type":"order.created","occurred_at":"{d}T12:00:00Z","seller_id":"s1","order_id":"o{i}","customer_id":"c","ship_by":"{d}T18:00:00Z"}}"#
            );
            e.ingest(line.as_bytes());
        }
        let state = e.checkpoint(&mut Vec::new());
        Head { partition, head: state[..state.len().min(HEAD_BYTES as usize)].to_vec() }
    }

    #[test]
    fn a_month_is_closed_once_every_partition_has_closed_it() {
        let oct = days_from_civil(2026, 10, 1);
        let nov = days_from_civil(2026, 11, 1);
        assert!(is_closed(nov, None), "without checkpoints every final month counts");
        // Partition 0 is at 2026-12-10 (final before 12-08), partition 1 at 2026-11-09 (before 11-07).
        let heads = [head(0, &["2026-10-30", "2026-12-10"]), head(1, &["2026-10-30", "2026-11-09"])];
        let until = closed_until(&heads, "g").unwrap();
        assert_eq!(until, Some(days_from_civil(2026, 11, 7)));
        assert!(is_closed(oct, until) && !is_closed(nov, until));
        assert!(is_closed(nov, closed_until(&heads[..1], "g").unwrap()));
        // A partition still in October holds October open; one that has closed no day yet, every month.
        let until = closed_until(&[heads[0].clone(), head(2, &["2026-10-30"])], "g").unwrap();
        assert!(!is_closed(oct, until));
        assert_eq!(closed_until(&[heads[0].clone(), head(2, &[])], "g").unwrap(), Some(Day::MIN));
        let e = closed_until(&[Head { partition: 3, head: vec![0xff; 4] }], "g").unwrap_err();
        assert!(format!("{e:#}").contains("partition 3 of consumer group \"g\""), "{e:#}");
    }
}
