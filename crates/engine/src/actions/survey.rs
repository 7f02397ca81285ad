//! Survey requests: every customer whose delivered order got no review is asked, once.

use crate::contract::Timestamp;
use compact_str::CompactString;
use serde::Serialize;
use std::sync::Arc;

/// A request to survey a customer about a delivered order: written to `quality.survey_requests`
/// and the `survey_requests` table, keyed by `survey_id` (one per order, ever).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurveyRequest {
    /// `{seller}/{order}` ([`SurveyRequest::id_of`]).
    pub survey_id: CompactString,
    /// The seller the order was placed with.
    pub seller_id: Arc<str>,
    /// The order asked about.
    pub order_id: CompactString,
    /// The customer to survey.
    pub customer_id: CompactString,
    /// When the order was delivered.
    pub delivered_at: Timestamp,
    /// Event time of the request: delivery plus the wait, no later than 24 h after delivery by default.
    pub requested_at: Timestamp,
}

impl SurveyRequest {
    /// The survey id of a seller's order (a department's request): `{seller}/{order}`, held
    /// inline when short, as one is made for most deliveries.
    pub fn id_of(seller: &str, order: &str) -> CompactString {
        let mut id = CompactString::with_capacity(seller.len() + 1 + order.len());
        id.push_str(seller);
        id.push('/');
        id.push_str(order);
        id
    }
}
