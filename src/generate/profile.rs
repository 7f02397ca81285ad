//! Seller quality profiles: the hidden truth each synthetic seller behaves by.
//!
//! A seller draws a [`Tier`] from a fixed mix (most pass the standards, some breach them),
//! then jitters the tier's parameters so that no two sellers are identical. The targets the
//! tiers are tuned around: confirmation 2 h, assembly 24 h, on-time handover 95 %, seller
//! cancellations <= 2 %, assembly accuracy 99 %, first answer 30 min, complete answers 100 %,
//! first-contact resolution 85 %, CSI 4.5, positive reviews 90 %, NPS 60.
//!
//! A drifting seller ([`Trend`], the generator's `trends` option) has no tier of its own: its
//! parameters move steadily from the failing tier's to the excellent tier's over the days, or
//! back, so that its weekly values have a planted trend.

use super::rng::Rng;

/// How well a synthetic seller serves its customers, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// Comfortably meets every standard.
    Excellent,
    /// Meets the standards with some margin.
    Good,
    /// Hovers around the targets: passes some, breaches others.
    Average,
    /// Breaches most operational standards.
    Poor,
    /// Breaches nearly everything, customers notice.
    Failing,
}

impl Tier {
    /// Every tier, best first.
    pub const ALL: [Tier; 5] = [Tier::Excellent, Tier::Good, Tier::Average, Tier::Poor, Tier::Failing];

    /// Share of sellers (and of the service profile's performers) in each tier, in [`Tier::ALL`] order.
    pub(super) const MIX: [f64; 5] = [0.25, 0.35, 0.22, 0.12, 0.06];

    /// The tier's lower-case name, for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Excellent => "excellent",
            Tier::Good => "good",
            Tier::Average => "average",
            Tier::Poor => "poor",
            Tier::Failing => "failing",
        }
    }

    /// The tier's parameters before per-seller jitter.
    fn base(self) -> Profile {
        let (volume, confirm_h, assemble_h, on_time, seller_cancel) = match self {
            Tier::Excellent => (1.3, 0.25, 5.0, 0.997, 0.003),
            Tier::Good => (1.1, 0.5, 8.0, 0.99, 0.006),
            Tier::Average => (1.0, 0.6, 12.0, 0.97, 0.012),
            Tier::Poor => (0.8, 2.2, 20.0, 0.93, 0.035),
            Tier::Failing => (0.6, 4.5, 30.0, 0.85, 0.07),
        };
        let assembly_errors = match self {
            Tier::Excellent => 0.002,
            Tier::Good => 0.005,
            Tier::Average => 0.012,
            Tier::Poor => 0.035,
            Tier::Failing => 0.07,
        };
        let (answer_rate, reply_min, first_contact, complete) = match self {
            Tier::Excellent => (0.995, 4.0, 0.96, 1.0),
            Tier::Good => (0.98, 8.0, 0.92, 0.995),
            Tier::Average => (0.95, 12.0, 0.88, 0.98),
            Tier::Poor => (0.88, 45.0, 0.76, 0.93),
            Tier::Failing => (0.7, 120.0, 0.6, 0.82),
        };
        let (review_rate, ratings, promoters, detractors) = match self {
            Tier::Excellent => (0.50, [0.01, 0.01, 0.02, 0.10, 0.86], 0.82, 0.04),
            Tier::Good => (0.47, [0.01, 0.01, 0.02, 0.13, 0.83], 0.76, 0.06),
            Tier::Average => (0.43, [0.02, 0.02, 0.04, 0.20, 0.72], 0.66, 0.09),
            Tier::Poor => (0.38, [0.08, 0.04, 0.08, 0.25, 0.55], 0.52, 0.20),
            Tier::Failing => (0.34, [0.15, 0.08, 0.12, 0.25, 0.40], 0.38, 0.32),
        };
        let hours = match self {
            Tier::Excellent | Tier::Good => WorkHours { open_h: 0, close_h: 24, closed_sunday: false },
            Tier::Average => WorkHours { open_h: 7, close_h: 24, closed_sunday: false },
            Tier::Poor => WorkHours { open_h: 9, close_h: 21, closed_sunday: false },
            Tier::Failing => WorkHours { open_h: 10, close_h: 19, closed_sunday: true },
        };
        Profile {
            tier: self,
            volume,
            confirm_median_h: confirm_h,
            assemble_median_h: assemble_h,
            on_time,
            seller_cancel,
            assembly_errors,
            answer_rate,
            reply_median_min: reply_min,
            first_contact,
            complete,
            review_rate,
            ratings,
            promoters,
            detractors,
            hours,
        }
    }
}

/// The direction of a drifting seller's quality over the simulated days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trend {
    /// The failing tier's parameters on the first day, the excellent tier's on the last.
    Improving,
    /// The excellent tier's parameters on the first day, the failing tier's on the last.
    Declining,
}

/// Orders of a drifting seller relative to the configured mean: a large seller, so that its
/// weekly values are precise enough for its trend to show week after week.
pub const TREND_VOLUME: f64 = 3.0;

/// When a seller's staff confirm orders and answer messages, in local hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkHours {
    /// First working hour of the day (0..24).
    pub open_h: u8,
    /// Hour at which work stops (`open_h < close_h <= 24`).
    pub close_h: u8,
    /// Whether nobody works on Sundays.
    pub closed_sunday: bool,
}

impl WorkHours {
    /// Whether someone is on duty around the clock (no waiting for opening time).
    pub fn always(self) -> bool {
        self.open_h == 0 && self.close_h >= 24 && !self.closed_sunday
    }
}

/// One seller's behaviour: rates, typical durations and rating mixes that drive its events.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The tier the seller was drawn from.
    pub tier: Tier,
    /// Multiplier on the configured orders per seller and day.
    pub volume: f64,
    /// Median hours from order creation (or opening time) to confirmation.
    pub confirm_median_h: f64,
    /// Median hours from confirmation to assembled.
    pub assemble_median_h: f64,
    /// Probability an order is handed over before its `ship_by`.
    pub on_time: f64,
    /// Probability the seller cancels an order.
    pub seller_cancel: f64,
    /// Probability a delivered order is packed wrong or incomplete and the customer complains.
    pub assembly_errors: f64,
    /// Probability a customer message gets an answer at all.
    pub answer_rate: f64,
    /// Median minutes from a message (or opening time) to the answer.
    pub reply_median_min: f64,
    /// Probability a conversation is resolved at the first contact.
    pub first_contact: f64,
    /// Probability an audited answer is judged complete.
    pub complete: f64,
    /// Probability a delivered order gets a review.
    pub review_rate: f64,
    /// Relative weights of ratings 1..=5.
    pub ratings: [f64; 5],
    /// Share of NPS answers scoring 9-10.
    pub promoters: f64,
    /// Share of NPS answers scoring 0-6.
    pub detractors: f64,
    /// When the seller works.
    pub hours: WorkHours,
}

impl Profile {
    /// A seller's profile: a tier from the mix, then its parameters jittered seller by seller.
    pub fn draw(rng: &mut Rng) -> Profile {
        let tier = Tier::ALL[rng.weighted(&Tier::MIX)];
        let mut p = tier.base();
        // Volumes are skewed: a few big sellers, many small ones; the mean multiplier stays 1.
        p.volume *= rng.lognormal((-0.5f64 * 0.5 * 0.5).exp(), 0.5);
        p.confirm_median_h *= rng.lognormal(1.0, 0.25);
        p.assemble_median_h *= rng.lognormal(1.0, 0.2);
        p.reply_median_min *= rng.lognormal(1.0, 0.25);
        p.on_time = jitter_failure(rng, p.on_time);
        p.answer_rate = jitter_failure(rng, p.answer_rate);
        p.first_contact = jitter_failure(rng, p.first_contact);
        p.complete = jitter_failure(rng, p.complete);
        p.seller_cancel = (p.seller_cancel * rng.lognormal(1.0, 0.3)).min(1.0);
        p
    }
}

impl Profile {
    /// A drifting seller's profile on a day at `progress` through the simulated days (0 on the
    /// first, 1 on the last): each rate, duration and rating weight is interpolated linearly
    /// between the failing and the excellent tier (no jitter), the volume is [`TREND_VOLUME`],
    /// and someone is on duty around the clock. `tier` names the tier it starts from.
    pub fn drifting(trend: Trend, progress: f64) -> Profile {
        let (worst, best) = (Tier::Failing.base(), Tier::Excellent.base());
        let progress = if progress.is_nan() { 0.0 } else { progress.clamp(0.0, 1.0) };
        let f = match trend {
            Trend::Improving => progress,
            Trend::Declining => 1.0 - progress,
        };
        let mix = |a: f64, b: f64| a * (1.0 - f) + b * f;
        let mut p = worst.clone();
        p.tier = match trend {
            Trend::Improving => Tier::Failing,
            Trend::Declining => Tier::Excellent,
        };
        p.volume = TREND_VOLUME;
        p.confirm_median_h = mix(worst.confirm_median_h, best.confirm_median_h);
        p.assemble_median_h = mix(worst.assemble_median_h, best.assemble_median_h);
        p.on_time = mix(worst.on_time, best.on_time);
        p.seller_cancel = mix(worst.seller_cancel, best.seller_cancel);
        p.answer_rate = mix(worst.answer_rate, best.answer_rate);
        p.reply_median_min = mix(worst.reply_median_min, best.reply_median_min);
        p.first_contact = mix(worst.first_contact, best.first_contact);
        p.complete = mix(worst.complete, best.complete);
        p.assembly_errors = mix(worst.assembly_errors, best.assembly_errors);
        p.review_rate = mix(worst.review_rate, best.review_rate);
        p.ratings = std::array::from_fn(|i| mix(worst.ratings[i], best.ratings[i]));
        p.promoters = mix(worst.promoters, best.promoters);
        p.detractors = mix(worst.detractors, best.detractors);
        p.hours = best.hours;
        p
    }
}

/// Scales the failure probability `1 - p` by a random factor around 1, keeping `p` in [0, 1].
pub(super) fn jitter_failure(rng: &mut Rng, p: f64) -> f64 {
    (1.0 - (1.0 - p) * rng.lognormal(1.0, 0.3)).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_get_worse_in_order() {
        for pair in Tier::ALL.windows(2) {
            let (better, worse) = (pair[0].base(), pair[1].base());
            assert!(better.confirm_median_h < worse.confirm_median_h);
            assert!(better.assemble_median_h < worse.assemble_median_h);
            assert!(better.on_time > worse.on_time);
            assert!(better.seller_cancel < worse.seller_cancel);
            assert!(better.assembly_errors < worse.assembly_errors);
            assert!(better.reply_median_min < worse.reply_median_min);
            assert!(better.first_contact > worse.first_contact);
            let csi = |p: &Profile| p.ratings.iter().zip(1..).map(|(w, r)| w * r as f64).sum::<f64>() / p.ratings.iter().sum::<f64>();
            assert!(csi(&better) > csi(&worse));
            assert!(better.promoters - better.detractors > worse.promoters - worse.detractors);
        }
    }

    #[test]
    fn the_mix_has_every_tier_and_mostly_passing_sellers() {
        let mut rng = Rng::new(3, 0);
        let tiers: Vec<Tier> = (0..2000).map(|_| Profile::draw(&mut rng).tier).collect();
        for t in Tier::ALL {
            assert!(tiers.contains(&t), "{t:?} missing");
        }
        let breaching = tiers.iter().filter(|t| **t >= Tier::Poor).count();
        assert!((200..500).contains(&breaching), "{breaching}");
    }

    #[test]
    fn drifting_sellers_move_linearly_between_the_failing_and_the_excellent_tier() {
        let (worst, best) = (Tier::Failing.base(), Tier::Excellent.base());
        let first = Profile::drifting(Trend::Improving, 0.0);
        assert_eq!((first.tier, first.confirm_median_h, first.on_time, first.ratings), (Tier::Failing, 4.5, 0.85, worst.ratings));
        let last = Profile::drifting(Trend::Improving, 1.0);
        assert_eq!((last.confirm_median_h, last.reply_median_min, last.promoters, last.ratings), (0.25, 4.0, 0.82, best.ratings));
        assert_eq!(Profile::drifting(Trend::Improving, 0.5).confirm_median_h, (4.5 + 0.25) / 2.0);
        assert_eq!(Profile::drifting(Trend::Declining, 0.0).tier, Tier::Excellent);
        assert_eq!(Profile::drifting(Trend::Declining, 0.25).assemble_median_h, Profile::drifting(Trend::Improving, 0.75).assemble_median_h);
        assert_eq!(Profile::drifting(Trend::Declining, 7.0).on_time, worst.on_time, "progress is clamped to [0, 1]");
        for p in [first, last] {
            assert_eq!(p.volume, TREND_VOLUME);
            assert!(p.hours.always());
            assert!((p.ratings.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn jitter_keeps_probabilities_valid() {
        let mut rng = Rng::new(4, 0);
        for _ in 0..5000 {
            let p = Profile::draw(&mut rng);
            for x in [p.on_time, p.answer_rate, p.first_contact, p.complete, p.seller_cancel] {
                assert!((0.0..=1.0).contains(&x));
            }
            assert!(p.volume > 0.0 && p.confirm_median_h > 0.0);
        }
    }
}
