//! Local time in the configured zone: UTC offsets (cached), local midnights and working hours.
//!
//! Looking an offset up in `chrono-tz` for each of millions of timestamps would dominate the
//! generator's cost, so [`Zone`] precomputes the offset transitions over the horizon once and
//! answers with a binary search over that short list.

use super::profile::WorkHours;
use chrono::{DateTime, NaiveDate, NaiveTime, Offset, TimeZone};
use chrono_tz::Tz;
use quality_engine::contract::{DAY_MS, HOUR_MS};

/// Longest span whose offsets are cached; later instants ask `chrono-tz` directly.
const MAX_CACHED_MS: i64 = 3 * 366 * DAY_MS;

/// A time zone with its offset transitions cached over a span of UTC time.
#[derive(Debug, Clone)]
pub struct Zone {
    tz: Tz,
    from: i64,
    to: i64,
    /// Offset in seconds in force at `from`.
    first: i32,
    /// `(utc_ms, offset_s)`: from this instant on, this offset is in force; sorted.
    transitions: Vec<(i64, i32)>,
}

impl Zone {
    /// Caches the offsets of `tz` between `from` and `to` (UTC milliseconds, capped at three years).
    pub fn new(tz: Tz, from: i64, to: i64) -> Zone {
        let from = from - from.rem_euclid(HOUR_MS);
        let to = to.clamp(from, from.saturating_add(MAX_CACHED_MS));
        let first = offset_of(tz, from);
        let mut transitions = Vec::new();
        let (mut t, mut current) = (from, first);
        while t < to {
            let next = t + HOUR_MS;
            let off = offset_of(tz, next);
            if off != current {
                // The change happened in (t, next]: bisect to the first millisecond of the new offset.
                let (mut lo, mut hi) = (t, next);
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2;
                    if offset_of(tz, mid) == current {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                transitions.push((hi, off));
                current = off;
            }
            t = next;
        }
        Zone { tz, from, to, first, transitions }
    }

    /// The zone itself, for conversions the cache does not cover.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The UTC offset in seconds in force at the instant `utc_ms`.
    pub fn offset_s(&self, utc_ms: i64) -> i32 {
        if utc_ms < self.from || utc_ms > self.to {
            return offset_of(self.tz, utc_ms);
        }
        match self.transitions.partition_point(|&(t, _)| t <= utc_ms) {
            0 => self.first,
            i => self.transitions[i - 1].1,
        }
    }

    /// Local day number (days since 1970-01-01 in local time) and milliseconds into that day.
    pub fn local(&self, utc_ms: i64) -> (i64, i64) {
        let local = utc_ms + self.offset_s(utc_ms) as i64 * 1000;
        (local.div_euclid(DAY_MS), local.rem_euclid(DAY_MS))
    }

    /// The first instant at or after `t` when a seller with these hours is at work.
    pub fn next_open(&self, t: i64, hours: WorkHours) -> i64 {
        if hours.always() {
            return t;
        }
        let (mut day, tod) = self.local(t);
        let (open, close) = (hours.open_h as i64 * HOUR_MS, hours.close_h as i64 * HOUR_MS);
        let mut first_day = true;
        // A week always contains a working day: at most Sunday is closed.
        for _ in 0..8 {
            let closed = hours.closed_sunday && weekday(day) == 6;
            if !closed {
                if first_day && tod >= open && tod < close {
                    return t;
                }
                if !first_day || tod < open {
                    let local_open = day * DAY_MS + open;
                    let utc = local_open - self.offset_s(local_open - self.offset_s(t) as i64 * 1000) as i64 * 1000;
                    return utc.max(t);
                }
            }
            day += 1;
            first_day = false;
        }
        t
    }
}

/// The instant (UTC milliseconds) the local day `date` begins in `tz`; `None` beyond chrono's range.
pub fn midnight(tz: Tz, date: NaiveDate) -> Option<i64> {
    // Where midnight falls into a DST gap, the day starts at the first valid local hour.
    (0..4).find_map(|h| {
        let time = NaiveTime::from_hms_opt(h, 0, 0)?;
        tz.from_local_datetime(&date.and_time(time)).earliest().map(|d| d.timestamp_millis())
    })
}

/// Day of the week of a day number, Monday = 0 .. Sunday = 6 (1970-01-01 was a Thursday).
pub fn weekday(day: i64) -> u32 {
    (day + 3).rem_euclid(7) as u32
}

/// The offset of `tz` at `utc_ms` straight from `chrono-tz` (0 outside chrono's range).
fn offset_of(tz: Tz, utc_ms: i64) -> i32 {
    match DateTime::from_timestamp_millis(utc_ms) {
        Some(d) => tz.offset_from_utc_datetime(&d.naive_utc()).fix().local_minus_utc(),
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    #[test]
    fn cached_offsets_match_chrono_across_dst() {
        for tz in [chrono_tz::Europe::Berlin, chrono_tz::Europe::Moscow, chrono_tz::America::New_York, chrono_tz::Australia::Lord_Howe] {
            let (from, to) = (ms("2026-01-01T00:00:00Z"), ms("2027-01-01T00:00:00Z"));
            let zone = Zone::new(tz, from, to);
            let mut t = from - DAY_MS;
            while t < to + DAY_MS {
                assert_eq!(zone.offset_s(t), offset_of(tz, t), "{tz} at {t}");
                t += 7 * 60_000 + 13;
            }
        }
        let berlin = Zone::new(chrono_tz::Europe::Berlin, ms("2026-10-01T00:00:00Z"), ms("2026-11-01T00:00:00Z"));
        assert_eq!(berlin.transitions, vec![(ms("2026-10-25T01:00:00Z"), 3600)]);
    }

    #[test]
    fn day_starts_at_local_midnight() {
        let d = NaiveDate::from_ymd_opt(2026, 10, 26).unwrap();
        assert_eq!(midnight(chrono_tz::Europe::Moscow, d), Some(ms("2026-10-26T00:00:00+03:00")));
        let zone = Zone::new(chrono_tz::Europe::Moscow, ms("2026-10-26T00:00:00Z"), ms("2026-10-27T00:00:00Z"));
        assert_eq!(weekday(zone.local(ms("2026-10-26T12:00:00+03:00")).0), 0);
        let (a, b) = (NaiveDate::from_ymd_opt(2026, 10, 25).unwrap(), NaiveDate::from_ymd_opt(2026, 10, 26).unwrap());
        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(midnight(berlin, b).unwrap() - midnight(berlin, a).unwrap(), 25 * HOUR_MS);
        // Santiago skips midnight when DST starts: the day begins at 01:00.
        let gap = NaiveDate::from_ymd_opt(2026, 9, 6).unwrap();
        assert_eq!(midnight(chrono_tz::America::Santiago, gap), Some(ms("2026-09-06T01:00:00-03:00")));
    }

    #[test]
    fn next_open_waits_for_working_hours() {
        let zone = Zone::new(chrono_tz::Europe::Moscow, ms("2026-10-01T00:00:00Z"), ms("2026-12-01T00:00:00Z"));
        let hours = WorkHours { open_h: 10, close_h: 19, closed_sunday: true };
        // Monday 12:00 is open; Monday 20:00 waits for Tuesday 10:00; Saturday 20:00 skips Sunday.
        assert_eq!(zone.next_open(ms("2026-10-26T12:00:00+03:00"), hours), ms("2026-10-26T12:00:00+03:00"));
        assert_eq!(zone.next_open(ms("2026-10-26T20:00:00+03:00"), hours), ms("2026-10-27T10:00:00+03:00"));
        assert_eq!(zone.next_open(ms("2026-10-26T03:00:00+03:00"), hours), ms("2026-10-26T10:00:00+03:00"));
        assert_eq!(zone.next_open(ms("2026-10-31T20:00:00+03:00"), hours), ms("2026-11-02T10:00:00+03:00"));
        let always = WorkHours { open_h: 0, close_h: 24, closed_sunday: false };
        assert_eq!(zone.next_open(ms("2026-10-31T03:00:00+03:00"), always), ms("2026-10-31T03:00:00+03:00"));
    }
}
