//! Event-time timers in a wheel of fixed-width buckets.
//!
//! Deadlines are pushed in roughly increasing order and fire in bulk as event time moves
//! on, so a ring of buckets (one `Vec` per `width` of time) costs a push and a drain per
//! timer, where a binary heap cost a logarithmic sift with cache misses on every pop.

use std::collections::VecDeque;

/// Timers bucketed by due time; a bucket fires once time has passed its end.
#[derive(Debug)]
pub struct TimerWheel<T> {
    width: i64,
    /// Bucket number (`due.div_euclid(width)`) of `buckets[0]`.
    base: i64,
    buckets: VecDeque<Vec<(i64, T)>>,
    len: usize,
}

impl<T: Copy> TimerWheel<T> {
    /// A wheel whose buckets span `width` milliseconds: timers fire at most that late.
    pub fn new(width: i64) -> Self {
        TimerWheel { width, base: 0, buckets: VecDeque::new(), len: 0 }
    }

    /// Schedules a payload in the bucket of its due time (a past bucket fires at the next pop).
    pub fn push(&mut self, due: i64, payload: T) {
        let b = due.div_euclid(self.width);
        if self.buckets.is_empty() {
            self.base = b;
        }
        while b < self.base {
            self.buckets.push_front(Vec::new());
            self.base -= 1;
        }
        self.len += 1;
        let i = (b - self.base) as usize;
        if i >= self.buckets.len() {
            self.buckets.resize_with(i + 1, Vec::new);
        }
        self.buckets[i].push((due, payload));
    }

    /// Moves every timer of the buckets that ended at or before `now` into `out`.
    pub fn pop_expired(&mut self, now: i64, out: &mut Vec<(i64, T)>) {
        while (self.base + 1).saturating_mul(self.width) <= now.saturating_add(1) {
            let Some(bucket) = self.buckets.pop_front() else { break };
            self.len -= bucket.len();
            out.extend(bucket);
            self.base += 1;
        }
    }

    /// Moves every timer due at or before `now` into `out`, scanning the partial bucket too.
    pub fn pop_due_exact(&mut self, now: i64, out: &mut Vec<(i64, T)>) {
        self.pop_expired(now, out);
        if let Some(front) = self.buckets.front_mut() {
            let before = front.len();
            front.retain(|&(due, p)| {
                if due <= now {
                    out.push((due, p));
                    false
                } else {
                    true
                }
            });
            self.len -= before - front.len();
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
}
