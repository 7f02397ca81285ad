//! Compact facts to NDJSON lines, valid or deliberately broken.
//!
//! Lines are written by hand (no serde) because formatting is most of the generator's work.
//! Every string written is ASCII without quotes or backslashes, so nothing needs escaping.

use super::lifecycle::{Fact, Kind};
use super::rng::splitmix64;
use super::zone::Zone;
use quality_engine::contract::{civil_from_days, CancelledBy, Channel, ComplaintReason, DAY_MS};

/// Review reasons, as bits of `Kind::ReviewSubmitted::reasons` (bit 0, lateness, is used for late orders).
pub const REVIEW_REASONS: [&str; 5] = ["late delivery", "damaged packaging", "not as described", "seller did not answer", "wrong item"];
/// Comments of reviews rated 1..=3, one per review reason in the same order, so that comment and reason agree.
pub const LOW_COMMENTS: [&str; REVIEW_REASONS.len()] = [
    "Waited a week for the parcel",
    "Box arrived crushed",
    "Not what the photos showed",
    "Seller never replied to my questions",
    "Sent the wrong size",
];
/// Comments of reviews rated 4 or 5.
pub const HIGH_COMMENTS: [&str; 4] = ["Great, thanks!", "Fast delivery", "Exactly as described", "Will order again"];
/// Comments of NPS answers: the first half praise (scores 7-10), the second half complain (0-6).
pub const NPS_COMMENTS: [&str; 4] = ["Convenient app", "Good prices", "Delivery could be faster", "Support was slow to answer"];

/// What a complaining customer writes, by reason.
pub fn complaint_comment(reason: ComplaintReason) -> &'static str {
    match reason {
        ComplaintReason::WrongItem => "Got a different model than I ordered",
        ComplaintReason::MissingItem => "The charger was not in the box",
        ComplaintReason::Damaged => "The screen arrived cracked",
        ComplaintReason::Other => "The parcel smelled of smoke",
    }
}

/// Reasons a party gives for cancelling, referenced from `Kind::OrderCancelled::reason` (1-based).
pub fn cancel_reasons(by: CancelledBy) -> &'static [&'static str] {
    match by {
        CancelledBy::Seller => &["out of stock", "price error", "cannot ship in time"],
        CancelledBy::Customer => &["changed mind", "found a better price", "delivery too slow"],
        CancelledBy::Platform => &["payment failed", "fraud suspected"],
    }
}

/// How a line is broken on purpose; each way must make `decode` reject it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mangle {
    /// A valid line.
    None,
    /// Cut off before its end: invalid JSON.
    Truncated,
    /// A `type` the contract does not know.
    UnknownType,
    /// No `seller_id`, a required field.
    MissingSeller,
    /// Rating 9, score 12, or an epoch-zero `occurred_at` for types with neither.
    OutOfRange,
    /// `occurred_at` in local time without an offset.
    NoOffset,
}

impl Mangle {
    /// Every way of breaking a line, for drawing one uniformly.
    pub const BROKEN: [Mangle; 5] = [Mangle::Truncated, Mangle::UnknownType, Mangle::MissingSeller, Mangle::OutOfRange, Mangle::NoOffset];
}

/// Number of distinct customers of the marketplace (`cust-0000001` ..).
const CUSTOMERS: u64 = 2_000_000;
/// Number of regular customers of each seller.
const REGULARS: u64 = 50;

/// What formatting needs beyond the fact: the zone for offsets and the seed for customer ids.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The configured zone, with cached offsets.
    pub zone: Zone,
    /// The run's seed, so that customer ids differ between seeds.
    pub seed: u64,
}

/// The NDJSON line (without newline) for `fact`, broken as `mangle` says.
pub fn line(fact: &Fact, mangle: Mangle, ctx: &Ctx) -> String {
    let mut w = Line { s: String::with_capacity(320), fact, ctx };
    w.raw("{\"event_id\":\"");
    w.event_id();
    w.raw("\",\"type\":\"");
    w.raw(if mangle == Mangle::UnknownType { unknown_type(fact.kind) } else { type_name(fact.kind) });
    w.raw("\",\"occurred_at\":\"");
    match mangle {
        Mangle::OutOfRange if !matches!(fact.kind, Kind::ReviewSubmitted { .. } | Kind::NpsSubmitted { .. }) => w.raw("1970-01-01T00:00:00.000Z"),
        Mangle::NoOffset => w.time(fact.occurred, false),
        _ => w.time(fact.occurred, true),
    }
    w.raw("\"");
    if mangle != Mangle::MissingSeller {
        w.raw(",\"seller_id\":\"seller-");
        w.num(fact.seller as u64, 4);
        w.raw("\"");
    }
    w.body(mangle == Mangle::OutOfRange);
    w.raw("}");
    let mut s = w.s;
    if mangle == Mangle::Truncated {
        truncate(&mut s);
    }
    s
}

/// Cuts a line to two thirds of its length: invalid JSON ([`Mangle::Truncated`]).
pub fn truncate(s: &mut String) {
    let mut cut = s.len() * 2 / 3;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
}

/// Appends `n` in decimal, zero-padded to at least `width` digits.
pub fn push_num(s: &mut String, n: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &b in &buf[i.min(buf.len() - width.min(buf.len()))..] {
        s.push(b as char);
    }
}

/// Appends an RFC 3339 local time of `zone` with millisecond precision, with or without the offset.
pub fn push_time(s: &mut String, zone: &Zone, utc_ms: i64, with_offset: bool) {
    let offset = zone.offset_s(utc_ms);
    let local = utc_ms + offset as i64 * 1000;
    let (y, m, d) = civil_from_days(local.div_euclid(DAY_MS));
    let ms = local.rem_euclid(DAY_MS) as u64;
    if y < 0 {
        s.push('-');
    }
    push_num(s, y.unsigned_abs(), 4);
    s.push('-');
    push_num(s, m as u64, 2);
    s.push('-');
    push_num(s, d as u64, 2);
    s.push('T');
    push_num(s, ms / 3_600_000, 2);
    s.push(':');
    push_num(s, ms / 60_000 % 60, 2);
    s.push(':');
    push_num(s, ms / 1000 % 60, 2);
    s.push('.');
    push_num(s, ms % 1000, 3);
    if with_offset {
        s.push(if offset < 0 { '-' } else { '+' });
        let abs = offset.unsigned_abs() as u64;
        push_num(s, abs / 3600, 2);
        s.push(':');
        push_num(s, abs / 60 % 60, 2);
    }
}

/// The wire `type` of a kind.
fn type_name(kind: Kind) -> &'static str {
    match kind {
        Kind::OrderCreated { .. } => "order.created",
        Kind::OrderConfirmed => "order.confirmed",
        Kind::OrderAssembled => "order.assembled",
        Kind::OrderShipped => "order.shipped",
        Kind::OrderDelivered => "order.delivered",
        Kind::OrderCancelled { .. } => "order.cancelled",
        Kind::MessageReceived => "message.received",
        Kind::MessageReplied => "message.replied",
        Kind::InquiryResolved { .. } => "inquiry.resolved",
        Kind::AnswerAudited { .. } => "answer.audited",
        Kind::ReviewSubmitted { .. } => "review.submitted",
        Kind::NpsSubmitted { .. } => "nps.submitted",
        Kind::CriticFollowedUp { .. } => "critic.followed_up",
        Kind::OrderComplaint { .. } => "order.complaint",
    }
}

/// A plausible but unknown `type` of the same family, as a producer ahead of the contract would send.
fn unknown_type(kind: Kind) -> &'static str {
    match kind {
        Kind::MessageReceived | Kind::MessageReplied => "message.read",
        Kind::InquiryResolved { .. } | Kind::AnswerAudited { .. } => "inquiry.reopened",
        Kind::ReviewSubmitted { .. } => "review.edited",
        Kind::NpsSubmitted { .. } => "nps.reminded",
        Kind::CriticFollowedUp { .. } => "critic.escalated",
        _ => "order.returned",
    }
}

/// A line being written for one fact.
struct Line<'a> {
    s: String,
    fact: &'a Fact,
    ctx: &'a Ctx,
}

impl Line<'_> {
    fn raw(&mut self, text: &str) {
        self.s.push_str(text);
    }

    /// `n` in decimal, zero-padded to at least `width` digits.
    fn num(&mut self, n: u64, width: usize) {
        push_num(&mut self.s, n, width);
    }

    /// An RFC 3339 local time with millisecond precision, with or without the zone's offset.
    fn time(&mut self, utc_ms: i64, with_offset: bool) {
        push_time(&mut self.s, &self.ctx.zone, utc_ms, with_offset);
    }

    /// `prefix-SSSS-NNNNNN`: an id of the fact's order, conversation or NPS answer.
    fn entity(&mut self, prefix: &str) {
        self.raw(prefix);
        self.raw("-");
        self.num(self.fact.seller as u64, 4);
        self.raw("-");
        self.num(self.fact.entity as u64, 6);
    }

    /// `prefix-SSSS-NNNNNN-M`: an id of the fact's message or reply.
    fn message(&mut self, prefix: &str) {
        self.entity(prefix);
        self.raw("-");
        self.num(self.fact.sub as u64, 1);
    }

    /// `,"key":"` then the entity id and a closing quote.
    fn entity_field(&mut self, key: &str, prefix: &str) {
        self.raw(",\"");
        self.raw(key);
        self.raw("\":\"");
        self.entity(prefix);
        self.raw("\"");
    }

    /// The event id: the id of what the event is about plus the step, e.g. `order-0001-000007.shipped`.
    fn event_id(&mut self) {
        let (step, is_message) = match self.fact.kind {
            Kind::OrderCreated { .. } => ("order.created", false),
            Kind::OrderConfirmed => ("order.confirmed", false),
            Kind::OrderAssembled => ("order.assembled", false),
            Kind::OrderShipped => ("order.shipped", false),
            Kind::OrderDelivered => ("order.delivered", false),
            Kind::OrderCancelled { .. } => ("order.cancelled", false),
            Kind::MessageReceived => ("msg.received", true),
            Kind::MessageReplied => ("msg.replied", true),
            Kind::AnswerAudited { .. } => ("msg.audited", true),
            Kind::InquiryResolved { .. } => ("inq.resolved", false),
            Kind::ReviewSubmitted { .. } => ("review.submitted", false),
            Kind::NpsSubmitted { .. } => ("nps.submitted", false),
            Kind::CriticFollowedUp { nps: false } => ("review.followup", false),
            Kind::CriticFollowedUp { nps: true } => ("nps.followup", false),
            Kind::OrderComplaint { .. } => ("complaint.filed", true),
        };
        let (prefix, suffix) = step.split_at(step.find('.').unwrap_or(0));
        if is_message {
            self.message(prefix);
        } else {
            self.entity(prefix);
        }
        self.raw(suffix);
    }

    /// `,"customer_id":"cust-NNNNNNN"`: the customer behind the fact, stable per order, conversation or answer.
    ///
    /// A third of a seller's customers are its regulars (one of 50 per seller); the rest come
    /// from the whole marketplace. Either way the id depends on the seller and fact only.
    fn customer(&mut self, family: u64) {
        let seller = self.ctx.seed ^ ((self.fact.seller as u64) << 32);
        let mut h = seller ^ self.fact.entity as u64 ^ (family << 60);
        let draw = splitmix64(&mut h);
        let mut pick = if draw < u64::MAX / 3 { seller ^ ((draw >> 8) % REGULARS) ^ (3 << 60) } else { draw };
        let n = 1 + splitmix64(&mut pick) % CUSTOMERS;
        self.raw(",\"customer_id\":\"cust-");
        self.num(n, 7);
        self.raw("\"");
    }

    /// The type-specific fields; `out_of_range` puts rating 9 or score 12 where there is one.
    fn body(&mut self, out_of_range: bool) {
        match self.fact.kind {
            Kind::OrderCreated { ship_by } => {
                self.entity_field("order_id", "order");
                self.customer(0);
                self.raw(",\"ship_by\":\"");
                self.time(ship_by, true);
                self.raw("\"");
            }
            Kind::OrderConfirmed | Kind::OrderAssembled | Kind::OrderShipped | Kind::OrderDelivered => {
                self.entity_field("order_id", "order");
            }
            Kind::OrderCancelled { by, reason } => {
                self.entity_field("order_id", "order");
                self.raw(match by {
                    CancelledBy::Seller => ",\"cancelled_by\":\"seller\"",
                    CancelledBy::Customer => ",\"cancelled_by\":\"customer\"",
                    CancelledBy::Platform => ",\"cancelled_by\":\"platform\"",
                });
                self.text("reason", cancel_reasons(by), reason);
            }
            Kind::MessageReceived => {
                self.entity_field("conversation_id", "conv");
                self.raw(",\"message_id\":\"");
                self.message("msg");
                self.raw("\"");
                self.customer(1);
            }
            Kind::MessageReplied => {
                self.entity_field("conversation_id", "conv");
                self.raw(",\"message_id\":\"");
                self.message("msg");
                self.raw("\",\"reply_id\":\"");
                self.message("reply");
                self.raw("\"");
            }
            Kind::InquiryResolved { first_contact } => {
                self.entity_field("inquiry_id", "inq");
                self.raw(if first_contact { ",\"first_contact\":true" } else { ",\"first_contact\":false" });
            }
            Kind::AnswerAudited { complete } => {
                self.raw(",\"message_id\":\"");
                self.message("msg");
                self.raw(if complete { "\",\"complete\":true" } else { "\",\"complete\":false" });
            }
            Kind::ReviewSubmitted { rating, channel, comment, reasons } => {
                self.entity_field("review_id", "review");
                self.entity_field("order_id", "order");
                self.customer(0);
                self.raw(",\"rating\":");
                self.num(if out_of_range { 9 } else { rating as u64 }, 1);
                self.text("comment", if rating <= 3 { &LOW_COMMENTS } else { &HIGH_COMMENTS }, comment);
                if reasons != 0 {
                    self.raw(",\"reasons\":[");
                    let chosen = REVIEW_REASONS.iter().enumerate().filter(|(i, _)| reasons & (1 << i) != 0);
                    for (k, (_, r)) in chosen.enumerate() {
                        self.raw(if k == 0 { "\"" } else { ",\"" });
                        self.raw(r);
                        self.raw("\"");
                    }
                    self.raw("]");
                }
                self.raw(match channel {
                    Channel::App => ",\"channel\":\"app\"",
                    Channel::Survey => ",\"channel\":\"survey\"",
                });
            }
            Kind::NpsSubmitted { score, comment } => {
                self.entity_field("response_id", "nps");
                self.customer(2);
                self.raw(",\"score\":");
                self.num(if out_of_range { 12 } else { score as u64 }, 1);
                self.text("comment", &NPS_COMMENTS, comment);
            }
            Kind::CriticFollowedUp { nps: false } => self.entity_field("review_id", "review"),
            Kind::CriticFollowedUp { nps: true } => self.entity_field("response_id", "nps"),
            Kind::OrderComplaint { reason, comment } => {
                self.entity_field("order_id", "order");
                self.raw(",\"complaint_id\":\"");
                self.message("complaint");
                self.raw(match reason {
                    ComplaintReason::WrongItem => "\",\"reason\":\"wrong_item\"",
                    ComplaintReason::MissingItem => "\",\"reason\":\"missing_item\"",
                    ComplaintReason::Damaged => "\",\"reason\":\"damaged\"",
                    ComplaintReason::Other => "\",\"reason\":\"other\"",
                });
                if comment {
                    self.text("comment", &[complaint_comment(reason)], 1);
                }
            }
        }
    }

    /// `,"key":"text"` for a 1-based index into `texts`; nothing for 0 or an index out of range.
    fn text(&mut self, key: &str, texts: &[&str], index: u8) {
        if let Some(t) = (index as usize).checked_sub(1).and_then(|i| texts.get(i)) {
            self.raw(",\"");
            self.raw(key);
            self.raw("\":\"");
            self.raw(t);
            self.raw("\"");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quality_engine::contract::{decode, EventBody, RejectReason, Timestamp};

    fn ctx(tz: chrono_tz::Tz) -> Ctx {
        let from = 1_790_000_000_000;
        Ctx { zone: Zone::new(tz, from, from + 200 * DAY_MS), seed: 1 }
    }

    fn ts(s: &str) -> i64 {
        Timestamp::parse_rfc3339(s).unwrap().0
    }

    fn every_kind() -> Vec<Fact> {
        let at = ts("2026-11-16T09:30:00+03:00");
        let kinds = [
            Kind::OrderCreated { ship_by: at + 30 * 3_600_000 },
            Kind::OrderConfirmed,
            Kind::OrderAssembled,
            Kind::OrderShipped,
            Kind::OrderDelivered,
            Kind::OrderCancelled { by: CancelledBy::Seller, reason: 1 },
            Kind::OrderCancelled { by: CancelledBy::Platform, reason: 0 },
            Kind::MessageReceived,
            Kind::MessageReplied,
            Kind::InquiryResolved { first_contact: true },
            Kind::AnswerAudited { complete: false },
            Kind::ReviewSubmitted { rating: 2, channel: Channel::Survey, comment: 3, reasons: 0b101 },
            Kind::ReviewSubmitted { rating: 5, channel: Channel::App, comment: 0, reasons: 0 },
            Kind::NpsSubmitted { score: 10, comment: 2 },
            Kind::OrderComplaint { reason: ComplaintReason::MissingItem, comment: true },
            Kind::OrderComplaint { reason: ComplaintReason::Other, comment: false },
        ];
        kinds.into_iter().map(|kind| Fact { occurred: at, kind, seller: 7, entity: 123, sub: 2 }).collect()
    }

    #[test]
    fn formats_local_time_with_offset() {
        let moscow = ctx(chrono_tz::Europe::Moscow);
        let fact = Fact { occurred: ts("2026-11-16T06:30:00Z"), kind: Kind::OrderShipped, seller: 1, entity: 7, sub: 0 };
        assert_eq!(
            line(&fact, Mangle::None, &moscow),
            r#"{"event_id":"order-0001-000007.shipped","type":"order.shipped","occurred_at":"2026-11-16T09:30:00.000+03:00","seller_id":"seller-0001","order_id":"order-0001-000007"}"#
        );
        let berlin = ctx(chrono_tz::Europe::Berlin);
        let summer = Fact { occurred: ts("2026-10-25T00:59:59.999Z"), ..fact };
        let winter = Fact { occurred: ts("2026-10-25T01:00:00Z"), ..fact };
        assert!(line(&summer, Mangle::None, &berlin).contains("\"2026-10-25T02:59:59.999+02:00\""));
        assert!(line(&winter, Mangle::None, &berlin).contains("\"2026-10-25T02:00:00.000+01:00\""));
    }

    #[test]
    fn valid_lines_decode_to_what_was_planned() {
        let c = ctx(chrono_tz::Europe::Moscow);
        for fact in every_kind() {
            let text = line(&fact, Mangle::None, &c);
            let event = decode(text.as_bytes()).unwrap_or_else(|r| panic!("{text}: {r}"));
            assert_eq!(event.occurred_at, Timestamp(fact.occurred));
            assert_eq!(event.seller_id, "seller-0007");
            match (fact.kind, &event.body) {
                (Kind::OrderCreated { ship_by }, EventBody::OrderCreated { ship_by: s, .. }) => assert_eq!(Timestamp(ship_by), *s),
                (Kind::ReviewSubmitted { rating, .. }, EventBody::ReviewSubmitted { rating: r, reasons, order_id, .. }) => {
                    assert_eq!(rating, *r);
                    assert_eq!(order_id, "order-0007-000123");
                    assert_eq!(reasons.len(), if rating == 2 { 2 } else { 0 });
                }
                (Kind::MessageReplied, EventBody::MessageReplied { message_id, .. }) => assert_eq!(message_id, "msg-0007-000123-2"),
                (Kind::OrderComplaint { reason, comment }, EventBody::OrderComplaint { order_id, complaint_id, reason: r, comment: c }) => {
                    assert_eq!((order_id.as_ref(), complaint_id.as_ref(), reason), ("order-0007-000123", "complaint-0007-000123-2", *r));
                    assert_eq!(c.as_deref(), comment.then(|| complaint_comment(reason)));
                    assert_eq!(event.event_id, "complaint-0007-000123-2.filed");
                }
                (_, body) => assert_eq!(type_name(fact.kind), body.event_type().as_str()),
            }
        }
    }

    #[test]
    fn every_mangle_is_rejected_for_every_kind() {
        let c = ctx(chrono_tz::America::New_York);
        for fact in every_kind() {
            for mangle in Mangle::BROKEN {
                let text = line(&fact, mangle, &c);
                let rejection = decode(text.as_bytes()).expect_err(&text);
                let expected = match mangle {
                    Mangle::Truncated => RejectReason::InvalidJson,
                    Mangle::UnknownType => RejectReason::UnknownType,
                    Mangle::MissingSeller => RejectReason::MissingField,
                    Mangle::OutOfRange => RejectReason::OutOfRange,
                    Mangle::NoOffset | Mangle::None => RejectReason::InvalidField,
                };
                assert_eq!(rejection.reason, expected, "{text}");
            }
        }
    }
}
