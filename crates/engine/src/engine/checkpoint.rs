//! Checkpoints: the engine's whole state as bytes, so that a restarted instance, or the
//! instance a partition moves to, continues exactly where the last one stopped.
//!
//! Only what cannot be derived is saved (day accumulators, open orders and messages, answered
//! messages already forgotten, delivered orders awaiting complaints, seen
//! event ids, the clocks, the fingerprint keys, counters); seller indexes, the active-day
//! index and the deadline timers are rebuilt on restore. Re-armed deadlines are harmless:
//! firing one is idempotent (an overdue item is counted once, and never when its step came
//! in time).

use super::acting::EarlyFollowUp;
use super::requests::EarlyExclusion;
use super::{Engine, Item, SellerState};
use crate::actions::{Critic, Ladder, ReasonTally};
use crate::methodology::EntityKind;
use crate::output::{Output, Stats};
use crate::state::{Accuracy, DayAccs, DayRing, Deadlines, Dedup, Fingerprinter, MessageState, OrderState, RequestState, TimerKind, NONE};
use crate::window::{Day, Period};
use crate::EngineConfig;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the checkpoint layout; bumped whenever it changes.
const FORMAT: u32 = 7;

/// Why a checkpoint cannot be restored.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The bytes do not decode.
    #[error("the checkpoint cannot be read ({0}); it is corrupt or from an incompatible version: discard it to rebuild the state from the input")]
    Corrupt(String),
    /// Written by another layout version.
    #[error("the checkpoint has format {0}, this version reads format {FORMAT}: discard it to rebuild the state from the input")]
    Format(u32),
    /// The configuration changed in a way the saved state depends on.
    #[error("the checkpoint was taken with {what} = {saved}, the configuration now says {now}: restore with the old setting, or discard the checkpoint to rebuild the state from the input")]
    ConfigChanged {
        /// The setting.
        what: &'static str,
        /// Its value in the checkpoint.
        saved: String,
        /// Its value now.
        now: String,
    },
}

/// The settings saved state depends on: the calendar, the lateness and the deadlines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Settings {
    timezone: String,
    allowed_lateness_ms: i64,
    state_ttl_ms: i64,
    deadlines_ms: Vec<(i64, Deadlines)>,
}

impl Settings {
    fn of(config: &EngineConfig) -> Settings {
        let t = config.targets();
        Settings {
            timezone: config.timezone.name().to_owned(),
            allowed_lateness_ms: config.allowed_lateness_ms,
            state_ttl_ms: config.state_ttl_ms,
            deadlines_ms: t.versions().to_vec(),
        }
    }

    fn check(&self, now: &Settings) -> Result<(), CheckpointError> {
        let changed = |what, saved: String, now: String| Err(CheckpointError::ConfigChanged { what, saved, now });
        if self.timezone != now.timezone {
            return changed("engine.timezone", self.timezone.clone(), now.timezone.clone());
        }
        if self.allowed_lateness_ms != now.allowed_lateness_ms {
            return changed("engine.allowed_lateness (ms)", self.allowed_lateness_ms.to_string(), now.allowed_lateness_ms.to_string());
        }
        if self.deadlines_ms != now.deadlines_ms {
            return changed(
                "the time standards' targets (ms, by version start)",
                format!("{:?}", self.deadlines_ms),
                format!("{:?}", now.deadlines_ms),
            );
        }
        Ok(())
    }
}

#[derive(Serialize, Deserialize)]
struct SellerSnapshot {
    id: String,
    kind: EntityKind,
    parent: Option<String>,
    days: Vec<(Day, DayAccs)>,
    ladder: Ladder,
    reasons: BTreeMap<Day, ReasonTally>,
    months: Vec<(Day, DayAccs)>,
}

/// A map's entries in key order, so that equal states give equal bytes.
fn sorted<'a, V: Clone + 'a>(entries: impl IntoIterator<Item = (&'a u128, &'a V)>) -> Vec<(u128, V)> {
    let mut v: Vec<(u128, V)> = entries.into_iter().map(|(k, v)| (*k, v.clone())).collect();
    v.sort_by_key(|(k, _)| *k);
    v
}

#[derive(Serialize, Deserialize)]
struct Snapshot {
    format: u32,
    settings: Settings,
    keys: [u64; 8],
    max_event_time: i64,
    input_time: Vec<i64>,
    clock: i64,
    watermark: i64,
    open_from: Option<Day>,
    quarters_open: Vec<Day>,
    swept_at: i64,
    next_generation: u32,
    sellers: Vec<SellerSnapshot>,
    orders: Vec<(u128, OrderState)>,
    critics: Vec<(u128, Critic)>,
    early_followups: Vec<(u128, EarlyFollowUp)>,
    early_reviews: Vec<(u128, i64)>,
    surveyed: Vec<(u128, i64)>,
    accuracy: Vec<(u128, Accuracy)>,
    accuracy_closed: Vec<(u128, i64)>,
    requests: Vec<(u128, RequestState)>,
    early_exclusions: Vec<(u128, EarlyExclusion)>,
    disputable: Vec<(u128, super::disputes::Disputable)>,
    questions: Vec<String>,
    sites: Vec<String>,
    messages: Vec<(u128, MessageState)>,
    answered: Vec<(u128, i64)>,
    event_ids: BTreeMap<i64, Vec<u128>>,
    published: Vec<(u32, Period)>,
    dirty: Vec<(u32, Day)>,
    stats: (Vec<u64>, Vec<u64>, Vec<u64>, u64),
}

impl Engine {
    /// The state as bytes. Everything ready is first moved into `out`, so that the
    /// checkpoint and the outputs before it together describe the input seen so far.
    pub fn checkpoint(&mut self, out: &mut Vec<Output>) -> Vec<u8> {
        self.drain(out);
        let mut published: Vec<(u32, Period)> = self.published.iter().copied().collect();
        published.sort();
        let snapshot = Snapshot {
            format: FORMAT,
            settings: Settings::of(&self.config),
            keys: self.fingerprints.keys(),
            max_event_time: self.max_event_time,
            input_time: self.input_time.clone(),
            clock: self.clock,
            watermark: self.watermark,
            open_from: self.open_from,
            quarters_open: self.quarters_open.iter().copied().collect(),
            swept_at: self.swept_at,
            next_generation: self.next_generation,
            sellers: self
                .sellers
                .iter()
                .map(|s| SellerSnapshot {
                    id: s.id.to_string(),
                    kind: s.kind,
                    parent: s.parent.as_deref().map(str::to_owned),
                    days: s.days.iter().map(|(d, a)| (d, a.clone())).collect(),
                    ladder: s.ladder.clone(),
                    reasons: s.reasons.clone(),
                    months: s.months.iter().map(|(d, a)| (*d, a.clone())).collect(),
                })
                .collect(),
            orders: sorted(&self.orders),
            critics: sorted(&self.critics),
            early_followups: sorted(&self.early_followups),
            early_reviews: sorted(&self.early_reviews),
            surveyed: sorted(&self.surveyed),
            accuracy: sorted(&self.accuracy),
            accuracy_closed: sorted(&self.accuracy_closed),
            requests: sorted(self.requests.iter()),
            early_exclusions: sorted(&self.early_exclusions),
            disputable: sorted(&self.disputable),
            questions: self.question_ids.names().iter().map(|q| q.to_string()).collect(),
            sites: self.site_ids.names().iter().map(|q| q.to_string()).collect(),
            messages: sorted(&self.messages),
            answered: sorted(&self.answered),
            event_ids: self.dedup.by_day().clone(),
            published,
            dirty: self.dirty.clone(),
            stats: (self.stats.accepted.to_vec(), self.stats.duplicates.to_vec(), self.stats.rejected.to_vec(), self.stats.rows_emitted),
        };
        postcard::to_stdvec(&snapshot).expect("engine state always serializes: plain integers, strings and vectors")
    }

    /// An engine continuing from a checkpoint, with the configuration it must be run with.
    pub fn restore(config: EngineConfig, bytes: &[u8]) -> Result<Engine, CheckpointError> {
        let s: Snapshot = postcard::from_bytes(bytes).map_err(|e| CheckpointError::Corrupt(e.to_string()))?;
        if s.format != FORMAT {
            return Err(CheckpointError::Format(s.format));
        }
        s.settings.check(&Settings::of(&config))?;
        let mut e = Engine::new(config);
        e.fingerprints = Fingerprinter::with_keys(s.keys);
        e.max_event_time = s.max_event_time;
        e.input_time = s.input_time;
        e.clock = s.clock;
        e.watermark = s.watermark;
        e.open_from = s.open_from;
        e.quarters_open = s.quarters_open.into_iter().collect();
        e.swept_at = s.swept_at;
        e.next_generation = s.next_generation;
        for (i, seller) in s.sellers.into_iter().enumerate() {
            let mut ring = DayRing::default();
            for (day, accs) in seller.days {
                *ring.entry(day).0 = accs;
                e.active.entry(day).or_default().push(i as u32);
            }
            // A performer's key names its department's index: departments come before their performers.
            let fp = match &seller.parent {
                Some(parent) => {
                    let department = e
                        .seller_index
                        .get(&e.fingerprints.of(parent.as_str()))
                        .copied()
                        .ok_or_else(|| CheckpointError::Corrupt(format!("performer {} comes before its department {parent}", seller.id)))?;
                    e.fingerprints.of(&(EntityKind::Performer, department, seller.id.as_str()))
                }
                None => e.fingerprints.of(seller.id.as_str()),
            };
            e.seller_index.insert(fp, i as u32);
            e.sellers.push(SellerState {
                days: ring,
                ladder: seller.ladder,
                reasons: seller.reasons,
                months: seller.months.into_iter().collect(),
                ..SellerState::new(seller.id.into(), seller.kind, seller.parent.map(Into::into))
            });
        }
        let targets = e.targets.clone();
        for (key, o) in s.orders {
            let item = Item::Order(key, o.generation);
            if o.created != NONE {
                e.deadlines.push(o.created + targets.confirm_ms(o.created), (TimerKind::Confirm, item));
                e.deadlines.push(o.ship_by, (TimerKind::Handover, item));
            }
            if o.confirmed != NONE {
                e.deadlines.push(o.confirmed + targets.assemble_ms(o.confirmed), (TimerKind::Assemble, item));
            }
            if o.survey_due != NONE && !o.survey_done {
                e.surveys_due.push(o.survey_due, (key, o.generation));
            }
            e.orders.insert(key, o);
        }
        for (key, c) in s.critics {
            e.deadlines.push(c.due, (TimerKind::FollowUp, Item::Critic(key, c.generation)));
            e.critics.insert(key, c);
        }
        e.early_followups = s.early_followups.into_iter().collect();
        e.early_reviews = s.early_reviews.into_iter().collect();
        e.surveyed = s.surveyed.into_iter().collect();
        for (key, a) in s.accuracy {
            if a.delivered != NONE && !a.judged {
                e.deadlines.push(a.window_end, (TimerKind::ComplaintWindow, Item::Accuracy(key, a.generation)));
            }
            e.accuracy.insert(key, a);
        }
        e.accuracy_closed = s.accuracy_closed.into_iter().collect();
        for (key, r) in s.requests {
            e.restore_request(key, r);
        }
        e.early_exclusions = s.early_exclusions.into_iter().collect();
        e.disputable = s.disputable.into_iter().collect();
        for q in &s.questions {
            e.question_ids.intern(q);
        }
        for site in &s.sites {
            e.site_ids.intern(site);
        }
        for (key, m) in s.messages {
            if m.received != NONE {
                e.deadlines.push(m.received + targets.respond_ms(m.received), (TimerKind::Respond, Item::Message(key, m.generation)));
            }
            e.messages.insert(key, m);
        }
        e.answered = s.answered.into_iter().collect();
        e.dedup = Dedup::from_days(s.event_ids);
        e.published = s.published.into_iter().collect();
        e.dirty = s.dirty;
        let copy = |dst: &mut [u64], src: &[u64]| dst.iter_mut().zip(src).for_each(|(d, s)| *d = *s);
        let mut stats = Stats::default();
        copy(&mut stats.accepted, &s.stats.0);
        copy(&mut stats.duplicates, &s.stats.1);
        copy(&mut stats.rejected, &s.stats.2);
        stats.rows_emitted = s.stats.3;
        e.stats = stats;
        Ok(e)
    }
}

/// The fields a checkpoint starts with, in [`Snapshot`]'s order (keep the two in step): enough
/// to read `open_from` without decoding the state behind them.
type Head = (u32, Settings, [u64; 8], i64, Vec<i64>, i64, i64, Option<Day>);

/// The first local day not yet final in a checkpoint's engine (`None`: no window has closed),
/// read from the checkpoint's first bytes alone (a prefix of a few hundred bytes suffices):
/// every window that ends on or before that day was emitted before the checkpoint was taken.
pub fn checkpoint_open_from(head: &[u8]) -> Result<Option<Day>, CheckpointError> {
    let ((format, _, _, _, _, _, _, open_from), _) = postcard::take_from_bytes::<Head>(head).map_err(|e| CheckpointError::Corrupt(e.to_string()))?;
    if format != FORMAT {
        return Err(CheckpointError::Format(format));
    }
    Ok(open_from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn created(id: &str, at: &str) -> String {
        format!(
            r#"{{"event_id":"{id}","type":"order.created","occurred_at":"{at}","seller_id":"s1","order_id":"{id}","customer_id":"c1","ship_by":"{at}"}}"#
        )
    }

    #[test]
    fn the_head_of_a_checkpoint_tells_which_days_are_final() {
        let mut e = Engine::new(EngineConfig::default());
        let mut out = Vec::new();
        assert_eq!(checkpoint_open_from(&e.checkpoint(&mut out)).unwrap(), None);
        e.ingest(created("o1", "2026-10-30T10:00:00Z").as_bytes());
        e.ingest(created("o2", "2026-11-05T10:00:00Z").as_bytes());
        let bytes = e.checkpoint(&mut out);
        // 48 h lateness: the watermark is 2026-11-03T10:00Z, 13:00 in Moscow, so days before 2026-11-03 are final.
        let open_from = checkpoint_open_from(&bytes[..256]).unwrap();
        assert_eq!(open_from, Some(crate::contract::days_from_civil(2026, 11, 3)));
        assert_eq!(open_from, e.open_from);
        assert!(matches!(checkpoint_open_from(&bytes[..8]), Err(CheckpointError::Corrupt(_))));
    }
}
