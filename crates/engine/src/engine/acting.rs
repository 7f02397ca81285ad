//! The engine's side of acting on quality: survey decisions, critics and their follow-ups,
//! negative-review reasons and the escalation ladder, all in event time.
//!
//! Survey decisions are taken when the watermark passes `delivery + wait`: by then every
//! review or cancellation up to that time has arrived or is too late, so the decision is the
//! same whatever order the inputs interleave in, on every replay and after every restart.

use super::{Engine, Item};
use crate::actions::{Critic, CriticSource, WeekReasons};
use crate::contract::{RejectReason, Rejection, Timestamp};
use crate::methodology::MetricId;
use crate::output::{DeadLetter, Output, WindowRow};
use crate::state::{Effect, FpMap, NONE};
use crate::window::{Cadence, Period};
use compact_str::CompactString;

/// A follow-up that arrived before its critic, kept until the critic comes or the state TTL.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(super) struct EarlyFollowUp {
    pub(super) seller: u32,
    pub(super) critic_id: CompactString,
    pub(super) at: i64,
}

impl Engine {
    /// Records the customer of an order (known with `order.created`).
    pub(super) fn order_customer(&mut self, item: Item, customer: &str) {
        if let Item::Order(key, _) = item {
            if let Some(o) = self.orders.get_mut(&key) {
                o.customer = customer.into();
            }
        }
    }

    /// Schedules the order's survey decision once it is delivered.
    pub(super) fn schedule_survey(&mut self, item: Item) {
        let Item::Order(key, generation) = item else { return };
        let wait = self.config.actions.survey.wait_ms;
        if let Some(o) = self.orders.get_mut(&key) {
            if o.delivered != NONE && o.survey_due == NONE {
                o.survey_due = o.delivered.saturating_add(wait);
                self.surveys_due.push(o.survey_due, (key, generation));
            }
        }
    }

    /// A review of an order: it spares the customer a survey if it comes by the decision time.
    pub(super) fn note_review(&mut self, seller: u32, order_id: &str, t: i64) {
        let key = self.fingerprints.of(&(seller, order_id));
        match self.orders.get_mut(&key) {
            Some(o) => o.reviewed = if o.reviewed == NONE { t } else { o.reviewed.min(t) },
            None => {
                let r = self.early_reviews.entry(key).or_insert(t);
                *r = (*r).min(t);
            }
        }
    }

    /// An order state was just created: a review that came before it counts.
    pub(super) fn adopt_early_review(&mut self, key: u128) {
        if let Some(t) = self.early_reviews.remove(&key) {
            if let Some(o) = self.orders.get_mut(&key) {
                o.reviewed = t;
            }
        }
    }

    /// Counts a negative review's reasons in the seller's week.
    pub(super) fn tally_reasons<'a>(&mut self, seller: u32, t: i64, reasons: impl Iterator<Item = &'a str>) {
        let week = Cadence::Week.period_of(self.calendar.day_of(Timestamp(t))).start;
        self.sellers[seller as usize].reasons.entry(week).or_default().add(reasons);
    }

    /// Feedback rated low with a comment: a critic who must be followed up. Returns its timer item.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn critic_arrives(
        &mut self,
        seller: u32,
        source: CriticSource,
        id: &str,
        customer: &str,
        score: u8,
        site_id: Option<std::sync::Arc<str>>,
        t: i64,
    ) -> Option<Item> {
        let key = self.fingerprints.of(&(seller, source.as_str(), id));
        if self.critics.contains_key(&key) {
            return None;
        }
        let generation = self.generation();
        let followed_up = self.early_followups.remove(&key).map_or(NONE, |f| f.at);
        let critic = Critic {
            critic_id: source.critic_id(id),
            seller,
            generation,
            source,
            customer_id: customer.into(),
            score,
            at: t,
            due: t.saturating_add(self.config.actions.critics.sla_ms),
            followed_up,
            overdue: false,
            reported: None,
            site_id,
        };
        critic.arrive(&mut self.fx);
        self.critics.insert(key, critic);
        self.report_critic(key);
        Some(Item::Critic(key, generation))
    }

    /// `critic.followed_up`: answers the critic, or waits for it if it has not arrived yet.
    pub(super) fn follow_up(&mut self, seller: u32, source: CriticSource, id: &str, t: i64) {
        let key = self.fingerprints.of(&(seller, source.as_str(), id));
        match self.critics.get_mut(&key) {
            Some(c) => {
                c.follow_up(t, &mut self.fx);
                self.report_critic(key);
            }
            None => {
                let f = self.early_followups.entry(key).or_insert_with(|| EarlyFollowUp { seller, critic_id: source.critic_id(id), at: t });
                f.at = f.at.min(t);
            }
        }
    }

    /// Emits a critic's record if its status moved on.
    pub(super) fn report_critic(&mut self, key: u128) {
        if let Some(c) = self.critics.get_mut(&key) {
            if let Some(r) = c.record(&self.sellers[c.seller as usize].id) {
                self.pending.push(Output::Critic(r));
            }
        }
    }

    /// Takes every survey decision due by `watermark`, earliest first (ties by seller and order,
    /// so that the once-per-customer rule never depends on hash order).
    pub(super) fn decide_surveys(&mut self, watermark: i64) {
        let mut due = Vec::new();
        self.surveys_due.pop_due_exact(watermark, &mut due);
        let mut ready: Vec<(i64, std::sync::Arc<str>, u128)> = due
            .into_iter()
            .filter_map(|(t, (key, generation))| {
                let o = self.orders.get(&key).filter(|o| o.generation == generation && !o.survey_done)?;
                Some((t, self.sellers[o.seller as usize].id.clone(), key))
            })
            .collect();
        if ready.len() > 1 {
            let orders = &self.orders;
            ready.sort_by(|a, b| (a.0, &a.1, &orders[&a.2].order_id).cmp(&(b.0, &b.1, &orders[&b.2].order_id)));
        }
        for (t, seller_id, key) in ready {
            let Some(o) = self.orders.get_mut(&key) else { continue };
            o.survey_done = true;
            let seller = o.seller;
            let by = |x: i64| x != NONE && x <= t;
            if by(o.cancelled) {
                continue;
            }
            let covered = if by(o.reviewed) {
                true
            } else if o.customer.is_empty() {
                false
            } else {
                let asked = self.fingerprints.of(&(seller, &*o.customer));
                if !may_survey(&mut self.surveyed, asked, self.config.actions.survey.once_per_customer_ms, t) {
                    continue;
                }
                self.pending.push(Output::SurveyRequest(crate::actions::SurveyRequest {
                    survey_id: crate::actions::SurveyRequest::id_of(&seller_id, &o.order_id),
                    seller_id,
                    order_id: o.order_id.as_ref().into(),
                    customer_id: o.customer.as_ref().into(),
                    delivered_at: Timestamp(o.delivered),
                    requested_at: Timestamp(t),
                }));
                true
            };
            self.fx.clear();
            self.fx.push(Effect::Add { at: t, metric: MetricId::SurveyCoverageShare, num: covered as i64, den: 1 });
            self.apply_effects(seller, None);
        }
    }

    /// Drops acting state nothing can change any more; follow-ups whose critic never came are dead-lettered.
    pub(super) fn sweep_actions(&mut self, watermark: i64, orphans: &mut Vec<(i64, DeadLetter)>) {
        let ttl = self.config.state_ttl_ms;
        let alive = |first: i64| first.saturating_add(ttl) > watermark;
        self.critics.retain(|_, c| alive(c.at) && (c.followed_up == NONE || c.due > watermark));
        self.early_reviews.retain(|_, t| alive(*t));
        let window = self.config.actions.survey.once_per_customer_ms;
        self.surveyed.retain(|_, last| last.saturating_add(window) > watermark);
        let sellers = &self.sellers;
        self.early_followups.retain(|_, f| {
            if alive(f.at) {
                return true;
            }
            let payload = serde_json::json!({"seller_id": &*sellers[f.seller as usize].id, "critic_id": &*f.critic_id, "followed_up_at": Timestamp(f.at).to_string()});
            orphans.push((
                f.at,
                DeadLetter::new(
                    Rejection::new(
                        RejectReason::FollowupWithoutCritic,
                        Some("review_id"),
                        "this follow-up names no critic of the seller (a review rated 1-3 or an NPS answer 0-6, with a comment) seen within the state TTL; check the id and the seller",
                    ),
                    payload.to_string().as_bytes(),
                    "engine:state-expiry".into(),
                ),
            ));
            false
        });
    }

    /// A week became final: moves each seller with a judged row on the ladder and publishes the week's reasons.
    pub(super) fn act_on_week(&mut self, p: Period, judged: &[(u32, &WindowRow)]) -> Vec<Output> {
        let mut out = Vec::new();
        for &(s, row) in judged {
            let seller = &mut self.sellers[s as usize];
            if let Some(e) = seller.ladder.evaluate(row, &self.config.actions.escalation) {
                out.push(Output::Escalation(e));
            }
            if let Some(tally) = seller.reasons.remove(&p.start) {
                out.push(Output::Reasons(WeekReasons::new(seller.id.clone(), crate::window::LocalDate(p.start), tally)));
            }
        }
        out
    }
}

/// The once-per-customer rule (section 10.2): whether the customer of `asked` (the fingerprint of
/// a seller's or department's entity and the customer) may be asked at `t`, given the last time
/// each was asked (`surveyed`) and the period (`window_ms`); if so, this request is remembered.
pub(super) fn may_survey(surveyed: &mut FpMap<i64>, asked: u128, window_ms: i64, t: i64) -> bool {
    if surveyed.get(&asked).is_some_and(|last| t - last < window_ms) {
        return false;
    }
    surveyed.insert(asked, t);
    true
}
