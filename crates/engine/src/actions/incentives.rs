//! Incentive tiers (section 6.1 of the regulation): a ranking boost, wider functionality and
//! special tariff terms for the best sellers, granted and withdrawn month by month.
//!
//! Membership evolves from an empty start over every closed month, in month order: a seller
//! outside a tier enters when it meets all entry rules at the month's end; a member leaves when
//! an exit rule fires. Percentiles are taken among all sellers of the month, so this runs over
//! every seller's stored month rows at once (the file sink at commit, `quality-pipeline
//! incentives` over ClickHouse), never per partition. Rules: docs/methodology.md, section 10.6.

use super::ladder::{Escalation, Stage};
use super::leaders::orders;
use super::policy::{IncentivePolicy, LeaderPolicy, TierPolicy};
use crate::contract::civil_from_days;
use crate::window::{Cadence, Day, LocalDate};
use crate::WindowRow;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// One seller's closed month as the tiers read it: its final month row's composite and orders.
#[derive(Debug, Clone, PartialEq)]
pub struct SellerMonth {
    /// The seller.
    pub seller_id: Arc<str>,
    /// First day of the month.
    pub month_start: LocalDate,
    /// Composite score, 0..100.
    pub score: f64,
    /// Orders created in the month (the `seller_cancellation_share` denominator).
    pub orders: i64,
}

impl SellerMonth {
    /// The month of a final month row with a composite; `None` for any other row.
    pub fn of(row: &WindowRow) -> Option<SellerMonth> {
        let composite = row.composite.as_ref().filter(|_| row.cadence == Cadence::Month && row.is_final)?;
        Some(SellerMonth { seller_id: row.seller_id.clone(), month_start: row.period_start, score: composite.score, orders: orders(row) })
    }
}

/// A move on the escalation ladder, as far as the tiers need it: where the seller went, and when.
#[derive(Debug, Clone, PartialEq)]
pub struct StageChange {
    /// The seller.
    pub seller_id: Arc<str>,
    /// Monday of the evaluated week.
    pub week_start: LocalDate,
    /// The stage after the week.
    pub to: Stage,
}

impl From<&Escalation> for StageChange {
    fn from(e: &Escalation) -> StageChange {
        StageChange { seller_id: e.seller_id.clone(), week_start: e.week_start, to: e.to }
    }
}

/// Whether a seller came into a tier or went out of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TierMove {
    /// The seller holds the tier from the next month on.
    Entered,
    /// The seller no longer holds the tier from the next month on.
    Left,
}

impl TierMove {
    /// The stable id, as in the `incentives` table and topic.
    pub fn as_str(self) -> &'static str {
        match self {
            TierMove::Entered => "entered",
            TierMove::Left => "left",
        }
    }
}

/// The rule behind a tier change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TierRule {
    /// Every entry rule held: percentile, orders, ladder stage `ok`.
    Qualified,
    /// The percentile fell below the exit percentile (or the seller was not ranked).
    BelowPercentile,
    /// Fewer orders than the tier's minimum (none at all in a month without a row).
    BelowMinOrders,
    /// The ladder stage was not `ok` at the month's end, after the minimum stay.
    Escalation,
    /// The ladder stage reached the tier's `force_exit_stage`: out even within the minimum stay.
    SevereEscalation,
}

impl TierRule {
    /// The stable id, as in the `incentives` table and topic.
    pub fn as_str(self) -> &'static str {
        match self {
            TierRule::Qualified => "qualified",
            TierRule::BelowPercentile => "below_percentile",
            TierRule::BelowMinOrders => "below_min_orders",
            TierRule::Escalation => "escalation",
            TierRule::SevereEscalation => "severe_escalation",
        }
    }
}

/// A change of one seller's membership in one tier, decided at a month's end: the record of
/// `incentives.ndjson`, the `incentives` table and the `quality.incentives` topic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierChange {
    /// `{seller}/{tier}/{month}`: at most one change per seller, tier and month, so it is its identity.
    pub change_id: String,
    /// The seller.
    pub seller_id: Arc<str>,
    /// The tier's id (`[actions.incentives.<tier>]`).
    pub tier: String,
    /// Entered or left.
    pub change: TierMove,
    /// First day of the month whose end decided it; the change holds from the next month on.
    pub month_start: LocalDate,
    /// The rule that fired.
    pub rule: TierRule,
    /// Composite score of the month (null: no final month row).
    pub score: Option<f64>,
    /// Percentile among the month's ranked sellers (null: not ranked).
    pub percentile: Option<f64>,
    /// Rank among them, 1 = best, ties share a rank (null: not ranked).
    pub rank: Option<u32>,
    /// Sellers ranked in the month: a final row with at least `actions.leaders.min_orders` orders.
    pub eligible_sellers: u32,
    /// Orders created in the month (0 without a row).
    pub orders: i64,
    /// Ladder stage at the month's end.
    pub stage: Stage,
    /// Months held before the change: 0 on entry; on exit, months from the entry month to this one.
    pub months_in_tier: u32,
}

/// Where one seller stood in the ranking of a month.
#[derive(Debug, Clone, Copy)]
struct Standing {
    /// Ranked sellers with a strictly lower score.
    below: u32,
    /// 1 + ranked sellers with a strictly higher score.
    rank: u32,
}

/// What the rules read about one seller at one month's end.
#[derive(Debug, Clone, Copy)]
struct Facts {
    score: Option<f64>,
    orders: i64,
    standing: Option<Standing>,
    /// Ranked sellers of the month.
    ranked: u32,
    stage: Stage,
}

impl Facts {
    /// `100 × below / (ranked − 1)` (100 for the only ranked seller).
    fn percentile(&self) -> Option<f64> {
        self.standing.map(|s| if self.ranked <= 1 { 100.0 } else { 100.0 * f64::from(s.below) / f64::from(self.ranked - 1) })
    }

    /// Whether the percentile is at least `p`, compared without dividing: `100 × below ≥ p × (ranked − 1)`.
    fn at_least(&self, p: f64) -> bool {
        self.standing.is_some_and(|s| 100.0 * f64::from(s.below) >= p * f64::from(self.ranked.saturating_sub(1)))
    }
}

/// Each ranked seller's standing in one month: sellers with at least `min_orders` orders, by
/// composite score, best first; equal scores share the rank and the percentile.
fn standings<'a>(rows: &[&'a SellerMonth], min_orders: i64) -> HashMap<&'a str, Standing> {
    let mut ranked: Vec<&SellerMonth> = rows.iter().copied().filter(|m| m.orders >= min_orders).collect();
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score));
    let n = ranked.len() as u32;
    let mut out = HashMap::with_capacity(ranked.len());
    for tie in ranked.chunk_by(|a, b| a.score == b.score) {
        let rank = out.len() as u32 + 1;
        let below = n - (rank - 1) - tie.len() as u32;
        for m in tie {
            out.insert(&*m.seller_id, Standing { below, rank });
        }
    }
    out
}

/// Calendar months from the month starting on `from` to the one starting on `to`.
fn months_between(from: Day, to: Day) -> u32 {
    let index = |d: Day| {
        let (y, m, _) = civil_from_days(d);
        y * 12 + i64::from(m)
    };
    (index(to) - index(from)).max(0) as u32
}

/// Whether a seller outside the tier meets every entry rule.
fn enters(tier: &TierPolicy, f: &Facts) -> bool {
    f.stage == Stage::Ok && f.orders >= tier.min_orders && f.at_least(tier.entry_percentile)
}

/// The rule that takes a member out, if one fires; rules are checked in this order.
fn exit_rule(tier: &TierPolicy, f: &Facts, months_in_tier: u32) -> Option<TierRule> {
    if f.stage >= tier.force_exit_stage {
        return Some(TierRule::SevereEscalation);
    }
    if months_in_tier < tier.min_stay_months {
        return None;
    }
    if f.stage != Stage::Ok {
        Some(TierRule::Escalation)
    } else if f.orders < tier.min_orders {
        Some(TierRule::BelowMinOrders)
    } else if !f.at_least(tier.exit_percentile) {
        Some(TierRule::BelowPercentile)
    } else {
        None
    }
}

/// Each seller's ladder history: (first day after the evaluated week, stage after it), in week order.
fn histories(stages: &[StageChange]) -> HashMap<&str, Vec<(Day, Stage)>> {
    let mut out: HashMap<&str, Vec<(Day, Stage)>> = HashMap::new();
    for s in stages {
        out.entry(&s.seller_id).or_default().push((s.week_start.0 + 7, s.to));
    }
    for h in out.values_mut() {
        h.sort_by_key(|(end, _)| *end);
    }
    out
}

/// The stage after the last transition of a week that ended before `end` (`ok` without one).
fn stage_at(history: Option<&Vec<(Day, Stage)>>, end: Day) -> Stage {
    history.and_then(|h| h.iter().take_while(|(week_end, _)| *week_end <= end).last()).map_or(Stage::Ok, |(_, s)| *s)
}

/// Every tier change over the given closed months, ordered by month, seller and tier.
///
/// `months` are the final month rows of every seller (months absent from it are not
/// evaluated; a seller absent from an evaluated month has no orders in it); `stages` are the
/// ladder transitions of every seller. `leaders.min_orders` decides who is ranked.
pub fn tier_changes(months: &[SellerMonth], stages: &[StageChange], tiers: &IncentivePolicy, leaders: &LeaderPolicy) -> Vec<TierChange> {
    let mut by_month: BTreeMap<Day, BTreeMap<&str, &SellerMonth>> = BTreeMap::new();
    for m in months {
        by_month.entry(m.month_start.0).or_default().insert(&m.seller_id, m);
    }
    let histories = histories(stages);
    // (seller, tier) -> (seller id, first day of the entry month).
    let mut members: BTreeMap<(&str, &str), (Arc<str>, Day)> = BTreeMap::new();
    let mut out = Vec::new();
    for (&month, rows) in &by_month {
        let end = Cadence::Month.period_of(month).end;
        let listed: Vec<&SellerMonth> = rows.values().copied().collect();
        let standings = standings(&listed, leaders.min_orders);
        let ranked = standings.len() as u32;
        let sellers: BTreeSet<(&str, Arc<str>)> = listed
            .iter()
            .map(|m| (&*m.seller_id, m.seller_id.clone()))
            .chain(members.iter().map(|((seller, _), (id, _))| (*seller, id.clone())))
            .collect();
        for (seller, seller_id) in sellers {
            let row = rows.get(seller);
            let facts = Facts {
                score: row.map(|m| m.score),
                orders: row.map_or(0, |m| m.orders),
                standing: standings.get(seller).copied(),
                ranked,
                stage: stage_at(histories.get(seller), end),
            };
            for (name, tier) in &tiers.tiers {
                let held = members.get(&(seller, name.as_str())).map(|(_, entered)| months_between(*entered, month));
                let (change, rule, months_in_tier) = match held {
                    Some(n) => match exit_rule(tier, &facts, n) {
                        Some(rule) => (TierMove::Left, rule, n),
                        None => continue,
                    },
                    None if enters(tier, &facts) => (TierMove::Entered, TierRule::Qualified, 0),
                    None => continue,
                };
                match change {
                    TierMove::Entered => members.insert((seller, name.as_str()), (seller_id.clone(), month)),
                    TierMove::Left => members.remove(&(seller, name.as_str())),
                };
                out.push(TierChange {
                    change_id: format!("{seller}/{name}/{}", LocalDate(month)),
                    seller_id: seller_id.clone(),
                    tier: name.clone(),
                    change,
                    month_start: LocalDate(month),
                    rule,
                    score: facts.score,
                    percentile: facts.percentile(),
                    rank: facts.standing.map(|s| s.rank),
                    eligible_sellers: ranked,
                    orders: facts.orders,
                    stage: facts.stage,
                    months_in_tier,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::days_from_civil;

    fn day(date: &str) -> Day {
        let p: Vec<i64> = date.split('-').map(|x| x.parse().unwrap()).collect();
        days_from_civil(p[0], p[1] as u32, p[2] as u32)
    }

    fn month(seller: &str, first_day: &str, score: f64, orders: i64) -> SellerMonth {
        SellerMonth { seller_id: seller.into(), month_start: LocalDate(day(first_day)), score, orders }
    }

    fn moved(seller: &str, monday: &str, to: Stage) -> StageChange {
        StageChange { seller_id: seller.into(), week_start: LocalDate(day(monday)), to }
    }

    /// One tier `t`: in at the 90th percentile with 30 orders, out below the 50th, two months' stay,
    /// forced out from an improvement plan on.
    fn one_tier() -> IncentivePolicy {
        let t = TierPolicy {
            entry_percentile: 90.0,
            exit_percentile: 50.0,
            min_orders: 30,
            min_stay_months: 2,
            force_exit_stage: Stage::ImprovementPlan,
        };
        IncentivePolicy { tiers: [("t".to_owned(), t)].into_iter().collect() }
    }

    /// Eleven sellers `s00`..`s10` scoring 0..10 (percentiles 0, 10, .., 100), 40 orders each.
    fn field(first_day: &str) -> Vec<SellerMonth> {
        (0..=10).map(|i| month(&format!("s{i:02}"), first_day, i as f64, 40)).collect()
    }

    fn run(months: &[SellerMonth], stages: &[StageChange], tiers: &IncentivePolicy) -> Vec<TierChange> {
        tier_changes(months, stages, tiers, &LeaderPolicy::default())
    }

    /// (seller, tier, change, month, rule, months in tier) of each change.
    fn brief(changes: &[TierChange]) -> Vec<(String, String, &'static str, String, &'static str, u32)> {
        changes
            .iter()
            .map(|c| (c.seller_id.to_string(), c.tier.clone(), c.change.as_str(), c.month_start.to_string(), c.rule.as_str(), c.months_in_tier))
            .collect()
    }

    fn row(
        seller: &str,
        tier: &str,
        change: &'static str,
        month: &str,
        rule: &'static str,
        n: u32,
    ) -> (String, String, &'static str, String, &'static str, u32) {
        (seller.into(), tier.into(), change, month.into(), rule, n)
    }

    #[test]
    fn sellers_at_or_above_the_entry_percentile_enter_with_the_evidence() {
        let got = run(&field("2026-10-01"), &[], &one_tier());
        assert_eq!(brief(&got), [row("s09", "t", "entered", "2026-10-01", "qualified", 0), row("s10", "t", "entered", "2026-10-01", "qualified", 0)]);
        assert_eq!(
            got[0],
            TierChange {
                change_id: "s09/t/2026-10-01".into(),
                seller_id: "s09".into(),
                tier: "t".into(),
                change: TierMove::Entered,
                month_start: LocalDate(day("2026-10-01")),
                rule: TierRule::Qualified,
                score: Some(9.0),
                percentile: Some(90.0),
                rank: Some(2),
                eligible_sellers: 11,
                orders: 40,
                stage: Stage::Ok,
                months_in_tier: 0,
            }
        );
        let json = serde_json::to_value(&got[1]).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"change_id": "s10/t/2026-10-01", "seller_id": "s10", "tier": "t", "change": "entered", "month_start": "2026-10-01",
                "rule": "qualified", "score": 10.0, "percentile": 100.0, "rank": 1, "eligible_sellers": 11, "orders": 40, "stage": "ok", "months_in_tier": 0})
        );
    }

    #[test]
    fn the_minimum_stay_holds_a_member_then_a_low_percentile_takes_the_tier_away() {
        let mut months = field("2026-10-01");
        let mut nov = field("2026-11-01");
        nov[10].score = -1.0;
        let mut dec = field("2026-12-01");
        dec[10].score = -1.0;
        dec[9].score = 5.5;
        months.extend(nov.into_iter().chain(dec));
        let got = run(&months, &[], &one_tier());
        assert_eq!(
            brief(&got),
            [
                row("s09", "t", "entered", "2026-10-01", "qualified", 0),
                row("s10", "t", "entered", "2026-10-01", "qualified", 0),
                // s10 falls to the bottom: November is within its two months' stay, December is not.
                row("s08", "t", "entered", "2026-11-01", "qualified", 0),
                // s09 at the 70th percentile in December is above the exit's 50th: it stays.
                row("s07", "t", "entered", "2026-12-01", "qualified", 0),
                row("s10", "t", "left", "2026-12-01", "below_percentile", 2),
            ]
        );
        let left = &got[4];
        assert_eq!((left.percentile, left.rank, left.score), (Some(0.0), Some(11), Some(-1.0)));
    }

    #[test]
    fn an_escalation_takes_the_tier_away_after_the_stay_and_a_plan_at_once() {
        let months: Vec<SellerMonth> = ["2026-10-01", "2026-11-01", "2026-12-01"].iter().flat_map(|m| field(m)).collect();
        let stages = [
            // The week of Monday 2026-10-26 ends on 2026-11-01, in November: October's end still sees `ok`.
            moved("s09", "2026-10-26", Stage::Warning),
            // s10 gets a plan in November, inside its stay: out at November's end.
            moved("s10", "2026-11-09", Stage::Warning),
            moved("s10", "2026-11-16", Stage::ImprovementPlan),
        ];
        let got = run(&months, &stages, &one_tier());
        assert_eq!(
            brief(&got),
            [
                row("s09", "t", "entered", "2026-10-01", "qualified", 0),
                row("s10", "t", "entered", "2026-10-01", "qualified", 0),
                row("s10", "t", "left", "2026-11-01", "severe_escalation", 1),
                // s09's warning is not forced: it waits for the end of the stay.
                row("s09", "t", "left", "2026-12-01", "escalation", 2),
            ]
        );
        assert_eq!((got[2].stage, got[3].stage), (Stage::ImprovementPlan, Stage::Warning));
        // Back to ok by December's end, s10 qualifies and enters again.
        let mut recovered = stages.to_vec();
        recovered.push(moved("s10", "2026-12-21", Stage::Ok));
        let again = run(&months, &recovered, &one_tier());
        assert_eq!(brief(&again)[4..], [row("s10", "t", "entered", "2026-12-01", "qualified", 0)]);
    }

    #[test]
    fn ties_share_the_percentile_and_the_rank() {
        // Twelve sellers: s10 and `tie` share 10.0; each has 10 of its 11 peers strictly below.
        let mut m = field("2026-10-01");
        m.push(month("tie", "2026-10-01", 10.0, 40));
        let got = run(&m, &[], &one_tier());
        let facts: Vec<(String, Option<f64>, Option<u32>)> = got.iter().map(|c| (c.seller_id.to_string(), c.percentile, c.rank)).collect();
        let p = Some(1000.0 / 11.0);
        assert_eq!(facts, [("s10".into(), p, Some(1)), ("tie".into(), p, Some(1))]);
        // s09 is at 9 of 11 (81.8) now: out. A tie lifts nobody: sellers all equal are each at 0.
        let flat: Vec<SellerMonth> = (0..3).map(|i| month(&format!("f{i}"), "2026-10-01", 50.0, 40)).collect();
        assert!(run(&flat, &[], &one_tier()).is_empty());
        // A tie straddling the cut: s08 and s09 share 8.5 (8 of 10 below, the 80th percentile), both stay out.
        let mut m = field("2026-10-01");
        m[8].score = 8.5;
        m[9].score = 8.5;
        assert_eq!(brief(&run(&m, &[], &one_tier())), [row("s10", "t", "entered", "2026-10-01", "qualified", 0)]);
    }

    #[test]
    fn the_minimum_sample_decides_who_is_ranked_enters_and_stays() {
        let mut oct = field("2026-10-01");
        // The best score with 29 orders: not ranked (leaders.min_orders 30), so not among the 11.
        oct.push(month("small", "2026-10-01", 99.0, 29));
        let mut tiers = one_tier();
        tiers.tiers.get_mut("t").unwrap().min_orders = 40;
        let got = run(&oct, &[], &tiers);
        assert_eq!(got.iter().map(|c| (c.seller_id.to_string(), c.eligible_sellers)).collect::<Vec<_>>(), [("s09".into(), 11), ("s10".into(), 11)]);
        // Ranked with 35 orders, yet short of the tier's 40: s10 cannot enter.
        oct[10].orders = 35;
        assert_eq!(brief(&run(&oct, &[], &tiers)), [row("s09", "t", "entered", "2026-10-01", "qualified", 0)]);
        // A member below the minimum after its stay leaves; one with no row at all has 0 orders.
        let mut months = field("2026-10-01");
        for first in ["2026-11-01", "2026-12-01"] {
            let mut m = field(first);
            m[9].orders = 39;
            m.remove(10);
            months.extend(m);
        }
        let got = run(&months, &[], &tiers);
        assert_eq!(
            &brief(&got)[2..],
            [row("s09", "t", "left", "2026-12-01", "below_min_orders", 2), row("s10", "t", "left", "2026-12-01", "below_min_orders", 2)]
        );
        assert_eq!((got[3].score, got[3].orders, got[3].percentile, got[3].rank), (None, 0, None, None));
    }

    #[test]
    fn the_default_tiers_are_decided_independently() {
        // 40 ranked sellers: s00..s37 score 0..37; `busy` 90 with 200 orders, `top` 95; the rest have 120 orders.
        let mut oct: Vec<SellerMonth> = (0..38).map(|i| month(&format!("s{i:02}"), "2026-10-01", i as f64, 120)).collect();
        oct.push(month("busy", "2026-10-01", 90.0, 200));
        oct.push(month("top", "2026-10-01", 95.0, 120));
        let mut nov: Vec<SellerMonth> = oct.iter().map(|m| SellerMonth { month_start: LocalDate(day("2026-11-01")), ..m.clone() }).collect();
        // In November `top` slips to 30.5: 31 of 39 below, the 79.5th percentile.
        nov[39].score = 30.5;
        let stages = [moved("busy", "2026-11-16", Stage::Warning)];
        let got = tier_changes(&[oct, nov].concat(), &stages, &IncentivePolicy::default(), &LeaderPolicy::default());
        assert_eq!(
            brief(&got),
            [
                // busy: 38 of 39 below (97.4), every tier; s36 (92.3) and s37 (94.9): leader only;
                // top (100) has 120 orders, short of the tariff's 150.
                row("busy", "leader", "entered", "2026-10-01", "qualified", 0),
                row("busy", "quality_leader", "entered", "2026-10-01", "qualified", 0),
                row("busy", "tariff", "entered", "2026-10-01", "qualified", 0),
                row("s36", "leader", "entered", "2026-10-01", "qualified", 0),
                row("s37", "leader", "entered", "2026-10-01", "qualified", 0),
                row("top", "leader", "entered", "2026-10-01", "qualified", 0),
                row("top", "quality_leader", "entered", "2026-10-01", "qualified", 0),
                // busy's warning: the leader's one-month stay is over, the tariff goes at any escalation,
                // quality_leader's three months hold it.
                row("busy", "leader", "left", "2026-11-01", "escalation", 1),
                row("busy", "tariff", "left", "2026-11-01", "severe_escalation", 1),
                // With top lower, s35 reaches 92.3 and s37 97.4; top's 79.5 is above leader's exit (75) and
                // below quality_leader's (85), which its stay holds.
                row("s35", "leader", "entered", "2026-11-01", "qualified", 0),
                row("s37", "quality_leader", "entered", "2026-11-01", "qualified", 0),
            ]
        );
    }
}
