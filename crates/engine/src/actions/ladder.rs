//! The escalation ladder: ok -> warning -> improvement plan -> sanctions 1..3, and back to ok.
//!
//! A seller is evaluated once per closed ISO week, on the final weekly row. A week fails when
//! any base, operational or communication standard fails (the programme's own survey coverage
//! never counts against a seller); it is compliant when at least one standard was judged and
//! none failed; a week with nothing judged changes no count.

use super::policy::EscalationPolicy;
use crate::methodology::{Group, MetricId, Status};
use crate::output::WindowRow;
use crate::window::{Day, LocalDate};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A seller's position on the ladder.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Standards met (or not yet judged).
    #[default]
    Ok,
    /// A standard failed in the closed week.
    Warning,
    /// Violations are systematic: N failed weeks of the last M. The seller has a deadline.
    ImprovementPlan,
    /// The plan's deadline passed without recovery: a formal warning with recommendations.
    #[serde(rename = "sanction_1", alias = "sanction1")]
    Sanction1,
    /// The next deadline passed too: functionality restricted.
    #[serde(rename = "sanction_2", alias = "sanction2")]
    Sanction2,
    /// Suspension.
    #[serde(rename = "sanction_3", alias = "sanction3")]
    Sanction3,
}

impl Stage {
    /// The stable id, as in the `escalations` table and topic (and serde's name).
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Ok => "ok",
            Stage::Warning => "warning",
            Stage::ImprovementPlan => "improvement_plan",
            Stage::Sanction1 => "sanction_1",
            Stage::Sanction2 => "sanction_2",
            Stage::Sanction3 => "sanction_3",
        }
    }

    /// The step after a missed deadline (sanction 3 is the last).
    fn next(self) -> Stage {
        match self {
            Stage::ImprovementPlan => Stage::Sanction1,
            Stage::Sanction1 => Stage::Sanction2,
            _ => Stage::Sanction3,
        }
    }
}

/// Why a transition happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// A standard failed in the week.
    StandardFailed,
    /// N of the last M weeks failed.
    Systematic,
    /// The deadline passed and the week still failed.
    DeadlineMissed,
    /// K consecutive compliant weeks.
    Recovered,
}

/// One standard's value against its target in the evaluated week.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// The standard.
    pub metric: MetricId,
    /// The week's value.
    pub value: Option<f64>,
    /// The target that applied.
    pub target: f64,
    /// Pass or fail.
    pub status: Status,
}

/// A transition on the ladder: the event written to `quality.escalations` and ClickHouse.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Escalation {
    /// `{seller}/{week}`: at most one transition per seller and week, so the id is its identity.
    pub escalation_id: String,
    /// The seller.
    pub seller_id: Arc<str>,
    /// Monday of the evaluated week.
    pub week_start: LocalDate,
    /// Stage before.
    pub from: Stage,
    /// Stage after.
    pub to: Stage,
    /// The rule that fired.
    pub rule: Rule,
    /// The standards that failed in the week (empty on recovery).
    pub standards: Vec<MetricId>,
    /// Every standard judged in the week, value vs target.
    pub evidence: Vec<Evidence>,
    /// Failed weeks within the last `systematic_weeks`, this one included.
    pub failed_weeks: u32,
    /// Monday of the week from which a failure moves the seller a step further (plans and sanctions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<LocalDate>,
}

/// One seller's ladder state (saved in checkpoints).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ladder {
    /// Where the seller stands.
    pub stage: Stage,
    /// Mondays of failed weeks within the look-back.
    failed: Vec<Day>,
    /// Consecutive compliant weeks.
    streak: u32,
    /// Monday from which a failed week escalates further.
    deadline: Option<Day>,
}

impl Ladder {
    /// Evaluates one final weekly row; returns the transition, if any.
    pub fn evaluate(&mut self, row: &WindowRow, policy: &EscalationPolicy) -> Option<Escalation> {
        let week = row.period_start.0;
        let counted = row.metrics.iter().filter(|c| c.metric.group() != Group::Programme && c.status != Status::NoData);
        let evidence: Vec<Evidence> = counted.map(|c| Evidence { metric: c.metric, value: c.value, target: c.target, status: c.status }).collect();
        if evidence.is_empty() {
            return None;
        }
        let standards: Vec<MetricId> = evidence.iter().filter(|e| e.status == Status::Fail).map(|e| e.metric).collect();
        let failed = !standards.is_empty();
        let horizon = week - 7 * (policy.systematic_weeks as Day - 1);
        self.failed.retain(|w| *w >= horizon && *w < week);
        if failed {
            self.failed.push(week);
            self.streak = 0;
        } else {
            self.streak += 1;
        }
        let failed_weeks = self.failed.len() as u32;
        let systematic = failed_weeks >= policy.systematic_failures;
        let plan_deadline = week + 7 * policy.plan_weeks as Day;
        let (to, rule, deadline) = match self.stage {
            _ if !failed && self.stage != Stage::Ok && self.streak >= policy.recovery_weeks => (Stage::Ok, Rule::Recovered, None),
            Stage::Ok | Stage::Warning if systematic => (Stage::ImprovementPlan, Rule::Systematic, Some(plan_deadline)),
            Stage::Ok if failed => (Stage::Warning, Rule::StandardFailed, None),
            Stage::ImprovementPlan | Stage::Sanction1 | Stage::Sanction2 if failed && self.deadline.is_some_and(|d| week >= d) => {
                let next = self.stage.next();
                (next, Rule::DeadlineMissed, (next != Stage::Sanction3).then_some(plan_deadline))
            }
            _ => return None,
        };
        let from = self.stage;
        self.stage = to;
        self.deadline = deadline;
        if to == Stage::Ok {
            self.failed.clear();
        }
        Some(Escalation {
            escalation_id: format!("{}/{}", row.seller_id, row.period_start),
            seller_id: row.seller_id.clone(),
            week_start: row.period_start,
            from,
            to,
            rule,
            standards,
            evidence,
            failed_weeks,
            deadline: deadline.map(LocalDate),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Stage;

    #[test]
    fn serde_names_stages_by_their_stable_ids() {
        for s in [Stage::Ok, Stage::Warning, Stage::ImprovementPlan, Stage::Sanction1, Stage::Sanction2, Stage::Sanction3] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
            assert_eq!(serde_json::from_value::<Stage>(s.as_str().into()).unwrap(), s);
        }
        // Files written before the ids were fixed still read.
        assert_eq!(serde_json::from_value::<Stage>("sanction2".into()).unwrap(), Stage::Sanction2);
    }
}
