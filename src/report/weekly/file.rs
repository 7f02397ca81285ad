//! Loading a report's inputs from a file sink's directory (`run --sink file:DIR`): the latest
//! version of every window, critic and transition wins, as upserts do.

use super::stored::{
    self, sorted_critics, sorted_escalations, sorted_tier_changes, NoFinalRow, Stored, StoredCell, StoredCritic, StoredEscalation, StoredEvidence,
    StoredReasons, StoredTierChange,
};
use super::week::IsoWeek;
use crate::sink::{CRITICS_FILE, ESCALATIONS_FILE, INCENTIVES_FILE, REASONS_FILE, WINDOWS_FILE};
use anyhow::{Context, Result};
use quality_engine::actions::{CriticStatus, Rule, Stage, TierMove};
use quality_engine::contract::Timestamp;
use quality_engine::methodology::EntityKind;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::path::Path;

#[derive(Deserialize)]
struct Row {
    seller_id: String,
    /// Left out of sellers' rows; the service profile's departments and performers have no report.
    #[serde(default)]
    entity: EntityKind,
    cadence: String,
    period_start: String,
    is_final: bool,
    version: u64,
    #[serde(default)]
    standards_version: String,
    metrics: Vec<StoredCell>,
}

#[derive(Deserialize)]
struct Reasons {
    seller_id: String,
    week_start: String,
    negative_reviews: u32,
    reasons: Vec<Reason>,
}

#[derive(Deserialize)]
struct Reason {
    reason: String,
    count: u32,
    share: f64,
}

#[derive(Deserialize)]
struct Critic {
    critic_id: String,
    seller_id: String,
    source: String,
    score: u8,
    created_at: Timestamp,
    due_at: Timestamp,
    followed_up_at: Option<Timestamp>,
    status: CriticStatus,
    version: u64,
}

#[derive(Deserialize)]
struct Escalation {
    escalation_id: String,
    seller_id: String,
    week_start: String,
    from: Stage,
    to: Stage,
    rule: Rule,
    standards: Vec<String>,
    evidence: Vec<Evidence>,
    failed_weeks: u32,
    #[serde(default)]
    deadline: Option<String>,
}

#[derive(Deserialize)]
struct Evidence {
    metric: String,
    value: Option<f64>,
    target: f64,
    status: String,
}

#[derive(Deserialize)]
struct TierChange {
    seller_id: String,
    tier: String,
    change: TierMove,
    month_start: String,
}

/// Reads the inputs of `seller`'s report of `week` from a file sink's directory; critics are
/// those whose feedback time falls in the week in `tz`.
pub fn load(dir: &Path, seller: &str, week: IsoWeek, tz: chrono_tz::Tz) -> Result<Stored> {
    let first = week.first_day();
    // Lines of other sellers are skipped before parsing: the sink writes ids as serde_json does.
    let needle = serde_json::to_string(seller)?;

    let mut row: Option<Row> = None;
    let mut weeks = BTreeSet::new();
    for_each::<Row>(&dir.join(WINDOWS_FILE), &needle, true, |r| {
        if r.seller_id != seller || r.entity != EntityKind::Seller || r.cadence != "week" {
            return Ok(());
        }
        let start = stored::date(&r.period_start)?;
        if r.is_final {
            weeks.insert(start);
        }
        if start == first && row.as_ref().is_none_or(|old| r.version >= old.version) {
            row = Some(r);
        }
        Ok(())
    })?;
    let Some(row) = row.filter(|r| r.is_final) else {
        return Err(NoFinalRow { seller: seller.to_owned(), week, available: weeks.into_iter().map(IsoWeek::from_day).collect() }.into());
    };

    let mut reasons = None;
    for_each::<Reasons>(&dir.join(REASONS_FILE), &needle, false, |r| {
        if r.seller_id == seller && stored::date(&r.week_start)? == first {
            let list = r.reasons.into_iter().map(|x| (x.reason, x.count, x.share)).collect();
            reasons = Some(StoredReasons { negative_reviews: r.negative_reviews, reasons: list });
        }
        Ok(())
    })?;

    let (from, to) = week.utc_bounds(tz);
    let mut critics: HashMap<String, StoredCritic> = HashMap::new();
    for_each::<Critic>(&dir.join(CRITICS_FILE), &needle, false, |c| {
        if c.seller_id != seller || !(from..to).contains(&c.created_at.0) {
            return Ok(());
        }
        if critics.get(&c.critic_id).is_none_or(|old| c.version >= old.version) {
            let s = StoredCritic {
                critic_id: c.critic_id.clone(),
                source: c.source,
                score: c.score,
                created_at: c.created_at.0,
                due_at: c.due_at.0,
                followed_up_at: c.followed_up_at.map(|t| t.0),
                status: c.status,
                version: c.version,
            };
            critics.insert(c.critic_id, s);
        }
        Ok(())
    })?;

    let mut escalations: HashMap<String, StoredEscalation> = HashMap::new();
    for_each::<Escalation>(&dir.join(ESCALATIONS_FILE), &needle, false, |e| {
        let week_start = stored::date(&e.week_start)?;
        if e.seller_id != seller || week_start > first {
            return Ok(());
        }
        let evidence = e
            .evidence
            .into_iter()
            .map(|x| Ok(StoredEvidence { metric: stored::metric(&x.metric)?, value: x.value, target: x.target, status: stored::status(&x.status)? }))
            .collect::<Result<_>>()?;
        let s = StoredEscalation {
            week_start,
            from: e.from,
            to: e.to,
            rule: e.rule,
            standards: e.standards.iter().map(|m| stored::metric(m)).collect::<Result<_>>()?,
            evidence,
            failed_weeks: e.failed_weeks,
            deadline: e.deadline.as_deref().map(stored::date).transpose()?,
        };
        escalations.insert(e.escalation_id, s);
        Ok(())
    })?;

    let mut tier_changes = Vec::new();
    for_each::<TierChange>(&dir.join(INCENTIVES_FILE), &needle, false, |c| {
        if c.seller_id == seller {
            tier_changes.push(StoredTierChange { tier: c.tier, change: c.change, month_start: stored::date(&c.month_start)? });
        }
        Ok(())
    })?;

    Ok(Stored {
        cells: row.metrics,
        standards_version: row.standards_version,
        reasons,
        critics: sorted_critics(critics.into_values().collect()),
        escalations: sorted_escalations(escalations.into_values().collect()),
        tier_changes: sorted_tier_changes(tier_changes),
    })
}

/// Calls `f` on every line of an NDJSON table that contains `needle`. A missing `required`
/// file is an error; a missing optional one (a directory written before that table existed)
/// reads as empty.
fn for_each<T: DeserializeOwned>(path: &Path, needle: &str, required: bool, mut f: impl FnMut(T) -> Result<()>) -> Result<()> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!(file = %path.display(), "missing; read as empty (a file sink written before this table existed)");
            return Ok(());
        }
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read {}; --from takes the directory of a file sink (run --sink file:DIR)", path.display()))
        }
    };
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        if !line.contains(needle) {
            continue;
        }
        let item: T = serde_json::from_str(&line).with_context(|| format!("{}:{}: not a record of this table", path.display(), i + 1))?;
        f(item).with_context(|| format!("{}:{}", path.display(), i + 1))?;
    }
    Ok(())
}
