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
    /// The seller (marketplace) or performer (service company) the event is about; also the Kafka key.
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
    /// A customer answered the NPS question 0..10.
    #[serde(rename = "nps.submitted")]
    NpsSubmitted {
        response_id: Cow<'a, str>,
        customer_id: Cow<'a, str>,
        score: u8,
        #[serde(skip_serializing_if = "Option::is_none")]
        comment: Option<Cow<'a, str>>,
    },
    /// The seller (or site manager) followed up with a critic: a review or NPS answer with a complaint.
    #[serde(rename = "critic.followed_up")]
    CriticFollowedUp {
        #[serde(skip_serializing_if = "Option::is_none")]
        review_id: Option<Cow<'a, str>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        response_id: Option<Cow<'a, str>>,
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
}

impl EventType {
    /// Every type, in contract order.
    pub const ALL: [EventType; 14] = [
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
