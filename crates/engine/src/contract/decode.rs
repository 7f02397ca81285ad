//! Bytes to [`Event`]: one pass of serde over a flat borrowed struct, then type checks.
//!
//! The fast path never builds a `serde_json::Value`. Only a payload that serde refuses is
//! parsed a second time, to name the field at fault in the rejection.

use super::event::{CancelledBy, Channel, ComplaintReason, Event, EventBody, EventType};
use super::raw::{Raw, Text};
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
];

#[derive(Clone, Copy)]
enum FieldKind {
    String,
    Bool,
    Integer,
    StringArray,
}

impl FieldKind {
    fn accepts(self, v: &serde_json::Value) -> bool {
        match self {
            FieldKind::String => v.is_string() || v.is_null(),
            FieldKind::Bool => v.is_boolean() || v.is_null(),
            FieldKind::Integer => v.is_i64() || v.is_null(),
            FieldKind::StringArray => v.is_null() || v.as_array().is_some_and(|a| a.iter().all(|x| x.is_string())),
        }
    }

    fn name(self) -> &'static str {
        match self {
            FieldKind::String => "a string",
            FieldKind::Bool => "a boolean",
            FieldKind::Integer => "an integer",
            FieldKind::StringArray => "an array of strings",
        }
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
                format!("JSON nested deeper than {MAX_DEPTH} levels; events are flat objects (fields may hold lists of strings)"),
            ));
        }
        raw = serde_json::from_str::<Raw<'_>>(text).map_err(|e| diagnose(text, e))?;
    }
    validate(&mut raw)
}

/// Deepest nesting of arrays and objects an event may have (it needs 2: the event and a list).
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
        if let Some(v) = obj.get(*name) {
            if !kind.accepts(v) {
                let reason = if matches!(kind, FieldKind::Integer) && v.is_u64() { RejectReason::OutOfRange } else { RejectReason::InvalidField };
                return Rejection::new(reason, Some(name), format!("`{name}` must be {}", kind.name()));
            }
        }
    }
    Rejection::new(RejectReason::InvalidJson, None, format!("not a valid event object: {err}"))
}

fn required<'a>(v: Option<Text<'a>>, field: &'static str) -> Result<Cow<'a, str>, Rejection> {
    match v.map(|t| t.0) {
        Some(s) if !s.is_empty() => Ok(s),
        Some(_) => Err(Rejection::new(RejectReason::InvalidField, Some(field), format!("`{field}` must not be empty"))),
        None => Err(Rejection::new(RejectReason::MissingField, Some(field), format!("`{field}` is required"))),
    }
}

fn time(v: Option<Text<'_>>, field: &'static str) -> Result<Timestamp, Rejection> {
    let s = required(v, field)?;
    let t = Timestamp::parse_rfc3339(&s).ok_or_else(|| {
        Rejection::new(
            RejectReason::InvalidField,
            Some(field),
            format!("`{field}` must be an RFC 3339 date-time with offset, like 2026-11-16T09:30:00+03:00"),
        )
    })?;
    if t < MIN_TIME || t >= MAX_TIME {
        return Err(Rejection::new(RejectReason::OutOfRange, Some(field), format!("`{field}` must be between 2000-01-01 and 2100-01-01")));
    }
    Ok(t)
}

fn flag(v: Option<bool>, field: &'static str) -> Result<bool, Rejection> {
    v.ok_or_else(|| Rejection::new(RejectReason::MissingField, Some(field), format!("`{field}` is required")))
}

fn int_in(v: Option<i64>, field: &'static str, lo: i64, hi: i64) -> Result<u8, Rejection> {
    let n = v.ok_or_else(|| Rejection::new(RejectReason::MissingField, Some(field), format!("`{field}` is required")))?;
    if n < lo || n > hi {
        return Err(Rejection::new(RejectReason::OutOfRange, Some(field), format!("`{field}` must be an integer from {lo} to {hi}, got {n}")));
    }
    Ok(n as u8)
}

fn one_of<T>(v: Option<Text<'_>>, field: &'static str, options: &[(&str, T)]) -> Result<T, Rejection>
where
    T: Copy,
{
    let s = required(v, field)?;
    options.iter().find(|(name, _)| *name == s).map(|(_, t)| *t).ok_or_else(|| {
        let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
        Rejection::new(RejectReason::OutOfRange, Some(field), format!("`{field}` must be one of {}, got {s:?}", names.join(", ")))
    })
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
            request_id: None,
        },
        EventType::CriticFollowedUp => {
            let review_id = raw.review_id.take().map(|t| required(Some(t), "review_id")).transpose()?;
            let response_id = raw.response_id.take().map(|t| required(Some(t), "response_id")).transpose()?;
            if review_id.is_some() == response_id.is_some() {
                return Err(Rejection::new(
                    if review_id.is_some() { RejectReason::InvalidField } else { RejectReason::MissingField },
                    Some("review_id"),
                    "a follow-up names exactly one critic: `review_id` (a review) or `response_id` (an NPS answer)",
                ));
            }
            EventBody::CriticFollowedUp { review_id, response_id, survey_id: None, followed_up_by: None }
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
        EventType::RequestCreated
        | EventType::RequestReassigned
        | EventType::RequestClosed
        | EventType::RequestReopened
        | EventType::SurveyAnswered
        | EventType::FeedbackExcluded => return Err(Rejection::new(RejectReason::UnknownType, Some("type"), "service events are not decoded yet")),
    };
    Ok(Event { event_id, occurred_at, seller_id, body })
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
    fn ignores_unknown_fields_for_forward_compatibility() {
        let json = format!(r#"{{{ENV},"type":"order.shipped","order_id":"o","carrier":"x"}}"#);
        assert!(decode(json.as_bytes()).is_ok());
    }
}
