//! Bytes to [`Event`]: one pass of serde over a flat borrowed struct, then type checks.
//!
//! The fast path never builds a `serde_json::Value`. Only a payload that serde refuses is
//! parsed a second time, to name the field at fault in the rejection.

use super::event::{Answer, CancelledBy, Channel, ClosedIn, ComplaintReason, Event, EventBody, EventType, MAX_ANSWERS, OVERALL_QUESTION};
use super::raw::{Raw, RawAnswer, Text};
use super::reject::{RejectReason, Rejection};
use super::Timestamp;
use std::borrow::Cow;

/// Largest payload accepted, in bytes; anything larger is rejected as `oversized`.
pub const MAX_EVENT_BYTES: usize = 64 * 1024;

/// Earliest accepted event time (2000-01-01T00:00:00Z): older is a producer bug, not history.
const MIN_TIME: Timestamp = Timestamp(946_684_800_000);
/// Latest accepted event time (2100-01-01T00:00:00Z).
const MAX_TIME: Timestamp = Timestamp(4_102_444_800_000);

/// The JSON type each known field must have, for naming the culprit when serde refuses.
const FIELD_KINDS: &[(&str, FieldKind)] = &[
    ("event_id", FieldKind::String),
    ("type", FieldKind::String),
    ("occurred_at", FieldKind::String),
    ("seller_id", FieldKind::String),
    ("order_id", FieldKind::String),
    ("customer_id", FieldKind::String),
    ("ship_by", FieldKind::String),
    ("cancelled_by", FieldKind::String),
    ("reason", FieldKind::String),
    ("conversation_id", FieldKind::String),
    ("message_id", FieldKind::String),
    ("reply_id", FieldKind::String),
    ("inquiry_id", FieldKind::String),
    ("first_contact", FieldKind::Bool),
    ("complete", FieldKind::Bool),
    ("review_id", FieldKind::String),
    ("rating", FieldKind::Integer),
    ("comment", FieldKind::String),
    ("reasons", FieldKind::StringArray),
    ("channel", FieldKind::String),
    ("response_id", FieldKind::String),
    ("score", FieldKind::Integer),
    ("complaint_id", FieldKind::String),
    ("request_id", FieldKind::String),
    ("client_id", FieldKind::String),
    ("performer_id", FieldKind::String),
    ("department_id", FieldKind::String),
    ("site_id", FieldKind::String),
    ("category", FieldKind::String),
    ("due_by", FieldKind::String),
    ("closed_in", FieldKind::String),
    ("survey_id", FieldKind::String),
    ("followed_up_by", FieldKind::String),
    ("answers", FieldKind::ObjectArray(ANSWER_FIELD_KINDS)),
];

/// The members of one `answers` element: (key, the field named in rejections, kind).
const ANSWER_FIELD_KINDS: &[(&str, &str, FieldKind)] =
    &[("question_id", "answers.question_id", FieldKind::String), ("score", "answers.score", FieldKind::Integer)];

#[derive(Clone, Copy)]
enum FieldKind {
    String,
    Bool,
    Integer,
    StringArray,
    /// An array of objects, whose known members have the kinds listed.
    ObjectArray(&'static [(&'static str, &'static str, FieldKind)]),
}

impl FieldKind {
    fn accepts(self, v: &serde_json::Value) -> bool {
        match self {
            FieldKind::String => v.is_string() || v.is_null(),
            FieldKind::Bool => v.is_boolean() || v.is_null(),
            FieldKind::Integer => v.is_i64() || v.is_null(),
            FieldKind::StringArray => v.is_null() || v.as_array().is_some_and(|a| a.iter().all(|x| x.is_string())),
            FieldKind::ObjectArray(_) => v.is_null() || v.as_array().is_some_and(|a| a.iter().all(|x| x.is_object())),
        }
    }

    fn name(self) -> &'static str {
        match self {
            FieldKind::String => "a string",
            FieldKind::Bool => "a boolean",
            FieldKind::Integer => "an integer",
            FieldKind::StringArray => "an array of strings",
            FieldKind::ObjectArray(_) => "an array of objects",
        }
    }

    /// The rejection for a value of this kind that is not one, naming `field`.
    fn refuse(self, field: &'static str, v: &serde_json::Value) -> Rejection {
        let reason = if matches!(self, FieldKind::Integer) && v.is_u64() { RejectReason::OutOfRange } else { RejectReason::InvalidField };
        Rejection::new(reason, Some(field), format!("`{field}` must be {}", self.name()))
    }
}

/// Decodes and validates one event; never panics, whatever the bytes.
pub fn decode(bytes: &[u8]) -> Result<Event<'_>, Rejection> {
    if bytes.len() > MAX_EVENT_BYTES {
        return Err(Rejection::new(
            RejectReason::Oversized,
            None,
            format!("payload is {} bytes; events are limited to {MAX_EVENT_BYTES} bytes", bytes.len()),
        ));
    }
    // Validating UTF-8 once for the whole payload is cheaper than serde_json doing it per string.
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Err(Rejection::new(RejectReason::InvalidUtf8, None, "payload is not valid UTF-8; events must be UTF-8 JSON"));
    };
    // Filled in place: the struct is large, and moving it cost more than reading some events.
    let mut raw = Raw::default();
    if super::scan::scan(text, &mut raw).is_none() {
        if nested_too_deep(text) {
            return Err(Rejection::new(
                RejectReason::InvalidJson,
                None,
                format!("JSON nested deeper than {MAX_DEPTH} levels; events are flat objects (fields may hold lists of strings or of flat objects)"),
            ));
        }
        raw = serde_json::from_str::<Raw<'_>>(text).map_err(|e| diagnose(text, e))?;
    }
    validate(&mut raw)
}

/// Deepest nesting of arrays and objects an event may have (it needs 3: the event, a list, an answer).
pub const MAX_DEPTH: usize = 32;

/// Whether arrays and objects nest deeper than [`MAX_DEPTH`] (strings are skipped).
fn nested_too_deep(text: &str) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for b in text.bytes() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

fn diagnose(text: &str, err: serde_json::Error) -> Rejection {
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return Rejection::new(RejectReason::InvalidJson, None, format!("not valid JSON: {e}")),
    };
    let Some(obj) = value.as_object() else {
        return Rejection::new(RejectReason::NotAnObject, None, "an event must be a JSON object");
    };
    for (name, kind) in FIELD_KINDS {
        let Some(v) = obj.get(*name) else { continue };
        if !kind.accepts(v) {
            return kind.refuse(name, v);
        }
        if let (FieldKind::ObjectArray(members), Some(items)) = (kind, v.as_array()) {
            for item in items.iter().filter_map(|x| x.as_object()) {
                for (key, field, member) in *members {
                    match item.get(*key) {
                        Some(m) if !member.accepts(m) => return member.refuse(field, m),
                        _ => {}
                    }
                }
            }
        }
    }
    Rejection::new(RejectReason::InvalidJson, None, format!("not a valid event object: {err}"))
}

fn required<'a>(v: Option<Text<'a>>, field: &'static str) -> Result<Cow<'a, str>, Rejection> {
    match v.map(|t| t.0) {
        Some(s) if !s.is_empty() => Ok(s),
        Some(_) => Err(empty(field)),
        None => Err(missing(field)),
    }
}

/// A rejection of `field`, "`field` <what>". Rejections are built out of line (`cold`): every
/// event checks a dozen fields, and keeping the message formatting out of the checks keeps the
/// decoder's hot code small.
#[cold]
#[inline(never)]
fn bad_field(reason: RejectReason, field: &'static str, what: &str) -> Rejection {
    Rejection::new(reason, Some(field), format!("`{field}` {what}"))
}

fn missing(field: &'static str) -> Rejection {
    bad_field(RejectReason::MissingField, field, "is required")
}

fn empty(field: &'static str) -> Rejection {
    bad_field(RejectReason::InvalidField, field, "must not be empty")
}

#[cold]
#[inline(never)]
fn int_out_of_range(field: &'static str, lo: i64, hi: i64, n: i64) -> Rejection {
    bad_field(RejectReason::OutOfRange, field, &format!("must be an integer from {lo} to {hi}, got {n}"))
}

fn time(v: Option<Text<'_>>, field: &'static str) -> Result<Timestamp, Rejection> {
    let s = required(v, field)?;
    let t = Timestamp::parse_rfc3339(&s)
        .ok_or_else(|| bad_field(RejectReason::InvalidField, field, "must be an RFC 3339 date-time with offset, like 2026-11-16T09:30:00+03:00"))?;
    if t < MIN_TIME || t >= MAX_TIME {
        return Err(bad_field(RejectReason::OutOfRange, field, "must be between 2000-01-01 and 2100-01-01"));
    }
    Ok(t)
}

fn flag(v: Option<bool>, field: &'static str) -> Result<bool, Rejection> {
    v.ok_or_else(|| missing(field))
}

fn int_in(v: Option<i64>, field: &'static str, lo: i64, hi: i64) -> Result<u8, Rejection> {
    let n = v.ok_or_else(|| missing(field))?;
    if n < lo || n > hi {
        return Err(int_out_of_range(field, lo, hi, n));
    }
    Ok(n as u8)
}

/// An optional id: absent or null is `None`, present must be non-empty.
fn optional<'a>(v: Option<Text<'a>>, field: &'static str) -> Result<Option<Cow<'a, str>>, Rejection> {
    v.map(|t| required(Some(t), field)).transpose()
}

/// Exactly one of a few ids, each non-empty: none is `missing_field` and several `invalid_field`,
/// both naming the first field (`what` says which ids there are and what they name).
fn exactly_one<'a, const N: usize>(ids: [(Option<Text<'a>>, &'static str); N], what: &str) -> Result<[Option<Cow<'a, str>>; N], Rejection> {
    let first = ids[0].1;
    let mut out = [const { None }; N];
    for (slot, (v, field)) in out.iter_mut().zip(ids) {
        *slot = optional(v, field)?;
    }
    match out.iter().filter(|x| x.is_some()).count() {
        1 => Ok(out),
        n => Err(Rejection::new(if n == 0 { RejectReason::MissingField } else { RejectReason::InvalidField }, Some(first), what)),
    }
}

fn one_of<T>(v: Option<Text<'_>>, field: &'static str, options: &[(&str, T)]) -> Result<T, Rejection>
where
    T: Copy,
{
    let s = required(v, field)?;
    options
        .iter()
        .find(|(name, _)| *name == s)
        .map(|(_, t)| *t)
        .ok_or_else(|| not_one_of(field, &options.iter().map(|(n, _)| *n).collect::<Vec<_>>(), &s))
}

#[cold]
#[inline(never)]
fn not_one_of(field: &'static str, names: &[&str], got: &str) -> Rejection {
    bad_field(RejectReason::OutOfRange, field, &format!("must be one of {}, got {got:?}", names.join(", ")))
}

fn validate<'a>(raw: &mut Raw<'a>) -> Result<Event<'a>, Rejection> {
    let kind = required(raw.kind.take(), "type")?;
    let Some(event_type) = EventType::from_wire(&kind) else {
        return Err(Rejection::new(
            RejectReason::UnknownType,
            Some("type"),
            format!("unknown event type {kind:?}; see schemas/ for the contract's types"),
        ));
    };
    let event_id = required(raw.event_id.take(), "event_id")?;
    let occurred_at = time(raw.occurred_at.take(), "occurred_at")?;
    let seller_id = required(raw.seller_id.take(), "seller_id")?;
    let body = match event_type {
        EventType::OrderCreated => {
            let ship_by = time(raw.ship_by.take(), "ship_by")?;
            if ship_by < occurred_at {
                return Err(Rejection::new(RejectReason::NegativeDuration, Some("ship_by"), "`ship_by` is before the order was created"));
            }
            EventBody::OrderCreated {
                order_id: required(raw.order_id.take(), "order_id")?,
                customer_id: required(raw.customer_id.take(), "customer_id")?,
                ship_by,
            }
        }
        EventType::OrderConfirmed => EventBody::OrderConfirmed { order_id: required(raw.order_id.take(), "order_id")? },
        EventType::OrderAssembled => EventBody::OrderAssembled { order_id: required(raw.order_id.take(), "order_id")? },
        EventType::OrderShipped => EventBody::OrderShipped { order_id: required(raw.order_id.take(), "order_id")? },
        EventType::OrderDelivered => EventBody::OrderDelivered { order_id: required(raw.order_id.take(), "order_id")? },
        EventType::OrderCancelled => EventBody::OrderCancelled {
            order_id: required(raw.order_id.take(), "order_id")?,
            cancelled_by: one_of(
                raw.cancelled_by.take(),
                "cancelled_by",
                &[("seller", CancelledBy::Seller), ("customer", CancelledBy::Customer), ("platform", CancelledBy::Platform)],
            )?,
            reason: raw.reason.take().map(|t| t.0),
        },
        EventType::MessageReceived => EventBody::MessageReceived {
            conversation_id: required(raw.conversation_id.take(), "conversation_id")?,
            message_id: required(raw.message_id.take(), "message_id")?,
            customer_id: required(raw.customer_id.take(), "customer_id")?,
        },
        EventType::MessageReplied => EventBody::MessageReplied {
            conversation_id: required(raw.conversation_id.take(), "conversation_id")?,
            message_id: required(raw.message_id.take(), "message_id")?,
            reply_id: required(raw.reply_id.take(), "reply_id")?,
        },
        EventType::InquiryResolved => EventBody::InquiryResolved {
            inquiry_id: required(raw.inquiry_id.take(), "inquiry_id")?,
            first_contact: flag(raw.first_contact.take(), "first_contact")?,
        },
        EventType::AnswerAudited => {
            EventBody::AnswerAudited { message_id: required(raw.message_id.take(), "message_id")?, complete: flag(raw.complete.take(), "complete")? }
        }
        EventType::ReviewSubmitted => EventBody::ReviewSubmitted {
            review_id: required(raw.review_id.take(), "review_id")?,
            order_id: required(raw.order_id.take(), "order_id")?,
            customer_id: required(raw.customer_id.take(), "customer_id")?,
            rating: int_in(raw.rating.take(), "rating", 1, 5)?,
            comment: raw.comment.take().map(|t| t.0),
            reasons: raw.reasons.take().unwrap_or_default().into_iter().map(|t| t.0).collect(),
            channel: one_of(raw.channel.take(), "channel", &[("app", Channel::App), ("survey", Channel::Survey)])?,
        },
        EventType::NpsSubmitted => EventBody::NpsSubmitted {
            response_id: required(raw.response_id.take(), "response_id")?,
            customer_id: required(raw.customer_id.take(), "customer_id")?,
            score: int_in(raw.score.take(), "score", 0, 10)?,
            comment: raw.comment.take().map(|t| t.0),
            request_id: optional(raw.request_id.take(), "request_id")?,
        },
        EventType::CriticFollowedUp => {
            let [review_id, response_id, survey_id] = exactly_one(
                [(raw.review_id.take(), "review_id"), (raw.response_id.take(), "response_id"), (raw.survey_id.take(), "survey_id")],
                "a follow-up names exactly one critic: `review_id` (a review), `response_id` (an NPS answer) or `survey_id` (a survey)",
            )?;
            EventBody::CriticFollowedUp { review_id, response_id, survey_id, followed_up_by: optional(raw.followed_up_by.take(), "followed_up_by")? }
        }
        EventType::OrderComplaint => EventBody::OrderComplaint {
            order_id: required(raw.order_id.take(), "order_id")?,
            complaint_id: required(raw.complaint_id.take(), "complaint_id")?,
            reason: one_of(
                raw.reason.take(),
                "reason",
                &[
                    ("wrong_item", ComplaintReason::WrongItem),
                    ("missing_item", ComplaintReason::MissingItem),
                    ("damaged", ComplaintReason::Damaged),
                    ("other", ComplaintReason::Other),
                ],
            )?,
            comment: raw.comment.take().map(|t| t.0),
        },
        EventType::RequestCreated => {
            let due_by = time(raw.due_by.take(), "due_by")?;
            if due_by < occurred_at {
                return Err(Rejection::new(RejectReason::NegativeDuration, Some("due_by"), "`due_by` is before the request was created"));
            }
            let department_id = required(raw.department_id.take(), "department_id")?;
            if department_id != seller_id {
                return Err(Rejection::new(
                    RejectReason::InvalidField,
                    Some("department_id"),
                    format!(
                        "`department_id` {department_id:?} differs from `seller_id` {seller_id:?}: service events are keyed by the department \
                         that owns the request, so that every event of the request reaches the same engine; \
                         key the event by its department: set `seller_id` (and the message key) to `department_id`"
                    ),
                ));
            }
            EventBody::RequestCreated {
                request_id: required(raw.request_id.take(), "request_id")?,
                client_id: required(raw.client_id.take(), "client_id")?,
                performer_id: required(raw.performer_id.take(), "performer_id")?,
                department_id,
                site_id: required(raw.site_id.take(), "site_id")?,
                category: required(raw.category.take(), "category")?,
                due_by,
            }
        }
        EventType::RequestReassigned => EventBody::RequestReassigned {
            request_id: required(raw.request_id.take(), "request_id")?,
            performer_id: required(raw.performer_id.take(), "performer_id")?,
        },
        EventType::RequestClosed => EventBody::RequestClosed {
            request_id: required(raw.request_id.take(), "request_id")?,
            performer_id: required(raw.performer_id.take(), "performer_id")?,
            closed_in: one_of(raw.closed_in.take(), "closed_in", &[("app", ClosedIn::App), ("desk", ClosedIn::Desk)])?,
        },
        EventType::RequestReopened => {
            EventBody::RequestReopened { request_id: required(raw.request_id.take(), "request_id")?, reason: raw.reason.take().map(|t| t.0) }
        }
        EventType::SurveyAnswered => EventBody::SurveyAnswered {
            survey_id: required(raw.survey_id.take(), "survey_id")?,
            request_id: required(raw.request_id.take(), "request_id")?,
            client_id: required(raw.client_id.take(), "client_id")?,
            answers: answers(raw.answers.take())?,
            comment: raw.comment.take().map(|t| t.0),
            channel: one_of(raw.channel.take(), "channel", &[("app", Channel::App), ("survey", Channel::Survey)])?,
        },
        EventType::FeedbackExcluded => {
            let [review_id, survey_id, response_id] = exactly_one(
                [(raw.review_id.take(), "review_id"), (raw.survey_id.take(), "survey_id"), (raw.response_id.take(), "response_id")],
                "an exclusion names exactly one feedback item: `review_id` (a review), `survey_id` (a survey) or `response_id` (an NPS answer)",
            )?;
            EventBody::FeedbackExcluded { review_id, survey_id, response_id, reason: required(raw.reason.take(), "reason")? }
        }
    };
    Ok(Event { event_id, occurred_at, seller_id, body })
}

/// The answers of a survey: 1 to [`MAX_ANSWERS`], each question once, each score 1..5, the
/// main question [`OVERALL_QUESTION`] among them. Fields are named `answers.<member>`.
fn answers<'a>(v: Option<Vec<RawAnswer<'a>>>) -> Result<Vec<Answer<'a>>, Rejection> {
    let list = v.ok_or_else(|| {
        Rejection::new(
            RejectReason::MissingField,
            Some("answers"),
            format!("`answers` is required: a survey has 1 to {MAX_ANSWERS} answers, one of them to `{OVERALL_QUESTION}`"),
        )
    })?;
    if list.is_empty() || list.len() > MAX_ANSWERS {
        return Err(Rejection::new(
            RejectReason::OutOfRange,
            Some("answers"),
            format!("a survey has 1 to {MAX_ANSWERS} answers, got {}", list.len()),
        ));
    }
    let mut out: Vec<Answer<'a>> = Vec::with_capacity(list.len());
    for (i, a) in list.into_iter().enumerate() {
        let question_id = required(a.question_id, "answers.question_id").map_err(|mut r| {
            r.detail = format!("{} (answer {} of the survey)", r.detail, i + 1);
            r
        })?;
        if out.iter().any(|seen| seen.question_id == question_id) {
            return Err(Rejection::new(
                RejectReason::InvalidField,
                Some("answers.question_id"),
                format!("question {question_id:?} is answered twice; a survey answers each question at most once"),
            ));
        }
        let score = int_in(a.score, "answers.score", 1, 5).map_err(|mut r| {
            r.detail = format!("{} (the answer to question {question_id:?})", r.detail);
            r
        })?;
        out.push(Answer { question_id, score });
    }
    if !out.iter().any(|a| a.question_id == OVERALL_QUESTION) {
        return Err(Rejection::new(
            RejectReason::MissingField,
            Some("answers.overall"),
            format!(
                "no answer to the main question `{OVERALL_QUESTION}` (the client's overall impression of the service); \
                 every survey must answer it, the other questions are optional"
            ),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(s: &str) -> (RejectReason, Option<&'static str>) {
        let r = decode(s.as_bytes()).unwrap_err();
        (r.reason, r.field)
    }

    const ENV: &str = r#""event_id":"e1","occurred_at":"2026-11-16T09:30:00+03:00","seller_id":"s1""#;

    #[test]
    fn decodes_every_type_and_round_trips() {
        let lines = [
            r#""type":"order.created","order_id":"o1","customer_id":"c1","ship_by":"2026-11-17T12:00:00Z""#,
            r#""type":"order.confirmed","order_id":"o1""#,
            r#""type":"order.assembled","order_id":"o1""#,
            r#""type":"order.shipped","order_id":"o1""#,
            r#""type":"order.delivered","order_id":"o1""#,
            r#""type":"order.cancelled","order_id":"o1","cancelled_by":"seller","reason":"out of stock""#,
            r#""type":"message.received","conversation_id":"k1","message_id":"m1","customer_id":"c1""#,
            r#""type":"message.replied","conversation_id":"k1","message_id":"m1","reply_id":"r1""#,
            r#""type":"inquiry.resolved","inquiry_id":"i1","first_contact":true"#,
            r#""type":"answer.audited","message_id":"m1","complete":false"#,
            r#""type":"review.submitted","review_id":"v1","order_id":"o1","customer_id":"c1","rating":5,"comment":"ok","reasons":["fast"],"channel":"survey""#,
            r#""type":"nps.submitted","response_id":"n1","customer_id":"c1","score":9"#,
            r#""type":"critic.followed_up","review_id":"v1""#,
            r#""type":"critic.followed_up","response_id":"n1""#,
            r#""type":"order.complaint","order_id":"o1","complaint_id":"q1","reason":"wrong_item","comment":"a blue one, not red""#,
            r#""type":"order.complaint","order_id":"o1","complaint_id":"q2","reason":"damaged""#,
            r#""type":"nps.submitted","response_id":"n2","customer_id":"c1","score":3,"comment":"slow","request_id":"r1""#,
            r#""type":"critic.followed_up","survey_id":"u1","followed_up_by":"manager-7""#,
            r#""type":"critic.followed_up","review_id":"v1","followed_up_by":"m""#,
            r#""type":"request.created","request_id":"r1","client_id":"c1","performer_id":"p1","department_id":"s1","site_id":"x1","category":"plumbing","due_by":"2026-11-17T12:00:00Z""#,
            r#""type":"request.reassigned","request_id":"r1","performer_id":"p2""#,
            r#""type":"request.closed","request_id":"r1","performer_id":"p2","closed_in":"app""#,
            r#""type":"request.closed","request_id":"r1","performer_id":"p2","closed_in":"desk""#,
            r#""type":"request.reopened","request_id":"r1","reason":"still leaking""#,
            r#""type":"request.reopened","request_id":"r1""#,
            r#""type":"survey.answered","survey_id":"u1","request_id":"r1","client_id":"c1","answers":[{"question_id":"overall","score":4},{"question_id":"speed","score":2}],"comment":"late","channel":"app""#,
            r#""type":"survey.answered","survey_id":"u2","request_id":"r1","client_id":"c1","answers":[ { "score" : 5 , "question_id" : "overall", "label":"Overall" } ],"channel":"survey""#,
            r#""type":"survey.answered","survey_id":"u3","request_id":"r1","client_id":"c1","answers":[{"question_id":"q\u00e9","score":1},{"question_id":"overall","score":5}],"channel":"survey""#,
            r#""type":"feedback.excluded","review_id":"v1","reason":"the client confused sellers""#,
            r#""type":"feedback.excluded","survey_id":"u1","reason":"duplicate survey""#,
            r#""type":"feedback.excluded","response_id":"n1","reason":"abusive""#,
        ];
        for body in lines {
            let json = format!("{{{ENV},{body}}}");
            let e = decode(json.as_bytes()).unwrap_or_else(|r| panic!("{json}: {r}"));
            let again = e.to_json();
            assert_eq!(decode(again.as_bytes()).unwrap(), e, "{again}");
        }
    }

    #[test]
    fn names_the_reason_and_field() {
        assert_eq!(reason("{"), (RejectReason::InvalidJson, None));
        assert_eq!(reason("[1]"), (RejectReason::NotAnObject, None));
        assert_eq!(reason(&format!(r#"{{{ENV},"type":"order.teleported","order_id":"o"}}"#)), (RejectReason::UnknownType, Some("type")));
        assert_eq!(reason(&format!(r#"{{{ENV},"type":"order.confirmed"}}"#)), (RejectReason::MissingField, Some("order_id")));
        assert_eq!(reason(&format!(r#"{{{ENV},"type":"order.confirmed","order_id":7}}"#)), (RejectReason::InvalidField, Some("order_id")));
        assert_eq!(reason(&format!(r#"{{{ENV},"type":"order.confirmed","order_id":""}}"#)), (RejectReason::InvalidField, Some("order_id")));
        let review = r#""type":"review.submitted","review_id":"v","order_id":"o","customer_id":"c","channel":"app""#;
        assert_eq!(reason(&format!(r#"{{{ENV},{review},"rating":7}}"#)), (RejectReason::OutOfRange, Some("rating")));
        assert_eq!(reason(&format!(r#"{{{ENV},{review},"rating":4.5}}"#)), (RejectReason::InvalidField, Some("rating")));
        assert_eq!(reason(&format!(r#"{{{ENV},{review},"rating":18446744073709551615}}"#)), (RejectReason::OutOfRange, Some("rating")));
        assert_eq!(reason(&format!(r#"{{{ENV},{review},"rating":"5"}}"#)), (RejectReason::InvalidField, Some("rating")));
        assert_eq!(
            reason(r#"{"event_id":"e","type":"order.shipped","occurred_at":"2026-11-16 09:30","seller_id":"s","order_id":"o"}"#),
            (RejectReason::InvalidField, Some("occurred_at"))
        );
        assert_eq!(
            reason(r#"{"event_id":"e","type":"order.shipped","occurred_at":"1990-11-16T09:30:00Z","seller_id":"s","order_id":"o"}"#),
            (RejectReason::OutOfRange, Some("occurred_at"))
        );
        assert_eq!(reason(&format!(r#"{{{ENV},"type":"order.cancelled","order_id":"o","cancelled_by":"martians"}}"#)).0, RejectReason::OutOfRange);
        assert_eq!(decode(&[b'{', 0xff, b'}']).unwrap_err().reason, RejectReason::InvalidUtf8);
        assert_eq!(decode(&vec![b' '; MAX_EVENT_BYTES + 1]).unwrap_err().reason, RejectReason::Oversized);
        let deep = format!(r#"{{"event_id":"e","x":{}1{},"s":"[[[["}}"#, "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(decode(deep.as_bytes()).unwrap_err().reason, RejectReason::InvalidJson);
        assert!(!nested_too_deep(r#"{"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[","b":["x\"]"]}"#));
        assert_eq!(reason(&format!(r#"{{{ENV},"type":"critic.followed_up"}}"#)), (RejectReason::MissingField, Some("review_id")));
        assert_eq!(reason(&format!(r#"{{{ENV},"type":"critic.followed_up","review_id":"v","response_id":"n"}}"#)).0, RejectReason::InvalidField);
        let deep = "[".repeat(10_000);
        assert_eq!(decode(deep.as_bytes()).unwrap_err().reason, RejectReason::InvalidJson);
    }

    #[test]
    fn refuses_broken_complaints_with_the_contracts_reasons() {
        let complaint = |fields: &str| reason(&format!(r#"{{{ENV},"type":"order.complaint",{fields}}}"#));
        assert_eq!(complaint(r#""complaint_id":"q","reason":"damaged""#), (RejectReason::MissingField, Some("order_id")));
        assert_eq!(complaint(r#""order_id":"o","reason":"damaged""#), (RejectReason::MissingField, Some("complaint_id")));
        assert_eq!(complaint(r#""order_id":"o","complaint_id":"q""#), (RejectReason::MissingField, Some("reason")));
        assert_eq!(complaint(r#""order_id":"o","complaint_id":"q","reason":null"#), (RejectReason::MissingField, Some("reason")));
        assert_eq!(complaint(r#""order_id":"o","complaint_id":"","reason":"damaged""#), (RejectReason::InvalidField, Some("complaint_id")));
        assert_eq!(complaint(r#""order_id":"o","complaint_id":7,"reason":"damaged""#), (RejectReason::InvalidField, Some("complaint_id")));
        assert_eq!(complaint(r#""order_id":"o","complaint_id":"q","reason":"""#), (RejectReason::InvalidField, Some("reason")));
        assert_eq!(complaint(r#""order_id":"o","complaint_id":"q","reason":3"#), (RejectReason::InvalidField, Some("reason")));
        assert_eq!(complaint(r#""order_id":"o","complaint_id":"q","reason":"late""#), (RejectReason::OutOfRange, Some("reason")));
        assert_eq!(complaint(r#""order_id":"o","complaint_id":"q","reason":"Wrong_Item""#), (RejectReason::OutOfRange, Some("reason")));
        assert_eq!(complaint(r#""order_id":"o","complaint_id":"q","reason":"other","comment":["x"]"#), (RejectReason::InvalidField, Some("comment")));
        let unknown = format!(r#"{{{ENV},"type":"order.complaint","order_id":"o","complaint_id":"q","reason":"late"}}"#);
        assert!(decode(unknown.as_bytes()).unwrap_err().detail.contains("wrong_item, missing_item, damaged, other"));
    }

    #[test]
    fn reads_the_service_fields_into_the_right_places() {
        let created = format!(
            r#"{{{ENV},"type":"request.created","request_id":"r1","client_id":"c1","performer_id":"p1","department_id":"s1","site_id":"x1","category":"plumbing","due_by":"2026-11-17T12:00:00Z"}}"#
        );
        let e = decode(created.as_bytes()).unwrap();
        assert_eq!(
            e.body,
            EventBody::RequestCreated {
                request_id: "r1".into(),
                client_id: "c1".into(),
                performer_id: "p1".into(),
                department_id: "s1".into(),
                site_id: "x1".into(),
                category: "plumbing".into(),
                due_by: Timestamp::parse_rfc3339("2026-11-17T12:00:00Z").unwrap(),
            }
        );
        let survey = format!(
            r#"{{{ENV},"type":"survey.answered","survey_id":"u1","request_id":"r1","client_id":"c1","answers":[{{"question_id":"speed","score":2}},{{"question_id":"overall","score":4}}],"comment":"late","channel":"app"}}"#
        );
        assert_eq!(
            decode(survey.as_bytes()).unwrap().body,
            EventBody::SurveyAnswered {
                survey_id: "u1".into(),
                request_id: "r1".into(),
                client_id: "c1".into(),
                answers: vec![Answer { question_id: "speed".into(), score: 2 }, Answer { question_id: "overall".into(), score: 4 }],
                comment: Some("late".into()),
                channel: Channel::App,
            }
        );
        let nps = format!(r#"{{{ENV},"type":"nps.submitted","response_id":"n","customer_id":"c","score":3,"request_id":"r1"}}"#);
        assert!(matches!(decode(nps.as_bytes()).unwrap().body, EventBody::NpsSubmitted { request_id: Some(r), .. } if r == "r1"));
        let nps = format!(r#"{{{ENV},"type":"nps.submitted","response_id":"n","customer_id":"c","score":3,"request_id":null}}"#);
        assert!(matches!(decode(nps.as_bytes()).unwrap().body, EventBody::NpsSubmitted { request_id: None, .. }));
        let follow = format!(r#"{{{ENV},"type":"critic.followed_up","survey_id":"u1","followed_up_by":"m7"}}"#);
        assert_eq!(
            decode(follow.as_bytes()).unwrap().body,
            EventBody::CriticFollowedUp { review_id: None, response_id: None, survey_id: Some("u1".into()), followed_up_by: Some("m7".into()) }
        );
        let excluded = format!(r#"{{{ENV},"type":"feedback.excluded","survey_id":"u1","reason":"duplicate"}}"#);
        assert_eq!(
            decode(excluded.as_bytes()).unwrap().body,
            EventBody::FeedbackExcluded { review_id: None, survey_id: Some("u1".into()), response_id: None, reason: "duplicate".into() }
        );
    }

    #[test]
    fn refuses_broken_requests_with_the_contracts_reasons() {
        let created = |fields: &str| reason(&format!(r#"{{{ENV},"type":"request.created",{fields}}}"#));
        let all = [
            ("request_id", "r1"),
            ("client_id", "c1"),
            ("performer_id", "p1"),
            ("department_id", "s1"),
            ("site_id", "x1"),
            ("category", "plumbing"),
            ("due_by", "2026-11-17T12:00:00Z"),
        ];
        let with = |f: &dyn Fn(&str, &str) -> Option<String>| all.iter().filter_map(|(k, v)| f(k, v)).collect::<Vec<_>>().join(",");
        assert!(decode(format!(r#"{{{ENV},"type":"request.created",{}}}"#, with(&|k, v| Some(format!(r#""{k}":"{v}""#)))).as_bytes()).is_ok());
        for (field, _) in all {
            let without = with(&|k, v| (k != field).then(|| format!(r#""{k}":"{v}""#)));
            assert_eq!(created(&without), (RejectReason::MissingField, Some(field)), "without {field}");
            let empty = with(&|k, v| Some(if k == field { format!(r#""{k}":"""#) } else { format!(r#""{k}":"{v}""#) }));
            assert_eq!(created(&empty), (RejectReason::InvalidField, Some(field)), "{field} empty");
            let number = with(&|k, v| Some(if k == field { format!(r#""{k}":7"#) } else { format!(r#""{k}":"{v}""#) }));
            assert_eq!(created(&number), (RejectReason::InvalidField, Some(field)), "{field} a number");
        }
        let replace = |field: &str, value: &str| with(&|k, v| Some(format!(r#""{k}":"{}""#, if k == field { value } else { v })));
        assert_eq!(created(&replace("due_by", "2026-11-17 12:00")), (RejectReason::InvalidField, Some("due_by")));
        assert_eq!(created(&replace("due_by", "2026-11-16T06:29:59Z")), (RejectReason::NegativeDuration, Some("due_by")));
        assert!(decode(format!(r#"{{{ENV},"type":"request.created",{}}}"#, replace("due_by", "2026-11-16T06:30:00Z")).as_bytes()).is_ok());
        assert_eq!(created(&replace("department_id", "s2")), (RejectReason::InvalidField, Some("department_id")));
        let wrong_key = decode(format!(r#"{{{ENV},"type":"request.created",{}}}"#, replace("department_id", "s2")).as_bytes()).unwrap_err();
        assert!(wrong_key.detail.contains("keyed by the department") && wrong_key.detail.contains("set `seller_id`"), "{}", wrong_key.detail);

        let closed = |fields: &str| reason(&format!(r#"{{{ENV},"type":"request.closed","request_id":"r","performer_id":"p"{fields}}}"#));
        assert_eq!(closed(""), (RejectReason::MissingField, Some("closed_in")));
        assert_eq!(closed(r#","closed_in":null"#), (RejectReason::MissingField, Some("closed_in")));
        assert_eq!(closed(r#","closed_in":"phone""#), (RejectReason::OutOfRange, Some("closed_in")));
        assert_eq!(closed(r#","closed_in":"App""#), (RejectReason::OutOfRange, Some("closed_in")));
        assert_eq!(closed(r#","closed_in":"""#), (RejectReason::InvalidField, Some("closed_in")));
        assert_eq!(closed(r#","closed_in":true"#), (RejectReason::InvalidField, Some("closed_in")));
        let closed_in = |v: &str| match decode(
            format!(r#"{{{ENV},"type":"request.closed","request_id":"r","performer_id":"p","closed_in":"{v}"}}"#).as_bytes(),
        ) {
            Ok(Event { body: EventBody::RequestClosed { closed_in, .. }, .. }) => closed_in,
            other => panic!("{other:?}"),
        };
        assert_eq!(closed_in("app"), ClosedIn::App);
        assert_eq!(closed_in("desk"), ClosedIn::Desk);
        assert_eq!(reason(&format!(r#"{{{ENV},"type":"request.reassigned","request_id":"r"}}"#)), (RejectReason::MissingField, Some("performer_id")));
        assert_eq!(reason(&format!(r#"{{{ENV},"type":"request.reopened","reason":"x"}}"#)), (RejectReason::MissingField, Some("request_id")));
        assert_eq!(
            reason(&format!(r#"{{{ENV},"type":"request.reopened","request_id":"r","reason":1}}"#)),
            (RejectReason::InvalidField, Some("reason"))
        );
    }

    #[test]
    fn refuses_broken_surveys_with_the_contracts_reasons() {
        let survey = |answers: &str| {
            let json = format!(r#"{{{ENV},"type":"survey.answered","survey_id":"u","request_id":"r","client_id":"c","channel":"app"{answers}}}"#);
            decode(json.as_bytes()).map(|e| e.body.event_type()).map_err(|r| (r.reason, r.field, r.detail))
        };
        let refused = |answers: &str| survey(answers).map(drop).unwrap_err();
        let fault = |answers: &str| {
            let (code, field, _) = refused(answers);
            (code, field)
        };
        assert!(survey(r#","answers":[{"question_id":"overall","score":1}]"#).is_ok());
        let five = r#","answers":[{"question_id":"a","score":1},{"question_id":"b","score":2},{"question_id":"c","score":3},{"question_id":"d","score":4},{"question_id":"overall","score":5}]"#;
        assert!(survey(five).is_ok());

        assert_eq!(fault(""), (RejectReason::MissingField, Some("answers")));
        assert_eq!(fault(r#","answers":null"#), (RejectReason::MissingField, Some("answers")));
        for not_objects in
            [r#""overall""#, "5", "{}", r#"{"question_id":"overall","score":5}"#, "[1]", r#"["overall"]"#, "[null]", r#"[["overall",5]]"#]
        {
            assert_eq!(fault(&format!(r#","answers":{not_objects}"#)), (RejectReason::InvalidField, Some("answers")), "{not_objects}");
        }
        assert_eq!(fault(r#","answers":[]"#), (RejectReason::OutOfRange, Some("answers")));
        let six = five.replace(r#"]"#, r#",{"question_id":"f","score":3}]"#);
        let (code, field, detail) = refused(&six);
        assert_eq!((code, field), (RejectReason::OutOfRange, Some("answers")));
        assert!(detail.contains("1 to 5 answers, got 6"), "{detail}");
        assert!(refused(r#","answers":[]"#).2.contains("got 0"));

        assert_eq!(fault(r#","answers":[{"score":5}]"#), (RejectReason::MissingField, Some("answers.question_id")));
        assert_eq!(fault(r#","answers":[{"question_id":null,"score":5}]"#), (RejectReason::MissingField, Some("answers.question_id")));
        assert_eq!(fault(r#","answers":[{"question_id":"","score":5}]"#), (RejectReason::InvalidField, Some("answers.question_id")));
        assert_eq!(fault(r#","answers":[{"question_id":7,"score":5}]"#), (RejectReason::InvalidField, Some("answers.question_id")));
        let (code, field, detail) =
            refused(r#","answers":[{"question_id":"overall","score":5},{"question_id":"speed","score":4},{"question_id":"speed","score":3}]"#);
        assert_eq!((code, field), (RejectReason::InvalidField, Some("answers.question_id")));
        assert!(detail.contains(r#""speed""#), "{detail}");

        assert_eq!(fault(r#","answers":[{"question_id":"overall"}]"#), (RejectReason::MissingField, Some("answers.score")));
        assert_eq!(fault(r#","answers":[{"question_id":"overall","score":null}]"#), (RejectReason::MissingField, Some("answers.score")));
        for bad in ["0", "6", "-1", "99999"] {
            let (code, field, detail) =
                refused(&format!(r#","answers":[{{"question_id":"overall","score":5}},{{"question_id":"speed","score":{bad}}}]"#));
            assert_eq!((code, field), (RejectReason::OutOfRange, Some("answers.score")), "score {bad}");
            assert!(detail.contains(r#""speed""#) && detail.contains(&format!("got {bad}")), "{detail}");
        }
        assert_eq!(
            fault(r#","answers":[{"question_id":"overall","score":18446744073709551615}]"#),
            (RejectReason::OutOfRange, Some("answers.score"))
        );
        assert_eq!(fault(r#","answers":[{"question_id":"overall","score":4.5}]"#), (RejectReason::InvalidField, Some("answers.score")));
        assert_eq!(fault(r#","answers":[{"question_id":"overall","score":4.0}]"#), (RejectReason::InvalidField, Some("answers.score")));
        assert_eq!(fault(r#","answers":[{"question_id":"overall","score":"5"}]"#), (RejectReason::InvalidField, Some("answers.score")));

        let (code, field, detail) = refused(r#","answers":[{"question_id":"speed","score":5}]"#);
        assert_eq!((code, field), (RejectReason::MissingField, Some("answers.overall")));
        assert!(detail.contains("`overall`") && detail.contains("main question"), "{detail}");
        assert_eq!(fault(r#","answers":[{"question_id":"Overall","score":5}]"#), (RejectReason::MissingField, Some("answers.overall")));

        // A key twice within one answer is refused like a key twice in the event.
        assert_eq!(fault(r#","answers":[{"question_id":"overall","score":5,"score":1}]"#), (RejectReason::InvalidJson, None));
        let deep = format!(r#","answers":[{{"question_id":"overall","score":5,"x":{}1{}}}]"#, "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(fault(&deep), (RejectReason::InvalidJson, None));
        // Unknown keys of an answer are ignored, as the event's own are.
        assert!(survey(r#","answers":[{"question_id":"overall","score":5,"label":{"en":"Overall"}}]"#).is_ok());

        let channel = |c: &str| fault(&format!(r#","answers":[{{"question_id":"overall","score":5}}],"channel":{c}"#));
        assert_eq!(channel(r#""email""#), (RejectReason::InvalidJson, None), "channel twice");
        let without_channel = |c: &str| {
            let json = format!(
                r#"{{{ENV},"type":"survey.answered","survey_id":"u","request_id":"r","client_id":"c","answers":[{{"question_id":"overall","score":5}}]{c}}}"#
            );
            reason(&json)
        };
        assert_eq!(without_channel(""), (RejectReason::MissingField, Some("channel")));
        assert_eq!(without_channel(r#","channel":"desk""#), (RejectReason::OutOfRange, Some("channel")));
    }

    #[test]
    fn refuses_nps_answers_and_follow_ups_and_exclusions_naming_no_item_or_several() {
        let nps = format!(r#"{{{ENV},"type":"nps.submitted","response_id":"n","customer_id":"c","score":3,"request_id":""}}"#);
        assert_eq!(reason(&nps), (RejectReason::InvalidField, Some("request_id")));
        let nps = format!(r#"{{{ENV},"type":"nps.submitted","response_id":"n","customer_id":"c","score":3,"request_id":5}}"#);
        assert_eq!(reason(&nps), (RejectReason::InvalidField, Some("request_id")));

        let follow = |fields: &str| reason(&format!(r#"{{{ENV},"type":"critic.followed_up"{fields}}}"#));
        assert_eq!(follow(""), (RejectReason::MissingField, Some("review_id")));
        assert_eq!(follow(r#","followed_up_by":"m""#), (RejectReason::MissingField, Some("review_id")));
        assert_eq!(follow(r#","survey_id":null"#), (RejectReason::MissingField, Some("review_id")));
        assert_eq!(follow(r#","review_id":"v","response_id":"n""#), (RejectReason::InvalidField, Some("review_id")));
        assert_eq!(follow(r#","review_id":"v","survey_id":"u""#), (RejectReason::InvalidField, Some("review_id")));
        assert_eq!(follow(r#","response_id":"n","survey_id":"u""#), (RejectReason::InvalidField, Some("review_id")));
        assert_eq!(follow(r#","survey_id":"""#), (RejectReason::InvalidField, Some("survey_id")));
        assert_eq!(follow(r#","survey_id":"u","followed_up_by":"""#), (RejectReason::InvalidField, Some("followed_up_by")));
        assert_eq!(follow(r#","survey_id":"u","followed_up_by":1"#), (RejectReason::InvalidField, Some("followed_up_by")));
        let detail = decode(format!(r#"{{{ENV},"type":"critic.followed_up"}}"#).as_bytes()).unwrap_err().detail;
        assert!(detail.contains("`review_id`") && detail.contains("`response_id`") && detail.contains("`survey_id`"), "{detail}");

        let excluded = |fields: &str| reason(&format!(r#"{{{ENV},"type":"feedback.excluded"{fields}}}"#));
        assert_eq!(excluded(r#","reason":"r""#), (RejectReason::MissingField, Some("review_id")));
        assert_eq!(excluded(r#","review_id":"v","survey_id":"u","reason":"r""#), (RejectReason::InvalidField, Some("review_id")));
        assert_eq!(excluded(r#","survey_id":"u","response_id":"n","reason":"r""#), (RejectReason::InvalidField, Some("review_id")));
        assert_eq!(excluded(r#","review_id":"v","survey_id":"u","response_id":"n","reason":"r""#), (RejectReason::InvalidField, Some("review_id")));
        assert_eq!(excluded(r#","response_id":"","reason":"r""#), (RejectReason::InvalidField, Some("response_id")));
        assert_eq!(excluded(r#","survey_id":"u""#), (RejectReason::MissingField, Some("reason")));
        assert_eq!(excluded(r#","survey_id":"u","reason":null"#), (RejectReason::MissingField, Some("reason")));
        assert_eq!(excluded(r#","survey_id":"u","reason":"""#), (RejectReason::InvalidField, Some("reason")));
        assert_eq!(excluded(r#","survey_id":"u","reason":["dispute"]"#), (RejectReason::InvalidField, Some("reason")));
        let detail = decode(format!(r#"{{{ENV},"type":"feedback.excluded","reason":"r"}}"#).as_bytes()).unwrap_err().detail;
        assert!(detail.contains("`review_id`") && detail.contains("`response_id`") && detail.contains("`survey_id`"), "{detail}");
    }

    #[test]
    fn ignores_unknown_fields_for_forward_compatibility() {
        let json = format!(r#"{{{ENV},"type":"order.shipped","order_id":"o","carrier":"x"}}"#);
        assert!(decode(json.as_bytes()).is_ok());
    }
}
