//! Serde types of the event contract; borrowed while decoding, owned when generated.

use super::Timestamp;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// One event: the common envelope plus the fields of its type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event<'a> {
    /// Unique id chosen by the producer; a repeated id is a duplicate and counts once.
    pub event_id: Cow<'a, str>,
    /// When it happened (event time): the only time windows are attributed by.
    pub occurred_at: Timestamp,
    /// The key the stream is partitioned by: the seller (marketplace), or the department that
    /// owns the request (service company), so that every event of a request meets on one engine.
    pub seller_id: Cow<'a, str>,
    /// The type tag and the type's own fields, flattened into the same JSON object.
    #[serde(flatten)]
    pub body: EventBody<'a>,
}

/// The type-specific part of an event; the serde tag is the wire `type`.
///
/// Field meanings are documented once, in `schemas/<type>.schema.json`.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum EventBody<'a> {
    /// A customer placed an order with the seller.
    #[serde(rename = "order.created")]
    OrderCreated { order_id: Cow<'a, str>, customer_id: Cow<'a, str>, ship_by: Timestamp },
    /// The seller confirmed the order.
    #[serde(rename = "order.confirmed")]
    OrderConfirmed { order_id: Cow<'a, str> },
    /// The seller finished assembling (picking and packing) the order.
    #[serde(rename = "order.assembled")]
    OrderAssembled { order_id: Cow<'a, str> },
    /// The order was handed over to delivery.
    #[serde(rename = "order.shipped")]
    OrderShipped { order_id: Cow<'a, str> },
    /// The order reached the customer.
    #[serde(rename = "order.delivered")]
    OrderDelivered { order_id: Cow<'a, str> },
    /// The order was cancelled, and by whom.
    #[serde(rename = "order.cancelled")]
    OrderCancelled {
        order_id: Cow<'a, str>,
        cancelled_by: CancelledBy,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<Cow<'a, str>>,
    },
    /// A customer wrote to the seller.
    #[serde(rename = "message.received")]
    MessageReceived { conversation_id: Cow<'a, str>, message_id: Cow<'a, str>, customer_id: Cow<'a, str> },
    /// The seller answered a customer message (`message_id` is the message answered).
    #[serde(rename = "message.replied")]
    MessageReplied { conversation_id: Cow<'a, str>, message_id: Cow<'a, str>, reply_id: Cow<'a, str> },
    /// A customer inquiry was closed, at the first contact or not.
    #[serde(rename = "inquiry.resolved")]
    InquiryResolved { inquiry_id: Cow<'a, str>, first_contact: bool },
    /// A spot check judged one of the seller's answers complete or not.
    #[serde(rename = "answer.audited")]
    AnswerAudited { message_id: Cow<'a, str>, complete: bool },
    /// A customer rated an order 1..5.
    #[serde(rename = "review.submitted")]
    ReviewSubmitted {
        review_id: Cow<'a, str>,
        order_id: Cow<'a, str>,
        customer_id: Cow<'a, str>,
        rating: u8,
        #[serde(skip_serializing_if = "Option::is_none")]
        comment: Option<Cow<'a, str>>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        reasons: Vec<Cow<'a, str>>,
        channel: Channel,
    },
    /// A customer answered the NPS question 0..10 (in the service profile, about a request).
    #[serde(rename = "nps.submitted")]
    NpsSubmitted {
        response_id: Cow<'a, str>,
        customer_id: Cow<'a, str>,
        score: u8,
        #[serde(skip_serializing_if = "Option::is_none")]
        comment: Option<Cow<'a, str>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        request_id: Option<Cow<'a, str>>,
    },
    /// The seller (or site manager) followed up with a critic: a review, NPS answer or survey with a complaint.
    #[serde(rename = "critic.followed_up")]
    CriticFollowedUp {
        #[serde(skip_serializing_if = "Option::is_none")]
        review_id: Option<Cow<'a, str>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        response_id: Option<Cow<'a, str>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        survey_id: Option<Cow<'a, str>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        followed_up_by: Option<Cow<'a, str>>,
    },
    /// A customer complained about a delivered order (wrong or missing items are assembly errors).
    #[serde(rename = "order.complaint")]
    OrderComplaint {
        order_id: Cow<'a, str>,
        complaint_id: Cow<'a, str>,
        reason: ComplaintReason,
        #[serde(skip_serializing_if = "Option::is_none")]
        comment: Option<Cow<'a, str>>,
    },
    /// A client opened a service request (service profile); `due_by` is the norm deadline.
    #[serde(rename = "request.created")]
    RequestCreated {
        request_id: Cow<'a, str>,
        client_id: Cow<'a, str>,
        performer_id: Cow<'a, str>,
        department_id: Cow<'a, str>,
        site_id: Cow<'a, str>,
        category: Cow<'a, str>,
        due_by: Timestamp,
    },
    /// The request was handed to another performer.
    #[serde(rename = "request.reassigned")]
    RequestReassigned { request_id: Cow<'a, str>, performer_id: Cow<'a, str> },
    /// A performer closed the request, in the mobile app or at the service desk.
    #[serde(rename = "request.closed")]
    RequestClosed { request_id: Cow<'a, str>, performer_id: Cow<'a, str>, closed_in: ClosedIn },
    /// The client reopened a closed request: the work was not done.
    #[serde(rename = "request.reopened")]
    RequestReopened {
        request_id: Cow<'a, str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<Cow<'a, str>>,
    },
    /// An accepted dispute: one feedback item (review, survey or NPS answer) no longer counts anywhere.
    #[serde(rename = "feedback.excluded")]
    FeedbackExcluded {
        #[serde(skip_serializing_if = "Option::is_none")]
        review_id: Option<Cow<'a, str>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        survey_id: Option<Cow<'a, str>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        response_id: Option<Cow<'a, str>>,
        reason: Cow<'a, str>,
    },
    /// A client rated a request: 1 to 5 answers on the 1..5 scale, the main question `overall` among them.
    #[serde(rename = "survey.answered")]
    SurveyAnswered {
        survey_id: Cow<'a, str>,
        request_id: Cow<'a, str>,
        client_id: Cow<'a, str>,
        answers: Vec<Answer<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        comment: Option<Cow<'a, str>>,
        channel: Channel,
    },
}

/// The main survey question: "please rate your overall impression of the service".
pub const OVERALL_QUESTION: &str = "overall";

/// Most answers one survey may carry (the programme's limit of 5 questions).
pub const MAX_ANSWERS: usize = 5;

/// One answer of a survey: a question and its score 1..5.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer<'a> {
    /// The question's stable id; `overall` is the main question.
    pub question_id: Cow<'a, str>,
    /// The score, 1 (worst) to 5 (best).
    pub score: u8,
}

/// Where a request was closed; a request closed in the app can be rated there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClosedIn {
    /// In the performers' mobile app.
    App,
    /// At the service desk.
    Desk,
}

/// Who cancelled an order; only the seller's cancellations count against the seller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CancelledBy {
    /// The seller cancelled (counts in `seller_cancellation_share`).
    Seller,
    /// The customer cancelled.
    Customer,
    /// The platform cancelled (fraud, payment failure, ...).
    Platform,
}

/// What a customer complains about; only a wrong or a missing item is an assembly error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplaintReason {
    /// An item other than the one ordered was packed (assembly error).
    WrongItem,
    /// An ordered item was not in the parcel (assembly error).
    MissingItem,
    /// An item arrived damaged (not an assembly error: packing or transport).
    Damaged,
    /// Anything else (not an assembly error).
    Other,
}

impl ComplaintReason {
    /// Whether the complaint says the order was packed incomplete or wrong (`assembly_accuracy_share`).
    pub fn is_assembly_error(self) -> bool {
        matches!(self, ComplaintReason::WrongItem | ComplaintReason::MissingItem)
    }
}

/// Where a review came from: the app on the customer's initiative, or an automatic survey.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// Left in the app.
    App,
    /// Answer to an automatic survey.
    Survey,
}

impl EventType {
    /// Whether the type belongs to the service company's profile (requests and their surveys).
    pub fn is_service(self) -> bool {
        matches!(
            self,
            EventType::RequestCreated
                | EventType::RequestReassigned
                | EventType::RequestClosed
                | EventType::RequestReopened
                | EventType::SurveyAnswered
        )
    }
}

/// The wire `type` values, in one list so that decoding, counting and schemas agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    /// `order.created`
    OrderCreated,
    /// `order.confirmed`
    OrderConfirmed,
    /// `order.assembled`
    OrderAssembled,
    /// `order.shipped`
    OrderShipped,
    /// `order.delivered`
    OrderDelivered,
    /// `order.cancelled`
    OrderCancelled,
    /// `message.received`
    MessageReceived,
    /// `message.replied`
    MessageReplied,
    /// `inquiry.resolved`
    InquiryResolved,
    /// `answer.audited`
    AnswerAudited,
    /// `review.submitted`
    ReviewSubmitted,
    /// `nps.submitted`
    NpsSubmitted,
    /// `critic.followed_up`
    CriticFollowedUp,
    /// `order.complaint`
    OrderComplaint,
    /// `request.created`
    RequestCreated,
    /// `request.reassigned`
    RequestReassigned,
    /// `request.closed`
    RequestClosed,
    /// `request.reopened`
    RequestReopened,
    /// `survey.answered`
    SurveyAnswered,
    /// `feedback.excluded`
    FeedbackExcluded,
}

impl EventType {
    /// Every type, in contract order.
    pub const ALL: [EventType; 20] = [
        EventType::OrderCreated,
        EventType::OrderConfirmed,
        EventType::OrderAssembled,
        EventType::OrderShipped,
        EventType::OrderDelivered,
        EventType::OrderCancelled,
        EventType::MessageReceived,
        EventType::MessageReplied,
        EventType::InquiryResolved,
        EventType::AnswerAudited,
        EventType::ReviewSubmitted,
        EventType::NpsSubmitted,
        EventType::CriticFollowedUp,
        EventType::OrderComplaint,
        EventType::RequestCreated,
        EventType::RequestReassigned,
        EventType::RequestClosed,
        EventType::RequestReopened,
        EventType::SurveyAnswered,
        EventType::FeedbackExcluded,
    ];

    /// The wire name, e.g. `order.created`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::OrderCreated => "order.created",
            EventType::OrderConfirmed => "order.confirmed",
            EventType::OrderAssembled => "order.assembled",
            EventType::OrderShipped => "order.shipped",
            EventType::OrderDelivered => "order.delivered",
            EventType::OrderCancelled => "order.cancelled",
            EventType::MessageReceived => "message.received",
            EventType::MessageReplied => "message.replied",
            EventType::InquiryResolved => "inquiry.resolved",
            EventType::AnswerAudited => "answer.audited",
            EventType::ReviewSubmitted => "review.submitted",
            EventType::NpsSubmitted => "nps.submitted",
            EventType::CriticFollowedUp => "critic.followed_up",
            EventType::OrderComplaint => "order.complaint",
            EventType::RequestCreated => "request.created",
            EventType::RequestReassigned => "request.reassigned",
            EventType::RequestClosed => "request.closed",
            EventType::RequestReopened => "request.reopened",
            EventType::SurveyAnswered => "survey.answered",
            EventType::FeedbackExcluded => "feedback.excluded",
        }
    }

    /// The type for a wire name, if it is one of the contract's.
    pub fn from_wire(s: &str) -> Option<EventType> {
        Some(match s {
            "order.created" => EventType::OrderCreated,
            "order.confirmed" => EventType::OrderConfirmed,
            "order.assembled" => EventType::OrderAssembled,
            "order.shipped" => EventType::OrderShipped,
            "order.delivered" => EventType::OrderDelivered,
            "order.cancelled" => EventType::OrderCancelled,
            "message.received" => EventType::MessageReceived,
            "message.replied" => EventType::MessageReplied,
            "inquiry.resolved" => EventType::InquiryResolved,
            "answer.audited" => EventType::AnswerAudited,
            "review.submitted" => EventType::ReviewSubmitted,
            "nps.submitted" => EventType::NpsSubmitted,
            "critic.followed_up" => EventType::CriticFollowedUp,
            "order.complaint" => EventType::OrderComplaint,
            "request.created" => EventType::RequestCreated,
            "request.reassigned" => EventType::RequestReassigned,
            "request.closed" => EventType::RequestClosed,
            "request.reopened" => EventType::RequestReopened,
            "survey.answered" => EventType::SurveyAnswered,
            "feedback.excluded" => EventType::FeedbackExcluded,
            _ => return None,
        })
    }
}

impl EventBody<'_> {
    /// The type of this body.
    pub fn event_type(&self) -> EventType {
        match self {
            EventBody::OrderCreated { .. } => EventType::OrderCreated,
            EventBody::OrderConfirmed { .. } => EventType::OrderConfirmed,
            EventBody::OrderAssembled { .. } => EventType::OrderAssembled,
            EventBody::OrderShipped { .. } => EventType::OrderShipped,
            EventBody::OrderDelivered { .. } => EventType::OrderDelivered,
            EventBody::OrderCancelled { .. } => EventType::OrderCancelled,
            EventBody::MessageReceived { .. } => EventType::MessageReceived,
            EventBody::MessageReplied { .. } => EventType::MessageReplied,
            EventBody::InquiryResolved { .. } => EventType::InquiryResolved,
            EventBody::AnswerAudited { .. } => EventType::AnswerAudited,
            EventBody::ReviewSubmitted { .. } => EventType::ReviewSubmitted,
            EventBody::NpsSubmitted { .. } => EventType::NpsSubmitted,
            EventBody::CriticFollowedUp { .. } => EventType::CriticFollowedUp,
            EventBody::OrderComplaint { .. } => EventType::OrderComplaint,
            EventBody::RequestCreated { .. } => EventType::RequestCreated,
            EventBody::RequestReassigned { .. } => EventType::RequestReassigned,
            EventBody::RequestClosed { .. } => EventType::RequestClosed,
            EventBody::RequestReopened { .. } => EventType::RequestReopened,
            EventBody::SurveyAnswered { .. } => EventType::SurveyAnswered,
            EventBody::FeedbackExcluded { .. } => EventType::FeedbackExcluded,
        }
    }
}

impl Event<'_> {
    /// The event as one line of NDJSON (no trailing newline).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("events always serialize: all keys are strings")
    }
}

#[cfg(test)]
mod tests {
    use super::EventType;

    #[test]
    fn wire_names_round_trip() {
        for t in EventType::ALL {
            assert_eq!(EventType::from_wire(t.as_str()), Some(t));
        }
        assert_eq!(EventType::from_wire("order.Created"), None);
    }
}
