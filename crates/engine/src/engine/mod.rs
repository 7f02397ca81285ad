//! The engine: ingest events one at a time, emit window rows as windows change and close.
//!
//! Processing one event: decode, reject if older than the watermark (`too_late`), drop if its
//! `event_id` was seen (`duplicate`), join it with its order or conversation, add its
//! contributions to the seller's day accumulators, fire deadlines the event time has reached,
//! and advance the watermark, which finalizes every window it passes.

mod accuracy;
mod acting;
mod checkpoint;
mod config;
mod disputes;
mod requests;
mod rows;

pub use checkpoint::{checkpoint_open_from, CheckpointError};
pub use config::{Clock, EngineConfig};

use crate::actions::{Critic, CriticSource, Ladder, ReasonTally};
use crate::contract::{decode, Event, EventBody, RejectReason, Rejection, Timestamp};
use crate::methodology::{EntityKind, MetricId, Profile};
use crate::output::{DeadLetter, Output, Stats, Verdict};
use crate::state::{
    Accuracy, DayAccs, DayRing, Dedup, Effect, Fingerprinter, FpMap, InternedIds, MessageState, OrderState, RequestTable, Score, Step, Targets,
    TimerKind, TimerWheel, NONE,
};
use crate::window::{Calendar, Day, Period};
use requests::{EarlyExclusion, FeedbackId, RequestStep};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Days kept behind the first open day: enough for the previous month and rolling windows.
const RETAIN_DAYS: Day = 62;
/// Deadlines fire at most this much event time late (always before their day can close).
const DEADLINE_RESOLUTION_MS: i64 = 60_000;
/// Open orders and messages are swept for expiry each time the watermark moves this far
/// (a sweep visits every open item, so it runs once per day of event time, not per event).
const SWEEP_EVERY_MS: i64 = crate::contract::DAY_MS;

/// One entity's state: a seller, a department or a performer.
#[derive(Debug)]
struct SellerState {
    id: Arc<str>,
    kind: EntityKind,
    /// The department of a performer.
    parent: Option<Arc<str>>,
    days: DayRing,
    /// Where the seller stands on the escalation ladder.
    ladder: Ladder,
    /// Negative-review reasons of open weeks, by Monday.
    reasons: BTreeMap<Day, ReasonTally>,
    /// Final sums of the months of the open and the previous quarter, by first day.
    months: BTreeMap<Day, DayAccs>,
    /// The last final rolling 7- and 30-day sums and their window's end: the next day's window
    /// is that one slid by a day, instead of a sum over all its days.
    rolling: [Option<(Day, DayAccs)>; 2],
}

impl SellerState {
    fn new(id: Arc<str>, kind: EntityKind, parent: Option<Arc<str>>) -> SellerState {
        SellerState {
            id,
            kind,
            parent,
            days: DayRing::default(),
            ladder: Ladder::default(),
            reasons: BTreeMap::new(),
            months: BTreeMap::new(),
            rolling: [None, None],
        }
    }
}

/// Which open item a deadline or expiry refers to: its key and the generation of its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    Order(u128, u32),
    Message(u128, u32),
    Critic(u128, u32),
    Accuracy(u128, u32),
}

/// Sizes of the engine's state, for telemetry and the memory benchmark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StateSizes {
    /// Sellers ever seen.
    pub sellers: usize,
    /// Seller-days held (open windows plus what previous-period dynamics need).
    pub seller_days: usize,
    /// Orders not yet complete and final.
    pub open_orders: usize,
    /// Customer messages not yet answered and final.
    pub open_messages: usize,
    /// Event ids held for de-duplication.
    pub event_ids: usize,
    /// Deadline timers and survey decisions pending.
    pub timers: usize,
    /// Critics, early reviews and follow-ups, and recently surveyed customers (acting on quality).
    pub acting: usize,
    /// Delivered orders awaiting complaints, and judged ones remembered against late complaints.
    pub awaiting_complaints: usize,
    /// Service requests held (open, or closed within the state TTL).
    pub requests: usize,
}

impl std::ops::AddAssign for StateSizes {
    /// Sums the state of several engines (one per partition).
    fn add_assign(&mut self, o: StateSizes) {
        self.sellers += o.sellers;
        self.seller_days += o.seller_days;
        self.open_orders += o.open_orders;
        self.open_messages += o.open_messages;
        self.event_ids += o.event_ids;
        self.timers += o.timers;
        self.acting += o.acting;
        self.awaiting_complaints += o.awaiting_complaints;
        self.requests += o.requests;
    }
}

/// The pure, single-threaded quality engine. Drive it with [`Engine::ingest`], collect with [`Engine::drain`].
#[derive(Debug)]
pub struct Engine {
    config: EngineConfig,
    targets: Targets,
    calendar: Calendar,
    sellers: Vec<SellerState>,
    fingerprints: Fingerprinter,
    seller_index: FpMap<u32>,
    /// Open orders by fingerprint of (seller, order_id).
    orders: FpMap<OrderState>,
    /// Open customer messages by fingerprint of (seller, message_id).
    messages: FpMap<MessageState>,
    /// Answered messages already forgotten, until their TTL: a further reply to one changes
    /// nothing (instead of looking like a reply to an unknown message).
    answered: FpMap<i64>,
    next_generation: u32,
    deadlines: TimerWheel<(TimerKind, Item)>,
    /// Critics waiting for (or answered by) a follow-up, by fingerprint of (seller, source, id).
    critics: FpMap<Critic>,
    /// Follow-ups that came before their critic.
    early_followups: FpMap<acting::EarlyFollowUp>,
    /// Earliest review of orders not (yet) known, by order key.
    early_reviews: FpMap<i64>,
    /// Last survey request per (seller, customer), for the once-per-period rule.
    surveyed: FpMap<i64>,
    /// Survey decisions, due when the watermark passes delivery plus the wait.
    surveys_due: TimerWheel<(u128, u32)>,
    /// Due times and reopen windows of requests, by (slot, generation) ([`RequestTable`]): a
    /// wheel of their own, as an entry here takes 24 bytes where one in `deadlines` takes 64
    /// (its fingerprint keys), and a request arms two. They fire after the other deadlines of
    /// the same moment, which changes nothing: a request's timer only re-counts that request.
    request_deadlines: TimerWheel<(TimerKind, u32, u32)>,
    /// Survey decisions of requests, due when the watermark passes their first closure plus the wait.
    request_surveys: TimerWheel<(u32, u32)>,
    /// Requests to look at when the state TTL may have passed: each live request has an entry
    /// due no later than its expiry, so a sweep visits only those that may expire.
    request_expiry: TimerWheel<(u32, u32)>,
    /// Delivered orders awaiting the end of their complaint window, and complaints awaiting
    /// their delivery, by order key.
    accuracy: FpMap<Accuracy>,
    /// Orders judged and forgotten, until their window end plus the state TTL: a later
    /// complaint about one changes nothing (instead of looking like an orphan).
    accuracy_closed: FpMap<i64>,
    /// Service requests by fingerprint of (department, request_id).
    requests: RequestTable,
    /// The request (slot and generation) each survey and request NPS answer is about, by
    /// fingerprint of (department, id).
    feedback_of: FpMap<(u32, u32)>,
    /// Disputes that came before their feedback, by the same fingerprint.
    early_exclusions: FpMap<EarlyExclusion>,
    /// Reviews and NPS answers (not about a request) a dispute may still exclude, by fingerprint of (seller, id).
    disputable: FpMap<disputes::Disputable>,
    /// Survey question ids, interned for the day accumulators.
    question_ids: InternedIds,
    /// Site ids, interned for the requests.
    site_ids: InternedIds,
    /// Indexes of the profile's metrics: the only accumulators windows need to add up.
    metric_indexes: Vec<usize>,
    /// Each entity's place in output order (see [`Engine::sort_entities`]), derived from the
    /// entities and recomputed when one is added.
    entity_rank: Vec<u32>,
    /// Watermark of the last sweep of open orders and messages.
    swept_at: i64,
    fired: Vec<(i64, (TimerKind, Item))>,
    dedup: Dedup,
    max_event_time: i64,
    /// Largest accepted event time of each input (see [`Engine::ingest_from`]): an event is
    /// too late when it is older than its own input's time minus the lateness, so the verdict
    /// never depends on how several inputs interleave.
    input_time: Vec<i64>,
    /// Event time now: deadlines up to it have fired, the watermark is it minus the lateness.
    clock: i64,
    watermark: i64,
    /// Days before this one are final; `None` until the first window closes.
    open_from: Option<Day>,
    /// Quarters with a final month whose own row is not emitted yet, by first day.
    quarters_open: BTreeSet<Day>,
    /// Sellers with an accumulator on each held day.
    active: BTreeMap<Day, Vec<u32>>,
    dirty: Vec<(u32, Day)>,
    /// Open windows whose provisional row was emitted: their final row is due even if empty.
    published: ahash::HashSet<(u32, Period)>,
    pending: Vec<Output>,
    stats: Stats,
    fx: Vec<Effect>,
}

impl Engine {
    /// An engine with no state.
    pub fn new(config: EngineConfig) -> Engine {
        let metric_indexes = config.profile().metrics().iter().map(|m| m.index()).collect();
        Engine {
            targets: config.targets(),
            calendar: Calendar::new(config.timezone),
            config,
            sellers: Vec::new(),
            fingerprints: Fingerprinter::default(),
            seller_index: FpMap::default(),
            orders: FpMap::default(),
            messages: FpMap::default(),
            answered: FpMap::default(),
            next_generation: 0,
            deadlines: TimerWheel::new(DEADLINE_RESOLUTION_MS),
            critics: FpMap::default(),
            early_followups: FpMap::default(),
            early_reviews: FpMap::default(),
            surveyed: FpMap::default(),
            surveys_due: TimerWheel::new(DEADLINE_RESOLUTION_MS),
            request_deadlines: TimerWheel::new(DEADLINE_RESOLUTION_MS),
            request_surveys: TimerWheel::new(DEADLINE_RESOLUTION_MS),
            request_expiry: TimerWheel::new(SWEEP_EVERY_MS),
            accuracy: FpMap::default(),
            accuracy_closed: FpMap::default(),
            requests: RequestTable::default(),
            feedback_of: FpMap::default(),
            early_exclusions: FpMap::default(),
            disputable: FpMap::default(),
            question_ids: InternedIds::default(),
            site_ids: InternedIds::default(),
            metric_indexes,
            entity_rank: Vec::new(),
            swept_at: NONE,
            fired: Vec::new(),
            dedup: Dedup::default(),
            max_event_time: NONE,
            input_time: Vec::new(),
            clock: NONE,
            watermark: NONE,
            open_from: None,
            quarters_open: BTreeSet::new(),
            active: BTreeMap::new(),
            dirty: Vec::new(),
            published: ahash::HashSet::default(),
            pending: Vec::new(),
            stats: Stats::default(),
            fx: Vec::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Counters of everything seen so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The watermark: events older than this are too late. `None` before the first event.
    pub fn watermark(&self) -> Option<Timestamp> {
        (self.watermark != NONE).then_some(Timestamp(self.watermark))
    }

    /// The largest event time seen.
    pub fn max_event_time(&self) -> Option<Timestamp> {
        (self.max_event_time != NONE).then_some(Timestamp(self.max_event_time))
    }

    /// Sizes of the state held.
    pub fn state_sizes(&self) -> StateSizes {
        StateSizes {
            sellers: self.sellers.len(),
            seller_days: self.sellers.iter().map(|s| s.days.len()).sum(),
            open_orders: self.orders.len(),
            open_messages: self.messages.len(),
            event_ids: self.dedup.len(),
            timers: self.deadlines.len()
                + self.request_deadlines.len()
                + self.surveys_due.len()
                + self.request_surveys.len()
                + self.request_expiry.len(),
            acting: self.critics.len()
                + self.early_reviews.len()
                + self.early_followups.len()
                + self.surveyed.len()
                + self.early_exclusions.len()
                + self.disputable.len(),
            awaiting_complaints: self.accuracy.len() + self.accuracy_closed.len(),
            requests: self.requests.len(),
        }
    }

    /// Decodes and processes one payload; the caller dead-letters it if the verdict is a rejection.
    pub fn ingest(&mut self, payload: &[u8]) -> Verdict {
        self.ingest_from(0, payload)
    }

    /// Like [`Engine::ingest`], for an engine fed by several ordered inputs (the partitions of
    /// one seller range in several topics), numbered from 0.
    pub fn ingest_from(&mut self, input: usize, payload: &[u8]) -> Verdict {
        let verdict = match decode(payload) {
            Ok(event) => self.judge(input, &event),
            Err(r) => Verdict::Rejected(r),
        };
        self.stats.count(&verdict);
        verdict
    }

    /// Processes one already-decoded event of input 0.
    pub fn ingest_event(&mut self, event: &Event<'_>) -> Verdict {
        let verdict = self.judge(0, event);
        self.stats.count(&verdict);
        verdict
    }

    /// The largest event time accepted from an input, which the caller's clock follows.
    pub fn input_time(&self, input: usize) -> Option<Timestamp> {
        self.input_time.get(input).filter(|t| **t != NONE).map(|t| Timestamp(*t))
    }

    /// Moves everything ready (final rows, dead letters of expired state) into `out`.
    pub fn drain(&mut self, out: &mut Vec<Output>) {
        self.stats.rows_emitted += self.pending.iter().filter(|o| matches!(o, Output::Row(_))).count() as u64;
        out.append(&mut self.pending);
    }

    fn judge(&mut self, input: usize, event: &Event<'_>) -> Verdict {
        let kind = event.body.event_type();
        let t = event.occurred_at.0;
        if self.input_time.len() <= input {
            self.input_time.resize(input + 1, NONE);
        }
        let horizon = self.watermark.max(self.input_time[input].saturating_sub(self.config.allowed_lateness_ms));
        if t < horizon {
            return Verdict::Rejected(too_late(event.occurred_at, horizon));
        }
        let id = self.fingerprints.of(&*event.event_id);
        if self.dedup.contains(id) {
            return Verdict::Duplicate(kind);
        }
        if let Err(r) = self.apply(event) {
            return Verdict::Rejected(r);
        }
        self.dedup.insert(id, event.occurred_at);
        self.max_event_time = self.max_event_time.max(t);
        self.input_time[input] = self.input_time[input].max(t);
        if self.config.clock == config::Clock::MaxEventTime && t > self.clock {
            self.clock = t;
            self.fire_deadlines();
            self.advance_watermark(t.saturating_sub(self.config.allowed_lateness_ms));
        } else {
            self.fire_deadlines();
        }
        Verdict::Accepted(kind)
    }

    /// Moves event time to `now` when it is later: deadlines up to it fire and windows the
    /// watermark (`now` minus the lateness) passes become final. With [`config::Clock::Driven`]
    /// this is the only way time moves; with the default clock it lets a quiet stream's
    /// windows close on time.
    pub fn advance_clock(&mut self, now: Timestamp) {
        if now.0 > self.clock {
            self.clock = now.0;
            self.fire_deadlines();
            self.advance_watermark(now.0.saturating_sub(self.config.allowed_lateness_ms));
        }
    }

    fn seller(&mut self, id: &str) -> u32 {
        let fp = self.fingerprints.of(id);
        if let Some(&i) = self.seller_index.get(&fp) {
            return i;
        }
        let i = self.sellers.len() as u32;
        self.sellers.push(SellerState::new(id.into(), self.config.profile().key_entity(), None));
        self.seller_index.insert(fp, i);
        i
    }

    fn generation(&mut self) -> u32 {
        self.next_generation = self.next_generation.wrapping_add(1);
        self.next_generation
    }

    fn apply(&mut self, event: &Event<'_>) -> Result<(), Rejection> {
        let profile = self.config.profile();
        if !belongs(event.body.event_type(), profile) {
            return Err(wrong_profile(event.body.event_type(), profile));
        }
        let seller = self.seller(&event.seller_id);
        let t = event.occurred_at.0;
        self.fx.clear();
        let add = |metric, num, den| Effect::Add { at: t, metric, num, den };
        let item = match &event.body {
            EventBody::OrderCreated { order_id, ship_by, customer_id } => {
                let item = self.order_step(seller, order_id, Step::Created { ship_by: ship_by.0 }, t)?;
                self.order_customer(item, customer_id);
                self.order_known(item);
                Some(item)
            }
            EventBody::OrderConfirmed { order_id } => Some(self.order_step(seller, order_id, Step::Confirmed, t)?),
            EventBody::OrderAssembled { order_id } => Some(self.order_step(seller, order_id, Step::Assembled, t)?),
            EventBody::OrderShipped { order_id } => Some(self.order_step(seller, order_id, Step::Shipped, t)?),
            EventBody::OrderDelivered { order_id } => {
                let item = self.order_step(seller, order_id, Step::Delivered, t)?;
                self.await_complaints(seller, order_id, t);
                Some(item)
            }
            EventBody::OrderCancelled { order_id, cancelled_by, .. } => {
                let by_seller = *cancelled_by == crate::contract::CancelledBy::Seller;
                Some(self.order_step(seller, order_id, Step::Cancelled { by_seller }, t)?)
            }
            EventBody::MessageReceived { message_id, .. } => self.message_step(seller, message_id, true, t)?,
            EventBody::MessageReplied { message_id, .. } => self.message_step(seller, message_id, false, t)?,
            EventBody::InquiryResolved { first_contact, .. } => {
                self.fx.push(add(MetricId::FirstContactResolutionShare, *first_contact as i64, 1));
                None
            }
            EventBody::AnswerAudited { complete, .. } => {
                self.fx.push(add(MetricId::AnswerCompletenessShare, *complete as i64, 1));
                None
            }
            EventBody::ReviewSubmitted { review_id, order_id, customer_id, rating, comment, reasons, .. } => {
                if !self.note_disputable(seller, FeedbackId::Review(review_id), *rating, t) {
                    self.fx.push(add(MetricId::Csi, *rating as i64, 1));
                    self.fx.push(add(MetricId::PositiveReviewShare, (*rating >= 4) as i64, 1));
                }
                self.note_review(seller, order_id, t);
                if *rating <= 3 {
                    self.tally_reasons(seller, t, reasons.iter().map(|r| &**r));
                }
                let critic = *rating <= self.config.actions.critics.max_review_rating && has_text(comment);
                critic.then(|| self.critic_arrives(seller, CriticSource::Review, review_id, customer_id, *rating, None, t)).flatten()
            }
            EventBody::NpsSubmitted { request_id: Some(request_id), response_id, customer_id, score, comment } if profile == Profile::Service => {
                self.request_feedback(seller, request_id, FeedbackId::Nps(response_id), Score::Nps(*score), t);
                let critic = *score <= self.config.actions.critics.max_nps_score && has_text(comment);
                critic
                    .then(|| {
                        let site = self.request_site(seller, request_id);
                        self.critic_arrives(seller, CriticSource::Nps, response_id, customer_id, *score, site, t)
                    })
                    .flatten()
            }
            EventBody::NpsSubmitted { response_id, customer_id, score, comment, .. } => {
                if !self.note_disputable(seller, FeedbackId::Nps(response_id), *score, t) {
                    self.fx.push(add(MetricId::Nps, requests::nps_points(*score), 1));
                }
                let critic = *score <= self.config.actions.critics.max_nps_score && has_text(comment);
                critic.then(|| self.critic_arrives(seller, CriticSource::Nps, response_id, customer_id, *score, None, t)).flatten()
            }
            EventBody::CriticFollowedUp { review_id, response_id, survey_id, .. } => {
                match (review_id, response_id, survey_id) {
                    (Some(id), _, _) => self.follow_up(seller, CriticSource::Review, id, t),
                    (_, Some(id), _) => self.follow_up(seller, CriticSource::Nps, id, t),
                    (_, _, Some(id)) => self.follow_up(seller, CriticSource::Survey, id, t),
                    (None, None, None) => {}
                }
                None
            }
            EventBody::OrderComplaint { order_id, reason, .. } => {
                self.complaint(seller, order_id, reason.is_assembly_error(), t);
                None
            }
            EventBody::RequestCreated { request_id, performer_id, due_by, site_id, client_id, .. } => {
                let step = RequestStep::Created { performer: performer_id, due_by: due_by.0, site: self.site_ids.intern(site_id), client: client_id };
                self.request_step(seller, request_id, step, t)?;
                None
            }
            EventBody::RequestReassigned { request_id, performer_id } => {
                self.request_step(seller, request_id, RequestStep::Reassigned { performer: performer_id }, t)?;
                None
            }
            EventBody::RequestClosed { request_id, performer_id, .. } => {
                self.request_step(seller, request_id, RequestStep::Closed { performer: performer_id }, t)?;
                None
            }
            EventBody::RequestReopened { request_id, .. } => {
                self.request_step(seller, request_id, RequestStep::Reopened, t)?;
                None
            }
            EventBody::SurveyAnswered { survey_id, request_id, client_id, answers, comment, .. } => {
                let overall = answers.iter().find(|a| a.question_id == crate::contract::OVERALL_QUESTION).map_or(0, |a| a.score);
                let answers = answers.iter().map(|a| (self.question_ids.intern(&a.question_id), a.score)).collect();
                self.request_feedback(seller, request_id, FeedbackId::Survey(survey_id), Score::Survey { overall, answers }, t);
                let critic = overall <= self.config.actions.critics.max_review_rating && has_text(comment);
                critic
                    .then(|| {
                        let site = self.request_site(seller, request_id);
                        self.critic_arrives(seller, CriticSource::Survey, survey_id, client_id, overall, site, t)
                    })
                    .flatten()
            }
            EventBody::FeedbackExcluded { review_id, survey_id, response_id, .. } => {
                let feedback = match (review_id, survey_id, response_id) {
                    (Some(id), _, _) => FeedbackId::Review(id),
                    (_, Some(id), _) => FeedbackId::Survey(id),
                    (_, _, Some(id)) => FeedbackId::Nps(id),
                    (None, None, None) => unreachable!("the decoder requires one id"),
                };
                self.exclude_feedback(seller, feedback, t)?;
                None
            }
        };
        self.apply_effects(seller, item);
        if let Some(item @ Item::Order(..)) = item {
            self.schedule_survey(item);
        }
        Ok(())
    }

    fn order_step(&mut self, seller: u32, order_id: &str, step: Step, t: i64) -> Result<Item, Rejection> {
        let key = self.fingerprints.of(&(seller, order_id));
        let generation = self.generation();
        let order = self.orders.entry(key).or_insert_with(|| OrderState::new(order_id, generation, seller, t));
        let item = Item::Order(key, order.generation);
        if let Err(e) = order.apply(step, t, &self.targets, &mut self.fx) {
            if order.generation == generation {
                self.orders.remove(&key);
            }
            return Err(e);
        }
        if order.generation == generation {
            self.adopt_early_review(key);
        }
        Ok(item)
    }

    fn message_step(&mut self, seller: u32, message_id: &str, received: bool, t: i64) -> Result<Option<Item>, Rejection> {
        let key = self.fingerprints.of(&(seller, message_id));
        if self.answered.contains_key(&key) && !self.messages.contains_key(&key) {
            return if received {
                Err(Rejection::new(
                    RejectReason::ConflictingLifecycle,
                    None,
                    "this message_id was already received and answered under another event_id; re-sends must keep their event_id",
                ))
            } else {
                Ok(None)
            };
        }
        let generation = self.generation();
        let msg = self.messages.entry(key).or_insert_with(|| MessageState::new(message_id, generation, seller, t));
        let item = Item::Message(key, msg.generation);
        let result = if received { msg.received(t, &self.targets, &mut self.fx) } else { msg.replied(t, &self.targets, &mut self.fx) };
        if let Err(e) = result {
            if msg.generation == generation {
                self.messages.remove(&key);
            }
            return Err(e);
        }
        Ok(Some(item))
    }

    fn apply_effects(&mut self, seller: u32, item: Option<Item>) {
        let mut fx = std::mem::take(&mut self.fx);
        for e in fx.drain(..) {
            match e {
                Effect::Add { at, metric, num, den } => self.day_accs(seller, at).metrics[metric.index()].add(num, den),
                Effect::Overdue { at, metric, delta } => self.day_accs(seller, at).metrics[metric.index()].overdue += delta,
                Effect::Timer { due, kind } => {
                    if let Some(item) = item {
                        self.deadlines.push(due, (kind, item));
                    }
                }
            }
        }
        self.fx = fx;
    }

    /// The seller's accumulators for the day of `at`, marked changed.
    fn day_accs(&mut self, seller: u32, at: i64) -> &mut DayAccs {
        let day = self.calendar.day_of(Timestamp(at));
        debug_assert!(self.open_from.is_none_or(|f| day >= f), "a final day must never change");
        let (accs, fresh) = self.sellers[seller as usize].days.entry(day);
        if fresh {
            self.active.entry(day).or_default().push(seller);
        }
        accs.changes += 1;
        if !accs.dirty {
            accs.dirty = true;
            self.dirty.push((seller, day));
        }
        accs
    }

    /// Fires the deadlines of the timer buckets event time has passed.
    fn fire_deadlines(&mut self) {
        let mut fired = std::mem::take(&mut self.fired);
        self.deadlines.pop_expired(self.clock, &mut fired);
        self.fire(&mut fired);
        self.fired = fired;
        let mut due = Vec::new();
        self.request_deadlines.pop_expired(self.clock, &mut due);
        self.fire_requests(due);
    }

    fn fire(&mut self, fired: &mut Vec<(i64, (TimerKind, Item))>) {
        for (_, (kind, item)) in fired.drain(..) {
            self.fx.clear();
            let seller = match item {
                Item::Order(key, generation) => self.orders.get_mut(&key).filter(|o| o.generation == generation).map(|o| {
                    o.fire(kind, &self.targets, &mut self.fx);
                    o.seller
                }),
                Item::Message(key, generation) => self.messages.get_mut(&key).filter(|m| m.generation == generation).map(|m| {
                    m.fire(&self.targets, &mut self.fx);
                    m.seller
                }),
                Item::Critic(key, generation) => {
                    let seller = self.critics.get_mut(&key).filter(|c| c.generation == generation).map(|c| {
                        c.fire(&mut self.fx);
                        c.seller
                    });
                    self.report_critic(key);
                    seller
                }
                Item::Accuracy(key, generation) => self.accuracy.get_mut(&key).filter(|a| a.generation == generation).map(|a| {
                    a.judge(&mut self.fx);
                    a.seller
                }),
            };
            if let Some(seller) = seller {
                self.apply_effects(seller, None);
            }
        }
    }

    fn advance_watermark(&mut self, watermark: i64) {
        if watermark <= self.watermark {
            return;
        }
        self.watermark = watermark;
        self.decide_surveys(watermark);
        self.decide_request_surveys(watermark);
        let first_open = self.calendar.day_of(Timestamp(watermark));
        self.close_days_before(first_open);
        if self.swept_at == NONE || watermark - self.swept_at >= SWEEP_EVERY_MS {
            self.swept_at = watermark;
            self.sweep(watermark);
        }
        self.dedup.expire(watermark);
    }

    /// Releases every order and message that can no longer change: complete and behind the
    /// watermark, or older than the state TTL (or all of them, at the end of a finite stream).
    ///
    /// Orphans among them are dead-lettered in event-time order, so output never depends on
    /// hash order.
    fn sweep(&mut self, watermark: i64) {
        let ttl = self.config.state_ttl_ms;
        let expired = |first_seen: i64, done: Option<i64>| done.is_some_and(|t| t <= watermark) || first_seen.saturating_add(ttl) <= watermark;
        let mut orphans: Vec<(i64, DeadLetter)> = Vec::new();
        let sellers = &self.sellers;
        self.orders.retain(|_, o| {
            if !expired(o.first_seen, o.terminal()) {
                return true;
            }
            if o.created == NONE {
                orphans.push((o.first_seen, orphan_order(&sellers[o.seller as usize].id, o)));
            }
            false
        });
        let answered = &mut self.answered;
        answered.retain(|_, until| *until > watermark);
        self.messages.retain(|key, m| {
            let replied = (m.received != NONE && m.replied != NONE).then_some(m.replied);
            if !expired(m.first_seen, replied) {
                return true;
            }
            if m.received == NONE {
                orphans.push((m.first_seen, orphan_reply(&sellers[m.seller as usize].id, m)));
            } else if replied.is_some() {
                let until = m.first_seen.saturating_add(ttl);
                if until > watermark {
                    answered.insert(*key, until);
                }
            }
            false
        });
        self.sweep_actions(watermark, &mut orphans);
        self.sweep_accuracy(watermark, &mut orphans);
        self.sweep_requests(watermark, &mut orphans);
        self.sweep_disputable(watermark);
        orphans.sort_by(|a, b| (a.0, &a.1.payload).cmp(&(b.0, &b.1.payload)));
        for (_, dead) in orphans {
            self.stats.count_rejection(dead.reason);
            self.pending.push(Output::DeadLetter(dead));
        }
    }

    /// Ends the stream: every window with data becomes final, open state is given up.
    ///
    /// Use it for finite inputs (a file replay, a test); a streaming run never finishes.
    pub fn finish(&mut self, out: &mut Vec<Output>) {
        let end = self.clock.max(self.max_event_time);
        if end != NONE {
            self.clock = end;
            let mut fired = std::mem::take(&mut self.fired);
            self.deadlines.pop_due_exact(end, &mut fired);
            self.fire(&mut fired);
            let mut due = Vec::new();
            self.request_deadlines.pop_due_exact(end, &mut due);
            self.fire_requests(due);
            self.decide_surveys(end);
            self.decide_request_surveys(end);
            let last = self.calendar.day_of(Timestamp(end));
            self.close_days_before(last + 1);
            self.close_partial_periods(last);
            self.watermark = i64::MAX;
        }
        self.sweep(i64::MAX);
        self.drain(out);
    }
}

/// Whether an event type is measured by a profile (NPS, follow-ups and disputes by both).
fn belongs(kind: crate::contract::EventType, profile: Profile) -> bool {
    use crate::contract::EventType as T;
    match kind {
        T::NpsSubmitted | T::CriticFollowedUp | T::FeedbackExcluded => true,
        _ => kind.is_service() == (profile == Profile::Service),
    }
}

/// Whether an optional comment says something.
fn has_text(comment: &Option<std::borrow::Cow<'_, str>>) -> bool {
    comment.as_deref().is_some_and(|c| !c.trim().is_empty())
}

fn orphan_order(seller: &str, o: &OrderState) -> DeadLetter {
    let steps: BTreeMap<&str, String> = [
        ("order.confirmed", o.confirmed),
        ("order.assembled", o.assembled),
        ("order.shipped", o.shipped),
        ("order.delivered", o.delivered),
        ("order.cancelled", o.cancelled),
    ]
    .into_iter()
    .filter(|(_, t)| *t != NONE)
    .map(|(k, t)| (k, Timestamp(t).to_string()))
    .collect();
    let payload = serde_json::json!({"seller_id": seller, "order_id": &*o.order_id, "steps": steps}).to_string();
    DeadLetter::new(
        Rejection::new(
            RejectReason::OrderWithoutCreation,
            Some("order_id"),
            "these order steps never met an order.created for the same seller and order_id, so they measure nothing; check that order.created is produced",
        ),
        payload.as_bytes(),
        "engine:state-expiry".into(),
    )
}

fn orphan_reply(seller: &str, m: &MessageState) -> DeadLetter {
    let payload = serde_json::json!({"seller_id": seller, "message_id": &*m.message_id, "replied_at": Timestamp(m.replied).to_string()}).to_string();
    DeadLetter::new(
        Rejection::new(
            RejectReason::ReplyWithoutMessage,
            Some("message_id"),
            "this reply never met the message.received it answers, so no response time was measured; check that message.received is produced",
        ),
        payload.as_bytes(),
        "engine:state-expiry".into(),
    )
}

/// The rejection of an event behind the watermark (built out of line: it is the rare path).
#[cold]
#[inline(never)]
fn too_late(occurred_at: Timestamp, horizon: i64) -> Rejection {
    Rejection::new(
        RejectReason::TooLate,
        Some("occurred_at"),
        format!(
            "event time {occurred_at} is before the watermark {} (latest event time of its input minus the allowed lateness): its windows are final",
            Timestamp(horizon)
        ),
    )
}

/// The rejection of an event of the other profile.
#[cold]
#[inline(never)]
fn wrong_profile(kind: crate::contract::EventType, profile: Profile) -> Rejection {
    Rejection::new(
        RejectReason::WrongProfile,
        Some("type"),
        format!(
            "{} is not an event of the {profile} profile this pipeline runs; send it to a pipeline with [engine] profile = \"{}\"",
            kind.as_str(),
            if profile == Profile::Marketplace { "service" } else { "marketplace" }
        ),
    )
}
