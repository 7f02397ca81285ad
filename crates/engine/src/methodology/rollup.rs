//! Judging sums: the cells, survey questions and key drivers of a window from its integer sums.
//! The engine judges each entity's windows with it, and the company roll-up of the service
//! profile (the departments' sums added up, never an average of averages) is judged the same way.

use super::composite::explain;
use super::drivers::{key_drivers, CoMoments, Driver, DRIVER_MIN_SAMPLE};
use super::evaluate::evaluate;
use super::metric::MetricId;
use super::profile::EntityKind;
use super::standards::Standards;
use super::versions::VersionedStandards;
use crate::contract::OVERALL_QUESTION;
use crate::output::{Composite, MetricCell, QuestionCell, WindowRow, FINAL_VERSION};
use crate::state::{DayAccs, InternedIds};
use crate::window::{Cadence, LocalDate};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The cells a cadence carries, judged against `standards`, with the change since `prev`.
pub(crate) fn cells(standards: &Standards, cadence: Cadence, cur: &DayAccs, prev: &DayAccs) -> Vec<MetricCell> {
    standards
        .metrics_for(cadence)
        .map(|m| {
            let (a, b) = (cur.metrics[m.index()], prev.metrics[m.index()]);
            let (value, deviation, status) = evaluate(m, a.num, a.den, standards.get(m));
            let previous = m.value(b.num, b.den);
            MetricCell {
                metric: m,
                numerator: m.numerator(a.num),
                denominator: a.den,
                value,
                target: standards.get(m).target,
                deviation,
                previous,
                change: value.zip(previous).map(|(v, p)| v - p),
                status,
                overdue: a.overdue,
            }
        })
        .collect()
}

/// The monthly rating of a window's sums (unranked).
pub(crate) fn composite(standards: &Standards, cur: &DayAccs) -> Composite {
    let accs: Vec<(i64, i64)> = cur.metrics.iter().map(|a| (a.num, a.den)).collect();
    let components = explain(&accs, standards);
    Composite { score: components.iter().map(|c| c.points).sum(), rank: None, ranked_sellers: None, components }
}

/// The survey questions answered in a window, named by `names` (question number to id), by id.
pub(crate) fn questions(cur: &DayAccs, names: &[Arc<str>]) -> Vec<QuestionCell> {
    let mut cells: Vec<QuestionCell> = cur
        .questions
        .iter()
        .filter(|(_, m)| m.n != 0)
        .map(|(q, m)| QuestionCell { question_id: names[*q as usize].clone(), surveys: m.n, average: m.mean(), moments: *m })
        .collect();
    cells.sort_by(|a, b| a.question_id.cmp(&b.question_id));
    cells
}

/// The key drivers among a window's questions (every question but the main one).
pub fn drivers(questions: &[QuestionCell]) -> Vec<Driver> {
    let others: Vec<(Arc<str>, CoMoments)> =
        questions.iter().filter(|q| &*q.question_id != OVERALL_QUESTION).map(|q| (q.question_id.clone(), q.moments)).collect();
    key_drivers(&others, DRIVER_MIN_SAMPLE)
}

/// The company's rows: for every cadence and period with final department rows, their
/// numerators, denominators, overdue counts and question sums added up and judged like a
/// department's window (under the standards version in force on the period's first day).
pub fn company_rows(rows: &[WindowRow], standards: &VersionedStandards, company: &str) -> Vec<WindowRow> {
    let mut sums: BTreeMap<(Cadence, i64), (i64, DayAccs)> = BTreeMap::new();
    let mut names = InternedIds::default();
    for r in rows.iter().filter(|r| r.entity == EntityKind::Department && r.is_final) {
        let (_, acc) = sums.entry((r.cadence, r.period_start.0)).or_insert_with(|| (r.period_end.0, DayAccs::default()));
        for c in &r.metrics {
            let a = &mut acc.metrics[c.metric.index()];
            a.num += c.metric.raw_numerator(c.numerator);
            a.den += c.denominator;
            a.overdue += c.overdue;
        }
        for q in &r.questions {
            acc.question(names.intern(&q.question_id)).merge(&q.moments);
        }
        acc.excluded_feedback += r.excluded_feedback;
    }
    let empty = DayAccs::default();
    sums.iter()
        .map(|(&(cadence, start), (end, cur))| {
            let version = standards.at(start);
            let previous = cadence.period_of(start).previous();
            let prev = sums.get(&(cadence, previous.start)).map_or(&empty, |(_, p)| p);
            let questions = questions(cur, names.names());
            let month = cadence == Cadence::Month;
            WindowRow {
                seller_id: company.into(),
                entity: EntityKind::Company,
                department_id: None,
                cadence,
                period_start: LocalDate(start),
                period_end: LocalDate(*end),
                is_final: true,
                version: FINAL_VERSION,
                standards_version: version.id.clone(),
                metrics: cells(&version.standards, cadence, cur, prev),
                composite: month.then(|| composite(&version.standards, cur)),
                drivers: if month { drivers(&questions) } else { Vec::new() },
                questions,
                excluded_feedback: cur.excluded_feedback,
            }
        })
        .collect()
}

/// Every metric's `(numerator, denominator)` in a row, in catalogue order (0 for metrics it lacks).
pub fn row_sums(row: &WindowRow) -> Vec<(i64, i64)> {
    MetricId::ALL
        .iter()
        .map(|m| row.metrics.iter().find(|c| c.metric == *m).map_or((0, 0), |c| (m.raw_numerator(c.numerator), c.denominator)))
        .collect()
}
