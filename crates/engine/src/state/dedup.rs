//! Seen event ids, kept only as long as an event with that time could still be accepted.
//!
//! Ids are held as fingerprints (see `fingerprint`), not strings: no allocation per event.

use super::fingerprint::FpSet;
use crate::contract::{Timestamp, DAY_MS};
use std::collections::BTreeMap;

/// Event id fingerprints in one set, listed per UTC day of `occurred_at` so that a day's ids
/// can be forgotten once the watermark passes it: one probe per event, whatever the lateness.
#[derive(Debug, Default)]
pub struct Dedup {
    seen: FpSet,
    by_day: BTreeMap<i64, Vec<u128>>,
}

impl Dedup {
    /// Records an id's fingerprint; `false` if it was already seen.
    pub fn insert(&mut self, fp: u128, t: Timestamp) -> bool {
        if !self.seen.insert(fp) {
            return false;
        }
        self.by_day.entry(t.0.div_euclid(DAY_MS)).or_default().push(fp);
        true
    }

    /// Whether an id was recorded.
    pub fn contains(&self, fp: u128) -> bool {
        self.seen.contains(&fp)
    }

    /// Forgets ids of days that end at or before the watermark: their events are too late anyway.
    pub fn expire(&mut self, watermark: i64) {
        let keep_from = watermark.div_euclid(DAY_MS);
        while self.by_day.first_key_value().is_some_and(|(day, _)| *day < keep_from) {
            if let Some((_, ids)) = self.by_day.pop_first() {
                for fp in ids {
                    self.seen.remove(&fp);
                }
            }
        }
    }

    /// The held fingerprints by UTC day, for a checkpoint.
    pub fn by_day(&self) -> &BTreeMap<i64, Vec<u128>> {
        &self.by_day
    }

    /// Rebuilds the set from a checkpoint's days.
    pub fn from_days(by_day: BTreeMap<i64, Vec<u128>>) -> Dedup {
        let seen = by_day.values().flatten().copied().collect();
        Dedup { seen, by_day }
    }

    /// How many ids are held.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether no ids are held.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_found_across_days_until_expiry() {
        let mut d = Dedup::default();
        let (a, b) = (1u128, 2u128);
        assert!(!d.contains(a));
        assert!(d.insert(a, Timestamp(10)));
        assert!(d.contains(a));
        assert!(!d.insert(a, Timestamp(10 + 3 * DAY_MS)));
        assert!(d.insert(b, Timestamp(DAY_MS + 5)));
        d.expire(DAY_MS);
        assert_eq!(d.len(), 1);
        assert!(!d.insert(b, Timestamp(DAY_MS + 5)));
        assert!(d.insert(a, Timestamp(DAY_MS + 5)), "forgotten once its day is behind the watermark");
    }
}
