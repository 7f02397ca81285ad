//! The weekly breach table: sellers that miss at least one standard in a week, worst first.

use quality_engine::methodology::{format_duration_ms, MetricId, Status, Unit};
use quality_engine::output::{MetricCell, WindowRow};
use std::fmt::Write;

/// Formats a metric value in its unit for tables: `4.52`, `61`, `93%`, `1.5h`.
pub fn format_value(m: MetricId, v: f64) -> String {
    match m.unit() {
        Unit::Rating => format!("{v:.2}"),
        Unit::NpsPoints => format!("{v:.0}"),
        Unit::Ratio if m == MetricId::SellerCancellationShare => format!("{:.1}%", v * 100.0),
        Unit::Ratio => format!("{:.0}%", v * 100.0),
        Unit::Seconds => format_duration_ms(v * 1000.0),
    }
}

pub(crate) fn cell(c: &MetricCell) -> String {
    match (c.value, c.status) {
        (None, _) => "-".into(),
        (Some(v), Status::Fail) => format!("{}!", format_value(c.metric, v)),
        (Some(v), _) => format_value(c.metric, v),
    }
}

/// Renders the rows of one week (one row per seller) as a table of those that breach.
///
/// Sellers are ordered by number of failed standards, then by seller id; `top` limits the list.
pub fn breach_table(week: &[&WindowRow], top: usize) -> String {
    let Some(first) = week.first() else {
        return "No weekly rows: the stream had no events.\n".into();
    };
    let metrics: Vec<MetricId> = first.metrics.iter().map(|c| c.metric).collect();
    let fails = |r: &WindowRow| r.metrics.iter().filter(|c| c.status == Status::Fail).count();
    let mut breaching: Vec<&WindowRow> = week.iter().copied().filter(|r| fails(r) > 0).collect();
    breaching.sort_by(|a, b| fails(b).cmp(&fails(a)).then_with(|| a.seller_id.cmp(&b.seller_id)));

    let mut out = String::new();
    let _ = writeln!(
        out,
        "Week {} .. {} (ISO week, Monday to Sunday): {} of {} sellers breach at least one standard{}",
        first.period_start,
        first.period_end.pred(),
        breaching.len(),
        week.len(),
        if breaching.len() > top { format!(" (worst {top} shown)") } else { String::new() }
    );
    let headers: Vec<&str> = std::iter::once("seller").chain(std::iter::once("fails")).chain(metrics.iter().map(|m| short(*m))).collect();
    let mut table: Vec<Vec<String>> = vec![headers.iter().map(|s| s.to_string()).collect()];
    for r in breaching.iter().take(top) {
        let mut line = vec![r.seller_id.to_string(), fails(r).to_string()];
        line.extend(r.metrics.iter().map(cell));
        table.push(line);
    }
    let mut targets = vec!["target".to_string(), String::new()];
    targets.extend(first.metrics.iter().map(|c| format_value(c.metric, c.target)));
    table.push(targets);
    super::write_aligned(&mut out, &table);
    out.push_str("'!' misses its target, '-' no data this week.\n");
    out
}

pub(crate) fn short(m: MetricId) -> &'static str {
    match m {
        MetricId::Csi => "CSI",
        MetricId::Nps => "NPS",
        MetricId::PositiveReviewShare => "positive",
        MetricId::ConfirmationTimeAvg => "confirm",
        MetricId::AssemblyTimeAvg => "assemble",
        MetricId::OnTimeHandoverShare => "on-time",
        MetricId::SellerCancellationShare => "cancel",
        MetricId::ResponseTimeAvg => "response",
        MetricId::AnswerCompletenessShare => "complete",
        MetricId::FirstContactResolutionShare => "FCR",
        MetricId::CriticFollowupShare => "critics",
        MetricId::SurveyCoverageShare => "surveyed",
        MetricId::AssemblyAccuracyShare => "accurate",
        MetricId::CsatSatisfiedShare => "satisfied",
        MetricId::CsatAvg => "CSAT",
        MetricId::OnTimeClosureShare => "on-time",
        MetricId::ClosureTimeAvg => "close",
        MetricId::ReopenShare => "reopened",
    }
}
