//! ISO weeks as the report names them (`2025-W10`), their days and their UTC bounds.

use chrono::{Datelike, NaiveDate, Weekday};
use quality_engine::contract::{civil_from_days, days_from_civil};
use quality_engine::window::{Calendar, Day};
use std::fmt;
use std::str::FromStr;

/// An ISO week: Monday to Sunday, named `YYYY-Www` by its ISO year and number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IsoWeek {
    monday: NaiveDate,
}

impl IsoWeek {
    /// The week holding a date.
    pub fn containing(date: NaiveDate) -> IsoWeek {
        let w = date.iso_week();
        IsoWeek { monday: NaiveDate::from_isoywd_opt(w.year(), w.week(), Weekday::Mon).unwrap_or(date) }
    }

    /// The week starting on a local day (days since 1970-01-01), as rows carry `period_start`.
    pub fn from_day(day: Day) -> IsoWeek {
        IsoWeek::containing(date_of(day))
    }

    /// Its Monday.
    pub fn monday(self) -> NaiveDate {
        self.monday
    }

    /// Its Sunday (the last day, inclusive).
    pub fn sunday(self) -> NaiveDate {
        self.monday + chrono::Duration::days(6)
    }

    /// Its Monday as a local day number, as the engine counts days.
    pub fn first_day(self) -> Day {
        days_from_civil(i64::from(self.monday.year()), self.monday.month(), self.monday.day())
    }

    /// The UTC milliseconds `[start, end)` of the week in a time zone: from Monday's local
    /// midnight to the next Monday's (DST-correct, as the engine's windows are).
    pub fn utc_bounds(self, tz: chrono_tz::Tz) -> (i64, i64) {
        let mut calendar = Calendar::new(tz);
        let first = self.first_day();
        (calendar.start_of(first), calendar.start_of(first + 7))
    }
}

/// The calendar date of a local day number.
pub fn date_of(day: Day) -> NaiveDate {
    let (y, m, d) = civil_from_days(day);
    NaiveDate::from_ymd_opt(y as i32, m, d).unwrap_or_default()
}

/// The local day number of a date `YYYY-MM-DD`.
pub fn day_of(date: &str) -> Option<Day> {
    let d = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    Some(days_from_civil(i64::from(d.year()), d.month(), d.day()))
}

impl fmt::Display for IsoWeek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self.monday.iso_week();
        write!(f, "{:04}-W{:02}", w.year(), w.week())
    }
}

/// Why a week name was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadWeek(pub String);

impl fmt::Display for BadWeek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not an ISO week; write it as YYYY-Www, e.g. 2025-W10 (weeks 01 to 52 or 53, Monday to Sunday)", self.0)
    }
}

impl std::error::Error for BadWeek {}

impl FromStr for IsoWeek {
    type Err = BadWeek;

    /// Parses `YYYY-Www` (`w` in either case), e.g. `2025-W10`.
    fn from_str(s: &str) -> Result<IsoWeek, BadWeek> {
        let bad = || BadWeek(s.to_owned());
        let (year, week) = s.split_once(['-']).ok_or_else(bad)?;
        let week = week.strip_prefix(['W', 'w']).ok_or_else(bad)?;
        if year.len() != 4 || week.len() != 2 || !year.bytes().chain(week.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let (year, week): (i32, u32) = (year.parse().map_err(|_| bad())?, week.parse().map_err(|_| bad())?);
        let monday = NaiveDate::from_isoywd_opt(year, week, Weekday::Mon).ok_or_else(bad)?;
        Ok(IsoWeek { monday })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_names_iso_weeks() {
        let w: IsoWeek = "2025-W10".parse().unwrap();
        assert_eq!((w.monday().to_string(), w.sunday().to_string()), ("2025-03-03".into(), "2025-03-09".into()));
        assert_eq!(w.to_string(), "2025-W10");
        // ISO years differ from calendar years around New Year.
        let w: IsoWeek = "2026-w01".parse().unwrap();
        assert_eq!(w.monday().to_string(), "2025-12-29");
        assert_eq!(IsoWeek::from_day(w.first_day()).to_string(), "2026-W01");
        assert_eq!("2020-W53".parse::<IsoWeek>().unwrap().monday().to_string(), "2020-12-28");
        for bad in ["2025-10", "2025-W1", "2025-W54", "2025-W00", "2025-W53", "25-W10", "2025W10", "2025-W1x", "", "2025-W10 "] {
            assert!(bad.parse::<IsoWeek>().is_err(), "{bad}");
        }
        assert!("x".parse::<IsoWeek>().unwrap_err().to_string().contains("2025-W10"));
    }

    #[test]
    fn bounds_follow_the_zone() {
        let w: IsoWeek = "2026-W44".parse().unwrap(); // 2026-10-26 .. 2026-11-01, Moscow is UTC+3
        let (start, end) = w.utc_bounds(chrono_tz::Europe::Moscow);
        assert_eq!(start, quality_engine::contract::Timestamp::parse_rfc3339("2026-10-25T21:00:00Z").unwrap().0);
        assert_eq!(end - start, 7 * 86_400_000);
        // Berlin leaves summer time on 2026-10-25: that week is an hour longer.
        let w: IsoWeek = "2026-W43".parse().unwrap();
        let (start, end) = w.utc_bounds(chrono_tz::Europe::Berlin);
        assert_eq!(end - start, 7 * 86_400_000 + 3_600_000);
    }
}
