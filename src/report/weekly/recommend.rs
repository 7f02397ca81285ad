//! Rule-based recommendations: one text per standard, given for each standard the seller
//! failed in the week, with the standard's target written in. The table is documented in
//! docs/methodology.md, section 11.

use super::format;
use quality_engine::methodology::MetricId;

/// The recommendation for a failed standard; `{target}` in the rule becomes the target as the
/// report shows it (`30 min`, `4.50`, `95.0 %`).
pub fn recommendation(m: MetricId, target: f64) -> String {
    rule(m).replace("{target}", &format::value(m, target))
}

/// The rule text of a standard, `{target}` standing for its target.
pub fn rule(m: MetricId) -> &'static str {
    match m {
        MetricId::Csi => {
            "Raise the average rating to {target} or more: read this week's 1-3 star reviews, fix the main reason they name \
             (see the reasons above), and check that listings, photos and sizes match what customers receive."
        }
        MetricId::Nps => {
            "Bring NPS to {target} or more: call back the detractors (scores 0-6), resolve what they complained about, and fix \
             the cause before promoting more listings."
        }
        MetricId::PositiveReviewShare => {
            "Get at least {target} of reviews rated 4-5: remove the main reason for negative reviews, check product quality and \
             packaging before handover, and describe items accurately."
        }
        MetricId::ConfirmationTimeAvg => {
            "Confirm orders within {target}: turn on new-order notifications, staff the order queue in peak hours, or enable \
             automatic confirmation for items in stock."
        }
        MetricId::AssemblyTimeAvg => {
            "Assemble orders within {target} of confirmation: keep fast-selling stock at the packing station, prepare packaging \
             in advance, and schedule picking at least twice a day."
        }
        MetricId::OnTimeHandoverShare => {
            "Hand at least {target} of orders to delivery by their ship-by time: plan assembly around the carrier's pickup \
             slots and do not confirm orders you cannot ship in time."
        }
        MetricId::SellerCancellationShare => {
            "Keep cancellations by you at or below {target} of orders: synchronise stock with the marketplace at least daily \
             and hide items that are out of stock instead of cancelling their orders."
        }
        MetricId::ResponseTimeAvg => {
            "Answer customers within {target}: set up notifications for new messages and an auto-acknowledgement, and name who \
             answers during working hours."
        }
        MetricId::AnswerCompletenessShare => {
            "Make {target} of answers complete: answer every question the customer asked, with the order's specifics; keep \
             templates for frequent questions and fill in the details."
        }
        MetricId::FirstContactResolutionShare => {
            "Resolve at least {target} of inquiries at the first contact: give whoever answers the information and authority \
             to settle returns, delays and refunds in one reply."
        }
        MetricId::CriticFollowupShare => {
            "Follow up {target} of critics by their deadline: contact every customer who left a low rating or NPS score with a \
             comment, solve the problem and record the follow-up."
        }
        MetricId::SurveyCoverageShare => "Survey coverage ({target}) is the platform's duty: no action is needed from the seller.",
        MetricId::AssemblyAccuracyShare => {
            "Pack at least {target} of orders complete and correct: read this week's wrong-item and missing-item complaints, \
             label storage bins clearly, and check each order against its pick list before sealing the parcel."
        }
        MetricId::CsatSatisfiedShare => {
            "Leave at least {target} of clients satisfied (overall impression 4-5): read the comments of this week's low \
             ratings, call the clients back, and fix the question the key-driver list puts first."
        }
        MetricId::CsatAvg => {
            "Raise the average overall impression to {target} or more: agree the visit time with the client, explain what was \
             done before leaving, and clean up after the work."
        }
        MetricId::OnTimeClosureShare => {
            "Close at least {target} of requests by their norm deadline: take the oldest requests first, plan visits by \
             deadline, and ask the dispatcher to reassign what you cannot reach in time."
        }
        MetricId::ClosureTimeAvg => {
            "Close requests within {target} on average: carry the parts the frequent categories need and close the request in \
             the app as soon as the work is done."
        }
        MetricId::ReopenShare => {
            "Keep reopened requests at or below {target}: check the result with the client before closing and fix the cause, \
             not the symptom."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_names_its_target() {
        for m in MetricId::ALL {
            assert!(rule(m).contains("{target}"), "{m}");
        }
        assert!(recommendation(MetricId::ResponseTimeAvg, 1800.0).starts_with("Answer customers within 30 min: set up notifications"));
        assert!(recommendation(MetricId::Csi, 4.5).contains("4.50 or more"));
    }

    #[test]
    fn the_methodology_lists_every_rule() {
        let doc = include_str!("../../../docs/methodology.md");
        for m in MetricId::ALL.into_iter().filter(|m| *m != MetricId::SurveyCoverageShare) {
            assert!(doc.contains(&format!("| `{m}` | {} |", rule(m))), "docs/methodology.md section 11 lacks the rule of {m}");
        }
    }
}
