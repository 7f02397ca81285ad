//! How the platform acts on quality: the escalation ladder, survey requests, critics' follow-up
//! and leaders. The defaults are documented in `docs/methodology.md` (section 10).

use crate::contract::{DAY_MS, HOUR_MS};
use crate::methodology::parse_duration_ms;
use serde::{de, Deserialize, Deserializer};

/// Every acting-on-quality setting; the TOML `[actions.*]` tables override single keys.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ActionPolicy {
    /// Warnings, improvement plans and sanctions.
    pub escalation: EscalationPolicy,
    /// Automatic surveys of customers who did not review a delivered order.
    pub survey: SurveyPolicy,
    /// Following up with customers who complained.
    pub critics: CriticPolicy,
    /// Who is flagged as a quality leader for the ranking boost.
    pub leaders: LeaderPolicy,
}

/// The escalation ladder's parameters, counted in closed ISO weeks.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EscalationPolicy {
    /// N: weeks with a failed standard, within the last `systematic_weeks`, that make violations systematic.
    pub systematic_failures: u32,
    /// M: the look-back of the systematic rule, in weeks (the evaluated week included).
    pub systematic_weeks: u32,
    /// Weeks an improvement plan (or a sanction stage) gives the seller before the next step.
    pub plan_weeks: u32,
    /// K: consecutive compliant weeks that bring a seller back to `ok`.
    pub recovery_weeks: u32,
}

impl Default for EscalationPolicy {
    /// N = 3 of M = 4 weeks, 4-week plans, back to ok after 2 compliant weeks.
    fn default() -> Self {
        EscalationPolicy { systematic_failures: 3, systematic_weeks: 4, plan_weeks: 4, recovery_weeks: 2 }
    }
}

/// When surveys are requested.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SurveyPolicy {
    /// How long after delivery an in-app review is waited for before a survey is requested.
    #[serde(rename = "wait", deserialize_with = "duration")]
    pub wait_ms: i64,
    /// A customer is surveyed at most once in this period (per seller).
    #[serde(rename = "once_per_customer", deserialize_with = "duration")]
    pub once_per_customer_ms: i64,
}

impl Default for SurveyPolicy {
    /// Survey 24 h after delivery, at most once per customer in 30 days.
    fn default() -> Self {
        SurveyPolicy { wait_ms: 24 * HOUR_MS, once_per_customer_ms: 30 * DAY_MS }
    }
}

/// Who counts as a critic, and how fast they must be answered.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CriticPolicy {
    /// Time from the critic's feedback to the follow-up.
    #[serde(rename = "sla", deserialize_with = "duration")]
    pub sla_ms: i64,
    /// Reviews rated at most this (1..5) with a comment are critics.
    pub max_review_rating: u8,
    /// NPS answers scored at most this (0..10) with a comment are critics.
    pub max_nps_score: u8,
}

impl Default for CriticPolicy {
    /// 48 h; reviews rated 1-3 and NPS answers 0-6.
    fn default() -> Self {
        CriticPolicy { sla_ms: 48 * HOUR_MS, max_review_rating: 3, max_nps_score: 6 }
    }
}

/// Who is a leader of a month.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LeaderPolicy {
    /// The best share of eligible sellers by composite score (0.1: top decile).
    pub top_share: f64,
    /// Orders created in the month a seller needs to be eligible (a small sample is luck).
    pub min_orders: i64,
}

impl Default for LeaderPolicy {
    /// Top decile among sellers with at least 30 orders in the month.
    fn default() -> Self {
        LeaderPolicy { top_share: 0.1, min_orders: 30 }
    }
}

impl ActionPolicy {
    /// Checks the settings together; the message says which key to fix.
    pub fn validate(&self) -> Result<(), String> {
        let e = &self.escalation;
        if e.systematic_weeks == 0 || e.systematic_weeks > 52 {
            return Err(format!("actions.escalation.systematic_weeks must be 1..52, got {}", e.systematic_weeks));
        }
        if e.systematic_failures == 0 || e.systematic_failures > e.systematic_weeks {
            return Err(format!(
                "actions.escalation.systematic_failures must be 1..systematic_weeks ({}), got {}",
                e.systematic_weeks, e.systematic_failures
            ));
        }
        if e.plan_weeks == 0 || e.recovery_weeks == 0 {
            return Err("actions.escalation.plan_weeks and recovery_weeks must be at least 1".into());
        }
        if self.survey.wait_ms < 0 || self.survey.once_per_customer_ms < 0 || self.critics.sla_ms <= 0 {
            return Err("actions.survey.wait, actions.survey.once_per_customer and actions.critics.sla must be positive durations".into());
        }
        if self.critics.max_review_rating > 5 || self.critics.max_nps_score > 10 {
            return Err("actions.critics.max_review_rating must be 0..5 and max_nps_score 0..10".into());
        }
        if !(self.leaders.top_share > 0.0 && self.leaders.top_share <= 1.0) {
            return Err(format!("actions.leaders.top_share must be in (0, 1], got {}", self.leaders.top_share));
        }
        Ok(())
    }
}

fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    parse_duration_ms(&String::deserialize(d)?).map_err(de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_override_defaults_and_errors_name_the_key() {
        let p: ActionPolicy = toml::from_str("[survey]\nwait = \"12h\"\n[escalation]\nplan_weeks = 2\n").unwrap();
        assert_eq!(p.survey.wait_ms, 12 * HOUR_MS);
        assert_eq!(p.survey.once_per_customer_ms, 30 * DAY_MS);
        assert_eq!(p.escalation.plan_weeks, 2);
        assert_eq!(p.escalation.systematic_failures, 3);
        p.validate().unwrap();
        let bad = ActionPolicy { escalation: EscalationPolicy { systematic_failures: 5, ..Default::default() }, ..Default::default() };
        assert!(bad.validate().unwrap_err().contains("systematic_failures"));
        assert!(toml::from_str::<ActionPolicy>("[survey]\nwait = \"soon\"\n").unwrap_err().to_string().contains("not a duration"));
    }
}
