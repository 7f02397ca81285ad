//! The flat, borrowed shape every event is read into before its type is checked.

use serde::Deserialize;
use std::borrow::Cow;

/// Every field any type may carry; which are required depends on `type`.
#[derive(Debug, Default, PartialEq, Deserialize)]
pub(super) struct Raw<'a> {
    #[serde(borrow)]
    pub(super) event_id: Option<Text<'a>>,
    #[serde(borrow, rename = "type")]
    pub(super) kind: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) occurred_at: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) seller_id: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) order_id: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) customer_id: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) ship_by: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) cancelled_by: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) reason: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) conversation_id: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) message_id: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) reply_id: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) inquiry_id: Option<Text<'a>>,
    pub(super) first_contact: Option<bool>,
    pub(super) complete: Option<bool>,
    #[serde(borrow)]
    pub(super) review_id: Option<Text<'a>>,
    pub(super) rating: Option<i64>,
    #[serde(borrow)]
    pub(super) comment: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) reasons: Option<Vec<Text<'a>>>,
    #[serde(borrow)]
    pub(super) channel: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) response_id: Option<Text<'a>>,
    pub(super) score: Option<i64>,
    #[serde(borrow)]
    pub(super) complaint_id: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) request_id: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) client_id: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) performer_id: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) department_id: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) site_id: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) category: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) due_by: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) closed_in: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) survey_id: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) followed_up_by: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) answers: Option<Vec<RawAnswer<'a>>>,
}

/// One element of `answers`, read as loosely as the event itself: every field optional,
/// unknown keys ignored, a repeated key refused. Only a JSON object is one (serde's derive
/// would also take an array `["overall", 5]`, which the contract does not allow).
#[derive(Debug, Default, PartialEq)]
pub(super) struct RawAnswer<'a> {
    pub(super) question_id: Option<Text<'a>>,
    pub(super) score: Option<i64>,
}

impl<'de: 'a, 'a> Deserialize<'de> for RawAnswer<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// The derived reading of the members; `V` only makes sure it is given an object.
        #[derive(Deserialize)]
        struct Members<'a> {
            #[serde(borrow)]
            question_id: Option<Text<'a>>,
            score: Option<i64>,
        }
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = RawAnswer<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let m = Members::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(RawAnswer { question_id: m.question_id, score: m.score })
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// A JSON string borrowed from the payload when it has no escapes (serde's own `Cow<str>`
/// always allocates inside an `Option`, which cost a third of decoding).
#[derive(Debug, PartialEq)]
pub(super) struct Text<'a>(pub(super) Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}
