//! The simulated local days and the arrival cutoff, shared by both profiles.
//!
//! A simulation plans one local day at a time (everything that starts on it, with all later
//! steps) into the arrival queue; lines arriving before the end of the last simulated day can
//! no longer be preceded by new ones and are emitted. [`next_pending`] is that loop.

use super::arrival::{Arrivals, Pending, Timed};
use super::zone::{self, Zone};
use chrono::{Datelike, Days, NaiveDate};
use chrono_tz::Tz;
use quality_engine::contract::DAY_MS;

/// The local days still to simulate and the instant before which lines are final.
#[derive(Debug, Clone)]
pub struct Calendar {
    start: NaiveDate,
    days: u32,
    next_day: u32,
    /// Local midnight of `next_day`, UTC milliseconds.
    next_start: i64,
    /// Lines arriving before this instant can no longer be preceded by new ones.
    cutoff: i64,
}

/// One local day to simulate.
#[derive(Debug, Clone, Copy)]
pub struct SimDay {
    /// Day number from the first simulated day, 0-based.
    pub index: u32,
    /// Local midnight, UTC milliseconds.
    pub start: i64,
    /// The next local midnight (23 to 25 hours later around DST changes).
    pub end: i64,
    /// Monday = 0 .. Sunday = 6.
    pub weekday: u32,
}

impl Calendar {
    /// `days` local days of `tz` from `start`, with the zone's offsets cached over them (and
    /// the arrivals after them) and the horizon: the instant from which nothing is emitted.
    pub fn new(tz: Tz, start: NaiveDate, days: u32) -> (Calendar, Zone, i64) {
        let first = zone::midnight(tz, start);
        let horizon = start.checked_add_days(Days::new(days as u64)).and_then(|d| zone::midnight(tz, d)).unwrap_or(i64::MAX);
        let from = first.unwrap_or(0).saturating_sub(2 * DAY_MS);
        let zone = Zone::new(tz, from, horizon.saturating_add(10 * DAY_MS));
        let calendar = Calendar {
            start,
            days: if first.is_some() { days } else { 0 },
            next_day: 0,
            next_start: first.unwrap_or(i64::MIN),
            cutoff: first.unwrap_or(i64::MIN),
        };
        (calendar, zone, horizon)
    }

    /// Number of days simulated in all (0 when the first day is beyond chrono's range).
    pub fn days(&self) -> u32 {
        self.days
    }

    /// The next day to simulate, moving the cutoff to its end (or opening it after the last
    /// day); `None` once every day is simulated.
    fn next(&mut self, tz: Tz) -> Option<SimDay> {
        let date = self.start.checked_add_days(Days::new(self.next_day as u64));
        let end = date.and_then(|d| d.succ_opt()).and_then(|d| zone::midnight(tz, d));
        let (Some(date), Some(end), true) = (date, end, self.next_day < self.days) else {
            return None;
        };
        let day = SimDay { index: self.next_day, start: self.next_start, end, weekday: date.weekday().num_days_from_monday() };
        self.next_day += 1;
        self.next_start = end;
        self.cutoff = if self.next_day < self.days { end } else { i64::MAX };
        Some(day)
    }
}

/// The next line to emit in compact form, simulating further days with `simulate` as needed;
/// `None` when every day is simulated and every line emitted.
pub fn next_pending<F: Timed>(
    arrivals: &mut Arrivals<F>,
    calendar: &mut Calendar,
    tz: Tz,
    mut simulate: impl FnMut(&SimDay, &mut Arrivals<F>),
) -> Option<Pending<F>> {
    loop {
        if let Some(p) = arrivals.pop_before(calendar.cutoff) {
            return Some(p);
        }
        match calendar.next(tz) {
            Some(day) => simulate(&day, arrivals),
            None if calendar.cutoff != i64::MAX => calendar.cutoff = i64::MAX,
            None => return None,
        }
    }
}
