//! Event-time timers bucketed by due minute (or any width) in an ordered map.
//!
//! Deadlines fire in bulk as event time moves on: a push is one map lookup and a `Vec` push,
//! a pop drains whole buckets in order. Only buckets that hold timers exist, so a deadline
//! years away costs one entry, not the buckets in between. Emptied buckets keep their
//! capacity for the next ones, so a steady stream of timers allocates nothing.

use std::collections::BTreeMap;

/// Timers bucketed by due time; a bucket fires once time has passed its end.
#[derive(Debug)]
pub struct TimerWheel<T> {
    width: i64,
    buckets: BTreeMap<i64, Vec<(i64, T)>>,
    len: usize,
    /// Emptied buckets, reused (at most [`SPARE_BUCKETS`]).
    spare: Vec<Vec<(i64, T)>>,
}

/// Emptied buckets kept for reuse: enough for the buckets a stream fills at once.
const SPARE_BUCKETS: usize = 64;

impl<T: Copy> TimerWheel<T> {
    /// Timers fire at most `width` milliseconds late (at the end of their bucket).
    pub fn new(width: i64) -> Self {
        TimerWheel { width, buckets: BTreeMap::new(), len: 0, spare: Vec::new() }
    }

    /// Schedules a payload in the bucket of its due time (a past bucket fires at the next pop).
    pub fn push(&mut self, due: i64, payload: T) {
        let spare = &mut self.spare;
        self.buckets.entry(due.div_euclid(self.width)).or_insert_with(|| spare.pop().unwrap_or_default()).push((due, payload));
        self.len += 1;
    }

    /// Moves every timer of the buckets that ended at or before `now` into `out`.
    pub fn pop_expired(&mut self, now: i64, out: &mut Vec<(i64, T)>) {
        let last_done = now.saturating_add(1).div_euclid(self.width) - 1;
        while self.buckets.first_key_value().is_some_and(|(b, _)| *b <= last_done) {
            if let Some((_, mut bucket)) = self.buckets.pop_first() {
                self.len -= bucket.len();
                out.append(&mut bucket);
                self.recycle(bucket);
            }
        }
    }

    /// Moves every timer due at or before `now` into `out`, scanning the partial bucket too.
    pub fn pop_due_exact(&mut self, now: i64, out: &mut Vec<(i64, T)>) {
        self.pop_expired(now, out);
        if let Some(mut entry) = self.buckets.first_entry() {
            let bucket = entry.get_mut();
            let before = bucket.len();
            bucket.retain(|&(due, p)| {
                if due <= now {
                    out.push((due, p));
                    false
                } else {
                    true
                }
            });
            self.len -= before - bucket.len();
            if bucket.is_empty() {
                let bucket = entry.remove();
                self.recycle(bucket);
            }
        }
    }

    fn recycle(&mut self, bucket: Vec<(i64, T)>) {
        if self.spare.len() < SPARE_BUCKETS {
            self.spare.push(bucket);
        }
    }

    /// Pending timers.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_whole_buckets_then_exactly() {
        let mut w = TimerWheel::new(10);
        for due in [5, 12, 19, 20, 3, 45] {
            w.push(due, due);
        }
        let mut out = Vec::new();
        w.pop_expired(18, &mut out);
        assert_eq!(out.iter().map(|x| x.1).collect::<Vec<_>>(), vec![5, 3]);
        out.clear();
        w.pop_expired(19, &mut out);
        assert_eq!(out.iter().map(|x| x.1).collect::<Vec<_>>(), vec![12, 19]);
        out.clear();
        w.pop_due_exact(20, &mut out);
        assert_eq!(out.iter().map(|x| x.1).collect::<Vec<_>>(), vec![20]);
        assert_eq!(w.len(), 1);
        out.clear();
        w.push(-100, -100);
        w.push(33, 33);
        w.pop_expired(21, &mut out);
        assert_eq!(out, vec![(-100, -100)], "a due time in a past bucket fires at the next pop");
        assert_eq!(w.len(), 2, "33 is not due yet even though it is before the wheel's later buckets");
        out.clear();
        w.pop_expired(40, &mut out);
        assert_eq!(out, vec![(33, 33)]);
    }

    #[test]
    fn emptied_buckets_are_reused() {
        let mut w = TimerWheel::new(10);
        w.push(1, 1u8);
        w.push(2, 2);
        let mut out = Vec::new();
        w.pop_expired(10, &mut out);
        assert_eq!((out.len(), w.spare.len()), (2, 1));
        let capacity = w.spare[0].capacity();
        w.push(25, 3);
        assert!(w.spare.is_empty());
        assert_eq!(w.buckets[&2].capacity(), capacity, "the new bucket is the emptied one");
    }

    #[test]
    fn a_timer_decades_away_costs_one_entry() {
        let mut w = TimerWheel::new(60_000);
        w.push(0, 0u8);
        w.push(4_000_000_000_000, 1);
        assert_eq!(w.buckets.len(), 2);
        let mut out = Vec::new();
        w.pop_expired(i64::MAX, &mut out);
        assert_eq!(out.len(), 2);
    }
}
