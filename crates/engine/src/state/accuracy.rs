//! Assembly accuracy of one order: was it packed complete and correct?
//!
//! A delivered order is judged once, when its complaint window (delivery + `complaint_window`)
//! ends: accurate unless a complaint of a wrong or missing item is dated at or before that end.
//! It counts on the local day of the window end. A complaint dated within the window that
//! arrives after the judgement corrects it (numerator -1 on that day); one dated after the
//! window changes nothing. Complaints that come before the delivery wait for it.

use super::lifecycle::{Effect, NONE};
use crate::methodology::MetricId;
use serde::{Deserialize, Serialize};

/// What is known of one seller-order's delivery and complaints (saved in checkpoints).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Accuracy {
    /// The order id, kept only while the order's creation is unknown (for the orphan's dead
    /// letter): most orders are known at delivery and keep no copy of it.
    pub order_id: Option<Box<str>>,
    /// Distinguishes this state from an earlier one of the same order (stale timers).
    pub generation: u32,
    /// Index of the seller.
    pub seller: u32,
    /// Event time of the first event seen (drives the TTL of complaints waiting for a delivery).
    pub first_seen: i64,
    /// Whether the order's `order.created` was seen: complaints about an order never created are orphans.
    pub created: bool,
    /// Delivery time, [`NONE`] until delivered.
    pub delivered: i64,
    /// End of the complaint window (delivery + window), [`NONE`] until delivered.
    pub window_end: i64,
    /// The earliest complaint of a wrong or missing item, [`NONE`] without one.
    pub assembly_error: i64,
    /// Complaints received, whatever their reason (for the orphan's dead letter).
    pub complaints: u32,
    /// Whether the order was counted at its window end.
    pub judged: bool,
}

impl Accuracy {
    /// An order first seen (delivered or complained about) at `t`.
    pub fn new(order_id: &str, generation: u32, seller: u32, t: i64, created: bool) -> Accuracy {
        Accuracy {
            order_id: (!created).then(|| order_id.into()),
            generation,
            seller,
            first_seen: t,
            created,
            delivered: NONE,
            window_end: NONE,
            assembly_error: NONE,
            complaints: 0,
            judged: false,
        }
    }

    /// `order.delivered` at `t`: the window end to judge the order at, `None` if it was delivered before.
    pub fn deliver(&mut self, t: i64, window_ms: i64) -> Option<i64> {
        if self.delivered != NONE {
            return None;
        }
        self.delivered = t;
        self.window_end = t.saturating_add(window_ms);
        Some(self.window_end)
    }

    /// A complaint at `t`; only the earliest complaint of a wrong or missing item matters.
    pub fn complain(&mut self, t: i64, assembly_error: bool, fx: &mut Vec<Effect>) {
        self.complaints = self.complaints.saturating_add(1);
        if !assembly_error || (self.assembly_error != NONE && self.assembly_error <= t) {
            return;
        }
        let was_accurate = self.accurate();
        self.assembly_error = t;
        if self.judged && was_accurate && !self.accurate() {
            fx.push(Effect::Add { at: self.window_end, metric: MetricId::AssemblyAccuracyShare, num: -1, den: 0 });
        }
    }

    /// Event time reached the window end: the order counts, accurate or not (once).
    pub fn judge(&mut self, fx: &mut Vec<Effect>) {
        if self.delivered == NONE || self.judged {
            return;
        }
        self.judged = true;
        fx.push(Effect::Add { at: self.window_end, metric: MetricId::AssemblyAccuracyShare, num: self.accurate() as i64, den: 1 });
    }

    /// Whether no complaint of a wrong or missing item is dated at or before the window end.
    pub fn accurate(&self) -> bool {
        !(self.assembly_error != NONE && self.assembly_error <= self.window_end)
    }

    /// Whether nothing can change the order any more: judged and its window end behind the
    /// watermark (or, as a last resort, the state TTL past it; or never delivered within the TTL).
    pub fn expired(&self, watermark: i64, ttl_ms: i64) -> bool {
        if self.delivered == NONE {
            return self.first_seen.saturating_add(ttl_ms) <= watermark;
        }
        (self.judged && self.window_end < watermark) || self.window_end.saturating_add(ttl_ms) <= watermark
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: i64 = 1000;

    fn sum(fx: &[Effect]) -> Vec<(i64, i64, i64)> {
        fx.iter()
            .map(|e| match *e {
                Effect::Add { at, metric: MetricId::AssemblyAccuracyShare, num, den } => (at, num, den),
                other => panic!("unexpected effect {other:?}"),
            })
            .collect()
    }

    fn delivered(at: i64) -> Accuracy {
        let mut a = Accuracy::new("o", 1, 0, at, true);
        assert_eq!(a.deliver(at, WINDOW), Some(at + WINDOW));
        a
    }

    #[test]
    fn an_order_without_an_assembly_complaint_is_accurate_on_its_window_end() {
        let mut a = delivered(100);
        let mut fx = Vec::new();
        a.complain(200, false, &mut fx);
        a.judge(&mut fx);
        a.judge(&mut fx);
        assert_eq!(sum(&fx), [(1100, 1, 1)], "judged once, a damaged item is not an assembly error");
        assert_eq!(a.deliver(500, WINDOW), None, "a second delivery changes nothing");
    }

    #[test]
    fn a_wrong_item_within_the_window_makes_it_inaccurate_before_or_after_the_judgement() {
        let mut fx = Vec::new();
        let mut early = delivered(100);
        early.complain(1100, true, &mut fx);
        early.judge(&mut fx);
        assert_eq!(sum(&fx), [(1100, 0, 1)], "a complaint at the window end counts");

        let mut fx = Vec::new();
        let mut late = delivered(100);
        late.judge(&mut fx);
        late.complain(900, true, &mut fx);
        late.complain(800, true, &mut fx);
        assert_eq!(sum(&fx), [(1100, 1, 1), (1100, -1, 0)], "corrected once, whatever further complaints say");
    }

    #[test]
    fn a_complaint_after_the_window_changes_nothing() {
        let mut fx = Vec::new();
        let mut a = delivered(100);
        a.judge(&mut fx);
        a.complain(1101, true, &mut fx);
        assert_eq!(sum(&fx), [(1100, 1, 1)]);
        assert_eq!(a.complaints, 1);
    }

    #[test]
    fn a_complaint_before_the_delivery_waits_for_it() {
        let mut fx = Vec::new();
        let mut a = Accuracy::new("o", 1, 0, 50, false);
        a.complain(50, true, &mut fx);
        a.judge(&mut fx);
        assert!(fx.is_empty(), "nothing to judge before the delivery");
        a.deliver(100, WINDOW);
        a.judge(&mut fx);
        assert_eq!(sum(&fx), [(1100, 0, 1)]);
    }

    #[test]
    fn expiry_waits_for_the_judgement_and_the_watermark() {
        let mut a = delivered(100);
        assert!(!a.expired(5000, 10_000), "not judged yet");
        a.judge(&mut Vec::new());
        assert!(!a.expired(1100, 10_000), "a complaint at the window end may still come");
        assert!(a.expired(1101, 10_000));
        assert!(delivered(100).expired(11_100, 10_000), "given up a TTL after the window end");
        let waiting = Accuracy::new("o", 1, 0, 50, true);
        assert!(!waiting.expired(10_049, 10_000) && waiting.expired(10_050, 10_000));
    }
}
