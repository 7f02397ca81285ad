//! How the report writes figures: values in their unit, signed deviations and changes,
//! targets with their sense. Markdown and HTML share these, so both show the same text.

use quality_engine::methodology::{Direction, MetricId, Unit};

/// A value in the metric's unit: `4.40` (rating), `61.5` (NPS points), `93.3 %` (shares),
/// `1 h 05 min` / `12 min 30 s` / `45 s` (mean durations).
pub fn value(m: MetricId, v: f64) -> String {
    match m.unit() {
        Unit::Rating => fixed(v, 2),
        Unit::NpsPoints => fixed(v, 1),
        Unit::Ratio => format!("{} %", fixed(v * 100.0, 1)),
        Unit::Seconds => duration(v),
    }
}

/// A difference of two values (deviation from the target, change since the previous week),
/// signed: `+0.10`, `-5.0 pp`, `+12 min 05 s`; `0` style figures carry no sign.
pub fn signed(m: MetricId, d: f64) -> String {
    let magnitude = match m.unit() {
        Unit::Rating => fixed(d.abs(), 2),
        Unit::NpsPoints => fixed(d.abs(), 1),
        Unit::Ratio => format!("{} pp", fixed(d.abs() * 100.0, 1)),
        Unit::Seconds => duration(d.abs()),
    };
    let zero = !magnitude.bytes().any(|b| b.is_ascii_digit() && b != b'0');
    match () {
        _ if zero => magnitude,
        _ if d < 0.0 => format!("-{magnitude}"),
        _ => format!("+{magnitude}"),
    }
}

/// The target with the sense of the standard: `≥ 4.50`, `≤ 30 min`.
pub fn target(m: MetricId, t: f64) -> String {
    let sense = match m.direction() {
        Direction::HigherIsBetter => "≥",
        Direction::LowerIsBetter => "≤",
    };
    format!("{sense} {}", value(m, t))
}

/// An optional value, `–` when there is none.
pub fn maybe(m: MetricId, v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), |v| value(m, v))
}

/// An optional difference, `–` when there is none.
pub fn maybe_signed(m: MetricId, d: Option<f64>) -> String {
    d.map_or_else(|| "–".into(), |d| signed(m, d))
}

fn fixed(v: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, v);
    // No "-0.0": a value that rounds to zero is shown unsigned.
    if s.starts_with('-') && !s.bytes().any(|b| b.is_ascii_digit() && b != b'0') {
        s[1..].to_owned()
    } else {
        s
    }
}

/// Seconds as `45 s`, `12 min`, `12 min 05 s`, `2 h`, `1 h 05 min` (rounded to the second,
/// then shown to the minute from one hour on).
pub fn duration(seconds: f64) -> String {
    if !seconds.is_finite() {
        return "–".into();
    }
    let sign = if seconds < 0.0 { "-" } else { "" };
    let total = seconds.abs().round() as i64;
    let text = if total < 60 {
        format!("{total} s")
    } else if total < 3600 {
        match total % 60 {
            0 => format!("{} min", total / 60),
            s => format!("{} min {s:02} s", total / 60),
        }
    } else {
        let minutes = (total + 30) / 60;
        match minutes % 60 {
            0 => format!("{} h", minutes / 60),
            m => format!("{} h {m:02} min", minutes / 60),
        }
    };
    if total == 0 {
        text
    } else {
        format!("{sign}{text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_each_unit() {
        assert_eq!(value(MetricId::Csi, 4.4), "4.40");
        assert_eq!(value(MetricId::Nps, 0.0), "0.0");
        assert_eq!(value(MetricId::PositiveReviewShare, 0.9), "90.0 %");
        assert_eq!(value(MetricId::ResponseTimeAvg, 1800.0), "30 min");
        assert_eq!(value(MetricId::ResponseTimeAvg, 3636.281), "1 h 01 min");
        assert_eq!(value(MetricId::ConfirmationTimeAvg, 7200.0), "2 h");
        assert_eq!(value(MetricId::ResponseTimeAvg, 725.4), "12 min 05 s");
        assert_eq!(value(MetricId::ResponseTimeAvg, 44.6), "45 s");
        assert_eq!(target(MetricId::ResponseTimeAvg, 1800.0), "≤ 30 min");
        assert_eq!(target(MetricId::Csi, 4.5), "≥ 4.50");
    }

    #[test]
    fn differences_are_signed_and_zero_is_not() {
        assert_eq!(signed(MetricId::Csi, -0.09999999999999964), "-0.10");
        assert_eq!(signed(MetricId::PositiveReviewShare, 0.05), "+5.0 pp");
        assert_eq!(signed(MetricId::ResponseTimeAvg, 1836.281), "+30 min 36 s");
        assert_eq!(signed(MetricId::ResponseTimeAvg, -2413.4), "-40 min 13 s");
        assert_eq!(signed(MetricId::Csi, -0.001), "0.00");
        assert_eq!(signed(MetricId::Nps, 0.0), "0.0");
        assert_eq!(value(MetricId::Csi, -0.001), "0.00");
        assert_eq!(maybe(MetricId::Csi, None), "–");
    }
}
