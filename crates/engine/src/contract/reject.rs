//! Why an event was not counted, as a stable machine-readable code plus a human detail.

use serde::Serialize;
use std::fmt;

/// The stable reason codes of rejected events (dead-letter `reason`, metric label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// The payload is larger than the contract allows.
    Oversized,
    /// The payload is not UTF-8.
    InvalidUtf8,
    /// The payload is not valid JSON.
    InvalidJson,
    /// The payload is JSON but not an object.
    NotAnObject,
    /// `type` names no event type of the contract.
    UnknownType,
    /// A field the type requires is absent or null.
    MissingField,
    /// A field has the wrong JSON type or format (e.g. a timestamp without offset).
    InvalidField,
    /// A field is well-typed but outside its allowed range (rating 7, year 1900).
    OutOfRange,
    /// The event would make a duration negative (confirmed before created, reply before message).
    NegativeDuration,
    /// The event repeats a lifecycle step the order already has under another event id.
    ConflictingLifecycle,
    /// The event is older than the watermark: its window is already final.
    TooLate,
    /// Order steps whose `order.created` never arrived before the state expired.
    OrderWithoutCreation,
    /// A reply whose customer message never arrived before the state expired.
    ReplyWithoutMessage,
    /// A follow-up whose critic (low rating or score with a comment) never arrived before the state expired.
    FollowupWithoutCritic,
    /// A complaint whose order (its `order.created`) never arrived before the state expired.
    ComplaintWithoutOrder,
    /// An event type of the other profile (a `request.*` event in the marketplace profile, or an order's in the service profile).
    WrongProfile,
    /// Request steps, surveys or NPS answers whose `request.created` never arrived before the state expired.
    RequestWithoutCreation,
    /// A `feedback.excluded` whose feedback this pipeline cannot find (never arrived before the state expired, or of a kind not excludable).
    UnmatchedExclusion,
}

impl RejectReason {
    /// Every reason, for exhaustive counters.
    pub const ALL: [RejectReason; 18] = [
        RejectReason::Oversized,
        RejectReason::InvalidUtf8,
        RejectReason::InvalidJson,
        RejectReason::NotAnObject,
        RejectReason::UnknownType,
        RejectReason::MissingField,
        RejectReason::InvalidField,
        RejectReason::OutOfRange,
        RejectReason::NegativeDuration,
        RejectReason::ConflictingLifecycle,
        RejectReason::TooLate,
        RejectReason::OrderWithoutCreation,
        RejectReason::ReplyWithoutMessage,
        RejectReason::FollowupWithoutCritic,
        RejectReason::ComplaintWithoutOrder,
        RejectReason::WrongProfile,
        RejectReason::RequestWithoutCreation,
        RejectReason::UnmatchedExclusion,
    ];

    /// The code as written in dead-letter records and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::Oversized => "oversized",
            RejectReason::InvalidUtf8 => "invalid_utf8",
            RejectReason::InvalidJson => "invalid_json",
            RejectReason::NotAnObject => "not_an_object",
            RejectReason::UnknownType => "unknown_type",
            RejectReason::MissingField => "missing_field",
            RejectReason::InvalidField => "invalid_field",
            RejectReason::OutOfRange => "out_of_range",
            RejectReason::NegativeDuration => "negative_duration",
            RejectReason::ConflictingLifecycle => "conflicting_lifecycle",
            RejectReason::TooLate => "too_late",
            RejectReason::OrderWithoutCreation => "order_without_creation",
            RejectReason::ReplyWithoutMessage => "reply_without_message",
            RejectReason::FollowupWithoutCritic => "followup_without_critic",
            RejectReason::ComplaintWithoutOrder => "complaint_without_order",
            RejectReason::WrongProfile => "wrong_profile",
            RejectReason::RequestWithoutCreation => "request_without_creation",
            RejectReason::UnmatchedExclusion => "unmatched_exclusion",
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rejected event: the reason code, the field at fault if any, and what a producer should fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// The machine-readable code.
    pub reason: RejectReason,
    /// The offending field, when one field is at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
    /// A sentence for the producer's team.
    pub detail: String,
}

impl Rejection {
    /// A rejection with a reason, an optional field and a detail.
    pub fn new(reason: RejectReason, field: Option<&'static str>, detail: impl Into<String>) -> Self {
        Rejection { reason, field, detail: detail.into() }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.field {
            Some(field) => write!(f, "{} ({field}): {}", self.reason, self.detail),
            None => write!(f, "{}: {}", self.reason, self.detail),
        }
    }
}

impl std::error::Error for Rejection {}
