//! Event-time timers bucketed by due minute (or any width): a ring of buckets for the near
//! future and an ordered map for the rest.
//!
//! Deadlines fire in bulk as event time moves on. A push within [`RING_BUCKETS`] buckets of
//! the oldest pending one is an index and a `Vec` push; a pop walks the ring's buckets in order.
//! A deadline further away (or in a past bucket) goes to the map, so one years away costs one
//! entry, not the buckets in between. Small buckets keep their buffer, so a steady stream of
//! timers allocates next to nothing.

use std::collections::BTreeMap;

/// Buckets the ring holds: at a minute each, 22 days, more than the 14-day complaint window.
const RING_BUCKETS: usize = 1 << 15;

/// A fired bucket keeps its buffer up to this many timers (a steady stream then allocates
/// nothing); a larger one is freed, so that every bucket of the ring does not keep the
/// largest burst it ever held.
const KEPT_CAPACITY: usize = 16;

/// Timers bucketed by due time; a bucket fires once time has passed its end.
#[derive(Debug)]
pub struct TimerWheel<T> {
    width: i64,
    /// The first bucket the ring holds: the ring holds buckets `base..base + RING_BUCKETS`,
    /// bucket `b` at `b mod RING_BUCKETS`.
    base: i64,
    ring: Vec<Vec<(i64, T)>>,
    /// Timers in the ring.
    in_ring: usize,
    /// Buckets outside the ring's span when their first timer came; a bucket the ring has
    /// reached since fires these before the ring's own (they were pushed earlier).
    far: BTreeMap<i64, Vec<(i64, T)>>,
    /// The first far bucket ([`i64::MAX`] when there is none): most pops need not look further.
    far_first: i64,
    /// No pending timer is due before this: a pop before it returns at once, which matters as
    /// pops come with nearly every event and most find nothing due.
    next_due: i64,
    len: usize,
}

impl<T: Copy> TimerWheel<T> {
    /// Timers fire at most `width` milliseconds late (at the end of their bucket).
    pub fn new(width: i64) -> Self {
        TimerWheel { width, base: i64::MIN, ring: Vec::new(), in_ring: 0, far: BTreeMap::new(), far_first: i64::MAX, next_due: i64::MAX, len: 0 }
    }

    /// Schedules a payload in the bucket of its due time (a past bucket fires at the next pop).
    pub fn push(&mut self, due: i64, payload: T) {
        let bucket = due.div_euclid(self.width);
        if self.in_ring == 0 && self.far.is_empty() {
            self.base = bucket;
        }
        if bucket >= self.base && bucket - self.base < RING_BUCKETS as i64 {
            if self.ring.is_empty() {
                self.ring.resize_with(RING_BUCKETS, Vec::new);
            }
            self.ring[slot(bucket)].push((due, payload));
            self.in_ring += 1;
        } else {
            self.far.entry(bucket).or_default().push((due, payload));
            self.far_first = self.far_first.min(bucket);
        }
        self.next_due = self.next_due.min(due);
        self.len += 1;
    }

    /// Moves every timer of the buckets that ended at or before `now` into `out`.
    pub fn pop_expired(&mut self, now: i64, out: &mut Vec<(i64, T)>) {
        let last_done = now.saturating_add(1).div_euclid(self.width) - 1;
        if now >= self.next_due {
            self.pop_buckets(last_done, out);
        }
        // Whatever is left lies in the buckets after `last_done`.
        self.base = self.base.max(last_done.saturating_add(1));
        self.next_due = self.next_due.max(last_done.saturating_add(1).saturating_mul(self.width));
    }

    /// Moves the timers of the buckets up to `last_done` into `out`, in bucket order.
    fn pop_buckets(&mut self, last_done: i64, out: &mut Vec<(i64, T)>) {
        if self.in_ring > 0 {
            let ring_end = last_done.min(self.base + RING_BUCKETS as i64 - 1);
            for b in self.base..=ring_end {
                self.pop_far(b, out);
                let bucket = &mut self.ring[slot(b)];
                self.in_ring -= bucket.len();
                self.len -= bucket.len();
                out.append(bucket);
                if bucket.capacity() > KEPT_CAPACITY {
                    *bucket = Vec::new();
                }
                if self.in_ring == 0 {
                    break;
                }
            }
        }
        self.pop_far(last_done, out);
    }

    /// Moves the far buckets up to `last` into `out`, in order.
    fn pop_far(&mut self, last: i64, out: &mut Vec<(i64, T)>) {
        if self.far_first > last {
            return;
        }
        while self.far.first_key_value().is_some_and(|(b, _)| *b <= last) {
            if let Some((_, mut bucket)) = self.far.pop_first() {
                self.len -= bucket.len();
                out.append(&mut bucket);
            }
        }
        self.refresh_far_first();
    }

    /// Notes the first far bucket again after far buckets were taken.
    fn refresh_far_first(&mut self) {
        self.far_first = self.far.first_key_value().map_or(i64::MAX, |(b, _)| *b);
    }

    /// Moves every timer due at or before `now` into `out`, scanning the partial bucket too.
    pub fn pop_due_exact(&mut self, now: i64, out: &mut Vec<(i64, T)>) {
        if now < self.next_due {
            return;
        }
        self.pop_expired(now, out);
        let partial = now.div_euclid(self.width);
        // The earliest timer left: in the partial bucket, or at the earliest in the next one.
        let mut left = partial.saturating_add(1).saturating_mul(self.width);
        let mut take = |bucket: &mut Vec<(i64, T)>| {
            let before = bucket.len();
            bucket.retain(|&(due, p)| {
                if due <= now {
                    out.push((due, p));
                    false
                } else {
                    left = left.min(due);
                    true
                }
            });
            before - bucket.len()
        };
        if self.far_first == partial {
            if let Some(mut entry) = self.far.first_entry() {
                self.len -= take(entry.get_mut());
                if entry.get().is_empty() {
                    entry.remove();
                    self.refresh_far_first();
                }
            }
        }
        if self.in_ring > 0 && partial == self.base {
            let n = take(&mut self.ring[slot(partial)]);
            self.in_ring -= n;
            self.len -= n;
        }
        self.next_due = self.next_due.max(left);
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

/// The ring index of bucket `b`.
fn slot(b: i64) -> usize {
    b.rem_euclid(RING_BUCKETS as i64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
    fn timers_beyond_the_ring_fire_in_bucket_order_with_those_in_it() {
        let mut w = TimerWheel::new(1);
        let far = RING_BUCKETS as i64 + 5;
        w.push(0, 0u8);
        w.push(far, 1);
        w.push(far + 1, 2);
        let mut out = Vec::new();
        w.pop_expired(10, &mut out);
        assert_eq!(out, vec![(0, 0)]);
        w.push(far, 3);
        assert_eq!((w.far.len(), w.in_ring, w.len()), (2, 1, 3), "bucket far is in the ring's span now");
        out.clear();
        w.pop_due_exact(far, &mut out);
        assert_eq!(out, vec![(far, 1), (far, 3)], "pushed earlier, fired earlier");
        out.clear();
        w.pop_expired(i64::MAX - 1, &mut out);
        assert_eq!((out, w.len()), (vec![(far + 1, 2)], 0));
    }

    #[test]
    fn fired_buckets_keep_small_buffers_only() {
        let mut w = TimerWheel::new(10);
        w.push(1, 1u8);
        w.push(2, 2);
        (0..100).for_each(|i| w.push(15, i));
        let mut out = Vec::new();
        w.pop_expired(20, &mut out);
        assert_eq!(out.len(), 102);
        assert!(w.ring[slot(0)].capacity() >= 2, "a small bucket's buffer stays for later timers");
        assert_eq!(w.ring[slot(1)].capacity(), 0, "a burst's buffer is freed");
    }

    #[derive(Debug, Clone)]
    enum Op {
        Push(i64),
        Expired(i64),
        Exact(i64),
    }

    proptest! {
        /// Every pop fires exactly the timers a plain list says are due: those in a bucket that
        /// ended by `now`, and with an exact pop those due by `now` too.
        #[test]
        fn pops_fire_what_a_plain_list_says_is_due(
            ops in proptest::collection::vec(
                prop_oneof![
                    (-50i64..400).prop_map(Op::Push),
                    (0i64..25).prop_map(Op::Expired),
                    (0i64..25).prop_map(Op::Exact),
                ],
                1..120,
            )
        ) {
            let mut w = TimerWheel::new(10);
            let mut pending: Vec<(i64, usize)> = Vec::new();
            let mut now = 0;
            for (n, op) in ops.into_iter().enumerate() {
                let mut out = Vec::new();
                let exact = match op {
                    Op::Push(ahead) => {
                        w.push(now + ahead, n);
                        pending.push((now + ahead, n));
                        continue;
                    }
                    Op::Expired(step) => {
                        now += step;
                        w.pop_expired(now, &mut out);
                        false
                    }
                    Op::Exact(step) => {
                        now += step;
                        w.pop_due_exact(now, &mut out);
                        true
                    }
                };
                let last_done = (now + 1).div_euclid(10) - 1;
                let due = |&(t, _): &(i64, usize)| t.div_euclid(10) <= last_done || (exact && t <= now);
                let mut want: Vec<_> = pending.iter().copied().filter(due).collect();
                pending.retain(|p| !due(p));
                out.sort_unstable();
                want.sort_unstable();
                prop_assert_eq!(out, want, "at {}", now);
                prop_assert_eq!(w.len(), pending.len());
            }
        }
    }

    #[test]
    fn a_timer_decades_away_costs_one_entry() {
        let mut w = TimerWheel::new(60_000);
        w.push(0, 0u8);
        w.push(4_000_000_000_000, 1);
        assert_eq!((w.in_ring, w.far.len()), (1, 1));
        let mut out = Vec::new();
        w.pop_expired(i64::MAX, &mut out);
        assert_eq!(out.len(), 2);
    }
}
