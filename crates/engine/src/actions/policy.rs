//! How the platform acts on quality: the escalation ladder, survey requests, critics' follow-up,
//! leaders and incentive tiers. The defaults are documented in `docs/methodology.md` (section 10).

use super::ladder::Stage;
use crate::contract::{DAY_MS, HOUR_MS};
use crate::methodology::parse_duration_ms;
use serde::{de, Deserialize, Deserializer};
use std::collections::BTreeMap;

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
    /// Incentive tiers: who enters and leaves each, month by month.
    pub incentives: IncentivePolicy,
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

/// The incentive tiers by name (`[actions.incentives.<tier>]`), in name order. A table for a
/// default tier overrides single keys; a table with a new name adds a tier and must give every
/// key but `force_exit_stage`; `enabled = false` removes a tier.
#[derive(Debug, Clone, PartialEq)]
pub struct IncentivePolicy {
    /// Each tier's rules, by its stable id (as in the `incentives` table and topic).
    pub tiers: BTreeMap<String, TierPolicy>,
}

/// When a seller enters and leaves one incentive tier (docs/methodology.md, section 10.6).
#[derive(Debug, Clone, PartialEq)]
pub struct TierPolicy {
    /// Entry: the composite percentile among the month's ranked sellers is at least this (0..100).
    pub entry_percentile: f64,
    /// Exit: the percentile fell below this (at most `entry_percentile`: a margin against flapping).
    pub exit_percentile: f64,
    /// Entry needs at least this many orders created in the month; a member below it leaves.
    pub min_orders: i64,
    /// Months a member keeps the tier before a percentile, sample or escalation exit may take it away.
    pub min_stay_months: u32,
    /// A member whose ladder stage is this or worse at a month's end leaves at once, minimum stay or not.
    pub force_exit_stage: Stage,
}

impl TierPolicy {
    const fn new(entry_percentile: f64, exit_percentile: f64, min_orders: i64, min_stay_months: u32, force_exit_stage: Stage) -> TierPolicy {
        TierPolicy { entry_percentile, exit_percentile, min_orders, min_stay_months, force_exit_stage }
    }
}

impl Default for IncentivePolicy {
    /// The three incentives of the regulation's section 6.1, each stricter than the one before:
    /// `leader` (ranking boost), `quality_leader` (wider functionality), `tariff` (special terms).
    fn default() -> Self {
        let tiers = [
            ("leader", TierPolicy::new(90.0, 75.0, 30, 1, Stage::ImprovementPlan)),
            ("quality_leader", TierPolicy::new(95.0, 85.0, 100, 3, Stage::ImprovementPlan)),
            ("tariff", TierPolicy::new(97.0, 90.0, 150, 3, Stage::Warning)),
        ];
        IncentivePolicy { tiers: tiers.into_iter().map(|(name, t)| (name.to_owned(), t)).collect() }
    }
}

/// One `[actions.incentives.<tier>]` table: the keys it sets.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TierTable {
    enabled: Option<bool>,
    entry_percentile: Option<f64>,
    exit_percentile: Option<f64>,
    min_orders: Option<i64>,
    min_stay_months: Option<u32>,
    force_exit_stage: Option<Stage>,
}

impl<'de> Deserialize<'de> for IncentivePolicy {
    /// The default tiers with the tables' keys laid over them.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let tables = BTreeMap::<String, TierTable>::deserialize(d)?;
        let mut policy = IncentivePolicy::default();
        for (name, t) in tables {
            if t.enabled == Some(false) {
                policy.tiers.remove(&name);
                continue;
            }
            let base = match policy.tiers.get(&name) {
                Some(base) => base.clone(),
                None => match (t.entry_percentile, t.exit_percentile, t.min_orders, t.min_stay_months) {
                    (Some(entry), Some(exit), Some(orders), Some(stay)) => TierPolicy::new(entry, exit, orders, stay, Stage::ImprovementPlan),
                    _ => {
                        return Err(de::Error::custom(format!(
                            "actions.incentives.{name} is a new tier: give entry_percentile, exit_percentile, min_orders and min_stay_months (the default tiers are leader, quality_leader and tariff)"
                        )))
                    }
                },
            };
            let tier = TierPolicy {
                entry_percentile: t.entry_percentile.unwrap_or(base.entry_percentile),
                exit_percentile: t.exit_percentile.unwrap_or(base.exit_percentile),
                min_orders: t.min_orders.unwrap_or(base.min_orders),
                min_stay_months: t.min_stay_months.unwrap_or(base.min_stay_months),
                force_exit_stage: t.force_exit_stage.unwrap_or(base.force_exit_stage),
            };
            policy.tiers.insert(name, tier);
        }
        Ok(policy)
    }
}

impl IncentivePolicy {
    /// Checks every tier; a seller must be ranked (`leaders.min_orders`) to have a percentile.
    fn validate(&self, ranked_min_orders: i64) -> Result<(), String> {
        for (name, t) in &self.tiers {
            let key = |k: &str| format!("actions.incentives.{name}.{k}");
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
                return Err(format!(
                    "actions.incentives.{name:?}: a tier id is lowercase letters, digits and '_' (it names the tier in ids and tables)"
                ));
            }
            if !(0.0..=100.0).contains(&t.entry_percentile) {
                return Err(format!("{} must be in 0..100, got {}", key("entry_percentile"), t.entry_percentile));
            }
            if !(0.0..=t.entry_percentile).contains(&t.exit_percentile) {
                return Err(format!(
                    "{} must be in 0..{} (at most the entry percentile), got {}",
                    key("exit_percentile"),
                    t.entry_percentile,
                    t.exit_percentile
                ));
            }
            if t.min_orders < ranked_min_orders {
                return Err(format!(
                    "{} must be at least actions.leaders.min_orders ({ranked_min_orders}): only sellers with that many orders are ranked, got {}",
                    key("min_orders"),
                    t.min_orders
                ));
            }
            if t.min_stay_months == 0 {
                return Err(format!(
                    "{} must be at least 1 (a member keeps the tier for at least the month after it entered)",
                    key("min_stay_months")
                ));
            }
            if t.force_exit_stage == Stage::Ok {
                return Err(format!("{} must be a stage after ok (warning .. sanction_3)", key("force_exit_stage")));
            }
        }
        Ok(())
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
        self.incentives.validate(self.leaders.min_orders)
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

    #[test]
    fn incentive_tiers_merge_with_the_defaults_and_are_checked() {
        let p: ActionPolicy = toml::from_str(
            "[incentives.tariff]\nmin_orders = 200\n[incentives.leader]\nenabled = false\n\
             [incentives.gold]\nentry_percentile = 99\nexit_percentile = 95\nmin_orders = 500\nmin_stay_months = 12\n",
        )
        .unwrap();
        p.validate().unwrap();
        let names: Vec<&str> = p.incentives.tiers.keys().map(String::as_str).collect();
        assert_eq!(names, ["gold", "quality_leader", "tariff"]);
        assert_eq!(p.incentives.tiers["gold"], TierPolicy::new(99.0, 95.0, 500, 12, Stage::ImprovementPlan));
        assert_eq!(p.incentives.tiers["tariff"], TierPolicy::new(97.0, 90.0, 200, 3, Stage::Warning));
        assert_eq!(p.incentives.tiers["quality_leader"], IncentivePolicy::default().tiers["quality_leader"]);

        let e = toml::from_str::<ActionPolicy>("[incentives.gold]\nentry_percentile = 99\n").unwrap_err().to_string();
        assert!(e.contains("actions.incentives.gold is a new tier") && e.contains("min_stay_months"), "{e}");
        let e = toml::from_str::<ActionPolicy>("[incentives.leader]\nentry = 90\n").unwrap_err().to_string();
        assert!(e.contains("entry_percentile"), "unknown keys name the valid ones: {e}");
        let e = toml::from_str::<ActionPolicy>("[incentives.leader]\nforce_exit_stage = \"suspended\"\n").unwrap_err().to_string();
        assert!(e.contains("sanction_3"), "{e}");

        let bad = |edit: fn(&mut TierPolicy)| {
            let mut p = ActionPolicy::default();
            edit(p.incentives.tiers.get_mut("leader").unwrap());
            p.validate().unwrap_err()
        };
        assert!(bad(|t| t.exit_percentile = 95.0).contains("actions.incentives.leader.exit_percentile must be in 0..90"));
        assert!(bad(|t| t.entry_percentile = 101.0).contains("actions.incentives.leader.entry_percentile must be in 0..100"));
        assert!(bad(|t| t.min_orders = 29).contains("at least actions.leaders.min_orders (30)"));
        assert!(bad(|t| t.min_stay_months = 0).contains("min_stay_months must be at least 1"));
        assert!(bad(|t| t.force_exit_stage = Stage::Ok).contains("force_exit_stage must be a stage after ok"));
        let mut p = ActionPolicy::default();
        p.incentives.tiers.insert("Gold Tier".into(), TierPolicy::new(99.0, 95.0, 500, 12, Stage::Warning));
        assert!(p.validate().unwrap_err().contains("lowercase letters, digits and '_'"));
    }
}
