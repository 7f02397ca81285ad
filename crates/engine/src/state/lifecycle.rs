//! Joining the steps of an order or a conversation, whatever order the events arrive in.
//!
//! Each measurement (e.g. created -> confirmed) is counted once, when both of its ends are
//! known, in the window of the step that completes it; a deadline passed without the step is
//! counted as `overdue` in the window of the deadline, and withdrawn if an earlier step turns up.

use crate::contract::{RejectReason, Rejection};
use crate::methodology::MetricId;
use serde::{Deserialize, Serialize};

/// "Not happened (yet)" for a step time; keeps the state compact.
pub const NONE: i64 = i64::MIN;

/// A change to a day accumulator that a step causes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Add `num`/`den` to `metric` on the day of `at`.
    Add {
        /// Event time the contribution is attributed to.
        at: i64,
        /// The metric.
        metric: MetricId,
        /// Numerator delta.
        num: i64,
        /// Denominator delta.
        den: i64,
    },
    /// Change `metric`'s overdue count on the day of `at` (the deadline) by `delta`.
    Overdue {
        /// The deadline.
        at: i64,
        /// The metric.
        metric: MetricId,
        /// +1 when the deadline passes, -1 when an earlier step withdraws it.
        delta: i64,
    },
    /// Schedule a deadline timer.
    Timer {
        /// When it is due.
        due: i64,
        /// Which deadline.
        kind: TimerKind,
    },
}

/// The deadlines the engine watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimerKind {
    /// Order not confirmed within the confirmation target.
    Confirm,
    /// Order not assembled within the assembly target after confirmation.
    Assemble,
    /// Order not handed over by `ship_by`.
    Handover,
    /// Customer message not answered within the response target.
    Respond,
    /// Critic not followed up within the SLA.
    FollowUp,
    /// A delivered order's complaint window ended: it is judged for assembly accuracy.
    ComplaintWindow,
    /// A service request's `due_by` passed: overdue unless closed by then.
    RequestDue,
    /// A closed request's reopen window ended: it is judged for `reopen_share`.
    ReopenWindow,
}

impl TimerKind {
    /// The metric the deadline belongs to.
    pub fn metric(self) -> MetricId {
        match self {
            TimerKind::Confirm => MetricId::ConfirmationTimeAvg,
            TimerKind::Assemble => MetricId::AssemblyTimeAvg,
            TimerKind::Handover => MetricId::OnTimeHandoverShare,
            TimerKind::Respond => MetricId::ResponseTimeAvg,
            TimerKind::FollowUp => MetricId::CriticFollowupShare,
            TimerKind::ComplaintWindow => MetricId::AssemblyAccuracyShare,
            TimerKind::RequestDue => MetricId::OnTimeClosureShare,
            TimerKind::ReopenWindow => MetricId::ReopenShare,
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// Deadline lengths of one standards version, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlines {
    /// Creation to confirmation.
    pub confirm_ms: i64,
    /// Confirmation to assembly.
    pub assemble_ms: i64,
    /// Customer message to reply.
    pub respond_ms: i64,
}

/// Deadline lengths over time: a step's deadline follows the standards version in force when
/// its clock started (creation for confirmation, confirmation for assembly, the message for the reply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Targets(Vec<(i64, Deadlines)>);

impl Targets {
    /// The same deadlines at every time.
    pub fn fixed(d: Deadlines) -> Targets {
        Targets(vec![(i64::MIN, d)])
    }

    /// Deadlines in force from each instant (UTC ms) on; the first applies before the second too.
    /// Versions that change no deadline are merged into the one before.
    pub fn schedule(mut versions: Vec<(i64, Deadlines)>) -> Targets {
        versions.sort_by_key(|(from, _)| *from);
        versions.dedup_by(|later, earlier| later.1 == earlier.1);
        if let Some(first) = versions.first_mut() {
            first.0 = i64::MIN;
        }
        Targets(versions)
    }

    /// Every version's start and deadlines (what a checkpoint depends on).
    pub fn versions(&self) -> &[(i64, Deadlines)] {
        &self.0
    }

    fn at(&self, started: i64) -> &Deadlines {
        &self.0.iter().rev().find(|(from, _)| *from <= started).unwrap_or(&self.0[0]).1
    }

    /// The confirmation deadline's length for an order created at `created`.
    pub fn confirm_ms(&self, created: i64) -> i64 {
        self.at(created).confirm_ms
    }

    /// The assembly deadline's length for an order confirmed at `confirmed`.
    pub fn assemble_ms(&self, confirmed: i64) -> i64 {
        self.at(confirmed).assemble_ms
    }

    /// The response deadline's length for a message received at `received`.
    pub fn respond_ms(&self, received: i64) -> i64 {
        self.at(received).respond_ms
    }
}

/// The order lifecycle steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `order.created` with its `ship_by`.
    Created {
        /// Handover deadline.
        ship_by: i64,
    },
    /// `order.confirmed`.
    Confirmed,
    /// `order.assembled`.
    Assembled,
    /// `order.shipped`.
    Shipped,
    /// `order.delivered`.
    Delivered,
    /// `order.cancelled`.
    Cancelled {
        /// Whether the seller cancelled.
        by_seller: bool,
    },
}

fn negative(what: &str) -> Rejection {
    Rejection::new(RejectReason::NegativeDuration, Some("occurred_at"), format!("{what}; check the producer's clock and event times"))
}

fn conflict(step: &str) -> Rejection {
    Rejection::new(
        RejectReason::ConflictingLifecycle,
        None,
        format!("the order already has a {step} step under another event_id; re-sends must keep their event_id"),
    )
}

fn known(t: i64) -> bool {
    t != NONE
}

/// What is known of one seller-order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderState {
    /// The order id, for dead letters.
    pub order_id: Box<str>,
    /// Distinguishes this state from an earlier one of the same order (stale timers).
    pub generation: u32,
    /// Index of the seller.
    pub seller: u32,
    /// Event time of the first step seen (drives the TTL).
    pub first_seen: i64,
    /// Step times, [`NONE`] until seen.
    pub created: i64,
    /// Handover deadline, known with `created`.
    pub ship_by: i64,
    /// Confirmation time.
    pub confirmed: i64,
    /// Assembly time.
    pub assembled: i64,
    /// Handover time.
    pub shipped: i64,
    /// Delivery time.
    pub delivered: i64,
    /// Cancellation time.
    pub cancelled: i64,
    /// The customer, known with `created` (empty before).
    pub customer: Box<str>,
    /// The earliest review of the order.
    pub reviewed: i64,
    /// When the survey decision is due (delivery plus the wait), [`NONE`] until delivered.
    pub survey_due: i64,
    /// Whether the survey decision was taken.
    pub survey_done: bool,
    overdue: u8,
}

impl OrderState {
    /// An order first seen at `t`.
    pub fn new(order_id: &str, generation: u32, seller: u32, t: i64) -> OrderState {
        OrderState {
            order_id: order_id.into(),
            generation,
            seller,
            first_seen: t,
            created: NONE,
            ship_by: NONE,
            confirmed: NONE,
            assembled: NONE,
            shipped: NONE,
            delivered: NONE,
            cancelled: NONE,
            customer: Box::default(),
            reviewed: NONE,
            survey_due: NONE,
            survey_done: false,
            overdue: 0,
        }
    }

    /// The time after which nothing can change the order: its delivery or cancellation, and
    /// its survey decision while that is pending.
    pub fn terminal(&self) -> Option<i64> {
        let survey = if self.survey_done { NONE } else { self.survey_due };
        [self.delivered, self.cancelled, survey].into_iter().filter(|t| known(*t)).max()
    }

    /// Applies a step at `t`, pushing its effects; the state is unchanged on rejection.
    pub fn apply(&mut self, step: Step, t: i64, targets: &Targets, fx: &mut Vec<Effect>) -> Result<(), Rejection> {
        match step {
            Step::Created { ship_by } => {
                if known(self.created) {
                    return Err(conflict("order.created"));
                }
                if (known(self.confirmed) && self.confirmed < t) || (known(self.shipped) && self.shipped < t) {
                    return Err(negative("the order was created after it was confirmed or shipped"));
                }
                self.created = t;
                self.ship_by = ship_by;
                fx.push(Effect::Add { at: t, metric: MetricId::SellerCancellationShare, num: 0, den: 1 });
                if known(self.confirmed) {
                    fx.push(Effect::Add { at: self.confirmed, metric: MetricId::ConfirmationTimeAvg, num: self.confirmed - t, den: 1 });
                }
                if known(self.shipped) {
                    fx.push(self.handover(self.shipped));
                }
                fx.push(Effect::Timer { due: t + targets.confirm_ms(t), kind: TimerKind::Confirm });
                fx.push(Effect::Timer { due: ship_by, kind: TimerKind::Handover });
            }
            Step::Confirmed => {
                if known(self.confirmed) {
                    return Err(conflict("order.confirmed"));
                }
                if (known(self.created) && t < self.created) || (known(self.assembled) && self.assembled < t) {
                    return Err(negative("the order was confirmed before it was created or after it was assembled"));
                }
                self.confirmed = t;
                if known(self.created) {
                    fx.push(Effect::Add { at: t, metric: MetricId::ConfirmationTimeAvg, num: t - self.created, den: 1 });
                    self.withdraw(TimerKind::Confirm, t, self.created + targets.confirm_ms(self.created), fx);
                }
                if known(self.assembled) {
                    fx.push(Effect::Add { at: self.assembled, metric: MetricId::AssemblyTimeAvg, num: self.assembled - t, den: 1 });
                }
                fx.push(Effect::Timer { due: t + targets.assemble_ms(t), kind: TimerKind::Assemble });
            }
            Step::Assembled => {
                if known(self.assembled) {
                    return Err(conflict("order.assembled"));
                }
                if known(self.confirmed) && t < self.confirmed {
                    return Err(negative("the order was assembled before it was confirmed"));
                }
                self.assembled = t;
                if known(self.confirmed) {
                    fx.push(Effect::Add { at: t, metric: MetricId::AssemblyTimeAvg, num: t - self.confirmed, den: 1 });
                    self.withdraw(TimerKind::Assemble, t, self.confirmed + targets.assemble_ms(self.confirmed), fx);
                }
            }
            Step::Shipped => {
                if known(self.shipped) {
                    return Err(conflict("order.shipped"));
                }
                if known(self.created) && t < self.created {
                    return Err(negative("the order was shipped before it was created"));
                }
                self.shipped = t;
                if known(self.created) {
                    fx.push(self.handover(t));
                    self.withdraw(TimerKind::Handover, t, self.ship_by, fx);
                }
            }
            Step::Delivered => {
                if known(self.delivered) {
                    return Err(conflict("order.delivered"));
                }
                self.delivered = t;
            }
            Step::Cancelled { by_seller } => {
                if known(self.cancelled) {
                    return Err(conflict("order.cancelled"));
                }
                self.cancelled = t;
                if by_seller {
                    fx.push(Effect::Add { at: t, metric: MetricId::SellerCancellationShare, num: 1, den: 0 });
                }
                for (kind, deadline) in self.deadlines(targets) {
                    self.withdraw(kind, t, deadline, fx);
                }
            }
        }
        Ok(())
    }

    /// Called when event time reaches a deadline: counts it as overdue if the step is missing.
    pub fn fire(&mut self, kind: TimerKind, targets: &Targets, fx: &mut Vec<Effect>) {
        let Some((_, deadline)) = self.deadlines(targets).into_iter().find(|(k, _)| *k == kind) else {
            return;
        };
        let step = match kind {
            TimerKind::Confirm => self.confirmed,
            TimerKind::Assemble => self.assembled,
            _ => self.shipped,
        };
        let done_in_time = |s: i64| known(s) && s <= deadline;
        if self.overdue & kind.bit() == 0 && !done_in_time(step) && !done_in_time(self.cancelled) {
            self.overdue |= kind.bit();
            fx.push(Effect::Overdue { at: deadline, metric: kind.metric(), delta: 1 });
        }
    }

    fn handover(&self, shipped: i64) -> Effect {
        Effect::Add { at: shipped, metric: MetricId::OnTimeHandoverShare, num: (shipped <= self.ship_by) as i64, den: 1 }
    }

    fn deadlines(&self, targets: &Targets) -> Vec<(TimerKind, i64)> {
        let mut d = Vec::with_capacity(3);
        if known(self.created) {
            d.push((TimerKind::Confirm, self.created + targets.confirm_ms(self.created)));
            d.push((TimerKind::Handover, self.ship_by));
        }
        if known(self.confirmed) {
            d.push((TimerKind::Assemble, self.confirmed + targets.assemble_ms(self.confirmed)));
        }
        d
    }

    fn withdraw(&mut self, kind: TimerKind, t: i64, deadline: i64, fx: &mut Vec<Effect>) {
        if self.overdue & kind.bit() != 0 && t <= deadline {
            self.overdue &= !kind.bit();
            fx.push(Effect::Overdue { at: deadline, metric: kind.metric(), delta: -1 });
        }
    }
}

/// What is known of one customer message and the seller's first reply to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageState {
    /// The message id, for dead letters.
    pub message_id: Box<str>,
    /// Distinguishes this state from an earlier one of the same message (stale timers).
    pub generation: u32,
    /// Index of the seller.
    pub seller: u32,
    /// Event time of the first event seen (drives the TTL).
    pub first_seen: i64,
    /// When the customer wrote.
    pub received: i64,
    /// The seller's earliest reply.
    pub replied: i64,
    overdue: bool,
}

impl MessageState {
    /// A message first seen at `t`.
    pub fn new(message_id: &str, generation: u32, seller: u32, t: i64) -> MessageState {
        MessageState { message_id: message_id.into(), generation, seller, first_seen: t, received: NONE, replied: NONE, overdue: false }
    }

    /// `message.received` at `t`.
    pub fn received(&mut self, t: i64, targets: &Targets, fx: &mut Vec<Effect>) -> Result<(), Rejection> {
        if known(self.received) {
            return Err(Rejection::new(
                RejectReason::ConflictingLifecycle,
                None,
                "this message_id was already received under another event_id; re-sends must keep their event_id",
            ));
        }
        if known(self.replied) && self.replied < t {
            return Err(negative("the reply is earlier than the message it answers"));
        }
        self.received = t;
        if known(self.replied) {
            fx.push(Effect::Add { at: self.replied, metric: MetricId::ResponseTimeAvg, num: self.replied - t, den: 1 });
        }
        fx.push(Effect::Timer { due: t + targets.respond_ms(t), kind: TimerKind::Respond });
        Ok(())
    }

    /// `message.replied` at `t`: only the earliest reply counts; a later one changes nothing.
    pub fn replied(&mut self, t: i64, targets: &Targets, fx: &mut Vec<Effect>) -> Result<(), Rejection> {
        if known(self.received) && t < self.received {
            return Err(negative("the reply is earlier than the message it answers"));
        }
        if known(self.replied) && self.replied <= t {
            return Ok(());
        }
        if known(self.received) {
            if known(self.replied) {
                fx.push(Effect::Add { at: self.replied, metric: MetricId::ResponseTimeAvg, num: -(self.replied - self.received), den: -1 });
            }
            fx.push(Effect::Add { at: t, metric: MetricId::ResponseTimeAvg, num: t - self.received, den: 1 });
            let deadline = self.received + targets.respond_ms(self.received);
            if self.overdue && t <= deadline {
                self.overdue = false;
                fx.push(Effect::Overdue { at: deadline, metric: MetricId::ResponseTimeAvg, delta: -1 });
            }
        }
        self.replied = t;
        Ok(())
    }

    /// Called when event time reaches the response deadline.
    pub fn fire(&mut self, targets: &Targets, fx: &mut Vec<Effect>) {
        let deadline = self.received + targets.respond_ms(self.received);
        if known(self.received) && !self.overdue && !(known(self.replied) && self.replied <= deadline) {
            self.overdue = true;
            fx.push(Effect::Overdue { at: deadline, metric: MetricId::ResponseTimeAvg, delta: 1 });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: Deadlines = Deadlines { confirm_ms: 100, assemble_ms: 1000, respond_ms: 50 };

    fn targets() -> Targets {
        Targets::fixed(D)
    }

    #[test]
    fn a_deadline_follows_the_version_in_force_when_its_clock_started() {
        let later = Deadlines { confirm_ms: 10, assemble_ms: 20, respond_ms: 30 };
        let t = Targets::schedule(vec![(1_000, later), (5, D), (3_000, later)]);
        assert_eq!(t.versions().len(), 2, "a version that changes no deadline adds nothing");
        assert_eq!((t.confirm_ms(-50), t.confirm_ms(999), t.confirm_ms(1_000)), (100, 100, 10));
        assert_eq!((t.assemble_ms(2_000), t.respond_ms(0)), (20, 50));
        let mut o = OrderState::new("o", 0, 0, 990);
        let mut fx = Vec::new();
        o.apply(Step::Created { ship_by: 5_000 }, 990, &t, &mut fx).unwrap();
        o.apply(Step::Confirmed, 1_050, &t, &mut fx).unwrap();
        let timers: Vec<(i64, TimerKind)> =
            fx.iter().filter_map(|e| if let Effect::Timer { due, kind } = e { Some((*due, *kind)) } else { None }).collect();
        assert!(timers.contains(&(1_090, TimerKind::Confirm)) && timers.contains(&(1_070, TimerKind::Assemble)), "{timers:?}");
    }

    fn sum(fx: &[Effect], metric: MetricId) -> (i64, i64, i64) {
        fx.iter().fold((0, 0, 0), |(n, d, o), e| match *e {
            Effect::Add { metric: m, num, den, .. } if m == metric => (n + num, d + den, o),
            Effect::Overdue { metric: m, delta, .. } if m == metric => (n, d, o + delta),
            _ => (n, d, o),
        })
    }

    #[test]
    fn steps_in_any_order_give_the_same_measurements() {
        let steps = [(Step::Created { ship_by: 500 }, 0), (Step::Confirmed, 40), (Step::Assembled, 300), (Step::Shipped, 450)];
        let mut orders = vec![steps.to_vec(), steps.iter().rev().copied().collect()];
        orders.push(vec![steps[2], steps[0], steps[3], steps[1]]);
        for order in orders {
            let mut o = OrderState::new("o", 0, 0, 0);
            let mut fx = Vec::new();
            for (s, t) in order {
                o.apply(s, t, &targets(), &mut fx).unwrap();
            }
            assert_eq!(sum(&fx, MetricId::ConfirmationTimeAvg), (40, 1, 0));
            assert_eq!(sum(&fx, MetricId::AssemblyTimeAvg), (260, 1, 0));
            assert_eq!(sum(&fx, MetricId::OnTimeHandoverShare), (1, 1, 0));
            assert_eq!(sum(&fx, MetricId::SellerCancellationShare), (0, 1, 0));
        }
    }

    #[test]
    fn overdue_counts_and_is_withdrawn_by_an_earlier_step() {
        let mut o = OrderState::new("o", 0, 0, 0);
        let mut fx = Vec::new();
        o.apply(Step::Created { ship_by: 500 }, 0, &targets(), &mut fx).unwrap();
        o.fire(TimerKind::Confirm, &targets(), &mut fx);
        o.fire(TimerKind::Confirm, &targets(), &mut fx);
        assert_eq!(sum(&fx, MetricId::ConfirmationTimeAvg).2, 1);
        o.apply(Step::Confirmed, 90, &targets(), &mut fx).unwrap();
        assert_eq!(sum(&fx, MetricId::ConfirmationTimeAvg), (90, 1, 0));
        o.fire(TimerKind::Handover, &targets(), &mut fx);
        o.apply(Step::Shipped, 700, &targets(), &mut fx).unwrap();
        assert_eq!(sum(&fx, MetricId::OnTimeHandoverShare), (0, 1, 1), "late handover stays overdue");
    }

    #[test]
    fn cancellation_before_a_deadline_withdraws_it() {
        let mut o = OrderState::new("o", 0, 0, 0);
        let mut fx = Vec::new();
        o.apply(Step::Created { ship_by: 500 }, 0, &targets(), &mut fx).unwrap();
        o.fire(TimerKind::Confirm, &targets(), &mut fx);
        o.apply(Step::Cancelled { by_seller: true }, 60, &targets(), &mut fx).unwrap();
        assert_eq!(sum(&fx, MetricId::ConfirmationTimeAvg).2, 0);
        assert_eq!(sum(&fx, MetricId::SellerCancellationShare), (1, 1, 0));
        o.fire(TimerKind::Handover, &targets(), &mut fx);
        assert_eq!(sum(&fx, MetricId::OnTimeHandoverShare).2, 0);
        assert_eq!(o.apply(Step::Cancelled { by_seller: false }, 70, &targets(), &mut fx).unwrap_err().reason, RejectReason::ConflictingLifecycle);
    }

    #[test]
    fn negative_durations_are_rejected_without_changing_state() {
        let mut o = OrderState::new("o", 0, 0, 0);
        let mut fx = Vec::new();
        o.apply(Step::Confirmed, 10, &targets(), &mut fx).unwrap();
        let e = o.apply(Step::Created { ship_by: 500 }, 20, &targets(), &mut fx).unwrap_err();
        assert_eq!(e.reason, RejectReason::NegativeDuration);
        assert_eq!(o.created, NONE);
    }

    #[test]
    fn only_the_earliest_reply_counts() {
        let mut m = MessageState::new("m", 0, 0, 0);
        let mut fx = Vec::new();
        m.replied(90, &targets(), &mut fx).unwrap();
        m.received(0, &targets(), &mut fx).unwrap();
        m.fire(&targets(), &mut fx);
        m.replied(120, &targets(), &mut fx).unwrap();
        assert_eq!(sum(&fx, MetricId::ResponseTimeAvg), (90, 1, 1));
        m.replied(30, &targets(), &mut fx).unwrap();
        assert_eq!(sum(&fx, MetricId::ResponseTimeAvg), (30, 1, 0));
    }
}
