//! Human durations in config and tables: `90s`, `30m`, `2h`, `1d`, `1w`.

/// Parses `<number><unit>` with unit `ms`, `s`, `m`, `h`, `d` or `w` into milliseconds.
pub fn parse_duration_ms(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("{s:?} is not a duration; write e.g. \"30m\", \"2h\", \"48h\" or \"7d\""))?;
    let scale = match unit.trim() {
        "ms" => 1.0,
        "s" => 1e3,
        "m" | "min" => 60e3,
        "h" => 3600e3,
        "d" => 86_400e3,
        "w" => 604_800e3,
        other => return Err(format!("unknown duration unit {other:?} in {s:?}; use ms, s, m, h, d or w")),
    };
    let ms = n * scale;
    if !ms.is_finite() || ms > 1e15 {
        return Err(format!("duration {s:?} is too large"));
    }
    Ok(ms.round() as i64)
}

/// Formats milliseconds compactly for tables: `45s`, `12m`, `3.5h`, `24.0h`, `2.1d`.
pub fn format_duration_ms(ms: f64) -> String {
    let s = ms / 1000.0;
    if s.abs() < 60.0 {
        format!("{s:.0}s")
    } else if s.abs() < 3600.0 {
        format!("{:.0}m", s / 60.0)
    } else if s.abs() < 2.0 * 86_400.0 {
        format!("{:.1}h", s / 3600.0)
    } else {
        format!("{:.1}d", s / 86_400.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(parse_duration_ms("2h"), Ok(7_200_000));
        assert_eq!(parse_duration_ms("30m"), Ok(1_800_000));
        assert_eq!(parse_duration_ms("1.5d"), Ok(129_600_000));
        assert_eq!(parse_duration_ms("250ms"), Ok(250));
        assert!(parse_duration_ms("2 fortnights").is_err());
        assert!(parse_duration_ms("h").is_err());
        assert!(parse_duration_ms("1e400h").is_err());
    }

    #[test]
    fn formats_compactly() {
        assert_eq!(format_duration_ms(45_000.0), "45s");
        assert_eq!(format_duration_ms(720_000.0), "12m");
        assert_eq!(format_duration_ms(12_600_000.0), "3.5h");
        assert_eq!(format_duration_ms(86_400_000.0), "24.0h");
        assert_eq!(format_duration_ms(3.0 * 86_400_000.0), "3.0d");
    }
}
