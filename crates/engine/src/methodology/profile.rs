//! Profiles: which business the engine measures. One engine, one catalogue of metrics; a
//! profile picks the metrics, their default targets and the entities rows are kept for.

use super::metric::MetricId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The business a deployment measures, set by `[engine] profile`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Sellers of a marketplace: orders, messages, reviews (the default).
    #[default]
    Marketplace,
    /// Performers and departments of a service company: service requests and client surveys.
    Service,
}

/// What a window row is about: the rows of one stream key, or of an entity inside it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    /// A marketplace seller (the stream key of the marketplace profile).
    #[default]
    Seller,
    /// A service company's department (the stream key of the service profile).
    Department,
    /// A performer, inside the department whose requests they closed.
    Performer,
    /// The whole service company: the sum of its departments (computed over stored rows).
    Company,
}

impl EntityKind {
    /// The stable name, as stored in rows and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Seller => "seller",
            EntityKind::Department => "department",
            EntityKind::Performer => "performer",
            EntityKind::Company => "company",
        }
    }

    /// Whether this is the marketplace's seller (left out of serialized rows, which stay as before profiles).
    pub fn is_seller(&self) -> bool {
        *self == EntityKind::Seller
    }
}

/// The marketplace regulation's metrics: the catalogue's first thirteen.
const MARKETPLACE: &[MetricId] = MetricId::ALL.split_at(13).0;

const SERVICE: [MetricId; 8] = [
    MetricId::Nps,
    MetricId::CriticFollowupShare,
    MetricId::SurveyCoverageShare,
    MetricId::CsatSatisfiedShare,
    MetricId::CsatAvg,
    MetricId::OnTimeClosureShare,
    MetricId::ClosureTimeAvg,
    MetricId::ReopenShare,
];

impl Profile {
    /// The profile's metrics, in catalogue order (the order of a row's cells).
    pub fn metrics(self) -> &'static [MetricId] {
        match self {
            Profile::Marketplace => MARKETPLACE,
            Profile::Service => &SERVICE,
        }
    }

    /// Whether the profile measures a metric.
    pub fn has(self, m: MetricId) -> bool {
        self.metrics().contains(&m)
    }

    /// The entity the stream is keyed by (the envelope's `seller_id`).
    pub fn key_entity(self) -> EntityKind {
        match self {
            Profile::Marketplace => EntityKind::Seller,
            Profile::Service => EntityKind::Department,
        }
    }

    /// The stable name, as in config.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Marketplace => "marketplace",
            Profile::Service => "service",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_metrics_are_in_catalogue_order_and_share_only_the_programme() {
        for p in [Profile::Marketplace, Profile::Service] {
            let idx: Vec<usize> = p.metrics().iter().map(|m| m.index()).collect();
            assert!(idx.windows(2).all(|w| w[0] < w[1]), "{p}: {idx:?}");
        }
        let shared: Vec<MetricId> = MetricId::ALL.into_iter().filter(|m| Profile::Marketplace.has(*m) && Profile::Service.has(*m)).collect();
        assert_eq!(shared, [MetricId::Nps, MetricId::CriticFollowupShare, MetricId::SurveyCoverageShare]);
        assert!(MetricId::ALL.iter().all(|m| Profile::Marketplace.has(*m) || Profile::Service.has(*m)));
    }
}
