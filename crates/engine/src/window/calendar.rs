//! Local days of a time zone as UTC instants, DST-correct and cached.

use crate::contract::{civil_from_days, Timestamp, DAY_MS};
use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;

/// A local calendar day, as days since 1970-01-01 in the configured zone's calendar.
pub type Day = i64;

/// Maps instants to local days and back in one time zone.
///
/// A day is the half-open interval from its local midnight to the next; where a DST change
/// removes midnight the day starts when the gap ends, and where it repeats the hour before
/// midnight that repeated hour belongs to the next day. Boundaries are computed once per day
/// and cached, so the hot path is a comparison or two.
#[derive(Debug, Clone)]
pub struct Calendar {
    tz: Tz,
    /// Offset of the zone's standard time, the first guess of which day an instant falls on.
    guess_offset_ms: i64,
    /// `starts[i]` is the UTC start of local day `base + i`; always holds at least two days.
    starts: Vec<i64>,
    base: Day,
}

impl Calendar {
    /// A calendar for a zone.
    pub fn new(tz: Tz) -> Calendar {
        let probe = NaiveDate::from_ymd_opt(2026, 1, 15).and_then(|d| d.and_hms_opt(12, 0, 0)).map(|n| tz.from_utc_datetime(&n));
        let guess_offset_ms = probe.map(|t| t.naive_local().and_utc().timestamp_millis() - t.timestamp_millis()).unwrap_or(0);
        Calendar { tz, guess_offset_ms, starts: Vec::new(), base: 0 }
    }

    /// The zone.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The local day an instant falls on.
    pub fn day_of(&mut self, t: Timestamp) -> Day {
        let mut day = (t.0 + self.guess_offset_ms).div_euclid(DAY_MS);
        loop {
            if t.0 < self.start_of(day) {
                day -= 1;
            } else if t.0 >= self.start_of(day + 1) {
                day += 1;
            } else {
                return day;
            }
        }
    }

    /// The UTC instant a local day starts.
    pub fn start_of(&mut self, day: Day) -> i64 {
        if self.starts.is_empty() {
            self.base = day;
            self.starts.push(local_midnight(self.tz, day));
        }
        if day < self.base {
            let mut front: Vec<i64> = (day..self.base).map(|d| local_midnight(self.tz, d)).collect();
            front.append(&mut self.starts);
            self.starts = front;
            self.base = day;
        }
        let i = (day - self.base) as usize;
        while self.starts.len() <= i {
            let d = self.base + self.starts.len() as Day;
            self.starts.push(local_midnight(self.tz, d));
        }
        self.starts[i]
    }
}

/// The UTC milliseconds at which local day `day` starts in `tz`.
fn local_midnight(tz: Tz, day: Day) -> i64 {
    let (y, m, d) = civil_from_days(day);
    let Some(midnight) = NaiveDate::from_ymd_opt(y as i32, m, d).and_then(|d| d.and_hms_opt(0, 0, 0)) else {
        return day * DAY_MS;
    };
    if let Some(t) = tz.from_local_datetime(&midnight).earliest() {
        return t.timestamp_millis();
    }
    // Midnight falls in a DST gap: the day starts at the first local time that exists.
    (1..=16)
        .map(|q| midnight + chrono::Duration::minutes(15 * q))
        .find_map(|n| tz.from_local_datetime(&n).earliest())
        .map_or(day * DAY_MS, |t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::days_from_civil;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    #[test]
    fn moscow_days() {
        let mut c = Calendar::new(chrono_tz::Europe::Moscow);
        let d = days_from_civil(2026, 11, 16);
        assert_eq!(c.day_of(ts("2026-11-15T21:00:00Z")), d);
        assert_eq!(c.day_of(ts("2026-11-15T20:59:59.999Z")), d - 1);
        assert_eq!(c.start_of(d), ts("2026-11-16T00:00:00+03:00").0);
    }

    #[test]
    fn berlin_dst_days_are_23_and_25_hours() {
        let mut c = Calendar::new(chrono_tz::Europe::Berlin);
        let spring = days_from_civil(2026, 3, 29);
        assert_eq!(c.start_of(spring + 1) - c.start_of(spring), 23 * 3_600_000);
        let autumn = days_from_civil(2026, 10, 25);
        assert_eq!(c.start_of(autumn + 1) - c.start_of(autumn), 25 * 3_600_000);
        assert_eq!(c.day_of(ts("2026-10-25T23:30:00+01:00")), autumn);
        assert_eq!(c.day_of(ts("2026-10-26T00:00:00+01:00")), autumn + 1);
    }

    #[test]
    fn midnight_in_a_dst_gap_starts_the_day_at_the_gap_end() {
        // Sao Paulo moved clocks from 00:00 to 01:00 on 2018-11-04.
        let mut c = Calendar::new(chrono_tz::America::Sao_Paulo);
        let d = days_from_civil(2018, 11, 4);
        assert_eq!(c.start_of(d), ts("2018-11-04T01:00:00-02:00").0);
        assert_eq!(c.day_of(ts("2018-11-04T02:59:59Z")), d - 1);
        assert_eq!(c.day_of(ts("2018-11-04T03:00:00Z")), d);
    }

    #[test]
    fn agrees_with_chrono_local_dates_in_any_order() {
        let mut c = Calendar::new(chrono_tz::Europe::Berlin);
        let mut t = ts("2026-01-01T00:00:00Z").0;
        let mut state = 7u64;
        for _ in 0..20_000 {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            t += ((state >> 33) % (3 * DAY_MS as u64)) as i64 - DAY_MS;
            let local = chrono::DateTime::from_timestamp_millis(t).unwrap().with_timezone(&chrono_tz::Europe::Berlin).date_naive();
            let expected = days_from_civil(local.year_ce().1 as i64, local.month0() + 1, local.day0() + 1);
            assert_eq!(c.day_of(Timestamp(t)), expected, "{t}");
        }
    }

    use chrono::Datelike;
}
