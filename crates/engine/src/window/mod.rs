//! Event-time windows: calendar days, ISO weeks and months in a configured time zone, and
//! rolling 7- and 30-day windows ending on each day.
//!
//! Every window is a whole number of local days, so the engine keeps one accumulator per
//! seller and day and derives every other window by summing days: windows merge exactly.

mod calendar;

pub use calendar::{Calendar, Day};

use crate::contract::civil_from_days;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The monitoring cadences of the regulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    /// Calendar day: operational and communication standards.
    Day,
    /// ISO week, Monday to Sunday: base standards plus the daily ones; the weekly report.
    Week,
    /// Calendar month: every standard plus the composite performer rating.
    Month,
    /// Calendar quarter (January, April, July, October): every standard; the quarterly review.
    Quarter,
    /// The 7 days ending on a day, emitted when that day is final.
    #[serde(rename = "rolling_7d")]
    Rolling7d,
    /// The 30 days ending on a day, emitted when that day is final.
    #[serde(rename = "rolling_30d")]
    Rolling30d,
}

impl Cadence {
    /// Every cadence, in emission order.
    pub const ALL: [Cadence; 6] = [Cadence::Day, Cadence::Week, Cadence::Month, Cadence::Quarter, Cadence::Rolling7d, Cadence::Rolling30d];

    /// The stable id, as in rows and labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Cadence::Day => "day",
            Cadence::Week => "week",
            Cadence::Month => "month",
            Cadence::Quarter => "quarter",
            Cadence::Rolling7d => "rolling_7d",
            Cadence::Rolling30d => "rolling_30d",
        }
    }

    /// The period of this cadence that contains (calendar) or ends on (rolling) `day`.
    pub fn period_of(self, day: Day) -> Period {
        let (start, end) = match self {
            Cadence::Day => (day, day + 1),
            Cadence::Week => {
                let monday = day - (day + 3).rem_euclid(7);
                (monday, monday + 7)
            }
            Cadence::Month => {
                let (y, m, d) = civil_from_days(day);
                let first = day - (d as Day - 1);
                let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                (first, crate::contract::days_from_civil(ny, nm, 1))
            }
            Cadence::Quarter => {
                let (y, m, _) = civil_from_days(day);
                let first = (m - 1) / 3 * 3 + 1;
                let (ny, nm) = if first == 10 { (y + 1, 1) } else { (y, first + 3) };
                (crate::contract::days_from_civil(y, first, 1), crate::contract::days_from_civil(ny, nm, 1))
            }
            Cadence::Rolling7d => (day - 6, day + 1),
            Cadence::Rolling30d => (day - 29, day + 1),
        };
        Period { cadence: self, start, end }
    }
}

impl fmt::Display for Cadence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A window: a cadence and a half-open range of local days `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Period {
    /// The cadence.
    pub cadence: Cadence,
    /// First local day.
    pub start: Day,
    /// First local day after the window.
    pub end: Day,
}

impl Period {
    /// The period of the same cadence before this one (the report's "dynamics").
    ///
    /// For rolling windows it is the window ending the day before.
    pub fn previous(self) -> Period {
        match self.cadence {
            Cadence::Rolling7d | Cadence::Rolling30d => self.cadence.period_of(self.end - 2),
            _ => self.cadence.period_of(self.start - 1),
        }
    }

    /// The period of the same cadence after this one.
    pub fn next(self) -> Period {
        match self.cadence {
            Cadence::Rolling7d | Cadence::Rolling30d => self.cadence.period_of(self.end),
            _ => self.cadence.period_of(self.end),
        }
    }

    /// Whether a local day falls in the window.
    pub fn contains(self, day: Day) -> bool {
        self.start <= day && day < self.end
    }
}

/// A local calendar day as rows carry it: serialized `YYYY-MM-DD`, without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalDate(pub Day);

impl LocalDate {
    /// Parses `YYYY-MM-DD`; `None` for anything else, including dates that do not exist.
    pub fn parse(s: &str) -> Option<LocalDate> {
        let mut parts = s.splitn(3, '-');
        let mut next = || parts.next().filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())).and_then(|p| p.parse::<u32>().ok());
        let (y, m, d) = (next()?, next()?, next()?);
        let day = crate::contract::days_from_civil(y as i64, m, d);
        ((1..=12).contains(&m) && civil_from_days(day) == (y as i64, m, d)).then_some(LocalDate(day))
    }

    /// The day before (e.g. the inclusive last day of a window from its exclusive end).
    pub fn pred(self) -> LocalDate {
        LocalDate(self.0 - 1)
    }
}

impl fmt::Display for LocalDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = civil_from_days(self.0);
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl Serialize for LocalDate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LocalDate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        LocalDate::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("{s:?} is not a date YYYY-MM-DD")))
    }
}

impl PartialEq<&str> for LocalDate {
    /// Compares with a `YYYY-MM-DD` string (tests and reports read dates that way).
    fn eq(&self, other: &&str) -> bool {
        use chrono::Datelike;
        chrono::NaiveDate::parse_from_str(other, "%Y-%m-%d")
            .is_ok_and(|d| crate::contract::days_from_civil(d.year() as i64, d.month(), d.day()) == self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::days_from_civil;

    fn fmt_day(d: Day) -> String {
        LocalDate(d).to_string()
    }

    #[test]
    fn iso_weeks_start_on_monday_and_months_are_calendar() {
        let thu = days_from_civil(2026, 11, 19);
        let w = Cadence::Week.period_of(thu);
        assert_eq!((fmt_day(w.start), fmt_day(w.end)), ("2026-11-16".into(), "2026-11-23".into()));
        let sun = days_from_civil(2026, 11, 22);
        assert_eq!(Cadence::Week.period_of(sun), w);
        let m = Cadence::Month.period_of(days_from_civil(2024, 2, 29));
        assert_eq!((fmt_day(m.start), fmt_day(m.end)), ("2024-02-01".into(), "2024-03-01".into()));
        let q = Cadence::Quarter.period_of(days_from_civil(2025, 3, 31));
        assert_eq!((fmt_day(q.start), fmt_day(q.end)), ("2025-01-01".into(), "2025-04-01".into()));
        let q4 = Cadence::Quarter.period_of(days_from_civil(2025, 11, 5));
        assert_eq!((fmt_day(q4.start), fmt_day(q4.end), fmt_day(q4.next().end)), ("2025-10-01".into(), "2026-01-01".into(), "2026-04-01".into()));
        assert_eq!(fmt_day(q.previous().start), "2024-10-01");
        let dec = Cadence::Month.period_of(days_from_civil(2026, 12, 31));
        assert_eq!(fmt_day(dec.end), "2027-01-01");
        assert_eq!(fmt_day(dec.previous().start), "2026-11-01");
    }

    #[test]
    fn rolling_windows_end_on_their_day() {
        let d = days_from_civil(2026, 11, 30);
        let r = Cadence::Rolling30d.period_of(d);
        assert_eq!((r.end - r.start, r.end), (30, d + 1));
        assert_eq!(r.previous().end, d);
        assert_eq!(r.next().end, d + 2);
        assert_eq!(Cadence::Rolling7d.period_of(d).previous().previous().end, d - 1);
    }
}
