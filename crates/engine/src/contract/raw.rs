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
