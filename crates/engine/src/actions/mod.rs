//! Acting on quality: what the platform does with the measurements.
//!
//! * [`ladder`]: warnings, improvement plans and sanctions per seller, from closed weeks.
//! * [`survey`]: survey requests for delivered orders nobody reviewed.
//! * [`critic`]: follow-ups owed to customers who complained.
//! * [`reasons`]: the main reasons for negative reviews of a week.
//! * [`leaders`]: the month's quality leaders.
//! * [`incentives`]: incentive tiers, entered and left month by month.
//! * [`policy`]: the settings of all of them.

pub mod critic;
pub mod incentives;
pub mod ladder;
pub mod leaders;
pub mod policy;
pub mod reasons;
pub mod survey;

pub use critic::{Critic, CriticRecord, CriticSource, CriticStatus};
pub use incentives::{tier_changes, SellerMonth, StageChange, TierChange, TierMove, TierRule};
pub use ladder::{Escalation, Evidence, Ladder, Rule, Stage};
pub use leaders::{leaders, Leader};
pub use policy::{ActionPolicy, CriticPolicy, EscalationPolicy, IncentivePolicy, LeaderPolicy, SurveyPolicy, TierPolicy};
pub use reasons::{ReasonShare, ReasonTally, WeekReasons};
pub use survey::SurveyRequest;
