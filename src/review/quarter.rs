//! Calendar quarters (`2025-Q1` = January to March) and the ISO weeks that belong to them.

use crate::report::weekly::IsoWeek;
use chrono::{Datelike, Duration, NaiveDate};
use std::fmt;
use std::str::FromStr;

/// A calendar quarter of local days, named `YYYY-Qn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    year: i32,
    /// 1 to 4.
    number: u32,
}

impl Quarter {
    /// Its first day.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, 3 * self.number - 2, 1).unwrap_or_default()
    }

    /// The quarter after it.
    pub fn next(self) -> Quarter {
        if self.number == 4 {
            Quarter { year: self.year + 1, number: 1 }
        } else {
            Quarter { year: self.year, number: self.number + 1 }
        }
    }

    /// The first day after it (the next quarter's first day).
    pub fn end(self) -> NaiveDate {
        self.next().first_day()
    }

    /// Its last day.
    pub fn last_day(self) -> NaiveDate {
        self.end() - Duration::days(1)
    }

    /// The first days of its three months.
    pub fn months(self) -> [NaiveDate; 3] {
        [0, 1, 2].map(|i| NaiveDate::from_ymd_opt(self.year, 3 * self.number - 2 + i, 1).unwrap_or_default())
    }

    /// Its ISO weeks, in order: the weeks whose Thursday falls in it (12 to 14), so that every
    /// week belongs to exactly one quarter, as every ISO week belongs to one ISO year.
    pub fn weeks(self) -> Vec<IsoWeek> {
        let mut week = IsoWeek::containing(self.first_day());
        if thursday(week) < self.first_day() {
            week = IsoWeek::containing(self.first_day() + Duration::days(7));
        }
        let mut weeks = Vec::new();
        while thursday(week) < self.end() {
            weeks.push(week);
            week = IsoWeek::containing(week.monday() + Duration::days(7));
        }
        weeks
    }
}

fn thursday(week: IsoWeek) -> NaiveDate {
    week.monday() + Duration::days(3)
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-Q{}", self.year, self.number)
    }
}

/// Why a quarter name was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadQuarter(pub String);

impl fmt::Display for BadQuarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not a quarter; write it as YYYY-Qn, e.g. 2025-Q1 (Q1 = January to March, Q4 = October to December)", self.0)
    }
}

impl std::error::Error for BadQuarter {}

impl FromStr for Quarter {
    type Err = BadQuarter;

    /// Parses `YYYY-Qn` (`q` in either case), e.g. `2025-Q1`.
    fn from_str(s: &str) -> Result<Quarter, BadQuarter> {
        let bad = || BadQuarter(s.to_owned());
        let (year, number) = s.split_once('-').ok_or_else(bad)?;
        let number = number.strip_prefix(['Q', 'q']).ok_or_else(bad)?;
        if year.len() != 4 || number.len() != 1 || !year.bytes().chain(number.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let (year, number): (i32, u32) = (year.parse().map_err(|_| bad())?, number.parse().map_err(|_| bad())?);
        if !(1..=4).contains(&number) || NaiveDate::from_ymd_opt(year + 1, 1, 1).is_none() {
            return Err(bad());
        }
        Ok(Quarter { year, number })
    }
}

/// The quarter holding a date.
impl From<NaiveDate> for Quarter {
    fn from(d: NaiveDate) -> Quarter {
        Quarter { year: d.year(), number: (d.month() - 1) / 3 + 1 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quarter {
        s.parse().unwrap()
    }

    #[test]
    fn parses_names_and_bounds() {
        let q1 = q("2025-Q1");
        assert_eq!(q1.to_string(), "2025-Q1");
        assert_eq!(
            (q1.first_day().to_string(), q1.last_day().to_string(), q1.end().to_string()),
            ("2025-01-01".into(), "2025-03-31".into(), "2025-04-01".into())
        );
        assert_eq!(q1.months().map(|d| d.to_string()), ["2025-01-01", "2025-02-01", "2025-03-01"]);
        assert_eq!(q("2025-q4").next(), q("2026-Q1"));
        assert_eq!(q("2024-Q4").end().to_string(), "2025-01-01");
        assert_eq!(Quarter::from(NaiveDate::from_ymd_opt(2018, 6, 30).unwrap()), q("2018-Q2"));
        for bad in ["2025-Q0", "2025-Q5", "2025Q1", "25-Q1", "2025-1", "2025-Q12", "", "2025-Q1 "] {
            assert!(bad.parse::<Quarter>().is_err(), "{bad}");
        }
        assert!("x".parse::<Quarter>().unwrap_err().to_string().contains("e.g. 2025-Q1"));
    }

    #[test]
    fn a_week_belongs_to_the_quarter_of_its_thursday() {
        let names = |s: &str| q(s).weeks().iter().map(IsoWeek::to_string).collect::<Vec<_>>();
        // 2025-01-01 is a Wednesday: W01 (Monday 2024-12-30, Thursday 2025-01-02) is Q1's; W14
        // (Monday 2025-03-31, Thursday 2025-04-03) is Q2's.
        let q1 = names("2025-Q1");
        assert_eq!((q1.len(), q1[0].as_str(), q1[12].as_str()), (13, "2025-W01", "2025-W13"));
        assert_eq!(names("2025-Q2")[0], "2025-W14");
        // 2021-01-01 is a Friday: its week is 2020-W53, whose Thursday is 2020-12-31 (Q4 2020).
        assert_eq!(names("2020-Q4").last().unwrap(), "2020-W53");
        assert_eq!(names("2021-Q1")[0], "2021-W01");
        // A quarter of 14 weeks: 2020-Q4 runs from Thursday 2020-10-01 to Thursday 2020-12-31.
        assert_eq!((names("2020-Q4").len(), names("2020-Q4")[0].as_str()), (14, "2020-W40"));
        // Every week of a span is in exactly one quarter: consecutive quarters' weeks follow each
        // other without gap or overlap.
        let mondays: Vec<NaiveDate> =
            ["2019-Q4", "2020-Q1", "2020-Q2", "2020-Q3", "2020-Q4", "2021-Q1"].iter().flat_map(|s| q(s).weeks()).map(|w| w.monday()).collect();
        assert!(mondays.windows(2).all(|w| w[1] - w[0] == Duration::days(7)));
        assert_eq!(mondays.len(), 13 * 4 + 14 + 12);
        // 2021-Q1 has 90 days from a Friday: 12 Thursdays.
        assert_eq!(names("2021-Q1").len(), 12);
    }
}
