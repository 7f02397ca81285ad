//! What the engine needs to know: time zone, lateness, state lifetime and the standards.

use crate::actions::ActionPolicy;
use crate::contract::{DAY_MS, HOUR_MS};
use crate::methodology::{MetricId, Profile, VersionedStandards};
use crate::state::{Deadlines, Targets};
use crate::window::Calendar;
use chrono_tz::Tz;

/// Engine settings; the application builds them from its TOML config.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// The zone whose calendar days, ISO weeks and months the windows follow.
    pub timezone: Tz,
    /// How far behind the maximum event time an event may arrive and still count.
    pub allowed_lateness_ms: i64,
    /// How long an order or conversation that never completes is kept before it is given up.
    pub state_ttl_ms: i64,
    /// How long after delivery a complaint of a wrong or missing item makes the order inaccurate.
    pub complaint_window_ms: i64,
    /// How long after its first closure a reopened request counts as reopened (service profile).
    pub reopen_window_ms: i64,
    /// Targets and composite parameters, by version and effective date.
    pub standards: VersionedStandards,
    /// What moves event time forward (and with it deadlines and the watermark).
    pub clock: Clock,
    /// Escalations, surveys, critics and leaders.
    pub actions: ActionPolicy,
}

/// What moves the engine's event-time clock, from which deadlines fire and the watermark
/// (clock minus the allowed lateness) is derived.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Clock {
    /// The largest event time seen: right for one ordered input (a file, one partition).
    #[default]
    MaxEventTime,
    /// Only [`crate::Engine::advance_clock`]: the caller combines several inputs (the slowest
    /// partition, idle partitions, the wall clock when caught up) into one event time.
    Driven,
}

impl Default for EngineConfig {
    /// Europe/Moscow, 48 h lateness, 30 days of state, a 14-day complaint window, a 7-day reopen
    /// window, the marketplace regulation's standards and actions.
    fn default() -> Self {
        EngineConfig {
            timezone: chrono_tz::Europe::Moscow,
            allowed_lateness_ms: 48 * HOUR_MS,
            state_ttl_ms: 30 * DAY_MS,
            complaint_window_ms: 14 * DAY_MS,
            reopen_window_ms: 7 * DAY_MS,
            standards: VersionedStandards::default(),
            clock: Clock::default(),
            actions: ActionPolicy::default(),
        }
    }
}

impl EngineConfig {
    /// The profile measured (the standards' profile).
    pub fn profile(&self) -> Profile {
        self.standards.profile()
    }

    /// Deadline lengths derived from the time standards' targets of every version, each in
    /// force from its effective day's local midnight.
    pub fn targets(&self) -> Targets {
        let mut calendar = Calendar::new(self.timezone);
        let versions = self.standards.versions().iter().map(|v| {
            let ms = |m: MetricId| (v.standards.get(m).target * 1000.0).round() as i64;
            let from = v.effective_from.map_or(i64::MIN, |d| calendar.start_of(d.0));
            (
                from,
                Deadlines {
                    confirm_ms: ms(MetricId::ConfirmationTimeAvg),
                    assemble_ms: ms(MetricId::AssemblyTimeAvg),
                    respond_ms: ms(MetricId::ResponseTimeAvg),
                },
            )
        });
        Targets::schedule(versions.collect())
    }
}
