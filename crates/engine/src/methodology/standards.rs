//! Targets and scoring parameters of each standard: the regulation's defaults, overridable in TOML.

use super::duration::parse_duration_ms;
use super::metric::{Group, MetricId, Unit, METRIC_COUNT};
use super::profile::Profile;
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

/// Every standard of a profile, indexed by [`MetricId::index`] (metrics outside the profile
/// hold a placeholder no row carries and no composite weighs).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Standards {
    profile: Profile,
    all: Vec<Standard>,
    volume: Option<Volume>,
}

/// The volume component of the service rating: closed requests a month against a norm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Volume {
    /// Closed requests a month that earn the full score (fewer earn a proportional share).
    pub per_month: f64,
    /// Weight in the monthly rating, like a standard's.
    pub weight: f64,
}

impl Standards {
    /// The regulation's defaults of a profile.
    pub fn for_profile(profile: Profile) -> Standards {
        match profile {
            Profile::Marketplace => Standards::default(),
            Profile::Service => service(),
        }
    }

    /// The profile these standards belong to.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// The volume component of the rating (service profile).
    pub fn volume(&self) -> Option<&Volume> {
        self.volume.as_ref()
    }

    /// The standard of one metric.
    pub fn get(&self, m: MetricId) -> &Standard {
        &self.all[m.index()]
    }

    /// The profile's metrics, in catalogue order.
    pub fn metrics(&self) -> impl Iterator<Item = MetricId> + '_ {
        self.profile.metrics().iter().copied()
    }

    /// The metrics a cadence carries, in catalogue order (months and quarters carry every one of the profile).
    pub fn metrics_for(&self, cadence: Cadence) -> impl Iterator<Item = MetricId> + '_ {
        self.metrics().filter(move |m| matches!(cadence, Cadence::Month | Cadence::Quarter) || self.get(*m).cadences.contains(&cadence))
    }

    /// Applies overrides from config on top of these standards.
    pub(super) fn apply(&mut self, overrides: BTreeMap<String, StandardOverride>) -> Result<(), String> {
        for (id, o) in overrides {
            if let (super::composite::VOLUME, Some(v)) = (id.as_str(), self.volume.as_mut()) {
                if o.floor.is_some() || o.ideal.is_some() || o.prior_weight.is_some() || o.cadences.is_some() {
                    return Err("standard \"volume\" takes only target (closed requests a month) and weight".into());
                }
                if let Some(t) = o.target {
                    v.per_month = t.in_unit(MetricId::OnTimeClosureShare)?;
                }
                v.weight = o.weight.unwrap_or(v.weight);
                if !(v.per_month > 0.0 && v.weight >= 0.0) {
                    return Err("standard volume: target must be > 0 and weight >= 0".into());
                }
                continue;
            }
            let ids = || self.profile.metrics().iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ");
            let m = MetricId::from_id(&id).ok_or_else(|| format!("unknown standard {id:?}; the standards are: {}", ids()))?;
            if !self.profile.has(m) {
                return Err(format!("standard {id:?} is not measured in the {} profile; its standards are: {}", self.profile, ids()));
            }
            let s = &mut self.all[m.index()];
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
        if self.all.iter().map(|s| s.weight).sum::<f64>() + self.volume.map_or(0.0, |v| v.weight) <= 0.0 {
            return Err("at least one standard needs a positive weight for the composite".into());
        }
        Ok(())
    }
}

const H: f64 = 3600.0;

/// A standard with the cadences of its group: base standards weekly and slower, the others daily too.
fn std(m: MetricId, target: f64, weight: f64, floor: f64, ideal: f64) -> Standard {
    let mut cadences = vec![Cadence::Week, Cadence::Month, Cadence::Rolling7d, Cadence::Rolling30d];
    if m.group() != Group::Base {
        cadences.insert(0, Cadence::Day);
    }
    Standard { target, weight, prior_weight: 10.0, floor, ideal, cadences }
}

/// The standards of `profile` from those of its metrics, placeholders elsewhere.
fn of_profile(profile: Profile, own: Vec<Standard>) -> Standards {
    let mut own = own.into_iter();
    let all = MetricId::ALL
        .into_iter()
        .map(|m| if profile.has(m) { own.next().expect("one standard per metric of the profile") } else { std(m, 0.0, 0.0, 0.0, 1.0) })
        .collect();
    Standards { profile, all, volume: None }
}

/// The service company's programme: at least 60 % satisfied clients and an NPS of at least 15
/// (its stated goals); closure, reopen and CSAT-average targets are the product's defaults.
fn service() -> Standards {
    let mut s = of_profile(
        Profile::Service,
        vec![
            std(MetricId::Nps, 15.0, 0.10, -50.0, 60.0),
            std(MetricId::CriticFollowupShare, 1.0, 0.0, 0.5, 1.0),
            std(MetricId::SurveyCoverageShare, 1.0, 0.0, 0.5, 1.0),
            std(MetricId::CsatSatisfiedShare, 0.60, 0.20, 0.3, 0.95),
            std(MetricId::CsatAvg, 4.0, 0.15, 3.0, 5.0),
            std(MetricId::OnTimeClosureShare, 0.90, 0.20, 0.5, 1.0),
            std(MetricId::ClosureTimeAvg, 24.0 * H, 0.10, 72.0 * H, 0.0),
            std(MetricId::ReopenShare, 0.05, 0.15, 0.25, 0.0),
        ],
    );
    s.volume = Some(Volume { per_month: 60.0, weight: 0.10 });
    s
}

impl Default for Standards {
    /// The marketplace regulation's targets (Appendix 2) and the product's composite defaults; assembly
    /// accuracy's target is the product's (the regulation sets the standard without a number).
    fn default() -> Self {
        of_profile(
            Profile::Marketplace,
            vec![
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
            ],
        )
    }
}

impl<'de> Deserialize<'de> for Standards {
    /// A table keyed by metric id; each key overrides only the fields it names.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let overrides = BTreeMap::<String, StandardOverride>::deserialize(d)?;
        let mut s = Standards::default();
        s.apply(overrides).map_err(de::Error::custom)?;
        debug_assert_eq!(s.all.len(), METRIC_COUNT);
        Ok(s)
    }
}

/// One `[standards.<metric>]` table: only the fields it names change.
#[derive(Debug, Clone, Deserialize)]
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
#[derive(Debug, Clone, Deserialize)]
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
        assert!((s.all.iter().map(|s| s.weight).sum::<f64>() - 1.0).abs() < 1e-12);
        let service = Standards::for_profile(Profile::Service);
        assert_eq!((service.get(MetricId::CsatSatisfiedShare).target, service.get(MetricId::Nps).target), (0.60, 15.0));
        assert!((service.all.iter().map(|s| s.weight).sum::<f64>() + service.volume.unwrap().weight - 1.0).abs() < 1e-12);
        assert_eq!(service.metrics_for(Cadence::Week).count(), 8);
        assert!(service.metrics_for(Cadence::Day).all(|m| m.group() != Group::Base), "satisfaction is weekly and slower");
        assert_eq!(service.metrics_for(Cadence::Day).count(), 5);
        let e = Standards::default().apply([("csat_avg".to_owned(), toml::from_str("target = 4.2").unwrap())].into()).unwrap_err();
        assert!(e.contains("not measured in the marketplace profile"), "{e}");
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
