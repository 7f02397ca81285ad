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
//! The [`service`] module simulates the second profile, a service company (requests, surveys,
//! NPS), on the same machinery: seeded streams, local working hours, the calendar and the
//! arrival queue with its anomalies.
//!
//! * `rng`: the seeded PRNG and its distributions.
//! * `profile`: the sellers' quality tiers, and the drifting sellers of the `trends` option.
//! * `zone`: local time, offsets and working hours.
//! * `calendar`: the simulated days and the cutoff before which lines are final (both profiles).
//! * `lifecycle`: what happens to orders (complaints included), conversations and NPS answers.
//! * `arrival`: arrival delays, anomalies and the arrival-ordered queue (both profiles).
//! * `format`: JSON lines, valid or broken.
//! * `tests`: end-to-end checks of the stream.

mod arrival;
mod calendar;
mod format;
mod lifecycle;
mod profile;
mod rng;
pub mod service;
#[cfg(test)]
mod tests;
mod zone;

pub use profile::{Tier, Trend};
pub use service::{Question, ServiceConfig, ServiceGenerator};

use arrival::{Arrivals, Pending};
use calendar::Calendar;
use chrono::NaiveDate;
use format::Ctx;
use lifecycle::{Day, Fact, Seller};

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
    let (calendar, zone, horizon) = Calendar::new(cfg.timezone, cfg.start, cfg.days);
    let orders = if cfg.orders_per_seller_day.is_nan() { 0.0 } else { cfg.orders_per_seller_day.max(0.0) };
    let mut sellers: Vec<Seller> = (1..=cfg.sellers).map(|n| Seller::new(cfg.seed, n)).collect();
    if cfg.trends {
        sellers.push(Seller::drifting(cfg.seed, cfg.sellers + 1, Trend::Improving));
        sellers.push(Seller::drifting(cfg.seed, cfg.sellers + 2, Trend::Declining));
    }
    Generator { sellers, ctx: Ctx { zone, seed: cfg.seed }, arrivals: Arrivals::new(&cfg.anomalies, horizon), calendar, orders, scratch: Vec::new() }
}

/// The stream of NDJSON lines (without trailing newline) in arrival order; see [`generate`].
#[derive(Debug)]
pub struct Generator {
    sellers: Vec<Seller>,
    ctx: Ctx,
    arrivals: Arrivals,
    calendar: Calendar,
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
        let (sellers, zone, scratch, orders) = (&mut self.sellers, &self.ctx.zone, &mut self.scratch, self.orders);
        let days = self.calendar.days();
        calendar::next_pending(&mut self.arrivals, &mut self.calendar, zone.tz(), |sim, arrivals| {
            let day = Day { start: sim.start, end: sim.end, weekday: sim.weekday, orders };
            let progress = if days > 1 { f64::from(sim.index) / f64::from(days - 1) } else { 0.0 };
            for seller in sellers.iter_mut() {
                seller.drift(progress);
                lifecycle::seller_day(seller, &day, zone, scratch);
                for fact in scratch.drain(..) {
                    arrivals.schedule(fact, seller.wire_for(fact.kind));
                }
            }
        })
    }
}

impl Iterator for Generator {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        let p = self.next_pending()?;
        Some(format::line(&p.fact, p.mangle, &self.ctx))
    }
}
