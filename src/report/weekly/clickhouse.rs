//! Loading a report's inputs from ClickHouse: `window_week` (sellers' rows), `negative_reasons`,
//! `critics`, `escalations` and `incentives`, each read `FINAL` (the latest version of every key).

use super::stored::{
    self, sorted_critics, sorted_escalations, sorted_tier_changes, NoFinalRow, Stored, StoredCritic, StoredEscalation, StoredEvidence, StoredReasons,
    StoredTierChange,
};
use super::week::IsoWeek;
use crate::sink::clickhouse::{ClickHouseSettings, CriticRow, EscalationRow, IncentiveRow, MetricRow, ReasonRow};
use anyhow::{Context, Result};
use serde::de::DeserializeOwned;

/// Reads the inputs of `seller`'s report of `week`; critics are those whose feedback time
/// falls in the week in `tz`.
pub async fn load(settings: &ClickHouseSettings, seller: &str, week: IsoWeek, tz: chrono_tz::Tz) -> Result<Stored> {
    let client = settings.client();
    let monday = week.monday().to_string();
    let context =
        || format!("reading the report tables of ClickHouse database {} (run `quality-pipeline migrate` and load results first)", settings.database);

    let mut rows: Vec<MetricRow> = client
        .query("SELECT ?fields FROM window_week FINAL WHERE entity = 'seller' AND seller_id = ? AND period_start = toDate(?)")
        .bind(seller)
        .bind(&monday)
        .fetch_all()
        .await
        .with_context(context)?;
    if rows.is_empty() || rows.iter().any(|r| !r.is_final) {
        let weeks: Vec<u16> = client
            .query("SELECT DISTINCT period_start FROM window_week FINAL WHERE entity = 'seller' AND seller_id = ? AND is_final ORDER BY period_start")
            .bind(seller)
            .fetch_all()
            .await
            .with_context(context)?;
        let available = weeks.into_iter().map(|d| IsoWeek::from_day(i64::from(d))).collect();
        return Err(NoFinalRow { seller: seller.to_owned(), week, available }.into());
    }
    rows.sort_by_key(|r| stored::metric(&r.metric).map_or(usize::MAX, |m| m.index()));
    let cells = rows.iter().map(MetricRow::cell).collect::<Result<Vec<_>>>()?;
    let standards_version = rows[0].standards_version.clone();

    let mut reasons: Vec<ReasonRow> = client
        .query("SELECT ?fields FROM negative_reasons FINAL WHERE seller_id = ? AND week_start = toDate(?)")
        .bind(seller)
        .bind(&monday)
        .fetch_all()
        .await
        .with_context(context)?;
    reasons.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.reason.cmp(&b.reason)));
    // The table holds a row per reason: a week whose negative reviews named none has no row,
    // and the model then counts its negative reviews from the weekly row.
    let reasons = reasons.first().map(|r| StoredReasons {
        negative_reviews: r.negative_reviews,
        reasons: reasons.iter().map(|x| (x.reason.clone(), x.count, x.share)).collect(),
    });

    let (from, to) = week.utc_bounds(tz);
    let critics: Vec<CriticRow> = client
        .query(
            "SELECT ?fields FROM critics FINAL WHERE seller_id = ? \
             AND toUnixTimestamp64Milli(created_at) >= ? AND toUnixTimestamp64Milli(created_at) < ?",
        )
        .bind(seller)
        .bind(from)
        .bind(to)
        .fetch_all()
        .await
        .with_context(context)?;
    let critics = critics.into_iter().map(critic).collect::<Result<Vec<_>>>()?;

    let escalations: Vec<EscalationRow> = client
        .query("SELECT ?fields FROM escalations FINAL WHERE seller_id = ? AND week_start <= toDate(?) ORDER BY week_start")
        .bind(seller)
        .bind(&monday)
        .fetch_all()
        .await
        .with_context(context)?;
    let escalations = escalations.into_iter().map(escalation).collect::<Result<Vec<_>>>()?;

    let changes: Vec<IncentiveRow> =
        client.query("SELECT ?fields FROM incentives FINAL WHERE seller_id = ?").bind(seller).fetch_all().await.with_context(context)?;
    let tier_changes = changes
        .into_iter()
        .map(|c| Ok(StoredTierChange { change: unit_enum(&c.change)?, tier: c.tier, month_start: i64::from(c.month_start) }))
        .collect::<Result<Vec<_>>>()?;

    Ok(Stored {
        cells,
        standards_version,
        reasons,
        critics: sorted_critics(critics),
        escalations: sorted_escalations(escalations),
        tier_changes: sorted_tier_changes(tier_changes),
    })
}

fn critic(c: CriticRow) -> Result<StoredCritic> {
    Ok(StoredCritic {
        status: unit_enum(&c.status)?,
        critic_id: c.critic_id,
        source: c.source,
        score: c.score,
        created_at: c.created_at,
        due_at: c.due_at,
        followed_up_at: c.followed_up_at,
        version: c.version,
    })
}

fn escalation(e: EscalationRow) -> Result<StoredEscalation> {
    let evidence = e
        .evidence_metric
        .iter()
        .zip(&e.evidence_value)
        .zip(&e.evidence_target)
        .zip(&e.evidence_status)
        .map(|(((m, v), t), s)| Ok(StoredEvidence { metric: stored::metric(m)?, value: *v, target: *t, status: stored::status(s)? }))
        .collect::<Result<_>>()?;
    Ok(StoredEscalation {
        week_start: i64::from(e.week_start),
        from: unit_enum(&e.from_stage)?,
        to: unit_enum(&e.to_stage)?,
        rule: unit_enum(&e.rule)?,
        standards: e.standards.iter().map(|m| stored::metric(m)).collect::<Result<_>>()?,
        evidence,
        failed_weeks: e.failed_weeks,
        deadline: e.deadline.map(i64::from),
    })
}

/// A unit enum from its serde name (stages, rules, critic statuses).
fn unit_enum<T: DeserializeOwned>(id: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(id.to_owned())).with_context(|| format!("unknown value {id:?} in the stored rows"))
}
