//! What happens to a request: one department's requests of one local day, each planned whole
//! when it is created (reassignment, closure, reopening, second closure and the feedback that
//! follows) as compact [`Fact`]s. Steps of one request have strictly increasing times.

use super::super::arrival::Timed;
use super::super::lifecycle::{duration, MINUTE_MS};
use super::super::rng::Rng;
use super::super::zone::Zone;
use super::feedback::{self, BadSurvey, Closure};
use super::org::{Department, Org, HOURS};
use quality_engine::contract::{Channel, ClosedIn, DAY_MS, HOUR_MS};

/// Request categories, each with its norm (hours from creation to `due_by`) and its share of requests.
pub const CATEGORIES: [(&str, i64, f64); 6] =
    [("plumbing", 8, 0.24), ("electrical", 8, 0.18), ("cleaning", 24, 0.22), ("lift", 4, 0.08), ("heating", 12, 0.12), ("maintenance", 48, 0.16)];
/// Reasons a client gives for reopening a request, referenced 1-based from [`Kind::Reopened`].
pub const REOPEN_REASONS: [&str; 3] = ["the problem is back", "the work was not finished", "the work was done badly"];

/// Relative request volume per weekday, Monday first: no requests on Sunday, when nobody works.
const WEEKLY: [f64; 7] = [1.1, 1.0, 1.0, 1.0, 0.9, 0.4, 0.0];
/// Relative request intensity per working hour, from 08:00 to 19:00 local time.
const HOURLY: [f64; 12] = [4.0, 6.0, 6.5, 6.0, 5.0, 4.5, 5.0, 5.0, 4.5, 3.5, 2.5, 1.5];
/// Probability that a request is handed to another performer of its department.
const REASSIGN: f64 = 0.10;

/// What a fact is, with the few values that vary within a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `request.created`, assigned to `performer`.
    Created {
        /// The norm deadline, UTC milliseconds.
        due_by: i64,
        /// Index into [`CATEGORIES`].
        category: u8,
    },
    /// `request.reassigned` to `performer`.
    Reassigned,
    /// `request.closed` by `performer`.
    Closed {
        /// Where it was closed.
        closed_in: ClosedIn,
        /// Whether this is the closure after a reopening.
        again: bool,
    },
    /// `request.reopened`.
    Reopened {
        /// Index into [`REOPEN_REASONS`], 1-based; 0 = no reason given.
        reason: u8,
    },
    /// `survey.answered` about the request.
    Survey {
        /// Where the client answered.
        channel: Channel,
        /// Scores 1..5 of `overall` then of each [`super::Question`] in order; 0 = not asked.
        scores: [u8; 5],
        /// Index into the survey comments, 1-based; 0 = no comment.
        comment: u8,
        /// How the survey is broken on purpose, if at all.
        bad: BadSurvey,
    },
    /// `nps.submitted` about the request.
    Nps {
        /// 0..=10.
        score: u8,
        /// Index into the NPS comments, 1-based; 0 = no comment.
        comment: u8,
    },
    /// `critic.followed_up` by the site's manager, of the request's survey or (`nps`) NPS answer.
    FollowedUp {
        /// Whether the critic is the NPS answer.
        nps: bool,
    },
    /// `feedback.excluded`: an accepted dispute about the request's survey.
    Excluded,
}

/// One event in compact form: numbers only, formatted as JSON when it is emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fact {
    /// Event time, UTC milliseconds.
    pub occurred: i64,
    /// What happened.
    pub kind: Kind,
    /// The department owning the request, from 1: the events' key.
    pub department: u32,
    /// Request number within the department, from 1.
    pub request: u32,
    /// Global performer number: the assignee (created), the new one (reassigned), the closer (closed).
    pub performer: u32,
    /// Client number, from 1.
    pub client: u32,
    /// Site number, from 1.
    pub site: u32,
}

impl Timed for Fact {
    fn occurred(&self) -> i64 {
        self.occurred
    }
}

/// One local day of the horizon.
#[derive(Debug, Clone, Copy)]
pub struct Day {
    /// Local midnight, UTC milliseconds.
    pub start: i64,
    /// The next local midnight.
    pub end: i64,
    /// Monday = 0 .. Sunday = 6.
    pub weekday: u32,
    /// Configured requests per performer and weekday, before volume and weekday factors.
    pub rate: f64,
}

impl Day {
    /// An instant of this day's working hours following the clients' hourly rhythm.
    fn work_time(&self, rng: &mut Rng, zone: &Zone) -> i64 {
        let hour = HOURS.open_h as usize + rng.weighted(&HOURLY);
        let local_ms = ((hour as f64 + rng.uniform()) * HOUR_MS as f64) as i64;
        // Local midnight plus the local time, corrected where the offset changes during the day.
        let t = self.start + local_ms;
        let shift = (zone.offset_s(t) - zone.offset_s(self.start)) as i64 * 1000;
        (t - shift).clamp(self.start, self.end - 1)
    }
}

/// Plans every request `dept` receives on `day` (with all later steps) into `out`.
pub fn department_day(dept: &mut Department, org: &Org, day: &Day, zone: &Zone, out: &mut Vec<Fact>) {
    let weekly = WEEKLY[day.weekday as usize % 7];
    for assignee in 0..dept.performers.len() {
        let rate = day.rate * dept.performers[assignee].volume * weekly;
        for _ in 0..dept.world.poisson(rate) {
            dept.requests += 1;
            let created = day.work_time(&mut dept.world, zone);
            request(dept, org, assignee, created, zone, out);
        }
    }
}

/// One request from creation to its final closure, then its feedback.
fn request(dept: &mut Department, org: &Org, assignee: usize, created: i64, zone: &Zone, out: &mut Vec<Fact>) {
    let rng = &mut dept.world;
    let category = rng.weighted(&CATEGORIES.map(|c| c.2));
    let norm = CATEGORIES[category].1 * HOUR_MS;
    let due_by = created + norm;
    let client = 1 + rng.below(org.clients as u64) as u32;
    let performers = &dept.performers;
    let base = Fact {
        occurred: created,
        kind: Kind::Created { due_by, category: category as u8 },
        department: dept.number,
        request: dept.requests,
        performer: performers[assignee].number,
        client,
        site: org.site_of(client),
    };
    out.push(base);
    let (mut closer, mut start) = (assignee, created);
    if performers.len() > 1 && rng.bernoulli(REASSIGN) {
        let pick = rng.below(performers.len() as u64 - 1) as usize;
        closer = if pick >= assignee { pick + 1 } else { pick };
        start = created + rng.log_uniform(10.0 * MINUTE_MS as f64, norm as f64 / 2.0) as i64;
        out.push(Fact { occurred: start, kind: Kind::Reassigned, performer: performers[closer].number, ..base });
    }
    let p = &performers[closer];
    let closed = close_time(rng, p.work_share, p.on_time, start, due_by, zone);
    let closed_in = if rng.bernoulli(p.app_share) { ClosedIn::App } else { ClosedIn::Desk };
    let step = |occurred, kind| Fact { occurred, kind, performer: p.number, ..base };
    out.push(step(closed, Kind::Closed { closed_in, again: false }));
    let mut last = Closure { at: closed, closed_in, late: closed > due_by, reopened: false };
    if rng.bernoulli(p.reopen) {
        let reopened = closed + rng.log_uniform(HOUR_MS as f64, 6.5 * DAY_MS as f64) as i64;
        let reason = if rng.bernoulli(0.8) { 1 + rng.below(REOPEN_REASONS.len() as u64) as u8 } else { 0 };
        out.push(step(reopened, Kind::Reopened { reason }));
        let redo = duration(rng, 0.5 * p.work_share * norm as f64, 0.7, 15 * MINUTE_MS);
        let again = zone.next_open(reopened + redo, HOURS);
        let closed_in = if rng.bernoulli(p.app_share) { ClosedIn::App } else { ClosedIn::Desk };
        out.push(step(again, Kind::Closed { closed_in, again: true }));
        last = Closure { at: again, closed_in, reopened: true, ..last };
    }
    feedback::after_closure(dept, org, closer, &base, last, out);
}

/// When a performer who started at `start` closes a request due at `due_by`: after a working
/// time around `work_share` of the time left, in working hours; on time with probability
/// `on_time` (hurrying, outside working hours if need be), else some time after the deadline.
fn close_time(rng: &mut Rng, work_share: f64, on_time: f64, start: i64, due_by: i64, zone: &Zone) -> i64 {
    let norm = (due_by - start) as f64;
    let natural = zone.next_open(start + duration(rng, work_share * norm, 0.7, 15 * MINUTE_MS), HOURS);
    if rng.bernoulli(on_time) {
        if natural < due_by {
            natural
        } else {
            start + rng.between(MINUTE_MS, due_by - start)
        }
    } else {
        zone.next_open(natural.max(due_by) + MINUTE_MS + rng.exponential(0.4 * norm) as i64, HOURS)
    }
}

#[cfg(test)]
mod tests {
    use super::super::ServiceConfig;
    use super::*;

    fn setup() -> (Zone, Day, Org) {
        let start = 1_792_962_000_000; // 2026-10-26T00:00:00+03:00, a Monday
        let zone = Zone::new(chrono_tz::Europe::Moscow, start, start + 30 * DAY_MS);
        (zone, Day { start, end: start + DAY_MS, weekday: 0, rate: 6.0 }, Org::new(&ServiceConfig::default()))
    }

    #[test]
    fn requests_start_in_working_hours_and_their_steps_strictly_increase() {
        let (zone, day, org) = setup();
        let mut out = Vec::new();
        let mut dept = Department::new(3, 1, 8);
        department_day(&mut dept, &org, &day, &zone, &mut out);
        assert!(dept.requests > 20, "{}", dept.requests);
        for n in 1..=dept.requests {
            let steps: Vec<&Fact> = out.iter().filter(|f| f.request == n && is_request_step(f.kind)).collect();
            let Kind::Created { due_by, category } = steps[0].kind else { panic!("{steps:?}") };
            let local_h = (steps[0].occurred - day.start) / HOUR_MS;
            assert!((8..20).contains(&local_h), "{steps:?}");
            assert_eq!(due_by - steps[0].occurred, CATEGORIES[category as usize].1 * HOUR_MS);
            assert!(steps.windows(2).all(|w| w[0].occurred < w[1].occurred), "{steps:?}");
            assert_eq!(steps.iter().filter(|f| matches!(f.kind, Kind::Closed { again: false, .. })).count(), 1);
            let closed = steps.last().unwrap().occurred;
            assert!(matches!(steps.last().unwrap().kind, Kind::Closed { .. }));
            for f in out.iter().filter(|f| f.request == n && matches!(f.kind, Kind::Survey { .. } | Kind::Nps { .. })) {
                assert!(f.occurred > closed, "{f:?} before the closure {closed}");
            }
        }
    }

    fn is_request_step(k: Kind) -> bool {
        matches!(k, Kind::Created { .. } | Kind::Reassigned | Kind::Closed { .. } | Kind::Reopened { .. })
    }

    #[test]
    fn no_requests_on_sunday_and_none_reassigned_in_a_one_person_department() {
        let (zone, day, org) = setup();
        let mut out = Vec::new();
        let mut dept = Department::new(3, 1, 1);
        department_day(&mut dept, &org, &Day { weekday: 6, ..day }, &zone, &mut out);
        assert!(out.is_empty());
        for _ in 0..20 {
            department_day(&mut dept, &org, &day, &zone, &mut out);
        }
        assert!(dept.requests > 50);
        assert!(!out.iter().any(|f| f.kind == Kind::Reassigned));
    }

    #[test]
    fn closure_is_on_time_as_often_as_the_tier_says() {
        let (zone, day, _) = setup();
        let mut rng = Rng::new(5, 0);
        for on_time in [0.6, 0.95] {
            let n = 20_000;
            let late = (0..n)
                .filter(|_| {
                    let start = day.start + 9 * HOUR_MS;
                    let closed = close_time(&mut rng, 0.5, on_time, start, start + 8 * HOUR_MS, &zone);
                    assert!(closed > start);
                    closed > start + 8 * HOUR_MS
                })
                .count();
            let share = 1.0 - late as f64 / n as f64;
            assert!((share - on_time).abs() < 0.015, "{share} vs {on_time}");
        }
    }
}
