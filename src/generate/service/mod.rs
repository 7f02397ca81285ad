//! Synthetic event streams of the service profile: a facility-management company.
//!
//! Performers belong to departments and close the service requests clients open at the
//! company's sites; each site has a manager. [`generate`] simulates, day by day:
//!
//! * `request.created` in working hours (08:00-20:00 local, Monday to Saturday; Saturday at
//!   40 % of a weekday's volume, nothing on Sunday), by a client of the pool, at the client's
//!   site, with a category whose norm sets `due_by`: plumbing and electrical 8 h, cleaning
//!   24 h, lift 4 h, heating 12 h, maintenance 48 h after creation;
//! * `request.reassigned` (10 % of requests) to another performer of the same department,
//!   10 minutes to half the norm after creation;
//! * `request.closed` by the current performer, `closed_in` app or desk (about 70 % app, more
//!   for better performers), in working hours; the performer's tier sets the working time and
//!   the share closed after `due_by` (3 % for the best tier, 40 % for the worst);
//! * `request.reopened` (about 5 %: 1.5 % to 15 % by tier) 1 hour to 6.5 days after the
//!   closure, then `request.closed` again by the same performer;
//! * `survey.answered`: after the final closure, a client whose request was closed in the app
//!   rates it there with probability 40 % (channel `app`, 5 minutes to 8 hours later); any
//!   other client answers the automatic survey with probability 30 % (channel `survey`, 1 to 2
//!   days later). The survey answers `overall` and 1 to 4 of the other questions
//!   ([`Question`]), scores 1..5; see "Planted key driver" below;
//! * `nps.submitted` for 20 % of closed requests (2 hours to 3 days after the closure), score
//!   0..10 following the request's overall satisfaction, a comment on half the scores up to 6
//!   and some of 9 or 10;
//! * `critic.followed_up` by the site's manager for a critic (a survey with overall <= 2 and a
//!   comment, or an NPS score <= 6 with a comment): each manager answers 60 % to 98 % of
//!   critics, 15 minutes to 2 days later; the rest are never followed up;
//! * `feedback.excluded` {survey_id, reason "dispute accepted"} for 10 % of the surveys rated
//!   overall <= 2, one to two days after them.
//!
//! The envelope's `seller_id` of every event is the department that owns the request (the
//! Kafka key: every event of a request meets on one engine); `request.created.department_id`
//! equals it, also after a reassignment.
//!
//! # Planted key driver
//!
//! Each request has latent scores per question: the closing performer's satisfaction level
//! (by tier, jittered per performer) plus a request effect and independent noise per question;
//! a request closed late scores lower on timeliness, a reopened one lower on quality. The
//! overall score is `0.75 x driver + 0.25 x mean(other questions)` plus noise, rounded and
//! clamped to 1..5, so it moves strongly with one question, the planted driver, and weakly with
//! the others. The driver follows from the seed (or [`ServiceConfig::driver`]) and is answered
//! in about 90 % of surveys; [`ServiceGenerator::planted_driver`] tells it.
//!
//! # Bad events
//!
//! Transport anomalies are the marketplace's ([`Anomalies`]: broken lines, duplicates that
//! keep their `event_id`, out-of-order and too-late arrivals). On top of them a share of
//! surveys ([`ServiceConfig::bad_surveys`]) is sent in a form the contract rejects: six
//! answers (more than `MAX_ANSWERS`), no `overall` answer, or a score of 0 or 6.
//!
//! # Ids
//!
//! Departments `dept-01`.., performers `perf-001`.. (department `d` has performers
//! `(d-1) x n + 1 ..= d x n`), sites `site-01`.. with managers `mgr-01`.., clients
//! `client-00001`.. (client `c` is at site `(c-1) mod sites + 1`), requests `req-DD-NNNNNN`
//! (department, then its request number), their survey `srv-DD-NNNNNN` and NPS answer
//! `nps-DD-NNNNNN`. Event ids are the entity's id plus the step (`req-01-000007.closed`).
//!
//! The output is a pure function of the [`ServiceConfig`]: the same config and seed give
//! byte-identical lines in arrival order. Department `n` behaves the same whatever the number
//! of departments (performers interact only within their department), and the anomaly and
//! bad-survey settings change how events arrive or look, never what happens. Memory is bounded
//! like the marketplace generator's: one day at a time, only events not yet emitted are kept.
//!
//! * `org`: departments, performers and their tiers, sites and managers, the planted driver.
//! * `request`: what happens to a request, from creation to its (second) closure.
//! * `feedback`: surveys with the planted driver, NPS answers, follow-ups and disputes.
//! * `format`: JSON lines, valid or broken.
//! * `tests`: end-to-end checks of the stream.

mod feedback;
mod format;
mod org;
mod request;
#[cfg(test)]
mod tests;

use super::arrival::{Arrivals, Pending};
use super::calendar::{self, Calendar};
use super::format::Ctx;
use super::profile::Tier;
use super::Anomalies;
use chrono::NaiveDate;
use org::{Department, Org};
use request::{Day, Fact};

/// A survey question besides the main one (`overall`), in the order a survey asks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Question {
    /// `timeliness`: was the work done in time? Lower for requests closed after `due_by`.
    Timeliness,
    /// `quality`: was the problem solved? Lower for reopened requests.
    Quality,
    /// `politeness`: was the performer polite?
    Politeness,
    /// `cleanliness`: was the place left clean?
    Cleanliness,
}

impl Question {
    /// Every question, in the order a survey asks them (after `overall`).
    pub const ALL: [Question; 4] = [Question::Timeliness, Question::Quality, Question::Politeness, Question::Cleanliness];

    /// The wire `question_id`.
    pub fn as_str(self) -> &'static str {
        match self {
            Question::Timeliness => "timeliness",
            Question::Quality => "quality",
            Question::Politeness => "politeness",
            Question::Cleanliness => "cleanliness",
        }
    }

    /// The question with this `question_id`, if it is one of [`Question::ALL`].
    pub fn from_id(id: &str) -> Option<Question> {
        Question::ALL.into_iter().find(|q| q.as_str() == id)
    }

    /// Position in [`Question::ALL`].
    fn index(self) -> usize {
        self as usize
    }
}

/// What to simulate: the company's size over which local days, how busy, and how noisy the wire is.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Number of departments, `dept-01` onwards.
    pub departments: u32,
    /// Performers of each department; with 1 there are no reassignments.
    pub performers_per_department: u32,
    /// Number of sites, `site-01` onwards, each with its manager `mgr-01` onwards (at least 1).
    pub sites: u32,
    /// Size of the client pool, `client-00001` onwards (at least 1).
    pub clients: u32,
    /// Number of local days simulated; nothing happening after them is emitted.
    pub days: u32,
    /// The first local day.
    pub start: NaiveDate,
    /// The zone whose local days, working hours and offsets the events use.
    pub timezone: chrono_tz::Tz,
    /// Seed of every random draw: same config and seed, same bytes.
    pub seed: u64,
    /// Mean requests per performer and weekday (Monday to Friday; Saturday 40 % of it, Sunday
    /// none), before the performer's volume factor.
    pub requests_per_performer_day: f64,
    /// Transport anomalies to inject.
    pub anomalies: Anomalies,
    /// Probability that a survey is sent in a form the contract rejects (six answers, no
    /// `overall`, a score of 0 or 6), in [0, 1].
    pub bad_surveys: f64,
    /// The planted key driver; `None` draws it from the seed.
    pub driver: Option<Question>,
}

impl Default for ServiceConfig {
    /// 4 departments of 6 performers, 8 sites, 5,000 clients, four weeks from Monday 2026-10-26
    /// in Moscow, 4 requests per performer and weekday, realistic noise, 0.5 % bad surveys,
    /// the driver drawn from the seed.
    fn default() -> Self {
        ServiceConfig {
            departments: 4,
            performers_per_department: 6,
            sites: 8,
            clients: 5_000,
            days: 28,
            start: NaiveDate::from_ymd_opt(2026, 10, 26).unwrap_or_default(),
            timezone: chrono_tz::Europe::Moscow,
            seed: 42,
            requests_per_performer_day: 4.0,
            anomalies: Anomalies::default(),
            bad_surveys: 0.005,
            driver: None,
        }
    }
}

/// Starts the simulation described by `cfg`; lines are produced lazily as the iterator advances.
pub fn generate(cfg: &ServiceConfig) -> ServiceGenerator {
    let (calendar, zone, horizon) = Calendar::new(cfg.timezone, cfg.start, cfg.days);
    let org = Org::new(cfg);
    let rate = if cfg.requests_per_performer_day.is_nan() { 0.0 } else { cfg.requests_per_performer_day.max(0.0) };
    let departments = (1..=cfg.departments).map(|n| Department::new(cfg.seed, n, cfg.performers_per_department)).collect();
    ServiceGenerator {
        departments,
        org,
        ctx: Ctx { zone, seed: cfg.seed },
        arrivals: Arrivals::new(&cfg.anomalies, horizon),
        calendar,
        rate,
        scratch: Vec::new(),
    }
}

/// The stream of NDJSON lines (without trailing newline) in arrival order; see [`generate`].
#[derive(Debug)]
pub struct ServiceGenerator {
    departments: Vec<Department>,
    org: Org,
    ctx: Ctx,
    arrivals: Arrivals<Fact>,
    calendar: Calendar,
    rate: f64,
    scratch: Vec<Fact>,
}

impl ServiceGenerator {
    /// The `question_id` of the planted key driver: the question the overall score depends on most.
    pub fn planted_driver(&self) -> &'static str {
        self.org.driver.as_str()
    }

    /// The planted key driver as a [`Question`].
    pub fn planted_question(&self) -> Question {
        self.org.driver
    }

    /// Each performer's id, department id and the tier it was drawn from: the ground truth
    /// behind its closure times, on-time share, reopens and scores.
    pub fn performers(&self) -> impl Iterator<Item = (String, String, Tier)> + '_ {
        self.departments
            .iter()
            .flat_map(|d| d.performers.iter().map(move |p| (format!("perf-{:03}", p.number), org::department_id(d.number), p.tier)))
    }

    /// Each site's id and its manager's id, who follows up the site's critics.
    pub fn sites(&self) -> impl Iterator<Item = (String, String)> + '_ {
        (1..=self.org.sites.len()).map(|n| (format!("site-{n:02}"), format!("mgr-{n:02}")))
    }

    /// The next line to emit, in compact form, simulating further days as needed.
    fn next_pending(&mut self) -> Option<Pending<Fact>> {
        let (departments, org, zone, scratch, rate) = (&mut self.departments, &self.org, &self.ctx.zone, &mut self.scratch, self.rate);
        calendar::next_pending(&mut self.arrivals, &mut self.calendar, zone.tz(), |sim, arrivals| {
            let day = Day { start: sim.start, end: sim.end, weekday: sim.weekday, rate };
            for dept in departments.iter_mut() {
                request::department_day(dept, org, &day, zone, scratch);
                for fact in scratch.drain(..) {
                    arrivals.schedule(fact, &mut dept.wire);
                }
            }
        })
    }
}

impl Iterator for ServiceGenerator {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        let p = self.next_pending()?;
        Some(format::line(&p.fact, p.mangle, &self.ctx))
    }
}
