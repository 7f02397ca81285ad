//! The explicit backfill: stored window rows judged again under a chosen standards version.
//!
//! History keeps the version each window was judged against (the one in force on its first
//! day). Changing that is a deliberate act: this module re-judges the final rows of a date range
//! under one version, writes them as the next row version (so they replace the stored ones in
//! every reader) and reports every target and status that changed.

pub mod clickhouse;
pub mod file;

use quality_engine::methodology::{rejudge, rerank_month, EntityKind, MetricId, StandardsVersion, Status};
use quality_engine::window::{Cadence, Day, LocalDate};
use quality_engine::WindowRow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write};
use std::sync::Arc;

/// Which stored windows a backfill touches: those starting in `[since, until)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scope {
    /// First window start included; `None` for all history.
    pub since: Option<Day>,
    /// First window start excluded; `None` for no end.
    pub until: Option<Day>,
}

impl Scope {
    /// Whether a window starting on `start` is in scope.
    pub fn contains(&self, start: Day) -> bool {
        self.since.is_none_or(|s| start >= s) && self.until.is_none_or(|u| start < u)
    }
}

/// What a backfill changed, per cadence and standard.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    /// The version the rows were judged against.
    pub version: String,
    /// Rows judged again, per cadence.
    pub rows: BTreeMap<Cadence, usize>,
    /// Per (cadence, standard): targets before, target after and status flips.
    pub standards: BTreeMap<(Cadence, MetricId), StandardChange>,
}

/// How one standard's judgements changed in one cadence.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StandardChange {
    /// Targets the stored rows had (several when they spanned versions), as text in the metric's unit.
    pub targets_before: BTreeSet<String>,
    /// The version's target.
    pub target_after: String,
    /// Cells that passed and now fail.
    pub pass_to_fail: usize,
    /// Cells that failed and now pass.
    pub fail_to_pass: usize,
}

/// Judges the final rows in scope again under `version`; returns the new row versions (months
/// ranked again among themselves, per entity and department) and what changed.
pub fn rejudge_rows(stored: &[WindowRow], version: &StandardsVersion, scope: Scope) -> (Vec<WindowRow>, Changes) {
    let mut changes = Changes { version: version.id.to_string(), ..Changes::default() };
    let mut out: Vec<WindowRow> = Vec::new();
    for row in stored.iter().filter(|r| r.is_final && scope.contains(r.period_start.0)) {
        let new = rejudge(row, version);
        *changes.rows.entry(row.cadence).or_default() += 1;
        for (before, after) in row.metrics.iter().zip(&new.metrics) {
            let c = changes.standards.entry((row.cadence, before.metric)).or_default();
            c.targets_before.insert(format_target(before.metric, before.target));
            c.target_after = format_target(after.metric, after.target);
            match (before.status, after.status) {
                (Status::Pass, Status::Fail) => c.pass_to_fail += 1,
                (Status::Fail, Status::Pass) => c.fail_to_pass += 1,
                _ => {}
            }
        }
        out.push(new);
    }
    // Ranked as the engine ranks: sellers among sellers, departments among departments,
    // performers within their department.
    let mut months: BTreeMap<RankGroup, Vec<usize>> = BTreeMap::new();
    for (i, r) in out.iter().enumerate().filter(|(_, r)| r.cadence == Cadence::Month) {
        months.entry((r.period_start, r.entity, r.department_id.clone())).or_default().push(i);
    }
    for indexes in months.values() {
        let mut month: Vec<WindowRow> = indexes.iter().map(|&i| out[i].clone()).collect();
        rerank_month(&mut month);
        for (&i, r) in indexes.iter().zip(month) {
            out[i] = r;
        }
    }
    (out, changes)
}

/// The rows ranked together: a month's sellers, its departments, or one department's performers.
type RankGroup = (LocalDate, EntityKind, Option<Arc<str>>);

fn format_target(m: MetricId, target: f64) -> String {
    format!("{target}{}", if m.unit() == quality_engine::methodology::Unit::Seconds { " s" } else { "" })
}

impl fmt::Display for Changes {
    /// The summary a person checks: rows per cadence, then every standard whose target or statuses changed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<String> = self.rows.iter().map(|(c, n)| format!("{c} {n}")).collect();
        let total: usize = self.rows.values().sum();
        writeln!(f, "Judged {total} final rows again under standards version {:?} ({}).", self.version, rows.join(", "))?;
        let mut table = String::new();
        for ((cadence, metric), c) in &self.standards {
            let before: Vec<&str> = c.targets_before.iter().map(String::as_str).collect();
            if before == [c.target_after.as_str()] && c.pass_to_fail + c.fail_to_pass == 0 {
                continue;
            }
            let _ = writeln!(
                table,
                "{:<12} {:<32} {:>22} -> {:<12} {:>10} {:>10}",
                cadence.as_str(),
                metric.as_str(),
                before.join(", "),
                c.target_after,
                c.pass_to_fail,
                c.fail_to_pass
            );
        }
        if table.is_empty() {
            return writeln!(f, "No target and no status changed.");
        }
        writeln!(f, "{:<12} {:<32} {:>22}    {:<12} {:>10} {:>10}", "cadence", "standard", "target before", "after", "pass->fail", "fail->pass")?;
        f.write_str(&table)
    }
}
