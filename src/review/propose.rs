//! The proposed revision of the standards: the norms method (`crate::norms`, methodology
//! section 8) over the quarter's weekly cells, or daily cells for standards judged daily,
//! written as one `[[standards.revisions]]` entry effective from the next quarter.

use super::model::{Review, StandardReview};
use super::trend::Verdict;
use crate::norms::{analyse, passes, render_value, toml_target, Outcome, Settings};
use crate::results::FinalCell;
use quality_engine::methodology::{Direction, MetricId};
use serde::Serialize;
use std::fmt::Write;

/// What the norms method proposes for one standard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proposal {
    /// The cadence of the cells learnt from: `day` or `week`.
    pub cadence: &'static str,
    /// Eligible cells: final rows of the quarter with at least `min_sample` observations.
    pub cells: usize,
    /// The current target (the config's).
    pub target: f64,
    /// Cells meeting the current target.
    pub passing_target: usize,
    /// The proposed target (null when skipped).
    pub proposed: Option<f64>,
    /// Cells meeting the proposed target.
    pub passing_proposed: Option<usize>,
    /// Why there is no proposal.
    pub skipped: Option<String>,
}

impl Proposal {
    /// The proposal for `metric` from the quarter's cells of `cadence`.
    pub fn from_cells<'a>(
        metric: MetricId,
        cadence: &'static str,
        cells: impl Iterator<Item = &'a FinalCell>,
        target: f64,
        settings: &Settings,
    ) -> Proposal {
        let values: Vec<f64> = cells.filter(|c| c.denominator >= settings.min_sample && c.value.is_finite()).map(|c| c.value).collect();
        let passing_target = values.iter().filter(|v| passes(metric.direction(), **v, target)).count();
        let (proposed, passing_proposed, skipped) = match analyse(metric, &values, target, settings) {
            Outcome::Suggested(n) => (Some(n.suggested), Some(n.passing_suggested), None),
            Outcome::Skipped { reason, .. } => (None, None, Some(reason)),
        };
        Proposal { cadence, cells: values.len(), target, passing_target, proposed, passing_proposed, skipped }
    }
}

/// The proposal as a TOML file: one `[[standards.revisions]]` entry (`id` = the next quarter,
/// `effective_from` = its first day) with a `[standards.revisions.<id>]` table and `target` per
/// proposed standard, and the evidence as `#` comments.
pub fn render_toml(review: &Review) -> String {
    let m = &review.method;
    let mut out = String::new();
    let _ = writeln!(out, "# Proposed revision of the standards after the quarterly review of {} (`quality-pipeline review`).", review.quarter);
    let _ = writeln!(
        out,
        "# Each proposed target is met by at least {} of the quarter's cells: one seller's final weekly row, or daily row for the",
        percent(m.pass_rate)
    );
    let _ = writeln!(
        out,
        "# standards judged daily, with at least {} observations (norms from history; docs/methodology.md, sections 8 and 13).",
        m.min_sample
    );
    let _ = writeln!(out, "# Check it, then add it to the config's [standards]: from effective_from on it changes only the targets it names.");
    let _ = writeln!(out, "\n[[standards.revisions]]");
    let _ = writeln!(out, "id = {:?}", review.revision.id);
    let _ = writeln!(out, "effective_from = {:?}", review.revision.effective_from);
    for s in &review.standards {
        let p = &s.proposal;
        let metric = s.metric;
        let _ = writeln!(out);
        let _ = writeln!(out, "# {metric} ({}): {}", sense(metric), evidence(s));
        let _ = writeln!(out, "# {}", trends(review, s));
        match p.proposed {
            Some(target) => {
                let _ = writeln!(out, "[standards.revisions.{metric}]");
                let _ = writeln!(out, "target = {}", toml_target(metric, target));
            }
            None => {
                let _ = writeln!(out, "# no proposal: {}", p.skipped.as_deref().unwrap_or("no cells"));
            }
        }
    }
    out
}

fn evidence(s: &StandardReview) -> String {
    let (m, p) = (s.metric, &s.proposal);
    let now = format!(
        "the current target {} is met by {} of {} {} cells ({})",
        render_value(m, p.target),
        p.passing_target,
        p.cells,
        p.cadence,
        share(p.passing_target, p.cells)
    );
    match (p.proposed, p.passing_proposed) {
        (Some(t), Some(_)) if t == p.target => format!("{now}; the proposal keeps it"),
        (Some(t), Some(k)) => format!("{now}; the proposed {} by {k} ({})", render_value(m, t), share(k, p.cells)),
        _ => now,
    }
}

fn trends(review: &Review, s: &StandardReview) -> String {
    let counts: Vec<String> = Verdict::ALL.iter().map(|v| format!("{} {}", s.trends.count(*v), v.as_str())).collect();
    let shares: Vec<f64> = s.weeks.iter().filter_map(|w| w.share).collect();
    let range = match (shares.iter().copied().reduce(f64::min), shares.iter().copied().reduce(f64::max)) {
        (Some(lo), Some(hi)) => format!("platform pass share by week {} .. {}", percent(lo), percent(hi)),
        _ => "no judged weekly rows".into(),
    };
    format!("{} trends of sellers: {}; {range}", review.quarter, counts.join(", "))
}

fn sense(m: MetricId) -> &'static str {
    match m.direction() {
        Direction::HigherIsBetter => ">=",
        Direction::LowerIsBetter => "<=",
    }
}

/// `k / n` as a percentage with one decimal, `-` when `n` is 0.
pub fn share(k: usize, n: usize) -> String {
    if n == 0 {
        return "-".into();
    }
    percent(k as f64 / n as f64)
}

/// A share as a percentage with one decimal.
pub fn percent(p: f64) -> String {
    format!("{:.1}%", p * 100.0)
}
