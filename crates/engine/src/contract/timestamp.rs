//! Event time: RFC 3339 instants with an explicit offset, held as UTC milliseconds.
//!
//! Parsing is hand-written because it runs once or twice per event on the hot path;
//! `tests` checks it against chrono on valid and invalid inputs.

use std::fmt;

/// Milliseconds since the Unix epoch, UTC: the engine's one notion of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

/// Milliseconds in one hour, a unit the methodology uses constantly.
pub const HOUR_MS: i64 = 3_600_000;
/// Milliseconds in one day.
pub const DAY_MS: i64 = 86_400_000;

impl Timestamp {
    /// Parses an RFC 3339 date-time with an offset (`Z` or `±HH:MM`); `None` if it is not one.
    pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
        let b = s.as_bytes();
        if b.len() < 20 {
            return None;
        }
        let year = digits(b, 0, 4)? as i64;
        let month = digits(b, 5, 2)?;
        let day = digits(b, 8, 2)?;
        let hour = digits(b, 11, 2)?;
        let minute = digits(b, 14, 2)?;
        let second = digits(b, 17, 2)?;
        if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
            return None;
        }
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let mut i = 19;
        let mut millis = 0i64;
        if b[i] == b'.' {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                if i - start < 3 {
                    millis = millis * 10 + (b[i] - b'0') as i64;
                }
                i += 1;
            }
            let n = i - start;
            if n == 0 {
                return None;
            }
            for _ in n..3 {
                millis *= 10;
            }
        }
        let offset_s = match b.get(i)? {
            b'Z' | b'z' if i + 1 == b.len() => 0,
            sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
                let oh = digits(b, i + 1, 2)?;
                let om = digits(b, i + 4, 2)?;
                if oh > 23 || om > 59 {
                    return None;
                }
                let o = (oh * 3600 + om * 60) as i64;
                if *sign == b'-' {
                    -o
                } else {
                    o
                }
            }
            _ => return None,
        };
        // A leap second is folded into the next second, as chrono does for timestamps.
        let secs = days_from_civil(year, month, day) * 86_400 + (hour * 3600 + minute * 60) as i64 + second as i64 - offset_s;
        Some(Timestamp(secs * 1000 + millis))
    }

    /// The day number (days since 1970-01-01) and milliseconds into that UTC day.
    fn split(self) -> (i64, i64) {
        (self.0.div_euclid(DAY_MS), self.0.rem_euclid(DAY_MS))
    }

    /// Adds a duration in milliseconds.
    pub fn plus_ms(self, ms: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(ms))
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with millisecond precision, e.g. `2026-11-16T09:30:00.000Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (days, ms) = self.split();
        let (y, m, d) = civil_from_days(days);
        write!(f, "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", ms / HOUR_MS, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse_rfc3339(&s).ok_or_else(|| serde::de::Error::custom("expected an RFC 3339 date-time with offset"))
    }
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let mut v = 0u32;
    for &c in b.get(at..at + n)? {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day number (inverse of [`days_from_civil`]).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + (m <= 2) as i64, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn chrono_ms(s: &str) -> Option<i64> {
        DateTime::parse_from_rfc3339(s).ok().map(|d| d.timestamp_millis())
    }

    #[test]
    fn agrees_with_chrono() {
        for s in [
            "2026-11-16T09:30:00Z",
            "2026-11-16T09:30:00.123Z",
            "2026-11-16T09:30:00.1+03:00",
            "2026-11-16T09:30:00.123456789-05:30",
            "2024-02-29T23:59:59+00:00",
            "1970-01-01T00:00:00Z",
            "1969-12-31T23:59:59.999Z",
            "2026-03-29T02:30:00+02:00",
        ] {
            assert_eq!(Timestamp::parse_rfc3339(s).map(|t| t.0), chrono_ms(s), "{s}");
        }
    }

    #[test]
    fn rejects_what_is_not_rfc3339() {
        for s in [
            "2026-11-16 09:30:00",
            "2026-11-16T09:30:00",
            "2026-13-16T09:30:00Z",
            "2026-02-30T09:30:00Z",
            "2025-02-29T09:30:00Z",
            "2026-11-16T24:00:00Z",
            "2026-11-16T09:30:00.Z",
            "2026-11-16T09:30:00+0300",
            "2026-11-16T09:30:00Zjunk",
            "",
            "ééééééééééééééééééééé",
        ] {
            assert_eq!(Timestamp::parse_rfc3339(s), None, "{s}");
        }
    }

    #[test]
    fn displays_as_utc_rfc3339() {
        let t = Timestamp::parse_rfc3339("2026-11-16T12:30:05.007+03:00").unwrap();
        assert_eq!(t.to_string(), "2026-11-16T09:30:05.007Z");
        assert_eq!(Timestamp::parse_rfc3339(&t.to_string()), Some(t));
    }

    #[test]
    fn civil_round_trip() {
        for z in -800_000..800_000i64 {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }
}
