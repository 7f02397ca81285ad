//! Survey requests: every customer whose delivered order got no review is asked, once.

use crate::contract::Timestamp;
use serde::Serialize;
use std::sync::Arc;

/// A request to survey a customer about a delivered order: written to `quality.survey_requests`
/// and the `survey_requests` table, keyed by `survey_id` (one per order, ever).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurveyRequest {
    /// `{seller}/{order}`.
    pub survey_id: String,
    /// The seller the order was placed with.
    pub seller_id: Arc<str>,
    /// The order asked about.
    pub order_id: String,
    /// The customer to survey.
    pub customer_id: String,
    /// When the order was delivered.
    pub delivered_at: Timestamp,
    /// Event time of the request: delivery plus the wait, no later than 24 h after delivery by default.
    pub requested_at: Timestamp,
}
