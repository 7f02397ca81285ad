//! The engine's side of assembly accuracy: delivered orders wait for the end of their
//! complaint window (a deadline timer), complaints join their order's delivery or wait for it.
//!
//! Like a critic's deadline, the judgement fires as event time reaches the window end, and a
//! complaint dated within the window that arrives later (within the allowed lateness) corrects
//! the day it was counted on.

use super::{Engine, Item};
use crate::contract::{RejectReason, Rejection, Timestamp};
use crate::output::DeadLetter;
use crate::state::{Accuracy, TimerKind, NONE};

impl Engine {
    /// `order.delivered`: the order is judged when its complaint window ends.
    pub(super) fn await_complaints(&mut self, seller: u32, order_id: &str, t: i64) {
        let key = self.fingerprints.of(&(seller, order_id));
        if self.accuracy_closed.contains_key(&key) {
            return;
        }
        let window = self.config.complaint_window_ms;
        let a = self.accuracy_state(key, seller, order_id, t);
        let item = Item::Accuracy(key, a.generation);
        if let Some(due) = a.deliver(t, window) {
            self.deadlines.push(due, (TimerKind::ComplaintWindow, item));
        }
    }

    /// `order.complaint`: joins the order's delivery, or waits for it; a complaint about an
    /// order already judged and forgotten changes nothing.
    pub(super) fn complaint(&mut self, seller: u32, order_id: &str, assembly_error: bool, t: i64) {
        let key = self.fingerprints.of(&(seller, order_id));
        if !self.accuracy.contains_key(&key) && self.accuracy_closed.contains_key(&key) {
            return;
        }
        let mut fx = std::mem::take(&mut self.fx);
        self.accuracy_state(key, seller, order_id, t).complain(t, assembly_error, &mut fx);
        self.fx = fx;
    }

    /// `order.created` was accepted: complaints about the order are not orphans.
    pub(super) fn order_known(&mut self, item: Item) {
        if let Item::Order(key, _) = item {
            if let Some(a) = self.accuracy.get_mut(&key) {
                a.created = true;
                a.order_id = None;
            }
        }
    }

    /// The order's accuracy state, new (knowing whether the order was created) if there is none.
    fn accuracy_state(&mut self, key: u128, seller: u32, order_id: &str, t: i64) -> &mut Accuracy {
        if !self.accuracy.contains_key(&key) {
            let generation = self.generation();
            let created = self.orders.get(&key).is_some_and(|o| o.created != NONE);
            self.accuracy.insert(key, Accuracy::new(order_id, generation, seller, t, created));
        }
        self.accuracy.get_mut(&key).expect("inserted above")
    }

    /// Forgets orders nothing can change any more (remembering them for the state TTL after
    /// their window end) and complaints whose delivery never came; complaints about an order
    /// never created are dead-lettered.
    pub(super) fn sweep_accuracy(&mut self, watermark: i64, orphans: &mut Vec<(i64, DeadLetter)>) {
        let ttl = self.config.state_ttl_ms;
        let closed = &mut self.accuracy_closed;
        closed.retain(|_, until| *until > watermark);
        let sellers = &self.sellers;
        self.accuracy.retain(|key, a| {
            if !a.expired(watermark, ttl) {
                return true;
            }
            if a.complaints > 0 && !a.created {
                orphans.push((a.first_seen, orphan_complaints(&sellers[a.seller as usize].id, a)));
            }
            let until = a.window_end.saturating_add(ttl);
            if a.delivered != NONE && until > watermark {
                closed.insert(*key, until);
            }
            false
        });
    }
}

fn orphan_complaints(seller: &str, a: &Accuracy) -> DeadLetter {
    let mut payload = serde_json::json!({"seller_id": seller, "order_id": a.order_id.as_deref().unwrap_or_default(), "complaints": a.complaints});
    if a.delivered != NONE {
        payload["delivered_at"] = Timestamp(a.delivered).to_string().into();
    }
    DeadLetter::new(
        Rejection::new(
            RejectReason::ComplaintWithoutOrder,
            Some("order_id"),
            "these complaints never met an order.created for the same seller and order_id within the state TTL, so they may name no real order; check the order_id and that order.created is produced",
        ),
        payload.to_string().as_bytes(),
        "engine:state-expiry".into(),
    )
}
