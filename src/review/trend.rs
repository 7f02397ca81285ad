//! A seller's trend on one standard: the least-squares slope of its weekly values with the
//! 95 % band, judged in the standard's sense.

use super::stats::fit;
use quality_engine::methodology::Direction;
use serde::Serialize;

/// Least weekly values for a verdict; with fewer the trend is [`Verdict::Insufficient`].
pub const MIN_WEEKS: usize = 4;

/// Where a seller is heading on a standard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The band of the slope lies wholly on the better side of 0.
    Improving,
    /// The band includes 0: no trend the data can tell from noise.
    Stable,
    /// The band lies wholly on the worse side of 0.
    Declining,
    /// Fewer than [`MIN_WEEKS`] weekly values.
    Insufficient,
}

impl Verdict {
    /// Every verdict, in the order reports list them.
    pub const ALL: [Verdict; 4] = [Verdict::Improving, Verdict::Stable, Verdict::Declining, Verdict::Insufficient];

    /// The verdict's id, as JSON writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Improving => "improving",
            Verdict::Stable => "stable",
            Verdict::Declining => "declining",
            Verdict::Insufficient => "insufficient",
        }
    }
}

/// The fitted trend of one seller and standard.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Trend {
    /// The verdict.
    pub verdict: Verdict,
    /// Weekly values fitted.
    pub weeks: usize,
    /// Change per week, in the standard's unit (null when insufficient).
    pub slope: Option<f64>,
    /// Lower end of the 95 % band of the slope.
    pub low: Option<f64>,
    /// Upper end of the 95 % band of the slope.
    pub high: Option<f64>,
}

impl Trend {
    /// The trend of weekly values `(week index in the quarter, value)` of a standard of this direction.
    pub fn of(direction: Direction, points: &[(f64, f64)]) -> Trend {
        let fitted = if points.len() >= MIN_WEEKS { fit(points) } else { None };
        let Some(f) = fitted else {
            return Trend { verdict: Verdict::Insufficient, weeks: points.len(), slope: None, low: None, high: None };
        };
        let (better, worse) = match direction {
            Direction::HigherIsBetter => (f.low > 0.0, f.high < 0.0),
            Direction::LowerIsBetter => (f.high < 0.0, f.low > 0.0),
        };
        let verdict = match (better, worse) {
            (true, _) => Verdict::Improving,
            (_, true) => Verdict::Declining,
            _ => Verdict::Stable,
        };
        Trend { verdict, weeks: f.n, slope: Some(f.slope), low: Some(f.low), high: Some(f.high) }
    }

    /// How fast the standard worsens per week (positive when it does): the slope in the
    /// standard's worse direction; `None` without a slope.
    pub fn worsening(&self, direction: Direction) -> Option<f64> {
        self.slope.map(|s| match direction {
            Direction::HigherIsBetter => -s,
            Direction::LowerIsBetter => s,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HI: Direction = Direction::HigherIsBetter;
    const LO: Direction = Direction::LowerIsBetter;

    fn line(slope: f64, noise: &[f64]) -> Vec<(f64, f64)> {
        noise.iter().enumerate().map(|(i, e)| (i as f64, 10.0 + slope * i as f64 + e)).collect()
    }

    #[test]
    fn the_verdict_follows_the_band_and_the_standards_sense() {
        let noise = [0.1, -0.1, 0.05, -0.05, 0.0, 0.1, -0.1];
        let up = line(1.0, &noise);
        assert_eq!(Trend::of(HI, &up).verdict, Verdict::Improving);
        // A rising response time is a decline.
        assert_eq!(Trend::of(LO, &up).verdict, Verdict::Declining);
        let down = line(-1.0, &noise);
        assert_eq!(Trend::of(HI, &down).verdict, Verdict::Declining);
        assert_eq!(Trend::of(LO, &down).verdict, Verdict::Improving);
        // Noise larger than the slope: the band includes 0.
        let flat = line(0.01, &[1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0]);
        let t = Trend::of(HI, &flat);
        assert_eq!(t.verdict, Verdict::Stable);
        assert!(t.low.unwrap() < 0.0 && t.high.unwrap() > 0.0);
        assert_eq!(t.worsening(HI), Some(-t.slope.unwrap()));
        assert_eq!(Trend::of(LO, &down).worsening(LO), Trend::of(LO, &down).slope);
    }

    #[test]
    fn fewer_than_four_weeks_are_insufficient() {
        let three = line(1.0, &[0.0, 0.1, -0.1]);
        assert_eq!(Trend::of(HI, &three), Trend { verdict: Verdict::Insufficient, weeks: 3, slope: None, low: None, high: None });
        assert_eq!(Trend::of(HI, &line(1.0, &[0.0, 0.1, -0.1, 0.0])).verdict, Verdict::Improving);
        assert_eq!(Trend::of(HI, &[]).weeks, 0);
        // A perfectly flat series: slope 0, band [0, 0], which includes 0.
        let t = Trend::of(HI, &line(0.0, &[0.0; 5]));
        assert_eq!((t.verdict, t.slope, t.low, t.high), (Verdict::Stable, Some(0.0), Some(0.0), Some(0.0)));
    }
}
