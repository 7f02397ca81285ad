//! The weekly seller report (the regulation's Appendix 1) as data: what the renderers show
//! and what `--format json` prints.

use super::recommend::recommendation;
use super::stored::{Stored, StoredCell, StoredCritic, StoredEscalation, StoredTierChange};
use super::week::{date_of, IsoWeek};
use quality_engine::actions::{CriticStatus, Rule, Stage, TierMove};
use quality_engine::contract::Timestamp;
use quality_engine::methodology::{Direction, Group, MetricId, Status};
use quality_engine::window::{Cadence, Day};
use serde::Serialize;
use std::collections::BTreeMap;

/// How many reasons for negative reviews the report lists (the rest are counted).
pub const TOP_REASONS: usize = 5;

/// One seller's week: standards, reasons, incidents, escalation and recommendations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeeklyReport {
    /// The seller.
    pub seller_id: String,
    /// The ISO week, `2025-W10`.
    pub week: String,
    /// Its days.
    pub period: Period,
    /// The standards version the week was judged against (its targets are the ones shown).
    pub standards_version: String,
    /// How many standards were judged and failed.
    pub summary: Summary,
    /// Base standards (customer satisfaction).
    pub base: Vec<StandardLine>,
    /// Operational standards (order processing).
    pub operational: Vec<StandardLine>,
    /// Communication standards, with compliance.
    pub communication: Vec<StandardLine>,
    /// The week's negative reviews and the main reasons they named.
    pub negative_reviews: NegativeReviews,
    /// Critical incidents of the week.
    pub incidents: Incidents,
    /// Where the seller stands on the escalation ladder after this week.
    pub escalation: EscalationState,
    /// The incentive tiers the seller holds in this week, by tier id.
    pub incentive_tiers: Vec<HeldTier>,
    /// One recommendation per failed standard.
    pub recommendations: Vec<Recommendation>,
}

/// The week's days, Monday to Sunday, in the configured time zone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Period {
    /// Monday, `YYYY-MM-DD`.
    pub start: String,
    /// Sunday (inclusive), `YYYY-MM-DD`.
    pub end: String,
    /// The IANA zone of the calendar.
    pub timezone: String,
}

/// Counts over the base, operational and communication standards.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Standards with data in the week.
    pub judged: usize,
    /// Standards that missed their target.
    pub failed: usize,
    /// Those standards.
    pub failed_standards: Vec<MetricId>,
}

/// One standard in the week, from the seller's final weekly row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StandardLine {
    /// The standard.
    pub metric: MetricId,
    /// Its name.
    pub name: &'static str,
    /// Whether a larger value is better.
    pub direction: Direction,
    /// The target that applied.
    pub target: f64,
    /// The week's value (null: no data).
    pub actual: Option<f64>,
    /// `actual - target`.
    pub deviation: Option<f64>,
    /// The previous week's value.
    pub previous: Option<f64>,
    /// `actual - previous`.
    pub change: Option<f64>,
    /// Better, worse or unchanged since the previous week, in the standard's sense.
    pub dynamics: Dynamics,
    /// Pass, fail or no data.
    pub status: Status,
    /// Whether the standard was met (null: no data).
    pub compliant: Option<bool>,
    /// The row's numerator.
    pub numerator: f64,
    /// The row's denominator (observations).
    pub denominator: i64,
    /// Items whose deadline passed in the week without the step (deadline standards).
    pub overdue: i64,
}

/// The dynamics arrow: the change since the previous week judged in the standard's sense, so
/// a shorter response time is an improvement (↑).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dynamics {
    /// Better than the previous week: ↑.
    Improved,
    /// Worse: ↓.
    Worsened,
    /// The same value: →.
    Unchanged,
    /// No value in the previous week or this one: –.
    NoPrevious,
}

impl Dynamics {
    /// From a change and the standard's direction; changes within 1e-9 (relative) are none.
    pub fn of(metric: MetricId, change: Option<f64>, previous: Option<f64>) -> Dynamics {
        let Some(change) = change else { return Dynamics::NoPrevious };
        if change.abs() <= 1e-9 * previous.map_or(1.0, f64::abs).max(1.0) {
            return Dynamics::Unchanged;
        }
        match (metric.direction(), change > 0.0) {
            (Direction::HigherIsBetter, true) | (Direction::LowerIsBetter, false) => Dynamics::Improved,
            _ => Dynamics::Worsened,
        }
    }

    /// The arrow shown.
    pub fn arrow(self) -> &'static str {
        match self {
            Dynamics::Improved => "↑",
            Dynamics::Worsened => "↓",
            Dynamics::Unchanged => "→",
            Dynamics::NoPrevious => "–",
        }
    }
}

/// Negative reviews (rated 1-3) of the week and the reasons they named.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NegativeReviews {
    /// Negative reviews in the week.
    pub total: u32,
    /// The most frequent reasons (at most [`TOP_REASONS`]), most frequent first.
    pub reasons: Vec<ReasonLine>,
    /// Further reasons named but not listed.
    pub more_reasons: usize,
}

/// One reason and its weight.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReasonLine {
    /// The reason as reviews name it.
    pub reason: String,
    /// Negative reviews that named it.
    pub count: u32,
    /// `count / total` (a review may name several reasons).
    pub share: f64,
}

/// Critical incidents of the week. Counts from the weekly row are null when the standard is
/// not on weekly rows (the config's `cadences`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incidents {
    /// Orders cancelled by the seller (numerator of `seller_cancellation_share`).
    pub seller_cancellations: Option<i64>,
    /// Orders created in the week (its denominator).
    pub orders_created: Option<i64>,
    /// Orders not confirmed by their deadline (`overdue` of `confirmation_time_avg`).
    pub overdue_confirmations: Option<i64>,
    /// Orders not assembled by their deadline (`assembly_time_avg`).
    pub overdue_assemblies: Option<i64>,
    /// Orders not handed over by `ship_by` (`on_time_handover_share`).
    pub overdue_handovers: Option<i64>,
    /// Customer messages not answered by their deadline (`response_time_avg`).
    pub overdue_replies: Option<i64>,
    /// Critics not followed up by a deadline that fell in the week (`critic_followup_share`).
    pub overdue_critic_followups: Option<i64>,
    /// Critics received in the week, by where they stand now.
    pub critics: CriticCounts,
    /// The critics received in the week that still await a follow-up (overdue or open).
    pub unanswered_critics: Vec<CriticLine>,
    /// Transitions on the escalation ladder at the end of the week.
    pub escalations: Vec<Transition>,
}

/// Critics received in the week, by status.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CriticCounts {
    /// All of them.
    pub received: usize,
    /// Not followed up; the deadline has not passed.
    pub open: usize,
    /// Not followed up; the deadline passed.
    pub overdue: usize,
    /// Followed up after the deadline.
    pub answered_late: usize,
    /// Followed up by the deadline.
    pub answered_in_time: usize,
}

/// A critic awaiting a follow-up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriticLine {
    /// `review:<id>` or `nps:<id>`.
    pub critic_id: String,
    /// `review` or `nps`.
    pub source: String,
    /// The rating or score given.
    pub score: u8,
    /// When the feedback was given (UTC).
    pub created_at: Timestamp,
    /// The follow-up deadline (UTC).
    pub due_at: Timestamp,
    /// Open or overdue.
    pub status: CriticStatus,
}

/// A transition on the escalation ladder.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transition {
    /// The ISO week evaluated.
    pub week: String,
    /// Stage before.
    pub from: Stage,
    /// Stage after.
    pub to: Stage,
    /// The rule that fired.
    pub rule: Rule,
    /// The standards that failed in the week.
    pub standards: Vec<MetricId>,
    /// Failed weeks within the look-back, this one included.
    pub failed_weeks: u32,
    /// Monday from which a failed week escalates further, `YYYY-MM-DD`.
    pub deadline: Option<String>,
}

/// The seller's stage after the reported week: the latest transition up to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EscalationState {
    /// The stage (`ok` when the seller never moved).
    pub stage: Stage,
    /// The ISO week of the transition into it.
    pub since: Option<String>,
    /// The deadline of a plan or sanction, `YYYY-MM-DD`.
    pub deadline: Option<String>,
}

/// An incentive tier the seller holds: after the last month that ended on or before the
/// week's Sunday, its latest change in the tier was an entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeldTier {
    /// The tier's id (`[actions.incentives.<tier>]`).
    pub tier: String,
    /// First day of the month whose end decided the entry, `YYYY-MM-DD`.
    pub entered_month: String,
    /// First day held (the day after that month), `YYYY-MM-DD`.
    pub since: String,
}

/// What to do about one failed standard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// The standard.
    pub metric: MetricId,
    /// Its name.
    pub name: &'static str,
    /// The week's value.
    pub actual: Option<f64>,
    /// The target.
    pub target: f64,
    /// The rule's text with the target written in.
    pub text: String,
}

/// A stage's name for people.
pub fn stage_label(s: Stage) -> &'static str {
    match s {
        Stage::Ok => "OK",
        Stage::Warning => "Warning",
        Stage::ImprovementPlan => "Improvement plan",
        Stage::Sanction1 => "Sanction 1: formal warning",
        Stage::Sanction2 => "Sanction 2: functionality restricted",
        Stage::Sanction3 => "Sanction 3: suspension",
    }
}

/// A rule's name for people.
pub fn rule_label(r: Rule) -> &'static str {
    match r {
        Rule::StandardFailed => "a standard failed",
        Rule::Systematic => "systematic failures",
        Rule::DeadlineMissed => "deadline missed",
        Rule::Recovered => "recovered",
    }
}

impl WeeklyReport {
    /// Builds the report from its stored inputs.
    pub fn build(seller: &str, week: IsoWeek, tz: chrono_tz::Tz, stored: Stored) -> WeeklyReport {
        let lines = |g: Group| -> Vec<StandardLine> { stored.cells.iter().filter(|c| c.metric.group() == g).map(line).collect() };
        let (base, operational, communication) = (lines(Group::Base), lines(Group::Operational), lines(Group::Communication));
        let all: Vec<&StandardLine> = base.iter().chain(&operational).chain(&communication).collect();
        let failed: Vec<&StandardLine> = all.iter().copied().filter(|l| l.status == Status::Fail).collect();
        let summary = Summary {
            judged: all.iter().filter(|l| l.status != Status::NoData).count(),
            failed: failed.len(),
            failed_standards: failed.iter().map(|l| l.metric).collect(),
        };
        let recommendations = failed
            .iter()
            .map(|l| Recommendation { metric: l.metric, name: l.name, actual: l.actual, target: l.target, text: recommendation(l.metric, l.target) })
            .collect();

        let cell = |m: MetricId| stored.cells.iter().find(|c| c.metric == m);
        let negative_from_row = cell(MetricId::PositiveReviewShare).map_or(0, |c| (c.denominator as f64 - c.numerator).max(0.0) as u32);
        let negative_reviews = match &stored.reasons {
            Some(r) => NegativeReviews {
                total: r.negative_reviews,
                reasons: r
                    .reasons
                    .iter()
                    .take(TOP_REASONS)
                    .map(|(reason, count, share)| ReasonLine { reason: reason.clone(), count: *count, share: *share })
                    .collect(),
                more_reasons: r.reasons.len().saturating_sub(TOP_REASONS),
            },
            None => NegativeReviews { total: negative_from_row, reasons: Vec::new(), more_reasons: 0 },
        };

        let first = week.first_day();
        let overdue = |m: MetricId| cell(m).map(|c| c.overdue);
        let incidents = Incidents {
            seller_cancellations: cell(MetricId::SellerCancellationShare).map(|c| c.numerator as i64),
            orders_created: cell(MetricId::SellerCancellationShare).map(|c| c.denominator),
            overdue_confirmations: overdue(MetricId::ConfirmationTimeAvg),
            overdue_assemblies: overdue(MetricId::AssemblyTimeAvg),
            overdue_handovers: overdue(MetricId::OnTimeHandoverShare),
            overdue_replies: overdue(MetricId::ResponseTimeAvg),
            overdue_critic_followups: overdue(MetricId::CriticFollowupShare),
            critics: counts(&stored.critics),
            unanswered_critics: stored
                .critics
                .iter()
                .filter(|c| matches!(c.status, CriticStatus::Open | CriticStatus::Overdue))
                .map(|c| CriticLine {
                    critic_id: c.critic_id.clone(),
                    source: c.source.clone(),
                    score: c.score,
                    created_at: Timestamp(c.created_at),
                    due_at: Timestamp(c.due_at),
                    status: c.status,
                })
                .collect(),
            escalations: stored.escalations.iter().filter(|e| e.week_start == first).map(transition).collect(),
        };
        let latest = stored.escalations.last();
        let escalation = EscalationState {
            stage: latest.map_or(Stage::Ok, |e| e.to),
            since: latest.map(|e| IsoWeek::from_day(e.week_start).to_string()),
            deadline: latest.and_then(|e| e.deadline).map(|d| date_of(d).to_string()),
        };
        let incentive_tiers = held_tiers(&stored.tier_changes, first + 7);
        WeeklyReport {
            seller_id: seller.to_owned(),
            week: week.to_string(),
            period: Period { start: week.monday().to_string(), end: week.sunday().to_string(), timezone: tz.name().to_owned() },
            standards_version: stored.standards_version.clone(),
            summary,
            base,
            operational,
            communication,
            negative_reviews,
            incidents,
            escalation,
            incentive_tiers,
            recommendations,
        }
    }

    /// Every standard line, base first.
    pub fn standards(&self) -> impl Iterator<Item = &StandardLine> {
        self.base.iter().chain(&self.operational).chain(&self.communication)
    }
}

fn line(c: &StoredCell) -> StandardLine {
    StandardLine {
        metric: c.metric,
        name: c.metric.label(),
        direction: c.metric.direction(),
        target: c.target,
        actual: c.value,
        deviation: c.deviation,
        previous: c.previous,
        change: c.change,
        dynamics: Dynamics::of(c.metric, c.change, c.previous),
        status: c.status,
        compliant: match c.status {
            Status::Pass => Some(true),
            Status::Fail => Some(false),
            Status::NoData => None,
        },
        numerator: c.numerator,
        denominator: c.denominator,
        overdue: c.overdue,
    }
}

fn counts(critics: &[StoredCritic]) -> CriticCounts {
    let n = |s: CriticStatus| critics.iter().filter(|c| c.status == s).count();
    CriticCounts {
        received: critics.len(),
        open: n(CriticStatus::Open),
        overdue: n(CriticStatus::Overdue),
        answered_late: n(CriticStatus::AnsweredLate),
        answered_in_time: n(CriticStatus::AnsweredInTime),
    }
}

/// The tiers held on day `until - 1`: per tier, the latest change of a month that ended by `until` is an entry.
fn held_tiers(changes: &[StoredTierChange], until: Day) -> Vec<HeldTier> {
    let mut latest: BTreeMap<&str, &StoredTierChange> = BTreeMap::new();
    for c in changes.iter().filter(|c| Cadence::Month.period_of(c.month_start).end <= until) {
        if latest.get(c.tier.as_str()).is_none_or(|l| c.month_start >= l.month_start) {
            latest.insert(&c.tier, c);
        }
    }
    latest
        .into_values()
        .filter(|c| c.change == TierMove::Entered)
        .map(|c| HeldTier {
            tier: c.tier.clone(),
            entered_month: date_of(c.month_start).to_string(),
            since: date_of(Cadence::Month.period_of(c.month_start).end).to_string(),
        })
        .collect()
}

fn transition(e: &StoredEscalation) -> Transition {
    Transition {
        week: IsoWeek::from_day(e.week_start).to_string(),
        from: e.from,
        to: e.to,
        rule: e.rule,
        standards: e.standards.clone(),
        failed_weeks: e.failed_weeks,
        deadline: e.deadline.map(|d| date_of(d).to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrows_follow_the_standards_sense() {
        assert_eq!(Dynamics::of(MetricId::Csi, Some(0.2), Some(4.2)), Dynamics::Improved);
        assert_eq!(Dynamics::of(MetricId::Csi, Some(-0.2), Some(4.2)), Dynamics::Worsened);
        // Lower is better: a shorter response time is an improvement, more cancellations are not.
        assert_eq!(Dynamics::of(MetricId::ResponseTimeAvg, Some(-60.0), Some(1900.0)), Dynamics::Improved);
        assert_eq!(Dynamics::of(MetricId::SellerCancellationShare, Some(0.01), Some(0.0)), Dynamics::Worsened);
        assert_eq!(Dynamics::of(MetricId::Nps, Some(0.0), Some(50.0)), Dynamics::Unchanged);
        assert_eq!(Dynamics::of(MetricId::Nps, None, None), Dynamics::NoPrevious);
        assert_eq!(Dynamics::Improved.arrow(), "↑");
    }

    #[test]
    fn tiers_are_those_entered_by_the_last_month_that_ended_by_the_week() {
        let day = |y, m, d| quality_engine::contract::days_from_civil(y, m, d);
        let change = |tier: &str, change, y, m| StoredTierChange { tier: tier.into(), change, month_start: day(y, m, 1) };
        let changes = [
            change("leader", TierMove::Entered, 2026, 9),
            change("tariff", TierMove::Entered, 2026, 9),
            change("tariff", TierMove::Left, 2026, 10),
            change("quality_leader", TierMove::Entered, 2026, 10),
        ];
        let tiers = |sunday: Day| held_tiers(&changes, sunday + 1).into_iter().map(|t| (t.tier, t.since)).collect::<Vec<_>>();
        // The week ending Sunday 2026-10-04: September has ended, October not.
        assert_eq!(tiers(day(2026, 10, 4)), [("leader".into(), "2026-10-01".into()), ("tariff".into(), "2026-10-01".into())]);
        // The week ending Sunday 2026-11-01: October ended on Saturday the 31st.
        assert_eq!(tiers(day(2026, 11, 1)), [("leader".into(), "2026-10-01".into()), ("quality_leader".into(), "2026-11-01".into())]);
        assert_eq!(tiers(day(2026, 9, 27)), Vec::<(String, String)>::new());
    }
}
