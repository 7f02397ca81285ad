//! Synthetic event streams for demos, tests and benchmarks.
//!
//! [`generate`] simulates a marketplace: sellers of varied quality ([`Tier`]) receive orders
//! that are confirmed, assembled, shipped and delivered (or cancelled), answer customer
//! messages, get audited, reviewed, rated and complained to. The result is an iterator of NDJSON lines in
//! arrival order, with the transport anomalies a real topic has ([`Anomalies`]): broken lines,
//! duplicates, out-of-order and too-late events.
//!
//! The output is a pure function of the [`GeneratorConfig`]: the same config and seed give
//! byte-identical lines. Sellers do not influence each other, so seller `n` behaves the same
//! whatever the number of sellers, and the anomaly settings never change what happens, only
//! how it arrives.
//!
//! Memory stays bounded by the number of sellers and the events of a few days: days are
//! simulated one at a time and only events not yet emitted are kept, in compact form.
//!
//! * `rng`: the seeded PRNG and its distributions.
//! * `profile`: the sellers' quality tiers, and the drifting sellers of the `trends` option.
//! * `zone`: local time, offsets and working hours.
//! * `lifecycle`: what happens to orders (complaints included), conversations and NPS answers.
//! * `arrival`: arrival delays, anomalies and the arrival-ordered queue.
//! * `format`: JSON lines, valid or broken.
//! * `tests`: end-to-end checks of the stream.

mod arrival;
mod format;
mod lifecycle;
mod profile;
mod rng;
#[cfg(test)]
mod tests;
mod zone;

pub use profile::{Tier, Trend};

use arrival::{Arrivals, Pending};
use chrono::{Datelike, Days, NaiveDate};
use format::Ctx;
use lifecycle::{Day, Fact, Seller};
use quality_engine::contract::DAY_MS;
use zone::Zone;

/// What to simulate: how many sellers over which local days, how busy, and how noisy the wire is.
#[derive(Debug, Clone)]
pub struct GeneratorConfig {
    /// Number of sellers, named `seller-0001` onwards.
    pub sellers: u32,
    /// Number of local days simulated; nothing happening after them is emitted.
    pub days: u32,
    /// The first local day.
    pub start: NaiveDate,
    /// The zone whose local days, working hours and offsets the events use.
    pub timezone: chrono_tz::Tz,
    /// Seed of every random draw: same config and seed, same bytes.
    pub seed: u64,
    /// Mean orders per seller and day before the seller's volume and weekday factors.
    pub orders_per_seller_day: f64,
    /// Transport anomalies to inject.
    pub anomalies: Anomalies,
    /// Adds two drifting sellers after the others, a planted trend for `review`: number
    /// `sellers + 1` improves steadily from the failing to the excellent tier over the days,
    /// number `sellers + 2` declines from excellent to failing ([`Trend`]). The other sellers
    /// behave the same either way.
    pub trends: bool,
}

impl Default for GeneratorConfig {
    /// 40 sellers over four weeks from Monday 2026-10-26 in Moscow, 6 orders a day, realistic noise, no drifting sellers.
    fn default() -> Self {
        GeneratorConfig {
            sellers: 40,
            days: 28,
            start: NaiveDate::from_ymd_opt(2026, 10, 26).unwrap_or_default(),
            timezone: chrono_tz::Europe::Moscow,
            seed: 42,
            orders_per_seller_day: 6.0,
            anomalies: Anomalies::default(),
            trends: false,
        }
    }
}

/// Per-event probabilities of transport anomalies (each in [0, 1]; out-of-range values are clamped).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Anomalies {
    /// The event is sent broken (half the time followed by a correct re-send).
    pub malformed: f64,
    /// The event is sent twice, the copy seconds to hours later.
    pub duplicates: f64,
    /// The event arrives minutes to a day late: out of order but within the allowed lateness.
    pub out_of_order: f64,
    /// The event arrives 3 to 5 days late, beyond the allowed lateness.
    pub too_late: f64,
}

impl Anomalies {
    /// A perfect wire: every event exactly once, valid, within seconds.
    pub fn none() -> Anomalies {
        Anomalies { malformed: 0.0, duplicates: 0.0, out_of_order: 0.0, too_late: 0.0 }
    }

    /// The rates clamped to [0, 1], NaN read as 0.
    fn sanitized(&self) -> Anomalies {
        let p = |x: f64| if x.is_nan() { 0.0 } else { x.clamp(0.0, 1.0) };
        Anomalies { malformed: p(self.malformed), duplicates: p(self.duplicates), out_of_order: p(self.out_of_order), too_late: p(self.too_late) }
    }
}

impl Default for Anomalies {
    /// Small realistic rates: 0.2 % malformed, 1 % duplicates, 5 % out of order, 0.1 % too late.
    fn default() -> Self {
        Anomalies { malformed: 0.002, duplicates: 0.01, out_of_order: 0.05, too_late: 0.001 }
    }
}

/// Starts the simulation described by `cfg`; lines are produced lazily as the iterator advances.
pub fn generate(cfg: &GeneratorConfig) -> Generator {
    let tz = cfg.timezone;
    let first = zone::midnight(tz, cfg.start);
    let horizon = cfg.start.checked_add_days(Days::new(cfg.days as u64)).and_then(|d| zone::midnight(tz, d)).unwrap_or(i64::MAX);
    let from = first.unwrap_or(0).saturating_sub(2 * DAY_MS);
    let zone = Zone::new(tz, from, horizon.saturating_add(10 * DAY_MS));
    let orders = if cfg.orders_per_seller_day.is_nan() { 0.0 } else { cfg.orders_per_seller_day.max(0.0) };
    let mut sellers: Vec<Seller> = (1..=cfg.sellers).map(|n| Seller::new(cfg.seed, n)).collect();
    if cfg.trends {
        sellers.push(Seller::drifting(cfg.seed, cfg.sellers + 1, Trend::Improving));
        sellers.push(Seller::drifting(cfg.seed, cfg.sellers + 2, Trend::Declining));
    }
    Generator {
        sellers,
        ctx: Ctx { zone, seed: cfg.seed },
        arrivals: Arrivals::new(&cfg.anomalies, horizon),
        start: cfg.start,
        days: if first.is_some() { cfg.days } else { 0 },
        next_day: 0,
        next_start: first.unwrap_or(i64::MIN),
        cutoff: first.unwrap_or(i64::MIN),
        orders,
        scratch: Vec::new(),
    }
}

/// The stream of NDJSON lines (without trailing newline) in arrival order; see [`generate`].
#[derive(Debug)]
pub struct Generator {
    sellers: Vec<Seller>,
    ctx: Ctx,
    arrivals: Arrivals,
    start: NaiveDate,
    days: u32,
    next_day: u32,
    /// Local midnight of `next_day`, UTC milliseconds.
    next_start: i64,
    /// Lines arriving before this instant can no longer be preceded by new ones.
    cutoff: i64,
    orders: f64,
    scratch: Vec<Fact>,
}

impl Generator {
    /// Each seller's id and the tier it was drawn from (a drifting seller's: the tier it starts
    /// from): the ground truth behind its standards.
    pub fn sellers(&self) -> impl Iterator<Item = (String, Tier)> + '_ {
        self.sellers.iter().map(|s| (format!("seller-{:04}", s.number), s.profile.tier))
    }

    /// The next line to emit, in compact form, simulating further days as needed.
    fn next_pending(&mut self) -> Option<Pending> {
        loop {
            if let Some(p) = self.arrivals.pop_before(self.cutoff) {
                return Some(p);
            }
            if !self.advance() {
                return None;
            }
        }
    }

    /// Simulates the next day (or opens the cutoff after the last); false when nothing is left.
    fn advance(&mut self) -> bool {
        let date = self.start.checked_add_days(Days::new(self.next_day as u64));
        let end = date.and_then(|d| d.succ_opt()).and_then(|d| zone::midnight(self.ctx.zone.tz(), d));
        let (Some(date), Some(end), true) = (date, end, self.next_day < self.days) else {
            let more = self.cutoff != i64::MAX;
            self.cutoff = i64::MAX;
            return more;
        };
        let day = Day { start: self.next_start, end, weekday: date.weekday().num_days_from_monday(), orders: self.orders };
        let progress = if self.days > 1 { f64::from(self.next_day) / f64::from(self.days - 1) } else { 0.0 };
        for seller in &mut self.sellers {
            seller.drift(progress);
            lifecycle::seller_day(seller, &day, &self.ctx.zone, &mut self.scratch);
            for fact in self.scratch.drain(..) {
                self.arrivals.schedule(fact, seller.wire_for(fact.kind));
            }
        }
        self.next_day += 1;
        self.next_start = end;
        self.cutoff = if self.next_day < self.days { end } else { i64::MAX };
        true
    }
}

impl Iterator for Generator {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        let p = self.next_pending()?;
        Some(format::line(&p.fact, p.mangle, &self.ctx))
    }
}
