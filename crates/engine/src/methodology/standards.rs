//! Targets and scoring parameters of each standard: the regulation's defaults, overridable in TOML.

use super::duration::parse_duration_ms;
use super::metric::{Group, MetricId, Unit, METRIC_COUNT};
use crate::window::Cadence;
use serde::{de, Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

/// One standard: its target and how it enters the monthly composite.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Standard {
    /// The target, in the metric's unit (seconds for durations, 0..1 for shares).
    pub target: f64,
    /// Weight in the monthly composite; weights are normalised, so only ratios matter.
    pub weight: f64,
    /// Pseudo-observations at the target added before scoring (shrinkage against luck of small samples).
    pub prior_weight: f64,
    /// Value at which the composite score of this metric is 0.
    pub floor: f64,
    /// Value at which the composite score of this metric is 1.
    pub ideal: f64,
    /// Cadences whose rows carry and judge this metric.
    pub cadences: Vec<Cadence>,
}

/// Every standard, indexed by [`MetricId::index`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Standards(Vec<Standard>);

impl Standards {
    /// The standard of one metric.
    pub fn get(&self, m: MetricId) -> &Standard {
        &self.0[m.index()]
    }

    /// The metrics a cadence carries, in catalogue order (months and quarters carry every one).
    pub fn metrics_for(&self, cadence: Cadence) -> impl Iterator<Item = MetricId> + '_ {
        MetricId::ALL.into_iter().filter(move |m| matches!(cadence, Cadence::Month | Cadence::Quarter) || self.get(*m).cadences.contains(&cadence))
    }

    /// Applies overrides from config on top of these standards.
    pub(super) fn apply(&mut self, overrides: BTreeMap<String, StandardOverride>) -> Result<(), String> {
        for (id, o) in overrides {
            let m = MetricId::from_id(&id).ok_or_else(|| {
                let ids: Vec<&str> = MetricId::ALL.iter().map(|m| m.as_str()).collect();
                format!("unknown standard {id:?}; the standards are: {}", ids.join(", "))
            })?;
            let s = &mut self.0[m.index()];
            let q = |v: Quantity| v.in_unit(m);
            if let Some(v) = o.target {
                s.target = q(v)?;
            }
            if let Some(v) = o.floor {
                s.floor = q(v)?;
            }
            if let Some(v) = o.ideal {
                s.ideal = q(v)?;
            }
            if let Some(v) = o.weight {
                s.weight = v;
            }
            if let Some(v) = o.prior_weight {
                s.prior_weight = v;
            }
            if let Some(v) = o.cadences {
                s.cadences = v;
            }
            if !(s.weight >= 0.0 && s.prior_weight >= 0.0) {
                return Err(format!("standard {id}: weight and prior_weight must be >= 0"));
            }
            if s.floor == s.ideal {
                return Err(format!("standard {id}: floor and ideal must differ (they bound the composite score)"));
            }
        }
        if self.0.iter().map(|s| s.weight).sum::<f64>() <= 0.0 {
            return Err("at least one standard needs a positive weight for the composite".into());
        }
        Ok(())
    }
}

impl Default for Standards {
    /// The regulation's targets (Appendix 2) and the product's composite defaults; assembly
    /// accuracy's target is the product's (the regulation sets the standard without a number).
    fn default() -> Self {
        const H: f64 = 3600.0;
        let std = |m: MetricId, target: f64, weight: f64, floor: f64, ideal: f64| {
            let mut cadences = vec![Cadence::Week, Cadence::Month, Cadence::Rolling7d, Cadence::Rolling30d];
            if m.group() != Group::Base {
                cadences.insert(0, Cadence::Day);
            }
            Standard { target, weight, prior_weight: 10.0, floor, ideal, cadences }
        };
        Standards(vec![
            std(MetricId::Csi, 4.5, 0.20, 3.0, 5.0),
            std(MetricId::Nps, 60.0, 0.10, 0.0, 100.0),
            std(MetricId::PositiveReviewShare, 0.90, 0.10, 0.5, 1.0),
            std(MetricId::ConfirmationTimeAvg, 2.0 * H, 0.10, 8.0 * H, 0.0),
            std(MetricId::AssemblyTimeAvg, 24.0 * H, 0.05, 72.0 * H, 0.0),
            std(MetricId::OnTimeHandoverShare, 0.95, 0.10, 0.5, 1.0),
            std(MetricId::SellerCancellationShare, 0.02, 0.10, 0.10, 0.0),
            std(MetricId::ResponseTimeAvg, 0.5 * H, 0.10, 4.0 * H, 0.0),
            std(MetricId::AnswerCompletenessShare, 1.0, 0.05, 0.5, 1.0),
            std(MetricId::FirstContactResolutionShare, 0.85, 0.05, 0.5, 1.0),
            std(MetricId::CriticFollowupShare, 1.0, 0.0, 0.5, 1.0),
            std(MetricId::SurveyCoverageShare, 1.0, 0.0, 0.5, 1.0),
            std(MetricId::AssemblyAccuracyShare, 0.99, 0.05, 0.9, 1.0),
        ])
    }
}

impl<'de> Deserialize<'de> for Standards {
    /// A table keyed by metric id; each key overrides only the fields it names.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let overrides = BTreeMap::<String, StandardOverride>::deserialize(d)?;
        let mut s = Standards::default();
        s.apply(overrides).map_err(de::Error::custom)?;
        debug_assert_eq!(s.0.len(), METRIC_COUNT);
        Ok(s)
    }
}

/// One `[standards.<metric>]` table: only the fields it names change.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StandardOverride {
    target: Option<Quantity>,
    weight: Option<f64>,
    prior_weight: Option<f64>,
    floor: Option<Quantity>,
    ideal: Option<Quantity>,
    cadences: Option<Vec<Cadence>>,
}

/// A number in the metric's unit, or for durations a string like `"2h"`.
#[derive(Deserialize)]
#[serde(untagged)]
enum Quantity {
    Number(f64),
    Text(String),
}

impl Quantity {
    fn in_unit(self, m: MetricId) -> Result<f64, String> {
        match (self, m.unit()) {
            (Quantity::Number(n), _) => Ok(n),
            (Quantity::Text(t), Unit::Seconds) => parse_duration_ms(&t).map(|ms| ms as f64 / 1000.0),
            (Quantity::Text(t), _) => Err(format!("standard {m}: {t:?} must be a number")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_regulations() {
        let s = Standards::default();
        assert_eq!(s.get(MetricId::Csi).target, 4.5);
        assert_eq!(s.get(MetricId::ConfirmationTimeAvg).target, 7200.0);
        assert_eq!(s.get(MetricId::ResponseTimeAvg).target, 1800.0);
        assert_eq!(s.get(MetricId::SellerCancellationShare).target, 0.02);
        assert_eq!(s.get(MetricId::AssemblyAccuracyShare).target, 0.99);
        assert_eq!((s.get(MetricId::AssemblyTimeAvg).weight, s.get(MetricId::AssemblyAccuracyShare).weight), (0.05, 0.05));
        assert!(s.get(MetricId::AssemblyAccuracyShare).cadences.contains(&Cadence::Day));
        assert!(!s.get(MetricId::Csi).cadences.contains(&Cadence::Day));
        assert!(s.get(MetricId::ResponseTimeAvg).cadences.contains(&Cadence::Day));
        assert!((s.0.iter().map(|s| s.weight).sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn overrides_merge_and_errors_say_what_to_fix() {
        let s: Standards = toml::from_str("[confirmation_time_avg]\ntarget = \"90m\"\n[csi]\nweight = 0.5\n").unwrap();
        assert_eq!(s.get(MetricId::ConfirmationTimeAvg).target, 5400.0);
        assert_eq!(s.get(MetricId::ConfirmationTimeAvg).weight, 0.10);
        assert_eq!(s.get(MetricId::Csi).weight, 0.5);
        let e = toml::from_str::<Standards>("[csat]\ntarget = 1\n").unwrap_err().to_string();
        assert!(e.contains("unknown standard \"csat\"") && e.contains("csi"), "{e}");
        let e = toml::from_str::<Standards>("[csi]\ntarget = \"high\"\n").unwrap_err().to_string();
        assert!(e.contains("must be a number"), "{e}");
        let e = toml::from_str::<Standards>("[csi]\ntarjet = 4\n").unwrap_err().to_string();
        assert!(e.contains("tarjet"), "{e}");
    }
}
