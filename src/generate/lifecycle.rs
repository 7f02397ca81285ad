//! What happens: one seller's orders, conversations and NPS answers for one local day.
//!
//! Each order or conversation is planned whole when it starts (every later step included),
//! as compact [`Fact`]s; the arrival layer drops what falls after the horizon and orders the
//! rest by arrival. Steps of one order or conversation have strictly increasing times.

use super::format::{cancel_reasons, HIGH_COMMENTS, NPS_COMMENTS, REVIEW_REASONS};
use super::profile::{Profile, Trend};
use super::rng::Rng;
use super::zone::Zone;
use quality_engine::contract::{CancelledBy, Channel, ComplaintReason, DAY_MS, HOUR_MS};

/// One minute in milliseconds: the least gap between two steps of an order.
pub(super) const MINUTE_MS: i64 = 60_000;

/// Relative order (and message) intensity per local hour of the day: quiet nights, busy evenings.
const HOURLY: [f64; 24] = [2.0, 1.0, 0.6, 0.4, 0.4, 0.6, 1.2, 2.5, 3.5, 4.5, 5.0, 5.3, 5.5, 5.5, 5.3, 5.2, 5.2, 5.4, 6.0, 6.5, 7.0, 6.5, 5.0, 3.5];
/// Relative volume per weekday, Monday first.
const WEEKLY: [f64; 7] = [1.05, 1.0, 1.0, 1.0, 0.95, 0.9, 1.1];
/// Conversations started per order, on average.
const CONVERSATIONS_PER_ORDER: f64 = 0.35;
/// NPS answers per order, on average.
const NPS_PER_ORDER: f64 = 0.08;
/// Probability that the customer cancels an order.
const CUSTOMER_CANCEL: f64 = 0.03;
/// Probability that the platform cancels an order (payment, fraud).
const PLATFORM_CANCEL: f64 = 0.006;
/// Probability that an answered message is audited for completeness.
const AUDIT_RATE: f64 = 0.15;
/// Probability that a delivered order draws a complaint that is not about its assembly (damaged, other).
const OTHER_COMPLAINTS: f64 = 0.02;

/// What a fact is, with the few values that vary within a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `order.created`, with its `ship_by` deadline (UTC milliseconds).
    OrderCreated {
        /// Deadline for handing the order over to delivery.
        ship_by: i64,
    },
    /// `order.confirmed`.
    OrderConfirmed,
    /// `order.assembled`.
    OrderAssembled,
    /// `order.shipped`.
    OrderShipped,
    /// `order.delivered`.
    OrderDelivered,
    /// `order.cancelled`.
    OrderCancelled {
        /// Who cancelled.
        by: CancelledBy,
        /// Index into the party's reasons, 0 = no reason given.
        reason: u8,
    },
    /// `message.received` (message number `sub` of the conversation).
    MessageReceived,
    /// `message.replied` to message number `sub`.
    MessageReplied,
    /// `inquiry.resolved` for the conversation.
    InquiryResolved {
        /// Whether it took one exchange only.
        first_contact: bool,
    },
    /// `answer.audited` for the answer to message number `sub`.
    AnswerAudited {
        /// The audit's verdict.
        complete: bool,
    },
    /// `review.submitted` for the order.
    ReviewSubmitted {
        /// 1..=5.
        rating: u8,
        /// Where the review came from.
        channel: Channel,
        /// Index into the comments for this rating, 0 = no comment.
        comment: u8,
        /// Bit set over the review reasons.
        reasons: u8,
    },
    /// `nps.submitted`, answer number `entity` of the seller.
    NpsSubmitted {
        /// 0..=10.
        score: u8,
        /// Index into the NPS comments, 0 = no comment.
        comment: u8,
    },
    /// `critic.followed_up` for the review of order `entity` or, with `nps`, NPS answer `entity`.
    CriticFollowedUp {
        /// Whether the critic is an NPS answer.
        nps: bool,
    },
    /// `order.complaint` number `sub` about order `entity`.
    OrderComplaint {
        /// What the customer complains about.
        reason: ComplaintReason,
        /// Whether the customer wrote a comment (the reason's text).
        comment: bool,
    },
}

/// One event in compact form: numbers only, formatted as JSON when it is emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fact {
    /// Event time, UTC milliseconds.
    pub occurred: i64,
    /// What happened.
    pub kind: Kind,
    /// Seller number, from 1.
    pub seller: u32,
    /// Order, conversation or NPS answer number within the seller, from 1.
    pub entity: u32,
    /// Message number within the conversation, from 1 (0 for other facts).
    pub sub: u8,
}

/// A synthetic seller: its profile, its random streams and its counters.
#[derive(Debug, Clone)]
pub struct Seller {
    /// Seller number, from 1 (`seller-0001`).
    pub number: u32,
    /// How the seller behaves.
    pub profile: Profile,
    /// Draws what happens (independent of the anomaly settings).
    pub world: Rng,
    /// Draws arrival delays and anomalies.
    pub wire: Rng,
    /// Draws follow-ups of critics (its own stream, so the rest of the run does not change with it).
    care: Rng,
    /// Draws complaints about delivered orders (its own stream, like `care`).
    claims: Rng,
    /// Draws the complaints' arrival delays and anomalies, so that other events arrive as without complaints.
    claims_wire: Rng,
    /// How its quality drifts over the days (`None`: it keeps its profile).
    trend: Option<Trend>,
    orders: u32,
    conversations: u32,
    nps: u32,
}

impl Seller {
    /// Seller `number` of the run seeded with `seed`; the same whatever the number of sellers.
    pub fn new(seed: u64, number: u32) -> Seller {
        let mut world = Rng::new(seed, 2 * number as u64);
        let mut profile = Profile::draw(&mut world);
        let care = Rng::new(seed ^ 0x5eed_ca7e, number as u64);
        let mut claims = Rng::new(seed ^ 0xc1a1_5eed, 2 * number as u64);
        profile.assembly_errors = (profile.assembly_errors * claims.lognormal(1.0, 0.3)).min(1.0);
        let claims_wire = Rng::new(seed ^ 0xc1a1_5eed, 2 * number as u64 + 1);
        Seller {
            number,
            profile,
            world,
            wire: Rng::new(seed, 2 * number as u64 + 1),
            care,
            claims,
            claims_wire,
            trend: None,
            orders: 0,
            conversations: 0,
            nps: 0,
        }
    }

    /// The stream that draws how `kind` arrives: complaints have their own.
    pub fn wire_for(&mut self, kind: Kind) -> &mut Rng {
        match kind {
            Kind::OrderComplaint { .. } => &mut self.claims_wire,
            _ => &mut self.wire,
        }
    }

    /// Seller `number` whose quality drifts (see [`Profile::drifting`]); its profile is set
    /// day by day with [`Seller::drift`].
    pub fn drifting(seed: u64, number: u32, trend: Trend) -> Seller {
        Seller { profile: Profile::drifting(trend, 0.0), trend: Some(trend), ..Seller::new(seed, number) }
    }

    /// Moves a drifting seller's profile to `progress` through the simulated days (0 to 1).
    pub fn drift(&mut self, progress: f64) {
        if let Some(trend) = self.trend {
            self.profile = Profile::drifting(trend, progress);
        }
    }
}

/// One local day of the horizon.
#[derive(Debug, Clone, Copy)]
pub struct Day {
    /// Local midnight, UTC milliseconds.
    pub start: i64,
    /// The next local midnight (23 to 25 hours later around DST changes).
    pub end: i64,
    /// Monday = 0 .. Sunday = 6.
    pub weekday: u32,
    /// Configured orders per seller and day, before profile and weekday factors.
    pub orders: f64,
}

impl Day {
    /// An instant of this day following the customers' hourly rhythm.
    fn customer_time(&self, rng: &mut Rng) -> i64 {
        let hour = rng.weighted(&HOURLY) as f64;
        let fraction = (hour + rng.uniform()) / 24.0;
        (self.start + (fraction * (self.end - self.start) as f64) as i64).min(self.end - 1)
    }
}

/// Plans everything `seller` starts on `day` (with all later steps) into `out`.
pub fn seller_day(seller: &mut Seller, day: &Day, zone: &Zone, out: &mut Vec<Fact>) {
    let rate = day.orders * seller.profile.volume * WEEKLY[day.weekday as usize % 7];
    for _ in 0..seller.world.poisson(rate) {
        seller.orders += 1;
        let created = day.customer_time(&mut seller.world);
        order(seller, seller.orders, created, zone, out);
    }
    for _ in 0..seller.world.poisson(rate * CONVERSATIONS_PER_ORDER) {
        seller.conversations += 1;
        let started = day.customer_time(&mut seller.world);
        conversation(seller, seller.conversations, started, zone, out);
    }
    for _ in 0..seller.world.poisson(rate * NPS_PER_ORDER) {
        seller.nps += 1;
        let at = day.customer_time(&mut seller.world);
        let (score, comment) = nps(&mut seller.world, &seller.profile);
        out.push(Fact { occurred: at, kind: Kind::NpsSubmitted { score, comment }, seller: seller.number, entity: seller.nps, sub: 0 });
        if score <= 6 && comment != 0 {
            follow_up(seller, seller.nps, at, true, out);
        }
    }
}

/// A duration drawn from a log-normal distribution, in milliseconds, at least `min_ms`.
pub(super) fn duration(rng: &mut Rng, median_ms: f64, sigma: f64, min_ms: i64) -> i64 {
    (rng.lognormal(median_ms, sigma) as i64).max(min_ms)
}

/// One order from creation to delivery and review, or to its cancellation.
fn order(seller: &mut Seller, n: u32, created: i64, zone: &Zone, out: &mut Vec<Fact>) {
    let (p, rng) = (&seller.profile, &mut seller.world);
    let ship_by = created + rng.between(24 * HOUR_MS, 72 * HOUR_MS + 1);
    let confirmed = zone.next_open(created, p.hours) + duration(rng, p.confirm_median_h * HOUR_MS as f64, 0.9, MINUTE_MS);
    let assembled = confirmed + duration(rng, p.assemble_median_h * HOUR_MS as f64, 0.6, 10 * MINUTE_MS);
    let late = !rng.bernoulli(p.on_time);
    let shipped = if late || assembled + 10 * MINUTE_MS >= ship_by {
        assembled.max(ship_by) + MINUTE_MS + rng.exponential(8.0 * HOUR_MS as f64) as i64
    } else {
        let room = (ship_by - assembled).min(8 * HOUR_MS);
        assembled + rng.between(5 * MINUTE_MS, room)
    };
    let delivered = shipped + duration(rng, 40.0 * HOUR_MS as f64, 0.5, 2 * HOUR_MS);
    let steps = [
        (created, Kind::OrderCreated { ship_by }),
        (confirmed, Kind::OrderConfirmed),
        (assembled, Kind::OrderAssembled),
        (shipped, Kind::OrderShipped),
        (delivered, Kind::OrderDelivered),
    ];
    let u = rng.uniform();
    let cancel = if u < PLATFORM_CANCEL {
        Some((CancelledBy::Platform, 1))
    } else if u < PLATFORM_CANCEL + p.seller_cancel {
        Some((CancelledBy::Seller, 1 + rng.below(2) as usize))
    } else if u < PLATFORM_CANCEL + p.seller_cancel + CUSTOMER_CANCEL {
        Some((CancelledBy::Customer, 1 + rng.below(3) as usize))
    } else {
        None
    };
    let fact = |occurred, kind| Fact { occurred, kind, seller: seller.number, entity: n, sub: 0 };
    if let Some((by, done)) = cancel {
        // `done` steps happened; the cancellation falls strictly between step `done - 1` and step `done`.
        let (after, before) = (steps[done - 1].0, steps[done].0);
        let at = after + 1 + rng.between(0, (before - after - 1).max(1));
        let reason = if rng.bernoulli(0.8) { 1 + rng.below(cancel_reasons(by).len() as u64) as u8 } else { 0 };
        out.extend(steps[..done].iter().map(|&(t, k)| fact(t, k)));
        out.push(fact(at, Kind::OrderCancelled { by, reason }));
        return;
    }
    out.extend(steps.iter().map(|&(t, k)| fact(t, k)));
    if rng.bernoulli(p.review_rate) {
        let at = delivered + 10 * MINUTE_MS + rng.exponential(1.5 * DAY_MS as f64) as i64;
        let kind = review(rng, p, shipped > ship_by);
        out.push(fact(at, kind));
        if matches!(kind, Kind::ReviewSubmitted { rating: ..=3, comment: 1.., .. }) {
            follow_up(seller, n, at, false, out);
        }
    }
    complaints(seller, n, shipped, delivered, out);
}

/// Complaints about a delivered order: a wrong or missing item from sellers who pack carelessly,
/// damaged or other from any. Most come within days of the delivery, some after the 14-day
/// complaint window, a few before the carrier recorded the delivery; some customers complain twice.
fn complaints(seller: &mut Seller, entity: u32, shipped: i64, delivered: i64, out: &mut Vec<Fact>) {
    let (p, rng) = (&seller.profile, &mut seller.claims);
    let reason = if rng.bernoulli(p.assembly_errors) {
        if rng.bernoulli(0.5) {
            ComplaintReason::WrongItem
        } else {
            ComplaintReason::MissingItem
        }
    } else if rng.bernoulli(OTHER_COMPLAINTS) {
        if rng.bernoulli(0.6) {
            ComplaintReason::Damaged
        } else {
            ComplaintReason::Other
        }
    } else {
        return;
    };
    let u = rng.uniform();
    let at = if u < 0.05 {
        delivered - rng.between(MINUTE_MS, (delivered - shipped).min(6 * HOUR_MS))
    } else if u < 0.15 {
        delivered + rng.between(15 * DAY_MS, 25 * DAY_MS)
    } else {
        delivered + duration(rng, 20.0 * HOUR_MS as f64, 1.0, 10 * MINUTE_MS)
    };
    let complaint = |occurred, sub, comment| Fact { occurred, kind: Kind::OrderComplaint { reason, comment }, seller: seller.number, entity, sub };
    out.push(complaint(at, 1, rng.bernoulli(0.5)));
    if rng.bernoulli(0.15) {
        out.push(complaint(at + rng.between(HOUR_MS, 48 * HOUR_MS), 2, rng.bernoulli(0.5)));
    }
}

/// The seller follows up with a critic, or not: responsive sellers (those who answer most
/// messages) mostly within the 48 h SLA, the others later or never.
fn follow_up(seller: &mut Seller, entity: u32, at: i64, nps: bool, out: &mut Vec<Fact>) {
    let (p, rng) = (&seller.profile, &mut seller.care);
    if !rng.bernoulli(p.answer_rate) {
        return;
    }
    let median = if p.answer_rate >= 0.9 { 6.0 * HOUR_MS as f64 } else { 40.0 * HOUR_MS as f64 };
    let delay = duration(rng, median, 0.8, 10 * MINUTE_MS);
    out.push(Fact { occurred: at + delay, kind: Kind::CriticFollowedUp { nps }, seller: seller.number, entity, sub: 0 });
}

/// A review's rating, channel, comment and reasons; late orders are rated lower more often.
fn review(rng: &mut Rng, p: &Profile, late: bool) -> Kind {
    let mut rating = 1 + rng.weighted(&p.ratings) as u8;
    // Half the customers of a late order hold it against the seller.
    let blames_lateness = late && rng.bernoulli(0.5);
    if blames_lateness {
        rating = rating.min(1 + rng.below(3) as u8);
    }
    let (mut comment, mut reasons) = (0u8, 0u8);
    let reason_count = REVIEW_REASONS.len() as u64;
    if rating <= 3 {
        // The main complaint drives both the reasons and the comment (reason 0 is lateness).
        let main = if blames_lateness { 0 } else { rng.below(reason_count) as u8 };
        if blames_lateness || rng.bernoulli(0.7) {
            reasons = 1 << main;
            if rng.bernoulli(0.3) {
                reasons |= 1 << rng.below(reason_count);
            }
        }
        if rng.bernoulli(0.5) {
            comment = main + 1;
        }
    } else if rng.bernoulli(0.15) {
        comment = 1 + rng.below(HIGH_COMMENTS.len() as u64) as u8;
    }
    let channel = if rng.bernoulli(0.6) { Channel::App } else { Channel::Survey };
    Kind::ReviewSubmitted { rating, channel, comment, reasons }
}

/// One NPS answer: a score from the seller's promoter/detractor mix and an optional comment.
fn nps(rng: &mut Rng, p: &Profile) -> (u8, u8) {
    let u = rng.uniform();
    let score = if u < p.promoters {
        9 + rng.below(2) as u8
    } else if u < 1.0 - p.detractors {
        7 + rng.below(2) as u8
    } else {
        // Detractors mostly give 5 or 6, a few give 0.
        [0u8, 1, 2, 3, 4, 5, 5, 6, 6, 6][rng.below(10) as usize]
    };
    // Comments come in a praising and a complaining half.
    let half = NPS_COMMENTS.len() as u64 / 2;
    let first = if score >= 7 { 1 } else { 1 + half as u8 };
    let comment = if rng.bernoulli(0.2) { first + rng.below(half) as u8 } else { 0 };
    (score, comment)
}

/// One conversation: customer messages, the seller's answers, audits and the resolution.
fn conversation(seller: &mut Seller, n: u32, started: i64, zone: &Zone, out: &mut Vec<Fact>) {
    let (p, rng) = (&seller.profile, &mut seller.world);
    let first_contact = rng.bernoulli(p.first_contact);
    let messages = if first_contact { 1 } else { 2 + rng.below(2) as u8 };
    let fact = |occurred, kind, sub| Fact { occurred, kind, seller: seller.number, entity: n, sub };
    let mut t = started;
    let mut answered = false;
    for sub in 1..=messages {
        out.push(fact(t, Kind::MessageReceived, sub));
        answered = rng.bernoulli(p.answer_rate);
        if answered {
            let replied = zone.next_open(t, p.hours) + duration(rng, p.reply_median_min * MINUTE_MS as f64, 0.9, 1000);
            out.push(fact(replied, Kind::MessageReplied, sub));
            if rng.bernoulli(AUDIT_RATE) {
                let audited = replied + 2 * HOUR_MS + rng.exponential(DAY_MS as f64) as i64;
                out.push(fact(audited, Kind::AnswerAudited { complete: rng.bernoulli(p.complete) }, sub));
            }
            t = replied + 5 * MINUTE_MS + rng.exponential(2.0 * HOUR_MS as f64) as i64;
        } else {
            t += HOUR_MS + rng.exponential(3.0 * HOUR_MS as f64) as i64;
        }
    }
    // A conversation whose last message is left unanswered is never resolved.
    if answered {
        out.push(fact(t, Kind::InquiryResolved { first_contact: messages == 1 }, 0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::profile::Tier;

    fn setup() -> (Zone, Day) {
        let start = 1_792_962_000_000; // 2026-10-26T00:00:00+03:00
        (Zone::new(chrono_tz::Europe::Moscow, start, start + 30 * DAY_MS), Day { start, end: start + DAY_MS, weekday: 0, orders: 20.0 })
    }

    #[test]
    fn steps_of_an_order_strictly_increase_and_end_once() {
        let (zone, day) = setup();
        for number in 1..60 {
            let mut seller = Seller::new(11, number);
            let mut out = Vec::new();
            seller_day(&mut seller, &day, &zone, &mut out);
            for n in 1..=seller.orders {
                let steps: Vec<&Fact> = out.iter().filter(|f| f.entity == n && is_order(f.kind)).collect();
                assert!(matches!(steps[0].kind, Kind::OrderCreated { ship_by } if ship_by >= steps[0].occurred + 24 * HOUR_MS));
                assert!(steps.windows(2).all(|w| w[0].occurred < w[1].occurred), "{steps:?}");
                assert!(steps.iter().all(|f| f.occurred >= day.start));
                let ends = steps.iter().filter(|f| matches!(f.kind, Kind::OrderCancelled { .. } | Kind::OrderDelivered)).count();
                assert_eq!(ends, 1, "{steps:?}");
            }
        }
    }

    fn is_order(k: Kind) -> bool {
        !matches!(
            k,
            Kind::MessageReceived
                | Kind::MessageReplied
                | Kind::InquiryResolved { .. }
                | Kind::AnswerAudited { .. }
                | Kind::NpsSubmitted { .. }
                | Kind::CriticFollowedUp { .. }
                | Kind::OrderComplaint { .. }
        )
    }

    #[test]
    fn replies_follow_their_message() {
        let (zone, day) = setup();
        let mut seller = Seller::new(5, 1);
        let mut out = Vec::new();
        for _ in 0..30 {
            seller_day(&mut seller, &day, &zone, &mut out);
        }
        let mut replies = 0;
        for r in out.iter().filter(|f| f.kind == Kind::MessageReplied) {
            let m = out.iter().find(|f| f.kind == Kind::MessageReceived && f.entity == r.entity && f.sub == r.sub).unwrap();
            assert!(r.occurred > m.occurred);
            replies += 1;
        }
        assert!(replies > 50);
    }

    #[test]
    fn worse_tiers_confirm_slower() {
        let (zone, day) = setup();
        let mut hours = [(0.0, 0usize); 5];
        for number in 1..400 {
            let mut seller = Seller::new(9, number);
            let mut out = Vec::new();
            seller_day(&mut seller, &day, &zone, &mut out);
            let tier = Tier::ALL.iter().position(|t| *t == seller.profile.tier).unwrap();
            for pair in out.windows(2) {
                if let (Kind::OrderCreated { .. }, Kind::OrderConfirmed) = (pair[0].kind, pair[1].kind) {
                    hours[tier].0 += (pair[1].occurred - pair[0].occurred) as f64 / HOUR_MS as f64;
                    hours[tier].1 += 1;
                }
            }
        }
        let means: Vec<f64> = hours.iter().map(|(sum, n)| sum / *n as f64).collect();
        assert!(means.windows(2).all(|w| w[0] < w[1]), "{means:?}");
        assert!(means[0] < 2.0 && means[4] > 2.0, "{means:?}");
    }
}
