//! When facts reach the wire: arrival delays, transport anomalies and the arrival-ordered queue.
//!
//! Each fact arrives shortly after it happened, except that some arrive out of order (up to a
//! day late, within the engine's allowed lateness), some far too late (3-5 days), some twice,
//! and some broken. Facts wait, ordered by (arrival, sequence number), until the generator has
//! produced every fact that could arrive earlier.
//!
//! The waiting facts form a calendar queue rather than a binary heap: one unsorted bucket per
//! hour of arrival, sorted only when its hour comes up. With millions of facts waiting, heap
//! pops were three quarters of the generator's time (a cache miss per level); sorting an
//! hour's bucket once is several times cheaper and yields the same order.
//!
//! The queue is generic over the compact fact type ([`Timed`]), so that both profiles (the
//! marketplace's orders and the service company's requests) arrive through the same machinery.

use super::format::Mangle;
use super::lifecycle::Fact;
use super::rng::Rng;
use super::Anomalies;
use quality_engine::contract::{DAY_MS, HOUR_MS};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// What the arrival queue needs of a compact fact: when it happened.
pub trait Timed: Copy {
    /// Event time, UTC milliseconds.
    fn occurred(&self) -> i64;
}

impl Timed for Fact {
    fn occurred(&self) -> i64 {
        self.occurred
    }
}

/// A fact (or a broken copy of it) waiting to be emitted.
#[derive(Debug, Clone, Copy)]
pub struct Pending<F = Fact> {
    /// When the line reaches the consumer, UTC milliseconds.
    pub arrival: i64,
    /// Scheduling order: the deterministic tie-breaker between equal arrivals.
    seq: u64,
    /// The event.
    pub fact: F,
    /// Whether and how the line is broken.
    pub mangle: Mangle,
}

impl<F> Pending<F> {
    fn key(&self) -> (i64, u64) {
        (self.arrival, self.seq)
    }
}

impl<F> PartialEq for Pending<F> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl<F> Eq for Pending<F> {}

impl<F> PartialOrd for Pending<F> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<F> Ord for Pending<F> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

/// The facts not yet emitted, in arrival order, plus the anomaly rates that shape arrivals.
#[derive(Debug)]
pub struct Arrivals<F = Fact> {
    /// Unsorted facts by hour of arrival (`arrival.div_euclid(HOUR_MS)`).
    buckets: BTreeMap<i64, Vec<Pending<F>>>,
    /// The earliest bucket being emitted, sorted latest first so that `pop` yields the earliest.
    ready: Vec<Pending<F>>,
    seq: u64,
    rates: Anomalies,
    horizon: i64,
}

impl<F: Timed> Arrivals<F> {
    /// An empty schedule; facts at or after `horizon` (UTC milliseconds) are dropped.
    pub fn new(rates: &Anomalies, horizon: i64) -> Arrivals<F> {
        Arrivals { buckets: BTreeMap::new(), ready: Vec::new(), seq: 0, rates: rates.sanitized(), horizon }
    }

    /// Schedules `fact` with its arrival delay and anomalies, all drawn from `rng`.
    pub fn schedule(&mut self, fact: F, rng: &mut Rng) {
        if fact.occurred() >= self.horizon {
            return;
        }
        let arrival = fact.occurred() + self.delay(rng);
        if rng.bernoulli(self.rates.malformed) {
            let mangle = Mangle::BROKEN[rng.below(Mangle::BROKEN.len() as u64) as usize];
            self.push(arrival, fact, mangle);
            // Half the time the producer notices and re-sends the event correctly.
            if rng.bernoulli(0.5) {
                self.push(arrival + rng.log_uniform(1000.0, 60_000.0) as i64, fact, Mangle::None);
            }
            return;
        }
        self.push(arrival, fact, Mangle::None);
        if rng.bernoulli(self.rates.duplicates) {
            self.push(arrival + rng.log_uniform(1000.0, 6.0 * HOUR_MS as f64) as i64, fact, Mangle::None);
        }
    }

    /// The delay between a fact happening and it arriving, in milliseconds.
    fn delay(&self, rng: &mut Rng) -> i64 {
        let u = rng.uniform();
        if u < self.rates.too_late {
            rng.between(3 * DAY_MS, 5 * DAY_MS)
        } else if u < self.rates.too_late + self.rates.out_of_order {
            rng.log_uniform(5.0 * 60_000.0, DAY_MS as f64) as i64
        } else {
            50 + rng.exponential(1500.0) as i64
        }
    }

    fn push(&mut self, arrival: i64, fact: F, mangle: Mangle) {
        self.seq += 1;
        let p = Pending { arrival, seq: self.seq, fact, mangle };
        self.buckets.entry(arrival.div_euclid(HOUR_MS)).or_default().push(p);
    }

    /// The earliest pending line if it arrives before `cutoff`.
    ///
    /// Callers must not schedule facts arriving before a `cutoff` they have already drained to.
    pub fn pop_before(&mut self, cutoff: i64) -> Option<Pending<F>> {
        loop {
            match self.ready.last() {
                Some(p) if p.arrival < cutoff => return self.ready.pop(),
                Some(p) => {
                    // The rest of this hour arrives after the cutoff: back to its bucket, so that
                    // facts scheduled later for the same hour are sorted together with it.
                    let hour = p.arrival.div_euclid(HOUR_MS);
                    let rest = std::mem::take(&mut self.ready);
                    self.buckets.entry(hour).or_default().extend(rest);
                    return None;
                }
                None => {}
            }
            let (&hour, _) = self.buckets.first_key_value()?;
            if hour.saturating_mul(HOUR_MS) >= cutoff {
                return None;
            }
            let (_, mut bucket) = self.buckets.pop_first()?;
            bucket.sort_unstable_by(|a, b| b.cmp(a));
            self.ready = bucket;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::lifecycle::Kind;

    fn drain(a: &mut Arrivals) -> Vec<Pending> {
        std::iter::from_fn(|| a.pop_before(i64::MAX)).collect()
    }

    fn fact(occurred: i64, entity: u32) -> Fact {
        Fact { occurred, kind: Kind::OrderConfirmed, seller: 1, entity, sub: 0 }
    }

    #[test]
    fn pops_in_arrival_order_and_respects_the_cutoff() {
        let mut a = Arrivals::new(&Anomalies::default(), i64::MAX);
        let mut rng = Rng::new(1, 0);
        for i in 0..5000 {
            a.schedule(fact(rng.between(0, DAY_MS), i), &mut rng);
        }
        assert!(a.pop_before(0).is_none());
        let all = drain(&mut a);
        assert!(all.len() >= 5000);
        assert!(all.windows(2).all(|w| w[0].key() < w[1].key()));
        assert!(all.iter().all(|p| p.arrival >= p.fact.occurred));
    }

    #[test]
    fn a_cutoff_inside_an_hour_keeps_later_facts_of_that_hour_in_order() {
        let mut a = Arrivals::new(&Anomalies::none(), i64::MAX);
        for (arrival, entity) in [(HOUR_MS + 10, 1), (HOUR_MS + 1000, 2), (HOUR_MS + 3000, 3)] {
            a.push(arrival, fact(0, entity), Mangle::None);
        }
        let cutoff = HOUR_MS + 500;
        assert_eq!(a.pop_before(cutoff).map(|p| p.fact.entity), Some(1));
        assert!(a.pop_before(cutoff).is_none());
        // Scheduled after draining to the cutoff: later than it, but before entity 3.
        a.push(HOUR_MS + 2000, fact(0, 4), Mangle::None);
        let rest: Vec<u32> = drain(&mut a).iter().map(|p| p.fact.entity).collect();
        assert_eq!(rest, [2, 4, 3]);
    }

    #[test]
    fn drops_facts_after_the_horizon() {
        let mut a = Arrivals::new(&Anomalies::none(), 1000);
        let mut rng = Rng::new(1, 0);
        a.schedule(fact(999, 1), &mut rng);
        a.schedule(fact(1000, 2), &mut rng);
        let all = drain(&mut a);
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].fact.entity, 1);
    }

    #[test]
    fn anomaly_rates_are_as_configured() {
        let rates = Anomalies { malformed: 0.04, duplicates: 0.05, out_of_order: 0.10, too_late: 0.02 };
        let mut a = Arrivals::new(&rates, i64::MAX);
        let mut rng = Rng::new(2, 0);
        let n = 20_000;
        for i in 0..n {
            a.schedule(fact(0, i), &mut rng);
        }
        let all = drain(&mut a);
        let share = |count: usize| count as f64 / n as f64;
        let broken = all.iter().filter(|p| p.mangle != Mangle::None).count();
        let mut seen = std::collections::HashMap::new();
        for p in all.iter().filter(|p| p.mangle == Mangle::None) {
            *seen.entry(p.fact.entity).or_insert(0) += 1;
        }
        let broken_entities: std::collections::HashSet<u32> = all.iter().filter(|p| p.mangle != Mangle::None).map(|p| p.fact.entity).collect();
        let duplicated = seen.iter().filter(|(e, c)| **c > 1 && !broken_entities.contains(e)).count();
        // Delays are drawn once per fact: use the first valid-or-broken copy of each entity.
        let mut first = std::collections::HashMap::new();
        for p in &all {
            first.entry(p.fact.entity).or_insert(p.arrival);
        }
        let late = first.values().filter(|t| **t >= 3 * DAY_MS).count();
        let out_of_order = first.values().filter(|t| (5 * 60_000..3 * DAY_MS).contains(*t)).count();
        for (what, got, want) in [
            ("malformed", share(broken), 0.04),
            ("duplicates", share(duplicated), 0.05 * 0.96),
            ("too_late", share(late), 0.02),
            ("out_of_order", share(out_of_order), 0.10),
        ] {
            assert!((got - want).abs() < want * 0.15, "{what}: {got} vs {want}");
        }
        for m in Mangle::BROKEN {
            assert!(all.iter().any(|p| p.mangle == m), "{m:?} never drawn");
        }
    }
}
