//! One seller's day accumulators in a ring indexed by day: O(1) access on the hot path.

use super::accs::DayAccs;
use crate::window::Day;
use std::collections::VecDeque;

/// Day accumulators for a contiguous range of local days; a day with no update holds no data.
#[derive(Debug, Default)]
pub struct DayRing {
    base: Day,
    days: VecDeque<DayAccs>,
}

impl DayRing {
    /// The accumulators of `day`, created if needed; `true` if the day had no data before.
    pub fn entry(&mut self, day: Day) -> (&mut DayAccs, bool) {
        if self.days.is_empty() {
            self.base = day;
        }
        if day < self.base {
            for _ in day..self.base {
                self.days.push_front(DayAccs::default());
            }
            self.base = day;
        }
        let i = (day - self.base) as usize;
        if i >= self.days.len() {
            self.days.resize_with(i + 1, DayAccs::default);
        }
        let accs = &mut self.days[i];
        let fresh = accs.changes == 0;
        (accs, fresh)
    }

    /// The accumulators of `day`, if it has data.
    pub fn get_mut(&mut self, day: Day) -> Option<&mut DayAccs> {
        let i = usize::try_from(day - self.base).ok()?;
        self.days.get_mut(i).filter(|a| a.changes > 0)
    }

    /// The days with data in `[start, end)`.
    pub fn range(&self, start: Day, end: Day) -> impl Iterator<Item = &DayAccs> {
        let lo = (start - self.base).clamp(0, self.days.len() as i64) as usize;
        let hi = (end - self.base).clamp(0, self.days.len() as i64) as usize;
        self.days.range(lo..hi.max(lo)).filter(|a| a.changes > 0)
    }

    /// Whether any day in `[start, end)` has data.
    pub fn has_data(&self, start: Day, end: Day) -> bool {
        self.range(start, end).next().is_some()
    }

    /// Drops the days before `cutoff`.
    pub fn forget_before(&mut self, cutoff: Day) {
        while self.base < cutoff && !self.days.is_empty() {
            self.days.pop_front();
            self.base += 1;
        }
    }

    /// Every day with data and its accumulators, in day order.
    pub fn iter(&self) -> impl Iterator<Item = (Day, &DayAccs)> {
        self.days.iter().enumerate().filter(|(_, a)| a.changes > 0).map(|(i, a)| (self.base + i as Day, a))
    }

    /// Days with data.
    pub fn len(&self) -> usize {
        self.days.iter().filter(|a| a.changes > 0).count()
    }

    /// Whether no day has data.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_grow_both_ways_and_forget_from_the_front() {
        let mut r = DayRing::default();
        assert!(r.entry(10).1);
        r.entry(10).0.changes += 1;
        assert!(!r.entry(10).1);
        r.entry(7).0.changes += 1;
        r.entry(12).0.changes += 1;
        assert_eq!(r.len(), 3);
        assert_eq!(r.range(8, 13).count(), 2);
        assert!(!r.has_data(8, 10));
        r.forget_before(11);
        assert_eq!(r.len(), 1);
        assert!(r.get_mut(10).is_none());
        assert!(r.get_mut(12).is_some());
    }
}
