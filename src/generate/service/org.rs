//! The organisation: departments of performers of varied quality, sites with their managers,
//! the client pool and the planted key driver.
//!
//! A performer draws a [`Tier`] from the marketplace's mix (most are good, some poor), then
//! jitters the tier's parameters so that no two performers are identical.

use super::super::profile::{jitter_failure, Tier, WorkHours};
use super::super::rng::{splitmix64, Rng};
use super::{Question, ServiceConfig};

/// When requests are opened and worked on: 08:00 to 20:00 local time, Monday to Saturday.
pub const HOURS: WorkHours = WorkHours { open_h: 8, close_h: 20, closed_sunday: true };

/// Salt of the service profile's random streams, so that they differ from the marketplace's.
const SALT: u64 = 0x5e41_11ce_0c0d_e001;
/// Salt of the sites' streams.
const SITE_SALT: u64 = 0x5e41_11ce_0517_e002;
/// Salt of the planted driver's draw.
const DRIVER_SALT: u64 = 0x5e41_11ce_d41e_e003;

/// How one performer works: the hidden truth behind their requests and surveys.
#[derive(Debug, Clone)]
pub struct Performer {
    /// Global performer number, from 1 (`perf-001`).
    pub number: u32,
    /// The tier the performer was drawn from.
    pub tier: Tier,
    /// Multiplier on the configured requests per performer and day (mean 1).
    pub volume: f64,
    /// Median working time before closing, as a share of the category's norm.
    pub work_share: f64,
    /// Probability a request is closed by its `due_by`.
    pub on_time: f64,
    /// Probability a closed request is reopened.
    pub reopen: f64,
    /// Probability a closure is made in the app (else at the desk).
    pub app_share: f64,
    /// Mean latent score (1..5 scale) of the performer's requests on every question.
    pub satisfaction: f64,
}

impl Performer {
    /// Performer `number`: a tier from the mix, then its parameters jittered.
    fn draw(number: u32, rng: &mut Rng) -> Performer {
        let tier = Tier::ALL[rng.weighted(&Tier::MIX)];
        let (work_share, on_time, reopen, app_share, satisfaction) = match tier {
            Tier::Excellent => (0.25, 0.97, 0.015, 0.80, 4.6),
            Tier::Good => (0.35, 0.93, 0.03, 0.74, 4.3),
            Tier::Average => (0.5, 0.86, 0.05, 0.68, 3.9),
            Tier::Poor => (0.7, 0.75, 0.09, 0.60, 3.3),
            Tier::Failing => (0.95, 0.60, 0.15, 0.50, 2.7),
        };
        Performer {
            number,
            tier,
            // Skewed volumes whose mean multiplier stays 1.
            volume: rng.lognormal((-0.5f64 * 0.3 * 0.3).exp(), 0.3),
            work_share: work_share * rng.lognormal(1.0, 0.2),
            on_time: jitter_failure(rng, on_time),
            reopen: (reopen * rng.lognormal(1.0, 0.3)).min(1.0),
            app_share: (app_share + 0.05 * rng.normal()).clamp(0.0, 1.0),
            satisfaction: satisfaction + 0.15 * rng.normal(),
        }
    }
}

/// A department: its performers, its random streams and its request counter.
#[derive(Debug, Clone)]
pub struct Department {
    /// Department number, from 1 (`dept-01`).
    pub number: u32,
    /// Its performers, in number order.
    pub performers: Vec<Performer>,
    /// Draws what happens to requests, surveys and NPS answers.
    pub world: Rng,
    /// Draws arrival delays and anomalies.
    pub wire: Rng,
    /// Draws managers' follow-ups and accepted disputes (its own stream, like the marketplace's).
    pub care: Rng,
    /// Draws which surveys are sent broken, so that the setting changes nothing else.
    pub faults: Rng,
    /// Requests created so far.
    pub requests: u32,
}

impl Department {
    /// Department `number` of the run seeded with `seed`, with `performers` performers; the
    /// same whatever the number of departments.
    pub fn new(seed: u64, number: u32, performers: u32) -> Department {
        let stream = |k: u64| Rng::new(seed ^ SALT, 4 * number as u64 + k);
        let mut world = stream(0);
        let first = (number - 1).saturating_mul(performers);
        let performers = (1..=performers).map(|i| Performer::draw(first.saturating_add(i), &mut world)).collect();
        Department { number, performers, world, wire: stream(1), care: stream(2), faults: stream(3), requests: 0 }
    }
}

/// One site's manager, who follows up the critics of the site's requests.
#[derive(Debug, Clone, Copy)]
pub struct Site {
    /// Probability the manager follows a critic up at all.
    pub follow_up: f64,
    /// Median hours to the follow-up.
    pub median_h: f64,
}

/// What departments share: sites, clients, the planted driver and the bad-survey rate.
#[derive(Debug, Clone)]
pub struct Org {
    /// Sites in number order (at least one).
    pub sites: Vec<Site>,
    /// Size of the client pool (at least 1).
    pub clients: u32,
    /// The question the overall score depends on most.
    pub driver: Question,
    /// Probability a survey is sent broken.
    pub bad_surveys: f64,
}

impl Org {
    /// The organisation of `cfg`: each site's manager drawn from the seed and the site number.
    pub fn new(cfg: &ServiceConfig) -> Org {
        let sites = (1..=cfg.sites.max(1))
            .map(|n| {
                let mut rng = Rng::new(cfg.seed ^ SITE_SALT, n as u64);
                let follow_up = 0.6 + 0.38 * rng.uniform();
                Site { follow_up, median_h: if follow_up >= 0.85 { 4.0 } else { 18.0 } * rng.lognormal(1.0, 0.3) }
            })
            .collect();
        let mut h = cfg.seed ^ DRIVER_SALT;
        let drawn = Question::ALL[(splitmix64(&mut h) % Question::ALL.len() as u64) as usize];
        let bad = if cfg.bad_surveys.is_nan() { 0.0 } else { cfg.bad_surveys.clamp(0.0, 1.0) };
        Org { sites, clients: cfg.clients.max(1), driver: cfg.driver.unwrap_or(drawn), bad_surveys: bad }
    }

    /// The site of client `client` (from 1): clients are spread evenly over the sites.
    pub fn site_of(&self, client: u32) -> u32 {
        1 + (client - 1) % self.sites.len() as u32
    }

    /// The manager of site `site` (from 1).
    pub fn site(&self, site: u32) -> &Site {
        &self.sites[(site - 1) as usize]
    }
}

/// `dept-NN`: the id of department `number`, also the events' key.
pub fn department_id(number: u32) -> String {
    format!("dept-{number:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn performers_are_numbered_across_departments_and_independent_of_their_count() {
        let a = Department::new(7, 3, 6);
        assert_eq!(a.performers.iter().map(|p| p.number).collect::<Vec<_>>(), [13, 14, 15, 16, 17, 18]);
        let b = Department::new(7, 3, 6);
        assert_eq!(a.performers.iter().map(|p| p.tier).collect::<Vec<_>>(), b.performers.iter().map(|p| p.tier).collect::<Vec<_>>());
        for p in Department::new(8, 1, 500).performers {
            for x in [p.on_time, p.reopen, p.app_share] {
                assert!((0.0..=1.0).contains(&x), "{p:?}");
            }
            assert!(p.volume > 0.0 && p.work_share > 0.0, "{p:?}");
        }
    }

    #[test]
    fn the_driver_follows_the_seed_unless_configured() {
        let drivers: std::collections::HashSet<Question> =
            (0..40).map(|seed| Org::new(&ServiceConfig { seed, ..ServiceConfig::default() }).driver).collect();
        assert_eq!(drivers.len(), 4, "every question is planted by some seed");
        let fixed = ServiceConfig { driver: Some(Question::Politeness), ..ServiceConfig::default() };
        assert_eq!(Org::new(&fixed).driver, Question::Politeness);
        let org = Org::new(&ServiceConfig { sites: 3, ..ServiceConfig::default() });
        assert_eq!((1..=7).map(|c| org.site_of(c)).collect::<Vec<_>>(), [1, 2, 3, 1, 2, 3, 1]);
    }
}
