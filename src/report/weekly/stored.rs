//! What the report is built from, as either store gives it: the seller's final weekly row,
//! the week's reasons for negative reviews, the critics received in the week (latest state of
//! each), the seller's escalation transitions up to the week and its incentive tier changes.

use super::week::{day_of, IsoWeek};
use anyhow::{Context, Result};
use quality_engine::actions::{tier_changes, ActionPolicy, CriticStatus, Rule, SellerMonth, Stage, StageChange, TierMove};
use quality_engine::methodology::{MetricId, Status};
use quality_engine::window::{Cadence, Day};
use quality_engine::Output;
use std::collections::{BTreeSet, HashMap};
use std::fmt;

/// One metric of the weekly row: the engine's own cell.
pub use quality_engine::output::MetricCell as StoredCell;

/// The week's reasons for negative reviews, most frequent first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StoredReasons {
    pub negative_reviews: u32,
    /// `(reason, count, share)`.
    pub reasons: Vec<(String, u32, f64)>,
}

/// A critic's latest state.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCritic {
    pub critic_id: String,
    pub source: String,
    pub score: u8,
    /// UTC milliseconds.
    pub created_at: i64,
    pub due_at: i64,
    pub followed_up_at: Option<i64>,
    pub status: CriticStatus,
    pub version: u64,
}

/// One standard's value against its target in an escalation's evidence: the engine's own.
pub use quality_engine::actions::Evidence as StoredEvidence;

/// A transition on the escalation ladder.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEscalation {
    pub week_start: Day,
    pub from: Stage,
    pub to: Stage,
    pub rule: Rule,
    pub standards: Vec<MetricId>,
    pub evidence: Vec<StoredEvidence>,
    pub failed_weeks: u32,
    pub deadline: Option<Day>,
}

/// A change of one of the seller's incentive tiers (docs/methodology.md, section 10.6).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTierChange {
    /// The tier's id.
    pub tier: String,
    /// Entered or left.
    pub change: TierMove,
    /// First day of the month whose end decided it.
    pub month_start: Day,
}

/// Everything one report needs, loaded for one seller and week.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    /// The cells of the seller's final weekly row, in catalogue order.
    pub cells: Vec<StoredCell>,
    /// The standards version the week was judged against (empty for rows stored before versions).
    pub standards_version: String,
    /// The week's reasons, if the engine published any (it does for every week with a
    /// negative review).
    pub reasons: Option<StoredReasons>,
    /// Critics whose feedback was given in the week (local calendar of the zone), latest state.
    pub critics: Vec<StoredCritic>,
    /// The seller's transitions with `week_start` up to the week's Monday, oldest first.
    pub escalations: Vec<StoredEscalation>,
    /// The seller's incentive tier changes (any month), by month then tier.
    pub tier_changes: Vec<StoredTierChange>,
}

/// The seller has no final row for the week: the message names the weeks that do exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoFinalRow {
    /// The seller asked for.
    pub seller: String,
    /// The week asked for.
    pub week: IsoWeek,
    /// The ISO weeks with a final weekly row of that seller, ascending.
    pub available: Vec<IsoWeek>,
}

impl fmt::Display for NoFinalRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no final weekly row for seller {} in {}; weeks available: ", self.seller, self.week)?;
        if self.available.is_empty() {
            return write!(f, "none (the seller has no final weekly row at all: check the seller id, or wait until a week of it closes)");
        }
        let names: Vec<String> = self.available.iter().map(IsoWeek::to_string).collect();
        write!(f, "{}", names.join(", "))
    }
}

impl std::error::Error for NoFinalRow {}

/// Parses a stored status id.
pub fn status(s: &str) -> Result<Status> {
    Ok(match s {
        "pass" => Status::Pass,
        "fail" => Status::Fail,
        "no_data" => Status::NoData,
        other => anyhow::bail!("unknown status {other:?} in the stored rows"),
    })
}

/// Parses a stored metric id.
pub fn metric(s: &str) -> Result<MetricId> {
    MetricId::from_id(s).with_context(|| format!("unknown metric {s:?} in the stored rows"))
}

/// Parses a stored date `YYYY-MM-DD` into a local day number.
pub fn date(s: &str) -> Result<Day> {
    day_of(s).with_context(|| format!("{s:?} is not a date YYYY-MM-DD"))
}

/// Collects a report's inputs from engine outputs held in memory (what `demo` has): the
/// latest version of every window, critic and transition wins, as in the stores; the tier
/// changes are decided over every seller's final month rows with `actions`, as the file sink does.
pub fn from_outputs(outputs: &[Output], seller: &str, week: IsoWeek, tz: chrono_tz::Tz, actions: &ActionPolicy) -> Result<Stored, NoFinalRow> {
    let first = week.first_day();
    let (from, to) = week.utc_bounds(tz);
    let mut row = None;
    let mut weeks = BTreeSet::new();
    let mut reasons = None;
    let mut critics: HashMap<&str, StoredCritic> = HashMap::new();
    let mut escalations: HashMap<&str, StoredEscalation> = HashMap::new();
    for o in outputs {
        match o {
            Output::Row(r) if r.cadence == Cadence::Week && &*r.seller_id == seller => {
                if r.is_final {
                    weeks.insert(r.period_start.0);
                }
                if r.period_start.0 == first && row.as_ref().is_none_or(|(v, _)| r.version >= *v) {
                    row = Some((r.version, r));
                }
            }
            Output::Reasons(w) if &*w.seller_id == seller && w.week_start.0 == first => {
                let list = w.reasons.iter().map(|r| (r.reason.clone(), r.count, r.share)).collect();
                reasons = Some(StoredReasons { negative_reviews: w.negative_reviews, reasons: list });
            }
            Output::Critic(c)
                if &*c.seller_id == seller
                    && (from..to).contains(&c.created_at.0)
                    && critics.get(c.critic_id.as_str()).is_none_or(|old| c.version >= old.version) =>
            {
                let s = StoredCritic {
                    critic_id: c.critic_id.to_string(),
                    source: c.source.as_str().to_owned(),
                    score: c.score,
                    created_at: c.created_at.0,
                    due_at: c.due_at.0,
                    followed_up_at: c.followed_up_at.map(|t| t.0),
                    status: c.status,
                    version: c.version,
                };
                critics.insert(&c.critic_id, s);
            }
            Output::Escalation(e) if &*e.seller_id == seller && e.week_start.0 <= first => {
                let evidence =
                    e.evidence.iter().map(|x| StoredEvidence { metric: x.metric, value: x.value, target: x.target, status: x.status }).collect();
                let s = StoredEscalation {
                    week_start: e.week_start.0,
                    from: e.from,
                    to: e.to,
                    rule: e.rule,
                    standards: e.standards.clone(),
                    evidence,
                    failed_weeks: e.failed_weeks,
                    deadline: e.deadline.map(|d| d.0),
                };
                escalations.insert(&e.escalation_id, s);
            }
            _ => {}
        }
    }
    let Some((_, row)) = row.filter(|(_, r)| r.is_final) else {
        return Err(NoFinalRow { seller: seller.to_owned(), week, available: weeks.into_iter().map(IsoWeek::from_day).collect() });
    };
    let months: Vec<SellerMonth> = outputs.iter().filter_map(|o| if let Output::Row(r) = o { SellerMonth::of(r) } else { None }).collect();
    let stages: Vec<StageChange> = outputs.iter().filter_map(|o| if let Output::Escalation(e) = o { Some(e.into()) } else { None }).collect();
    let changes = tier_changes(&months, &stages, &actions.incentives, &actions.leaders)
        .into_iter()
        .filter(|c| &*c.seller_id == seller)
        .map(|c| StoredTierChange { tier: c.tier, change: c.change, month_start: c.month_start.0 })
        .collect();
    Ok(Stored {
        cells: row.metrics.clone(),
        standards_version: row.standards_version.to_string(),
        reasons,
        critics: sorted_critics(critics.into_values().collect()),
        escalations: sorted_escalations(escalations.into_values().collect()),
        tier_changes: sorted_tier_changes(changes),
    })
}

/// Tier changes by month, then tier.
pub fn sorted_tier_changes(mut v: Vec<StoredTierChange>) -> Vec<StoredTierChange> {
    v.sort_by(|a, b| a.month_start.cmp(&b.month_start).then_with(|| a.tier.cmp(&b.tier)));
    v
}

/// Critics by feedback time, then id.
pub fn sorted_critics(mut v: Vec<StoredCritic>) -> Vec<StoredCritic> {
    v.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.critic_id.cmp(&b.critic_id)));
    v
}

/// Transitions oldest first.
pub fn sorted_escalations(mut v: Vec<StoredEscalation>) -> Vec<StoredEscalation> {
    v.sort_by_key(|e| e.week_start);
    v
}
